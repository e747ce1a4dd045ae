"""Detectors: forward passes, the SupCon loss, calibration, metrics and the training script."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from core.detection.augment import Augment
from core.detection.calibration import expected_calibration_error, fit_temperature
from core.detection.explain import grad_cam, radial_spectrum
from core.detection.metrics import confusion, detector_scores, equal_error_rate
from core.detection.trainer import supcon_loss
from core.models import registry
from core.models.detectors import CROP_SIZE, build_detector, to_input

DETECTORS = registry.names("detector")


def test_the_apps_five_detectors_are_registered():
    assert set(DETECTORS) == {"lstm", "cnn", "supcon", "probe", "probe-texture"}


@pytest.mark.parametrize("name", DETECTORS)
def test_forward_pass_gives_one_logit_per_crop(name):
    spec = registry.get_spec(name)
    model = spec.build(spec.config).eval()
    crops = np.random.default_rng(0).integers(0, 256, (5, CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)
    with torch.no_grad():
        out = model(to_input(crops))
    assert out.shape == (5,)
    assert torch.isfinite(out).all()


def test_lstm_reads_rows_in_order():
    """Swapping two rows changes the LSTM's answer: it reads a sequence, not a bag of rows."""
    spec = registry.get_spec("lstm")
    torch.manual_seed(0)
    model = spec.build(spec.config).eval()
    x = torch.randn(1, 3, CROP_SIZE, CROP_SIZE)
    swapped = x.clone()
    swapped[:, :, [0, 1, 40, 41]] = x[:, :, [40, 41, 0, 1]]
    with torch.no_grad():
        assert not torch.allclose(model(x), model(swapped))


def test_supcon_loss_matches_hand_computation():
    # anchors 0 and 1 share a label and point the same way; anchor 2 is alone (no positive, skipped).
    # For anchor 0: log p(1) = 1/t - log(e^(1/t) + e^0) with t = 1; the same for anchor 1.
    feats = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    labels = torch.tensor([0, 0, 1])
    expected = math.log(1 + math.e) - 1
    assert supcon_loss(feats, labels, temperature=1.0).item() == pytest.approx(expected, abs=1e-6)


def test_supcon_loss_is_lower_when_classes_cluster():
    labels = torch.tensor([0, 0, 1, 1])
    clustered = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    mixed = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    assert supcon_loss(clustered, labels) < supcon_loss(mixed, labels)


def test_temperature_scaling_lowers_ece_on_overconfident_logits():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 1.5, 4000)
    labels = (rng.random(4000) < 1 / (1 + np.exp(-true_logits))).astype(float)
    overconfident = torch.tensor(true_logits * 4)  # a network 4x too sure of itself
    t = fit_temperature(overconfident, torch.tensor(labels))
    before = expected_calibration_error(torch.sigmoid(overconfident).numpy(), labels)
    after = expected_calibration_error(torch.sigmoid(overconfident / t).numpy(), labels)
    assert 3.0 < t < 5.0
    assert after < before / 3
    assert after < 0.03


def test_metrics_on_a_separable_and_a_random_set():
    labels = np.array([0, 0, 0, 1, 1, 1])
    perfect = detector_scores(labels, np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9]))
    assert perfect["auc"] == 1.0 and perfect["accuracy"] == 1.0 and perfect["eer"] == 0.0
    assert perfect["average_precision"] == 1.0
    assert confusion(labels, np.array([0.1, 0.6, 0.3, 0.7, 0.4, 0.9])) == [[2, 1], [1, 2]]
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 2000)
    assert equal_error_rate(y, rng.random(2000)) == pytest.approx(0.5, abs=0.05)
    one_class = detector_scores(np.ones(4), np.full(4, 0.9))
    assert one_class["auc"] is None and one_class["accuracy"] == 1.0


def test_augment_keeps_shape_and_changes_pixels():
    img = np.random.default_rng(0).integers(0, 256, (CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)
    aug = Augment(hflip=0, resize=1, blur=1, jpeg=1)
    out = aug(img, np.random.default_rng(0))
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - img).mean() > 5
    flip_only = Augment(hflip=1, resize=0, blur=0, jpeg=0)(img, np.random.default_rng(0))
    assert np.array_equal(flip_only, img[:, ::-1])


