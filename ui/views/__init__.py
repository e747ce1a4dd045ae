"""The pages' sections: Streamlit code that lays out data from core/ and figures from ui.charts.

A page reads its widgets and query parameters and calls these; they hold the page's logic.
"""
