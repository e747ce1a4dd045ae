"""Home: what the demo is, and every model with where its weights came from."""

import streamlit as st

from core import registry
from core.history import snapshot_paths, source_evaluation
from ui.models import get_model
from ui.nav import ensure_app_navigation

ensure_app_navigation()

st.title("Face GAN Lab")
st.markdown(
    "Faces that no camera ever took. This lab shows **generative adversarial networks** (GANs) "
    "trained on celebrity photos: a *generator* turns a vector of random numbers into a face, "
    "while a *discriminator* learns to tell its faces from real photos; each gets better by "
    "beating the other. Every model here was trained by this project's own scripts in `train/`, "
    "on a laptop-class CPU."
)
links = st.columns(4)
links[0].page_link("pages/generate.py", label="Generate faces now", icon=":material/auto_awesome:")
links[1].page_link("pages/detect.py", label="Is this photo real or GAN-made?", icon=":material/policy:")
links[2].page_link("pages/latent_lab.py", label="Walk between faces, add and subtract them", icon=":material/blur_on:")
links[3].page_link("pages/training_history.py", label="Watch a GAN learn", icon=":material/monitoring:")
st.page_link("pages/classroom.py", label="Classroom: train a tiny GAN live, then guess which face is real",
             icon=":material/school:")

def source_caption(loaded, extra: str = "") -> None:
    """Where the weights came from and why, and what they were trained on."""
    t = loaded.training
    st.caption(f"Source: **{loaded.source}** ({loaded.note}). Trained on {t.get('hardware', 'unknown hardware')}"
               f"{extra}.")


st.header("Generators")
for name in registry.names("generator"):
    spec, loaded = registry.get_spec(name), get_model(name)
    with st.container(border=True):
        left, right = st.columns([3, 2])
        with left:
            st.subheader(f"{spec.title}  ·  `{name}`")
            st.write(spec.description)
            if loaded is None:
                continue
            t = loaded.training
            cols = st.columns(4)
            cols[0].metric("Parameters", f"{loaded.n_params / 1e6:.2f} M")
            cols[1].metric("Epochs", t.get("epochs_done", "?"))
            cols[2].metric("Training time", f"{t.get('wall_time_s', 0) / 60:.0f} min")
            q = t.get("quality", {})
            quality = q.get("face_found_rate")
            cols[3].metric("Faces found", f"{quality:.1%}" if quality is not None else "n/a",
                           help=f"Share of {q.get('n', 256)} samples in which the MTCNN face detector finds a "
                                f"face with probability >= {q.get('threshold', 0.99):.2f} (after upscaling to "
                                "160 px).")
            source_caption(loaded, f", {t.get('steps', '?')} steps at batch "
                                   f"{t.get('train_config', {}).get('batch_size', '?')}")
        with right:
            snaps = snapshot_paths(loaded.folder) if loaded else []
            if snaps:
                epoch, path = snaps[-1]
                st.image(str(path), caption=f"Fixed-noise samples after epoch {epoch}", width="stretch")

st.header("Detectors")
st.caption("Three ways to tell a GAN-made face from a real photo, each trained by `python -m train.detector` "
           "on real photos from four sources and faces from seven generators. The Detect page asks all three.")
for name in registry.names("detector"):
    spec, loaded = registry.get_spec(name), get_model(name)
    with st.container(border=True):
        st.subheader(f"{spec.title}  ·  `{name}`")
        st.write(spec.description)
        if loaded is None:
            continue
        t = loaded.training
        cols = st.columns(4)
        cols[0].metric("Parameters", f"{loaded.n_params / 1e6:.2f} M")
        cols[1].metric("Validation accuracy", f"{t.get('val_accuracy', 0):.1%}")
        rec = source_evaluation(t)
        aucs = {n: r.get(f"auc_{name}") for n, r in (rec[1] if rec else {}).items() if r.get(f"auc_{name}") is not None}
        worst = min(aucs, key=aucs.get) if aucs else None
        cols[2].metric("Weakest generator, AUC", f"{aucs[worst]:.3f}" if worst else "n/a",
                       help=(f"ROC AUC on validation faces of {worst}, the generator it separates worst from all "
                             "the real validation photos (python -m train.evaluate --split val).") if worst
                       else "No per-source test recorded yet (python -m train.evaluate --split val --record).")
        cols[3].metric("Training time", f"{t.get('wall_time_s', 0) / 60:.0f} min")
        source_caption(loaded)

st.divider()
st.caption(
    "Training data: a 5,400-photo subset of CelebA (Liu et al., ICCV 2015) for the generators; for the detectors "
    "also FFHQ (CC BY-NC-SA 4.0), LFW, UTKFace, StyleGAN2 and Stable Diffusion 2.1 faces. All are for "
    "non-commercial research only and none is part of this repository. CelebA over-represents young, "
    "light-skinned celebrities, and the generators inherit that bias."
)
