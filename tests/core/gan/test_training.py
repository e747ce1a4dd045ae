import json

import pytest
import torch

from core.data.caches import load_cache
from core.gan.losses import BCEGANLoss
from core.gan.trainer import GANRun, GANTrainer, TrainConfig, TrainingStopped
from core.io.store import read_history, read_json
from core.models.dcgan import DCGANConfig, Discriminator, Generator, weights_init


def make_run(images, out, loss=None):
    cfg = DCGANConfig(ngf=8, ndf=8)
    return GANRun(Generator(cfg), Discriminator(cfg), loss or BCEGANLoss(), images, out,
                  model_config={"arch": "dcgan", **cfg.to_dict()}, init=weights_init)


def tiny_cfg(**kw):
    return TrainConfig(**{"epochs": 2, "batch_size": 8, "n_snapshot": 4, "precision": "float32", **kw})  # the exact path


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


def test_resume_with_a_lower_lr_uses_it_and_keeps_adams_moments(tiny_cache, tmp_path):
    images = load_cache(tiny_cache)
    GANTrainer(make_run(images, tmp_path / "r"), tiny_cfg(epochs=1), device="cpu", progress=False).train()
    saved = torch.load(tmp_path / "r" / "checkpoint.pt", weights_only=True)
    resumed = GANTrainer(make_run(images, tmp_path / "r"), tiny_cfg(epochs=2, lr=5e-5, beta1=0.3), device="cpu",
                         progress=False)
    resumed._resume()
    for opt, key in ((resumed.optG, "optG"), (resumed.optD, "optD")):
        assert [(g["lr"], g["betas"]) for g in opt.param_groups] == [(5e-5, (0.3, 0.999))]
        first = next(iter(opt.state.values()))
        assert torch.equal(first["exp_avg"], saved[key]["state"][0]["exp_avg"])  # moments carried on
    assert resumed.train(resume=True)["steps"] == 8


def test_seed_makes_runs_repeatable_and_different_seeds_differ(tiny_cache, tmp_path):
    images = load_cache(tiny_cache)
    losses = []
    for name, seed in [("a", 0), ("b", 0), ("c", 1)]:
        t = GANTrainer(make_run(images, tmp_path / name), tiny_cfg(epochs=1, seed=seed), device="cpu", progress=False)
        t.train()
        losses.append([r["Loss_D"] for r in t.history])
    assert losses[0] == losses[1] and losses[0] != losses[2]


def test_bfloat16_precision_trains_near_the_float32_run_and_keeps_float32_weights(tiny_cache, tmp_path):
    images = load_cache(tiny_cache)
    runs = {}
    for precision in ("float32", "bfloat16"):
        t = GANTrainer(make_run(images, tmp_path / precision), tiny_cfg(epochs=1, precision=precision), device="cpu",
                       progress=False)
        t.train()
        runs[precision] = t
    fp32, bf16 = (runs[p].history for p in ("float32", "bfloat16"))
    assert len(fp32) == len(bf16) and all(torch.isfinite(torch.tensor(r["Loss_D"])) for r in bf16)
    # the same data and seed: the first step's losses agree to bfloat16's precision, not to the bit
    assert bf16[0]["Loss_D"] == pytest.approx(fp32[0]["Loss_D"], rel=0.05) and bf16[0]["Loss_D"] != fp32[0]["Loss_D"]
    assert all(p.dtype == torch.float32 for p in runs["bfloat16"].G.parameters())
    with pytest.raises(ValueError, match="precision 'float16'"):
        TrainConfig(precision="float16")


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
    from core.data.caches import build_face_cache
    from core.detection.faces import FaceDetector

    out = tmp_path_factory.mktemp("faces") / "faces80.safetensors"
    build_face_cache(celeba_dir / "train", out, 80, FaceDetector(device="cpu"), limit=16)
    return out


def test_gender_subset_takes_whole_people_by_majority():
    from core.data.caches import gender_subset, identity_genders

    labels = {f"celeb_1/{i}.jpg": {"gender": "male"} for i in range(5)}
    labels["celeb_1/5.jpg"] = {"gender": "female"}  # one miss of the labeller: outvoted
    labels.update({f"celeb_2/{i}.jpg": {"gender": "female"} for i in range(4)})
    labels.update({"celeb_3/0.jpg": {"gender": "female"}, "celeb_3/1.jpg": {"gender": "male"}})  # unclear
    labels["celeb_2/9.jpg"] = {"gender": None}  # no face found: no vote, but the person still decides
    people = identity_genders(labels)
    assert people["celeb_1"] == {"gender": "male", "photos_labelled": 6, "agreement": round(5 / 6, 3)}
    assert people["celeb_3"]["agreement"] == 0.5

    files = [*labels, "celeb_4/0.jpg"]  # celeb_4 has no labels at all: in neither subset
    images = torch.arange(len(files)).view(-1, 1, 1, 1).to(torch.uint8)
    male, info = gender_subset(images, files, labels, "male")
    assert male.flatten().tolist() == [0, 1, 2, 3, 4, 5]  # all six of celeb_1, the "female" photo too
    assert info["crops"] == 6 and info["people"] == 1 and info["people_left_out_unclear"] == 1
    female, info = gender_subset(images, files, labels, "female")
    assert female.flatten().tolist() == [6, 7, 8, 9, 12] and info["people"] == 1
    with pytest.raises(ValueError, match="file names"):
        gender_subset(images[:3], files, labels, "male")


