"""Fit how the bundled detectors' probabilities become the verdict, on every source's validation crops.

    python -m train.fit_ensemble --threads 2     # then python -m train.fit_gate, then train.evaluate --record
    python -m train.fit_ensemble --dry-run       # 8 faces per source: prints what it would write, writes nothing

Fits (core.detection.ensemble_fit) the ensemble's two weight sets and false-alarm guards, one for every
upload and one for JPEGs saved below quality COMPRESSED_BELOW (on the crops and their JPEG-90, JPEG-75 and
half-scale copies), and the familiarity check on the CNN's features of the same crops. Writes
weights/ensemble.json, keeping every entry it does not fit (train.fit_gate's "real_gate"), and
weights/familiarity.safetensors. The real-only gate is fitted on this ensemble and this familiarity check, so
refit it next (`python -m train.fit_gate`), then measure: `python -m train.evaluate --split val --record
"validation mix"`. Weights and guards are fitted on the crops the figures are measured on; `python -m
train.crossfit` says how much that flatters them. The crops are the caches of `python -m train.detector_data`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DRY_RUN_FACES = 8  # per source: enough for every step to run, far too few for figures
NEXT = ('python -m train.fit_gate --threads 2 (the real-only gate is fitted on the ensemble and the familiarity '
        'check), then python -m train.evaluate --split val --record "validation mix"')


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dry-run", action="store_true",
                    help=f"fit on {DRY_RUN_FACES} faces per source; print what would be written, write nothing")
    ap.add_argument("--data", type=Path, default=None, help="shared data folder (default ../shared/data)")
    ap.add_argument("--cache-dir", type=Path, default=None, help="the crop caches (default data/detector)")
    ap.add_argument("--threads", type=int, default=None)
    return ap


def validation_sources(judge, args) -> list[dict]:
    """Every source's validation crops (reals first, then fakes, as train.evaluate --split val orders them)."""
    from tqdm.auto import tqdm

    from core.data import sources
    from core.models.detectors import CROP_SIZE

    out = []
    for name in sources.available(sources.names(), args.data):
        c = sources.load_source(name, "val", CROP_SIZE, judge.face_detector, args.cache_dir, args.data,
                                limit=DRY_RUN_FACES if args.dry_run else None, progress=tqdm)
        out.append({"name": name, "truth": sources.get(name).truth, "crops": c.crops, "n": len(c.crops)})
    return [s for s in out if s["truth"] == "real"] + [s for s in out if s["truth"] == "fake"]


def bundled_record(path: Path) -> dict:
    """ensemble.json as it is now ({} when there is none); an unreadable one is named and replaced."""
    from core.io.store import read_json

    try:
        data = read_json(path, {}) or {}
    except ValueError:
        data = None
    if not isinstance(data, dict):
        print(f"note: {path} cannot be read; it is replaced by what is fitted now", file=sys.stderr)
        return {}
    return data


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    import numpy as np
    import torch

    from core.detection import ensemble_fit
    from core.detection.judge import FAMILIARITY_DETECTOR, Judge, ensemble_path, familiarity_path
    from core.io.store import write_json
    from core.models import registry

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        judge = Judge.from_registry(use_hub=False)
    except (registry.WeightsError, registry.UnknownModelError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    ordered = validation_sources(judge, args)
    if not all(any(s["n"] for s in ordered if s["truth"] == t) for t in ("real", "fake")):
        print("error: no validation faces of real and of GAN-made sources here (python -m train.detector_data)",
              file=sys.stderr)
        return 2
    crops = np.concatenate([s["crops"] for s in ordered])
    names = ", ".join(s["name"] for s in ordered)
    print(f"{len(crops)} validation faces of {names}; fitting on them as they are and as "
          f"{', '.join(ensemble_fit.COMPRESSED_VIEWS[1:])}")
    fitted = ensemble_fit.fit_ensemble(judge, ordered, crops)
    familiarity = ensemble_fit.fit_familiarity(judge, crops)
    c = fitted["compressed"]
    print(f"ensemble weights {fitted['weights']} (log loss {fitted['log_loss']:.4f}), false-alarm shift "
          f"{fitted['shift']:.2f}; for compressed JPEGs {c['weights']} (log loss {c['log_loss']:.4f}), "
          f"shift {c['shift']:.2f}")
    if familiarity is None:
        print(f"no familiarity check: no {FAMILIARITY_DETECTOR} detector")
    else:
        print(f"familiarity check: {FAMILIARITY_DETECTOR} features, distance threshold {familiarity.threshold:.2f} "
              f"({familiarity.quantile:.0%} of held-out validation faces are within it)")
    record = bundled_record(ensemble_path())
    kept = [k for k in record if k not in fitted]
    record.update(fitted)
    if args.dry_run:
        print("dry run: nothing written." + (f" Kept as it was: {', '.join(kept)}." if kept else "")
              + f" {ensemble_path()} would read:\n{json.dumps(record, indent=2)}")
        if familiarity is not None:
            print(f"and {familiarity_path()} would hold the familiarity check above")
        return 0
    write_json(ensemble_path(), record)
    print(f"-> {ensemble_path()}" + (f" (kept as it was: {', '.join(kept)})" if kept else ""))
    if familiarity is not None:
        familiarity.save(familiarity_path(), fitted_on="validation crops of " + names)
        print(f"-> {familiarity_path()}")
    print(f"next: {NEXT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
