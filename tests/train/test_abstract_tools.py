"""The abstract-art data step and training script: a split by painting, random square crops, a dry run."""

import numpy as np
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file

from core.data.abstract import (
    SCALES,
    abstract_cache_path,
    build_abstract_caches,
    duplicate_groups,
    random_square_crops,
    split_by_painting,
)


def paintings(folder, n=12):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        w, h = (120, 80) if i % 2 else (70, 110)  # landscape and portrait
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(folder / f"p{i:02d}.jpg")
    return folder


def test_crops_are_squares_at_every_scale():
    img = Image.new("RGB", (200, 100), (10, 200, 30))
    crops = random_square_crops(img, 32, 2, np.random.default_rng(0))
    assert len(crops) == 2 * len(SCALES) and all(c.shape == (32, 32, 3) for c in crops)


def test_a_painting_photographed_twice_stays_on_one_side_of_the_split():
    rng = np.random.default_rng(1)
    thumbs = [rng.normal(size=256) for _ in range(20)]
    thumbs.append(thumbs[3] + rng.normal(scale=0.01, size=256))  # a second photograph of painting 3
    thumbs.append(thumbs[5].reshape(16, 16)[:, ::-1].ravel().copy())  # painting 5, mirrored
    groups = duplicate_groups(thumbs)
    assert groups[20] == groups[3] and groups[21] == groups[5] and len(set(groups)) == 20
    for seed in range(10):
        sides = split_by_painting(groups, 0.25, seed)
        assert sides[20] == sides[3] and sides[21] == sides[5] and 1 <= sides.count("val") < 10


def test_caches_hold_crops_owners_and_whole_paintings(tmp_path):
    src = paintings(tmp_path / "src")
    made = build_abstract_caches(src, size=16, per_scale=2, held_out=0.25, cache_dir=tmp_path)
    assert made.counts["train"]["paintings"] + made.counts["val"]["paintings"] == 12
    assert made.counts["val"]["paintings"] == 3 and not set(made.files["train"]) & set(made.files["val"])
    train = load_file(str(abstract_cache_path("train", 16, tmp_path)))
    assert train["images"].shape == (9 * 2 * len(SCALES), 3, 16, 16) and train["full"].shape == (9, 3, 16, 16)
    assert train["painting"].max().item() == 8
    with safe_open(str(abstract_cache_path("val", 16, tmp_path)), "pt") as f:
        assert len(__import__("json").loads(f.metadata()["files"])) == 3


def test_prepare_and_a_dry_run_train_through_the_one_loop(tmp_path):
    from train import dcgan_abstract, prepare_abstract

    src = tmp_path / "abstract"
    paintings(src / "kandinsky-1919-1944", n=10)
    cache = tmp_path / "cache"
    assert prepare_abstract.main(["--src", str(src), "--size", "64", "--per-scale", "4", "--cache-dir", str(cache)]) == 0
    run = tmp_path / "run"
    data = abstract_cache_path("train", 64, cache)
    assert dcgan_abstract.main(["--dry-run", "--data", str(data), "--out", str(run), "--batch-size", "8",
                                "--diffaug", "color,translation,cutout"]) == 0
    assert (run / "model.safetensors").exists() and (run / "checkpoint.pt").exists()
    import json

    record = json.loads((run / "training.json").read_text())
    assert "Kandinsky" in record["dataset"] and record["train_config"]["diffaug"] == "color,translation,cutout"


def test_the_art_detector_dry_run_trains_the_lstm_on_whole_images(tmp_path, capsys):
    """train.art_detector --dry-run: real paintings' crops against a GAN's samples, the whole image, no face cropper."""
    import json

    from train import art_detector, dcgan_abstract, prepare_abstract

    src = tmp_path / "abstract"
    paintings(src / "kandinsky-1919-1944", n=10)
    cache = tmp_path / "cache"
    assert prepare_abstract.main(["--src", str(src), "--per-scale", "4", "--held-out", "0.2",
                                  "--cache-dir", str(cache)]) == 0
    gan = tmp_path / "gan"
    assert dcgan_abstract.main(["--dry-run", "--data", str(abstract_cache_path("train", 64, cache)), "--out", str(gan),
                                "--batch-size", "8"]) == 0
    out = tmp_path / "art"
    assert art_detector.main(["--dry-run", "--gan", str(gan), "--cache-dir", str(cache), "--out", str(out)]) == 0
    record = json.loads((out / "training.json").read_text())
    assert record["crop"]["cropper"] == "none (whole image)" and record["subject"] == "abstract"
    lstm = record["art_comparison"]["lstm"]
    assert lstm["n"] == lstm["real_n"] + lstm["fake_n"] and 0 <= lstm["accuracy"] <= 1
    assert "lstm" in capsys.readouterr().out
    assert json.loads((out / "config.json").read_text())["subject"] == "abstract"

    # bundled as art-lstm the way weights/art-lstm was: no face spectra needed, a card of a painting judge
    from core.models import registry
    from train import bundle

    dest = tmp_path / "weights"
    assert bundle.main(["--run", str(out), "--name", "art-lstm", "--dest", str(dest)]) == 0
    assert not (dest / "art-lstm" / "spectra.json").exists()
    model, config, _ = registry.load_folder(registry.get_spec("art-lstm"), dest / "art-lstm")
    assert config["subject"] == "abstract"
    assert "paintings, not faces" in (dest / "art-lstm" / "README.md").read_text()
