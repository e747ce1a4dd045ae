"""The Latent Lab's sections: interpolation, vector arithmetic, and the age and gender directions, each
on a numbered grid of candidate faces; the cached generation behind them."""

from __future__ import annotations

import random

import numpy as np
import streamlit as st
import torch

from core.data.attributes import predict_attributes
from core.gan.latent import (
    direction_strip,
    group_mean,
    interpolate,
    move_along,
    neighbours,
    numbered_grid,
    strip_to_gif,
    vector_arithmetic,
)
from core.gan.sampling import generate, make_grid, sample_latents
from core.models import registry
from ui import texts
from ui.attributes import face_attributes, labeller_limits, model_directions, show_attribute_table
from ui.models import generate_faces, load_model
from ui.widgets import panes, show_image

GENERATORS = registry.names("generator", subject=None)  # the abstract-art model too: interpolation and arithmetic work on it
GRID_SIDE = 6
CANDIDATES = GRID_SIDE * GRID_SIDE  # faces numbered 0..35, row by row
FACE_NUMBERS = list(range(CANDIDATES))
PATHS = {"spherical": "slerp", "linear": "linear"}  # what the radio shows -> core.gan.latent method
GROUP_SIZE = 3  # as in the DCGAN paper: one face per concept is too noisy, three averaged is enough
# Vector arithmetic's first groups, picked by eye on the grid a first visit shows (dcgan-64, seed 1) to match
# their labels; the face-attribute model agrees on the genders (A and B female, C male), and A - B + C
# comes out a smiling man. Faces 2 and 23 are the rough ones: that grid has few men.
DEFAULT_GROUPS_GRID = ("dcgan-64", 1)
DEFAULT_GROUPS = {"A": [5, 18, 32],  # smiling women, teeth showing
                  "B": [0, 3, 8],  # neutral women, mouths closed
                  "C": [2, 12, 23]}  # neutral men
RESULTS = 6  # A - B + C itself and 5 noisy neighbours
GIF_FRAME_MS = 120
GIF_SCALE = 2  # 128x128 frames: a 64x64 GIF is too small to watch
MAX_MOVE = 3.0  # slider range ±3: about a third of a typical latent's length (√nz ≈ 10 for nz = 100)
STRIP_AMOUNTS = [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]  # the faces shown along each direction
DIRECTION_LABELS = {"older": "Older", "male": "Male"}  # stored direction name -> slider label


@st.cache_data(show_spinner=False, max_entries=64)
def interpolation_strip(name: str, seed: int, start: int, end: int, steps: int, method: str) -> tuple[np.ndarray, bytes]:
    """Frames (steps, H, W, 3) from candidate `start` to candidate `end` of grid `seed`, and their GIF."""
    loaded = load_model(name)
    z = sample_latents(CANDIDATES, loaded.config["nz"], seed)
    frames = generate(loaded.model, interpolate(z[start], z[end], steps, method))
    return frames, strip_to_gif(frames, GIF_FRAME_MS, scale=GIF_SCALE)


@st.cache_data(show_spinner=False, max_entries=64)
def arithmetic_faces(name: str, seed: int, a: list[int], b: list[int], c: list[int],
                     noise: float) -> tuple[np.ndarray, np.ndarray]:
    """The mean faces of groups a, b, c of grid `seed` (3, H, W, 3), and A - B + C with its neighbours."""
    loaded = load_model(name)
    z = sample_latents(CANDIDATES, loaded.config["nz"], seed)
    means = torch.stack([group_mean(z[group]) for group in (a, b, c)])
    result = vector_arithmetic(z[a], z[b], z[c])
    faces = generate(loaded.model, torch.cat([means, neighbours(result, RESULTS, noise, seed)]))
    return faces[:3], faces[3:]


