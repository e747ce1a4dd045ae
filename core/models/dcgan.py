"""DCGAN generator and discriminator: the PyTorch DCGAN tutorial's architecture.

At 64x64 it is exactly the tutorial's networks. The same layers with a 5x5 base instead of 4x4
give 80x80, which the LSGAN uses (arch "lsgan": these networks, the least-squares loss).
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn


@dataclass
class DCGANConfig:
    nz: int = 100  # latent size; the tutorial's 100, seed 001 also tried 60
    ngf: int = 64  # generator width; 64 gives the tutorial's 3.6M-parameter G
    ndf: int = 64  # discriminator width
    nc: int = 3  # colour channels
    image_size: int = 64  # 16 x base: 64 (tutorial) or 80 (LSGAN)
    # How D is kept in check. "batch": the tutorial's BatchNorm. "spectral": spectral normalisation
    # of every conv and no BatchNorm (Miyato et al. 2018). The LSGAN needs it: its loss is not
    # bounded like BCE, and with BatchNorm one D step moved D(G(z)) from 0.5 to -3 and G never
    # left noise (148 steps at 2e-4, and at 1e-4); with spectral norm the same run stays smooth.
    d_norm: str = "batch"

    def __post_init__(self):
        if self.image_size % 16 or self.image_size < 32:
            raise ValueError(f"image_size must be a multiple of 16 (64, 80, ...), not {self.image_size}")
        if self.d_norm not in ("batch", "spectral"):
            raise ValueError(f"d_norm must be 'batch' or 'spectral', not {self.d_norm!r}")

    @property
    def base(self) -> int:
        """Side of the first feature map; four stride-2 layers double it up to image_size."""
        return self.image_size // 16

    def to_dict(self) -> dict:
        return asdict(self)


def weights_init(m: nn.Module) -> None:
    """The tutorial's init: conv weights ~ N(0, 0.02), batch-norm weights ~ N(1, 0.02), bias 0."""
    name = m.__class__.__name__
    if "Conv" in name:
        # a spectrally normalised conv computes .weight from .parametrizations.weight.original
        param = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
        with torch.no_grad():
            nn.init.normal_(param, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class Generator(nn.Module):
    """z (N, nz) or (N, nz, 1, 1) -> image (N, nc, S, S) in [-1, 1], S = image_size, b = S / 16."""

    def __init__(self, cfg: DCGANConfig | None = None, **kwargs):
        super().__init__()
        self.cfg = cfg = cfg or DCGANConfig(**kwargs)
        nz, ngf, nc = cfg.nz, cfg.ngf, cfg.nc
        self.main = nn.Sequential(
            # input: nz x 1 x 1
            nn.ConvTranspose2d(nz, ngf * 8, cfg.base, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            # state size. (ngf*8) x b x b (4 x 4 at 64 px)
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # state size. (ngf*4) x 2b x 2b
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # state size. (ngf*2) x 4b x 4b
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # state size. (ngf) x 8b x 8b
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
            # state size. (nc) x S x S
        )

    @property
    def nz(self) -> int:
        return self.cfg.nz

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 2:
            z = z[:, :, None, None]
        return self.main(z)


class Discriminator(nn.Module):
    """image (N, nc, S, S) -> raw score (N,).

    The tutorial ends in a Sigmoid and uses BCELoss; we return the logit and use
    BCEWithLogitsLoss, the same objective computed without saturating in float32. The LSGAN's
    least-squares loss reads the raw score directly.
    """

    def __init__(self, cfg: DCGANConfig | None = None, **kwargs):
        super().__init__()
        self.cfg = cfg = cfg or DCGANConfig(**kwargs)
        ndf, nc = cfg.ndf, cfg.nc
        main = nn.Sequential(
            # input is (nc) x S x S
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf) x 8b x 8b
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*2) x 4b x 4b
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*4) x 2b x 2b
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*8) x b x b
            nn.Conv2d(ndf * 8, 1, cfg.base, 1, 0, bias=False),
            # state size. 1 x 1 x 1
        )
        if cfg.d_norm == "spectral":
            sn = nn.utils.parametrizations.spectral_norm
            main = nn.Sequential(*[sn(m) if isinstance(m, nn.Conv2d) else m
                                   for m in main if not isinstance(m, nn.BatchNorm2d)])
        self.main = main

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).flatten()


