"""Flags and steps that every training script shares."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from core.training import GANRun, GANTrainer, TrainConfig, TrainingStopped


def add_train_flags(ap: argparse.ArgumentParser, defaults: TrainConfig) -> None:
    ap.add_argument("--epochs", type=int, default=defaults.epochs)
    ap.add_argument("--batch-size", type=int, default=defaults.batch_size)
    ap.add_argument("--lr", type=float, default=defaults.lr, help="Adam learning rate (G and D)")
    ap.add_argument("--beta1", type=float, default=defaults.beta1)
    ap.add_argument("--seed", type=int, default=defaults.seed, help="same seed, same run")
    ap.add_argument("--ema-decay", type=float, default=defaults.ema_decay)
    ap.add_argument("--no-hflip", action="store_true", help="turn off horizontal-flip augmentation")
    ap.add_argument("--out", type=Path, required=False, help="run folder (weights, history, checkpoint)")
    ap.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    ap.add_argument("--dry-run", action="store_true", help="one iteration on a few images, for CI")
    ap.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: CUDA if present)")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    ap.add_argument("--push-to-hub", metavar="REPO_ID", default=None,
                    help="after training, upload the run folder to this Hub model repo")
    ap.add_argument("--private", action="store_true", help="create the Hub repo as private")


def train_config_from(args) -> TrainConfig:
    cfg = TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, beta1=args.beta1,
        seed=args.seed, ema_decay=args.ema_decay, hflip=not args.no_hflip,
    )
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
    from core.hub import push_folder

    (Path(out) / "README.md").write_text(card)
    return push_folder(out, repo_id, private=private)


def load_training_images(path: Path, dry_run: bool, batch_size: int):
    """The cached crops, or None after printing what to run first."""
    from core.data import load_cache

    try:
        images = load_cache(path)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return None
    return images[: 2 * batch_size] if dry_run else images


def run_gan_training(args, run: GANRun, cfg: TrainConfig, script: str, title: str) -> int:
    """Train, report, optionally push; exit codes: 0 done, 3 stopped by a guard, 4 push failed, 130 Ctrl-C."""
    trainer = GANTrainer(run, cfg, device=args.device)
    try:
        summary = trainer.train(resume=args.resume)
    except TrainingStopped as err:
        print(f"training stopped: {err}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print(f"\ninterrupted; continue with: python -m {script} --out {run.out_dir} --resume", file=sys.stderr)
        return 130
    trainer.close()
    if not trainer.is_main:
        return 0
    print(f"done: {summary['epochs_done']} epochs, {summary['steps']} steps, "
          f"{summary['wall_time_s']:.0f} s, {summary['images_per_s']} img/s -> {run.out_dir}")
    if args.push_to_hub:
        from core.cards import generator_card
        from core.hub import HubError

        card = generator_card(args.push_to_hub.split("/")[-1], title, f"Trained with Face GAN Lab's {script}.",
                              run.model_config, summary)
        try:
            print(f"pushed to {push_run(run.out_dir, args.push_to_hub, args.private, card)}")
        except HubError as err:
            print(f"push failed: {err}", file=sys.stderr)
            return 4
    return 0


def gan_script(argv, doc: str, *, script: str, arch: str, loss, nz: int, nz_help: str, image_size: int,
               data: Path, dataset: str, default_out) -> int:
    """The whole of a GAN training command line: flags, data, model, loop, report, push.

    `default_out(nz)` names the run folder when --out is not given.
    """
    from core.dcgan import DCGANConfig, Discriminator, Generator, weights_init

    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nz", type=int, default=nz, help=nz_help)
    ap.add_argument("--ngf", type=int, default=64, help="generator width")
    ap.add_argument("--ndf", type=int, default=64, help="discriminator width")
    ap.add_argument("--data", type=Path, default=None, help=f"cached crops (default: {data})")
    add_train_flags(ap, TrainConfig())
    args = ap.parse_args(argv)
    apply_threads(args)
    cfg = train_config_from(args)
    images = load_training_images(args.data or data, args.dry_run, cfg.batch_size)
    if images is None:
        return 2
    mcfg = DCGANConfig(nz=args.nz, ngf=args.ngf, ndf=args.ndf, image_size=image_size)
    run = GANRun(
        generator=Generator(mcfg), discriminator=Discriminator(mcfg), loss=loss, images=images,
        out_dir=args.out or default_out(args.nz), init=weights_init,
        model_config={"arch": arch, **mcfg.to_dict()},
        meta={"dataset": dataset, "train_images": len(images)},
    )
    title = f"{arch.upper()}, {image_size}x{image_size}, latent {args.nz}"
    return run_gan_training(args, run, cfg, script, title)
