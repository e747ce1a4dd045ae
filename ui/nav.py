"""Keep the app's own navigation even when a visitor's first request is a page's URL."""

from __future__ import annotations

import streamlit as st


def ensure_app_navigation() -> None:
    """Call first in every page script.

    While a `pages/` folder sits beside app.py, Streamlit routes a fresh server's runs through
    its old file-based router until some run has executed app.py's st.navigation. A class
    opening a shared /generate?seed=42 link on a just-started server would get that page
    without app.py: the raw file list as menu. Switch the old router off and run again through
    app.py, which keeps the URL and its query parameters.
    """
    from streamlit.runtime.pages_manager import PagesManager  # no public switch for this

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def app_navigation_from_the_start() -> None:
    """At the server's start (ui/warmup.py's lifespan): the old router off before any visitor, so a
    fresh server's first run goes through app.py at once instead of running the page's file, then
    ensure_app_navigation's rerun."""
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
