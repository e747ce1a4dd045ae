"""Training History's sections: a detector's per-epoch charts and evaluation, a GAN's per-iteration
charts and the fixed-noise snapshot player (the sidebar's controls and the notes on a link's
parameters are in ui/views/history_controls.py).

For a detector: its loss and accuracy per epoch, learning rate, and the evaluation in training.json
(ROC curves, confusion matrices and the headline figures); the figures come from ui.charts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st
from PIL import Image

from core.io.store import read_json
from core.models import registry
from core.models.history import (
    ACCURACIES,
    CLASSIFIER_LOSSES,
    EVALUATION_FIGURES,
    HISTORY_FILE,
    PHASE_NAMES,
    SUPCON_LOSSES,
    VAL_ACCURACY_HELP,
    VAL_ACCURACY_LABEL,
    closed_form,
    confusion_counts,
    detector_facts,
    epoch_boundaries,
    epoch_metrics,
    evaluation_entries,
    evaluation_table,
    limits_sentences,
    load_epoch_history,
    load_history,
    metric_names,
    phase_spans,
    phases_with,
    shared_epoch_metrics,
    shared_metrics,
    snapshot_paths,
    source_evaluation,
    split_metrics,
    strip_front_matter,
    training_facts,
)
from ui import texts
from ui.charts.history import (
    COLORS,
    accuracy_chart,
    confusion_chart,
    epoch_chart,
    learning_rate_chart,
    metric_chart,
    probability_chart,
)
from ui.charts.roc import roc_chart
from ui.widgets import panes, show_image, source_dataframe

PLAY_FRAME_S = 0.25  # a snapshot a quarter second while playing: 36 epochs in 9 s
EPOCH_KEY = "snapshot_epoch"  # the epoch slider's value: the epoch shown
PLAYING_KEY = "snapshot_playing"  # the record folder being played, None when paused
SHOWN_KEY = "snapshot_shown"  # the epoch the last frame showed, so the next one moves on


def record_folder(name: str) -> Path:
    # The record (history, snapshots, card) ships in the bundled folder; the Hub copy holds only
    # the files needed to load the weights (registry.MODEL_FILES), so this page does not load the model.
    return registry.get_spec(name).bundled_dir


def is_detector(name: str) -> bool:
    return registry.get_spec(name).kind == "detector"


@st.cache_data(show_spinner=False, max_entries=16)
def cached_history(path: str, mtime: float, per_epoch: bool = False) -> dict[str, np.ndarray]:
    """Columns of a history.jsonl; the mtime in the key makes a retrained model's new log show up.

    per_epoch: a detector's log (one row per epoch, with phases), read by load_epoch_history.
    """
    return load_epoch_history(Path(path).parent) if per_epoch else load_history(Path(path).parent)


def read_columns(model: str) -> dict[str, np.ndarray] | None:
    """A model's history columns, or None after saying on the page why they cannot be read."""
    path = record_folder(model) / HISTORY_FILE
    try:
        return cached_history(str(path), path.stat().st_mtime, is_detector(model))
    except (OSError, ValueError) as err:
        st.error(f"Cannot read the training history of **{model}**: {err}")
        return None


def comparable_runs(name: str, columns: dict[str, np.ndarray], candidates: list[str]) -> list[str]:
    """Other models of the same kind whose history shares a metric with `name`'s (unreadable ones left out)."""
    found = []
    per_epoch = is_detector(name)
    shared = shared_epoch_metrics if per_epoch else shared_metrics
    for other_name in candidates:
        if other_name == name or is_detector(other_name) != per_epoch:
            continue
        path = record_folder(other_name) / HISTORY_FILE
        try:
            other_columns = cached_history(str(path), path.stat().st_mtime, per_epoch)
        except (OSError, ValueError):
            continue
        if shared(columns, other_columns):
            found.append(other_name)
    return found


# ----------------------------------------------------------------------------- detectors: per epoch

