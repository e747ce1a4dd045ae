"""Cached face crops: decode the JPEGs once, train from one uint8 tensor ever after."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from core.faces import iter_center_crops, list_images

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CELEBA = REPO_ROOT.parent / "shared" / "data" / "celeba"
CACHE_DIR = REPO_ROOT / "data"  # ignored by git


def celeba_root() -> Path:
    """Where the shared CelebA photos are; FACEGAN_CELEBA overrides."""
    return Path(os.environ.get("FACEGAN_CELEBA", DEFAULT_CELEBA))


def cache_path(split: str, size: int, crop: str = "center", cache_dir: Path | None = None) -> Path:
    return Path(cache_dir or CACHE_DIR) / f"celeba-{crop}{size}-{split}.safetensors"


def build_center_cache(
    src: Path, out: Path, size: int, progress: Callable | None = None, limit: int | None = None
) -> int:
    """Crop every image under `src` with the tutorial framing into `out` (N, 3, size, size uint8).

    `progress` wraps the iterable (tqdm in the CLI). Returns the number of crops written.
    """
    paths = list_images(src)[:limit]
    if not paths:
        raise FileNotFoundError(f"no images found under {src}")
    it = iter_center_crops(paths, size)
    if progress is not None:
        it = progress(it, total=len(paths))
    kept, crops = [], []
    for p, crop in it:
        kept.append(str(p.relative_to(src)))
        crops.append(crop)
    images = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).contiguous()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    save_file({"images": images}, str(tmp), metadata={"files": json.dumps(kept), "size": str(size)})
    os.replace(tmp, out)
    return len(kept)


def load_cache(path: Path) -> torch.Tensor:
    """The cached uint8 tensor (N, 3, H, W); a clear error names the command that makes it."""
    if not Path(path).exists():
        raise FileNotFoundError(
            f"{path} does not exist; make it with `python -m train.prepare_data` first"
        )
    return load_file(str(path))["images"]


def build_face_cache(
    src: Path, out: Path, size: int, detector, margin: float = 0.25, progress: Callable | None = None,
    limit: int | None = None, batch_size: int = 32,
) -> tuple[int, int]:
    """MTCNN face crops (the most confident face of each photo) of every image under `src`.

    Writes (N, 3, size, size) uint8 to `out`; returns (crops written, photos with no face).
    """
    from core.faces import ImageError, crop_faces, open_image

    paths = list_images(src)[:limit]
    if not paths:
        raise FileNotFoundError(f"no images found under {src}")
    batches = [paths[i : i + batch_size] for i in range(0, len(paths), batch_size)]
    if progress is not None:
        batches = progress(batches, total=len(batches))
    kept, crops, missed = [], [], 0
    for batch in batches:
        arrays, names = [], []
        for p in batch:
            try:
                arrays.append(np.asarray(open_image(p)))
                names.append(p)
            except ImageError:
                missed += 1
        for p, faces in zip(names, crop_faces(arrays, detector, size, margin), strict=True):
            if faces:
                kept.append(str(p.relative_to(src)))
                crops.append(faces[0].crop)
            else:
                missed += 1
    images = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).contiguous()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    save_file({"images": images}, str(tmp),
              metadata={"files": json.dumps(kept), "size": str(size), "margin": str(margin)})
    os.replace(tmp, out)
    return len(kept), missed
