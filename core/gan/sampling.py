"""Latents in, pictures out: seeded noise, batched generation, grids and PNG bytes."""

from __future__ import annotations

import io
import os
import struct
import weakref
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from PIL import Image

TRUNCATION_RANGE = (0.5, 2.0)  # below 0.5 too few numbers are left to tell faces apart; above 2 it changes little
TRUNCATION_STEP = 0.1


def sample_latents(n: int, nz: int, seed: int, truncation: float | None = None) -> torch.Tensor:
    """`n` latent vectors N(0, I) of size `nz`, the same for the same seed on any machine.

    Face i of a seed is the same whatever `n` is (one row is drawn at a time: torch's vectorised
    randn fills blocks of 16 and redraws the tail, so one big draw would tie row i to the total).

    With `truncation` t (the truncation trick), components beyond |t| are redrawn from a second
    stream until inside, and each vector is then scaled back to length sqrt(nz), where nearly every
    N(0, I) vector lies. Without that rescaling a small t pulls z towards 0, where these generators
    (no mapping network) draw one washed-out average face. The result: fewer extreme values, less
    variety, the same typical length.
    """
    gen = torch.Generator().manual_seed(int(seed))
    z = torch.stack([torch.randn(nz, generator=gen) for _ in range(n)]) if n else torch.zeros(0, nz)
    if truncation is not None:
        if truncation <= 0:
            raise ValueError(f"truncation must be positive, not {truncation}")
        redraw = torch.Generator().manual_seed(int(seed) + 1_000_003)
        for _ in range(100):
            outside = z.abs() > truncation
            if not outside.any():
                break
            z[outside] = torch.randn(int(outside.sum()), generator=redraw)
        z.clamp_(-truncation, truncation)
        z = z * (nz**0.5 / z.norm(dim=1, keepdim=True).clamp_min(1e-8))
    return z


def snap_truncation(value) -> tuple[float | None, str | None]:
    """A truncation from a URL or a command line, snapped to the page's slider: (t or None for off, what changed).

    "off", "0", "none" and "" mean off. Values are rounded to the slider's step and clipped to its range.
    """
    text = str(value).strip().lower()
    if text in ("", "off", "none", "0", "0.0", "false"):
        return None, None
    try:
        t = float(text)
    except ValueError:
        return None, f"trunc={value} is not a number: truncation is off"
    if t != t or t <= 0:  # NaN, negative
        return None, f"trunc={value} is not a positive number: truncation is off"
    lo, hi = TRUNCATION_RANGE
    snapped = round(min(hi, max(lo, round(t / TRUNCATION_STEP) * TRUNCATION_STEP)), 1)
    if abs(snapped - t) > 1e-9:
        return snapped, f"trunc={value} is not on the slider ({lo}-{hi} in steps of {TRUNCATION_STEP}): using {snapped}"
    return snapped, None


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) floats in [-1, 1] -> (N, H, W, C) uint8."""
    x = ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()


_FROZEN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _state_version(module: torch.nn.Module) -> tuple:
    """Changes whenever a parameter or buffer of `module` is written in place (an optimiser step, an EMA update)."""
    return tuple(t._version for t in (*module.parameters(), *module.buffers()))


def inference_module(generator: torch.nn.Module) -> torch.nn.Module:
    """The module `generate` runs: a FrozenGenerator for a DCGAN-family Generator on the CPU (same
    faces, faster), rebuilt whenever the generator's weights change; else `generator` itself."""
    from core.models.dcgan import FrozenGenerator, Generator

    if not isinstance(generator, Generator) or next(generator.parameters()).device.type != "cpu":
        return generator
    version = _state_version(generator)
    cached = _FROZEN.get(generator)
    if cached is None or cached[0] != version:
        with torch.no_grad():
            cached = (version, FrozenGenerator(generator.eval()))
        _FROZEN[generator] = cached
    return cached[1]


