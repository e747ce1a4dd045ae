"""The real-only detector's commands (train.realonly, train.bundle --name realonly, train.fit_gate,
train.leave_out) and the sentence under a real verdict (core.detection.meaning)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.detection import meaning, realonly


def test_dry_run_trains_resumes_and_bundles_with_a_card(tmp_path, monkeypatch, capsys):
    from train import bundle
    from train import realonly as train_realonly

    crops = {"real": np.random.default_rng(0).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)}
    monkeypatch.setattr(train_realonly, "real_crops", lambda names, split, limit=None: crops)
    run = tmp_path / "run"
    assert train_realonly.main(["--dry-run", "--out", str(run), "--width", "8", "--kernel", "3"]) == 0
    record = json.loads((run / "training.json").read_text())
    assert record["fakes_seen"] == 0 and record["train_crops"] == {"real": 6} and record["weights_sha256"]
    assert (run / "checkpoint.pt").exists() and (run / "history.jsonl").read_text().strip()
    assert train_realonly.main(["--dry-run", "--out", str(run), "--width", "8", "--kernel", "3", "--resume"]) == 0
    assert "resumed at epoch 1" in capsys.readouterr().out
    dest = tmp_path / "weights"
    assert bundle.main(["--run", str(run), "--name", "realonly", "--dest", str(dest)]) == 0
    model, rec = realonly.load(dest / "realonly")
    card = (dest / "realonly" / "README.md").read_text()
    assert "never saw a generated face" in card and "0 generated faces seen" in card and "## Limits" in card
    q = model(crops["real"])
    assert q.shape == (6,) and np.all((q >= 0) & (q <= 1))


def test_draw_tones_a_share_of_the_crops():
    from train.realonly import draw

    crops = {"a": np.random.default_rng(1).integers(0, 256, (20, 8, 8, 3), dtype=np.uint8)}
    got = draw(crops, 400, np.random.default_rng(0), gray=0.5, sepia=0.0)
    gray = np.mean([np.all(c[..., 0] == c[..., 1]) and np.all(c[..., 1] == c[..., 2]) for c in got])
    assert 0.4 < gray < 0.6


RECORD = {"families": {
    "sd21": {"left_out": ["sd21"], "sources": {"sd21": {"called_real": 0.18}, "celeba": {"called_real": 0.95}}},
    "dcgans": {"left_out": ["dcgan-64", "dcgan-64-z60"],
               "sources": {"dcgan-64": {"called_real": 0.02}, "dcgan-64-z60": {"called_real": 0.05}}}}}


def test_the_real_verdict_says_what_was_looked_for_and_how_often_it_missed():
    text = meaning.real_meaning(["StyleGAN2", "SD 2.1"], RECORD, realonly=True)
    assert "no trace of StyleGAN2, SD 2.1 was found" in text and "real-only check" in text
    assert "does not prove the photo is real" in text
    assert "still called 2% to 18% of their faces real (most: sd21, 18%)" in text
    assert "celeba" not in text  # a real source left in is no miss
    bare = meaning.real_meaning([], None, realonly=False)
    assert "has not been measured" in bare and "real-only" not in bare


def test_the_leave_out_record_is_read_from_weights(tmp_path):
    path = tmp_path / "leave-out.json"
    assert meaning.read_leave_out(path) is None
    path.write_text("{broken")
    assert meaning.read_leave_out(path) is None
    path.write_text(json.dumps(RECORD))
    assert meaning.left_out_called_real(meaning.read_leave_out(path)) == {
        "sd21": 0.18, "dcgan-64": 0.02, "dcgan-64-z60": 0.05}


def test_the_bundled_record_reads_as_a_sentence():
    rec = meaning.read_leave_out()
    if rec is None:
        pytest.skip("no leave-one-family-out record bundled yet")
    text = meaning.real_meaning(["x"], rec, realonly=True)
    assert "kept out of training" in text and "%" in text


def test_fit_gate_needs_the_real_only_detector(monkeypatch, capsys):
    from train import fit_gate

    monkeypatch.setattr(realonly, "load", lambda folder=None: None)
    assert fit_gate.main(["--dry-run"]) == 2
    assert "python -m train.realonly" in capsys.readouterr().err


@pytest.mark.parametrize("module", ["train.realonly", "train.fit_gate", "train.leave_out"])
def test_commands_answer_help(module):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "usage" in done.stdout


def test_feature_model_dry_run_fits_on_real_crops_alone(tmp_path, capsys):
    """train.realonly_features --dry-run: a few crops per source (skipped where no crop caches are here)."""
    from core.data import sources
    from train import realonly_features

    if not sources.available(sources.names("real"), None):
        pytest.skip("no real crop caches here (python -m train.detector_data)")
    run = tmp_path / "run"
    assert realonly_features.main(["--dry-run", "--out", str(run), "--threads", "1"]) == 0
    record = json.loads((run / "training.json").read_text())
    assert record["fakes_seen"] == 0 and record["dry_run"] and record["weights_sha256"]
    model, _ = realonly.load_features(None, run)
    assert model.taps == 5 and model.mean.shape[1] == 272
    assert "more unusual than 90% of real faces" in capsys.readouterr().out
