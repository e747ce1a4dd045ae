"""What a verdict means, in measured terms, read from the records: no sentence claims more than was measured.

A "real" verdict means that the detectors found no trace of the generators they were trained on (named
from their training record), and that the real-only detector found the face as probable as real photos
are. It does not mean the photo is real: `train.leave_out --record` measures how often a generator the
verdict never learnt from still had its faces called real (weights/leave-out.json), and that share is
said beside every real verdict.
"""

from __future__ import annotations

from pathlib import Path

LEAVE_OUT_FILE = "leave-out.json"  # under weights/, written by train.leave_out --record


def leave_out_path() -> Path:
    from core.models.registry import WEIGHTS_DIR

    return WEIGHTS_DIR / LEAVE_OUT_FILE


def read_leave_out(path: Path | None = None) -> dict | None:
    """The recorded leave-one-family-out figures ({"families": {family: {"left_out": [...], "sources": {source:
    {"called_real", ...}}}}, ...}), or None where none are recorded or the file is unreadable."""
    from core.io.store import read_json

    try:
        data = read_json(path or leave_out_path(), None)
    except ValueError:
        return None
    fams = data.get("families") if isinstance(data, dict) else None
    return data if isinstance(fams, dict) and fams else None


def left_out_called_real(record: dict) -> dict[str, float]:
    """Each left-out generator's share of faces still called real, from a leave-out record."""
    out = {}
    for fam in record.get("families", {}).values():
        for src in fam.get("left_out", []):
            v = fam.get("sources", {}).get(src, {}).get("called_real")
            if isinstance(v, (int, float)):
                out[src] = float(v)
    return out


def real_meaning(generators: list[str], record: dict | None, realonly: bool) -> str:
    """The sentence under a "real" verdict: what was looked for, by what, and how often that missed before."""
    named = ", ".join(generators) if generators else "the generators in their training record"
    checked = (" and the real-only check (models of real photos, their pixels and their texture, that never saw a "
               "generated face) found it as probable as real photos are" if realonly else "")
    first = f"*Looks real* means: no trace of {named} was found{checked}. It does not prove the photo is real."
    missed = left_out_called_real(record) if record else {}
    if not missed:
        return first + " How often a generator missing from that list gets through has not been measured here."
    lo, hi = min(missed.values()), max(missed.values())
    worst = max(missed, key=missed.get)
    span = f"{lo:.0%}" if round(lo, 2) == round(hi, 2) else f"{lo:.0%} to {hi:.0%}"
    return (first + f" Tested on generators kept out of training (one family at a time), the verdict still called "
            f"{span} of their faces real (most: {worst}, {missed[worst]:.0%}); a generator unlike all of them may "
            "get through more often.")
