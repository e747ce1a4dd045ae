"""The GANs' own discriminators as detectors (issue 19): the wrapper's score, the bundled weights, the
framing of their faces, bundling a run's discriminator and judging folders with one."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import image_bytes

from core.detection.faces import Framing, square_crop
from core.models import discriminators, registry
from core.models.dcgan import DCGANConfig, Discriminator
from core.models.detectors import CROP_SIZE, to_input


def crops(n=3, size=CROP_SIZE, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


@pytest.mark.parametrize(("loss", "image_size", "d_norm"), [("dcgan", 64, "batch"), ("lsgan", 80, "spectral")])
def test_the_score_is_p_gan_made_from_the_discriminators_own_output(loss, image_size, d_norm):
    torch.manual_seed(0)
    d = Discriminator(DCGANConfig(image_size=image_size, d_norm=d_norm)).eval()
    det = discriminators.DiscriminatorDetector(d, loss, image_size).eval()
    x = to_input(crops())  # 128 px crops: resized to the discriminator's input
    with torch.no_grad():
        logit = det(x)
        raw = d(torch.nn.functional.interpolate(x, size=(image_size, image_size), mode="bilinear",
                                                align_corners=False, antialias=True))
    assert logit.shape == (3,) and torch.isfinite(logit).all()
    if loss == "dcgan":  # D's logit of "real", turned round
        assert torch.allclose(logit, -raw, atol=1e-5)
    else:  # least squares pulled D to 1 on photos, 0 on samples: P(GAN-made) = 1 - D(x), clipped
        assert torch.allclose(torch.sigmoid(logit), (1 - raw).clamp(1e-3, 1 - 1e-3), atol=1e-5)
    with pytest.raises(ValueError, match="loss"):
        discriminators.DiscriminatorDetector(d, "wgan", image_size)


def test_every_bundled_gan_keeps_its_discriminator_in_half_precision():
    from safetensors import safe_open

    assert discriminators.names() == registry.names("generator")
    for gan in discriminators.names():
        model, config, training = discriminators.load(gan)
        spec = registry.get_spec(gan)
        assert config["image_size"] == spec.config["image_size"] and config["loss"] == discriminators.loss_of(
            spec.config["arch"])
        assert discriminators.framing_of(config) == discriminators.framing_for(spec.framing)
        with safe_open(str(discriminators.folder_of(gan) / "model.safetensors"), framework="pt") as f:
            assert {f.get_tensor(k).dtype for k in f.keys() if f.get_tensor(k).is_floating_point()} == {torch.float16}
        # a second run of the bundled generator's recipe, and it says so
        assert training["run"] == f"runs/rerun/{gan}" and training["finished"]
        assert training["same_run_as_bundled_generator"] is False
        assert training["train_config"]["seed"] == json.loads((spec.bundled_dir / "training.json").read_text())[
            "train_config"]["seed"]
        with torch.no_grad():
            p = torch.sigmoid(model(to_input(crops(2))))
        assert p.shape == (2,) and ((0 <= p) & (p <= 1)).all()


def test_a_damaged_discriminator_is_refused_with_a_clear_message(tmp_path):
    import shutil

    folder = tmp_path / "d"
    shutil.copytree(discriminators.folder_of("dcgan-64"), folder)
    data = bytearray((folder / "model.safetensors").read_bytes())
    data[-10:] = b"\0" * 10
    (folder / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(registry.WeightsError, match="damaged"):
        discriminators.load("dcgan-64", folder)
    with pytest.raises(registry.WeightsError, match="--discriminator"):
        discriminators.load("dcgan-64", tmp_path / "nothing")


def test_a_shifted_wider_square_frames_the_face_as_the_dcgan_saw_it():
    img = np.zeros((100, 100, 3), np.uint8)
    img[:50] = 255  # top half white
    box = (40, 40, 60, 60)  # 20 px face in the middle
    centred = square_crop(img, box, 20, margin=0.0)
    up = square_crop(img, box, 20, margin=0.0, shift=(0.0, -0.5))  # centre 10 px higher
    assert centred[:10].mean() > 200 and centred[10:].mean() < 50
    assert up.mean() > 200  # all of it above the middle now
    assert Framing(0.25).key == "0.25"  # the app's caches keep their old key
    assert discriminators.CENTER_FRAMING.key == "0.55 shift 0.0 -0.13"


def test_the_center_framing_is_what_mtcnn_measures_on_celeba(celeba_dir):
    from core.detection.faces import FaceDetector
    from core.io.images import list_images

    m = discriminators.measure_center_framing(list_images(celeba_dir / "train")[::200][:24], FaceDetector())
    assert m["faces"] >= 20
    assert abs(m["margin"] - discriminators.CENTER_FRAMING.margin) < 0.1
    assert abs(m["shift"][1] - discriminators.CENTER_FRAMING.shift[1]) < 0.05 and abs(m["shift"][0]) < 0.05


def test_a_framing_gets_crop_caches_of_its_own(tmp_path):
    from core.data import sources

    app = sources.cache_file("celeba", "val", 128, tmp_path)
    assert app.name == "celeba-val-128.safetensors"
    assert sources.cache_file("celeba", "val", 128, tmp_path, sources.app_framing()) == app
    d = sources.cache_file("celeba", "val", 64, tmp_path, discriminators.CENTER_FRAMING)
    assert d.name == "celeba-val-64-0.55_shift_0.0_-0.13.safetensors"


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory, tiny_cache):
    """A one-iteration DCGAN run: checkpoint.pt holds its G and D."""
    from train import dcgan

    run = tmp_path_factory.mktemp("gan") / "run"
    assert dcgan.main(["--dry-run", "--data", str(tiny_cache), "--out", str(run), "--threads", "1"]) == 0
    return run


def test_bundle_keeps_a_runs_discriminator_beside_the_generator(dry_run, tmp_path, capsys):
    from train import bundle

    assert bundle.main(["--run", str(dry_run), "--name", "dcgan-64", "--dest", str(tmp_path), "--discriminator"]) == 0
    folder = tmp_path / "dcgan-64" / discriminators.FOLDER
    assert not (tmp_path / "dcgan-64" / "model.safetensors").exists()  # the generator is not touched
    model, config, training = discriminators.load("dcgan-64", folder)
    assert config["framing"]["name"] == "center" and config["loss"] == "dcgan"
    assert training["steps"] == 1 and training["same_run_as_bundled_generator"] is False
    state = torch.load(dry_run / "checkpoint.pt", weights_only=True)["D"]
    key = "main.0.weight"
    assert torch.allclose(model.discriminator.state_dict()[key], state[key].half().float())
    assert "another run than the bundled generator" in capsys.readouterr().out
    assert bundle.main(["--run", str(tmp_path / "none"), "--name", "dcgan-64", "--dest", str(tmp_path),
                        "--discriminator"]) == 2


def test_a_generator_bundle_keeps_its_own_discriminator(dry_run, tmp_path):
    from train import bundle

    assert bundle.main(["--run", str(dry_run), "--name", "dcgan-64", "--dest", str(tmp_path), "--n", "4"]) == 0
    _, _, training = discriminators.load("dcgan-64", tmp_path / "dcgan-64" / discriminators.FOLDER)
    assert training["same_run_as_bundled_generator"] is True  # the pair from one run
    card = (tmp_path / "dcgan-64" / "README.md").read_text()
    assert "## Its discriminator" in card and "final discriminator of this same run" in card


def test_the_bundled_generators_cards_say_where_their_discriminator_came_from():
    for gan in discriminators.names():
        card = (registry.get_spec(gan).bundled_dir / "README.md").read_text()
        assert f"a second run of this recipe (`runs/rerun/{gan}`" in card and f"--discriminator {gan}" in card


def test_evaluate_judges_folders_with_a_discriminator_and_its_own_generator(tmp_path, celeba_dir):
    import shutil

    from core.gan.sampling import generate, sample_latents
    from train import evaluate

    real, fake = tmp_path / "real", tmp_path / "fake"
    real.mkdir(), fake.mkdir()
    for p in sorted((celeba_dir / "val").rglob("*.jpg"))[:4]:
        shutil.copy(p, real / p.name)
    loaded = registry.load("dcgan-64", use_hub=False)
    for i, im in enumerate(generate(loaded.model, sample_latents(4, 100, 7))):
        from PIL import Image

        (fake / f"{i}.png").write_bytes(image_bytes(Image.fromarray(im)))
    own_run = tmp_path / "own-run"  # a run folder as train.dcgan leaves it: the bundle's files make faces
    shutil.copytree(registry.get_spec("dcgan-64").bundled_dir, own_run)
    out = tmp_path / "d.json"
    args = ["--real", str(real), "--fake", str(fake), "--discriminator", "dcgan-64", "--threads", "1",
            "--json", str(out), "--gallery", str(tmp_path / "g.png"), "--own-run", str(own_run), "--limit", "4"]
    assert evaluate.main(args) == 0
    summary = json.loads(out.read_text())
    r = summary["results"]["D-dcgan-64"]
    assert r["count"] == summary["results"]["ensemble"]["count"] >= 6  # own-run samples are not in the pool
    assert r["parameters"] == sum(p.numel() for p in discriminators.load("dcgan-64")[0].parameters())
    assert r["ms_per_face"] > 0
    own = summary["per_source"]["own-run"]
    assert own["pooled"] is False and own["truth"] == "fake" and own["count"] >= 3 and 0 <= own["auc"] <= 1
    assert summary["framing"] == {"margin": 0.55, "shift": [0.0, -0.13], "crop_size": 64}
    assert summary["discriminator"] == "dcgan-64" and summary["own_run"] == str(own_run)
    assert (tmp_path / "g.png").exists()


def test_evaluate_refuses_discriminator_flags_that_do_not_go_together(tmp_path, capsys):
    from train import evaluate

    assert evaluate.main(["--split", "val", "--discriminator", "dcgan-64", "--record", "x"]) == 2
    assert "--discriminator judges with a GAN's discriminator alone" in capsys.readouterr().err
    assert evaluate.main(["--split", "val", "--own-run", str(tmp_path)]) == 2
    assert "--own-run goes with --discriminator" in capsys.readouterr().err
    assert evaluate.main(["--split", "val", "--discriminator", "dcgan-64", "--own-run", str(tmp_path)]) == 2
    assert "holds no generator" in capsys.readouterr().err


def test_weights_stay_under_100_mb_with_the_discriminators():
    size = sum(p.stat().st_size for p in registry.WEIGHTS_DIR.rglob("*") if p.is_file())
    kept = sum(p.stat().st_size for g in discriminators.names() for p in discriminators.folder_of(g).iterdir())
    assert size < 100e6, f"weights/ holds {size / 1e6:.1f} MB"
    assert kept < 6e6 * len(discriminators.names())  # float16: about 5.5 MB each
