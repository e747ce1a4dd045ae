"""Training images/s over whole epochs: `train.dcgan`'s loop against the pytorch/examples DCGAN recipe.

The reference is written here from the recipe's published description (pytorch/examples,
dcgan/main.py and the PyTorch DCGAN tutorial), not copied from its file, and run as its authors
ship it:

- torchvision ImageFolder over the JPEGs with Resize(64), CenterCrop(64), ToTensor, Normalize(0.5),
  a DataLoader with shuffle and 2 worker processes (the JPEGs are decoded again every epoch);
- the same DCGAN networks, D ending in a Sigmoid, `nn.BCELoss`, Adam 2e-4, betas (0.5, 0.999);
- D's step on a real batch, then on `G(z).detach()`; G's step through D with D's parameters still
  requiring gradients (computed, then thrown away at the next D step);
- the `.item()` read-outs, a printed log line per iteration, real and fixed-noise grids saved every
  100 iterations and both networks' state dicts saved at the end of each epoch.

Ours is `core.gan.trainer.GANTrainer` exactly as `python -m train.dcgan` runs it, end of epoch included
(BatchNorm re-estimation of the EMA generator, snapshot grid, weights, checkpoint). Its crops come
from the cache `python -m train.prepare_data` writes once (the time of that one-off step is printed
too). The two take turns, one whole epoch each, `--repeats` times, and the medians are compared.

    python -m bench.train_vs_reference [--repeats 3] [--epochs 1] [--limit N] [--threads N] [--json FILE]

`--limit N` takes the first N photos (N a multiple of the batch) for a quick smoke run; figures to
quote use all 4,800. `--threads 1` suits a machine shared with other work: with two threads, each
parallel region waits for a core another process may hold. Ours runs with train.dcgan's default
precision ("auto": float32 on a CPU without native bfloat16).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from core.data.caches import cache_path, celeba_root, load_cache
from core.gan.losses import BCEGANLoss
from core.gan.trainer import GANRun, GANTrainer, TrainConfig
from core.models.dcgan import DCGANConfig, Discriminator, Generator, weights_init

BATCH = 64


class ReferenceD(nn.Module):
    """The recipe's discriminator: our Discriminator's layers followed by a Sigmoid."""

    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(*Discriminator(DCGANConfig()).main, nn.Sigmoid())

    def forward(self, x):
        return self.main(x).view(-1, 1).squeeze(1)


def reference_data(root: Path, limit: int | None):
    import torchvision.datasets as dset
    import torchvision.transforms as T

    data = dset.ImageFolder(root=str(root), transform=T.Compose([
        T.Resize(64), T.CenterCrop(64), T.ToTensor(), T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))]))
    if limit:
        data = torch.utils.data.Subset(data, range(limit))
    return data


def reference_epochs(data, epochs: int, workers: int, out: Path) -> float:
    """Images/s of the recipe over `epochs` whole epochs (models and dataset built before the clock)."""
    import torchvision.utils as vutils

    torch.manual_seed(0)
    netG, netD = Generator(DCGANConfig()), ReferenceD()
    netG.apply(weights_init)
    netD.apply(weights_init)
    criterion = nn.BCELoss()
    fixed_noise = torch.randn(BATCH, 100, 1, 1)
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    loader = torch.utils.data.DataLoader(data, batch_size=BATCH, shuffle=True, num_workers=workers)
    log, seen = io.StringIO(), 0
    started = time.perf_counter()
    with contextlib.redirect_stdout(log):
        for epoch in range(epochs):
            for i, (real, _) in enumerate(loader):
                b = real.size(0)
                netD.zero_grad()
                label = torch.full((b,), 1.0)
                output = netD(real)
                err_real = criterion(output, label)
                err_real.backward()
                d_x = output.mean().item()
                fake = netG(torch.randn(b, 100, 1, 1))
                label.fill_(0.0)
                output = netD(fake.detach())
                err_fake = criterion(output, label)
                err_fake.backward()
                d_g_z1 = output.mean().item()
                err_d = err_real + err_fake
                optD.step()
                netG.zero_grad()
                label.fill_(1.0)
                output = netD(fake)
                err_g = criterion(output, label)
                err_g.backward()
                d_g_z2 = output.mean().item()
                optG.step()
                print(f"[{epoch}/{epochs}][{i}/{len(loader)}] Loss_D: {err_d.item():.4f} Loss_G: {err_g.item():.4f} "
                      f"D(x): {d_x:.4f} D(G(z)): {d_g_z1:.4f} / {d_g_z2:.4f}")
                if i % 100 == 0:
                    vutils.save_image(real, out / "real_samples.png", normalize=True)
                    with torch.no_grad():
                        vutils.save_image(netG(fixed_noise).detach(), out / f"fake_samples_epoch_{epoch:03d}.png",
                                          normalize=True)
                seen += b
            torch.save(netG.state_dict(), out / f"netG_epoch_{epoch}.pth")
            torch.save(netD.state_dict(), out / f"netD_epoch_{epoch}.pth")
    return seen / (time.perf_counter() - started)


def bf16_fast() -> bool:
    """Whether this CPU has AVX512-BF16 (where `--precision bfloat16` pays off)."""
    try:
        return bool(torch.cpu._is_avx512_bf16_supported())
    except AttributeError:  # an older torch without the probe
        return False


def our_epochs(images: torch.Tensor, epochs: int, out: Path, precision: str = "auto") -> float:
    """Images/s of train.dcgan's loop over `epochs` whole epochs, end of epoch included; its default
    precision, "auto", is float32 on a CPU without native bfloat16."""
    cfg = DCGANConfig()
    run = GANRun(Generator(cfg), Discriminator(cfg), BCEGANLoss(), images, out,
                 model_config={"arch": "dcgan", **cfg.to_dict()}, init=weights_init)
    trainer = GANTrainer(run, TrainConfig(epochs=epochs, batch_size=BATCH, precision=precision), device="cpu",
                         progress=False)
    started = time.perf_counter()
    summary = trainer.train()
    return summary["images_seen"] / (time.perf_counter() - started)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3, help="timed passes of each loop, taking turns")
    ap.add_argument("--epochs", type=int, default=1, help="whole epochs per pass")
    ap.add_argument("--workers", type=int, default=2, help="the recipe's DataLoader workers (it ships 2)")
    ap.add_argument("--limit", type=int, default=None, help="first N photos only (smoke runs)")
    ap.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                    help="also time train.dcgan --precision bfloat16 (default: where the CPU has AVX512-BF16)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads for both loops (default: torch's)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    bf16 = bf16_fast() if args.bf16 is None else args.bf16
    cache, root = cache_path("train", 64), celeba_root() / "train"
    if not cache.exists() or not root.exists():
        print("error: needs the CelebA photos and `python -m train.prepare_data` first", file=sys.stderr)
        return 2
    if args.limit is not None and (args.limit < BATCH or args.limit % BATCH):
        print(f"error: --limit must be a positive multiple of {BATCH}", file=sys.stderr)
        return 2
    t = time.perf_counter()
    images = load_cache(cache)
    load_s = time.perf_counter() - t
    if args.limit:
        images = images[: args.limit]
    data = reference_data(root, args.limit)
    if len(data) != len(images):
        print(f"error: the cache holds {len(images)} crops but the folder {len(data)} photos", file=sys.stderr)
        return 2
    ours, ref, half = [], [], []
    for _ in range(max(1, args.repeats)):
        with tempfile.TemporaryDirectory() as tmp:
            ours.append(our_epochs(images, args.epochs, Path(tmp)))
        with tempfile.TemporaryDirectory() as tmp:
            ref.append(reference_epochs(data, args.epochs, args.workers, Path(tmp)))
        if bf16:
            with tempfile.TemporaryDirectory() as tmp:
                half.append(our_epochs(images, args.epochs, Path(tmp), "bfloat16"))
    o, r = statistics.median(ours), statistics.median(ref)
    h = statistics.median(half) if half else None
    print(f"DCGAN 64x64 on {len(images)} CelebA photos, batch {BATCH}, {args.epochs} whole epoch(s) per pass, "
          f"{len(ours)} passes each, taking turns; {torch.get_num_threads()} threads")
    print(f"{'loop':<58}{'images/s (median)':>18}  passes")
    print(f"{'ours: python -m train.dcgan (cached crops, end of epoch in)':<58}{o:>18.1f}  "
          + " ".join(f"{x:.1f}" for x in ours))
    print(f"{'reference: pytorch/examples recipe (ImageFolder, 2 workers)':<58}{r:>18.1f}  "
          + " ".join(f"{x:.1f}" for x in ref))
    print(f"{'ratio':<58}{o / r:>17.2f}x")
    if h is not None:
        print(f"{'ours, --precision bfloat16 (not bit-identical)':<58}{h:>18.1f}  " + " ".join(f"{x:.1f}" for x in half))
        print(f"{'ratio, bfloat16':<58}{h / r:>17.2f}x")
    print(f"(ours reads the crop cache in {load_s:.2f} s; `train.prepare_data` writes it once, "
          f"decoding each photo once)")
    if args.json:
        args.json.write_text(json.dumps({"ours_images_per_s": o, "reference_images_per_s": r, "ratio": o / r,
                                         "ours_passes": ours, "reference_passes": ref, "photos": len(images),
                                         "epochs_per_pass": args.epochs, "cache_load_s": load_s,
                                         **({"ours_bf16_images_per_s": h, "ratio_bf16": h / r, "ours_bf16_passes": half}
                                            if h is not None else {})}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
