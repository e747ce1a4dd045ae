"""Training History's sidebar controls, bound to the URL, and the notes that say why a link's parameter
is not what the page shows (a model without history, a comparison of a detector with a GAN, ...)."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core.models import registry
from core.models.history import HISTORY_FILE, X_AXES
from ui import texts
from ui.views.history import comparable_runs, is_detector, record_folder

SMOOTHING_MAX = 0.99
URL_KEYS = ("model", "compare", "x_by", "smoothing")

# ----------------------------------------------------------------------------- links

# The sidebar's controls are bound to ?model=, ?compare=, ?x_by= and ?smoothing=, so a link opens the same
# view. Streamlit drops a value a bound control does not offer; these say why, and remove a parameter whose
# control is not on the page (a comparison for a model with nothing to compare, smoothing for a detector).


def drop_url_param(key: str, why: str, notes: list[str]) -> None:
    """Remove ?key= (its control is not on the page) and add `why` to the notes shown.

    A parameter still bound to the control the run before drew is the visitor's own last setting, which
    Streamlit removes when this run ends: nothing to say then.
    """
    try:
        del st.query_params[key]
    except StreamlitAPIException:
        return
    notes.append(why)


def compare_refusal(requested: str, name: str, with_history: list[str]) -> str:
    """Why ?compare=`requested` cannot be overlaid on `name`'s charts."""
    if requested not in registry.names(subject=None):
        return f"compare={requested} is not a model"
    if requested == name:
        return f"compare={requested} is the model shown"
    if requested not in with_history:
        return f"compare={requested} has no training history"
    if is_detector(requested) != is_detector(name):
        kinds = ("a detector", "a generator") if is_detector(requested) else ("a generator", "a detector")
        return f"compare={requested} is {kinds[0]}, and {name} is {kinds[1]}"
    return f"compare={requested} logs none of the metrics {name} does"


def smoothing_refusal(requested: str) -> str | None:
    """Why ?smoothing=`requested` is not a smoothing weight, or None when it is one."""
    try:
        if 0.0 <= float(requested) <= SMOOTHING_MAX:
            return None
    except ValueError:
        pass
    return f"smoothing={requested} is not a number from 0 to {SMOOTHING_MAX:g}"


def show_notes(slot, notes: list[str]) -> None:
    if notes:
        slot.info("  \n".join(notes), icon=":material/link_off:")


# ----------------------------------------------------------------------------- the page's controls

def models_with_history() -> list[str]:
    return [n for n in registry.names(subject=None) if (record_folder(n) / HISTORY_FILE).exists()]


def model_controls(with_history: list[str]) -> tuple[str, float]:
    """The sidebar's model picker and, for a GAN, its smoothing slider: (model name, smoothing weight)."""
    name = st.selectbox("Model", with_history, key="model", bind="query-params",
                        help="\n".join(f"- **{n}**: {registry.get_spec(n).title}" for n in with_history))
    weight = 0.0
    if not is_detector(name):  # a detector logs one row an epoch: nothing to smooth
        weight = st.slider("Smoothing", 0.0, SMOOTHING_MAX, 0.9, 0.01, key="smoothing", bind="query-params",
                           help="Exponential moving average, as in TensorBoard: 0 shows the raw values, "
                                "higher values show the trend under the iteration-to-iteration noise.")
    return name, weight


def model_notes(requested: dict, name: str, with_history: list[str], weight: float, notes: list[str]) -> None:
    """Say why ?model= or ?smoothing= from the link is not what is shown."""
    if requested["model"] and requested["model"] not in with_history:
        notes.append(f"model={requested['model']} is not a model; showing **{name}**."
                     if requested["model"] not in registry.names(subject=None) else
                     f"**{requested['model']}** has no training history to show (no {HISTORY_FILE} in its folder); "
                     f"showing **{name}**.")
    if requested["smoothing"] is not None:
        if is_detector(name):
            drop_url_param("smoothing", f"smoothing={requested['smoothing']} does not apply: a detector logs one "
                                        "row an epoch, with nothing to smooth.", notes)
        elif (why := smoothing_refusal(requested["smoothing"])) is not None:
            notes.append(f"{why}; smoothing {weight:g}.")


def compare_controls(name: str, columns: dict, with_history: list[str]) -> tuple[list[str], str | None, str]:
    """The sidebar's comparison picker and, for two GANs, how to line them up: (offered, compare, x_by)."""
    detector = is_detector(name)
    kind = "detector" if detector else "generator"
    others = comparable_runs(name, columns, with_history)
    compare, x_by = None, "iteration"
    if not others:
        st.caption(f"**Compare runs:** nothing to compare with yet. No other {kind}'s training history logs "
                   f"the metrics {name} does; a second run of the same kind appears here, to overlay on the "
                   "same charts.")
        return others, compare, x_by
    compare = st.selectbox("Compare with", [None, *others], key="compare", bind="query-params",
                           format_func=lambda n: "nothing" if n is None else n,
                           help=f"Overlay a second model's curves (dotted) on the same charts. Offered: "
                                f"other {kind}s whose history logs some of the same metrics.")
    if detector:
        x_by = "epoch"
        st.caption(texts.HISTORY_DETECTOR_AXIS)
    elif compare is not None:  # only a comparison is lined up
        x_by = st.radio("Line runs up by", X_AXES, key="x_by", horizontal=True, bind="query-params",
                        help="Iterations, or epochs (passes over the data): runs with different batch sizes "
                             "are as far into training at the same epoch, not at the same iteration.")
    return others, compare, x_by


def compare_notes(requested: dict, name: str, with_history: list[str], others: list[str], compare: str | None,
                  x_by: str, notes: list[str]) -> None:
    """Say why ?compare= or ?x_by= from the link is not what is shown (and drop one with no control)."""
    if requested["compare"] and requested["compare"] not in ("nothing", *others):
        why = f"{compare_refusal(requested['compare'], name, with_history)}; showing **{name}** alone."
        if others:  # the bound selectbox has dropped it from the URL
            notes.append(why)
        else:
            drop_url_param("compare", why, notes)
    if requested["x_by"] is None:
        return
    if is_detector(name):
        drop_url_param("x_by", f"x_by={requested['x_by']} does not apply: detectors are always lined up by "
                               "epoch.", notes)
    elif compare is None:
        drop_url_param("x_by", f"x_by={requested['x_by']} lines up a comparison, and none is shown.", notes)
    elif requested["x_by"] not in X_AXES:  # the bound radio has dropped it
        notes.append(f"x_by={requested['x_by']} is not {' or '.join(X_AXES)}; lining the runs up by {x_by}.")
