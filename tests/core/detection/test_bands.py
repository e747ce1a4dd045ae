"""The cropper's edge bands (core.detection.augment): found where square_crop repeats a photo's edge, painted
grey by the "unband" view, and painted at random on every source by the "band<k>" training views."""

from __future__ import annotations

import numpy as np

from core.detection import probe_fit
from core.detection.augment import BAND_GREY, distorted_crops, random_bands, stripe_width, unband
from core.detection.faces import square_crop

RNG = np.random.default_rng(3)


def textured(h: int, w: int) -> np.ndarray:
    return RNG.integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_a_face_at_the_photos_top_edge_gets_a_band_there_and_nowhere_else():
    photo = textured(200, 200)
    crop = np.asarray(square_crop(photo, (60, 0, 140, 90), 128))  # the square runs ~25 px above the photo
    top, bottom, left, right = stripe_width(crop)
    assert top >= 10 and bottom == left == right == 0
    assert stripe_width(textured(128, 128)) == (0, 0, 0, 0)


def test_unband_paints_the_band_and_the_edge_line_it_repeats_grey_and_keeps_the_rest():
    photo = textured(200, 200)
    crop = np.asarray(square_crop(photo, (0, 60, 90, 140), 128))  # runs off the left side
    left = stripe_width(crop)[2]
    out = unband(crop)
    assert (out[:, :left + 1] == BAND_GREY).all()
    np.testing.assert_array_equal(out[:, left + 1:], crop[:, left + 1:])
    plain = textured(128, 128)
    assert unband(plain) is plain  # no band, nothing changed
    np.testing.assert_array_equal(distorted_crops(np.stack([crop, plain]), "unband"), np.stack([out, plain]))


def test_random_bands_reach_about_half_the_crops_of_a_source_and_are_reproducible_per_view():
    crops = np.stack([textured(64, 64) for _ in range(200)])
    a = probe_fit.view_crops(crops, "band0", "src/train")
    b = probe_fit.view_crops(crops, "band0", "src/train")
    c = probe_fit.view_crops(crops, "band1", "src/train")
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    banded = np.array([any(stripe_width(x)) for x in a])
    assert 0.35 < banded.mean() < 0.65
    rng = np.random.default_rng(0)
    for x in crops[:20]:  # a band is grey from the edge in, never in the middle
        y = random_bands(x, rng)
        changed = np.argwhere((y != x).any(axis=-1))
        if len(changed):
            assert (y[tuple(changed.T)] == BAND_GREY).all()
