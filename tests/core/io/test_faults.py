"""Faults the app and the training loops must survive (the hardening issue's list).

Covered elsewhere, not repeated here:
- the registry falls back to bundled weights within 2 s when the Hub refuses or hangs:
  test_hub.py::test_registry_falls_back_to_bundled_within_2_s
- a damaged bundled file is refused with its name and expected hash:
  test_registry.py::test_a_damaged_bundled_file_names_itself_and_its_expected_hash
- a GAN run killed with SIGKILL mid-epoch resumes losing only that epoch:
  test_distributed.py::test_sigkill_mid_run_then_resume_loses_only_that_epoch
- a detector run dying (an exception) mid-epoch resumes: test_detectors.py::test_detector_resume_after_a_crash_mid_epoch

Here: the disk filling up while a checkpoint is written (both loops; a real failing write(2), not a
mocked function), a detector run killed with SIGKILL, and the pages with an unreachable Hub and with
one damaged weights file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT
from hub_standin import HangingServer, closed_port
from streamlit.testing.v1 import AppTest

from core.io.store import read_history, read_json
from core.models import registry

pytestmark = pytest.mark.filterwarnings("ignore")

# the disk-full worker imports this module (from its folder) and conftest (from tests/)
ENV = {**os.environ, "OMP_NUM_THREADS": "1",
       "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests"), str(Path(__file__).resolve().parent)])}
GAN_TESTS = ROOT / "tests" / "core" / "gan"  # test_training.py's folder


def stray_files(folder: Path) -> list[str]:
    """Half-written leftovers of core.io.store's atomic writes (".name.xxxx.tmp")."""
    return sorted(p.name for p in Path(folder).rglob("*") if p.name.startswith(".") or p.suffix == ".tmp")


# ----------------------------------------------------------------------------- a full disk

# The runs below write nothing larger than ~300 kB besides checkpoint.pt (~3 MB for the tiny GAN,
# ~4 MB for the CNN detector): under this limit everything but the checkpoint still fits.
FILE_SIZE_LIMIT = 1 << 20


def gan_trainer(out, epochs, cache):
    """test_training.py's tiny GAN: 32 images at batch 8, 4 steps an epoch."""
    if str(GAN_TESTS) not in sys.path:
        sys.path.insert(0, str(GAN_TESTS))
    from test_training import make_run, tiny_cfg

    from core.data.caches import load_cache
    from core.gan.trainer import GANTrainer

    return GANTrainer(make_run(load_cache(cache), Path(out)), tiny_cfg(epochs=int(epochs)), device="cpu",
                      progress=False)


def detector_trainer(out, epochs):
    """A CNN detector on random crops (the same every call): 64 crops at batch 16, 4 steps an epoch."""
    from core.detection.trainer import DetectorData, DetectorTrainConfig, DetectorTrainer
    from core.models.detectors import CROP_SIZE, build_detector

    rng = np.random.default_rng(0)
    crops = lambda n: rng.integers(0, 256, (n, CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)  # noqa: E731
    data = DetectorData.two_sources(crops(32), crops(32), crops(16), crops(16))
    cfg = DetectorTrainConfig(arch="cnn", epochs=int(epochs), batch_size=16, patience=99)
    torch.manual_seed(0)
    return DetectorTrainer(build_detector(registry.get_spec("cnn").config), cfg, data, Path(out), device="cpu",
                           progress=False)


TRAINERS = {"gan": gan_trainer, "detector": detector_trainer}

# Trains from scratch; once the first epoch's files are all written, the disk "fills up": no file of
# this process may grow past the limit (RLIMIT_FSIZE). With SIGXFSZ ignored (Python's default, made
# explicit) write(2) then fails with EFBIG, where a full disk fails it with ENOSPC: the same path
# through the code. Wrapping the method only picks the moment; nothing in the write path is mocked.
FULL_DISK_WORKER = """
import resource, signal, sys
import test_faults

kind, out, epochs, limit, *extra = sys.argv[1:]
trainer = test_faults.TRAINERS[kind](out, epochs, *extra)
hook = "_end_of_epoch" if kind == "gan" else "_save_checkpoint"
first_epoch_writes = getattr(trainer, hook)

def then_the_disk_fills_up():
    first_epoch_writes()
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    setattr(trainer, hook, first_epoch_writes)

setattr(trainer, hook, then_the_disk_fills_up)
trainer.train()
print("training finished")
"""


def train_until_the_disk_is_full(kind: str, out: Path, epochs: int, *extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", FULL_DISK_WORKER, kind, str(out), str(epochs), str(FILE_SIZE_LIMIT),
                           *map(str, extra)], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)


