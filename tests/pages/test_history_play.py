"""Training History: Play from the chosen epoch, Pause at once, and the sidebar's controls in the URL."""

import json

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

PAGE = "pages/training_history.py"

pytestmark = pytest.mark.filterwarnings("ignore")


def open_page(**query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update(query)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


# --- Play ---------------------------------------------------------------------------------------

def shown(at: AppTest) -> tuple[str, int, str]:
    """(the snapshot's caption, the Epoch slider's value, the Play/Pause button's label)."""
    caption = at.get("image")[0].proto.imgs[0].caption
    button = next(b.label for b in at.button if b.label in ("Play", "Pause"))
    return caption, at.select_slider(key="snapshot_epoch").value, button


def press(at: AppTest, label: str) -> None:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception


def test_play_starts_at_the_chosen_epoch_and_pause_leaves_the_slider_there():
    at = open_page()  # dcgan-64: snapshots after epochs 1 to 36
    at.select_slider(key="snapshot_epoch").set_value(5).run()
    press(at, "Play")
    assert shown(at) == ("Epoch 5 of 36", 5, "Pause")
    at.run()  # one frame a run (the fragment's timer in a browser)
    assert shown(at) == ("Epoch 6 of 36", 6, "Pause")
    at.run()
    assert shown(at) == ("Epoch 7 of 36", 7, "Pause")
    press(at, "Pause")
    assert shown(at) == ("Epoch 7 of 36", 7, "Play")
    at.run()
    assert shown(at) == ("Epoch 7 of 36", 7, "Play"), "paused: no more frames"
    assert not at.warning, "the slider's value is set without a default-value warning"


def test_play_from_the_last_epoch_starts_again_and_ends_on_the_last():
    at = open_page()
    assert shown(at) == ("Epoch 36 of 36", 36, "Play")
    press(at, "Play")
    assert shown(at) == ("Epoch 1 of 36", 1, "Pause")
    at.select_slider(key="snapshot_epoch").set_value(35).run()  # dragged while playing: plays on from there
    assert shown(at) == ("Epoch 35 of 36", 35, "Pause")
    at.run()
    assert shown(at) == ("Epoch 36 of 36", 36, "Play"), "the last epoch ends the play"
    at.run()
    assert shown(at) == ("Epoch 36 of 36", 36, "Play")


def test_another_model_is_not_played_on():
    at = open_page()
    at.select_slider(key="snapshot_epoch").set_value(5).run()
    press(at, "Play")
    at.sidebar.selectbox(key="model").set_value("dcgan-64-z60").run()
    assert not at.exception, at.exception
    caption, epoch, button = shown(at)
    assert button == "Play" and caption == f"Epoch {epoch} of {caption.split()[-1]}"


# --- the URL ------------------------------------------------------------------------------------

def notes(at: AppTest) -> str:
    return " ".join(i.value for i in at.info)


def test_a_link_sets_the_comparison_the_axis_and_the_smoothing():
    at = open_page(model="lsgan-80-male", compare="lsgan-80", x_by="epoch", smoothing="0.5")
    assert at.sidebar.selectbox(key="compare").value == "lsgan-80"
    assert at.sidebar.radio(key="x_by").value == "epoch"
    assert at.sidebar.slider(key="smoothing").value == 0.5
    assert not at.info
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["xaxis"]["title"]["text"] == "epoch"
    assert dict(at.query_params) == {"model": "lsgan-80-male", "compare": "lsgan-80", "x_by": "epoch",
                                     "smoothing": "0.5"}


def test_the_visitors_own_changes_need_no_note():
    """(A browser writes a changed control's value into the URL; AppTest keeps the URL it opened with.)"""
    at = open_page(model="lsgan-80-male", compare="lsgan-80", x_by="epoch", smoothing="0.5")
    at.sidebar.slider(key="smoothing").set_value(0.7).run()
    at.sidebar.radio(key="x_by").set_value("iteration").run()
    at.sidebar.selectbox(key="compare").set_value("lsgan-80-female").run()
    assert not at.exception, at.exception
    assert not at.info
    at.sidebar.selectbox(key="compare").set_value(None).run()  # no comparison: nothing to line up
    assert not at.exception, at.exception
    assert not [r for r in at.sidebar.radio if r.label == "Line runs up by"]
    assert not at.info, "x_by was the visitor's own setting"
    assert "x_by" not in at.query_params, "Streamlit removes a hidden control's parameter"


@pytest.mark.parametrize(("query", "said", "kept"), [
    ({"model": "lsgan-80-male", "compare": "dcgan-64", "x_by": "epoch"},
     ["compare=dcgan-64 logs none of the metrics lsgan-80-male does; showing **lsgan-80-male** alone.",
      "x_by=epoch lines up a comparison, and none is shown."], {"model": "lsgan-80-male"}),
    ({"model": "lsgan-80-male", "compare": "xyz"},
     ["compare=xyz is not a model; showing **lsgan-80-male** alone."], {"model": "lsgan-80-male"}),
    ({"model": "lsgan-80-male", "compare": "cnn"},
     ["compare=cnn is a detector, and lsgan-80-male is a generator; showing **lsgan-80-male** alone."],
     {"model": "lsgan-80-male"}),
    ({"model": "lsgan-80-male", "compare": "lsgan-80-male"},
     ["compare=lsgan-80-male is the model shown; showing **lsgan-80-male** alone."], {"model": "lsgan-80-male"}),
    ({"model": "lsgan-80-male", "compare": "lsgan-80", "x_by": "time", "smoothing": "lots"},
     ["smoothing=lots is not a number from 0 to 0.99; smoothing 0.9.",
      "x_by=time is not iteration or epoch; lining the runs up by iteration."],
     {"model": "lsgan-80-male", "compare": "lsgan-80"}),
    ({"smoothing": "5"}, ["smoothing=5 is not a number from 0 to 0.99; smoothing 0.9."], {}),
    ({"model": "nope"}, ["model=nope is not a model; showing **dcgan-64**."], {}),
    ({"model": "cnn", "smoothing": "0.3", "x_by": "epoch"},
     ["smoothing=0.3 does not apply: a detector logs one row an epoch, with nothing to smooth.",
      "x_by=epoch does not apply: detectors are always lined up by epoch."], {"model": "cnn"}),
])
def test_a_link_value_the_page_cannot_show_is_said_and_dropped(query, said, kept):
    at = open_page(**query)
    assert [line for i in at.info for line in i.value.split("  \n")] == said
    assert dict(at.query_params) == kept
    at.run()  # said once: the URL no longer holds it
    assert not at.info and dict(at.query_params) == kept


# --- the per-source table ------------------------------------------------------------------------

def test_the_source_table_leaves_the_auc_of_a_real_source_blank():
    at = open_page(model="cnn")
    assert "Source by source" in [h.value for h in at.subheader]
    table = next(d.value for d in at.dataframe if "AUC vs real" in d.value.columns)
    real, fake = table[table["Kind"] == "real"], table[table["Kind"] == "GAN-made"]
    assert len(real) and set(real["AUC vs real"]) == {"—"}  # not "None", not a blank
    assert all(0 < float(v) <= 1 for v in fake["AUC vs real"])
