"""Copy a finished run into weights/<name>/, measure it, and write its model card.

    python -m train.bundle --run runs/dcgan-64 --name dcgan-64
    python -m train.bundle --run runs/rerun/dcgan-64 --name dcgan-64 --discriminator   # its D alone

Copies model.safetensors, config.json, training.json, history.jsonl and snapshots/ (never the
checkpoint; face detectors also spectra.json), adds for generators the MTCNN face-found figure for 256 samples and for 256 real validation crops
to training.json, and renders README.md (the model card). A generator's run also leaves its final
discriminator (from checkpoint.pt, float16) in weights/<name>/discriminator/, for
`train.evaluate --discriminator` (core.models.discriminators). `--discriminator` bundles only that, from
another run of the same recipe, and keeps the bundled generator; its training.json says which run it is.
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
    """Detectors: copy the files and write the card (figures come from train.evaluate --record).

    A detector of another subject (the art detector: paintings, no face crops) has no spectra.json of face
    crops; its config.json says which subject it judges, and its figures come from its trainer's record.
    """
    faces = spec.subject == "faces"
    for f in DETECTOR_FILES if faces else BUNDLE_FILES:
        copy_file(run / f, dest / f)
    if not faces:
        from core.io.store import read_json, write_json

        write_json(dest / "config.json", {**read_json(dest / "config.json", {}), "subject": spec.subject})
    training = update_record(dest, spec=spec)  # the hash of the copied weights; the card from the record
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    print(f"bundled {run} -> {dest} ({size / 1e6:.1f} MB); validation accuracy {training.get('val_accuracy', 0):.4f}")
    return 0


def bundle_discriminator(spec, run: Path, dest: Path) -> int:
    """The run's final discriminator beside the generator's bundle: weights/<name>/discriminator/."""
    import torch

    from core.io.store import read_json
    from core.models import discriminators
    from core.models.folder import read_record, write_model

    ckpt = run / "checkpoint.pt"
    if not ckpt.exists():
        print(f"error: {ckpt} is missing: the trainer writes it at each epoch's end", file=sys.stderr)
        return 2
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    config = {**spec.config, **(read_json(run / "config.json", {}) or {}), **state.get("model_config", {})}
    framing = discriminators.framing_for(spec.framing)
    d_config = {k: config[k] for k in ("arch", "ndf", "nc", "image_size") if k in config}
    d_config.update(d_norm=config.get("d_norm", "batch"), loss=discriminators.loss_of(config.get("arch", "dcgan")),
                    framing={"name": spec.framing, "margin": framing.margin, "shift": list(framing.shift)})
    d = discriminators.build(d_config)
    d.load_state_dict(state["D"])
    run_record = read_record(run)
    pair_sha = run_record.get("weights_sha256")  # the run's exported generator, as its trainer recorded it
    bundled_sha = read_record(dest).get("weights_sha256")
    training = {k: run_record[k] for k in ("dataset", "train_images", "loss", "epochs_done", "epochs_planned", "steps",
                                          "images_seen", "wall_time_s", "images_per_s", "hardware", "train_config",
                                          "last_epoch_means", "finished", "precision") if k in run_record}
    training.update(run=str(run), step=state.get("step"), run_generator_sha256=pair_sha,
                    same_run_as_bundled_generator=bool(pair_sha) and pair_sha == bundled_sha)
    out = dest / discriminators.FOLDER
    out.mkdir(parents=True, exist_ok=True)
    write_model(d, out, d_config, training, half=True)
    if (dest / "model.safetensors").exists():  # the generator's card says what discriminator/ holds
        update_record(dest, spec=spec)
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print(f"discriminator of {run} (step {state.get('step')}) -> {out} ({size / 1e6:.1f} MB); "
          + ("the same run as the bundled generator" if training["same_run_as_bundled_generator"]
             else "another run than the bundled generator (same recipe)"))
    return 0


def bundle_realonly(run: Path, dest: Path) -> int:
    """The real-only detector (core.detection.realonly): its files, and its card from the record."""
    from core.io.cards import realonly_card
    from core.io.store import atomic_write_bytes, read_json
    from core.models.folder import read_record

    dest.mkdir(parents=True, exist_ok=True)
    for f in BUNDLE_FILES:
        copy_file(run / f, dest / f)
    card = realonly_card(read_record(dest), read_json(dest / "config.json", {}) or {},
                         read_record(dest / "features") or None)
    atomic_write_bytes(dest / "README.md", card.encode())
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    print(f"bundled {run} -> {dest} ({size / 1e3:.0f} kB)")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, required=True, help="training run folder")
    ap.add_argument("--name", required=True,
                    help=f"registry name: {', '.join(registry.names(comparison=None, subject=None))}, or realonly")
    ap.add_argument("--dest", type=Path, default=registry.WEIGHTS_DIR)
    ap.add_argument("--n", type=int, default=256, help="samples for the quality figure")
    ap.add_argument("--discriminator", action="store_true",
                    help="generators: bundle only the run's final discriminator, keeping the bundled generator")
    args = ap.parse_args(argv)
    if args.name == "realonly":
        return bundle_realonly(args.run, args.dest / args.name)
    code = bundle(args)
    if code == 0 and args.dest.resolve() == registry.WEIGHTS_DIR.resolve():
        from train.model_sizes import refresh

        refresh(args.name)  # so Home says its parameter count without loading it (and torch)
    return code


def bundle(args) -> int:
    """Bundle a model of the registry (not the real-only detector) from args.run into args.dest."""
    spec = registry.get_spec(args.name)
    dest = args.dest / args.name
    dest.mkdir(parents=True, exist_ok=True)
    if spec.kind == "detector":
        return bundle_detector(spec, args.run, dest)
    if args.discriminator:
        return bundle_discriminator(spec, args.run, dest)
    for f in BUNDLE_FILES:
        copy_file(args.run / f, dest / f)
    if (dest / SNAPSHOT_DIR).exists():
        shutil.rmtree(dest / SNAPSHOT_DIR)
    for snap in sorted((args.run / SNAPSHOT_DIR).iterdir()):
        copy_file(snap, dest / SNAPSHOT_DIR / snap.name)

    model, config, _ = registry.load_folder(spec, dest)
    if spec.subject == "abstract":  # paintings: FD/KID against held-out paintings, no face figures
        from train.evaluate_abstract import main as evaluate_abstract

        evaluate_abstract(["--record"])
        size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
        print(f"bundled {args.run} -> {dest} ({size / 1e6:.1f} MB)")
        return bundle_discriminator(spec, args.run, dest) if (args.run / "checkpoint.pt").exists() else 0
    crops = real_crops_for(spec.framing, config["image_size"])
    q = evaluate_generator(model, config["nz"], FaceDetector(), n=args.n, train=crops["train"], real=crops["val"])
    update_record(dest, lambda t: t.update(quality=q), spec=spec)
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    print(f"bundled {args.run} -> {dest} ({size / 1e6:.1f} MB); faces found: {q['face_found_rate']:.1%}"
          + (f" (real crops: {q['real_face_found_rate']:.1%})" if "real_face_found_rate" in q else ""))
    if (args.run / "checkpoint.pt").exists():
        return bundle_discriminator(spec, args.run, dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
