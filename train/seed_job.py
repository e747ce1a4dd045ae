"""The seeds' own job: each bundled detector alone on fresh dcgan-64 faces against held-out CelebA photos.

    python -m train.seed_job                      # every bundled detector, dcgan-64 and dcgan-64-z60
    python -m train.seed_job --generators dcgan-64 --threads 1

The research the app comes from trained its LSTM, CNNs and SupCon encoder to tell a CelebA DCGAN's faces
from CelebA photos. Here every detector is trained on the whole mix (four real sources, seven generators);
this measures whether each one, alone, still does that first job: the AUC of its calibrated probability on
the validation crops of a generator (samples of latent seeds its training never drew,
`core.data.sources.GENERATED_SEEDS`) against the CelebA validation photos (people its training never saw),
both through the one cropper. The aim for every detector of the seeds is 0.99.
"""

from __future__ import annotations

import argparse
import sys

GENERATORS = ("dcgan-64", "dcgan-64-z60")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--generators", nargs="+", default=list(GENERATORS), help="our generators' sources")
    ap.add_argument("--detectors", nargs="+", default=None, help="bundled detectors (default: all)")
    ap.add_argument("--threads", type=int, default=None)
    return ap


def seed_job_aucs(judge, real, fakes: dict) -> dict[str, dict[str, float]]:
    """{generator: {detector: AUC of its probability, fakes against `real`}} for (N, S, S, 3) uint8 crops."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    real_p = judge.probabilities(real)
    out = {}
    for g, crops in fakes.items():
        fake_p = judge.probabilities(crops)
        y = np.r_[np.zeros(len(real)), np.ones(len(crops))]
        out[g] = {d: float(roc_auc_score(y, np.r_[real_p[d], fake_p[d]])) for d in real_p}
    return out


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from core.data import sources
    from core.detection.judge import Judge
    from core.models.detectors import CROP_SIZE

    judge = Judge.from_registry(args.detectors, use_hub=False)
    real = sources.load_source("celeba", "val", CROP_SIZE).crops
    fakes = {g: sources.load_source(g, "val", CROP_SIZE).crops for g in args.generators}
    aucs = seed_job_aucs(judge, real, fakes)
    names = list(judge.detectors)
    print(f"AUC of each detector alone: fresh samples against {len(real)} held-out CelebA photos (aim 0.99)")
    print(f"{'generator':<16}{'faces':>7}" + "".join(f"{n:>15}" for n in names))
    for g, row in aucs.items():
        print(f"{g:<16}{len(fakes[g]):>7}" + "".join(f"{row[n]:>15.4f}" for n in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
