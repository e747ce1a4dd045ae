"""Generate: a grid of new faces from any generator, shareable by URL."""

import math
import random

import streamlit as st

from core import registry
from core.sampling import encode_image, make_grid
from ui.attributes import OVERLAY_HELP, face_attributes, show_attribute_table
from ui.models import generate_faces, get_model, source_badge
from ui.nav import ensure_app_navigation
from ui.widgets import show_image

ensure_app_navigation()

GENERATORS = registry.names("generator")
params = st.query_params

# First visit: widgets start from the URL, so a shared link shows the same faces.
if "gen_model" not in st.session_state:
    st.session_state.gen_model = params.get("model") if params.get("model") in GENERATORS else GENERATORS[0]
    st.session_state.gen_n = min(64, max(1, int(params.get("n", 36)))) if str(params.get("n", 36)).isdigit() else 36
    st.session_state.gen_seed = int(params.get("seed", 0)) if str(params.get("seed", 0)).isdigit() else 0
    try:
        st.session_state.gen_trunc = min(3.0, max(0.0, float(params.get("trunc", 0.0))))
    except ValueError:
        st.session_state.gen_trunc = 0.0
    st.session_state.gen_ages = params.get("ages") in ("true", "1")  # "true", as the Latent Lab's toggle writes


def new_seed() -> None:
    st.session_state.gen_seed = random.randrange(1_000_000)


st.title("Generate faces")
with st.sidebar:
    st.selectbox("Model", GENERATORS, key="gen_model",
                 format_func=lambda n: f"{n} — {registry.get_spec(n).title}")
    st.slider("Number of faces", 1, 64, key="gen_n")
    st.number_input("Seed", min_value=0, max_value=2**31 - 1, step=1, key="gen_seed",
                    help="The same seed and model always give the same faces.")
    st.slider("Truncation", 0.0, 3.0, step=0.1, key="gen_trunc",
              help="0 = off. Otherwise each latent number is kept within ±t: smaller t gives more "
                   "typical, cleaner faces and less variety.")
    st.toggle("Predicted age and gender", key="gen_ages", help=f"Show each face's predicted age and gender. {OVERLAY_HELP}")
    st.button("New faces", on_click=new_seed, type="primary", icon=":material/casino:")

name, n, seed = st.session_state.gen_model, st.session_state.gen_n, int(st.session_state.gen_seed)
trunc = st.session_state.gen_trunc or None
show_ages = st.session_state.gen_ages
st.query_params.from_dict({"model": name, "n": n, "seed": seed, **({"trunc": trunc} if trunc else {}),
                           **({"ages": "true"} if show_ages else {})})

loaded = get_model(name)
if loaded is None:
    st.stop()
source_badge(loaded)

faces = generate_faces(name, n, seed, trunc)
nrow = math.ceil(math.sqrt(n))
grid = make_grid(faces, nrow=nrow)
show_image(grid, caption=f"{n} faces from {name}, seed {seed}" + (f", truncation {trunc}" if trunc else ""))
if show_ages:
    with st.spinner("Predicting age and gender…"):
        show_attribute_table(face_attributes(name, n, seed, trunc), nrow)
st.download_button("Download PNG", encode_image(grid), file_name=f"{name}-seed{seed}-n{n}.png",
                   mime="image/png", icon=":material/download:")
st.caption(
    f"Each face is the generator's answer to a vector z of {loaded.config['nz']} random numbers "
    "drawn from a normal distribution; the seed fixes those numbers. Copy this page's address to "
    "share exactly these faces."
)