def assert_failed_loudly(proc: subprocess.CompletedProcess, ckpt: Path) -> None:
    assert proc.returncode != 0 and "training finished" not in proc.stdout, "a failed write must not look like success"
    last = proc.stderr.strip().splitlines()[-1]
    assert "WriteError" in last and f"cannot write {ckpt}" in last and "File too large" in last, proc.stderr[-3000:]
    assert "left as it was" in last


def test_gan_disk_full_while_checkpointing_keeps_the_last_checkpoint(tiny_cache, tmp_path):
    out = tmp_path / "gan"
    ckpt = out / "checkpoint.pt"
    proc = train_until_the_disk_is_full("gan", out, 2, tiny_cache)
    assert_failed_loudly(proc, ckpt)
    # epoch 1's checkpoint is intact; the limit stopped it alone (every other file is far smaller)
    state = torch.load(ckpt, weights_only=True)
    assert state["epoch"] == 1 and state["step"] == 4
    others = [p for p in out.rglob("*") if p.is_file() and p != ckpt]
    assert ckpt.stat().st_size > 2 * FILE_SIZE_LIMIT > 2 * 2 * max(p.stat().st_size for p in others)
    assert stray_files(out) == []
    # What each epoch writes before its checkpoint (snapshot, model.safetensors, config.json,
    # training.json) got through: the exported model is epoch 2's and says so, one epoch ahead of
    # checkpoint.pt. It loads, and resume replays epoch 2 and writes it again.
    assert read_json(out / "training.json")["steps"] == 8 and (out / "snapshots" / "epoch_002.jpg").exists()
    registry.load_folder(registry.get_spec("dcgan-64"), out)

    summary = gan_trainer(out, 2, tiny_cache).train(resume=True)  # space again
    rows = read_history(out / "history.jsonl")
    assert [r["step"] for r in rows] == list(range(8))  # continuous, nothing twice
    assert [r["epoch"] for r in rows] == [0] * 4 + [1] * 4
    assert torch.load(ckpt, weights_only=True)["step"] == 8 and summary["epochs_done"] == 2
    assert sorted(p.name for p in (out / "snapshots").iterdir()) == ["epoch_001.jpg", "epoch_002.jpg"]
    assert stray_files(out) == []


def test_detector_disk_full_while_checkpointing_keeps_the_last_checkpoint(tmp_path):
    out = tmp_path / "cnn"
    ckpt = out / "checkpoint.pt"
    proc = train_until_the_disk_is_full("detector", out, 3)
    assert_failed_loudly(proc, ckpt)
    state = torch.load(ckpt, weights_only=True)["state"]
    assert state["epoch"] == 1 and state["step"] == 4
    assert ckpt.stat().st_size > 2 * FILE_SIZE_LIMIT > 2 * 2 * (out / "history.jsonl").stat().st_size
    assert stray_files(out) == []
    # the history is written before the checkpoint: it holds epoch 2's row, which resume drops
    assert [r["epoch"] for r in read_history(out / "history.jsonl")] == [1, 2]

    summary = detector_trainer(out, 3).train(resume=True)
    rows = read_history(out / "history.jsonl")
    assert [r["epoch"] for r in rows] == [1, 2, 3] and [r["step"] for r in rows] == [4, 8, 12]
    assert torch.load(ckpt, weights_only=True)["state"]["step"] == 12
    assert summary["steps"] == 12 and summary["epochs_run"] == {"classifier": 3}
    assert stray_files(out) == []


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs: a real file system that runs out of space (needs root; skipped otherwise)."""
    mnt = tmp_path / "small-disk"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True,
                             text=True) if shutil.which("mount") else None
    if mounted is None or mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() if mounted else 'no mount command'}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_atomic_writes_on_a_full_disk_leave_the_old_file_and_no_temp_file(small_disk):
    """ENOSPC itself, for each of core.io.store's writers: the error names the file, nothing else changes."""
    from core.io.store import WriteError, atomic_torch_save, atomic_write_bytes, save_weights

    big = torch.nn.Linear(1024, 512)  # 2 MiB of float32: more than the whole disk
    writers = {
        "bytes.bin": lambda p: atomic_write_bytes(p, os.urandom(2 << 20)),
        "checkpoint.pt": lambda p: atomic_torch_save(p, {"w": big.weight}),
        "model.safetensors": lambda p: save_weights(big, p),
    }
    for name, write in writers.items():
        path = small_disk / name
        path.write_bytes(b"the previous version")
        with pytest.raises(WriteError) as err:
            write(path)
        assert err.value.errno == errno.ENOSPC and err.value.filename == str(path)
        assert f"cannot write {path}" in str(err.value)
        assert path.read_bytes() == b"the previous version"
        assert stray_files(small_disk) == [], name


