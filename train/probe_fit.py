"""Measure the probe's head fitted on cached backbone features: leave-one-generator-out in seconds.

    python -m train.probe_fit                                   # the default grid, LOO stylegan2 and sd21
    python -m train.probe_fit --taps 5 8 --c 0.1 1 --views clean clean,aug0,aug1 --leave-out stylegan2 sd21 \
        lsgan-80+lsgan-80-female+lsgan-80-male

The probe's backbone is frozen, so the features of every cached crop (`train.detector_data`) are
computed once per view and kept under data/detector/probe-features/ (ignored; ~10 min per view of
all sources on 2 CPU threads, then seconds). For every combination of feature groups (`--taps`),
regularisation (`--c`, sklearn's C: larger is weaker) and training views (`--views`, comma-joined:
clean, aug0, aug1 = the detectors' augmentation with two seeds) it fits the head as a source-balanced
logistic regression and prints, per left-out source, its validation AUC when it was kept out of the
fit (several joined by +: kept out together, the weakest printed): a generator against all validation
reals; a real source against all validation fakes, with (in brackets) the share of it called GAN-made
at the threshold that calls 2% of the fitted reals so. Then, with every source in the fit, the weakest
generator's AUC clean, after JPEG 75 and after a half-scale. Nothing is bundled: the numbers say which recipe to train.
"""

from __future__ import annotations

import argparse
import sys

from core.models.probe import WIDTHS


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--taps", type=int, nargs="+", default=[5, 8], help=f"feature groups read, 1-{len(WIDTHS)}")
    ap.add_argument("--c", type=float, nargs="+", default=[0.1, 1.0], help="inverse L2 strength (sklearn C)")
    ap.add_argument("--views", nargs="+", default=["clean", "clean,aug0,aug1"],
                    help="training views, comma-joined (clean, aug0, aug1, ...)")
    ap.add_argument("--leave-out", nargs="+", default=["stylegan2", "sd21"], help="sources left out, one at a time (generators or real sources); join with + to leave "
                         "several out together (lsgan-80+lsgan-80-female+lsgan-80-male: the weakest printed)")
    ap.add_argument("--input-size", type=int, default=224,
                    help="side the backbone sees: 224 enlarges the 128 px crop (the probes' default), 128 reads it as it is")
    ap.add_argument("--judge-view", default="clean",
                    help="the view the validation crops are judged in: clean, or unband (the cropper's edge bands "
                         "painted grey, for heads fitted on unband or band<k> views)")
    ap.add_argument("--threads", type=int, default=None)
    return ap


class Features:
    """Cached features per (source, split, view), computed where missing (all eight groups; sliced)."""

    def __init__(self, input_size: int = 224):
        self.model, self.memo, self.crops, self.input_size = None, {}, {}, input_size

    def get(self, name: str, split: str, view: str, taps: int):
        if (name, split, view) not in self.memo:
            from tqdm.auto import tqdm

            from core.data import sources
            from core.detection.probe_fit import cached_features
            from core.models.detectors import CROP_SIZE
            from core.models.probe import ProbeDetector

            self.model = self.model or ProbeDetector(self.input_size, taps=len(WIDTHS)).eval()
            if (name, split) not in self.crops:  # read once per source and split, whatever the views
                self.crops[(name, split)] = sources.load_source(name, split, CROP_SIZE).crops
            crops = self.crops[(name, split)]
            self.memo[(name, split, view)] = cached_features(
                self.model, name, split, view, crops, progress=lambda it: tqdm(it, desc=f"{name} {split} {view}",
                                                                                leave=False))
        return self.memo[(name, split, view)][:, :sum(WIDTHS[:taps])]


