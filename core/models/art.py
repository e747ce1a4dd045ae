"""The abstract-art detector's view of a picture: the whole image, no face cropper.

The art detector (`art-lstm`, train.art_detector) learnt real Kandinsky abstractions against
dcgan-64-abstract's samples, both 64x64 squares; a picture is judged on its largest centre square
scaled to that side, the framing of the paintings' crops at scale 1.0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from core.models import registry

ART_DETECTOR = "art-lstm"
# the registry's `lstm` recipe (seed 000) at the paintings' 64 px: four rows a step, pixels and NPR residual
ART_LSTM_CONFIG = dict(registry.get_spec(ART_DETECTOR).config)


def painting_square(image: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 3) uint8 -> its largest centre square at size x size (Lanczos), as the training crops were made."""
    h, w = image.shape[:2]
    side = min(h, w)
    y, x = (h - side) // 2, (w - side) // 2
    square = Image.fromarray(np.ascontiguousarray(image[y : y + side, x : x + side]))
    return np.asarray(square.resize((size, size), Image.Resampling.LANCZOS), np.uint8)


@torch.inference_mode()
def painting_probability(model: torch.nn.Module, config: dict, image: np.ndarray) -> float:
    """P(GAN-made) of a picture judged as a painting by the art detector (its temperature applied)."""
    from core.models.detectors import to_input

    square = painting_square(image, int(config["image_size"]))
    device = next(model.parameters()).device
    logit = model.eval()(to_input(square[None], device)).float()[0]
    return float(torch.sigmoid(logit / float(config.get("temperature", 1.0))))


@dataclass(frozen=True)
class PaintingVerdict:
    """The art detector's answer on a whole picture, with what it was measured to do on paintings it never saw."""

    p_gan: float  # calibrated P(GAN-made), as the art detector reads a painting
    held_out: dict  # training.json's art_comparison["lstm"]: accuracy, right of n on held-out paintings and samples
    painter: str = "Wassily Kandinsky"
    gan: str = "dcgan-64-abstract"

    @property
    def looks_gan_made(self) -> bool:
        return self.p_gan >= 0.5


def judge_painting(loaded, image: np.ndarray) -> PaintingVerdict:
    """The art detector (`loaded`, a registry.LoadedModel of art-lstm) on a whole (H, W, 3) uint8 picture."""
    p = painting_probability(loaded.model, loaded.config, image)
    held_out = (loaded.training.get("art_comparison") or {}).get("lstm") or {}
    return PaintingVerdict(p, held_out)
