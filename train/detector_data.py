"""Crop every detector source once (MTCNN, best face) into data/detector/, with a progress bar.

    python -m train.detector_data                       # every source here, train and val
    python -m train.detector_data --sources ffhq sd21   # some of them

Real: CelebA, FFHQ, LFW, UTKFace; fake: StyleGAN2, Stable Diffusion 2.1 and our five generators
(sampled fresh, seeds in core.data.sources.GENERATED_SEEDS). A re-run reuses caches that still match.
Prints, per source and split, the crops kept and the images without a face.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv=None) -> int:
    from core.data import sources

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sources", nargs="+", default=sources.names(), choices=sources.names())
    ap.add_argument("--splits", nargs="+", default=list(sources.SPLITS), choices=list(sources.SPLITS))
    ap.add_argument("--data", type=Path, default=None, help="shared data folder (default ../shared/data)")
    ap.add_argument("--cache-dir", type=Path, default=None, help="default data/detector/")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    import torch
    from tqdm.auto import tqdm

    from core.detection.faces import FaceDetector
    from core.models.detectors import CROP_SIZE

    if args.threads:
        torch.set_num_threads(args.threads)
    missing = [n for n in args.sources if n not in sources.available(args.sources, args.data)]
    for n in missing:
        print(f"skipping {n}: {sources.get(n).root(args.data)} is not here", file=sys.stderr)
    det = FaceDetector()
    for name in args.sources:
        if name in missing:
            continue
        for split in args.splits:
            c = sources.load_source(name, split, CROP_SIZE, det, args.cache_dir, args.data, progress=tqdm)
            print(f"{name:<16}{split:<6}{len(c.crops):>6} crops, {c.no_face} without a face, "
                  f"{c.unreadable} unreadable", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