def test_lsgan_subset_and_fine_tune_from_a_run(detector_cache_80, tmp_path, capsys):
    from core.data.caches import cache_files
    from core.io.store import write_json
    from train import lsgan

    files = cache_files(detector_cache_80)
    assert len(files) == 16
    write_json(tmp_path / "labels.json", {"labels": {f"train/{f}": {"gender": "male"} for f in files}})
    small = ["--data", str(detector_cache_80), "--ngf", "8", "--ndf", "8", "--labels", str(tmp_path / "labels.json")]
    base, tuned = tmp_path / "base", tmp_path / "male"
    assert lsgan.main(["--dry-run", "--out", str(base), *small]) == 0
    assert lsgan.main(["--dry-run", "--subset", "male", "--init-from", str(base), "--out", str(tuned), *small]) == 0
    t = read_json(tuned / "training.json")
    assert t["subset"]["gender"] == "male" and t["subset"]["crops"] == 16
    assert t["fine_tuned_from"] == str(base) and "male subset" in t["dataset"]
    assert read_json(tuned / "config.json")["d_norm"] == "spectral"

    capsys.readouterr()
    assert lsgan.main(["--dry-run", "--subset", "female", "--out", str(tmp_path / "f"), *small]) == 2
    assert "no female crops" in capsys.readouterr().err
    assert lsgan.main(["--dry-run", "--init-from", str(tmp_path / "nothing"), "--out", str(tmp_path / "x"), *small]) == 3
    assert "train the base model first" in capsys.readouterr().err
    assert lsgan.main(["--dry-run", "--subset", "male", "--labels", str(tmp_path / "none.json"),
                       "--out", str(tmp_path / "y"), *small[:-2]]) == 2
    assert "train.label_gender" in capsys.readouterr().err


def trained_base_and_fine_tune(images, tmp_path, **cfg):
    """A one-epoch base run, trained, and a trainer (not yet run) that fine-tunes from it with `cfg`."""
    base = GANTrainer(make_run(images, tmp_path / "base"), tiny_cfg(epochs=1), device="cpu", progress=False)
    base.train()
    run = make_run(images, tmp_path / "tuned")
    run.init_from = tmp_path / "base"
    return base, GANTrainer(run, tiny_cfg(epochs=1, **cfg), device="cpu", progress=False)


