"""The Training History page in a real browser: the timer's frames, Pause mid-play, and the URL written on
change."""

from browser import ARTIFACTS, chromium_page, streamlit_server, wait_for_app

# Every epoch whose faces appear while playing (a rerun can briefly show the old caption beside the new)
EPOCH_SEEN = """() => { window.epochsSeen = new Set(); new MutationObserver(() => {
    for (const e of document.querySelectorAll('[data-testid="stMain"] *')) {
        const m = e.childElementCount === 0 && /^Epoch (\\d+) of 36$/.exec(e.textContent.trim());
        if (m) window.epochsSeen.add(+m[1]);
    }
}).observe(document.body, {subtree: true, childList: true, characterData: true}); }"""

# The epochs whose captions are on the page now
SHOWN = """() => [...document.querySelectorAll('[data-testid="stMain"] *')]
    .filter(e => e.childElementCount === 0 && /^Epoch \\d+ of 36$/.test(e.textContent.trim()))
    .map(e => +e.textContent.trim().split(' ')[1])"""


def test_browser_play_from_epoch_5_pause_and_a_link():
    with streamlit_server() as url, chromium_page(1300, 1400) as page:
        try:
            page.goto(f"{url}/training_history")
            wait_for_app(page)
            page.get_by_text("Epoch 36 of 36").wait_for()
            slider = page.get_by_role("slider", name="Epoch")
            slider.focus()
            page.keyboard.press("Home")
            for _ in range(4):
                page.keyboard.press("ArrowRight")
            page.get_by_text("Epoch 5 of 36", exact=True).wait_for()
            wait_for_app(page)
            page.evaluate(EPOCH_SEEN)
            page.get_by_role("button", name="Play").click()
            page.get_by_role("button", name="Pause").wait_for()
            page.wait_for_function("() => [...window.epochsSeen].some(e => e >= 8)", polling=50, timeout=60_000)
            page.get_by_role("button", name="Pause").click()
            page.get_by_role("button", name="Play").wait_for()
            wait_for_app(page)
            # the pause is handled at the next frame, whose run may start after the click returns (a loaded
            # machine lags): wait until one caption is up, the slider agrees and nothing changes for 1.5 s
            shown, steady_since = None, None
            for _ in range(300):
                now = (tuple(page.evaluate(SHOWN)), slider.get_attribute("aria-valuetext"))
                if now != shown:
                    shown, steady_since = now, 0
                else:
                    steady_since += 1
                if len(shown[0]) == 1 and shown[1] == str(shown[0][0]) and steady_since >= 15:
                    break
                page.wait_for_timeout(100)
            assert len(shown[0]) == 1 and shown[1] == str(shown[0][0]), ("the slider says the epoch shown", shown)
            paused_at = shown[0][0]
            seen = sorted(page.evaluate("() => [...window.epochsSeen]"))
            # from the chosen epoch on (a busy browser may skip drawing a frame), and stopped before the end
            assert seen[0] == 5 and len(seen) >= 3 and seen[-1] == paused_at < 36, (seen, paused_at)
            page.wait_for_timeout(1000)
            assert sorted(page.evaluate("() => [...window.epochsSeen]")) == seen, "no frame after the pause"

            page.get_by_role("combobox", name="Compare with").click()
            page.get_by_role("option", name="dcgan-64-z60", exact=True).click()
            wait_for_app(page)
            page.get_by_text("epoch", exact=True).click()  # Line runs up by: epoch
            wait_for_app(page)
            page.wait_for_function("() => location.search.includes('x_by=epoch')")
            assert "compare=dcgan-64-z60" in page.url

            page.goto(f"{url}/training_history?model=lsgan-80-male&compare=dcgan-64&x_by=epoch")
            wait_for_app(page)
            page.get_by_text("compare=dcgan-64 logs none of the metrics lsgan-80-male does").wait_for()
            page.wait_for_function("() => !location.search.includes('compare') && !location.search.includes('x_by')")
            assert "model=lsgan-80-male" in page.url
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "failure-history-play-pause.png"), full_page=True)
            raise
