"""Scores of a detector on labelled images (label 1 = GAN-made), with scikit-learn."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from core.detection.calibration import expected_calibration_error


def equal_error_rate(labels: np.ndarray, probs: np.ndarray) -> float:
    """The error rate where false positives and false negatives are equally frequent."""
    fpr, tpr, _ = roc_curve(labels, probs)
    fnr = 1 - tpr
    i = int(np.nanargmin(np.abs(fnr - fpr)))
    return float((fpr[i] + fnr[i]) / 2)


def detector_scores(labels, probs, threshold: float = 0.5) -> dict:
    """count, accuracy at `threshold`, ROC AUC, average precision, EER and ECE.

    AUC, AP and EER need both classes; with one class they are None.
    """
    labels, probs = np.asarray(labels, dtype=int), np.asarray(probs, dtype=float)
    both = len(set(labels.tolist())) == 2
    return {
        "count": int(len(labels)),
        "accuracy": float(((probs >= threshold).astype(int) == labels).mean()) if len(labels) else None,
        "auc": float(roc_auc_score(labels, probs)) if both else None,
        "average_precision": float(average_precision_score(labels, probs)) if both else None,
        "eer": equal_error_rate(labels, probs) if both else None,
        "ece": expected_calibration_error(probs, labels) if len(labels) else None,
    }


def roc_points(labels, probs, max_points: int = 200) -> dict:
    """False and true positive rates for drawing a ROC curve (thinned to `max_points`)."""
    fpr, tpr, _ = roc_curve(np.asarray(labels, dtype=int), np.asarray(probs, dtype=float))
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(len(fpr), max_points)).round().astype(int))
    return {"fpr": fpr[keep].round(5).tolist(), "tpr": tpr[keep].round(5).tolist()}


def confusion(labels, probs, threshold: float = 0.5) -> list[list[int]]:
    """[[real judged real, real judged GAN], [GAN judged real, GAN judged GAN]]."""
    labels, pred = np.asarray(labels, dtype=int), (np.asarray(probs, dtype=float) >= threshold).astype(int)
    return [[int(((labels == t) & (pred == p)).sum()) for p in (0, 1)] for t in (0, 1)]
