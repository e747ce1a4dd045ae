"""The inference path the pages use (core.models.dcgan.FrozenGenerator, through core.gan.sampling.generate)
gives the same faces as the generator's own layers, and the fast PNG writer is lossless."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from core.gan.sampling import encode_png_fast, generate, inference_module, make_grid, sample_latents
from core.models.dcgan import DCGANConfig, FrozenGenerator, Generator, weights_init


def trained_like(image_size: int, nz: int = 100) -> Generator:
    """A generator with the tutorial init and BatchNorm statistics that are not the identity."""
    torch.manual_seed(0)
    g = Generator(DCGANConfig(nz=nz, image_size=image_size))
    g.apply(weights_init)
    g.train()
    with torch.no_grad():
        for _ in range(3):  # running statistics away from (0, 1)
            g(torch.randn(16, nz))
    return g.eval()


@pytest.mark.parametrize("image_size,nz", [(64, 100), (64, 60), (80, 100)])
def test_frozen_generator_matches_the_layers(image_size, nz):
    g = trained_like(image_size, nz)
    z = sample_latents(8, nz, 3)
    with torch.inference_mode():
        ref, out = g(z), FrozenGenerator(g)(z)
    assert out.shape == ref.shape == (8, 3, image_size, image_size)
    assert torch.allclose(out, ref, atol=1e-5), (out - ref).abs().max()


def test_generate_gives_the_same_faces_on_both_paths():
    g = trained_like(64)
    z = sample_latents(64, 100, 0)
    fast, plain = generate(g, z), generate(g, z, frozen=False)
    diff = np.abs(fast.astype(int) - plain.astype(int))
    assert diff.max() <= 1  # float rounding can tip a value across a .5 boundary
    assert (diff == 0).mean() > 0.999


def test_bundled_generators_give_the_same_faces_on_both_paths():
    from core.models import registry

    for name in registry.names("generator"):
        try:
            loaded = registry.load(name, use_hub=False)
        except registry.WeightsError:
            continue
        z = sample_latents(16, loaded.config["nz"], 1)
        fast, plain = generate(loaded.model, z), generate(loaded.model, z, frozen=False)
        diff = np.abs(fast.astype(int) - plain.astype(int))
        assert diff.max() <= 1 and (diff == 0).mean() > 0.999, name


def test_the_frozen_copy_follows_weight_changes():
    g = trained_like(64)
    first = inference_module(g)
    assert inference_module(g) is first  # cached while the weights stay
    with torch.no_grad():
        g.main[0].weight.mul_(0.5)  # as an optimiser or EMA step would, in place
    second = inference_module(g)
    assert second is not first
    z = sample_latents(4, 100, 0)
    with torch.inference_mode():
        assert torch.allclose(second(z), g(z), atol=1e-5)


@pytest.mark.parametrize("shape", [(1, 1, 3), (7, 5, 3), (530, 530, 3)])
def test_fast_png_is_lossless(shape):
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, shape, dtype=np.uint8)
    png = encode_png_fast(arr)
    back = Image.open(io.BytesIO(png))
    assert back.format == "PNG" and back.mode == "RGB"
    assert np.array_equal(np.asarray(back), arr)


def test_fast_png_of_a_grid_of_faces():
    g = trained_like(64)
    grid = make_grid(generate(g, sample_latents(9, 100, 0)), nrow=3)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(encode_png_fast(grid)))), grid)
    with pytest.raises(ValueError):
        encode_png_fast(grid[:, :, 0])
