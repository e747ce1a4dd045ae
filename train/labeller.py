"""How far to trust the age and gender labeller (core.data.attributes) on faces with known labels.

    python -m train.labeller --grids                          # generated faces labelled by eye (tests/core/data/labeller/)
    python -m train.labeller --render-grids                   # draw those grids again from their generators and seeds
    python -m train.labeller                                  # UTKFace in ../shared/data/wild/real/utkface
    python -m train.labeller --limit 300 --sizes 0 64 80      # quicker; 0 = as the photo comes
    python -m train.labeller --split test --sizes 0 64 80 64px 80px --grids --record   # the app's figures

`--grids`: our generators' faces, labelled female/male/unsure by eye (tests/core/data/labeller/labels.json,
its notes say how and who could disagree); agreement per family (DCGANs, LSGANs) over the faces not
marked unsure, and the share of the men called male.

UTKFace file names carry the labels: `age_gender_race_date.jpg.chip.jpg`, gender 0 = male, 1 = female.
Each photo is judged as it comes and, for each size S in `--sizes`, after a down-scale to S px and
back, as blurry as our generators' 64 and 80 px faces (the package's gender network reads these:
they are photo-sized), and for each "Spx" shrunk to S px and left so (the gender head reads these).
Printed per size: faces found, mean absolute age error, gender accuracy, and the share of men and of
women it calls male (a labeller that calls blurry men female shows here). Adults (18+) are reported apart: children's gender is hard for it.
`--split test` keeps to the half of UTKFace that train.gender_head did not fit on (`utk_split`); the
recorded figures are on that half.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

DEFAULT_DIR = Path("../shared/data/wild/real/utkface")
GRIDS = Path(__file__).resolve().parents[1] / "tests" / "core" / "data" / "labeller"


def family(model: str) -> str:
    return "DCGANs" if model.startswith("dcgan") else "LSGANs"


def grid_faces(path: Path, n: int, side: int, columns: int = 8, padding: int = 2):
    """The `n` faces (n, side, side, 3) uint8 of a grid image tiled by make_grid(nrow=columns, padding)."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        g = np.asarray(im.convert("RGB"))
    step = side + padding
    return np.stack([g[padding + (i // columns) * step:][:side, padding + (i % columns) * step:][:, :side]
                     for i in range(n)])


GRID_JPEG_QUALITY = 88  # the seven grids stay under 1 MB together


def render_grids(folder: Path = GRIDS) -> list[Path]:
    """Draw every grid labels.json describes again (its generator, seed, truncation, n) as a JPEG beside it."""
    from PIL import Image

    from core.gan.sampling import generate, make_grid, sample_latents
    from core.models import registry

    written = []
    for name, g in json.loads((folder / "labels.json").read_text())["grids"].items():
        loaded = registry.load(g["model"], use_hub=False)
        faces = generate(loaded.model, sample_latents(g["n"], loaded.config["nz"], g["seed"], g["truncation"]))
        grid = make_grid(faces, nrow=g["columns"], padding=g["padding"])
        Image.fromarray(grid).save(folder / name, quality=GRID_JPEG_QUALITY, subsampling=0)
        written.append(folder / name)
    return written


def grid_agreement(predict, folder: Path = GRIDS) -> dict:
    """Agreement of `predict` ((N, H, W, 3) uint8 -> list of FaceAttributes) with the by-eye labels, per
    family and per grid: faces labelled, unsure (left out), agreed, men and men called male."""
    record = json.loads((folder / "labels.json").read_text())
    out: dict = {"families": {}, "grids": {}}
    for name, g in record["grids"].items():
        side = 64 if g["model"].startswith("dcgan") else 80
        results = predict(grid_faces(folder / name, g["n"], side, g["columns"], g["padding"]))
        row = {"faces": g["n"], "unsure": 0, "labelled": 0, "agreed": 0, "men": 0, "men_called_male": 0}
        for label, r in zip(g["labels"], results, strict=True):
            if label == "unsure":
                row["unsure"] += 1
                continue
            row["labelled"] += 1
            row["agreed"] += r.gender == label
            row["men"] += label == "male"
            row["men_called_male"] += label == "male" and r.gender == "male"
        out["grids"][name] = row
        fam = out["families"].setdefault(family(g["model"]), dict.fromkeys(row, 0))
        for k, v in row.items():
            fam[k] += v
    for row in [*out["grids"].values(), *out["families"].values()]:
        row["agreement"] = round(row["agreed"] / row["labelled"], 4) if row["labelled"] else None
    return out


def utk_split(name: str) -> str:
    """"train" or "test" for a UTKFace file name: by the parity of its SHA-256's first byte, so it never moves.
    train.gender_head fits on "train"; `--split test` measures on the other half."""
    return "train" if hashlib.sha256(name.encode()).digest()[0] % 2 == 0 else "test"


def labels_from_name(name: str) -> tuple[int, str] | None:
    """(age, "male" | "female") from a UTKFace file name, or None when it does not follow the scheme."""
    parts = name.split("_")
    if len(parts) < 3 or not parts[0].isdigit() or parts[1] not in ("0", "1"):
        return None
    return int(parts[0]), "male" if parts[1] == "0" else "female"


def blurred(img, size: int, keep_small: bool = False):
    """`img` (PIL) down-scaled so its longer side is `size`, then back to its own size (bicubic), or kept at
    `size` with `keep_small` (as small as our generators' faces, so the gender head reads it)."""
    from PIL import Image

    if not size or max(img.size) <= size:
        return img
    k = size / max(img.size)
    small = img.resize((max(1, round(img.width * k)), max(1, round(img.height * k))), Image.Resampling.LANCZOS)
    return small if keep_small else small.resize(img.size, Image.Resampling.BICUBIC)


def summarise(rows: list[dict]) -> dict:
    """Figures of (age, gender, predicted age, P(male)) rows: found rows only."""
    import numpy as np

    def part(rs):
        if not rs:
            return {"n": 0}
        age = np.array([r["age"] for r in rs], float)
        pred = np.array([r["pred_age"] for r in rs], float)
        male = np.array([r["gender"] == "male" for r in rs])
        said_male = np.array([r["p_male"] > 0.5 for r in rs])
        return {
            "n": len(rs),
            "age_mae": round(float(np.abs(age - pred).mean()), 2),
            "gender_accuracy": round(float((male == said_male).mean()), 4),
            "men_called_male": round(float(said_male[male].mean()), 4) if male.any() else None,
            "women_called_male": round(float(said_male[~male].mean()), 4) if (~male).any() else None,
        }

    found = [r for r in rows if r["found"]]
    return {"photos": len(rows), "faces_found": len(found), "all": part(found),
            "adults": part([r for r in found if r["age"] >= 18])}


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="UTKFace-named photos (default %(default)s)")
    ap.add_argument("--limit", type=int, default=None, help="at most this many photos (sorted by name)")
    ap.add_argument("--sizes", nargs="+", default=["0", "64"],
                    help="0 = as it comes; S = blurred to S px and back; Spx = shrunk to S px and kept so")
    ap.add_argument("--record", action="store_true", help="write the figures to weights/labeller.json")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument("--split", choices=["all", "test"], default="all",
                    help="test: only the UTKFace half train.gender_head did not fit on")
    ap.add_argument("--grids", action="store_true", help="also measure on the by-eye labelled generated faces")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    ap.add_argument("--render-grids", action="store_true",
                    help="draw the by-eye labelled grids again from their generators and seeds, then stop")
    return ap


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if args.render_grids:
        for path in render_grids():
            print("wrote", path)
        return 0

    files = sorted(p for p in args.dir.glob("*.jpg") if labels_from_name(p.name)) if args.dir.is_dir() else []
    if not files:
        print(f"error: no UTKFace-named photos in {args.dir} (see ../shared/data/wild/README.md)", file=sys.stderr)
        return 2
    if args.split == "test":
        files = [f for f in files if utk_split(f.name) == "test"]
    files = files[: args.limit] if args.limit else files

    import numpy as np
    from PIL import Image
    from tqdm.auto import tqdm

    from core.data.attributes import predict_attributes

    figures = {}
    for name in args.sizes:
        keep_small = name.endswith("px")
        size = int(name.removesuffix("px"))
        rows = []
        for f in tqdm(files, desc=f"size {name}", unit="photo"):
            age, gender = labels_from_name(f.name)
            with Image.open(f) as img:
                im = blurred(img.convert("RGB"), size, keep_small)
            r = predict_attributes(np.asarray(im)[None])[0]
            rows.append({"age": age, "gender": gender, "found": r.found, "pred_age": r.age, "p_male": r.p_male})
        figures[name if size else "native"] = s = summarise(rows)
        for who in ("all", "adults"):
            p = s[who]
            if p["n"]:
                print(f"{name if size else 'as it comes':>11} {who:>6}: {p['n']} faces, age error {p['age_mae']:.1f} y, gender "
                      f"{p['gender_accuracy']:.1%}; men called male {p['men_called_male']:.1%}, women called male "
                      f"{p['women_called_male']:.1%}")
    half = ", the half train.gender_head did not fit on" if args.split == "test" else ""
    record = {"test_set": f"UTKFace ({len(files)} photos{half}, labels from the file names)", "by_size": figures}
    if args.grids:
        record["generated"] = grids = grid_agreement(predict_attributes)
        for fam, row in grids["families"].items():
            print(f"{fam}: by-eye labels agreed with on {row['agreed']} of {row['labelled']} faces "
                  f"({row['agreement']:.1%}; {row['unsure']} unsure left out); men called male "
                  f"{row['men_called_male']} of {row['men']}")
    if args.json:
        args.json.write_text(json.dumps(record, indent=2) + "\n")
    if args.record:
        from core.data.attributes import LABELLER_RECORD
        from core.io.store import write_json

        write_json(LABELLER_RECORD, record)
        print("recorded in", LABELLER_RECORD)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