@torch.inference_mode()
def generate(generator: torch.nn.Module, z: torch.Tensor, batch_size: int = 256, frozen: bool = True) -> np.ndarray:
    """Run `generator` (in eval mode) on latents `z`; returns (N, H, W, 3) uint8 images.

    `frozen=False` runs the generator's own layers (the pure-PyTorch reference the frozen copy is tested against).
    """
    generator.eval()
    device = next(generator.parameters()).device
    dtype = next(generator.parameters()).dtype
    net = inference_module(generator) if frozen else generator
    # a FrozenGenerator writes the pixels itself, without a float image in between
    run = net.faces if hasattr(net, "faces") else (lambda x: to_uint8(net(x)))
    out = [run(z[i : i + batch_size].to(device=device, dtype=dtype)) for i in range(0, len(z), batch_size)]
    if len(out) == 1:
        return out[0]
    return np.concatenate(out) if out else np.zeros((0, 0, 0, 3), np.uint8)


def make_grid(images: np.ndarray, nrow: int | None = None, padding: int = 2, fill: int = 255) -> np.ndarray:
    """Tile (N, H, W, 3) uint8 images into one array, `nrow` images per row."""
    n, h, w, c = images.shape
    nrow = nrow or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / nrow))
    grid = np.full((rows * (h + padding) + padding, nrow * (w + padding) + padding, c), fill, np.uint8)
    for i, im in enumerate(images):
        r, col = divmod(i, nrow)
        y, x = padding + r * (h + padding), padding + col * (w + padding)
        grid[y : y + h, x : x + w] = im
    return grid


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def _deflate_pieces(data: memoryview, pieces: int) -> bytes:
    """zlib level 1, run-length strategy, of `data` as one zlib stream, its pieces compressed side by
    side (as pigz does): each piece is raw deflate ending on a byte boundary (a sync flush), the
    last one final, so their concatenation is a single valid stream. Run-length matches reach back
    one byte only, so the split costs a few bytes, not compression."""
    step = -(-len(data) // pieces)
    parts = [data[i : i + step] for i in range(0, len(data), step)]

    def deflate(k: int) -> bytes:
        packer = zlib.compressobj(1, zlib.DEFLATED, -15, 9, zlib.Z_RLE)
        return packer.compress(parts[k]) + packer.flush(zlib.Z_FINISH if k == len(parts) - 1 else zlib.Z_SYNC_FLUSH)

    if len(parts) == 1:
        body = [deflate(0)]
    else:  # zlib lets go of the GIL while it compresses, so the threads run on separate cores
        futures = [_png_pool().submit(deflate, k) for k in range(1, len(parts))]
        body = [deflate(0), *(f.result() for f in futures)]
    header = b"\x78\x01"  # deflate, 32 KiB window, "fastest" level
    return header + b"".join(body) + struct.pack(">I", zlib.adler32(data) & 0xFFFFFFFF)


_PNG_POOL: ThreadPoolExecutor | None = None
_PNG_PIECE_BYTES = 256 * 1024  # below this a second thread costs more than it saves


def _png_pool() -> ThreadPoolExecutor:
    global _PNG_POOL
    if _PNG_POOL is None:
        _PNG_POOL = ThreadPoolExecutor(max_workers=max(1, _cores() - 1), thread_name_prefix="png")
    return _PNG_POOL


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def encode_png_fast(arr: np.ndarray) -> bytes:
    """A lossless RGB PNG of an (H, W, 3) uint8 array, written for speed: every row through PNG's
    "Up" filter and zlib's run-length strategy, large images compressed in pieces on every core.

    GAN faces are noisy, so no PNG shrinks them much: on a 64-face grid this is within 2% of
    Pillow's size at level 1 and encodes several times faster (bench/generate_speed.py). The pages
    show and offer these bytes; they decode to exactly `arr`.
    """
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) array, got shape {arr.shape}")
    h, w, _ = arr.shape
    rows = arr.reshape(h, w * 3)
    raw = np.empty((h, w * 3 + 1), np.uint8)
    raw[:, 0] = 2  # filter type Up: each row minus the one above (the first row minus zeros)
    raw[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=raw[1:, 1:])
    pieces = max(1, min(_cores(), raw.nbytes // _PNG_PIECE_BYTES))
    data = _deflate_pieces(memoryview(raw).cast("B"), pieces)
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8 bits, RGB, deflate, adaptive filters, no interlace
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data) + _png_chunk(b"IEND", b"")


def encode_image(arr: np.ndarray, fmt: str = "PNG", **kwargs) -> bytes:
    """Encode an (H, W, 3) uint8 array as image bytes (PNG by default)."""
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt, **kwargs)
    return buf.getvalue()
