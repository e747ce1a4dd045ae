"""Attribute directions: the fitting maths, the committed directions files, and train.directions --dry-run."""

import hashlib

import pytest
import torch

from core.gan.latent import (
    DIRECTIONS_FACTS,
    DIRECTIONS_FILE,
    least_squares_direction,
    load_directions,
    mean_difference,
    orthonormalise,
    save_directions,
)
from core.io.store import read_json
from core.models import registry


def assert_unit_and_orthogonal(directions: dict[str, torch.Tensor], nz: int) -> None:
    assert set(directions) == {"older", "male"}
    for d in directions.values():
        assert d.shape == (nz,) and torch.isfinite(d).all()
        assert float(d.double().norm()) == pytest.approx(1.0, abs=1e-5)
    assert float(directions["older"].double() @ directions["male"].double()) == pytest.approx(0.0, abs=1e-5)


def generators_with_directions() -> list[str]:
    return [n for n in registry.names("generator")
            if (registry.get_spec(n).bundled_dir / DIRECTIONS_FILE).exists()]


def test_dcgan_64_has_committed_directions():
    assert "dcgan-64" in generators_with_directions()


@pytest.mark.parametrize("name", generators_with_directions())
def test_committed_directions_are_unit_orthogonal_and_match_the_weights(name):
    folder = registry.get_spec(name).bundled_dir
    directions, facts = load_directions(folder)
    nz = read_json(folder / "config.json")["nz"]
    assert_unit_and_orthogonal(directions, nz)
    assert facts["weights_sha256"] == hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    assert facts["labelled"] + facts["no_face"] == facts["samples"] and not facts["dry_run"]
    step = facts["effect"]["step"]
    older, male = facts["effect"][f"older +{step:g}"], facts["effect"][f"male +{step:g}"]
    # the stored measurement on fresh faces says each direction does what its name says
    assert older["mean_age_after"] > older["mean_age_before"]
    assert male["share_male_after"] > male["share_male_before"]
    assert facts["effect"][f"older -{step:g}"]["age_change"] < 0


@pytest.mark.parametrize("name", ["dcgan-64", "lsgan-80"])
def test_male_plus_3_moves_the_share_called_male_by_half(name):
    """Issue 35: with the refitted gender head, +3 along "male" moves the share the labeller calls male by at
    least 50 points on the two base generators (the old labeller saw +72 and +27)."""
    facts = load_directions(registry.get_spec(name).bundled_dir)[1]
    male = facts["effect"]["male +3"]
    assert male["share_male_change"] >= 0.5 and male["faces_labelled_both"] == facts["effect"]["n"]
    assert "gender head" in facts["labeller"]


def test_mean_difference_matches_a_hand_computation():
    z = torch.tensor([[1.0, 0.0], [3.0, 2.0], [0.0, 0.0], [-1.0, 4.0]])
    high = torch.tensor([True, True, False, False])  # mean (2, 1)
    low = torch.tensor([False, False, True, True])  # mean (-0.5, 2)
    torch.testing.assert_close(mean_difference(z, high, low), torch.tensor([2.5, -1.0]))
    with pytest.raises(ValueError, match="at least one"):
        mean_difference(z, high, torch.zeros(4, dtype=torch.bool))


def test_least_squares_recovers_a_planted_direction():
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(2000, 20, generator=gen)
    w = torch.zeros(20)
    w[3], w[7] = 4.0, -2.0
    y = z @ w + 30 + 0.5 * torch.randn(2000, generator=gen)  # "age" with an intercept and noise
    fitted = least_squares_direction(z, y)
    torch.testing.assert_close(fitted, w, atol=0.05, rtol=0)
    with pytest.raises(ValueError, match="more than"):
        least_squares_direction(z[:20], y[:20])


def test_orthonormalise_keeps_the_first_and_removes_its_share_from_the_second():
    male = torch.tensor([3.0, 0.0, 0.0])
    older = torch.tensor([1.0, 2.0, 0.0])
    out = orthonormalise({"older": older, "male": male}, ["male", "older"])
    assert list(out) == ["male", "older"]
    torch.testing.assert_close(out["male"], torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(out["older"], torch.tensor([0.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match="span"):
        orthonormalise({"a": male, "b": 2 * male}, ["a", "b"])


def test_save_and_load_round_trip(tmp_path):
    dirs = orthonormalise({"male": torch.randn(8), "older": torch.randn(8)}, ["male", "older"])
    save_directions(tmp_path, dirs, {"labelled": 5})
    loaded, facts = load_directions(tmp_path)
    assert facts == {"labelled": 5}
    for k in dirs:
        torch.testing.assert_close(loaded[k], dirs[k])
    assert load_directions(tmp_path / "nowhere") is None


def test_dry_run_fits_measures_and_writes_to_the_given_folder(tmp_path, capsys):
    from train import directions as cli

    committed = registry.get_spec("dcgan-64").bundled_dir / DIRECTIONS_FILE
    before = committed.read_bytes() if committed.exists() else None
    assert cli.main(["--model", "dcgan-64", "--dry-run", "--out", str(tmp_path)]) == 0
    dirs, facts = load_directions(tmp_path)
    assert_unit_and_orthogonal(dirs, 100)
    assert facts["dry_run"] and facts["samples"] == cli.DRY_RUN_N
    assert facts["labelled"] + facts["no_face"] == cli.DRY_RUN_N and facts["labelled"] > 101
    effect = facts["effect"]
    assert effect["n"] == cli.DRY_RUN_EVAL and effect["seed"] == 1
    for key in ["older +3", "older -3", "male +3", "male -3"]:
        assert 0 < effect[key]["faces_found_both"] <= cli.DRY_RUN_EVAL
        assert 0 <= effect[key]["share_male_after"] <= 1
    out = capsys.readouterr().out
    assert f"labelled {facts['labelled']} of {cli.DRY_RUN_N} faces" in out and str(tmp_path / DIRECTIONS_FACTS) in out
    assert (committed.read_bytes() if committed.exists() else None) == before  # weights/ untouched


def test_unknown_model_is_a_message(capsys, tmp_path):
    from train import directions as cli

    assert cli.main(["--model", "nope", "--dry-run", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'nope'" in err and "Traceback" not in err
