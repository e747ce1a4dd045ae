"""AppTest: the Latent Lab page walks between faces, offers the GIF, and does group arithmetic."""

import io
import json
import re

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest, app_test

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
    assert len(grids) == 3  # one per tab, each with its own seed
    assert [g.captions[0].split("seed ")[1].split(",")[0] for g in grids] == ["0", "1", "2"]
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
    for label, faces in [("mean of A", "5, 18, 32"), ("− mean of B", "0, 3, 8"), ("+ mean of C", "2, 12, 23")]:
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
    at.multiselect(key="b").unselect(3).run()
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


# --- Age and gender directions, and the predicted-age overlay ----------------------------------------

STRIP_SHAPE = (68, 7 * 66 + 2, 3)  # one row of 7 faces: -3 .. +3


def tile(strip: np.ndarray, i: int) -> np.ndarray:
    return strip[2:66, 2 + i * 66 : 66 + i * 66].astype(int)


def test_directions_tab_shows_the_face_moved_and_a_strip_per_direction(media):
    at = open_page()
    original = picture(media, image_by_caption(at, "Face 0 — "))
    moved = picture(media, image_by_caption(at, "Face 0 moved: older +0, male +0 — "))
    assert original.shape == moved.shape == (64, 64, 3)
    np.testing.assert_array_equal(original, moved)  # both sliders at 0: not moved
    for label in ("Older", "Male"):
        strip = picture(media, image_by_caption(at, f"{label}: face 0 moved -3, -2, -1, +0, +1, +2, +3"))
        assert strip.shape == STRIP_SHAPE
        assert np.abs(tile(strip, 3) - original).max() <= 3  # the middle of each strip is the face itself
    assert "predicted age" in image_by_caption(at, "Older: ").captions[0]
    assert "the labeller says" in image_by_caption(at, "Male: ").captions[0]
    assert any("What the labeller can tell" in c.value and "UTKFace" in c.value for c in at.caption)
    facts = json.loads((ROOT / "weights" / "dcgan-64" / "directions.json").read_text())
    where = [c.value for c in at.caption if "Where the directions come from" in c.value]
    assert len(where) == 1 and f"{facts['samples']} faces" in where[0] and f"found {facts['labelled']} of them" in where[0]
    assert not at.info


def test_sliders_move_the_face_along_the_strips(media):
    at = open_page()
    at.slider(key="older").set_value(2.0).run()
    assert not at.exception, at.exception
    moved = picture(media, image_by_caption(at, "Face 0 moved: older +2, male +0"))
    older = picture(media, image_by_caption(at, "Older: face 0"))
    assert np.abs(tile(older, 5) - moved).max() <= 3  # +2 on the "older" strip is the moved face
    male = picture(media, image_by_caption(at, "Male: face 0"))
    assert np.abs(tile(male, 3) - moved).max() <= 3  # the "male" strip goes through it too (older +2 kept)
    assert "(older +2 kept)" in image_by_caption(at, "Male: face 0").captions[0]


def test_url_sets_the_direction_face_and_amounts():
    at = open_page({"dseed": "11", "face": "7", "older": "-1.5", "male": "2"})
    image_by_caption(at, "36 candidates from dcgan-64, seed 11")
    caption = image_by_caption(at, "Face 7 moved: older -1.5, male +2 — ").captions[0]
    assert re.search(r"— \d+ y, (female|male) [01]\.\d\d( \(face not found\))?$", caption), caption


@pytest.fixture
def no_directions(monkeypatch, tmp_path):
    """dcgan-64 served from a copy of its weights folder without directions; caches dropped."""
    import dataclasses
    import shutil

    from core.models import registry
    from ui.attributes import model_directions
    from ui.models import load_model

    spec = registry.SPECS["dcgan-64"]
    shutil.copytree(spec.bundled_dir, tmp_path / "dcgan-64",
                    ignore=shutil.ignore_patterns("directions.*", "snapshots", "history.jsonl"))
    monkeypatch.setitem(registry.SPECS, "dcgan-64", dataclasses.replace(spec, bundled=tmp_path))
    load_model.clear()
    model_directions.clear()
    yield
    load_model.clear()
    model_directions.clear()


def test_missing_directions_name_the_command_that_makes_them(no_directions):
    at = open_page()
    assert len(at.info) == 1
    assert "has no age and gender directions" in at.info[0].value
    assert "python -m train.directions --model dcgan-64" in at.info[0].value
    assert not [im for im in at.get("image") if im.captions[0].startswith("Face 0 moved")]
    image_by_caption(at, "Face 0 → face 1")  # the other tabs still work


def test_age_overlay_puts_a_table_under_every_grid():
    from core.data.attributes import predict_attributes
    from ui.models import generate_faces

    at = open_page()
    assert not at.dataframe and at.toggle(key="ages").value is False
    at.toggle(key="ages").set_value(True).run()
    assert not at.exception, at.exception
    assert len(at.dataframe) == 3  # one per candidate grid
    for table, seed in zip(at.dataframe, [0, 1, 2], strict=True):
        assert table.value.shape == (36, 6)  # a row per face, numbered as in the 6x6 grid
        expected = predict_attributes(generate_faces("dcgan-64", 36, seed, None))
        assert list(table.value["face"]) == [f"#{i}" for i in range(36)]
        assert table.value["place"][7] == "row 2, column 2"
        assert list(table.value["looks"]) == [r.gender for r in expected]
        assert list(table.value["age (years)"]) == [str(round(r.age)) for r in expected]  # read even where no face is found
        assert list(table.value["face found"] == "yes") == [r.found for r in expected]


@pytest.mark.parametrize("model", ["lsgan-80", "lsgan-80-female", "lsgan-80-male"])
def test_every_lsgan_has_its_directions(model):
    at = open_page({"model": model})
    assert not any("no age and gender directions" in i.value or "train.directions" in i.value for i in at.info)
    assert image_by_caption(at, "Male: ") is not None and image_by_caption(at, "Older: ") is not None
