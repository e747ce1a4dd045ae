"""The probe's head fitted on cached features (core.detection.probe_fit, train.probe_fit): the fitted head is
the probe's own BatchNorm + Linear, features are cached per view and refreshed when the crops change,
views are reproducible, and sources weigh alike within their class."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

from core.detection import probe_fit
from core.models.detectors import to_input

RNG = np.random.default_rng(0)


def test_source_weights_give_every_class_and_family_the_same_total():
    names = ["a", "b", "c", "g1", "g2"]
    labels = {"a": 0, "b": 0, "c": 0, "g1": 1, "g2": 1}
    families = {"b": "bc", "c": "bc", "g1": "lab", "g2": "lab"}
    counts = {"a": 10, "b": 100, "c": 5, "g1": 7, "g2": 70}
    w = probe_fit.source_weights(names, labels, families, counts)
    total = {n: w[n] * counts[n] for n in names}
    assert total["a"] == pytest.approx(0.5) and total["b"] == pytest.approx(0.25) == total["c"]
    assert total["g1"] == pytest.approx(0.5) == total["g2"]  # one family holds both fakes


def test_fitted_head_loads_into_the_probe_and_gives_the_same_logits():
    from core.models.probe import ProbeDetector

    x = RNG.normal(size=(200, 272)).astype(np.float32) * RNG.uniform(0.1, 10, 272).astype(np.float32)
    y = (x[:, 0] + 0.3 * x[:, 5] > 0).astype(int)
    head = probe_fit.fit_head(x, y, np.ones(len(x)), c=1.0)
    assert ((probe_fit.head_logits(head, x) > 0) == y).mean() > 0.9
    model = ProbeDetector(taps=5).eval()
    probe_fit.load_head(model, head)
    with torch.no_grad():
        got = model.head(model.norm(torch.from_numpy(x))).squeeze(1).numpy()
    np.testing.assert_allclose(got, probe_fit.head_logits(head, x), rtol=1e-4, atol=1e-4)


def test_views_are_reproducible_and_features_cached_until_the_crops_change(tmp_path, monkeypatch):
    from core.models.probe import ProbeDetector

    crops = RNG.integers(0, 256, (3, 128, 128, 3), dtype=np.uint8)
    for view in ("jpeg75", "half", "aug0"):
        a = probe_fit.view_crops(crops, view, "src/train")
        assert a.shape == crops.shape and a.dtype == np.uint8 and not np.array_equal(a, crops)
        np.testing.assert_array_equal(a, probe_fit.view_crops(crops, view, "src/train"))
    assert not np.array_equal(probe_fit.view_crops(crops, "aug0", "src/train"),
                              probe_fit.view_crops(crops, "aug1", "src/train"))
    for view in ("gray", "sepia", "noise8"):  # the toned check views and RIGID's noise
        a = probe_fit.view_crops(crops, view, "src/train")
        assert a.shape == crops.shape and a.dtype == np.uint8 and not np.array_equal(a, crops)
    with pytest.raises(ValueError, match="unknown view"):
        probe_fit.view_crops(crops, "blue", "src/train")

    model = ProbeDetector(taps=2).eval()
    f = probe_fit.cached_features(model, "src", "train", "clean", crops, folder=tmp_path)
    with torch.no_grad():
        np.testing.assert_allclose(f, model.features(to_input(crops)).numpy(), rtol=1e-5, atol=1e-5)
    assert probe_fit.feature_file("src", "train", "clean", tmp_path).exists()
    calls = []
    monkeypatch.setattr(probe_fit, "backbone_features", lambda *a, **k: calls.append(1) or np.zeros((3, 40), "f4"))
    np.testing.assert_array_equal(probe_fit.cached_features(model, "src", "train", "clean", crops, tmp_path), f)
    assert not calls  # same crops: from the cache
    probe_fit.cached_features(model, "src", "train", "clean", crops[::-1].copy(), tmp_path)
    assert calls  # other crops: computed again
    calls.clear()
    small = ProbeDetector(input_size=128, taps=2).eval()  # another input side: a cache of its own
    probe_fit.cached_features(small, "src", "train", "clean", crops, tmp_path)
    assert calls and probe_fit.feature_file("src", "train", "clean", tmp_path, 128).name == "src-train-clean-128px.safetensors"


def test_probe_fit_cli_refuses_what_it_cannot_do(capsys):
    from train import probe_fit as cli

    assert cli.main(["--leave-out", "nowhere"]) == 2
    assert "no source nowhere" in capsys.readouterr().err
    assert cli.main(["--taps", "9"]) == 2


def test_leaving_a_real_source_out_scores_it_against_the_fakes():
    from train import probe_fit as cli

    class Synthetic:
        """Features per source: fakes shifted along the first axis; the left-out real like the other reals."""

        def get(self, name, split, view, taps):
            rng = np.random.default_rng(zlib.crc32(f"{name}/{split}".encode()))
            x = rng.normal(size=(60, 4)).astype(np.float32)
            x[:, 0] += 3.0 if name.startswith("g") else 0.0
            return x

    names, labels = ["r1", "r2", "g1", "g2"], {"r1": 0, "r2": 0, "g1": 1, "g2": 1}
    got = cli.fit_and_score(Synthetic(), names, labels, {}, 5, 1.0, ["clean"], ["r2"])
    assert set(got) == {("clean", "r2"), ("alarm", "r2")}
    assert got[("clean", "r2")] > 0.95 and got[("alarm", "r2")] < 0.1  # ranked below the fakes, few alarms
    got = cli.fit_and_score(Synthetic(), names, labels, {}, 5, 1.0, ["clean"], ["g2"])
    assert set(got) == {("clean", "g2")} and got[("clean", "g2")] > 0.95
