"""Evaluate the detectors on folders of real and of GAN-made images, as a user's photos would be seen.

    python -m train.evaluate --split val --record "validation mix"     # every source's validation crops
    python -m train.evaluate --real ../shared/data/wild/real/ffhq ../shared/data/wild/real/lfw \\
        --fake ../shared/data/wild/fake/sd21 --scores runs/scores.csv --gallery runs/mistakes.png
    python -m train.evaluate --split val --run runs/loo-stylegan2 --only stylegan2   # a run folder's detector
    python -m train.evaluate --split val --detectors cnn-densenet --json weights/comparison/cnn-densenet.json \
        --gallery runs/comparison/cnn-densenet-mistakes.png --threads 1      # one row of the comparison table
    python -m train.evaluate --split val --discriminator dcgan-64 --own-run runs/rerun/dcgan-64 \
        --json weights/comparison/D-dcgan-64.json --threads 1          # a GAN's own discriminator as the detector

Each folder is one source (named by the folder). `--split val` judges the cached validation crops of
every source in core.data.sources instead (make them with `python -m train.detector_data`). It prints the
pooled figures per detector, then a table per source: for each fake source its ROC AUC against all
the reals and the share caught (the verdict says GAN-made); for each real source the share wrongly
called GAN-made. `--scores FILE.csv` writes one row per judged image:
path,truth,source,<one column per detector>,ensemble[,real-only[,real-only (coder),real-only (features)],
verdict-score],verdict.

Folders are read recursively (JPEG, PNG, WebP, BMP, GIF; any size). Each image goes through the
app's own path: open (EXIF rotation, alpha, CMYK...), down-scale if huge, find faces with MTCNN,
crop. The most confident face of each image is judged; unreadable files and images without a face
are counted and skipped. Per detector (and the ensemble) it prints: count, accuracy at 0.5, ROC AUC,
average precision, equal error rate, expected calibration error, and AUC and accuracy after the
crops are re-encoded as JPEG at quality 75, and each detector's parameters and milliseconds per face
(its forward pass on one crop at a time, median, on this process's threads). The gallery shows the
most confident mistakes. With one detector (`--detectors NAME`) the "ensemble" is that detector
alone, so the verdicts per source are its own: how the CNN families (`cnn`, `cnn-densenet`,
`cnn-xception`) are compared, one command per family.
`--discriminator GAN` judges with that GAN's own final discriminator instead (core.models.discriminators),
on the same sources, each face framed as its generator's training photos were (so its crops are cut anew,
and cached apart); `--own-run RUN` adds the samples of the generator that trained beside it (the run the
discriminator came from) as one more fake source, reported on its own and left out of the pooled figures.
A JPEG saved below quality 85 (CelebA's photos are 75) is judged as the app judges such an upload, with
the ensemble's weights for compressed photos (core.detection.judge.COMPRESSED_BELOW); so are the crops
re-encoded at JPEG 75 for the robustness figures.
`--record LABEL` stores the figures in each detector's training.json under evaluation[LABEL]
(the model cards and the Training History page read them from there).

Evaluation reads, fitting writes: nothing is written under weights/ unless --record (or a --json, --scores
or --gallery path points there). The ensemble's weights and guards and the familiarity check are fitted by
`python -m train.fit_ensemble`, the real-only gate by `python -m train.fit_gate`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def read_folder(folder: Path, judge, limit: int | None, desc: str, paths_out: list | None = None,
                crop_size: int | None = None, framing=None):
    """The best face of each image under `folder` (core.data.sources.SourceCrops: crops, files, JPEG
    qualities); counts of unreadable and face-less files.

    `paths_out`, when given, receives the path of each judged crop, in order. The same reading and
    cropping as the training caches (core.data.sources.crops_from_files); `crop_size` and `framing`
    default to the app's.
    """
    from tqdm.auto import tqdm

    from core.data.sources import crops_from_files
    from core.io.images import list_images
    from core.models.detectors import CROP_SIZE

    paths = list_images(folder)[:limit]
    c = crops_from_files(paths, judge.face_detector, crop_size or CROP_SIZE,
                         progress=lambda it, total: tqdm(it, total=total, desc=desc, leave=False), framing=framing)
    if paths_out is not None:
        paths_out += c.files
    return c, {"files": len(paths), "unreadable": c.unreadable, "no_face": c.no_face, "judged": len(c.crops)}


def gallery(crops, labels, probs, out: Path, k: int = 8) -> int:
    """The `k` most confident mistakes of each kind in one PNG: real called GAN, GAN called real."""
    import numpy as np
    from PIL import Image, ImageDraw

    from core.gan.sampling import encode_image

    rows = []
    for truth in (0, 1):
        wrong = [i for i in range(len(labels)) if labels[i] == truth and (probs[i] >= 0.5) != bool(truth)]
        wrong.sort(key=lambda i: -abs(probs[i] - 0.5))
        rows.append(wrong[:k])
    scale, pad, head = 2, 4, 18
    cell = crops.shape[1] * scale if len(crops) else 96
    canvas = Image.new("RGB", (k * (cell + pad) + pad + 150, 2 * (cell + head + pad) + pad), "white")
    draw = ImageDraw.Draw(canvas)
    titles = ["real, called GAN", "GAN, called real"]
    for r, idx in enumerate(rows):
        y = pad + r * (cell + head + pad)
        draw.text((pad, y + cell // 2), titles[r] + ("" if idx else ": none"), fill="black")
        for j, i in enumerate(idx):
            x = 150 + pad + j * (cell + pad)
            canvas.paste(Image.fromarray(crops[i]).resize((cell, cell), Image.NEAREST), (x, y))
            draw.text((x, y + cell + 2), f"p={probs[i]:.2f}", fill="black")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(encode_image(np.asarray(canvas)))
    return sum(len(r) for r in rows)


def judged(judge, crops, compressed=None) -> dict:
    """Each detector's probabilities for `crops` and the ensemble's; `compressed` (one bool per crop, or one
    for all) says which crops came from a compressed JPEG and get the compressed weights, as in the app.
    Where the judge has the real-only detector, its score ("real-only") and the verdict's score ("verdict-score",
    the ensemble lifted by the real-only gate and the familiarity check) come too."""
    import numpy as np

    from core.detection.judge import monochrome

    out = {k: [] for k in judge.detectors}
    parts = ("real-only", "real-only (coder)", "real-only (features)")  # the gate's score, and its two models
    extra = {**{k: [] for k in parts}, "lifted": []}
    for s in range(0, len(crops), 256):
        chunk = crops[s : s + 256]
        feats = {}
        p, dist = (judge.probabilities_and_distances(chunk, feats) if len(chunk)
                   else ({k: np.zeros(0) for k in out}, None))
        for k in out:
            out[k].append(p[k])
        q = judge.real_only_parts(chunk, feats) or {}
        for k in parts:
            extra[k].append(q[k] if k in q else np.full(len(chunk), np.nan))
        unfamiliar = (np.zeros(len(chunk), bool) if dist is None
                      else np.asarray(dist) > judge.familiarity.threshold)
        extra["lifted"].append(unfamiliar | monochrome(chunk))
    probs = {k: np.concatenate(v) if v else np.zeros(0) for k, v in out.items()}
    if judge.realonly is not None and extra["real-only"]:
        probs["real-only"] = np.concatenate(extra["real-only"])
        if judge.realonly_features is not None:  # the gate's score combines two models: each alone too
            probs.update({k: np.concatenate(extra[k]) for k in parts[1:]})
    if extra["lifted"]:
        probs["lifted"] = np.concatenate(extra["lifted"])
    return with_ensemble(judge, probs, compressed)


# keys of a probabilities dict that no detector made ("lifted": unfamiliar or one-tone faces, as Judge.gated)
NOT_DETECTORS = ("ensemble", "verdict-score", "lifted")


def with_ensemble(judge, probs: dict, compressed=None) -> dict:
    """`probs` (detector -> probabilities) with the ensemble's added, compressed crops weighted as such, and the
    verdict's score where the gate, the familiarity check or the one-tone rule can lift it (`Judge.gated`)."""
    import numpy as np

    lifted = probs.get("lifted")
    probs = {k: v for k, v in probs.items() if k not in NOT_DETECTORS}
    n = len(next(iter(probs.values())))
    if not n:
        return {**probs, "ensemble": np.zeros(0)}
    mask = np.broadcast_to(np.asarray(False if compressed is None else compressed, bool), n)
    ens = np.where(mask, judge.ensemble(probs, True), judge.ensemble(probs))
    out = {**probs, "ensemble": ens}
    if "real-only" in probs or lifted is not None:
        out["verdict-score"] = judge.gated(ens, probs.get("real-only"), lifted)[2]
    if lifted is not None:
        out["lifted"] = lifted
    return out


