"""core.data.sources: the one reader of face files for training caches and evaluation folders."""

from __future__ import annotations

import io

from PIL import Image

from core.data import sources
from core.detection.faces import FaceDetector


def test_files_give_crops_with_their_jpeg_quality_and_a_transform_changes_the_bytes(celeba_dir, tmp_path):
    photo = Image.open(sorted((celeba_dir / "val").rglob("*.jpg"))[0]).convert("RGB")
    jpeg, png, bad = tmp_path / "a.jpg", tmp_path / "b.png", tmp_path / "c.jpg"
    photo.save(jpeg, quality=70)
    photo.save(png)
    bad.write_bytes(b"not an image")
    detector = FaceDetector()
    c = sources.crops_from_files([jpeg, png, bad], detector, 32, root=tmp_path)
    assert c.files == ["a.jpg", "b.png"] and c.qualities == [70, None] and c.unreadable == 1
    assert c.crops.shape == (2, 32, 32, 3)

    def recompress(data: bytes) -> bytes:
        buf = io.BytesIO()
        Image.open(io.BytesIO(data)).convert("RGB").save(buf, "JPEG", quality=40)
        return buf.getvalue()

    t = sources.crops_from_files([jpeg, png], detector, 32, transform=recompress)
    assert t.qualities == [40, 40]
