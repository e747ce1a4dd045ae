"""Training History's charts: losses and D's outputs per iteration, a detector's figures per epoch, and
confusion matrices. Each run is a (model name, history columns) pair as core.models.history reads them."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from core.models.history import CONFUSION_LABELS, PHASE_NAMES, display_name, phase_spans, smooth_ema, x_values

COLORS = qualitative.Plotly
RAW_OPACITY = 0.25  # raw per-iteration values are noisy: faint behind the smoothed trend
# A compared run is drawn dotted in the same colours, so each metric keeps one colour.
RUN_DASHES = ("solid", "dot")
LEGEND_ABOVE = {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0}
LEGEND_BELOW = {"orientation": "h", "yanchor": "top", "y": -0.22, "xanchor": "left", "x": 0.0}

Run = tuple[str, dict[str, np.ndarray]]


def line(x, y, name: str, color: str, epoch, group: str, raw: bool, dash: str = "solid",
         x_label: str = "iteration %{x}") -> go.Scatter:
    return go.Scatter(
        x=x, y=y, name=f"{name} (raw)" if raw else name, mode="lines", legendgroup=group,
        line={"color": color, "width": 1 if raw else 2, "dash": dash}, opacity=RAW_OPACITY if raw else 1.0,
        showlegend=not raw, customdata=epoch, hoverinfo="skip" if raw else None,
        hovertemplate=None if raw else f"{name}: %{{y:.3f}}<br>{x_label}, epoch %{{customdata}}<extra></extra>",
    )


def run_label(key: str, run_name: str, runs: list[Run]) -> str:
    """The metric's name, and the run's when more than one is drawn."""
    return display_name(key) + (f" · {run_name}" if len(runs) > 1 else "")


def metric_chart(runs: list[Run], keys: list[str], weight: float, title: str, y_title: str,
                 x_by: str = "iteration") -> go.Figure:
    """Raw and smoothed curves of `keys` for each (model name, columns) run; names in the legend when 2+."""
    fig = go.Figure()
    for run_index, (run_name, columns) in enumerate(runs):
        x = x_values(columns, x_by)
        epoch = columns.get("epoch", np.full(len(x), np.nan))
        x_label = "epoch %{x:.2f}" if x_by == "epoch" else "iteration %{x}"
        for i, key in enumerate(keys):
            color = COLORS[i % len(COLORS)]
            label = run_label(key, run_name, runs)
            group = f"{run_name}/{key}"
            dash = RUN_DASHES[run_index % len(RUN_DASHES)]
            fig.add_trace(line(x, columns[key], label, color, epoch, group, True, dash, x_label))
            fig.add_trace(line(x, smooth_ema(columns[key], weight), label, color, epoch, group, False, dash, x_label))
    # two entries fit above the plot beside a long title even at 800 px; three or more go below it
    above = len(runs) * len(keys) <= 2
    fig.update_layout(title=title, xaxis_title=x_by, yaxis_title=y_title, hovermode="x unified",
                      legend=LEGEND_ABOVE if above else LEGEND_BELOW, margin={"t": 80, "b": 40 if above else 110})
    return fig


def probability_chart(runs: list[Run], keys: list[str], weight: float, x_by: str = "iteration",
                      real: str = "photo", fake: str = "faces") -> go.Figure:
    """D's probabilities of 'real' per iteration on a 0-1 axis, with the 0.5 line where D cannot tell; `real`
    and `fake` name what D is shown and what G makes."""
    fig = metric_chart(runs, keys, weight, f"Discriminator outputs: real {real}s vs generated {fake}",
                       "D's probability of 'real'", x_by)
    fig.update_yaxes(range=[0, 1])
    fig.add_hline(y=0.5, line_dash="dash", line_color="gray", annotation_text="0.5: D cannot tell",
                  annotation_position="bottom right")
    return fig


# ----------------------------------------------------------------------------- detectors: per epoch

def phase_hover(columns: dict[str, np.ndarray]) -> np.ndarray:
    """Per row: (phase in words, the epoch as logged in that phase), for the hover text."""
    epochs = [f"{e:.0f}" if np.isfinite(e) else "?" for e in columns["phase_epoch"]]
    names = [PHASE_NAMES.get(p, p) for p in columns["phase"]]
    return np.array(list(zip(names, epochs, strict=True)), dtype=object)


def with_phase_gaps(columns: dict[str, np.ndarray], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, hover) of `key` with a gap where a phase ends, so no line joins two phases."""
    x, y, hover = columns["epoch"], columns[key], phase_hover(columns)
    cuts = [int(np.searchsorted(x, start)) for _, start, _ in phase_spans(columns)[1:]]
    if not cuts:
        return x, y, hover
    return (np.insert(x, cuts, x[cuts] - 0.5), np.insert(y, cuts, np.nan),
            np.insert(hover, cuts, ("", ""), axis=0))


