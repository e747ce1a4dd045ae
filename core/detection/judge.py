"""From an image to verdicts: find every face with the one cropper, ask each detector, combine.

`Judge.judge(image)` returns, for each face found (box, MTCNN probability, the crop as the
detectors see it), each detector's calibrated probability that the face is GAN-made, the
ensemble probability (their weighted mean: weights fitted on the validation mix of every source by
`python -m train.fit_ensemble`, kept in weights/ensemble.json; where a detector failed to load, the
fitted weights of those left (`over_loaded`); equal weights without a fit) and a label: "real", "GAN-made"
or "uncertain".

False-alarm guard: the weighted mean is then moved down on the logit scale by `shift` (also fitted on
the validation mix and kept in ensemble.json): the smallest shift that leaves no real source with more
than `FALSE_ALARM_TARGET` of its faces called GAN-made. Calling a real person's photo GAN-made is the
worse mistake here, so the verdict would rather say "uncertain" than accuse: the ensemble figure is a
cautious score, not an unbiased probability (the detectors' own figures stay calibrated).

Compressed uploads: a JPEG saved below `COMPRESSED_BELOW` quality (estimated from its quantisation table,
`core.io.images.jpeg_quality`) is judged with a second set of weights and guard, fitted the same way on
JPEG-90, JPEG-75 and half-scale copies of the validation crops beside the crops themselves (ensemble.json's
"compressed"). The fine texture the `probe-texture` detector reads does not survive such compression (its
faces from generators fall to "real"), so that set leans on the detectors trained with JPEG augmentation.
Every photo the detectors were trained on was a JPEG of quality 90 (CelebA's: 75), hence the line.

The uncertain band is a setting (`UNCERTAIN_BAND`, default 0.35-0.65): an ensemble probability
inside it is reported as "uncertain" rather than forced into a side. Each detector's calibrated
probability is right about as often as it claims on validation data (ECE in docs/detectors.md, *Figures on the validation mix*).

Real-only gate: a face may be called real only where it is as usual as real photos are on two counts:
the real-only score (`core.detection.realonly`: a pixel coder of real photos and, where bundled, a one-class
model of real photos' texture features in a frozen ImageNet backbone, their two ranks combined; neither ever
saw a generated face: the share of held-out real faces more probable than it) and the ensemble's own score
ranked among the real validation faces' (a generator the detectors never learnt is often ranked above
real photos while staying under the verdict's threshold). The two ranks are combined as independent
p-values (Fisher: `unusualness`, itself a share of real faces, 0-1); at or above the gate's threshold
(ensemble.json's "real_gate", fitted on the real validation faces alone) the face's verdict score is
lifted into the uncertain band (`gate_score`): the gate can stop a "real" verdict but never make a
"GAN-made" one. An unfamiliar face (below) is lifted the same way. The verdict's score is
`FaceVerdict.score`; `ensemble` stays the supervised detectors' guarded mean.

Familiarity: the CNN's pooled features of the validation mix are summarised by their mean and a
shrunk inverse covariance (weights/familiarity.safetensors, fitted with the ensemble). A face whose
Mahalanobis distance lies beyond the 99th percentile of held-out validation faces is flagged
`unfamiliar`: unlike anything the detectors were tested on, so its verdict is less reliable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image

from core.detection.faces import FaceCrop, FaceDetector, crop_faces, square_crop
from core.models.detectors import CROP_SIZE, to_input

UNCERTAIN_BAND = (0.35, 0.65)  # ensemble probabilities in here are "uncertain"
FACE_MARGIN = 0.25  # as for the training crops (core.data.caches.build_face_cache)
MIN_FACE_PROB = 0.90
MAX_SIDE = 2048  # larger photos are down-scaled first: faces stay far above the crop size
MIN_SIDE = 32  # smaller images carry too little to judge
LABELS = ("real", "GAN-made", "uncertain")  # the verdicts, as train.evaluate --scores writes them
# ... and as the app says them (Detect page, quiz)
VERDICT_WORDS = {"real": "Looks real", "GAN-made": "Looks GAN-made", "uncertain": "Uncertain"}
FALSE_ALARM_TARGET = 0.02  # at most this share of any real source's validation faces called GAN-made
REAL_NOT_REAL_TARGET = 0.12  # at most this share of any real source's validation faces not called real
COMPRESSED_BELOW = 85  # JPEG uploads saved below this quality are judged with the "compressed" weights


def detectors_split(probs: dict[str, float], weights: dict[str, float],
                    band: tuple[float, float] = UNCERTAIN_BAND) -> bool:
    """Whether the detectors that count (weight > 0) split: one below the band (real), another above it."""
    counted = [p for n, p in probs.items() if weights.get(n, 0.0) > 0]
    return bool(counted) and min(counted) < band[0] and max(counted) > band[1]


def gate_score(q, threshold: float, band: tuple[float, float] = UNCERTAIN_BAND):
    """The real-only detector's real-quantile `q` (0-1) on the verdict's scale: below `threshold` into the
    "real" range under the band, from it on into the band itself, never above it: alone it can stop a face
    being called real, never call one GAN-made."""
    q = np.clip(np.asarray(q, float), 0.0, 1.0)
    lo, hi = band
    t = min(max(float(threshold), 1e-6), 1.0)
    above = lo + np.clip((q - t) / max(1.0 - t, 1e-6), 0.0, 1.0) * (hi - lo) * 0.999
    return np.where(q < t, q / t * lo * 0.999, above)


MONOCHROME_LEVELS = 4.0  # mean largest channel difference (of 255) under which a crop is black and white
TONE_LEVELS = 4.0  # mean distance (levels) of a crop's colour from the one tone its brightness predicts
TONE_BINS = 16  # brightness bins of `tone_spread`


def tone_spread(crops: np.ndarray, bins: int = TONE_BINS) -> np.ndarray:
    """Per (N, S, S, 3) uint8 crop: how far its colour strays from a single tone, in 8-bit levels. The chroma
    (R - Y and B - Y) of each pixel less the mean chroma of the crop's pixels of the same brightness (`bins`
    bins of the luma Y), mean absolute, the two summed: 0 in black and white, about 2 for sepia (a tint that
    follows brightness), 12-24 (median) for colour photos of every source here."""
    c = np.asarray(crops, np.float32)
    n = len(c)
    if not n:
        return np.zeros(0)
    c = c.reshape(n, -1, 3)
    y = c @ np.array([0.299, 0.587, 0.114], np.float32)
    idx = np.clip((y * (bins / 256.0)).astype(np.int64), 0, bins - 1) + bins * np.arange(n)[:, None]
    count = np.maximum(np.bincount(idx.ravel(), minlength=n * bins), 1)
    out = np.zeros(n)
    for ch in (0, 2):
        chroma = c[..., ch] - y
        mean = np.bincount(idx.ravel(), chroma.ravel().astype(np.float64), minlength=n * bins) / count
        out += np.abs(chroma - mean[idx]).mean(1)
    return out


def monochrome(crops: np.ndarray) -> np.ndarray:
    """Per (N, S, S, 3) uint8 crop: whether it is in one tone: black and white (its three channels nearly equal)
    or toned, as sepia is (its colour a function of brightness alone, `tone_spread`). No training photo of any
    source was, and the detectors lean on colour (`train.shortcuts`: toned to grey, generated faces were called
    GAN-made 0-2% of the time; in sepia most were missed), so such a face is never called real."""
    c = np.asarray(crops, np.int16)
    if not len(c):
        return np.zeros(0, bool)
    spread = np.abs(c[..., 0] - c[..., 1]) + np.abs(c[..., 1] - c[..., 2])
    return (spread.reshape(len(c), -1).mean(1) < MONOCHROME_LEVELS) | (tone_spread(c) < TONE_LEVELS)


def real_rank(scores, reference) -> np.ndarray:
    """Share of real faces scoring lower than each score; `reference` holds their scores at evenly spaced
    quantiles (0, ..., 1)."""
    ref = np.asarray(reference, float)
    return np.interp(np.asarray(scores, float), ref, np.linspace(0.0, 1.0, len(ref)))


def unusualness(realonly_rank, ensemble_rank=None) -> np.ndarray:
    """How unusual a face is for a real photo on both counts, as a share of real faces (0-1): the two ranks
    combined as independent p-values (Fisher's sum of -log(1 - rank), whose distribution under real faces is
    Gamma(2, 1)); the real-only rank alone without an ensemble reference."""
    r = np.clip(np.asarray(realonly_rank, float), 0.0, 1 - 1e-6)
    if ensemble_rank is None:
        return r
    x = -np.log1p(-r) - np.log1p(-np.clip(np.asarray(ensemble_rank, float), 0.0, 1 - 1e-6))
    return 1.0 - np.exp(-x) * (1.0 + x)


def verdict_scores(ensemble, gate=None, unfamiliar=None, band: tuple[float, float] = UNCERTAIN_BAND) -> np.ndarray:
    """The score the verdict is read from: the supervised ensemble, lifted to the real-only gate's score
    where that is higher, and into the band where the face is unfamiliar. Never lower than the ensemble."""
    s = np.asarray(ensemble, float)
    if gate is not None:
        s = np.maximum(s, np.asarray(gate, float))
    if unfamiliar is not None:
        s = np.where(np.asarray(unfamiliar, bool), np.maximum(s, band[0]), s)
    return s


def gated_scores(ens, q, lifted, threshold: float | None, reference=None,
                 band: tuple[float, float] = UNCERTAIN_BAND) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """The gate on guarded ensemble scores `ens`: the real-only scores `q` (None: no real-only detector) and the
    ensemble's rank among the real faces' scores (`reference`, None: not used) give the unusualness; at or beyond
    `threshold` (None: no gate) a face is lifted into the band, as are the `lifted` faces. Returns (unusualness
    or None, beyond the gate, the verdict's scores)."""
    ens = np.asarray(ens, float)
    u = None if q is None else unusualness(q, None if reference is None else real_rank(ens, reference))
    gate = None if u is None or threshold is None else gate_score(u, threshold, band)
    beyond = np.zeros(len(ens), bool) if gate is None else u >= threshold
    return u, beyond, verdict_scores(ens, gate, lifted, band)


def label_for(p: float, band: tuple[float, float] = UNCERTAIN_BAND) -> str:
    lo, hi = band
    if p < lo:
        return "real"
    if p > hi:
        return "GAN-made"
    return "uncertain"


@dataclass
class FaceVerdict:
    box: tuple[float, float, float, float]  # in the judged image's pixels
    face_prob: float  # MTCNN's confidence that this is a face (0 for a whole-image judgement)
    crop: np.ndarray  # (CROP_SIZE, CROP_SIZE, 3) uint8: what the detectors saw
    probabilities: dict[str, float]  # detector name -> calibrated P(GAN-made)
    ensemble: float
    label: str
    whole_image: bool = False  # no face was found; the whole image was judged (less reliable)
    split: bool = False  # the counted detectors disagree: one sure it is real, another sure it is GAN-made
    unfamiliar: bool = False  # far from every face the detectors were tested on (see `Familiarity`)
    distance: float | None = None  # its Mahalanobis distance, where a familiarity check is bundled
    weights: dict[str, float] | None = None  # the ensemble weights that made this verdict (None: the judge's)
    realonly: float | None = None  # the real-only detector's score: share of real faces more probable (0-1)
    improbable: bool = False  # its unusualness is beyond the gate: it cannot be called real
    unusual: float | None = None  # `unusualness` of the real-only score and the ensemble's rank (0-1)
    monochrome: bool = False  # a face in one tone (black and white, sepia): never called real (see `monochrome`)
    score: float | None = None  # what the label is read from (`verdict_scores`); None: the ensemble

    @property
    def verdict_score(self) -> float:
        return self.ensemble if self.score is None else self.score


@dataclass
class ImageVerdict:
    image: np.ndarray  # the judged image (RGB uint8, after any down-scaling)
    faces: list[FaceVerdict]
    notes: list[str] = field(default_factory=list)  # what was done to the image, for the user


FAMILIARITY_QUANTILE = 0.99
FAMILIARITY_DETECTOR = "cnn"


@dataclass
class Familiarity:
    """Mean and precision of one detector's pooled features over the validation mix, and the distance
    beyond which a face counts as unfamiliar."""

    detector: str
    mean: np.ndarray  # (D,)
    precision: np.ndarray  # (D, D), the inverse of the shrunk covariance
    threshold: float
    quantile: float = FAMILIARITY_QUANTILE
    weights_sha256: str = ""  # of the detector whose features these are

    def distance(self, features: np.ndarray) -> np.ndarray:
        d = np.asarray(features, np.float64) - self.mean
        return np.sqrt(np.maximum(np.einsum("nd,de,ne->n", d, self.precision, d), 0.0))

    @classmethod
    def fit(cls, features: np.ndarray, detector: str, quantile: float = FAMILIARITY_QUANTILE, shrink: float = 0.1,
            weights_sha256: str = "") -> Familiarity:
        """Mean and covariance from every other face, the threshold from the rest (held out)."""
        f = np.asarray(features, np.float64)
        fit_part, hold = f[0::2], f[1::2]
        mean = fit_part.mean(0)
        cov = np.cov(fit_part, rowvar=False)
        cov = (1 - shrink) * cov + shrink * np.eye(len(mean)) * np.trace(cov) / len(mean)
        fam = cls(detector, mean, np.linalg.inv(cov), 0.0, quantile, weights_sha256)
        fam.threshold = float(np.quantile(fam.distance(hold), quantile))
        return fam

    def save(self, path, fitted_on: str = "") -> None:
        from core.io.store import save_tensors

        save_tensors(path, {"mean": torch.from_numpy(self.mean.astype(np.float32)),
                            "precision": torch.from_numpy(self.precision.astype(np.float32))},
                     metadata={"detector": self.detector, "threshold": repr(self.threshold),
                               "quantile": repr(self.quantile), "weights_sha256": self.weights_sha256,
                               "fitted_on": fitted_on})

    @classmethod
    def load(cls, path) -> Familiarity | None:
        """The bundled check, or None when there is none or it cannot be read."""
        from safetensors import safe_open

        try:
            with safe_open(str(path), "np") as f:
                meta = f.metadata() or {}
                return cls(meta["detector"], f.get_tensor("mean").astype(np.float64),
                           f.get_tensor("precision").astype(np.float64), float(meta["threshold"]),
                           float(meta.get("quantile", FAMILIARITY_QUANTILE)), meta.get("weights_sha256", ""))
        except Exception:  # missing, damaged or foreign file: safetensors raises several types
            return None


def pooled_features(model: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits, the pooled features its body hands to the head) in one forward pass."""
    seen = {}
    handle = model.body.register_forward_hook(lambda m, i, out: seen.__setitem__("f", out))
    try:
        logits = model(x)
    finally:
        handle.remove()
    return logits, seen["f"]


def familiarity_path():
    from core.models.registry import WEIGHTS_DIR

    return WEIGHTS_DIR / "familiarity.safetensors"


def ensemble_path():
    from core.models.registry import WEIGHTS_DIR

    return WEIGHTS_DIR / "ensemble.json"


def _read_ensemble() -> dict:
    from core.io.store import read_json

    try:
        data = read_json(ensemble_path(), {}) or {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def read_ensemble_weights() -> dict[str, float] | None:
    """The fitted ensemble weights (detector -> weight), or None when none are bundled or they are unreadable."""
    w = _read_ensemble().get("weights")
    if not isinstance(w, dict) or not w or not all(isinstance(v, (int, float)) and v >= 0 for v in w.values()):
        return None
    return {str(k): float(v) for k, v in w.items()}


def read_real_gate() -> float | None:
    """The real-only gate's threshold (an unusualness in (0, 1]), or None where none is fitted."""
    g = _read_ensemble().get("real_gate")
    t = g.get("threshold") if isinstance(g, dict) else None
    return float(t) if isinstance(t, (int, float)) and 0 < t <= 1 else None


def read_ensemble_reference() -> np.ndarray | None:
    """The real validation faces' guarded ensemble scores at evenly spaced quantiles, or None."""
    g = _read_ensemble().get("real_gate")
    ref = g.get("ensemble_reference") if isinstance(g, dict) else None
    if not isinstance(ref, list) or len(ref) < 2 or not all(isinstance(v, (int, float)) for v in ref):
        return None
    arr = np.asarray(ref, float)
    return arr if np.all(np.diff(arr) >= 0) else None


def read_ensemble_shift() -> float:
    """The fitted false-alarm guard (a logit shift >= 0); 0 when none is bundled or it is unreadable."""
    s = _read_ensemble().get("shift", 0.0)
    return float(s) if isinstance(s, (int, float)) and 0 <= s < 20 else 0.0


def read_compressed_ensemble() -> dict | None:
    """The weights and guard for compressed JPEG uploads ({"weights", "shift"}), or None when none are bundled
    or they are unreadable."""
    c = _read_ensemble().get("compressed")
    if not isinstance(c, dict):
        return None
    w, s = c.get("weights"), c.get("shift", 0.0)
    if (not isinstance(w, dict) or not w or not all(isinstance(v, (int, float)) and v >= 0 for v in w.values())
            or not sum(w.values()) > 0 or not isinstance(s, (int, float)) or not 0 <= s < 20):
        return None
    return {"weights": {str(k): float(v) for k, v in w.items()}, "shift": float(s)}


def shifted(q: np.ndarray, shift: float) -> np.ndarray:
    """Probabilities moved down by `shift` on the logit scale (0 leaves them as they are)."""
    q = np.asarray(q, float)
    if not shift:
        return q
    q = np.clip(q, 1e-9, 1 - 1e-9)
    return 1 / (1 + np.exp(-(np.log(q / (1 - q)) - shift)))


def fit_false_alarm_shift(real_scores: dict[str, np.ndarray], hi: float = UNCERTAIN_BAND[1],
                          target: float = FALSE_ALARM_TARGET, step: float = 0.05, max_shift: float = 8.0) -> float:
    """The smallest logit shift (on a grid of `step`) after which no real source has more than `target` of
    its scores above `hi`, i.e. called GAN-made. `real_scores` maps source -> ensemble scores of real faces."""
    scores = [np.asarray(v, float) for v in real_scores.values() if len(v)]
    for k in range(round(max_shift / step) + 1):
        s = round(k * step, 6)
        if all((shifted(v, s) > hi).mean() <= target for v in scores):
            return s
    return max_shift


def fit_real_gate(real: dict[str, tuple], band: tuple[float, float] = UNCERTAIN_BAND,
                  target: float = REAL_NOT_REAL_TARGET, step: float = 0.0025) -> float:
    """The real-only gate's threshold: the lowest unusualness (on a grid of `step` from 0.5 to 1) at which no
    real source has more than `target` of its faces kept from a "real" verdict, by the gate, the familiarity
    check or the ensemble itself; where the ensemble and the familiarity check alone already keep more than
    `target` of a source from "real", the gate may add none there (before, such a source shut the gate for
    every face: a cautious ensemble disabled the check that stops unseen generators). `real` maps source ->
    (guarded ensemble, unusualness, unfamiliar)."""
    real = {n: v for n, v in real.items() if len(v[0])}
    allowed = {n: max(target, float((verdict_scores(e, None, u, band) >= band[0]).mean())) for n, (e, _, u) in real.items()}
    for t in np.arange(0.5, 1.0 + step / 2, step):
        if all((verdict_scores(e, gate_score(q, t, band), u, band) >= band[0]).mean() <= allowed[n] + 1e-12
               for n, (e, q, u) in real.items()):
            return round(float(t), 4)
    return 1.0


def fit_ensemble_weights(probs: dict[str, np.ndarray], labels: np.ndarray, sample_weights: np.ndarray | None = None,
                         step: float = 0.05) -> tuple[dict[str, float], float]:
    """Non-negative weights summing to 1 for the detectors' calibrated probabilities, chosen on a grid of
    `step` to minimise the (sample-weighted) log loss of their weighted mean. Returns (weights, log loss)."""
    import itertools

    names = list(probs)
    p = np.stack([np.clip(np.asarray(probs[n], float), 1e-6, 1 - 1e-6) for n in names])
    y = np.asarray(labels, float)
    sw = np.ones_like(y) if sample_weights is None else np.asarray(sample_weights, float)
    k = round(1 / step)
    best, best_loss = None, np.inf
    for combo in itertools.product(range(k + 1), repeat=len(names) - 1):
        if sum(combo) > k:
            continue
        w = np.array([*combo, k - sum(combo)], float) / k
        q = np.clip(w @ p, 1e-6, 1 - 1e-6)
        loss = float(-(sw * (y * np.log(q) + (1 - y) * np.log(1 - q))).sum() / sw.sum())
        if loss < best_loss - 1e-12:
            best, best_loss = w, loss
    return {n: round(float(v), 4) for n, v in zip(names, best, strict=True)}, best_loss


def fit_size(img: Image.Image, max_side: int = MAX_SIDE) -> tuple[Image.Image, str | None]:
    """Down-scale an image whose longer side exceeds `max_side`; returns it and a note, if any."""
    w, h = img.size
    if max(w, h) <= max_side:
        return img, None
    f = max_side / max(w, h)
    small = img.resize((max(1, round(w * f)), max(1, round(h * f))), Image.BILINEAR)
    return small, f"Down-scaled from {w}x{h} to {small.width}x{small.height} pixels before looking for faces."


def whole_image_crop(img: np.ndarray, size: int = CROP_SIZE) -> np.ndarray:
    """The largest centred square of the image, resized: what is judged when no face is found."""
    h, w = img.shape[:2]
    side = min(h, w)
    box = ((w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2)
    return square_crop(img, box, size, margin=0.0)


def over_loaded(weights: dict[str, float] | None, loaded) -> dict[str, float] | None:
    """Fitted ensemble weights kept for the detectors that loaded: all of them when every one named loaded; when
    some failed (a damaged file, say), the fitted weights of those left, so the verdict still leans on the
    detectors the fit trusted (the Judge scales them to sum to 1; the guard stays the fitted one). None where
    the weights name a detector the fit never saw, or where none of those left carries weight: then the
    detectors left weigh alike."""
    if weights is None or not set(loaded) <= set(weights):
        return None
    kept = {n: float(w) for n, w in weights.items() if n in loaded}
    return kept if sum(kept.values()) > 0 else None


class Judge:
    """The face finder and the detectors, loaded once; `detectors` maps name -> (model, temperature)."""

    def __init__(self, detectors: dict[str, tuple[torch.nn.Module, float]], face_detector: FaceDetector | None = None,
                 band: tuple[float, float] = UNCERTAIN_BAND, weights: dict[str, float] | None = None,
                 shift: float = 0.0, compressed: dict | None = None):
        if not detectors:
            raise ValueError("a Judge needs at least one detector")
        self.detectors = {name: (model.eval(), float(t)) for name, (model, t) in detectors.items()}
        w = {n: float((weights or {}).get(n, 0.0 if weights else 1.0)) for n in self.detectors}
        total = sum(w.values())
        self.weights = {n: v / total for n, v in w.items()} if total > 0 else {n: 1 / len(w) for n in w}
        self.face_detector = face_detector or FaceDetector(device="cpu")
        self.band = band
        self.shift = float(shift)  # the false-alarm guard, see the module docstring
        # {"weights", "shift"} for compressed JPEG uploads (module docstring); None: the same for every upload
        self.compressed = None
        if compressed and set(compressed["weights"]) == set(self.detectors):
            total = sum(compressed["weights"].values())
            self.compressed = {"weights": {n: v / total for n, v in compressed["weights"].items()},
                               "shift": float(compressed.get("shift", 0.0))}
        self.device = next(next(iter(self.detectors.values()))[0].parameters()).device
        self.familiarity: Familiarity | None = None  # set by from_loaded when one fits these detectors
        self.realonly = None  # core.detection.realonly.RealOnlyDetector, set by from_loaded where bundled
        self.realonly_record: dict = {}
        # the second real-only model (core.detection.realonly.FeatureOneClass) and the probe whose frozen backbone
        # gives it features; set by from_loaded where bundled
        self.realonly_features = None
        self.realonly_features_record: dict = {}
        self.feature_probe = None
        self.gate: float | None = None  # the real-only gate's threshold, where one is fitted
        self.ensemble_reference: np.ndarray | None = None  # real faces' ensemble scores at quantiles 0..1

    @classmethod
    def from_loaded(cls, loaded: dict) -> Judge:
        """A judge of registry-loaded detectors (name -> LoadedModel), each with its fitted temperature,
        combined with the bundled ensemble weights when they name exactly these detectors."""
        weights = over_loaded(read_ensemble_weights(), loaded)
        compressed = read_compressed_ensemble() if weights is not None else None
        if compressed is not None:
            kept = over_loaded(compressed["weights"], loaded)
            compressed = {**compressed, "weights": kept} if kept is not None else None
        judge = cls({name: (m.model, m.config.get("temperature", 1.0)) for name, m in loaded.items()}, weights=weights,
                    shift=read_ensemble_shift() if weights is not None else 0.0, compressed=compressed)
        fam = Familiarity.load(familiarity_path())
        m = loaded.get(fam.detector) if fam else None
        if fam and m is not None and fam.weights_sha256 == m.training.get("weights_sha256") and hasattr(m.model, "body"):
            judge.familiarity = fam
        from core.detection import realonly
        from core.models.probe import ProbeDetector

        got = realonly.load()
        if got is not None:
            judge.realonly, judge.realonly_record = got
            judge.gate = read_real_gate()
            judge.ensemble_reference = read_ensemble_reference()
            feats = realonly.load_features(judge.realonly_record)
            probe = next((m.model for m in loaded.values() if isinstance(m.model, ProbeDetector) and feats
                          and m.model.input_size == feats[0].input_size and m.model.taps >= feats[0].taps), None)
            if feats is not None and probe is not None:  # it reads the texture features through a probe's backbone
                judge.realonly_features, judge.realonly_features_record = feats
                judge.feature_probe = probe
        return judge

    def real_quantiles(self, crops: np.ndarray) -> np.ndarray | None:
        """The real-only score of each crop (share of held-out real faces less unusual, 0-1): the pixel coder's,
        combined with the texture-feature model's where both are bundled; None without the coder."""
        parts = self.real_only_parts(crops)
        return None if parts is None else parts["real-only"]

    def real_only_parts(self, crops: np.ndarray, features: dict | None = None) -> dict[str, np.ndarray] | None:
        """{"real-only": the score the gate reads, "real-only (coder)", and "real-only (features)" where that model
        is bundled}: each a share of held-out real faces less unusual; None without the coder. `features`: the
        probes' backbone features of these crops by input size, as `probabilities_and_distances` leaves them
        (else the backbone runs again)."""
        if self.realonly is None or not len(crops):
            return None
        crops = np.asarray(crops, np.uint8)
        q = self.realonly(crops)
        out = {"real-only (coder)": q, "real-only": q}
        if self.realonly_features is not None:
            fo = self.realonly_features
            f = (features or {}).get(fo.input_size)
            if f is None or f.shape[1] < fo.mean.shape[1]:
                feats = fo.backbone_features(to_input(crops, self.device), self.feature_probe)
            else:
                feats = f.double().cpu().numpy()[:, :fo.mean.shape[1]]
            qf = fo.atypicality(feats)
            out.update({"real-only (features)": qf, "real-only": fo.combine(q, qf)})
        return out

    @classmethod
    def from_registry(cls, names: list[str] | None = None, use_hub: bool = True) -> Judge:
        """A judge of the registry's detectors (all of them by default)."""
        from core.models import registry

        return cls.from_loaded({n: registry.load(n, use_hub=use_hub) for n in names or registry.names("detector")})

    @torch.inference_mode()
    def probabilities(self, crops: np.ndarray) -> dict[str, np.ndarray]:
        """Calibrated P(GAN-made) of each detector for (N, S, S, 3) uint8 crops."""
        if len(crops) == 0:
            return {name: np.zeros(0) for name in self.detectors}
        return self.probabilities_and_distances(crops)[0]

    @torch.inference_mode()
    def probabilities_and_distances(self, crops: np.ndarray, features: dict | None = None
                                    ) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        """`probabilities`, and each crop's familiarity distance (None without a familiarity check); the probes'
        backbone features are left in `features` (by input size) where it is a dict."""
        from core.models.probe import ProbeDetector, shared_logits

        x = to_input(crops, self.device)
        probs, dist = {}, None
        probes = shared_logits({n: m for n, (m, _) in self.detectors.items() if isinstance(m, ProbeDetector)}, x,
                               features)
        for name, (model, t) in self.detectors.items():
            if name in probes:
                logits = probes[name]
            elif self.familiarity is not None and name == self.familiarity.detector:
                logits, feats = pooled_features(model, x)
                dist = self.familiarity.distance(feats.float().cpu().numpy())
            else:
                logits = model(x)
            probs[name] = torch.sigmoid(logits.float() / t).cpu().numpy()
        return probs, dist

    def ensemble(self, probs: dict[str, np.ndarray], compressed: bool = False) -> np.ndarray:
        """The weighted mean of the detectors' probabilities, moved down by the false-alarm guard; with
        `compressed`, the weights and guard for compressed JPEGs where they are bundled."""
        weights, shift = self.weights_for(compressed)
        mean = np.sum(np.stack([weights[n] * np.asarray(p) for n, p in probs.items() if n in weights]), axis=0)
        return shifted(mean, shift)

    def weights_for(self, compressed: bool) -> tuple[dict[str, float], float]:
        """(weights, guard) for a compressed JPEG upload or any other."""
        if compressed and self.compressed:
            return self.compressed["weights"], self.compressed["shift"]
        return self.weights, self.shift

    def is_compressed(self, jpeg_quality: int | None) -> bool:
        """Whether an upload of this JPEG quality (None: not a JPEG) gets the compressed weights."""
        return self.compressed is not None and jpeg_quality is not None and jpeg_quality < COMPRESSED_BELOW

    def find_faces(self, images: list[np.ndarray]) -> list[list[FaceCrop]]:
        return crop_faces(images, self.face_detector, CROP_SIZE, FACE_MARGIN, MIN_FACE_PROB)

    def gated(self, ens: np.ndarray, q: np.ndarray | None, lifted: np.ndarray | None
              ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        """The gate applied to guarded ensemble scores `ens`, given the crops' real-only scores `q` (None without
        the detector) and the faces lifted into the band whatever the gate says (`lifted`: unfamiliar or black
        and white). Returns (unusualness or None, beyond the gate, the verdict's scores)."""
        return gated_scores(ens, q, lifted, self.gate, self.ensemble_reference, self.band)

    def judge_crops(self, crops: list[FaceCrop], whole_image: bool = False, compressed: bool = False) -> list[FaceVerdict]:
        if not crops:
            return []
        stacked = np.stack([c.crop for c in crops])
        feats = {}
        probs, dist = self.probabilities_and_distances(stacked, feats)
        ens = self.ensemble(probs, compressed)
        weights = self.weights_for(compressed)[0]
        parts = self.real_only_parts(stacked, feats)  # the texture model reads the probes' features: no second pass
        q = None if parts is None else parts["real-only"]
        unfamiliar = (np.zeros(len(crops), bool) if dist is None
                      else np.asarray(dist) > self.familiarity.threshold)
        mono = monochrome(stacked)
        u, beyond, scores = self.gated(ens, q, unfamiliar | mono)
        verdicts = []
        for i, c in enumerate(crops):
            p = {n: float(v[i]) for n, v in probs.items()}
            d = None if dist is None else float(dist[i])
            verdicts.append(FaceVerdict(
                c.box, c.prob, c.crop, p, float(ens[i]), label_for(float(scores[i]), self.band), whole_image,
                detectors_split(p, weights, self.band), bool(unfamiliar[i]), d, weights,
                realonly=None if q is None else float(q[i]), improbable=bool(beyond[i]),
                score=float(scores[i]), unusual=None if u is None else float(u[i]), monochrome=bool(mono[i])))
        return verdicts

    def judge(self, img: Image.Image | np.ndarray, whole_image_if_no_face: bool = False,
              jpeg_quality: int | None = None) -> ImageVerdict:
        """Verdicts for every face in an RGB image (as `core.io.images.open_image` returns it).

        `jpeg_quality`: the upload's, where it was a JPEG (`core.io.images.jpeg_quality`); below
        `COMPRESSED_BELOW` the compressed weights judge it, and a note says so.

        With no face found, `faces` is empty unless `whole_image_if_no_face`, in which case the
        centre square of the image is judged and marked `whole_image` (less reliable: the
        detectors were trained on face crops only).
        """
        pil = img if isinstance(img, Image.Image) else Image.fromarray(np.asarray(img, dtype=np.uint8))
        pil, note = fit_size(pil.convert("RGB"))
        notes = [note] if note else []
        arr = np.asarray(pil, dtype=np.uint8)
        crops = self.find_faces([arr])[0]
        whole = False
        if not crops and whole_image_if_no_face:
            h, w = arr.shape[:2]
            crops = [FaceCrop((0.0, 0.0, float(w), float(h)), 0.0, whole_image_crop(arr))]
            whole = True
        compressed = self.is_compressed(jpeg_quality)
        if compressed:
            notes.append(f"A compressed JPEG (quality about {jpeg_quality}): the fine texture that reveals many "
                         "generators does not survive such compression, so the verdict leans on the detectors "
                         "trained with JPEG compression (" + ", ".join(
                             f"{n} {w:.2g}" for n, w in self.compressed["weights"].items() if w > 0) + ").")
        return ImageVerdict(arr, self.judge_crops(crops, whole, compressed), notes)
