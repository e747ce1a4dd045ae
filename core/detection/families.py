"""Detectors side by side: the CNN families, the LSTM, and each GAN's own discriminator.

Seed 002 ("Detecting GAN images with CNNs trained from scratch") compared five ImageNet families; the
app trains one small ResNet (`cnn`). `cnn-densenet` and `cnn-xception` (core.models.registry, comparison
specs: never in the app's verdict) are trained with the same recipe, data, crops and augmentation.
Seed 003 (the LSTM study) compared its LSTM with the GAN's own discriminator; here the app's `lstm`
alone and the final discriminator of each bundled GAN (core.models.discriminators, named D-<gan>).
Each row is judged alone by one `train.evaluate` command whose JSON record lands in
weights/comparison/NAME.json. Everything here reads those records (and each model's training.json
for its training time); nothing is typed in but the seeds' published figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from core.models import discriminators, registry

RECORD_DIR = registry.WEIGHTS_DIR / "comparison"  # figures only: no photo of anyone
# Galleries show real photos (CelebA, FFHQ, LFW, UTKFace: research use only), so they stay in runs/
# (git-ignored), never in the repository or the Space.
GALLERY_DIR = registry.REPO_ROOT / "runs" / "comparison"
FAMILIES = {"cnn": "ResNet", "cnn-densenet": "DenseNet", "cnn-xception": "Xception"}  # registry name -> family
RECURRENT = {"lstm": "LSTM"}  # seed 003's detector, beside the discriminators it was compared with
SPLIT = "val"
OWN_RUN = "own-run"  # the per-source key of a discriminator's own generator's samples (train.evaluate --own-run)
RERUN_DIR = "runs/rerun"  # where the GANs' second runs, which kept their discriminators, were trained

# How the bundled GANs' recipes were run again, in bfloat16, to keep each one's final discriminator (the
# bundled generators' first runs did not keep theirs); the female and male models start from lsgan-80's rerun.
RERUNS = {
    "dcgan-64": "python -m train.dcgan --out runs/rerun/dcgan-64 --epochs 36 --seed 0",
    "dcgan-64-z60": "python -m train.dcgan --out runs/rerun/dcgan-64-z60 --nz 60 --epochs 16 --seed 60",
    "lsgan-80": "python -m train.lsgan --out runs/rerun/lsgan-80 --epochs 28 --seed 80",
    "lsgan-80-female": ("python -m train.lsgan --subset female --init-from runs/rerun/lsgan-80 "
                        "--out runs/rerun/lsgan-80-female --epochs 6 --seed 81"),
    "lsgan-80-male": ("python -m train.lsgan --subset male --init-from runs/rerun/lsgan-80 "
                      "--out runs/rerun/lsgan-80-male --epochs 24 --seed 82 --diffaug color,translation"),
}

# The seed studies' own figures, as published (issue 19): other networks, other data.
PUBLISHED = {
    "study": "Detecting GAN images with CNNs trained from scratch (seed 002)",
    "families": "five ImageNet families (ResNet, DenseNet, Xception, NASNet, InceptionResNetV2)",
    "accuracy": "77% to 96% test accuracy",
    "tested_on": "generators and phone photos the networks had not seen",
}
PUBLISHED_LSTM = {
    "study": "the LSTM study, seed 003",
    "discriminator": "58.53%",
    "lstm": "72.68%",
}


def members() -> list[str]:
    """Every row's name: the CNN families that are registered (ResNet first), the LSTM, then one
    discriminator per bundled GAN (D-<gan>, whether or not its discriminator is kept yet)."""
    return ([n for n in FAMILIES if n in registry.SPECS] + [n for n in RECURRENT if n in registry.SPECS]
            + [discriminators.detector_name(g) for g in registry.names("generator")])


def kind_of(name: str) -> str:
    if discriminators.gan_of(name):
        return "GAN discriminator"
    return "recurrent" if name in RECURRENT else "CNN family"


def label_of(name: str) -> str:
    gan = discriminators.gan_of(name)
    return f"D of {gan}" if gan else FAMILIES.get(name) or RECURRENT.get(name) or name


def weights_label(name: str) -> str:
    """Where a row's weights are bundled, as the README names it."""
    gan = discriminators.gan_of(name)
    return f"weights/{gan}/{discriminators.FOLDER}/" if gan else f"weights/{name}/"


def weights_dir(name: str) -> Path:
    gan = discriminators.gan_of(name)
    return discriminators.folder_of(gan) if gan else registry.get_spec(name).bundled_dir


