"""Detect's answer for a picture with no face: judged as a painting by the abstract-art detector, said as such."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.models import registry
from core.models.art import ART_DETECTOR, painting_probability


def painting_section(image: np.ndarray) -> None:
    """The art detector's verdict on the whole picture, in a bordered box; nothing when it is not bundled."""
    if ART_DETECTOR not in registry.SPECS:
        return
    from ui.models import load_model

    try:
        loaded = load_model(ART_DETECTOR)
    except registry.WeightsError:
        return
    p = painting_probability(loaded.model, loaded.config, image)
    comparison = (loaded.training.get("art_comparison") or {}).get("lstm") or {}
    record = (f" On paintings and samples it never saw it was right {comparison['accuracy']:.0%} of the time "
              f"({comparison['right']} of {comparison['n']})." if comparison else "")
    words = ("**looks GAN-made**, like the samples of our abstract-art GAN" if p >= 0.5
             else "**looks like a real painting**")
    with st.container(border=True):
        st.markdown(f":material/palette: **Judged as a painting instead.** With no face to read, the art detector "
                    f"(`{ART_DETECTOR}`) looked at the whole picture: it {words} (P(GAN-made) {p:.0%}).")
        st.caption("This is a different question from the face verdicts: the art detector learnt only Wassily "
                   "Kandinsky's abstract paintings (1919-1944) against the samples of `dcgan-64-abstract`, so it "
                   "says whether a picture is more like those paintings or like that GAN's, and nothing about "
                   f"photographs, other painters or other generators.{record}")
