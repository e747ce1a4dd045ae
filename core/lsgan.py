"""LSGAN generator and discriminator for 80x80 face crops (DCGAN-style layers, least-squares loss)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass
class LSGANConfig:
    nz: int = 128  # the seed tried 100-400; 128 is enough for 80x80 faces and fast on CPU
    ngf: int = 64
    ndf: int = 64
    nc: int = 3
    image_size: int = 80  # 5 x 2^4

    def to_dict(self) -> dict:
        return asdict(self)


class Generator(nn.Module):
    """z (N, nz) -> image (N, nc, 80, 80) in [-1, 1]."""

    def __init__(self, cfg: LSGANConfig | None = None, **kwargs):
        super().__init__()
        self.cfg = cfg = cfg or LSGANConfig(**kwargs)
        nz, ngf, nc = cfg.nz, cfg.ngf, cfg.nc
        self.main = nn.Sequential(
            # input: nz x 1 x 1
            nn.ConvTranspose2d(nz, ngf * 8, 5, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            # state size. (ngf*8) x 5 x 5
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # state size. (ngf*4) x 10 x 10
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # state size. (ngf*2) x 20 x 20
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # state size. (ngf) x 40 x 40
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
            # state size. (nc) x 80 x 80
        )

    @property
    def nz(self) -> int:
        return self.cfg.nz

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 2:
            z = z[:, :, None, None]
        return self.main(z)


class Discriminator(nn.Module):
    """image (N, nc, 80, 80) -> score (N,); least squares pushes real to 1 and fake to 0."""

    def __init__(self, cfg: LSGANConfig | None = None, **kwargs):
        super().__init__()
        self.cfg = cfg = cfg or LSGANConfig(**kwargs)
        ndf, nc = cfg.ndf, cfg.nc
        self.main = nn.Sequential(
            # input is (nc) x 80 x 80
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf) x 40 x 40
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*2) x 20 x 20
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*4) x 10 x 10
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            # state size. (ndf*8) x 5 x 5
            nn.Conv2d(ndf * 8, 1, 5, 1, 0, bias=False),
            # state size. 1 x 1 x 1
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).flatten()
