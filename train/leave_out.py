"""Leave one family out: refit the verdict's recipe without it, then judge its faces with that verdict.

    python -m train.leave_out --threads 2                                # every family
    python -m train.leave_out --cnn-runs runs/loo-cnn-{family} --json runs/leave-out.json
    python -m train.leave_out --families sd21 --limit 50                 # a quick look

Families (`FAMILIES`): stylegan2, sd21, our DCGANs (dcgan-64, dcgan-64-z60), our LSGANs (lsgan-80,
-female, -male). For each one, everything the verdict is fitted on is fitted again without it:
- `probe-texture`'s and `probe`'s heads, in closed form on the frozen backbone's cached features of the
  training crops (`core.detection.probe_fit`): texture taps 5, C 10, clean views (as bundled); probe all
  eight groups, C 1, on the clean crops by default: the bundled probe's head was trained by SGD on augmented
  crops, which takes ~15 min a family; its closed-form stand-in can read augmented views too
  (`--probe-views clean,aug0,aug1`, ~20 min more of features on 2 threads the first time);
- the CNN: from `--cnn-runs` (a folder pattern with {family}: `train.detector --arch cnn --exclude ...`),
  else the bundled CNN, which did see the family (the table then says so);
- each detector's temperature, the ensemble's weights and false-alarm guard, the familiarity check
  and the real-only gate, on the validation crops of every other source.
The real-only score (`core.detection.realonly`: the pixel coder, combined with the texture-feature model
where `train.realonly_features --record` bundled one) never saw a generated face: the same for every family. Then the family's validation faces and every real source's are judged as the app would: AUC of
the verdict's score (`core.detection.judge.verdict_scores`) against all validation reals, and the
shares called real, uncertain and GAN-made; for the real sources the shares called GAN-made and
uncertain. The LSTM and SupCon carry no weight in the verdict and are left out of the refit.

Where the CNN was refitted without the family (`--cnn-runs`), its *training* crops are judged too: no part of
the refitted recipe saw them, and they are four to five times as many as its validation crops (StyleGAN2: 41
validation faces alone, a share called real known to +-7 points; 200 with its training crops). `--val-only`
judges the validation crops alone, as before.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

FAMILIES = {"stylegan2": ["stylegan2"], "sd21": ["sd21"], "dcgans": ["dcgan-64", "dcgan-64-z60"],
            "lsgans": ["lsgan-80", "lsgan-80-female", "lsgan-80-male"]}
HEADS = {"probe-texture": (5, 10.0), "probe": (8, 1.0)}  # (taps, C) of each closed-form head


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    ap.add_argument("--cnn-runs", default=None, help="run folder pattern with {family}, e.g. runs/loo-cnn-{family}")
    ap.add_argument("--probe-views", default="clean",
                    help="training views of the probe's head, comma-joined (clean, aug0, aug1, ...)")
    ap.add_argument("--realonly", type=Path, default=None, help="a real-only run folder instead of the bundled one")
    ap.add_argument("--limit", type=int, default=None, help="at most N validation crops per source (quick looks)")
    ap.add_argument("--val-only", action="store_true",
                    help="judge the left-out family's validation crops alone (default: its training crops too, "
                         "where the CNN was refitted without it)")
    ap.add_argument("--json", type=Path, default=None, help="write every figure here")
    ap.add_argument("--dump", type=Path, default=None, help="a folder for each family's per-crop scores (npz)")
    ap.add_argument("--record", action="store_true",
                    help="keep the table in weights/leave-out.json (read by the Detect page under a real verdict) "
                         "and the real-only detector's figures alone in its record and card")
    ap.add_argument("--threads", type=int, default=None)
    return ap


def fitted_probability(logits: dict[str, np.ndarray], labels: dict[str, int], kept: list[str]) -> dict[str, np.ndarray]:
    """Calibrated probabilities of every source's logits, the temperature fitted on the `kept` sources'
    validation logits, sources alike within each class (as the detectors' own temperatures are)."""
    import torch

    from core.detection.calibration import fit_temperature

    z = np.concatenate([logits[n] for n in kept])
    y = np.concatenate([np.full(len(logits[n]), labels[n]) for n in kept])
    per_class = {k: sum(1 for n in kept if labels[n] == k) for k in (0, 1)}
    w = np.concatenate([np.full(len(logits[n]), 1.0 / len(logits[n]) / per_class[labels[n]]) for n in kept])
    t = fit_temperature(torch.from_numpy(z).float(), torch.from_numpy(y).float(), weights=torch.from_numpy(w).float())
    return {n: 1 / (1 + np.exp(-v / t)) for n, v in logits.items()}


def probe_logits(feats, names: list[str], labels: dict, families: dict, left_out: list[str], taps: int, c: float,
                 views: list[str], limit: int | None, judge_train: bool = False) -> dict[str, np.ndarray]:
    """A closed-form probe head fitted without `left_out`; its validation logits for every source, and with
    `judge_train` each left-out source's training-crop logits after its validation ones."""
    from core.detection.probe_fit import head_logits
    from train.probe_fit import fit_without

    head = fit_without(feats, names, labels, families, taps, c, views, left_out)
    out = {n: head_logits(head, feats.get(n, "val", "clean", taps)[:limit]) for n in names}
    for n in left_out if judge_train else []:
        out[n] = np.r_[out[n], head_logits(head, feats.get(n, "train", "clean", taps))]
    return out


def load_cnn(folder: Path | None):
    """The CNN (bundled, or a run folder's) and the sources its training held out."""
    from core.models import registry

    spec = registry.get_spec("cnn")
    model, _, training = registry.load_folder(spec, folder or spec.bundled_dir, "cpu")
    return model, training.get("held_out") or []


def cnn_outputs(model, crops: dict[str, np.ndarray]) -> tuple[dict, dict]:
    """The CNN's logits and pooled features of every source's crops."""
    import torch

    from core.detection.judge import pooled_features
    from core.models.detectors import to_input

    logits, feats = {}, {}
    with torch.inference_mode():
        for n, c in crops.items():
            outs = [pooled_features(model, to_input(c[i:i + 128])) for i in range(0, len(c), 128)]
            logits[n] = np.concatenate([o[0].float().numpy() for o in outs]) if outs else np.zeros(0)
            feats[n] = np.concatenate([o[1].float().numpy() for o in outs]) if outs else np.zeros((0, 1))
    return logits, feats


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from core.data import sources
    from core.detection import realonly
    from core.models.detectors import CROP_SIZE
    from train.probe_fit import Features

    names = sources.available(sources.names(), None)
    labels = {n: int(sources.get(n).truth == "fake") for n in names}
    families = {n: sources.get(n).family for n in names}
    crops = {n: sources.load_source(n, "val", CROP_SIZE).crops[:args.limit] for n in names}
    got = realonly.load(args.realonly)
    if got is None:
        sys.exit("error: no real-only detector (python -m train.realonly, then train.bundle --name realonly)")
    ro = got[0]
    q = realonly_scores(ro, got[1], crops, args.limit)
    feats = Features()
    feature_model = realonly.load_features(got[1])
    q = with_feature_model(q, feature_model, feats, crops)
    alone = realonly_alone(names, labels, q)
    for n, r in alone.items():
        print(f"real-only alone: {n:<16}" + (f"AUC {r['auc']:.3f}, " if "auc" in r else "")
              + f"more unusual than 90% of real faces {r['above_q90']:.1%}")
    results = {}
    for fam in args.families:
        out = FAMILIES[fam]
        results[fam] = one_family(fam, out, names, labels, families, crops, q, feats, args, (ro, feature_model))
        print_family(fam, results[fam])
    if args.json:
        from core.io.store import write_json

        write_json(args.json, {"families": results, "realonly_alone": alone})
    print_table(results)
    if args.record and not args.limit:
        record(results, alone, args)
    return 0


def realonly_alone(names, labels, q) -> dict:
    """The real-only detector by itself: each generator's AUC against all validation reals, and each source's
    share more unusual than 90% of real faces (the same for every family: it never saw a fake)."""
    from sklearn.metrics import roc_auc_score

    reals = np.concatenate([q[n] for n in names if labels[n] == 0])
    out = {}
    for n in names:
        row = {"above_q90": float((q[n] >= 0.9).mean()) if len(q[n]) else 0.0}
        if labels[n] and len(q[n]):
            row["auc"] = float(roc_auc_score(np.r_[np.zeros(len(reals)), np.ones(len(q[n]))], np.r_[reals, q[n]]))
        out[n] = row
    return out


def record(results: dict, alone: dict, args) -> None:
    """weights/leave-out.json, and the real-only figures in weights/realonly/ (record and card)."""
    from core.detection import realonly
    from core.detection.judge import read_real_gate
    from core.detection.meaning import leave_out_path
    from core.io.cards import realonly_card
    from core.io.store import atomic_write_bytes, read_json, write_json
    from core.models.folder import read_record, update_record
    from core.models.registry import WEIGHTS_DIR

    write_json(leave_out_path(), {
        "families": results, "realonly_alone": alone, "command": "python -m train.leave_out " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in (("cnn_runs", args.cnn_runs), ("probe_views", args.probe_views))
            if v) + " --record",
        "method": "per family: probe heads refitted in closed form without it, the CNN retrained without it where "
                  "cnn_refitted, temperatures, ensemble weights, false-alarm guard, familiarity check and real-only "
                  "gate refitted on the other sources' validation crops; then its faces judged (validation and, where "
                  "the CNN was refitted without it, training crops: see each family's 'judged')"})
    folder = WEIGHTS_DIR / realonly.FOLDER
    if args.realonly is None and (folder / "model.safetensors").exists():
        training = update_record(folder, lambda t: t.update(leave_out_alone=alone, gate=read_real_gate()))
        atomic_write_bytes(folder / "README.md", realonly_card(training, read_json(folder / "config.json", {}),
                                                              read_record(folder / "features") or None).encode())
    print(f"recorded -> {leave_out_path()}")


