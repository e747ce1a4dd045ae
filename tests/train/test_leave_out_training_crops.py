"""train.leave_out judges a left-out family's training crops through exactly the recipe its validation crops go through."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from core.detection.judge import Familiarity, gated_scores, shifted


def test_training_crops_get_the_same_scores_as_validation_crops_with_the_same_evidence(monkeypatch):
    from core.data import sources
    from core.detection import realonly
    from train import leave_out

    rng = np.random.default_rng(0)
    labels = {"real": 0, "other": 1, "out": 1}
    kept = ["real", "other"]
    logits = {d: {"real": rng.normal(-2, 1, 50), "other": rng.normal(2, 1, 50), "out": rng.normal(0, 1.5, 30)}
              for d in ("probe", "cnn")}
    crops = np.zeros((30, 8, 8, 3), np.uint8)
    q_out = rng.uniform(0, 1, 30)
    feats = rng.normal(0, 1, (30, 4))
    monkeypatch.setattr(sources, "load_source", lambda n, split, size: SimpleNamespace(crops=crops))
    monkeypatch.setattr(realonly, "load_features", lambda record: None)
    monkeypatch.setattr(leave_out, "cnn_outputs", lambda folder, c: ({"out": logits["cnn"]["out"]}, {"out": feats}, []))
    fam = Familiarity.fit(rng.normal(0, 1, (200, 4)), "cnn")
    weights, shift, gate = {"probe": 0.7, "cnn": 0.3}, 0.4, 0.9
    reference = np.quantile(rng.uniform(0, 0.3, 100), np.linspace(0, 1, 201))

    got = leave_out.training_crops_scores(["out"], {"probe": {"out": logits["probe"]["out"]}}, logits, labels, kept,
                                          weights, shift, fam, reference, gate, (lambda c: q_out, {}), None, None)
    # the validation path of one_family, for the same logits
    probs = {d: leave_out.fitted_probability(z, labels, kept) for d, z in logits.items()}
    ens = shifted(sum(w * probs[d]["out"] for d, w in weights.items()), shift)
    unf = fam.distance(feats) > fam.threshold
    e, q, u, score = got["out"]
    np.testing.assert_allclose(e, ens)
    np.testing.assert_allclose(q, q_out)
    np.testing.assert_array_equal(u, unf)
    np.testing.assert_allclose(score, gated_scores(ens, q_out, unf, gate, reference)[2])
