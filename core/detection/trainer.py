"""Training loop for the GAN-face detectors (LSTM, CNN, SupCon), and the data they learn from.

Crops come from many sources (`core.data.sources`: four real, seven generators), each passed through the
one cropper. Batches are balanced: half real, half fake, and within each half every family of
sources (CelebA, FFHQ, ... ; "lab GANs" holds our five) is drawn equally often, then every source
within its family, so no source's size, framing or people can stand in for real-or-made. Each crop
is augmented afresh (`core.detection.augment.Augment`). Validation losses are averaged per source, alike.

Per epoch: history row (train/val loss and accuracy), atomic checkpoint (resume continues from
it), early stopping on validation loss with the best weights kept. SupCon runs two phases in the
same loop: "encoder" (supervised contrastive loss on two views) then "head" (a linear layer on the
frozen encoder, cross-entropy). At the end, temperature scaling is fitted on validation logits.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.detection.augment import Augment
from core.detection.calibration import expected_calibration_error, fit_temperature
from core.detection.explain import radial_spectrum
from core.io.store import atomic_torch_save, read_history, write_history
from core.models.detectors import to_input


@dataclass
class DetectorTrainConfig:
    arch: str
    epochs: int = 20  # per phase; early stopping usually ends sooner
    batch_size: int = 64
    lr: float = 1e-3  # AdamW, decayed to 0 along a cosine over each phase's epochs
    weight_decay: float = 1e-4
    patience: int = 4  # epochs without a better validation loss before stopping
    seed: int = 0
    supcon_temperature: float = 0.1  # Khosla et al.'s default
    head_epochs: int = 4  # SupCon's linear head converges fast on frozen features
    max_steps: int | None = None  # per phase; dry runs and tests
    per_epoch: int | None = None  # crops of each class per epoch (a fresh random subset); None: all
    augment: Augment = field(default_factory=Augment)


def source_shares(names: list[str], labels: dict[str, int], family) -> dict[str, float]:
    """The share of its class's draws that each source gets: families alike, then sources within a family."""
    out = {}
    for label in (0, 1):
        mine = [n for n in names if labels[n] == label]
        fams = sorted({family(n) for n in mine})
        for n in mine:
            out[n] = 1.0 / len(fams) / sum(1 for m in mine if family(m) == family(n))
    return out


@dataclass
class DetectorData:
    """Crops per source: name -> (N, S, S, 3) uint8, for train and val; `labels` 1 = GAN-made.

    `families` groups sources for balanced sampling (default: each source is its own family).
    """

    train: dict[str, np.ndarray]
    val: dict[str, np.ndarray]
    labels: dict[str, int]
    families: dict[str, str] = field(default_factory=dict)

    @classmethod
    def two_sources(cls, train_real, train_fake, val_real, val_fake) -> DetectorData:
        """One real and one fake source (tests, quick tries)."""
        return cls({"real": train_real, "fake": train_fake}, {"real": val_real, "fake": val_fake},
                   {"real": 0, "fake": 1})

    def family(self, name: str) -> str:
        return self.families.get(name, name)

    def counts(self) -> dict:
        return {split: {n: int(len(v)) for n, v in getattr(self, split).items()} for split in ("train", "val")}

    def sampling_weights(self) -> dict[str, float]:
        """The share of each class's draws that each train source gets (families alike, then sources)."""
        return source_shares([n for n in self.train if len(self.train[n])], self.labels, self.family)

    def val_weights(self) -> np.ndarray:
        """Per validation crop, so that every source weighs alike within its class and classes alike."""
        names = list(self.val)
        per_class = {lab: sum(1 for n in names if self.labels[n] == lab and len(self.val[n])) for lab in (0, 1)}
        w = [np.full(len(self.val[n]), 1.0 / max(1, len(self.val[n])) / max(1, per_class[self.labels[n]]))
             for n in names]
        w = np.concatenate(w) if w else np.zeros(0)
        return w * len(w) / max(w.sum(), 1e-12)