def with_feature_model(q: dict, feature_model, feats, crops: dict, split: str = "val") -> dict[str, np.ndarray]:
    """The real-only score as the app reads it: the coder's ranks `q` combined with the texture-feature model's
    (`core.detection.realonly.FeatureOneClass`, weights/realonly/features/, as `realonly.load_features` gives it for
    this coder) where it is bundled; `q` as it is otherwise. Like the coder, that model never saw a generated face:
    the same for every family."""
    if feature_model is None:
        if split == "val":
            print("real-only: the pixel coder alone (no feature model fitted for it: python -m train.realonly_features)")
        return q
    fo = feature_model[0]
    if split == "val":
        print("real-only: the pixel coder and the texture-feature model, combined", flush=True)
    return {n: fo.combine(q[n], fo.atypicality(feats.get(n, split, "clean", fo.taps)[:len(c)])) for n, c in crops.items()}


def realonly_scores(ro, record: dict, crops: dict, limit: int | None) -> dict[str, np.ndarray]:
    """The real-only detector's score of every validation crop, cached per detector (its weights' hash)."""
    from core.data.sources import CACHE_DIR

    path = CACHE_DIR / f"realonly-{str(record.get('weights_sha256', 'none'))[:16]}-val.npz"
    if limit is None and path.exists():
        cached = dict(np.load(path))
        if all(n in cached and len(cached[n]) == len(c) for n, c in crops.items()):
            return {n: cached[n] for n in crops}
    print("real-only scores of every validation crop ...", flush=True)
    q = {n: ro(c) for n, c in crops.items()}
    if limit is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **q)
    return q


