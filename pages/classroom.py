"""Classroom: a GAN you can watch learn on 2-D points, and a "which face is real?" quiz."""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.colors import qualitative

from core import registry
from core.data import celeba_root
from core.detect import UNCERTAIN_BAND
from core.detectors import CROP_SIZE
from core.faces import ImageError, list_images, open_image, training_frame
from core.toygan import (
    DISTRIBUTIONS,
    EXTENT,
    LEAST_SQUARES,
    LOG_LOSS,
    LOSSES,
    MAX_D_STEPS,
    N_SIGMA,
    NOISE_GRID_SPAN,
    RING_MODES,
    TRAIN_BOTH,
    TRAIN_D,
    TRAIN_G,
    TRAIN_WHAT,
    ToyGANConfig,
    ToyGANTrainer,
    equilibrium_losses,
)
from ui.models import generate_faces, load_face_detector, load_judge, load_model
from ui.nav import ensure_app_navigation

ensure_app_navigation()

LIVE_TAB, QUIZ_TAB = "Live GAN", "Which face is real?"
LEARNING_RATES = [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2]
STEPS_PER_CLICK = [1, 10, 50, 100, 200]
PLAY_EVERY_S = 0.3  # Play's timer: a frame at most every 0.3 s; queued frames coalesce when the CPU is slower
PLAY_TRAIN_S = 0.25  # each frame trains this long, then draws: a Pause click waits for one short frame
MAX_PLAY_STEPS = 20_000  # Play pauses itself here, so a forgotten browser tab does not train forever
MAX_CURVE_POINTS = 2_000  # longer loss curves are thinned for drawing (every k-th step)
SURFACE_RESOLUTION = 80
# D's probability of "real": red (generated) - white (0.5, cannot tell) - blue (real)
SURFACE_COLORS = [[0.0, "#c62828"], [0.5, "#ffffff"], [1.0, "#1565c0"]]
REAL_COLOR, FAKE_COLOR = "#1f1b2e", "#ffb300"
CURVE_COLORS = qualitative.Plotly  # as on Training History: blue, red; two blues would hide one curve
ARROW_POINTS = 250  # G's gradient drawn on this many of the gold points: all 1,000 arrows hide the points
ARROW_MAX_LEN = 0.45  # the longest arrow, in plot units (the plot is 2 * EXTENT = 6 wide); the rest in proportion
ARROW_COLOR, GRID_COLOR = "#4e342e", "rgba(40, 40, 40, 0.6)"
GRID_LINES, GRID_POINTS_PER_LINE = 11, 41
TRAIN_WORDS = {TRAIN_BOTH: "D and G", TRAIN_D: "D only", TRAIN_G: "G only"}

QUIZ_DIR_ENV = "FACEGAN_QUIZ_REAL_DIR"
QUIZ_FACE_PX = 256  # both faces drawn at this width, scaled by the browser the same way


def fmt_lr(lr: float) -> str:
    return f"{lr:.0e}".replace("e-0", "e-")


# ----------------------------------------------------------------------------- live GAN


def toy_trainer(distribution: str, lr_g: float, lr_d: float, seed: int, loss: str = LOG_LOSS,
                d_steps: int = 1) -> ToyGANTrainer:
    """This visitor's trainer; a new one when the distribution, seed or loss changed; rates and k applied live."""
    trainer = st.session_state.get("toy_trainer")
    c = trainer.config if trainer is not None else None
    if c is None or (c.distribution, c.seed, c.loss) != (distribution, seed, loss):
        trainer = ToyGANTrainer(ToyGANConfig(distribution=distribution, lr_g=lr_g, lr_d=lr_d, seed=seed, loss=loss,
                                             d_steps=d_steps))
        st.session_state.toy_trainer = trainer
    else:
        if (c.lr_g, c.lr_d) != (lr_g, lr_d):
            trainer.set_learning_rates(lr_g, lr_d)
        if c.d_steps != d_steps:
            trainer.set_d_steps(d_steps)
    return trainer


