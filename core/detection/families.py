"""CNN families side by side: the ResNet the app uses beside a DenseNet and an Xception-style net.

Seed 002 ("Detecting GAN images with CNNs trained from scratch") compared five ImageNet families; the
app trains one small ResNet (`cnn`). `cnn-densenet` and `cnn-xception` (core.models.registry, comparison
specs: never in the app's verdict) are trained with the same recipe, data, crops and augmentation,
and each is judged alone by one `train.evaluate` command whose JSON record lands in
weights/cnn-families/NAME.json. Everything here reads those records (and each model's training.json
for its training time); nothing is typed in but the seed's published figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from core.models import registry

RECORD_DIR = registry.WEIGHTS_DIR / "cnn-families"  # figures only: no photo of anyone
# Galleries show real photos (CelebA, FFHQ, LFW, UTKFace: research use only), so they stay in runs/
# (git-ignored), never in the repository or the Space.
GALLERY_DIR = registry.REPO_ROOT / "runs" / "cnn-families"
FAMILIES = {"cnn": "ResNet", "cnn-densenet": "DenseNet", "cnn-xception": "Xception"}  # registry name -> family
SPLIT = "val"

# The seed study's own figures, as published (issue 19): other networks, other data.
PUBLISHED = {
    "study": "Detecting GAN images with CNNs trained from scratch (seed 002)",
    "families": "five ImageNet families (ResNet, DenseNet, Xception, NASNet, InceptionResNetV2)",
    "accuracy": "77% to 96% test accuracy",
    "tested_on": "generators and phone photos the networks had not seen",
}


def members() -> list[str]:
    """The families' registry names that are registered, ResNet first."""
    return [n for n in FAMILIES if n in registry.SPECS]


def record_path(name: str) -> Path:
    return RECORD_DIR / f"{name}.json"


def gallery_path(name: str) -> Path:
    return GALLERY_DIR / f"{name}-mistakes.png"


def arch_of(name: str) -> str:
    return registry.get_spec(name).config["arch"]


def train_command(name: str) -> str:
    arch = arch_of(name)
    return (f"python -m train.detector --arch {arch} --per-epoch 2000 --epochs 10 --patience 3 --threads 1 && "
            f"python -m train.bundle --run runs/detector-{arch} --name {name}")


def evaluate_command(name: str) -> str:
    """One row's evaluation. A comparison model also records it in its own training.json (its model card);
    the app's `cnn` does not, so its recorded "validation mix" (with the ensemble) stays as it is."""
    record = ' --record "validation mix"' if registry.get_spec(name).comparison else ""
    return (f"python -m train.evaluate --split {SPLIT} --detectors {name} --threads 1{record} "
            f"--json weights/cnn-families/{name}.json --gallery runs/cnn-families/{name}-mistakes.png")


@dataclass
class FamilyRecord:
    """One family: its registry name, what state it is in, and its figures when evaluated."""

    name: str
    family: str
    status: str  # "evaluated", "not trained" (no bundled weights) or "not evaluated" (no record)
    results: dict | None = None  # train.evaluate's results[name]: accuracy, auc, roc, parameters, ms_per_face...
    per_source: dict | None = None  # train.evaluate's per_source: verdicts of this detector alone
    training: dict | None = None  # the bundled training.json: epochs, wall time


def read_record(name: str, folder: Path | None = None) -> FamilyRecord:
    """The record of family member `name`; a missing or unreadable file leaves it "not evaluated"."""
    spec = registry.get_spec(name)
    family = FAMILIES.get(name, name)
    if not (spec.bundled_dir / "model.safetensors").exists():
        return FamilyRecord(name, family, "not trained")
    try:
        training = json.loads((spec.bundled_dir / "training.json").read_text())
    except (OSError, ValueError):
        training = {}
    path = (folder or RECORD_DIR) / f"{name}.json"
    try:
        record = json.loads(path.read_text())
        results, per_source = record["results"][name], record["per_source"]
        if not isinstance(results, dict) or not isinstance(per_source, dict):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError):
        return FamilyRecord(name, family, "not evaluated", training=training)
    return FamilyRecord(name, family, "evaluated", results, per_source, training)