@st.cache_data(show_spinner=False, max_entries=64)
def moved_faces(name: str, seed: int, face: int, amounts: dict[str, float]) -> tuple[np.ndarray, list, dict]:
    """Candidate `face` of grid `seed` before and after moving by `amounts` (2, H, W, 3) with both faces'
    predicted attributes, and per direction a strip through STRIP_AMOUNTS (the other amounts kept) with its."""
    loaded = load_model(name)
    directions = model_directions(name)[0]
    z = sample_latents(CANDIDATES, loaded.config["nz"], seed)[face]
    latents = [torch.stack([z, move_along(z, directions, amounts)])]
    for key in DIRECTION_LABELS:
        others = {k: v for k, v in amounts.items() if k != key}
        latents.append(direction_strip(move_along(z, directions, others), directions[key], STRIP_AMOUNTS))
    faces = generate(loaded.model, torch.cat(latents))  # one batch through the generator and the labeller
    found = predict_attributes(faces)
    n = len(STRIP_AMOUNTS)
    strips = {key: (faces[2 + i * n : 2 + (i + 1) * n], found[2 + i * n : 2 + (i + 1) * n])
              for i, key in enumerate(DIRECTION_LABELS)}
    return faces[:2], found[:2], strips


def new_seed(key: str) -> None:
    st.session_state[key] = random.randrange(1_000_000)


def grid_and_controls(key: str) -> list:
    """The numbered grid beside its controls, the controls under it on a narrow page: in fixed columns the
    grid shrank to 270 px at 800 px and its numbers to 3 px."""
    return panes((470, 3), (260, 2), key=key)


def candidate_grid(name: str, seed: int) -> None:
    # PNG, not the automatic JPEG: small faces and printed numbers stay sharp
    faces = generate_faces(name, CANDIDATES, seed, None)
    st.image(numbered_grid(faces, GRID_SIDE), width="stretch", output_format="PNG",
             caption=f"{CANDIDATES} candidates from {name}, seed {seed}, numbered 0–{CANDIDATES - 1} row by row")


def age_table(name: str, seed: int, show_ages: bool) -> None:
    """The predicted age and gender of grid `seed`'s candidates, when the sidebar toggle is on (full width:
    six columns of captions do not fit beside the controls)."""
    if show_ages:
        with st.spinner("Predicting age and gender…"):
            show_attribute_table(face_attributes(name, CANDIDATES, seed, None), GRID_SIDE)


def thing(name: str) -> str:
    """What one of the model's pictures is called on this page: a face, or a painting for the abstract-art GAN."""
    return "face" if registry.is_faces(name) else "painting"


def walk_section(name: str, nz: int, show_ages: bool) -> None:
    """Interpolation: two faces of a numbered grid and the path between them, with its GIF."""
    t = thing(name)
    grid_col, controls_col = grid_and_controls("walk-grid")
    with controls_col:
        seed = int(st.number_input("Grid seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="seed",
                                   bind="query-params", help="The same seed and model always give the same grid."))
        st.button("New grid", on_click=new_seed, args=("seed",), icon=":material/casino:", key="new_walk_grid")
        from_col, to_col = st.columns(2)
        start = from_col.selectbox(f"From {t} #", FACE_NUMBERS, index=0, key="from", bind="query-params")
        end = to_col.selectbox(f"To {t} #", FACE_NUMBERS, index=1, key="to", bind="query-params")
        steps = st.slider("Steps", 4, 16, 8, key="steps", bind="query-params",
                          help=f"Number of {t}s on the path, both ends included.")
        path = st.radio("Path", list(PATHS), key="method", bind="query-params", horizontal=True,
                        format_func=str.capitalize,
                        help="Spherical follows the sphere where random latents live; linear cuts straight "
                             "through its middle.")
    with grid_col:
        candidate_grid(name, seed)
    age_table(name, seed, show_ages)

    frames, gif = interpolation_strip(name, seed, start, end, steps, PATHS[path])
    strip = make_grid(frames, nrow=steps)
    show_image(strip, caption=f"{t.capitalize()} {start} → {t} {end} in {steps} steps along a {path} path")
    st.download_button("Download animated GIF", gif, file_name=f"{name}-seed{seed}-{start}-to-{end}.gif",
                       mime="image/gif", icon=":material/download:", on_click="ignore",
                       help="Plays forward and back in a loop, 128x128 pixels per frame.")
    st.caption(texts.LATENT_INTERPOLATION if t == "face" else texts.LATENT_INTERPOLATION_ART)
    st.caption(
        "**Spherical or linear.** Random latents are drawn from N(0, I); in "
        f"{nz} dimensions almost all of them have nearly the same length, about "
        f"√{nz} ≈ {nz ** 0.5:.0f}. A straight line between two of them passes "
        "through shorter vectors (about 0.7x that length halfway), which the generator rarely saw in training: the "
        f"middle {t}s tend to look washed out and average. The spherical path (slerp) turns from one direction "
        f"to the other while keeping a typical length, so the middle {t}s stay as sharp as the ends."
    )


