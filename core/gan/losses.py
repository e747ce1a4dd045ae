"""The adversarial objectives the one GAN trainer plugs in: DCGAN's BCE and LSGAN's least squares.

Each loss returns its value and the figures the history logs, named as the research logged them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class GANLoss:
    """How D and G are scored. `d_loss` gets D's raw outputs on real and fake batches."""

    name = "base"

    def d_loss(self, out_real: torch.Tensor, out_fake: torch.Tensor) -> tuple[torch.Tensor, dict]:
        raise NotImplementedError

    def g_loss(self, out_fake: torch.Tensor) -> tuple[torch.Tensor, dict]:
        raise NotImplementedError


class BCEGANLoss(GANLoss):
    """The DCGAN objective: D maximises log D(x) + log(1 - D(G(z))), G maximises log D(G(z)).

    Logged as in the PyTorch tutorial: Loss_D, Loss_G, D(x), and D(G(z)) before (z1) and after
    (z2) the discriminator's update.
    """

    name = "dcgan"

    def d_loss(self, out_real, out_fake):
        real = F.binary_cross_entropy_with_logits(out_real, torch.ones_like(out_real))
        fake = F.binary_cross_entropy_with_logits(out_fake, torch.zeros_like(out_fake))
        return real + fake, {
            "Loss_D": (real + fake).item(),
            "D_x": torch.sigmoid(out_real).mean().item(),
            "D_G_z1": torch.sigmoid(out_fake).mean().item(),
        }

    def g_loss(self, out_fake):
        loss = F.binary_cross_entropy_with_logits(out_fake, torch.ones_like(out_fake))
        return loss, {"Loss_G": loss.item(), "D_G_z2": torch.sigmoid(out_fake).mean().item()}


class LeastSquaresGANLoss(GANLoss):
    """LSGAN (Mao et al. 2017), a=0, b=c=1: d1 = ½(D(x)-1)², d2 = ½D(G(z))², g = ½(D(G(z))-1)²."""

    name = "lsgan"

    def d_loss(self, out_real, out_fake):
        d1 = 0.5 * ((out_real - 1) ** 2).mean()
        d2 = 0.5 * (out_fake**2).mean()
        return d1 + d2, {"d1": d1.item(), "d2": d2.item()}

    def g_loss(self, out_fake):
        g = 0.5 * ((out_fake - 1) ** 2).mean()
        return g, {"g": g.item()}
