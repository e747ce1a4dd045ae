"""core.io.hub against a local stand-in for the Hub (loopback only): huggingface_hub runs for real."""

from __future__ import annotations

import json
import logging
import time
import traceback
from pathlib import Path

import pytest
from hub_standin import TOKEN, HangingServer, HubStandIn, closed_port, hub_env  # noqa: F401  (hub_env: autouse)

from core.io import hub

REPO = "face-gan-lab/dcgan-64"
FILES = {
    "model.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}      " + bytes(range(256)) * 8,
    "config.json": json.dumps({"nz": 100, "ngf": 64}).encode(),
    "training.json": b'{"epochs": 5}',
}
@pytest.fixture
def standin(monkeypatch):
    with HubStandIn({REPO: FILES}) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint + "/")  # the trailing slash must not matter
        yield server


# -- hub_endpoint / hub_status ------------------------------------------------------------------


def test_hub_endpoint_reads_the_environment_at_call_time(monkeypatch):
    assert hub.hub_endpoint() == "https://huggingface.co"
    monkeypatch.setenv("HF_ENDPOINT", "http://mirror.example:8080//")
    assert hub.hub_endpoint() == "http://mirror.example:8080"


def test_status_reachable(standin):
    status = hub.hub_status()
    assert status == hub.HubStatus(True, "reachable", standin.endpoint)
    assert standin.count("root") == 1


@pytest.mark.parametrize("value", ["1", "TRUE", "yes", "On"])
def test_status_offline_env_is_instant_and_silent(standin, monkeypatch, value):
    monkeypatch.setenv("HF_HUB_OFFLINE", value)
    started = time.perf_counter()
    status = hub.hub_status(refresh=True)
    assert time.perf_counter() - started < 0.1
    assert not status.reachable and status.reason == "HF_HUB_OFFLINE is set"
    assert standin.count() == 0


