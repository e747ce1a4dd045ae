"""Classroom: a GAN you can watch learn on 2-D points, and a "which face is real?" quiz.

The Live GAN is in ui/views/live_gan.py (its charts in ui/charts/toygan.py), the quiz in ui/views/quiz.py.
"""

import streamlit as st

from ui import texts
from ui.nav import ensure_app_navigation
from ui.views import live_gan, quiz

ensure_app_navigation()

LIVE_TAB, QUIZ_TAB = "Live GAN", "Which face is real?"

st.title("Classroom")
st.markdown("Two ways to get a feel for GANs: watch a tiny one learn a cloud of points, "
            "then test your own eye against faces our generators made.")
live_tab, quiz_tab = st.tabs([LIVE_TAB, QUIZ_TAB], key="part", bind="query-params", on_change=live_gan.stop_playing)
if live_tab.open:
    with live_tab:
        st.caption(texts.CLASSROOM_LIVE_GAN)
        st.fragment(live_gan.live_gan)()
if quiz_tab.open:
    with quiz_tab:
        quiz.quiz()
