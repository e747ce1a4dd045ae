"""train.push_space: the Space folder it assembles, the app running from that folder alone, and the push
(against the local Hub stand-in, so huggingface_hub runs for real but nothing leaves loopback)."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from hub_standin import (  # noqa: F401  (hub_env: autouse, a clean Hub environment)
    SHORT_DESCRIPTION_MAX,
    SPACE_COLORS,
    TOKEN,
    HubStandIn,
    closed_port,
    hub_env,
)

from train import push_space

REPO = "me/face-gan-lab"
NEVER = ("train/", "tests/", "bench/", "data/", "runs/", ".venv/", ".git/", ".ci/", ".stamps/")


@pytest.fixture(scope="module")
def space_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("space") / "face-gan-lab"
    assert push_space.main([REPO, "--dry-run", str(out)]) == 0
    return out


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def front_matter(readme: str) -> dict:
    match = re.match(r"^---\n(.*?)\n---\n", readme, re.S)
    assert match, "README.md must start with a YAML front matter block"
    return yaml.safe_load(match[1])


def project_files(folder: str) -> list[str]:
    """What the app reads from a project folder: everything but bytecode, checkpoints and hidden/temp files."""
    base = ROOT / folder
    return [f"{folder}/{p.relative_to(base).as_posix()}" for p in sorted(base.rglob("*"))
            if p.is_file() and not push_space._skipped(p.relative_to(base))]


# -- the folder -----------------------------------------------------------------------------------


def test_dry_run_front_matter_configures_a_docker_space_serving_streamlit(space_dir):
    card = front_matter((space_dir / "README.md").read_text(encoding="utf-8"))
    assert card["sdk"] == "docker" and card["app_port"] == 8501
    assert card["title"] == "Face GAN Lab" and card["license"] == "other" and card["emoji"]
    assert card["colorFrom"] in SPACE_COLORS and card["colorTo"] in SPACE_COLORS
    assert 0 < len(card["short_description"]) <= SHORT_DESCRIPTION_MAX
    assert "streamlit" in card["tags"]

    # The container serves app.py with the Streamlit the project pins, on the port the card names.
    pin = push_space.streamlit_pin((ROOT / "requirements.txt").read_text())
    assert re.search(rf"^streamlit=={re.escape(pin)}$", (space_dir / "requirements.txt").read_text(), re.M)
    docker = (space_dir / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", docker, re.M)
    assert "pip install -r /tmp/requirements.txt" in docker and "useradd -m -u 1000 user" in docker
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", docker, re.M)[1])
    assert cmd[:3] == ["streamlit", "run", "app.py"] and f"--server.port={card['app_port']}" in cmd
    config = tomllib.loads((space_dir / ".streamlit/config.toml").read_text())
    assert config["server"]["port"] == card["app_port"]

    body = (space_dir / "README.md").read_text(encoding="utf-8")
    assert "non-commercial research purposes only" in body and "CelebA" in body


def test_dry_run_holds_the_app_and_every_bundled_model_and_nothing_else(space_dir):
    files = files_in(space_dir)
    expected = ["app.py", ".streamlit/config.toml"]
    for folder in push_space.APP_DIRS:
        expected += project_files(folder)
    for name in expected:  # byte for byte what the app runs from here
        assert files.get(name) == (ROOT / name).read_bytes(), name
    assert set(files) == set(expected) | {"README.md", "Dockerfile", "requirements.txt"}
    assert {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")} <= set(files)
    models = [p.name for p in (ROOT / "weights").iterdir() if (p / "model.safetensors").is_file()]
    assert models and all(f"weights/{m}/model.safetensors" in files for m in models)
    kept = [n for n in files if "/discriminator/" in n]  # the weights serve train.evaluate only: not uploaded
    assert kept and not [n for n in kept if n.endswith("model.safetensors")] and "weights/dcgan-64/discriminator/training.json" in kept

    for name in files:
        assert not name.startswith(NEVER), name
        assert "__pycache__" not in name and not name.endswith((".pyc", ".tmp", "checkpoint.pt")), name
        assert not any(part.startswith(".") for part in name.split("/")) or name == ".streamlit/config.toml", name
    # no import of the training scripts, tests or benchmarks anywhere in the Space's code
    imports = re.compile(r"^\s*(from|import)\s+(train|tests|bench)\b", re.M)
    assert not [n for n in files if n.endswith(".py") and imports.search(files[n].decode())]

    requirements = (space_dir / "requirements.txt").read_text()
    names = {push_space.requirement_name(line) for line in requirements.splitlines()} - {None}
    project = {push_space.requirement_name(line) for line in (ROOT / "requirements.txt").read_text().splitlines()}
    assert names == project - {None} - push_space.DEV_ONLY
    assert {"torch", "streamlit", "huggingface-hub", "facenet-pytorch"} <= names


def test_assemble_leaves_out_checkpoints_bytecode_and_hidden_files(tmp_path):
    root = tmp_path / "project"
    layout = {
        "app.py": "import streamlit", ".streamlit/config.toml": "[server]\nport = 8501\n",
        "requirements.txt": "torch==1\nstreamlit==1.2.3  # pinned\n# tests\npytest==9\n-r other.txt\n",
        "pages/home.py": "", "pages/__pycache__/home.cpython-311.pyc": "", "core/x.py": "", "ui/y.py": "",
        "assets/examples/a.png": "", "weights/m/model.safetensors": "w", "weights/m/snapshots/epoch_001.jpg": "",
        "weights/m/checkpoint.pt": "optimizer state", "weights/m/.model.safetensors.ab12.tmp": "half",
        "weights/.DS_Store": "", "weights/empty/config.json": "{}", "train/dcgan.py": "", "tests/test_x.py": "",
    }
    for name, text in layout.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    written = push_space.assemble(tmp_path / "space", root)
    assert written == sorted(["app.py", ".streamlit/config.toml", "pages/home.py", "core/x.py", "ui/y.py",
                              "assets/examples/a.png", "weights/m/model.safetensors", "weights/empty/config.json",
                              "weights/m/snapshots/epoch_001.jpg", "README.md", "Dockerfile", "requirements.txt"])
    assert (tmp_path / "space/requirements.txt").read_text().splitlines()[1:] == [
        "torch==1", "streamlit==1.2.3  # pinned"]
    assert "Models bundled under `weights/`: `m`." in (tmp_path / "space/README.md").read_text()

    (root / "requirements.txt").write_text("streamlit>=1\n")
    with pytest.raises(push_space.SpaceError, match="no `streamlit==VERSION` pin"):
        push_space.assemble(tmp_path / "space2", root)


def test_usage_errors_exit_2(tmp_path, capsys):
    assert push_space.main(["not a/valid//id"]) == 2
    assert "not a repo id" in capsys.readouterr().err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    assert push_space.main([REPO, "--dry-run", str(tmp_path / "full")]) == 2
    assert "not an empty folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        push_space.main([])
    assert caught.value.code == 2


# -- the app, from the folder alone -------------------------------------------------------------------

APP_CHECK = r"""
import json, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("app.py", default_timeout=300)
at.run()
ours = ("core", "ui", "pages", "train", "tests", "bench")
print(json.dumps({
    "exceptions": [str(e.value) for e in at.exception],
    "titles": [t.value for t in at.title],
    "captions": [c.value for c in at.caption],
    "modules": {n: getattr(m, "__file__", None) for n, m in sys.modules.items() if n.split(".")[0] in ours},
}))
"""


def test_home_page_runs_from_the_space_folder_alone(space_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", APP_CHECK], cwd=space_dir, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert not seen["exceptions"], seen["exceptions"]
    assert seen["titles"][0] == "Face GAN Lab"
    # every module of the app came from the Space folder; nothing from train/ or tests/ was needed
    assert seen["modules"] and all(Path(f).resolve().is_relative_to(space_dir.resolve())
                                   for f in seen["modules"].values() if f), seen["modules"]
    assert not [n for n in seen["modules"] if n.split(".")[0] in ("train", "tests", "bench")]
    captions = " ".join(seen["captions"])
    # every model came from the Space's own weights/ folder, offline, and Home says so once
    assert "Every model here runs from the weights bundled with the app" in captions
    assert "this server is set to work offline" in captions and "Loaded from" not in captions


# -- the push -----------------------------------------------------------------------------------------


def test_push_uploads_exactly_the_space_folder_to_a_space(space_dir, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("HF_TOKEN", TOKEN)  # the environment's login; never printed
    with HubStandIn() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        assert push_space.main([REPO, "--private"]) == 0
        first = capsys.readouterr()
        commits = len(server.commits)
        assert push_space.main([REPO]) == 0  # again, unchanged: nothing new to commit, same Space
        assert len(server.commits) == commits
        second = capsys.readouterr()
        space_url = f"{server.endpoint}/spaces/{REPO}"

    assert server.types[REPO] == "space"
    assert server.created[REPO]["sdk"] == "docker" and server.created[REPO]["visibility"] == "private"
    assert server.uploads[REPO] == files_in(space_dir)  # exactly the dry run's files, byte for byte
    # huggingface_hub commits a large folder in parts of at most a few hundred files: "... (part 2)"
    assert commits >= 1 and all(c["summary"].startswith(push_space.COMMIT_MESSAGE) for c in server.commits)
    pushes = server.seen("preupload") + server.seen("commit")
    assert pushes and all(r.path.startswith(f"/api/spaces/{REPO}/") for r in pushes)
    assert all(r.auth == f"Bearer {TOKEN}" for r in server.seen("create") + pushes)
    assert {v["repoType"] for v in server.validated} == {"space"}  # the card passed the Space rules

    assert f"Space: {space_url} " in first.out
    assert f"commit: {space_url}/commit/{server.heads[REPO]}" in first.out
    assert f"Space: {space_url} " in second.out and server.seen("info")[-1].path.startswith("/api/spaces/")
    for text in (first.out, first.err, second.out, second.err, caplog.text):
        assert TOKEN not in text


def test_unreachable_hub_exits_4_with_one_line_fast(monkeypatch, capsys):
    from core.models import registry  # noqa: F401  (torch imported already: the push is what is timed)

    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("HF_ENDPOINT", closed_port())
    started = time.perf_counter()
    assert push_space.main([REPO]) == 4
    assert time.perf_counter() - started < 3.0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"push failed: cannot push to space {REPO}: ")
    assert "unreachable (connection refused)" in err[0] and TOKEN not in err[0]


def test_payment_required_is_one_readable_line_without_the_token(monkeypatch, capsys):
    """A free account asking for a Docker Space on CPU basic: the Hub answers 402."""
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with HubStandIn(fail={"create": 402}, echo_auth_in_errors=True) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        assert push_space.main([REPO]) == 4
        assert server.count("commit") == 0
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "HTTP 402 (payment required" in lines[0] and REPO in lines[0]
    assert TOKEN not in out + err
