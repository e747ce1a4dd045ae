"""Predicted age and gender under a grid of faces, and a model's stored latent directions, cached."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from core import registry
from core.attributes import FaceAttributes, predict_attributes, summarise
from core.latent import load_directions
from core.store import file_sha256
from ui.models import generate_faces, load_model

OVERLAY_HELP = ("Under the grid: the age and gender a face-attribute model (dlib-models, trained on photos of "
                "real people) guesses for each face, with the probability it gives that gender. A guess from "
                "pixels, with that model's biases: it says how a face looks to it, nothing more.")


@st.cache_data(show_spinner=False, max_entries=128)
def face_attributes(name: str, n: int, seed: int, truncation: float | None) -> list[FaceAttributes]:
    """Age and gender of the faces `generate_faces(name, n, seed, truncation)` shows; cached per argument set."""
    return predict_attributes(generate_faces(name, n, seed, truncation))


def show_attribute_table(results: list[FaceAttributes], nrow: int, container=st) -> None:
    """The predictions laid out like the grid (`nrow` per row): "#7: 34 y, female 0.93" per cell."""
    cells = [f"#{i}: {r.caption()}" for i, r in enumerate(results)]
    cells += [""] * (-len(cells) % nrow)
    rows = [cells[i : i + nrow] for i in range(0, len(cells), nrow)]
    container.dataframe(pd.DataFrame(rows, columns=[f"col {c + 1}" for c in range(nrow)]), hide_index=True,
                        width="stretch")
    s = summarise(results)
    if s["faces_found"]:
        container.caption(f"A face was found in {s['faces_found']} of {s['n']}; mean predicted age "
                          f"{s['mean_age']:.0f} years; {round(s['share_male'] * s['faces_found'])} of "
                          f"{s['faces_found']} look male to the model. {OVERLAY_HELP}")
    else:
        container.caption(f"No face was found in any of the {s['n']} images. {OVERLAY_HELP}")


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
