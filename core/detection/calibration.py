"""Calibration of a detector's scores: temperature scaling and the expected calibration error."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, max_iter: int = 200,
                    weights: torch.Tensor | None = None) -> float:
    """Temperature scaling (Guo et al. 2017): the T > 0 minimising the NLL of sigmoid(logits / T).

    `weights` (one per sample) let every source count alike, however many crops it has.
    """
    logits, labels = logits.detach().double(), labels.detach().double()
    weights = None if weights is None else weights.detach().double() / weights.double().mean()
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(logits / log_t.exp(), labels, weight=weights)
        loss.backward()
        return loss

    opt.step(closure)
    return float(log_t.detach().exp().clamp(0.05, 100.0))


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE of binary probabilities of the positive class, with equal-width confidence bins.

    Confidence is max(p, 1 - p) and the prediction p >= 0.5, as for any two-class classifier.
    """
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels, dtype=int)
    if len(probs) == 0:
        return float("nan")
    conf = np.maximum(probs, 1 - probs)
    correct = (probs >= 0.5).astype(int) == labels
    edges = np.linspace(0.5, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (conf > lo) & (conf <= hi) if lo > 0.5 else (conf >= lo) & (conf <= hi)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - conf[in_bin].mean())
    return float(ece)
