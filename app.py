"""Streamlit entry point: only routes to the pages in ``ui/``. Run with ``streamlit run app.py``."""
from pathlib import Path

import streamlit as st

# a shipped PNG, not a :material/ icon: Streamlit fetches those favicons from fonts.gstatic.com
st.set_page_config(page_title="Paper zoo", page_icon=str(Path(__file__).parent / "ui/static/icon.png"), layout="wide")

pages = {
    "Papers": [
        st.Page("ui/pages/library.py", title="Library", icon=":material/library_books:", url_path="library",
                default=True),
        st.Page("ui/pages/search.py", title="Search", icon=":material/search:", url_path="search"),
        st.Page("ui/pages/inbox.py", title="Inbox", icon=":material/inbox:", url_path="inbox"),
        st.Page("ui/pages/log_paper.py", title="Log a paper", icon=":material/add_circle:", url_path="log"),
        st.Page("ui/pages/stats.py", title="Reading stats", icon=":material/insights:", url_path="stats"),
        st.Page("ui/pages/paper.py", title="Paper", url_path="paper", visibility="hidden"),
    ],
    "Models": [
        st.Page("ui/pages/zoo.py", title="Zoo", icon=":material/pets:", url_path="zoo"),
        st.Page("ui/pages/supernet.py", title="Supernet", icon=":material/hub:", url_path="supernet"),
    ],
}
st.navigation(pages, position="top").run()  # the pages get the window's full width
