"""How good is a generator? Figures computed from samples and real crops."""

from __future__ import annotations

import numpy as np

from core.faces import FaceDetector, face_found_rate
from core.sampling import generate, sample_latents


def generator_face_rate(model, nz: int, detector: FaceDetector, n: int = 256, seed: int = 1234,
                        threshold: float = 0.90) -> dict:
    """Share of `n` samples (seeded) that MTCNN finds as a face with prob >= threshold."""
    faces = generate(model, sample_latents(n, nz, seed))
    rate, probs = face_found_rate(faces, detector, threshold=threshold)
    return {"face_found_rate": rate, "n": n, "threshold": threshold, "seed": seed,
            "median_face_prob": float(np.median(probs))}


def real_face_rate(images_nchw: np.ndarray, detector: FaceDetector, threshold: float = 0.90) -> dict:
    """The same figure for real crops (N, 3, H, W uint8): the ceiling a generator can reach."""
    images = np.ascontiguousarray(np.asarray(images_nchw).transpose(0, 2, 3, 1))
    rate, probs = face_found_rate(images, detector, threshold=threshold)
    return {"face_found_rate": rate, "n": len(images), "threshold": threshold,
            "median_face_prob": float(np.median(probs))}
