"""Streamlit entry point: only routes to the pages in ``ui/``. Run with ``streamlit run app.py``."""
from pathlib import Path

import streamlit as st

from ui._pages import PAGES

# a shipped PNG, not a :material/ icon: Streamlit fetches those favicons from fonts.gstatic.com
st.set_page_config(page_title="Paper zoo", page_icon=str(Path(__file__).parent / "ui/static/icon.png"), layout="wide")

pages: dict[str, list] = {}
for page in PAGES:
    pages.setdefault(page.section, []).append(st.Page(page.file, title=page.title, icon=page.icon, url_path=page.key,
                                                      default=page.default,
                                                      visibility="hidden" if page.hidden else "visible"))
st.navigation(pages, position="top").run()  # the pages get the window's full width