def segments(starts: np.ndarray, ends: np.ndarray) -> tuple[list, list]:
    """x and y lists drawing one line segment per row of `starts` -> `ends`, None between them."""
    xs, ys = [], []
    for (x0, y0), (x1, y1) in zip(starts.tolist(), ends.tolist(), strict=True):
        xs += [x0, x1, None]
        ys += [y0, y1, None]
    return xs, ys


def arrows_trace(trainer: ToyGANTrainer) -> go.Scatter:
    """G's gradient at ARROW_POINTS gold points: -d(loss_G)/dx, scaled so the longest is ARROW_MAX_LEN."""
    points, directions = trainer.generator_gradients()
    points, directions = points[:ARROW_POINTS], directions[:ARROW_POINTS]
    longest = max(float(np.linalg.norm(directions, axis=1).max()), 1e-12)
    xs, ys = segments(points, points + directions * (ARROW_MAX_LEN / longest))
    return go.Scatter(x=xs, y=ys, mode="lines+markers", name="G's gradient", hoverinfo="skip",
                      line={"color": ARROW_COLOR, "width": 1},
                      marker={"symbol": "arrow", "angleref": "previous", "color": ARROW_COLOR,
                              "size": [0, 7, 0] * len(points)})


def grid_trace(trainer: ToyGANTrainer) -> go.Scatter:
    """G's image of the noise grid's lines, one polyline each, None between them."""
    lines = trainer.noise_grid(GRID_LINES, GRID_POINTS_PER_LINE).reshape(-1, GRID_POINTS_PER_LINE, 2)
    xs, ys = [], []
    for line in lines.tolist():
        xs += [x for x, _ in line] + [None]
        ys += [y for _, y in line] + [None]
    return go.Scatter(x=xs, y=ys, mode="lines", name="G's noise grid", hoverinfo="skip",
                      line={"color": GRID_COLOR, "width": 1})


def points_chart(trainer: ToyGANTrainer, arrows: bool = False, grid: bool = False) -> go.Figure:
    axis, probs = trainer.decision_surface(SURFACE_RESOLUTION)
    real, fake = trainer.real_points(), trainer.generated_points()
    fig = go.Figure()
    fig.add_trace(go.Heatmap(
        x=axis, y=axis, z=probs, zmin=0, zmax=1, colorscale=SURFACE_COLORS, name="D(x)",
        colorbar={"title": {"text": "D: P(real)" if trainer.config.loss == LOG_LOSS else "D output,<br>clipped"},
                  "len": 0.8},
        hovertemplate="D = %{z:.2f} at (%{x:.2f}, %{y:.2f})<extra></extra>",
    ))
    fig.add_trace(go.Scatter(x=real[:, 0], y=real[:, 1], mode="markers", name="real",
                             marker={"size": 4, "color": REAL_COLOR, "opacity": 0.45}, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=fake[:, 0], y=fake[:, 1], mode="markers", name="generated",
                             marker={"size": 5, "color": FAKE_COLOR, "line": {"width": 0.5, "color": "#3e2723"}},
                             hoverinfo="skip"))
    if grid:  # over the points: behind them, the slice's small image would hide under the gold
        fig.add_trace(grid_trace(trainer))
    if arrows:
        fig.add_trace(arrows_trace(trainer))
    fig.update_xaxes(range=[-EXTENT, EXTENT], constrain="domain")
    fig.update_yaxes(range=[-EXTENT, EXTENT], scaleanchor="x", scaleratio=1)
    fig.update_layout(title=f"Real vs generated points after {trainer.steps_done:,} steps", height=520,
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0.0},
                      margin={"t": 80, "b": 30, "l": 30, "r": 10})
    return fig


