"""Evaluate the detectors on folders of real and of GAN-made images, as a user's photos would be seen.

    python -m train.sample --model dcgan-64-z60 --n 600 --seed 7 --out /tmp/heldout
    python -m train.evaluate --real ../shared/data/celeba/val --fake /tmp/heldout \\
        --json runs/eval-heldout.json --gallery runs/eval-heldout.png

Folders are read recursively (JPEG, PNG, WebP, BMP, GIF; any size). Each image goes through the
app's own path: open (EXIF rotation, alpha, CMYK...), down-scale if huge, find faces with MTCNN,
crop. The most confident face of each image is judged; unreadable files and images without a face
are counted and skipped. Per detector (and the ensemble) it prints: count, accuracy at 0.5, ROC AUC,
average precision, equal error rate, expected calibration error, and AUC and accuracy after the
crops are re-encoded as JPEG at quality 75. The gallery shows the most confident mistakes.
`--record LABEL` stores the figures in each detector's training.json under evaluation[LABEL]
(the model cards and the Training History page read them from there).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

JPEG_QUALITY = 75


def read_folder(folder: Path, judge, limit: int | None, desc: str):
    """Crops of the best face of each image under `folder`; counts of unreadable and face-less files."""
    import numpy as np
    from tqdm.auto import tqdm

    from core.detect import fit_size
    from core.detectors import CROP_SIZE
    from core.faces import ImageError, list_images, open_image

    paths = list_images(folder)[:limit]
    crops, bad, no_face = [], 0, 0
    batch: list[np.ndarray] = []

    def flush():
        nonlocal no_face
        for faces in judge.find_faces(batch):
            if faces:
                crops.append(faces[0].crop)
            else:
                no_face += 1
        batch.clear()

    for p in tqdm(paths, desc=desc, leave=False):
        try:
            img, _ = fit_size(open_image(p))
        except ImageError:
            bad += 1
            continue
        batch.append(np.asarray(img))
        if len(batch) == 32:
            flush()
    if batch:
        flush()
    arr = np.stack(crops) if crops else np.zeros((0, CROP_SIZE, CROP_SIZE, 3), np.uint8)
    return arr, {"files": len(paths), "unreadable": bad, "no_face": no_face, "judged": len(crops)}


def jpeg_crops(crops, quality: int = JPEG_QUALITY):
    import numpy as np
    from PIL import Image

    from core.detectors import jpeg_roundtrip

    return np.stack([np.asarray(jpeg_roundtrip(Image.fromarray(c), quality)) for c in crops]) if len(crops) else crops


def gallery(crops, labels, probs, out: Path, k: int = 8) -> int:
    """The `k` most confident mistakes of each kind in one PNG: real called GAN, GAN called real."""
    import numpy as np
    from PIL import Image, ImageDraw

    from core.sampling import encode_image

    rows = []
    for truth in (0, 1):
        wrong = [i for i in range(len(labels)) if labels[i] == truth and (probs[i] >= 0.5) != bool(truth)]
        wrong.sort(key=lambda i: -abs(probs[i] - 0.5))
        rows.append(wrong[:k])
    scale, pad, head = 2, 4, 18
    cell = crops.shape[1] * scale if len(crops) else 96
    canvas = Image.new("RGB", (k * (cell + pad) + pad + 150, 2 * (cell + head + pad) + pad), "white")
    draw = ImageDraw.Draw(canvas)
    titles = ["real, called GAN", "GAN, called real"]
    for r, idx in enumerate(rows):
        y = pad + r * (cell + head + pad)
        draw.text((pad, y + cell // 2), titles[r] + ("" if idx else ": none"), fill="black")
        for j, i in enumerate(idx):
            x = 150 + pad + j * (cell + pad)
            canvas.paste(Image.fromarray(crops[i]).resize((cell, cell), Image.NEAREST), (x, y))
            draw.text((x, y + cell + 2), f"p={probs[i]:.2f}", fill="black")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(encode_image(np.asarray(canvas)))
    return sum(len(r) for r in rows)


def evaluate(judge, real_crops, fake_crops) -> dict:
    """Scores per detector and for the ensemble, clean and after JPEG re-encoding."""
    import numpy as np

    from core.metrics import confusion, detector_scores, roc_points

    crops = np.concatenate([real_crops, fake_crops])
    labels = np.r_[np.zeros(len(real_crops), int), np.ones(len(fake_crops), int)]
    clean = judge.probabilities(crops)
    clean["ensemble"] = judge.ensemble(clean)
    jpeg = judge.probabilities(jpeg_crops(crops))
    jpeg["ensemble"] = judge.ensemble(jpeg)
    results = {}
    for name in clean:
        r = detector_scores(labels, clean[name])
        j = detector_scores(labels, jpeg[name])
        r.update(jpeg75_auc=j["auc"], jpeg75_accuracy=j["accuracy"], real=int(len(real_crops)),
                 fake=int(len(fake_crops)), confusion=confusion(labels, clean[name]))
        if r["auc"] is not None:
            r["roc"] = roc_points(labels, clean[name])
        results[name] = r
    return {"results": results, "labels": labels, "probs": clean, "crops": crops}


def fmt(v) -> str:
    return "-" if v is None else f"{v:.4f}"


def main(argv=None) -> int:
    from core import registry
    from core.detect import Judge

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", type=Path, required=True, help="folder of real photos (recursive)")
    ap.add_argument("--fake", type=Path, required=True, help="folder of GAN-made images (recursive)")
    ap.add_argument("--detectors", nargs="+", default=registry.names("detector"))
    ap.add_argument("--limit", type=int, default=None, help="at most N images per folder")
    ap.add_argument("--json", type=Path, default=None, help="write all figures here")
    ap.add_argument("--gallery", type=Path, default=None, help="PNG of the most confident mistakes")
    ap.add_argument("--record", metavar="LABEL", default=None,
                    help="store the figures in weights/<detector>/training.json under this label")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    for folder in (args.real, args.fake):
        if not folder.is_dir():
            print(f"error: {folder} is not a folder", file=sys.stderr)
            return 2
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    try:
        judge = Judge.from_registry(args.detectors, use_hub=False)
    except (registry.WeightsError, registry.UnknownModelError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    real, real_counts = read_folder(args.real, judge, args.limit, "real")
    fake, fake_counts = read_folder(args.fake, judge, args.limit, "fake")
    for label, c in (("real", real_counts), ("fake", fake_counts)):
        print(f"{label}: {c['files']} files, {c['unreadable']} unreadable (skipped), "
              f"{c['no_face']} without a face (skipped), {c['judged']} judged")
    if not len(real) and not len(fake):
        print("error: no faces to judge", file=sys.stderr)
        return 2
    ev = evaluate(judge, real, fake)
    print(f"\n{'detector':<10}{'count':>7}{'accuracy':>10}{'ROC AUC':>9}{'AP':>8}{'EER':>8}{'ECE':>8}"
          f"{'AUC jpeg75':>12}{'acc jpeg75':>12}")
    for name, r in ev["results"].items():
        print(f"{name:<10}{r['count']:>7}{fmt(r['accuracy']):>10}{fmt(r['auc']):>9}{fmt(r['average_precision']):>8}"
              f"{fmt(r['eer']):>8}{fmt(r['ece']):>8}{fmt(r['jpeg75_auc']):>12}{fmt(r['jpeg75_accuracy']):>12}")
    if args.gallery:
        n = gallery(ev["crops"], ev["labels"], ev["probs"]["ensemble"], args.gallery)
        print(f"gallery of {n} mistakes -> {args.gallery}")
    summary = {"real": str(args.real), "fake": str(args.fake), "counts": {"real": real_counts, "fake": fake_counts},
               "results": ev["results"]}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    if args.record:
        record(args.record, summary, args.detectors)
    return 0


def record(label: str, summary: dict, detectors: list[str]) -> None:
    """Keep the figures with each bundled detector (training.json) and refresh its model card."""
    from core import registry
    from core.cards import write_card
    from core.store import read_json, write_json

    for name in detectors:
        spec = registry.get_spec(name)
        folder = spec.bundled_dir
        training = read_json(folder / "training.json", {}) or {}
        r = {k: v for k, v in summary["results"][name].items()}
        r["ensemble"] = {k: summary["results"]["ensemble"][k] for k in ("accuracy", "auc", "jpeg75_accuracy", "ece")}
        r["sources"] = {"real": summary["real"], "fake": summary["fake"]}
        training.setdefault("evaluation", {})[label] = r
        write_json(folder / "training.json", training)
        config = read_json(folder / "config.json", {})
        write_card(folder, spec, config, training)
    print(f"recorded as {label!r} in {', '.join(f'weights/{d}/training.json' for d in detectors)}")


if __name__ == "__main__":
    sys.exit(main())
