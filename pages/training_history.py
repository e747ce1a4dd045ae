"""Training History: how a model's losses, D's verdicts and fixed-noise faces changed while it trained."""

import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image
from plotly.colors import qualitative

from core import registry
from core.history import (
    HISTORY_FILE,
    X_AXES,
    display_name,
    epoch_boundaries,
    load_history,
    metric_names,
    shared_metrics,
    smooth_ema,
    snapshot_paths,
    split_metrics,
    strip_front_matter,
    training_facts,
    x_values,
)
from core.store import read_json
from ui.nav import ensure_app_navigation
from ui.widgets import show_image

ensure_app_navigation()

COLORS = qualitative.Plotly
RAW_OPACITY = 0.25  # raw per-iteration values are noisy: faint behind the smoothed trend
PLAY_FRAME_S = 0.25


def record_folder(name: str) -> Path:
    # The record (history, snapshots, card) ships in the bundled folder; the Hub copy holds only
    # the files needed to load the weights (registry.MODEL_FILES), so this page does not load the model.
    return registry.get_spec(name).bundled_dir


@st.cache_data(show_spinner=False, max_entries=16)
def cached_history(path: str, mtime: float) -> dict[str, np.ndarray]:
    """Columns of a history.jsonl; the mtime in the key makes a retrained model's new log show up."""
    return load_history(Path(path).parent)


def line(x, y, name: str, color: str, epoch, group: str, raw: bool, dash: str = "solid",
         x_label: str = "iteration %{x}") -> go.Scatter:
    return go.Scatter(
        x=x, y=y, name=f"{name} (raw)" if raw else name, mode="lines", legendgroup=group,
        line={"color": color, "width": 1 if raw else 2, "dash": dash}, opacity=RAW_OPACITY if raw else 1.0,
        showlegend=not raw, customdata=epoch, hoverinfo="skip" if raw else None,
        hovertemplate=None if raw else f"{name}: %{{y:.3f}}<br>{x_label}, epoch %{{customdata}}<extra></extra>",
    )


# A compared run is drawn dotted in the same colours, so each metric keeps one colour.
RUN_DASHES = ("solid", "dot")


def metric_chart(runs: list[tuple[str, dict]], keys: list[str], weight: float, title: str, y_title: str,
                 x_by: str = "iteration") -> go.Figure:
    """Raw and smoothed curves of `keys` for each (model name, columns) run; names in the legend when 2+."""
    fig = go.Figure()
    for run_index, (run_name, columns) in enumerate(runs):
        x = x_values(columns, x_by)
        epoch = columns.get("epoch", np.full(len(x), np.nan))
        x_label = "epoch %{x:.2f}" if x_by == "epoch" else "iteration %{x}"
        for i, key in enumerate(keys):
            color = COLORS[i % len(COLORS)]
            label = display_name(key) + (f" · {run_name}" if len(runs) > 1 else "")
            group = f"{run_name}/{key}"
            dash = RUN_DASHES[run_index % len(RUN_DASHES)]
            fig.add_trace(line(x, columns[key], label, color, epoch, group, True, dash, x_label))
            fig.add_trace(line(x, smooth_ema(columns[key], weight), label, color, epoch, group, False, dash, x_label))
    fig.update_layout(title=title, xaxis_title=x_by, yaxis_title=y_title, hovermode="x unified",
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
                      margin={"t": 80, "b": 40})
    return fig


def read_columns(model: str) -> dict[str, np.ndarray] | None:
    """A model's history columns, or None after saying on the page why they cannot be read."""
    path = record_folder(model) / HISTORY_FILE
    try:
        return cached_history(str(path), path.stat().st_mtime)
    except (OSError, ValueError) as err:
        st.error(f"Cannot read the training history of **{model}**: {err}")
        return None


def comparable_runs(name: str, columns: dict[str, np.ndarray], candidates: list[str]) -> list[str]:
    """The other models whose history shares a metric with `name`'s (unreadable ones are left out quietly)."""
    found = []
    for other_name in candidates:
        if other_name == name:
            continue
        path = record_folder(other_name) / HISTORY_FILE
        try:
            other_columns = cached_history(str(path), path.stat().st_mtime)
        except (OSError, ValueError):
            continue
        if shared_metrics(columns, other_columns):
            found.append(other_name)
    return found


st.title("Training History")
with_history = [n for n in registry.names() if (record_folder(n) / HISTORY_FILE).exists()]
if not with_history:
    st.info("No model has a training history yet: `train/` writes history.jsonl beside the weights.")
    st.stop()

requested = st.query_params.get("model")  # read before the bound selectbox drops a value it does not offer
with st.sidebar:
    name = st.selectbox("Model", with_history, key="model", bind="query-params",
                        help="\n".join(f"- **{n}**: {registry.get_spec(n).title}" for n in with_history))
    weight = st.slider("Smoothing", 0.0, 0.99, 0.9, 0.01, key="smoothing",
                       help="Exponential moving average, as in TensorBoard: 0 shows the raw values, "
                            "higher values show the trend under the iteration-to-iteration noise.")