def record_path(name: str) -> Path:
    return RECORD_DIR / f"{name}.json"


def gallery_path(name: str) -> Path:
    return GALLERY_DIR / f"{name}-mistakes.png"


def arch_of(name: str) -> str:
    return registry.get_spec(name).config["arch"]


def train_command(name: str) -> str:
    gan = discriminators.gan_of(name)
    if gan:
        return (f"{RERUNS.get(gan, f'python -m train.{arch_of(gan)} --out {RERUN_DIR}/{gan}')} --precision bfloat16 && "
                f"python -m train.bundle --run {RERUN_DIR}/{gan} --name {gan} --discriminator")
    arch = arch_of(name)
    return (f"python -m train.detector --arch {arch} --per-epoch 2000 --epochs 10 --patience 3 --threads 1 && "
            f"python -m train.bundle --run runs/detector-{arch} --name {name}")


def evaluate_command(name: str) -> str:
    """One row's evaluation. A comparison model also records it in its own training.json (its model card);
    the app's `cnn` and `lstm` do not, so their recorded "validation mix" (with the ensemble) stays as it is."""
    out = f"--json weights/comparison/{name}.json --gallery runs/comparison/{name}-mistakes.png"
    gan = discriminators.gan_of(name)
    if gan:
        return (f"python -m train.evaluate --split {SPLIT} --discriminator {gan} --own-run {RERUN_DIR}/{gan} "
                f"--threads 1 {out}")
    record = ' --record "validation mix"' if registry.get_spec(name).comparison else ""
    return f"python -m train.evaluate --split {SPLIT} --detectors {name} --threads 1{record} {out}"


@dataclass
class FamilyRecord:
    """One family: its registry name, what state it is in, and its figures when evaluated."""

    name: str
    family: str  # what the row is called: "ResNet", "LSTM", "D of dcgan-64"
    status: str  # "evaluated", "not trained" (no bundled weights) or "not evaluated" (no record)
    results: dict | None = None  # train.evaluate's results[name]: accuracy, auc, roc, parameters, ms_per_face...
    per_source: dict | None = None  # train.evaluate's per_source: verdicts of this detector alone
    training: dict | None = None  # the bundled training.json: epochs, wall time (a discriminator: its GAN's run)
    kind: str = "CNN family"  # kind_of(name)


def read_record(name: str, folder: Path | None = None) -> FamilyRecord:
    """The record of family member `name`; a missing or unreadable file leaves it "not evaluated"."""
    family, kind, folder_ = label_of(name), kind_of(name), weights_dir(name)
    # a discriminator's weights are not uploaded to the Space (train.push_space): its training record says it is kept
    kept = folder_ / ("training.json" if discriminators.gan_of(name) else "model.safetensors")
    if not kept.exists():
        return FamilyRecord(name, family, "not trained", kind=kind)
    try:
        training = json.loads((folder_ / "training.json").read_text())
    except (OSError, ValueError):
        training = {}
    path = (folder or RECORD_DIR) / f"{name}.json"
    try:
        record = json.loads(path.read_text())
        results, per_source = record["results"][name], record["per_source"]
        if not isinstance(results, dict) or not isinstance(per_source, dict):
            raise TypeError
    except (OSError, ValueError, KeyError, TypeError):
        return FamilyRecord(name, family, "not evaluated", training=training, kind=kind)
    return FamilyRecord(name, family, "evaluated", results, per_source, training, kind)


def read_records(folder: Path | None = None) -> list[FamilyRecord]:
    return [read_record(n, folder) for n in members()]


