"""Streamlit entry point: routes to the pages in ``ui/``. Run with ``streamlit run app.py``."""
import streamlit as st

st.set_page_config(page_title="Paper zoo", layout="wide")
st.title("Paper zoo")
st.write("The reading log, semantic search and the model zoo live here.")
