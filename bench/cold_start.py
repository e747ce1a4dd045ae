"""Cold start, taken apart: `streamlit run` process start to the first grid of faces in Chromium.

    python -m bench.cold_start [--runs 3] [--path /generate]

Per run, seconds from starting the server to: its health endpoint answering, the page's load event
(the frontend's JavaScript fetched and run), the websocket opening (the first script run starts),
and the grid image decoded. Prints each run, the medians, and the cores other processes took
meanwhile (a busy machine slows every figure). Needs Debian's chromium (`make browser`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRID = "[data-testid='stMain'] [data-testid='stImage'] img"
PHASES = ("health_s", "page_loaded_s", "websocket_s", "first_grid_s")


def measure(runs: int, path: str = "/generate") -> dict:
    """`runs` cold starts; per phase its list and its median, or {"unavailable": why}."""
    sys.path.insert(0, str(ROOT / "tests"))
    from browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server

    from bench.generate_speed import OtherLoad

    if not Path(CHROMIUM).exists():
        return {"unavailable": "Debian chromium is not installed (make browser)"}
    from playwright.sync_api import sync_playwright

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
                with streamlit_server(timeout=180) as url:
                    row["health_s"] = time.perf_counter() - started
                    page.goto(f"{url}{path}")
                    row["page_loaded_s"] = time.perf_counter() - started
                    page.get_by_text("faces from").first.wait_for()
                    grid = page.locator(GRID).first.element_handle()
                    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=grid)
                    row["first_grid_s"] = time.perf_counter() - started
                rows.append(row)
                page.context.close()
        finally:
            browser.close()
    out = {k: [r.get(k, float("nan")) for r in rows] for k in PHASES}
    return {"runs": out, **{f"median_{k}": statistics.median(v) for k, v in out.items()},
            "median_s": statistics.median(out["first_grid_s"]), "other_cores": other.cores}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--path", default="/generate")
    args = ap.parse_args(argv)
    res = measure(args.runs, args.path)
    if "unavailable" in res:
        print(res["unavailable"])
        return 1
    print(f"{'run':<8}" + "".join(f"{k:>16}" for k in PHASES))
    for i in range(args.runs):
        print(f"{i + 1:<8}" + "".join(f"{res['runs'][k][i]:>16.2f}" for k in PHASES))
    print(f"{'median':<8}" + "".join(f"{res[f'median_{k}']:>16.2f}" for k in PHASES))
    if res["other_cores"] is not None:
        print(f"other processes kept {res['other_cores']:.2f} cores busy meanwhile")
    return 0


if __name__ == "__main__":
    sys.exit(main())
