"""A model's training record: per-iteration metrics, fixed-noise snapshots and the model card's facts.

Plain Python and numpy, so the Training History page stays thin and these pieces are testable alone.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from core.io.store import read_history

HISTORY_FILE = "history.jsonl"
SNAPSHOT_DIR = "snapshots"
INDEX_KEYS = ("step", "epoch")  # where a row sits in training; every other key is a metric

# Known metric keys -> what charts call them; an unknown key is shown as it is.
DISPLAY_NAMES = {
    "Loss_D": "Loss_D",
    "Loss_G": "Loss_G",
    "D_x": "D(x)",
    "D_G_z1": "D(G(z)) before D step",
    "D_G_z2": "D(G(z)) after D step",
    "d1": "d1 (D on real)",
    "d2": "d2 (D on fake)",
    "g": "g (G loss)",
}
# The DCGAN objective logs D's sigmoid outputs: probabilities in 0..1, charted apart from the losses.
# (LSGAN's d1/d2 are least-squares losses, not probabilities, so they go with the losses.)
PROBABILITY_KEYS = ("D_x", "D_G_z1", "D_G_z2")

_SNAPSHOT_NAME = re.compile(r"epoch_(\d+)$")


def display_name(key: str) -> str:
    return DISPLAY_NAMES.get(key, key)


def load_history(folder: str | Path) -> dict[str, np.ndarray]:
    """The folder's history.jsonl as float columns, one entry per logged iteration.

    Columns are the union of the rows' keys in first-seen order; a key missing from some rows is
    NaN there (a metric added mid-run must not shift the others). "step" falls back to the row
    number when the log lacks it, so every chart has an x axis.
    """
    path = Path(folder) / HISTORY_FILE
    if not path.exists():
        raise FileNotFoundError(f"no training history at {path}: this model was trained without one, "
                                "or its folder came from somewhere that does not ship history.jsonl")
    rows = read_history(path)
    if not rows:
        raise ValueError(f"{path} holds no readable rows")
    keys: dict[str, None] = {}  # an ordered set
    for row in rows:
        keys.update(dict.fromkeys(row))
    columns = {k: np.array([_number(row.get(k)) for row in rows], dtype=float) for k in keys}
    columns.setdefault("step", np.arange(len(rows), dtype=float))
    return columns


def _number(value) -> float:
    # null, strings and the like become NaN: a bad cell should cost one point, not the page
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def metric_names(columns: dict[str, np.ndarray]) -> list[str]:
    """Every column except step and epoch, in log order."""
    return [k for k in columns if k not in INDEX_KEYS]


def split_metrics(names: list[str]) -> tuple[list[str], list[str]]:
    """(losses, probabilities): probabilities share a 0..1 axis; everything else is a loss."""
    probabilities = [n for n in names if n in PROBABILITY_KEYS]
    return [n for n in names if n not in PROBABILITY_KEYS], probabilities


def smooth_ema(values, weight: float) -> np.ndarray:
    """TensorBoard's smoothing: a debiased exponential moving average; weight 0 returns the input.

    Dividing by 1 - weight**n removes the pull toward the zero the average starts from, so the
    first smoothed value equals the first input instead of weight times less. Non-finite values
    stay as they are and do not enter the average, as in TensorBoard.
    """
    if not 0 <= weight < 1:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
    values = np.asarray(values, dtype=float)
    out = values.copy()
    last, n = 0.0, 0
    for i, v in enumerate(values):
        if not np.isfinite(v):
            continue
        last = last * weight + (1 - weight) * v
        n += 1
        out[i] = last / (1 - weight**n)
    return out


def epoch_boundaries(columns: dict[str, np.ndarray]) -> list[int]:
    """The step at which each epoch begins (the first row of every epoch); [] without an epoch column."""
    epoch = columns.get("epoch")
    if epoch is None or len(epoch) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, epoch[1:] != epoch[:-1]])
    return [int(columns["step"][i]) for i in starts]


def snapshot_paths(folder: str | Path) -> list[tuple[int, Path]]:
    """(epoch, image) for every snapshots/epoch_NNN.jpg|png, by epoch number (not by name: 10 after 2)."""
    found = []
    for path in (Path(folder) / SNAPSHOT_DIR).glob("epoch_*"):
        match = _SNAPSHOT_NAME.match(path.stem)
        if match and path.suffix.lower() in (".jpg", ".jpeg", ".png"):
            found.append((int(match.group(1)), path))
    return sorted(found)


def strip_front_matter(markdown: str) -> str:
    """A model card without its YAML header (the '---' block Hub cards start with)."""
    if not markdown.startswith("---"):
        return markdown
    from huggingface_hub import ModelCard

    return ModelCard(markdown, ignore_metadata_errors=True).text.lstrip("\n")


def training_facts(training: dict) -> dict[str, str]:
    """training.json's headline figures as label -> text; absent figures are left out, not guessed."""
    t = training or {}
    config = t.get("train_config") or {}
    quality = t.get("quality") or {}
    memo = quality.get("memorisation") or {}
    facts = {}
    if "epochs_done" in t:
        planned = t.get("epochs_planned")
        facts["Epochs"] = f"{t['epochs_done']}" + (f" of {planned}" if planned and planned != t["epochs_done"] else "")
    if config.get("head_fit"):  # SupCon: its head refitted in closed form on the encoder it keeps
        facts["Head"] = f"closed form, C {config.get('head_c'):g}"
    if "steps" in t and not closed_form(t):
        facts["Iterations"] = f"{t['steps']:,}"
    if "batch_size" in config:
        facts["Batch size"] = str(config["batch_size"])
    if "wall_time_s" in t:
        facts["Wall time"] = duration_text(t["wall_time_s"])
    if "images_per_s" in t:
        facts["Images/s"] = f"{t['images_per_s']:.1f}"
    if config.get("diffaug"):  # D saw every batch through these changes (see docs/training.md)
        facts["DiffAugment"] = config["diffaug"].replace(",", ", ")
    if "face_found_rate" in quality:
        real = quality.get("real_face_found_rate")
        if real is None:
            facts["Faces found"] = f"{quality['face_found_rate']:.0%}"
        else:  # short enough for a metric tile in a narrow column
            facts["Faces found / real"] = f"{quality['face_found_rate']:.0%} / {real:.0%}"
    if quality.get("subject") == "abstract":  # paintings: FD and KID to held-out paintings, beside the real floor
        facts["FD / real floor"] = f"{quality['fd']:.1f} / {quality['fd_real_vs_real']:.1f}"
        facts["KID x1000 / floor"] = f"{1000 * quality['kid']:.1f} / {1000 * quality['kid_real_vs_real']:.1f}"
    if "diversity_vs_real" in quality:
        facts["Diversity vs real"] = f"{quality['diversity_vs_real']:.2f}"
    if "near_copies" in memo:
        facts["Near-copies"] = f"{memo['near_copies']} / {memo.get('n', '?')}"
    if "hardware" in t:
        facts["Hardware"] = str(t["hardware"])
    return facts


