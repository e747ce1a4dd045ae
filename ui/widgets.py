"""Small display helpers shared by the pages."""

from __future__ import annotations

import numpy as np
import streamlit as st

# Below this many pixels (at 2x) an image is shown at 2x; above, it fills the column, so a
# long strip never runs off the page and a single face is not blown up to a blur.
STRETCH_FROM_PX = 640


def show_image(img: np.ndarray, caption: str | None = None, container=st) -> None:
    """Show faces pixel-crisp (PNG) at 2x, or at the column's width when that is smaller."""
    shown = img.shape[1] * 2
    container.image(img, caption=caption, output_format="PNG",
                    width="stretch" if shown >= STRETCH_FROM_PX else shown)
