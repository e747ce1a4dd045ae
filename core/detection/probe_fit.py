"""The probe's head fitted in closed form on cached backbone features, instead of by augmented SGD.

The probe's backbone is frozen, so its pooled features of a crop never change: they can be computed
once per crop (and per augmented view of it) and kept, and the head (BatchNorm without scale, then
one linear logit) is then a logistic regression on standardised features. Fitting it that way takes
seconds, so leaving a generator out, choosing the feature groups and the regularisation can all be
measured instead of guessed (`python -m train.probe_fit`).

Views of a crop: "clean" (as cached), "noise<s>" (Gaussian noise of sigma s levels, for the real-only
check of RIGID, He et al. 2024), "aug<k>" (the detectors' training augmentation,
`core.detection.augment.Augment`, with its own seed per source, split and k), "jpeg75" and "half"
(the robustness checks of `train.evaluate`), "gray" and "sepia" (the colour shortcut), "unband" (the
cropper's replicated-edge bands painted grey) and "band<k>" (that, and random grey bands on half the
crops: the stripes shortcut, measured in docs/detectors.md). Sources weigh alike within their class, as in the
detectors' balanced batches (families alike, then sources within a family).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from core import REPO_ROOT

FEATURE_DIR = REPO_ROOT / "data" / "detector" / "probe-features"
BATCH = 64


def view_rng(seed_key: str, view: str) -> np.random.Generator:
    """The random views' generator: its own seed per source, split and view, so a view is the same every time."""
    return np.random.default_rng(zlib.crc32(f"{seed_key}/{view}".encode()))


def view_crops(crops: np.ndarray, view: str, seed_key: str) -> np.ndarray:
    """The crops as `view` shows them (see the module's docstring)."""
    from core.detection.augment import Augment, distorted_crops, random_bands

    fixed = distorted_crops(crops, view)  # clean, jpeg<q>, half, gray, sepia, unband (and any view of no crops)
    if fixed is not None:
        return fixed
    if view.startswith("band") and view[4:].isdigit():  # grey bands: the cropper's painted, and random ones
        rng = view_rng(seed_key, view)
        return np.stack([random_bands(c, rng) for c in crops])
    if view.startswith("noise") and view[5:].isdigit():  # RIGID's probe: Gaussian noise of sigma N levels
        rng = view_rng(seed_key, view)
        noisy = crops.astype(np.float32) + rng.normal(0.0, int(view[5:]), crops.shape).astype(np.float32)
        return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
    if view.startswith("aug") and view[3:].isdigit():
        aug, rng = Augment(), view_rng(seed_key, view)
        return np.stack([aug(c, rng) for c in crops])
    raise ValueError(f"unknown view {view!r}: clean, aug<k>, noise<s>, band<k>, jpeg<q>, half, gray, sepia or unband")


def backbone_features(model, crops: np.ndarray, progress: Callable | None = None) -> np.ndarray:
    """(N, S, S, 3) uint8 -> (N, head.in_features) float32: what a detector's linear head reads (`model.features`:
    the probe's frozen backbone features, SupCon's encoder output, the LSTM's pooled states), in batches."""
    from core.models.detectors import to_input

    out = np.zeros((len(crops), model.head.in_features), dtype=np.float32)
    starts = range(0, len(crops), BATCH)
    with torch.no_grad():
        for i in (progress(starts) if progress else starts):
            out[i:i + BATCH] = model.features(to_input(crops[i:i + BATCH])).numpy()
    return out


def feature_file(source: str, split: str, view: str, folder: Path | None = None, input_size: int = 224) -> Path:
    """Where one source's features in one view are cached (the backbone's input side in the name unless 224)."""
    size = "" if input_size == 224 else f"-{input_size}px"
    return (folder or FEATURE_DIR) / f"{source}-{split}-{view}{size}.safetensors"