def detector_charts(name: str, columns: dict, compare: str | None, other: dict | None) -> None:
    """Loss, accuracy and learning rate per epoch (a compared run dotted), phases marked and explained."""
    runs, keys = [(name, columns)], epoch_metrics(columns)
    if other is not None:  # comparable_runs offered only detectors with metrics in common
        runs.append((compare, other))
        keys = shared_epoch_metrics(columns, other)
        st.caption(f"Solid: **{name}**; dotted: **{compare}** ({len(other['epoch'])} epochs). "
                   "Showing the metrics both logged, against epochs over each whole run.")
    supcon = [k for k in SUPCON_LOSSES if k in keys]
    losses = [k for k in CLASSIFIER_LOSSES if k in keys]
    accuracies = [k for k in ACCURACIES if k in keys]
    phased = any(len(phase_spans(c)) > 1 for _, c in runs)
    if supcon:
        st.plotly_chart(epoch_chart(runs, supcon, "Supervised contrastive loss per epoch (encoder phase)",
                                    "SupCon loss"), width="stretch")
    if losses:
        st.plotly_chart(epoch_chart(runs, losses, "Classification loss per epoch", "cross-entropy"),
                        width="stretch")
    if accuracies:
        st.plotly_chart(accuracy_chart(runs, accuracies), width="stretch")
    if phased:
        st.caption(texts.HISTORY_SUPCON_PHASES)
    st.caption(texts.HISTORY_DETECTOR_CURVES)
    if "lr" in keys:
        st.plotly_chart(learning_rate_chart(runs), width="stretch")
        restarts = any("head" in phases_with(c, "lr") for _, c in runs)  # an SGD head; a closed-form fit has no rate
        st.caption("AdamW's learning rate, decayed along a cosine over each phase's planned epochs"
                   + (" (SupCon's head phase starts again from the full rate)." if restarts else "."))


def evaluation_section(training: dict, name: str | None = None) -> None:
    """ROC curves, confusion matrices and the figures of every test set in training.json's evaluation."""
    entries = evaluation_entries(training)
    st.subheader("Evaluation")
    if not entries and name and not registry.is_faces(name):  # the art detector: judged by its trainer, on art
        st.caption(f"{name} judges {registry.SUBJECT_WORDS.get(registry.get_spec(name).subject, 'another subject')}, "
                   "not faces, so `train.evaluate` (the face sources) does not apply: its held-out figures, beside "
                   "the GAN's own discriminator, are under *Detectors side by side*, **Abstract art**, below.")
        return
    if not entries:
        st.info("This detector's training.json has no evaluation yet: `python -m train.evaluate` adds it.")
        return
    # side by side where both fit, the matrices under the ROC chart on a narrow page
    roc_col, confusion_col = panes((440, 3), (300, 2), key="evaluation")
    with roc_col:
        fig = roc_chart(entries, "ROC curves on the test sets", COLORS)
        if fig is None:
            st.info("No test set in the evaluation recorded a ROC curve.")
        else:
            st.plotly_chart(fig, width="stretch")
            st.caption(texts.HISTORY_ROC)
    with confusion_col:
        for label, entry in entries.items():
            counts = confusion_counts(entry)
            if counts is not None:
                st.plotly_chart(confusion_chart(label, counts), width="stretch")
        st.caption("Counts of test crops at the 0.5 threshold (in brackets: the share of that true class).")
    table = evaluation_table(training)
    st.dataframe(table, hide_index=True, width="stretch", column_config={  # as in the model card's table
        heading: st.column_config.NumberColumn(heading, format="%.4f") for heading in EVALUATION_FIGURES.values()
    })
    ensembles = [f"{label}: accuracy {e['ensemble']['accuracy']:.1%}, AUC {e['ensemble']['auc']:.4f}"
                 for label, e in entries.items()
                 if isinstance(e.get("ensemble"), dict) and {"accuracy", "auc"} <= set(e["ensemble"])]
    st.caption(
        accuracy_sentence(training, entries) + " " + texts.HISTORY_TEST_TERMS
        + (" All detectors together (the fitted ensemble): " + "; ".join(ensembles) + "." if ensembles else "")
    )
    per_source_section(training)


def accuracy_sentence(training: dict, entries: dict) -> str:
    """Why the table's accuracy is not the model card's: both at the 0.5 threshold, weighted differently."""
    heading = EVALUATION_FIGURES["accuracy"]
    text = f"{heading}: each test crop counts once, at the 0.5 threshold."
    val = training.get("val_accuracy")
    if not isinstance(val, (int, float)):
        return text
    val_count = sum((r or {}).get("count") or 0 for r in (training.get("val_by_source") or {}).values())
    same = [label for label, e in entries.items() if val_count and e.get("count") == val_count]
    where = (f"the same {val_count:,} validation crops as the {same[0]} row" if same
             else "the validation crops")
    return (text + f" The model card's {VAL_ACCURACY_LABEL.lower()}, {val:.1%}, is on {where}, also at 0.5, but "
            "weighs real and GAN-made photos half each and balances the sources within each half, as training "
            "did; the two differ because each source's share of the crops differs from its weight.")


def per_source_section(training: dict) -> None:
    """Where the detectors were tested, source by source, as train.evaluate recorded it."""
    rec = source_evaluation(training)
    if rec is None:
        return
    label, per_source = rec
    st.subheader("Source by source")
    source_dataframe(per_source, width="stretch")
    st.caption(f"{label}: " + limits_sentences(per_source) + " Verdicts are the ensemble's, with the app's "
               "uncertain band; for a real source, \"called GAN-made\" is the false-alarm rate.")


