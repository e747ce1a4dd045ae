"""Classroom's quiz: which of two faces is real? A real photo beside a fresh face from one of our
generators; after the answer, what the detectors say about each.

`models.load_judge` is looked up when called (not imported by name), so tests can stand in for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from core.data.caches import celeba_root
from core.detection.faces import training_frame
from core.detection.judge import FALSE_ALARM_TARGET, UNCERTAIN_BAND, VERDICT_WORDS
from core.io.images import ImageError, list_images, open_image
from core.models import registry
from core.models.detectors import CROP_SIZE
from ui import models, texts
from ui.models import generate_faces, load_face_detector, load_model

QUIZ_DIR_ENV = "FACEGAN_QUIZ_REAL_DIR"
QUIZ_FACE_PX = 256  # both faces drawn at this width, scaled by the browser the same way


@dataclass
class QuizRound:
    real_photo: str
    model: str
    seed: int
    real_side: int  # 0: the real photo is on the left, 1: on the right
    guess: int | None = None  # the side the student picked



@dataclass
class DetectorOpinions:
    """What the detectors say about one quiz face; `probabilities` is empty when there is no verdict."""
    probabilities: dict[str, float]  # detector name -> calibrated P(GAN-made)
    ensemble: float | None = None  # their guarded weighted mean (the Judge's ensemble)
    label: str | None = None  # core.detection.judge label: "real", "GAN-made" or "uncertain"
    note: str = ""  # why there is no verdict


def detector_opinions(face_rgb: np.ndarray) -> DetectorOpinions | None:
    """Each detector's opinion of one face (the most face-like one MTCNN finds); None without detectors.

    Call it only once the student has answered: the verdict would give the answer away.
    """
    judge, _, _ = models.load_judge()
    if judge is None:
        return None
    verdict = judge.judge(face_rgb)
    if not verdict.faces:
        h, w = face_rgb.shape[:2]
        return DetectorOpinions({}, note=f"The face finder (MTCNN) found no face in this {w}x{h} image, so the "
                                         "detectors, which judge face crops, were not asked.")
    face = max(verdict.faces, key=lambda f: f.face_prob)
    return DetectorOpinions(face.probabilities, face.ensemble, face.label)


def round_opinions(rnd: QuizRound, side: int, face_rgb: np.ndarray) -> DetectorOpinions | None:
    """detector_opinions, kept for this round only: a rerun (a click elsewhere) does not ask again."""
    round_key = (rnd.real_photo, rnd.model, rnd.seed)
    kept = st.session_state.get("quiz_opinions")
    if kept is None or kept[0] != round_key:
        kept = (round_key, {})
        st.session_state.quiz_opinions = kept
    if side not in kept[1]:
        with st.spinner("Asking the detectors…"):
            kept[1][side] = detector_opinions(face_rgb)
    return kept[1][side]


def share(p: float) -> str:
    """A probability as a short percentage that never rounds to a false 0% or 100%."""
    if p < 0.01:
        return "<1%"
    if p > 0.99:
        return ">99%"
    return f"{p:.0%}"


def show_opinions(opinions: DetectorOpinions) -> None:
    if not opinions.probabilities:
        st.caption(opinions.note)
        return
    words = VERDICT_WORDS.get(opinions.label, opinions.label)
    st.markdown(f"**Detectors: {words}** (ensemble P(GAN-made) {share(opinions.ensemble)})",
                help="The weighted mean of the detectors' calibrated probabilities, moved by the false-alarm "
                     f"guard (fitted so that at most {FALSE_ALARM_TARGET:.0%} of real validation faces are called GAN-made), as on "
                     "the Detect page.")
    # a row that wraps, each tile as wide as its name: in equal columns of a half-width column the names
    # broke a letter a line ("p r o b e - t e x t u r e")
    with st.container(horizontal=True, gap="medium"):
        for name, p in opinions.probabilities.items():
            st.metric(name, share(p), help=f"{name}'s calibrated probability that this face is GAN-made.",
                      width="content")


def real_photo_source() -> tuple[Path | None, str]:
    """(folder, credit caption) for the quiz's real photos, or (None, what to configure)."""
    configured = os.environ.get(QUIZ_DIR_ENV)
    if configured:
        folder = Path(configured)
        if photo_list(str(folder)):
            return folder, (f"Real photos: from the folder this app's operator set in `{QUIZ_DIR_ENV}`. "
                            "Both faces are cropped and scaled the same way.")
        return None, (f"`{QUIZ_DIR_ENV}` is set to `{folder}`, but that folder holds no photos (JPEG, PNG, WebP). "
                      "Put real face photos you may show there, or unset it to use the CelebA validation photos.")
    celeba_val = celeba_root() / "val"
    if photo_list(str(celeba_val)):
        return celeba_val, texts.QUIZ_CELEBA_CREDIT
    return None, (
        f"No real photos are configured for the quiz. Set the environment variable `{QUIZ_DIR_ENV}` to a folder "
        "of real face photos (JPEG or PNG) that you are allowed to show, then restart the app; or put the shared "
        f"CelebA subset at `{celeba_root()}` (its `val/` folder is used; `FACEGAN_CELEBA` points elsewhere)."
    )


@st.cache_data(show_spinner=False, ttl=300, max_entries=8)
def photo_list(folder: str) -> list[str]:
    return [str(p) for p in list_images(folder)] if Path(folder).is_dir() else []