def arithmetic_section(name: str, show_ages: bool) -> None:
    """Vector arithmetic: A - B + C on group means of a numbered grid, and its neighbours."""
    t = thing(name)
    examples = (["e.g. smiling women", "e.g. neutral women", "e.g. neutral men"] if t == "face" else
                ["e.g. red shapes on dark", "e.g. plain dark", "e.g. plain pale"])
    grid_col, controls_col = grid_and_controls("arithmetic-grid")
    with controls_col:
        arithmetic_seed = int(st.number_input("Grid seed", min_value=0, max_value=2**31 - 1,
                                              value=DEFAULT_GROUPS_GRID[1], step=1,
                                              key="aseed", bind="query-params",
                                              help="The same seed and model always give the same grid."))
        st.button("New grid", on_click=new_seed, args=("aseed",), icon=":material/casino:",
                  key="new_arithmetic_grid")
        groups = {}
        for label, key, example in zip("ABC", "abc", examples, strict=True):
            groups[label] = st.multiselect(f"Group {label} ({example})", FACE_NUMBERS, default=DEFAULT_GROUPS[label],
                                           key=key, bind="query-params",
                                           help=f"Pick {GROUP_SIZE} {t} numbers from the grid.")
        if (name, arithmetic_seed) == DEFAULT_GROUPS_GRID:
            st.caption("To start, the groups hold three smiling women, three neutral women and three neutral men "
                       "of this grid, picked by eye.")
        else:
            st.caption(f"The groups' first numbers were picked for faces on {DEFAULT_GROUPS_GRID[0]}'s grid with "
                       f"seed {DEFAULT_GROUPS_GRID[1]}; on this grid, pick {t}s that fit each group's recipe.")
        noise = st.slider("Neighbour noise", 0.0, 1.0, 0.3, step=0.05, key="noise", bind="query-params",
                          help="Scale of the random N(0, I) noise added to A − B + C for its neighbours.")
    with grid_col:
        candidate_grid(name, arithmetic_seed)
    age_table(name, arithmetic_seed, show_ages)

    st.caption(texts.LATENT_ARITHMETIC_HOWTO if t == "face" else texts.LATENT_ARITHMETIC_HOWTO_ART)
    wrong = [label for label, picked in groups.items() if len(picked) != GROUP_SIZE]
    if wrong:
        st.warning(f"Group {', '.join(wrong)} must have exactly {GROUP_SIZE} {t}s; "
                   f"now: {', '.join(f'{label} has {len(groups[label])}' for label in wrong)}.",
                   icon=":material/warning:")
    else:
        means, results = arithmetic_faces(name, arithmetic_seed, groups["A"], groups["B"], groups["C"], noise)
        for col, (label, sign), mean in zip(st.columns(3), [("A", ""), ("B", "− "), ("C", "+ ")], means, strict=True):
            show_image(mean, caption=f"{sign}mean of {label}: {t}s {', '.join(map(str, groups[label]))}",
                       container=col)
        row = make_grid(results, nrow=RESULTS)
        show_image(row, caption=f"= A − B + C (first), then {RESULTS - 1} neighbours with noise scale {noise:g}")
        st.caption(texts.LATENT_ARITHMETIC_RESULT.format(thing=t))


def strip_readout(key: str, found: list) -> str:
    """What the labeller says along a strip: ages along "older", P(male) along "male"; – where it has none."""
    if key == "older":
        return "predicted age " + ", ".join(f"{f.age:.0f}" if f.age is not None else "–" for f in found)
    return "the labeller says " + ", ".join(
        (f"{f.gender} {f.confidence:.0%}" if f.p_male is not None else "–") for f in found)


