"""Quality figures for the generators: how often MTCNN finds a face in their samples.

    python -m train.evaluate_generators [--models dcgan-64] [--n 256] [--json out.json]

Samples are upscaled to 160 px and counted as faces when facenet-pytorch's MTCNN (weights ship
with the package) finds one with probability >= --threshold. The same figure for real validation
crops is printed as the ceiling.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from core import registry
from core.data import cache_path, load_cache
from core.faces import FaceDetector
from core.quality import generator_face_rate, real_face_rate


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=registry.names("generator"))
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threshold", type=float, default=0.90)
    ap.add_argument("--real", type=Path, default=None,
                    help="cached real crops for the ceiling (default: data/celeba-center64-val.safetensors)")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    ap.add_argument("--offline", action="store_true", help="bundled weights only")
    args = ap.parse_args(argv)
    detector = FaceDetector()
    results = {}
    real_path = args.real or cache_path("val", 64)
    if real_path.exists():
        real = load_cache(real_path)[: args.n].numpy()
        results["real (val crops)"] = real_face_rate(real, detector, args.threshold)
    else:
        print(f"note: {real_path} missing, no real-crop ceiling (run python -m train.prepare_data)")
    for name in args.models:
        started = time.perf_counter()
        loaded = registry.load(name, use_hub=not args.offline)
        results[name] = generator_face_rate(loaded.model, loaded.config["nz"], detector, args.n,
                                            args.seed, args.threshold)
        results[name]["seconds"] = round(time.perf_counter() - started, 1)
    print(f"\n{'model':<22}{'n':>6}{'faces found':>14}{'median p':>11}")
    for name, r in results.items():
        print(f"{name:<22}{r['n']:>6}{r['face_found_rate']:>14.1%}{r['median_face_prob']:>11.4f}")
    print(f"(MTCNN probability >= {args.threshold}, images upscaled to 160 px)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
