"""DCGAN generator and discriminator: the PyTorch DCGAN tutorial's architecture.

At 64x64 it is exactly the tutorial's networks. The same layers with a 5x5 base instead of 4x4
give 80x80, which the LSGAN uses (arch "lsgan": these networks, the least-squares loss).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

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


class FrozenGenerator(nn.Module):
    """The same function as an eval-mode `Generator`, arranged for inference on the CPU.

    Each BatchNorm's running statistics are folded into the transposed convolution before it (its
    scale into the weights, its shift into a bias), the first layer, which only ever sees a 1x1
    input, becomes one matrix product, and the rest runs in channels_last, where oneDNN's
    transposed convolutions are fastest. Outputs match the Generator's to float rounding
    (about 1e-5); `core.gan.sampling.generate` uses this and `tests/test_frozen_generator.py`
    checks that both give the same faces.
    """

    def __init__(self, generator: Generator):
        super().__init__()
        mods, layers, i = list(generator.main), [], 0
        while i < len(mods):
            conv = mods[i]
            w = conv.weight.detach().clone()
            bias = torch.zeros(w.shape[1], dtype=w.dtype, device=w.device)
            if i + 1 < len(mods) and isinstance(mods[i + 1], nn.BatchNorm2d):
                bn = mods[i + 1]
                scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
                w = w * scale[None, :, None, None]
                bias = bn.bias.detach() - bn.running_mean * scale
                i += 3  # conv, BatchNorm, ReLU
            else:
                i += 2  # conv, Tanh
            layers.append((w, bias, conv.stride[0], conv.padding[0]))
        w0, b0, _, _ = layers[0]
        self.base = w0.shape[2]
        self.register_buffer("w0", w0.reshape(w0.shape[0], -1).contiguous())  # (nz, C * base * base)
        self.register_buffer("b0", b0.repeat_interleave(self.base * self.base))
        self.strides = [(s, p) for _, _, s, p in layers[1:]]
        for j, (w, b, _, _) in enumerate(layers[1:]):
            self.register_buffer(f"w{j + 1}", w.contiguous(memory_format=torch.channels_last))
            self.register_buffer(f"b{j + 1}", b)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z.reshape(z.shape[0], -1)
        x = torch.addmm(self.b0, z, self.w0).view(z.shape[0], -1, self.base, self.base).relu_()
        x = x.contiguous(memory_format=torch.channels_last)
        last = len(self.strides)
        for j, (stride, padding) in enumerate(self.strides, start=1):
            x = nn.functional.conv_transpose2d(x, getattr(self, f"w{j}"), getattr(self, f"b{j}"), stride, padding)
            x = x.tanh_() if j == last else x.relu_()
        return x
