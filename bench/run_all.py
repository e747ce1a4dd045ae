"""Every speed and memory figure docs/benchmarks.md quotes, as one table (what `make bench` runs).

    python -m bench.run_all [--json bench/results.json] [--quick]

- cold start: `streamlit run` process start to the first page drawn in headless Chromium, median of 5:
  Home (/, the figure issue 37 asks <= 3 s), then the default grid of faces (/generate) (needs Debian's
  chromium; otherwise marked unavailable);
- 64 faces per generator: generate + PNG-encode the grid, p50/p95 (bench/generate_speed.py);
- one photo to all verdicts: upload bytes to every detector's verdict, p50/p95 (bench/detect_latency.py);
- training images/s over whole epochs, `train.dcgan` against the pytorch/examples recipe as shipped
  (bench/train_vs_reference.py; needs the CelebA photos and `make data`; ~17 min of the run);
- peak resident memory of a fresh process that loads every model, MTCNN and the age/gender
  labeller, generates a grid and judges a photo.

`--quick` takes fewer repeats (a smoke run, not figures to quote). Generators without weights yet
are listed as unavailable.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JSON = ROOT / "bench" / "results.json"
SERVER_MMAP_THRESHOLD = "131072"  # as the Makefile's `make run` sets it


def machine() -> dict:
    """CPU model, cores this process may use, memory, torch version and threads, GPU if any."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = None
    with contextlib.suppress(OSError, ValueError):
        mem_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    return {"cpu": cpu, "cores": len(os.sched_getaffinity(0)), "memory_gib": mem_gib, "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "python": platform.python_version(),
            # `make run` sets it (see the Makefile); in-process figures here are taken without it unless set
            "malloc_mmap_threshold": os.environ.get("MALLOC_MMAP_THRESHOLD_")}


def machine_line(m: dict) -> str:
    gpu = f"GPU {m['gpu']}" if m["gpu"] else "no GPU"
    return (f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {gpu}; torch {m['torch']} "
            f"({m['torch_threads']} threads), Python {m['python']}")


# ----------------------------------------------------------------------------- figures


def cold_start(runs: int, path: str) -> dict:
    """Seconds from starting `streamlit run` to page `path` drawn in Chromium, with its phases
    (bench/cold_start.py)."""
    from bench.cold_start import measure

    return measure(runs, path)


def faces_64(repeats: int) -> dict:
    """p50/p95 ms of 64 faces, generated and PNG-encoded as one grid, per generator, and the pure-PyTorch
    path's p50; in a fresh process with the malloc setting `make run` serves with (see the Makefile)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "faces.json"
        proc = subprocess.run([sys.executable, "-m", "bench.generate_speed", "--repeats", str(repeats), "--sizes", "64",
                               "--no-cli", "--json", str(path)], cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "MALLOC_MMAP_THRESHOLD_": SERVER_MMAP_THRESHOLD})
        if proc.returncode != 0 or not path.exists():
            return {"unavailable": (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}
        rows = {r["model"]: r for r in json.loads(path.read_text())["generators"]}
    from core.models import registry

    out = {}
    for name in registry.names("generator"):
        r = rows.get(name)
        out[name] = {"unavailable": "no weights yet"} if r is None else {
            "p50_ms": r["grid64_p50_ms"], "p95_ms": r["grid64_p95_ms"], "load_s": r["load_s"],
            "plain_p50_ms": r["plain64_p50_ms"], "other_cores": r["other_cores"]}
    return out


def verdicts(repeats: int) -> dict:
    """p50/p95 ms from one photo's bytes to all verdicts (CelebA photo, and the same enlarged)."""
    from bench.detect_latency import bench_inputs, measure
    from core.detection.judge import Judge

    judge = Judge.from_registry(use_hub=False)
    inputs = bench_inputs()
    rows = measure(judge, {k: v for k, v in inputs.items() if not k.startswith("generated")}, repeats)
    return {"detectors": list(judge.detectors), "rows": rows}


