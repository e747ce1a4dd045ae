"""A faster first look at the installed packages when the server starts (the same answer, sooner).

Streamlit's runtime scans every installed package for custom components as it starts
(`streamlit.components.v2.manifest_scanner`): for each of ~95 packages here it parses the whole
METADATA file with the e-mail parser to read three fields, 0.15-0.6 s of a cold start on these
2-core machines (bench.cold_start's `health_s`). A package can only pass its filter when "streamlit"
appears in its name, summary or requirements, which all sit in METADATA's header; so a package
whose header never says "streamlit" is passed over after a plain read of the file, and every other
one gets Streamlit's own check, unchanged. Nothing here decides what is a component.
"""

from __future__ import annotations

import functools


def _header(dist) -> str | None:
    """The METADATA (or PKG-INFO) header of `dist`, lower case; None where neither can be read."""
    for name in ("METADATA", "PKG-INFO"):
        try:
            text = dist.read_text(name)
        except Exception:  # noqa: BLE001 - unreadable: Streamlit's own check decides
            return None
        if text is not None:
            return text.split("\n\n", 1)[0].lower()
    return None


def install() -> bool:
    """Put the pre-filter in front of Streamlit's own; False (and nothing changed) where this Streamlit
    has no such scanner."""
    try:
        from streamlit.components.v2 import manifest_scanner
    except ImportError:
        return False
    check = getattr(manifest_scanner, "_is_likely_streamlit_component_package", None)
    if check is None or getattr(check, "_prefiltered", False):
        return check is not None

    @functools.wraps(check)
    def prefiltered(dist) -> bool:
        header = _header(dist)
        if header is not None and "streamlit" not in header:
            return False
        return check(dist)

    prefiltered._prefiltered = True
    manifest_scanner._is_likely_streamlit_component_package = prefiltered
    return True