def compressed_of(qualities):
    """Per crop: whether its file was a JPEG saved below COMPRESSED_BELOW (None: not a JPEG, or no file),
    which the app judges with the compressed weights."""
    import numpy as np

    from core.detection.judge import COMPRESSED_BELOW

    return np.array([q is not None and q < COMPRESSED_BELOW for q in qualities], bool)


def file_compressed(paths):
    """`compressed_of` for files read again (cached crops keep no quality; None: a generated sample)."""
    from core.io.images import jpeg_quality

    def quality(p):
        if p is None:  # a generated sample: no file
            return None
        try:
            return jpeg_quality(Path(p).read_bytes())
        except OSError:
            return None

    return compressed_of([quality(p) for p in paths])


def speed(judge, crops, n: int = 40) -> dict[str, float]:
    """Each detector's median milliseconds per face: its forward pass (input included) on one crop at a
    time, as for a photo with one face, after two warm-up passes; on this process's torch threads."""
    import time

    import numpy as np
    import torch

    from core.models.detectors import to_input

    if not len(crops):
        return {}
    picks = np.random.default_rng(0).permutation(len(crops))[:n]
    xs = [to_input(crops[i : i + 1], judge.device) for i in picks]
    out = {}
    with torch.inference_mode():
        for name, (model, _) in judge.detectors.items():
            for x in xs[:2]:
                model(x)
            times = []
            for x in xs:
                started = time.perf_counter()
                model(x)
                times.append(time.perf_counter() - started)
            out[name] = round(float(np.median(times)) * 1000, 3)
    return out


