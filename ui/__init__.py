"""Streamlit helpers shared by the pages: cached model loading and small widgets.

This is the only place (with app.py and pages/) that uses st.cache_resource.
"""
