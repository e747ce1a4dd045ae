"""The one GAN training loop. The adversarial loss is the pluggable part (DCGAN's BCE, LSGAN's
least squares); data, history, snapshots, checkpoints, resume and guards are shared.

Every epoch ends with the same three writes, each atomic: the exported model folder
(model.safetensors + config.json + training.json, what the app loads), a fixed-noise snapshot,
and checkpoint.pt (everything `resume` needs). history.jsonl gets one row per iteration; on
resume, rows after the checkpoint's step are dropped, so the history stays continuous.
"""

from __future__ import annotations

import copy
import json
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.device import hardware_description, native_bfloat16, pick_device
from core.gan.augment import diffaug_steps
from core.gan.losses import GANLoss
from core.gan.sampling import encode_image, generate, make_grid, sample_latents
from core.io.store import atomic_torch_save, atomic_write_bytes, read_history, write_history
from core.models.folder import write_model
from core.models.history import HISTORY_FILE, SNAPSHOT_DIR, snapshot_paths


class TrainingStopped(RuntimeError):
    """Training cannot go on (NaN losses, a collapsed run); the message says what to do."""


R1_EVERY = 4  # lazy R1: the penalty on every 4th step, 4 times as heavy


@dataclass
class TrainConfig:
    epochs: int = 60  # 4,800 faces at batch 64 is 75 steps an epoch; ~4,500 steps in all
    batch_size: int = 64  # smaller than the tutorial's 128: on a small data set, more updates
    lr: float = 2e-4  # the DCGAN paper's Adam settings
    beta1: float = 0.5
    beta2: float = 0.999
    seed: int = 0
    hflip: bool = True  # faces are near-symmetric; flipping doubles the data for free
    ema_decay: float = 0.999  # exported weights are an EMA of G: sharper, steadier samples
    # DiffAugment (Zhao et al. 2020): the same random, differentiable changes applied to every
    # batch D sees, real and fake, in D's step and G's; keeps D from memorising a small data set.
    # Comma-separated from "color", "translation", "cutout"; "" = off.
    diffaug: str = ""
    freeze_d: int = 0  # FreezeD (Mo et al. 2020): D's first N conv layers stay as loaded (fine-tunes)
    # R1 (Mescheder et al. 2018): gamma/2 times the squared gradient of D's output on the real batch it sees,
    # added to D's loss; keeps D smooth around the real images on a small data set. 0 = off. Lazy, as in
    # StyleGAN2: every R1_EVERY-th step, weighted by R1_EVERY (the double backward pass costs about as much
    # as the rest of the step).
    r1_gamma: float = 0.0
    n_snapshot: int = 16  # fixed-noise faces saved each epoch (a 4x4 grid)
    max_steps: int | None = None  # stop early (dry runs, tests)
    log_every: int = 1  # history rows every N iterations
    # "bfloat16": G's and D's passes under autocast (weights, Adam and losses stay float32). On CPUs with
    # AVX512-BF16 an iteration takes ~0.6x the time; not bit-identical to float32 (docs/benchmarks.md, make bench).
    # "auto" (the default): bfloat16 where the device computes it natively, float32 elsewhere, where it is
    # emulated and slower (resolve_precision); "float32" is the exact path on any device.
    precision: str = "auto"

    def __post_init__(self):
        diffaug_steps(self.diffaug)  # an unknown policy fails here, before any data or model is loaded
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision {self.precision!r}: choose from {', '.join(PRECISIONS)}")


PRECISIONS = ("auto", "float32", "bfloat16")


def resolve_precision(precision: str, device) -> str:
    """"auto" -> "bfloat16" on a device with native bfloat16 (a CPU with AVX512-BF16 or AMX, a CUDA GPU that
    supports it: core.device.native_bfloat16), else "float32"; "float32" and "bfloat16" as asked."""
    if precision != "auto":
        return precision
    return "bfloat16" if native_bfloat16(device) else "float32"


def precision_line(precision: str, device) -> str:
    """What a run computes in and why, printed at its start."""
    resolved = resolve_precision(precision, device)
    if precision != "auto":
        return f"precision: {resolved} (asked for)"
    why = "native bfloat16" if resolved == "bfloat16" else "no native bfloat16"
    return f"precision: {resolved} (auto: {device} has {why}; --precision float32 or bfloat16 to choose)"


