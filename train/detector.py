"""Train a detector of GAN-made faces: an LSTM over rows, a ResNet, a SupCon encoder + linear head, or a
linear probe on frozen ImageNet features (the app's four), or a DenseNet or Xception-style CNN (the
comparison of CNN families).

    python -m train.detector_data                                  # once: crops of every source
    python -m train.detector --arch cnn                            # -> runs/detector-cnn
    python -m train.detector --arch densenet --per-epoch 2000 --epochs 10 --patience 3   # -> runs/detector-densenet
    python -m train.bundle --run runs/detector-densenet --name cnn-densenet   # likewise xception -> cnn-xception
    python -m train.detector --arch cnn --resume                   # after a crash or Ctrl-C
    python -m train.bundle --run runs/detector-cnn --name cnn      # -> weights/cnn (the app's copy)
    python -m train.detector --arch probe --per-epoch 2000 --epochs 6 --patience 2   # -> runs/detector-probe
    python -m train.detector --arch cnn --exclude stylegan2 --out runs/loo-stylegan2   # leave one out
    python -m train.detector --arch probe --fit closed-form --taps 5 --c 10 --views clean \
        --out runs/detector-probe-texture                          # -> bundle as probe-texture (seconds)
    python -m train.detector --arch supcon --fit closed-form --encoder runs/detector-supcon --c 1 \
        --out runs/detector-supcon-cf                              # its head refitted in closed form (minutes)

Sources (`core.data.sources`): real CelebA, FFHQ, LFW, UTKFace; fake StyleGAN2, Stable Diffusion 2.1 and
our five generators, each split into train and val, cropped once by `train.detector_data` (this
script makes any missing cache itself). Batches are balanced across sources. `--exclude` keeps
sources out of training and validation alike, for leave-one-generator-out tests with
`python -m train.evaluate`.

The run folder gets model.safetensors + config.json (with the fitted temperature), training.json
(data per source, validation figures per source), history.jsonl (train/val loss and accuracy per
epoch), spectra.json (mean Fourier spectra of real and fake training crops, for the Detect page)
and checkpoint.pt.

`--fit closed-form` (probe only) fits the probe's head as a source-balanced logistic regression on
the frozen backbone's features of the crops (`core.detection.probe_fit`; features cached under
data/detector/probe-features/, ~10 min per view of every source on 2 threads the first time, then
seconds), reading the first `--taps` feature groups, with regularisation `--c` and the training
views `--views` (clean, aug0, aug1, ...). `python -m train.probe_fit` measures which of those carry
to a generator or a real source left out.

`--arch supcon --fit closed-form --encoder FOLDER` keeps the contrastive encoder of FOLDER (a SupCon run
or weights/supcon) as it is and fits its linear head the same way, on the encoder's output for every
training crop, instead of the SGD head epochs (`core.detection.probe_fit.fit_encoder_head`); the run's
record keeps the encoder's training figures and history beside the head's fit. `--arch lstm` likewise
refits the LSTM's head on its pooled states, the rest of the trained LSTM kept.
"""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

from train.common import add_config_flags, config_from_args

HEAD_REFIT = ("supcon", "lstm")  # --fit closed-form --encoder: a trained model's linear head fitted anew

DETECTOR_HELP = {
    "epochs": "most epochs (per phase for supcon)",
    "batch_size": "crops per batch, half real and half fake",
    "lr": "AdamW learning rate, decayed along a cosine",
    "weight_decay": "AdamW weight decay",
    "patience": "early stopping: epochs without improvement",
    "seed": "same seed, same run",
    "supcon_temperature": "supcon: temperature of the contrastive loss",
    "head_epochs": "supcon: epochs of the linear head",
    "max_steps": "most steps per phase",
    "per_epoch": "crops of each class per epoch (default: as many as the train sources hold)",
}


def load_data(names: list[str], args, dry_run: bool):
    """DetectorData of the sources `names` (cached crops; made now where missing)."""
    from tqdm.auto import tqdm

    from core.data import sources
    from core.detection.trainer import DetectorData
    from core.models.detectors import CROP_SIZE

    train, val, labels, families = {}, {}, {}, {}
    det = None
    for name in names:
        src = sources.get(name)
        if dry_run:
            from core.detection.faces import FaceDetector

            det = det or FaceDetector(device=args.device)
        for split, store in (("train", train), ("val", val)):
            c = sources.load_source(name, split, CROP_SIZE, det, args.cache_dir, args.data,
                                    limit=6 if dry_run else None, progress=tqdm)
            store[name] = c.crops
        labels[name] = 1 if src.truth == "fake" else 0
        families[name] = src.family
    return DetectorData(train, val, labels, families)


