"""ui/charts: the Training History figures are plain Plotly, built and checked here without Streamlit."""

import json

import numpy as np
from conftest import ROOT

from core.io.store import write_history
from core.models.history import (
    evaluation_entries,
    load_epoch_history,
    load_history,
    phase_spans,
    phases_with,
)
from ui.charts.history import (
    RAW_OPACITY,
    accuracy_chart,
    confusion_chart,
    epoch_chart,
    learning_rate_chart,
    metric_chart,
    probability_chart,
)
from ui.charts.roc import roc_chart

WEIGHTS = ROOT / "weights"


def test_loss_chart_draws_raw_and_smoothed_curves_per_metric_and_dots_a_compared_run():
    columns = load_history(WEIGHTS / "dcgan-64")
    one = metric_chart([("dcgan-64", columns)], ["Loss_D", "Loss_G"], 0.9, "Losses", "loss")
    assert len(one.data) == 4  # raw + smoothed for each loss
    raw, smooth = one.data[0], one.data[1]
    assert raw.opacity == RAW_OPACITY and not raw.showlegend and smooth.showlegend
    np.testing.assert_array_equal(raw.y, columns["Loss_D"])
    assert np.std(smooth.y) < np.std(raw.y)  # the trend is smoother than the raw values
    assert one.layout.legend.y == 1.0  # two entries fit above the plot
    two = metric_chart([("dcgan-64", columns), ("other", columns)], ["Loss_D", "Loss_G"], 0.9, "Losses", "loss")
    assert {t.line.dash for t in two.data[4:]} == {"dot"} and "· other" in two.data[5].name
    assert two.layout.legend.y < 0  # four entries go below


def test_probability_chart_is_on_a_0_to_1_axis_with_the_chance_line():
    columns = load_history(WEIGHTS / "dcgan-64")
    keys = [k for k in ("D(x)", "D(G(z))") if k in columns]
    fig = probability_chart([("dcgan-64", columns)], keys, 0.9)
    assert tuple(fig.layout.yaxis.range) == (0, 1)
    assert any(s.y0 == 0.5 for s in fig.layout.shapes)


def test_detector_epoch_charts_break_the_line_between_phases(tmp_path):
    # a SupCon run whose head was trained by SGD: both phases have a learning rate
    rows = [{"phase": "encoder", "epoch": e, "step": 10 * e, "train_loss": 5.0 - e / 10, "val_loss": 6.0, "lr": 1e-3 / e}
            for e in (1, 2, 3)]
    rows += [{"phase": "head", "epoch": e, "step": 30 + 5 * e, "train_loss": 0.6, "val_loss": 0.7, "train_acc": 0.7,
              "val_acc": 0.72, "lr": 1e-3 / e} for e in (1, 2)]
    write_history(tmp_path / "history.jsonl", rows)
    columns = load_epoch_history(tmp_path)
    spans = phase_spans(columns)
    assert [p for p, *_ in spans] == ["encoder", "head"]
    fig = learning_rate_chart([("supcon", columns)])
    trace = fig.data[0]
    assert np.isnan(np.asarray(trace.y, dtype=float)).sum() == len(spans) - 1  # one gap per later phase
    assert len(fig.layout.shapes) == len(spans) - 1 and "starts" in fig.layout.annotations[0].text
    assert not fig.layout.showlegend
    acc = accuracy_chart([("supcon", columns)], ["train_acc", "val_acc"])
    assert acc.layout.yaxis.tickformat == ".1%"  # 70% and 72% only: whole percents would repeat labels
    wide = {**columns, "val_acc": np.where(np.isfinite(columns["val_acc"]), 0.9, np.nan)}
    assert accuracy_chart([("supcon", wide)], ["train_acc", "val_acc"]).layout.yaxis.tickformat == ".0%"
    assert [t.name for t in acc.data] == ["train accuracy", "validation accuracy"]
    assert epoch_chart([("supcon", columns)], ["lr"], "t", "y").layout.xaxis.range[0] == 0.5


def test_the_bundled_supcon_logs_its_encoder_epochs_then_its_heads_one_fit():
    columns = load_epoch_history(WEIGHTS / "supcon")
    spans = phase_spans(columns)
    assert [p for p, *_ in spans] == ["encoder", "head"]
    head = columns["phase"] == "head"
    if head.sum() == 1:  # refitted in closed form (train.detector --encoder): no learning rate, one point
        assert np.isnan(columns["lr"][head]).all() and np.isfinite(columns["val_acc"][head]).all()
        assert phases_with(columns, "lr") == ["encoder"] and phases_with(columns, "val_acc") == ["head"]


def test_confusion_chart_shows_counts_and_row_shares():
    fig = confusion_chart("val", np.array([[90, 10], [5, 95]]))
    z = np.asarray(fig.data[0].z)
    np.testing.assert_allclose(z.sum(axis=1), [1, 1])
    assert fig.data[0].text[0][1] == "10<br>(10.0%)"


def test_roc_chart_draws_each_recorded_curve_with_its_auc_and_none_without_curves():
    training = json.loads((WEIGHTS / "cnn" / "training.json").read_text())
    entries = evaluation_entries(training)
    fig = roc_chart(entries, "ROC")
    curves = [t for t in fig.data if not t.name.startswith("chance")]
    assert curves and all("AUC 0." in t.name or "AUC 1." in t.name for t in curves)
    assert roc_chart({"no curve": {"auc": 0.9}}, "ROC") is None