def one_family(fam: str, out: list[str], names, labels, families, crops, q, feats, args, realonly_pair) -> dict:
    """Refit without the family's sources `out`, then judge them and every real source. `realonly_pair`: the
    pixel coder and the texture-feature model (or None), for the left-out sources' training crops."""
    from core.data import sources
    from core.detection.judge import UNCERTAIN_BAND
    from core.models.detectors import CROP_SIZE

    kept = [n for n in names if n not in out]
    folder = Path(args.cnn_runs.format(family=fam)) if args.cnn_runs else None
    cnn, held_out = load_cnn(folder)
    cnn_refit = folder is not None and set(out) <= set(held_out)
    judge_train = cnn_refit and not args.val_only and not args.limit  # nothing refitted saw its training crops
    if judge_train:  # they follow its validation crops in every array; nothing below fits on a left-out source
        crops, q = dict(crops), dict(q)  # this family's own: the next family gets validation crops again
        train = {n: sources.load_source(n, "train", CROP_SIZE).crops for n in out}
        q_train = with_feature_model({n: realonly_pair[0](c) for n, c in train.items()}, realonly_pair[1], feats, train,
                                     "train")
        for n in out:
            crops[n], q[n] = np.concatenate([crops[n], train[n]]), np.r_[q[n], q_train[n]]
    cnn_logits, cnn_feats = cnn_outputs(cnn, crops)
    logits = {}
    for det, (taps, c) in HEADS.items():
        views = ["clean"] if det == "probe-texture" else args.probe_views.split(",")
        logits[det] = probe_logits(feats, names, labels, families, out, taps, c, views, args.limit, judge_train)
    logits["cnn"] = cnn_logits
    r = refit_and_judge(logits, cnn_feats, q, labels, names, kept)
    ens, unfamiliar, unusual, score = r["ens"], r["unfamiliar"], r["unusual"], r["score"]
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
        np.savez(args.dump / f"{fam}.npz", **{f"{k}|{n}": v[n] for k, v in (("ens", ens), ("q", q), (
            "unfamiliar", unfamiliar)) for n in names})
    judged = "validation and training crops" if judge_train else "validation crops"
    return {"left_out": out, "weights": r["weights"], "shift": r["shift"], "gate": r["gate"], "cnn_refitted": cnn_refit,
            "judged": judged, "sources": judged_rows(names, labels, out, score, ens, q, UNCERTAIN_BAND, unusual)}


