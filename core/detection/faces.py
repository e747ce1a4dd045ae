"""The one face cropper: MTCNN finds the faces, and every crop is framed the same way.

Training crops, uploads and evaluation folders all go through these functions (images are opened
by core.io.images), so a face is framed the same way whichever door it comes in by.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image

from core.io.images import ImageError, center_crop, open_image

T = TypeVar("T")


@dataclass
class FaceBox:
    """A face found by MTCNN: box in pixels (x0, y0, x1, y1) and the detector's probability."""

    box: tuple[float, float, float, float]
    prob: float


class FaceDetector:
    """facenet-pytorch's MTCNN (its weights ship inside the package), wrapped for batches.

    facenet-pytorch 2.5.3 builds its batch result with `np.array(list_of_ragged_arrays)`, which
    NumPy 2 refuses when images hold different numbers of faces ("inhomogeneous shape"). We call
    the package's lower-level `detect_face` and keep the per-image lists ourselves.
    """

    def __init__(self, device=None, min_face_size: int = 20):
        from facenet_pytorch import MTCNN

        from core.device import pick_device

        self.device = pick_device(device)
        self.mtcnn = MTCNN(keep_all=True, device=self.device, min_face_size=min_face_size)

    def detect(self, images: Sequence[np.ndarray] | np.ndarray) -> list[list[FaceBox]]:
        """Faces in each image (HxWx3 uint8 arrays of one size per call, or a list of any sizes)."""
        import torch
        from facenet_pytorch.models.utils.detect_face import detect_face

        m = self.mtcnn
        groups: dict[tuple[int, int], list[int]] = {}
        for i, im in enumerate(images):
            groups.setdefault(tuple(np.asarray(im).shape[:2]), []).append(i)
        out: list[list[FaceBox]] = [[] for _ in range(len(images))]
        for idx in groups.values():
            batch = np.stack([np.asarray(images[i], dtype=np.uint8) for i in idx])
            with torch.inference_mode():
                boxes, _points = detect_face(
                    batch, m.min_face_size, m.pnet, m.rnet, m.onet, m.thresholds, m.factor, self.device
                )
            for i, b in zip(idx, boxes, strict=True):
                out[i] = [FaceBox(tuple(float(v) for v in row[:4]), float(row[4])) for row in b]
        return out


@dataclass(frozen=True)
class Framing:
    """Where a crop sits around MTCNN's face box: a square `margin` wider than the box's longer side,
    its centre moved from the box's by `shift` (x, y) times that side. The app's crops: margin 0.25,
    no shift (core.detection.judge.FACE_MARGIN); a generator's discriminator gets the framing of the
    photos it was trained on (core.models.discriminators)."""

    margin: float = 0.25
    shift: tuple[float, float] = (0.0, 0.0)

    @property
    def key(self) -> str:
        """How crop caches record it: the margin alone when there is no shift (as caches always did)."""
        return str(self.margin) if self.shift == (0.0, 0.0) else f"{self.margin} shift {self.shift[0]} {self.shift[1]}"


@dataclass
class FaceCrop:
    """One face cut out of a photo: where it was, how sure MTCNN was, and the square crop."""

    box: tuple[float, float, float, float]
    prob: float
    crop: np.ndarray  # (size, size, 3) uint8


