"""The real-only detector (core.detection.realonly), its gate in the verdict (core.detection.judge), and the
shortcut views (core.detection.augment): a coder that never sees itself, trained on tiny data it learns what
is probable, and a face it finds improbable cannot be called real."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from core.detection import realonly
from core.detection.augment import distorted_crops, toned
from core.detection.faces import FaceCrop
from core.detection.judge import (
    UNCERTAIN_BAND,
    Judge,
    fit_real_gate,
    gate_score,
    label_for,
    verdict_scores,
)

RNG = np.random.default_rng(0)


def smooth_images(n: int, size: int = 32, seed: int = 0) -> np.ndarray:
    """Photos of a kind: smooth colour gradients with a little grain."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    out = []
    for _ in range(n):
        a, b, c = rng.uniform(0, 255, 3), rng.uniform(-100, 100, 3), rng.uniform(-100, 100, 3)
        img = a + b * xx[..., None] + c * yy[..., None] + rng.normal(0, 2, (size, size, 3))
        out.append(np.clip(img, 0, 255))
    return np.rint(np.stack(out)).astype(np.uint8)


def test_a_pixel_never_sees_itself():
    coder = realonly.PixelCoder(width=8, kernel=5, hidden=1)
    x = torch.rand(1, 3, 16, 16, requires_grad=True) * 255
    x.retain_grad()
    mean, scale = coder(x)
    (mean[0, :, 8, 8].sum() + scale[0, :, 8, 8].sum()).backward()
    g = x.grad[0].abs().sum(0)
    assert g[8, 8] == 0  # its own three values never reach its prediction
    assert g[8, 7] > 0 and g[6, 10] > 0  # its neighbours do
    assert g[8, 2] == 0  # nor does anything beyond the kernel


