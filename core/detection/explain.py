"""Why a detector said what it said: Grad-CAM maps and the radial power spectrum of a face."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def radial_spectrum(img: np.ndarray, bins: int | None = None) -> np.ndarray:
    """Azimuthally averaged log power spectrum of an (H, W, 3) uint8 image, low to high frequency.

    GAN up-sampling (transposed convolutions) leaves periodic patterns that show up as bumps at
    high frequencies (Durall et al. 2020, "Watch your up-convolution").
    """
    gray = np.asarray(img, dtype=np.float64) @ np.array([0.299, 0.587, 0.114])
    gray = gray - gray.mean()
    power = np.abs(np.fft.fftshift(np.fft.fft2(gray))) ** 2
    h, w = gray.shape
    yy, xx = np.indices((h, w))
    r = np.hypot(yy - h // 2, xx - w // 2)
    bins = bins or min(h, w) // 2
    idx = np.minimum((r / (min(h, w) / 2) * bins).astype(int), bins - 1)  # corners go into the last bin
    sums = np.bincount(idx.ravel(), weights=power.ravel(), minlength=bins)
    counts = np.bincount(idx.ravel(), minlength=bins)
    return np.log10(sums / np.maximum(counts, 1) + 1e-8)


def grad_cam(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017) for one crop (1, 3, S, S): where the "GAN-made" logit looks.

    `model` is one of the CNN detectors of core.models.detectors (a `body` with stages, and a `head`).

    Uses the second stage (32x32 at 128 px), fine enough to point at eyes, hair or background.
    Returns an (S, S) map in [0, 1].
    """
    body = model.body
    was_training = model.training
    model.eval()
    with torch.enable_grad():
        x = x.detach().requires_grad_(False)
        h = body.stem(body.prepare(x))
        for stage in body.stages[:2]:
            h = stage(h)
        h.retain_grad()
        out = h
        for stage in body.stages[2:]:
            out = stage(out)
        out = out.mean((2, 3))
        logit = model.head(out).sum()
        logit.backward()
    weights = h.grad.mean((2, 3), keepdim=True)  # (1, C, 1, 1)
    cam = F.relu((weights * h).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    cam = cam.detach().numpy()
    model.train(was_training)
    return cam / cam.max() if cam.max() > 0 else cam