def test_radial_spectrum_sees_a_checkerboard_at_the_highest_frequency():
    flat = np.full((48, 48, 3), 128, np.uint8)
    checker = flat.copy()
    checker[::2, ::2] += 40
    s_checker = radial_spectrum(checker)
    assert len(s_checker) == 24
    assert s_checker[-1] > radial_spectrum(flat)[-1] + 3  # orders of magnitude more power


def test_grad_cam_is_a_normalised_map():
    spec = registry.get_spec("cnn")
    torch.manual_seed(0)
    model = spec.build(spec.config).eval()
    cam = grad_cam(model, torch.randn(1, 3, CROP_SIZE, CROP_SIZE))
    assert cam.shape == (CROP_SIZE, CROP_SIZE)
    assert cam.min() >= 0 and cam.max() <= 1


@pytest.mark.parametrize("arch", ["lstm", "cnn", "supcon"])
def test_train_detector_dry_run_writes_a_loadable_folder(arch, celeba_dir, tmp_path):
    from core.io.store import read_history, read_json
    from train import detector

    run = tmp_path / arch
    assert detector.main(["--arch", arch, "--dry-run", "--sources", "celeba", "dcgan-64", "--data",
                          str(celeba_dir.parent), "--cache-dir", str(tmp_path / "cache"), "--out", str(run)]) == 0
    spec = registry.get_spec(arch)
    model, config, training = registry.load_folder(spec, run)
    assert config["temperature"] > 0 and config["image_size"] == CROP_SIZE
    history = read_history(run / "history.jsonl")
    phases = {r["phase"] for r in history}
    assert phases == ({"encoder", "head"} if arch == "supcon" else {"classifier"})
    assert all(r["val_loss"] is not None for r in history)
    assert len(read_json(run / "spectra.json")["real"]) == CROP_SIZE // 2
    assert set(training["sources"]) == {"celeba", "dcgan-64"} and training["generators"] == ["dcgan-64"]
    assert training["sources"]["celeba"]["terms"].startswith("CelebA")
    assert set(training["val_by_source"]) == {"celeba", "dcgan-64"}
    assert "auc" in training["val_by_source"]["dcgan-64"]


def test_train_detector_refuses_one_class_and_missing_data(tmp_path, capsys):
    from train import detector

    assert detector.main(["--arch", "cnn", "--sources", "dcgan-64", "--dry-run"]) == 2
    assert "at least one real and one fake" in capsys.readouterr().err
    assert detector.main(["--arch", "cnn", "--sources", "ffhq", "dcgan-64", "--data", str(tmp_path), "--dry-run"]) == 2
    assert "no data for ffhq" in capsys.readouterr().err
    assert detector.main(["--arch", "cnn", "--residual", "wavelet", "--sources", "dcgan-64", "lsgan-80",
                          "--dry-run"]) == 2


