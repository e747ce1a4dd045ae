"""train.crossfit: the ensemble refitted on half of each source and scored on the other half."""

import csv

import numpy as np

from train import crossfit


def write_csv(path, rng, n=120):
    rows = []
    for source, truth in (("r1", "real"), ("r2", "real"), ("f1", "fake")):
        for i in range(n):
            fake = truth == "fake"
            good = np.clip((0.8 if fake else 0.2) + rng.normal(0, 0.15), 0, 1)
            if source == "r2" and i % 10 == 0:
                good = 0.9  # a real source with 10% of false alarms for the guard to remove
            rows.append([f"{source}/{i}.png", truth, source, f"{good:.6f}", f"{rng.uniform():.6f}", "0.5", "uncertain"])
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "truth", "source", "good", "noise", "ensemble", "verdict"])
        w.writerows(rows)


def test_crossfit_prints_in_sample_and_out_of_fold_figures_per_source(tmp_path, capsys):
    path = tmp_path / "scores.csv"
    write_csv(path, np.random.default_rng(0))
    sources, truth, y, probs = crossfit.read_scores(path)
    assert set(probs) == {"good", "noise"} and y.sum() == 120 and sources.count("r2") == 120
    assert crossfit.main([str(path)]) == 0
    out = capsys.readouterr().out
    lines = {ln.split()[0]: ln.split() for ln in out.splitlines() if ln.split() and ln.split()[0] in ("r1", "r2", "f1")}
    assert set(lines) == {"r1", "r2", "f1"}
    r2_inside = float(lines["r2"][2].rstrip("%")) / 100
    assert r2_inside <= 0.02  # the guard holds the false alarms where it was fitted
    assert float(lines["f1"][4]) > 0.9 and float(lines["f1"][5]) > 0.9  # AUC of the fake source, both ways
    assert "shift" in out and "'good'" in out


def test_crossfit_refuses_a_file_that_is_not_a_scores_csv(tmp_path, capsys):
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    assert crossfit.main([str(bad)]) == 2
    assert crossfit.main([str(tmp_path / "missing.csv")]) == 2
    assert "error" in capsys.readouterr().err
