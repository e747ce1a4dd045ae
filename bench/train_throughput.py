"""Training images/s: our loop against the plain tutorial loop (torchvision ImageFolder + DataLoader
decoding the JPEGs every epoch), same DCGAN, batch, losses and updates.

Ours differs only in how it does the same work: the crops decoded once into a uint8 tensor,
channels_last tensors (oneDNN's backward convolutions are much faster in it), D frozen during G's
step (the D gradients the plain loop computes there are thrown away at the next D step), and
fused Adam.

    python -m bench.train_throughput [--steps 30] [--repeats 3] [--batch-size 64] [--workers 2]

The two loops take turns, `--repeats` times each, and the medians are compared: on a shared
2-core machine one pass of either can be 15% off.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from core.data import cache_path, celeba_root, load_cache
from core.dcgan import DCGANConfig, Discriminator, Generator, weights_init
from core.training import BCEGANLoss, GANRun, GANTrainer, TrainConfig


def plain_loop(root: Path, steps: int, batch_size: int, workers: int, warmup: int) -> float:
    """The PyTorch DCGAN tutorial's loop, timed over `steps` iterations after `warmup`."""
    import torchvision.datasets as dset
    import torchvision.transforms as T

    data = dset.ImageFolder(root=str(root), transform=T.Compose([
        T.Resize(64), T.CenterCrop(64), T.ToTensor(), T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))]))
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=True, num_workers=workers,
                                         drop_last=True)
    torch.manual_seed(0)
    G, D = Generator(DCGANConfig()), Discriminator(DCGANConfig())
    G.apply(weights_init)
    D.apply(weights_init)
    optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    done, started = 0, None
    while True:
        for real, _ in loader:
            if done == warmup:
                started = time.perf_counter()
            b = real.size(0)
            D.zero_grad()
            err_real = F.binary_cross_entropy_with_logits(D(real), torch.ones(b))
            fake = G(torch.randn(b, 100))
            err_fake = F.binary_cross_entropy_with_logits(D(fake.detach()), torch.zeros(b))
            (err_real + err_fake).backward()
            optD.step()
            G.zero_grad()
            F.binary_cross_entropy_with_logits(D(fake), torch.ones(b)).backward()
            optG.step()
            done += 1
            if done == warmup + steps:
                return steps * batch_size / (time.perf_counter() - started)


def our_loop(cache: Path, steps: int, batch_size: int, warmup: int) -> float:
    images = load_cache(cache)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = DCGANConfig()
        run = GANRun(Generator(cfg), Discriminator(cfg), BCEGANLoss(), images, Path(tmp),
                     model_config={"arch": "dcgan", **cfg.to_dict()}, init=weights_init)
        trainer = GANTrainer(run, TrainConfig(epochs=1, batch_size=batch_size, max_steps=warmup),
                             device="cpu", progress=False)
        trainer.train()  # warm-up (and one export, not timed below)
        t = GANTrainer(run, TrainConfig(epochs=1, batch_size=batch_size, max_steps=steps), device="cpu",
                       progress=False)
        return t.train()["images_per_s"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2, help="DataLoader workers of the plain loop (tutorial: 2)")
    ap.add_argument("--repeats", type=int, default=3, help="timed passes of each loop, taking turns")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    cache = cache_path("train", 64)
    if not cache.exists():
        print("error: run `python -m train.prepare_data` first", file=sys.stderr)
        return 2
    runs_ours, runs_plain = [], []
    for _ in range(max(1, args.repeats)):
        runs_ours.append(our_loop(cache, args.steps, args.batch_size, args.warmup))
        runs_plain.append(plain_loop(celeba_root() / "train", args.steps, args.batch_size, args.workers, args.warmup))
    ours, plain = statistics.median(runs_ours), statistics.median(runs_plain)
    print(f"DCGAN 64x64, batch {args.batch_size}, {args.steps} timed iterations x {len(runs_ours)} passes each, "
          f"{torch.get_num_threads()} threads")
    print(f"{'loop':<54}{'images/s (median)':>18}  passes")
    print(f"{'ours (cached tensor, channels_last, D frozen, fused)':<54}{ours:>18.1f}  "
          + " ".join(f"{x:.1f}" for x in runs_ours))
    print(f"{'plain (ImageFolder + DataLoader, JPEG each epoch)':<54}{plain:>18.1f}  "
          + " ".join(f"{x:.1f}" for x in runs_plain))
    print(f"{'ratio':<54}{ours / plain:>17.2f}x")
    if args.json:
        args.json.write_text(json.dumps({"ours_images_per_s": ours, "plain_images_per_s": plain,
                                         "ratio": ours / plain, "ours_passes": runs_ours,
                                         "plain_passes": runs_plain}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