def parser() -> argparse.ArgumentParser:
    from core.data import sources
    from core.detection.trainer import DetectorTrainConfig
    from core.models.detectors import ARCHS

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=list(ARCHS), required=True,
                    help="lstm, cnn, supcon, probe (the app's detectors); densenet, xception (CNN families, "
                         "bundled as cnn-densenet and cnn-xception; never in the app's verdict)")
    ap.add_argument("--sources", nargs="+", default=None, choices=sources.names(),
                    help="sources to learn from (default: every one whose data is here)")
    ap.add_argument("--exclude", nargs="*", default=[], choices=sources.names(),
                    help="sources kept out of training and validation (leave-one-out tests)")
    ap.add_argument("--residual", default=None, help="input: none, highpass, npr, rgb+npr (default: the registry's)")
    ap.add_argument("--image-size", type=int, default=None,
                    help="side the detector looks at (crops are 128 px and are scaled down to it; default the registry's)")
    add_config_flags(ap, DetectorTrainConfig, DETECTOR_HELP)
    ap.add_argument("--fit", choices=["sgd", "closed-form"], default="sgd",
                    help="probe: closed-form fits the head on cached features in seconds (no epochs, no augmentation "
                         "unless --views asks for it)")
    ap.add_argument("--taps", type=int, default=None, help="probe: feature groups read, 1-8 (default the registry's)")
    ap.add_argument("--input-size", type=int, default=None,
                    help="probe: the side the frozen backbone sees, the crop enlarged to it (default the registry's)")
    ap.add_argument("--c", type=float, default=10.0, help="closed-form: inverse L2 strength (sklearn C)")
    ap.add_argument("--views", default="clean", help="closed-form: training views, comma-joined (clean, aug0, aug1)")
    ap.add_argument("--encoder", type=Path, default=None, metavar="FOLDER",
                    help="supcon or lstm --fit closed-form: the run or weights folder whose model is kept but for "
                         "its linear head, fitted anew")
    ap.add_argument("--out", type=Path, default=None, help="run folder (default runs/detector-ARCH)")
    ap.add_argument("--data", type=Path, default=None, help="shared data folder (default ../shared/data)")
    ap.add_argument("--cache-dir", type=Path, default=None, help="where crops are cached (default data/detector/)")
    ap.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    ap.add_argument("--dry-run", action="store_true", help="a few steps on a few crops, for CI")
    ap.add_argument("--device", default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--push-to-hub", metavar="REPO_ID", default=None)
    ap.add_argument("--private", action="store_true")
    return ap


def chosen_sources(args) -> list[str] | str:
    """The sources to train on, or the error message that stops the run."""
    from core.data import sources
    from core.models.detectors import RESIDUALS

    if args.arch in HEAD_REFIT and args.fit == "closed-form":
        if args.encoder is None or not (args.encoder / "model.safetensors").exists():
            return f"--arch {args.arch} --fit closed-form needs --encoder FOLDER holding its model.safetensors"
    elif args.encoder is not None:
        return f"--encoder is for --fit closed-form with --arch {' or '.join(HEAD_REFIT)}"
    elif args.fit == "closed-form" and args.arch != "probe":
        return f"--fit closed-form is for --arch probe, and for --arch {' or '.join(HEAD_REFIT)} with --encoder"
    if (args.taps is not None or args.input_size is not None) and args.arch != "probe":
        return "--taps and --input-size are for --arch probe"
    if args.input_size is not None and not 64 <= args.input_size <= 512:
        return "--input-size must be 64-512"
    if args.taps is not None and not 1 <= args.taps <= 8:
        return "--taps must be 1-8"
    bad = [v for v in args.views.split(",") if v != "clean" and not (v.startswith("aug") and v[3:].isdigit())]
    if bad:
        return f"--views {','.join(bad)}: use clean and aug0, aug1, ..."
    names = [n for n in (args.sources or sources.available(sources.names(), args.data)) if n not in args.exclude]
    missing = [n for n in names if n not in sources.available(names, args.data)]
    if missing:
        return f"no data for {', '.join(missing)} under {sources.shared_data() if not args.data else args.data}"
    truths = {sources.get(n).truth for n in names}
    if truths != {"real", "fake"}:
        return "training needs at least one real and one fake source"
    if args.residual is not None and args.residual not in RESIDUALS:
        return f"--residual {args.residual!r}; choose from {', '.join(RESIDUALS)}"
    return names


def training_record(args, names: list[str], data, cfg, summary: dict, device, image_size: int) -> dict:
    """training.json of the run: the trainer's figures, the data per source, recipe and machine."""
    record = _record(args, names, data, cfg, summary, device, image_size)
    if args.encoder is not None:  # SupCon: the encoder's SGD recipe and figures, the head's closed-form fit
        return encoder_head_record(args, record, summary)
    if args.fit == "closed-form":  # no SGD: the recipe is the fit's, augmentation only through the views
        views = args.views.split(",")
        record["train_config"] = {"arch": args.arch, "fit": "closed-form (source-balanced L2 logistic regression)",
                                  "c": args.c, "views": views, "taps": args.taps}
        if args.input_size != 224:  # the probes' default side is left out of the record
            record["train_config"]["input_size"] = args.input_size
        record["augment"] = record["augment"] if any(v != "clean" for v in views) else {}
    return record


def encoder_head_record(args, record: dict, summary: dict) -> dict:
    """training.json of a head refitted on a kept model (SupCon's encoder, the LSTM): the new head's validation
    figures; the kept model's recipe, epochs, steps, augmentation and wall time (plus the fit's); where it
    came from."""
    from core.io.store import file_sha256
    from core.models.folder import read_record

    enc = read_record(args.encoder)
    enc_config = {k: v for k, v in (enc.get("train_config") or {}).items() if not k.startswith("head_")}
    views = args.views.split(",")
    record.update({
        "epochs_run": {k: v for k, v in (enc.get("epochs_run") or {}).items() if k != "head"},
        "steps": enc.get("steps"),
        "wall_time_s": round((enc.get("wall_time_s") or 0) + summary["wall_time_s"], 1),
        "augment": enc.get("augment", record["augment"]),
        "train_config": {**enc_config, "head_fit": "closed-form (source-balanced L2 logistic regression)",
                         "head_c": args.c, "head_views": views},
        "encoder": {"from": str(args.encoder), "weights_sha256": file_sha256(args.encoder / "model.safetensors"),
                    "hardware": enc.get("hardware"), "wall_time_s": enc.get("wall_time_s"),
                    "val_accuracy_sgd_head": enc.get("val_accuracy")},
        "head_fit_s": summary["wall_time_s"],
        "hardware": f"{enc.get('hardware', 'unknown hardware')} (encoder), {record['hardware']} (head)",
    })
    return record


def _record(args, names: list[str], data, cfg, summary: dict, device, image_size: int) -> dict:
    """training.json of the run: the trainer's figures, the data per source, recipe and machine."""
    import torch

    from core.data import sources
    from core.device import hardware_description
    from core.models.detectors import CROP_SIZE

    counts = data.counts()
    src = {n: sources.get(n) for n in names}
    record = {
        **summary,
        "arch": args.arch,
        "sources": {n: {"truth": s.truth, "title": s.title, "terms": s.terms,
                        "train": counts["train"][n], "val": counts["val"][n]} for n, s in src.items()},
        "generators": [n for n, s in src.items() if s.truth == "fake"],
        "held_out": list(args.exclude),
        "sampling": {n: round(w, 4) for n, w in data.sampling_weights().items()},
        "crop": {"size": CROP_SIZE, "seen_at": image_size, "cropper": "MTCNN (facenet-pytorch), best face, margin 0.25"},
        "augment": dict(vars(cfg.augment)),
        "train_config": {k: v for k, v in vars(cfg).items() if k != "augment"},
        "hardware": hardware_description(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "dataset": "real: " + ", ".join(s.title for s in src.values() if s.truth == "real")
                   + "; fake: " + ", ".join(s.title for s in src.values() if s.truth == "fake"),
    }
    if args.arch == "probe":
        from core.models.probe import pretrained_record

        record["pretrained"] = pretrained_record()
    return record


def report(args, summary: dict, out: Path) -> None:
    print(f"done: {args.arch}, val accuracy {summary['val_accuracy']:.4f}, temperature {summary['temperature']:.3f}, "
          f"ECE {summary['val_ece_before']:.4f} -> {summary['val_ece_after']:.4f}, {summary['wall_time_s']:.0f} s -> {out}")
    for n, r in summary["val_by_source"].items():
        auc = f", AUC vs all reals {r['auc']:.4f}" if "auc" in r else ""
        print(f"  val {n:<16}{r['count']:>5} crops, called GAN-made {r['called_fake']:.3f}{auc}")


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    names = chosen_sources(args)
    if isinstance(names, str):
        print(f"error: {names}", file=sys.stderr)
        return 2
    import numpy as np
    import torch

    from core.detection.trainer import DetectorTrainConfig, mean_spectra
    from core.io.store import write_json
    from core.models import registry
    from core.models.detectors import CROP_SIZE
    from core.models.folder import write_model

    if args.threads:
        torch.set_num_threads(args.threads)
    spec = registry.spec_for_arch(args.arch)
    model_config = {**spec.config, "image_size": args.image_size or spec.config.get("image_size", CROP_SIZE)}
    if not 16 <= model_config["image_size"] <= CROP_SIZE:
        print(f"error: --image-size must be 16-{CROP_SIZE} (the crops are {CROP_SIZE} px)", file=sys.stderr)
        return 2
    if args.residual:
        model_config["residual"] = args.residual
    if args.taps is not None:
        model_config["taps"] = args.taps
    if args.input_size is not None:
        model_config["input_size"] = args.input_size
    args.taps, args.input_size = model_config.get("taps"), model_config.get("input_size")
    out = args.out or Path("runs") / f"detector-{args.arch}"
    data = load_data(names, args, args.dry_run)
    print("data:", data.counts())
    if args.encoder is not None:  # its architecture and weights; the head is fitted anew below
        from core.models.registry import load_folder

        model, enc_config, _ = load_folder(spec, args.encoder)
        model_config = {k: v for k, v in enc_config.items() if k != "temperature"}
    else:
        model = spec.build(model_config)
    cfg = config_from_args(DetectorTrainConfig, args)
    if args.dry_run:
        cfg.epochs, cfg.head_epochs, cfg.max_steps, cfg.batch_size = 1, 1, 2, 8
    if args.fit == "closed-form":
        summary, device = fit_closed_form(args, model, data, out), torch.device("cpu")
    else:
        summary, device = train_sgd(args, argv, model, cfg, data, out)
    if isinstance(summary, int):
        return summary
    config = {**model_config, "temperature": summary["temperature"]}
    training = training_record(args, names, data, cfg, summary, device, model_config["image_size"])
    write_model(model, out, config, training)
    real = np.concatenate([a for n, a in data.train.items() if data.labels[n] == 0])
    fake = np.concatenate([a for n, a in data.train.items() if data.labels[n] == 1])
    write_json(out / "spectra.json", {"real": mean_spectra(real), "fake": mean_spectra(fake),
                                      "n": int(min(1000, len(real)))})
    report(args, summary, out)
    if args.push_to_hub:
        return push(args, spec, out, config, training)
    return 0


def fit_closed_form(args, model, data, out: Path) -> dict:
    """The probe's head fitted on cached features, or a kept model's head on what it reads (SupCon, the LSTM);
    the fit's one history row written as SGD's are (after the kept model's own rows but its old head's)."""
    from tqdm.auto import tqdm

    from core.detection.probe_fit import FEATURE_DIR, fit_encoder_head, fit_probe
    from core.io.store import read_history, write_history

    if args.encoder is not None:
        summary, row = fit_encoder_head(model, data, args.c, args.views.split(","), tqdm)
        encoder_rows = [r for r in read_history(args.encoder / "history.jsonl") if r.get("phase") != "head"]
        rows = [*encoder_rows, {**row, "phase": "head"}]
    else:
        feature_dir = args.cache_dir / "probe-features" if args.cache_dir else FEATURE_DIR
        summary, row = fit_probe(model, data, args.c, args.views.split(","), feature_dir, tqdm)
        rows = [row]
    out.mkdir(parents=True, exist_ok=True)
    write_history(out / "history.jsonl", rows)
    return summary


def train_sgd(args, argv, model, cfg, data, out: Path):
    """The trainer's run (resumable); its summary and device, or the exit code of an interrupted run."""
    from core.detection.trainer import DetectorTrainer

    trainer = DetectorTrainer(model, cfg, data, out, device=args.device)
    resume_cmd = f"python -m train.detector {' '.join(argv if argv is not None else sys.argv[1:])} --resume"
    try:
        return trainer.train(resume=args.resume), trainer.device
    except KeyboardInterrupt:
        print(f"\ninterrupted; continue with: {resume_cmd}", file=sys.stderr)
        return 130
    except OSError as err:  # a full disk, a read-only folder: the last checkpoint on disk is still whole
        print(f"error: {err}\nfree some space (or fix the folder), then continue with: {resume_cmd}", file=sys.stderr)
        return 5, None


def push(args, spec, out: Path, config: dict, training: dict) -> int:
    from core.io.cards import detector_card
    from core.io.hub import HubError
    from train.common import push_run

    try:
        card = detector_card(spec.name, spec.title, spec.description, config, training)
        print(f"pushed to {push_run(out, args.push_to_hub, args.private, card)}")
    except HubError as err:
        print(f"push failed: {err}", file=sys.stderr)
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