def refit_and_judge(logits: dict, cnn_feats: dict, q: dict, labels: dict, names: list[str], kept: list[str]) -> dict:
    """Everything the verdict is fitted on, fitted on the `kept` sources' arrays alone (temperatures, ensemble
    weights, false-alarm guard, familiarity check, the reals' reference and the gate), then every source's crops
    judged with it. `logits` (detector -> source -> logits), `cnn_feats` and `q` (the real-only score) per source.
    Returns {"weights", "shift", "gate", "ens", "unfamiliar", "unusual", "score"} (the last four per source)."""
    from core.detection.judge import (
        Familiarity,
        fit_ensemble_weights,
        fit_false_alarm_shift,
        fit_real_gate,
        gated_scores,
        real_rank,
        shifted,
        unusualness,
    )

    probs = {d: fitted_probability(z, labels, kept) for d, z in logits.items()}
    dets = list(probs)
    count = {n: len(cnn_feats[n]) for n in kept}
    y = np.concatenate([np.full(count[n], labels[n]) for n in kept])
    per_class = {k: sum(1 for n in kept if labels[n] == k) for k in (0, 1)}
    sw = np.concatenate([np.full(count[n], 1.0 / count[n] / per_class[labels[n]]) for n in kept])
    weights, _ = fit_ensemble_weights({d: np.concatenate([probs[d][n] for n in kept]) for d in dets}, y, sw)
    mean = {n: sum(weights[d] * probs[d][n] for d in dets) for n in names}
    reals = [n for n in kept if labels[n] == 0]
    shift = fit_false_alarm_shift({n: mean[n] for n in reals})
    ens = {n: shifted(mean[n], shift) for n in names}
    fam_check = Familiarity.fit(np.concatenate([cnn_feats[n] for n in kept])[
        np.random.default_rng(0).permutation(sum(count.values()))], "cnn")
    unfamiliar = {n: fam_check.distance(cnn_feats[n]) > fam_check.threshold for n in names}
    reference = np.quantile(np.concatenate([ens[n] for n in reals]), np.linspace(0, 1, 201))
    unusual = {n: unusualness(q[n], real_rank(ens[n], reference)) for n in names}
    gate = fit_real_gate({n: (ens[n], unusual[n], unfamiliar[n]) for n in reals})
    score = {n: gated_scores(ens[n], q[n], unfamiliar[n], gate, reference)[2] for n in names}
    return {"weights": weights, "shift": shift, "gate": gate, "ens": ens, "unfamiliar": unfamiliar, "unusual": unusual,
            "score": score}


