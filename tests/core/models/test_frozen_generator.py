"""The inference path the pages use (core.models.dcgan.FrozenGenerator, through core.gan.sampling.generate)
gives the same faces as the generator's own layers, and the fast PNG writer is lossless."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from core.gan.sampling import encode_png_fast, generate, inference_module, make_grid, sample_latents, to_uint8
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


@pytest.mark.parametrize("image_size", [64, 80])
def test_faces_are_the_frozen_output_rounded(image_size):
    g = trained_like(image_size)
    frozen = FrozenGenerator(g)
    z = sample_latents(16, 100, 2)
    with torch.inference_mode():
        faces, floats = frozen.faces(z), frozen(z)
    assert faces.dtype == np.uint8 and faces.shape == (16, image_size, image_size, 3) and faces.flags.c_contiguous
    diff = np.abs(faces.astype(int) - to_uint8(floats).astype(int))
    assert diff.max() <= 1 and (diff == 0).mean() > 0.999  # the same floats but for the last bit or so


def test_fused_and_unfused_convolutions_agree():
    g = trained_like(64)
    fused, plain = FrozenGenerator(g), FrozenGenerator(g)
    plain.fused = None
    z = sample_latents(8, 100, 4)
    with torch.inference_mode():
        assert torch.allclose(fused(z), plain(z), atol=1e-6)


def test_reused_work_memory_never_leaks_between_calls():
    g = trained_like(64)
    frozen = FrozenGenerator(g)
    z = sample_latents(64, 100, 5)
    with torch.inference_mode():
        big = frozen.faces(z)
        kept = big.copy()
        small = frozen.faces(z[:3])  # the same work arrays, partly
        again = frozen.faces(z)
    assert np.array_equal(big, kept)  # a result is its own memory, not the work arrays'
    assert np.array_equal(small, big[:3]) and np.array_equal(again, big)


def test_two_threads_at_once_get_their_own_faces():
    from concurrent.futures import ThreadPoolExecutor

    g = trained_like(64)
    frozen = FrozenGenerator(g)
    zs = [sample_latents(32, 100, s) for s in range(6)]
    with torch.inference_mode():
        alone = [frozen.faces(z) for z in zs]

    def run(z):
        with torch.inference_mode():
            return frozen.faces(z)

    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(run, zs))
    assert all(np.array_equal(a, b) for a, b in zip(alone, together, strict=True))


def test_fast_png_in_many_pieces_is_one_valid_stream(monkeypatch):
    import struct
    import zlib

    from core.gan import sampling

    monkeypatch.setattr(sampling, "_PNG_PIECE_BYTES", 1000)
    monkeypatch.setattr(sampling, "_cores", lambda: 5)
    arr = np.random.default_rng(1).integers(0, 256, (61, 47, 3), dtype=np.uint8)
    png = encode_png_fast(arr)
    (n,) = struct.unpack(">I", png[33:37])
    assert png[37:41] == b"IDAT"
    zlib.decompress(png[41 : 41 + n])  # checks the zlib header and the Adler-32 of the whole image
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))), arr)


def test_worker_threads_leave_the_callers_thread_count_and_the_faces_alone(monkeypatch):
    from core.models import dcgan

    g = trained_like(64)
    frozen = FrozenGenerator(g)
    z = sample_latents(24, 100, 6)
    threads = torch.get_num_threads()
    with torch.inference_mode():
        shared = frozen.faces(z)
        assert torch.get_num_threads() == threads
        monkeypatch.setattr(dcgan._WORKERS, "usable", False)  # the whole batch in the caller's thread
        alone = frozen.faces(z)
    diff = np.abs(shared.astype(int) - alone.astype(int))
    assert diff.max() <= 1 and (diff == 0).mean() > 0.999  # shares of the batch: the same sums, maybe reordered
