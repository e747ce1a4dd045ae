"""Write generated faces as PNG files, one per face.

    python -m train.sample --model dcgan-64 --n 64 --seed 0 --out samples/
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from PIL import Image

from core.gan.sampling import generate, sample_latents
from core.models import registry


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="dcgan-64", help=f"one of: {', '.join(registry.names('generator'))}")
    ap.add_argument("--n", type=int, default=64, help="number of faces")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--truncation", type=float, default=None, help="truncation trick: redraw latent values beyond ±t, then rescale z to its usual length (0.5-2.0)")
    ap.add_argument("--out", type=Path, required=True, help="folder for the PNG files")
    ap.add_argument("--offline", action="store_true", help="skip the Hub, use bundled weights")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    try:
        loaded = registry.load(args.model, use_hub=not args.offline)
    except (registry.UnknownModelError, registry.WeightsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    z = sample_latents(args.n, loaded.config["nz"], args.seed, args.truncation)
    faces = generate(loaded.model, z)
    args.out.mkdir(parents=True, exist_ok=True)
    for i, face in enumerate(faces):
        Image.fromarray(face).save(args.out / f"{args.model}-seed{args.seed}-{i:05d}.png")
    print(f"wrote {len(faces)} faces ({faces.shape[2]}x{faces.shape[1]}) to {args.out} "
          f"in {time.perf_counter() - started:.1f} s; weights: {loaded.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