def judged_rows(names, labels, out, score, ens, q, band, unusual) -> dict:
    """Per left-out source and real source: AUC of the verdict's score against all reals (and of the
    ensemble and the real-only score alone), the shares called real, uncertain and GAN-made."""
    from sklearn.metrics import roc_auc_score

    reals = [n for n in names if labels[n] == 0]
    rows = {}
    for n in [*out, *reals]:
        s = score[n]
        row = {"count": int(len(s)), "called_real": float((s < band[0]).mean()),
               "uncertain": float(((s >= band[0]) & (s <= band[1])).mean()), "called_gan": float((s > band[1]).mean())}
        if labels[n]:
            y = np.r_[np.zeros(sum(len(score[r]) for r in reals)), np.ones(len(s))]
            for key, d in (("auc", score), ("auc_ensemble", ens), ("auc_realonly", q), ("auc_unusual", unusual)):
                row[key] = float(roc_auc_score(y, np.r_[np.concatenate([d[r] for r in reals]), d[n]]))
        rows[n] = row
    return rows


def print_family(fam: str, r: dict) -> None:
    w = ", ".join(f"{k} {v:.2f}" for k, v in r["weights"].items() if v > 0)
    print(f"\n{fam}: weights {w}; guard {r['shift']:.2f}; real-only gate {r['gate']:.3f}"
          + ("" if r["cnn_refitted"] else "; CNN NOT refitted (the bundled one saw this family)")
          + f"; judged on its {r.get('judged', 'validation crops')}")
    print(f"{'source':<18}{'AUC':>7}{'ens.':>7}{'r-only':>7}{'unus.':>7}{'real':>7}{'uncert.':>8}{'GAN':>7}")
    for n, row in r["sources"].items():
        aucs = "".join(f"{row[k]:>7.3f}" if k in row else f"{'':>7}"
                       for k in ("auc", "auc_ensemble", "auc_realonly", "auc_unusual"))
        print(f"{n:<18}{aucs}{row['called_real']:>7.1%}{row['uncertain']:>8.1%}{row['called_gan']:>7.1%}")


def print_table(results: dict) -> None:
    print("\n| left out | AUC (verdict) | ensemble alone | real-only alone | unusualness | called real | uncertain | "
          "GAN-made |")
    print("|---|---|---|---|---|---|---|---|")
    for fam, r in results.items():
        for n in r["left_out"]:
            row = r["sources"][n]
            print(f"| {n} ({fam}) | {row['auc']:.3f} | {row['auc_ensemble']:.3f} | {row['auc_realonly']:.3f} | "
                  f"{row['auc_unusual']:.3f} | "
                  f"{row['called_real']:.1%} | {row['uncertain']:.1%} | {row['called_gan']:.1%} |")


if __name__ == "__main__":
    sys.exit(main())
