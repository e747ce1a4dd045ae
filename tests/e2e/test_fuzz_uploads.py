"""Fuzzing the upload path: any bytes in -> a verdict or a clear ImageError out, never anything else.

The budget is small in `make test` (FUZZ_EXAMPLES, default 60 per property); `make fuzz` runs
thousands. A crash found here becomes a plain regression test below the properties.
"""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from core.detection.judge import Judge
from core.io.images import ImageError, open_upload

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=os.environ.get("FUZZ_RANDOM") is None)


@pytest.fixture(scope="module")
def judge():
    return Judge.from_registry(use_hub=False)


def seed_images() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))
    out = {}
    for fmt, kw in [("PNG", {}), ("JPEG", {"quality": 70}), ("GIF", {}), ("WEBP", {}), ("BMP", {}),
                    ("TIFF", {})]:
        buf = io.BytesIO()
        img.save(buf, format=fmt, **kw)
        out[fmt] = buf.getvalue()
    return out


SEEDS = seed_images()


def judged_or_refused(data: bytes, judge: Judge) -> None:
    try:
        img, notes = open_upload(data)
    except ImageError as err:
        assert str(err)  # a message for the user
        return
    assert img.mode == "RGB" and min(img.size) >= 32 and all(isinstance(n, str) for n in notes)
    verdict = judge.judge(img, whole_image_if_no_face=True)
    assert len(verdict.faces) >= 1
    for f in verdict.faces:
        assert 0.0 <= f.ensemble <= 1.0


@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes(data, judge):
    judged_or_refused(data, judge)


@FUZZ
@given(fmt=st.sampled_from(sorted(SEEDS)), cut=st.integers(0, 10_000),
       flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8))
def test_mutated_images(fmt, cut, flips, judge):
    """Valid files in six formats, truncated and with bytes overwritten: the realistic corruptions."""
    data = bytearray(SEEDS[fmt])
    for pos, value in flips:
        data[pos % len(data)] = value
    judged_or_refused(bytes(data[: max(1, len(data) - cut % len(data))]), judge)


@FUZZ
@given(w=st.integers(1, 600), h=st.integers(1, 600), mode=st.sampled_from(["RGB", "RGBA", "L", "LA", "P", "CMYK",
                                                                            "I;16", "1", "F"]))
def test_any_size_and_mode(w, h, mode, judge):
    img = Image.new(mode, (w, h))
    buf = io.BytesIO()
    img.save(buf, format="TIFF" if mode in ("F", "I;16", "CMYK") else "PNG")
    judged_or_refused(buf.getvalue(), judge)