# ----------------------------------------------------------------------------- helpers


@torch.no_grad()
def recalibrate_batchnorm(generator: nn.Module, nz: int, batches: int = 16, batch_size: int = 64,
                          seed: int = 0) -> nn.Module:
    """Re-estimate BatchNorm running statistics of `generator` on its own samples.

    An EMA of the weights has no running statistics of its own; without this, eval-mode samples
    from the EMA weights are washed out.
    """
    device = next(generator.parameters()).device
    bns = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the calibration batches
    generator.train()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # the running statistics update without a graph: same figures, less work
        for _ in range(batches):
            generator(torch.randn(batch_size, nz, generator=gen).to(device))
    for m in bns:
        m.momentum = 0.1
    return generator.eval()


def _to_float_batch(x: torch.Tensor, device: torch.device, hflip: bool) -> torch.Tensor:
    x = x.to(device, non_blocking=True).float().div_(127.5).sub_(1.0)
    if hflip:
        flip = torch.rand(x.shape[0], device=device) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    return x


# ----------------------------------------------------------------------------- trainer


@dataclass
class GANRun:
    """What a training script hands the loop: models, loss, data and where to write."""

    generator: nn.Module
    discriminator: nn.Module
    loss: GANLoss
    images: torch.Tensor  # (N, 3, H, W) uint8
    out_dir: Path
    model_config: dict  # written to config.json: rebuilds the generator
    meta: dict = field(default_factory=dict)  # data set facts for training.json / the model card
    init: Callable[[nn.Module], None] | None = None  # weight init for fresh runs
    init_from: Path | None = None  # fine-tune: a run's checkpoint.pt whose G, D and EMA weights start this run


def distributed_context(device=None) -> tuple[int, int, torch.device]:
    """(rank, world size, device) for this process; sets up torch.distributed under torchrun.

    torchrun sets WORLD_SIZE/RANK/LOCAL_RANK; gloo on CPU, nccl on GPU (one GPU per process).
    """
    import os

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, pick_device(device)
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = pick_device(device)
    if dev.type == "cuda":
        dev = torch.device("cuda", local_rank)
        torch.cuda.set_device(dev)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size(), dev


