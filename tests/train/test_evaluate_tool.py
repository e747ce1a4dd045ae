"""train.evaluate end to end on tiny folders, bad files included."""

import csv
import json

import pytest
from PIL import Image

import core.detection.realonly
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
    coder = core.detection.realonly.load()  # where it is bundled: its score, and each of its two models alone
    realonly = [] if coder is None else ["real-only"] + (
        ["real-only (coder)", "real-only (features)"] if core.detection.realonly.load_features(coder[1]) else [])
    assert list(rows[0]) == ["path", "truth", "source", *registry.names("detector"), *realonly, "ensemble",
                             "verdict-score", "verdict"]
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


def test_evaluate_refuses_to_fit_and_says_which_command_does(capsys):
    from train import evaluate

    assert evaluate.main(["--split", "val", "--fit-ensemble"]) == 2
    err = capsys.readouterr().err
    assert "python -m train.fit_ensemble" in err and "python -m train.fit_gate" in err
    assert "--fit-ensemble" not in evaluate.parser().format_help()


def test_evaluate_of_the_validation_split_writes_nothing_under_weights(celeba_dir, tmp_path, capsys):
    """Evaluation reads, fitting writes: without --record nothing under weights/ changes (train.fit_ensemble
    and train.fit_gate are what write the ensemble, its guards, the familiarity check and the gate)."""
    import shutil

    from conftest import weights_fingerprint

    from train import evaluate

    data, cache = tmp_path / "data", tmp_path / "cache"
    (data / "celeba" / "val").mkdir(parents=True)
    for p in sorted((celeba_dir / "val").rglob("*.jpg"))[:3]:
        shutil.copy(p, data / "celeba" / "val" / p.name)
    before = weights_fingerprint()
    out = tmp_path / "eval.json"
    assert evaluate.main(["--split", "val", "--limit", "3", "--data", str(data), "--cache-dir", str(cache),
                          "--threads", "1", "--json", str(out), "--scores", str(tmp_path / "scores.csv"),
                          "--gallery", str(tmp_path / "gallery.png")]) == 0
    assert weights_fingerprint() == before
    assert not cache.exists() or not any(cache.iterdir())  # --limit never touches the crop caches
    table = json.loads(out.read_text())["per_source"]
    assert table["celeba"]["truth"] == "real" and table["dcgan-64"]["truth"] == "fake"
    assert "celeba" in capsys.readouterr().out


def test_compressed_crops_get_the_compressed_weights():
    import numpy as np

    from core.detection.judge import Judge
    from train import evaluate

    judge = Judge({n: (registry.get_spec(n).build(registry.get_spec(n).config), 1.0) for n in ("lstm", "supcon")},
                  weights={"lstm": 0.8, "supcon": 0.2}, shift=0.5,
                  compressed={"weights": {"lstm": 0.1, "supcon": 0.9}, "shift": 1.0})
    rng = np.random.default_rng(0)
    probs = {"lstm": rng.random(10), "supcon": rng.random(10)}
    mixed = evaluate.with_ensemble(judge, probs, np.r_[np.ones(5, bool), np.zeros(5, bool)])
    np.testing.assert_allclose(mixed["ensemble"][:5], judge.ensemble({k: v[:5] for k, v in probs.items()}, True))
    np.testing.assert_allclose(mixed["ensemble"][5:], judge.ensemble({k: v[5:] for k, v in probs.items()}))
    assert not np.allclose(judge.ensemble(probs, True), judge.ensemble(probs))

