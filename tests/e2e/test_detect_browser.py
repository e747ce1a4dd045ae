"""Real browser on the Detect page: upload a real photo and a generated face, then a text file named .jpg."""

import time

import pytest
from browser import ARTIFACTS, chromium_page, streamlit_server, wait_for_app

from core.gan.sampling import encode_image, generate, sample_latents
from core.models import registry

VERDICT_WORDS = ("Looks real", "Looks GAN-made", "Uncertain")


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as url:
        yield url


def upload(page, files: list[dict]) -> None:
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(files)


def verdict_headings(page):
    return page.locator("[data-testid='stMain'] h4")


def test_upload_real_and_generated_faces_and_a_bad_file(server, celeba_dir):
    real = sorted((celeba_dir / "val").rglob("*.jpg"))[3].read_bytes()
    gen = registry.load("dcgan-64", use_hub=False)
    fake = encode_image(generate(gen.model, sample_latents(1, gen.config["nz"], 424_242))[0])
    with chromium_page(1300, 1600) as page:
        try:
            page.goto(f"{server}/detect")
            wait_for_app(page)
            page.get_by_text("Upload a photo, take one, or pick an example").wait_for()
            timings = {}
            for name, data in (("real.jpg", real), ("generated.png", fake)):
                started = time.perf_counter()
                upload(page, [{"name": name, "mimeType": "image/png", "buffer": data}])
                verdict_headings(page).filter(has_text="Face 1").first.wait_for()
                wait_for_app(page)
                timings[name] = time.perf_counter() - started
                text = verdict_headings(page).first.inner_text()
                assert any(w in text for w in VERDICT_WORDS), text
                page.locator("[data-testid='stPlotlyChart']").first.wait_for()  # the verdict bars
                page.screenshot(path=str(ARTIFACTS / f"detect-{name.split('.')[0]}.png"), full_page=True)
                page.get_by_role("button", name=f"Remove {name}").click()
                verdict_headings(page).filter(has_text="Face 1").first.wait_for(state="detached")
                wait_for_app(page)
            (ARTIFACTS / "detect-timings.txt").write_text(
                "".join(f"{k}: {v:.2f} s from upload to verdict (browser)\n" for k, v in timings.items()))
            upload(page, [{"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"not a photo at all\n" * 50}])
            page.locator("[data-testid='stAlert']").filter(has_text="not an image").first.wait_for()
            assert verdict_headings(page).filter(has_text="Face 1").count() == 0
            page.screenshot(path=str(ARTIFACTS / "detect-bad-file.png"), full_page=True)
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "failure-detect.png"), full_page=True)
            raise
