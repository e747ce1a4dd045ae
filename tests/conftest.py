"""Shared fixtures. Tests never reach the network: HF_HUB_OFFLINE is on unless a test lifts it."""

from __future__ import annotations

import io
import logging
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from core.data.caches import build_center_cache, celeba_root  # noqa: E402

# The Hub tests abandon stalled downloads on purpose (core.io.hub gives up; the daemon thread goes on
# retrying inside huggingface_hub). Its retry warnings can come after pytest has closed the captured
# stream; without this each one prints a '--- Logging error ---' traceback into the test output.
logging.raiseExceptions = False


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def celeba_dir() -> Path:
    root = celeba_root()
    if not (root / "train").is_dir():
        pytest.skip(f"shared CelebA photos not found at {root} (set FACEGAN_CELEBA)")
    return root


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory, celeba_dir) -> Path:
    """32 real 64x64 crops in a cache file, built with the same code as the real one."""
    out = tmp_path_factory.mktemp("cache") / "tiny.safetensors"
    build_center_cache(celeba_dir / "train", out, 64, limit=32)
    return out


def image_bytes(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.fixture
def real_face_bytes(celeba_dir) -> bytes:
    """One real CelebA photo, as uploaded."""
    return sorted((celeba_dir / "val").rglob("*.jpg"))[0].read_bytes()


def random_image(w=80, h=60, seed=0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8))


@pytest.fixture
def hub_probe_times(monkeypatch) -> list[float]:
    """Seconds each Hub reachability probe (core.io.hub._probe) took during the test, in call order."""
    from core.io import hub

    times, real_probe = [], hub._probe

    def timed_probe(endpoint, timeout):
        started = time.perf_counter()
        try:
            return real_probe(endpoint, timeout)
        finally:
            times.append(time.perf_counter() - started)

    monkeypatch.setattr(hub, "_probe", timed_probe)
    return times


@pytest.fixture
def two_real_photos(tmp_path, celeba_dir) -> Path:
    """The Classroom quiz's operator folder: two real JPEGs copied from the CelebA validation photos."""
    folder = tmp_path / "quiz-real"
    folder.mkdir()
    for src in sorted((celeba_dir / "val").rglob("*.jpg"))[:2]:
        shutil.copy(src, folder / src.name)
    return folder


def weights_fingerprint() -> dict[str, tuple[int, int, str]]:
    """Every file under weights/ as (size, mtime in ns, SHA-256): equal before and after a command that
    must not write there."""
    import hashlib

    return {str(p.relative_to(ROOT)): (p.stat().st_size, p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted((ROOT / "weights").rglob("*")) if p.is_file()}