def training(quick: bool) -> dict:
    """Images/s over whole epochs, ours against the reference recipe, from bench/train_vs_reference.py's --json."""
    from bench import train_vs_reference

    flags = ["--repeats", "1", "--limit", "640"] if quick else ["--repeats", "3"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.json"
        log = io.StringIO()
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            rc = train_vs_reference.main([*flags, "--json", str(path)])
        if rc != 0 or not path.exists():
            return {"unavailable": log.getvalue().strip().splitlines()[-1] if log.getvalue().strip()
                    else f"train_vs_reference exited {rc}"}
        r = json.loads(path.read_text())
    return {k: r[k] for k in ("ours_images_per_s", "reference_images_per_s", "ratio", "photos", "ours_passes",
                              "reference_passes", "ours_bf16_images_per_s", "ratio_bf16", "ours_bf16_passes")
            if k in r}


def _peak_memory_child() -> None:
    """In a fresh process: load everything the app can hold, use it once, print ru_maxrss as JSON."""
    from core.data.attributes import predict_attributes
    from core.detection.judge import Judge
    from core.gan.sampling import encode_image, generate, make_grid, sample_latents
    from core.io.images import open_upload
    from core.models import registry

    loaded = {}
    for name in registry.names():
        try:
            loaded[name] = registry.load(name, use_hub=False)
        except registry.WeightsError:
            pass
    judge = Judge.from_loaded({n: m for n, m in loaded.items() if m.spec.kind == "detector"})
    for m in loaded.values():
        if m.spec.kind == "generator":
            faces = generate(m.model, sample_latents(64, m.config["nz"], 0))
            encode_image(make_grid(faces, nrow=8))
            predict_attributes(faces[:4])  # loads the age/gender labeller
    from bench.detect_latency import bench_inputs

    judge.judge(open_upload(bench_inputs()["photo enlarged to 1024x1254"])[0])
    print(json.dumps({"models": sorted(loaded), "ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


def peak_memory() -> dict:
    proc = subprocess.run([sys.executable, "-m", "bench.run_all", "--peak-memory-child"], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if proc.returncode != 0:
        return {"unavailable": (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"models": r["models"], "peak_rss_mib": r["ru_maxrss_kib"] / 1024}


# ----------------------------------------------------------------------------- table


def _ms(r: dict) -> str:
    return f"{r['p50_ms']:.0f} / {r['p95_ms']:.0f} ms"


def table(res: dict) -> list[tuple[str, str]]:
    rows = []
    for key, what in (("cold_start", "Home drawn"), ("cold_start_generate", "Generate's grid drawn (36 faces, dcgan-64)")):
        c = res[key]
        rows.append((f"cold start: `streamlit run` to {what} in Chromium",
                     c.get("unavailable") or (f"{c['median_s']:.1f} s (median of {len(c['runs']['drawn_s'])}; server up "
                                              f"{c['median_health_s']:.1f} s, page loaded {c['median_page_loaded_s']:.1f} s)")))
    faces = res["faces_64"]
    if "unavailable" in faces:
        rows.append(("64 faces, generate + PNG grid", faces["unavailable"]))
        faces = {}
    for name, r in faces.items():
        busy = "" if r.get("other_cores") is None else f"; others busy {r['other_cores']:.1f} cores"
        rows.append((f"64 faces, generate + PNG grid, `{name}`, p50 / p95 (pure PyTorch p50)",
                     r["unavailable"] if "unavailable" in r
                     else f"{_ms(r)} ({r['plain_p50_ms']:.0f} ms{busy})"))
    for r in res["verdicts"]["rows"]:
        rows.append((f"one photo to all verdicts ({r['input']}, JPEG), p50 / p95", _ms(r)))
    t = res["training"]
    if "unavailable" in t:
        rows.append(("training images/s, train.dcgan vs the pytorch/examples recipe", t["unavailable"]))
    else:
        rows.append((f"training images/s over whole epochs, train.dcgan vs the pytorch/examples recipe "
                     f"({t['photos']} photos, batch 64, median of {len(t['ours_passes'])})",
                     f"{t['ours_images_per_s']:.1f} vs {t['reference_images_per_s']:.1f} ({t['ratio']:.2f}x)"))
        if "ours_bf16_images_per_s" in t:
            rows.append(("the same, `train.dcgan --precision bfloat16` (AVX512-BF16; not bit-identical)",
                         f"{t['ours_bf16_images_per_s']:.1f} vs {t['reference_images_per_s']:.1f} "
                         f"({t['ratio_bf16']:.2f}x)"))
    m = res["peak_memory"]
    rows.append(("peak resident memory, every model + MTCNN + age/gender labeller loaded and used",
                 m.get("unavailable") or f"{m['peak_rss_mib']:.0f} MiB"))
    return rows


def print_table(res: dict) -> None:
    rows = table(res)
    w = max(len(a) for a, _ in rows)
    v = max(len(b) for _, b in rows)
    print(f"| {'figure':<{w}} | {'value':<{v}} |")
    print(f"|{'-' * (w + 2)}|{'-' * (v + 2)}|")
    for a, b in rows:
        print(f"| {a:<{w}} | {b:<{v}} |")
    print(f"\nmachine: {machine_line(res['machine'])}; the run took {res['wall_s']:.0f} s"
          + (" (--quick: not figures to quote)" if res["quick"] else ""))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write the figures (default: %(default)s)")
    ap.add_argument("--quick", action="store_true", help="fewer repeats: a smoke run")
    ap.add_argument("--peak-memory-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.peak_memory_child:
        _peak_memory_child()
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # bundled weights: the figures must not depend on a network
    started = time.perf_counter()
    steps = [("cold start", "cold_start", lambda: cold_start(1 if args.quick else 5, "/")),  # the median of 5
             ("cold start, Generate", "cold_start_generate", lambda: cold_start(1 if args.quick else 5, "/generate")),
             ("peak memory", "peak_memory", peak_memory),
             ("64 faces", "faces_64", lambda: faces_64(5 if args.quick else 20)),
             ("verdicts", "verdicts", lambda: verdicts(10 if args.quick else 30)),
             ("training", "training", lambda: training(args.quick))]
    res = {"machine": machine(), "quick": args.quick}
    for label, key, fn in steps:
        t = time.perf_counter()
        print(f"measuring {label}...", file=sys.stderr, flush=True)
        res[key] = fn()
        res.setdefault("step_s", {})[key] = time.perf_counter() - t
    res["wall_s"] = time.perf_counter() - started
    print_table(res)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=2) + "\n")
    print(f"figures written to {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
