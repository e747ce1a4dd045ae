"""Home: what the demo is, and every model with where its weights came from.

Drawn from the models' records alone (ui.models.get_info), so the first page a visitor sees does not
wait for torch; the start-up warm-up loads the default generator meanwhile (ui/warmup.py).
"""

import streamlit as st

from core.models import registry
from core.models.history import VAL_ACCURACY_HELP, VAL_ACCURACY_LABEL, duration_text, snapshot_paths, source_evaluation
from ui import texts
from ui.models import get_info, get_model, home_model_names, source_words
from ui.nav import ensure_app_navigation

ensure_app_navigation()

st.title("Face GAN Lab")
st.markdown(texts.HOME_INTRO)
with st.container(horizontal=True):  # wraps at narrow widths instead of cutting the labels
    st.page_link("pages/generate.py", label="Generate faces now", icon=":material/auto_awesome:")
    st.page_link("pages/detect.py", label="Is this photo real or GAN-made?", icon=":material/policy:")
    st.page_link("pages/latent_lab.py", label="Walk between faces, add and subtract them", icon=":material/blur_on:")
    st.page_link("pages/training_history.py", label="Watch a GAN learn", icon=":material/monitoring:")
    st.page_link("pages/classroom.py", label="Classroom: train a tiny GAN live, then guess which face is real",
                 icon=":material/school:")

MODELS = {n: get_info(n) for n in home_model_names()}
sources = {n: source_words(m) for n, m in MODELS.items() if m is not None}
common = max(set(sources.values()), key=list(sources.values()).count) if sources else None
if common:
    st.caption(":material/inventory_2: " + ("Every model here runs" if len(set(sources.values())) == 1
                                            else "Most models here run") + f" from {common}.")


def source_caption(name: str, info, extra: str = "") -> None:
    """What the model was trained on; where its weights came from only when that differs from the rest."""
    t = info.training
    where = f" Loaded from {sources[name]}." if sources.get(name) != common else ""
    st.caption(f"Trained on {t.get('hardware', 'unknown hardware')}{extra}.{where}")


def training_time(t: dict) -> str:
    seconds = t.get("wall_time_s")
    return duration_text(seconds) if isinstance(seconds, (int, float)) else "n/a"


def parameters(name: str, info) -> str:
    """The parameter count in millions: as weights/model_sizes.json records it, else by loading the model."""
    n = info.n_params
    if n is None:
        loaded = get_model(name)
        n = loaded.n_params if loaded is not None else None
    return f"{n / 1e6:.2f} M" if n is not None else "n/a"


def metrics(items: list[tuple]) -> None:
    """Metrics in a row that wraps, each as wide as its figure: no "3..." at narrow widths."""
    with st.container(horizontal=True, gap="medium"):
        for label, value, *help_text in items:
            st.metric(label, value, help=help_text[0] if help_text else None, width="content")


st.header("Generators")
for name in registry.names("generator", subject=None):  # the face GANs, then the abstract-art one
    spec, info = registry.get_spec(name), MODELS[name]
    with st.container(border=True):
        left, right = st.columns([3, 2])
        with left:
            st.subheader(f"{spec.title}  ·  `{name}`")
            st.write(spec.description)
            if info is None:
                continue
            t = info.training
            q = t.get("quality", {})
            quality = q.get("face_found_rate")
            score = (("Faces found", f"{quality:.1%}" if quality is not None else "n/a",
                      f"Share of {q.get('n', 256)} samples in which the MTCNN face detector finds a face with "
                      f"probability >= {q.get('threshold', 0.99):.2f} (after upscaling to 160 px).")
                     if registry.is_faces(name) else  # paintings: no faces to find
                     ("FD / real floor", f"{q['fd']:,.0f} / {q['fd_real_vs_real']:,.0f}" if "fd" in q else "n/a",
                      "Frechet distance of its samples to crops of 22 held-out paintings on a fixed ImageNet "
                      "network's features, beside the same for real training crops (lower = more alike; "
                      "docs/training.md)."))
            metrics([("Parameters", parameters(name, info)), ("Epochs", t.get("epochs_done", "?")),
                     ("Training time", training_time(t)), score])
            source_caption(name, info, f", {t.get('steps', '?')} steps at batch "
                                         f"{t.get('train_config', {}).get('batch_size', '?')}")
        with right:
            snaps = snapshot_paths(info.folder) if info else []
            if snaps:
                epoch, path = snaps[-1]
                st.image(str(path), caption=f"Fixed-noise samples after epoch {epoch}", width="stretch")

st.header("Detectors")
st.caption(texts.HOME_DETECTORS)
for name in registry.names("detector"):
    spec, info = registry.get_spec(name), MODELS[name]
    with st.container(border=True):
        st.subheader(f"{spec.title}  ·  `{name}`")
        st.write(spec.description)
        if info is None:
            continue
        t = info.training
        rec = source_evaluation(t)
        per = rec[1] if rec else {}
        aucs = {n: r.get(f"auc_{name}") for n, r in per.items() if r.get(f"auc_{name}") is not None}
        worst = min(aucs, key=aucs.get) if aucs else None
        caught = per.get(worst, {}).get("called_gan") if worst else None
        metrics([("Parameters", parameters(name, info)),
                 (VAL_ACCURACY_LABEL, f"{t.get('val_accuracy', 0):.1%}", VAL_ACCURACY_HELP),
                 ("Weakest generator, AUC", f"{aucs[worst]:.3f}" if worst else "n/a",
                  (f"ROC AUC on validation faces of {worst}, the generator it separates worst from all the real "
                   "validation photos (python -m train.evaluate --split val).") if worst
                  else "No per-source test recorded yet (python -m train.evaluate --split val --record)."),
                 # the verdict's figure, not this detector's: the record keeps each detector's AUC per source,
                 # but only the ensemble's verdicts, so the label says whose figure it is
                 *([(f"{worst} caught (all detectors)", f"{caught:.0%}",
                     f"Share of {worst}'s validation faces that the Detect page's verdict calls GAN-made: all "
                     f"detectors together (their weighted mean), not {name} alone, so every card whose weakest "
                     f"generator is {worst} shows the same figure. The AUC beside it is {name}'s own.")]
                   if caught is not None
                   else []),
                 ("Training time", training_time(t))])
        source_caption(name, info)

st.divider()
st.caption(texts.HOME_TRAINING_DATA)
