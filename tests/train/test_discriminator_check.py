"""train.discriminator_check: a discriminator on its own ground and through the evaluation's re-framing."""

from __future__ import annotations

import shutil

from core.data.caches import build_center_cache
from core.models import registry


def test_the_check_measures_both_paths_for_a_gan_with_its_run(celeba_dir, tmp_path, monkeypatch, capsys):
    from core.data import caches
    from train import discriminator_check

    val = tmp_path / "celeba-center64-val.safetensors"
    build_center_cache(celeba_dir / "val", val, 64, limit=8)
    monkeypatch.setattr(caches, "cache_path", lambda split, size, crop="center", cache_dir=None: val)
    runs = tmp_path / "runs"
    shutil.copytree(registry.get_spec("dcgan-64").bundled_dir, runs / "dcgan-64")  # a run folder's generator
    assert discriminator_check.main(["--gans", "dcgan-64", "lsgan-80", "--runs", str(runs), "--n", "8",
                                     "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "dcgan-64: own ground AUC" in out and "re-framed AUC" in out and "8 photos, 8 samples" in out
    assert f"lsgan-80: skipped, {runs / 'lsgan-80'} holds no generator" in out


def test_the_check_names_the_command_for_a_missing_cache(tmp_path, monkeypatch, capsys):
    from core.data import caches
    from train import discriminator_check

    monkeypatch.setattr(caches, "cache_path", lambda split, size, crop="center", cache_dir=None: tmp_path / "none")
    runs = tmp_path / "runs"
    shutil.copytree(registry.get_spec("dcgan-64").bundled_dir, runs / "dcgan-64")
    assert discriminator_check.main(["--gans", "dcgan-64", "--runs", str(runs), "--n", "4"]) == 2
    assert "python -m train.prepare_data" in capsys.readouterr().out
