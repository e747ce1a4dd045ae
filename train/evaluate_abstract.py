"""Quality figures for the abstract-art GAN: FD and KID against held-out paintings, and a near-copy check.

    python -m train.evaluate_abstract                                   # the bundled dcgan-64-abstract
    python -m train.evaluate_abstract --run runs/dcgan-64-abstract      # a run folder, mid-training too
    python -m train.evaluate_abstract --record --figures docs/img       # into training.json + the card; the doc figures

Samples (as many as the held-out crops, seed 1234) and the 528 crops of the 22 held-out paintings
(train.prepare_abstract) are compared on a fixed ImageNet network's features (EfficientNet-Lite0's
last stage, core.gan.quality.imagenet_features): FD (the FID formula) and KID. The floor is the
same for as many random training crops against the held-out ones. Near-copies: a sample nearer (RMS
pixels, or to a mirror image) to a training crop than 99% of training crops are to the nearest crop
of another painting. --figures writes a 64-sample grid and the 8 samples nearest to a training crop,
each beside that crop and its whole painting.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

NAME = "dcgan-64-abstract"


def nearest_figure(samples: np.ndarray, crops: np.ndarray, full: np.ndarray, painting: np.ndarray,
                   distances: list[float], nearest: list[int], k: int = 8) -> np.ndarray:
    """k rows of [sample | nearest training crop | that painting's centre square], nearest first (HWC uint8)."""
    from core.gan.sampling import make_grid

    order = np.argsort(distances)[:k]
    tiles = []
    for i in order:
        j = nearest[i]
        tiles += [samples[i], crops[j].transpose(1, 2, 0), full[painting[j]].transpose(1, 2, 0)]
    return make_grid(np.stack(tiles), nrow=3)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, default=None, help="a run folder instead of the bundled model")
    ap.add_argument("--n", type=int, default=None, help="samples (default: as many as the held-out crops)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--record", action="store_true", help="store the figures in weights/dcgan-64-abstract "
                    "(training.json and the model card)")
    ap.add_argument("--figures", type=Path, default=None, help="write abstract-grid.png and abstract-nearest.png here")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    args = ap.parse_args(argv)
    import torch
    from safetensors.torch import load_file

    from core.data.abstract import abstract_cache_path
    from core.gan.quality import art_memorisation, evaluate_abstract
    from core.gan.sampling import encode_image, generate, make_grid, sample_latents
    from core.models import registry

    if args.threads:
        torch.set_num_threads(args.threads)
    spec = registry.get_spec(NAME)
    try:
        train, val = (load_file(str(abstract_cache_path(s, spec.config["image_size"]))) for s in ("train", "val"))
    except FileNotFoundError as err:
        print(f"error: {err}; make the crops with `python -m train.prepare_abstract`", file=sys.stderr)
        return 2
    folder = args.run or spec.bundled_dir
    model, config, _ = registry.load_folder(spec, folder)
    crops, painting = train["images"].numpy(), train["painting"].numpy()
    q = evaluate_abstract(model, config["nz"], crops, painting, val["images"].numpy(), n=args.n, seed=args.seed)
    m = q["memorisation"]
    print(f"{folder}: FD {q['fd']:.2f} (real vs real {q['fd_real_vs_real']:.2f}); KID x1000 {1000 * q['kid']:.2f} "
          f"+- {1000 * q['kid_std']:.2f} (real vs real {1000 * q['kid_real_vs_real']:.2f}); diversity "
          f"{q['diversity_vs_real']:.2f}; nearest training crop median {m['sample_to_train_median']:.3f}, closest "
          f"{m['sample_to_train_min']:.3f}; near-copies {m['near_copies']} of {m['n']} (threshold "
          f"{m['near_copy_threshold']:.3f}; training crops to another painting's: median "
          f"{m['train_to_other_painting_median']:.3f})")
    if args.figures:
        from core.io.store import atomic_write_bytes

        grid = generate(model, sample_latents(64, config["nz"], 0))
        atomic_write_bytes(args.figures / "abstract-grid.png", encode_image(make_grid(grid, nrow=8), "PNG"))
        samples = generate(model, sample_latents(q["n"], config["nz"], args.seed))
        mem = art_memorisation(samples, crops, painting)
        fig = nearest_figure(samples, crops, train["full"].numpy(), painting, mem["distances"], mem["nearest"])
        atomic_write_bytes(args.figures / "abstract-nearest.png", encode_image(fig, "PNG"))
        files = json.loads(_files(abstract_cache_path("train", spec.config["image_size"])))
        order = np.argsort(mem["distances"])[:8]
        for rank, i in enumerate(order):
            j = mem["nearest"][i]
            print(f"nearest #{rank + 1}: sample {i} at {mem['distances'][i]:.3f} from a crop of {files[painting[j]]}")
        print(f"wrote {args.figures / 'abstract-grid.png'} (seed 0) and {args.figures / 'abstract-nearest.png'}")
    if args.json:
        args.json.write_text(json.dumps(q, indent=2))
    if args.record:
        from core.models.folder import update_record

        update_record(spec.bundled_dir, lambda t: t.update(quality=q), spec=spec)
        print(f"recorded in {spec.bundled_dir / 'training.json'} and the model card")
    return 0


def _files(path: Path) -> str:
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        return f.metadata()["files"]


if __name__ == "__main__":
    sys.exit(main())
