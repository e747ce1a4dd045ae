"""How well each GAN's own discriminator does on its own ground, and what the re-framing costs it.

    python -m train.discriminator_check                       # every GAN with a kept discriminator
    python -m train.discriminator_check --gans dcgan-64 --runs runs/rerun --n 300 --threads 2

For each GAN whose bundle keeps a discriminator (core.models.discriminators) and whose run folder
(RUNS/<gan>, the run the discriminator came from) holds the generator it trained beside, two ROC AUCs
(and accuracies at 0.5) of real CelebA validation photos against that generator's samples:
1. on its own ground: the CelebA validation crops exactly as its training photos were cut
   (`train.prepare_data`'s cache) against the raw samples;
2. through the evaluation path: the same photos and samples re-framed around MTCNN's face box
   (`discriminators.framing_of`), as `train.evaluate --discriminator` frames every source.
The gap between the two is what the framing, not the discriminator, costs on the comparison table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.models import registry


def check(gan: str, run: Path, n: int, detector) -> dict:
    """The two AUCs and accuracies (module docstring) for one GAN."""
    import numpy as np
    import torch
    from safetensors.torch import load_file

    from core.data import sources
    from core.data.caches import cache_path
    from core.detection.metrics import detector_scores
    from core.gan.sampling import generate, sample_latents
    from core.models import discriminators
    from core.models.detectors import CROP_SIZE, to_input

    model, config, _ = discriminators.load(gan)
    spec = registry.get_spec(gan)
    cache = cache_path("val", config["image_size"], spec.framing)
    if not cache.exists():
        crop = "" if spec.framing == "center" else f" --crop {spec.framing} --size {config['image_size']}"
        raise FileNotFoundError(f"{cache} is missing: python -m train.prepare_data{crop}")
    own_ground = load_file(str(cache))["images"][:n]
    framing = discriminators.framing_of(config)
    size = CROP_SIZE if framing == sources.app_framing() else int(config["image_size"])
    framed = sources.load_source("celeba", "val", size, detector, limit=n, framing=framing).crops
    generator, g_config, _ = registry.load_folder(spec, run)
    seed = sources.GENERATED_SEEDS["val"]
    samples = np.stack(list(generate(generator, sample_latents(n, g_config["nz"], seed))))
    framed_samples = sources.generated_crops(gan, "val", n, detector, size, framing=framing, run=run).crops

    def scores(real, fake) -> dict:
        with torch.inference_mode():
            p = torch.sigmoid(model(to_input(np.concatenate([real, fake])))).numpy()
        s = detector_scores(np.r_[np.zeros(len(real)), np.ones(len(fake))], p)
        return {"auc": s["auc"], "accuracy": s["accuracy"], "real": len(real), "fake": len(fake)}

    own = own_ground.permute(0, 2, 3, 1).numpy() if own_ground.shape[1] == 3 else own_ground.numpy()
    return {"own_ground": scores(own, samples), "reframed": scores(framed, framed_samples)}


def main(argv=None) -> int:
    from core.models import discriminators

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gans", nargs="+", default=None, help="default: every GAN with a kept discriminator")
    ap.add_argument("--runs", type=Path, default=Path("runs/rerun"), help="where RUNS/<gan> holds each run")
    ap.add_argument("--n", type=int, default=300, help="photos and samples each (at most the 600 validation photos)")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from core.detection.faces import FaceDetector

    gans = args.gans or discriminators.names()
    if not gans:
        print("error: no GAN keeps a discriminator yet (python -m train.bundle --run RUN --name GAN --discriminator)",
              file=sys.stderr)
        return 2
    detector, done = FaceDetector(), 0
    for gan in gans:
        run = args.runs / gan
        if not (run / "model.safetensors").is_file():
            print(f"{gan}: skipped, {run} holds no generator (the run its discriminator came from)")
            continue
        try:
            r = check(gan, run, args.n, detector)
        except (registry.WeightsError, FileNotFoundError, OSError) as err:
            print(f"{gan}: skipped, {err}")
            continue
        a, b = r["own_ground"], r["reframed"]
        print(f"{gan}: own ground AUC {a['auc']:.3f} (accuracy {a['accuracy']:.3f}, {a['real']} photos, {a['fake']} "
              f"samples) | re-framed AUC {b['auc']:.3f} (accuracy {b['accuracy']:.3f}, {b['real']} + {b['fake']} faces)")
        done += 1
    return 0 if done else 2


if __name__ == "__main__":
    sys.exit(main())
