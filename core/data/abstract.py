"""The abstract-art set (Kandinsky, 1919-1944): a held-out split by painting, and random square crops.

Paintings are landscape or portrait and few (220), so instead of squashing each into one 64x64 frame
every painting gives several random squares at several scales: the largest square that fits (the
whole composition along its short side), and squares of 0.7 and 0.5 of the short side (closer
views of its shapes and lines). Horizontal flips are left to the trainer (`TrainConfig.hflip`).
Near-duplicate photographs of one work stay on one side of the split (grouped by a thumbnail
distance), so a held-out painting is never a training painting photographed twice.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core import REPO_ROOT
from core.io.images import list_images, open_image
from core.io.store import save_tensors

DEFAULT_ABSTRACT = REPO_ROOT.parent / "shared" / "data" / "abstract"
CLEAN_FOLDER = "kandinsky-1919-1944"
CACHE_DIR = REPO_ROOT / "data"  # ignored by git
SCALES = (1.0, 0.7, 0.5)  # square side as a share of the painting's short side
# thumbnails (16x16 grey, each normalised) nearer than this RMS are one work photographed twice
DUPLICATE_RMS = 0.25


def abstract_root() -> Path:
    """Where the shared abstract-art folders are; FACEGAN_ABSTRACT overrides."""
    return Path(os.environ.get("FACEGAN_ABSTRACT", DEFAULT_ABSTRACT))


def abstract_cache_path(split: str, size: int, cache_dir: Path | None = None) -> Path:
    return Path(cache_dir or CACHE_DIR) / f"abstract-{size}-{split}.safetensors"


def _thumb(img: Image.Image) -> np.ndarray:
    t = np.asarray(img.convert("L").resize((16, 16), Image.Resampling.BOX), np.float32).ravel()
    return (t - t.mean()) / (t.std() + 1e-6)


def duplicate_groups(thumbs: list[np.ndarray], threshold: float = DUPLICATE_RMS) -> list[int]:
    """A group id per image: images whose thumbnails (or one's mirror) are within `threshold` RMS share one."""
    n = len(thumbs)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    flat = np.stack(thumbs)
    mirror = np.stack([t.reshape(16, 16)[:, ::-1].ravel() for t in thumbs])
    for i in range(n):
        d = np.minimum(np.sqrt(((flat - flat[i]) ** 2).mean(1)), np.sqrt(((mirror - flat[i]) ** 2).mean(1)))
        for j in np.nonzero(d < threshold)[0]:
            if j != i:
                parent[find(int(j))] = find(i)
    return [find(i) for i in range(n)]


def split_by_painting(groups: list[int], held_out: float, seed: int) -> list[str]:
    """'train' or 'val' per image; whole duplicate groups go to one side, about `held_out` of them to val."""
    ids = sorted(set(groups))
    rng = np.random.default_rng(seed)
    rng.shuffle(ids)
    val = set(ids[: max(1, round(held_out * len(ids)))])
    return ["val" if g in val else "train" for g in groups]


def random_square_crops(img: Image.Image, size: int, per_scale: int, rng: np.random.Generator,
                        scales: tuple[float, ...] = SCALES) -> list[np.ndarray]:
    """`per_scale` random squares at each scale of the short side, each resized to size x size (HWC uint8)."""
    w, h = img.size
    short = min(w, h)
    out = []
    for s in scales:
        side = max(size, int(round(s * short)))
        side = min(side, short)
        for _ in range(per_scale):
            x = int(rng.integers(0, w - side + 1))
            y = int(rng.integers(0, h - side + 1))
            crop = img.crop((x, y, x + side, y + side)).resize((size, size), Image.Resampling.LANCZOS)
            out.append(np.asarray(crop, np.uint8))
    return out


@dataclass
class AbstractCaches:
    counts: dict  # paintings and crops per split
    files: dict  # painting file names per split
    groups: int  # duplicate groups found


def build_abstract_caches(src: Path, size: int = 64, per_scale: int = 8, held_out: float = 0.1, seed: int = 0,
                          cache_dir: Path | None = None, limit: int | None = None, progress=None) -> AbstractCaches:
    """Write abstract-<size>-train/val.safetensors: random square crops of each painting, split by painting.

    Each cache holds "images" (N, 3, size, size uint8), "painting" (N,) the painting index in its split's
    file list, and "full" (P, 3, size, size): each painting's centre square (for nearest-painting checks).
    """
    paths = list_images(src)[:limit]
    if not paths:
        raise FileNotFoundError(f"no images found under {src}")
    images = [open_image(p) for p in (progress(paths) if progress else paths)]
    groups = duplicate_groups([_thumb(im) for im in images])
    sides = split_by_painting(groups, held_out, seed)
    rng = np.random.default_rng(seed)
    counts, files = {}, {}
    for split in ("train", "val"):
        idx = [i for i, s in enumerate(sides) if s == split]
        crops, owner, full = [], [], []
        for k, i in enumerate(idx):
            cs = random_square_crops(images[i], size, per_scale, rng)
            crops += cs
            owner += [k] * len(cs)
            full += random_square_crops(images[i], size, 1, np.random.default_rng(0), scales=(1.0,))
        names = [str(paths[i].relative_to(src)) for i in idx]
        t = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).contiguous()
        f = torch.from_numpy(np.stack(full)).permute(0, 3, 1, 2).contiguous()
        save_tensors(abstract_cache_path(split, size, cache_dir),
                     {"images": t, "painting": torch.tensor(owner, dtype=torch.int32), "full": f},
                     metadata={"files": json.dumps(names), "size": str(size), "scales": json.dumps(SCALES),
                               "per_scale": str(per_scale), "seed": str(seed)})
        counts[split] = {"paintings": len(idx), "crops": len(crops)}
        files[split] = names
    return AbstractCaches(counts, files, len(set(groups)))
