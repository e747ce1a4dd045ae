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
# What a table cell shows for a figure that does not exist (no face, a real source's AUC): a number column
# would print "None" or "nan", a blank reads as a gap in the data
MISSING = "—"
# st.dataframe's rows and header are 35 px, plus 3 px of border: a taller frame shows an empty half row
ROW_PX, FRAME_PX = 35, 3
# a percentage bar column: the bar and "99.49%" beside it (Streamlit's default is 150 px)
PROGRESS_PX = 128


def column_px(*texts: str) -> int:
    """A st.dataframe column's width in px that shows the longest of `texts` (the header among them) whole.

    The grid sizes a column to the first rows it reads and cuts the rest ("lsgan-80-fe", "Looks GAN-m");
    a fixed width must be wide enough for every value: 14 px Source Sans takes under 8 px a character on
    average (tests/e2e/test_layout_browser.py measures the real text), plus 8 px padding each side.
    """
    return 8 * max(len(t) for t in texts) + 20


def table_height(rows: int, max_rows: int | None = None) -> int:
    """The height of an st.dataframe that shows `rows` rows (at most `max_rows`, then it scrolls) and no
    empty space below the last one."""
    shown = rows if max_rows is None else min(rows, max_rows)
    return ROW_PX * (shown + 1) + FRAME_PX


def number_or_missing(value, fmt: str = "{}") -> str:
    """`value` formatted for a text cell, or MISSING when there is none (None or NaN)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return MISSING
    return fmt.format(value)


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


# (least width in px, share of the spare width) that `panes` can lay out
PANE_SIZES = ((470, 3), (260, 2), (440, 3), (300, 2), (480, 3), (250, 1), (420, 3), (230, 2), (130, 1))


def panes(*sizes: tuple[int, int], key: str, gap: str = "large") -> list:
    """Containers side by side that go under one another when the page is too narrow for all of them.

    `sizes`: (least width in px, share of the spare width) per pane, each one of `PANE_SIZES`. st.columns keeps
    its proportions at any width, so at 800 px a quarter column was 85 px and cut its text to a word a line;
    these wrap instead. `key` names them on the page (st-key-<key>-<i>-w<least>-s<share>); the style that sets
    each size's least width and share is one constant, style-only st.html, which takes no space (raw HTML is
    only ever a constant: tests/core/io/test_security.py). A new size needs its rule added there.
    """
    unknown = [size for size in sizes if tuple(size) not in PANE_SIZES]
    if unknown:
        raise ValueError(f"pane sizes {unknown} have no style rule: add them to PANE_SIZES and to the style in panes")
    st.html("<style>"
            "[data-testid='stLayoutWrapper']:has(> [class*='-w470-s3']) {flex: 3 1 470px !important} "
            "[data-testid='stLayoutWrapper']:has(> [class*='-w260-s2']) {flex: 2 1 260px !important} "
            "[data-testid='stLayoutWrapper']:has(> [class*='-w440-s3']) {flex: 3 1 440px !important} "
            "[data-testid='stLayoutWrapper']:has(> [class*='-w300-s2']) {flex: 2 1 300px !important} "
            "[data-testid='stLayoutWrapper']:has(> [class*='-w480-s3']) {flex: 3 1 480px !important} "
            "[data-testid='stLayoutWrapper']:has(> [class*='-w250-s1']) {flex: 1 1 250px !important} "
            "[data-testid='stLayoutWrapper']:has(> [class*='-w420-s3']) {flex: 3 1 420px !important} "
            "[data-testid='stLayoutWrapper']:has(> [class*='-w230-s2']) {flex: 2 1 230px !important} "
            "[data-testid='stLayoutWrapper']:has(> [class*='-w130-s1']) {flex: 1 1 130px !important}"
            "</style>")
    row = st.container(horizontal=True, gap=gap, key=key)
    return [row.container(key=f"{key}-{i}-w{least}-s{share}") for i, (least, share) in enumerate(sizes)]


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


def source_dataframe(per_source: dict, width: str = "content") -> None:
    """The per-source test table (core.models.history.source_table): AUC as text, a dash for real sources
    (a number column would print "None" there), verdict shares as bars (the uncertain share as a figure, so
    the table fits a 1,400 px window). Detect and Training History show it."""
    from core.models.history import source_table

    rows = [{**r, "AUC vs real": number_or_missing(r["AUC vs real"], "{:.3f}")} for r in source_table(per_source)]
    st.dataframe(rows, hide_index=True, width=width, height=table_height(len(rows)), column_config={  # every row
        "Source": st.column_config.TextColumn(width=column_px("Source", *(str(r["Source"]) for r in rows))),
        "AUC vs real": st.column_config.TextColumn(help="How well the verdicts rank this generator's faces above "
                                                        "every real one (1 = perfectly); none for a real source",
                                                   alignment="right"),
        "Called GAN-made": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent",
                                                           width=PROGRESS_PX),
        "Uncertain": st.column_config.NumberColumn(format="percent"),
        "Called real": st.column_config.ProgressColumn(
            min_value=0.0, max_value=1.0, format="percent", width=PROGRESS_PX,
            help="For a generator: its faces that got through as real, the miss that matters most"),
    })