def _phase_major(w: torch.Tensor) -> torch.Tensor:
    """A stride-2, 4x4 transposed-convolution weight (Cin, Cout, 4, 4) as a (Cin, 16 * Cout) matrix whose
    columns run over (qy, qx, ry, rx, Cout), kernel row ky = 2 qy + ry and column kx = 2 qx + rx."""
    cin, cout = w.shape[:2]
    return w.reshape(cin, cout, 2, 2, 2, 2).permute(0, 2, 4, 3, 5, 1).reshape(cin, 16 * cout).contiguous()


def _overlaps(h: int, w: int):
    """How the 4x4 patches of a stride-2, padding-1 transposed convolution tile its output.

    Input pixel (iy, ix) paints output rows 2 iy - 1 + ky, ky = 2 qy + ry. Output row 2 Y + r is
    painted by patch row ry = 1 - r of the pixels iy = Y - dy, where dy = qy for r = 0 and qy - 1
    for r = 1 (the same for columns). Yields (r, s, qy, qx, source rows, source columns, output rows,
    output columns), for each output phase (r, s) first the (qy, qx) that covers all of it.
    """
    for r in (0, 1):
        for s in (0, 1):
            for qy in (r, 1 - r):
                for qx in (s, 1 - s):
                    dy, dx = qy - r, qx - s
                    yield (r, s, qy, qx, slice(max(0, -dy), h - max(0, dy)), slice(max(0, -dx), w - max(0, dx)),
                           slice(max(0, dy), h - max(0, -dy)), slice(max(0, dx), w - max(0, -dx)))


class _Scratch:
    """Work arrays reused from one call to the next, one set per worker thread (`_scratch`).

    A fresh array of many MB costs a page fault per 4 KiB each time it is first written when malloc
    hands big blocks back to the system after use (as `make run` tells it to, which keeps the
    server's memory flat); these are faulted in once.
    """

    def __init__(self):
        self._bufs: dict[tuple, np.ndarray] = {}

    def get(self, name: str, shape: tuple, dtype=np.float32) -> np.ndarray:
        n = math.prod(shape)
        buf = self._bufs.get((name, dtype))
        if buf is None or buf.size < n:
            self._bufs[(name, dtype)] = buf = np.empty(n, dtype)
        return buf[:n].reshape(shape)


_LOCAL = threading.local()


def _scratch() -> _Scratch:
    if not hasattr(_LOCAL, "scratch"):
        _LOCAL.scratch = _Scratch()
    return _LOCAL.scratch