@st.cache_data(show_spinner=False, max_entries=64)
def real_face(path: str, size: int, crop: str) -> np.ndarray:
    """The photo framed like the round's generator's training data: the DCGANs' centre crop, or the
    LSGANs' square around the face (MTCNN)."""
    detector = load_face_detector() if crop == "mtcnn" else None
    return training_frame(open_image(path), size, crop, detector)


def available_generators() -> list[str]:
    usable = []
    for name in registry.names("generator"):
        try:
            load_model(name)
            usable.append(name)
        except registry.WeightsError:
            continue
    return usable


def new_round(photos: list[str], generators: list[str]) -> None:
    rng = st.session_state.setdefault("quiz_rng", np.random.default_rng())  # fresh entropy per visitor
    st.session_state.quiz_round = QuizRound(
        real_photo=photos[int(rng.integers(len(photos)))],
        model=generators[int(rng.integers(len(generators)))],
        seed=int(rng.integers(2**31)),
        real_side=int(rng.integers(2)),
    )


def pick(side: int) -> None:
    rnd: QuizRound = st.session_state.quiz_round
    if rnd.guess is not None:  # one answer per round
        return
    rnd.guess = side
    right, played = st.session_state.get("quiz_score", (0, 0))
    st.session_state.quiz_score = (right + (side == rnd.real_side), played + 1)


def detectors_note(model: str) -> None:
    """One caption: what the percentages mean, or why the detectors are silent; `model` made this round's fake."""
    judge, loaded, failed = models.load_judge()
    missing = "; ".join(f"{name}: {reason}" for name, reason in failed.items())
    if judge is None:
        st.caption(":material/block: The detectors' opinions are unavailable: no detector's weights could be "
                   f"loaded ({missing or 'no detector is registered'}).")
        return
    lo, hi = UNCERTAIN_BAND
    seen = sorted({g for m in loaded.values() for g in m.training.get("generators", [])})
    if model in seen:
        source = f"This round's fake came from {model}, whose faces the detectors were trained on."
    elif seen:
        source = (f"This round's fake came from {model}, which the detectors never saw in training "
                  f"(they learnt from {', '.join(seen)}): expect them to be less sure.")
    else:
        source = ""
    st.caption(
        f"Detectors ({', '.join(loaded)}): each one's calibrated probability that the face is GAN-made; their "
        f"weighted mean (moved toward real by a false-alarm guard) between {lo:.0%} and {hi:.0%} counts as uncertain. They judge a {CROP_SIZE}-pixel crop "
        f"around the face "
        f"MTCNN finds; the Detect page shows them in detail. {source}"
        + (f" Not available: {missing}." if missing else "")
    )


def quiz() -> None:
    folder, note = real_photo_source()
    if folder is None:
        st.warning(note, icon=":material/folder_off:")
        return
    generators = available_generators()
    if not generators:
        st.warning("No generator's weights could be loaded, so there are no generated faces to show. "
                   "Train one with `train/` (see docs/training.md) or restore `weights/`.", icon=":material/warning:")
        return
    photos = photo_list(str(folder))
    rnd: QuizRound | None = st.session_state.get("quiz_round")
    if rnd is None or rnd.real_photo not in photos or rnd.model not in generators:
        new_round(photos, generators)
        rnd = st.session_state.quiz_round

    config = load_model(rnd.model).config
    fake = generate_faces(rnd.model, 1, rnd.seed, None)[0]
    try:
        real = real_face(rnd.real_photo, config["image_size"], registry.get_spec(rnd.model).framing)
    except ImageError as err:
        st.warning(f"Skipping an unreadable photo ({Path(rnd.real_photo).name}: {err}).")
        new_round(photos, generators)
        st.rerun()
    faces = [real, fake] if rnd.real_side == 0 else [fake, real]

    st.markdown("One face is a real photo, the other was made by a GAN. **Which one is real?**")
    answered = rnd.guess is not None
    for side, col in enumerate(st.columns(2)):
        with col:
            label = None
            if answered:
                label = "Real photo" if side == rnd.real_side else f"Generated by {rnd.model} (seed {rnd.seed})"
            st.image(faces[side], width=QUIZ_FACE_PX, output_format="PNG", caption=label)
            st.button("This one is real", key=f"quiz_pick_{side}", on_click=pick, args=(side,), disabled=answered,
                      icon=":material/check:" if answered and side == rnd.guess else None)
            if answered:  # never before: the detectors' verdict would give the answer away
                opinions = round_opinions(rnd, side, faces[side])
                if opinions is not None:
                    show_opinions(opinions)

    if answered:
        detectors_note(rnd.model)
    right, played = st.session_state.get("quiz_score", (0, 0))
    if answered:
        if rnd.guess == rnd.real_side:
            st.success(f"Right: the {'left' if rnd.real_side == 0 else 'right'} face is the real photo.")
        else:
            st.error(f"Not this time: the {'left' if rnd.real_side == 0 else 'right'} face is the real photo; "
                     f"the one you picked came from {rnd.model}.")
    with st.container(horizontal=True, vertical_alignment="center", gap="large"):  # wraps; the button's label whole
        st.markdown(f"**Score: {right} of {played}**" if played else "**Score:** no rounds played yet",
                    width="content")
        st.button("New round", icon=":material/refresh:", on_click=new_round, args=(photos, generators),
                  width="content")
    st.caption(note + " Tip: look at hair edges, backgrounds, ears and teeth, where small GANs give themselves away.")
