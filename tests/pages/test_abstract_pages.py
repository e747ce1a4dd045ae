"""AppTest: the abstract-art model (dcgan-64-abstract) on every page that offers a generator, by widget and by URL.

It is a second subject, not a face model: Generate draws its grid without the age and gender tools and says
why; the Latent Lab interpolates and adds on it, its directions tab says they are for faces; Training History
shows its losses, D's outputs and snapshots; Home lists it.
"""

import json

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

NAME = "dcgan-64-abstract"

pytestmark = pytest.mark.filterwarnings("ignore")


def run_page(page: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def text_of(at: AppTest) -> str:
    return " ".join(e.value for kind in ("markdown", "caption", "info") for e in at.get(kind))


def test_generate_draws_paintings_from_its_url_without_the_face_tools():
    at = run_page("pages/generate.py", {"model": NAME, "n": "16", "seed": "7", "ages": "true"})
    assert at.title[0].value == "Generate abstract paintings"
    assert at.sidebar.selectbox[0].value == NAME
    grid = at.get("image")
    assert len(grid) == 1 and grid[0].captions[0].startswith(f"16 paintings from {NAME}, seed 7")
    assert at.get("download_button"), "a PNG download is offered"
    # no age and gender toggle, no table, and a word why
    assert "Predicted age and gender" not in [t.label for t in at.sidebar.toggle]
    assert not at.dataframe
    assert "not faces" in text_of(at) and "ages" not in at.query_params
    assert at.query_params["model"] == NAME and at.query_params["seed"] == "7"


def test_generate_switches_between_a_face_model_and_the_abstract_one():
    at = run_page("pages/generate.py")
    assert "Predicted age and gender" in [t.label for t in at.sidebar.toggle]
    at.sidebar.selectbox[0].set_value(NAME).run()
    assert not at.exception and at.title[0].value == "Generate abstract paintings"
    assert "Predicted age and gender" not in [t.label for t in at.sidebar.toggle]
    at.sidebar.selectbox[0].set_value("dcgan-64").run()
    assert not at.exception and at.title[0].value == "Generate faces"
    assert "Predicted age and gender" in [t.label for t in at.sidebar.toggle]


def test_latent_lab_interpolates_and_adds_paintings_and_says_directions_are_for_faces():
    at = run_page("pages/latent_lab.py", {"model": NAME})
    assert at.sidebar.selectbox[0].value == NAME
    assert "Predicted age and gender" not in [t.label for t in at.sidebar.toggle]
    captions = [im.captions[0] for im in at.get("image") if im.captions]
    assert len(captions) >= 3, captions  # the candidate grids, the walk and the arithmetic
    assert any("not faces" in i.value for i in at.info), [i.value for i in at.info]
    # the walk and the arithmetic speak of paintings; only the directions tab and the notes saying why name faces
    assert {"From painting #", "To painting #"} <= {s.label for s in at.selectbox}
    assert any(c.startswith("Painting 0 → painting 1") for c in captions), captions
    assert any(c.startswith("mean of A: paintings") for c in captions), captions
    walk_and_sums = " ".join(c.value for c in at.caption if "not faces" not in c.value)  # the note saying why
    assert "Every painting is the generator's answer" in walk_and_sums
    assert "face" not in walk_and_sums.replace("for faces on", ""), walk_and_sums


def test_training_history_shows_its_losses_outputs_and_snapshots():
    at = run_page("pages/training_history.py", {"model": NAME})
    assert at.sidebar.selectbox[0].value == NAME
    assert len(at.get("plotly_chart")) >= 2  # the losses, D(x) and D(G(z))
    assert any(s.value == "Fixed-noise snapshots" for s in at.subheader)
    assert not at.info, [i.value for i in at.info]
    # its captions speak of paintings, not of faces and photos
    words = " ".join(c.value for c in at.caption)
    assert "real painting is real" in words and "held out of training" in words, words
    assert "face" not in words.lower() and "photo" not in words, words
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert "Discriminator outputs: real paintings vs generated pictures" in titles, titles


def test_home_lists_it_with_its_fd_and_not_a_face_figure():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert any(NAME in s.value for s in at.subheader)
    assert "FD / real floor" in [m.label for m in at.metric]


def test_training_history_shows_the_art_detector_and_where_its_figures_are():
    at = run_page("pages/training_history.py", {"model": "art-lstm"})
    assert at.sidebar.selectbox[0].value == "art-lstm"
    assert len(at.get("plotly_chart")) >= 2  # loss and accuracy per epoch
    assert not at.info, [i.value for i in at.info]  # no "run train.evaluate": that is for faces
    assert any("not faces" in c.value and "Abstract art" in c.value for c in at.caption)
    assert any("Judge" in d.value.columns for d in at.dataframe)
