"""The Detect page's charts (plain Plotly, no Streamlit): a bar per detector, a crop's Grad-CAM map, and
its spectrum."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.detection.judge import UNCERTAIN_BAND


def verdict_chart(probabilities: dict[str, float], weights: dict[str, float], ensemble: float,
                  ensemble_colour: str) -> go.Figure:
    """A bar per detector (grey, its weight in the label) and the ensemble's (in the verdict's colour),
    with the uncertain band shaded."""
    names = [f"{n} (weight {weights.get(n, 0):.2g})" for n in probabilities] + ["ensemble"]
    probs = list(probabilities.values()) + [ensemble]
    fig = go.Figure(go.Bar(
        # a value beyond the plot area may run into the right margin: clipped at the axis, "100%" read "10(" in
        # a narrow column
        x=probs, y=names, orientation="h", text=[f"{p:.0%}" for p in probs], textposition="outside", cliponaxis=False,
        marker_color=["#9e9e9e"] * len(probabilities) + [ensemble_colour],
        hovertemplate="%{y}: P(GAN-made) = %{x:.3f}<extra></extra>",
    ))
    # the band's name sits in the top margin, above the plot area: inside it, it covered the value of a
    # top bar that ends in the band
    fig.add_vrect(x0=UNCERTAIN_BAND[0], x1=UNCERTAIN_BAND[1], fillcolor="orange", opacity=0.12, line_width=0,
                  annotation=dict(text="uncertain", y=1, yanchor="bottom", font_color="#8a5a00"),
                  annotation_position="top")
    fig.update_layout(xaxis=dict(range=[0, 1.1], title="probability that the face is GAN-made", tickformat=".0%"),
                      yaxis=dict(autorange="reversed"), height=100 + 34 * len(names), margin=dict(l=10, r=40, t=30, b=50),
                      showlegend=False)
    return fig


CAM_COLOURS = "Turbo"  # Grad-CAM's usual key: blue where the map is weak, through green and yellow, to red


def gradcam_chart(crop: np.ndarray, cam: np.ndarray) -> go.Figure:
    """The crop beside its Grad-CAM map (`cam`, (S, S) in [0, 1]) laid over a grey copy of it, so the only
    colours in the second panel are the map's, with a colour bar as its key."""
    from plotly.subplots import make_subplots

    grey = np.asarray(crop, dtype=float) @ np.array([0.299, 0.587, 0.114])
    grey = np.repeat(grey[..., None], 3, axis=-1).astype(np.uint8)
    fig = make_subplots(1, 2, horizontal_spacing=0.03, subplot_titles=("the crop", "where the CNN looked (Grad-CAM)"))
    fig.add_trace(go.Image(z=crop, hoverinfo="skip"), 1, 1)
    fig.add_trace(go.Image(z=grey, hoverinfo="skip"), 1, 2)
    fig.add_trace(go.Heatmap(
        z=np.asarray(cam, dtype=float), zmin=0, zmax=1, colorscale=CAM_COLOURS, opacity=0.6, zsmooth="best",
        hovertemplate="pull toward GAN-made: %{z:.0%} of the strongest<extra></extra>",
        colorbar=dict(title=dict(text="pull toward<br>GAN-made", side="top"), tickvals=[0, 0.5, 1],
                      ticktext=["none", "half", "strongest"], thickness=12, len=0.9),
    ), 1, 2)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=280, margin=dict(l=0, r=0, t=24, b=0))
    fig.update_annotations(font_size=13)
    return fig


def spectrum_bins(n_bins: int) -> np.ndarray:
    """Where each radial bin after the constant one sits on the chart's frequency axis (1 = the finest)."""
    return (np.arange(1, n_bins) + 0.5) / n_bins


def spectrum_chart(spectra: dict, own: np.ndarray) -> go.Figure:
    """A crop's radial spectrum (`own`) and the GAN training faces' mean, each relative to the mean of the
    real training faces (`spectra` as train.detector stores it: {"real": [...], "fake": [...]})."""
    real, fake, own = (np.asarray(v)[1:] for v in (spectra["real"], spectra["fake"], own))
    freq = spectrum_bins(len(own) + 1)  # the constant (DC) bin is left out: it only says how bright the crop is
    fig = go.Figure()
    # the real mean is a legend entry, not a label on the chart: a label at 0 sat on the curves
    fig.add_scatter(x=freq, y=np.zeros_like(freq), name="real training faces (mean)", hoverinfo="skip",
                    line=dict(color="green", width=2))
    fig.add_scatter(x=freq, y=fake - real, name="GAN training faces (mean)", line=dict(color="red", width=2))
    fig.add_scatter(x=freq, y=own - real, name="this crop", line=dict(color="black", width=3))
    fig.update_layout(xaxis_title="spatial frequency (1 = the finest)",
                      yaxis_title="power vs real faces (log10)", height=300, margin=dict(l=10, r=10, t=10, b=10),
                      legend=dict(orientation="h", y=-0.3))
    return fig


def spectrum_stretches(spectra: dict, min_bins: int = 3) -> list[tuple[float, float, int]]:
    """Where the GAN training faces' mean spectrum lies above (+1) or below (-1) the real faces' mean, as
    (first, last, sign) on the chart's frequency axis, bin centres; stretches shorter than `min_bins`
    bins are left out (the last bin also holds the square's corners and can flick alone)."""
    real, fake = (np.asarray(v, dtype=float)[1:] for v in (spectra["real"], spectra["fake"]))
    freq = spectrum_bins(len(real) + 1)
    signs = np.sign(fake - real).astype(int)
    out, start = [], 0
    for i in range(1, len(signs) + 1):
        if i == len(signs) or signs[i] != signs[start]:
            if signs[start] and i - start >= min_bins:
                out.append((float(freq[start]), float(freq[i - 1]), int(signs[start])))
            start = i
    return out


def spectrum_summary(spectra: dict) -> str:
    """Where the red line (the GAN faces' mean) runs above and below 0, left to right, in words, read from
    the stored spectra."""
    said, seen = [], set()
    for a, b, sign in spectrum_stretches(spectra):
        side = "above 0" if sign > 0 else "below 0"
        gloss = " again" if sign in seen else " (more power than real photos)" if sign > 0 else " (less power)"
        seen.add(sign)
        said.append(f"{side}{gloss} from {a:.2f} to {b:.2f}")
    if not said:
        return "close to 0 all along"
    return said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]
