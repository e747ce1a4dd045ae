"""Copy a finished run into weights/<name>/, measure it, and write its model card.

    python -m train.bundle --run runs/dcgan-64 --name dcgan-64

Copies model.safetensors, config.json, training.json, history.jsonl and snapshots/ (never the
checkpoint; detectors also spectra.json), adds for generators the MTCNN face-found figure for 256 samples and for 256 real validation crops
to training.json, and renders README.md (the model card).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from core.data.caches import real_crops_for
from core.detection.faces import FaceDetector
from core.gan.quality import evaluate_generator
from core.io.store import copy_file
from core.models import registry
from core.models.folder import MODEL_FILES, update_record
from core.models.history import HISTORY_FILE, SNAPSHOT_DIR

BUNDLE_FILES = [*MODEL_FILES, HISTORY_FILE]
DETECTOR_FILES = [*BUNDLE_FILES, "spectra.json"]


def bundle_detector(spec, run: Path, dest: Path) -> int:
    """Detectors: copy the files and write the card (figures come from train.evaluate --record)."""
    for f in DETECTOR_FILES:
        copy_file(run / f, dest / f)
    training = update_record(dest, spec=spec)  # the hash of the copied weights; the card from the record
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    print(f"bundled {run} -> {dest} ({size / 1e6:.1f} MB); validation accuracy {training.get('val_accuracy', 0):.4f}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, required=True, help="training run folder")
    ap.add_argument("--name", required=True, help=f"registry name: {', '.join(registry.names(comparison=None))}")
    ap.add_argument("--dest", type=Path, default=registry.WEIGHTS_DIR)
    ap.add_argument("--n", type=int, default=256, help="samples for the quality figure")
    args = ap.parse_args(argv)
    spec = registry.get_spec(args.name)
    dest = args.dest / args.name
    dest.mkdir(parents=True, exist_ok=True)
    if spec.kind == "detector":
        return bundle_detector(spec, args.run, dest)
    for f in BUNDLE_FILES:
        copy_file(args.run / f, dest / f)
    if (dest / SNAPSHOT_DIR).exists():
        shutil.rmtree(dest / SNAPSHOT_DIR)
    for snap in sorted((args.run / SNAPSHOT_DIR).iterdir()):
        copy_file(snap, dest / SNAPSHOT_DIR / snap.name)

    model, config, _ = registry.load_folder(spec, dest)
    crops = real_crops_for(spec.framing, config["image_size"])
    q = evaluate_generator(model, config["nz"], FaceDetector(), n=args.n, train=crops["train"], real=crops["val"])
    update_record(dest, lambda t: t.update(quality=q), spec=spec)
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    print(f"bundled {args.run} -> {dest} ({size / 1e6:.1f} MB); faces found: {q['face_found_rate']:.1%}"
          + (f" (real crops: {q['real_face_found_rate']:.1%})" if "real_face_found_rate" in q else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
