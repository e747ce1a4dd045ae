"""How the verdicts hold when a photo has been re-shared: each validation photo of the file-based sources
(CelebA, FFHQ, LFW, UTKFace, StyleGAN2, SD 2.1) re-encoded whole, as a messenger or a site would, before
the app's own path (open, find the face, crop, judge; a JPEG below quality 85 gets the compressed weights,
as on the Detect page).

    python -m train.robustness --threads 2                   # as-is, JPEG 90, JPEG 75, JPEG 50, half scale
    python -m train.robustness --views jpeg75 --limit 50     # a quick look

Prints a table per view: for each generator its ROC AUC against all the reals and the share caught
(verdict GAN-made); for each real source the share wrongly called GAN-made. Nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

VIEWS = ("as-is", "jpeg90", "jpeg75", "jpeg50", "half")


def distort(data: bytes, view: str) -> bytes:
    """The file's bytes after the whole photo went through `view` (the bytes as they are for as-is)."""
    import io

    from PIL import Image

    from core.io.images import open_image

    if view == "as-is":
        return data
    img = open_image(data)
    buf = io.BytesIO()
    if view == "half":  # down-scaled to half and saved losslessly: only the scaling counts
        img.resize((max(1, img.width // 2), max(1, img.height // 2)), Image.BICUBIC).save(buf, "PNG")
    else:
        img.save(buf, "JPEG", quality=int(view.removeprefix("jpeg")))
    return buf.getvalue()


def judge_files(judge, paths: list[Path], view: str):
    """The ensemble's score of the best face of each file after `view` (files without a face left out),
    each judged with the weights the app would pick for that file (the compressed set below JPEG 85)."""
    import numpy as np

    from core.data.sources import crops_from_files
    from core.models.detectors import CROP_SIZE
    from train.evaluate import judged

    c = crops_from_files(paths, judge.face_detector, CROP_SIZE, transform=lambda data: distort(data, view))
    compressed = np.array([judge.is_compressed(q) for q in c.qualities], bool)
    return judged(judge, c.crops, compressed)["ensemble"] if len(c.crops) else np.zeros(0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--views", nargs="+", default=list(VIEWS), choices=VIEWS)
    ap.add_argument("--limit", type=int, default=None, help="at most N photos per source")
    ap.add_argument("--data", type=Path, default=None, help="shared data folder (default ../shared/data)")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    import numpy as np
    import torch
    from sklearn.metrics import roc_auc_score
    from tqdm.auto import tqdm

    from core.data import sources
    from core.detection.judge import Judge

    if args.threads:
        torch.set_num_threads(args.threads)
    names = [n for n in sources.available(sources.names(), args.data) if not sources.get(n).generated]
    if not names:
        print("error: no source folders here (../shared/data)", file=sys.stderr)
        return 2
    judge = Judge.from_registry(use_hub=False)
    hi = judge.band[1]
    for view in args.views:
        scores = {n: judge_files(judge, sources.source_files(sources.get(n), "val", args.data)[: args.limit], view)
                  for n in tqdm(names, desc=view, leave=False)}
        reals = np.concatenate([scores[n] for n in names if sources.get(n).truth == "real"])
        print(f"\n{view}: source, faces, AUC vs all reals, caught (GAN-made) / real called GAN-made")
        for n in names:
            s = scores[n]
            if sources.get(n).truth == "real":
                print(f"  {n:<12}{len(s):>6}{'':>9}   called GAN-made {np.mean(s > hi):6.1%}")
            else:
                auc = roc_auc_score(np.r_[np.zeros(len(reals)), np.ones(len(s))], np.r_[reals, s])
                print(f"  {n:<12}{len(s):>6}{auc:>9.3f}   caught {np.mean(s > hi):6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
