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
    quality q), "half" (a half-scale photo), "gray" or "sepia" (one tone) or "unband" (the cropper's edge
    bands painted grey); None for any other name."""
    if view == "clean" or not len(crops):
        return crops
    if view.startswith("jpeg") and view[4:].isdigit():
        return jpeg_crops(crops, int(view[4:]))
    if view == "half":
        return half_scale_crops(crops)
    if view in TONES:
        return toned_crops(crops, view)
    if view == "unband":
        return np.stack([unband(c) for c in crops])
    return None


# The face-anchored cropper (core.detection.faces.square_crop) fills the part of its square that lies
# outside the photo by repeating the photo's edge line: a band of identical rows or columns, as wide as a
# quarter of the crop where the photo was already cut close around the face. Every UTKFace crop and most
# SD 2.1 crops carry one, few CelebA or LFW crops do, so a detector can learn the band (which source was
# cut close) instead of the face. The "unband" view paints each band one flat grey, so that what is
# outside the photo reads the same whoever made it; the "band<k>" training views also paint grey bands
# of random sides and widths on half the crops of every source, so that a band tells no source apart.
STRIPE_MIN_ROWS = 3
BAND_GREY = 128
BAND_WIDTH = (3, 40)  # random bands' widths in a 128 px crop (the cropper's bands: 3-63, median 4-23 per source)


def stripe_width(crop: np.ndarray, tol: int = 1) -> tuple[int, int, int, int]:
    """How many outer rows (top, bottom) and columns (left, right) of an (H, W, 3) crop repeat the line inside
    them (within `tol` levels): 0 where fewer than STRIPE_MIN_ROWS lines are alike."""
    c = crop.astype(np.int16)

    def run(lines: np.ndarray) -> int:  # lines[0] is the outermost
        same = np.abs(np.diff(lines, axis=0)).reshape(len(lines) - 1, -1).max(axis=1) <= tol
        n = int(np.argmin(same)) if not same.all() else len(same)
        return n if n + 1 >= STRIPE_MIN_ROWS else 0

    half_h, half_w = c.shape[0] // 2, c.shape[1] // 2
    return (run(c[:half_h]), run(c[::-1][:half_h]), run(c.transpose(1, 0, 2)[:half_w]),
            run(c.transpose(1, 0, 2)[::-1][:half_w]))


def paint_bands(crop: np.ndarray, widths: tuple[int, int, int, int]) -> np.ndarray:
    """The crop with its outer `widths` (top, bottom, left, right) painted BAND_GREY."""
    out = np.array(crop, copy=True)
    top, bottom, left, right = widths
    if top:
        out[:top] = BAND_GREY
    if bottom:
        out[-bottom:] = BAND_GREY
    if left:
        out[:, :left] = BAND_GREY
    if right:
        out[:, -right:] = BAND_GREY
    return out


def unband(crop: np.ndarray) -> np.ndarray:
    """The crop with each replicated-edge band painted grey (the band and the edge line it repeats)."""
    widths = tuple(w + 1 if w else 0 for w in stripe_width(crop))
    return paint_bands(crop, widths) if any(widths) else crop


def random_bands(crop: np.ndarray, rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    """`unband(crop)`, and with probability `p` grey bands on one or two random sides of random widths."""
    out = unband(crop)
    if rng.random() >= p:
        return out
    widths = [0, 0, 0, 0]
    for side in rng.choice(4, size=int(rng.integers(1, 3)), replace=False):
        widths[side] = int(rng.integers(BAND_WIDTH[0], BAND_WIDTH[1] + 1))
    return paint_bands(out, tuple(widths))


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
