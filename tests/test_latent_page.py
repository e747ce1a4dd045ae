"""AppTest: the Latent Lab page walks between faces, offers the GIF, and does group arithmetic."""

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest, app_test

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/latent_lab.py"

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture
def media(monkeypatch):
    """The file (`.content`, `.filename`) behind any image or download URL a run produced.

    AppTest gives each run a fresh in-memory media store and drops it afterwards; keeping a
    reference to each store lets a test open the pictures and files the page sent.
    """
    stores: list[MemoryMediaFileStorage] = []

    def recording_store(endpoint: str) -> MemoryMediaFileStorage:
        stores.append(MemoryMediaFileStorage(endpoint))
        return stores[-1]

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", recording_store)

    def read(url: str):
        name = url.rsplit("/", 1)[-1]
        for store in reversed(stores):
            try:
                return store.get_file(name)
            except Exception:  # not in this run's store
                continue
        raise KeyError(url)

    return read


def open_page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def image_by_caption(at: AppTest, start: str):
    found = [im for im in at.get("image") if im.captions and im.captions[0].startswith(start)]
    assert found, f"no image captioned {start!r}; captions: {[im.captions for im in at.get('image')]}"
    return found[0]


def picture(media, element) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(media(element.value[0]).content)))


def test_page_shows_candidates_a_strip_and_a_gif(media):
    at = open_page()
    assert at.title[0].value == "Latent Lab"
    grids = [im for im in at.get("image") if "36 candidates" in im.captions[0]]
    assert len(grids) == 2  # one per tab, each with its own seed
    assert "seed 0" in grids[0].captions[0] and "seed 1" in grids[1].captions[0]
    assert picture(media, grids[0]).shape == (2 * (6 * 66 + 2), 2 * (6 * 66 + 2), 3)  # 6x6 faces, shown at 2x

    strip = image_by_caption(at, "Face 0 → face 1 in 8 steps")
    assert picture(media, strip).shape == (68, 8 * 66 + 2, 3)  # one row of 8 faces

    downloads = at.get("download_button")
    assert len(downloads) == 1
    assert downloads[0].proto.label == "Download animated GIF"
    gif = Image.open(io.BytesIO(media(downloads[0].proto.url).content))
    assert gif.format == "GIF" and gif.n_frames == 2 * 8 - 2  # forward and back
    assert gif.size == (128, 128)
    assert not at.warning


def test_steps_and_method_change_the_strip(media):
    at = open_page()
    before = image_by_caption(at, "Face 0 → face 1")
    at.slider(key="steps").set_value(12).run()
    assert not at.exception, at.exception
    longer = image_by_caption(at, "Face 0 → face 1 in 12 steps")
    assert picture(media, longer).shape[1] == 12 * 66 + 2
    gif = Image.open(io.BytesIO(media(at.get("download_button")[0].proto.url).content))
    assert gif.n_frames == 2 * 12 - 2

    at.radio(key="method").set_value("linear").run()
    assert not at.exception, at.exception
    linear = image_by_caption(at, "Face 0 → face 1 in 12 steps along a linear path")
    assert linear.value != longer.value != before.value
    ends = picture(media, linear)
    # the end faces are the same latents whichever the path, only the middle differs
    np.testing.assert_array_equal(ends[:, :68], picture(media, longer)[:, :68])


def test_from_and_to_pick_faces_and_name_the_gif(media):
    at = open_page()
    at.selectbox(key="from").set_value(3)
    at.selectbox(key="to").set_value(17).run()
    assert not at.exception, at.exception
    image_by_caption(at, "Face 3 → face 17")
    assert media(at.get("download_button")[0].proto.url).filename == "dcgan-64-seed0-3-to-17.gif"


def test_url_sets_the_seed_path_and_groups():
    at = open_page({"seed": "7", "from": "2", "to": "30", "steps": "5", "method": "Linear", "aseed": "9"})
    image_by_caption(at, "36 candidates from dcgan-64, seed 7")
    image_by_caption(at, "36 candidates from dcgan-64, seed 9")
    image_by_caption(at, "Face 2 → face 30 in 5 steps along a linear path")


def test_arithmetic_shows_means_and_result_row(media):
    at = open_page()
    for label, faces in [("mean of A", "0, 1, 2"), ("− mean of B", "3, 4, 5"), ("+ mean of C", "6, 7, 8")]:
        mean = image_by_caption(at, label)
        assert faces in mean.captions[0]
        assert picture(media, mean).shape == (64, 64, 3)
    result = image_by_caption(at, "= A − B + C")
    assert picture(media, result).shape == (68, 6 * 66 + 2, 3)  # the result and 5 neighbours in one row
    assert not at.warning
    assert any("smiling woman − neutral woman + neutral man" in c.value for c in at.caption)


def test_noise_zero_makes_every_neighbour_the_result(media):
    at = open_page()
    at.slider(key="noise").set_value(0.0).run()
    assert not at.exception, at.exception
    row = picture(media, image_by_caption(at, "= A − B + C"))
    tiles = [row[2:66, 2 + i * 66 : 66 + i * 66] for i in range(6)]
    for tile in tiles[1:]:
        np.testing.assert_array_equal(tile, tiles[0])


def test_a_group_of_two_warns_instead_of_failing():
    at = open_page()
    at.multiselect(key="b").unselect(4).run()
    assert not at.exception, at.exception
    assert len(at.warning) == 1 and "Group B must have exactly 3 faces" in at.warning[0].value
    assert not [im for im in at.get("image") if im.captions[0].startswith("= A − B + C")]
    image_by_caption(at, "Face 0 → face 1")  # the other tab still works


def test_new_grid_button_draws_another_seed():
    at = open_page()
    at.button(key="new_arithmetic_grid").click().run()
    assert not at.exception, at.exception
    new_seed = at.number_input(key="aseed").value
    assert new_seed != 1
    image_by_caption(at, f"36 candidates from dcgan-64, seed {new_seed}")
    assert at.number_input(key="seed").value == 0  # the interpolation grid stays
