"""Latent Lab: walk from one face to another, add and subtract groups of faces, move along age and gender.

The sections are in ui/views/latent.py.
"""

import streamlit as st

from core.models import registry
from ui import texts
from ui.attributes import OVERLAY_HELP
from ui.models import get_model, source_badge
from ui.nav import ensure_app_navigation
from ui.views import latent as view

ensure_app_navigation()

st.title("Latent Lab")
with st.sidebar:
    # Widgets bound to the URL: a shared link opens the same grids, path and groups.
    name = st.selectbox("Model", view.GENERATORS, key="model", bind="query-params",
                        help="\n".join(f"- **{n}**: {registry.get_spec(n).title}" for n in view.GENERATORS))
    faces_model = registry.is_faces(name)  # the abstract-art model: no age and gender, no directions
    show_ages = faces_model and st.toggle("Predicted age and gender", key="ages", bind="query-params",
                                          help=f"Show each candidate's predicted age and gender under the grids. {OVERLAY_HELP}")
    if not faces_model:
        st.caption(texts.NOT_FACES_NOTE.format(name=name, extra=" and the age and gender directions"))

loaded = get_model(name)
if loaded is None:
    st.stop()
source_badge(loaded)
thing = view.thing(name)
st.caption(
    f"Every {thing} is the generator's answer to a vector z of {loaded.config['nz']} numbers. Here you move "
    "and combine those vectors instead of drawing new ones, to see what the generator learned about the space "
    f"between {thing}s."
)

walk_tab, arithmetic_tab, directions_tab = st.tabs([":material/timeline: Interpolation",
                                                    ":material/calculate: Vector arithmetic",
                                                    ":material/face: Age and gender directions"])
with walk_tab:
    view.walk_section(name, loaded.config["nz"], show_ages)
with arithmetic_tab:
    view.arithmetic_section(name, show_ages)
with directions_tab:
    if faces_model:
        view.directions_section(name, show_ages)
    else:
        st.info(texts.NOT_FACES_NOTE.format(name=name, extra=" and the age and gender directions"),
                icon=":material/palette:")
