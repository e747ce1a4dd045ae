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

import sys
from pathlib import Path

from core.data.caches import cache_path
from core.gan.losses import BCEGANLoss
from core.models.registry import SPECS
from train.common import gan_script


def main(argv=None) -> int:
    spec = SPECS["dcgan-64"]  # the recipe table: architecture and framing
    return gan_script(
        argv, __doc__, script="train.dcgan", arch="dcgan", loss=BCEGANLoss(),
        nz=spec.config["nz"], nz_help="latent size (seed 001: 100 and 60)", image_size=spec.config["image_size"],
        data=cache_path("train", spec.config["image_size"]), dataset="CelebA subset (shared/data/celeba/train), centre crop 64x64",
        default_out=lambda nz, subset: Path("runs") / ("dcgan-64" if nz == 100 else f"dcgan-64-z{nz}"),
    )


if __name__ == "__main__":
    sys.exit(main())
