import json

import pytest
import torch

from core.data import load_cache
from core.dcgan import DCGANConfig, Discriminator, Generator, weights_init
from core.store import read_history, read_json
from core.training import BCEGANLoss, GANRun, GANTrainer, TrainConfig, TrainingStopped


def make_run(images, out, loss=None):
    cfg = DCGANConfig(ngf=8, ndf=8)
    return GANRun(Generator(cfg), Discriminator(cfg), loss or BCEGANLoss(), images, out,
                  model_config={"arch": "dcgan", **cfg.to_dict()}, init=weights_init)


def tiny_cfg(**kw):
    return TrainConfig(**{"epochs": 2, "batch_size": 8, "n_snapshot": 4, **kw})


class InterruptAt(BCEGANLoss):
    """Dies like a killed process in the middle of an iteration."""

    def __init__(self, step_box, at):
        self.box, self.at = step_box, at

    def g_loss(self, out_fake):
        self.box[0] += 1
        if self.box[0] == self.at:
            raise KeyboardInterrupt
        return super().g_loss(out_fake)


def test_dcgan_script_dry_run_end_to_end(tiny_cache, tmp_path):
    from train import dcgan

    out = tmp_path / "run"
    assert dcgan.main(["--dry-run", "--data", str(tiny_cache), "--out", str(out)]) == 0
    for f in ["model.safetensors", "config.json", "training.json", "history.jsonl", "checkpoint.pt",
              "snapshots/epoch_001.jpg"]:
        assert (out / f).exists(), f
    rows = read_history(out / "history.jsonl")
    assert len(rows) == 1 and {"Loss_D", "Loss_G", "D_x", "D_G_z1", "D_G_z2"} <= rows[0].keys()
    assert read_json(out / "config.json")["nz"] == 100
    assert read_json(out / "training.json")["steps"] == 1


def test_resume_after_interruption_matches_an_uninterrupted_run(tiny_cache, tmp_path):
    images = load_cache(tiny_cache)  # 32 images, batch 8: 4 steps an epoch
    full = GANTrainer(make_run(images, tmp_path / "full"), tiny_cfg(), device="cpu", progress=False)
    full.train()

    box = [0]
    crashed = GANTrainer(make_run(images, tmp_path / "crash", InterruptAt(box, at=7)), tiny_cfg(),
                         device="cpu", progress=False)
    with pytest.raises(KeyboardInterrupt):
        crashed.train()  # dies in epoch 2, after epoch 1's checkpoint
    assert torch.load(tmp_path / "crash" / "checkpoint.pt", weights_only=True)["step"] == 4
    assert len(read_history(tmp_path / "crash" / "history.jsonl")) == 6  # rows 0..5 were logged

    resumed = GANTrainer(make_run(images, tmp_path / "crash"), tiny_cfg(), device="cpu", progress=False)
    summary = resumed.train(resume=True)
    rows = read_history(tmp_path / "crash" / "history.jsonl")
    assert [r["step"] for r in rows] == list(range(8))  # continuous, nothing twice
    assert [r["epoch"] for r in rows] == [0] * 4 + [1] * 4
    assert summary["steps"] == 8 and summary["epochs_done"] == 2
    # the resumed run is the same run: same weights, same losses
    assert rows == read_history(tmp_path / "full" / "history.jsonl")
    for a, b in zip(resumed.G.state_dict().values(), full.G.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert sorted(p.name for p in (tmp_path / "crash" / "snapshots").iterdir()) == ["epoch_001.jpg", "epoch_002.jpg"]


def test_seed_makes_runs_repeatable_and_different_seeds_differ(tiny_cache, tmp_path):
    images = load_cache(tiny_cache)
    losses = []
    for name, seed in [("a", 0), ("b", 0), ("c", 1)]:
        t = GANTrainer(make_run(images, tmp_path / name), tiny_cfg(epochs=1, seed=seed), device="cpu", progress=False)
        t.train()
        losses.append([r["Loss_D"] for r in t.history])
    assert losses[0] == losses[1] and losses[0] != losses[2]


class NaNLoss(BCEGANLoss):
    def d_loss(self, out_real, out_fake):
        loss, m = super().d_loss(out_real, out_fake)
        return loss * float("nan"), {**m, "Loss_D": float("nan")}


def test_nan_guard_stops_with_a_clear_message(tiny_cache, tmp_path):
    t = GANTrainer(make_run(load_cache(tiny_cache), tmp_path / "nan", NaNLoss()), tiny_cfg(), device="cpu",
                   progress=False)
    with pytest.raises(TrainingStopped, match=r"Loss_D.* became nan at step 0 .*no checkpoint yet.*lower --lr"):
        t.train()


def test_history_file_is_json_lines(tiny_cache, tmp_path):
    t = GANTrainer(make_run(load_cache(tiny_cache), tmp_path / "h"), tiny_cfg(epochs=1), device="cpu",
                   progress=False)
    t.train()
    lines = (tmp_path / "h" / "history.jsonl").read_text().splitlines()
    assert len(lines) == 4 and all(isinstance(json.loads(line)["Loss_G"], float) for line in lines)


def test_lsgan_script_dry_run_logs_d1_d2_g(detector_cache_80, tmp_path):
    from train import lsgan

    out = tmp_path / "ls"
    assert lsgan.main(["--dry-run", "--data", str(detector_cache_80), "--out", str(out), "--ngf", "8", "--ndf", "8"]) == 0
    rows = read_history(out / "history.jsonl")
    assert len(rows) == 1 and {"d1", "d2", "g"} <= rows[0].keys()
    assert read_json(out / "config.json")["arch"] == "lsgan"


@pytest.fixture(scope="module")
def detector_cache_80(tmp_path_factory, celeba_dir):
    from core.data import build_face_cache
    from core.faces import FaceDetector

    out = tmp_path_factory.mktemp("faces") / "faces80.safetensors"
    build_face_cache(celeba_dir / "train", out, 80, FaceDetector(device="cpu"), limit=16)
    return out