def add_phase_lines(fig: go.Figure, columns: dict[str, np.ndarray], run_name: str, run_index: int,
                    n_runs: int) -> None:
    """A vertical line where each later phase of the run begins, named in an annotation."""
    who = f" ({run_name})" if n_runs > 1 else ""
    for phase, start, _ in phase_spans(columns)[1:]:
        fig.add_vline(x=start - 0.5, line_dash="dash" if run_index == 0 else "dot", line_color="gray",
                      annotation_text=f"{PHASE_NAMES.get(phase, phase)} starts{who}",
                      annotation_position="top left")


def epoch_chart(runs: list[Run], keys: list[str], title: str, y_title: str, y_format: str = ".3f") -> go.Figure:
    """`keys` per epoch for each (model name, columns) run, the phases marked; a compared run dotted."""
    fig = go.Figure()
    last_epoch = 1.0
    for run_index, (run_name, columns) in enumerate(runs):
        last_epoch = max(last_epoch, float(columns["epoch"][-1]))
        dash = RUN_DASHES[run_index % len(RUN_DASHES)]
        for i, key in enumerate(keys):
            label = run_label(key, run_name, runs)
            x, y, hover = with_phase_gaps(columns, key)
            fig.add_trace(go.Scatter(
                x=x, y=y, name=label, mode="lines+markers", customdata=hover,
                line={"color": COLORS[i % len(COLORS)], "width": 2, "dash": dash}, marker={"size": 5},
                hovertemplate=f"{label}: %{{y:{y_format}}}<br>epoch %{{x}} (%{{customdata[0]}} epoch "
                              "%{customdata[1]})<extra></extra>",
            ))
        add_phase_lines(fig, columns, run_name, run_index, len(runs))
    fig.update_xaxes(range=[0.5, last_epoch + 0.5], dtick=1 if last_epoch <= 20 else None)
    fig.update_layout(title=title, xaxis_title="epoch (over the whole run)", yaxis_title=y_title,
                      hovermode="x unified", height=340, legend=LEGEND_ABOVE, margin={"t": 80, "b": 40})
    return fig


def accuracy_chart(runs: list[Run], keys: list[str]) -> go.Figure:
    fig = epoch_chart(runs, keys, "Accuracy per epoch", "accuracy", y_format=".2%")
    values = np.concatenate([np.asarray(c[k], dtype=float) for _, c in runs for k in keys if k in c] or [np.zeros(0)])
    values = values[np.isfinite(values)]
    narrow = values.size > 0 and values.max() - values.min() < 0.05  # whole percents would repeat one label
    fig.update_yaxes(tickformat=".1%" if narrow else ".0%")
    return fig


def learning_rate_chart(runs: list[Run]) -> go.Figure:
    """The optimiser's learning rate per epoch: a short chart, its legend only when runs are compared."""
    fig = epoch_chart(runs, ["lr"], "Learning rate", "learning rate", y_format=".2e")
    fig.update_yaxes(tickformat=".1e", rangemode="tozero")
    fig.update_layout(height=260, showlegend=len(runs) > 1)
    return fig


def confusion_chart(label: str, counts: np.ndarray) -> go.Figure:
    """Counts (and the share of each true class) at the 0.5 threshold; rows true, columns judged."""
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    text = [[f"{counts[r, c]:,}<br>({shares[r, c]:.1%})" for c in range(2)] for r in range(2)]
    fig = go.Figure(go.Heatmap(
        z=shares, x=list(CONFUSION_LABELS), y=list(CONFUSION_LABELS), text=text, texttemplate="%{text}",
        colorscale="Blues", zmin=0, zmax=1, showscale=False,
        hovertemplate="true %{y}, judged %{x}: %{text}<extra></extra>",
    ))
    fig.update_traces(textfont={"size": 13})  # left to itself Plotly shrank the counts to fit a narrow cell (6 px)
    fig.update_yaxes(autorange="reversed", title="true")
    fig.update_xaxes(title="judged", side="bottom", tickangle=0)
    fig.update_layout(title=label, height=300, margin={"t": 50, "b": 40, "l": 80, "r": 20})
    return fig
