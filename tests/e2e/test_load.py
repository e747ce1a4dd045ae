"""Load: one `streamlit run` server, 20 visitors at once, each in a tab of one headless Chromium.

Each tab is a Streamlit session of its own (its own websocket and session state; the test checks
the server counts them all). The tabs share one browser profile, so Chromium parses the frontend's
JavaScript once, not 20 times: with 20 separate profiles, Chromium, not the server, took most of
the two cores and the run four times as long.

Each visitor opens Generate with a seed of their own and waits for the grid, then goes to Detect,
uploads a real CelebA photo through the file input and waits for the verdict. No visitor may see an
error or wait past the timeout, and the server must hold one copy of each model: its resident memory
may grow, from a warm server to the end of the load, by less than the models' own size. Per-visitor
timings, their p50/p95 and the memory figures go to tests/artifacts/load.json.

LOAD_SESSIONS=N changes the number of visitors (default 20), LOAD_TIMEOUT_S the wait per action (150),
LOAD_SERVER_ENV="K=V ..." the server's extra environment (default SERVER_ENV below; "" for none).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import time
import urllib.request
from pathlib import Path

import pytest
from browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, proc_memory_kib, reset_peak_memory, streamlit_server

from core.detection.faces import FaceDetector
from core.detection.judge import Judge
from core.io.images import open_upload
from core.models import registry

SESSIONS = int(os.environ.get("LOAD_SESSIONS", 20))
# As `make run` serves the app. glibc raises its mmap threshold to the largest block freed so far, so
# after the first big tensors every activation buffer comes from malloc's arenas (up to 16 on 2
# cores), which keep it: 20 concurrent runs left ~220 MiB more resident than a warm server, with
# one copy of each model. A fixed threshold of 128 KiB hands big blocks back at once (~55-65 MiB
# growth, mostly per-visitor data), at a cost: one request's latency rose from 0.23 to 0.30 s for
# 64 faces and from 31 to 57 ms for a photo's verdicts (2-core EPYC, measured for this test).
SERVER_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072"}
TIMEOUT_MS = 1000 * int(os.environ.get("LOAD_TIMEOUT_S", 150))  # per action; a visitor who waits longer failed
ERRORS = "[data-testid='stException'], [data-testid='stAlertContentError']"
GRID = "[data-testid='stMain'] [data-testid='stImage'] img"
VERDICT_WORDS = ("Looks real", "Looks GAN-made", "Uncertain", "Detectors disagree")
IDLE = ("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')")


def pct(xs: list[float], q: float) -> float:
    """Nearest-rank percentile (the same as bench/)."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q / 100 * (len(xs) - 1)))]


def streamlit_metrics(url: str) -> tuple[dict[str, float], int]:
    """What Streamlit says it holds (session state, media files, uploads, caches) in MiB per kind, and
    its number of connected sessions, from its /_stcore/metrics endpoint (OpenMetrics text)."""
    text = urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=30).read().decode()
    out: dict[str, float] = {}
    active = int(re.search(r"^active_sessions (\d+)", text, re.M).group(1))
    for line in text.splitlines():
        if line.startswith("cache_memory_bytes{"):
            kind = re.search(r'cache_type="([^"]*)"', line).group(1)
            out[kind] = out.get(kind, 0.0) + float(line.rsplit(" ", 1)[1]) / 2**20
    return {k: round(v, 1) for k, v in sorted(out.items())}, active


def bundled(kind: str) -> list[str]:
    return [n for n in registry.names(kind) if (registry.get_spec(n).bundled_dir / "model.safetensors").exists()]


def module_bytes(module) -> int:
    return sum(t.numel() * t.element_size() for t in [*module.parameters(), *module.buffers()])


def models_in_memory() -> tuple[dict[str, int], Judge]:
    """Bytes of parameters and buffers of every bundled model and MTCNN, as the app holds them
    (the same loader, so the same dtype and device), and a Judge built from the same detectors."""
    loaded = {n: registry.load(n, use_hub=False) for n in bundled("generator") + bundled("detector")}
    sizes = {n: module_bytes(m.model) for n, m in loaded.items()}
    mtcnn = FaceDetector(device="cpu").mtcnn
    sizes["mtcnn"] = sum(module_bytes(net) for net in (mtcnn.pnet, mtcnn.rnet, mtcnn.onet))
    judge = Judge.from_loaded({n: m for n, m in loaded.items() if m.spec.kind == "detector"})
    return sizes, judge


