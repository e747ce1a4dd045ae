"""The one place that opens images: bytes or a path in, an upright 8-bit RGB picture out.

Training data, uploads and evaluation folders all go through these functions, so a photo is
seen the same way whichever door it comes in by. Uploads are decoded in memory, never written.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

# PIL refuses images above this many pixels (decompression bombs); 50 MP is a large phone photo.
MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif")


class ImageError(ValueError):
    """An image a user gave us cannot be used; the message is meant for that user."""


def open_image(source: bytes | str | Path) -> Image.Image:
    """Decode `source` (bytes or a path) into an 8-bit RGB image, upright per its EXIF tag.

    Raises ImageError with a readable message for anything that is not a usable image.
    """
    try:
        data = source if isinstance(source, (bytes, bytearray)) else Path(source).read_bytes()
    except OSError as err:
        raise ImageError(f"Could not read the file: {err.strerror or err}.") from err
    if not data:
        raise ImageError("The file is empty (0 bytes).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            img.seek(0)  # animated images: the first frame
            img.load()
            img = ImageOps.exif_transpose(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImageError(
            f"The image is too large to open safely (over {MAX_PIXELS // 1_000_000} megapixels)."
        ) from err
    except Exception as err:  # PIL raises many types for corrupt or truncated data
        raise ImageError("This file is not an image we can read, or it is corrupt or truncated.") from err
    return to_rgb(img)


# libjpeg's base luminance table (ITU T.81, Annex K); a quality q scales it as cjpeg and Pillow do
_IJG_LUMA = np.array([16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
                      14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
                      92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], float)


def _ijg_table_sum(quality: int) -> float:
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality
    return float(np.clip(np.floor((_IJG_LUMA * scale + 50) / 100), 1, 255).sum())


_IJG_SUMS = {q: _ijg_table_sum(q) for q in range(1, 101)}


def jpeg_quality(data: bytes) -> int | None:
    """The quality (1-100, libjpeg's scale) a JPEG was saved at, estimated from its luminance quantisation
    table (the nearest table sum of qualities 1-100, so the table's order does not matter); None for anything
    that is not a readable JPEG. Encoders with tables of their own (some cameras) come out approximately."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            tables = getattr(img, "quantization", None) if img.format == "JPEG" else None
    except Exception:  # not an image at all: open_image says why
        return None
    if not tables or 0 not in tables:
        return None
    total = float(np.sum(tables[0]))
    return min(_IJG_SUMS, key=lambda q: (abs(_IJG_SUMS[q] - total), -q))


MIN_SIDE = 32  # smaller images hold too little of a face to judge


def open_upload(data: bytes) -> tuple[Image.Image, list[str]]:
    """`open_image` for a user's upload, plus notes in words on what was done to it.

    Notes cover animated images (first frame), EXIF rotation, CMYK, 16-bit and transparency.
    Raises ImageError for anything unusable, including images under MIN_SIDE pixels.
    """
    img = open_image(data)
    notes = []
    try:
        raw = Image.open(io.BytesIO(data))
        frames = getattr(raw, "n_frames", 1)
        if frames > 1:
            notes.append(f"Animated image with {frames} frames: only the first frame is judged.")
        orientation = raw.getexif().get(0x0112, 1)
        if orientation not in (None, 1):
            notes.append("The photo carries an EXIF rotation tag; it was turned upright first, as a viewer shows it.")
        if raw.mode == "CMYK":
            notes.append("CMYK image (print colours): converted to RGB.")
        elif raw.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            notes.append(f"High bit depth image ({raw.mode}): scaled to 8 bits per channel.")
        if raw.mode in ("RGBA", "LA", "PA") or "transparency" in raw.info:
            notes.append("Transparent areas were filled with white.")
    except Exception:  # noqa: BLE001 - open_image succeeded; the notes are a courtesy
        pass
    if min(img.size) < MIN_SIDE:
        raise ImageError(f"The image is only {img.width}x{img.height} pixels; at least {MIN_SIDE}x{MIN_SIDE} is "
                         "needed to see a face.")
    return img, notes


def to_rgb(img: Image.Image) -> Image.Image:
    """Convert any PIL mode (CMYK, palette, alpha, 16-bit, float) to 8-bit RGB."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        hi = float(arr.max()) or 1.0
        img = Image.fromarray((arr / hi * 255.0).clip(0, 255).astype(np.uint8))
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    return img.convert("RGB")


def center_crop(img: Image.Image, size: int) -> np.ndarray:
    """The DCGAN tutorial's framing: resize the short side to `size`, then crop the centre.

    Returns a (size, size, 3) uint8 array.
    """
    w, h = img.size
    scale = size / min(w, h)
    new_w, new_h = max(size, round(w * scale)), max(size, round(h * scale))
    img = img.resize((new_w, new_h), Image.BILINEAR)
    left, top = (new_w - size) // 2, (new_h - size) // 2
    return np.asarray(img.crop((left, top, left + size, top + size)), dtype=np.uint8)


def list_images(root: str | Path) -> list[Path]:
    """Every image file under `root`, recursively, in a stable order."""
    root = Path(root)
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
