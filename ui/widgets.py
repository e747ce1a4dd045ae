"""Small display helpers shared by the pages."""

from __future__ import annotations

import html
import re

import numpy as np
import streamlit as st

from core.gan.sampling import encode_png_fast

# Below this many pixels (at 2x) an image is shown at 2x; above, it fills the column, so a
# long strip never runs off the page and a single face is not blown up to a blur.
STRETCH_FROM_PX = 640
# Characters that start Markdown (and Streamlit's :directive[...] and $math$) syntax in a line
_MARKDOWN_SYNTAX = re.compile(r"([\\`*_{}\[\]()#+\-!|~:$])")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def md_text(text: str) -> str:
    """`text` that a visitor chose (an upload's file name) made safe to put in Markdown: any HTML is
    escaped and Markdown syntax backslash-escaped, so it shows exactly as written and never becomes a
    tag, a link, an image or formatting. For st.markdown, st.caption, alerts and image captions."""
    return _MARKDOWN_SYNTAX.sub(r"\\\1", html.escape(text, quote=False))


def csv_cell(value):
    """A CSV cell that a spreadsheet shows as text: a string starting like a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def show_image(img: np.ndarray, caption: str | None = None, container=st, png: bytes | None = None) -> None:
    """Show faces pixel-crisp (PNG) at 2x, or at the column's width when that is smaller.

    `png`: the PNG of `img` already encoded (say for a download button): served as it is, so the
    picture on the page is the very file a visitor downloads, and it is encoded once, not twice.
    """
    shown = img.shape[1] * 2
    if png is None and img.ndim == 3 and img.shape[2] == 3:
        png = encode_png_fast(img)  # 2-3x faster than the PNG Streamlit would write
    container.image(img if png is None else png, caption=caption, output_format="PNG",
                    width="stretch" if shown >= STRETCH_FROM_PX else shown)
