"""Cache the abstract-art set once: a held-out split by painting and random square crops, into data/.

    python -m train.prepare_abstract [--src ../shared/data/abstract] [--size 64] [--per-scale 8]

Only the clean 1919-1944 folder is used: the 1909-1918 folder mixes figurative landscapes, scenes,
a stamp and photographs of framed works and of a gallery wall with the early abstractions, and holds
several photographs of one work, so it is left out (docs/training.md, *The abstract-art GAN*).
Writes data/abstract-<size>-train.safetensors and -val.safetensors (git-ignored).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from core.data.abstract import CLEAN_FOLDER, SCALES, abstract_cache_path, abstract_root, build_abstract_caches


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", type=Path, default=None,
                    help="the abstract folder (default: $FACEGAN_ABSTRACT or ../shared/data/abstract)")
    ap.add_argument("--size", type=int, default=64, help="crop size in pixels")
    ap.add_argument("--per-scale", type=int, default=8, help=f"random squares per painting at each scale {SCALES}")
    ap.add_argument("--held-out", type=float, default=0.1, help="share of paintings kept out of training")
    ap.add_argument("--seed", type=int, default=0, help="the split's and the crops' seed")
    ap.add_argument("--cache-dir", type=Path, default=None, help="where the caches go (default: data/)")
    ap.add_argument("--force", action="store_true", help="rebuild caches that exist")
    ap.add_argument("--limit", type=int, default=None, help="only the first N paintings (quick tries)")
    args = ap.parse_args(argv)
    out = abstract_cache_path("train", args.size, args.cache_dir)
    if out.exists() and not args.force:
        print(f"{out} exists (use --force to rebuild)")
        return 0
    src = (args.src or abstract_root()) / CLEAN_FOLDER
    try:
        made = build_abstract_caches(src, args.size, args.per_scale, args.held_out, args.seed, args.cache_dir,
                                     args.limit, progress=lambda it: tqdm(it, desc="paintings", unit="img"))
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{made.groups} works after grouping near-duplicate photographs")
    for split, c in made.counts.items():
        print(f"{split}: {c['paintings']} paintings, {c['crops']} crops -> {abstract_cache_path(split, args.size, args.cache_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
