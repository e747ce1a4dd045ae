"""Train a detector of GAN-made faces: an LSTM over rows, a ResNet, or a SupCon encoder + linear head.

    python -m train.prepare_data --crop mtcnn --size 48           # once: real face crops
    python -m train.detector --arch cnn                            # -> runs/detector-cnn
    python -m train.detector --arch cnn --resume                   # after a crash or Ctrl-C
    python -m train.bundle --run runs/detector-cnn --name cnn      # -> weights/cnn (the app's copy)

Real crops: the CelebA train split (validation: the val split, other photos of the same people). Fake: samples
of `--generators` passed through the same MTCNN cropper, cached in data/. Generators named in
`--held-out` are refused here: they are for `python -m train.evaluate` only (seed-002 protocol).

The run folder gets model.safetensors + config.json (with the fitted temperature), training.json,
history.jsonl (train/val loss and accuracy per epoch), spectra.json (mean Fourier spectra of real
and fake training crops, for the Detect page) and checkpoint.pt.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

DEFAULT_GENERATORS = ["dcgan-64"]
DEFAULT_HELD_OUT = ["dcgan-64-z60"]
TRAIN_FAKE_SEED, VAL_FAKE_SEED = 1_000_000, 2_000_000  # far from the seeds the app and train.sample use


def fake_cache_path(generator: str, split: str, cache_dir: Path | None = None) -> Path:
    from core.data import CACHE_DIR
    from core.detectors import CROP_SIZE

    return (cache_dir or CACHE_DIR) / f"fakes-{generator}-{split}-{CROP_SIZE}.safetensors"


def load_fakes(generator: str, split: str, n: int, face_detector, cache_dir: Path | None, dry_run: bool):
    """Fake crops of `generator` for `split`, from the cache or made now (and cached)."""
    import numpy as np
    import torch
    from safetensors.torch import load_file
    from tqdm.auto import tqdm

    from core import registry
    from core.detector_training import fake_crops
    from core.store import save_tensors

    path = fake_cache_path(generator, split, cache_dir)
    if path.exists() and not dry_run:
        cached = load_file(str(path))["crops"].numpy()
        if len(cached) >= n * 0.9:
            return cached
    loaded = registry.load(generator, use_hub=False)
    seed = TRAIN_FAKE_SEED if split == "train" else VAL_FAKE_SEED
    crops, missed = fake_crops(loaded.model, loaded.config["nz"], n, seed, face_detector,
                               progress=lambda it, total: tqdm(it, total=total, desc=f"{generator} {split} fakes"))
    print(f"{generator} {split}: {len(crops)} fake crops, {missed} samples without a face (dropped)")
    if not dry_run:
        save_tensors(path, {"crops": torch.from_numpy(np.ascontiguousarray(crops))},
                     metadata={"generator": generator, "seed": str(seed), "no_face": str(missed)})
    return crops


def main(argv=None) -> int:
    from core import registry
    from core.detector_training import DetectorTrainConfig

    d = DetectorTrainConfig(arch="cnn")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=["lstm", "cnn", "supcon"], required=True)
    ap.add_argument("--generators", nargs="+", default=DEFAULT_GENERATORS, help="where training fakes come from")
    ap.add_argument("--held-out", nargs="*", default=DEFAULT_HELD_OUT,
                    help="generators kept out of training (evaluation only)")
    ap.add_argument("--epochs", type=int, default=d.epochs, help="most epochs (per phase for supcon)")
    ap.add_argument("--head-epochs", type=int, default=d.head_epochs, help="supcon: epochs of the linear head")
    ap.add_argument("--batch-size", type=int, default=d.batch_size)
    ap.add_argument("--lr", type=float, default=d.lr)
    ap.add_argument("--patience", type=int, default=d.patience, help="early stopping: epochs without improvement")
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--per-epoch", type=int, default=None,
                    help="crops of each class per epoch, a fresh random subset each time (default: all)")
    ap.add_argument("--out", type=Path, default=None, help="run folder (default runs/detector-ARCH)")
    ap.add_argument("--cache-dir", type=Path, default=None, help="where crops are cached (default data/)")
    ap.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    ap.add_argument("--dry-run", action="store_true", help="a few steps on a few crops, for CI")
    ap.add_argument("--device", default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--push-to-hub", metavar="REPO_ID", default=None)
    ap.add_argument("--private", action="store_true")
    args = ap.parse_args(argv)

    clash = set(args.generators) & set(args.held_out or [])
    if clash:
        print(f"error: {', '.join(sorted(clash))} is held out for evaluation; drop it from --generators "
              "or from --held-out", file=sys.stderr)
        return 2
    import numpy as np
    import torch

    from core.data import cache_path, load_cache
    from core.detector_training import DetectorData, DetectorTrainer, mean_spectra
    from core.detectors import CROP_SIZE
    from core.faces import FaceDetector
    from core.store import write_json
    from core.training import hardware_description

    if args.threads:
        torch.set_num_threads(args.threads)
    out = args.out or Path("runs") / f"detector-{args.arch}"
    real = {}
    for split in ("train", "val"):
        p = cache_path(split, CROP_SIZE, crop="mtcnn", cache_dir=args.cache_dir)
        try:
            real[split] = load_cache(p).permute(0, 2, 3, 1).numpy()
        except FileNotFoundError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    if args.dry_run:
        real = {k: v[:48] for k, v in real.items()}
    face_detector = FaceDetector(device=args.device)
    fakes = {split: [] for split in real}
    for g in args.generators:
        for split in real:
            n = len(real[split]) // len(args.generators) + 1
            fakes[split].append(load_fakes(g, split, n, face_detector, args.cache_dir, args.dry_run))
    data = DetectorData(real["train"], np.concatenate(fakes["train"]), real["val"], np.concatenate(fakes["val"]))
    print("data:", data.counts())

    spec = registry.get_spec(args.arch)
    model_config = {**spec.config, "image_size": CROP_SIZE}
    model = spec.build(model_config)
    cfg = DetectorTrainConfig(arch=args.arch, epochs=args.epochs, head_epochs=args.head_epochs,
                              batch_size=args.batch_size, lr=args.lr, patience=args.patience, seed=args.seed,
                              per_epoch=args.per_epoch)
    if args.dry_run:
        cfg.epochs, cfg.head_epochs, cfg.max_steps, cfg.batch_size = 1, 1, 2, 16
    trainer = DetectorTrainer(model, cfg, data, out, device=args.device)
    try:
        summary = trainer.train(resume=args.resume)
    except KeyboardInterrupt:
        print(f"\ninterrupted; continue with: python -m train.detector --arch {args.arch} --out {out} --resume",
              file=sys.stderr)
        return 130
    except OSError as err:  # a full disk, a read-only folder: the last checkpoint on disk is still whole
        print(f"error: {err}\nfree some space (or fix the folder), then continue with: "
              f"python -m train.detector --arch {args.arch} --out {out} --resume", file=sys.stderr)
        return 5

    from core.registry import save_pretrained

    config = {**model_config, "temperature": summary["temperature"]}
    training = {
        **summary,
        "arch": args.arch,
        "generators": args.generators,
        "held_out": args.held_out,
        "data": data.counts(),
        "crop": {"size": CROP_SIZE, "cropper": "MTCNN (facenet-pytorch), best face, margin 0.25"},
        "augment": {k: v for k, v in vars(cfg.augment).items()},
        "train_config": {k: v for k, v in vars(cfg).items() if k != "augment"},
        "hardware": hardware_description(trainer.device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "dataset": "CelebA subset (shared/data/celeba): train split real, val split for validation",
    }
    save_pretrained(model, out, config, training)
    write_json(out / "spectra.json", {"real": mean_spectra(data.train_real), "fake": mean_spectra(data.train_fake),
                                      "n": int(min(1000, len(data.train_real)))})
    print(f"done: {args.arch}, val accuracy {summary['val_accuracy']:.4f}, temperature {summary['temperature']:.3f}, "
          f"ECE {summary['val_ece_before']:.4f} -> {summary['val_ece_after']:.4f}, {summary['wall_time_s']:.0f} s -> {out}")
    if args.push_to_hub:
        from core.cards import detector_card
        from core.hub import HubError
        from train.common import push_run

        try:
            card = detector_card(args.arch, spec.title, spec.description, config, training)
            print(f"pushed to {push_run(out, args.push_to_hub, args.private, card)}")
        except HubError as err:
            print(f"push failed: {err}", file=sys.stderr)
            return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
