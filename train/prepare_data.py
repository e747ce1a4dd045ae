"""Crop the shared CelebA photos once into cached uint8 tensors under data/ (git-ignored).

    python -m train.prepare_data [--src ../shared/data/celeba] [--size 64]      # DCGAN: centre crops
    python -m train.prepare_data --crop mtcnn --size 80                          # LSGAN: MTCNN face crops
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from core.data.caches import build_center_cache, build_face_cache, cache_path, celeba_root


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", type=Path, default=None, help="CelebA folder holding train/ and val/ "
                    "(default: $FACEGAN_CELEBA or ../shared/data/celeba)")
    ap.add_argument("--size", type=int, default=64, help="crop size in pixels (DCGAN: 64)")
    ap.add_argument("--crop", choices=["center", "mtcnn"], default="center",
                    help="center: the DCGAN tutorial's resize + centre crop; mtcnn: a square around the face")
    ap.add_argument("--margin", type=float, default=0.25, help="mtcnn: extra room around the face box")
    ap.add_argument("--splits", nargs="+", default=["train", "val"])
    ap.add_argument("--cache-dir", type=Path, default=None, help="where the caches go (default: data/)")
    ap.add_argument("--force", action="store_true", help="rebuild caches that exist")
    ap.add_argument("--limit", type=int, default=None, help="only the first N images (quick tries)")
    args = ap.parse_args(argv)
    src = args.src or celeba_root()
    for split in args.splits:
        out = cache_path(split, args.size, crop=args.crop, cache_dir=args.cache_dir)
        if out.exists() and not args.force:
            print(f"{out} exists (use --force to rebuild)")
            continue
        desc = f"{split} {args.crop} {args.size}px"
        if args.crop == "center":
            n = build_center_cache(src / split, out, args.size, limit=args.limit,
                                   progress=lambda it, total, desc=desc: tqdm(it, total=total, desc=desc, unit="img"))
            print(f"wrote {n} crops to {out}")
        else:
            from core.detection.faces import FaceDetector

            n, missed = build_face_cache(
                src / split, out, args.size, FaceDetector(), margin=args.margin, limit=args.limit,
                progress=lambda it, total, desc=desc: tqdm(it, total=total, desc=desc, unit="batch"))
            print(f"wrote {n} face crops to {out}; {missed} photos had no face (p >= 0.90) and were left out")


if __name__ == "__main__":
    main()
