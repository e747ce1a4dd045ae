import time

import pytest
import torch

from core.gan.sampling import generate, sample_latents
from core.models import registry
from core.models.folder import write_model
from core.models.history import closed_form


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(registry.UnknownModelError) as err:
        registry.load("stylegan-9000")
    msg = str(err.value)
    assert "stylegan-9000" in msg
    for name in registry.names(subject=None):
        assert name in msg


@pytest.mark.parametrize("name", registry.names(subject=None))
def test_every_spec_loads_from_its_bundled_folder_offline(name):
    started = time.perf_counter()
    loaded = registry.load(name)
    assert time.perf_counter() - started < 10
    assert loaded.source == "bundled" and "HF_HUB_OFFLINE" in loaded.note
    assert loaded.folder == loaded.spec.bundled_dir
    assert (loaded.folder / "README.md").exists(), "every bundled model has a model card"
    if loaded.spec.kind == "detector":
        # trained: many SGD steps, or one closed-form fit on every training crop's features
        trained = loaded.training.get("steps", 0) >= 100 or (
            closed_form(loaded.training) and sum(s["train"] for s in loaded.training["sources"].values()) > 1000)
        assert trained and 0 < loaded.config["temperature"] < 100
        # balanced accuracy on the validation mix of eleven sources, where chance is 0.5: trained, not random
        assert loaded.training["val_accuracy"] > 0.65
    else:
        assert loaded.training.get("epochs_done", 0) >= 1
        tc = loaded.training["train_config"]
        card = (loaded.folder / "README.md").read_text()
        assert (f"DiffAugment on every batch D sees: {tc.get('diffaug')}" in card) == bool(tc.get("diffaug"))
    if loaded.spec.kind == "generator":
        faces = generate(loaded.model, sample_latents(2, loaded.config["nz"], 0))
        size = loaded.config["image_size"]
        assert faces.shape == (2, size, size, 3)
        assert faces.std() > 10  # a trained generator draws something, not a flat image


@pytest.mark.parametrize("name", registry.names(subject=None))
def test_save_then_load_round_trip_gives_identical_outputs(name, tmp_path):
    loaded = registry.load(name, use_hub=False)
    write_model(loaded.model, tmp_path, loaded.config, loaded.training, half=False)
    model, config, training = registry.load_folder(loaded.spec, tmp_path)
    drop = lambda t: {k: v for k, v in t.items() if k != "weights_sha256"}  # noqa: E731 - a new file, a new hash
    assert config == loaded.config and drop(training) == drop(loaded.training)
    if loaded.spec.kind == "detector":
        x = torch.rand(3, 3, config["image_size"], config["image_size"]) * 2 - 1
        model.eval()
    else:
        x = sample_latents(3, config["nz"], 1)
    with torch.inference_mode():
        assert torch.equal(model(x), loaded.model(x))


def test_half_precision_round_trip_is_close(tmp_path):
    from core.models.dcgan import DCGANConfig, Generator

    cfg = {"arch": "dcgan", **DCGANConfig(ngf=8).to_dict()}
    g = registry.SPECS["dcgan-64"].build(cfg).eval()
    write_model(g, tmp_path, cfg, half=True)
    g2, _, _ = registry.load_folder(registry.SPECS["dcgan-64"], tmp_path)
    assert isinstance(g2, Generator)
    z = sample_latents(2, 100, 0)
    with torch.inference_mode():
        assert (g(z) - g2(z)).abs().max() < 0.02


