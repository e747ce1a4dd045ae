"""Resizing a batch of square crops: one function that `detectors` and `probe` both use.

Its own module so that `core.models.probe` need not import `core.models.detectors`, which builds
the probe (an import circle otherwise).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def resize_square(x: torch.Tensor, size: int) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, size, size), bilinear and antialiased (area-like when shrinking)."""
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
