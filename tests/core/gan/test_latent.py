"""core.gan.latent: interpolation paths, group arithmetic, neighbours and GIF strips."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from core.gan.latent import (
    direction_strip,
    group_mean,
    interpolate,
    interpolate_linear,
    interpolate_slerp,
    move_along,
    neighbours,
    numbered_grid,
    strip_to_gif,
    vector_arithmetic,
)


def random_pair(seed: int, nz: int = 100, scale1: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(nz, generator=gen), scale1 * torch.randn(nz, generator=gen)


@pytest.mark.parametrize("method", ["slerp", "linear"])
def test_paths_start_and_end_exactly_at_the_endpoints(method):
    z0, z1 = random_pair(0)
    path = interpolate(z0, z1, 8, method)
    assert path.shape == (8, 100) and path.dtype == z0.dtype
    torch.testing.assert_close(path[0], z0, rtol=0, atol=1e-6)
    torch.testing.assert_close(path[-1], z1, rtol=0, atol=1e-6)


@pytest.mark.parametrize("seed, scale1", [(0, 1.0), (1, 1.0), (2, 1.7), (3, 0.4)])
def test_slerp_norms_stay_between_the_end_norms(seed, scale1):
    z0, z1 = random_pair(seed, scale1=scale1)
    norms = interpolate_slerp(z0, z1, 16).norm(dim=1)
    lo, hi = min(z0.norm(), z1.norm()), max(z0.norm(), z1.norm())
    assert (norms >= lo - 1e-4).all() and (norms <= hi + 1e-4).all(), norms


def test_linear_dips_to_short_latents_where_slerp_does_not():
    z0, z1 = random_pair(4)
    typical = min(z0.norm(), z1.norm())
    assert interpolate_linear(z0, z1, 9)[4].norm() < 0.85 * typical  # the washed-out middle
    assert interpolate_slerp(z0, z1, 9)[4].norm() >= typical - 1e-4


def test_linear_midpoint_is_the_average():
    z0, z1 = random_pair(5)
    torch.testing.assert_close(interpolate_linear(z0, z1, 3)[1], (z0 + z1) / 2)
    torch.testing.assert_close(interpolate_linear(torch.tensor([0.0, 2.0]), torch.tensor([4.0, -2.0]), 5)[2],
                               torch.tensor([2.0, 0.0]))


@pytest.mark.parametrize("factor", [2.0, -1.0, 1.0])
def test_slerp_of_parallel_vectors_falls_back_to_a_straight_line(factor):
    z0, _ = random_pair(6)
    z1 = factor * z0
    path = interpolate_slerp(z0, z1, 5)
    assert torch.isfinite(path).all()
    torch.testing.assert_close(path, interpolate_linear(z0, z1, 5))


def test_slerp_of_nearly_parallel_vectors_is_finite():
    z0, _ = random_pair(7)
    path = interpolate_slerp(z0, z0 + 1e-7, 4)
    assert torch.isfinite(path).all()
    torch.testing.assert_close(path[-1], z0 + 1e-7, rtol=0, atol=1e-6)


def test_slerp_with_a_zero_vector_is_finite():
    z0, _ = random_pair(8)
    assert torch.isfinite(interpolate_slerp(z0, torch.zeros_like(z0), 4)).all()


def test_interpolate_rejects_bad_arguments():
    z0, z1 = random_pair(9)
    with pytest.raises(ValueError, match="method"):
        interpolate(z0, z1, 4, "cubic")
    with pytest.raises(ValueError, match="steps"):
        interpolate(z0, z1, 1)
    with pytest.raises(ValueError, match="same size"):
        interpolate(z0, z1[:50], 4)


def test_vector_arithmetic_matches_a_hand_computation():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 0.0]])  # mean (3, 2)
    b = torch.tensor([[0.0, 1.0], [2.0, 1.0], [1.0, 1.0]])  # mean (1, 1)
    c = torch.tensor([[-1.0, 0.0], [1.0, 6.0], [0.0, 3.0]])  # mean (0, 3)
    torch.testing.assert_close(group_mean(a), torch.tensor([3.0, 2.0]))
    torch.testing.assert_close(vector_arithmetic(a, b, c), torch.tensor([2.0, 4.0]))  # (3,2) - (1,1) + (0,3)


def test_group_mean_rejects_an_empty_group():
    with pytest.raises(ValueError):
        group_mean(torch.zeros(0, 2))


def test_neighbours_start_with_z_and_are_seeded():
    z, _ = random_pair(10)
    first = neighbours(z, 5, 0.3, seed=1)
    assert first.shape == (5, 100)
    assert torch.equal(first[0], z)
    assert torch.equal(first, neighbours(z, 5, 0.3, seed=1))
    assert not torch.equal(first[1:], neighbours(z, 5, 0.3, seed=2)[1:])
    spread = (first[1:] - z).std()
    assert 0.2 < spread < 0.4  # noise of the requested scale
    assert torch.equal(neighbours(z, 3, 0.0, seed=1), z.expand(3, -1))


def smooth_frames(n: int, size: int = 32) -> np.ndarray:
    """Gradients that differ per frame: few colours, so GIF quantisation barely changes them."""
    y, x = np.mgrid[0:size, 0:size]
    frames = [np.stack([x * 8, y * 8, np.full_like(x, 20 * i)], axis=-1) for i in range(n)]
    return np.clip(frames, 0, 255).astype(np.uint8)


def gif_frames(data: bytes) -> list[np.ndarray]:
    gif = Image.open(io.BytesIO(data))
    assert gif.format == "GIF"
    out = []
    for i in range(gif.n_frames):
        gif.seek(i)
        out.append(np.asarray(gif.convert("RGB")))
    return out


@pytest.mark.parametrize("steps", [4, 8])
def test_boomerang_gif_goes_forward_and_back(steps):
    frames = smooth_frames(steps)
    data = strip_to_gif(frames, duration_ms=90)
    decoded = gif_frames(data)
    assert len(decoded) == 2 * steps - 2
    assert np.abs(decoded[0].astype(int) - frames[0]).mean() < 4  # palette quantisation only
    assert np.abs(decoded[steps].astype(int) - frames[steps - 2]).mean() < 4  # the way back
    gif = Image.open(io.BytesIO(data))
    assert gif.info["loop"] == 0 and gif.info["duration"] == 90


def test_gif_without_boomerang_or_loop():
    frames = smooth_frames(5)
    data = strip_to_gif(frames, duration_ms=50, loop=False, boomerang=False)
    assert len(gif_frames(data)) == 5
    assert "loop" not in Image.open(io.BytesIO(data)).info  # plays once


def test_gif_scale_enlarges_each_frame():
    data = strip_to_gif(smooth_frames(3, size=16), duration_ms=50, scale=2)
    assert Image.open(io.BytesIO(data)).size == (32, 32)


def test_gif_rejects_float_frames():
    with pytest.raises(ValueError):
        strip_to_gif(np.zeros((3, 8, 8, 3), np.float32), 50)


def test_numbered_grid_is_enlarged_and_marks_each_tile():
    faces = np.full((4, 16, 16, 3), 128, np.uint8)
    grid = numbered_grid(faces, nrow=2, scale=2)
    assert grid.shape == (2 * (2 * 18 + 2), 2 * (2 * 18 + 2), 3)
    for r, c in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        y, x = (2 + r * 18) * 2, (2 + c * 18) * 2
        corner = grid[y : y + 14, x : x + 14]
        assert (corner == 0).any() and (corner > 200).any()  # a black box with a light number
    assert (grid[62:70, 62:70] == 128).all()  # the rest of the face is untouched


def test_move_along_matches_a_hand_computation():
    z = torch.tensor([1.0, 2.0, 3.0])
    directions = {"older": torch.tensor([0.0, 1.0, 0.0]), "male": torch.tensor([0.6, 0.0, 0.8])}
    moved = move_along(z, directions, {"older": 2.0, "male": -0.5})
    torch.testing.assert_close(moved, torch.tensor([1.0 - 0.3, 2.0 + 2.0, 3.0 - 0.4]))  # z + 2*older - 0.5*male
    torch.testing.assert_close(move_along(z, directions, {}), z)
    assert torch.equal(z, torch.tensor([1.0, 2.0, 3.0]))  # the input is not changed in place


def test_move_along_moves_every_row_of_a_batch_alike():
    z = torch.tensor([[0.0, 0.0], [1.0, -1.0]])
    moved = move_along(z, {"d": torch.tensor([1.0, 2.0])}, {"d": 3.0})
    torch.testing.assert_close(moved, torch.tensor([[3.0, 6.0], [4.0, 5.0]]))


def test_move_along_rejects_unknown_names_and_sizes():
    z = torch.zeros(3)
    with pytest.raises(KeyError, match="younger"):
        move_along(z, {"older": torch.ones(3)}, {"younger": 1.0})
    with pytest.raises(ValueError, match="nz = 3"):
        move_along(z, {"older": torch.ones(4)}, {"older": 1.0})


def test_direction_strip_steps_along_one_direction():
    z = torch.tensor([1.0, 1.0])
    strip = direction_strip(z, torch.tensor([0.0, 1.0]), [-1.0, 0.0, 2.0])
    torch.testing.assert_close(strip, torch.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 3.0]]))
