"""Flags and steps that every training script shares."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from core.gan.trainer import PRECISIONS, GANRun, GANTrainer, TrainConfig, TrainingStopped

# Flags come from the config dataclasses' fields (name, type, default); only their help lives here.
GAN_HELP = {
    "epochs": "passes over the training photos",
    "lr": "Adam learning rate (G and D)",
    "seed": "same seed, same run",
    "hflip": "horizontal-flip augmentation",
    "ema_decay": "exported weights are this EMA of G",
    "diffaug": "DiffAugment for D, e.g. color,translation (also: cutout); helps small data sets",
    "precision": "auto: bfloat16 where the device computes it natively (a CPU with AVX512-BF16 or AMX, a CUDA GPU "
                 "that supports it), else float32; printed at the start and recorded in training.json. bfloat16: "
                 "G's and D's passes under autocast, ~1.7x faster per iteration on CPUs with AVX512-BF16 (weights, "
                 "Adam and losses stay float32; not bit-identical). float32: the exact path",
    "freeze_d": "fine-tuning: keep D's first N conv layers as loaded (FreezeD)",
    "r1_gamma": "R1 penalty weight on D's gradient at the real images (0 = off); steadies D on small data sets",
    "n_snapshot": "fixed-noise faces drawn after each epoch",
    "max_steps": "stop after this many iterations",
    "log_every": "a history row every N iterations",
}
GAN_CHOICES = {"precision": PRECISIONS}
_TYPES = {"int": int, "float": float, "str": str, "bool": bool}


def add_config_flags(ap: argparse.ArgumentParser, cls, helps: dict[str, str], skip: tuple[str, ...] = (),
                     choices: dict[str, tuple] | None = None) -> None:
    """One flag per field of dataclass `cls` that has a plain default: --batch-size for batch_size,
    --x / --no-x for a bool. Type and default come from the field, so they never drift apart; `choices`
    lists a field's only values."""
    for f in dataclasses.fields(cls):
        if f.name in skip or f.default is dataclasses.MISSING:
            continue
        kind = _TYPES[str(f.type).split("|")[0].strip()]  # "int | None" -> int
        flag = "--" + f.name.replace("_", "-")
        if kind is bool:
            ap.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default, help=helps.get(f.name))
        else:
            ap.add_argument(flag, type=kind, default=f.default, help=helps.get(f.name),
                            choices=(choices or {}).get(f.name))


