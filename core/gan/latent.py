"""Latent-space walks and sums: interpolation, group means, vector arithmetic, neighbours, GIF strips.

Everything that does maths takes and returns plain torch tensors, so a page only has to
display the results. Vectors are 1-d, shape (nz,); groups are 2-d, shape (k, nz).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from core.gan.sampling import make_grid

Method = Literal["linear", "slerp"]
METHODS: tuple[str, ...] = ("slerp", "linear")

# Below this |sin(angle)| the two directions are treated as (anti)parallel: the slerp weights
# divide by sin(angle) and would blow up, and the great-circle path is undefined for antiparallel.
_PARALLEL_SIN = 1e-6


def _check_pair(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> None:
    if z0.dim() != 1 or z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must be 1-d vectors of the same size, got {tuple(z0.shape)} and {tuple(z1.shape)}")
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (the two endpoints), got {steps}")


def interpolate_linear(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """`steps` evenly spaced points on the straight line from `z0` to `z1`, endpoints included: (steps, nz)."""
    _check_pair(z0, z1, steps)
    t = torch.linspace(0, 1, steps, dtype=torch.float64).unsqueeze(1)
    a, b = z0.double(), z1.double()
    out = ((1 - t) * a + t * b).to(z0.dtype)
    out[0], out[-1] = z0, z1  # exact endpoints, whatever the rounding in between
    return out


def interpolate_slerp(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> torch.Tensor:
    """`steps` points from `z0` to `z1` along the great circle between their directions: (steps, nz).

    The direction turns at constant angular speed while the length changes linearly from |z0| to
    |z1|, so every point's norm lies between the two end norms (a straight line between two
    typical N(0, I) samples dips to about 0.7x the typical norm halfway). Endpoints are exactly
    `z0` and `z1`. Falls back to `interpolate_linear` when the vectors are (nearly) parallel or
    antiparallel, or either is zero, where the great circle is undefined.
    """
    _check_pair(z0, z1, steps)
    a, b = z0.double(), z1.double()
    norm_a, norm_b = a.norm(), b.norm()
    if norm_a == 0 or norm_b == 0:
        return interpolate_linear(z0, z1, steps)
    unit_a, unit_b = a / norm_a, b / norm_b
    angle = torch.arccos(torch.clamp(unit_a @ unit_b, -1.0, 1.0))
    sin_angle = torch.sin(angle)
    if sin_angle < _PARALLEL_SIN:
        return interpolate_linear(z0, z1, steps)
    t = torch.linspace(0, 1, steps, dtype=torch.float64).unsqueeze(1)
    direction = (torch.sin((1 - t) * angle) * unit_a + torch.sin(t * angle) * unit_b) / sin_angle
    length = (1 - t) * norm_a + t * norm_b
    out = (direction * length).to(z0.dtype)
    out[0], out[-1] = z0, z1
    return out


def interpolate(z0: torch.Tensor, z1: torch.Tensor, steps: int, method: Method = "slerp") -> torch.Tensor:
    """`steps` latents from `z0` to `z1`, endpoints included: (steps, nz). `method` is "slerp" or "linear"."""
    if method == "slerp":
        return interpolate_slerp(z0, z1, steps)
    if method == "linear":
        return interpolate_linear(z0, z1, steps)
    raise ValueError(f"unknown interpolation method {method!r}; use one of {', '.join(METHODS)}")


def group_mean(z: torch.Tensor) -> torch.Tensor:
    """Mean of a group of latents (k, nz) -> (nz,). Averaging k samples shrinks the norm by about sqrt(k)."""
    if z.dim() != 2 or len(z) == 0:
        raise ValueError(f"expected a non-empty (k, nz) group, got shape {tuple(z.shape)}")
    return z.mean(dim=0)


def vector_arithmetic(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """mean(a) - mean(b) + mean(c) for three groups of latents, each (k, nz): returns (nz,).

    With a = "smiling woman", b = "neutral woman", c = "neutral man" this aims at "smiling man".
    Groups may have different sizes but must share nz.
    """
    return group_mean(a) - group_mean(b) + group_mean(c)


def neighbours(z: torch.Tensor, n: int, scale: float, seed: int) -> torch.Tensor:
    """`n` latents around `z` (nz,): row 0 is `z` itself, the others z + scale * N(0, I) noise: (n, nz).

    The same seed gives the same neighbours on any machine.
    """
    if z.dim() != 1:
        raise ValueError(f"z must be a 1-d vector, got shape {tuple(z.shape)}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    gen = torch.Generator().manual_seed(int(seed))
    noise = torch.randn(n - 1, z.numel(), generator=gen).to(z.dtype)
    return torch.cat([z.unsqueeze(0), z.unsqueeze(0) + scale * noise])


def strip_to_gif(frames: np.ndarray, duration_ms: int, loop: bool = True, boomerang: bool = True,
                 scale: int = 1) -> bytes:
    """Animated GIF bytes from (N, H, W, 3) uint8 frames, each shown `duration_ms`.

    `boomerang` plays forward then back without repeating the end frames (2N - 2 frames for
    N >= 2), so a looping GIF has no jump from the last frame to the first. `loop=False` plays once.
    `scale` enlarges every frame that many times, pixel-sharp. GIF stores 256 colours per frame,
    so pixels come back close to, not exactly, the input. Consecutive identical frames are merged
    by the encoder (an interpolation from a face to itself gives a one-frame GIF).
    """
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
        raise ValueError(f"expected non-empty (N, H, W, 3) uint8 frames, got {frames.shape} {frames.dtype}")
    if scale > 1:
        frames = np.repeat(np.repeat(frames, scale, axis=1), scale, axis=2)
    sequence = list(frames)
    if boomerang and len(frames) > 2:
        sequence += list(frames[-2:0:-1])
    # Fast octree palettes: about 20x faster than Pillow's default median cut for the same visible
    # quality on 64x64 faces, which keeps one interaction on the page well under a second.
    images = [Image.fromarray(f).quantize(method=Image.Quantize.FASTOCTREE) for f in sequence]
    buf = io.BytesIO()
    # No loop key at all means "play once"; loop=0 means "forever".
    extra = {"loop": 0} if loop else {}
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=int(duration_ms), **extra)
    return buf.getvalue()


def numbered_grid(images: np.ndarray, nrow: int, scale: int = 2, padding: int = 2) -> np.ndarray:
    """A `make_grid` of (N, H, W, 3) uint8 images, `nrow` per row, enlarged `scale` times (pixel-sharp),
    with each image's index 0..N-1 printed in its top-left corner, row by row."""
    n, h, w, _ = images.shape
    grid = make_grid(images, nrow=nrow, padding=padding)
    big = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
    img = Image.fromarray(big)
    draw = ImageDraw.Draw(img)
    # a tenth of a face's height at least: a 6x6 grid shown 470 px wide (an 800 px window) still prints
    # each number 8 px tall (at 7 px a scale step they were 3-4 px)
    font = ImageFont.load_default(size=max(12, 10 * scale))
    for index in range(n):
        r, c = divmod(index, nrow)
        x = (padding + c * (w + padding)) * scale + 3
        y = (padding + r * (h + padding)) * scale + 2
        left, top, right, bottom = draw.textbbox((x, y), str(index), font=font)
        # a dark box behind the number keeps it readable on any face (or on noise)
        draw.rectangle((left - 2, top - 1, right + 2, bottom + 1), fill=(0, 0, 0))
        draw.text((x, y), str(index), fill=(255, 255, 255), font=font)
    return np.asarray(img)


