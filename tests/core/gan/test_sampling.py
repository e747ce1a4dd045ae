import numpy as np
import pytest
import torch
from PIL import Image

from core.gan.sampling import encode_image, generate, make_grid, sample_latents, snap_truncation, to_uint8


def test_latents_are_seeded():
    a, b = sample_latents(4, 100, seed=7), sample_latents(4, 100, seed=7)
    assert torch.equal(a, b)
    assert not torch.equal(a, sample_latents(4, 100, seed=8))


@pytest.mark.parametrize("nz", [100, 60, 128])
def test_face_i_of_a_seed_does_not_depend_on_how_many_are_drawn(nz):
    # sizes that are not multiples of 16 numbers: one big randn would differ in its tail
    one, five, many = (sample_latents(n, nz, seed=3) for n in (1, 5, 37))
    assert torch.equal(one[0], five[0]) and torch.equal(five, many[:5])


def test_truncation_redraws_outliers_and_keeps_the_typical_length():
    plain = sample_latents(64, 100, seed=0)
    z = sample_latents(64, 100, seed=0, truncation=0.5)
    assert torch.allclose(z.norm(dim=1), torch.full((64,), 10.0), atol=1e-4)  # sqrt(nz): not the grey mean face
    inside = plain.abs() <= 0.5
    ratio = z / plain
    # numbers already inside +-t are kept, up to each vector's one common scale factor
    for i in range(64):
        r = ratio[i][inside[i]]
        assert torch.allclose(r, r[0].expand_as(r), rtol=1e-4)
    assert (z.abs() / ratio[inside].abs().max()).max() <= 0.5 + 1e-5  # every number was within +-t before scaling
    with pytest.raises(ValueError):
        sample_latents(2, 100, seed=0, truncation=0.0)


@pytest.mark.parametrize("value, expected, changed", [
    ("0.7", 0.7, False), ("off", None, False), ("0", None, False), ("0.04", 0.5, True), ("9", 2.0, True),
    ("1.23", 1.2, True), ("abc", None, True), ("-1", None, True), ("nan", None, True),
])
def test_url_truncation_snaps_to_the_slider(value, expected, changed):
    t, note = snap_truncation(value)
    assert t == expected and (note is not None) == changed


def test_grid_layout_and_png():
    imgs = np.stack([np.full((4, 4, 3), i * 40, np.uint8) for i in range(5)])
    grid = make_grid(imgs, nrow=3, padding=1)
    assert grid.shape == (2 * 5 + 1, 3 * 5 + 1, 3)
    assert (grid[1:5, 1:5] == 0).all() and (grid[6:10, 6:10] == 160).all()
    png = encode_image(grid)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    import io

    assert Image.open(io.BytesIO(png)).size == (16, 11)


def test_to_uint8_range():
    x = torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0]).view(1, 1, 1, 5).expand(1, 3, 1, 5)
    assert to_uint8(x)[0, 0, :, 0].tolist() == [0, 0, 128, 255, 255]


def test_generate_batches_and_restores_eval():
    from core.models.dcgan import DCGANConfig, Generator

    G = Generator(DCGANConfig(ngf=8)).eval()
    z = sample_latents(5, 100, 0)
    out = generate(G, z, batch_size=2)
    assert out.shape == (5, 64, 64, 3) and out.dtype == np.uint8
    # batching does not change the faces (eval mode: no batch statistics)
    assert np.array_equal(out, generate(G, z, batch_size=5))


def test_memorisation_report_finds_a_copied_and_a_mirrored_photo():
    from core.gan.quality import diversity_ratio, memorisation_report, nearest_distances

    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (40, 3, 8, 8), dtype=np.uint8)
    fresh = rng.integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    copy = train[5].transpose(1, 2, 0)[None]
    mirror = train[7][..., ::-1].transpose(1, 2, 0)[None]
    samples = np.concatenate([fresh, copy, mirror])
    report = memorisation_report(samples, train, n_reference=40)
    assert report["near_copies"] == 2 and report["sample_to_train_min"] == 0.0
    assert report["sample_to_train_median"] > report["near_copy_threshold"] > 0
    # distances are RMS on a 0-1 scale
    white, black = np.full((1, 2, 2, 3), 255, np.uint8), np.zeros((1, 2, 2, 3), np.uint8)
    assert nearest_distances(white, black)[0] == pytest.approx(1.0)
    same = np.repeat(fresh[:1], 4, axis=0)
    assert diversity_ratio(same, fresh) == 0.0 and diversity_ratio(fresh, fresh) == pytest.approx(1.0)