def model_card_facts(facts: dict[str, str], explanation: str) -> None:
    """The model card's facts as metric tiles in a row that wraps, each as wide as its figure (in a
    fixed quarter column they were cut to "100% / 1..." or broken a word a line at 800 px), the hardware
    as a caption, and what the figures mean."""
    st.subheader("Model card")
    hardware = facts.pop("Hardware", None)
    diffaug = facts.pop("DiffAugment", None)  # too long for a tile
    with st.container(horizontal=True, gap="medium"):
        for label, value in facts.items():
            st.metric(label, value, help=VAL_ACCURACY_HELP if label == VAL_ACCURACY_LABEL else None,
                      width="content")
    if hardware:
        st.caption(f"Trained on {hardware}.")
    if diffaug:
        st.caption(f"The discriminator saw every batch, real and fake, through DiffAugment ({diffaug}): "
                   "random changes that keep it from learning a small data set by heart.")
    st.caption(explanation)


def detector_view(name: str, columns: dict, compare: str | None, other: dict | None,
                  training: dict) -> None:
    phases = ", ".join(f"{PHASE_NAMES.get(p, p)} {int(a)}–{int(b)}" if a != b else f"{PHASE_NAMES.get(p, p)} {int(a)}"
                       for p, a, b in phase_spans(columns))
    if closed_form(training):
        st.caption(f"{registry.get_spec(name).title}, from `weights/{name}/`: its head was fitted in closed form "
                   "(a logistic regression on the frozen backbone's features of every training crop), so there are "
                   "no epochs to chart. The fit: train loss "
                   f"{columns['train_loss'][-1]:.3f}, validation loss {columns['val_loss'][-1]:.3f}, validation "
                   f"accuracy {columns['val_acc'][-1]:.1%} (sources weighing alike).")
    else:
        st.caption(f"{registry.get_spec(name).title}: one row per epoch of training, from `weights/{name}/`. "
                   f"{len(columns['epoch'])} epochs ({phases}).")
    charts_col, facts_col = panes((480, 3), (250, 1), key="charts-and-card")
    with facts_col:
        model_card_facts(detector_facts(training),
                         texts.HISTORY_FIT_FACTS if closed_form(training) else texts.HISTORY_DETECTOR_FACTS)
    with charts_col:
        if not closed_form(training):
            detector_charts(name, columns, compare, other)
        else:
            fit_table(columns, training)
            if other is not None:
                st.caption(f"Nothing to overlay **{compare}** on: this detector has no epochs.")
    evaluation_section(training, name)


def fit_table(columns: dict, training: dict) -> None:
    """A closed-form fit's one row, train beside validation, and what it was fitted on."""
    tc = training.get("train_config") or {}
    st.subheader("The fit")
    st.table({"": ["loss (binary cross-entropy)", "accuracy"],
              "training crops": [f"{columns['train_loss'][-1]:.4f}", f"{columns['train_acc'][-1]:.1%}"],
              "validation crops": [f"{columns['val_loss'][-1]:.4f}", f"{columns['val_acc'][-1]:.1%}"]})
    st.caption(f"{tc.get('fit', 'closed form')}, C {tc.get('c')} (larger is weaker regularisation), on the features "
               f"of {', '.join(tc.get('views') or ['clean'])} training crops read up to stage {tc.get('taps')} of the "
               "backbone; every source weighs alike within its class.")


# ----------------------------------------------------------------------------- GANs: per iteration

def gan_view(name: str, folder: Path, columns: dict, compare: str | None, other: dict | None, x_by: str,
             weight: float, training: dict) -> None:
    starts = epoch_boundaries(columns)
    st.caption(
        f"{registry.get_spec(name).title}: every iteration of training, from `weights/{name}/`. "
        f"{len(columns['step']):,} iterations" + (f" over {len(starts)} epochs." if starts else ".")
    )

    charts_col, facts_col = panes((480, 3), (250, 1), key="charts-and-card")
    with facts_col:
        threshold = (training.get("quality") or {}).get("threshold", 0.99)
        model_card_facts(training_facts(training), texts.HISTORY_GAN_FACTS.format(threshold=threshold)
                         if registry.is_faces(name) else texts.HISTORY_ART_FACTS)

    with charts_col:
        gan_charts(name, columns, compare, other, x_by, weight)
    snapshot_section(folder)


