"""train.evaluate end to end on tiny folders, bad files included."""

import json

from PIL import Image

from core import registry
from core.sampling import encode_image, generate, sample_latents


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
    out, gallery = tmp_path / "eval.json", tmp_path / "gallery.png"
    assert evaluate.main(["--real", str(real), "--fake", str(tmp_path / "fake"), "--json", str(out),
                          "--gallery", str(gallery), "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    figures = json.loads(out.read_text())
    assert figures["counts"]["real"] == {"files": 9, "unreadable": 2, "no_face": 1, "judged": 6}
    assert figures["counts"]["fake"]["files"] == 6 and figures["counts"]["fake"]["judged"] >= 5
    for name in [*registry.names("detector"), "ensemble"]:
        r = figures["results"][name]
        assert r["count"] == 6 + figures["counts"]["fake"]["judged"]
        assert 0.0 <= r["accuracy"] <= 1.0 and 0.0 <= r["auc"] <= 1.0 and r["jpeg75_auc"] is not None
        assert sum(map(sum, r["confusion"])) == r["count"]
        assert name in printed
    assert figures["results"]["ensemble"]["auc"] > 0.9  # 6 real vs ~6 generated faces: easy for the bundled ones
    assert Image.open(gallery).size[0] > 100


def test_evaluate_refuses_missing_folders(tmp_path, capsys):
    from train import evaluate

    assert evaluate.main(["--real", str(tmp_path / "none"), "--fake", str(tmp_path)]) == 2
    assert "not a folder" in capsys.readouterr().err
