"""Where the detectors' faces come from: four real sources and seven generators, one crop cache each.

Real: CelebA (its own train/val folders) and, under shared/data/wild/, FFHQ, LFW and UTKFace.
Fake: StyleGAN2 and Stable Diffusion 2.1 (shared/data/wild/fake/) and this lab's five generators,
sampled fresh with recorded seeds. Every image goes through the one cropper (`core.detection.faces.crop_faces`:
MTCNN, most confident face, margin `FACE_MARGIN`) at `CROP_SIZE`, as an upload would.

Folders without a split of their own are split by a hash of each file's name (`VAL_SHARE` to
validation): the same file is always on the same side, whatever else is added to the folder.
Crops are cached as one uint8 tensor per source and split under data/detector/ (git-ignored);
a re-run reuses a cache whose file list, size and margin still match. Another framing (a discriminator's,
core.models.discriminators) gets caches of its own, named by it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core import REPO_ROOT

CACHE_DIR = REPO_ROOT / "data" / "detector"  # ignored by git
VAL_SHARE = 0.2
SPLITS = ("train", "val")
# fresh samples of our generators: far from the seeds the app and train.sample use
GENERATED_SEEDS = {"train": 1_000_000, "val": 2_000_000}
GENERATED_COUNTS = {"train": 800, "val": 200}


def shared_data() -> Path:
    """shared/data beside the checkout; FACEGAN_DATA overrides."""
    return Path(os.environ.get("FACEGAN_DATA", REPO_ROOT.parent / "shared" / "data"))


@dataclass(frozen=True)
class Source:
    name: str
    truth: str  # "real" or "fake"
    title: str
    terms: str  # licence / terms of use, for model cards
    folder: str | None = None  # under shared/data; None: one of our generators (sampled, not read)
    family: str = ""  # balanced sampling weighs families equally, then sources within a family
    split_folders: bool = False  # the folder has train/ and val/ of its own

    @property
    def generated(self) -> bool:
        return self.folder is None

    def root(self, data: Path | None = None) -> Path | None:
        return None if self.folder is None else (data or shared_data()) / self.folder


LAB_GENERATORS = ("dcgan-64", "dcgan-64-z60", "lsgan-80", "lsgan-80-female", "lsgan-80-male")

SOURCES: dict[str, Source] = {s.name: s for s in [
    Source("celeba", "real", "CelebA photos", "CelebA: non-commercial research only", "celeba",
           "celeba", split_folders=True),
    Source("ffhq", "real", "FFHQ photos (Flickr)", "FFHQ: CC BY-NC-SA 4.0 (non-commercial)", "wild/real/ffhq", "ffhq"),
    Source("lfw", "real", "LFW news photos", "LFW: research use", "wild/real/lfw", "lfw"),
    Source("utkface", "real", "UTKFace crops", "UTKFace: non-commercial research only", "wild/real/utkface",
           "utkface"),
    Source("stylegan2", "fake", "StyleGAN2 (thispersondoesnotexist)", "NVIDIA StyleGAN licence: non-commercial",
           "wild/fake/stylegan2-tpdne", "stylegan2"),
    Source("sd21", "fake", "Stable Diffusion 2.1 (SDFD)", "SDFD: research use (no licence stated)",
           "wild/fake/sd21", "sd21"),
    *[Source(g, "fake", f"this lab's {g}", "ours (trained on CelebA: non-commercial)", None, "lab GANs")
      for g in LAB_GENERATORS],
]}


def names(truth: str | None = None) -> list[str]:
    return [n for n, s in SOURCES.items() if truth is None or s.truth == truth]


def get(name: str) -> Source:
    try:
        return SOURCES[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; valid: {', '.join(SOURCES)}") from None


def split_of(relpath: str, val_share: float = VAL_SHARE) -> str:
    """'val' for a stable `val_share` of file names, 'train' for the rest."""
    h = int(hashlib.sha1(relpath.encode()).hexdigest()[:8], 16)
    return "val" if h < val_share * 0x1_0000_0000 else "train"


def source_files(source: Source, split: str, data: Path | None = None) -> list[Path]:
    """The image files of `source` in `split` (empty when its folder is not here)."""
    from core.io.images import list_images

    root = source.root(data)
    if root is None or not root.is_dir():
        return []
    if source.split_folders:
        return list_images(root / split) if (root / split).is_dir() else []
    return [p for p in list_images(root) if split_of(str(p.relative_to(root))) == split]


def cache_file(name: str, split: str, size: int, cache_dir: Path | None = None, framing=None) -> Path:
    """Where one source's crops of one split are cached; a framing other than the app's adds its tag."""
    tag = "" if framing is None or framing == app_framing() else "-" + framing.key.replace(" ", "_")
    return Path(cache_dir or CACHE_DIR) / f"{name}-{split}-{size}{tag}.safetensors"


def app_framing():
    """The app's crops: MTCNN's box, FACE_MARGIN wider, centred."""
    from core.detection.faces import Framing
    from core.detection.judge import FACE_MARGIN

    return Framing(FACE_MARGIN)


@dataclass
class SourceCrops:
    """One source's crops for one split: (N, S, S, 3) uint8, and where each came from."""

    name: str
    split: str
    crops: np.ndarray
    files: list[str]  # relative paths, or "seed:N" for generated samples
    no_face: int  # images in which no face was found (left out)
    unreadable: int = 0
    # per crop, the JPEG quality its file was saved at (None: not a JPEG); read files only, not caches or samples
    qualities: list[int | None] = field(default_factory=list)


