"""Classroom's Live GAN: a tiny GAN on 2-D points that the visitor steps or plays, with what GAN Lab shows
(D's surface, G's gradient, its noise grid, k and the loss). The charts are in ui.charts.toygan."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from core.gan.toygan import (
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
from ui import texts
from ui.charts.toygan import ARROW_MAX_LEN, ARROW_POINTS, GRID_LINES, history_chart, off_chart, points_chart
from ui.widgets import panes

LEARNING_RATES = [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2]
STEPS_PER_CLICK = [1, 10, 50, 100, 200]
PLAY_TRAIN_S = 0.25  # each frame trains this long, then draws: a Pause click waits for one short frame
MAX_PLAY_STEPS = 20_000  # Play pauses itself here, so a forgotten browser tab does not train forever
TRAIN_WORDS = {TRAIN_BOTH: "D and G", TRAIN_D: "D only", TRAIN_G: "G only"}


def fmt_lr(lr: float) -> str:
    return f"{lr:.0e}".replace("e-0", "e-")


def toy_trainer(distribution: str, lr_g: float, lr_d: float, seed: int, loss: str = LOG_LOSS,
                d_steps: int = 1) -> ToyGANTrainer:
    """This visitor's trainer; a new one when the distribution, seed or loss changed; rates and k applied live."""
    trainer = st.session_state.get("toy_trainer")
    c = trainer.config if trainer is not None else None
    if c is None or (c.distribution, c.seed, c.loss) != (distribution, seed, loss):
        note = restart_note(c, distribution, seed, loss, trainer.steps_done) if trainer is not None else None
        trainer = ToyGANTrainer(ToyGANConfig(distribution=distribution, lr_g=lr_g, lr_d=lr_d, seed=seed, loss=loss,
                                             d_steps=d_steps))
        st.session_state.toy_trainer = trainer
        if note:  # a run with steps was dropped: say so beside the counter, and in a toast
            st.toast(note, icon=":material/restart_alt:")
            st.session_state.toy_restart_note = (trainer, note)
    else:
        if (c.lr_g, c.lr_d) != (lr_g, lr_d):
            trainer.set_learning_rates(lr_g, lr_d)
        if c.d_steps != d_steps:
            trainer.set_d_steps(d_steps)
    return trainer


# What starting again costs the teacher: the settings a run cannot change halfway (the points it learns,
# the seed that makes it repeatable, the game it plays); learning rates and k change live instead.
RESTARTING_SETTINGS = ("distribution", "seed", "loss")


def restart_note(old: ToyGANConfig, distribution: str, seed: int, loss: str, steps_done: int) -> str | None:
    """What to tell the teacher when a settings change replaced a run that had trained; None if it had not."""
    if not steps_done:
        return None
    new = {"distribution": distribution, "seed": seed, "loss": loss}
    changed = " and ".join(k for k in RESTARTING_SETTINGS if getattr(old, k) != new[k])
    return f"Started again from step 0: the {changed} changed (the last run had reached step {steps_done:,})."


def step_trainer(steps: int, train: str) -> None:
    """Step's callback: it trains the trainer the click was made on, before the rerun draws it."""
    trainer = st.session_state.get("toy_trainer")
    if trainer is not None:
        trainer.step(steps, train=train)


def set_playing(playing: bool) -> None:
    # set, not toggled: a click can reach the server twice when it lands between two frames
    st.session_state.toy_playing = playing


# Play's clock is the browser, not a timer. A timer (the fragment's run_every) asked for a frame every
# 0.3 s whether or not the browser had drawn the last one; drawing one (three Plotly charts, 2,000
# markers) took a busy browser 0.5-1 s, so trained frames queued up unseen, and Pause stopped the
# counter only after they had all been drawn (1-3 s, up to 100 steps later on a loaded 2-core
# machine). Now each frame ends with this element: once the browser has painted the frame (two
# animation frames later) it reports the frame's number, and only that report trains the next one.
# A hidden tab paints nothing, so a forgotten tab stops training too.
_FRAME_CLOCK_JS = """
export default function ({ data, parentElement, setStateValue }) {
  if (!data || !data.playing || parentElement.__frameReported === data.frame) return;
  parentElement.__frameReported = data.frame;
  requestAnimationFrame(() => requestAnimationFrame(() => setStateValue("drawn", data.frame)));
}
"""
_frame_clock = st.components.v2.component("facegan_live_gan_frame_clock", js=_FRAME_CLOCK_JS)