class GANTrainer:
    """Runs a GANRun. Under `torchrun --nproc_per_node N` each process trains on 1/N of every
    batch through DistributedDataParallel; rank 0 alone writes history, snapshots and checkpoints.
    """

    def __init__(self, run: GANRun, cfg: TrainConfig, device=None, progress: bool = True):
        self.run, self.cfg = run, cfg
        self.rank, self.world, self.device = distributed_context(device)
        self.is_main = self.rank == 0
        self.progress = progress and self.is_main
        if cfg.batch_size % self.world:
            raise ValueError(f"batch size {cfg.batch_size} does not split over {self.world} processes")
        self.out = Path(run.out_dir)
        self.ckpt_path = self.out / "checkpoint.pt"
        self.history_path = self.out / HISTORY_FILE
        # channels_last: oneDNN's backward convolutions run faster in it on the CPU
        # (bench/train_vs_reference.py measures the whole loop)
        self.memory_format = torch.channels_last
        self.G = run.generator.to(self.device, memory_format=self.memory_format)
        self.D = run.discriminator.to(self.device, memory_format=self.memory_format)
        self.nz = run.model_config["nz"]
        self.precision = resolve_precision(cfg.precision, self.device)  # what "auto" means on this device
        if self.is_main:
            print(precision_line(cfg.precision, self.device), flush=True)
        self.augment_steps = diffaug_steps(cfg.diffaug)  # applied to every batch D sees
        self.d_trainable = list(self.D.parameters())  # what G's step freezes and gives back (less FreezeD's)
        self.G_train, self.D_train = self.G, self.D  # what the iteration calls (DDP-wrapped when distributed)
        # fused: one kernel for every parameter's Adam update instead of a Python loop over tensors
        self.optG = torch.optim.Adam(self.G.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), fused=True)
        self.optD = torch.optim.Adam(self.D.parameters(), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), fused=True)
        self.steps_per_epoch = max(1, len(run.images) // cfg.batch_size)
        self.epoch = 0  # epochs completed
        self.step = 0  # iterations completed
        self.wall_time = 0.0
        self.fixed_noise = sample_latents(cfg.n_snapshot, self.nz, seed=cfg.seed + 10_000)

    # -- state --------------------------------------------------------------------------------

    def _fresh_start(self) -> None:
        torch.manual_seed(self.cfg.seed)
        np.random.seed(self.cfg.seed)
        if self.run.init is not None:
            self.G.apply(self.run.init)
            self.D.apply(self.run.init)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        if self.run.init_from is not None:
            self._load_weights_from(Path(self.run.init_from))
        self.history: list[dict] = []
        if self.is_main:
            for _, p in snapshot_paths(self.out):
                p.unlink()

    def _load_weights_from(self, path: Path) -> None:
        """Start from another run's G, D and EMA weights (fresh optimisers, step 0): fine-tuning."""
        if path.is_dir():
            path = path / "checkpoint.pt"
        if not path.exists():
            raise TrainingStopped(f"{path} does not exist; train the base model first (it writes checkpoint.pt)")
        state = torch.load(path, map_location=self.device, weights_only=True)
        if state["model_config"] != self.run.model_config:
            raise TrainingStopped(f"{path} holds {state['model_config']}, not {self.run.model_config}; "
                                  "fine-tuning needs the same architecture and latent size")
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.G_ema.load_state_dict(state["G_ema"])

    def _checkpoint_state(self) -> dict:
        return {
            "G": self.G.state_dict(), "D": self.D.state_dict(), "G_ema": self.G_ema.state_dict(),
            "optG": self.optG.state_dict(), "optD": self.optD.state_dict(),
            "epoch": self.epoch, "step": self.step, "wall_time": self.wall_time,
            "train_config": asdict(self.cfg), "model_config": self.run.model_config,
        }

    def _resume(self) -> None:
        state = torch.load(self.ckpt_path, map_location=self.device, weights_only=True)
        if state["model_config"] != self.run.model_config:
            raise TrainingStopped(
                f"{self.ckpt_path} was trained with {state['model_config']}, not "
                f"{self.run.model_config}; use another --out or drop --resume"
            )
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.G_ema.load_state_dict(state["G_ema"])
        self.optG.load_state_dict(state["optG"])
        self.optD.load_state_dict(state["optD"])
        # Adam's moments carry on, but the rate and betas are this run's: `--resume --lr 5e-5`
        # lowers the rate (what the NaN guard advises), instead of the checkpoint's rate coming back
        for opt in (self.optG, self.optD):
            for group in opt.param_groups:
                group["lr"], group["betas"] = self.cfg.lr, (self.cfg.beta1, self.cfg.beta2)
        self.epoch, self.step, self.wall_time = state["epoch"], state["step"], state["wall_time"]
        # rows logged after the checkpoint belong to the epoch that is run again
        self.history = [r for r in read_history(self.history_path) if r["step"] < self.step]
        if self.is_main:
            write_history(self.history_path, self.history)
            for epoch, p in snapshot_paths(self.out):
                if epoch > self.epoch:
                    p.unlink()

    # -- loop ---------------------------------------------------------------------------------

    def _freeze_d(self) -> None:
        """FreezeD: D's first cfg.freeze_d conv layers keep the weights they were loaded with."""
        if not self.cfg.freeze_d:
            return
        convs = [m for m in self.D.modules() if isinstance(m, nn.Conv2d)]
        if self.cfg.freeze_d >= len(convs):
            raise ValueError(f"freeze_d={self.cfg.freeze_d}, but D has only {len(convs)} conv layers")
        for m in convs[: self.cfg.freeze_d]:
            m.requires_grad_(False)
        self.d_trainable = [p for p in self.D.parameters() if p.requires_grad]

    def _wrap_distributed(self) -> None:
        """Same start on every rank, then DDP averages gradients across ranks each step."""
        if self.world == 1:
            return
        import torch.distributed as dist
        from torch.nn.parallel import DistributedDataParallel as DDP

        for module in (self.G, self.D, self.G_ema):
            for t in list(module.parameters()) + list(module.buffers()):
                dist.broadcast(t.data, src=0)
        ids = [self.device.index] if self.device.type == "cuda" else None
        # D runs twice (real, fake) before one backward; BatchNorm statistics stay per rank, as
        # syncing them between those forwards would modify tensors autograd still needs.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # broadcast_buffers: still the right knob here
            self.G_train = DDP(self.G, device_ids=ids, broadcast_buffers=False)
            self.D_train = DDP(self.D, device_ids=ids, broadcast_buffers=False)

    def _reduce_metrics(self, row: dict) -> dict:
        if self.world == 1:
            return row
        import torch.distributed as dist

        keys = [k for k in row if k not in ("step", "epoch")]
        t = torch.tensor([row[k] for k in keys], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return {"step": row["step"], "epoch": row["epoch"], **dict(zip(keys, (t / self.world).tolist(), strict=True))}

    def train(self, resume: bool = False) -> dict:
        """Train up to cfg.epochs (or cfg.max_steps) and return the training summary."""
        if self.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
        if resume and self.ckpt_path.exists():
            self._resume()
        else:
            self._fresh_start()
        self._freeze_d()
        self._wrap_distributed()
        cfg, G, D, loss = self.cfg, self.G, self.D, self.run.loss
        G.train()
        D.train()
        total = cfg.epochs * self.steps_per_epoch
        if cfg.max_steps is not None:
            total = min(total, cfg.max_steps)
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, initial=min(self.step, total), unit="it", dynamic_ncols=True,
                       desc=f"{loss.name} epoch {self.epoch + 1}/{cfg.epochs}")
        history_file = open(self.history_path, "a") if self.is_main else None
        try:
            while self.epoch < cfg.epochs and self.step < total:
                started = time.perf_counter()
                if bar is not None:
                    bar.set_description(f"{loss.name} epoch {self.epoch + 1}/{cfg.epochs}")
                # Randomness is a function of (seed, epoch, rank): a resumed epoch replays exactly.
                torch.manual_seed(cfg.seed * 1_000_003 + self.epoch * 1_009 + self.rank)
                order = torch.randperm(
                    len(self.run.images), generator=torch.Generator().manual_seed(cfg.seed * 100_003 + self.epoch)
                )
                for i in range(self.steps_per_epoch):
                    if self.step >= total:
                        break
                    idx = order[i * cfg.batch_size : (i + 1) * cfg.batch_size][self.rank :: self.world]
                    real = _to_float_batch(self.run.images[idx], self.device, cfg.hflip)
                    real = real.contiguous(memory_format=self.memory_format)
                    row = self._reduce_metrics(self._iteration(real))
                    if history_file is not None and self.step % cfg.log_every == 0:
                        history_file.write(json.dumps(row) + "\n")
                        self.history.append(row)
                    self.step += 1
                    if bar is not None:
                        bar.update(1)
                        if self.step % 10 == 0:
                            bar.set_postfix({k: f"{v:.3f}" for k, v in row.items() if k not in ("step", "epoch")})
                if history_file is not None:
                    history_file.flush()
                self.wall_time += time.perf_counter() - started
                self.epoch += 1
                if self.is_main:
                    self._end_of_epoch()
        finally:
            if history_file is not None:
                history_file.close()
            if bar is not None:
                bar.close()
        return self.summary()

    def close(self) -> None:
        """Leave the process group (torchrun); harmless otherwise."""
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier()
            dist.destroy_process_group()

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        for step in self.augment_steps:
            x = step(x)
        return x

    def _iteration(self, real: torch.Tensor) -> dict:
        if self.precision == "float32":
            return self._step(real)
        with torch.autocast(self.device.type, dtype=torch.bfloat16):
            return self._step(real)

    def _step(self, real: torch.Tensor) -> dict:
        cfg, G, D, loss = self.cfg, self.G_train, self.D_train, self.run.loss
        b = real.shape[0]
        # (1) Update D: real and fake batches go through D separately, as in the tutorial,
        #     so BatchNorm sees each on its own.
        D.zero_grad(set_to_none=True)
        seen = self._augment(real)
        r1_now = cfg.r1_gamma > 0 and self.step % R1_EVERY == 0
        if r1_now:
            seen = seen.detach().requires_grad_(True)
        out_real = D(seen)
        z = torch.randn(b, self.nz, device=self.device)
        fake = G(z)
        out_fake = D(self._augment(fake.detach()))
        # D's outputs in float32 for the losses (a no-op in float32; under bfloat16 the losses stay exact)
        loss_d, metrics_d = loss.d_loss(out_real.float(), out_fake.float())
        if r1_now:
            (grad,) = torch.autograd.grad(out_real.float().sum(), seen, create_graph=True)
            r1 = grad.square().flatten(1).sum(1).mean()
            loss_d = loss_d + 0.5 * cfg.r1_gamma * R1_EVERY * r1
            metrics_d["R1"] = r1.item()  # on the rows of the steps that measure it
        loss_d.backward()
        self.optD.step()
        # (2) Update G: make D call the fakes real. D's own gradients from this pass would be thrown
        #     away at the next D step, so D is frozen and not computed (about a sixth of D's work);
        #     the plain module, not its DDP wrapper, as no gradient of D's is to be synced here.
        G.zero_grad(set_to_none=True)
        for p in self.d_trainable:
            p.requires_grad_(False)
        try:
            loss_g, metrics_g = loss.g_loss(self.D(self._augment(fake)).float())
            loss_g.backward()
        finally:
            for p in self.d_trainable:
                p.requires_grad_(True)
        self.optG.step()
        # EMA warm-up: early on the average follows G closely, so the first snapshots already
        # show what G draws; later it smooths over ~1/(1-decay) steps.
        decay = min(cfg.ema_decay, (1 + self.step) / (10 + self.step))
        with torch.no_grad():  # one fused call over every tensor, the same arithmetic as a lerp_ each
            torch._foreach_lerp_(list(self.G_ema.parameters()), list(self.G.parameters()), 1.0 - decay)
        row = {"step": self.step, "epoch": self.epoch, **metrics_d, **metrics_g}
        bad = [k for k, v in row.items() if not math.isfinite(v)]
        if bad:
            where = (f"The last good checkpoint is {self.ckpt_path}; resume from it with a lower --lr."
                     if self.ckpt_path.exists() else "There is no checkpoint yet; start again with a lower --lr.")
            raise TrainingStopped(
                f"{', '.join(bad)} became {row[bad[0]]} at step {self.step} (epoch {self.epoch + 1}). {where}"
            )
        return row

    def export_generator(self) -> nn.Module:
        """A copy of the EMA generator with fresh BatchNorm statistics, in eval mode."""
        g = copy.deepcopy(self.G_ema)
        return recalibrate_batchnorm(g, self.nz, seed=self.cfg.seed)

    def _end_of_epoch(self) -> None:
        g = self.export_generator()
        samples = generate(g, self.fixed_noise)
        # A collapsed generator draws (nearly) the same picture for every latent.
        spread = float(samples.reshape(len(samples), -1).astype(np.float32).std(axis=0).mean())
        nrow = int(math.ceil(math.sqrt(len(samples))))
        atomic_write_bytes(
            self.out / SNAPSHOT_DIR / f"epoch_{self.epoch:03d}.jpg",
            encode_image(make_grid(samples, nrow=nrow), "JPEG", quality=88),
        )
        # checked before saving, so the checkpoint on disk stays the last good one
        if self.step >= 500 and len(samples) > 1 and spread < 2.0:
            raise TrainingStopped(
                f"mode collapse at epoch {self.epoch}: the {len(samples)} fixed-noise samples are nearly "
                f"identical (pixel spread {spread:.2f} of 255). Resume from {self.ckpt_path} with a lower "
                "--lr, or restart with another --seed."
            )
        write_model(g, self.out, self.run.model_config, self.summary(), half=True)
        atomic_torch_save(self.ckpt_path, self._checkpoint_state())

    def summary(self) -> dict:
        cfg = self.cfg
        last = self.history[-self.steps_per_epoch:] if self.history else []
        keys = dict.fromkeys(k for r in last for k in r if k not in ("step", "epoch"))  # R1 is on some rows only
        means = {k: float(np.mean([r[k] for r in last if k in r])) for k in keys}
        images_seen = self.step * cfg.batch_size
        return {
            **self.run.meta,
            "loss": self.run.loss.name,
            "epochs_done": self.epoch,
            "epochs_planned": cfg.epochs,
            "steps": self.step,
            "images_seen": images_seen,
            "wall_time_s": round(self.wall_time, 1),
            "images_per_s": round(images_seen / self.wall_time, 1) if self.wall_time else None,
            "hardware": hardware_description(self.device),
            "precision": self.precision,  # as resolved on this device; train_config keeps what was asked ("auto")
            "train_config": asdict(cfg),
            "last_epoch_means": means,
            "finished": self.epoch >= cfg.epochs,
        }