def crops_from_images(images: list[np.ndarray], face_detector, size: int, framing=None) -> list[np.ndarray | None]:
    """The best face crop of each image, or None where MTCNN finds no face (p >= MIN_FACE_PROB);
    framed as the app frames faces unless `framing` (core.detection.faces.Framing) says otherwise."""
    from core.detection.faces import crop_faces
    from core.detection.judge import MIN_FACE_PROB

    framing = framing or app_framing()
    return [faces[0].crop if faces else None
            for faces in crop_faces(images, face_detector, size, framing.margin, MIN_FACE_PROB, framing.shift)]


def crops_from_files(paths: list[Path], face_detector, size: int, root: Path | None = None,
                     progress: Callable | None = None, batch: int = 16, framing=None,
                     transform: Callable[[bytes], bytes] | None = None) -> SourceCrops:
    """The best face of each readable file, as the app would see it (open, down-scale, crop), with the
    JPEG quality of each (as the app reads an upload's); `transform` first changes each file's bytes
    (train.robustness re-encodes whole photos)."""
    from core.detection.judge import fit_size
    from core.io.images import ImageError, jpeg_quality, open_image

    crops, files, qualities, no_face, bad = [], [], [], 0, 0
    starts = range(0, len(paths), batch)
    if progress is not None:
        starts = progress(starts, total=-(-len(paths) // batch))
    for s in starts:
        images, kept = [], []
        for p in paths[s : s + batch]:
            try:
                data = Path(p).read_bytes()
                data = transform(data) if transform is not None else data
                images.append(np.asarray(fit_size(open_image(data))[0]))
                kept.append((p, jpeg_quality(data)))
            except (OSError, ImageError):
                bad += 1
        for (p, quality), crop in zip(kept, crops_from_images(images, face_detector, size, framing), strict=True):
            if crop is None:
                no_face += 1
            else:
                crops.append(crop)
                files.append(str(p.relative_to(root)) if root else str(p))
                qualities.append(quality)
    arr = np.stack(crops) if crops else np.zeros((0, size, size, 3), np.uint8)
    return SourceCrops("", "", arr, files, no_face, bad, qualities)


def generated_crops(generator: str, split: str, n: int, face_detector, size: int,
                    progress: Callable | None = None, batch: int = 100, framing=None,
                    run: Path | None = None) -> SourceCrops:
    """`n` fresh samples of one of our generators (seed GENERATED_SEEDS[split]) through the cropper;
    with `run`, of the generator in that run folder (same architecture) instead of the bundled one."""
    import torch

    from core.models import registry
    from core.gan.sampling import generate, sample_latents

    if run is None:
        model, config = (loaded := registry.load(generator, use_hub=False)).model, loaded.config
    else:
        model, config, _ = registry.load_folder(registry.get_spec(generator), run)
    seed = GENERATED_SEEDS[split]
    z = sample_latents(n, config["nz"], seed)
    crops, files, no_face = [], [], 0
    starts = range(0, n, batch)
    if progress is not None:
        starts = progress(starts, total=-(-n // batch))
    for s in starts:
        with torch.inference_mode():
            images = list(generate(model, z[s : s + batch]))
        for i, crop in enumerate(crops_from_images(images, face_detector, size, framing)):
            if crop is None:
                no_face += 1
            else:
                crops.append(crop)
                files.append(f"seed:{seed} row:{s + i}")
    arr = np.stack(crops) if crops else np.zeros((0, size, size, 3), np.uint8)
    return SourceCrops(generator, split, arr, files, no_face)


def cache_key(name: str, split: str, data: Path | None = None, limit: int | None = None) -> tuple[str, list[Path]]:
    """What a cache must have been made from to be reused (the seed and count, or the file names),
    and the files to crop."""
    source = get(name)
    if source.generated:
        return f"seed={GENERATED_SEEDS[split]} n={GENERATED_COUNTS[split] if limit is None else limit}", []
    paths = source_files(source, split, data)[:limit]
    return hashlib.sha1("\n".join(p.name for p in paths).encode()).hexdigest(), paths


def write_cache(crops: SourceCrops, size: int, cache_dir: Path | None = None, data: Path | None = None,
                framing=None) -> Path:
    """Cache `crops` (one source, one split) where `load_source` looks for them."""
    import torch

    from core.io.store import save_tensors

    key, _ = cache_key(crops.name, crops.split, data)
    path = cache_file(crops.name, crops.split, size, cache_dir, framing)
    save_tensors(path, {"crops": torch.from_numpy(np.ascontiguousarray(crops.crops))},
                 metadata={"key": key, "margin": (framing or app_framing()).key, "files": json.dumps(crops.files),
                           "no_face": str(crops.no_face), "unreadable": str(crops.unreadable)})
    return path


def load_source(name: str, split: str, size: int, face_detector=None, cache_dir: Path | None = None,
                data: Path | None = None, limit: int | None = None, progress: Callable | None = None,
                use_cache: bool = True, framing=None) -> SourceCrops:
    """One source's crops for `split`: from the cache when it still matches, else made now and cached.

    `limit` (quick tries, tests) takes the first N files or samples and never touches the cache.
    `framing` (core.detection.faces.Framing): how the crops sit around the face; the app's by default.
    """
    from safetensors import safe_open

    source = get(name)
    framing = framing or app_framing()
    path = cache_file(name, split, size, cache_dir, framing)
    key, paths = cache_key(name, split, data, limit)
    if use_cache and limit is None and path.exists():
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            if meta.get("key") == key and meta.get("margin") == framing.key:
                return SourceCrops(name, split, f.get_tensor("crops").numpy(), json.loads(meta["files"]),
                                   int(meta["no_face"]), int(meta.get("unreadable", 0)))
    if face_detector is None:
        from core.detection.faces import FaceDetector

        face_detector = FaceDetector()
    wrap = None if progress is None else (lambda it, total: progress(it, total=total, desc=f"{name} {split}"))
    if source.generated:
        out = generated_crops(name, split, GENERATED_COUNTS[split] if limit is None else limit, face_detector,
                              size, wrap, framing=framing)
    else:
        out = crops_from_files(paths, face_detector, size, source.root(data), wrap, framing=framing)
    out.name, out.split = name, split
    if use_cache and limit is None and (paths or source.generated):
        write_cache(out, size, cache_dir, data, framing)
    return out


def available(names_: list[str], data: Path | None = None) -> list[str]:
    """The sources among `names_` that can be had here (their folder exists, or they are ours)."""
    return [n for n in names_ if get(n).generated or (get(n).root(data) or Path("/nonexistent")).is_dir()]
