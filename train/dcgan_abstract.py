"""Train the tutorial DCGAN at 64x64 on Kandinsky's abstractions (1919-1944): `dcgan-64-abstract`.

    python -m train.prepare_abstract                                   # once: crops into data/
    python -m train.dcgan_abstract --out runs/dcgan-64-abstract --epochs 12 --diffaug color,translation,cutout
    python -m train.dcgan_abstract --out runs/dcgan-64-abstract --epochs 12 --diffaug color,translation,cutout --resume

The same loop, loss, architecture and flags as train.dcgan (`dcgan-64`'s recipe), on random square
crops of 198 paintings at three scales (core/data/abstract.py) instead of face photos; with so few
paintings, DiffAugment is the advised --diffaug. The run folder is what train.bundle copies.
"""

from __future__ import annotations

import sys
from pathlib import Path

from core.data.abstract import SCALES, abstract_cache_path
from core.gan.losses import BCEGANLoss
from core.models.registry import SPECS
from train.common import gan_script

DATASET = ("Wassily Kandinsky's abstract paintings of 1919-1944 (shared/data/abstract, Wikimedia Commons photographs; "
           f"198 for training, 22 held out), random square crops at {', '.join(map(str, SCALES))} of the short side, 64x64")


def main(argv=None) -> int:
    spec = SPECS["dcgan-64"]  # the same architecture as the face DCGAN
    return gan_script(
        argv, __doc__, script="train.dcgan_abstract", arch="dcgan", loss=BCEGANLoss(),
        nz=spec.config["nz"], nz_help="latent size", image_size=spec.config["image_size"],
        data=abstract_cache_path("train", spec.config["image_size"]), dataset=DATASET,
        default_out=lambda nz, subset: Path("runs") / "dcgan-64-abstract",
    )


if __name__ == "__main__":
    sys.exit(main())
