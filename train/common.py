"""Flags and steps that every training script shares."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from core.training import TrainConfig


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
