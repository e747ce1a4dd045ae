"""KID on MTCNN-ONet features: the feature-statistics distance of the generator report."""

import numpy as np
import pytest

from core.gan.quality import kernel_inception_distance, onet_features


def test_kid_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 16)), rng.normal(size=(400, 16))
    same, _ = kernel_inception_distance(a, b, subsets=10, subset_size=200)
    shifted, _ = kernel_inception_distance(a, b + 0.5, subsets=10, subset_size=200)
    far, _ = kernel_inception_distance(a, b + 2.0, subsets=10, subset_size=200)
    assert abs(same) < 0.05 < shifted < far


def test_kid_matches_the_formula_on_a_tiny_set():
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    y = np.array([[1.0, 1.0], [0.0, 0.0]])
    k = lambda u, v: (u @ v / 2 + 1) ** 3  # noqa: E731
    expected = (k(x[0], x[1]) * 2 / 2 + k(y[0], y[1]) * 2 / 2
                - 2 * np.mean([k(xi, yj) for xi in x for yj in y]))
    value, std = kernel_inception_distance(x, y, subsets=1, subset_size=2)
    assert value == pytest.approx(expected) and std == 0


@pytest.fixture(scope="module")
def detector():
    from core.detection.faces import FaceDetector

    return FaceDetector(device="cpu")


def test_onet_features_tell_real_faces_from_noise(detector, tiny_cache):
    from core.data.caches import load_cache

    real = load_cache(tiny_cache).numpy()  # 32 real 64x64 crops, (N, 3, H, W)
    feats = onet_features(real, detector)
    assert feats.shape == (32, 256) and np.isfinite(feats).all()
    noise = np.random.default_rng(0).integers(0, 256, (32, 64, 64, 3), dtype=np.uint8)
    real_vs_real, _ = kernel_inception_distance(feats[:16], feats[16:], subsets=5, subset_size=16)
    real_vs_noise, _ = kernel_inception_distance(feats, onet_features(noise, detector), subsets=5, subset_size=16)
    assert real_vs_noise > 10 * max(real_vs_real, 1e-4)