def directions_section(name: str, show_ages: bool) -> None:
    """Age and gender: move a face along the fitted directions, with strips and the labeller's readout."""
    directions, facts, problem = model_directions(name)
    if directions is None or problem:
        why = problem or f"**{name}** has no age and gender directions yet"
        st.info(f"{why[0].upper()}{why[1:]}. Make them (a few minutes on a CPU) with\n\n"
                f"`python -m train.directions --model {name}`", icon=":material/info:")
        return
    grid_col, controls_col = grid_and_controls("directions-grid")
    with controls_col:
        direction_seed = int(st.number_input("Grid seed", min_value=0, max_value=2**31 - 1, value=2, step=1,
                                             key="dseed", bind="query-params",
                                             help="The same seed and model always give the same grid."))
        st.button("New grid", on_click=new_seed, args=("dseed",), icon=":material/casino:", key="new_direction_grid")
        face = st.selectbox("Face #", FACE_NUMBERS, index=0, key="face", bind="query-params")
        amounts = {key: st.slider(label, -MAX_MOVE, MAX_MOVE, 0.0, step=0.25, key=key, bind="query-params",
                                  help=f"Distance moved along the unit \"{key}\" direction; negative goes the "
                                       "other way.")
                   for key, label in DIRECTION_LABELS.items()}
        pair, pair_attributes, strips = moved_faces(name, direction_seed, face, amounts)
        setting = ", ".join(f"{key} {amount:+g}" for key, amount in amounts.items())
        for col, image, found, caption in zip(st.columns(2), pair, pair_attributes,
                                              [f"Face {face}", f"Face {face} moved: {setting}"], strict=True):
            show_image(image, caption=f"{caption} — {found.caption()}", container=col)
    with grid_col:
        candidate_grid(name, direction_seed)
    age_table(name, direction_seed, show_ages)

    for key, label in DIRECTION_LABELS.items():
        frames, found = strips[key]
        held = ", ".join(f"{k} {v:+g}" for k, v in amounts.items() if k != key)
        show_image(make_grid(frames, nrow=len(frames)),
                   caption=f"{label}: face {face} moved {', '.join(f'{a:+g}' for a in STRIP_AMOUNTS)} along "
                           f"\"{key}\" ({held} kept) — {strip_readout(key, found)}")
    older, male = facts["effect"].get(f"older +{MAX_MOVE:g}", {}), facts["effect"].get(f"male +{MAX_MOVE:g}", {})
    measured = ""
    male_n = male.get("faces_labelled_both", male.get("faces_found_both"))  # older files count found faces
    if older.get("faces_found_both") and male_n:
        measured = (f" Measured on {older['faces_found_both']} fresh faces: moving {MAX_MOVE:g} along \"older\" "
                    f"changed the mean predicted age from {older['mean_age_before']:.1f} to "
                    f"{older['mean_age_after']:.1f} years; {MAX_MOVE:g} along \"male\" changed the share predicted "
                    f"male from {male['share_male_before']:.0%} to {male['share_male_after']:.0%} ({male_n} faces).")
    st.caption(
        f"**Where the directions come from.** {facts.get('samples', '?')} faces of this model were labelled by an "
        f"age model and a gender head (the age model's face finder found {facts.get('labelled', '?')} of them); "
        "a straight-line fit "
        "of age, and of the probability of \"male\", on the latent numbers gives the direction in which each "
        "grows fastest. \"Older\" was then made perpendicular to \"male\", so moving along one changes the "
        f"other as little as the generator allows.{measured} The labels are a model's guesses about how a face "
        "looks, with its biases, and CelebA is mostly young light-skinned celebrities: expect the generator to "
        "age a face with what it saw on older celebrities (hairstyles, make-up, lighting), not real ageing."
    )
    st.caption(
        "**What the labeller can tell.** " + (f"{limits} " if (limits := labeller_limits()) else "")
        + texts.LATENT_ATTRIBUTES_CAVEAT
    )