def cached_features(model, source: str, split: str, view: str, crops: np.ndarray, folder: Path | None = None,
                    progress: Callable | None = None) -> np.ndarray:
    """Features of one source's crops in one view: from the cache when it was made from the same crops
    (a hash of them is kept), else computed and cached."""
    import hashlib

    from safetensors import safe_open
    from safetensors.torch import save_file

    key = hashlib.sha256(np.ascontiguousarray(crops).tobytes()).hexdigest()
    path = feature_file(source, split, view, folder, model.input_size)
    if path.exists():
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            if (meta.get("crops_sha256") == key and int(meta.get("taps", 0)) >= model.taps
                    and int(meta.get("input_size", 224)) == model.input_size):
                return f.get_tensor("features").numpy()[:, :model.norm.num_features]
    feats = backbone_features(model, view_crops(crops, view, f"{source}/{split}"), progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file({"features": torch.from_numpy(feats)}, str(tmp), metadata={"crops_sha256": key, "taps": str(model.taps),
                                                                 "input_size": str(model.input_size)})
    tmp.replace(path)
    return feats


def source_weights(names: list[str], labels: dict[str, int], families: dict[str, str], counts: dict[str, int]
                   ) -> dict[str, float]:
    """Weight of each crop of each source: the balanced batches' share of draws (`source_shares`: classes
    alike, families alike within a class, sources alike within a family) spread over its crops."""
    from core.detection.trainer import source_shares

    shares = source_shares([n for n in names if counts[n]], labels, lambda n: families.get(n, n))
    return {n: share / counts[n] for n, share in shares.items()}


def fit_head(x: np.ndarray, y: np.ndarray, w: np.ndarray, c: float, max_iter: int = 2000) -> dict:
    """L2 logistic regression on standardised features. Returns the head's tensors: the features' mean and
    variance (the BatchNorm's running statistics) and the linear layer's weight and bias."""
    from sklearn.linear_model import LogisticRegression

    mean = np.average(x, axis=0, weights=w)
    var = np.average((x - mean) ** 2, axis=0, weights=w)
    eps = 1e-5
    z = (x - mean) / np.sqrt(var + eps)
    lr = LogisticRegression(C=c, max_iter=max_iter)
    lr.fit(z, y, sample_weight=w * len(w) / w.sum())
    return {"mean": mean.astype(np.float32), "var": var.astype(np.float32),
            "weight": lr.coef_.astype(np.float32), "bias": lr.intercept_.astype(np.float32), "eps": eps}


def head_logits(head: dict, x: np.ndarray) -> np.ndarray:
    z = (x - head["mean"]) / np.sqrt(head["var"] + head["eps"])
    return z @ head["weight"][0] + head["bias"][0]


def load_head(model, head: dict) -> None:
    """Put a fitted head into a ProbeDetector (its BatchNorm's eps must match)."""
    with torch.no_grad():
        model.norm.running_mean.copy_(torch.from_numpy(head["mean"]))
        model.norm.running_var.copy_(torch.from_numpy(head["var"]))
        model.norm.eps = head["eps"]
        model.head.weight.copy_(torch.from_numpy(head["weight"]))
        model.head.bias.copy_(torch.from_numpy(head["bias"]))


def load_linear_head(model, head: dict) -> None:
    """Put a fitted head into a detector whose head is one nn.Linear on `model.features` (SupCon, the LSTM): the
    standardisation folded into the layer, so the model computes `head_logits` (in float32)."""
    scale = 1.0 / np.sqrt(head["var"] + head["eps"])
    weight = head["weight"] * scale
    bias = head["bias"] - (head["weight"][0] * scale * head["mean"]).sum(keepdims=True)
    with torch.no_grad():
        model.head.weight.copy_(torch.from_numpy(weight.astype(np.float32)))
        model.head.bias.copy_(torch.from_numpy(bias.astype(np.float32)))


def fit_probe(model, data, c: float, views: list[str], feature_dir: Path | None = None,
              progress: Callable | None = None) -> tuple[dict, dict]:
    """Fit a ProbeDetector's head in closed form on `data` (a `DetectorData`) and put it into `model`.

    Trained on the features of every train crop in each of `views`, sources weighing as in the balanced
    batches; the temperature and per-source figures then come from the validation crops as for SGD-trained
    detectors (`trainer.val_summary`). Returns that summary (with the fit's wall time) and the one history
    row of the fit (train and validation loss and accuracy).
    """
    model.eval()

    def feats(name: str, split: str, view: str) -> np.ndarray:
        crops = getattr(data, split)[name]
        bar = (lambda it: progress(it, desc=f"{name} {split} {view}", leave=False)) if progress else None
        return cached_features(model, name, split, view, crops, feature_dir, bar)

    return fit_closed_form(data, c, views, feats, lambda head: load_head(model, head))


def fit_encoder_head(model, data, c: float, views: list[str], progress: Callable | None = None
                     ) -> tuple[dict, dict]:
    """Fit a detector's linear head in closed form on what it reads (`model.features`: SupCon's encoder output,
    the LSTM's pooled states), as `fit_probe` does the probe's, instead of by SGD; the rest is left as it is."""
    model.eval()

    def feats(name: str, split: str, view: str) -> np.ndarray:
        crops = view_crops(getattr(data, split)[name], view, f"{name}/{split}")
        bar = (lambda it: progress(it, desc=f"{name} {split} {view}", leave=False)) if progress else None
        return backbone_features(model, crops, bar)

    return fit_closed_form(data, c, views, feats, lambda head: load_linear_head(model, head))


def fit_closed_form(data, c: float, views: list[str], feats: Callable[[str, str, str], np.ndarray],
                    load: Callable[[dict], None]) -> tuple[dict, dict]:
    """The closed-form fit shared by the probe and the SupCon head: `feats(source, split, view)` gives a
    source's features, `load(head)` puts the fitted head into the model. Returns the validation summary
    (`trainer.val_summary`, with the fit's wall time) and the fit's one history row."""
    import time

    from core.detection.trainer import val_summary

    t0 = time.perf_counter()
    names = [n for n in data.train if len(data.train[n])]
    counts = {n: len(data.train[n]) for n in names}
    weights = source_weights(names, data.labels, {n: data.family(n) for n in names}, counts)
    x = np.concatenate([feats(n, "train", v) for n in names for v in views])
    y = np.concatenate([np.full(counts[n], data.labels[n]) for n in names for _ in views])
    w = np.concatenate([np.full(counts[n], weights[n]) for n in names for _ in views])
    head = fit_head(x, y, w, c)
    load(head)
    val_x = np.concatenate([feats(n, "val", "clean") for n in data.val])
    val_y = np.concatenate([np.full(len(a), data.labels[n]) for n, a in data.val.items()])
    logits = head_logits(head, val_x)
    summary = val_summary(data, torch.from_numpy(logits))
    wall = round(time.perf_counter() - t0, 1)

    def loss_acc(z, t, weight):
        weight = weight / weight.sum()
        loss = np.logaddexp(0, z) - t * z  # binary cross-entropy with logits
        return float((loss * weight).sum()), float((((z > 0) == t) * weight).sum())

    train_loss, train_acc = loss_acc(head_logits(head, x), y, w)
    val_loss, val_acc = loss_acc(logits, val_y, data.val_weights())
    row = {"phase": "classifier", "epoch": 1, "step": 1, "train_loss": train_loss, "train_acc": train_acc,
           "val_loss": val_loss, "val_acc": val_acc, "seconds": wall}
    return {**summary, "epochs_run": {"classifier": 1}, "steps": 1, "wall_time_s": wall}, row