def gan_charts(name: str, columns: dict, compare: str | None, other: dict | None, x_by: str, weight: float) -> None:
    """Losses and D's outputs per iteration (a compared run dotted), each explained under its chart."""
    losses, probabilities = split_metrics(metric_names(columns))
    runs = [(name, columns)]
    if other is not None:  # comparable_runs offered only runs with metrics in common
        overlaid = shared_metrics(columns, other)
        runs.append((compare, other))
        losses = [k for k in losses if k in overlaid]
        probabilities = [k for k in probabilities if k in overlaid]
        st.caption(f"Solid: **{name}**; dotted: **{compare}** ({len(other['step']):,} iterations). "
                   f"Showing the metrics both logged, against the {x_by}.")
    if losses:
        st.plotly_chart(metric_chart(runs, losses, weight, "Losses per iteration", "loss", x_by),
                        width="stretch")
        st.caption("Faint: each iteration's value; solid: smoothed. The two losses pull against each other, "
                   "so neither falls steadily as in ordinary training.")
        if "d1" in losses:
            st.caption(texts.HISTORY_LSGAN_LOSSES)
    if probabilities:
        real, fake = ("photo", "faces") if registry.is_faces(name) else ("painting", "pictures")  # D's input, G's
        st.plotly_chart(probability_chart(runs, probabilities, weight, x_by, real=real, fake=fake), width="stretch")
        st.caption(texts.HISTORY_D_OUTPUTS.format(real=real, fake=fake))


def snapshot_section(folder: Path) -> None:
    st.subheader("Fixed-noise snapshots")
    snapshots = dict(snapshot_paths(folder))
    if not snapshots:
        st.info("This model was trained without snapshots.")
        return
    if st.session_state.get(PLAYING_KEY) not in (None, str(folder)):  # another model was playing
        pause()
    playing = st.session_state.get(PLAYING_KEY) == str(folder)
    # a fragment, so each frame reruns the faces and the slider only, not the charts above
    st.fragment(snapshot_player, run_every=PLAY_FRAME_S if playing else None)(snapshots, str(folder), playing)


def play(epochs: list[int], played: str) -> None:
    """Play from the epoch on the slider; from the first when the slider is at the last."""
    if st.session_state.get(PLAYING_KEY) == played:  # a click can reach the server twice: play on
        return
    if st.session_state.get(EPOCH_KEY) == epochs[-1]:
        st.session_state[EPOCH_KEY] = epochs[0]
    st.session_state[PLAYING_KEY] = played
    st.session_state[SHOWN_KEY] = None


def pause() -> None:
    st.session_state[PLAYING_KEY] = None


def snapshot_player(snapshots: dict[int, Path], played: str, timer_on: bool) -> None:
    """The epoch slider, Play/Pause and the faces; while playing, each run shows the next epoch.

    A frame is one run of this fragment (its timer set to PLAY_FRAME_S by snapshot_section), so a
    Pause click is handled at the next frame and the slider always says which epoch is shown.
    """
    epochs = list(snapshots)
    playing = st.session_state.get(PLAYING_KEY) == played
    if playing != timer_on:  # Play or Pause was pressed, or the last epoch shown: (un)set the timer
        st.rerun(scope="app")
    if st.session_state.get(EPOCH_KEY) not in snapshots:  # first visit, or another model's epochs
        st.session_state[EPOCH_KEY] = epochs[-1]
    if playing:
        epoch = st.session_state[EPOCH_KEY]
        if st.session_state.get(SHOWN_KEY) == epoch and epoch != epochs[-1]:  # else: Play, or a drag, set it
            st.session_state[EPOCH_KEY] = epochs[epochs.index(epoch) + 1]
        st.session_state[SHOWN_KEY] = st.session_state[EPOCH_KEY]
        if st.session_state[EPOCH_KEY] == epochs[-1]:
            pause()  # the last frame stays up for one frame; the next one stops the timer
            playing = False

    image_col, controls_col = st.columns([2, 1], gap="large")
    with controls_col:
        chosen = st.select_slider("Epoch", epochs, key=EPOCH_KEY)
        if playing:
            st.button("Pause", icon=":material/pause:", on_click=pause, help="Stop at the epoch shown.")
        else:
            st.button("Play", icon=":material/play_arrow:", on_click=play, args=(epochs, played),
                      help="Step through the epochs from the one on the slider (from the first when it is at "
                           "the last).")
        st.caption("The same 16 latent vectors after each epoch, so you watch the generator learn.")
    with image_col, Image.open(snapshots[chosen]) as img:
        show_image(np.asarray(img.convert("RGB")), caption=f"Epoch {chosen} of {epochs[-1]}")


def training_record(folder: Path) -> dict:
    return read_json(folder / "training.json", {}) or {}


def model_card(folder: Path) -> None:
    """The full README.md model card, behind an expander."""
    readme = folder / "README.md"
    if readme.exists():
        with st.expander("Full model card (README.md)", icon=":material/description:"):
            st.markdown(strip_front_matter(readme.read_text()))