def photos_with_a_face(val_dir: Path, judge: Judge, n: int) -> list[tuple[str, bytes]]:
    """The first `n` validation photos in which the app's own path finds a face (a few have none)."""
    out = []
    for path in sorted(val_dir.rglob("*.jpg")):
        data = path.read_bytes()
        if judge.judge(open_upload(data)[0]).faces:
            out.append((path.name, data))
            if len(out) == n:
                return out
    pytest.skip(f"fewer than {n} photos with a face in {val_dir}")


async def wait_idle(page) -> None:
    await page.wait_for_selector("[data-testid='stApp']")
    await page.wait_for_function(IDLE)


async def open_generate(page, url: str, model: str, seed: int) -> None:
    """Open Generate on (model, seed) and wait until the grid image has been decoded."""
    await page.goto(f"{url}/generate?model={model}&seed={seed}")
    await page.get_by_text(f"faces from {model}, seed {seed}").first.wait_for()
    grid = await page.locator(GRID).first.element_handle()
    await page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=grid)


async def upload_and_judge(page, name: str, data: bytes) -> float:
    """Go to Detect through the menu, upload a photo through the file input, wait for the first verdict."""
    await page.locator("[data-testid='stSidebarNav']").get_by_role("link", name="Detect", exact=True).click()
    await page.get_by_text("Upload a photo, take one, or pick an example").wait_for()
    await wait_idle(page)
    started = time.perf_counter()
    await page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        [{"name": name, "mimeType": "image/jpeg", "buffer": data}])
    heading = page.locator("[data-testid='stMain'] h4").filter(has_text="Face 1").first
    await heading.wait_for()
    elapsed = time.perf_counter() - started
    text = await heading.inner_text()
    assert any(w in text for w in VERDICT_WORDS), text
    return elapsed


async def visitor(ctx, url: str, i: int, model: str, photo: tuple[str, bytes]) -> tuple[dict, object]:
    """One visitor's session in a tab of its own; returns its record and its (still open) page."""
    page = await ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    seed = 1000 + i
    rec = {"session": i, "model": model, "seed": seed, "photo": photo[0]}
    try:
        started = time.perf_counter()
        await open_generate(page, url, model, seed)
        rec["generate_s"] = time.perf_counter() - started
        rec["errors"] = await page.locator(ERRORS).all_inner_texts()
        rec["detect_s"] = await upload_and_judge(page, *photo)
        await wait_idle(page)
        rec["errors"] += await page.locator(ERRORS).all_inner_texts()
        rec["dialogs"] = await page.locator("[role='dialog']").all_inner_texts()  # "Connection error", ...
    except Exception as err:  # noqa: BLE001 - a timeout or a broken page is this visitor's failure, not the run's
        rec["failure"] = f"{type(err).__name__}: {str(err).splitlines()[0]}"
        with contextlib.suppress(Exception):  # a starved browser may not manage a screenshot either
            await page.screenshot(path=str(ARTIFACTS / f"failure-load-{i}.png"), full_page=True, timeout=15_000)
    return rec, page


