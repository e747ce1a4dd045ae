"""Face GAN Lab: the entry point. `streamlit run app.py` (or `make run`)."""

# pandas once, before any session thread: twenty visitors arriving together made two sessions
# import it at the same moment and one met a partially initialised module (tests/e2e/test_load.py)
import pandas  # noqa: F401
import streamlit as st

from ui import warmup

# `streamlit run app.py` serves this App: its lifespan imports torch and the first page's modules
# and draws the default grid while the first browser is still loading the page (ui/warmup.py).
# Each visitor's script run then calls main().
app = st.App(__file__, lifespan=warmup.lifespan)


def main() -> None:
    # the first visitor would otherwise draw the default grid a second time beside the warm-up;
    # returns at once when the warm-up is over
    warmup.wait()
    st.set_page_config(page_title="Face GAN Lab", page_icon=":material/face:", layout="wide")
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
    st.navigation(pages).run()


if __name__ == "__main__":  # a script run; the server itself imports this file only to find `app`
    main()
