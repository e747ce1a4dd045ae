"""How fast the app answers: model load, a grid of faces, and the sampling CLI's PNG writing.

    python -m bench.generate_speed [--repeats 20]

Prints one table; figures are wall-clock seconds on this machine (CPU unless CUDA is present), with
the share of the CPU that other processes took meanwhile (a busy machine slows every figure). Run
it as `make run` serves (`MALLOC_MMAP_THRESHOLD_=131072`) to see the server's own figures.
"""

from __future__ import annotations

import argparse
import json
import os
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


def grid_times(loaded: registry.LoadedModel, n: int, repeats: int, frozen: bool = True) -> list[float]:
    """Seconds to generate `n` faces and PNG-encode their grid (8 a row) as the Generate page does (one
    lossless encoding, shown and downloaded), once per seed 0..repeats-1. `frozen=False`: through the
    generator's own layers (the pure-PyTorch path) instead."""
    times = []
    for r in range(repeats):
        t = time.perf_counter()
        faces = generate(loaded.model, sample_latents(n, loaded.config["nz"], r), frozen=frozen)
        encode_png_fast(make_grid(faces, nrow=8))
        times.append(time.perf_counter() - t)
    return times


class OtherLoad:
    """Cores that other processes kept busy while the block ran (from /proc/stat, less this process's
    own CPU time); None where /proc/stat is missing."""

    cores: float | None = None

    @staticmethod
    def _busy() -> float | None:
        try:
            v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError):
            return None
        return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait

    def __enter__(self):
        self._b, self._o, self._t = self._busy(), time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        busy = self._busy()
        if busy is not None and self._b is not None:
            own = time.process_time() - self._o
            self.cores = max(0.0, (busy - self._b - own) / (time.perf_counter() - self._t))


def measure_generator(name: str, repeats: int = 20, sizes=(1, 36, 64)) -> dict:
    """Load time and p50/p95 ms of a grid of each size for one generator, from its bundled weights.

    Raises registry.WeightsError when the generator has no weights yet.
    """
    t0 = time.perf_counter()
    loaded = registry.load(name, use_hub=False)
    load_s = time.perf_counter() - t0
    grid_times(loaded, max(sizes), 1)  # warm-up: the first call builds the frozen copy and its work memory
    with OtherLoad() as other:
        times = {n: grid_times(loaded, n, repeats) for n in sizes}
    plain = grid_times(loaded, max(sizes), max(3, repeats // 4), frozen=False)
    return {"model": name, "load_s": load_s,
            **{f"grid{n}_p50_ms": 1000 * statistics.median(ts) for n, ts in times.items()},
            **{f"grid{n}_p95_ms": 1000 * pct(ts, 95) for n, ts in times.items()},
            f"plain{max(sizes)}_p50_ms": 1000 * statistics.median(plain), "other_cores": other.cores}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 36, 64], help="grid sizes (default: %(default)s)")
    ap.add_argument("--no-cli", action="store_true", help="skip the train.sample timing")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    rows, missing = [], []
    for name in registry.names("generator"):
        try:
            rows.append(measure_generator(name, args.repeats, sizes=tuple(args.sizes)))
        except registry.WeightsError:
            missing.append(name)
    cli_s = n_png = None
    if not args.no_cli:
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "train.sample", "--model", "dcgan-64", "--n", "256",
                            "--out", tmp, "--offline"], check=True, capture_output=True)
            cli_s = time.perf_counter() - t
            n_png = len(list(Path(tmp).glob("*.png")))
    device = "cuda" if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    big = max(args.sizes)
    print(f"machine: {platform.machine()} {device}, torch {torch.__version__}, "
          f"MALLOC_MMAP_THRESHOLD_={os.environ.get('MALLOC_MMAP_THRESHOLD_', 'unset')}")
    print(f"{'model':<16}{'load s':>8}" + "".join(f"{f'{n} faces p50/p95 ms':>22}" for n in args.sizes)
          + f"{f'{big}, plain PyTorch p50':>23}{'others, cores':>15}")
    for r in rows:
        other = "n/a" if r["other_cores"] is None else f"{r['other_cores']:.2f}"
        print(f"{r['model']:<16}{r['load_s']:>8.2f}"
              + "".join(f"{r[f'grid{n}_p50_ms']:>14.0f} / {r[f'grid{n}_p95_ms']:<6.0f}" for n in args.sizes)
              + f"{r[f'plain{big}_p50_ms']:>20.0f} ms{other:>15}")
    if missing:
        print(f"no weights yet, not measured: {', '.join(missing)}")
    if cli_s is not None:
        print(f"train.sample --n 256 (process start to {n_png} PNGs on disk): {cli_s:.1f} s")
    if args.json:
        args.json.write_text(json.dumps({"generators": rows, "sample_cli_256_s": cli_s, "device": device,
                                         "malloc_mmap_threshold": os.environ.get("MALLOC_MMAP_THRESHOLD_")},
                                        indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
