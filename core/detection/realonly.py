"""A detector that never sees a fake: a pixel coder of real camera photos, and how surprised it is.

The idea of ZED (Cozzolino et al., ECCV 2024, "Zero-Shot Detection of AI-Generated Images"): a model
that predicts each pixel of a *real* photo from its neighbours assigns every pixel a probability, so
an image has a coding cost (its negative log-likelihood, in nats per value) and an expected coding
cost (the entropy of the model's own predictions). On real photos like those it learnt from the two
agree; a generator's pixels are more (or less) predictable than the model expects, at one resolution
or another. The gap between cost and expectation, at several resolutions, is the evidence, and no
generated image was needed to learn it.

`PixelCoder` is a small blind-spot predictor: each pixel's three values get a Laplace distribution
(mean and scale) from the 7x7 neighbourhood around it with the pixel itself masked out, through one
masked convolution and a per-pixel MLP. It reads the crop at full, half and quarter resolution (the
same weights, trained on all three), which gives per image `STATS` numbers: the mean cost, the mean
expected cost and their gap at each scale.

`RealOnlyDetector` wraps the coder and a one-class model of the real crops' statistics (their mean
and a shrunk inverse covariance, fitted on real photos only): its score is the Mahalanobis distance
from the real photos' statistics, and `real_quantile` maps a score to the share of held-out real
faces scoring lower. Nothing in it ever saw a generated face, so what it finds improbable is measured
against real photos alone.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SCALES = (1, 2, 4)  # the crop at full, half and quarter resolution
STATS = ("cost", "expected", "gap")  # per scale: mean coding cost, mean entropy, their difference
MIN_SCALE = 0.25  # the smallest Laplace scale, in 8-bit levels: coding cost cannot go below ~0.7 nats
REFERENCE_POINTS = 1001


def stat_names() -> list[str]:
    return [f"{s}@{k}x" for k in SCALES for s in STATS]


class PixelCoder(nn.Module):
    """Blind-spot Laplace predictor of 8-bit RGB pixels.

    (N, 3, H, W) levels in [0, 255] -> (mean, scale) of the same shape: each pixel's distribution given
    the `kernel` x `kernel` square around it, the pixel itself (all three channels) left out.
    """

    def __init__(self, width: int = 64, kernel: int = 7, hidden: int = 2):
        super().__init__()
        self.width, self.kernel, self.hidden = width, kernel, hidden
        self.first = nn.Conv2d(3, width, kernel)  # padded by reflection in forward
        mask = torch.ones(1, 1, kernel, kernel)
        mask[..., kernel // 2, kernel // 2] = 0.0  # the blind spot: a pixel never sees itself
        self.register_buffer("mask", mask, persistent=False)
        layers: list[nn.Module] = []
        for _ in range(hidden):
            layers += [nn.GELU(), nn.Conv2d(width, width, 1)]
        layers += [nn.GELU(), nn.Conv2d(width, 6, 1)]  # per channel: offset of the mean, raw scale
        self.mlp = nn.Sequential(*layers)

    def forward(self, levels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = levels / 127.5 - 1.0
        p = self.kernel // 2
        h = F.conv2d(F.pad(x, (p, p, p, p), mode="reflect"), self.first.weight * self.mask, self.first.bias)
        out = self.mlp(h)
        # the mean as an offset from the neighbours' average (a good start: smooth images are easy)
        local = F.avg_pool2d(F.pad(levels, (1, 1, 1, 1), mode="reflect"), 3, 1)
        local = (local * 9 - levels) / 8
        mean = local + 32.0 * out[:, :3]
        scale = F.softplus(out[:, 3:] + 1.0) * 4.0 + MIN_SCALE
        return mean, scale


def laplace_cost(levels: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood (nats) of each value under its Laplace(mean, scale), per element."""
    return (levels - mean).abs() / scale + torch.log(2 * scale)


def laplace_entropy(scale: torch.Tensor) -> torch.Tensor:
    """The expected cost of a Laplace(., scale) value: its differential entropy, 1 + log(2 scale)."""
    return 1.0 + torch.log(2 * scale)


def downscale(levels: torch.Tensor, k: int) -> torch.Tensor:
    """(N, 3, H, W) levels averaged over k x k blocks (k = 1: as they are)."""
    return levels if k == 1 else F.avg_pool2d(levels, k)


