"""Cold start, taken apart: `streamlit run` process start to the first page drawn in Chromium.

    python -m bench.cold_start [--runs 5] [--path /]

Per run, seconds from starting the server to: its health endpoint answering, the page's load event
(the frontend's JavaScript fetched and run), the websocket opening (the first script run starts),
and the page drawn: its first script run over and every image on it decoded (Home at /, the default
grid of faces at /generate). Prints each run, the medians, and how busy the cores were in the 2 s
before the runs (other processes) and during them (a busy machine slows every figure). Needs Debian's chromium (`make browser`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("health_s", "page_loaded_s", "websocket_s", "drawn_s")
# the first script run has ended (the app root's state leaves "initial" and "running") and every image in
# the page's main area is decoded
DRAWN = """() => {
    const app = document.querySelector("[data-testid='stApp']");
    if (!app || app.getAttribute("data-test-script-state") !== "notRunning") return false;
    const imgs = [...document.querySelectorAll("[data-testid='stMain'] [data-testid='stImage'] img")];
    return imgs.length > 0 && imgs.every(img => img.complete && img.naturalWidth > 0);
}"""


def measure(runs: int, path: str = "/") -> dict:
    """`runs` cold starts; per phase its list and its median, or {"unavailable": why}."""
    sys.path.insert(0, str(ROOT / "tests"))
    from browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server

    from bench.generate_speed import OtherLoad

    if not Path(CHROMIUM).exists():
        return {"unavailable": "Debian chromium is not installed (make browser)"}
    from playwright.sync_api import sync_playwright

    with OtherLoad() as before:  # what else this machine is doing: the figures below move with it
        time.sleep(2)
    rows = []
    with sync_playwright() as p, OtherLoad() as other:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for _ in range(runs):
                page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                page.set_default_timeout(180_000)
                row: dict[str, float] = {}
                started = time.perf_counter()  # streamlit_server starts the process first thing
                page.on("websocket", lambda ws, row=row, t0=started: row.setdefault("websocket_s",
                                                                                       time.perf_counter() - t0))
                with streamlit_server(timeout=180, poll=0.02) as url:
                    row["health_s"] = time.perf_counter() - started
                    page.goto(f"{url}{path}")
                    row["page_loaded_s"] = time.perf_counter() - started
                    page.wait_for_function(DRAWN, polling=50)
                    row["drawn_s"] = time.perf_counter() - started
                rows.append(row)
                page.context.close()
        finally:
            browser.close()
    out = {k: [r.get(k, float("nan")) for r in rows] for k in PHASES}
    return {"runs": out, **{f"median_{k}": statistics.median(v) for k, v in out.items()},
            "median_s": statistics.median(out["drawn_s"]), "path": path, "busy_cores": other.cores,
            "busy_cores_before": before.cores}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="cold starts; the figure is their median")
    ap.add_argument("--path", default="/", help="the page a visitor opens first: / (Home) or /generate")
    args = ap.parse_args(argv)
    res = measure(args.runs, args.path)
    if "unavailable" in res:
        print(res["unavailable"])
        return 1
    print(f"{'run':<8}" + "".join(f"{k:>16}" for k in PHASES))
    for i in range(args.runs):
        print(f"{i + 1:<8}" + "".join(f"{res['runs'][k][i]:>16.2f}" for k in PHASES))
    print(f"{'median':<8}" + "".join(f"{res[f'median_{k}']:>16.2f}" for k in PHASES))
    if res["busy_cores"] is not None:
        print(f"cores busy: {res['busy_cores_before']:.2f} of {os.cpu_count()} in the 2 s before the runs (other "
              f"processes), {res['busy_cores']:.2f} during them (the server and Chromium included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