def config_from_args(cls, args, **fixed):
    """`cls` built from the parsed flags that `add_config_flags` made (and `fixed` values)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in vars(args).items() if k in names and k not in fixed}, **fixed)


def add_train_flags(ap: argparse.ArgumentParser) -> None:
    add_config_flags(ap, TrainConfig, GAN_HELP, choices=GAN_CHOICES)
    ap.add_argument("--out", type=Path, required=False, help="run folder (weights, history, checkpoint)")
    ap.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    ap.add_argument("--dry-run", action="store_true", help="one iteration on a few images, for CI")
    ap.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: CUDA if present)")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    ap.add_argument("--push-to-hub", metavar="REPO_ID", default=None,
                    help="after training, upload the run folder to this Hub model repo")
    ap.add_argument("--private", action="store_true", help="create the Hub repo as private")


def train_config_from(args) -> TrainConfig:
    try:
        cfg = config_from_args(TrainConfig, args)
    except ValueError as err:  # --diffaug naming a change we do not have: a message, not a traceback
        sys.exit(f"error: {err}")
    if args.dry_run:
        cfg.epochs, cfg.max_steps = 1, 1
    return cfg


def apply_threads(args) -> None:
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def push_run(out: Path, repo_id: str, private: bool, card: str) -> str:
    """Write the model card into the run folder and upload it (never the checkpoint)."""
    from core.io.hub import push_folder
    from core.io.store import atomic_write_bytes

    atomic_write_bytes(Path(out) / "README.md", card.encode())
    return push_folder(out, repo_id, private=private)


def load_training_images(path: Path, dry_run: bool, batch_size: int):
    """The cached crops (the first 2 batches for a dry run), or None after printing what to run first."""
    from core.data.caches import load_cache

    try:
        images = load_cache(path)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return None
    return images[: 2 * batch_size] if dry_run else images


def run_gan_training(args, run: GANRun, cfg: TrainConfig, script: str, title: str) -> int:
    """Train, report, optionally push; exit codes: 0 done, 3 stopped by a guard, 4 push failed, 5 cannot
    write (disk full), 130 Ctrl-C."""
    trainer = GANTrainer(run, cfg, device=args.device)
    try:
        summary = trainer.train(resume=args.resume)
    except TrainingStopped as err:
        print(f"training stopped: {err}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print(f"\ninterrupted; continue with: python -m {script} --out {run.out_dir} --resume", file=sys.stderr)
        return 130
    except OSError as err:  # a full disk, a read-only folder: the last checkpoint on disk is still whole
        print(f"error: {err}\nfree some space (or fix the folder), then continue with: "
              f"python -m {script} --out {run.out_dir} --resume", file=sys.stderr)
        return 5
    trainer.close()
    if not trainer.is_main:
        return 0
    print(f"done: {summary['epochs_done']} epochs, {summary['steps']} steps, "
          f"{summary['wall_time_s']:.0f} s, {summary['images_per_s']} img/s -> {run.out_dir}")
    if args.push_to_hub:
        from core.io.cards import generator_card
        from core.io.hub import HubError

        card = generator_card(args.push_to_hub.split("/")[-1], title, f"Trained with Face GAN Lab's {script}.",
                              run.model_config, summary)
        try:
            print(f"pushed to {push_run(run.out_dir, args.push_to_hub, args.private, card)}")
        except HubError as err:
            print(f"push failed: {err}", file=sys.stderr)
            return 4
    return 0


def select_subset(images, data: Path, subset: str, labels_path: Path | None):
    """(crops of one gender, facts for training.json) or None after printing what to run first."""
    from core.data.caches import CACHE_DIR, cache_files, gender_subset
    from core.io.store import read_json

    labels_path = labels_path or CACHE_DIR / "celeba-gender.json"
    if not labels_path.exists():
        print(f"error: {labels_path} does not exist; label the photos first with `python -m train.label_gender`",
              file=sys.stderr)
        return None
    # keys are "split/celeb_<id>/<file>"; a person's photos in every split vote on their label
    labels = {k.split("/", 1)[1] if k.count("/") >= 2 else k: v for k, v in read_json(labels_path)["labels"].items()}
    try:
        return gender_subset(images, cache_files(data), labels, subset)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return None


def gan_script(argv, doc: str, *, script: str, arch: str, loss, nz: int, nz_help: str, image_size: int,
               data: Path, dataset: str, default_out, subsets: bool = False, d_norm: str = "batch") -> int:
    """The whole of a GAN training command line: flags, data, model, loop, report, push.

    `default_out(nz, subset)` names the run folder when --out is not given. With `subsets`, the
    script takes --subset female|male (people labelled by train.label_gender).
    """
    from core.models.dcgan import DCGANConfig, Discriminator, Generator, weights_init

    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nz", type=int, default=nz, help=nz_help)
    ap.add_argument("--ngf", type=int, default=64, help="generator width")
    ap.add_argument("--ndf", type=int, default=64, help="discriminator width")
    ap.add_argument("--d-norm", choices=["batch", "spectral"], default=d_norm,
                    help="how D is normalised: the tutorial's BatchNorm or spectral norm (see core/models/dcgan.py)")
    ap.add_argument("--data", type=Path, default=None, help=f"cached crops (default: {data})")
    ap.add_argument("--init-from", type=Path, default=None, metavar="RUN",
                    help="fine-tune: start from another run's weights (its folder or checkpoint.pt)")
    if subsets:
        ap.add_argument("--subset", choices=["both", "female", "male"], default="both",
                        help="train on one gender's photos (labels from train.label_gender)")
        ap.add_argument("--labels", type=Path, default=None, help="gender labels (default: data/celeba-gender.json)")
    add_train_flags(ap)
    args = ap.parse_args(argv)
    apply_threads(args)
    cfg = train_config_from(args)
    data = args.data or data
    subset = getattr(args, "subset", "both")
    meta = {"dataset": dataset}
    images = load_training_images(data, False, cfg.batch_size)
    if images is None:
        return 2
    if subset != "both":
        chosen = select_subset(images, data, subset, args.labels)
        if chosen is None:
            return 2
        images, meta["subset"] = chosen
        meta["dataset"] = f"{dataset}, {subset} subset ({meta['subset']['people']} people)"
    if args.dry_run:
        images = images[: 2 * cfg.batch_size]
    if args.init_from:
        meta["fine_tuned_from"] = str(args.init_from)
    mcfg = DCGANConfig(nz=args.nz, ngf=args.ngf, ndf=args.ndf, image_size=image_size, d_norm=args.d_norm)
    run = GANRun(
        generator=Generator(mcfg), discriminator=Discriminator(mcfg), loss=loss, images=images,
        out_dir=args.out or default_out(args.nz, subset), init=weights_init, init_from=args.init_from,
        model_config={"arch": arch, **mcfg.to_dict()},
        meta={**meta, "train_images": len(images)},
    )
    title = f"{arch.upper()}, {image_size}x{image_size}, latent {args.nz}"
    return run_gan_training(args, run, cfg, script, title)