if requested and requested != name and requested in registry.names():
    st.info(f"**{requested}** has no training history to show (no {HISTORY_FILE} in its folder); "
            f"showing **{name}**.")
folder = record_folder(name)
columns = read_columns(name)
if columns is None:
    st.stop()

with st.sidebar:
    others = comparable_runs(name, columns, with_history)
    if others:
        compare = st.selectbox("Compare with", [None, *others], key="compare",
                               format_func=lambda n: "nothing" if n is None else n,
                               help="Overlay a second model's curves (dotted) on the same charts. Offered: "
                                    "models whose history logs some of the same metrics.")
        x_by = st.radio("Line runs up by", X_AXES, key="x_by", horizontal=True, disabled=compare is None,
                        help="Iterations, or epochs (passes over the data): runs with different batch sizes "
                             "are as far into training at the same epoch, not at the same iteration.")
    else:
        compare, x_by = None, "iteration"
        st.caption(f"**Compare runs:** nothing to compare with yet. No other model's training history logs "
                   f"the metrics {name} does; a second run of the same kind appears here, to overlay on the "
                   "same charts.")
other = read_columns(compare) if compare else None
x_by = x_by if other is not None else "iteration"
training = read_json(folder / "training.json", {}) or {}
losses, probabilities = split_metrics(metric_names(columns))
starts = epoch_boundaries(columns)
st.caption(
    f"{registry.get_spec(name).title}: every iteration of training, from `weights/{name}/`. "
    f"{len(columns['step']):,} iterations" + (f" over {len(starts)} epochs." if starts else ".")
)

charts_col, facts_col = st.columns([3, 1], gap="large")
with facts_col:
    st.subheader("Model card")
    facts = training_facts(training)
    hardware = facts.pop("Hardware", None)
    # one tile a row: two side by side truncate values like "100% / 100%" in a quarter-width column
    for label, value in facts.items():
        st.metric(label, value)
    if hardware:
        st.caption(f"Trained on {hardware}.")
    st.caption("Faces found: share of samples where the MTCNN detector finds a face (p >= 0.9). "
               "Diversity: mean pairwise pixel distance relative to real photos (1 = as varied). "
               "Near-copies: samples closer to a training photo than 99% of training photos are to each other.")

with charts_col:
    runs = [(name, columns)]
    if other is not None:  # comparable_runs offered only runs with metrics in common
        overlaid = shared_metrics(columns, other)
        runs.append((compare, other))
        losses = [k for k in losses if k in overlaid]
        probabilities = [k for k in probabilities if k in overlaid]
        st.caption(f"Solid: **{name}**; dotted: **{compare}** ({len(other['step']):,} iterations). "
                   f"Showing the metrics both logged, against the {x_by}.")
    if losses:
        st.plotly_chart(metric_chart(runs, losses, weight, "Losses per iteration", "loss", x_by), width="stretch")
        st.caption("Faint: each iteration's value; solid: smoothed. The two losses pull against each other, "
                   "so neither falls steadily as in ordinary training.")
    if probabilities:
        fig = metric_chart(runs, probabilities, weight, "Discriminator outputs: real photos vs generated faces",
                           "D's probability of 'real'", x_by)
        fig.update_yaxes(range=[0, 1])
        fig.add_hline(y=0.5, line_dash="dash", line_color="gray", annotation_text="0.5: D cannot tell",
                      annotation_position="bottom right")
        st.plotly_chart(fig, width="stretch")
        st.caption(
            "D(x) is the discriminator's probability that a real photo is real; D(G(z)) the same for generated "
            "faces, before and after D's update in the same iteration. D(x) near 1 and D(G(z)) near 0 means D "
            "is winning; both drifting toward 0.5 is the equilibrium the game aims at. Spikes in Loss_G early "
            "on are normal: D learns faster at first."
        )

st.subheader("Fixed-noise snapshots")
snapshots = dict(snapshot_paths(folder))
if not snapshots:
    st.info("This model was trained without snapshots.")
else:
    epochs = list(snapshots)
    image_col, controls_col = st.columns([2, 1], gap="large")
    with controls_col:
        chosen = st.select_slider("Epoch", epochs, value=epochs[-1], key="snapshot_epoch")
        play = st.button("Play", icon=":material/play_arrow:", help="Step through every epoch from the first.")
        st.caption("The same 16 latent vectors after each epoch, so you watch the generator learn.")
    with image_col:
        frame = st.empty()

    def show(epoch: int) -> None:
        with Image.open(snapshots[epoch]) as img:
            show_image(np.asarray(img.convert("RGB")), caption=f"Epoch {epoch} of {epochs[-1]}", container=frame)

    if play:
        for epoch in epochs:
            show(epoch)
            time.sleep(PLAY_FRAME_S)
    else:
        show(chosen)

readme = folder / "README.md"
if readme.exists():
    with st.expander("Full model card (README.md)", icon=":material/description:"):
        st.markdown(strip_front_matter(readme.read_text()))