def thinned(values: list[float]) -> tuple[np.ndarray, int]:
    stride = max(1, -(-len(values) // MAX_CURVE_POINTS))
    return np.asarray(values)[::stride], stride


def history_chart(trainer: ToyGANTrainer, keys: dict[str, str], title: str, y_title: str,
                  ideals: tuple[float, ...] = ()) -> go.Figure:
    """Curves of `keys` (history key -> legend name) per step, with the equilibrium values dashed."""
    steps, _ = thinned(trainer.history["step"])
    fig = go.Figure()
    for i, (key, label) in enumerate(keys.items()):
        fig.add_trace(go.Scatter(x=steps, y=thinned(trainer.history[key])[0], name=label, mode="lines",
                                 line={"color": CURVE_COLORS[i % len(CURVE_COLORS)], "width": 1.5}))
    fig.update_layout(title=title, xaxis_title="step", yaxis_title=y_title, height=300, hovermode="x unified",
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
                      margin={"t": 70, "b": 40})
    for y in ideals:
        fig.add_hline(y=y, line_dash="dash", line_color="gray")
    return fig


def step_trainer(steps: int, train: str) -> None:
    """Step's callback: it trains the trainer the click was made on, before the rerun draws it."""
    trainer = st.session_state.get("toy_trainer")
    if trainer is not None:
        trainer.step(steps, train=train)


def set_playing(playing: bool) -> None:
    # set, not toggled: a click can reach the server twice when it lands between two frames
    st.session_state.toy_playing = playing


@dataclass
class LabOptions:
    """The "what GAN Lab shows" controls."""
    train: str = TRAIN_BOTH  # what Step updates
    d_steps: int = 1
    loss: str = LOG_LOSS
    arrows: bool = False
    grid: bool = False


def lab_options() -> LabOptions:
    """The advanced controls, in an expander; their defaults are the plain DCGAN recipe, drawn plainly."""
    with st.expander("Advanced: what GAN Lab shows", icon=":material/school:"):
        cols = st.columns(3, gap="medium")
        train = cols[0].radio("Step trains", TRAIN_WHAT, format_func=TRAIN_WORDS.get, horizontal=True,
                              key="toy_train_what",
                              help="What the Step button updates. Play always trains both.")
        cols[0].caption("*D only*: watch the background sharpen around the points while the gold points stay put; "
                        "*G only*: watch the gold points climb the background towards blue while it stays put.")
        d_steps = cols[1].select_slider("D steps per G step (k)", list(range(1, MAX_D_STEPS + 1)), value=1,
                                        key="toy_k",
                                        help="The k of the original GAN paper (Goodfellow et al. 2014): each "
                                             "step makes k discriminator updates, then one generator update. "
                                             "Changes apply from the next step.")
        cols[1].caption("A larger k keeps D ahead of G: look for a sharper background and a Loss_D that stays low.")
        loss = cols[2].radio("Loss", LOSSES, horizontal=True, key="toy_loss",
                             format_func=lambda name: {LOG_LOSS: "log loss (DCGAN)",
                                                       LEAST_SQUARES: "least squares (LSGAN)"}[name],
                             help="Log loss: D's output is a probability (sigmoid), G maximises log D(G(z)). "
                                  "Least squares: D's raw output is pushed to 1 on real and 0 on generated points, "
                                  "G pushes it to 1 on its own. Changing it starts again from step 0.")
        cols[2].caption("Least squares still pulls on points D already calls real, so look for arrows that stay long; "
                        "its background is D's raw output clipped to [0, 1].")
        cols = st.columns(3, gap="medium")
        arrows = cols[0].toggle("G's gradient arrows", key="toy_arrows",
                                help=f"On {ARROW_POINTS} of the gold points: -d(loss_G)/dx, the direction G's loss "
                                     "wants each point to move against the current D, scaled so the longest arrow "
                                     f"is {ARROW_MAX_LEN:g} long and the rest in proportion.")
        cols[0].caption("The arrows point up the background's slope, towards blue: G's only teacher is D's gradient.")
        grid = cols[1].toggle("G's noise grid", key="toy_grid",
                              help=f"A square grid of {GRID_LINES} x {GRID_LINES} lines over the first two of the "
                                   f"generator's noise numbers (each from -{NOISE_GRID_SPAN:g} to "
                                   f"{NOISE_GRID_SPAN:g}, the others 0), drawn where G sends it.")
        cols[1].caption("Grey mesh: G's map of a slice of its noise space; watch it fold and stretch so that its "
                        "lines run through the real clusters (a slice, so it need not reach every cluster).")
    return LabOptions(train, d_steps, loss, arrows, grid)


def live_gan(timer_on: bool) -> None:
    """Controls, buttons and charts; a fragment, so a click reruns this part only (and Play's timer).

    While playing, each run of the fragment (one frame) trains for PLAY_TRAIN_S and draws; `timer_on`
    says whether it was declared with Play's timer, which only a full run can set or clear.
    """
    if st.session_state.get("toy_playing", False) != timer_on:  # Play or Pause was just pressed
        st.rerun(scope="app")
    cols = st.columns([2, 1, 1, 1, 1])
    distribution = cols[0].selectbox("Distribution", list(DISTRIBUTIONS), key="toy_distribution",
                                     format_func=lambda n: DISTRIBUTIONS[n].title)
    lr_g = cols[1].select_slider("lr G", LEARNING_RATES, value=1e-3, format_func=fmt_lr, key="toy_lr_g",
                                 help="Generator's Adam learning rate; changes apply from the next step.")
    lr_d = cols[2].select_slider("lr D", LEARNING_RATES, value=1e-3, format_func=fmt_lr, key="toy_lr_d",
                                 help="Discriminator's Adam learning rate; changes apply from the next step.")
    steps = cols[3].select_slider("Steps per click", STEPS_PER_CLICK, value=50, key="toy_steps")
    seed = cols[4].number_input("Seed", 0, 9_999, 0, key="toy_seed",
                                help="The same seed and settings give the same run; a new seed starts again.")
    lab = lab_options()
    trainer = toy_trainer(distribution, lr_g, lr_d, seed, lab.loss, lab.d_steps)

    playing = st.session_state.get("toy_playing", False)
    row = st.container(horizontal=True, vertical_alignment="center")  # wraps, labels whole at any width
    buttons = [row] * 4
    per_step = {TRAIN_BOTH: f"each {lab.d_steps} D update{'s' if lab.d_steps > 1 else ''}, then one G update",
                TRAIN_D: "each one D update, G unchanged", TRAIN_G: "each one G update, D unchanged"}[lab.train]
    buttons[0].button("Step", icon=":material/skip_next:", disabled=playing, width="content",
                      on_click=step_trainer, args=(steps, lab.train), help=f"Train {steps} steps: {per_step}.")
    buttons[1].button("Pause" if playing else "Play", width="content", on_click=set_playing, args=(not playing,),
                      icon=":material/pause:" if playing else ":material/play_arrow:",
                      help=None if playing else f"Train until Pause, drawing every {PLAY_TRAIN_S:g} s of training: "
                                                "Pause takes effect at the next drawing.")
    if buttons[2].button("Reset", icon=":material/restart_alt:", width="content", help="Start again from step 0."):
        st.session_state.toy_trainer = None
        trainer = toy_trainer(distribution, lr_g, lr_d, seed, lab.loss, lab.d_steps)
    if playing:
        trainer.train_for(PLAY_TRAIN_S, MAX_PLAY_STEPS - trainer.steps_done)
        if trainer.steps_done >= MAX_PLAY_STEPS:
            st.session_state.toy_playing = False
            st.rerun(scope="app")  # a full run clears the fragment's timer
    buttons[3].markdown(f"**Step {trainer.steps_done:,}**" + ("  ·  playing" if playing else ""))
    if (trainer.d_updates, trainer.g_updates) != (trainer.steps_done, trainer.steps_done):
        buttons[3].caption(f"{trainer.d_updates:,} D updates and {trainer.g_updates:,} G updates so far.")

    chart_col, side_col = st.columns([3, 2], gap="large")
    with chart_col:
        st.plotly_chart(points_chart(trainer, lab.arrows, lab.grid), width="stretch", key="toy_points")
        st.caption(
            "Black: real points. Gold: what the generator makes of the same 1,000 noise vectors after each "
            "step, so any movement is learning. Background: the discriminator's probability that a point is real, "
            "blue where it says *real*, red where it says *generated*. **Equilibrium** looks like gold on top of "
            "black and a pale background everywhere (D near 0.5): D can no longer tell them apart. **Mode "
            "collapse** on the ring looks like every gold point piled on one or two of the eight clusters, often "
            "hopping to another cluster as D catches up: try lr G 1e-4 against lr D 1e-2 for a few hundred steps."
        )
        if lab.arrows:
            st.caption(f"Brown arrows, on {ARROW_POINTS} gold points: where G's loss pulls each point right now "
                       "(-d loss_G / dx, the longest scaled to a fixed length); G follows them only as far as its "
                       "weights let it move all points together.")
        if lab.grid:
            st.caption(f"Grey mesh: G applied to a square grid over its first two noise numbers (from "
                       f"-{NOISE_GRID_SPAN:g} to {NOISE_GRID_SPAN:g}"
                       + (")" if trainer.config.nz == 2 else f", the other {trainer.config.nz - 2} set to 0)")
                       + ": where the mesh is stretched thin, G spreads few noise vectors over a wide area.")
    with side_col:
        coverage = trainer.coverage()
        if coverage is not None:
            a, b = st.columns(2)
            a.metric("Modes covered", f"{coverage.modes_covered} of {coverage.n_modes}",
                     help=f"Spread: a mode counts when at least {coverage.min_points} of the "
                          f"{len(trainer.fixed_noise):,} gold points (a quarter of its fair share) are on it.")
            b.metric("Close to some centre", f"{coverage.high_quality_share:.0%}",
                     help=f"Closeness only: the share of gold points within {N_SIGMA:g} standard deviations of "
                          "any cluster's centre, however few clusters they sit on.")
            st.caption(f"Read the left number first: it counts spread, and a good generator covers {RING_MODES} of "
                       f"{RING_MODES}. The share on the right counts closeness, not spread: 96% with only 2 of the "
                       f"{RING_MODES} clusters reached is mode collapse, sharp points piled on two of them. A gold point "
                       f"is on its nearest centre's mode when within {N_SIGMA:g} standard deviations of it; a "
                       f"perfect generator puts 1/{RING_MODES} of its points on every mode.")
        else:
            st.caption("Mode coverage is counted on the ring, the distribution with separate modes to count.")
        if trainer.steps_done:
            eq_d, eq_g = equilibrium_losses(trainer.config.loss)
            st.plotly_chart(history_chart(trainer, {"loss_d": "Loss_D", "loss_g": "Loss_G"}, "Losses", "loss",
                                          ideals=(eq_d, eq_g)), width="stretch", key="toy_losses")
            if trainer.config.loss == LOG_LOSS:
                words = f"Loss_D is 2 ln 2 = {eq_d:.2f} and Loss_G is ln 2 = {eq_g:.2f}"
            else:
                words = f"the least-squares Loss_D is ½·0.5² + ½·0.5² = {eq_d:.2f} and Loss_G is ½·0.5² = {eq_g:.3f}"
            st.caption(f"Dashed: equilibrium (D = 0.5 everywhere), where {words}. Loss_D near 0 with Loss_G climbing "
                       "means D is winning. A *D only* or *G only* step evaluates the other network's loss "
                       "without training it.")
            clipped = trainer.config.loss == LEAST_SQUARES
            fig = history_chart(trainer, {"d_real": "D(x) on real", "d_fake": "D(G(z)) on generated"},
                                "Discriminator's mean output", "D output, clipped" if clipped else "P(real)",
                                ideals=(0.5,))
            fig.update_yaxes(range=[0, 1])
            st.plotly_chart(fig, width="stretch", key="toy_d_outputs")
            st.caption("D(x) near 1 and D(G(z)) near 0: D tells them apart. Both at the dashed 0.5: it cannot."
                       + (" With least squares: the mean of D's raw output clipped to [0, 1]." if clipped else ""))
        else:
            st.info("Press **Step** (or **Play**) to train; the losses appear here.")


def stop_playing() -> None:
    st.session_state.toy_playing = False


# ----------------------------------------------------------------------------- which face is real?


@dataclass
class QuizRound:
    real_photo: str
    model: str
    seed: int
    real_side: int  # 0: the real photo is on the left, 1: on the right
    guess: int | None = None  # the side the student picked


# core.detect's labels, in the words the quiz shows under a face
VERDICT_WORDS = {"real": "Looks real", "GAN-made": "Looks GAN-made", "uncertain": "Uncertain"}


@dataclass
class DetectorOpinions:
    """What the detectors say about one quiz face; `probabilities` is empty when there is no verdict."""
    probabilities: dict[str, float]  # detector name -> calibrated P(GAN-made)
    ensemble: float | None = None  # their mean
    label: str | None = None  # core.detect label: "real", "GAN-made" or "uncertain"
    note: str = ""  # why there is no verdict


def detector_opinions(face_rgb: np.ndarray) -> DetectorOpinions | None:
    """Each detector's opinion of one face (the most face-like one MTCNN finds); None without detectors.

    Call it only once the student has answered: the verdict would give the answer away.
    """
    judge, _, _ = load_judge()
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
    st.markdown(f"**Detectors: {words}** (mean P(GAN-made) {share(opinions.ensemble)})")
    for col, (name, p) in zip(st.columns(len(opinions.probabilities)), opinions.probabilities.items(), strict=True):
        col.metric(name, share(p), help=f"{name}'s calibrated probability that this face is GAN-made.")


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
        return celeba_val, (
            "Real photos: CelebA validation split (Liu et al., \"Deep Learning Face Attributes in the Wild\", "
            "ICCV 2015), available for non-commercial research purposes only and not part of this repository. "
            "Both faces are cropped and scaled the same way."
        )
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
    judge, loaded, failed = load_judge()
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
                   "Train one with `train/` (see the README) or restore `weights/`.", icon=":material/warning:")
        return
    photos = photo_list(str(folder))
    rnd: QuizRound | None = st.session_state.get("quiz_round")
    if rnd is None or rnd.real_photo not in photos or rnd.model not in generators:
        new_round(photos, generators)
        rnd = st.session_state.quiz_round

    config = load_model(rnd.model).config
    fake = generate_faces(rnd.model, 1, rnd.seed, None)[0]
    try:
        real = real_face(rnd.real_photo, config["image_size"], "mtcnn" if config.get("arch") == "lsgan" else "center")
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
    score_col, button_col = st.columns([3, 1])
    score_col.markdown(f"**Score: {right} of {played}**" if played else "**Score:** no rounds played yet")
    button_col.button("New round", icon=":material/refresh:", on_click=new_round, args=(photos, generators),
                      width="stretch")
    st.caption(note + " Tip: look at hair edges, backgrounds, ears and teeth, where small GANs give themselves away.")


# ----------------------------------------------------------------------------- page

st.title("Classroom")
st.markdown("Two ways to get a feel for GANs: watch a tiny one learn a cloud of points, "
            "then test your own eye against faces our generators made.")
live_tab, quiz_tab = st.tabs([LIVE_TAB, QUIZ_TAB], key="part", bind="query-params", on_change=stop_playing)
if live_tab.open:
    with live_tab:
        st.caption("A generator (an MLP turning 8 random numbers into a 2-D point) against a discriminator (an MLP "
                   "scoring how real a point looks), trained on your own session's copy, on the server's CPU.")
        playing = st.session_state.get("toy_playing", False)
        st.fragment(live_gan, run_every=PLAY_EVERY_S if playing else None)(playing)
if quiz_tab.open:
    with quiz_tab:
        quiz()