def fit_without(feats: Features, names, labels, families, taps: int, c: float, views: list[str], left_out) -> dict:
    """The head fitted on every training source but `left_out`, in `views`, sources weighted as in the balanced
    batches (`core.detection.probe_fit.fit_head`'s tensors)."""
    import numpy as np

    from core.detection.probe_fit import fit_head, source_weights

    train = [n for n in names if n not in left_out]
    counts = {n: len(feats.get(n, "train", "clean", taps)) * len(views) for n in train}
    weights = source_weights(train, labels, families, counts)
    x = np.concatenate([feats.get(n, "train", v, taps) for n in train for v in views])
    y = np.concatenate([np.full(counts[n] // len(views), labels[n]) for n in train for _ in views])
    w = np.concatenate([np.full(counts[n] // len(views), weights[n]) for n in train for _ in views])
    return fit_head(x, y, w, c)


def fit_and_score(feats: Features, names, labels, families, taps, c, views, left_out, judge_view: str = "clean"):
    """Per judged source and check view: a fake source's AUC against all validation reals; a real source's AUC
    as the reals' side against all validation fakes, and the share of it called GAN-made at the threshold
    that calls 2% of the fitted reals so (how a real source the head never saw would fare)."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from core.detection.probe_fit import head_logits

    head = fit_without(feats, names, labels, families, taps, c, views, left_out)
    judged = left_out or [n for n in names if labels[n] == 1]
    out = {}
    for check in (("clean",) if left_out else ("clean", "jpeg75", "half")):
        shown = judge_view if check == "clean" else check  # the crops as judged: clean, or unbanded
        val = {n: head_logits(head, feats.get(n, "val", shown, taps)) for n in names}
        pooled = {k: np.concatenate([val[n] for n in names if labels[n] == k and n not in judged] or
                                    [val[n] for n in names if labels[n] == k]) for k in (0, 1)}
        for n in judged:
            other = pooled[1 - labels[n]]
            y_true = np.r_[np.zeros(len(other)), np.ones(len(val[n]))] if labels[n] else \
                np.r_[np.zeros(len(val[n])), np.ones(len(other))]
            scores = np.r_[other, val[n]] if labels[n] else np.r_[val[n], other]
            out[(check, n)] = float(roc_auc_score(y_true, scores))
            if not labels[n]:
                cut = max(np.quantile(val[r], 0.98) for r in names if labels[r] == 0 and r not in judged)
                out[("alarm", n)] = float((val[n] > cut).mean())
    return out


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    from core.data import sources

    names = sources.available(sources.names(), None)
    groups = [g.split("+") for g in args.leave_out]
    bad = [n for g in groups for n in g if n not in names]
    mixed = [g for g in groups if len({sources.get(n).truth for n in g if n in names}) > 1]
    if bad or mixed or any(not 1 <= t <= len(WIDTHS) for t in args.taps):
        why = (f"no source {', '.join(bad)} (have: {', '.join(names)})" if bad else
               "a group left out together must be all real or all fake" if mixed else "--taps must be 1-8")
        print(f"error: {why}", file=sys.stderr)
        return 2
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    labels = {n: int(sources.get(n).truth == "fake") for n in names}
    families = {n: sources.get(n).family for n in names}
    feats = Features(args.input_size)
    print(f"{'taps':>4} {'C':>6}  {'views':<16}" + "".join(f"{'LOO ' + g[0] + ('+' if len(g) > 1 else ''):>14}" for g in groups)
          + f"{'min AUC':>9}{'JPEG 75':>9}{'half':>7}")
    for taps in args.taps:
        for c in args.c:
            for views in args.views:
                vs = views.split(",")
                loo = []
                for g in groups:
                    got = fit_and_score(feats, names, labels, families, taps, c, vs, g, args.judge_view)
                    auc = min(v for (k, _), v in got.items() if k == "clean")
                    alarm = max((v for (k, _), v in got.items() if k == "alarm"), default=None)
                    loo.append(f"{auc:.3f}" + (f" ({alarm:.0%})" if alarm is not None else ""))
                full = fit_and_score(feats, names, labels, families, taps, c, vs, [], args.judge_view)
                worst = [min(v for (k, _), v in full.items() if k == check) for check in ("clean", "jpeg75", "half")]
                print(f"{taps:>4} {c:>6g}  {views:<16}" + "".join(f"{a:>14}" for a in loo)
                      + f"{worst[0]:>9.3f}{worst[1]:>9.3f}{worst[2]:>7.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
