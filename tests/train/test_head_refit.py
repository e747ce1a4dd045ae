"""`train.detector --fit closed-form --encoder FOLDER`: a trained SupCon (or LSTM) keeps everything but its
linear head, which is fitted anew in closed form (issue 33: the seeds' own detectors)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.detection.probe_fit import backbone_features, fit_head, head_logits, load_linear_head
from core.models import registry
from core.models.detectors import CROP_SIZE, to_input
from core.models.folder import write_model


@pytest.mark.parametrize("arch", ["supcon", "lstm"])
def test_the_folded_head_gives_the_fitted_logits(arch):
    spec = registry.spec_for_arch(arch)
    torch.manual_seed(0)
    model = spec.build(spec.config).eval()
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (24, CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)
    x = backbone_features(model, crops)
    assert x.shape == (24, model.head.in_features)
    y = np.r_[np.zeros(12), np.ones(12)]
    head = fit_head(x, y, np.ones(24), 1.0)
    load_linear_head(model, head)
    with torch.no_grad():
        got = model(to_input(crops)).numpy()
    np.testing.assert_allclose(got, head_logits(head, x), rtol=1e-4, atol=1e-4)


def test_a_refitted_supcon_keeps_its_encoder_and_says_so(celeba_dir, tmp_path):
    from core.io.cards import detector_card
    from core.io.store import read_history, write_history
    from core.models.history import detector_facts
    from train import detector

    spec = registry.get_spec("supcon")
    torch.manual_seed(1)
    old = spec.build(spec.config)
    enc_dir = tmp_path / "encoder"
    enc_training = {"epochs_run": {"encoder": 5, "head": 3}, "steps": 496, "wall_time_s": 1440.0,
                    "val_accuracy": 0.75, "augment": {"flip": True},
                    "train_config": {"arch": "supcon", "epochs": 6, "lr": 0.001, "batch_size": 64, "head_epochs": 3}}
    write_model(old, enc_dir, {**spec.config, "temperature": 1.0}, enc_training)
    write_history(enc_dir / "history.jsonl", [{"phase": "encoder", "epoch": 1, "train_loss": 4.8},
                                              {"phase": "head", "epoch": 1, "train_loss": 0.6}])
    run = tmp_path / "refit"
    assert detector.main(["--arch", "supcon", "--fit", "closed-form", "--encoder", str(enc_dir), "--c", "1",
                          "--dry-run", "--threads", "1", "--sources", "celeba", "dcgan-64",
                          "--data", str(celeba_dir.parent), "--cache-dir", str(tmp_path / "cache"),
                          "--out", str(run)]) == 0
    model, config, training = registry.load_folder(spec, run)
    kept, _, _ = registry.load_folder(spec, enc_dir)
    for name, value in model.state_dict().items():  # the encoder and projection as they were, a new head
        if name.startswith("head."):
            assert not torch.equal(value, kept.state_dict()[name]), name
        else:
            torch.testing.assert_close(value, kept.state_dict()[name])
    assert config["temperature"] > 0 and "temperature" not in {k for k in spec.config}
    tc = training["train_config"]
    assert tc["head_fit"].startswith("closed-form") and tc["head_c"] == 1 and "head_epochs" not in tc
    assert training["epochs_run"] == {"encoder": 5} and training["steps"] == 496
    assert training["encoder"]["from"] == str(enc_dir) and training["encoder"]["val_accuracy_sgd_head"] == 0.75
    assert training["wall_time_s"] == pytest.approx(1440.0 + training["head_fit_s"], abs=0.2)
    assert [r["phase"] for r in read_history(run / "history.jsonl")] == ["encoder", "head"]
    card = detector_card(spec.name, spec.title, spec.description, config, training)
    assert f"--fit closed-form --encoder {enc_dir} --c 1.0" in card and "| head | closed-form" in card
    facts = detector_facts(training)
    assert facts["Head"] == "closed form, C 1" and facts["Epochs (encoder)"] == "5"


def test_encoder_goes_with_a_head_refit_only(capsys, tmp_path):
    from train import detector

    assert detector.main(["--arch", "supcon", "--fit", "closed-form", "--dry-run"]) == 2
    assert "needs --encoder" in capsys.readouterr().err
    assert detector.main(["--arch", "cnn", "--encoder", str(tmp_path), "--dry-run"]) == 2
    assert "--encoder is for" in capsys.readouterr().err
