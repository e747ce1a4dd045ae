"""Real browser: Debian Chromium driven by Playwright against `streamlit run` on loopback."""

import pytest
from browser import ARTIFACTS, chromium_page, streamlit_server, wait_for_app


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as url:
        yield url


def main_images(page):
    return page.locator("[data-testid='stMain'] [data-testid='stImage'] img")


def test_open_generate_click_and_see_new_faces(server):
    with chromium_page() as page:
        try:
            page.goto(server)
            wait_for_app(page)
            page.get_by_role("link", name="Generate", exact=True).first.click()
            page.wait_for_url("**/generate**")
            main_images(page).first.wait_for(state="visible")
            first_src = main_images(page).first.get_attribute("src")
            width = main_images(page).first.evaluate("img => img.naturalWidth")
            assert width >= 64 * 6  # a grid of faces, not a broken image
            page.get_by_role("button", name="New faces").click()
            page.wait_for_function(
                "(src) => { const i = document.querySelector(\"[data-testid='stMain'] [data-testid='stImage'] img\");"
                " return i && i.getAttribute('src') !== src; }", arg=first_src)
            assert "seed=" in page.url and "seed=0" not in page.url
            page.screenshot(path=str(ARTIFACTS / "generate.png"), full_page=True)
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "failure-generate.png"), full_page=True)
            raise


@pytest.mark.parametrize("path, heading", [("generate?seed=42&n=9", "Generate faces"), ("latent_lab", "Latent Lab"),
                                           ("training_history", "Training History")])
def test_first_visit_to_a_deep_link_gets_the_app_menu(path, heading):
    """On a just-started server, Streamlit's old pages/ router would serve the page without app.py."""
    with streamlit_server() as url, chromium_page() as page:
        try:
            page.goto(f"{url}/{path}")  # the very first script run of this server
            wait_for_app(page)
            page.get_by_role("heading", name=heading).wait_for()
            nav = page.locator("[data-testid='stSidebarNav']")
            nav.get_by_role("link", name="Home", exact=True).wait_for()
            labels = nav.inner_text()
            assert "Latent Lab" in labels and "app" not in labels.split()
            page.wait_for_timeout(1500)  # a "Page not found" dialog would have opened by now
            assert page.locator("[role='dialog']").count() == 0, page.locator("[role='dialog']").all_inner_texts()
            if "seed=42" in path:
                assert "seed=42" in page.url
                page.get_by_text("9 faces from dcgan-64, seed 42").wait_for()  # the URL set the faces
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"failure-deep-link-{heading.split()[0]}.png"), full_page=True)
            raise


def test_training_history_play_steps_through_the_epochs(server):
    """Play restarts at epoch 1 and walks to the last snapshot (AppTest cannot click this button:
    with url_path equal to the file name it resolves the page the old way and drops the click)."""
    with chromium_page(1300, 1400) as page:
        try:
            page.goto(f"{server}/training_history")
            wait_for_app(page)
            page.get_by_text("Epoch 36 of 36").wait_for()
            page.locator(".js-plotly-plot").nth(1).wait_for()  # losses and D outputs
            assert len(page.locator(".js-plotly-plot").all()) >= 2
            page.get_by_role("button", name="Play").click()
            # any earlier epoch on screen proves it plays; a busy browser may skip any given frame
            page.wait_for_function(
                "() => [...document.querySelectorAll('[data-testid=\"stMain\"] *')].some(e => "
                "e.childElementCount === 0 && /^Epoch ([1-9]|[12][0-9]|3[0-5]) of 36$/.test(e.textContent.trim()))",
                polling=50, timeout=60_000)
            page.get_by_text("Epoch 36 of 36").wait_for(timeout=60_000)
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "failure-history-play.png"), full_page=True)
            raise


# JS: the elements matched by `sel` whose text is cut (wider than the box shows), as their texts
CUT_TEXT = """(sel) => [...document.querySelectorAll(sel)].filter(e => e.offsetWidth > 0 &&
    (e.scrollWidth > e.clientWidth + 1 || [...e.querySelectorAll('*')].some(c => c.scrollWidth > c.clientWidth + 1
     && getComputedStyle(c).textOverflow === 'ellipsis'))).map(e => e.innerText)"""


@pytest.mark.parametrize("width", [800, 1400])
def test_first_visit_layout_cuts_no_names(server, width):
    """Detect's example buttons keep every generator's whole name, and Home's figures and links are not
    cut to '3...' at narrow widths (issue: first visit)."""
    from core.models import registry

    with chromium_page(width, 1400) as page:
        try:
            page.goto(f"{server}/detect")
            wait_for_app(page)
            page.get_by_role("tab", name="Examples").click()
            for model in registry.names("generator"):
                button = page.get_by_role("button", name=model, exact=True)
                button.wait_for(state="visible")
                assert button.inner_text().strip().endswith(model)
            assert not page.evaluate(CUT_TEXT, "[data-testid='stMain'] button"), "a button's label is cut"
            page.goto(server)
            wait_for_app(page)
            page.get_by_text("Training data: a 5,400-photo", exact=False).wait_for(timeout=120_000)
            wait_for_app(page)
            page.locator("[data-testid='stMetricValue']").nth(19).wait_for(timeout=60_000)  # every card's figures
            assert not page.evaluate(CUT_TEXT, "[data-testid='stMetricValue']"), "a metric's figure is cut"
            assert not page.evaluate(CUT_TEXT, "[data-testid='stPageLink']"), "a link is cut"
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"failure-layout-{width}.png"), full_page=True)
            raise


def test_no_page_asks_anything_of_any_host_but_this_server(server):
    """Offline first: icons, fonts, images and charts all come from the server (a material-icon favicon was
    fetched from Google's servers, which an offline visitor cannot reach)."""
    with chromium_page() as page:
        asked = []
        page.on("request", lambda r: asked.append(r.url))
        for path in ("", "generate", "detect", "latent_lab", "training_history", "classroom"):
            page.goto(f"{server}/{path}")
            wait_for_app(page)
            page.wait_for_function("() => [...document.querySelectorAll(\"[data-testid='stMain'] img\")]"
                                   ".every(i => i.complete && i.naturalWidth > 0)")
            page.wait_for_timeout(1000)
            outside = [u for u in asked if not u.startswith((server, "data:", "blob:"))]
            assert not outside, (path, outside)
            icon = page.evaluate("() => document.querySelector(\"link[rel~='icon']\")?.href")
            assert icon and icon.startswith(server), (path, icon)
