"""The Live GAN's charts (plain Plotly, no Streamlit): the points over D's surface, G's gradient arrows and
noise grid, and the loss and D-output curves."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from core.gan.toygan import (
    EXTENT,
    LOG_LOSS,
    ToyGANTrainer,
)

MAX_CURVE_POINTS = 2_000  # longer loss curves are thinned for drawing (every k-th step)
SURFACE_RESOLUTION = 80
# D's probability of "real": red (generated) - white (0.5, cannot tell) - blue (real)
SURFACE_COLORS = [[0.0, "#c62828"], [0.5, "#ffffff"], [1.0, "#1565c0"]]
REAL_COLOR, FAKE_COLOR = "#1f1b2e", "#ffb300"
CURVE_COLORS = qualitative.Plotly  # as on Training History: blue, red; two blues would hide one curve
ARROW_POINTS = 250  # G's gradient drawn on this many of the gold points: all 1,000 arrows hide the points
ARROW_MAX_LEN = 0.45  # the longest arrow, in plot units (the plot is 2 * EXTENT = 6 wide); the rest in proportion
ARROW_COLOR, GRID_COLOR = "#4e342e", "rgba(40, 40, 40, 0.6)"
OFF_CHART_NAME = "generated, beyond the edge"
GRID_LINES, GRID_POINTS_PER_LINE = 11, 41


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


def off_chart(points: np.ndarray, extent: float = EXTENT) -> np.ndarray:
    """(n,) bool: which points lie beyond the chart's square [-extent, extent]^2."""
    return (np.abs(np.asarray(points)) > extent).any(axis=1)


def points_chart(trainer: ToyGANTrainer, arrows: bool = False, grid: bool = False) -> go.Figure:
    """D's surface, the real points and the gold points; gold points beyond the chart are pinned to its edge
    as open circles (a "G only" run can send all of them there), so the chart never goes blank without a sign."""
    axis, probs = trainer.decision_surface(SURFACE_RESOLUTION)
    real, fake = trainer.real_points(), trainer.generated_points()
    outside = off_chart(fake)
    fig = go.Figure()
    fig.add_trace(go.Heatmap(
        x=axis, y=axis, z=probs, zmin=0, zmax=1, colorscale=SURFACE_COLORS, name="D(x)",
        colorbar={"title": {"text": "D: P(real)" if trainer.config.loss == LOG_LOSS else "D output,<br>clipped"},
                  "len": 0.8},
        hovertemplate="D = %{z:.2f} at (%{x:.2f}, %{y:.2f})<extra></extra>",
    ))
    fig.add_trace(go.Scatter(x=real[:, 0], y=real[:, 1], mode="markers", name="real",
                             marker={"size": 4, "color": REAL_COLOR, "opacity": 0.45}, hoverinfo="skip"))
    inside = fake[~outside]
    fig.add_trace(go.Scatter(x=inside[:, 0], y=inside[:, 1], mode="markers", name="generated",
                             marker={"size": 5, "color": FAKE_COLOR, "line": {"width": 0.5, "color": "#3e2723"}},
                             hoverinfo="skip"))
    if outside.any():  # where each left the chart: its position clipped to the edge, drawn whole on the edge
        pinned = np.clip(fake[outside], -EXTENT, EXTENT)
        fig.add_trace(go.Scatter(x=pinned[:, 0], y=pinned[:, 1], mode="markers", name=OFF_CHART_NAME,
                                 cliponaxis=False, hoverinfo="skip",
                                 marker={"size": 7, "symbol": "circle-open", "color": FAKE_COLOR,
                                         "line": {"width": 1.5}}))
    if grid:  # over the points: behind them, the slice's small image would hide under the gold
        fig.add_trace(grid_trace(trainer))
    if arrows:
        fig.add_trace(arrows_trace(trainer))
    fig.update_xaxes(range=[-EXTENT, EXTENT], constrain="domain")
    fig.update_yaxes(range=[-EXTENT, EXTENT], scaleanchor="x", scaleratio=1, constrain="domain")
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
