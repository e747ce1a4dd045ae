"""Real browser: the detectors side by side on Training History (issue 19): CNN families, LSTM, discriminators."""

from browser import ARTIFACTS, chromium_page, streamlit_server, wait_for_app


def test_training_history_shows_the_detectors_side_by_side():
    with chromium_page(1300, 1400) as page, streamlit_server() as url:  # no server when no browser
        try:
            page.goto(f"{url}/training_history?model=cnn")
            wait_for_app(page)
            page.get_by_role("heading", name="Detectors side by side").wait_for(timeout=120_000)
            page.get_by_text("77% to 96%", exact=False).first.wait_for()
            page.get_by_text("ResNet", exact=False).first.wait_for()
            page.get_by_text("The GANs' own discriminators", exact=False).first.wait_for()
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "failure-cnn-families.png"), full_page=True)
            raise
