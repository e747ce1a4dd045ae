import pytest
import torch

from core.models.dcgan import DCGANConfig, Discriminator, Generator, weights_init


@pytest.mark.parametrize("nz", [100, 60])
def test_generator_and_discriminator_shapes(nz):
    cfg = DCGANConfig(nz=nz, ngf=8, ndf=8)
    G, D = Generator(cfg), Discriminator(cfg)
    z = torch.randn(3, nz)
    x = G(z)
    assert x.shape == (3, 3, 64, 64)
    assert x.min() >= -1 and x.max() <= 1  # tanh output
    assert G(z[:, :, None, None]).shape == (3, 3, 64, 64)  # 4-d latents work too
    assert D(x).shape == (3,)


def test_tutorial_size_parameter_counts():
    G, D = Generator(DCGANConfig()), Discriminator(DCGANConfig())
    # the PyTorch DCGAN tutorial's networks: 3,576,704 and 2,765,568 parameters
    assert sum(p.numel() for p in G.parameters()) == 3_576_704
    assert sum(p.numel() for p in D.parameters()) == 2_765_568


def test_weights_init_follows_the_tutorial():
    torch.manual_seed(0)
    G = Generator(DCGANConfig())
    G.apply(weights_init)
    conv = G.main[3].weight
    bn = G.main[1]
    assert abs(conv.std().item() - 0.02) < 0.002 and abs(conv.mean().item()) < 0.002
    assert abs(bn.weight.mean().item() - 1.0) < 0.01 and torch.all(bn.bias == 0)


def test_80px_variant_for_the_lsgan_and_registry_build():
    from core.models.registry import build_generator

    cfg = DCGANConfig(nz=128, ngf=8, ndf=8, image_size=80)
    G = build_generator({"arch": "lsgan", **cfg.to_dict(), "unknown_key": 1})
    x = G(torch.randn(2, 128))
    assert x.shape == (2, 3, 80, 80)
    assert Discriminator(cfg)(x).shape == (2,)
    assert build_generator({"arch": "dcgan", "nz": 60, "ngf": 8})(torch.randn(1, 60)).shape == (1, 3, 64, 64)
    with pytest.raises(ValueError, match="multiple of 16"):
        DCGANConfig(image_size=70)


def test_least_squares_loss_by_hand():
    from core.gan.losses import LeastSquaresGANLoss

    loss = LeastSquaresGANLoss()
    real, fake = torch.tensor([1.0, 0.0]), torch.tensor([0.5, -0.5])
    total, m = loss.d_loss(real, fake)
    # d1 = ½ mean((1-1)², (0-1)²) = 0.25; d2 = ½ mean(0.25, 0.25) = 0.125
    assert m == {"d1": 0.25, "d2": 0.125} and total.item() == 0.375
    g, mg = loss.g_loss(fake)
    assert mg["g"] == 0.5 * (0.25 + 2.25) / 2