def evaluate(judge, real_crops, fake_crops, compressed=None) -> dict:
    """Scores per detector and for the ensemble, clean, after JPEG 75 and after a half-scale; per
    detector also its parameters and milliseconds per face (`speed`). `compressed`: per crop, whether it
    came from a compressed JPEG (`judged`)."""
    import numpy as np

    from core.detection.augment import distorted_crops
    from core.detection.metrics import confusion, detector_scores, roc_points

    crops = np.concatenate([real_crops, fake_crops])
    labels = np.r_[np.zeros(len(real_crops), int), np.ones(len(fake_crops), int)]
    probs = {v: judged(judge, distorted_crops(crops, v)) for v in ("clean", "jpeg75", "half")}
    clean = with_ensemble(judge, probs["clean"], compressed)
    jpeg = with_ensemble(judge, probs["jpeg75"], True)  # a JPEG 75 upload gets the compressed weights
    half = with_ensemble(judge, probs["half"], compressed)
    ms = speed(judge, crops)
    results = {}
    for name in [k for k in clean if k != "lifted"]:
        r = detector_scores(labels, clean[name])
        j = detector_scores(labels, jpeg[name])
        h = detector_scores(labels, half[name])
        r.update(jpeg75_auc=j["auc"], jpeg75_accuracy=j["accuracy"], half_scale_auc=h["auc"],
                 real=int(len(real_crops)), fake=int(len(fake_crops)), confusion=confusion(labels, clean[name]))
        if r["auc"] is not None:
            r["roc"] = roc_points(labels, clean[name])
        if name in judge.detectors:
            r["parameters"] = sum(p.numel() for p in judge.detectors[name][0].parameters())
            r["ms_per_face"] = ms.get(name)
            r["threads"] = torch_threads()
        results[name] = r
    return {"results": results, "labels": labels, "probs": clean, "crops": crops}


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def fmt(v) -> str:
    return "-" if v is None else f"{v:.4f}"