def test_status_refused(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", closed_port())
    started = time.perf_counter()
    status = hub.hub_status()
    assert time.perf_counter() - started < 1.0
    assert not status.reachable and status.reason == "connection refused"


def test_status_hanging_server_gives_up_in_time(monkeypatch):
    with HangingServer() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        started = time.perf_counter()
        status = hub.hub_status(timeout=1.5)
        elapsed = time.perf_counter() - started
        assert server.connections >= 1  # it did connect; the server just never answered
    assert elapsed < 2.0
    assert not status.reachable and status.reason == "timed out after 1.5 s"


def test_status_is_cached_per_endpoint_and_refresh_asks_again(standin, monkeypatch):
    assert hub.hub_status().reachable
    assert hub.hub_status().reachable
    assert standin.count("root") == 1  # the second answer came from the cache
    assert hub.hub_status(refresh=True).reachable
    assert standin.count("root") == 2
    monkeypatch.setenv("HF_ENDPOINT", closed_port())  # another endpoint, its own answer
    assert not hub.hub_status().reachable
    monkeypatch.setenv("HF_ENDPOINT", standin.endpoint)
    assert hub.hub_status().reachable and standin.count("root") == 2


# -- download_model -----------------------------------------------------------------------------


def test_download_model_gets_the_files(standin, monkeypatch, hub_env):  # noqa: F811  (the fixture, imported)
    monkeypatch.setenv("HF_TOKEN", TOKEN)  # the saved login goes to the Hub, never to the CDN
    folder = hub.download_model(REPO, None, list(FILES))
    assert folder.is_relative_to(hub_env / "hf" / "hub")
    assert folder.name == standin.heads[REPO]  # the snapshot of the commit the stand-in served
    assert {name: (folder / name).read_bytes() for name in FILES} == FILES
    # model.safetensors went the LFS way: a redirect to the "CDN", fetched there without the token
    assert [r.method for r in standin.seen("cdn")] == ["GET"]
    assert standin.seen("cdn")[0].auth is None
    assert all(r.auth == f"Bearer {TOKEN}" for r in standin.seen("resolve"))
    # the files after the first are pinned to its commit
    assert {r.path.split("/resolve/")[1].split("/")[0] for r in standin.seen("resolve")} == {
        "main",
        standin.heads[REPO],
    }


def test_download_model_pinned_commit_in_cache_needs_no_network(standin, monkeypatch):
    sha = standin.heads[REPO]
    first = hub.download_model(REPO, sha, list(FILES))
    monkeypatch.setenv("HF_ENDPOINT", closed_port())
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub.download_model(REPO, sha, list(FILES)) == first
    with pytest.raises(hub.HubError, match="HF_HUB_OFFLINE is set"):
        hub.download_model(REPO, "main", list(FILES))  # a branch must be asked for


def test_download_model_hanging_server_raises_fast(monkeypatch):
    with HangingServer() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        started = time.perf_counter()
        with pytest.raises(hub.HubError, match="unreachable .timed out after 1.5 s"):
            hub.download_model(REPO, None, list(FILES))
        elapsed = time.perf_counter() - started
    assert elapsed < 2.5


def test_download_model_refused_raises_fast(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", closed_port())
    started = time.perf_counter()
    with pytest.raises(hub.HubError, match="connection refused"):
        hub.download_model(REPO, None, list(FILES))
    assert time.perf_counter() - started < 1.0


def test_download_model_hub_answering_but_files_stalling_raises_fast(monkeypatch):
    """The Hub root answers (status says reachable) but the file requests never do."""
    # Left listening on purpose until the process ends: the abandoned download thread goes on
    # retrying inside huggingface_hub, and a refused retry would make the library close its shared
    # HTTP client, perhaps under another test. Stalled, each retry just waits out its 60 s timeout.
    server = HubStandIn({REPO: FILES}, stall={"resolve"}, stall_s=3600).start()
    monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
    assert hub.hub_status().reachable
    started = time.perf_counter()
    with pytest.raises(hub.HubError, match="no answer within 2 s"):
        hub.download_model(REPO, None, list(FILES))
    elapsed = time.perf_counter() - started
    assert elapsed < 2.5
    assert server.count("resolve") >= 1 and server.count("cdn") == 0
    # the verdict is remembered: the next model does not wait again
    assert hub.hub_status() == hub.HubStatus(False, "no answer within 2 s", server.endpoint)
    assert server.count("root") == 1


def test_download_model_slow_transfer_is_not_a_dead_hub(monkeypatch):
    """The Hub answers at once but the bytes take longer than the answer window: keep going."""
    with HubStandIn({REPO: FILES}, slow={"config.json": 2.0}) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        started = time.perf_counter()
        folder = hub.download_model(REPO, None, ["config.json"], timeout=1.0)  # answer window 1.5 s
        elapsed = time.perf_counter() - started
    assert (folder / "config.json").read_bytes() == FILES["config.json"]
    assert elapsed > 1.5


@pytest.mark.parametrize(
    ("repo", "revision", "names", "words"),
    [
        ("face-gan-lab/no-such-model", None, ["model.safetensors"], "repository not found"),
        (REPO, None, ["config.json", "no-such-file.bin"], "no-such-file.bin of .* no such file"),
        (REPO, "v9", ["config.json"], "revision not found"),
    ],
)
def test_download_model_missing_things_raise_huberror(standin, repo, revision, names, words):
    with pytest.raises(hub.HubError, match=words) as caught:
        hub.download_model(repo, revision, names)
    assert repo in str(caught.value)


# -- push_folder --------------------------------------------------------------------------------


def make_run_folder(root: Path) -> dict[str, bytes]:
    """A training run folder; returns what should be uploaded from it."""
    expected = {
        "model.safetensors": FILES["model.safetensors"],
        "config.json": FILES["config.json"],
        "README.md": b"---\nlicense: mit\n---\n# DCGAN 64\n",
        "history.jsonl": b'{"epoch": 1, "loss_g": 2.5}\n',
        "snapshots/epoch_001.jpg": b"\xff\xd8\xff\xe0 not really a jpeg",
    }
    for name, data in expected.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "checkpoint.pt").write_bytes(b"optimizer state, never published")
    (root / ".model.safetensors.x1y2.tmp").write_bytes(b"half-written")
    (root / "snapshots" / ".DS_Store").write_bytes(b"junk")
    return expected


def assert_token_hidden(capsys, caplog) -> None:
    out, err = capsys.readouterr()
    assert TOKEN not in out + err + caplog.text


def test_push_folder_uploads_the_run(standin, tmp_path, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    expected = make_run_folder(tmp_path / "run")
    url = hub.push_folder(tmp_path / "run", REPO.replace("dcgan-64", "new-run"), private=True, token=TOKEN)

    repo = "face-gan-lab/new-run"
    assert standin.created[repo]["visibility"] == "private"
    assert standin.uploads[repo] == expected  # exactly these files, these bytes
    assert url == f"{standin.endpoint}/{repo}/commit/{standin.heads[repo]}"
    assert [c["summary"] for c in standin.commits] == ["Upload model from Face GAN Lab"]
    pushes = standin.seen("create") + standin.seen("preupload") + standin.seen("commit")
    assert len(pushes) == 3 and all(r.auth == f"Bearer {TOKEN}" for r in pushes)
    assert_token_hidden(capsys, caplog)

    # and it comes back down through the download path
    folder = hub.download_model(repo, None, list(expected))
    assert {name: (folder / name).read_bytes() for name in expected} == expected


def test_push_folder_into_existing_repo_with_env_token(standin, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)  # token=None: the environment's login is used
    expected = make_run_folder(tmp_path / "run")
    url = hub.push_folder(tmp_path / "run", REPO)  # exists already: 409 on create is fine
    assert url == f"{standin.endpoint}/{REPO}/commit/{standin.heads[REPO]}"
    # model.safetensors and config.json are unchanged on the Hub: the library leaves them out
    assert set(standin.uploads[REPO]) == set(expected) - {"model.safetensors", "config.json"}
    assert standin.repos[REPO] == {**FILES, **expected}  # training.json stays
    assert [r.auth for r in standin.seen("commit")] == [f"Bearer {TOKEN}"]


def test_push_folder_http_error_names_repo_and_status_not_token(tmp_path, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    make_run_folder(tmp_path / "run")
    with HubStandIn({REPO: FILES}, fail={"commit": 403}, echo_auth_in_errors=True) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        with pytest.raises(hub.HubError) as caught:
            hub.push_folder(tmp_path / "run", REPO, token=TOKEN)
        assert server.count("commit") == 1 and server.seen("commit")[0].auth == f"Bearer {TOKEN}"
    message = str(caught.value)
    assert REPO in message and "HTTP 403" in message and "forbidden" in message
    assert "***" in message  # the server echoed the credentials; they were blanked
    shown = "".join(traceback.format_exception(caught.value))
    assert TOKEN not in message and TOKEN not in shown
    logging.getLogger("test").error("push failed", exc_info=caught.value)
    assert_token_hidden(capsys, caplog)


def test_push_folder_unreachable_or_empty_raises_fast(tmp_path, monkeypatch):
    make_run_folder(tmp_path / "run")
    monkeypatch.setenv("HF_ENDPOINT", closed_port())
    started = time.perf_counter()
    with pytest.raises(hub.HubError, match=f"cannot push to {REPO}: .* unreachable .connection refused"):
        hub.push_folder(tmp_path / "run", REPO, token=TOKEN)
    assert time.perf_counter() - started < 1.0
    (tmp_path / "only-checkpoint").mkdir()
    (tmp_path / "only-checkpoint" / "checkpoint.pt").write_bytes(b"x")
    with pytest.raises(hub.HubError, match="no files to upload"):
        hub.push_folder(tmp_path / "only-checkpoint", REPO, token=TOKEN)


# -- the registry through the Hub -----------------------------------------------------------------


def _bundled_files(name: str) -> dict[str, bytes]:
    from core.models import registry

    folder = registry.get_spec(name).bundled_dir
    return {f: (folder / f).read_bytes() for f in registry.MODEL_FILES}


def test_registry_loads_from_the_hub_when_reachable(monkeypatch):
    import torch

    from core.models import registry

    spec = registry.get_spec("dcgan-64")
    with HubStandIn({spec.hub_repo: _bundled_files("dcgan-64")}) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        loaded = registry.load("dcgan-64")
        assert server.count("root") == 1
    assert loaded.source == "hub" and spec.hub_repo in loaded.note
    assert loaded.folder != spec.bundled_dir and (loaded.folder / "model.safetensors").exists()
    bundled = registry.load("dcgan-64", use_hub=False)
    z = torch.randn(2, loaded.config["nz"])
    with torch.inference_mode():
        assert torch.equal(loaded.model(z), bundled.model(z))


@pytest.mark.parametrize("mode", ["refuse", "hang"])
def test_registry_falls_back_to_bundled_within_2_s(monkeypatch, mode, hub_probe_times):
    from core.models import registry

    def load():
        started = time.perf_counter()
        loaded = registry.load("dcgan-64")
        return loaded, time.perf_counter() - started

    if mode == "refuse":
        monkeypatch.setenv("HF_ENDPOINT", closed_port())
        loaded, elapsed = load()
        assert "refused" in loaded.note
    else:
        with HangingServer() as server:
            monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
            loaded, elapsed = load()
        assert "timed out" in loaded.note
    assert loaded.source == "bundled" and "Hub unreachable" in loaded.note
    # the Hub's share: one question that gives up within 2 s; reading the bundled file comes on top
    # and depends on the machine's load (bench/ measures load times)
    assert len(hub_probe_times) == 1 and hub_probe_times[0] < 2.0, f"the Hub check took {hub_probe_times} s"
    assert elapsed < hub_probe_times[0] + 3.0, f"fallback took {elapsed:.2f} s"


def test_dcgan_script_pushes_its_run_with_a_model_card(standin, tmp_path, monkeypatch, capsys):
    from conftest import ROOT

    from core.data.caches import build_center_cache, celeba_root

    if not (celeba_root() / "train").is_dir():
        pytest.skip("shared CelebA photos not found")
    data = tmp_path / "tiny.safetensors"
    build_center_cache(celeba_root() / "train", data, 64, limit=16)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.chdir(ROOT)
    from train import dcgan

    out = tmp_path / "run"
    assert dcgan.main(["--dry-run", "--data", str(data), "--out", str(out), "--push-to-hub", "me/dcgan-try"]) == 0
    sent = standin.uploads["me/dcgan-try"]
    assert {"model.safetensors", "config.json", "training.json", "history.jsonl", "README.md",
            "snapshots/epoch_001.jpg"} == set(sent)
    assert "checkpoint.pt" not in sent and (out / "checkpoint.pt").exists()
    card = sent["README.md"].decode()
    assert "non-commercial research purposes only" in card and "Limits and bias" in card
    assert TOKEN not in capsys.readouterr().out


def test_detector_script_pushes_weights_spectra_and_card(standin, tmp_path, monkeypatch, capsys):
    from core.data.caches import celeba_root

    if not (celeba_root() / "train").is_dir():
        pytest.skip("shared CelebA photos not found")
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    from train import detector

    out = tmp_path / "run"
    assert detector.main(["--arch", "cnn", "--dry-run", "--sources", "celeba", "dcgan-64", "--data",
                          str(celeba_root().parent), "--out", str(out), "--push-to-hub", "me/detector-try"]) == 0
    sent = standin.uploads["me/detector-try"]
    assert {"model.safetensors", "config.json", "training.json", "history.jsonl", "spectra.json",
            "README.md"} == set(sent)
    card = sent["README.md"].decode()
    assert "non-commercial research only" in card and "temperature" in card and "Limits" in card
    assert TOKEN not in capsys.readouterr().out