# --- Attribute directions: fit, orthogonalise, move along, store ---------------------------------
# A direction is a unit vector d (nz,) in latent space; z + a * d moves face z "a units" towards the
# attribute. Directions are fitted by train.directions and stored beside the model's weights.

DIRECTIONS_FILE = "directions.safetensors"
DIRECTIONS_FACTS = "directions.json"


def mean_difference(z: torch.Tensor, high: torch.Tensor, low: torch.Tensor) -> torch.Tensor:
    """mean(z[high]) - mean(z[low]) for latents `z` (n, nz) and two boolean masks (n,): (nz,)."""
    if z.dim() != 2 or high.shape != (len(z),) or low.shape != (len(z),):
        raise ValueError(f"expected z (n, nz) and two (n,) masks, got {tuple(z.shape)}, "
                         f"{tuple(high.shape)}, {tuple(low.shape)}")
    if not high.any() or not low.any():
        raise ValueError(f"both groups need at least one latent; got {int(high.sum())} and {int(low.sum())}")
    return group_mean(z[high]) - group_mean(z[low])


def least_squares_direction(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The weights w (nz,) of the least-squares fit y ≈ z @ w + b over latents `z` (n, nz) and scores `y` (n,).

    For z drawn from N(0, I) the columns are nearly uncorrelated, so w is close to the covariance
    of each latent number with y: the direction along which y grows fastest on average.
    """
    if z.dim() != 2 or y.shape != (len(z),):
        raise ValueError(f"expected z (n, nz) and y (n,), got {tuple(z.shape)} and {tuple(y.shape)}")
    if len(z) <= z.shape[1] + 1:
        raise ValueError(f"need more than nz + 1 = {z.shape[1] + 1} samples for a least-squares fit, got {len(z)}")
    design = torch.cat([z.double(), torch.ones(len(z), 1, dtype=torch.float64)], dim=1)
    solution = torch.linalg.lstsq(design, y.double().unsqueeze(1)).solution.squeeze(1)
    return solution[:-1].to(z.dtype)


def orthonormalise(directions: dict[str, torch.Tensor], order: list[str]) -> dict[str, torch.Tensor]:
    """Gram-Schmidt in `order`: the first keeps its direction, each later one loses its component
    along every earlier one; all come back unit length, in `order`.

    Raises ValueError when a direction is (nearly) a combination of the earlier ones.
    """
    out: dict[str, torch.Tensor] = {}
    for key in order:
        v = directions[key].double().clone()
        for u in out.values():
            v -= (v @ u.double()) * u.double()
        norm = v.norm()
        if norm < 1e-8 * max(1.0, float(directions[key].double().norm())):
            raise ValueError(f"direction {key!r} lies in the span of {', '.join(out)}; cannot orthogonalise it")
        out[key] = (v / norm).to(directions[key].dtype)
    return out


def move_along(z: torch.Tensor, directions: dict[str, torch.Tensor], amounts: dict[str, float]) -> torch.Tensor:
    """z + sum of amounts[k] * directions[k]: latents `z` (nz,) or (n, nz) moved along named directions.

    Every key of `amounts` must be a direction; directions not named in `amounts` are not used.
    With unit, orthogonal directions each amount is the distance moved along that direction.
    """
    unknown = sorted(set(amounts) - set(directions))
    if unknown:
        raise KeyError(f"no direction named {', '.join(map(repr, unknown))}; have {', '.join(sorted(directions))}")
    out = z.clone()
    for key, amount in amounts.items():
        d = directions[key]
        if d.shape != (z.shape[-1],):
            raise ValueError(f"direction {key!r} has shape {tuple(d.shape)}, latents have nz = {z.shape[-1]}")
        out = out + float(amount) * d.to(z.dtype)
    return out


def direction_strip(z: torch.Tensor, direction: torch.Tensor, amounts: list[float]) -> torch.Tensor:
    """`z` (nz,) moved by each of `amounts` along one `direction`: (len(amounts), nz)."""
    return torch.stack([move_along(z, {"d": direction}, {"d": a}) for a in amounts])


def save_directions(folder: Path, directions: dict[str, torch.Tensor], facts: dict) -> None:
    """Write `directions` (name -> (nz,) tensor) to folder/directions.safetensors and `facts` beside it."""
    from safetensors.torch import save

    from core.io.store import atomic_write_bytes, write_json

    tensors = {k: v.detach().float().cpu().contiguous() for k, v in directions.items()}
    atomic_write_bytes(Path(folder) / DIRECTIONS_FILE, save(tensors))
    write_json(Path(folder) / DIRECTIONS_FACTS, facts)


def load_directions(folder: Path) -> tuple[dict[str, torch.Tensor], dict] | None:
    """(directions, facts) from `folder`, or None when it has no directions file."""
    from safetensors.torch import load_file

    from core.io.store import read_json

    path = Path(folder) / DIRECTIONS_FILE
    if not path.exists():
        return None
    return load_file(str(path)), read_json(Path(folder) / DIRECTIONS_FACTS, {}) or {}
