"""Start-up warm-up: get the Generate page's grid ready while the first visitor reads Home.

`streamlit run app.py` finds the `st.App` in app.py and serves it; its lifespan runs once, when the
server starts, and arms one background thread that imports torch (2.5-3 s of a cold start on a
2-core machine) and the modules the Generate page needs, loads the default generator into the shared
model cache and draws the Generate page's default grid into the shared faces cache (which also sets
up the CPU kernels for those shapes).

It starts AFTER_PAGE_S after the first Home page's script run (`start_soon`, from app.py's main),
or as soon as a browser asks for another page's address (`StartOnPageRequest`, while it still loads
the frontend; `wait` too, from that page's run), or IDLE_START_S after the server's start when
nobody has come yet. Home is drawn from the models' records without torch, and torch's import beside
it holds the interpreter (loading its libraries takes the GIL for a second at a time) while the
server sends the page's scripts and images: begun at the server's start it made Home's cold start
6.8 s, begun as Home's run ended 5.7 s, begun later ~3 s (bench.cold_start). Every page
but Home waits for it first, so a visitor who opens /generate first finds the grid drawn instead of
drawing it a second time beside the warm-up.

Two sessions importing one module at the same moment can meet it partially initialised (twenty
visitors at once did, with pandas: tests/e2e/test_load.py). So no session imports anything another
thread may be importing: the lifespan starts a thread that imports Home's modules while the first
browser loads the frontend, and every script run waits for it first (`note_visit`); the pages that
need torch or pandas wait for the warm-up, which imports them. Nothing is
loaded that the first page would not load anyway, and a failure here only means the page does
that work itself.
"""

from __future__ import annotations

import contextlib
import importlib
import threading

# Home's imports (pages/home.py; PIL for st.image), from the server's start: ~0.3 s, without torch or pandas
HOME_MODULES = ("numpy", "PIL.Image", "core.models.registry", "core.models.history", "ui.models", "ui.nav", "ui.texts")
# the other pages' imports, heaviest first, in the background
MODULES = ("torch", "pandas", "core.models.dcgan", "core.gan.sampling", "ui.widgets", "ui.attributes",
           "core.detection.judge")

IDLE_START_S = 5.0  # a server nobody has visited yet warms up after this long
# the browser fetches Home's scripts and images after its script run: ~1 s on a busy 2-core machine
AFTER_PAGE_S = 2.0

_armed = threading.Event()  # by the server's lifespan: under AppTest nothing ever starts
_visited = threading.Event()  # a visitor's script run has begun: the idle start is off
_home_ready = threading.Event()  # Home's modules are imported
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
    """Start the warm-up thread, once per process, where the server's lifespan armed it."""
    with _lock:
        if _armed.is_set() and not _started.is_set():
            _started.set()
            threading.Thread(target=_warm, name="warm-up", daemon=True).start()


def start_soon() -> None:
    """Start the warm-up AFTER_PAGE_S from now (after Home's script run)."""
    if _armed.is_set() and not _started.is_set():
        timer = threading.Timer(AFTER_PAGE_S, start)
        timer.daemon = True
        timer.start()


def note_visit(timeout: float = 60) -> None:
    """A visitor's script run begins (app.py's main): wait until Home's modules are imported (at once where
    the lifespan never ran, as under AppTest); the warm-up then starts after their page, not IDLE_START_S
    after the server's start, which could fall in the middle of their first Home page."""
    _visited.set()
    if _armed.is_set():
        _home_ready.wait(timeout)


def _import_home_modules() -> None:
    try:
        for name in HOME_MODULES:
            with contextlib.suppress(Exception):  # Home imports it again and shows any error
                importlib.import_module(name)
        # and the records Home shows (configs, training records, the Hub tried or not), into the cache its
        # run reads them from: ~0.2 s off the first run, more where the Hub is tried
        with contextlib.suppress(Exception):  # Home reads them again and shows what failed
            from ui.models import describe_all

            describe_all()
    finally:
        _home_ready.set()


def _start_if_idle() -> None:
    if not _visited.is_set():
        start()


def wait(timeout: float = 120) -> None:
    """Start the warm-up if it has not started and block until it has finished (at once where it was
    never armed, as under AppTest)."""
    start()
    if _started.is_set():
        _done.wait(timeout)


class StartOnPageRequest:
    """ASGI middleware: a browser opening any page's address but Home's (a request for HTML: the frontend's
    scripts, images and websocket ask for other things) starts the warm-up at once, a second before that
    page's script run would (`wait`), while the browser is still loading the frontend."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("method") == "GET" and scope.get("path", "/").strip("/"):
            accept = dict(scope.get("headers") or []).get(b"accept", b"")
            if b"text/html" in accept:
                start()
        await self.app(scope, receive, send)


@contextlib.asynccontextmanager
async def lifespan(app):
    from ui.nav import app_navigation_from_the_start

    app_navigation_from_the_start()  # the first visitor's run goes through app.py at once
    _armed.set()
    # beside the server answering the first browser's requests for the frontend (~1 s), not before them
    threading.Thread(target=_import_home_modules, name="home-imports", daemon=True).start()
    timer = threading.Timer(IDLE_START_S, _start_if_idle)
    timer.daemon = True
    timer.start()
    yield