def _record_frame_drawn() -> None:
    # a callback, so the report is known before the run decides whether to train
    st.session_state.toy_frame_drawn = st.session_state.toy_frame_clock["drawn"]


def frame_clock(frame: int, playing: bool) -> None:
    """Hand the browser this run's frame number; while playing, it reports back once it has painted it."""
    _frame_clock(key="toy_frame_clock", data={"frame": frame, "playing": playing}, default={"drawn": None},
                 on_drawn_change=_record_frame_drawn, height=0)


def next_frame_due() -> bool:
    """While playing, whether to train a frame now: once the browser has painted the last one it was sent."""
    sent = st.session_state.get("toy_frame_sent", 0)
    return sent == 0 or st.session_state.get("toy_frame_drawn") == sent


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
                             help=texts.LIVE_GAN_LOSS_HELP)
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


def live_gan() -> None:
    """Controls, buttons and charts; a fragment, so a click reruns this part only.

    While playing, a run of the fragment trains one frame (PLAY_TRAIN_S of training) when the browser has
    painted the previous frame, then draws; the browser's report of that painting reruns it (`frame_clock`).
    """
    distribution, lr_g, lr_d, steps, seed = _controls()
    lab = lab_options()
    trainer = _buttons(toy_trainer(distribution, lr_g, lr_d, seed, lab.loss, lab.d_steps),
                       (distribution, lr_g, lr_d, seed), steps, lab)
    chart_col, side_col = panes((420, 3), (300, 2), key="toy-charts")  # under one another on a narrow page
    with chart_col:
        _points(trainer, lab)
    with side_col:
        _coverage(trainer)
        if trainer.steps_done:
            _losses(trainer)
        else:
            st.info("Press **Step** (or **Play**) to train; the losses appear here.")
    _frame_clock_tick()


def _frame_clock_tick() -> None:
    """The frame's last element: after a frame trained, a new frame number for the browser to report."""
    frame = st.session_state.get("toy_frame_sent", 0)
    if st.session_state.pop("toy_frame_trained", False):
        frame += 1
        st.session_state.toy_frame_sent = frame
    frame_clock(frame, st.session_state.get("toy_playing", False))


def _controls() -> tuple:
    """Distribution, learning rates, steps per click and seed, in one row."""
    # a row that wraps: in fixed fifths the distribution's name was cut at 1,024 px
    cols = panes((230, 2), *[(130, 1)] * 4, key="toy-controls", gap="medium")
    distribution = cols[0].selectbox("Distribution", list(DISTRIBUTIONS), key="toy_distribution",
                                     format_func=lambda n: DISTRIBUTIONS[n].title,
                                     help="The real points G learns to imitate. Changing it starts again from "
                                          "step 0.")
    lr_g = cols[1].select_slider("lr G", LEARNING_RATES, value=1e-3, format_func=fmt_lr, key="toy_lr_g",
                                 help="Generator's Adam learning rate; changes apply from the next step.")
    lr_d = cols[2].select_slider("lr D", LEARNING_RATES, value=1e-3, format_func=fmt_lr, key="toy_lr_d",
                                 help="Discriminator's Adam learning rate; changes apply from the next step.")
    steps = cols[3].select_slider("Steps per click", STEPS_PER_CLICK, value=50, key="toy_steps")
    seed = cols[4].number_input("Seed", 0, 9_999, 0, key="toy_seed",
                                help="The same seed and settings give the same run; a new seed starts again from step 0.")
    return distribution, lr_g, lr_d, steps, seed


