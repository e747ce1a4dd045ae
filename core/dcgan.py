"""DCGAN generator and discriminator (the PyTorch DCGAN tutorial's architecture, 64x64)."""

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
    image_size: int = 64  # fixed by the five stride-2 layers below

    def to_dict(self) -> dict:
        return asdict(self)


def weights_init(m: nn.Module) -> None:
    """The tutorial's init: conv weights ~ N(0, 0.02), batch-norm weights ~ N(1, 0.02), bias 0."""
    name = m.__class__.__name__
    if "Conv" in name:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class Generator(nn.Module):
    """z (N, nz) or (N, nz, 1, 1) -> image (N, nc, 64, 64) in [-1, 1]."""

    def __init__(self, cfg: DCGANConfig | None = None, **kwargs):
        super().__init__()
        self.cfg = cfg = cfg or DCGANConfig(**kwargs)
        nz, ngf, nc = cfg.nz, cfg.ngf, cfg.nc
        self.main = nn.Sequential(
            # input: nz x 1 x 1
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            # state size. (ngf*8) x 4 x 4
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # state size. (ngf*4) x 8 x 8
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # state size. (ngf*2) x 16 x 16
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # state size. (ngf) x 32 x 32
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
            # state size. (nc) x 64 x 64
        )

    @property
    def nz(self) -> int:
        return self.cfg.nz

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 2:
            z = z[:, :, None, None]
        return self.main(z)


class Discriminator(nn.Module):
    """image (N, nc, 64, 64) -> logit (N,) that the image is real.

    The tutorial ends in a Sigmoid and uses BCELoss; we return the logit and use
    BCEWithLogitsLoss, the same objective computed without saturating in float32.
    """

    def __init__(self, cfg: DCGANConfig | None = None, **kwargs):
        super().__init__()
        self.cfg = cfg = cfg or DCGANConfig(**kwargs)
        ndf, nc = cfg.ndf, cfg.nc
        self.main = nn.Sequential(
            # input is (nc) x 64 x 64
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf) x 32 x 32
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*2) x 16 x 16
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*4) x 8 x 8
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*8) x 4 x 4
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
            # state size. 1 x 1 x 1
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).flatten()
