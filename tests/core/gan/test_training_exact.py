"""The training loop's speed-ups that change no number: each gives bit-identical results to the
plain code it replaced (the plain code is written out here)."""

from __future__ import annotations

import copy

import torch
from torch import nn

from core.gan.trainer import recalibrate_batchnorm
from core.models.dcgan import DCGANConfig, Generator, weights_init


def small_generator(seed: int = 0) -> Generator:
    torch.manual_seed(seed)
    g = Generator(DCGANConfig(ngf=8))
    g.apply(weights_init)
    return g


def plain_recalibration(generator: nn.Module, nz: int, batches: int = 16, batch_size: int = 64, seed: int = 0):
    """The BatchNorm re-estimation as it was: the same passes with autograd recording a graph."""
    bns = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    generator.train()
    gen = torch.Generator().manual_seed(seed)
    for _ in range(batches):
        generator(torch.randn(batch_size, nz, generator=gen))
    for m in bns:
        m.momentum = 0.1
    return generator.eval()


def test_batchnorm_recalibration_without_a_graph_gives_the_same_statistics():
    g = small_generator()
    ours = recalibrate_batchnorm(copy.deepcopy(g), 100, batches=4, batch_size=16, seed=3)
    plain = plain_recalibration(copy.deepcopy(g), 100, batches=4, batch_size=16, seed=3)
    for (name, a), (_, b) in zip(ours.state_dict().items(), plain.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    z = torch.randn(4, 100)
    with torch.no_grad():
        assert torch.equal(ours(z), plain(z))


def test_fused_ema_update_is_the_same_as_one_lerp_per_tensor():
    g, target = small_generator(0), small_generator(1)
    fused, plain = copy.deepcopy(g), copy.deepcopy(g)
    with torch.no_grad():
        for decay in (0.1, 0.5, 0.999):
            torch._foreach_lerp_(list(fused.parameters()), list(target.parameters()), 1.0 - decay)
            for p_ema, p in zip(plain.parameters(), target.parameters(), strict=True):
                p_ema.lerp_(p, 1.0 - decay)
    for a, b in zip(fused.parameters(), plain.parameters(), strict=True):
        assert torch.equal(a, b)