def read_records(folder: Path | None = None) -> list[FamilyRecord]:
    return [read_record(n, folder) for n in members()]


def _num(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def summary_rows(records: list[FamilyRecord]) -> list[dict]:
    """One row per evaluated family: pooled figures, size, training time and speed (None when absent)."""
    rows = []
    for r in records:
        if r.status != "evaluated":
            continue
        res, training = r.results, r.training or {}
        fakes = {n: s for n, s in r.per_source.items() if s.get("truth") == "fake" and s.get("count")}
        weakest = min(fakes, key=lambda n: _num(fakes[n].get("auc")) or 0.0) if fakes else None
        epochs = sum(v for v in (training.get("epochs_run") or {}).values() if isinstance(v, int))
        wall = _num(training.get("wall_time_s"))
        rows.append({
            "Family": r.family,
            "Model": r.name,
            "Accuracy": _num(res.get("accuracy")),
            "ROC AUC": _num(res.get("auc")),
            "AP": _num(res.get("average_precision")),
            "Weakest fake (AUC)": f"{weakest} {fakes[weakest]['auc']:.3f}" if weakest and _num(
                fakes[weakest].get("auc")) is not None else None,
            "Parameters": int(res["parameters"]) if _num(res.get("parameters")) is not None else None,
            "Training": (f"{epochs} epochs, " if epochs else "") + (f"{wall / 60:.0f} min" if wall is not None else "?"),
            "ms per face": _num(res.get("ms_per_face")),
        })
    return rows


def source_rows(records: list[FamilyRecord]) -> list[dict]:
    """One row per source: for a fake one the share each family caught (verdict GAN-made), for a real one
    the share each wrongly called GAN-made (false alarms). Sources in the first record's order."""
    evaluated = [r for r in records if r.status == "evaluated"]
    order: list[str] = []
    for r in evaluated:
        order += [n for n in r.per_source if n not in order]
    rows = []
    for source in order:
        first = next(r.per_source[source] for r in evaluated if source in r.per_source)
        fake = first.get("truth") == "fake"
        row = {"Source": source, "Kind": "GAN-made" if fake else "real",
               "Figure": "caught" if fake else "false alarms", "Faces": first.get("count")}
        for r in evaluated:
            row[r.family] = _num((r.per_source.get(source) or {}).get("called_gan"))
        rows.append(row)
    return rows


def best_sentence(records: list[FamilyRecord]) -> str:
    """Which family did best on the pooled ROC AUC, and by how much (AUC and accuracy) over the next."""
    rows = [r for r in summary_rows(records) if r["ROC AUC"] is not None]
    if not rows:
        return ""
    if len(rows) == 1:
        return f"Only {rows[0]['Family']} (`{rows[0]['Model']}`) is evaluated so far: nothing to rank yet."
    rows.sort(key=lambda r: -r["ROC AUC"])
    best, second = rows[0], rows[1]
    auc = [round(r["ROC AUC"], 4) for r in (best, second)]  # the differences of the figures as printed
    text = (f"Best on this validation mix: **{best['Family']}** (`{best['Model']}`), ROC AUC {auc[0]:.4f} "
            f"against {auc[1]:.4f} for {second['Family']} ({auc[0] - auc[1]:+.4f})")
    if best["Accuracy"] is not None and second["Accuracy"] is not None:
        acc = [round(r["Accuracy"] * 100, 1) for r in (best, second)]
        text += f", accuracy {acc[0]:.1f}% against {acc[1]:.1f}% ({acc[0] - acc[1]:+.1f} points)"
    worst = rows[-1]
    if worst is not second:
        text += f"; last: {worst['Family']} (AUC {worst['ROC AUC']:.4f})"
    return text + "."


def published_sentence() -> str:
    p = PUBLISHED
    return (f"Published ({p['study']}): {p['families']}, trained from scratch, reached {p['accuracy']} on "
            f"{p['tested_on']}. Those figures are on other data (other generators, phone photos) and other networks "
            "of those families; the rows here are three small networks on this lab's validation crops, from "
            "generators they trained on. They are not comparable number for number.")