def per_source(sources_: list[dict], probs: dict, band) -> dict[str, dict]:
    """Per source: for a fake one its AUC against all the reals and the share caught (verdict GAN-made);
    for a real one the share wrongly called GAN-made. Each detector's AUC too; verdicts are the ensemble's."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from core.detection.judge import label_for

    spans, at = {}, 0
    for src in sources_:
        spans[src["name"]] = (src, slice(at, at + src["n"]))
        at += src["n"]
    real = [sl for src, sl in spans.values() if src["truth"] == "real"]
    out = {}
    for name, (src, sl) in spans.items():
        verdicts = [label_for(float(p), band) for p in probs.get("verdict-score", probs["ensemble"])[sl]]
        n = len(verdicts)
        row = {"truth": src["truth"], "count": n, "called_gan": verdicts.count("GAN-made") / n if n else None,
               "uncertain": verdicts.count("uncertain") / n if n else None,
               "called_real": verdicts.count("real") / n if n else None}
        if src.get("title"):
            row["title"] = src["title"]
        if src["truth"] == "fake" and real and n:
            for det, p in probs.items():
                if det == "lifted":
                    continue
                r = np.concatenate([p[s] for s in real])
                y = np.r_[np.zeros(len(r)), np.ones(n)]
                row[f"auc_{det}"] = float(roc_auc_score(y, np.r_[r, p[sl]])) if len(r) else None
            row["auc"] = row["auc_ensemble"]
        out[name] = row
    return out


def print_sources(table: dict) -> None:
    print(f"\n{'source':<18}{'truth':<6}{'count':>6}{'AUC vs reals':>14}{'caught':>8}{'called GAN':>12}{'uncertain':>11}")
    for name, r in table.items():
        fake = r["truth"] == "fake"
        print(f"{name:<18}{r['truth']:<6}{r['count']:>6}{fmt(r.get('auc')) if fake else '':>14}"
              f"{fmt(r['called_gan']) if fake else '':>8}{'' if fake else fmt(r['called_gan']):>12}{fmt(r['uncertain']):>11}")


def write_scores(path: Path, rows: list[tuple[str, str, str]], probs: dict, band) -> None:
    """One CSV row per judged image: path,truth,source,<detectors>,ensemble,verdict (the app's words)."""
    import csv
    import io

    from core.detection.judge import label_for
    from core.io.store import atomic_write_bytes

    buf = io.StringIO()
    w = csv.writer(buf)
    dets = [d for d in probs if d != "lifted"]
    w.writerow(["path", "truth", "source", *dets, "verdict"])
    for i, (p, truth, source) in enumerate(rows):
        w.writerow([p, truth, source, *(f"{float(probs[d][i]):.6f}" for d in dets),
                    label_for(float(probs.get("verdict-score", probs["ensemble"])[i]), band)])
    atomic_write_bytes(path, buf.getvalue().encode())


def folder_sources(args, judge) -> tuple[list[dict], list, dict]:
    """Each --real / --fake folder as one source: its crops, judged paths and file counts."""
    names, sources_, paths, counts = set(), [], [], {}
    for truth, folders in (("real", args.real or []), ("fake", args.fake or [])):
        for folder in folders:
            name = folder.name or str(folder)
            while name in names:
                name = f"{folder.parent.name}/{name}"
            names.add(name)
            judged_paths: list[str] = []
            got, c = read_folder(folder, judge, args.limit, name, judged_paths, args.crop_size, args.framing)
            counts[name] = c
            sources_.append({"name": name, "truth": truth, "crops": got.crops, "n": len(got.crops),
                             "folder": str(folder), "compressed": compressed_of(got.qualities)})
            paths += [(p, truth, name) for p in judged_paths]
            print(f"{name} ({truth}): {c['files']} files, {c['unreadable']} unreadable (skipped), "
                  f"{c['no_face']} without a face (skipped), {c['judged']} judged")
    return sources_, paths, counts


def split_sources(args) -> tuple[list[dict], list, dict]:
    """Every core.data.sources source's cached crops of `args.split` (or --only)."""
    from tqdm.auto import tqdm

    from core.data import sources
    from core.models.detectors import CROP_SIZE

    names = args.only or sources.available(sources.names(), args.data)
    out, paths, counts = [], [], {}
    for name in names:
        src = sources.get(name)
        c = sources.load_source(name, args.split, args.crop_size or CROP_SIZE, None, args.cache_dir, args.data,
                                limit=args.limit, progress=tqdm, framing=args.framing)
        root = src.root(args.data)
        out.append({"name": name, "truth": src.truth, "crops": c.crops, "n": len(c.crops), "title": src.title,
                    "compressed": file_compressed([root / f for f in c.files] if root else [None] * len(c.files))})
        paths += [(f, src.truth, name) for f in c.files]
        counts[name] = {"judged": len(c.crops), "no_face": c.no_face, "unreadable": c.unreadable}
    return out, paths, counts


def load_judge(args):
    """The judge of the bundled detectors, of one run folder's detector (--run), or of a GAN's discriminator
    (--discriminator: also sets args.crop_size and args.framing, how its faces are cut)."""
    from core.detection.judge import Judge
    from core.models import registry

    if args.discriminator:
        from core.data.sources import app_framing
        from core.models import discriminators
        from core.models.detectors import CROP_SIZE

        model, config, _ = discriminators.load(args.discriminator)
        args.framing = discriminators.framing_of(config)
        # the app's framing: its cached 128 px crops, resized by the discriminator; any other: cut at its size
        args.crop_size = CROP_SIZE if args.framing == app_framing() else int(config["image_size"])
        return Judge({discriminators.detector_name(args.discriminator): (model, 1.0)})
    if args.run is None:
        return Judge.from_registry(args.detectors, use_hub=False)
    from core.io.store import read_json

    arch = (read_json(args.run / "config.json", {}) or {}).get("arch")
    try:
        spec = registry.spec_for_arch(arch)
    except registry.UnknownModelError:
        raise registry.WeightsError(f"{args.run} holds no detector run (config.json's arch is {arch!r})") from None
    model, config, _ = registry.load_folder(spec, args.run)
    return Judge({spec.name: (model, config.get("temperature", 1.0))})


def parser() -> argparse.ArgumentParser:
    from core.models import registry

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", type=Path, nargs="+", default=None, help="folders of real photos (recursive)")
    ap.add_argument("--fake", type=Path, nargs="+", default=None, help="folders of GAN-made images (recursive)")
    ap.add_argument("--split", choices=["train", "val"], default=None,
                    help="judge every source's cached crops of this split instead of folders")
    ap.add_argument("--only", nargs="+", default=None, help="with --split: just these sources (and the reals)")
    ap.add_argument("--detectors", nargs="+", default=registry.names("detector"),
                    help=f"default: the app's ({', '.join(registry.names('detector'))}); also the CNN families "
                         f"({', '.join(registry.names('detector', comparison=True))}), best one at a time")
    ap.add_argument("--run", type=Path, default=None, help="judge with the detector in this run folder instead")
    ap.add_argument("--discriminator", metavar="GAN", default=None,
                    help="judge with this GAN's own discriminator instead (weights/GAN/discriminator/)")
    ap.add_argument("--own-run", type=Path, default=None,
                    help="with --discriminator: the run it came from; its generator's samples are one more source")
    ap.add_argument("--limit", type=int, default=None, help="at most N images per folder or source")
    ap.add_argument("--json", type=Path, default=None, help="write all figures here")
    ap.add_argument("--scores", type=Path, default=None, help="CSV: one row per judged image")
    ap.add_argument("--gallery", type=Path, default=None, help="PNG of the most confident mistakes")
    ap.add_argument("--record", metavar="LABEL", default=None,
                    help="store the figures in weights/<detector>/training.json under this label")
    ap.add_argument("--data", type=Path, default=None, help="with --split: shared data folder")
    ap.add_argument("--cache-dir", type=Path, default=None, help="with --split: the crop caches")
    ap.add_argument("--fit-ensemble", action="store_true", help=argparse.SUPPRESS)  # moved: FIT_MOVED says where
    ap.add_argument("--threads", type=int, default=None)
    return ap


FIT_MOVED = ("--fit-ensemble has moved: train.evaluate only measures. Fit the ensemble's weights, guards and "
             "familiarity check with python -m train.fit_ensemble, then the real-only gate with python -m "
             "train.fit_gate, then measure with python -m train.evaluate --split val --record \"validation mix\"")


def check_args(args) -> str | None:
    """What is wrong with this combination of flags, in words; None when it can run."""
    if args.fit_ensemble:
        return FIT_MOVED
    if args.split is None and not (args.real and args.fake):
        return "give --real and --fake folders, or --split val"
    for folder in (args.real or []) + (args.fake or []):
        if not folder.is_dir():
            return f"{folder} is not a folder"
    if args.record and args.run:
        return "--record stores figures with the bundled detectors; drop --run"
    if args.discriminator and (args.run or args.record):
        return "--discriminator judges with a GAN's discriminator alone: drop --run and --record"
    if args.own_run and not args.discriminator:
        return "--own-run goes with --discriminator"
    if args.own_run and not (args.own_run / "model.safetensors").is_file():
        return f"{args.own_run} holds no generator (model.safetensors)"
    return None


def print_results(results: dict) -> None:
    print(f"\n{'detector':<14}{'count':>7}{'accuracy':>10}{'ROC AUC':>9}{'AP':>8}{'EER':>8}{'ECE':>8}"
          f"{'AUC jpeg75':>12}{'AUC half':>10}")
    for name, r in results.items():
        print(f"{name:<14}{r['count']:>7}{fmt(r['accuracy']):>10}{fmt(r['auc']):>9}{fmt(r['average_precision']):>8}"
              f"{fmt(r['eer']):>8}{fmt(r['ece']):>8}{fmt(r['jpeg75_auc']):>12}{fmt(r['half_scale_auc']):>10}")
    print("  ".join(f"{n}: {r['parameters']:,} parameters, {r['ms_per_face']:.1f} ms per face ({r['threads']} thread{'' if r['threads'] == 1 else 's'})"
                    for n, r in results.items() if r.get("ms_per_face") is not None))


def main(argv=None) -> int:
    import numpy as np

    from core.models import registry

    args = parser().parse_args(argv)
    args.crop_size, args.framing = None, None  # the app's crops unless load_judge says otherwise
    problem = check_args(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if args.only and args.split:
        from core.data import sources

        args.only = list(dict.fromkeys([*sources.names("real"), *args.only]))
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    try:
        judge = load_judge(args)
    except (registry.WeightsError, registry.UnknownModelError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    srcs, paths, counts = split_sources(args) if args.split else folder_sources(args, judge)
    ordered = [s for s in srcs if s["truth"] == "real"] + [s for s in srcs if s["truth"] == "fake"]
    real, fake = ([s["crops"] for s in ordered if s["truth"] == t] for t in ("real", "fake"))
    real = np.concatenate(real) if real else np.zeros((0, 1, 1, 3), np.uint8)
    fake = np.concatenate(fake) if fake else np.zeros((0, 1, 1, 3), np.uint8)
    if not len(real) and not len(fake):
        print("error: no faces to judge", file=sys.stderr)
        return 2
    compressed = np.concatenate([s["compressed"] for s in ordered]) if ordered else np.zeros(0, bool)
    ev = evaluate(judge, real, fake, compressed)
    print_results(ev["results"])
    table = per_source(ordered, ev["probs"], judge.band)
    if args.own_run:
        from core.detection.families import OWN_RUN

        table[OWN_RUN] = own_run_row(args, judge, ordered, ev["probs"], counts)
    print_sources(table)
    if args.scores:
        by_source = {}
        for p in paths:
            by_source.setdefault(p[2], []).append(p)
        rows = [r for s in ordered for r in by_source.get(s["name"], [])]
        write_scores(args.scores, rows, ev["probs"], judge.band)
        print(f"scores of {len(rows)} images -> {args.scores}")
    if args.gallery:
        n = gallery(ev["crops"], ev["labels"], ev["probs"]["ensemble"], args.gallery)
        print(f"gallery of {n} mistakes -> {args.gallery}")
    summary = summary_of(args, ordered, counts, ev["results"], table, judge.band)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    if args.record:
        record(args.record, summary, list(judge.detectors))
    return 0


def summary_of(args, ordered: list[dict], counts: dict, results: dict, table: dict, band) -> dict:
    """Everything --json writes (and --record keeps): sources, counts, figures; a discriminator's framing."""
    summary = {"real": [s.get("folder", s["name"]) for s in ordered if s["truth"] == "real"],
               "fake": [s.get("folder", s["name"]) for s in ordered if s["truth"] == "fake"],
               "split": args.split, "counts": counts, "results": results, "per_source": table, "band": list(band)}
    if args.discriminator:
        summary.update(discriminator=args.discriminator, own_run=str(args.own_run) if args.own_run else None,
                       framing={"margin": args.framing.margin, "shift": list(args.framing.shift),
                                "crop_size": args.crop_size})
    return summary


def own_run_row(args, judge, ordered: list[dict], probs: dict, counts: dict) -> dict:
    """The discriminator on the samples of the generator it trained beside (--own-run), against all the
    reals: one per-source row, kept out of the pooled figures (the other rows have no such source)."""
    import numpy as np
    from tqdm.auto import tqdm

    from core.data.sources import GENERATED_COUNTS, generated_crops
    from core.detection.families import OWN_RUN

    n = args.limit or GENERATED_COUNTS["val"]
    c = generated_crops(args.discriminator, "val", n, judge.face_detector, args.crop_size, framing=args.framing,
                        run=args.own_run, progress=lambda it, total: tqdm(it, total=total, desc="own run", leave=False))
    counts[OWN_RUN] = {"judged": len(c.crops), "no_face": c.no_face, "unreadable": 0}
    reals = [s for s in ordered if s["truth"] == "real"]
    n_real = sum(s["n"] for s in reals)
    own = judged(judge, c.crops)
    both = {k: np.concatenate([probs[k][:n_real], own[k]]) for k in probs}
    src = {"name": OWN_RUN, "truth": "fake", "n": len(c.crops), "crops": c.crops,
           "title": f"samples of the generator that trained beside it ({args.own_run})"}
    row = per_source([*reals, src], both, judge.band)[OWN_RUN]
    row["pooled"] = False
    return row


def record(label: str, summary: dict, detectors: list[str]) -> None:
    """Keep the figures with each bundled detector (training.json) and refresh its model card."""
    from core.models import registry
    from core.models.folder import update_record

    ensemble = {k: summary["results"]["ensemble"][k]
                for k in ("accuracy", "auc", "jpeg75_accuracy", "jpeg75_auc", "half_scale_auc", "ece")}
    for name in detectors:
        r = {**summary["results"][name], "ensemble": ensemble, "sources": {"real": summary["real"], "fake": summary["fake"]},
             "per_source": summary["per_source"], "band": summary["band"]}
        update_record(registry.get_spec(name).bundled_dir, lambda t, r=r: t.setdefault("evaluation", {}).update({label: r}),
                      spec=registry.get_spec(name))
    print(f"recorded as {label!r} in {', '.join(f'weights/{d}/training.json' for d in detectors)}")


if __name__ == "__main__":
    sys.exit(main())
