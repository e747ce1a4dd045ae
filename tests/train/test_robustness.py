"""train.robustness: photos re-encoded whole before the app's path, judged as the Detect page would."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from core.io.images import jpeg_quality, open_image


def test_distort_re_encodes_the_whole_photo():
    from train.robustness import distort

    img = Image.fromarray(np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    data = buf.getvalue()
    assert distort(data, "as-is") == data
    for q in (90, 75, 50):
        assert jpeg_quality(distort(data, f"jpeg{q}")) == q
    half = distort(data, "half")
    assert open_image(half).size == (40, 30) and jpeg_quality(half) is None  # lossless: only the scaling counts


def test_robustness_prints_each_view_for_the_sources_here(celeba_dir, capsys):
    from train import robustness

    assert robustness.main(["--data", str(celeba_dir.parent), "--views", "as-is", "jpeg75", "--limit", "3",
                            "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "as-is:" in out and "jpeg75:" in out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("celeba")]
    assert len(rows) == 2 and all(r[-1].endswith("%") and int(r[1]) >= 1 for r in rows)
