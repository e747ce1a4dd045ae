"""Quality figures for the generators: how often MTCNN finds a face in their samples.

    python -m train.evaluate_generators [--models dcgan-64] [--n 256] [--json out.json] [--record]
    python -m train.evaluate_generators --models dcgan-64 --run runs/dcgan-bf16 --like dcgan-64   # a run beside it

Samples are upscaled to 160 px and counted as faces when facenet-pytorch's MTCNN (weights ship
with the package) finds one with probability >= --threshold. The same figure for real validation
crops is printed as the ceiling. KID (kernel inception distance) compares the samples with real
validation crops on the features of MTCNN's ONet, with real training crops against the same
validation crops as the floor; also pixel diversity and a memorisation check.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from core.data.caches import real_crops_for
from core.detection.faces import FaceDetector
from core.gan.quality import evaluate_generator
from core.models import registry


def record_quality(name: str, quality: dict) -> None:
    """Put the figures into weights/<name>/training.json and rewrite the model card from it."""
    from core.models.folder import update_record

    spec = registry.get_spec(name)
    update_record(spec.bundled_dir, lambda t: t.update(quality=quality), spec=spec)
    print(f"recorded in {spec.bundled_dir / 'training.json'} and {spec.bundled_dir / 'README.md'}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="*", default=registry.names("generator"), help="bundled models (none: only --run)")
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threshold", type=float, default=0.99)
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    ap.add_argument("--offline", action="store_true", help="bundled weights only")
    ap.add_argument("--run", type=Path, nargs="*", default=[], help="run folders to measure too (never recorded)")
    ap.add_argument("--like", default="dcgan-64", help="the bundled model whose recipe the --run folders follow")
    ap.add_argument("--record", action="store_true",
                    help="store the figures in each bundled model's training.json and rewrite its model card")
    args = ap.parse_args(argv)
    detector = FaceDetector()
    results = {}
    for name in [*args.models, *args.run]:
        started = time.perf_counter()
        if isinstance(name, Path):  # a run folder, built as the bundled model it follows
            spec = registry.get_spec(args.like)
            model, config, _ = registry.load_folder(spec, name)
            loaded = None
            name, framing = str(name), spec.framing
        else:
            loaded = registry.load(name, use_hub=not (args.offline or args.record))  # --record: what is bundled
            model, config, framing = loaded.model, loaded.config, loaded.spec.framing
        crops = real_crops_for(framing, config["image_size"])
        if crops["train"] is None or crops["val"] is None:
            print(f"note: {name}: no real-crop ceiling, KID or memorisation check without the caches "
                  "(python -m train.prepare_data; LSGANs: --crop mtcnn --size 80)")
        results[name] = evaluate_generator(model, config["nz"], detector, args.n, args.seed,
                                           args.threshold, train=crops["train"], real=crops["val"])
        results[name]["seconds"] = round(time.perf_counter() - started, 1)
        if args.record and loaded is not None:
            record_quality(name, {k: v for k, v in results[name].items() if k != "seconds"})
    print(f"\n{'model':<16}{'n':>5}{'faces found':>13}{'real crops':>12}{'KID x1000':>16}{'diversity':>11}"
          f"{'nearest train photo':>21}{'near-copies':>13}")
    for name, r in results.items():
        m = r.get("memorisation", {})
        real_rate = f"{r['real_face_found_rate']:.1%}" if "real_face_found_rate" in r else "-"
        div = f"{r['diversity_vs_real']:.2f}" if "diversity_vs_real" in r else "-"
        nearest = (f"{m['sample_to_train_median']:.3f} (train {m['train_to_train_median']:.3f})" if m else "-")
        kid = (f"{1000 * r['kid']:.2f}+-{1000 * r['kid_std']:.2f}" if "kid" in r else "-")
        print(f"{name:<16}{r['n']:>5}{r['face_found_rate']:>13.1%}{real_rate:>12}{kid:>16}{div:>11}{nearest:>21}"
              f"{m.get('near_copies', '-'):>13}")
    floor = next((r["kid_real_vs_real"] for r in results.values() if "kid_real_vs_real" in r), None)
    print(f"faces found: MTCNN probability >= {args.threshold} after upscaling to 160 px. KID: kernel inception "
          "distance to real val crops on MTCNN-ONet features (0 = alike"
          + (f"; real train crops vs val: {1000 * floor:.2f}" if floor is not None else "") + "). diversity: mean pairwise "
          "pixel distance of samples / of real val crops. nearest train photo: median RMS pixel distance of a "
          "sample to its nearest training photo (or mirror), with the same for training photos among themselves; "
          "near-copies: samples nearer than 99% of training photos are to each other.")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
