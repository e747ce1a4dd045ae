"""Detect: is this face real or GAN-made? The detectors, calibrated, with their reasons.

The sections are in ui/views/detect.py, the charts in ui/charts/detect.py.
"""

import streamlit as st

from core.detection.judge import UNCERTAIN_BAND
from ui.models import get_judge
from ui.nav import ensure_app_navigation
from ui.views import detect as view

ensure_app_navigation()

st.title("Real or GAN-made?")
st.caption(
    "Upload a photo with a face. Each detector, trained its own way, gives its probability "
    "that the face was made by a GAN; their weighted average, moved toward *real* by a false-alarm guard "
    f"(fitted so that few real photos are called GAN-made), decides. Between {UNCERTAIN_BAND[0]:.0%} and "
    f"{UNCERTAIN_BAND[1]:.0%} the answer is *uncertain*. Uploads stay in memory and are never stored."
)

judge, detectors = get_judge()
if judge is None:
    st.info("No detector can be loaded, so nothing can be judged. Train them with `python -m train.detector` "
            "(see docs/detectors.md).")
    st.stop()

inputs = view.inputs()
if not inputs:
    st.info("Upload a photo, take one, or pick an example to see the verdicts.", icon=":material/arrow_upward:")
    st.stop()

if len(inputs) == 1:
    view.single(judge, detectors, *inputs[0])
else:
    view.batch(judge, detectors, inputs)
view.sidebar(detectors)