def test_fine_tuning_starts_from_the_base_runs_weights(tiny_cache, tmp_path):
    base, tuned = trained_base_and_fine_tune(load_cache(tiny_cache), tmp_path)
    tuned._fresh_start()
    for a, b in ((tuned.G, base.G), (tuned.D, base.D), (tuned.G_ema, base.G_ema)):
        for (k, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
            assert torch.equal(x, y), k
    assert tuned.step == 0 and not tuned.history  # a new run: its own steps, history and optimisers


def test_diff_augment_is_differentiable_and_does_what_each_policy_says():
    from core.gan.augment import diff_augment

    torch.manual_seed(0)
    x = torch.rand(6, 3, 80, 80) * 2 - 1
    x.requires_grad_(True)
    y = diff_augment(x, "color,translation,cutout")
    assert y.shape == x.shape
    y.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0  # gradients reach the input (and so G)
    assert torch.equal(diff_augment(x, ""), x)

    ones = torch.ones(6, 3, 80, 80)
    shifted = diff_augment(ones, "translation")  # up to 10 px each way, zeros come in at the edge
    rows_blank = (shifted[:, 0].sum(dim=2) == 0).sum(dim=1)
    cols_blank = (shifted[:, 0].sum(dim=1) == 0).sum(dim=1)
    assert (rows_blank <= 10).all() and (cols_blank <= 10).all() and (rows_blank + cols_blank).sum() > 0
    cut = diff_augment(ones, "cutout")  # one 40x40 square zeroed, clipped at the border
    zeroed = (cut[:, 0] == 0).sum(dim=(1, 2))
    assert (zeroed <= 40 * 40).all() and (zeroed >= 20 * 20).all()
    colour = diff_augment(ones * 0.2, "color")
    assert not torch.allclose(colour, ones * 0.2)
    with pytest.raises(ValueError, match="unknown DiffAugment"):
        diff_augment(x, "rotate")


def test_freeze_d_keeps_ds_first_layers_and_diffaug_trains(tiny_cache, tmp_path):
    from torch import nn

    images = load_cache(tiny_cache)
    base, tuned = trained_base_and_fine_tune(images, tmp_path, freeze_d=2, diffaug="color,translation")
    summary = tuned.train()
    assert summary["train_config"]["freeze_d"] == 2 and summary["train_config"]["diffaug"] == "color,translation"
    before = [m for m in base.D.modules() if isinstance(m, nn.Conv2d)]
    after = [m for m in tuned.D.modules() if isinstance(m, nn.Conv2d)]
    for i, (a, b) in enumerate(zip(after, before, strict=True)):
        same = torch.equal(a.weight, b.weight)
        assert same == (i < 2), i  # the first two stay as loaded, the rest learn
    assert all(p.requires_grad for p in after[2].parameters())  # G's step gives back what it froze
    with pytest.raises(ValueError, match="conv layers"):
        GANTrainer(make_run(images, tmp_path / "x"), tiny_cfg(freeze_d=9), device="cpu", progress=False).train()


def test_spectral_norm_discriminator_has_no_batchnorm_and_the_tutorial_init():
    from torch import nn

    cfg = DCGANConfig(nz=16, ngf=8, ndf=8, image_size=80, d_norm="spectral")
    D = Discriminator(cfg)
    D.apply(weights_init)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 5 and all(hasattr(m, "parametrizations") for m in convs)
    raw = torch.cat([m.parametrizations.weight.original.flatten() for m in convs])
    assert 0.015 < raw.std().item() < 0.025  # N(0, 0.02) on the raw weights, not on a computed copy
    assert D(torch.randn(4, 3, 80, 80)).shape == (4,)
    with pytest.raises(ValueError, match="d_norm"):
        DCGANConfig(d_norm="layer")


def test_a_full_disk_ends_the_script_with_a_message_and_the_resume_command(detector_cache_80, tmp_path, monkeypatch,
                                                                           capsys):
    import errno

    from core.gan.trainer import GANTrainer
    from train import lsgan

    def disk_full(self, resume=False):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(GANTrainer, "train", disk_full)  # tests/core/io/test_faults.py fills a disk for real
    out = tmp_path / "ls"
    assert lsgan.main(["--dry-run", "--data", str(detector_cache_80), "--out", str(out), "--ngf", "8", "--ndf", "8"]) == 5
    err = capsys.readouterr().err
    assert "No space left on device" in err and f"--out {out} --resume" in err and "Traceback" not in err


def r1_of(D, images):
    x = images.float().div(127.5).sub(1)[:16].requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x).sum(), x)
    return grad.square().flatten(1).sum(1).mean().item()


def test_r1_penalty_smooths_d_at_the_real_images_and_resumes_exactly(tiny_cache, tmp_path):
    from core.gan.trainer import R1_EVERY

    images = load_cache(tiny_cache)  # 32 images, batch 16: 2 steps an epoch, so a resume lands between R1 steps
    runs = {}
    for gamma in (0.0, 10.0):
        t = GANTrainer(make_run(images, tmp_path / f"g{gamma}"), tiny_cfg(epochs=4, batch_size=16, r1_gamma=gamma),
                       device="cpu", progress=False)
        t.train()
        runs[gamma] = t
    rows = read_history(tmp_path / "g10.0" / "history.jsonl")
    assert [r["step"] for r in rows if "R1" in r] == list(range(0, 8, R1_EVERY))  # lazy: every R1_EVERY-th step
    assert all(r["R1"] > 0 for r in rows if "R1" in r)
    assert not any("R1" in r for r in read_history(tmp_path / "g0.0" / "history.jsonl"))  # off: as before
    # the penalty did its job: 1.16 against 2.69 (BatchNorm on batch statistics, as D trains)
    assert r1_of(runs[10.0].D, images) < 0.6 * r1_of(runs[0.0].D, images)

    box = [0]
    crashed = GANTrainer(make_run(images, tmp_path / "crash", InterruptAt(box, at=4)),
                         tiny_cfg(epochs=4, batch_size=16, r1_gamma=10.0), device="cpu", progress=False)
    with pytest.raises(KeyboardInterrupt):
        crashed.train()  # dies in epoch 2, at step 3; the checkpoint holds step 2
    resumed = GANTrainer(make_run(images, tmp_path / "crash"), tiny_cfg(epochs=4, batch_size=16, r1_gamma=10.0),
                         device="cpu", progress=False)
    resumed.train(resume=True)
    assert read_history(tmp_path / "crash" / "history.jsonl") == rows
