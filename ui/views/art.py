"""Detect's answer for a picture with no face: judged as a painting by the abstract-art detector, said as such.

The judging is core.models.art.judge_painting; this module only says it.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.models import registry
from core.models.art import ART_DETECTOR, PaintingVerdict, judge_painting


def painting_words(verdict: PaintingVerdict) -> tuple[str, str]:
    """(the answer, what it can and cannot say) in plain words."""
    looks = (f"**looks GAN-made**, like the samples of our abstract-art GAN (`{verdict.gan}`)"
             if verdict.looks_gan_made else f"**looks like a real painting** (more like {verdict.painter}'s than "
                                            "like our GAN's)")
    answer = (f":material/palette: **Judged as a painting instead.** No face was found, so the art detector "
              f"(`{ART_DETECTOR}`) looked at the whole picture: it {looks}; P(GAN-made) {verdict.p_gan:.0%}.")
    r = verdict.held_out
    record = (f" On paintings and samples it never saw it was right {r['accuracy']:.0%} of the time "
              f"({r['right']} of {r['n']})." if r.get("n") else "")
    limits = (f"A different question from the face verdicts. The art detector knows one painter and one small GAN: it "
              f"learnt {verdict.painter}'s abstract paintings (1919-1944) against the 64 px samples of `{verdict.gan}`, "
              "so it says whether this picture is more like those paintings or like that GAN's, and nothing about "
              f"photographs, other painters or other generators.{record}")
    return answer, limits


def painting_section(image: np.ndarray) -> None:
    """The art detector's verdict on the whole picture, in a bordered box; nothing when it cannot be loaded."""
    if ART_DETECTOR not in registry.SPECS:
        return
    from ui.models import load_model

    try:
        loaded = load_model(ART_DETECTOR)
    except registry.WeightsError:
        return
    answer, limits = painting_words(judge_painting(loaded, image))
    with st.container(border=True):
        st.markdown(answer)
        st.caption(limits)