def square_crop(img: np.ndarray, box: tuple[float, float, float, float], size: int, margin: float = 0.25,
                shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """A square around `box`, `margin` wider than its longer side on each axis, resized to `size`;
    its centre moved from the box's by `shift` (x, y) times the box's longer side.

    Parts of the square outside the photo are filled by edge replication, so a face at the border
    is framed the same way as one in the middle.
    """
    x0, y0, x1, y1 = box
    longer = max(x1 - x0, y1 - y0)
    side = longer * (1 + margin)
    cx, cy = (x0 + x1) / 2 + shift[0] * longer, (y0 + y1) / 2 + shift[1] * longer
    left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
    side = max(1, int(round(side)))
    h, w = img.shape[:2]
    pad = max(0, -left, -top, left + side - w, top + side - h)
    if pad:
        img = np.pad(img, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
        left, top = left + pad, top + pad
    patch = img[top : top + side, left : left + side]
    return np.asarray(Image.fromarray(patch).resize((size, size), Image.BILINEAR), dtype=np.uint8)


MIN_DETECT_SIDE = 160  # MTCNN's smallest face is 20 px: small images are enlarged to find faces
# Larger images are searched at this longer side. MTCNN's cost grows with the pixels (a 1024x1254
# photo: ~0.5 s on one core, ~0.15 s at 640), and the faces it then misses, under 20/640 of the
# longer side (32 px in a 1024 px photo), are too small for the detectors' 128 px crops anyway.
MAX_DETECT_SIDE = 640


def detect_any_size(images: Sequence[np.ndarray], detector: FaceDetector,
                    min_side: int = MIN_DETECT_SIDE, max_side: int = MAX_DETECT_SIDE) -> list[list[FaceBox]]:
    """Faces in images of any size; boxes are in each image's own pixels.

    Images whose short side is under `min_side` are enlarged for the detector only (a 64x64
    generated face has a 30 px face, too close to MTCNN's limit), and images whose longer side is
    over `max_side` are searched at that size; crops are then cut from the original pixels, so
    what is judged is never interpolated data.
    """
    scaled, factors = [], []
    for im in images:
        im = np.asarray(im)
        h, w = im.shape[:2]
        f = max(1.0, min_side / max(1, min(h, w)))
        if f == 1.0 and max(h, w) > max_side:
            f = max_side / max(h, w)
        if f != 1.0:
            im = np.asarray(Image.fromarray(im).resize((round(w * f), round(h * f)), Image.BILINEAR))
        scaled.append(im)
        factors.append(f)
    found = detector.detect(scaled)
    return [
        [FaceBox(tuple(v / f for v in face.box), face.prob) for face in faces]
        for faces, f in zip(found, factors, strict=True)
    ]


def crop_faces(images: Sequence[np.ndarray], detector: FaceDetector, size: int, margin: float = 0.25,
               min_prob: float = 0.90, shift: tuple[float, float] = (0.0, 0.0)) -> list[list[FaceCrop]]:
    """Every face with probability >= `min_prob` in each image, as square crops, most confident first
    (training crops take faces[0]; `largest_first` numbers them for people)."""
    out = []
    for img, faces in zip(images, detect_any_size(images, detector), strict=True):
        faces = sorted((f for f in faces if f.prob >= min_prob), key=lambda f: -f.prob)
        out.append([FaceCrop(f.box, f.prob, square_crop(np.asarray(img), f.box, size, margin, shift)) for f in faces])
    return out


def box_area(box: tuple[float, float, float, float]) -> float:
    x0, y0, x1, y1 = box
    return max(0.0, x1 - x0) * max(0.0, y1 - y0)


def largest_first(faces: Sequence[T]) -> list[T]:
    """Faces (anything with a `box`: FaceCrop, a judge's FaceVerdict) by box area, largest first; equal
    boxes keep their order.

    How a photo's faces are numbered for people: the person in front is Face 1, not a small face in
    the background that MTCNN happened to be surer of. `crop_faces` keeps MTCNN's order (most confident
    first), which the training crops rely on (they take faces[0]).
    """
    return sorted(faces, key=lambda f: -box_area(f.box))


def training_frame(image: np.ndarray, size: int, crop: str = "center", detector: FaceDetector | None = None,
                   margin: float = 0.25) -> np.ndarray:
    """A photo framed like a generator's training data, `size` pixels square.

    crop "center": the DCGAN tutorial's resize and centre crop. crop "mtcnn": the LSGAN's square
    around the most confident face (as `build_face_cache` cut them), or the centre crop when no face
    is found or no detector is given.
    """
    if crop == "mtcnn" and detector is not None:
        faces = crop_faces([np.asarray(image)], detector, size, margin)[0]
        if faces:
            return faces[0].crop
    return center_crop(image, size)


def face_found_rate(
    images: np.ndarray, detector: FaceDetector, threshold: float = 0.90, upscale_to: int = 160,
    batch_size: int = 64,
) -> tuple[float, list[float]]:
    """Share of images (N,H,W,3 uint8) in which MTCNN finds a face with prob >= `threshold`.

    Small images are upscaled to `upscale_to` pixels first, as MTCNN's smallest face is 20 px.
    Returns the rate and each image's best face probability (0 where none was found).
    """
    best: list[float] = []
    for start in range(0, len(images), batch_size):
        chunk = [
            np.asarray(Image.fromarray(im).resize((upscale_to, upscale_to), Image.BILINEAR))
            for im in images[start : start + batch_size]
        ]
        for faces in detector.detect(chunk):
            best.append(max((f.prob for f in faces), default=0.0))
    rate = float(np.mean([p >= threshold for p in best])) if best else 0.0
    return rate, best


def iter_center_crops(paths: Iterable[Path], size: int):
    """Yield (path, crop) for each readable image; unreadable files are skipped with a warning."""
    for p in paths:
        try:
            yield p, center_crop(open_image(p), size)
        except ImageError as err:
            warnings.warn(f"skipping {p}: {err}", stacklevel=2)
