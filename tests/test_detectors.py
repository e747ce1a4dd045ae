"""Detectors: forward passes, the SupCon loss, calibration, metrics and the training script."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core import registry
from core.data import build_face_cache, cache_path
from core.detectors import (
    CROP_SIZE,
    Augment,
    expected_calibration_error,
    fit_temperature,
    grad_cam,
    radial_spectrum,
    supcon_loss,
    to_input,
)
from core.metrics import confusion, detector_scores, equal_error_rate

DETECTORS = registry.names("detector")


def test_three_detectors_are_registered():
    assert set(DETECTORS) == {"lstm", "cnn", "supcon"}


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


@pytest.fixture(scope="module")
def tiny_face_caches(tmp_path_factory, celeba_dir):
    """A cache folder with 24 real MTCNN crops per split, named as train.detector looks for them."""
    from core.faces import FaceDetector

    out = tmp_path_factory.mktemp("facecache")
    det = FaceDetector(device="cpu")
    for split in ("train", "val"):
        build_face_cache(celeba_dir / split, cache_path(split, CROP_SIZE, "mtcnn", out), CROP_SIZE, det, limit=24)
    return out


@pytest.mark.parametrize("arch", ["lstm", "cnn", "supcon"])
def test_train_detector_dry_run_writes_a_loadable_folder(arch, tiny_face_caches, tmp_path):
    from core.store import read_history, read_json
    from train import detector

    run = tmp_path / arch
    assert detector.main(["--arch", arch, "--dry-run", "--cache-dir", str(tiny_face_caches), "--out", str(run)]) == 0
    spec = registry.get_spec(arch)
    model, config, training = registry.load_folder(spec, run)
    assert config["temperature"] > 0
    history = read_history(run / "history.jsonl")
    phases = {r["phase"] for r in history}
    assert phases == ({"encoder", "head"} if arch == "supcon" else {"classifier"})
    assert all(r["val_loss"] is not None for r in history)
    assert len(read_json(run / "spectra.json")["real"]) == CROP_SIZE // 2
    assert training["held_out"] == ["dcgan-64-z60"]


def test_train_detector_refuses_a_held_out_generator_and_missing_data(tmp_path, capsys):
    from train import detector

    assert detector.main(["--arch", "cnn", "--generators", "dcgan-64-z60", "--dry-run"]) == 2
    assert "held out" in capsys.readouterr().err
    assert detector.main(["--arch", "cnn", "--dry-run", "--cache-dir", str(tmp_path)]) == 2
    assert "prepare_data" in capsys.readouterr().err


def test_detector_resume_after_a_crash_mid_epoch(tmp_path):
    """A run dies during epoch 2; --resume redoes epoch 2 and the history has each epoch once."""
    from core.detector_training import DetectorData, DetectorTrainConfig, DetectorTrainer
    from core.detectors import build_detector
    from core.store import read_history

    rng = np.random.default_rng(0)
    crops = lambda n: rng.integers(0, 256, (n, CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)  # noqa: E731
    data = DetectorData(crops(32), crops(32), crops(16), crops(16))
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
