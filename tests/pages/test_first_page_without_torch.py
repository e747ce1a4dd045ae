"""The first page a visitor sees is drawn without torch (issue 37: cold start <= 3 s; importing torch
alone takes 3 s on a 2-core machine). Each check runs in a fresh interpreter, where sys.modules says
what was imported."""

import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT

from core.models import registry

pytestmark = pytest.mark.filterwarnings("ignore")


def fresh_python(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_the_server_start_imports_neither_torch_nor_pandas():
    # what `streamlit run app.py` does before the first visitor: app.py, and the lifespan's thread that imports
    # Home's modules and reads every model's record into the cache Home's run reads them from
    out = fresh_python("""
        import sys
        import app
        from core.models import registry
        from ui import models, warmup
        warmup._import_home_modules()
        assert warmup._home_ready.is_set()
        def no_second_read(*args, **kwargs):
            raise AssertionError("read again")
        registry.describe = no_second_read
        assert all(models.describe_model(n).spec.name == n for n in models.home_model_names())
        print(sorted(m for m in ("torch", "pandas", "safetensors.torch") if m in sys.modules))
    """)
    assert out.strip().splitlines()[-1] == "[]"


def test_home_is_drawn_without_importing_torch():
    out = fresh_python("""
        import sys
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file("app.py", default_timeout=120)
        at.run()
        assert not at.exception, at.exception
        assert at.title[0].value == "Face GAN Lab"
        print("torch" in sys.modules, "Parameters" in [m.label for m in at.metric])
    """)
    assert out.split() == ["False", "True"]


def test_every_model_on_home_has_its_parameter_count_recorded():
    # weights/model_sizes.json is current (else Home loads that model, and torch, to count it):
    # python -m train.model_sizes
    for name in registry.names("generator", subject=None) + registry.names("detector"):
        info = registry.describe(name, use_hub=False)
        assert info.n_params is not None, f"{name}: run python -m train.model_sizes"
        assert info.n_params == registry.load(name, use_hub=False).n_params, name


def test_describe_finds_what_load_finds_without_the_model():
    info = registry.describe("dcgan-64", use_hub=False)
    loaded = registry.load("dcgan-64", use_hub=False)
    assert (info.config, info.training, info.folder, info.source, info.note) == (
        loaded.config, loaded.training, loaded.folder, loaded.source, loaded.note)


def test_a_count_for_another_config_is_unknown(tmp_path, monkeypatch):
    sizes = tmp_path / "model_sizes.json"
    sizes.write_text('{"dcgan-64": {"config": {"arch": "dcgan", "nz": 7}, "n_params": 1}}')
    monkeypatch.setattr(registry, "SIZES_FILE", sizes)
    assert registry.describe("dcgan-64", use_hub=False).n_params is None


def test_home_counts_a_model_it_has_no_recorded_count_for(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from ui.models import describe_model

    monkeypatch.setattr(registry, "SIZES_FILE", tmp_path / "missing.json")
    describe_model.clear()
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        assert not at.exception, at.exception
        counts = [m.value for m in at.metric if m.label == "Parameters"]
        assert f"{registry.load('dcgan-64', use_hub=False).n_params / 1e6:.2f} M" in counts
        assert "n/a" not in counts
    finally:
        describe_model.clear()


def test_model_sizes_dry_run_counts_without_writing(capsys, monkeypatch, tmp_path):
    from train import model_sizes

    monkeypatch.setattr(registry, "SIZES_FILE", tmp_path / "sizes.json")
    assert model_sizes.main(["--dry-run"]) == 0
    assert "dcgan-64" in capsys.readouterr().out and not (tmp_path / "sizes.json").exists()


def test_a_refitted_temperature_keeps_the_recorded_count(tmp_path, monkeypatch):
    # a detector's head refit (or recalibration) changes config.json's temperature, not one weight's shape
    sizes = tmp_path / "model_sizes.json"
    sizes.write_text('{"supcon": {"config": {"arch": "supcon", "proj_dim": 64, "temperature": 0.93}, "n_params": 5}}')
    monkeypatch.setattr(registry, "SIZES_FILE", sizes)
    assert registry.recorded_n_params("supcon", {"arch": "supcon", "proj_dim": 64, "temperature": 0.89}) == 5
    assert registry.recorded_n_params("supcon", {"arch": "supcon", "proj_dim": 32, "temperature": 0.93}) is None


def test_model_sizes_refresh_counts_one_model_and_keeps_the_others(tmp_path, monkeypatch):
    from train import model_sizes

    sizes = tmp_path / "sizes.json"
    sizes.write_text('{"other": {"config": {}, "n_params": 7}}')
    monkeypatch.setattr(registry, "SIZES_FILE", sizes)
    model_sizes.refresh("dcgan-64")
    assert registry.recorded_n_params("dcgan-64", registry.describe("dcgan-64", use_hub=False).config) == (
        registry.load("dcgan-64", use_hub=False).n_params)
    assert registry.recorded_n_params("other", {}) == 7