def test_verdict_chart_has_a_bar_per_detector_then_the_ensemble_and_shades_the_uncertain_band():
    from core.detection.judge import UNCERTAIN_BAND
    from ui.charts.detect import verdict_chart

    fig = verdict_chart({"cnn": 0.9, "probe": 0.2}, {"cnn": 0.4, "probe": 0.6}, 0.41, "orange")
    bar = fig.data[0]
    assert list(bar.y) == ["cnn (weight 0.4)", "probe (weight 0.6)", "ensemble"]
    assert list(bar.x) == [0.9, 0.2, 0.41] and list(bar.text) == ["90%", "20%", "41%"]
    assert list(bar.marker.color) == ["#9e9e9e", "#9e9e9e", "orange"]
    band = fig.layout.shapes[0]
    assert (band.x0, band.x1) == UNCERTAIN_BAND


def test_uncertain_label_sits_above_the_bars_so_it_never_covers_a_value():
    """Bar values are drawn inside the plot area, beside their bars; the band's name stands on the plot
    area's top edge, in the margin, so a top bar ending in the band (46%) keeps its value readable."""
    from ui.charts.detect import verdict_chart

    fig = verdict_chart({"lstm": 0.46, "cnn": 0.41}, {"lstm": 0.5, "cnn": 0.5}, 0.44, "orange")
    (label,) = fig.layout.annotations
    assert label.text == "uncertain"
    assert label.yref == "y domain" and label.y == 1 and label.yanchor == "bottom"  # on top of the plot area
    assert fig.layout.margin.t >= 20  # room for one line of text there
    assert fig.data[0].textposition == "outside" and fig.data[0].orientation == "h"  # values beside the bars


def test_spectrum_chart_is_relative_to_the_real_mean_without_the_constant_bin():
    from ui.charts.detect import spectrum_chart

    spectra = {"real": [9.0, 1.0, 2.0, 3.0], "fake": [9.0, 1.0, 1.5, 2.0]}
    fig = spectrum_chart(spectra, np.array([5.0, 1.5, 2.0, 2.5]))
    real, fake, own = fig.data
    assert np.allclose(fake.y, [0.0, -0.5, -1.0]) and np.allclose(own.y, [0.5, 0.0, -0.5])
    assert np.allclose(own.x, [1.5 / 4, 2.5 / 4, 3.5 / 4])
    # the real mean is named in the legend, not by a label printed over the curves
    assert real.name == "real training faces (mean)" and np.allclose(real.y, 0)
    assert not fig.layout.annotations


def test_spectrum_summary_says_where_the_gan_mean_runs_above_and_below_zero():
    from ui.charts.detect import spectrum_bins, spectrum_stretches, spectrum_summary

    diff = [0.0, -1, -1, -1, -1, 1, 1, 1, -1]  # the last bin flicks alone: left out of the words
    spectra = {"real": [0.0] * 9, "fake": diff}
    freq = spectrum_bins(9)
    assert spectrum_stretches(spectra) == [(freq[0], freq[3], -1), (freq[4], freq[6], 1)]
    assert spectrum_summary(spectra) == (f"below 0 (less power) from {freq[0]:.2f} to {freq[3]:.2f} and "
                                         f"above 0 (more power than real photos) from {freq[4]:.2f} to {freq[6]:.2f}")
    assert spectrum_summary({"real": [0.0] * 4, "fake": [0.0] * 4}) == "close to 0 all along"


def test_spectrum_summary_of_the_bundled_spectra_matches_the_red_line():
    from ui.charts.detect import spectrum_bins, spectrum_stretches, spectrum_summary

    spectra = json.loads((WEIGHTS / "cnn" / "spectra.json").read_text())
    red = np.asarray(spectra["fake"])[1:] - np.asarray(spectra["real"])[1:]
    freq = spectrum_bins(len(red) + 1)
    stretches = spectrum_stretches(spectra)
    said = spectrum_summary(spectra)
    assert stretches
    for a, b, sign in stretches:
        inside = (freq >= a) & (freq <= b)
        assert inside.sum() >= 3 and np.all(np.sign(red[inside]) == sign)
        assert f"{'above' if sign > 0 else 'below'} 0" in said and f"from {a:.2f} to {b:.2f}" in said
    # every stretch of 3 bins or more is named: nothing the chart shows is left unsaid
    covered = np.zeros(len(red), bool)
    for a, b, _ in stretches:
        covered |= (freq >= a) & (freq <= b)
    runs = np.split(np.arange(len(red)), np.flatnonzero(np.diff(np.sign(red))) + 1)
    assert all(covered[r].all() for r in runs if len(r) >= 3)


def test_gradcam_chart_shows_the_crop_beside_the_map_with_a_colour_key():
    from ui.charts.detect import gradcam_chart

    rng = np.random.default_rng(0)
    crop = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
    cam = np.linspace(0, 1, 256).reshape(16, 16)
    fig = gradcam_chart(crop, cam)
    shown, grey, heat = fig.data
    assert (shown.type, grey.type, heat.type) == ("image", "image", "heatmap")
    np.testing.assert_array_equal(np.asarray(shown.z), crop)
    g = np.asarray(grey.z)
    assert np.all(g[..., 0] == g[..., 1]) and np.all(g[..., 1] == g[..., 2])  # only the map has colour
    np.testing.assert_allclose(np.asarray(heat.z), cam)
    assert (heat.zmin, heat.zmax) == (0, 1) and heat.opacity >= 0.5 and heat.xaxis == grey.xaxis
    key = heat.colorbar
    assert "GAN-made" in key.title.text and list(key.ticktext) == ["none", "half", "strongest"]
