"""Predicted age and gender under a grid of faces, and a model's stored latent directions, cached."""

from __future__ import annotations

import streamlit as st
import torch

from core.data.attributes import LABELLER_RECORD, NO_FACE, FaceAttributes, predict_attributes, summarise
from core.gan.latent import load_directions
from core.io.store import file_sha256, read_json
from core.models import registry
from ui.models import generate_faces, load_model
from ui.widgets import number_or_missing, table_height

TABLE_ROWS = 10  # the age table shows this many faces, then scrolls
OVERLAY_HELP = ("Under the grid: the age and gender face-attribute models (dlib-models, the gender one refitted on "
                "real faces shrunk and blurred to our generators' size) guess for each face, with the probability "
                "given to that gender. Guesses from pixels, with those models' biases: they say how a face looks "
                "to them, nothing more.")


@st.cache_data(show_spinner=False, max_entries=128)
def face_attributes(name: str, n: int, seed: int, truncation: float | None) -> list[FaceAttributes]:
    """Age and gender of the faces `generate_faces(name, n, seed, truncation)` shows; cached per argument set."""
    return predict_attributes(generate_faces(name, n, seed, truncation))


def show_attribute_table(results: list[FaceAttributes], nrow: int, container=st) -> None:
    """One row per face, numbered as in the grid (row by row, `nrow` per row): its place, age, gender
    and P(male). A long table scrolls; a grid-shaped one ran off the page at 8 columns."""
    import pandas as pd  # here, not at the top: half a second off every page's first start

    rows = [{"face": f"#{i}", "place": f"row {i // nrow + 1}, column {i % nrow + 1}",
             "age (years)": number_or_missing(None if r.age is None else round(r.age)),  # a dash, not "None"
             "looks": r.gender or NO_FACE,
             "P(male)": 0.0 if r.p_male is None else r.p_male,  # never None: a progress cell would print it
             "face found": "yes" if r.found else "no (age read where faces usually are)"}
            for i, r in enumerate(results)]
    container.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                        height=table_height(len(rows), max_rows=TABLE_ROWS),
                        column_config={"age (years)": st.column_config.TextColumn(alignment="right"),
                                       "P(male)": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0,
                                                                                   format="%.2f")})
    s = summarise(results)
    if s["labelled"]:
        container.caption(f"The face finder found a face in {s['faces_found']} of {s['n']}; mean predicted age "
                          f"{s['mean_age']:.0f} years; {round(s['share_male'] * s['labelled'])} of "
                          f"{s['labelled']} look male to the gender head. {OVERLAY_HELP} {labeller_limits()}")
    else:
        container.caption(f"No face was found in any of the {s['n']} images. {OVERLAY_HELP}")


@st.cache_data(show_spinner=False)
def labeller_limits() -> str:
    """What train.labeller measured on labelled photos, in a sentence (empty when nothing is recorded);
    read once per server (the record changes only with `train.labeller --record`)."""
    rec = read_json(LABELLER_RECORD, None) or {}
    by = rec.get("by_size", {})
    native = by.get("native", {}).get("adults", {})
    small = by.get("64px", by.get("64", {})).get("adults", {})  # 64px: shrunk and kept so, read by the gender head
    if not native.get("n"):
        return ""
    text = (f"Measured on {rec.get('test_set', 'labelled photos')}, adults: age off by {native['age_mae']:.1f} years "
            f"on average, gender right {native['gender_accuracy']:.0%}")
    if small.get("n"):
        text += f"; shrunk to 64 px like our faces, gender right {small['gender_accuracy']:.0%}"
    families = rec.get("generated", {}).get("families", {})
    if families:
        text += "; on our generators' faces labelled by eye, it agreed on " + ", ".join(
            f"{row['agreement']:.0%} of {row['labelled']} {fam} faces ({row['men_called_male']} of {row['men']} men "
            "called male)" for fam, row in families.items() if row.get("labelled"))
    return text + "."


@st.cache_data(show_spinner=False, max_entries=32)
def model_directions(name: str) -> tuple[dict[str, torch.Tensor] | None, dict, str | None]:
    """(directions, facts, problem) for generator `name`.

    Looks beside the weights in use, then in the bundled folder. `directions` is None when there is
    no file; `problem` says why stored directions should not be used (fitted on other weights, or
    for another latent size), else None.
    """
    loaded = load_model(name)
    for folder in dict.fromkeys([loaded.folder, registry.get_spec(name).bundled_dir]):
        found = load_directions(folder)
        if found is None:
            continue
        directions, facts = found
        nz = loaded.config["nz"]
        if any(d.shape != (nz,) for d in directions.values()):
            return directions, facts, f"the directions in {folder} are for another latent size (not {nz})"
        # load_folder checked the file against training.json's hash; hash it only when that is absent
        in_use = loaded.training.get("weights_sha256") or file_sha256(loaded.folder / "model.safetensors")
        if facts.get("weights_sha256") != in_use:
            return directions, facts, f"the directions in {folder} were fitted on other weights than the ones in use"
        return directions, facts, None
    return None, {}, None