class _Workers:
    """One thread per core, each running whole layers on its share of the batch with one intra-op
    thread of its own. PyTorch's own threads split every operation and wait for each other at its
    end, and on a machine where another process holds a core that wait is a scheduler time slice,
    many times per batch; threads that each finish their own faces never wait for one another.

    Where setting a worker's thread count turns out to change the caller's too (a PyTorch build
    whose setting is process-wide), the workers are given up and batches run in the caller's thread.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self.usable = _cores() > 1

    def map(self, fn, chunks: list):
        if self.usable:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(_cores(), thread_name_prefix="faces",
                                                    initializer=torch.set_num_threads, initargs=(1,))
            before = torch.get_num_threads()
            results = list(self._pool.map(fn, chunks))
            if torch.get_num_threads() == before:
                return results
            torch.set_num_threads(before)  # process-wide in this build: undo, and stop using the workers
            self.usable = False
            return results
        with self._lock:  # one batch at a time through the caller's threads
            return [fn(c) for c in chunks]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


_WORKERS = _Workers()


def _fused_deconv_relu():
    """oneDNN's transposed convolution with the ReLU applied as it writes (one pass over the output
    fewer), or None where this PyTorch build lacks it; checked against the unfused pair once."""
    try:
        op = torch.ops.mkldnn._convolution_transpose_pointwise
        x = torch.randn(2, 8, 3, 3).contiguous(memory_format=torch.channels_last)
        w, b = torch.randn(8, 4, 4, 4).contiguous(memory_format=torch.channels_last), torch.randn(4)
        with torch.no_grad():
            ok = torch.allclose(op(x, w, b, [1, 1], [0, 0], [2, 2], [1, 1], 1, "relu", [], ""),
                                nn.functional.conv_transpose2d(x, w, b, 2, 1).relu_(), atol=1e-5)
    except (AttributeError, RuntimeError):
        return None
    return op if ok else None


class FrozenGenerator(nn.Module):
    """The same function as an eval-mode `Generator` on the CPU, arranged for inference.

    Each BatchNorm's running statistics are folded into the transposed convolution before it (its
    scale into the weights, its shift into a bias). The first layer, which only ever sees a 1x1
    input, becomes one matrix product whose columns are ordered so that its output already is the
    next layer's channels_last input. Where oneDNN's transposed convolution is slow, on few input
    pixels (the second layer) or few output channels (the last), the layer runs as one matrix
    product giving every input pixel's 4x4 patch, then the overlap-add of the patches; the other
    layers are oneDNN transposed convolutions in channels_last, ReLU fused where the build allows.
    `faces` turns the last layer straight into (N, S, S, 3) uint8 pixels, the layout pages need.

    A batch is split into one share per core, each run start to finish by its own worker thread
    with one PyTorch thread (`_Workers`); the memory-bound steps between the matrix products
    (overlap-adds, ReLU, Tanh, rounding) are numpy passes on work arrays kept per worker.

    Outputs match the Generator's to float rounding (about 1e-5), so faces match to one level
    where a value sits on a rounding boundary; `tests/core/models/test_frozen_generator.py` checks both.
    """

    def __init__(self, generator: Generator):
        super().__init__()
        mods, layers, i = list(generator.main), [], 0
        while i < len(mods):
            conv = mods[i]
            w = conv.weight.detach().float().cpu().clone()
            bias = torch.zeros(w.shape[1])
            if i + 1 < len(mods) and isinstance(mods[i + 1], nn.BatchNorm2d):
                bn = mods[i + 1]
                scale = bn.weight.detach().float().cpu() / torch.sqrt(bn.running_var.float().cpu() + bn.eps)
                w = w * scale[None, :, None, None]
                bias = bn.bias.detach().float().cpu() - bn.running_mean.float().cpu() * scale
                i += 3  # conv, BatchNorm, ReLU
            else:
                i += 2  # conv, Tanh
            layers.append((w, bias, conv.stride[0], conv.padding[0]))
        w0, b0, _, _ = layers[0]
        self.base = base = w0.shape[2]
        # columns in (y, x, channel) order: the product is the next layer's input in channels_last
        self.register_buffer("w0", w0.permute(0, 2, 3, 1).reshape(w0.shape[0], -1).contiguous())
        self.b0 = b0.repeat(base * base).numpy()
        self.plan = []  # per later layer: (how, stride, padding, output channels)
        self.biases = []  # numpy, for the numpy steps
        self.fused = _fused_deconv_relu()
        last = len(layers) - 1
        for j, (w, b, stride, padding) in enumerate(layers[1:], start=1):
            side = base * 2 ** (j - 1)  # this layer's input side
            patches = tuple(w.shape[2:]) == (4, 4) and (stride, padding) == (2, 1)
            how = "patches" if patches and (j == last or side * side < 64) else "onednn"
            if how == "patches":
                # the last layer's product is taken transposed: pixels along rows keep its few channels apart
                self.register_buffer(f"w{j}", _phase_major(w).t().contiguous() if j == last else _phase_major(w))
            else:
                self.register_buffer(f"w{j}", w.contiguous(memory_format=torch.channels_last))
            self.register_buffer(f"b{j}", b)
            self.biases.append(b.numpy())
            self.plan.append((how, stride, padding, w.shape[1]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(N, nz) or (N, nz, 1, 1) -> (N, 3, S, S) floats in [-1, 1], as the Generator gives."""
        return torch.cat(self._split(self._forward_chunk, z))

    def faces(self, z: torch.Tensor) -> np.ndarray:
        """(N, nz) -> (N, S, S, 3) uint8 pixels: `forward`'s values mapped from [-1, 1] to 0-255 and
        rounded (half to even) as `core.gan.sampling.to_uint8` does."""
        return np.concatenate(self._split(self._faces_chunk, z))

    def _split(self, fn, z: torch.Tensor) -> list:
        """`fn` on the batch split into one share per worker (at least 4 faces a share)."""
        z = z.reshape(z.shape[0], -1).detach().float().cpu()
        chunks = list(torch.tensor_split(z, max(1, min(_cores(), len(z) // 4)))) if len(z) else [z]

        def run(chunk):
            with torch.inference_mode():
                return fn(chunk)

        return _WORKERS.map(run, chunks)

    def _forward_chunk(self, z: torch.Tensor) -> torch.Tensor:
        planes = self._last(self._body(z))  # (r, s, c, n, Y, X): output pixel (2Y + r, 2X + s)
        if isinstance(planes, torch.Tensor):
            return planes.clone()
        r, s, c, n, h, w = planes.shape
        out = np.empty((n, c, h, 2, w, 2), np.float32)
        for r in (0, 1):
            for s in (0, 1):
                out[:, :, :, r, :, s] = planes[r, s].transpose(1, 0, 2, 3)
        return torch.from_numpy(out.reshape(n, c, 2 * h, 2 * w))

    def _faces_chunk(self, z: torch.Tensor) -> np.ndarray:
        planes = self._last(self._body(z))
        if isinstance(planes, torch.Tensor):
            planes = planes.numpy().transpose(0, 2, 3, 1)[None, None]  # (1, 1, N, S, S, 3): one phase
        # Tanh's values already lie in [-1, 1]: no clamp needed before the mapping
        np.add(planes, 1, out=planes)
        np.multiply(planes, 127.5, out=planes)
        np.rint(planes, out=planes)
        if planes.shape[:2] == (1, 1):
            return planes[0, 0].astype(np.uint8, order="C")
        r, s, c, n, h, w = planes.shape
        out = np.empty((n, h, 2, w, 2, c), np.uint8)
        for r in (0, 1):
            for s in (0, 1):
                np.copyto(out[:, :, r, :, s], planes[r, s].transpose(1, 2, 3, 0), casting="unsafe")
        return out.reshape(n, 2 * h, 2 * w, c)

    def _body(self, z: torch.Tensor) -> torch.Tensor:
        """Every layer but the last, ReLU applied: (N, C, H, W) in channels_last."""
        z = z.reshape(z.shape[0], -1).float().cpu()
        n, side = z.shape[0], self.base
        x = _scratch().get("l0", (n, self.w0.shape[1]))
        np.copyto(x, self.b0)
        torch.addmm(torch.from_numpy(x), z, self.w0, out=torch.from_numpy(x))
        np.maximum(x, 0, out=x)
        x = torch.from_numpy(x).view(n, side, side, -1).permute(0, 3, 1, 2)  # NCHW view of NHWC: channels_last
        for j, (how, stride, padding, cout) in enumerate(self.plan[:-1], start=1):
            w, b = getattr(self, f"w{j}"), getattr(self, f"b{j}")
            if how == "patches":
                x = self._patches(x, w, self.biases[j - 1], cout, j)
            elif self.fused is not None:
                x = self.fused(x, w, b, [padding] * 2, [0, 0], [stride] * 2, [1, 1], 1, "relu", [], "")
            else:
                x = nn.functional.conv_transpose2d(x, w, b, stride, padding).relu_()
        return x

    @staticmethod
    def _patches(x: torch.Tensor, wm: torch.Tensor, b: np.ndarray, cout: int, j: int) -> torch.Tensor:
        """ReLU of a stride-2 4x4 transposed convolution of channels_last `x` as a matrix product and an
        overlap-add (`_overlaps`); (N, Cout, 2H, 2W) in channels_last, in scratch memory."""
        n, cin, h, w = x.shape
        cols = _scratch().get(f"cols{j}", (n * h * w, wm.shape[1]))
        torch.mm(x.permute(0, 2, 3, 1).reshape(n * h * w, cin), wm, out=torch.from_numpy(cols))
        cols = cols.reshape(n, h, w, 2, 2, 2, 2, cout)  # n, iy, ix, qy, qx, ry, rx, c
        out = _scratch().get(f"out{j}", (n, h, 2, w, 2, cout))  # n, Y, r, X, s, c
        for r, s, qy, qx, iy, ix, oy, ox in _overlaps(h, w):
            src, dst = cols[:, iy, ix, qy, qx, 1 - r, 1 - s], out[:, oy, r, ox, s]
            if qy == r and qx == s:
                np.add(src, b, out=dst)
            else:
                np.add(dst, src, out=dst)
        np.maximum(out, 0, out=out)
        return torch.from_numpy(out).view(n, 2 * h, 2 * w, cout).permute(0, 3, 1, 2)

    def _last(self, x: torch.Tensor):
        """The last layer and its Tanh: for the patch path the four output phases (r, s, c, n, Y, X) as a
        numpy array in scratch memory, pixel (2Y + r, 2X + s); otherwise an (N, 3, S, S) tensor."""
        j = len(self.plan)
        how, stride, padding, cout = self.plan[-1]
        w, b = getattr(self, f"w{j}"), getattr(self, f"b{j}")
        if how != "patches":
            return nn.functional.conv_transpose2d(x, w, b, stride, padding).tanh_()
        n, cin, h, wd = x.shape
        cols = _scratch().get(f"cols{j}", (w.shape[0], n * h * wd))
        torch.mm(w, x.permute(1, 0, 2, 3).reshape(cin, n * h * wd), out=torch.from_numpy(cols))
        cols = cols.reshape(2, 2, 2, 2, cout, n * h * wd)  # qy, qx, ry, rx, c, (n, iy, ix)
        planes = _scratch().get("planes", (2, 2, cout, n * h * wd))
        np.copyto(planes, self.biases[-1][:, None])
        # Each patch row adds to its output phase shifted by dy rows and dx columns. Shifted as one flat
        # run over (n, iy, ix) the adds are long and fast; the pixels whose shift would leave the image
        # (and wrap into the next row or face) are zeroed first, each being used by this add only.
        for r, s, qy, qx, *_ in _overlaps(h, wd):
            dy, dx = qy - r, qx - s
            src = cols[qy, qx, 1 - r, 1 - s]
            grid = src.reshape(cout, n, h, wd)
            if dy:
                grid[:, :, h - 1 if dy > 0 else 0] = 0
            if dx:
                grid[:, :, :, wd - 1 if dx > 0 else 0] = 0
            off, dst = dy * wd + dx, planes[r, s]
            if off >= 0:
                np.add(dst[:, off:], src[:, : src.shape[1] - off], out=dst[:, off:])
            else:
                np.add(dst[:, :off], src[:, -off:], out=dst[:, :off])
        planes = planes.reshape(2, 2, cout, n, h, wd)
        return np.tanh(planes, out=planes)
