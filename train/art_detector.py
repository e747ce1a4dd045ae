"""Seed 000's comparison on abstract art: the row-LSTM detector against the GAN's own final discriminator.

    python -m train.art_detector --out runs/art-lstm                   # train, then judge both
    python -m train.art_detector --out runs/art-lstm --resume          # after a crash or Ctrl-C
    python -m train.art_detector --dry-run --out /tmp/art-lstm         # a few steps on a few crops, for CI
    python -m train.bundle --run runs/art-lstm --name art-lstm         # -> weights/art-lstm (Detect's painting judge)

Real: the random square crops of the 198 training paintings (train.prepare_abstract); GAN-made: as
many samples of dcgan-64-abstract (seed 100). The whole 64x64 image, no face cropper: the LSTM reads
it four rows at a time (the registry's `lstm` recipe at 64 px). The 22 held-out paintings are split
in two: the crops of 11 (with as many fresh samples, seed 200) pick the epoch (early stopping) and
the temperature; the crops of the other 11 and as many other fresh samples (seed 300), never used
for any choice, judge it. The baseline is the GAN's final discriminator
(weights/dcgan-64-abstract/discriminator/), called GAN-made where D(x) < 0.5, on the same test images.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from train.common import add_config_flags, config_from_args
from train.detector import DETECTOR_HELP

GAN = "dcgan-64-abstract"
TRAIN_SEED, VAL_SEED, TEST_SEED = 100, 200, 300  # latent seeds of the GAN-made training, validation and test images


def accuracy_counts(p_fake, truth) -> dict:
    """Accuracy at 0.5 with its counts, per class and balanced."""
    import numpy as np

    p_fake, truth = np.asarray(p_fake), np.asarray(truth)
    called = p_fake >= 0.5
    real, fake = truth == 0, truth == 1
    right_real, right_fake = int((~called & real).sum()), int((called & fake).sum())
    return {"accuracy": (right_real + right_fake) / len(truth), "right": right_real + right_fake, "n": int(len(truth)),
            "real_right": right_real, "real_n": int(real.sum()), "fake_right": right_fake, "fake_n": int(fake.sum())}


def main(argv=None) -> int:
    from core.detection.trainer import DetectorTrainConfig

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_config_flags(ap, DetectorTrainConfig, DETECTOR_HELP, skip=("arch",))
    ap.add_argument("--gan", type=Path, default=None, help=f"the GAN's folder (default: weights/{GAN})")
    ap.add_argument("--out", type=Path, default=Path("runs/art-lstm"), help="run folder")
    ap.add_argument("--cache-dir", type=Path, default=None, help="where the abstract crops are (default: data/)")
    ap.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    ap.add_argument("--dry-run", action="store_true", help="a few steps on a few crops, for CI")
    ap.add_argument("--device", default=None)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)

    import numpy as np
    import torch
    from safetensors.torch import load_file

    from core.data.abstract import abstract_cache_path
    from core.detection.trainer import DetectorData, DetectorTrainer
    from core.device import hardware_description
    from core.gan.sampling import generate, sample_latents
    from core.models import discriminators, registry
    from core.models.art import ART_LSTM_CONFIG
    from core.models.detectors import to_input
    from core.models.folder import write_model

    if args.threads:
        torch.set_num_threads(args.threads)
    gan_spec = registry.get_spec(GAN)
    size = gan_spec.config["image_size"]
    try:
        train, val = (load_file(str(abstract_cache_path(s, size, args.cache_dir))) for s in ("train", "val"))
    except FileNotFoundError as err:
        print(f"error: {err}; make the crops with `python -m train.prepare_abstract`", file=sys.stderr)
        return 2
    gan_dir = args.gan or gan_spec.bundled_dir
    try:
        generator, gconfig, _ = registry.load_folder(gan_spec, gan_dir)
    except registry.WeightsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    real_train = train["images"].permute(0, 2, 3, 1).numpy()
    held_out = val["images"].permute(0, 2, 3, 1).numpy()
    odd = val["painting"].numpy() % 2 == 1  # 11 held-out paintings pick the epoch, the other 11 judge
    real_val, real_test = held_out[odd], held_out[~odd]
    if args.dry_run:
        real_train, real_val, real_test = real_train[:16], real_val[:8], real_test[:8]
    fake_train = generate(generator, sample_latents(len(real_train), gconfig["nz"], TRAIN_SEED))
    fake_val = generate(generator, sample_latents(len(real_val), gconfig["nz"], VAL_SEED))
    fake_test = generate(generator, sample_latents(len(real_test), gconfig["nz"], TEST_SEED))
    data = DetectorData.two_sources(real_train, fake_train, real_val, fake_val)
    model_config = dict(ART_LSTM_CONFIG)
    model = registry.build_detector(model_config)
    cfg = config_from_args(DetectorTrainConfig, args, arch="lstm")
    if args.dry_run:
        cfg.epochs, cfg.max_steps, cfg.batch_size = 1, 2, 8
    trainer = DetectorTrainer(model, cfg, data, args.out, device=args.device)
    try:
        summary = trainer.train(resume=args.resume)
    except KeyboardInterrupt:
        print(f"\ninterrupted; continue with: python -m train.art_detector --out {args.out} --resume", file=sys.stderr)
        return 130

    # both judges on the same held-out paintings and fresh samples
    x = to_input(np.concatenate([real_test, fake_test]))
    truth = np.r_[np.zeros(len(real_test)), np.ones(len(fake_test))]
    model.eval()
    with torch.inference_mode():
        p_lstm = torch.sigmoid(model(x) / summary["temperature"]).numpy()
    lstm = accuracy_counts(p_lstm, truth)
    d_folder = gan_dir / discriminators.FOLDER
    comparison = {"lstm": lstm}
    try:
        d, _, _ = discriminators.load(GAN, d_folder)
        with torch.inference_mode():
            p_d = torch.sigmoid(d(x)).numpy()
        comparison["discriminator"] = accuracy_counts(p_d, truth)
    except registry.WeightsError as err:
        print(f"no discriminator baseline: {err}", file=sys.stderr)
    config = {**model_config, "subject": "abstract", "temperature": summary["temperature"]}  # paintings, not faces
    training = {
        **summary, "arch": "lstm", "subject": "abstract",
        "dataset": (f"real: random square crops of {train['full'].shape[0]} Kandinsky paintings (1919-1944); "
                    f"fake: samples of {GAN} (seed {TRAIN_SEED}); epoch picked on {len(real_val)} crops of 11 held-out "
                    f"paintings and {len(fake_val)} fresh samples (seed {VAL_SEED}); judged on {len(real_test)} crops "
                    f"of the other 11 and {len(fake_test)} fresh samples (seed {TEST_SEED})"),
        "sources": {"real": {"truth": "real", "title": "Kandinsky paintings, 1919-1944 (crops)",
                             "terms": "public domain (Wikimedia Commons photographs); teaching and research",
                             "train": len(real_train), "val": len(real_val), "test": len(real_test)},
                    "fake": {"truth": "fake", "title": GAN, "terms": "ours",
                             "train": len(fake_train), "val": len(fake_val), "test": len(fake_test)}},
        "generators": [GAN], "crop": {"size": size, "seen_at": model_config["image_size"], "cropper": "none (whole image)"},
        "augment": dict(vars(cfg.augment)), "train_config": {k: v for k, v in vars(cfg).items() if k != "augment"},
        "hardware": hardware_description(trainer.device), "torch": torch.__version__,
        "art_comparison": comparison,
    }
    write_model(model, args.out, config, training)
    print(f"done: {summary['steps']} steps, {summary['wall_time_s']:.0f} s -> {args.out}")
    for name, r in comparison.items():
        print(f"  {name:<14} accuracy {r['accuracy']:.2%} ({r['right']} of {r['n']}): held-out paintings "
              f"{r['real_right']}/{r['real_n']} called real, fresh samples {r['fake_right']}/{r['fake_n']} called GAN-made")
    return 0


if __name__ == "__main__":
    sys.exit(main())
