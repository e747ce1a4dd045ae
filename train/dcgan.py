"""Train the DCGAN (PyTorch-tutorial recipe) on 64x64 CelebA crops.

    python -m train.prepare_data                       # once: crops into data/
    python -m train.dcgan --out runs/dcgan-64          # train (Ctrl-C safe: --resume continues)
    python -m train.dcgan --out runs/dcgan-64 --resume
    python -m train.dcgan --nz 60 --out runs/dcgan-64-z60

Several processes (one per GPU, or CPU processes with gloo):

    torchrun --nproc_per_node 2 -m train.dcgan --out runs/dcgan-64

The run folder gets model.safetensors + config.json (what the app loads), training.json,
history.jsonl (Loss_D, Loss_G, D(x), D(G(z)) every iteration), snapshots/epoch_NNN.jpg and
checkpoint.pt. Copy model.safetensors, config.json, training.json, history.jsonl and snapshots/
into weights/<name>/ to bundle a model, or pass --push-to-hub.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.data import cache_path, load_cache
from core.dcgan import DCGANConfig, Discriminator, Generator, weights_init
from core.training import BCEGANLoss, GANRun, GANTrainer, TrainConfig, TrainingStopped
from train.common import add_train_flags, apply_threads, push_run, train_config_from


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nz", type=int, default=100, help="latent size (seed 001: 100 and 60)")
    ap.add_argument("--ngf", type=int, default=64)
    ap.add_argument("--ndf", type=int, default=64)
    ap.add_argument("--data", type=Path, default=None,
                    help="cached crops (default: data/celeba-center64-train.safetensors)")
    add_train_flags(ap, TrainConfig())
    args = ap.parse_args(argv)
    apply_threads(args)
    cfg = train_config_from(args)
    out = args.out or Path("runs") / ("dcgan-64" if args.nz == 100 else f"dcgan-64-z{args.nz}")
    data_path = args.data or cache_path("train", 64)
    try:
        images = load_cache(data_path)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.dry_run:
        images = images[: 2 * cfg.batch_size]
    mcfg = DCGANConfig(nz=args.nz, ngf=args.ngf, ndf=args.ndf)
    run = GANRun(
        generator=Generator(mcfg), discriminator=Discriminator(mcfg), loss=BCEGANLoss(),
        images=images, out_dir=out, init=weights_init,
        model_config={"arch": "dcgan", **mcfg.to_dict()},
        meta={"dataset": "CelebA subset (shared/data/celeba/train), centre crop 64x64",
              "train_images": len(images)},
    )
    trainer = GANTrainer(run, cfg, device=args.device)
    try:
        summary = trainer.train(resume=args.resume)
    except TrainingStopped as err:
        print(f"training stopped: {err}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print(f"\ninterrupted; continue with: python -m train.dcgan --out {out} --resume", file=sys.stderr)
        return 130
    trainer.close()
    if not trainer.is_main:
        return 0
    print(f"done: {summary['epochs_done']} epochs, {summary['steps']} steps, "
          f"{summary['wall_time_s']:.0f} s, {summary['images_per_s']} img/s -> {out}")
    if args.push_to_hub:
        from core.cards import generator_card
        from core.hub import HubError

        title = f"DCGAN, 64x64, latent {args.nz}"
        card = generator_card(args.push_to_hub.split("/")[-1], title, "Trained with Face GAN Lab's train.dcgan.",
                              run.model_config, summary)
        try:
            print(f"pushed to {push_run(out, args.push_to_hub, args.private, card)}")
        except HubError as err:
            print(f"push failed: {err}", file=sys.stderr)
            return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
