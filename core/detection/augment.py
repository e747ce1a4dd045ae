"""Training-time augmentation of face crops: what a robust detector must learn to ignore."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter


@dataclass
class Augment:
    """What a robust detector must ignore: crop position, mirror images, re-scaling, blur and JPEG.

    The recipe of CNNDetection (Wang et al. 2020): uploads have been through phones, chat apps and
    editors, and a detector that keys on pristine pixels fails on the first JPEG. Re-scaling down
    to a quarter and back also hides *how sharp* a source is, which would otherwise tell sources
    apart (our 64 px generators' crops are enlarged, FFHQ's reduced). Each step happens
    independently with its probability, on real and fake crops alike.
    """

    hflip: float = 0.5
    jitter: float = 0.5  # crop jitter: a square of `jitter_scale` of the side at a random place, resized back
    jitter_scale: tuple[float, float] = (0.85, 1.0)
    resize: float = 0.3  # down-scale to `resize_scale` of the side and back: low-resolution photos
    resize_scale: tuple[float, float] = (0.25, 1.0)
    blur: float = 0.2
    blur_sigma: tuple[float, float] = (0.2, 2.0)
    jpeg: float = 0.6  # last, as in the wild: a photo is edited, then compressed
    jpeg_quality: tuple[int, int] = (30, 100)

    def __call__(self, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One (H, W, 3) uint8 image in, one out."""
        h, w = img.shape[:2]
        pil = Image.fromarray(img)
        if rng.random() < self.jitter:
            side = rng.uniform(*self.jitter_scale) * min(h, w)
            x0, y0 = rng.uniform(0, w - side), rng.uniform(0, h - side)
            pil = pil.resize((w, h), Image.BILINEAR, box=(x0, y0, x0 + side, y0 + side))
        if rng.random() < self.resize:
            s = rng.uniform(*self.resize_scale)
            small = (max(8, round(w * s)), max(8, round(h * s)))
            pil = pil.resize(small, Image.BILINEAR).resize((w, h), Image.BILINEAR)
        if rng.random() < self.blur:
            pil = pil.filter(ImageFilter.GaussianBlur(rng.uniform(*self.blur_sigma)))
        if rng.random() < self.jpeg:
            pil = jpeg_roundtrip(pil, int(rng.integers(self.jpeg_quality[0], self.jpeg_quality[1] + 1)))
        out = np.asarray(pil, dtype=np.uint8)
        if rng.random() < self.hflip:
            out = out[:, ::-1]
        return np.ascontiguousarray(out)


def jpeg_roundtrip(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def jpeg_crops(crops: np.ndarray, quality: int = 75) -> np.ndarray:
    """Every crop through a JPEG of `quality` and back (the robustness check of train.evaluate)."""
    return np.stack([np.asarray(jpeg_roundtrip(Image.fromarray(c), quality)) for c in crops]) if len(crops) else crops


def half_scale_crops(crops: np.ndarray) -> np.ndarray:
    """Crops of a photo down-scaled to half its size: each crop halved and enlarged back (bilinear)."""
    if not len(crops):
        return crops
    s = crops.shape[1]
    return np.stack([np.asarray(Image.fromarray(c).resize((s // 2, s // 2), Image.BILINEAR).resize((s, s), Image.BILINEAR))
                     for c in crops])


def distorted_crops(crops: np.ndarray, view: str) -> np.ndarray | None:
    """The crops as a fixed check `view` shows them: "clean" (as they are), "jpeg<q>" (re-encoded at
    quality q) or "half" (a half-scale photo); None for any other name."""
    if view == "clean" or not len(crops):
        return crops
    if view.startswith("jpeg") and view[4:].isdigit():
        return jpeg_crops(crops, int(view[4:]))
    if view == "half":
        return half_scale_crops(crops)
    if view in TONES:
        return toned_crops(crops, view)
    return None


# Colour is a shortcut: every training photo is in colour, so a black-and-white or sepia portrait is
# unlike all of them, and a detector may call it whatever its training never contradicted. These tones
# are applied to a share of every source's training crops (real and fake alike) and are check views.
SEPIA = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])
TONES = ("gray", "sepia")


def toned(img: np.ndarray, tone: str) -> np.ndarray:
    """One (H, W, 3) uint8 image in black and white ("gray", ITU-R 601 luma) or sepia ("sepia")."""
    x = np.asarray(img, np.float32)
    if tone == "gray":
        y = x @ np.array([0.299, 0.587, 0.114], np.float32)
        out = np.repeat(y[..., None], 3, axis=-1)
    elif tone == "sepia":
        out = x @ SEPIA.T.astype(np.float32)
    else:
        raise ValueError(f"unknown tone {tone!r}: {', '.join(TONES)}")
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def toned_crops(crops: np.ndarray, tone: str) -> np.ndarray:
    return np.stack([toned(c, tone) for c in crops]) if len(crops) else crops
