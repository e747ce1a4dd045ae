"""The shortcut audit: what, besides "made or not", could tell the sources apart, and does the verdict use it?

    python -m train.shortcuts --threads 2                     # every source's validation crops, 100 each
    python -m train.shortcuts --limit 0 --json runs/shortcuts.json

Per source (the cached validation crops of `train.detector_data`):
- **border stripes**: the share of crops with a replicated edge, the stripes the face-anchored cropper paints
  where a face's square runs past the photo's border (`core.detection.faces.square_crop`); a trace our own
  cropper makes is no evidence, but a detector can learn it if one class has more of it;
- **sharpness**: the median variance of the crop's Laplacian (how much fine detail the crop carries after
  being resized to 128 px: small sources are enlarged, large ones reduced);
- **colour**: the verdicts on the crops as they are, in black and white and in sepia (`core.detection.augment.
  toned`): no training photo was toned, so a toned real photo is out of what any detector knew.
For each view: the share called GAN-made, uncertain and real by the app's verdict (with the real-only gate).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

VIEWS = ("clean", "gray", "sepia")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=100, help="validation crops per source (0: all)")
    ap.add_argument("--views", nargs="+", default=list(VIEWS), choices=list(VIEWS))
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=None)
    return ap


def stripe_share(crops: np.ndarray, width: int = 3) -> float:
    """Share of crops with at least one edge whose outer `width` rows (or columns) repeat one line of pixels:
    what edge replication leaves (after resizing, the stripe is a few pixels wide at least)."""
    if not len(crops):
        return 0.0
    c = crops.astype(np.int16)
    edges = [c[:, :width], c[:, -width:], c[:, :, :width].transpose(0, 2, 1, 3), c[:, :, -width:].transpose(0, 2, 1, 3)]
    flat = [np.abs(np.diff(e, axis=1)).max(axis=(1, 2, 3)) <= 1 for e in edges]  # every row the same line
    return float(np.mean(np.any(flat, axis=0)))


def sharpness(crops: np.ndarray) -> float:
    """Median over crops of the variance of the luma's 4-neighbour Laplacian."""
    if not len(crops):
        return float("nan")
    y = crops.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    lap = 4 * y[:, 1:-1, 1:-1] - y[:, :-2, 1:-1] - y[:, 2:, 1:-1] - y[:, 1:-1, :-2] - y[:, 1:-1, 2:]
    return float(np.median(lap.var(axis=(1, 2))))


def verdict_shares(judge, crops: np.ndarray) -> dict[str, float]:
    from core.detection.faces import FaceCrop

    got = [v.label for i in range(0, len(crops), 128)
           for v in judge.judge_crops([FaceCrop((0, 0, 1, 1), 1.0, c) for c in crops[i:i + 128]])]
    return {k: got.count(k) / len(got) if got else 0.0 for k in ("GAN-made", "uncertain", "real")}


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    import torch

    from core.data import sources
    from core.detection.augment import toned_crops
    from core.detection.judge import Judge
    from core.models.detectors import CROP_SIZE

    if args.threads:
        torch.set_num_threads(args.threads)
    judge = Judge.from_registry(use_hub=False)
    rows = {}
    print(f"{'source':<16}{'truth':<6}{'stripes':>8}{'sharp':>8}" + "".join(f"{v + ' GAN/unc/real':>22}" for v in args.views))
    for name in sources.available(sources.names()):
        crops = sources.load_source(name, "val", CROP_SIZE).crops
        if args.limit:
            crops = crops[np.random.default_rng(0).permutation(len(crops))[:args.limit]]
        row = {"truth": sources.get(name).truth, "count": len(crops), "stripes": stripe_share(crops),
               "sharpness": sharpness(crops)}
        for v in args.views:
            row[v] = verdict_shares(judge, crops if v == "clean" else toned_crops(crops, v))
        rows[name] = row
        print(f"{name:<16}{row['truth']:<6}{row['stripes']:>8.1%}{row['sharpness']:>8.0f}" + "".join(
            f"{row[v]['GAN-made']:>10.0%}/{row[v]['uncertain']:.0%}/{row[v]['real']:.0%}" for v in args.views), flush=True)
    if args.json:
        from core.io.store import write_json

        write_json(args.json, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