def test_detector_resume_after_a_crash_mid_epoch(tmp_path):
    """A run dies during epoch 2; --resume redoes epoch 2 and the history has each epoch once."""
    from core.detection.trainer import DetectorData, DetectorTrainConfig, DetectorTrainer
    from core.io.store import read_history
    from core.models.detectors import build_detector

    rng = np.random.default_rng(0)
    crops = lambda n: rng.integers(0, 256, (n, CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)  # noqa: E731
    data = DetectorData.two_sources(crops(32), crops(32), crops(16), crops(16))
    cfg = DetectorTrainConfig(arch="cnn", epochs=3, batch_size=16, patience=5)
    config = registry.get_spec("cnn").config
    trainer = DetectorTrainer(build_detector(config), cfg, data, tmp_path, progress=False)
    real_step = trainer._train_step

    def dies_in_epoch_two(*args):
        if trainer.state["step"] == 6:  # 64 crops / batch 16 = 4 steps an epoch: step 6 is mid-epoch 2
            raise KeyboardInterrupt
        return real_step(*args)

    trainer._train_step = dies_in_epoch_two
    with pytest.raises(KeyboardInterrupt):
        trainer.train()
    assert [r["epoch"] for r in read_history(tmp_path / "history.jsonl")] == [1]
    DetectorTrainer(build_detector(config), cfg, data, tmp_path, progress=False).train(resume=True)
    rows = read_history(tmp_path / "history.jsonl")
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert [r["step"] for r in rows] == [4, 8, 12]


def test_residual_inputs_isolate_up_sampling_traces():
    from core.models.detectors import RESIDUALS, input_channels, residual_input

    smooth = torch.rand(2, 3, 8, 8) * 2 - 1
    upsampled = torch.nn.functional.interpolate(smooth, scale_factor=2.0, mode="nearest")  # 2x2 blocks alike
    npr = residual_input(upsampled, "npr")
    assert npr.shape == (2, 3, 16, 16) and torch.count_nonzero(npr) == 0  # nearest up-sampling leaves no NPR
    assert residual_input(smooth, "npr").abs().sum() > 0  # an image that was not up-sampled does
    flat = torch.full((1, 3, 16, 16), 0.3)
    assert torch.allclose(residual_input(flat, "highpass")[:, 3:], torch.zeros(1, 3, 16, 16), atol=1e-6)
    for kind in RESIDUALS:
        assert residual_input(smooth, kind).shape[1] == input_channels(kind)
    both = residual_input(upsampled, "rgb+npr")
    assert torch.equal(both[:, :3], upsampled)
    with pytest.raises(ValueError, match="unknown residual"):
        residual_input(smooth, "wavelet")


def test_batches_are_balanced_across_classes_families_and_sources():
    from core.detection.trainer import DetectorData, DetectorTrainConfig, DetectorTrainer
    from core.models.detectors import build_detector

    rng = np.random.default_rng(0)

    def marked(n, v):  # crops whose first pixel names their source
        a = rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
        a[:, 0, 0, 0] = v
        return a

    sizes = {"big_real": 400, "small_real": 20, "gan_a": 300, "gan_b": 10, "other_fake": 30}
    train = {n: marked(k, i) for i, (n, k) in enumerate(sizes.items())}
    labels = {"big_real": 0, "small_real": 0, "gan_a": 1, "gan_b": 1, "other_fake": 1}
    data = DetectorData(train, {n: a[:4] for n, a in train.items()}, labels,
                        families={"gan_a": "lab", "gan_b": "lab"})
    w = data.sampling_weights()
    assert w["big_real"] == w["small_real"] == pytest.approx(0.5)
    assert w["other_fake"] == pytest.approx(0.5) and w["gan_a"] == w["gan_b"] == pytest.approx(0.25)
    cfg = DetectorTrainConfig(arch="cnn", batch_size=32, per_epoch=4000)
    trainer = DetectorTrainer(build_detector({"arch": "cnn", "image_size": 8}), cfg, data, Path("/nonexistent"),
                              progress=False)
    seen = {n: 0 for n in sizes}
    names = list(sizes)
    total = 0
    for images, y in trainer._epoch_batches(np.random.default_rng(1)):
        assert int(y.sum()) == 16  # half fake in every batch
        for im, lab in zip(images, y.tolist(), strict=True):
            name = names[int(im[0, 0, 0])]
            assert labels[name] == lab
            seen[name] += 1
            total += 1
    share = {n: c / total for n, c in seen.items()}
    assert share["small_real"] == pytest.approx(0.25, abs=0.02) and share["big_real"] == pytest.approx(0.25, abs=0.02)
    assert share["gan_b"] == pytest.approx(0.125, abs=0.02) and share["other_fake"] == pytest.approx(0.25, abs=0.02)
    vw = data.val_weights()  # every validation source counts alike within its class
    assert vw.sum() == pytest.approx(len(vw))


def test_augment_reaches_the_strong_settings_of_cnndetection():
    aug = Augment()
    assert aug.jpeg_quality[0] <= 30 and aug.resize_scale[0] <= 0.25 and aug.jitter > 0
    img = np.random.default_rng(0).integers(0, 256, (CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)
    out = Augment(hflip=0, resize=0, blur=0, jpeg=0, jitter=1)(img, np.random.default_rng(3))
    assert out.shape == img.shape and not np.array_equal(out, img)


def test_split_of_is_stable_and_near_its_share():
    from core.data.sources import VAL_SHARE, split_of

    names = [f"img_{i}.jpg" for i in range(4000)]
    splits = [split_of(n) for n in names]
    assert splits == [split_of(n) for n in names]
    assert abs(splits.count("val") / len(names) - VAL_SHARE) < 0.03


def test_fit_ensemble_weights_prefers_the_detector_that_knows():
    from core.detection.judge import Judge, fit_ensemble_weights

    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(200), np.ones(200)]
    good = np.clip(y * 0.8 + 0.1 + rng.normal(0, 0.05, 400), 0, 1)
    noise = rng.uniform(0, 1, 400)
    w, loss = fit_ensemble_weights({"good": good, "noise": noise}, y)
    assert w["good"] >= 0.9 and sum(w.values()) == pytest.approx(1.0) and loss < 0.3
    model = build_detector({"arch": "cnn", "image_size": 16})
    j = Judge({"a": (model, 1.0), "b": (model, 1.0)}, face_detector=object(), weights={"a": 3, "b": 1})
    assert j.weights == {"a": 0.75, "b": 0.25}
    assert j.ensemble({"a": np.array([1.0]), "b": np.array([0.0])})[0] == pytest.approx(0.75)


def test_false_alarm_shift_is_the_smallest_that_keeps_every_real_source_under_the_target(tmp_path, monkeypatch):
    import json

    import core.detection.judge
    from core.detection.judge import Judge, fit_false_alarm_shift, read_ensemble_shift, shifted

    rng = np.random.default_rng(0)
    calm, jumpy = rng.uniform(0, 0.5, 1000), rng.uniform(0, 1, 1000)  # jumpy: 35% of it above 0.65
    assert fit_false_alarm_shift({"calm": calm}, 0.65, 0.02) == 0.0  # nothing to guard against
    s = fit_false_alarm_shift({"calm": calm, "jumpy": jumpy}, 0.65, 0.02)
    assert (shifted(jumpy, s) > 0.65).mean() <= 0.02 < (shifted(jumpy, s - 0.05) > 0.65).mean()
    assert np.all(np.diff(shifted(np.linspace(0.01, 0.99, 50), s)) > 0)  # the order of faces is kept
    np.testing.assert_array_equal(shifted(jumpy, 0.0), jumpy)
    model = build_detector({"arch": "cnn", "image_size": 16})
    j = Judge({"a": (model, 1.0)}, face_detector=object(), shift=np.log(3))
    assert j.ensemble({"a": np.array([0.75])})[0] == pytest.approx(0.5)  # odds 3:1 -> 1:1
    monkeypatch.setattr(core.detection.judge, "ensemble_path", lambda: tmp_path / "ensemble.json")
    assert read_ensemble_shift() == 0.0  # none bundled
    for stored, read in ((1.25, 1.25), (-1, 0.0), ("x", 0.0)):
        (tmp_path / "ensemble.json").write_text(json.dumps({"weights": {"a": 1}, "shift": stored}))
        assert read_ensemble_shift() == read


def test_familiarity_flags_features_far_from_the_validation_mix(tmp_path):
    from core.detection.judge import Familiarity

    rng = np.random.default_rng(0)
    feats = rng.normal(size=(2000, 16))
    fam = Familiarity.fit(feats, "cnn", quantile=0.99, weights_sha256="abc")
    held = fam.distance(rng.normal(size=(4000, 16)))
    assert 0.97 < (held <= fam.threshold).mean() < 1.0  # about 99% of new faces like them are familiar
    assert (fam.distance(rng.normal(size=(50, 16)) * 4 + 3) > fam.threshold).all()  # far away: unfamiliar
    fam.save(tmp_path / "f.safetensors", fitted_on="test")
    back = Familiarity.load(tmp_path / "f.safetensors")
    assert back.detector == "cnn" and back.weights_sha256 == "abc" and back.threshold == pytest.approx(fam.threshold)
    assert np.allclose(back.distance(feats[:5]), fam.distance(feats[:5]), rtol=1e-4)
    (tmp_path / "bad.safetensors").write_bytes(b"not a file")
    assert Familiarity.load(tmp_path / "bad.safetensors") is None and Familiarity.load(tmp_path / "none") is None


def test_bundled_familiarity_check_matches_the_bundled_cnn():
    from core.detection.faces import FaceCrop
    from core.detection.judge import Judge

    judge = Judge.from_registry(use_hub=False)
    assert judge.familiarity is not None and judge.familiarity.detector == "cnn"
    crops = np.zeros((2, 128, 128, 3), np.uint8)
    crops[1] = np.random.default_rng(0).integers(0, 256, (128, 128, 3))
    probs, dist = judge.probabilities_and_distances(crops)
    assert dist.shape == (2,) and set(probs) == set(judge.detectors)
    verdicts = judge.judge_crops([FaceCrop((0, 0, 1, 1), 1.0, c) for c in crops])
    assert all(v.distance is not None for v in verdicts)
    assert verdicts[1].unfamiliar  # noise is nothing like a face the detectors were tested on


def test_a_compressed_jpeg_upload_is_judged_with_the_compressed_weights(monkeypatch):
    import io

    from PIL import Image

    from core.detection import judge as judge_mod
    from core.detection.faces import FaceCrop
    from core.io.images import jpeg_quality

    model = build_detector({"arch": "cnn", "image_size": 64})
    j = judge_mod.Judge({"a": (model, 1.0), "b": (model, 1.0)}, face_detector=object(), weights={"a": 1, "b": 0},
                        compressed={"weights": {"a": 0, "b": 2}, "shift": 0.5})
    assert j.compressed == {"weights": {"a": 0.0, "b": 1.0}, "shift": 0.5}  # normalised
    crop = np.random.default_rng(0).integers(0, 256, (CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)
    monkeypatch.setattr(j, "find_faces", lambda images: [[FaceCrop((0, 0, 10, 10), 0.99, crop)]])
    monkeypatch.setattr(j, "probabilities_and_distances", lambda crops, features=None: ({"a": np.array([0.9]), "b": np.array([0.2])}, None))
    img = Image.fromarray(crop)
    for quality, compressed in ((95, False), (90, False), (75, True), (None, False)):
        data = io.BytesIO()
        img.save(data, "JPEG", quality=quality or 95)
        q = jpeg_quality(data.getvalue()) if quality else None
        assert q == quality
        [face] = j.judge(img, jpeg_quality=q).faces
        if compressed:
            assert face.weights == {"a": 0.0, "b": 1.0}
            assert face.ensemble == pytest.approx(judge_mod.shifted(np.array([0.2]), 0.5)[0])
            assert any("compressed JPEG (quality about 75)" in n for n in j.judge(img, jpeg_quality=q).notes)
        else:
            assert face.weights == j.weights and face.ensemble == pytest.approx(0.9)
    # without a compressed set (none bundled, or one for other detectors) every upload is judged alike
    plain = judge_mod.Judge({"a": (model, 1.0)}, face_detector=object(), compressed={"weights": {"x": 1}, "shift": 0})
    assert plain.compressed is None and not plain.is_compressed(50)


def test_jpeg_quality_is_read_from_the_quantisation_table():
    import io

    from PIL import Image

    from core.io.images import jpeg_quality

    img = Image.fromarray(np.random.default_rng(1).integers(0, 256, (40, 40, 3), dtype=np.uint8))
    for q in (20, 50, 75, 85, 90, 100):
        data = io.BytesIO()
        img.save(data, "JPEG", quality=q)
        assert jpeg_quality(data.getvalue()) == q
    png = io.BytesIO()
    img.save(png, "PNG")
    assert jpeg_quality(png.getvalue()) is None and jpeg_quality(b"not an image") is None


def test_with_a_detector_missing_the_fitted_weights_of_the_others_still_hold():
    from core.detection.judge import over_loaded

    fitted = {"lstm": 0.0, "cnn": 0.1, "supcon": 0.0, "probe": 0.3, "probe-texture": 0.6}
    everyone = dict.fromkeys(fitted)
    assert over_loaded(fitted, everyone) == fitted
    without_texture = {n: None for n in fitted if n != "probe-texture"}
    assert over_loaded(fitted, without_texture) == {"lstm": 0.0, "cnn": 0.1, "supcon": 0.0, "probe": 0.3}
    assert over_loaded(fitted, {"lstm": None, "supcon": None}) is None  # none left that the fit trusted: alike
    assert over_loaded(fitted, {**everyone, "new": None}) is None  # a detector the fit never saw: alike
    assert over_loaded(None, everyone) is None