# ----------------------------------------------------------------------------- SIGKILL, detector


@pytest.fixture
def random_detector_caches(tmp_path) -> tuple[Path, Path]:
    """The caches train.detector reads (CelebA crops, dcgan-64 fakes), filled with random crops: 96 per
    source for training, 32 for validation, matching a data folder of as many (empty) CelebA files.
    Enough to crash and resume, with no MTCNN pass. Returns (cache folder, data folder)."""
    from core.data import sources
    from core.models.detectors import CROP_SIZE

    folder, data = tmp_path / "cache", tmp_path / "data"
    rng = np.random.default_rng(0)
    for split, n in (("train", 96), ("val", 32)):
        people = data / "celeba" / split / "celeb_1"
        people.mkdir(parents=True)
        for i in range(n):
            (people / f"{i:04d}.jpg").write_bytes(b"")
        for name in ("celeba", "dcgan-64"):
            crops = rng.integers(0, 256, (n, CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)
            sources.write_cache(sources.SourceCrops(name, split, crops, [str(i) for i in range(n)], 0), CROP_SIZE,
                                folder, data)
    return folder, data


def checkpoint_state(path: Path) -> dict | None:
    try:
        return torch.load(path, weights_only=True)["state"]
    except Exception:  # not there yet, or being replaced
        return None


def watch_for(stream, pattern: re.Pattern) -> tuple[threading.Event, threading.Thread]:
    """An event set once `pattern` shows up in `stream`, and the thread reading it to its end (so
    the writer never blocks on a full pipe)."""
    seen = threading.Event()

    def read() -> None:
        text = ""
        for chunk in iter(lambda: os.read(stream.fileno(), 4096), b""):
            text = (text + chunk.decode(errors="replace"))[-2000:]
            if pattern.search(text):
                seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return seen, reader


def test_detector_sigkill_mid_epoch_then_resume_loses_only_that_epoch(random_detector_caches, tmp_path):
    out = tmp_path / "killed"
    ckpt = out / "checkpoint.pt"
    cache, data = random_detector_caches
    cmd = [sys.executable, "-m", "train.detector", "--arch", "cnn", "--sources", "celeba", "dcgan-64",
           "--cache-dir", str(cache), "--data", str(data), "--out", str(out), "--epochs", "3", "--batch-size", "16",
           "--patience", "99", "--threads", "1"]
    steps = 2 * 96 // 16  # an epoch: as many draws as the train sources hold
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # The progress bar says where the run is: kill it a step or more into epoch 2, before its end.
    mid_epoch_two, reader = watch_for(proc.stderr, re.compile(rf"epoch 2/3:[^\r\n]*?\|\s*([1-9]|1[01])/{steps}\b"))
    try:
        assert mid_epoch_two.wait(180), "the progress bar never showed epoch 2 under way"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        reader.join(10)
        proc.stderr.close()
    state = checkpoint_state(ckpt)
    assert state is not None and state["epoch"] == 1 and state["step"] == steps, "killed during epoch 2"
    assert [r["epoch"] for r in read_history(out / "history.jsonl")] == [1]
    assert stray_files(out) == []

    resumed = subprocess.run([*cmd, "--resume"], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    rows = read_history(out / "history.jsonl")
    assert [r["epoch"] for r in rows] == [1, 2, 3]  # each once
    assert [r["step"] for r in rows] == [steps, 2 * steps, 3 * steps]
    assert checkpoint_state(ckpt)["step"] == 3 * steps
    training = read_json(out / "training.json")
    assert training["steps"] == 3 * steps and training["epochs_run"] == {"classifier": 3}
    registry.load_folder(registry.get_spec("cnn"), out)  # the finished run is a loadable model


# ----------------------------------------------------------------------------- the app


@pytest.fixture
def fresh_models():
    """No model loaded by an earlier test in this process (the app keeps them per process)."""
    from ui.models import describe_model, load_judge, load_model

    load_model.clear()
    load_judge.clear()
    describe_model.clear()
    yield
    load_model.clear()
    load_judge.clear()
    describe_model.clear()


@pytest.fixture
def hub_online(monkeypatch, tmp_path):
    """HF_HUB_OFFLINE lifted (conftest sets it), as test_hub.py's hub_env does, with no saved answers."""
    from huggingface_hub import constants as hf_constants

    from core.io import hub

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)  # read by the library at import
    monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(hub, "_STATUS_CACHE", {})


@pytest.mark.parametrize("hub_state", ["refused", "hanging"])
def test_home_says_the_hub_is_unreachable_and_falls_back_fast(hub_state, hub_online, fresh_models, monkeypatch,
                                                           hub_probe_times):
    from ui.models import load_model

    with contextlib.ExitStack() as stack:
        if hub_state == "refused":
            monkeypatch.setenv("HF_ENDPOINT", closed_port())
            why = "connection refused"
        else:  # accepts the connection and never answers: a dead proxy
            monkeypatch.setenv("HF_ENDPOINT", stack.enter_context(HangingServer()).endpoint)
            why = "timed out after 1.5 s"
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        started = time.perf_counter()
        at.run()
        elapsed = time.perf_counter() - started
    assert not at.exception, at.exception
    bundled = [n for n in registry.names() if (registry.get_spec(n).bundled_dir / "model.safetensors").exists()]
    assert len(bundled) >= 5
    # said once, in a visitor's words; the reason itself stays in each model's note (and the pages' help)
    said = [c.value for c in at.caption if "runs from" in c.value]
    assert len(said) == 1 and "Every model here runs from the weights bundled with the app" in said[0], said
    assert "cannot be reached from this server" in said[0], said
    for n in bundled:
        assert load_model(n).source == "bundled" and f"Hub unreachable ({why})" in load_model(n).note
    # Fast: the Hub is asked once per endpoint (the answer is kept), and that one question gives up
    # within its 1.5 s timeout, so the page pays for at most one probe whatever the number of models.
    # (How long reading each file takes depends on the machine's load; bench/ measures that, not this.)
    assert len(hub_probe_times) == 1 and hub_probe_times[0] < 1.5 + 0.5, hub_probe_times
    seconds = {n: load_model(n).load_seconds for n in bundled}
    assert max(seconds.values()) < 1.5 + 2.0, seconds
    assert elapsed < 20, f"Home took {elapsed:.1f} s"


@pytest.fixture
def damage(monkeypatch, tmp_path, fresh_models):
    """damage(name): the model's bundled folder copied to tmp with one byte of its weights flipped,
    and the registry pointed there. Returns the damaged file and the hash training.json expects."""

    def damage_model(name: str) -> tuple[Path, str]:
        spec = registry.get_spec(name)
        shutil.copytree(spec.bundled_dir, tmp_path / name)
        weights = tmp_path / name / "model.safetensors"
        data = bytearray(weights.read_bytes())
        data[-10] ^= 0xFF  # inside the tensors: only the hash can tell
        weights.write_bytes(bytes(data))
        monkeypatch.setitem(registry.SPECS, name, dataclasses.replace(spec, bundled=tmp_path))
        return weights, read_json(tmp_path / name / "training.json")["weights_sha256"]

    return damage_model


def test_generate_names_a_damaged_file_and_its_hash_and_other_generators_still_work(damage):
    weights, expected = damage("dcgan-64")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["model"] = "dcgan-64"
    at.run()
    at.switch_page("pages/generate.py").run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    assert "dcgan-64" in errors and str(weights) in errors and expected[:16] in errors and "damaged" in errors
    assert not at.get("image")
    at.sidebar.selectbox[0].set_value("dcgan-64-z60").run()
    assert not at.exception and not at.error
    assert len(at.get("image")) == 1 and "dcgan-64-z60" in at.get("image")[0].captions[0]


def test_detect_names_a_damaged_detector_and_the_other_two_still_judge(damage, real_face_bytes):
    weights, expected = damage("cnn")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.session_state["detect_inputs"] = [("face.jpg", real_face_bytes)]
    at.switch_page("pages/detect.py").run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    assert "Detector **cnn** is unavailable" in errors and str(weights) in errors and expected[:16] in errors
    heading = " ".join(m.value for m in at.markdown)
    # the fitted weights of the four left (probe-texture, probe; SupCon and the LSTM weigh 0): a CelebA photo is real
    assert "Face 1" in heading and "Looks real" in heading
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert "**lstm**" in sidebar and "**supcon**" in sidebar and "**cnn**" not in sidebar
