"""How far the ensemble's validation figures flatter it: the weights and the false-alarm guard are fitted
on the very validation faces they are then scored on. This refits them on one half of each source's
faces and scores the other half (and the other way round), from a scores CSV of `train.evaluate`:

    python -m train.evaluate --split val --scores runs/val-scores.csv --threads 2
    python -m train.crossfit runs/val-scores.csv

Prints, per source, the share called GAN-made (real sources: false alarms; fake sources: caught) and
each fake source's AUC against all the real faces, in-sample (fitted on all of them) beside
out-of-fold (every face scored by an ensemble fitted without it). Needs no model: only the CSV.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from core.detection.judge import (
    FALSE_ALARM_TARGET,
    UNCERTAIN_BAND,
    fit_ensemble_weights,
    fit_false_alarm_shift,
    shifted,
)

NOT_DETECTORS = ("path", "truth", "source", "ensemble", "verdict", "real-only", "verdict-score")


def read_scores(path: Path) -> tuple[list[str], np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(sources, truths, fake labels, detector -> probabilities) of a `train.evaluate --scores` CSV."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path} has no rows")
    dets = [c for c in rows[0] if c not in NOT_DETECTORS]
    if not dets:
        raise ValueError(f"{path} has no detector columns")
    sources = [r["source"] for r in rows]
    truth = np.array([r["truth"] for r in rows])
    return sources, truth, (truth == "fake").astype(float), {d: np.array([float(r[d]) for r in rows]) for d in dets}


def fit(probs: dict[str, np.ndarray], y: np.ndarray, sources: np.ndarray, idx: np.ndarray, hi: float):
    """Ensemble weights (every source weighing alike within its class) and guard, fitted on rows `idx`."""
    src, yy = sources[idx], y[idx]
    per_class = {t: len({s for s, v in zip(src, yy, strict=True) if v == t}) for t in (0.0, 1.0)}
    counts = {s: (src == s).sum() for s in set(src)}
    sw = np.array([1.0 / counts[s] / per_class[v] for s, v in zip(src, yy, strict=True)])
    weights, _ = fit_ensemble_weights({d: p[idx] for d, p in probs.items()}, yy, sw)
    mean = sum(w * probs[d][idx] for d, w in weights.items())
    shift = fit_false_alarm_shift({s: mean[(src == s) & (yy == 0)] for s in counts}, hi, FALSE_ALARM_TARGET)
    return weights, shift


def score(probs, weights, shift, idx) -> np.ndarray:
    return shifted(sum(w * probs[d][idx] for d, w in weights.items()), shift)


def table(ens: np.ndarray, y: np.ndarray, sources: np.ndarray, hi: float) -> dict[str, tuple[float, float | None]]:
    """source -> (share above `hi`, AUC against all the reals for a fake source, else None)."""
    from sklearn.metrics import roc_auc_score

    reals = ens[y == 0]
    out = {}
    for s in dict.fromkeys(sources):
        m = sources == s
        auc = None
        if y[m][0] == 1:
            auc = float(roc_auc_score(np.r_[np.zeros(len(reals)), np.ones(m.sum())], np.r_[reals, ens[m]]))
        out[s] = (float((ens[m] > hi).mean()), auc)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scores", type=Path, help="a CSV written by train.evaluate --scores")
    args = ap.parse_args(argv)
    try:
        src_list, _, y, probs = read_scores(args.scores)
    except (OSError, ValueError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    sources, hi = np.array(src_list), UNCERTAIN_BAND[1]
    everything = np.arange(len(y))
    w_all, s_all = fit(probs, y, sources, everything, hi)
    inside = score(probs, w_all, s_all, everything)
    fold = np.zeros(len(y), int)
    for s in set(src_list):  # alternate faces within each source: both halves hold every source
        fold[np.flatnonzero(sources == s)[1::2]] = 1
    outside = np.zeros(len(y))
    for k in (0, 1):
        w, s = fit(probs, y, sources, np.flatnonzero(fold != k), hi)
        outside[fold == k] = score(probs, w, s, np.flatnonzero(fold == k))
        print(f"fold {k}: weights {w}, shift {s:.2f}")
    print(f"all: weights {w_all}, shift {s_all:.2f}")
    a, b = table(inside, y, sources, hi), table(outside, y, sources, hi)
    print(f"\n{'source':<18}{'truth':<6}{'GAN-made in-sample':>20}{'out-of-fold':>13}{'AUC in-sample':>15}{'out-of-fold':>13}")
    for s in a:
        fake = a[s][1] is not None
        print(f"{s:<18}{'fake' if fake else 'real':<6}{a[s][0]:>20.1%}{b[s][0]:>13.1%}"
              + (f"{a[s][1]:>15.4f}{b[s][1]:>13.4f}" if fake else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
