"""Face GAN Lab: the entry point. `streamlit run app.py` (or `make run`)."""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from ui import component_scan, warmup

FAVICON = Path(__file__).resolve().parent / "ui" / "favicon.png"

component_scan.install()  # before the server builds its runtime, which scans the installed packages

# `streamlit run app.py` serves this App: its lifespan imports Home's modules before any visitor, then
# the warm-up imports torch and pandas and draws the Generate page's default grid in the background
# (ui/warmup.py), from the moment a browser asks for another page; Home needs none of that and does not
# wait for it. Each visitor's script run calls main().
app = st.App(__file__, lifespan=warmup.lifespan, middleware=[Middleware(warmup.StartOnPageRequest)])


def main() -> None:
    warmup.note_visit()
    # the icon is a face our dcgan-64 drew (its snapshot grid's first cell), served from here: a material
    # icon's favicon would be fetched from Google's servers, which an offline server's visitors may not reach
    st.set_page_config(page_title="Face GAN Lab", page_icon=FAVICON, layout="wide")
    # Each URL path is the page's file name (/generate, /latent_lab, ...): a fresh server's first run
    # goes through Streamlit's file-based router, which knows pages only by those names (ui/nav.py).
    pages = [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/generate.py", title="Generate", icon=":material/auto_awesome:", url_path="generate"),
        st.Page("pages/detect.py", title="Detect", icon=":material/policy:", url_path="detect"),
        st.Page("pages/latent_lab.py", title="Latent Lab", icon=":material/blur_on:", url_path="latent_lab"),
        st.Page("pages/training_history.py", title="Training History", icon=":material/monitoring:",
                url_path="training_history"),
        st.Page("pages/classroom.py", title="Classroom", icon=":material/school:", url_path="classroom"),
    ]
    # Narrow screens: an image given a pixel width never spills out of its column, and a metric's
    # figure shrinks and wraps instead of being cut to "3..." (a style-only st.html takes no space).
    st.html("<style>"
            "[data-testid='stImageContainer'] {max-width: 100% !important}"
            "[data-testid='stImage'] img {max-width: 100% !important; height: auto !important}"
            "[data-testid='stMetricValue'] {font-size: clamp(1.25rem, 2.4vw, 2.25rem)}"
            "[data-testid='stMetricValue'] *, [data-testid='stMetricLabel'] * {white-space: normal !important;"
            " text-overflow: clip !important; overflow-wrap: anywhere}"
            "</style>")
    page = st.navigation(pages)
    if page.url_path:  # not Home, which is drawn from the models' records without torch (pages/home.py)
        # the first visitor would otherwise draw the default grid a second time beside the warm-up;
        # returns at once when the warm-up is over
        warmup.wait()
    page.run()
    warmup.start_soon()  # after Home is drawn in the browser, where torch's import cannot hold it up


if __name__ == "__main__":  # a script run; the server itself imports this file only to find `app`
    main()
