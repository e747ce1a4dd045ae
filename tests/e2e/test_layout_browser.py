"""Every page at 800, 1024, 1400 and 1920 px in Chromium: no text cut and no word broken over lines.

One server and one browser for the module. Each page is loaded once, in a state that shows what a visitor
sees (Detect: an example's verdict and a batch table; Classroom: trained steps, then an answered quiz
round); then the window takes each width in turn and the page is measured there and photographed (the
screenshots go to tests/artifacts/layout/, one per page and width, to look at). What is measured, in the
page's own geometry (tests/e2e/layout_checks.js):

- text cut: a text node running past the nearest box that clips it sideways (an ellipsis, overflow
  hidden, a box scrolled sideways): buttons, labels, select values, markdown, metrics, st.table cells;
- words broken over lines: a word or figure of 3 characters or more ("cnn", "50%") whose characters sit
  on more than one line (the "p r o b e - t e x t u r e" of a too-narrow column);
- no exception shown on the page;
- Plotly charts: every title, tick label, legend entry and number inside the chart's box, no text
  smaller than 9 px, no axis title or chart title under the legend, and a ROC chart's axes within 0-1;
- st.dataframe (drawn on a canvas, so there is no text to measure in the page): each grid's columns
  (their drawn widths) and its cells' shown text are read from the grid's props and the text measured in
  the grid's font; a cell or header wider than its column is cut. From 1,400 px a grid must also show
  every column without scrolling sideways (narrower windows may scroll a wide grid);
- images with numbers drawn in them (the Latent Lab's numbered grids): the numbers at least 8 px tall
  as shown.

The 32 page-width checks took 158 s on a 2-core machine whose load average other jobs held at 6
(opening the pages is most of it; each further width takes 1-3 s).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, streamlit_server

from core.gan.latent import numbered_grid
from core.models import registry

WIDTHS = (800, 1024, 1400, 1920)
SHOTS = ARTIFACTS / "layout"
CHECKS = (Path(__file__).parent / "layout_checks.js").read_text()
EXAMPLE_PHOTO = Path(__file__).resolve().parents[2] / "assets" / "examples" / "astronaut.png"

# the page is busy while a skeleton, a spinner or the "Running" status shows; settled after `calm` ms of none
SETTLED = """(calm) => {
  const busy = !!document.querySelector('[data-testid="stSkeleton"], [data-testid="stSpinner"]') ||
    [...document.querySelectorAll('[data-testid="stStatusWidget"]')].some(e => e.innerText.includes('Running'));
  if (busy) { window.__calm = null; return false; }
  window.__calm = window.__calm || performance.now();
  return performance.now() - window.__calm > calm;
}"""


def settle(page, timeout: float = 120_000, calm_ms: int = 700) -> None:
    page.wait_for_selector("[data-testid='stApp']")
    page.evaluate("() => { window.__calm = null; }")
    page.wait_for_function(SETTLED, arg=calm_ms, polling=100, timeout=timeout)


def open_home(page, url):
    page.goto(url)
    page.get_by_text("Training data: a 5,400-photo", exact=False).wait_for()


def open_generate(page, url):
    page.goto(f"{url}/generate")
    page.get_by_text("faces from", exact=False).first.wait_for()


def open_latent_lab(page, url):
    page.goto(f"{url}/latent_lab")
    page.get_by_role("heading", name="Latent Lab").wait_for()


def open_detect(page, url):
    """An example's verdict, then a photo uploaded beside it: the batch table, with the example's details."""
    page.goto(f"{url}/detect")
    page.get_by_role("tab", name="Examples").click()
    model = registry.names("generator")[0]
    page.get_by_role("button", name=model, exact=True).click()
    page.locator("[data-testid='stMain'] h4").filter(has_text="Face 1").first.wait_for()
    settle(page)
    page.get_by_role("tab", name="Upload").click()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(EXAMPLE_PHOTO))
    page.get_by_text("Verdicts for 2 files").wait_for()
    settle(page)
    details = page.locator("[data-testid='stSelectbox']").filter(has_text="Details for").locator("input")
    details.click()
    details.press_sequentially(f"{model} seed")  # the box filters its options; Enter takes the first
    details.press("Enter")
    page.locator("[data-testid='stMain'] h4").filter(has_text="Face 1").first.wait_for()


def open_history(page, url):
    page.goto(f"{url}/training_history")
    page.get_by_text("Fixed-noise snapshots").wait_for()


def open_history_detector(page, url):
    page.goto(f"{url}/training_history?model=cnn")
    page.get_by_text("Detectors side by side").wait_for()


def open_classroom(page, url):
    page.goto(f"{url}/classroom")
    page.get_by_role("button", name="Step", exact=True).click()
    page.get_by_text("Step 50", exact=True).wait_for()


def open_quiz(page, url):
    page.goto(f"{url}/classroom")
    page.get_by_role("tab", name="Which face is real?").click()
    page.get_by_role("button", name="This one is real").first.click()
    page.get_by_text(re.compile(r"^Detectors: ")).first.wait_for()


def digit_height() -> int:
    """How tall, in its own pixels, a number printed by numbered_grid is: the white inside its black box,
    on a grey face."""
    grid = numbered_grid(np.full((1, 64, 64, 3), 128, np.uint8), 1)
    box = (grid == 0).all(axis=2)
    rows, cols = np.flatnonzero(box.any(axis=1)), np.flatnonzero(box.any(axis=0))
    inside = grid[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    white = np.flatnonzero((inside > 160).all(axis=2).any(axis=1))
    return int(white[-1] - white[0] + 1)


# page -> (how to open it, what must have been measured there: no check passes by finding nothing)
PAGES = {
    "home": (open_home, {"texts": 100}),
    "generate": (open_generate, {"texts": 15, "images": 1}),
    "latent_lab": (open_latent_lab, {"texts": 30, "numbered": 1}),
    "detect": (open_detect, {"texts": 40, "charts": 1, "frames": 2}),
    "training_history": (open_history, {"texts": 40, "charts": 2}),
    "training_history_detector": (open_history_detector, {"texts": 80, "charts": 4, "frames": 3}),
    "classroom": (open_classroom, {"texts": 40, "charts": 3}),
    "classroom_quiz": (open_quiz, {"texts": 25}),
}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make browser installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, browser):
    quiz_photos = tmp_path_factory.mktemp("quiz-real")  # the quiz's real photo: the licensed example
    shutil.copy(EXAMPLE_PHOTO, quiz_photos)
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    with streamlit_server({"FACEGAN_QUIZ_REAL_DIR": str(quiz_photos)}) as url:
        yield url


@pytest.fixture(scope="module")
def opened(server, browser):
    """The page in its state, opened once for all widths: name -> Playwright page (the last one only)."""
    held: dict = {}

    def get(name: str):
        if name not in held:
            for other in held.values():
                other.close()
            held.clear()
            page = browser.new_page(viewport={"width": WIDTHS[-1], "height": 1000})
            page.set_default_timeout(120_000)
            try:
                PAGES[name][0](page, server)
                settle(page)
            except Exception:
                page.screenshot(path=str(SHOTS / f"failure-{name}.png"), full_page=True)
                raise
            held[name] = page
        return held[name]

    yield get
    for page in held.values():
        page.close()


def problems(found: dict, width: int) -> list[str]:
    out = [f"cut: {c['text']!r} in {c['in']} (text {c['text_px']} px, box {c['box_px']})" for c in found["cut"]]
    out += [f"broken over {b['lines']} lines: {b['word']!r} in {b['in']} ({b['text']!r})" for b in found["broken"]]
    out += [f"chart {c['chart']!r}: {c['text']!r} {c['kind']}" for c in found["chart"]]
    out += [f"chart {t['chart']!r}: {t['text']!r} in {t['font_px']} px type" for t in found["tiny"]]
    out += [f"table column {c['column']!r}: {c['text']!r} needs {c['text_px']} px, has {c['column_px']}"
            for c in found["frame_cut"]]
    if width >= 1400:
        out += [f"table scrolls sideways: columns {', '.join(map(repr, s['hidden']))} hidden "
                f"({s['columns_px']} px of columns in {s['frame_px']} px)" for s in found["frame_scroll"]]
    out += [f"numbers in an image {n['number_px']:.1f} px tall ({n['caption']!r})" for n in found["numbered"]
            if n["number_px"] < 8]
    return out


@pytest.mark.parametrize("name, width", [(n, w) for n in PAGES for w in WIDTHS])
def test_layout(opened, name, width):
    page = opened(name)
    page.mouse.move(1, 1)  # no tooltip of the last button clicked over the page
    page.set_viewport_size({"width": width, "height": 1000})
    settle(page, calm_ms=400)  # a new width redraws in the browser; nothing runs on the server
    # the whole page in one picture: a window as tall as the page (the main area scrolls inside the app)
    tall = page.evaluate("() => Math.max(...[...document.querySelectorAll("
                         "\"[data-testid='stMain'], [data-testid='stSidebarContent']\")].map(e => e.scrollHeight))")
    page.set_viewport_size({"width": width, "height": min(tall + 40, 14_000)})
    settle(page, calm_ms=400)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"))
    found = page.evaluate(CHECKS, {"digitPx": digit_height()})
    (SHOTS / f"{name}-{width}.json").write_text(json.dumps(found, indent=1))
    assert not page.locator("[data-testid='stException']").count(), page.locator("[data-testid='stException']").first.inner_text()
    assert not found["frame_unread"], "a st.dataframe's columns could not be read (has Streamlit's grid changed?)"
    bad = problems(found, width)
    assert not bad, f"{name} at {width} px:\n" + "\n".join(bad)
    for what, least in PAGES[name][1].items():  # and it looked at what the page shows
        assert found["measured"][what] >= least, f"measured {found['measured']}: expected {least}+ {what}"
