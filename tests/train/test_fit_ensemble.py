"""train.fit_ensemble: the ensemble's two weight sets and guards and the familiarity check, fitted on every
source's validation crops (core.detection.ensemble_fit), written beside what train.fit_gate keeps there."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from core.detection import ensemble_fit
from core.detection.judge import Judge
from core.models import registry
from core.models.detectors import CROP_SIZE


def small_judge(names=("lstm", "supcon")) -> Judge:
    torch.manual_seed(0)
    return Judge({n: (registry.get_spec(n).build(registry.get_spec(n).config), 1.0) for n in names})


def tiny_sources(n: int = 5) -> list[dict]:
    rng = np.random.default_rng(0)
    return [{"name": name, "truth": truth, "n": n, "crops": rng.integers(0, 256, (n, CROP_SIZE, CROP_SIZE, 3), np.uint8)}
            for name, truth in (("a", "real"), ("b", "fake"))]


def test_both_weight_sets_are_fitted_on_the_detectors_alone_as_evaluate_judges_them():
    from core.detection.augment import jpeg_crops
    from train import evaluate

    judge = small_judge()
    judge.realonly, judge.gate = (lambda crops: np.full(len(crops), 0.9)), 0.5  # has a gate of its own: not an input
    ordered = tiny_sources()
    crops = np.concatenate([s["crops"] for s in ordered])
    views = ensemble_fit.view_probabilities(judge, crops)
    fitted = ensemble_fit.fit_ensemble(judge, ordered, crops, views)
    assert set(views) == set(ensemble_fit.COMPRESSED_VIEWS)
    assert set(fitted["weights"]) == set(fitted["compressed"]["weights"]) == set(judge.detectors)
    assert sum(fitted["weights"].values()) == pytest.approx(1) and fitted["shift"] >= 0
    assert fitted["fitted_on"] == "validation crops of a, b"
    for view, again in (("clean", evaluate.judged(judge, crops)), ("jpeg75", evaluate.judged(judge, jpeg_crops(crops, 75)))):
        assert set(views[view]) == set(judge.detectors)
        for k in judge.detectors:
            np.testing.assert_allclose(views[view][k], again[k], rtol=1e-6)
    assert ensemble_fit.fit_ensemble(judge, ordered, crops) == fitted  # the views computed, or handed over
    assert judge.weights == {"lstm": 0.5, "supcon": 0.5}  # the judge is left as it was


def test_the_command_writes_its_entries_and_keeps_the_gate(tmp_path, monkeypatch, capsys):
    import core.detection.judge
    from core.detection.judge import Familiarity, read_compressed_ensemble, read_ensemble_weights, read_real_gate
    from train import fit_ensemble

    ensemble, familiarity = tmp_path / "ensemble.json", tmp_path / "familiarity.safetensors"
    monkeypatch.setattr(core.detection.judge, "ensemble_path", lambda: ensemble)
    monkeypatch.setattr(core.detection.judge, "familiarity_path", lambda: familiarity)
    ensemble.write_text(json.dumps({"weights": {"old": 1.0}, "shift": 3.0, "real_gate": {"threshold": 0.865},
                                    "note": "anything else stays"}))
    judge = small_judge(("lstm", "cnn"))
    monkeypatch.setattr(Judge, "from_registry", classmethod(lambda cls, names=None, use_hub=True: judge))
    monkeypatch.setattr(fit_ensemble, "validation_sources", lambda judge, args: tiny_sources(6))
    assert fit_ensemble.main(["--threads", "1"]) == 0
    out = capsys.readouterr().out
    data = json.loads(ensemble.read_text())
    assert data["real_gate"] == {"threshold": 0.865} and data["note"] == "anything else stays"
    assert set(read_ensemble_weights()) == set(read_compressed_ensemble()["weights"]) == {"lstm", "cnn"}
    assert data["fitted_on"] == "validation crops of a, b" and read_real_gate() == 0.865
    fam = Familiarity.load(familiarity)
    assert fam is not None and fam.detector == "cnn" and fam.threshold > 0
    assert "kept as it was: real_gate, note" in out and "python -m train.fit_gate" in out


def test_the_command_needs_faces_of_both_kinds(monkeypatch, capsys):
    from train import fit_ensemble

    judge = small_judge()
    monkeypatch.setattr(Judge, "from_registry", classmethod(lambda cls, names=None, use_hub=True: judge))
    monkeypatch.setattr(fit_ensemble, "validation_sources", lambda judge, args: tiny_sources()[:1])
    assert fit_ensemble.main(["--dry-run"]) == 2
    assert "python -m train.detector_data" in capsys.readouterr().err


def test_dry_run_fits_a_few_faces_of_every_source_and_writes_nothing(celeba_dir, tmp_path, capsys):
    """End to end with the bundled detectors: CelebA's photos (the one real folder here) and fresh samples of
    the lab's generators, a few each; weights/ and the crop caches stay as they were."""
    from conftest import weights_fingerprint

    from core.data.sources import LAB_GENERATORS
    from core.detection.judge import ensemble_path
    from train import fit_ensemble

    data, cache = tmp_path / "data", tmp_path / "cache"
    (data / "celeba" / "val").mkdir(parents=True)
    for p in sorted((celeba_dir / "val").rglob("*.jpg"))[:8]:
        shutil.copy(p, data / "celeba" / "val" / p.name)
    before = weights_fingerprint()
    assert fit_ensemble.main(["--dry-run", "--data", str(data), "--cache-dir", str(cache), "--threads", "1"]) == 0
    assert weights_fingerprint() == before
    assert not cache.exists() or not any(cache.iterdir())
    out = capsys.readouterr().out
    assert "dry run: nothing written" in out and "familiarity check: cnn features" in out
    would = json.loads(out.split("would read:\n", 1)[1].split("\nand ", 1)[0])
    assert would["fitted_on"] == "validation crops of " + ", ".join(["celeba", *LAB_GENERATORS])
    assert set(would["weights"]) == set(would["compressed"]["weights"]) == set(registry.names("detector"))
    bundled = json.loads(ensemble_path().read_text()) if ensemble_path().exists() else {}
    assert set(bundled) <= set(would) and would.get("real_gate") == bundled.get("real_gate")  # train.fit_gate's
