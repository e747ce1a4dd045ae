"""AppTest: every page runs without an exception and shows what it promises."""

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from core.models import registry

pytestmark = pytest.mark.filterwarnings("ignore")


def run_page(page: str | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def images(at: AppTest):
    return at.get("image")


def test_home_lists_every_model_with_its_source():
    at = run_page()
    assert at.title[0].value == "Face GAN Lab"
    text = " ".join(c.value for c in at.caption)
    for name in registry.names():
        assert any(name in s.value for s in at.subheader)
    # says once, in a visitor's words, where the weights came from and why; no developer text on every card
    assert text.count("bundled") == 1 and "set to work offline" in text and "HF_HUB_OFFLINE" not in text
    labels = [m.label for m in at.metric]
    assert "Parameters" in labels and "Faces found" in labels
    # a detector's weakest generator: its AUC and, beside it, the share of its faces the verdict catches
    detectors = len(registry.names("detector"))
    assert labels.count("Weakest generator, AUC") == detectors
    assert sum(lab.endswith(" caught (all detectors)") for lab in labels) == detectors
    assert len(images(at)) >= 1  # a snapshot per model


def test_generate_shows_a_grid_and_a_download():
    at = run_page("pages/generate.py")
    assert len(images(at)) == 1
    assert at.get("download_button"), "a PNG download is offered"
    assert at.sidebar.selectbox[0].value == "dcgan-64"
    assert at.query_params["seed"] == "0" and at.query_params["model"] == "dcgan-64"


def test_new_faces_button_changes_the_seed_and_url():
    at = run_page("pages/generate.py")
    before = at.sidebar.number_input[0].value
    at.sidebar.button[0].click().run()
    assert not at.exception
    after = at.sidebar.number_input[0].value
    assert after != before
    assert at.query_params["seed"] == str(after)


def test_url_parameters_set_the_faces():
    at = run_page("pages/generate.py", {"seed": "42", "n": "9", "trunc": "0.7"})
    assert at.sidebar.number_input[0].value == 42
    assert at.sidebar.slider[0].value == 9
    assert at.sidebar.slider[1].value == pytest.approx(0.7)
    assert "seed 42" in images(at)[0].captions[0]


def test_bad_url_parameters_fall_back_to_defaults():
    at = run_page("pages/generate.py", {"seed": "-5x", "n": "lots", "model": "nope", "trunc": "abc"})
    assert at.sidebar.number_input[0].value == 0
    assert at.sidebar.slider[0].value == 36
    assert at.sidebar.selectbox[0].value == registry.names("generator")[0]


def test_generate_shows_the_very_png_it_offers_for_download(monkeypatch):
    import io

    import numpy as np
    import streamlit as st
    from PIL import Image

    from core.gan.sampling import make_grid
    from ui.models import generate_faces

    seen = {}
    image, download = st.image, st.download_button
    monkeypatch.setattr(st, "image", lambda img, *a, **k: (seen.__setitem__("shown", img), image(img, *a, **k))[1])
    monkeypatch.setattr(st, "download_button",
                        lambda label, data, *a, **k: (seen.__setitem__("download", data), download(label, data, *a, **k))[1])
    at = run_page("pages/generate.py", {"seed": "5", "n": "16"})
    assert not at.exception
    assert isinstance(seen["shown"], bytes) and seen["shown"] is seen["download"]  # one encoding, shown and offered
    expected = make_grid(generate_faces(registry.names("generator")[0], 16, 5, None), nrow=4)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(seen["download"]))), expected)  # lossless: the same faces


def test_bad_deep_links_say_what_was_changed():
    at = run_page("pages/generate.py", {"model": "nonsense", "n": "999", "seed": "99999999999", "trunc": "0.04"})
    notes = " ".join(i.value for i in at.info)
    for asked in ("model=nonsense", "n=999", "seed=99999999999", "trunc=0.04"):
        assert asked in notes
    assert at.sidebar.slider[0].value == 64 and at.sidebar.number_input[0].value == 0
    assert at.sidebar.toggle[0].value is True and at.sidebar.slider[1].value == pytest.approx(0.5)  # snapped
    assert at.query_params["trunc"] == "0.5" and at.query_params["model"] == registry.names("generator")[0]


def test_truncation_has_an_off_switch_and_one_face_is_singular():
    at = run_page("pages/generate.py", {"n": "1", "trunc": "1.2"})
    assert not at.info and "1 face from" in images(at)[0].captions[0] and "truncation 1.2" in images(at)[0].captions[0]
    at.sidebar.toggle[0].set_value(False).run()
    assert "truncation" not in images(at)[0].captions[0] and "trunc" not in at.query_params
    assert at.sidebar.slider[1].disabled


def test_age_table_has_a_row_per_face():
    at = run_page("pages/generate.py", {"model": "lsgan-80", "n": "64", "seed": "3", "ages": "true"})
    table = at.dataframe[0].value
    assert list(table.columns) == ["face", "place", "age (years)", "looks", "P(male)", "face found"]
    assert len(table) == 64 and set(table["face found"]) <= {"yes", "no (age read where faces usually are)"}
    assert table["place"][63] == "row 8, column 8"


@pytest.fixture
def missing_weights(monkeypatch, tmp_path):
    """dcgan-64 pointed at an empty folder, and the cached copy dropped."""
    import dataclasses

    from ui.models import describe_model, load_model

    spec = registry.SPECS["dcgan-64"]
    monkeypatch.setitem(registry.SPECS, "dcgan-64", dataclasses.replace(spec, bundled=tmp_path))
    load_model.clear()
    describe_model.clear()  # Home reads the record without loading the model
    yield
    load_model.clear()
    describe_model.clear()


@pytest.mark.parametrize("page", [None, "pages/generate.py", "pages/latent_lab.py"])
def test_missing_weights_are_a_message_not_a_traceback(missing_weights, page):
    at = run_page(page)
    errors = " ".join(e.value for e in at.error)
    assert "dcgan-64" in errors and "model.safetensors is missing" in errors
