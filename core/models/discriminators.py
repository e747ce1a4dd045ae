"""A GAN's own discriminator asked as a detector: the baseline of the LSTM study.

The LSTM study (seed 003) measured the GAN's own discriminator judging real against fake at 58.53%
accuracy and its LSTM at 72.68%. A discriminator is trained for one thing, to tell its generator's
current samples from the training photos, and it is thrown away when training ends; this lab keeps it
in weights/<gan>/discriminator/ (model.safetensors in half precision, config.json, training.json),
written by `python -m train.bundle --run RUN --name GAN --discriminator` from the run's checkpoint.pt,
and `python -m train.evaluate --split val --discriminator GAN` judges the validation mix with it, one
face at a time, like any detector (core.detection.families shows the figures beside the CNN families').

What it sees: the photos its generator was trained on, framed the same way (`framing`):
- "center" (the DCGANs): CelebA's aligned photo, short side resized, centre square. Measured with MTCNN
  on 300 CelebA training photos (`measure_center_framing`): that square is 1.55 times the face box's
  longer side, its centre 0.13 box sides above the box's. Every face is cut that way around its MTCNN box.
- "mtcnn" (the LSGANs): the app's own crop (box 25% wider, centred), at the discriminator's 80 px.
Crops of any size are resized to the discriminator's input (antialiased bilinear).

Its score as P(GAN-made): the DCGAN discriminator returns the logit of "real" (BCE), so -logit; the
LSGAN's was pulled to 1 on real photos and 0 on samples (a=0, b=c=1), so P = 1 - D(x), clipped to
[0.001, 0.999]: 0.5 is half-way between its two targets. BatchNorm runs on its running statistics (eval
mode), so a face's score does not depend on the other faces judged with it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.detection.faces import Framing
from core.models import registry
from core.models.dcgan import DCGANConfig, Discriminator

FOLDER = "discriminator"  # under weights/<gan>/
NAME_PREFIX = "D-"  # a discriminator's name as a detector: D-dcgan-64
CENTER_FRAMING = Framing(margin=0.55, shift=(0.0, -0.13))  # measure_center_framing on CelebA train, rounded
MTCNN_FRAMING = Framing(margin=0.25)  # the LSGANs' training crops: the app's own framing


class DiscriminatorDetector(nn.Module):
    """(N, 3, S, S) crops in [-1, 1], any S -> the logit of P(GAN-made) (N,), from a GAN's discriminator."""

    def __init__(self, discriminator: Discriminator, loss: str, image_size: int):
        super().__init__()
        if loss not in ("dcgan", "lsgan"):
            raise ValueError(f"loss must be 'dcgan' or 'lsgan', not {loss!r}")
        self.discriminator, self.loss, self.image_size = discriminator, loss, image_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (self.image_size, self.image_size):
            x = F.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False,
                              antialias=True)
        out = self.discriminator(x).float()
        if self.loss == "dcgan":
            return -out  # the logit of "real", turned round
        p = (1.0 - out).clamp(1e-3, 1 - 1e-3)  # least squares: real -> 1, GAN-made -> 0
        return torch.log(p) - torch.log1p(-p)


def loss_of(arch: str) -> str:
    """The objective a generator registry arch was trained with: "dcgan" (BCE) or "lsgan" (least squares)."""
    return "lsgan" if arch == "lsgan" else "dcgan"


def framing_for(spec_framing: str) -> Framing:
    return CENTER_FRAMING if spec_framing == "center" else MTCNN_FRAMING


def detector_name(gan: str) -> str:
    return NAME_PREFIX + gan


def gan_of(name: str) -> str | None:
    """The GAN of a discriminator's detector name (D-dcgan-64 -> dcgan-64); None for any other name."""
    return name[len(NAME_PREFIX):] if name.startswith(NAME_PREFIX) else None


def folder_of(gan: str) -> Path:
    return registry.get_spec(gan).bundled_dir / FOLDER


def names() -> list[str]:
    """The generators whose bundle keeps a discriminator, in the registry's order."""
    return [g for g in registry.names("generator") if (folder_of(g) / "model.safetensors").exists()]


def build(config: dict) -> Discriminator:
    keys = DCGANConfig.__dataclass_fields__
    return Discriminator(DCGANConfig(**{k: v for k, v in config.items() if k in keys}))


def load(gan: str, folder: Path | None = None, device=None) -> tuple[DiscriminatorDetector, dict, dict]:
    """(detector, config, training record) of the discriminator kept with `gan` (or in `folder`)."""
    folder = folder or folder_of(gan)
    if not (folder / "model.safetensors").exists():
        raise registry.WeightsError(f"{folder / 'model.safetensors'} is missing: bundle a run's discriminator with "
                                    f"python -m train.bundle --run RUN --name {gan} --discriminator")
    d, config, training = registry.load_built(folder, build, device=device)
    return DiscriminatorDetector(d, config.get("loss", "dcgan"), int(config["image_size"])).eval(), config, training


def framing_of(config: dict) -> Framing:
    f = config.get("framing") or {}
    return Framing(float(f.get("margin", 0.25)), tuple(float(v) for v in f.get("shift", (0.0, 0.0))))


def measure_center_framing(paths: list[Path], detector, min_prob: float = 0.90) -> dict:
    """Where MTCNN's face box sits in the DCGAN's training frame (short side resized, centre square) of
    each photo in `paths`: the square's side over the box's longer side, minus 1 (the margin), and the
    square's centre minus the box's in box sides (the shift); medians and the faces they come from."""
    from core.detection.faces import detect_any_size
    from core.io.images import ImageError, open_image

    margins, dx, dy = [], [], []
    for p in paths:
        try:
            img = np.asarray(open_image(p))
        except ImageError:
            continue
        h, w = img.shape[:2]
        faces = [f for f in detect_any_size([img], detector)[0] if f.prob >= min_prob]
        if not faces:
            continue
        x0, y0, x1, y1 = max(faces, key=lambda f: f.prob).box
        longer = max(x1 - x0, y1 - y0)
        margins.append(min(h, w) / longer - 1)
        dx.append((w / 2 - (x0 + x1) / 2) / longer)
        dy.append((h / 2 - (y0 + y1) / 2) / longer)
    if not margins:
        raise ValueError("no face found in any of the photos")
    return {"margin": float(np.median(margins)), "shift": [float(np.median(dx)), float(np.median(dy))],
            "faces": len(margins)}
