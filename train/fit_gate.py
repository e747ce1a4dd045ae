"""Fit the verdict's real-only gate on the real validation faces and keep it in weights/ensemble.json.

    python -m train.fit_gate --threads 2              # the bundled detectors, real-only detector and ensemble
    python -m train.fit_gate --target 0.10            # at most 10% of any real source kept from "real"

The gate (`core.detection.judge.gate_score`): a face whose unusualness (`core.detection.judge.unusualness`:
the real-only score, the share of real faces more probable than it under `core.detection.realonly`, combined
with the ensemble's rank among the real validation faces) reaches the threshold cannot be called real. The
real faces' ensemble scores are kept beside the threshold (201 quantiles) for that rank. The threshold is
the lowest one at which no real source of the validation mix has more than `--target` of its faces kept
from a "real" verdict by the gate, the familiarity check and the ensemble together; a source that the
ensemble and the familiarity check alone already keep from "real" more often than that gets nothing more
from the gate, rather than shutting it for every face (`core.detection.judge.fit_real_gate`). Only real
faces are read: no generated face sets it.
"""

from __future__ import annotations

import argparse
import sys


def parser() -> argparse.ArgumentParser:
    from core.detection.judge import REAL_NOT_REAL_TARGET

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", type=float, default=REAL_NOT_REAL_TARGET,
                    help="largest share of any real source's validation faces not called real")
    ap.add_argument("--dry-run", action="store_true", help="fit on 8 faces per source and write nothing")
    ap.add_argument("--threads", type=int, default=None)
    return ap


REFERENCE_POINTS = 201  # quantiles of the real faces' ensemble scores kept in ensemble.json


def real_inputs(judge, crops) -> tuple:
    """(guarded ensemble, real-only scores, unfamiliar flags) of some real crops, as the app computes them."""
    import numpy as np

    probs, dist = judge.probabilities_and_distances(crops)
    ens = judge.ensemble(probs)
    unfamiliar = np.zeros(len(crops), bool) if dist is None else np.asarray(dist) > judge.familiarity.threshold
    return ens, judge.real_quantiles(crops), unfamiliar


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    import numpy as np
    import torch

    from core.data import sources
    from core.detection.judge import (
        Judge,
        ensemble_path,
        fit_real_gate,
        gate_score,
        real_rank,
        unusualness,
        verdict_scores,
    )
    from core.io.store import read_json, write_json
    from core.models.detectors import CROP_SIZE

    if args.threads:
        torch.set_num_threads(args.threads)
    judge = Judge.from_registry(use_hub=False)
    if judge.realonly is None:
        print("error: no real-only detector in weights/realonly (python -m train.realonly, then "
              "python -m train.bundle --run runs/realonly --name realonly)", file=sys.stderr)
        return 2
    real = {}
    for name in sources.available(sources.names("real")):
        crops = sources.load_source(name, "val", CROP_SIZE, limit=8 if args.dry_run else None).crops
        parts = [real_inputs(judge, crops[i:i + 256]) for i in range(0, len(crops), 256)]
        real[name] = tuple(np.concatenate(p) for p in zip(*parts, strict=True))
    if not real:
        print("error: no real validation faces here (python -m train.detector_data)", file=sys.stderr)
        return 2
    reference = np.quantile(np.concatenate([e for e, _, _ in real.values()]), np.linspace(0, 1, REFERENCE_POINTS))
    inputs = {n: (e, unusualness(q, real_rank(e, reference)), u) for n, (e, q, u) in real.items()}
    t = fit_real_gate(inputs, judge.band, args.target)
    for name, (e, q, u) in inputs.items():
        s = verdict_scores(e, gate_score(q, t, judge.band), u, judge.band)
        print(f"{name:<10} {len(e):>5} faces: called real {np.mean(s < judge.band[0]):.1%}, uncertain "
              f"{np.mean((s >= judge.band[0]) & (s <= judge.band[1])):.1%}, GAN-made {np.mean(s > judge.band[1]):.1%}; "
              f"beyond the gate {np.mean(q >= t):.1%}")
    print(f"real-only gate: {t:.4f}")
    if args.dry_run:
        return 0
    data = read_json(ensemble_path(), {}) or {}
    data["real_gate"] = {
        "threshold": t, "target": args.target, "realonly_sha256": judge.realonly_record.get("weights_sha256"),
        "realonly_features_sha256": judge.realonly_features_record.get("weights_sha256"),
        "ensemble_reference": [round(float(v), 6) for v in reference],
        "fitted_on": "validation crops of " + ", ".join(real),
        "method": "unusualness: the real-only score (share of real faces more probable) and the ensemble's rank among "
                  "the real validation faces (ensemble_reference: their scores at evenly spaced quantiles), combined "
                  "as independent p-values (Fisher); the threshold is the lowest unusualness at which no real source "
                  "has more than the target of its faces kept from a real verdict by the gate, the familiarity check "
                  "and the ensemble together; no generated face is read"}
    write_json(ensemble_path(), data)
    print(f"-> {ensemble_path()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
