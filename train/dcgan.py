"""Train the DCGAN (PyTorch-tutorial recipe) on 64x64 CelebA crops.

    python -m train.prepare_data                       # once: crops into data/
    python -m train.dcgan --out runs/dcgan-64          # train (Ctrl-C safe: --resume continues)
    python -m train.dcgan --out runs/dcgan-64 --resume
    python -m train.dcgan --nz 60 --out runs/dcgan-64-z60

Several processes (one per GPU, or CPU processes with gloo):

    torchrun --nproc_per_node 2 -m train.dcgan --out runs/dcgan-64

The run folder gets model.safetensors + config.json (what the app loads), training.json,
history.jsonl (Loss_D, Loss_G, D(x), D(G(z)) every iteration), snapshots/epoch_NNN.jpg and
checkpoint.pt. `python -m train.bundle` copies a run into weights/<name>/ with its model card.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.data import cache_path
from core.dcgan import DCGANConfig, Discriminator, Generator, weights_init
from core.training import BCEGANLoss, GANRun, TrainConfig
from train.common import add_train_flags, apply_threads, load_training_images, run_gan_training, train_config_from


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nz", type=int, default=100, help="latent size (seed 001: 100 and 60)")
    ap.add_argument("--ngf", type=int, default=64)
    ap.add_argument("--ndf", type=int, default=64)
    ap.add_argument("--data", type=Path, default=None,
                    help="cached crops (default: data/celeba-center64-train.safetensors)")
    add_train_flags(ap, TrainConfig())
    args = ap.parse_args(argv)
    apply_threads(args)
    cfg = train_config_from(args)
    images = load_training_images(args.data or cache_path("train", 64), args.dry_run, cfg.batch_size)
    if images is None:
        return 2
    mcfg = DCGANConfig(nz=args.nz, ngf=args.ngf, ndf=args.ndf)
    run = GANRun(
        generator=Generator(mcfg), discriminator=Discriminator(mcfg), loss=BCEGANLoss(), images=images,
        out_dir=args.out or Path("runs") / ("dcgan-64" if args.nz == 100 else f"dcgan-64-z{args.nz}"),
        init=weights_init, model_config={"arch": "dcgan", **mcfg.to_dict()},
        meta={"dataset": "CelebA subset (shared/data/celeba/train), centre crop 64x64",
              "train_images": len(images)},
    )
    return run_gan_training(args, run, cfg, "train.dcgan", f"DCGAN, 64x64, latent {args.nz}")


if __name__ == "__main__":
    sys.exit(main())