def _buttons(trainer, settings: tuple, steps: int, lab):
    """Step, Play/Pause, Reset and the step counter; while playing, one frame's training. Returns the
    trainer to draw (a fresh one after Reset)."""
    distribution, lr_g, lr_d, seed = settings
    playing = st.session_state.get("toy_playing", False)
    row = st.container(horizontal=True, vertical_alignment="center")  # wraps, labels whole at any width
    buttons = [row] * 4
    per_step = {TRAIN_BOTH: f"each {lab.d_steps} D update{'s' if lab.d_steps > 1 else ''}, then one G update",
                TRAIN_D: "each one D update, G unchanged", TRAIN_G: "each one G update, D unchanged"}[lab.train]
    buttons[0].button("Step", icon=":material/skip_next:", disabled=playing, width="content",
                      on_click=step_trainer, args=(steps, lab.train), help=f"Train {steps} steps: {per_step}.")
    buttons[1].button("Pause" if playing else "Play", width="content", on_click=set_playing, args=(not playing,),
                      icon=":material/pause:" if playing else ":material/play_arrow:",
                      help=None if playing else f"Train until Pause: {PLAY_TRAIN_S:g} s of training, then a drawing, "
                                                "and the next only once your browser has shown it, so Pause "
                                                "stops at once (or after the quarter second in progress).")
    if buttons[2].button("Reset", icon=":material/restart_alt:", width="content", help="Start again from step 0."):
        st.session_state.toy_trainer = None
        trainer = toy_trainer(distribution, lr_g, lr_d, seed, lab.loss, lab.d_steps)
    if playing and next_frame_due():
        trainer.train_for(PLAY_TRAIN_S, MAX_PLAY_STEPS - trainer.steps_done)
        st.session_state.toy_frame_trained = True
        if trainer.steps_done >= MAX_PLAY_STEPS:
            st.session_state.toy_playing = False
            st.rerun(scope="fragment")  # the button says Play again
    buttons[3].markdown(f"**Step {trainer.steps_done:,}**" + ("  ·  playing" if playing else ""))
    if (trainer.d_updates, trainer.g_updates) != (trainer.steps_done, trainer.steps_done):
        buttons[3].caption(f"{trainer.d_updates:,} D updates and {trainer.g_updates:,} G updates so far.")
    restarted, note = st.session_state.get("toy_restart_note", (None, None))
    if restarted is trainer:  # for this whole run: the toast is gone after a few seconds; Reset clears it
        buttons[3].caption(f":material/restart_alt: {note}")
    return trainer


def _points(trainer, lab) -> None:
    st.plotly_chart(points_chart(trainer, lab.arrows, lab.grid), width="stretch", key="toy_points")
    _off_chart_note(trainer, lab)
    st.caption(texts.LIVE_GAN_CHART)
    if lab.arrows:
        st.caption(f"Brown arrows, on {ARROW_POINTS} gold points: where G's loss pulls each point right now "
                   "(-d loss_G / dx, the longest scaled to a fixed length); G follows them only as far as its "
                   "weights let it move all points together.")
    if lab.grid:
        st.caption(f"Grey mesh: G applied to a square grid over its first two noise numbers (from "
                   f"-{NOISE_GRID_SPAN:g} to {NOISE_GRID_SPAN:g}"
                   + (")" if trainer.config.nz == 2 else f", the other {trainer.config.nz - 2} set to 0)")
                   + ": where the mesh is stretched thin, G spreads few noise vectors over a wide area.")


def _off_chart_note(trainer, lab) -> None:
    """Say why gold points are missing from the chart: they are beyond its edge, pinned there as open circles."""
    points = trainer.generated_points()
    outside = off_chart(points)
    if not outside.any():
        return
    n, gone = len(points), int(outside.sum())
    if gone < n:
        st.caption(f"{gone:,} of {n:,} gold points are beyond the chart's edge; each is drawn as an open circle "
                   "on the edge, where it left.")
        return
    nearest = float(np.abs(points).max(axis=1).min())
    why = ("With *G only*, D never changes, so G climbs D's slope (the arrows) on and on, past the chart's edge: "
           "switch *Step trains* to *D and G* and D learns to pull them back, or **Reset**."
           if lab.train == TRAIN_G else
           "G has followed D's slope past the edge; D usually pulls them back within a few more steps of "
           "*D and G*, or **Reset** starts again.")
    st.warning(f"All {n:,} gold points are beyond the chart's edge (it shows -{EXTENT:g} to {EXTENT:g} on each "
               f"axis; the nearest point is at {nearest:.1f}); the open circles on the edge show where they left. "
               f"{why}", icon=":material/open_in_full:")


def _coverage(trainer) -> None:
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


def _losses(trainer) -> None:
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


def stop_playing() -> None:
    st.session_state.toy_playing = False