def supcon_loss(features: torch.Tensor, labels: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al. 2020, "L_out"), for unit-length `features` (N, D).

    For each anchor i, the positives are the other samples with its label; the loss is
    -mean over positives p of log( exp(f_i.f_p/t) / sum over a != i of exp(f_i.f_a/t) ),
    averaged over anchors that have at least one positive.
    """
    n = features.shape[0]
    sim = features @ features.T / temperature
    self_mask = torch.eye(n, dtype=torch.bool, device=features.device)
    sim = sim.masked_fill(self_mask, float("-inf"))
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    pos = (labels[:, None] == labels[None, :]) & ~self_mask
    n_pos = pos.sum(1)
    has_pos = n_pos > 0
    mean_log_prob_pos = log_prob.masked_fill(~pos, 0.0).sum(1)[has_pos] / n_pos[has_pos]
    return -mean_log_prob_pos.mean()


def mean_spectra(crops: np.ndarray, limit: int = 1000, seed: int = 0) -> list[float]:
    """The mean radial spectrum of up to `limit` crops (a fixed random subset, so every source shows)."""
    idx = np.random.default_rng(seed).permutation(len(crops))[:limit]
    return np.mean([radial_spectrum(crops[i]) for i in idx], axis=0).round(4).tolist()


class DetectorTrainer:
    def __init__(self, model: nn.Module, cfg: DetectorTrainConfig, data: DetectorData, out_dir: Path,
                 device=None, progress: bool = True):
        from core.device import pick_device

        self.cfg, self.data, self.out = cfg, data, Path(out_dir)
        self.device = pick_device(device)
        self.model = model.to(self.device)
        self.progress = progress
        self.ckpt_path = self.out / "checkpoint.pt"
        self.history_path = self.out / "history.jsonl"
        self.phases = ["encoder", "head"] if cfg.arch == "supcon" else ["classifier"]
        self.state = {"phase": 0, "epoch": 0, "step": 0, "best_loss": math.inf, "bad_epochs": 0,
                      "best": None, "wall_time": 0.0}
        self.history: list[dict] = []
        self._val: tuple[torch.Tensor, torch.Tensor] | None = None

    # -- data -----------------------------------------------------------------------------

    def _val_set(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The validation crops as one input tensor and their labels, built once per trainer."""
        if self._val is None:
            v = self.data.val
            x = np.concatenate(list(v.values()))
            y = np.concatenate([np.full(len(a), self.data.labels[n]) for n, a in v.items()])
            self._val = to_input(x), torch.from_numpy(y).float()
            self._val_w = torch.from_numpy(self.data.val_weights()).float()
        return self._val

    def _steps_per_epoch(self) -> int:
        """An epoch draws as many crops as the train sources hold (or 2 x per_epoch), in batches."""
        n = 2 * self.cfg.per_epoch if self.cfg.per_epoch else sum(len(a) for a in self.data.train.values())
        return max(1, n // self.cfg.batch_size)

    def _epoch_batches(self, rng: np.random.Generator):
        """Balanced batches: half real, half fake; sources drawn by `DetectorData.sampling_weights`."""
        weights = self.data.sampling_weights()
        by_class = {lab: [n for n in weights if self.data.labels[n] == lab] for lab in (0, 1)}
        for lab, names in by_class.items():
            if not names:
                raise ValueError(f"no {'real' if lab == 0 else 'fake'} training crops")
        bs = self.cfg.batch_size
        for _ in range(self._steps_per_epoch()):
            images, labels = [], []
            for lab, names in by_class.items():
                p = np.array([weights[n] for n in names])
                picks = rng.choice(len(names), size=bs // 2 + (bs % 2) * lab, p=p / p.sum())
                for k in picks:
                    src = self.data.train[names[k]]
                    images.append(src[rng.integers(len(src))])
                    labels.append(lab)
            order = rng.permutation(len(images))
            yield [images[i] for i in order], torch.tensor([labels[i] for i in order]).float()

    def _views(self, images: list[np.ndarray], rng: np.random.Generator) -> torch.Tensor:
        return to_input(np.stack([self.cfg.augment(im, rng) for im in images]), self.device)

    # -- phases ---------------------------------------------------------------------------

    def _params(self, phase: str):
        if phase == "head":
            return list(self.model.head.parameters())
        if phase == "encoder":
            return list(self.model.body.parameters()) + list(self.model.projection.parameters())
        return [p for n, p in self.model.named_parameters() if not n.startswith("projection")]

    def _train_step(self, phase: str, images, y, rng) -> tuple[float, float | None]:
        y = y.to(self.device)
        if phase == "encoder":
            views = torch.cat([self._views(images, rng), self._views(images, rng)])
            loss = supcon_loss(self.model.embed(views), torch.cat([y, y]), self.cfg.supcon_temperature)
            acc = None
        else:
            logits = self.model(self._views(images, rng))
            loss = F.binary_cross_entropy_with_logits(logits, y)
            acc = float(((logits > 0).float() == y).float().mean())
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return float(loss.detach()), acc

    @torch.no_grad()
    def _validate(self, phase: str) -> tuple[float, float | None, torch.Tensor]:
        """Validation loss (and accuracy) on un-augmented crops; also returns the logits."""
        self.model.eval()
        x, y = self._val_set()
        if phase == "encoder":
            losses = []
            for s in range(0, len(x), 256):
                xb, yb = x[s : s + 256].to(self.device), y[s : s + 256].to(self.device)
                feats = self.model.embed(torch.cat([xb, xb.flip(-1)]))
                losses.append(float(supcon_loss(feats, torch.cat([yb, yb]), self.cfg.supcon_temperature)))
            return float(np.mean(losses)), None, torch.zeros(0)
        logits = torch.cat([self.model(x[s : s + 256].to(self.device)).float().cpu() for s in range(0, len(x), 256)])
        loss = float(F.binary_cross_entropy_with_logits(logits, y, weight=self._val_w))
        acc = float((((logits > 0).float() == y).float() * self._val_w).mean())  # balanced over sources
        return loss, acc, logits

    def _set_mode(self, phase: str) -> None:
        self.model.train()
        if phase == "head":  # frozen encoder: BatchNorm statistics stay as the encoder phase left them
            self.model.body.eval()
            self.model.body.requires_grad_(False)

    # -- checkpoints ----------------------------------------------------------------------

    def _save_checkpoint(self) -> None:
        # History first: if the checkpoint write then fails (a full disk) or the process dies, resume
        # drops the rows after the old checkpoint's step. The other order could lose an epoch's row
        # for good: a checkpoint past it and a history without it.
        write_history(self.history_path, self.history)
        atomic_torch_save(self.ckpt_path, {
            "model": self.model.state_dict(), "opt": self.opt.state_dict(), "state": self.state,
            "train_config": {k: v for k, v in asdict(self.cfg).items() if k != "augment"},
        })

    def _resume(self) -> None:
        ckpt = torch.load(self.ckpt_path, map_location=self.device, weights_only=True)
        if ckpt["train_config"]["arch"] != self.cfg.arch:
            raise ValueError(f"{self.ckpt_path} is a {ckpt['train_config']['arch']} run, not {self.cfg.arch}")
        self.model.load_state_dict(ckpt["model"])
        self.state = ckpt["state"]
        self._make_optimizer(self.phases[self.state["phase"]])
        self.opt.load_state_dict(ckpt["opt"])
        done = self.state["step"]
        self.history = [r for r in read_history(self.history_path) if r["step"] <= done]

    def _make_optimizer(self, phase: str) -> None:
        self.opt = torch.optim.AdamW(self._params(phase), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)

    # -- the loop -------------------------------------------------------------------------

    def train(self, resume: bool = False) -> dict:
        self.out.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(self.cfg.seed)
        if resume and self.ckpt_path.exists():
            self._resume()
        else:
            self._make_optimizer(self.phases[0])
        while self.state["phase"] < len(self.phases):
            phase = self.phases[self.state["phase"]]
            epochs = self.cfg.head_epochs if phase == "head" else self.cfg.epochs
            while self.state["epoch"] < epochs and self.state["bad_epochs"] < self.cfg.patience:
                self._run_epoch(phase, epochs)
            self._next_phase()
        return self.finish()

    def _run_epoch(self, phase: str, epochs: int) -> None:
        from tqdm.auto import tqdm

        st = self.state
        rng = np.random.default_rng([self.cfg.seed, st["phase"], st["epoch"]])  # same epoch, same draws
        started = time.perf_counter()
        self._set_mode(phase)
        # cosine decay over the phase's planned epochs: late epochs settle instead of jumping around
        lr = self.cfg.lr * 0.5 * (1 + math.cos(math.pi * st["epoch"] / max(1, epochs)))
        for group in self.opt.param_groups:
            group["lr"] = lr
        losses, accs = [], []
        batches = self._epoch_batches(rng)
        n_batches = self._steps_per_epoch()
        if self.cfg.max_steps:
            n_batches = min(n_batches, self.cfg.max_steps)
        bar = tqdm(batches, total=n_batches, disable=not self.progress, leave=False,
                   desc=f"{self.cfg.arch} {phase} epoch {st['epoch'] + 1}/{epochs}")
        for i, (images, y) in enumerate(bar):
            if i >= n_batches:
                break
            loss, acc = self._train_step(phase, images, y, rng)
            losses.append(loss)
            if acc is not None:
                accs.append(acc)
            st["step"] += 1
            if i % 10 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
        bar.close()
        val_loss, val_acc, _ = self._validate(phase)
        st["epoch"] += 1
        seconds = time.perf_counter() - started
        st["wall_time"] += seconds
        row = {"phase": phase, "epoch": st["epoch"], "step": st["step"], "train_loss": float(np.mean(losses)),
               "train_acc": float(np.mean(accs)) if accs else None, "val_loss": val_loss, "val_acc": val_acc,
               "lr": lr,
               "seconds": round(seconds, 2)}
        self.history.append(row)
        if val_loss < st["best_loss"] - 1e-4:
            st["best_loss"], st["bad_epochs"] = val_loss, 0
            st["best"] = copy.deepcopy(self.model.state_dict())
        else:
            st["bad_epochs"] += 1
        if self.progress:
            acc_txt = f", val acc {val_acc:.4f}" if val_acc is not None else ""
            print(f"{self.cfg.arch} {phase} epoch {st['epoch']}: train loss {row['train_loss']:.4f}, "
                  f"val loss {val_loss:.4f}{acc_txt} ({seconds:.0f} s)", flush=True)
        self._save_checkpoint()

    def _next_phase(self) -> None:
        st = self.state
        if st["best"] is not None:
            self.model.load_state_dict(st["best"])  # early stopping keeps the best epoch
        st.update(phase=st["phase"] + 1, epoch=0, best_loss=math.inf, bad_epochs=0, best=None)
        if st["phase"] < len(self.phases):
            self._make_optimizer(self.phases[st["phase"]])
        self._save_checkpoint()

    def finish(self) -> dict:
        """Fit the temperature on validation logits; return the facts for training.json."""
        self.model.eval()
        _, _, logits = self._validate("classifier")
        return {
            **val_summary(self.data, logits),
            "epochs_run": {p: sum(1 for r in self.history if r["phase"] == p) for p in self.phases},
            "steps": self.state["step"],
            "wall_time_s": round(self.state["wall_time"], 1),
        }


def val_by_source(data: DetectorData, probs: np.ndarray) -> dict[str, dict]:
    """Each validation source's share judged GAN-made at 0.5, and each fake source's AUC against all reals
    (`probs` in the order of `data.val`)."""
    from sklearn.metrics import roc_auc_score

    out, at = {}, 0
    spans = {}
    for n, a in data.val.items():
        spans[n] = (at, at + len(a))
        at += len(a)
    real = np.concatenate([probs[slice(*spans[n])] for n in spans if data.labels[n] == 0] or [np.zeros(0)])
    for n, (a, b) in spans.items():
        p = probs[a:b]
        row = {"count": int(b - a), "called_fake": float((p >= 0.5).mean()) if b > a else None}
        if data.labels[n] == 1 and b > a and len(real):
            row["auc"] = float(roc_auc_score(np.r_[np.zeros(len(real)), np.ones(len(p))], np.r_[real, p]))
        out[n] = row
    return out


def val_summary(data: DetectorData, logits: torch.Tensor) -> dict:
    """From a detector's validation logits (in the order of `data.val`): the temperature fitted with every
    source weighing alike, the per-source figures at it, accuracy, and the calibration error before and after."""
    y = torch.from_numpy(np.concatenate([np.full(len(a), data.labels[n]) for n, a in data.val.items()])).float()
    logits = logits.detach().float().cpu()
    w = torch.from_numpy(data.val_weights()).float()
    temperature = fit_temperature(logits, y, weights=w)
    raw = torch.sigmoid(logits).numpy()
    calibrated = torch.sigmoid(logits / temperature).numpy()
    return {
        "temperature": temperature,
        "val_by_source": val_by_source(data, calibrated),
        "val_accuracy": float((((logits > 0).float() == y).float() * w).mean()),  # balanced over sources
        "val_ece_before": expected_calibration_error(raw, y.numpy()),
        "val_ece_after": expected_calibration_error(calibrated, y.numpy()),
    }
