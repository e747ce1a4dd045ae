"""How long a visitor waits for verdicts: photo bytes in, every face judged by all detectors out.

    python -m bench.detect_latency [--repeats 30] [--threads N] [--json OUT]

Times the Detect page's own path (decode with EXIF/alpha/CMYK handling, down-scale huge photos,
MTCNN, crop, every detector, ensemble) with the models warm, for three inputs: a 178x218 CelebA
photo, the same photo enlarged to 1024x1254 (a typical upload), and a 64x64 generated face.
Prints p50/p95 in milliseconds. Needs the shared CelebA photos (FACEGAN_CELEBA) and bundled detectors.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import time
from pathlib import Path

import torch
from PIL import Image

from core.data.caches import celeba_root
from core.detection.judge import Judge
from core.gan.sampling import encode_image, generate, sample_latents
from core.io.images import jpeg_quality, list_images, open_upload
from core.models import registry


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q / 100 * (len(xs) - 1)))]


def jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def bench_inputs() -> dict[str, bytes]:
    """The three uploads timed: a CelebA photo, the same enlarged, and a generated face."""
    photo = Image.open(list_images(celeba_root() / "val")[0]).convert("RGB")
    gen = registry.load("dcgan-64", use_hub=False)
    return {
        "CelebA photo 178x218": jpeg(photo),
        "photo enlarged to 1024x1254": jpeg(photo.resize((1024, 1254), Image.BICUBIC)),
        "generated face 64x64 (PNG)": encode_image(generate(gen.model, sample_latents(1, gen.config["nz"], 5))[0]),
    }


def verdict_times(judge: Judge, data: bytes, repeats: int, warmup: int = 3) -> tuple[list[float], int]:
    """Seconds from upload bytes to every face's verdicts, `repeats` times, and the number of faces."""
    for _ in range(warmup):
        judge.judge(open_upload(data)[0], jpeg_quality=jpeg_quality(data))
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        verdict = judge.judge(open_upload(data)[0], jpeg_quality=jpeg_quality(data))
        times.append(time.perf_counter() - t)
    return times, len(verdict.faces)


def measure(judge: Judge, inputs: dict[str, bytes], repeats: int = 30) -> list[dict]:
    """One row per input: faces found and p50/p95 ms."""
    rows = []
    for label, data in inputs.items():
        times, faces = verdict_times(judge, data, repeats)
        rows.append({"input": label, "faces": faces, "p50_ms": 1000 * pct(times, 50), "p95_ms": 1000 * pct(times, 95)})
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads (default torch's: every core). On a busy machine 1 is steadier: a parallel "
                         "region that waits for a core another process holds can take ten times as long")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    judge = Judge.from_registry(use_hub=False)
    load_s = time.perf_counter() - t0
    rows = measure(judge, bench_inputs(), args.repeats)
    print(f"detectors: {', '.join(judge.detectors)}; loaded with MTCNN in {load_s:.2f} s; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
    print(f"{'input':<32}{'faces':>6}{'p50 ms':>9}{'p95 ms':>9}")
    for r in rows:
        print(f"{r['input']:<32}{r['faces']:>6}{r['p50_ms']:>9.0f}{r['p95_ms']:>9.0f}")
    if args.json:
        args.json.write_text(json.dumps({"load_s": load_s, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
