"""The command lines users run, end to end on small inputs."""

import dataclasses
import json

import numpy as np
import pytest
from huggingface_hub import ModelCard
from PIL import Image

from core.data.caches import load_cache
from core.io.store import read_json


def test_sample_writes_one_png_per_face(tmp_path, capsys):
    from train import sample

    assert sample.main(["--model", "dcgan-64", "--n", "5", "--seed", "3", "--out", str(tmp_path)]) == 0
    files = sorted(tmp_path.glob("*.png"))
    assert len(files) == 5
    faces = [np.asarray(Image.open(f)) for f in files]
    assert all(f.shape == (64, 64, 3) for f in faces)
    assert not np.array_equal(faces[0], faces[1])
    assert "bundled" in capsys.readouterr().out
    # same seed, same faces
    again = tmp_path / "again"
    sample.main(["--model", "dcgan-64", "--n", "1", "--seed", "3", "--out", str(again)])
    alone = np.asarray(Image.open(next(again.glob("*.png")))).astype(int)
    # alone or in a batch of 5, CPU kernels may round differently: within 3 of 255 levels
    assert np.abs(alone - faces[0].astype(int)).max() <= 3


def test_sample_unknown_model_is_a_message_not_a_traceback(tmp_path, capsys):
    from train import sample

    assert sample.main(["--model", "nope", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'nope'" in err and "dcgan-64" in err and "Traceback" not in err


def test_prepare_data_builds_the_cache_and_skips_bad_files(celeba_dir, tmp_path):
    from train import prepare_data

    src = tmp_path / "celeba"
    (src / "train" / "x").mkdir(parents=True)
    for p in sorted((celeba_dir / "train").rglob("*.jpg"))[:3]:
        (src / "train" / "x" / p.name).write_bytes(p.read_bytes())
    (src / "train" / "x" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.warns(UserWarning, match="broken.jpg"):
        prepare_data.main(["--src", str(src), "--splits", "train", "--cache-dir", str(tmp_path / "cache")])
    images = load_cache(tmp_path / "cache" / "celeba-center64-train.safetensors")
    assert images.shape == (3, 3, 64, 64) and str(images.dtype) == "torch.uint8"


def test_missing_cache_names_the_command_that_makes_it(tmp_path, capsys):
    from train import dcgan

    assert dcgan.main(["--dry-run", "--data", str(tmp_path / "none.safetensors"), "--out", str(tmp_path)]) == 2
    assert "python -m train.prepare_data" in capsys.readouterr().err


def test_bundle_copies_measures_and_writes_a_model_card(tiny_cache, tmp_path):
    from train import bundle, dcgan

    run = tmp_path / "run"
    assert dcgan.main(["--dry-run", "--data", str(tiny_cache), "--out", str(run)]) == 0
    assert bundle.main(["--run", str(run), "--name", "dcgan-64", "--dest", str(tmp_path / "w"), "--n", "8"]) == 0
    dest = tmp_path / "w" / "dcgan-64"
    assert not (dest / "checkpoint.pt").exists()
    assert (dest / "snapshots" / "epoch_001.jpg").exists()
    quality = read_json(dest / "training.json")["quality"]
    assert quality["n"] == 8 and 0.0 <= quality["face_found_rate"] <= 1.0
    card = (dest / "README.md").read_text()
    assert ModelCard(card).data.license == "other" and "non-commercial research purposes only" in card
    assert "faces found by MTCNN" in card
    # what the run computed in, as its record says (bfloat16 on a CPU with AVX512-BF16 or AMX, else float32)
    assert f"| precision | {read_json(dest / 'training.json')['precision']} |" in card


def test_evaluate_generators_reports_model_and_real_ceiling(tmp_path, capsys):
    from train import evaluate_generators

    out = tmp_path / "q.json"
    assert evaluate_generators.main(["--models", "dcgan-64", "--n", "16", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["dcgan-64"]["n"] == 16 and 0 <= results["dcgan-64"]["face_found_rate"] <= 1
    assert "faces found" in capsys.readouterr().out


def test_evaluate_generators_measures_a_run_folder_beside_the_bundled_model(tmp_path):
    import shutil

    from core.models import registry
    from train import evaluate_generators

    run = tmp_path / "my-run"  # a run folder as train.dcgan leaves it: the bundle's files will do
    shutil.copytree(registry.get_spec("dcgan-64").bundled_dir, run)
    out = tmp_path / "q.json"
    assert evaluate_generators.main(["--models", "--run", str(run), "--like", "dcgan-64", "--n", "8",
                                     "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert list(results) == [str(run)] and results[str(run)]["n"] == 8


def test_evaluate_generators_record_writes_the_figures_and_the_card(tmp_path, monkeypatch, capsys):
    import shutil

    from core.io.store import file_sha256, read_json
    from core.models import registry
    from train import evaluate_generators

    spec = registry.get_spec("dcgan-64")
    shutil.copytree(spec.bundled_dir, tmp_path / "dcgan-64")
    monkeypatch.setitem(registry.SPECS, "dcgan-64", dataclasses.replace(spec, bundled=tmp_path))
    before = file_sha256(tmp_path / "dcgan-64" / "model.safetensors")
    assert evaluate_generators.main(["--models", "dcgan-64", "--n", "8", "--record"]) == 0
    q = read_json(tmp_path / "dcgan-64" / "training.json")["quality"]
    assert q["n"] == 8 and q["threshold"] == 0.99 and "seconds" not in q
    assert "| faces found by MTCNN (p >= 0.99, 8 samples" in (tmp_path / "dcgan-64" / "README.md").read_text()
    assert read_json(tmp_path / "dcgan-64" / "training.json")["weights_sha256"] == before  # still loads
    registry.load("dcgan-64", use_hub=False)
    assert "recorded in" in capsys.readouterr().out


def test_training_flags_are_the_config_fields_with_their_defaults():
    """train.common.add_config_flags: no flag re-listed by hand, so none drifts from the dataclass."""
    import argparse

    from core.detection.trainer import DetectorTrainConfig
    from core.gan.trainer import TrainConfig
    from train.common import GAN_HELP, add_config_flags, add_train_flags, config_from_args, train_config_from
    from train.detector import DETECTOR_HELP

    ap = argparse.ArgumentParser()
    add_train_flags(ap)
    assert train_config_from(ap.parse_args([])) == TrainConfig()
    cfg = train_config_from(ap.parse_args(["--batch-size", "32", "--no-hflip", "--diffaug", "color", "--lr", "1e-4"]))
    assert (cfg.batch_size, cfg.hflip, cfg.diffaug, cfg.lr) == (32, False, "color", 1e-4)
    assert set(GAN_HELP) <= {f.name for f in dataclasses.fields(TrainConfig)}

    ap = argparse.ArgumentParser()
    ap.add_argument("--arch")
    add_config_flags(ap, DetectorTrainConfig, DETECTOR_HELP)
    assert config_from_args(DetectorTrainConfig, ap.parse_args(["--arch", "cnn"])) == DetectorTrainConfig(arch="cnn")
    d = config_from_args(DetectorTrainConfig, ap.parse_args(["--arch", "lstm", "--per-epoch", "100", "--patience", "2"]))
    assert (d.arch, d.per_epoch, d.patience) == ("lstm", 100, 2)
    assert set(DETECTOR_HELP) <= {f.name for f in dataclasses.fields(DetectorTrainConfig)}
