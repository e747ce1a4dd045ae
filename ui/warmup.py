"""Start-up warm-up: import the heavy libraries while the visitor's browser is still loading the page.

`streamlit run app.py` finds the `st.App` in app.py and serves it; its lifespan runs once, when the
server starts, before anyone connects. It starts one background thread that imports torch (2.5-3 s
of a cold start on this 2-core machine) and the modules the first pages need, so the first script
run finds them imported instead of waiting for them. Nothing is loaded that a page would not load
anyway, no model is built, and a failure here only means the page imports as it would have.
"""

from __future__ import annotations

import contextlib
import importlib
import threading

MODULES = ("torch", "core.models.registry", "core.models.dcgan", "core.gan.sampling", "core.detection.judge")


def _warm() -> None:
    for name in MODULES:
        with contextlib.suppress(Exception):  # the page will import it again and show any error
            importlib.import_module(name)


@contextlib.asynccontextmanager
async def lifespan(app):
    threading.Thread(target=_warm, name="warm-up imports", daemon=True).start()
    yield