def duration_text(seconds: float) -> str:
    """A training time in words a card can show: seconds under 90 s (a closed-form fit's 11 s is not
    "0 min"), minutes under two hours, then hours."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


# --- comparing two runs -------------------------------------------------------------------------

X_AXES = ("iteration", "epoch")  # what two runs can be lined up by on a shared chart


def epoch_progress(columns: dict[str, np.ndarray]) -> np.ndarray | None:
    """Each row's place in training in epochs: its epoch plus the share of that epoch already done.

    Two runs with different batch sizes take different numbers of iterations per epoch, so
    iteration 500 of one is not as far into training as iteration 500 of the other; epoch 4.5
    (halfway through the fifth pass over the data) is. The epoch's length is the median row
    count of the complete epochs (all but the last), so a run stopped mid-epoch ends at, say,
    7.3 rather than stretching its partial last epoch to a whole one. None without an epoch column.
    """
    epoch = columns.get("epoch")
    if epoch is None or len(epoch) == 0 or not np.isfinite(epoch).all():
        return None
    starts = np.flatnonzero(np.r_[True, epoch[1:] != epoch[:-1]])
    lengths = np.diff(np.r_[starts, len(epoch)])
    per_epoch = float(np.median(lengths[:-1])) if len(lengths) > 1 else float(lengths[-1])
    within = np.arange(len(epoch)) - np.repeat(starts, lengths)  # row index inside its epoch
    return epoch + within / per_epoch


def x_values(columns: dict[str, np.ndarray], by: str) -> np.ndarray:
    """The x axis for `by` ("iteration" or "epoch"); epoch falls back to iterations without an epoch column."""
    if by not in X_AXES:
        raise ValueError(f"x axis must be one of {X_AXES}, got {by!r}")
    if by == "epoch":
        progress = epoch_progress(columns)
        if progress is not None:
            return progress
    return columns["step"]


def shared_metrics(first: dict[str, np.ndarray], second: dict[str, np.ndarray]) -> list[str]:
    """Metrics both runs logged, in the first run's order: the only curves that can be overlaid.

    Runs of different objectives log different things (DCGAN's Loss_D/Loss_G/D_x, LSGAN's
    d1/d2/g); a DCGAN loss and an LSGAN loss on one axis would compare unlike quantities.
    """
    theirs = set(metric_names(second))
    return [k for k in metric_names(first) if k in theirs]


# --- detectors: one row per epoch, and the evaluation in training.json --------------------------

# Detector histories log these per epoch; the names charts use for them.
DISPLAY_NAMES.update({
    "train_loss": "train loss",
    "val_loss": "validation loss",
    "train_acc": "train accuracy",
    "val_acc": "validation accuracy",
    "train_supcon_loss": "train SupCon loss",
    "val_supcon_loss": "validation SupCon loss",
    "lr": "learning rate",
})
CLASSIFIER_LOSSES = ("train_loss", "val_loss")  # binary cross-entropy on real vs GAN-made
ACCURACIES = ("train_acc", "val_acc")
SUPCON_LOSSES = ("train_supcon_loss", "val_supcon_loss")
EPOCH_METRICS = (*CLASSIFIER_LOSSES, *ACCURACIES, *SUPCON_LOSSES, "lr")  # what the detector charts draw
# Phases whose logged loss is the supervised contrastive loss: a different quantity (a few units, never
# near 0) from the classification loss, so it gets its own columns and its own chart.
CONTRASTIVE_PHASES = ("encoder",)
PHASE_NAMES = {
    "classifier": "classifier",
    "encoder": "encoder (SupCon loss)",
    "head": "linear head",
}
# training.json "evaluation" figures -> table headings, in the order the table shows them.
EVALUATION_FIGURES = {
    "accuracy": "Accuracy (every crop)",
    "auc": "ROC AUC",
    "average_precision": "AP",
    "eer": "EER",
    "ece": "ECE",
    "jpeg75_auc": "JPEG-75 AUC",
    "jpeg75_accuracy": "JPEG-75 accuracy",
}
CONFUSION_LABELS = ("real", "GAN-made")  # rows: true class; columns: judged class


def load_epoch_history(folder: str | Path) -> dict[str, np.ndarray]:
    """A detector's history.jsonl (one row per epoch) as columns lined up over the whole run.

    Besides load_history's float columns: "phase" holds each row's phase as text ("classifier",
    or SupCon's "encoder" then "head"; "classifier" when the log has none), "phase_epoch" the
    epoch as logged (it restarts at 1 when the head phase starts), and "epoch" counts epochs
    over the whole run, 1, 2, ... across phases, so x_values and epoch_boundaries work as for
    GAN runs. In contrastive phases the losses move to train_supcon_loss / val_supcon_loss and
    train_loss / val_loss are NaN there: only classification losses share those columns.
    """
    columns = load_history(folder)
    rows = read_history(Path(folder) / HISTORY_FILE)
    if len(rows) != len(columns["step"]):
        raise ValueError(f"{Path(folder) / HISTORY_FILE} changed while it was being read")
    phase = np.array([str(row.get("phase") or "classifier") for row in rows], dtype=object)
    contrastive = np.isin(phase, CONTRASTIVE_PHASES)
    out = {"step": columns["step"], "phase": phase}
    out["phase_epoch"] = columns.get("epoch", np.arange(1, len(phase) + 1, dtype=float))
    out["epoch"] = np.arange(1, len(phase) + 1, dtype=float)
    for key, values in columns.items():
        if key in ("step", "epoch", "phase"):
            continue
        out[key] = values
    for loss, supcon in zip(CLASSIFIER_LOSSES, SUPCON_LOSSES, strict=True):
        values = out.get(loss, np.full(len(phase), np.nan))
        out[supcon] = np.where(contrastive, values, np.nan)
        out[loss] = np.where(contrastive, np.nan, values)
    return out


def epoch_metrics(columns: dict[str, np.ndarray]) -> list[str]:
    """The chartable detector metrics (EPOCH_METRICS order) with at least one finite value."""
    return [k for k in EPOCH_METRICS if k in columns and np.isfinite(columns[k]).any()]


def shared_epoch_metrics(first: dict[str, np.ndarray], second: dict[str, np.ndarray]) -> list[str]:
    """Detector metrics both runs logged: SupCon's contrastive loss is never overlaid on a classification loss."""
    theirs = set(epoch_metrics(second))
    return [k for k in epoch_metrics(first) if k in theirs]


def phase_spans(columns: dict[str, np.ndarray]) -> list[tuple[str, float, float]]:
    """(phase, first run epoch, last run epoch) for each stretch of consecutive rows in one phase."""
    phase, epoch = columns["phase"], columns["epoch"]
    if len(phase) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, phase[1:] != phase[:-1]])
    ends = np.r_[starts[1:], len(phase)] - 1
    return [(str(phase[s]), float(epoch[s]), float(epoch[e])) for s, e in zip(starts, ends, strict=True)]