async def drive(url: str, pid: int, generators: list[str], photos: list[tuple[str, bytes]]) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            # Warm: every bundled generator, MTCNN and the detectors loaded and run once.
            started = time.perf_counter()
            ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
            page = await ctx.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            for model in generators:
                await open_generate(page, url, model, 1)
            await upload_and_judge(page, *photos[0])
            await wait_idle(page)
            await page.close()
            warm_s = time.perf_counter() - started
            await asyncio.sleep(1)
            warm = proc_memory_kib(pid)
            held_warm, _ = await asyncio.to_thread(streamlit_metrics, url)
            reset_peak_memory(pid)

            started = time.perf_counter()
            done = await asyncio.gather(*(visitor(ctx, url, i, generators[i % len(generators)],
                                                  photos[1 + i % (len(photos) - 1)]) for i in range(SESSIONS)))
            load_s = time.perf_counter() - started
            loaded = proc_memory_kib(pid)  # every visitor still connected
            held_loaded, active = await asyncio.to_thread(streamlit_metrics, url)
            await ctx.close()
            await asyncio.sleep(2)
            closed = proc_memory_kib(pid)
        finally:
            await browser.close()
    return {"warm_s": warm_s, "load_s": load_s, "sessions": [r for r, _ in done],
            "rss_kib": {"warm": warm["VmRSS"], "after_load": loaded["VmRSS"], "peak_during_load": loaded["VmHWM"],
                        "after_close": closed["VmRSS"]},
            "active_sessions": active, "streamlit_held_mib": {"warm": held_warm, "after_load": held_loaded}}


def test_twenty_visitors_at_once_one_copy_of_each_model(celeba_dir):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make browser installs it)")
    ARTIFACTS.mkdir(exist_ok=True)
    generators = bundled("generator")
    assert generators and bundled("detector"), "no bundled generator or detector to load"
    sizes, judge = models_in_memory()
    photos = photos_with_a_face(celeba_dir / "val", judge, SESSIONS + 1)
    models_kib = sum(sizes.values()) / 1024
    del judge

    started = time.perf_counter()
    env = dict(kv.split("=", 1) for kv in os.environ["LOAD_SERVER_ENV"].split()) if "LOAD_SERVER_ENV" in os.environ \
        else SERVER_ENV
    with streamlit_server(env) as url:
        out = asyncio.run(drive(url, url.pid, generators, photos))
        log = url.log_path.read_text()
    wall_s = time.perf_counter() - started

    sessions = out["sessions"]
    ok = [r for r in sessions if "failure" not in r]
    rss = out["rss_kib"]
    growth_kib = rss["after_load"] - rss["warm"]
    report = {
        "sessions": SESSIONS, "generators": generators, "wall_s": round(wall_s, 1),
        "warm_s": round(out["warm_s"], 1), "load_s": round(out["load_s"], 1), "failed": len(sessions) - len(ok),
        **{f"{k}_{q}_s": round(pct([r[f"{k}_s"] for r in ok], q), 2) if ok else None
           for k in ("generate", "detect") for q in (50, 95)},
        "rss_mib": {k: round(v / 1024, 1) for k, v in rss.items()},
        "rss_growth_mib": round(growth_kib / 1024, 1),
        "models_mib": round(models_kib / 1024, 1),
        "active_sessions": out["active_sessions"], "streamlit_held_mib": out["streamlit_held_mib"],
        "model_mib": {k: round(v / 2**20, 2) for k, v in sizes.items()},
        "per_session": sessions,
    }
    (ARTIFACTS / "load.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{SESSIONS} sessions in {report['load_s']} s (warm-up {report['warm_s']} s, test {report['wall_s']} s); "
          f"open Generate to grid p50/p95 {report['generate_50_s']}/{report['generate_95_s']} s; "
          f"upload to verdict p50/p95 {report['detect_50_s']}/{report['detect_95_s']} s")
    print(f"server RSS: warm {report['rss_mib']['warm']} MiB, after load {report['rss_mib']['after_load']} MiB "
          f"(peak {report['rss_mib']['peak_during_load']}, after closing {report['rss_mib']['after_close']}); "
          f"growth {report['rss_growth_mib']} MiB against {report['models_mib']} MiB of models")

    failures = {r["session"]: r["failure"] for r in sessions if "failure" in r}
    assert not failures, failures
    errors = {r["session"]: r["errors"] + r["dialogs"] for r in sessions if r["errors"] or r["dialogs"]}
    assert not errors, errors
    assert out["active_sessions"] >= SESSIONS, f"{out['active_sessions']} sessions on the server, not {SESSIONS}"
    assert "Traceback" not in log, log[-3000:]
    assert growth_kib < models_kib, (
        f"the server's RSS grew by {growth_kib / 1024:.1f} MiB under load, more than one more copy of the "
        f"models ({models_kib / 1024:.1f} MiB): are models loaded per session?")
