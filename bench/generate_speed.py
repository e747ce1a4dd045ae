"""How fast the app answers: model load, a grid of faces, and the sampling CLI's PNG writing.

    python -m bench.generate_speed [--repeats 20]

Prints one table; figures are wall-clock seconds on this machine (CPU unless CUDA is present).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from core.gan.sampling import encode_png_fast, generate, make_grid, sample_latents
from core.models import registry


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q / 100 * (len(xs) - 1)))]


def grid_times(loaded: registry.LoadedModel, n: int, repeats: int) -> list[float]:
    """Seconds to generate `n` faces and PNG-encode their grid (8 a row) as the Generate page does (one
    lossless encoding, shown and downloaded), once per seed 0..repeats-1."""
    times = []
    for r in range(repeats):
        t = time.perf_counter()
        faces = generate(loaded.model, sample_latents(n, loaded.config["nz"], r))
        encode_png_fast(make_grid(faces, nrow=8))
        times.append(time.perf_counter() - t)
    return times


def measure_generator(name: str, repeats: int = 20, sizes=(1, 36, 64)) -> dict:
    """Load time and p50/p95 ms of a grid of each size for one generator, from its bundled weights.

    Raises registry.WeightsError when the generator has no weights yet.
    """
    t0 = time.perf_counter()
    loaded = registry.load(name, use_hub=False)
    load_s = time.perf_counter() - t0
    grid_times(loaded, sizes[0], 1)  # warm-up: the first call pays for one-off allocations
    times = {n: grid_times(loaded, n, repeats) for n in sizes}
    return {"model": name, "load_s": load_s,
            **{f"grid{n}_p50_ms": 1000 * statistics.median(ts) for n, ts in times.items()},
            **{f"grid{n}_p95_ms": 1000 * pct(ts, 95) for n, ts in times.items()}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    rows, missing = [], []
    for name in registry.names("generator"):
        try:
            rows.append(measure_generator(name, args.repeats))
        except registry.WeightsError:
            missing.append(name)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "train.sample", "--model", "dcgan-64", "--n", "256",
                        "--out", tmp, "--offline"], check=True, capture_output=True)
        cli_s = time.perf_counter() - t
        n_png = len(list(Path(tmp).glob("*.png")))
    device = "cuda" if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    print(f"machine: {platform.machine()} {device}, torch {torch.__version__}")
    print(f"{'model':<16}{'load s':>8}{'1 face p50/p95 ms':>20}{'36 faces p50/p95 ms':>22}{'64 faces p50/p95 ms':>22}")
    for r in rows:
        print(f"{r['model']:<16}{r['load_s']:>8.2f}"
              + "".join(f"{r[f'grid{n}_p50_ms']:>12.0f} / {r[f'grid{n}_p95_ms']:<6.0f}" for n in (1, 36, 64)))
    if missing:
        print(f"no weights yet, not measured: {', '.join(missing)}")
    print(f"train.sample --n 256 (process start to {n_png} PNGs on disk): {cli_s:.1f} s")
    if args.json:
        args.json.write_text(json.dumps({"generators": rows, "sample_cli_256_s": cli_s, "device": device}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
