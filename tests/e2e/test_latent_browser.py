"""The Latent Lab in a real browser: the interpolation's GIF downloads."""

import io

from browser import ARTIFACTS, chromium_page, streamlit_server, wait_for_app
from PIL import Image


def test_interpolation_gif_downloads_in_a_real_browser():
    """Chromium: pick two faces and a number of steps, then download the GIF the page offers."""
    with streamlit_server() as url, chromium_page(1300, 1600) as page:
        try:
            page.goto(f"{url}/latent_lab")
            wait_for_app(page)
            page.get_by_text("Face 0 → face 1 in 8 steps").wait_for()
            for label, value in [("From face #", "4"), ("To face #", "21")]:
                page.get_by_label(label).click()
                page.keyboard.type(value)  # the option list is virtualised: filter it, then pick the match
                page.get_by_role("option", name=value, exact=True).click()
                wait_for_app(page)
            page.get_by_text("Face 4 → face 21 in 8 steps").wait_for()
            steps = page.get_by_role("slider", name="Steps")
            steps.focus()
            for _ in range(2):
                page.keyboard.press("ArrowRight")
            page.get_by_text("Face 4 → face 21 in 10 steps").wait_for()
            assert "from=4" in page.url and "to=21" in page.url and "steps=10" in page.url
            with page.expect_download() as info:
                page.get_by_role("button", name="Download animated GIF").click()
            download = info.value
            assert download.suggested_filename == "dcgan-64-seed0-4-to-21.gif"
            data = open(download.path(), "rb").read()
            assert data[:6] in (b"GIF89a", b"GIF87a")
            gif = Image.open(io.BytesIO(data))
            assert gif.n_frames == 2 * 10 - 2 and gif.size == (128, 128)
            page.screenshot(path=str(ARTIFACTS / "latent-lab-interpolation.png"), full_page=True)
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "failure-latent-lab-gif.png"), full_page=True)
            raise
