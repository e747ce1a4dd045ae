"""Generate: a grid of new faces from any generator, shareable by URL."""

import math
import random

import streamlit as st

from core.gan.sampling import TRUNCATION_RANGE, TRUNCATION_STEP, encode_png_fast, make_grid, snap_truncation
from core.models import registry
from ui import texts
from ui.attributes import OVERLAY_HELP, face_attributes, show_attribute_table
from ui.models import DEFAULT_FACES, DEFAULT_SEED, generate_faces, get_model, source_badge
from ui.nav import ensure_app_navigation
from ui.widgets import show_image

ensure_app_navigation()

GENERATORS = registry.names("generator", subject=None)  # faces first, then the abstract-art model
params = st.query_params

MAX_FACES, MAX_SEED = 64, 2**31 - 1
lo, hi = TRUNCATION_RANGE


def whole_number(text: str | None, key: str, default: int, lo: int, hi: int, notes: list[str], what: str,
                 clamp: bool = True) -> int:
    """A URL's whole number within lo-hi; out of range it is clipped (or, with `clamp` off, the default),
    and `notes` gets a sentence saying what was shown instead."""
    if text is None:
        return default
    shown = (lambda v: f"{v} {what}") if what != "seed" else (lambda v: f"seed {v}")
    if not text.isdigit():
        notes.append(f"{key}={text} is not a whole number{' of 0 or more' if lo == 0 else ''}: showing {shown(default)}")
        return default
    value = int(text)
    if lo <= value <= hi:
        return value
    if not clamp:
        notes.append(f"{key}={text} is above the largest {what}, {hi:,}: showing {shown(default)}")
        return default
    value = min(hi, max(lo, value))
    notes.append(f"{key}={text} is outside {lo}-{hi}: showing {shown(value)}")
    return value


def from_url(params) -> tuple[dict, list[str]]:
    """The widgets' first values from a shared link, and a sentence for each value that had to change."""
    notes, state = [], {}
    model = params.get("model")
    state["gen_model"] = model if model in GENERATORS else GENERATORS[0]
    if model is not None and model not in GENERATORS:
        notes.append(f"model={model} is not one of our generators: showing {GENERATORS[0]}")
    state["gen_n"] = whole_number(params.get("n"), "n", DEFAULT_FACES, 1, MAX_FACES, notes, "faces")
    state["gen_seed"] = whole_number(params.get("seed"), "seed", DEFAULT_SEED, 0, MAX_SEED, notes, "seed",
                                    clamp=False)
    t, note = snap_truncation(params.get("trunc", ""))
    state["gen_trunc_on"], state["gen_trunc"] = t is not None, t or 1.0
    if note:
        notes.append(note)
    state["gen_ages"] = params.get("ages") in ("true", "1")  # "true", as the Latent Lab's toggle writes
    return state, notes


# First visit: widgets start from the URL, so a shared link shows the same faces.
if "gen_model" not in st.session_state:
    first, url_notes = from_url(params)
    st.session_state.update(first)
    if url_notes:
        st.session_state.gen_url_notes = url_notes


def new_seed() -> None:
    st.session_state.gen_seed = random.randrange(1_000_000)


faces_model = registry.is_faces(st.session_state.gen_model)  # face-only tools hide for the abstract model
things = "faces" if faces_model else "paintings"
st.title("Generate faces" if faces_model else "Generate abstract paintings")
for note in st.session_state.pop("gen_url_notes", []):
    st.info(f"This link asked for something we cannot show: {note}.", icon=":material/link_off:")
with st.sidebar:
    # the name alone in the box (with its title it was cut at every width), the title under it
    st.selectbox("Model", GENERATORS, key="gen_model",
                 help="\n".join(f"- **{n}**: {registry.get_spec(n).title}" for n in GENERATORS))
    st.caption(registry.get_spec(st.session_state.gen_model).title)
    st.slider(f"Number of {things}", 1, MAX_FACES, key="gen_n")
    st.number_input("Seed", min_value=0, max_value=MAX_SEED, step=1, key="gen_seed",
                    help="The same seed and model always give the same faces.")
    st.toggle("Truncation trick", key="gen_trunc_on",
              help="Off: z is drawn as in training. On: numbers beyond ±t are redrawn, then z is scaled back to "
                   "its usual length, so faces stay faces.")
    st.slider("Truncation t", lo, hi, step=TRUNCATION_STEP, key="gen_trunc", disabled=not st.session_state.gen_trunc_on,
              help=texts.GENERATE_TRUNCATION_HELP)
    if faces_model:
        st.toggle("Predicted age and gender", key="gen_ages", help=f"Show each face's predicted age and gender. {OVERLAY_HELP}")
    else:
        st.caption(texts.NOT_FACES_NOTE.format(name=st.session_state.gen_model, extra=""))
    st.button(f"New {things}", on_click=new_seed, type="primary", icon=":material/casino:")

name, n, seed = st.session_state.gen_model, st.session_state.gen_n, int(st.session_state.gen_seed)
trunc = round(float(st.session_state.gen_trunc), 1) if st.session_state.gen_trunc_on else None
show_ages = faces_model and st.session_state.get("gen_ages", False)
st.query_params.from_dict({"model": name, "n": n, "seed": seed, **({"trunc": trunc} if trunc else {}),
                           **({"ages": "true"} if show_ages else {})})

loaded = get_model(name)
if loaded is None:
    st.stop()
source_badge(loaded)

faces = generate_faces(name, n, seed, trunc)
nrow = math.ceil(math.sqrt(n))
grid = make_grid(faces, nrow=nrow)
png = encode_png_fast(grid)
show_image(grid, png=png, caption=f"{n} {things[:-1] if n == 1 else things} from {name}, seed {seed}"
           + (f", truncation {trunc}" if trunc else ""))
if show_ages:
    with st.spinner("Predicting age and gender…"):
        show_attribute_table(face_attributes(name, n, seed, trunc), nrow)
st.download_button("Download PNG", png, file_name=f"{name}-seed{seed}-n{n}.png",
                   mime="image/png", icon=":material/download:")
st.caption(
    f"Each {things[:-1]} is the generator's answer to a vector z of {loaded.config['nz']} random numbers "
    "drawn from a normal distribution; the seed fixes those numbers. Copy this page's address to "
    f"share exactly these {things}."
)
