"""Train the least-squares GAN on 80x80 MTCNN face crops of CelebA.

    python -m train.prepare_data --crop mtcnn --size 80     # once: face crops into data/
    python -m train.lsgan --out runs/lsgan-80
    python -m train.lsgan --out runs/lsgan-80 --resume

Same loop, flags and outputs as train.dcgan; the history logs d1 (D on real), d2 (D on fake)
and g (G's loss) every iteration.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.data import cache_path
from core.dcgan import weights_init
from core.lsgan import Discriminator, Generator, LSGANConfig
from core.training import GANRun, LeastSquaresGANLoss, TrainConfig
from train.common import add_train_flags, apply_threads, load_training_images, run_gan_training, train_config_from


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nz", type=int, default=LSGANConfig.nz, help="latent size (seed 004 tried 100-400)")
    ap.add_argument("--ngf", type=int, default=64)
    ap.add_argument("--ndf", type=int, default=64)
    ap.add_argument("--data", type=Path, default=None,
                    help="cached face crops (default: data/celeba-mtcnn80-train.safetensors)")
    add_train_flags(ap, TrainConfig())
    args = ap.parse_args(argv)
    apply_threads(args)
    cfg = train_config_from(args)
    images = load_training_images(args.data or cache_path("train", 80, crop="mtcnn"), args.dry_run, cfg.batch_size)
    if images is None:
        return 2
    mcfg = LSGANConfig(nz=args.nz, ngf=args.ngf, ndf=args.ndf)
    run = GANRun(
        generator=Generator(mcfg), discriminator=Discriminator(mcfg), loss=LeastSquaresGANLoss(), images=images,
        out_dir=args.out or Path("runs") / "lsgan-80", init=weights_init,
        model_config={"arch": "lsgan", **mcfg.to_dict()},
        meta={"dataset": "CelebA subset (shared/data/celeba/train), MTCNN face crop 80x80",
              "train_images": len(images)},
    )
    return run_gan_training(args, run, cfg, "train.lsgan", f"LSGAN, 80x80, latent {args.nz}")


if __name__ == "__main__":
    sys.exit(main())
