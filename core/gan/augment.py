"""DiffAugment (Zhao et al. 2020): differentiable changes applied to every batch the discriminator sees.

The same random colour, translation and cutout go to real and fake batches, in D's step and in G's,
so D cannot memorise a small data set while G still gets useful gradients.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F


def _color(x: torch.Tensor) -> torch.Tensor:
    b = x.shape[0]
    r = lambda: torch.rand(b, 1, 1, 1, dtype=x.dtype, device=x.device)  # noqa: E731
    x = x + (r() - 0.5)  # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (r() * 2) + mean  # saturation
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (r() + 0.5) + mean  # contrast


def _translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to `ratio` of its side, filling with zeros."""
    b, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-sh, sh + 1, (b, 1, 1), device=x.device)
    tx = torch.randint(-sw, sw + 1, (b, 1, 1), device=x.device)
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    gy = (gy[None] + ty + 1).clamp(0, h + 1)
    gx = (gx[None] + tx + 1).clamp(0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)
    return padded[torch.arange(b, device=x.device)[:, None, None], gy, gx].permute(0, 3, 1, 2)


def _cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zero one square of `ratio` x the side at a random place in each image."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=x.device)
    ox = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=x.device)
    gy, gx = torch.meshgrid(torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij")
    dy, dx = gy[None] - (oy - ch // 2), gx[None] - (ox - cw // 2)  # the square centred on (oy, ox)
    inside = (dy >= 0) & (dy < ch) & (dx >= 0) & (dx < cw)
    return x * (~inside)[:, None].to(x.dtype)


DIFFAUG = {"color": _color, "translation": _translation, "cutout": _cutout}


def diffaug_steps(policy: str) -> list[Callable[[torch.Tensor], torch.Tensor]]:
    """The functions a DiffAugment policy ("color,translation") names, in order."""
    names = [p.strip() for p in policy.split(",") if p.strip()]
    unknown = [n for n in names if n not in DIFFAUG]
    if unknown:
        raise ValueError(f"unknown DiffAugment {unknown[0]!r}; choose from {', '.join(DIFFAUG)}")
    return [DIFFAUG[n] for n in names]


def diff_augment(x: torch.Tensor, policy: str) -> torch.Tensor:
    """DiffAugment: the changes named in `policy` ("color,translation"), each differentiable."""
    for step in diffaug_steps(policy):
        x = step(x)
    return x
