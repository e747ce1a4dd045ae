"""train.evaluate end to end on tiny folders, bad files included."""

import csv
import json

import pytest
from PIL import Image

from core.gan.sampling import encode_image, generate, sample_latents
from core.models import registry


def test_evaluate_reads_folders_skips_bad_files_and_writes_figures(celeba_dir, tmp_path, capsys):
    from train import evaluate

    real, fake = tmp_path / "real", tmp_path / "fake" / "nested"
    real.mkdir()
    fake.mkdir(parents=True)
    for p in sorted((celeba_dir / "val").rglob("*.jpg"))[:6]:
        (real / p.name).write_bytes(p.read_bytes())
    (real / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (real / "notes.png").write_bytes(b"")
    Image.new("RGB", (120, 120), (90, 90, 90)).save(real / "no-face.png")
    gen = registry.load("dcgan-64", use_hub=False)
    for i, face in enumerate(generate(gen.model, sample_latents(6, gen.config["nz"], 31_337))):
        (fake / f"{i}.png").write_bytes(encode_image(face))
    out, gallery, scores = tmp_path / "eval.json", tmp_path / "gallery.png", tmp_path / "scores.csv"
    assert evaluate.main(["--real", str(real), "--fake", str(tmp_path / "fake"), "--json", str(out),
                          "--gallery", str(gallery), "--scores", str(scores), "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    figures = json.loads(out.read_text())
    assert figures["counts"]["real"] == {"files": 9, "unreadable": 2, "no_face": 1, "judged": 6}
    assert figures["counts"]["fake"]["files"] == 6 and figures["counts"]["fake"]["judged"] >= 5
    figures["counts"] = {"real": figures["counts"]["real"], "fake": figures["counts"]["fake"]}
    for name in [*registry.names("detector"), "ensemble"]:
        r = figures["results"][name]
        assert r["count"] == 6 + figures["counts"]["fake"]["judged"]
        assert 0.0 <= r["accuracy"] <= 1.0 and 0.0 <= r["auc"] <= 1.0 and r["jpeg75_auc"] is not None
        assert sum(map(sum, r["confusion"])) == r["count"]
        assert name in printed
    assert figures["results"]["ensemble"]["auc"] > 0.8  # 6 real vs ~6 generated faces
    assert figures["results"]["ensemble"]["half_scale_auc"] is not None
    assert Image.open(gallery).size[0] > 100
    rows = list(csv.DictReader(scores.open()))
    judged = 6 + figures["counts"]["fake"]["judged"]
    assert len(rows) == judged
    assert list(rows[0]) == ["path", "truth", "source", *registry.names("detector"), "ensemble", "verdict"]
    assert {r["source"] for r in rows} == {"real", "fake"} and {r["truth"] for r in rows} == {"real", "fake"}
    assert all(r["verdict"] in ("real", "GAN-made", "uncertain") for r in rows)
    assert all(r["truth"] == r["source"] for r in rows)  # each folder is one source, named by the folder
    assert not any("broken" in r["path"] or "no-face" in r["path"] for r in rows)


def test_evaluate_takes_many_folders_and_tables_each_source(celeba_dir, tmp_path, capsys):
    """Two real and two fake folders: one row per source, each fake's AUC against both reals pooled."""
    from train import evaluate

    photos = sorted((celeba_dir / "val").rglob("*.jpg"))
    folders = {}
    for name, picks in (("real_a", photos[:4]), ("real_b", photos[4:8])):
        folders[name] = tmp_path / name
        folders[name].mkdir()
        for p in picks:
            (folders[name] / p.name).write_bytes(p.read_bytes())
    for name, model, seed in (("gan_a", "dcgan-64", 1), ("gan_b", "lsgan-80", 2)):
        folders[name] = tmp_path / name
        folders[name].mkdir()
        gen = registry.load(model, use_hub=False)
        for i, face in enumerate(generate(gen.model, sample_latents(4, gen.config["nz"], seed))):
            (folders[name] / f"{i}.png").write_bytes(encode_image(face))
    out, scores = tmp_path / "eval.json", tmp_path / "scores.csv"
    assert evaluate.main(["--real", str(folders["real_a"]), str(folders["real_b"]), "--fake", str(folders["gan_a"]),
                          str(folders["gan_b"]), "--json", str(out), "--scores", str(scores), "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    table = json.loads(out.read_text())["per_source"]
    assert list(table) == ["real_a", "real_b", "gan_a", "gan_b"]
    rows = list(csv.DictReader(scores.open()))
    for name, r in table.items():
        assert name in printed
        mine = [row for row in rows if row["source"] == name]
        assert len(mine) == r["count"]
        gan = sum(row["verdict"] == "GAN-made" for row in mine) / len(mine)
        assert r["called_gan"] == pytest.approx(gan)
        if r["truth"] == "fake":
            assert 0.0 <= r["auc"] <= 1.0 and set(r) >= {f"auc_{d}" for d in registry.names("detector")}
        else:
            assert "auc" not in r


def test_evaluate_refuses_missing_folders(tmp_path, capsys):
    from train import evaluate

    assert evaluate.main(["--real", str(tmp_path / "none"), "--fake", str(tmp_path)]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert evaluate.main([]) == 2
    assert "--split val" in capsys.readouterr().err
    assert evaluate.main(["--real", str(tmp_path), "--fake", str(tmp_path), "--fit-ensemble"]) == 2


def test_fit_ensemble_fits_both_weight_sets_and_hands_evaluate_what_it_judged(tmp_path, monkeypatch):
    import numpy as np
    import torch

    import core.detection.judge
    from core.detection.augment import jpeg_crops
    from core.detection.judge import Judge, read_compressed_ensemble
    from core.models.detectors import CROP_SIZE
    from train import evaluate

    monkeypatch.setattr(core.detection.judge, "ensemble_path", lambda: tmp_path / "ensemble.json")
    torch.manual_seed(0)
    judge = Judge({n: (registry.get_spec(n).build(registry.get_spec(n).config), 1.0) for n in ("lstm", "supcon")})
    rng = np.random.default_rng(0)
    real, fake = (rng.integers(0, 256, (5, CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8) for _ in range(2))
    ordered = [{"name": "a", "truth": "real", "n": 5}, {"name": "b", "truth": "fake", "n": 5}]
    views = evaluate.fit_ensemble(judge, ordered, real, fake)
    bundled = json.loads((tmp_path / "ensemble.json").read_text())
    assert bundled["weights"] == judge.weights and bundled["shift"] == judge.shift
    assert read_compressed_ensemble() == {"weights": bundled["compressed"]["weights"],
                                          "shift": bundled["compressed"]["shift"]} == judge.compressed
    assert set(views) == set(evaluate.COMPRESSED_VIEWS)
    crops = np.concatenate([real, fake])
    for view, again in (("clean", evaluate.judged(judge, crops)), ("jpeg75", evaluate.judged(judge, jpeg_crops(crops, 75)))):
        assert set(views[view]) == set(judge.detectors)  # what evaluate would judge without them
        for k in judge.detectors:
            np.testing.assert_allclose(views[view][k], again[k], rtol=1e-6)
    # the ensemble of a compressed crop uses the compressed set, the others the plain one
    mixed = evaluate.with_ensemble(judge, views["clean"], np.r_[np.ones(5, bool), np.zeros(5, bool)])
    np.testing.assert_allclose(mixed["ensemble"][:5], judge.ensemble({k: v[:5] for k, v in views["clean"].items()}, True))
    np.testing.assert_allclose(mixed["ensemble"][5:], judge.ensemble({k: v[5:] for k, v in views["clean"].items()}))
