"""Fitting what turns the detectors' probabilities into the verdict: the ensemble's two weight sets and
false-alarm guards, and the familiarity check.

`python -m train.fit_ensemble` fits them on every source's validation crops and writes
weights/ensemble.json and weights/familiarity.safetensors; `train.evaluate` only reads them.

Two weight sets (why two: core.detection.judge's docstring): one for every upload, fitted on the crops as
they are, and one for compressed JPEG uploads ("compressed"), fitted on the crops and their JPEG-90, JPEG-75
and half-scale copies (`COMPRESSED_VIEWS`). Each is a grid of 0.05 over the simplex minimising the log loss
of the weighted mean, sources alike within real and within fake and views alike; then its guard, the
smallest logit shift leaving every real source (in every view) at most FALSE_ALARM_TARGET called GAN-made.
The familiarity check summarises the CNN's pooled features of the same crops (`judge.Familiarity`).
Only the supervised detectors' calibrated probabilities are read: the real-only detector has a gate of its
own (`train.fit_gate`), fitted afterwards on what is fitted here.
"""

from __future__ import annotations

import numpy as np

COMPRESSED_VIEWS = ("clean", "jpeg90", "jpeg75", "half")  # what the compressed weights are fitted on


def detector_probabilities(judge, crops: np.ndarray, chunk: int = 256) -> dict[str, np.ndarray]:
    """Each detector's calibrated P(GAN-made) of `crops`: the ensemble's inputs, nothing else."""
    parts = [judge.probabilities(crops[i : i + chunk]) for i in range(0, len(crops), chunk)]
    return {n: np.concatenate([p[n] for p in parts]) if parts else np.zeros(0) for n in judge.detectors}


def view_probabilities(judge, crops: np.ndarray, views=COMPRESSED_VIEWS) -> dict[str, dict[str, np.ndarray]]:
    """`detector_probabilities` of the crops as each view shows them (core.detection.augment.distorted_crops)."""
    from core.detection.augment import distorted_crops

    return {v: detector_probabilities(judge, distorted_crops(crops, v)) for v in views}


def fit_weights_and_guard(probs: list[dict], ordered: list[dict], band_hi: float) -> tuple[dict, float, float]:
    """Ensemble weights fitted on the detectors' probabilities of the crops in one or more views (each a
    dict detector -> probabilities, crops in `ordered`'s order), sources alike within each view and views
    alike; then the guard: the smallest shift leaving every real source of every view at most
    FALSE_ALARM_TARGET called GAN-made. Returns (weights, log loss, shift)."""
    from core.detection.judge import FALSE_ALARM_TARGET, fit_ensemble_weights, fit_false_alarm_shift

    labels = np.concatenate([np.full(s["n"], int(s["truth"] == "fake")) for s in ordered])
    per_class = {t: sum(1 for s in ordered if s["truth"] == t and s["n"]) for t in ("real", "fake")}
    sw = np.concatenate([np.full(s["n"], 1.0 / max(1, s["n"]) / max(1, per_class[s["truth"]])) for s in ordered])
    stacked = {n: np.concatenate([p[n] for p in probs]) for n in probs[0]}
    weights, loss = fit_ensemble_weights(stacked, np.tile(labels, len(probs)), np.tile(sw, len(probs)))
    starts = np.cumsum([0] + [s["n"] for s in ordered])
    reals = {}
    for k, p in enumerate(probs):
        mean = np.sum([weights[n] * p[n] for n in weights], axis=0)
        reals.update({f"{s['name']}/{k}": mean[a:b] for s, a, b in zip(ordered, starts[:-1], starts[1:], strict=True)
                      if s["truth"] == "real"})
    shift = fit_false_alarm_shift(reals, band_hi, FALSE_ALARM_TARGET)
    return weights, loss, shift


def fit_ensemble(judge, ordered: list[dict], crops: np.ndarray, views: dict | None = None) -> dict:
    """The ensemble's two sets of weights and guards, fitted on `crops` (the sources of `ordered`, one after
    the other): the entries `train.fit_ensemble` writes into weights/ensemble.json ("weights", "shift",
    "compressed" and what they were fitted on). `views`: `view_probabilities` of the crops, where the caller
    has them already. The judge is left as it is."""
    from core.detection.judge import FALSE_ALARM_TARGET

    views = views or view_probabilities(judge, crops)
    weights, loss, shift = fit_weights_and_guard([views["clean"]], ordered, judge.band[1])
    c_weights, c_loss, c_shift = fit_weights_and_guard([views[v] for v in COMPRESSED_VIEWS], ordered, judge.band[1])
    guard = f"smallest logit shift leaving every real source at most {FALSE_ALARM_TARGET:.0%} called GAN-made"
    return {
        "weights": weights, "log_loss": round(loss, 5), "shift": shift, "false_alarm_target": FALSE_ALARM_TARGET,
        "fitted_on": "validation crops of " + ", ".join(s["name"] for s in ordered),
        "method": f"grid over the simplex (step 0.05), sources weighted alike; then the {guard}",
        "compressed": {"weights": c_weights, "log_loss": round(c_loss, 5), "shift": c_shift,
                       "fitted_on": "the same crops, as they are and re-encoded as JPEG 90, JPEG 75 and at half "
                                    "scale (views weighted alike)",
                       "method": f"as above; the guard the {guard} in any of the views",
                       "for": "uploads that are JPEGs saved below quality COMPRESSED_BELOW (core.detection.judge)"}}


def fit_familiarity(judge, crops: np.ndarray):
    """The familiarity check (`core.detection.judge.Familiarity`) fitted on the pooled features of these crops
    by the judge's FAMILIARITY_DETECTOR, tied to the bundled weights of that detector; None without it."""
    import torch

    from core.detection.judge import FAMILIARITY_DETECTOR, Familiarity, pooled_features
    from core.models import registry
    from core.models.detectors import to_input
    from core.models.folder import read_record

    if FAMILIARITY_DETECTOR not in judge.detectors:
        return None
    model = judge.detectors[FAMILIARITY_DETECTOR][0]
    with torch.inference_mode():
        feats = np.concatenate([pooled_features(model, to_input(crops[i:i + 256], judge.device))[1].float().cpu().numpy()
                                for i in range(0, len(crops), 256)])
    order = np.random.default_rng(0).permutation(len(feats))  # the halves mix every source
    # the bundled detector's hash, which Judge.from_loaded compares before it uses the check
    sha = read_record(registry.get_spec(FAMILIARITY_DETECTOR).bundled_dir).get("weights_sha256", "")
    return Familiarity.fit(feats[order], FAMILIARITY_DETECTOR, weights_sha256=sha)
