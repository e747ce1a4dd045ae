"""Train the real-only detector: a pixel coder of real photos and a one-class model of its statistics.

    python -m train.realonly --out runs/realonly                      # every real source's train crops
    python -m train.realonly --out runs/realonly --resume             # after Ctrl-C or a crash
    python -m train.realonly --dry-run                                # a few steps on a few crops, for CI
    python -m train.bundle --run runs/realonly --name realonly        # into weights/realonly/

No generated face is read: the coder (`core.detection.realonly.PixelCoder`) learns to predict each pixel
of the real sources' training crops (`train.detector_data`'s caches of CelebA, FFHQ, LFW, UTKFace) from
its neighbours, at full, half and quarter resolution; a share of the crops is shown in black and white
or sepia (`--gray`, `--sepia`) so that a toned photo is not improbable by its colour alone. Then the
coding statistics of every other training crop fit the one-class model, and the rest give the reference
scores that `real_quantile` reads. A checkpoint is written every epoch; `--resume` continues from it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def parser() -> argparse.ArgumentParser:
    from core.data import sources

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("runs/realonly"), help="run folder")
    ap.add_argument("--sources", nargs="+", default=sources.names("real"), choices=sources.names("real"),
                    help="real sources whose training crops it learns from")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--per-epoch", type=int, default=1600, help="crops per epoch (a fresh random draw, sources alike)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--patch", type=int, default=48, help="a random window this wide of each scale is coded per step")
    ap.add_argument("--width", type=int, default=64, help="the coder's channels")
    ap.add_argument("--kernel", type=int, default=7, help="the neighbourhood a pixel is predicted from")
    ap.add_argument("--gray", type=float, default=0.1, help="share of training crops shown in black and white")
    ap.add_argument("--sepia", type=float, default=0.05, help="share shown in sepia")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    ap.add_argument("--dry-run", action="store_true", help="a few steps on a few crops (random if no cache)")
    ap.add_argument("--threads", type=int, default=None)
    return ap


def real_crops(names: list[str], split: str, limit: int | None = None) -> dict[str, np.ndarray]:
    from core.data import sources
    from core.models.detectors import CROP_SIZE

    out = {}
    for n in sources.available(names):
        c = sources.load_source(n, split, CROP_SIZE, limit=limit).crops
        if len(c):
            out[n] = c
    return out


def draw(crops: dict[str, np.ndarray], n: int, rng: np.random.Generator, gray: float, sepia: float) -> np.ndarray:
    """`n` crops, sources alike, each mirrored half the time and toned with its probability."""
    from core.detection.augment import toned

    names = list(crops)
    picks = []
    for i in range(n):
        src = crops[names[i % len(names)]]
        c = src[rng.integers(len(src))]
        if rng.random() < 0.5:
            c = c[:, ::-1]
        u = rng.random()
        if u < gray:
            c = toned(c, "gray")
        elif u < gray + sepia:
            c = toned(c, "sepia")
        picks.append(np.ascontiguousarray(c))
    return np.stack(picks)[rng.permutation(n)]


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    import torch

    from core.detection.realonly import RealOnlyDetector, coder_loss, to_levels
    from core.io.store import atomic_torch_save, write_history
    from core.models.folder import write_model

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    limit = 8 if args.dry_run else None
    train = real_crops(args.sources, "train", limit)
    if not train and args.dry_run:  # no shared data here: random crops exercise the code path
        train = {"noise": rng.integers(0, 256, (8, 128, 128, 3), dtype=np.uint8)}
    if not train:
        sys.exit("error: no real training crops found (run python -m train.detector_data first)")
    epochs, per_epoch = (1, 4) if args.dry_run else (args.epochs, args.per_epoch)
    steps = -(-per_epoch // args.batch)
    model = RealOnlyDetector(args.width, args.kernel)
    opt = torch.optim.AdamW(model.coder.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * steps)
    args.out.mkdir(parents=True, exist_ok=True)
    ckpt, history, start, wall = args.out / "checkpoint.pt", [], 0, 0.0
    if args.resume and ckpt.exists():
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
        model.coder.load_state_dict(state["coder"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        history, start, wall = state["history"], state["epoch"], state["wall"]
        gen.manual_seed(args.seed + start)
        rng = np.random.default_rng([args.seed, start])
        print(f"resumed at epoch {start}", flush=True)
    from tqdm.auto import tqdm

    for epoch in range(start, epochs):
        t0 = time.perf_counter()
        batch_crops = draw(train, steps * args.batch, rng, args.gray, args.sepia)
        model.coder.train()
        losses = []
        bar = tqdm(range(steps), desc=f"epoch {epoch + 1}/{epochs}", disable=args.dry_run)
        for s in bar:
            loss = coder_loss(model.coder, to_levels(batch_crops[s * args.batch:(s + 1) * args.batch]), args.patch, gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
            bar.set_postfix(nats=f"{np.mean(losses[-20:]):.4f}")
        wall += time.perf_counter() - t0
        history.append({"epoch": epoch + 1, "step": (epoch + 1) * steps, "coding_cost": float(np.mean(losses)),
                        "seconds": round(wall, 1)})
        print(f"epoch {epoch + 1}: {np.mean(losses):.4f} nats per value, {wall:.0f} s", flush=True)
        rng_next = np.random.default_rng([args.seed, epoch + 1])
        atomic_torch_save(ckpt, {"coder": model.coder.state_dict(), "opt": opt.state_dict(),
                                 "sched": sched.state_dict(), "history": history, "epoch": epoch + 1, "wall": wall})
        rng = rng_next
        gen.manual_seed(args.seed + epoch + 1)
    model.coder.eval()
    counts = fit_one_class(model, train)
    write_history(args.out / "history.jsonl", history)
    config = {"width": args.width, "kernel": args.kernel, "hidden": model.coder.hidden, "shrink": model.shrink}
    write_model(model, args.out, config, {
        "kind": "real-only", "sources": sorted(train), "train_crops": counts, "epochs": epochs,
        "per_epoch": per_epoch, "batch": args.batch, "patch": args.patch, "lr": args.lr, "gray": args.gray,
        "sepia": args.sepia, "seed": args.seed, "wall_time_s": round(wall, 1), "threads": torch.get_num_threads(),
        "dry_run": args.dry_run, "fakes_seen": 0,
        "one_class": "every other training crop of each source fits it; the rest, and 200 of them in black and "
                     "white, give the reference scores"}, half=False)
    print(f"wrote {args.out} ({wall:.0f} s of training)")
    return 0


def fit_one_class(model, train: dict[str, np.ndarray]) -> dict[str, int]:
    """Fit the one-class model on the statistics of every other crop of each source; the rest (and each of
    them in black and white) are the reference scores."""
    from core.detection.augment import toned_crops

    fit, ref = [], []
    for crops in train.values():
        stats = model.stats(crops)
        fit.append(stats[0::2])
        ref.append(stats[1::2])
        if len(crops) > 1:
            ref.append(model.stats(toned_crops(crops[1::2][:200], "gray")))
    model.fit_one_class(np.concatenate(fit), np.concatenate(ref))
    return {n: len(c) for n, c in train.items()}


if __name__ == "__main__":
    sys.exit(main())
