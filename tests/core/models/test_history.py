"""core.models.history (smoothing, columns, epochs, snapshots) and the Training History page."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from core.io.store import write_history
from core.models import history, registry

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
    write_history(tmp_path / history.HISTORY_FILE, ROWS)
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
    assert facts["Faces found / real"] == "98% / 98%" and facts["Near-copies"] == "0 / 256"
    assert history.training_facts({}) == {}
    assert "DiffAugment" not in facts
    male = json.loads((registry.get_spec("lsgan-80-male").bundled_dir / "training.json").read_text())
    assert history.training_facts(male)["DiffAugment"] == "color, translation"


# --- detectors ----------------------------------------------------------------------------------

SUPCON_ROWS = [
    {"phase": "encoder", "epoch": 1, "step": 10, "train_loss": 4.6, "train_acc": None, "val_loss": 5.8,
     "val_acc": None, "lr": 1e-3, "seconds": 80.0},
    {"phase": "encoder", "epoch": 2, "step": 20, "train_loss": 4.4, "train_acc": None, "val_loss": 5.7,
     "val_acc": None, "lr": 5e-4, "seconds": 81.0},
    {"phase": "head", "epoch": 1, "step": 30, "train_loss": 0.2, "train_acc": 0.9, "val_loss": 0.06,
     "val_acc": 0.99, "lr": 1e-3, "seconds": 20.0},
]


@pytest.fixture
def supcon_record(tmp_path: Path) -> Path:
    write_history(tmp_path / history.HISTORY_FILE, SUPCON_ROWS)
    return tmp_path


def test_load_epoch_history_runs_epochs_across_phases(supcon_record):
    columns = history.load_epoch_history(supcon_record)
    assert list(columns["phase"]) == ["encoder", "encoder", "head"]
    np.testing.assert_allclose(columns["epoch"], [1, 2, 3])  # over the whole run
    np.testing.assert_allclose(columns["phase_epoch"], [1, 2, 1])  # as logged
    # the contrastive loss moves to its own columns; the classification loss starts with the head
    np.testing.assert_allclose(columns["train_supcon_loss"], [4.6, 4.4, np.nan])
    np.testing.assert_allclose(columns["val_supcon_loss"], [5.8, 5.7, np.nan])
    np.testing.assert_allclose(columns["train_loss"], [np.nan, np.nan, 0.2])
    np.testing.assert_allclose(columns["val_acc"], [np.nan, np.nan, 0.99])
    assert history.phase_spans(columns) == [("encoder", 1.0, 2.0), ("head", 3.0, 3.0)]
    assert history.epoch_boundaries(columns) == [10, 20, 30]


def test_load_epoch_history_without_phases_is_one_classifier_phase(record):
    columns = history.load_epoch_history(record)  # a GAN-style log: no phase column
    assert list(columns["phase"]) == ["classifier"] * 3
    assert history.phase_spans(columns) == [("classifier", 1.0, 3.0)]
    assert history.epoch_metrics(columns) == []  # none of the detector metrics


def test_epoch_metrics_never_pair_a_contrastive_loss_with_a_classification_loss(supcon_record):
    supcon = history.load_epoch_history(supcon_record)
    cnn = history.load_epoch_history(registry.get_spec("cnn").bundled_dir)
    assert history.epoch_metrics(supcon) == ["train_loss", "val_loss", "train_acc", "val_acc", "train_supcon_loss",
                                             "val_supcon_loss", "lr"]
    assert history.epoch_metrics(cnn) == ["train_loss", "val_loss", "train_acc", "val_acc", "lr"]
    assert history.shared_epoch_metrics(cnn, supcon) == ["train_loss", "val_loss", "train_acc", "val_acc", "lr"]
    assert history.display_name("val_acc") == "validation accuracy"


def test_evaluation_helpers_read_the_bundled_figures():
    training = json.loads((registry.get_spec("supcon").bundled_dir / "training.json").read_text())
    entries = history.evaluation_entries(training)
    assert entries and list(entries) == list(training["evaluation"])
    label, entry = next(iter(entries.items()))
    fpr, tpr = history.roc_points(entry)
    assert len(fpr) == len(tpr) >= 2 and fpr[0] == 0 and fpr[-1] == 1 and tpr[-1] == 1
    counts = history.confusion_counts(entry)
    assert counts.shape == (2, 2) and counts.sum() == entry["count"]
    assert counts[0].sum() == entry["real"] and counts[1].sum() == entry["fake"]
    assert (counts[0, 0] + counts[1, 1]) / counts.sum() == pytest.approx(entry["accuracy"])
    row = history.evaluation_table(training)[0]
    assert row["Test set"] == label and row["ROC AUC"] == entry["auc"] and row["JPEG-75 AUC"] == entry["jpeg75_auc"]


def test_evaluation_helpers_refuse_broken_entries():
    assert history.evaluation_entries({}) == {} and history.evaluation_table({"evaluation": {"x": 3}}) == []
    assert history.roc_points({}) is None
    assert history.roc_points({"roc": {"fpr": [0, 1], "tpr": [0]}}) is None
    assert history.confusion_counts({"confusion": [[1, 2, 3]]}) is None
    assert history.evaluation_table({"evaluation": {"t": {"count": 4, "auc": 0.5}}}) == [
        {"Test set": "t", "Crops": 4, "Accuracy (every crop)": None, "ROC AUC": 0.5, "AP": None, "EER": None, "ECE": None,
         "JPEG-75 AUC": None, "JPEG-75 accuracy": None}]


def test_detector_facts():
    supcon = json.loads((registry.get_spec("supcon").bundled_dir / "training.json").read_text())
    facts = history.detector_facts(supcon)
    phases = supcon["epochs_run"]  # the encoder's epochs; the head's too where SGD trained it
    assert facts[f"Epochs ({' + '.join(phases)})"] == " + ".join(str(n) for n in phases.values())
    if supcon["train_config"].get("head_fit"):  # its head refitted in closed form (train.detector --encoder)
        assert facts["Head"] == f"closed form, C {supcon['train_config']['head_c']:g}"
    assert history.detector_facts({"epochs_run": {"encoder": 5, "head": 3}})["Epochs (encoder + head)"] == "5 + 3"
    assert facts["Validation accuracy (balanced)"] == f"{supcon['val_accuracy']:.1%}"
    assert facts["Temperature"] == f"{supcon['temperature']:.2f}" and facts["Iterations"] == f"{supcon['steps']:,}"
    assert facts["Held-out generators"] == (", ".join(supcon["held_out"]) or "none")
    assert facts["Hardware"] == supcon["hardware"]
    real = sum(v["truth"] == "real" for v in supcon["sources"].values())
    assert facts["Sources"] == f"{real} real, {len(supcon['sources']) - real} generators"
    assert history.detector_facts({"epochs_run": {"classifier": 16}}) == {"Epochs": "16"}
    assert history.detector_facts({"held_out": []}) == {"Held-out generators": "none"}
    assert history.detector_facts({}) == {}


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


def chart_titles(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("model", registry.names())
def test_page_opens_for_every_model(model):
    at = open_page(model)
    folder = registry.get_spec(model).bundled_dir
    if not (folder / history.HISTORY_FILE).exists():
        assert at.info, "a model without a history says so"
        return
    assert at.sidebar.selectbox[0].value == model
    titles = chart_titles(at)
    labels = [m.label for m in at.metric]
    assert at.expander, "the full model card"
    training = json.loads((folder / "training.json").read_text())
    if history.closed_form(training):  # a head fitted in closed form: no epochs to chart, the fit's figures said
        assert "Fit" in labels and not any(label.startswith("Epochs") for label in labels)
        assert "Classification loss per epoch" not in titles
        assert any("fitted in closed form" in c.value and "validation accuracy" in c.value for c in at.caption)
        return
    assert any(label.startswith("Epochs") for label in labels) and "Iterations" in labels
    if registry.get_spec(model).kind == "generator":
        assert titles[0] == "Losses per iteration"
        if "D_x" in history.load_history(folder):  # DCGAN; the LSGAN logs d1, d2, g
            assert titles[1] == "Discriminator outputs: real photos vs generated faces"
        assert at.get("image"), "a fixed-noise snapshot"
        assert "Faces found / real" in labels
        assert any("equilibrium" in c.value for c in at.caption)
        return
    # a detector: per-epoch loss and accuracy, no GAN charts, snapshots or smoothing
    assert "Classification loss per epoch" in titles and "Accuracy per epoch" in titles
    assert "Losses per iteration" not in titles and not at.get("image")
    assert not [s for s in at.sidebar.slider if s.label == "Smoothing"]
    assert "Validation accuracy (balanced)" in labels and "Temperature" in labels
    entries = history.evaluation_entries(training)
    if entries:
        assert "ROC curves on the test sets" in titles
        roc = json.loads(at.get("plotly_chart")[titles.index("ROC curves on the test sets")].proto.spec)
        legend = [t["name"] for t in roc["data"]]
        for label, entry in entries.items():
            assert f"{label} (AUC {entry['auc']:.4f})" in legend
            assert label in titles, "a confusion matrix per test set"
        table = at.dataframe[0].value
        assert list(table["Test set"]) == list(entries)
        assert table["ROC AUC"].tolist() == pytest.approx([e["auc"] for e in entries.values()])
    columns = history.load_epoch_history(folder)
    accuracy = json.loads(at.get("plotly_chart")[titles.index("Accuracy per epoch")].proto.spec)
    assert [t["name"] for t in accuracy["data"]] == ["train accuracy", "validation accuracy"]
    if len(history.phase_spans(columns)) > 1:  # SupCon: its contrastive loss charted apart, phases explained
        assert titles[0] == "Supervised contrastive loss per epoch (encoder phase)"
        assert any("Encoder phase" in c.value and "Head phase" in c.value for c in at.caption)
        assert any(a.get("text") == "linear head starts" for a in accuracy["layout"].get("annotations", []))


@pytest.mark.filterwarnings("ignore")
def test_detectors_compare_with_detectors_only():
    at = open_page("cnn")
    compare = at.sidebar.selectbox(key="compare")
    # every other detector that logs the same metrics: the art LSTM too (its curves beside the face detectors')
    assert compare.options == ["nothing", *[n for n in registry.names("detector", subject=None) if n != "cnn"]]
    compare.set_value("supcon").run()
    assert not at.exception, at.exception
    titles = chart_titles(at)
    # SupCon's contrastive loss is not something cnn logged: not overlaid
    assert "Supervised contrastive loss per epoch (encoder phase)" not in titles
    accuracy = json.loads(at.get("plotly_chart")[titles.index("Accuracy per epoch")].proto.spec)
    assert [t["name"] for t in accuracy["data"]] == ["train accuracy · cnn", "validation accuracy · cnn",
                                                     "train accuracy · supcon", "validation accuracy · supcon"]
    assert [t["line"]["dash"] for t in accuracy["data"]] == ["solid", "solid", "dot", "dot"]
    assert any("dotted" in c.value and "supcon" in c.value for c in at.caption)


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


# --- comparing runs -----------------------------------------------------------------------------

def test_epoch_progress_places_rows_inside_their_epoch(record):
    # epochs 0, 0, 1: two rows an epoch, the last (partial) epoch starts at 1.0
    np.testing.assert_allclose(history.epoch_progress(history.load_history(record)), [0.0, 0.5, 1.0])
    columns = {"step": np.arange(10.0), "epoch": np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2.0])}
    # a run stopped halfway through its third epoch ends at 2.25, not stretched to 3
    np.testing.assert_allclose(history.epoch_progress(columns), [0, .25, .5, .75, 1, 1.25, 1.5, 1.75, 2, 2.25])
    assert history.epoch_progress({"step": np.arange(3.0)}) is None


def test_x_values_lines_up_runs_by_iteration_or_epoch(record):
    columns = history.load_history(record)
    np.testing.assert_allclose(history.x_values(columns, "iteration"), [0, 1, 2])
    np.testing.assert_allclose(history.x_values(columns, "epoch"), [0.0, 0.5, 1.0])
    no_epochs = {"step": np.array([5.0, 6.0])}
    np.testing.assert_allclose(history.x_values(no_epochs, "epoch"), [5, 6])  # falls back to iterations
    with pytest.raises(ValueError, match="iteration"):
        history.x_values(columns, "time")


def test_two_batch_sizes_meet_at_the_same_epoch():
    """Batch 64 takes twice the iterations of batch 128 per epoch; by epoch they line up."""
    small = {"step": np.arange(8.0), "epoch": np.repeat([0.0, 1.0], 4)}
    large = {"step": np.arange(4.0), "epoch": np.repeat([0.0, 1.0], 2)}
    x_small, x_large = history.x_values(small, "epoch"), history.x_values(large, "epoch")
    assert x_small[4] == x_large[2] == 1.0 and x_small[2] == x_large[1] == 0.5


def test_shared_metrics_keeps_the_first_runs_order():
    dcgan = {"step": np.zeros(1), "epoch": np.zeros(1), "Loss_D": np.zeros(1), "D_x": np.zeros(1),
             "Loss_G": np.zeros(1)}
    other_dcgan = {"step": np.zeros(1), "Loss_G": np.zeros(1), "Loss_D": np.zeros(1)}
    lsgan = {"step": np.zeros(1), "d1": np.zeros(1), "d2": np.zeros(1), "g": np.zeros(1)}
    assert history.shared_metrics(dcgan, other_dcgan) == ["Loss_D", "Loss_G"]
    assert history.shared_metrics(dcgan, lsgan) == []


def trace_names(at: AppTest, chart: int = 0) -> list[str]:
    spec = json.loads(at.get("plotly_chart")[chart].proto.spec)
    return [t["name"] for t in spec["data"] if t.get("showlegend") is not False]


@pytest.mark.filterwarnings("ignore")
def test_with_one_model_there_is_nothing_to_compare(monkeypatch):
    monkeypatch.setattr(registry, "SPECS", {"dcgan-64": registry.get_spec("dcgan-64")})
    at = open_page()
    assert not [s for s in at.sidebar.selectbox if s.label == "Compare with"]
    assert any("nothing to compare with yet" in c.value for c in at.sidebar.caption)
    assert trace_names(at) == ["Loss_D", "Loss_G"]


def register_run(tmp_path: Path, name: str, rows: list[dict]) -> registry.ModelSpec:
    """A spec like dcgan-64's whose bundled folder holds only `rows` as its history.jsonl."""
    import dataclasses

    (tmp_path / name).mkdir()
    (tmp_path / name / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return dataclasses.replace(registry.get_spec("dcgan-64"), name=name, bundled=tmp_path)


@pytest.fixture
def second_run(monkeypatch, tmp_path) -> str:
    """A second DCGAN run (3 iterations an epoch) and an LSGAN run (other metrics) beside dcgan-64."""
    dcgan_rows = [{"step": i, "epoch": i // 3, "Loss_D": 1.0, "D_x": 0.6, "D_G_z1": 0.4, "Loss_G": 2.0,
                   "D_G_z2": 0.3} for i in range(12)]
    lsgan_rows = [{"step": i, "epoch": 0, "d1": 0.1, "d2": 0.2, "g": 0.3} for i in range(4)]
    specs = {"dcgan-64": registry.get_spec("dcgan-64"), "run-b": register_run(tmp_path, "run-b", dcgan_rows),
             "lsgan-run": register_run(tmp_path, "lsgan-run", lsgan_rows)}
    monkeypatch.setattr(registry, "SPECS", specs)
    return "run-b"


@pytest.mark.filterwarnings("ignore")
def test_compare_overlays_a_second_runs_curves(second_run):
    at = open_page()
    compare = at.sidebar.selectbox(key="compare")
    # the LSGAN run logs d1/d2/g, nothing dcgan-64 logs: not offered
    assert compare.value is None and compare.options == ["nothing", second_run]
    assert trace_names(at) == ["Loss_D", "Loss_G"]
    compare.set_value(second_run).run()
    assert not at.exception, at.exception
    assert trace_names(at) == ["Loss_D · dcgan-64", "Loss_G · dcgan-64", f"Loss_D · {second_run}",
                               f"Loss_G · {second_run}"]
    assert trace_names(at, 1)[-1] == f"D(G(z)) after D step · {second_run}"
    assert any("dotted" in c.value and second_run in c.value for c in at.caption)
    at.sidebar.radio(key="x_by").set_value("epoch").run()
    assert not at.exception, at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["xaxis"]["title"]["text"] == "epoch"


@pytest.mark.filterwarnings("ignore")
def test_a_run_with_other_metrics_has_nothing_to_compare_with(second_run):
    at = open_page("lsgan-run")
    assert at.sidebar.selectbox[0].value == "lsgan-run"
    assert not [s for s in at.sidebar.selectbox if s.label == "Compare with"]
    assert any("nothing to compare with yet" in c.value for c in at.sidebar.caption)
    assert trace_names(at) == ["d1 (D on real)", "d2 (D on fake)", "g (G loss)"]


def test_per_source_record_reads_as_a_table_and_sentences():
    from core.models.history import limits_sentences, source_evaluation, source_table

    per_source = {
        "celeba": {"truth": "real", "count": 100, "called_gan": 0.02, "uncertain": 0.05},
        "lfw": {"truth": "real", "count": 50, "called_gan": 0.10, "uncertain": 0.1},
        "sd21": {"truth": "fake", "count": 40, "called_gan": 0.55, "uncertain": 0.2, "auc": 0.91, "title": "SD"},
        "dcgan-64": {"truth": "fake", "count": 60, "called_gan": 0.97, "uncertain": 0.0, "auc": 0.999},
    }
    training = {"evaluation": {"old": {"auc": 0.9}, "validation mix": {"per_source": per_source},
                               "other": {"per_source": {}}}}
    label, got = source_evaluation(training)
    assert label == "validation mix" and got == per_source
    assert source_evaluation({"evaluation": {"old": {"auc": 0.9}}}) is None
    rows = source_table(per_source)
    assert [r["Source"] for r in rows] == list(per_source)
    assert rows[2]["What"] == "SD" and rows[2]["AUC vs real"] == 0.91 and rows[0]["AUC vs real"] is None
    assert rows[2]["Called real"] == pytest.approx(0.25)  # the misses: neither caught nor uncertain
    assert source_table({"g": {"truth": "fake", "called_real": 0.4, "called_gan": 0.5, "uncertain": 0.1}})[0][
        "Called real"] == 0.4
    text = limits_sentences(per_source)
    assert "150 real faces (celeba, lfw)" in text and "100 made ones (sd21, dcgan-64)" in text
    assert "55% of sd21" in text and "97% of dcgan-64" in text and "10% of lfw" in text
    assert limits_sentences({"celeba": per_source["celeba"]}) == ""
