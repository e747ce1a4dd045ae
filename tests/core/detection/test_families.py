"""Detectors side by side (issue 19): the DenseNet and Xception detectors, their training script,
that the app's verdict never counts them, and the comparison (with the LSTM and the GANs' own
discriminators) on the Training History page."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from core.detection import families
from core.detection.explain import grad_cam
from core.models import discriminators, registry
from core.models.detectors import CROP_SIZE, to_input

PAGE = "pages/training_history.py"
FAMILY_MODELS = registry.names("detector", comparison=True)


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def test_the_families_are_registered_as_comparison_detectors():
    assert FAMILY_MODELS == ["cnn-densenet", "cnn-xception"]
    assert families.members() == ["cnn", *FAMILY_MODELS, "lstm", *(f"D-{g}" for g in registry.names("generator"))]
    for name in FAMILY_MODELS:
        spec = registry.get_spec(name)
        assert spec.kind == "detector" and spec.comparison
        assert spec.config["residual"] == "npr" and spec.config["image_size"] == CROP_SIZE  # the app's CNN's input
        assert registry.spec_for_arch(spec.config["arch"]) is spec
    assert registry.spec_for_arch("cnn").name == "cnn"
    with pytest.raises(registry.UnknownModelError, match="densenet"):
        registry.spec_for_arch("nasnet")


@pytest.mark.parametrize("name", FAMILY_MODELS)
def test_family_forward_pass_gives_one_logit_per_crop_at_about_the_resnets_size(name):
    spec = registry.get_spec(name)
    torch.manual_seed(0)
    model = spec.build(spec.config).eval()
    crops = np.random.default_rng(0).integers(0, 256, (3, CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)
    with torch.no_grad():
        out = model(to_input(crops))
        features = model.body(to_input(crops))
    assert out.shape == (3,) and torch.isfinite(out).all()
    assert features.shape == (3, model.body.out_dim)
    resnet = registry.get_spec("cnn")
    ratio = n_params(model) / n_params(resnet.build(resnet.config))
    assert 0.3 < ratio < 3.0, f"{name} has {ratio:.2f}x the ResNet's parameters"
    cam = grad_cam(model, torch.randn(1, 3, CROP_SIZE, CROP_SIZE))  # the same body/stages as the ResNet's
    assert cam.shape == (CROP_SIZE, CROP_SIZE) and 0 <= cam.min() and cam.max() <= 1


@pytest.mark.parametrize("arch", ["densenet", "xception"])
def test_train_detector_dry_run_trains_each_family(arch, celeba_dir, tmp_path):
    from core.io.store import read_history
    from train import detector

    run = tmp_path / arch
    assert detector.main(["--arch", arch, "--dry-run", "--threads", "1", "--sources", "celeba", "dcgan-64",
                          "--data", str(celeba_dir.parent), "--cache-dir", str(tmp_path / "cache"),
                          "--out", str(run)]) == 0
    spec = registry.spec_for_arch(arch)
    model, config, training = registry.load_folder(spec, run)
    assert config["arch"] == arch and config["residual"] == "npr" and config["temperature"] > 0
    assert training["arch"] == arch and set(training["val_by_source"]) == {"celeba", "dcgan-64"}
    assert {r["phase"] for r in read_history(run / "history.jsonl")} == {"classifier"}
    # the same recipe as the app's CNN: augmentation and optimiser settings
    cnn_training = json.loads((registry.get_spec("cnn").bundled_dir / "training.json").read_text())
    assert training["augment"] == cnn_training["augment"]
    assert training["train_config"]["lr"] == cnn_training["train_config"]["lr"]


def test_the_families_never_enter_the_apps_verdict():
    from core.detection.judge import Judge, read_ensemble_weights

    apps = ["lstm", "cnn", "supcon", "probe", "probe-texture"]
    assert registry.names("detector") == apps  # what the app, Home and the ensemble load
    assert not set(FAMILY_MODELS) & set(registry.names())
    weights = read_ensemble_weights()
    assert weights is not None and set(weights) == set(apps)
    judge = Judge.from_registry(use_hub=False)
    assert set(judge.detectors) == set(apps)
    assert judge.weights == pytest.approx(weights)  # the fitted weights, not equal shares


def test_evaluate_records_parameters_and_ms_per_face_for_one_family():
    from core.detection.judge import Judge
    from train import evaluate

    spec = registry.get_spec("cnn-xception")
    torch.manual_seed(0)
    judge = Judge({spec.name: (spec.build(spec.config), 1.0)})
    rng = np.random.default_rng(0)
    real, fake = (rng.integers(0, 256, (4, CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8) for _ in range(2))
    r = evaluate.evaluate(judge, real, fake)["results"]
    assert r[spec.name]["parameters"] == n_params(judge.detectors[spec.name][0])
    assert r[spec.name]["ms_per_face"] > 0 and r[spec.name]["threads"] >= 1
    assert "ms_per_face" not in r["ensemble"]
    assert r["ensemble"]["auc"] == pytest.approx(r[spec.name]["auc"])  # alone, the "ensemble" is the detector


# --- the comparison on Training History -----------------------------------------------------------

SOURCES = {"celeba": "real", "ffhq": "real", "stylegan2": "fake", "dcgan-64": "fake"}


def fake_record(name: str, auc: float, accuracy: float, own_auc: float | None = None) -> dict:
    """A record shaped as `train.evaluate --split val --detectors NAME --json` writes it (a discriminator's
    with `--own-run`: its own generator's row, out of the pool)."""
    per_source = {s: {"truth": t, "count": 20, "called_gan": 0.9 if t == "fake" else 0.05, "uncertain": 0.0,
                      "called_real": 0.1 if t == "fake" else 0.95} for s, t in SOURCES.items()}
    if own_auc is not None:
        per_source["own-run"] = {"truth": "fake", "count": 20, "called_gan": 0.6, "uncertain": 0.1, "called_real": 0.3,
                                 "auc": own_auc, "pooled": False}
    for s, t in SOURCES.items():
        if t == "fake":
            per_source[s].update(auc=auc - 0.01, auc_ensemble=auc - 0.01)
    result = {"count": 80, "accuracy": accuracy, "auc": auc, "average_precision": auc, "eer": 0.05, "ece": 0.02,
              "jpeg75_auc": auc - 0.02, "jpeg75_accuracy": accuracy, "half_scale_auc": auc - 0.03,
              "roc": {"fpr": [0.0, 0.1, 1.0], "tpr": [0.0, 0.9, 1.0]}, "confusion": [[38, 2], [4, 36]],
              "parameters": 300_000, "ms_per_face": 4.5, "threads": 1}
    return {"split": "val", "results": {name: result, "ensemble": dict(result)}, "per_source": per_source,
            "band": [0.35, 0.65]}


@pytest.fixture
def records(monkeypatch, tmp_path) -> Path:
    """Records for cnn, cnn-densenet (bundled in a temp folder), lstm and dcgan-64's discriminator (kept in
    a temp folder); cnn-xception and the other GANs' discriminators have no weights."""
    record_dir = tmp_path / "records"
    record_dir.mkdir()
    (record_dir / "cnn.json").write_text(json.dumps(fake_record("cnn", 0.990, 0.960)))
    (record_dir / "cnn-densenet.json").write_text(json.dumps(fake_record("cnn-densenet", 0.995, 0.970)))
    (record_dir / "lstm.json").write_text(json.dumps(fake_record("lstm", 0.980, 0.930)))
    (record_dir / "D-dcgan-64.json").write_text(json.dumps(fake_record("D-dcgan-64", 0.700, 0.600, own_auc=0.850)))
    d_folder = tmp_path / "discriminators" / "dcgan-64"
    d_folder.mkdir(parents=True)
    # no model.safetensors: as on the Space (train.push_space leaves a discriminator's weights out), its record will do
    (d_folder / "training.json").write_text(json.dumps({"wall_time_s": 915.0, "epochs_done": 36}))
    monkeypatch.setattr(discriminators, "folder_of", lambda gan: tmp_path / "discriminators" / gan)
    bundled = tmp_path / "weights"
    (bundled / "cnn-densenet").mkdir(parents=True)
    (bundled / "cnn-densenet" / "model.safetensors").write_bytes(b"stand-in")  # the view never loads it
    (bundled / "cnn-densenet" / "training.json").write_text(json.dumps({"wall_time_s": 1800.0,
                                                                        "epochs_run": {"classifier": 10}}))
    for name in FAMILY_MODELS:
        monkeypatch.setitem(registry.SPECS, name, dataclasses.replace(registry.get_spec(name), bundled=bundled))
    monkeypatch.setattr(families, "RECORD_DIR", record_dir)
    monkeypatch.setattr(families, "GALLERY_DIR", tmp_path / "galleries")
    return record_dir


def test_tables_and_the_best_family_come_from_the_records(records):
    rec = families.read_records()
    assert [r.status for r in rec] == ["evaluated", "evaluated", "not trained", "evaluated", "evaluated",
                                       *["not trained"] * 4]
    rows = families.summary_rows(rec)
    assert [r["Model"] for r in rows] == ["cnn", "cnn-densenet", "lstm", "D-dcgan-64"]
    assert [r["Kind"] for r in rows] == ["CNN family", "CNN family", "recurrent", "GAN discriminator"]
    assert rows[1]["ROC AUC"] == 0.995 and rows[1]["Training"] == "10 epochs, 30 min"
    assert rows[1]["ms per face"] == 4.5 and rows[1]["Parameters"] == 300_000
    assert rows[3]["Detector"] == "D of dcgan-64" and rows[3]["Training"] == "36 epochs, 15 min (its GAN)"
    assert rows[3]["Own generator caught"] == 0.6 and rows[3]["Own generator AUC"] == 0.85
    assert rows[0]["Own generator caught"] is None
    by_source = {r["Source"]: r for r in families.source_rows(rec)}
    assert by_source["ffhq"]["Figure"] == "false alarms" and by_source["ffhq"]["DenseNet"] == 0.05
    assert by_source["stylegan2"]["Figure"] == "caught" and by_source["stylegan2"]["ResNet"] == 0.9
    own = by_source["its own generator"]
    assert own["D of dcgan-64"] == 0.6 and own["ResNet"] is None and list(by_source)[-1] == own["Source"]
    best = families.best_sentence(rec)
    assert "**DenseNet**" in best and "+0.0050" in best and "+1.0 points" in best and "last: D of dcgan-64" in best
    d = families.discriminator_sentence(rec)
    assert "discriminators (1): accuracy 60.0% to 60.0%" in d and "the LSTM alone 93.0% (+33.0 points" in d
    assert "their AUC is 0.850 to 0.850" in d and "58.53%" in d and "72.68%" in d


def opened_history(model: str = "cnn", check: bool = True) -> AppTest:
    """Training History opened on `model`, where the comparison is (with `check`, without an exception)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["model"] = model
    at.run()
    at.switch_page(PAGE).run()
    if check:
        assert not at.exception, at.exception
    return at


@pytest.mark.filterwarnings("ignore")
def test_the_comparison_opens_on_training_history_and_says_what_is_not_trained(records):
    at = opened_history()
    assert "Detectors side by side" in [h.value for h in at.subheader]
    warnings = " ".join(w.value for w in at.warning)
    assert "**Xception** (`cnn-xception`) is not trained yet" in warnings
    assert "train.detector --arch xception" in warnings and "--detectors cnn-xception" in warnings
    assert "**D of lsgan-80** (`D-lsgan-80`) is not trained yet" in warnings
    assert "--discriminator" in warnings and "runs/rerun/lsgan-80" in warnings
    summary = next(d.value for d in at.dataframe if "Detector" in d.value.columns)
    # the model's name beside its family where they differ (a discriminator's family already names it)
    assert list(summary["Detector"]) == ["ResNet (cnn)", "DenseNet (cnn-densenet)", "LSTM (lstm)", "D of dcgan-64"]
    assert summary["ROC AUC"].tolist() == pytest.approx([0.990, 0.995, 0.980, 0.700])
    per_source = next(d.value for d in at.dataframe if "Figure" in d.value.columns)
    assert list(per_source["Source"]) == [*SOURCES, "its own generator"]
    text = " ".join(m.value for m in at.markdown)
    assert "Best on this validation mix: **DenseNet**" in text
    assert "77% to 96%" in text and "other data" in text
    assert "The GANs' own discriminators (1)" in text and "58.53%" in text
    assert summary["Own G (caught / AUC)"].tolist() == ["—", "—", "—", "60.0% / 0.850"]
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    roc = json.loads(at.get("plotly_chart")[titles.index("ROC curves, one per detector (validation mix)")].proto.spec)
    assert [t["name"] for t in roc["data"]][1:] == ["ResNet (cnn) (AUC 0.9900)", "DenseNet (cnn-densenet) (AUC 0.9950)",
                                                   "LSTM (lstm) (AUC 0.9800)", "D of dcgan-64 (D-dcgan-64) (AUC 0.7000)"]
    assert any("No mistakes gallery here" in c.value for c in at.caption)


@pytest.mark.filterwarnings("ignore")
def test_the_comparison_without_any_record_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(families, "RECORD_DIR", tmp_path)
    monkeypatch.setattr(discriminators, "folder_of", lambda gan: tmp_path / "discriminators" / gan)
    for name in FAMILY_MODELS:
        monkeypatch.setitem(registry.SPECS, name, dataclasses.replace(registry.get_spec(name), bundled=tmp_path))
    at = opened_history()
    warnings = " ".join(w.value for w in at.warning)
    assert "**ResNet** (`cnn`) is trained but not evaluated yet" in warnings
    assert "DenseNet" in warnings and "Xception" in warnings and "**LSTM** (`lstm`) is trained but not evaluated" in warnings
    assert "**D of dcgan-64** (`D-dcgan-64`) is not trained yet" in warnings
    assert not [d for d in at.dataframe if "Detector" in d.value.columns]


@pytest.mark.filterwarnings("ignore")
def test_a_gallery_shows_behind_its_switch(records):
    from PIL import Image

    families.GALLERY_DIR.mkdir()
    Image.new("RGB", (64, 32), "white").save(families.gallery_path("cnn-densenet"))
    at = opened_history(check=False)
    assert not at.get("image"), "no faces until asked"
    assert any("No mistakes gallery here for `cnn`" in c.value for c in at.caption)
    at.toggle(key="families_galleries").set_value(True).run()
    assert not at.exception, at.exception
    images = at.get("image")
    assert len(images) == 1 and images[0].proto.imgs[0].caption.startswith("DenseNet (`cnn-densenet`)")


@pytest.mark.filterwarnings("ignore")
def test_a_gans_page_says_how_its_discriminator_does_as_a_detector():
    at = opened_history("lsgan-80")
    record = json.loads((families.RECORD_DIR / "D-lsgan-80.json").read_text())
    info = next(m.value for m in at.markdown if "Its discriminator as a detector" in m.value)
    assert not at.info  # the page's info boxes are the notes on what a link asked for
    assert f"accuracy {record['results']['D-lsgan-80']['accuracy']:.1%}" in info
    assert f"ROC AUC {record['per_source']['own-run']['auc']:.3f}" in info  # its own generator's samples
    assert "Detectors side by side" not in [h.value for h in at.subheader]  # the table itself is on a detector's page


def test_the_abstract_art_rows_come_from_the_art_detectors_record(tmp_path):
    """Issue 36: the LSTM and dcgan-64-abstract's discriminator on paintings, counts and the study's figures."""
    rows = families.art_rows()
    assert [r["Judge"] for r in rows] == ["LSTM (art-lstm)", "D of dcgan-64-abstract"]
    record = json.loads((registry.get_spec("art-lstm").bundled_dir / "training.json").read_text())["art_comparison"]
    lstm, d = record["lstm"], record["discriminator"]
    assert rows[0]["Accuracy"] == lstm["accuracy"] and rows[0]["Right"] == f"{lstm['right']} of {lstm['n']}"
    assert rows[1]["Paintings called real"] == f"{d['real_right']} of {d['real_n']}"
    assert rows[1]["Samples called GAN-made"] == f"{d['fake_right']} of {d['fake_n']}"
    assert [r[families.ART_STUDY_COLUMN] for r in rows] == ["72.68%", "58.53%"]
    sentence = families.art_sentence()
    assert f"{lstm['accuracy']:.2%} of the time ({lstm['right']} of {lstm['n']})" in sentence and "58.53%" in sentence
    assert families.art_rows(tmp_path) == [] and families.art_sentence(tmp_path) == ""  # not bundled: no rows


@pytest.mark.filterwarnings("ignore")
def test_the_abstract_art_table_is_its_own_below_the_faces(records):
    at = opened_history()
    summary = next(d.value for d in at.dataframe if "Detector" in d.value.columns)
    assert not any("art" in str(v) for v in summary["Detector"])  # the faces' table keeps its faces
    art = next(d.value for d in at.dataframe if "Judge" in d.value.columns)
    assert list(art["Judge"]) == ["LSTM (art-lstm)", "D of dcgan-64-abstract"]
    assert "**Abstract art**" in [m.value for m in at.markdown]
    assert any(families.ART_COMMAND in c.value for c in at.caption)
