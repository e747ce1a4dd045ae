"""core.history (smoothing, columns, epochs, snapshots) and the Training History page."""

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core import history, registry

ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/training_history.py"


# --- smooth_ema ---------------------------------------------------------------------------------

def test_smooth_ema_weight_zero_is_identity():
    values = np.array([3.0, -1.0, 7.5, 0.25])
    np.testing.assert_allclose(history.smooth_ema(values, 0.0), values)


def test_smooth_ema_keeps_a_constant_constant():
    np.testing.assert_allclose(history.smooth_ema(np.full(50, 2.5), 0.99), 2.5)


def test_smooth_ema_debiased_first_value_is_the_first_input():
    assert history.smooth_ema([4.0, 0.0, 0.0], 0.9)[0] == pytest.approx(4.0)


def test_smooth_ema_hand_checked_example():
    # weight 0.5: running 0.5, 1.25, 2.125; debias by 0.5, 0.75, 0.875
    np.testing.assert_allclose(history.smooth_ema([1.0, 2.0, 3.0], 0.5), [1.0, 5 / 3, 17 / 7])


def test_smooth_ema_skips_nan_and_rejects_bad_weights():
    out = history.smooth_ema([1.0, np.nan, 1.0], 0.5)
    assert np.isnan(out[1]) and out[2] == pytest.approx(1.0)
    with pytest.raises(ValueError):
        history.smooth_ema([1.0], 1.0)


# --- files --------------------------------------------------------------------------------------

ROWS = [
    {"step": 0, "epoch": 0, "d1": 0.5, "d2": 0.4, "g": 0.9},
    {"step": 1, "epoch": 0, "d1": 0.3, "d2": 0.2, "g": 0.8},
    {"step": 2, "epoch": 1, "d1": 0.1, "d2": 0.1, "g": 0.7},
]


@pytest.fixture
def record(tmp_path: Path) -> Path:
    (tmp_path / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return tmp_path


def test_load_history_reads_columns(record):
    columns = history.load_history(record)
    assert list(columns) == ["step", "epoch", "d1", "d2", "g"]
    np.testing.assert_allclose(columns["g"], [0.9, 0.8, 0.7])
    np.testing.assert_allclose(columns["epoch"], [0, 0, 1])


def test_load_history_missing_file_says_where(tmp_path):
    with pytest.raises(FileNotFoundError, match="history.jsonl"):
        history.load_history(tmp_path)


def test_metric_names_are_everything_but_step_and_epoch(record):
    columns = history.load_history(record)
    assert history.metric_names(columns) == ["d1", "d2", "g"]
    assert history.split_metrics(["Loss_D", "D_x", "Loss_G", "D_G_z1"]) == (["Loss_D", "Loss_G"], ["D_x", "D_G_z1"])
    assert history.display_name("D_G_z2") == "D(G(z)) after D step" and history.display_name("new") == "new"


def test_epoch_boundaries_are_first_steps(record):
    assert history.epoch_boundaries(history.load_history(record)) == [0, 2]
    columns = {"step": np.arange(10, 16.0), "epoch": np.array([1, 1, 2, 2, 2, 3.0])}
    assert history.epoch_boundaries(columns) == [10, 12, 15]


def test_snapshot_paths_sort_by_epoch_number(tmp_path):
    snaps = tmp_path / "snapshots"
    snaps.mkdir()
    for name in ["epoch_010.jpg", "epoch_002.jpg", "epoch_1.png", "notes.txt"]:
        (snaps / name).write_bytes(b"")
    assert [(e, p.name) for e, p in history.snapshot_paths(tmp_path)] == [
        (1, "epoch_1.png"), (2, "epoch_002.jpg"), (10, "epoch_010.jpg")]
    assert history.snapshot_paths(tmp_path / "missing") == []


def test_strip_front_matter_and_training_facts():
    assert history.strip_front_matter("---\nlicense: x\n---\n\n# Title\n") == "# Title\n"
    assert history.strip_front_matter("# Title\n") == "# Title\n"
    training = json.loads((registry.get_spec("dcgan-64").bundled_dir / "training.json").read_text())
    facts = history.training_facts(training)
    assert facts["Epochs"] == "36" and facts["Iterations"] == "2,700" and facts["Batch size"] == "64"
    assert facts["Faces found / real"] == "100% / 100%" and facts["Near-copies"] == "0 / 256"
    assert history.training_facts({}) == {}


# --- the page -----------------------------------------------------------------------------------

def open_page(model: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if model:
        at.query_params["model"] = model
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def snapshot_caption(at: AppTest) -> str:
    images = at.get("image")
    assert images, "a snapshot is shown"
    return images[0].proto.imgs[0].caption


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("model", registry.names())
def test_page_opens_for_every_model(model):
    at = open_page(model)
    if not (registry.get_spec(model).bundled_dir / history.HISTORY_FILE).exists():
        assert at.info, "a model without a history says so"
        return
    assert at.sidebar.selectbox[0].value == model
    assert len(at.get("plotly_chart")) >= 2
    assert at.get("image")
    labels = [m.label for m in at.metric]
    assert "Epochs" in labels and "Iterations" in labels and "Faces found / real" in labels
    assert any("equilibrium" in c.value for c in at.caption)
    assert at.expander, "the full model card"


@pytest.mark.filterwarnings("ignore")
def test_smoothing_and_epoch_sliders_rerun():
    at = open_page()
    at.sidebar.slider(key="smoothing").set_value(0.0).run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) >= 2
    last = snapshot_caption(at)
    at.select_slider(key="snapshot_epoch").set_value(2).run()
    assert not at.exception, at.exception
    assert snapshot_caption(at) != last and snapshot_caption(at).startswith("Epoch 2 ")