def test_missing_or_damaged_weights_name_the_file(tmp_path):
    spec = registry.SPECS["dcgan-64"]
    with pytest.raises(registry.WeightsError, match="model.safetensors is missing"):
        registry.load_folder(spec, tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(registry.WeightsError, match=r"cannot read .*model.safetensors"):
        registry.load_folder(spec, tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(registry.WeightsError, match="cannot read the JSON files"):
        registry.load_folder(spec, tmp_path)


def test_models_go_to_cuda_when_present():
    loaded = registry.load("dcgan-64")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert next(loaded.model.parameters()).device.type == expected


def test_a_damaged_bundled_file_names_itself_and_its_expected_hash(tmp_path):
    import shutil

    spec = registry.SPECS["cnn"]
    shutil.copytree(spec.bundled_dir, tmp_path / "cnn")
    registry.load_folder(spec, tmp_path / "cnn")  # intact copy loads
    weights = tmp_path / "cnn" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF  # one flipped byte inside the tensors: safetensors alone would not notice
    weights.write_bytes(bytes(data))
    with pytest.raises(registry.WeightsError) as err:
        registry.load_folder(spec, tmp_path / "cnn")
    expected = registry.read_json(tmp_path / "cnn" / "training.json")["weights_sha256"]
    assert str(weights) in str(err.value) and expected[:16] in str(err.value)


@pytest.mark.parametrize("name", registry.names(subject=None))
def test_every_bundled_folder_records_its_weights_hash(name):
    folder = registry.get_spec(name).bundled_dir
    assert registry.read_json(folder / "training.json")["weights_sha256"] == registry.file_sha256(
        folder / "model.safetensors")


def test_each_generator_says_how_its_faces_were_framed():
    framing = {n: registry.get_spec(n).framing for n in registry.names("generator")}
    assert framing == {"dcgan-64": "center", "dcgan-64-z60": "center", "lsgan-80": "mtcnn",
                       "lsgan-80-female": "mtcnn", "lsgan-80-male": "mtcnn"}


def test_the_abstract_art_model_is_a_second_subject_that_face_pages_never_list():
    spec = registry.get_spec("dcgan-64-abstract")
    assert spec.kind == "generator" and spec.subject == "abstract" and not registry.is_faces("dcgan-64-abstract")
    assert spec.config == registry.get_spec("dcgan-64").config  # the same tutorial DCGAN
    # face pages, the quiz, the detectors' families and the directions read names(): faces only
    assert "dcgan-64-abstract" not in registry.names() and "dcgan-64-abstract" not in registry.names("generator")
    assert registry.names("generator", subject="abstract") == ["dcgan-64-abstract"]
    assert registry.names("generator", subject=None) == [*registry.names("generator"), "dcgan-64-abstract"]
    assert all(registry.is_faces(n) for n in registry.names(comparison=None))
    card = (spec.bundled_dir / "README.md").read_text()
    for words in ("Wassily Kandinsky", "Wikimedia Commons", "public domain", "non-commercial", "FD", "KID"):
        assert words in card, words


def test_the_one_record_writer_always_stores_the_weights_hash_and_refreshes_the_card(tmp_path):
    """core.models.folder: every write of training.json carries the SHA-256 of the weights beside it."""
    from core.io.store import file_sha256
    from core.models.dcgan import DCGANConfig
    from core.models.folder import read_record, update_record

    spec = registry.SPECS["dcgan-64"]
    cfg = {"arch": "dcgan", **DCGANConfig(ngf=8).to_dict()}
    g = spec.build(cfg).eval()
    write_model(g, tmp_path, cfg, {"epochs_done": 1})
    assert read_record(tmp_path) == {"epochs_done": 1, "weights_sha256": file_sha256(tmp_path / "model.safetensors")}
    torch.nn.init.zeros_(next(g.parameters()))
    write_model(g, tmp_path, cfg)  # new weights, the record kept: its hash follows the file
    assert read_record(tmp_path)["weights_sha256"] == file_sha256(tmp_path / "model.safetensors")
    assert read_record(tmp_path)["epochs_done"] == 1
    record = update_record(tmp_path, lambda t: t.update(quality={"face_found_rate": 0.5, "n": 4}), spec=spec)
    assert record == read_record(tmp_path) and record["quality"]["n"] == 4
    assert "| faces found by MTCNN" in (tmp_path / "README.md").read_text()  # the card shows what the record says
    registry.load_folder(spec, tmp_path)  # the hash matches, so it loads


def test_a_trainers_run_folder_carries_the_weights_hash(tiny_cache, tmp_path):
    from core.io.store import file_sha256
    from core.models.folder import read_record
    from train import dcgan

    assert dcgan.main(["--dry-run", "--data", str(tiny_cache), "--out", str(tmp_path)]) == 0
    assert read_record(tmp_path)["weights_sha256"] == file_sha256(tmp_path / "model.safetensors")


def test_the_art_detector_judges_paintings_and_no_face_list_picks_it_up():
    """art-lstm (issue 36): a detector of the abstract subject, bundled with a card that says what it judges."""
    spec = registry.get_spec("art-lstm")
    assert spec.kind == "detector" and spec.subject == "abstract" and not registry.is_faces("art-lstm")
    assert spec.config["image_size"] == 64 and spec.config["arch"] == "lstm"
    # the face detectors' lists: the verdict and ensemble (names("detector")), the comparisons, every face page
    assert "art-lstm" not in registry.names("detector") and "art-lstm" not in registry.names(comparison=None)
    assert "art-lstm" not in registry.names("detector", comparison=True)
    assert registry.names("detector", subject="abstract") == ["art-lstm"]
    assert registry.spec_for_arch("lstm").name == "lstm"  # train.detector --arch lstm still trains the face LSTM
    config = registry.read_json(spec.bundled_dir / "config.json")
    assert config["subject"] == "abstract" and 0 < config["temperature"] < 100
    record = registry.read_json(spec.bundled_dir / "training.json")
    for judge in ("lstm", "discriminator"):
        r = record["art_comparison"][judge]
        assert r["n"] == r["real_n"] + r["fake_n"] > 0 and r["right"] == r["real_right"] + r["fake_right"]
    card = (spec.bundled_dir / "README.md").read_text()
    for words in ("paintings, not faces", "Wassily Kandinsky", "public domain", "one painter and one small GAN",
                  "58.53%", "72.68%", f"({record['art_comparison']['lstm']['right']} of"):
        assert words in card, words


def test_face_detector_lists_leave_the_art_detector_out():
    from core.detection import families

    assert "art-lstm" not in families.members()
    assert not any("art-lstm" in n for n in families.members())
