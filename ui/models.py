"""Models loaded once per server process and shared by every visitor's session.

torch comes in with the first model loaded, not with this module: Home shows the models' records
(`get_info`) and draws without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from core.models import registry

if TYPE_CHECKING:
    import numpy as np

    from core.detection.judge import Judge


@st.cache_resource(show_spinner=False, max_entries=32)
def load_model(name: str) -> registry.LoadedModel:
    return registry.load(name)


@st.cache_resource(show_spinner=False, max_entries=32)
def describe_model(name: str) -> registry.ModelInfo:
    return registry.describe(name)


def home_model_names() -> list[str]:
    """The models Home lists, in its order: the face GANs, the abstract-art one, the detectors."""
    return registry.names("generator", subject=None) + registry.names("detector")


def describe_all() -> None:
    """Read every model Home lists into the shared cache (the server's start-up does, ui/warmup.py); a
    model that fails is left for Home's own run to report."""
    for name in home_model_names():
        try:
            describe_model(name)
        except registry.WeightsError:
            pass


def get_info(name: str) -> registry.ModelInfo | None:
    """`name`'s record and where its weights are, without loading it; on failure show the reason and
    return None (the page goes on)."""
    try:
        return describe_model(name)
    except registry.WeightsError as err:
        st.error(f"Model **{name}** is unavailable: {err}")
        return None


def get_model(name: str) -> registry.LoadedModel | None:
    """Load `name` with a spinner; on failure show the reason and return None (the page goes on)."""
    try:
        with st.spinner(f"Loading {name}…"):
            return load_model(name)
    except registry.WeightsError as err:
        st.error(f"Model **{name}** is unavailable: {err}")
        return None


def source_words(loaded: registry.LoadedModel | registry.ModelInfo) -> str:
    """Where `loaded`'s weights came from, in words for a visitor (the developer detail stays in `note`)."""
    if loaded.source == "hub":
        return f"the latest weights from the Hugging Face Hub ({loaded.spec.hub_repo})"
    note = loaded.note
    if "HF_HUB_OFFLINE" in note:
        why = "this server is set to work offline"
    elif "unreachable" in note:
        why = "the Hugging Face Hub cannot be reached from this server"
    elif "failed" in note:
        why = "the download from the Hugging Face Hub failed"
    else:
        why = ""
    return "the weights bundled with the app" + (f", because {why}" if why else "")


def source_badge(loaded: registry.LoadedModel) -> None:
    """Say where the weights came from, and why, in one caption."""
    if loaded.source == "hub":
        st.caption(f":material/cloud_done: Using {source_words(loaded)}.", help=loaded.note)
    else:
        st.caption(f":material/inventory_2: Using {source_words(loaded)}.", help=loaded.note)


# what the Generate page shows when the address bar asks for nothing else
DEFAULT_FACES, DEFAULT_SEED = 36, 0


def warm_default_grid() -> None:
    """Load the first generator and draw the Generate page's default grid into the shared caches (the
    start-up warm-up calls this, ui/warmup.py)."""
    generate_faces(registry.names("generator")[0], DEFAULT_FACES, DEFAULT_SEED, None)


@st.cache_data(show_spinner=False, max_entries=128)
def generate_faces(name: str, n: int, seed: int, truncation: float | None) -> np.ndarray:
    """(n, H, W, 3) uint8 faces of model `name` for a seed; cached per argument set."""
    from core.gan.sampling import generate, sample_latents

    loaded = load_model(name)
    z = sample_latents(n, loaded.config["nz"], seed, truncation)
    return generate(loaded.model, z)


@st.cache_resource(show_spinner=False)
def load_judge() -> tuple[Judge | None, dict[str, registry.LoadedModel], dict[str, str]]:
    """The face finder and every detector that loads; failures are kept as messages per detector.

    One broken detector (a corrupt file, say) leaves the others working.
    """
    from core.detection.judge import Judge

    loaded, failed = {}, {}
    for name in registry.names("detector"):
        try:
            loaded[name] = registry.load(name)
        except registry.WeightsError as err:
            failed[name] = str(err)
    if not loaded:
        return None, loaded, failed
    return Judge.from_loaded(loaded), loaded, failed


def get_judge() -> tuple[Judge | None, dict[str, registry.LoadedModel]]:
    """`load_judge` with a spinner; says which detectors are unavailable and why."""
    with st.spinner("Loading the face finder and the detectors…"):
        judge, loaded, failed = load_judge()
    for name, reason in failed.items():
        st.error(f"Detector **{name}** is unavailable: {reason}")
    return judge, loaded


@st.cache_resource(show_spinner=False)
def load_face_detector():
    """MTCNN, shared with the detectors' judge when that loads (one copy per server)."""
    from core.detection.faces import FaceDetector

    return getattr(load_judge()[0], "face_detector", None) or FaceDetector()