def phases_with(columns: dict[str, np.ndarray], key: str) -> list[str]:
    """The phases in which column `key` has a value (a head fitted in closed form logs no learning rate)."""
    values = columns.get(key)
    if values is None:
        return []
    finite = np.isfinite(np.asarray(values, dtype=float))
    return [str(p) for p in dict.fromkeys(columns["phase"][finite])]


def evaluation_entries(training: dict) -> dict[str, dict]:
    """training.json's "evaluation": test-set label -> figures; entries that are not objects are left out."""
    evaluation = (training or {}).get("evaluation") or {}
    return {label: entry for label, entry in evaluation.items() if isinstance(entry, dict)}


def evaluation_table(training: dict) -> list[dict]:
    """One row per evaluation entry: the test set, its crop count and EVALUATION_FIGURES (None when absent)."""
    rows = []
    for label, entry in evaluation_entries(training).items():
        row = {"Test set": label, "Crops": entry.get("count")}
        for key, heading in EVALUATION_FIGURES.items():
            value = entry.get(key)
            row[heading] = float(value) if isinstance(value, (int, float)) else None
        rows.append(row)
    return rows


def roc_points(entry: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """(false-positive rates, true-positive rates) of an evaluation entry, or None without a usable curve."""
    roc = entry.get("roc") or {}
    try:
        fpr, tpr = np.asarray(roc["fpr"], dtype=float), np.asarray(roc["tpr"], dtype=float)
    except (KeyError, TypeError, ValueError):
        return None
    if fpr.ndim != 1 or fpr.shape != tpr.shape or len(fpr) < 2:
        return None
    return fpr, tpr


def confusion_counts(entry: dict) -> np.ndarray | None:
    """The 2x2 confusion matrix [[real→real, real→GAN], [GAN→real, GAN→GAN]] as ints, or None."""
    try:
        counts = np.asarray(entry["confusion"], dtype=float)
    except (KeyError, TypeError, ValueError):
        return None
    if counts.shape != (2, 2) or not np.isfinite(counts).all():
        return None
    return counts.astype(int)


def closed_form(training: dict) -> bool:
    """Whether the detector's head was fitted in closed form (`train.detector --fit closed-form`), not by epochs."""
    return str(((training or {}).get("train_config") or {}).get("fit", "")).startswith("closed-form")


# A detector's training.json "val_accuracy" is on the validation crops at the 0.5 threshold, weighted as
# training drew its batches; train.evaluate's "accuracy" (EVALUATION_FIGURES) counts every crop once. The
# same crops give two figures (cnn: 94.8% and 96.3%), so each label says which it is.
VAL_ACCURACY_LABEL = "Validation accuracy (balanced)"
VAL_ACCURACY_HELP = ("On the validation crops at the 0.5 threshold, with real and GAN-made photos weighing half "
                     "each and the sources balanced within each half, as training drew its batches: a small "
                     "source counts about as much as a large one.")


def detector_facts(training: dict) -> dict[str, str]:
    """A detector's training.json headline figures as label -> text; absent figures are left out."""
    t = training or {}
    config = t.get("train_config") or {}
    facts = {}
    if "val_accuracy" in t:
        facts[VAL_ACCURACY_LABEL] = f"{t['val_accuracy']:.1%}"
    epochs_run = t.get("epochs_run") or {}
    if closed_form(t):  # no epochs, no iterations: one fit
        facts["Fit"] = f"closed form, C {config.get('c'):g}"
        epochs_run = {}
    elif list(epochs_run) == ["classifier"]:
        facts["Epochs"] = str(epochs_run["classifier"])
    elif epochs_run:  # SupCon: "Epochs (encoder + head)": "15 + 4", short enough for a metric tile
        facts[f"Epochs ({' + '.join(epochs_run)})"] = " + ".join(str(n) for n in epochs_run.values())
    if config.get("head_fit"):  # SupCon: its head refitted in closed form on the encoder it keeps
        facts["Head"] = f"closed form, C {config.get('head_c'):g}"
    if "steps" in t and not closed_form(t):
        facts["Iterations"] = f"{t['steps']:,}"
    if "batch_size" in config:
        facts["Batch size"] = str(config["batch_size"])
    if "temperature" in t:
        facts["Temperature"] = f"{t['temperature']:.2f}"
    if "val_ece_before" in t and "val_ece_after" in t:
        facts["Validation ECE"] = f"{t['val_ece_before']:.3f} → {t['val_ece_after']:.3f}"
    if "wall_time_s" in t:
        facts["Wall time"] = duration_text(t["wall_time_s"])
    if isinstance(t.get("sources"), dict) and t["sources"]:
        real = sum(1 for v in t["sources"].values() if isinstance(v, dict) and v.get("truth") == "real")
        facts["Sources"] = f"{real} real, {len(t['sources']) - real} generators"
    elif t.get("generators"):
        facts["Fakes from"] = ", ".join(t["generators"])
    if "held_out" in t:
        facts["Held-out generators"] = ", ".join(t["held_out"]) or "none"
    if "hardware" in t:
        facts["Hardware"] = str(t["hardware"])
    return facts


# --- detectors: figures per source (train.evaluate --record, with per_source) ----------------------

PREFERRED_SOURCE_EVALUATION = "validation mix"


def source_evaluation(training: dict) -> tuple[str, dict] | None:
    """(label, {source: figures}) of the recorded per-source test ("validation mix" first), or None."""
    entries = {k: e for k, e in evaluation_entries(training).items() if isinstance(e.get("per_source"), dict)}
    if not entries:
        return None
    label = PREFERRED_SOURCE_EVALUATION if PREFERRED_SOURCE_EVALUATION in entries else next(iter(entries))
    return label, entries[label]["per_source"]


def source_table(per_source: dict) -> list[dict]:
    """One row per source for a table: what it is, how many faces, AUC against the reals, verdict shares."""
    rows = []
    for name, r in per_source.items():
        fake = r.get("truth") == "fake"
        rows.append({
            "Source": name,
            "What": r.get("title") or name,
            "Kind": "GAN-made" if fake else "real",
            "Faces": r.get("count"),
            "AUC vs real": r.get("auc") if fake else None,
            "Called GAN-made": r.get("called_gan"),
            "Uncertain": r.get("uncertain"),
            # a generator's faces called real are the misses that matter most; older records lack the share
            "Called real": r.get("called_real", None if r.get("called_gan") is None or r.get("uncertain") is None
                                 else max(0.0, 1.0 - r["called_gan"] - r["uncertain"])),
        })
    return rows


def limits_sentences(per_source: dict) -> str:
    """What the per-source test says, in words, every figure from the record."""
    real = {n: r for n, r in per_source.items() if r.get("truth") == "real" and r.get("count")}
    fake = {n: r for n, r in per_source.items() if r.get("truth") == "fake" and r.get("count")}
    if not real or not fake:
        return ""

    def share(v):
        return f"{v:.0%}" if v is not None else "?"

    caught = sorted(fake.items(), key=lambda kv: kv[1].get("called_gan") or 0)
    alarms = sorted(real.items(), key=lambda kv: -(kv[1].get("called_gan") or 0))
    return (f"Tested on {sum(r['count'] for r in real.values()):,} real faces ({', '.join(real)}) and "
            f"{sum(r['count'] for r in fake.values()):,} made ones ({', '.join(fake)}) kept out of training: "
            f"they called {share(caught[0][1].get('called_gan'))} of {caught[0][0]} faces GAN-made (their weakest "
            f"generator) and {share(caught[-1][1].get('called_gan'))} of {caught[-1][0]}; they wrongly called "
            f"{share(alarms[0][1].get('called_gan'))} of {alarms[0][0]} photos GAN-made (their worst real source).")
