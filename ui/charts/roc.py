"""One ROC chart builder for Training History's test sets and its CNN families (plain Plotly, no Streamlit)."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.colors import qualitative

from core.models.history import roc_points


def roc_chart(entries: dict[str, dict], title: str, colors: list[str] | None = None) -> go.Figure | None:
    """A curve for each evaluation entry (label -> entry with its ROC points), AUC in the legend;
    None when no entry holds a curve."""
    colors = colors or qualitative.Plotly
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance (AUC 0.5)", hoverinfo="skip",
                             line={"color": "gray", "dash": "dash", "width": 1}))
    drawn = 0
    for i, (label, entry) in enumerate(entries.items()):
        points = roc_points(entry)
        if points is None:
            continue
        auc = entry.get("auc")
        name = label + (f" (AUC {auc:.4f})" if isinstance(auc, (int, float)) else "")
        fig.add_trace(go.Scatter(x=points[0], y=points[1], mode="lines", name=name, line_shape="hv",
                                 line={"color": colors[i % len(colors)], "width": 2},
                                 hovertemplate="false-positive rate %{x:.3f}<br>true-positive rate %{y:.3f}"
                                               "<extra></extra>"))
        drawn += 1
    if not drawn:
        return None
    fig.update_xaxes(range=[0, 1], constrain="domain")
    # both axes keep their 0-1 ranges and the plot area shrinks to a square: with the y axis left free to
    # stretch, a wide chart ran it from -0.4 to 1.4
    fig.update_yaxes(range=[0, 1.01], scaleanchor="x", scaleratio=1, constrain="domain")
    fig.update_layout(title=title, xaxis_title="false-positive rate (real judged GAN-made)",
                      yaxis_title="true-positive rate (GAN-made caught)", height=460,
                      legend={"yanchor": "bottom", "y": 0.02, "xanchor": "right", "x": 0.98},
                      margin={"t": 60, "b": 40})
    return fig
