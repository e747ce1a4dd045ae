"""train.leave_out judges a left-out family's training crops through exactly the recipe its validation crops go through."""

from __future__ import annotations

import numpy as np


def test_training_crops_get_the_same_scores_as_validation_crops_with_the_same_evidence():
    from train.leave_out import refit_and_judge

    rng = np.random.default_rng(0)
    labels = {"real": 0, "real2": 0, "other": 1, "out": 1}
    names, kept = list(labels), ["real", "real2", "other"]
    sizes = {"real": 60, "real2": 40, "other": 50, "out": 30}
    centre = {"real": -2, "real2": -1.5, "other": 2, "out": 0}
    logits = {d: {n: rng.normal(centre[n], 1.5, k) for n, k in sizes.items()} for d in ("probe", "cnn")}
    cnn_feats = {n: rng.normal(0, 1, (k, 4)) for n, k in sizes.items()}
    q = {n: rng.uniform(0, 1, k) for n, k in sizes.items()}
    alone = refit_and_judge(logits, cnn_feats, q, labels, names, kept)

    # its "training crops": the same evidence again, after its validation crops in every array
    twice = lambda d: {**d, "out": np.concatenate([d["out"], d["out"]])}  # noqa: E731
    both = refit_and_judge({k: twice(v) for k, v in logits.items()}, twice(cnn_feats), twice(q), labels, names, kept)
    for key in ("weights", "shift", "gate"):  # nothing fitted reads a left-out source
        assert both[key] == alone[key]
    for key in ("ens", "unfamiliar", "unusual", "score"):
        np.testing.assert_allclose(both[key]["out"], np.r_[alone[key]["out"], alone[key]["out"]])
        for n in kept:
            np.testing.assert_allclose(both[key][n], alone[key][n])