def _num(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _epochs(training: dict) -> int:
    """Epochs from a detector's training.json (epochs_run per phase) or a GAN run's (epochs_done)."""
    if isinstance(training.get("epochs_done"), int):
        return training["epochs_done"]
    return sum(v for v in (training.get("epochs_run") or {}).values() if isinstance(v, int))


def _pooled_fakes(r: FamilyRecord) -> dict:
    return {n: s for n, s in r.per_source.items()
            if s.get("truth") == "fake" and s.get("count") and s.get("pooled", True)}


def summary_rows(records: list[FamilyRecord]) -> list[dict]:
    """One row per evaluated detector: pooled figures, size, training time and speed (None when absent);
    a discriminator's also the share it caught of its own generator's samples."""
    rows = []
    for r in records:
        if r.status != "evaluated":
            continue
        res, training = r.results, r.training or {}
        fakes = _pooled_fakes(r)
        weakest = min(fakes, key=lambda n: _num(fakes[n].get("auc")) or 0.0) if fakes else None
        epochs, wall = _epochs(training), _num(training.get("wall_time_s"))
        own = r.per_source.get(OWN_RUN) or {}
        rows.append({
            "Detector": r.family,
            "Kind": r.kind,
            "Model": r.name,
            "Accuracy": _num(res.get("accuracy")),
            "ROC AUC": _num(res.get("auc")),
            "AP": _num(res.get("average_precision")),
            "Weakest fake (AUC)": f"{weakest} {fakes[weakest]['auc']:.3f}" if weakest and _num(
                fakes[weakest].get("auc")) is not None else None,
            "Own generator caught": _num(own.get("called_gan")),
            "Own generator AUC": _num(own.get("auc")),
            "Parameters": int(res["parameters"]) if _num(res.get("parameters")) is not None else None,
            "Training": ((f"{epochs} epochs, " if epochs else "") + (f"{wall / 60:.0f} min" if wall is not None else "?")
                         + (" (its GAN)" if r.kind == "GAN discriminator" else "")),
            "ms per face": _num(res.get("ms_per_face")),
        })
    return rows


def source_rows(records: list[FamilyRecord]) -> list[dict]:
    """One row per source: for a fake one the share each detector caught (verdict GAN-made), for a real one
    the share each wrongly called GAN-made (false alarms). Sources in the records' order; last, each
    discriminator's own generator's samples (one row, a value only in the discriminators' columns)."""
    evaluated = [r for r in records if r.status == "evaluated"]
    order: list[str] = []
    for r in evaluated:
        order += [n for n in r.per_source if n not in order and n != OWN_RUN]
    if any(OWN_RUN in r.per_source for r in evaluated):
        order.append(OWN_RUN)
    rows = []
    for source in order:
        first = next(r.per_source[source] for r in evaluated if source in r.per_source)
        fake = first.get("truth") == "fake"
        row = {"Source": "its own generator" if source == OWN_RUN else source,
               "Kind": "GAN-made" if fake else "real",
               "Figure": "caught" if fake else "false alarms", "Faces": first.get("count")}
        for r in evaluated:
            row[r.family] = _num((r.per_source.get(source) or {}).get("called_gan"))
        rows.append(row)
    return rows


def best_sentence(records: list[FamilyRecord]) -> str:
    """Which detector did best on the pooled ROC AUC, and by how much (AUC and accuracy) over the next."""
    rows = [r for r in summary_rows(records) if r["ROC AUC"] is not None]
    if not rows:
        return ""
    if len(rows) == 1:
        return f"Only {rows[0]['Detector']} (`{rows[0]['Model']}`) is evaluated so far: nothing to rank yet."
    rows.sort(key=lambda r: -r["ROC AUC"])
    best, second = rows[0], rows[1]
    auc = [round(r["ROC AUC"], 4) for r in (best, second)]  # the differences of the figures as printed
    text = (f"Best on this validation mix: **{best['Detector']}** (`{best['Model']}`), ROC AUC {auc[0]:.4f} "
            f"against {auc[1]:.4f} for {second['Detector']} ({auc[0] - auc[1]:+.4f})")
    if best["Accuracy"] is not None and second["Accuracy"] is not None:
        acc = [round(r["Accuracy"] * 100, 1) for r in (best, second)]
        text += f", accuracy {acc[0]:.1f}% against {acc[1]:.1f}% ({acc[0] - acc[1]:+.1f} points)"
    worst = rows[-1]
    if worst is not second:
        text += f"; last: {worst['Detector']} (AUC {worst['ROC AUC']:.4f})"
    return text + "."


def discriminator_sentence(records: list[FamilyRecord]) -> str:
    """The discriminators against the LSTM, as seed 003 compared them: accuracy and AUC ranges, and how
    much more of their own generator's samples they catch than of the rest. "" without a discriminator."""
    rows = summary_rows(records)
    ds = [r for r in rows if r["Kind"] == "GAN discriminator" and r["Accuracy"] is not None]
    if not ds:
        return ""
    acc = [r["Accuracy"] * 100 for r in ds]
    auc = [r["ROC AUC"] for r in ds if r["ROC AUC"] is not None]
    text = (f"The GANs' own discriminators ({len(ds)}): accuracy {min(acc):.1f}% to {max(acc):.1f}% "
            f"(mean {sum(acc) / len(acc):.1f}%)")
    if auc:
        text += f", ROC AUC {min(auc):.3f} to {max(auc):.3f}"
    lstm = next((r for r in rows if r["Kind"] == "recurrent" and r["Accuracy"] is not None), None)
    if lstm:
        text += (f"; the LSTM alone {lstm['Accuracy'] * 100:.1f}% ({lstm['Accuracy'] * 100 - sum(acc) / len(acc):+.1f} "
                 f"points over their mean), AUC {lstm['ROC AUC']:.3f}")
    own = [r for r in ds if r["Own generator AUC"] is not None]
    if own:
        text += (". On the samples of the generator each trained beside, their AUC is "
                 f"{min(r['Own generator AUC'] for r in own):.3f} to {max(r['Own generator AUC'] for r in own):.3f}")
    p = PUBLISHED_LSTM
    return text + (f". Published ({p['study']}): the GAN's discriminator {p['discriminator']} accuracy, the LSTM "
                   f"{p['lstm']}, on that study's own data.")


def published_sentence() -> str:
    p = PUBLISHED
    return (f"Published ({p['study']}): {p['families']}, trained from scratch, reached {p['accuracy']} on "
            f"{p['tested_on']}. Those figures are on other data (other generators, phone photos) and other networks "
            "of those families; the rows here are small networks on this lab's validation crops, from "
            "generators they trained on. They are not comparable number for number.")


# ----------------------------------------------------------------------------- abstract art (issue 36)

# The study's comparison on its second data set: the LSTM's recipe on paintings (art-lstm, a detector of the
# abstract subject, never in the face rows above) against dcgan-64-abstract's own final discriminator. Both are
# judged by one command on the same images, which writes the figures into art-lstm's training.json.
ART_DETECTOR, ART_GAN = "art-lstm", "dcgan-64-abstract"
ART_COMMAND = "python -m train.art_detector --out runs/art-lstm --threads 1 --epochs 8"
ART_JUDGES = {  # key in training.json's art_comparison -> (row name, kind, the study's published figure)
    "lstm": (f"LSTM ({ART_DETECTOR})", "recurrent", PUBLISHED_LSTM["lstm"]),
    "discriminator": (f"D of {ART_GAN}", "GAN discriminator", PUBLISHED_LSTM["discriminator"]),
}
ART_STUDY_COLUMN = "The study (faces and art)"


def art_comparison(folder: Path | None = None) -> dict:
    """art_comparison of art-lstm's training.json: per judge, accuracy and counts; {} when not bundled."""
    folder = folder or registry.get_spec(ART_DETECTOR).bundled_dir
    try:
        comparison = json.loads((folder / "training.json").read_text()).get("art_comparison") or {}
    except (OSError, ValueError, AttributeError):
        return {}
    return comparison if isinstance(comparison, dict) else {}


def art_rows(folder: Path | None = None) -> list[dict]:
    """The abstract-art table: one row per judge on the held-out paintings and fresh samples, with its counts
    and, beside it, the study's published accuracy."""
    rows = []
    for key, r in art_comparison(folder).items():
        if key not in ART_JUDGES or not isinstance(r, dict):
            continue
        name, kind, published = ART_JUDGES[key]
        rows.append({
            "Judge": name,
            "Kind": kind,
            "Accuracy": _num(r.get("accuracy")),
            "Right": f"{r.get('right')} of {r.get('n')}",
            "Paintings called real": f"{r.get('real_right')} of {r.get('real_n')}",
            "Samples called GAN-made": f"{r.get('fake_right')} of {r.get('fake_n')}",
            ART_STUDY_COLUMN: published,
        })
    return rows


def art_sentence(folder: Path | None = None) -> str:
    """The two judges on art in one sentence beside the study's figures; "" before art-lstm is bundled."""
    c = art_comparison(folder)
    lstm, d = c.get("lstm"), c.get("discriminator")
    if not lstm or not d:
        return ""
    gap = (lstm["accuracy"] - d["accuracy"]) * 100
    p = PUBLISHED_LSTM
    return (f"On abstract art the LSTM was right {lstm['accuracy']:.2%} of the time ({lstm['right']} of {lstm['n']}), "
            f"the GAN's own discriminator {d['accuracy']:.2%} ({d['right']} of {d['n']}): {gap:.1f} points apart. "
            f"Published ({p['study']}): the LSTM {p['lstm']}, the GAN's discriminator {p['discriminator']}, over "
            "faces and abstract art together on that study's own data: the same order, not comparable number for "
            "number.")