def test_trained_on_tiny_real_data_it_finds_noise_improbable():
    torch.manual_seed(0)
    model = realonly.RealOnlyDetector(width=8, kernel=5, hidden=1)
    train, held = smooth_images(64, seed=1), smooth_images(32, seed=2)
    opt = torch.optim.Adam(model.coder.parameters(), lr=3e-3)
    first = None
    for step in range(60):
        loss = realonly.coder_loss(model.coder, realonly.to_levels(train[step % 8 * 8:(step % 8 + 1) * 8]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else float(loss.detach())
    assert float(loss.detach()) < first  # it learnt to code such images more cheaply
    model.eval()
    model.fit_one_class(model.stats(train), model.stats(held))
    noise = RNG.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8)
    fresh = smooth_images(8, seed=3)
    q_noise, q_fresh = model(noise), model(fresh)
    assert np.all((q_noise >= 0) & (q_noise <= 1)) and np.all((q_fresh >= 0) & (q_fresh <= 1))
    assert q_noise.min() > 0.99 and np.median(q_fresh) < 0.9


def test_coding_stats_have_a_cost_expectation_and_gap_per_scale():
    model = realonly.RealOnlyDetector(width=4, kernel=3, hidden=0)
    stats = model.stats(smooth_images(3))
    assert stats.shape == (3, len(realonly.stat_names())) == (3, 9)
    cost, expected, gap = stats[:, 0], stats[:, 1], stats[:, 2]
    assert np.allclose(gap, cost - expected)


def test_unfitted_one_class_model_refuses_to_score():
    with pytest.raises(ValueError, match="not fitted"):
        realonly.RealOnlyDetector(width=4, kernel=3, hidden=0).real_quantile(np.array([1.0]))


def test_bundle_round_trip(tmp_path):
    from core.models.folder import write_model

    model = realonly.RealOnlyDetector(width=4, kernel=3, hidden=0)
    model.fit_one_class(RNG.normal(size=(50, 9)), RNG.normal(size=(50, 9)))
    write_model(model, tmp_path, {"width": 4, "kernel": 3, "hidden": 0, "shrink": 0.1}, {"kind": "real-only"}, half=False)
    loaded, record = realonly.load(tmp_path)
    assert record["kind"] == "real-only"
    s = RNG.normal(size=(5, 9))
    assert np.allclose(loaded.real_quantile(loaded.distance(s)), model.real_quantile(model.distance(s)))
    (tmp_path / "model.safetensors").write_bytes(b"damaged")
    assert realonly.load(tmp_path) is None  # a damaged bundle: the verdict goes without it


def test_gate_score_stops_real_but_never_calls_gan_made():
    lo, hi = UNCERTAIN_BAND
    q = np.linspace(0, 1, 101)
    g = gate_score(q, 0.9)
    assert np.all(g[q < 0.9] < lo) and np.all(g[q >= 0.9] >= lo) and np.all(g <= hi)
    assert np.all(np.diff(g) >= 0)


def test_verdict_score_is_never_below_the_ensemble():
    ens = np.array([0.01, 0.5, 0.9, 0.01])
    s = verdict_scores(ens, gate=np.array([0.5, 0.1, 0.1, 0.0]), unfamiliar=np.array([False, False, False, True]))
    assert np.all(s >= ens)
    assert [label_for(v) for v in s] == ["uncertain", "uncertain", "GAN-made", "uncertain"]


def test_real_gate_keeps_every_real_source_within_its_target():
    real = {"a": (np.full(200, 0.05), RNG.uniform(0, 1, 200), np.zeros(200, bool)),
            "b": (np.full(100, 0.05), RNG.uniform(0, 0.8, 100), np.zeros(100, bool))}
    t = fit_real_gate(real, target=0.1)
    assert 0.85 <= t <= 0.95  # source a is uniform: about 10% of it lies above the threshold
    for e, q, u in real.values():
        assert (verdict_scores(e, gate_score(q, t), u) >= UNCERTAIN_BAND[0]).mean() <= 0.1


def test_a_source_the_ensemble_already_doubts_does_not_shut_the_gate():
    # source b: the ensemble alone keeps 20% of it from "real" (over the 10% target); the gate may add none there
    e_b = np.r_[np.full(80, 0.05), np.full(20, 0.5)]
    q_b = np.r_[RNG.uniform(0, 0.8, 80), RNG.uniform(0, 1, 20)]
    real = {"a": (np.full(200, 0.05), RNG.uniform(0, 1, 200), np.zeros(200, bool)),
            "b": (e_b, q_b, np.zeros(100, bool))}
    t = fit_real_gate(real, target=0.1)
    assert t < 1.0  # before: shut for every face
    a, b = ((verdict_scores(e, gate_score(q, t), u) >= UNCERTAIN_BAND[0]).mean() for e, q, u in real.values())
    assert a <= 0.1 and b == pytest.approx(0.2)


class Sure(nn.Module):
    """A detector sure that every face is real."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return torch.full((len(x),), -12.0) + self.w


class FixedRealOnly:
    def __init__(self, q):
        self.q = q

    def __call__(self, crops):
        return np.full(len(crops), self.q)


@pytest.mark.parametrize("q, label", [(0.2, "real"), (0.97, "uncertain")])
def test_an_improbable_face_cannot_be_called_real(q, label):
    judge = Judge({"sure": (Sure(), 1.0)}, face_detector=object())
    judge.realonly, judge.gate = FixedRealOnly(q), 0.9
    crop = FaceCrop((0, 0, 128, 128), 0.99, RNG.integers(0, 256, (128, 128, 3), dtype=np.uint8))
    (v,) = judge.judge_crops([crop])
    assert v.ensemble < 0.01  # the supervised detector is sure it is real
    assert v.label == label and v.improbable == (q >= 0.9) and v.realonly == pytest.approx(q)
    assert v.verdict_score >= v.ensemble


def test_toned_views_are_gray_and_sepia():
    img = RNG.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    gray = toned(img, "gray")
    assert gray.dtype == np.uint8 and np.all(gray[..., 0] == gray[..., 1]) and np.all(gray[..., 1] == gray[..., 2])
    sepia = toned(np.full((4, 4, 3), 128, np.uint8), "sepia")
    assert sepia[0, 0, 0] > sepia[0, 0, 1] > sepia[0, 0, 2]  # warm: red over green over blue
    crops = RNG.integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    assert distorted_crops(crops, "gray").shape == crops.shape
    with pytest.raises(ValueError):
        toned(img, "blue")


def test_unusualness_combines_two_ranks_as_a_share_of_real_faces():
    from core.detection.judge import real_rank, unusualness

    ref = np.linspace(0, 1, 101) ** 2  # real faces' ensemble scores at quantiles 0..1
    assert real_rank([0.0, 0.25, 1.0], ref) == pytest.approx([0.0, 0.5, 1.0])
    assert np.allclose(unusualness([0.3, 0.9]), [0.3, 0.9])  # the real-only rank alone without a reference
    both = unusualness([0.5, 0.9, 0.99], [0.5, 0.9, 0.99])
    assert np.all(np.diff(both) > 0) and np.all((both >= 0) & (both <= 1))
    assert both[1] > 0.9  # unusual on both counts is more unusual than on one
    # under independent uniform ranks (real faces), unusualness is itself uniform: a share of real faces
    u = unusualness(RNG.uniform(size=20000), RNG.uniform(size=20000))
    assert np.quantile(u, 0.9) == pytest.approx(0.9, abs=0.01)


def test_a_black_and_white_face_cannot_be_called_real():
    from core.detection.judge import monochrome, tone_spread

    colour = RNG.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    gray = toned(colour[0], "gray")[None]
    # a smooth face-like colour crop: skin, hair and background in different hues at like brightness
    yy, xx = np.mgrid[0:32, 0:32]
    skin = np.stack([180 + 0 * xx, 130 + 0 * xx, 100 + 0 * xx], -1)
    sky = np.stack([100 + 0 * xx, 140 + 0 * xx, 200 + 0 * xx], -1)
    smooth = np.where((xx < 16)[..., None], skin, sky).astype(np.uint8)[None]
    sepia = toned(smooth[0], "sepia")[None]
    crops = np.concatenate([colour, gray, smooth, sepia])
    assert monochrome(crops).tolist() == [False, False, True, False, True]
    spread = tone_spread(crops)
    assert spread[2] < 0.5 and spread[4] < 4.0 < spread[3]
    judge = Judge({"sure": (Sure(), 1.0)}, face_detector=object())
    crop = FaceCrop((0, 0, 128, 128), 0.99, toned(RNG.integers(0, 256, (128, 128, 3), dtype=np.uint8), "gray"))
    (v,) = judge.judge_crops([crop])
    assert v.monochrome and v.ensemble < 0.01 and v.label == "uncertain"


def two_sources(n: int = 400, dim: int = 6, seed: int = 0) -> list[np.ndarray]:
    """Two real sources far apart in feature space, each with its own spread."""
    rng = np.random.default_rng(seed)
    return [rng.normal(0.0, 1.0, (n, dim)), rng.normal(8.0, 2.0, (n, dim))]


def test_feature_model_scores_a_face_by_the_real_source_it_is_most_like():
    """One Gaussian per source: a face typical of either source is probable, one between them or beyond both is
    not (pooled, the gap between the sources would look typical and the second source's faces unusual)."""
    train, held = two_sources(), two_sources(seed=1)
    model = realonly.FeatureOneClass(sources=2, dim=6, taps=1, shrink=0.1)
    model.fit(train, held)
    model.set_reference(np.concatenate([model.score(h) for h in held]))
    typical = model.real_quantile(np.concatenate([h[:50] for h in held]))
    between = model.real_quantile(np.full((20, 6), 4.0))
    beyond = model.real_quantile(np.full((20, 6), -6.0))
    assert np.median(typical) < 0.7
    assert np.all(between > 0.99) and np.all(beyond > 0.99)
    assert np.all((typical >= 0) & (typical <= 1))
    # in six dimensions real points lie on a shell around their mean: one at the mean itself is unusual too
    at_mean = np.zeros((5, 6))
    assert np.all(model.real_quantile(at_mean) < 0.05) and np.all(model.atypicality(at_mean) > 0.9)
    assert np.median(model.atypicality(np.concatenate([h[:50] for h in held]))) < 0.7


def test_combined_rank_reads_like_the_coders_and_rises_with_either_model():
    model = realonly.FeatureOneClass(sources=1, dim=2, taps=1)
    q_coder, q_feat = RNG.uniform(size=2000), RNG.uniform(size=2000)  # independent ranks of real faces
    model.set_combined_reference(q_coder, q_feat)
    both = model.combine(q_coder, q_feat)
    assert abs(np.mean(both >= 0.9) - 0.1) < 0.02  # still a share of real faces
    assert model.combine(np.array([0.5]), np.array([0.99]))[0] > model.combine(np.array([0.5]), np.array([0.5]))[0]
    assert model.combine(np.array([0.99]), np.array([0.5]))[0] > model.combine(np.array([0.5]), np.array([0.5]))[0]


def test_feature_model_round_trip_and_coder_check(tmp_path):
    """It loads only beside the pixel coder it was fitted with: with another coder its combined ranks would be
    wrong, so the verdict goes on with the coder alone."""
    from core.models.folder import write_model

    model = realonly.FeatureOneClass(sources=2, dim=6, taps=1)
    model.fit(two_sources(), two_sources(seed=3))
    model.set_reference(np.concatenate([model.score(h) for h in two_sources(seed=1)]))
    model.set_combined_reference(RNG.uniform(size=500), RNG.uniform(size=500))
    write_model(model, tmp_path, {"sources": 2, "dim": 6, "taps": 1, "input_size": 224, "shrink": 0.3},
                {"kind": "real-only (features)", "coder_sha256": "abc"}, half=False)
    loaded, record = realonly.load_features({"weights_sha256": "abc"}, tmp_path)
    f = two_sources(seed=2)[1][:5]
    assert np.allclose(loaded.real_quantile(f), model.real_quantile(f))
    assert realonly.load_features({"weights_sha256": "another"}, tmp_path) is None
    (tmp_path / "model.safetensors").write_bytes(b"damaged")
    assert realonly.load_features({"weights_sha256": "abc"}, tmp_path) is None


def test_unfitted_feature_model_refuses_to_rank():
    with pytest.raises(ValueError):
        realonly.FeatureOneClass(sources=1, dim=2, taps=1).real_quantile(np.zeros((1, 2)))


def test_bundled_real_only_score_combines_the_coder_and_the_feature_model():
    """The app's judge reads both real-only models where they are bundled for each other: the gate's score is
    their combined rank, and each alone is at hand (train.evaluate writes them as columns)."""
    judge = Judge.from_registry(use_hub=False)
    assert judge.realonly is not None and judge.realonly_features is not None and judge.feature_probe is not None
    crops = np.zeros((3, 128, 128, 3), np.uint8)
    crops[1] = np.random.default_rng(0).integers(0, 256, (128, 128, 3))
    crops[2] = smooth_images(1, 128)[0]
    parts = judge.real_only_parts(crops)
    assert set(parts) == {"real-only", "real-only (coder)", "real-only (features)"}
    assert np.allclose(judge.real_quantiles(crops), parts["real-only"])
    for q in parts.values():
        assert q.shape == (3,) and np.all((q >= 0) & (q <= 1))
    assert parts["real-only (features)"][1] > 0.99  # noise: no real source's texture
    feats = {}
    judge.probabilities_and_distances(crops, feats)  # the probes' backbone pass, read again instead of rerun
    again = judge.real_only_parts(crops, feats)
    assert all(np.allclose(again[k], parts[k], atol=1e-5) for k in parts)
    record = judge.realonly_features_record
    assert record["fakes_seen"] == 0 and record["coder_sha256"] == judge.realonly_record["weights_sha256"]
