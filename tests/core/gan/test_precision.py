"""precision="auto" (issue 37, item 2): bfloat16 autocast where the device computes it natively, float32
elsewhere; the choice printed at the start and recorded in training.json."""

import pytest
import torch

from core import device as device_module
from core.data.caches import load_cache
from core.device import cpu_flags, native_bfloat16
from core.gan.losses import BCEGANLoss
from core.gan.trainer import GANRun, GANTrainer, TrainConfig, resolve_precision
from core.io.store import read_json
from core.models.dcgan import DCGANConfig, Discriminator, Generator, weights_init

PLAIN_AVX512 = {"fpu", "sse2", "avx2", "avx512f", "avx512bw", "avx512_vnni"}  # an AVX-512 CPU without BF16


@pytest.fixture
def flags(monkeypatch):
    """flags(set): the CPU flags core.device reads from /proc/cpuinfo, made up."""
    def set_flags(values):
        monkeypatch.setattr(device_module, "cpu_flags", lambda: set(values))
    return set_flags


@pytest.mark.parametrize("extra, expected", [((), "float32"), (("avx512_bf16",), "bfloat16"),
                                             (("amx_bf16", "amx_tile"), "bfloat16")])
def test_auto_picks_bfloat16_only_on_a_cpu_with_native_bfloat16(flags, extra, expected):
    flags(PLAIN_AVX512 | set(extra))
    assert resolve_precision("auto", "cpu") == expected
    assert resolve_precision("auto", torch.device("cpu")) == expected


def test_an_explicit_precision_is_kept_whatever_the_cpu(flags):
    for values in (PLAIN_AVX512, PLAIN_AVX512 | {"avx512_bf16"}):
        flags(values)
        assert resolve_precision("float32", "cpu") == "float32"
        assert resolve_precision("bfloat16", "cpu") == "bfloat16"


def test_on_cuda_auto_asks_torch_whether_bfloat16_is_native_not_emulated(monkeypatch):
    asked = []

    def supported(including_emulation=True):
        asked.append(including_emulation)
        return not including_emulation and gpu["ampere"]

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", supported)
    gpu = {"ampere": True}
    assert resolve_precision("auto", "cuda") == "bfloat16"
    gpu["ampere"] = False  # a Volta or Turing card: bfloat16 only emulated
    assert resolve_precision("auto", "cuda:0") == "float32"
    assert asked == [False, False]


def test_this_machine_reads_its_flags_from_proc_cpuinfo():
    found = cpu_flags()
    if not found:
        pytest.skip("no /proc/cpuinfo flags here")
    assert "fpu" in found or "sse2" in found
    assert native_bfloat16("cpu") == bool(found & {"avx512_bf16", "amx_bf16"})


def tiny_run(images, out):
    cfg = DCGANConfig(ngf=8, ndf=8)
    return GANRun(Generator(cfg), Discriminator(cfg), BCEGANLoss(), images, out,
                  model_config={"arch": "dcgan", **cfg.to_dict()}, init=weights_init)


@pytest.mark.parametrize("values, resolved", [(PLAIN_AVX512, "float32"), (PLAIN_AVX512 | {"avx512_bf16"}, "bfloat16")])
def test_the_trainer_prints_and_records_what_auto_chose(tiny_cache, tmp_path, flags, capsys, values, resolved):
    flags(values)
    assert TrainConfig().precision == "auto"  # the default
    t = GANTrainer(tiny_run(load_cache(tiny_cache), tmp_path), TrainConfig(epochs=1, batch_size=8, n_snapshot=4,
                                                                            max_steps=1), device="cpu", progress=False)
    assert f"precision: {resolved} (auto:" in capsys.readouterr().out
    t.train()
    record = read_json(tmp_path / "training.json")
    assert record["precision"] == resolved and record["train_config"]["precision"] == "auto"


def test_the_scripts_offer_auto_float32_and_bfloat16_only(capsys):
    from train import dcgan

    with pytest.raises(SystemExit):
        dcgan.main(["--precision", "float16", "--dry-run"])
    assert "choose from 'auto', 'float32', 'bfloat16'" in capsys.readouterr().err
