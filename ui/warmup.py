"""Start-up warm-up: get the first grid ready while the visitor's browser is still loading the page.

`streamlit run app.py` finds the `st.App` in app.py and serves it; its lifespan runs once, when the
server starts, before anyone connects. It starts one background thread that imports torch (2.5-3 s
of a cold start on a 2-core machine) and the modules the first pages need, loads the default
generator into the shared model cache and draws the Generate page's default grid into the shared
faces cache (which also sets up the CPU kernels for those shapes).

Every script run through app.py waits for it first (`wait`, from app.py's main), so the first
visitor finds the grid drawn instead of drawing it a second time beside the warm-up. Nothing is
loaded that the first page would not load anyway, and a failure here only means the page does
that work itself.
"""

from __future__ import annotations

import contextlib
import importlib
import threading

# the Generate page's imports, heaviest first
MODULES = ("torch", "core.models.registry", "core.models.dcgan", "core.gan.sampling", "ui.models", "ui.widgets",
           "ui.attributes", "core.detection.judge")

_started = threading.Event()
_done = threading.Event()
_lock = threading.Lock()


def _warm() -> None:
    try:
        for name in MODULES:
            with contextlib.suppress(Exception):  # the page will import it again and show any error
                importlib.import_module(name)
        with contextlib.suppress(Exception):  # the page loads the model itself and says what failed
            from ui.models import warm_default_grid

            warm_default_grid()
    finally:
        _done.set()


def start() -> None:
    """Start the warm-up thread, once per process."""
    with _lock:
        if not _started.is_set():
            _started.set()
            threading.Thread(target=_warm, name="warm-up", daemon=True).start()


def wait(timeout: float = 120) -> None:
    """Block until the warm-up has finished (at once where it never started, as under AppTest)."""
    if _started.is_set():
        _done.wait(timeout)


@contextlib.asynccontextmanager
async def lifespan(app):
    from ui.nav import app_navigation_from_the_start

    app_navigation_from_the_start()  # the first visitor's run goes through app.py at once
    start()
    yield