def to_levels(crops: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """(N, H, W, 3) uint8 -> (N, 3, H, W) float levels in [0, 255]."""
    return torch.from_numpy(np.ascontiguousarray(crops)).to(device).permute(0, 3, 1, 2).float()


def coder_loss(coder: PixelCoder, levels: torch.Tensor, patch: int | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """Mean coding cost (nats per value) of a batch, every scale of `SCALES` alike; with `patch`, of one
    random `patch` x `patch` window of each scale (training: the cost is local, the windows are cheaper)."""
    losses = []
    for k in SCALES:
        x = downscale(levels, k)
        if patch is not None and x.shape[-1] > patch:
            i, j = (int(v) for v in torch.randint(0, x.shape[-1] - patch + 1, (2,), generator=generator))
            x = x[..., i:i + patch, j:j + patch]
        mean, scale = coder(x)
        losses.append(laplace_cost(x, mean, scale).mean())
    return torch.stack(losses).mean()


@torch.inference_mode()
def coding_stats(coder: PixelCoder, crops: np.ndarray, batch: int = 64, border: int = 3) -> np.ndarray:
    """(N, S, S, 3) uint8 -> (N, len(stat_names())) float64: per scale, the mean coding cost, the mean
    expected cost and their gap. `border` pixels at each edge (at full scale; fewer below) are left out:
    reflection padding makes them cheap, and the cropper paints replicated edges there."""
    out = np.zeros((len(crops), len(SCALES) * len(STATS)))
    device = next(coder.parameters()).device
    for i in range(0, len(crops), batch):
        levels = to_levels(crops[i:i + batch], device)
        row = []
        for k in SCALES:
            x = downscale(levels, k)
            mean, scale = coder(x)
            cost, ent = laplace_cost(x, mean, scale), laplace_entropy(scale)
            b = max(1, border // k)
            cost, ent = cost[..., b:-b, b:-b].mean((1, 2, 3)), ent[..., b:-b, b:-b].mean((1, 2, 3))
            row += [cost, ent, cost - ent]
        out[i:i + batch] = torch.stack(row, 1).double().cpu().numpy()
    return out


class RealOnlyDetector(nn.Module):
    """The pixel coder and a one-class model of real crops' coding statistics.

    `score(crops)`: Mahalanobis distance of each crop's statistics from the real photos' (larger: more
    improbable for a real photo). `real_quantile(scores)`: the share of held-out real faces (`reference`,
    sorted, kept with the model) that scored lower, 0-1. Fitted by `fit_one_class` on real crops only.
    """

    def __init__(self, width: int = 64, kernel: int = 7, hidden: int = 2, shrink: float = 0.1):
        super().__init__()
        self.coder = PixelCoder(width, kernel, hidden)
        n = len(SCALES) * len(STATS)
        self.shrink = shrink
        self.register_buffer("mean", torch.zeros(n, dtype=torch.float64))
        self.register_buffer("precision", torch.eye(n, dtype=torch.float64))
        # held-out real crops' scores at the quantiles 0, 0.001, ..., 1 (a fixed size, so a bundle loads strictly)
        self.register_buffer("reference", torch.zeros(REFERENCE_POINTS, dtype=torch.float64))

    def fit_one_class(self, stats: np.ndarray, held_out: np.ndarray) -> None:
        """Mean and shrunk covariance of real crops' statistics; `held_out` real crops' scores as reference."""
        s = np.asarray(stats, np.float64)
        mean = s.mean(0)
        cov = np.cov(s, rowvar=False)
        cov = (1 - self.shrink) * cov + self.shrink * np.diag(np.diag(cov))
        self.mean = torch.from_numpy(mean)
        self.precision = torch.from_numpy(np.linalg.inv(cov))
        self.reference = torch.from_numpy(np.quantile(self.distance(held_out), np.linspace(0, 1, REFERENCE_POINTS)))

    def distance(self, stats: np.ndarray) -> np.ndarray:
        d = np.asarray(stats, np.float64) - self.mean.numpy()
        return np.sqrt(np.maximum(np.einsum("nd,de,ne->n", d, self.precision.numpy(), d), 0.0))

    def stats(self, crops: np.ndarray) -> np.ndarray:
        return coding_stats(self.coder, crops)

    def score(self, crops: np.ndarray) -> np.ndarray:
        return self.distance(self.stats(crops))

    def real_quantile(self, scores: np.ndarray) -> np.ndarray:
        """Share of the held-out real faces that scored lower than each score (0-1)."""
        ref = self.reference.numpy()
        if not ref[-1] > 0:
            raise ValueError("the one-class model is not fitted")
        return np.interp(np.asarray(scores, np.float64), ref, np.linspace(0, 1, len(ref)))

    def forward(self, crops: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 crops -> the share of held-out real faces that look more probable (0-1)."""
        return self.real_quantile(self.score(crops))


FOLDER = "realonly"  # under weights/


def load(folder=None) -> tuple[RealOnlyDetector, dict] | None:
    """The bundled real-only detector (weights/realonly/) and its record, or None where there is none or it
    cannot be read (the verdict then goes without it, and says so)."""
    from core.models.registry import WEIGHTS_DIR, WeightsError, load_built

    try:
        model, _, training = load_built(folder or WEIGHTS_DIR / FOLDER, lambda c: RealOnlyDetector(**c), device="cpu")
    except WeightsError:
        return None
    return model, training


# --- the second real-only model: real photos' texture features, one Gaussian per real source -----------------

FEATURES_FOLDER = "realonly/features"  # under weights/: made by `python -m train.realonly_features --record`


class FeatureOneClass(nn.Module):
    """A one-class model of real photos in the frozen ImageNet backbone's texture features (the first `taps`
    feature groups of `core.models.probe.EfficientNetLite0`, what `probe-texture` reads), one Gaussian per real
    source: a face's distance from each source's mean (Mahalanobis, shrunk covariance), over that source's
    median distance; the smallest of those is its score (a face is as probable as the real source it is most
    like). Per source, because the sources differ more from each other than a generator's faces differ from
    some of them: pooled, FFHQ's faces were its least typical and took the whole false-alarm budget.

    `real_quantile(features)`: the share of held-out real faces scoring lower (0-1); `atypicality(features)`: how
    far from real faces' usual score either way (0-1), what the verdict reads. `combine(q_coder, q_feat)`: the
    coder's rank and the atypicality as independent p-values (Fisher), ranked again among the held-out real faces
    (`combined_reference`, fitted against the pixel coder whose hash the record keeps), so the result is read
    as the coder's rank was: the share of real faces less unusual. Fitted on real crops only.
    """

    def __init__(self, sources: int = 4, dim: int = 272, taps: int = 5, input_size: int = 224, shrink: float = 0.3):
        super().__init__()
        self.taps, self.input_size, self.shrink = taps, input_size, shrink
        self.register_buffer("mean", torch.zeros(sources, dim, dtype=torch.float64))
        self.register_buffer("scale", torch.ones(sources, dim, dtype=torch.float64))
        self.register_buffer("precision", torch.eye(dim, dtype=torch.float64).repeat(sources, 1, 1))
        self.register_buffer("median", torch.ones(sources, dtype=torch.float64))
        self.register_buffer("reference", torch.zeros(REFERENCE_POINTS, dtype=torch.float64))
        self.register_buffer("combined_reference", torch.zeros(REFERENCE_POINTS, dtype=torch.float64))

    def fit(self, per_source: list[np.ndarray], held_out: list[np.ndarray]) -> None:
        """Each real source's training features (N_s, dim): its mean, scale and shrunk inverse covariance; then
        its distances are divided by their median over that source's `held_out` features (a few hundred crops in
        272 dimensions sit closer to their own mean than to any new face, more so the fewer there are)."""
        for i, x in enumerate(per_source):
            x = np.asarray(x, np.float64)
            mean, scale = x.mean(0), x.std(0) + 1e-6
            z = (x - mean) / scale
            cov = np.cov(z, rowvar=False)
            k = cov.shape[0]
            cov = (1 - self.shrink) * cov + self.shrink * np.eye(k) * np.trace(cov) / k
            self.mean[i], self.scale[i] = torch.from_numpy(mean), torch.from_numpy(scale)
            self.precision[i] = torch.from_numpy(np.linalg.inv(cov))
            self.median[i] = 1.0
            self.median[i] = float(np.median(self._distances(held_out[i])[:, i]))

    def _distances(self, feats: np.ndarray) -> np.ndarray:
        f = np.asarray(feats, np.float64)[:, :self.mean.shape[1]]
        out = np.empty((len(f), self.mean.shape[0]))
        for i in range(self.mean.shape[0]):
            z = (f - self.mean[i].numpy()) / self.scale[i].numpy()
            out[:, i] = np.einsum("nd,de,ne->n", z, self.precision[i].numpy(), z) / self.median[i].item()
        return out

    def score(self, feats: np.ndarray) -> np.ndarray:
        """(N, >= dim) backbone features -> the distance from the nearest real source (1: its median face)."""
        if not len(feats):
            return np.zeros(0)
        return self._distances(feats).min(1)

    def set_reference(self, held_out_scores: np.ndarray) -> None:
        self.reference = torch.from_numpy(np.quantile(held_out_scores, np.linspace(0, 1, REFERENCE_POINTS)))

    def real_quantile(self, feats: np.ndarray) -> np.ndarray:
        """Share of held-out real faces nearer a real source than each face (0-1): one-sided, far is unusual."""
        return _rank(self.score(feats), self.reference.numpy())

    def atypicality(self, feats: np.ndarray) -> np.ndarray:
        """How far from the usual distance, either way, as a share of held-out real faces (0-1): a typicality test
        (Nalisnick et al. 2019). In 272 dimensions real faces lie on a shell around their source's mean, not at
        it; StyleGAN2's faces sat inside that shell, nearer FFHQ's mean than FFHQ's own photos (one-sided, their
        AUC against real faces was 0.23), and a one-sided score called them more typical than real photos."""
        return 2.0 * np.abs(self.real_quantile(feats) - 0.5)

    def fisher(self, q_coder: np.ndarray, q_feat: np.ndarray) -> np.ndarray:
        """The two ranks combined as independent p-values (Fisher: the sum of -log(1 - rank), Gamma(2, 1) under
        real faces), as a share 0-1, before ranking among real faces."""
        a = np.clip(np.asarray(q_coder, np.float64), 0.0, 1 - 1e-6)
        b = np.clip(np.asarray(q_feat, np.float64), 0.0, 1 - 1e-6)
        x = -np.log1p(-a) - np.log1p(-b)
        return 1.0 - np.exp(-x) * (1.0 + x)

    def set_combined_reference(self, q_coder: np.ndarray, q_feat: np.ndarray) -> None:
        combined = self.fisher(q_coder, q_feat)
        self.combined_reference = torch.from_numpy(np.quantile(combined, np.linspace(0, 1, REFERENCE_POINTS)))

    def combine(self, q_coder: np.ndarray, q_feat: np.ndarray) -> np.ndarray:
        """The real-only rank of both models together: share of held-out real faces less unusual (0-1)."""
        return _rank(self.fisher(q_coder, q_feat), self.combined_reference.numpy())

    def backbone_features(self, backbone_input: torch.Tensor, probe) -> np.ndarray:
        """Features of detector input (N, 3, S, S in [-1, 1]) through a loaded probe's frozen backbone (the same
        package weights in every probe), as `core.models.probe.ProbeDetector.features` computes them."""
        with torch.inference_mode():
            return probe.features(backbone_input).double().cpu().numpy()[:, :self.mean.shape[1]]


def _rank(scores: np.ndarray, reference: np.ndarray) -> np.ndarray:
    if not reference[-1] > reference[0]:
        raise ValueError("the one-class model is not fitted")
    return np.interp(np.asarray(scores, np.float64), reference, np.linspace(0, 1, len(reference)))


def load_features(coder_record: dict | None = None, folder=None) -> tuple[FeatureOneClass, dict] | None:
    """The bundled feature model (weights/realonly/features/) and its record, or None where there is none, it
    cannot be read, or it was fitted against another pixel coder than `coder_record`'s (its combined ranks would
    then be wrong: the verdict goes on with the coder alone)."""
    from core.models.registry import WEIGHTS_DIR, WeightsError, load_built

    try:
        model, _, training = load_built(folder or WEIGHTS_DIR / FEATURES_FOLDER, lambda c: FeatureOneClass(**c),
                                        device="cpu")
    except WeightsError:
        return None
    if coder_record is not None and training.get("coder_sha256") != coder_record.get("weights_sha256"):
        return None
    return model, training
