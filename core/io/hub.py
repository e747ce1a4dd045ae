"""The only module that talks to the Hugging Face Hub: is it reachable, fetch a model, push a run or a Space.

The read side is bounded in time, because the app must never freeze on a dead network:
`hub_status` answers within about `timeout` seconds and remembers its answer for a minute, and
`download_model` gives up when the Hub has not answered within about `timeout` + 0.5 s.
Failures are `HubError`s whose message says what failed and why, in words; no message ever holds
the access token.

The endpoint is `HF_ENDPOINT` and the cache is `HF_HUB_CACHE` / `HF_HOME`, both read at call time.
"""

from __future__ import annotations

import fnmatch
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# huggingface_hub reads this when imported; without it, its first request also asks
# huggingface.co (whatever HF_ENDPOINT says) about the calling agent. This app sends no telemetry.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

DEFAULT_ENDPOINT = "https://huggingface.co"
STATUS_TTL_S = 60.0  # how long one reachability answer is trusted
DOWNLOAD_GRACE_S = 0.5  # added to `timeout` before download_model calls a silent Hub dead
# Once a file's bytes flow, the longest wait for the next ones. The library reports progress per
# 10 MB read, so a 7 MB file on a slow link shows no progress until its end: not a dead Hub.
TRANSFER_STALL_S = 30.0
# What push_folder leaves behind: the resumable checkpoint (optimizer state, large, private to
# training), hidden files (including core.io.store's ".name.xxx.tmp" half-written files) and temp files.
PUSH_IGNORE = ("checkpoint.pt", "*/checkpoint.pt", ".*", "*/.*", "*.tmp")
# A Space folder is assembled file by file (train.push_space) and needs its hidden .streamlit/config.toml:
# only checkpoints, temp files and bytecode are left behind.
SPACE_PUSH_IGNORE = ("checkpoint.pt", "*/checkpoint.pt", "*.tmp", "__pycache__/*", "*/__pycache__/*", "*.pyc")
REPO_TYPES = ("model", "space")

_TRUE = {"1", "true", "yes", "on"}
_COMMIT_RE = re.compile(r"[0-9a-f]{40}")
_STATUS_CACHE: dict[str, tuple[float, HubStatus]] = {}
_STATUS_LOCK = threading.Lock()


class HubError(RuntimeError):
    """A Hub operation failed. The message names the repo and the reason and never holds a token."""


@dataclass(frozen=True)
class HubStatus:
    """Whether the Hub answered: `reason` is short text for the UI ("reachable", "connection refused")."""

    reachable: bool
    reason: str
    endpoint: str


def hub_endpoint() -> str:
    """The Hub's base URL: `HF_ENDPOINT` as set now (not at import), default https://huggingface.co.

    Never ends with a slash.
    """
    return (os.environ.get("HF_ENDPOINT") or "").strip().rstrip("/") or DEFAULT_ENDPOINT


def hub_status(timeout: float = 1.5, refresh: bool = False) -> HubStatus:
    """Whether the Hub endpoint answers; never raises and returns within about `timeout` seconds.

    Unreachable at once, with no network use, when `HF_HUB_OFFLINE` is 1/true/yes/on. Otherwise one
    HEAD request on the endpoint root: any HTTP answer (even 404) means reachable. The answer is kept
    for 60 s per endpoint, so loading several models pays the timeout at most once; `refresh=True`
    asks again.
    """
    endpoint = hub_endpoint()
    try:
        if _env_offline():
            return HubStatus(False, "HF_HUB_OFFLINE is set", endpoint)
        offline = _library_offline(endpoint)
        if offline is not None:
            return offline
        if not refresh:
            with _STATUS_LOCK:
                hit = _STATUS_CACHE.get(endpoint)
            if hit is not None and time.monotonic() - hit[0] < STATUS_TTL_S:
                return hit[1]
        status = _probe(endpoint, timeout)
        _remember(status)
        return status
    except Exception as err:  # a status check must never take the app down
        return HubStatus(False, f"status check failed ({type(err).__name__})", endpoint)


# Over 60 lines on purpose: the worker thread and the heartbeat wait share `last_beat`, `state` and `done`
# through closures; split apart they would pass the same four objects back and forth.
def download_model(repo_id: str, revision: str | None, filenames: list[str], timeout: float = 1.5) -> Path:
    """Download `filenames` of model repo `repo_id` at `revision` (None: main) into the HF cache.

    Returns the snapshot folder that holds them all (named after the commit they came from; every
    file comes from the same commit even if main moves meanwhile). A pinned 40-hex commit whose
    files are all cached is returned without any network use.

    Raises HubError when the Hub is unreachable (see `hub_status`), when the repo, revision or a file
    does not exist, and when the Hub stops answering: a file request unanswered for about `timeout`
    + 0.5 s (so a Hub that accepts connections but never answers costs about 2 s), or a transfer
    that stalls for 30 s. The cache is `HF_HUB_CACHE`, else `HF_HOME`/hub, as set at call time.
    """
    names = list(filenames)
    if not names:
        raise HubError(f"download_model({repo_id!r}) needs at least one file name")
    endpoint = hub_endpoint()
    where = f"{repo_id}@{revision or 'main'}"
    cache_dir = _hub_cache_dir()

    if revision and _COMMIT_RE.fullmatch(revision):
        cached = _cached_snapshot(repo_id, revision, names, cache_dir)
        if cached is not None:
            return cached

    status = hub_status(timeout)
    if not status.reachable:
        raise HubError(f"cannot download {where}: the Hub at {endpoint} is unreachable ({status.reason})")

    # huggingface_hub retries a failed metadata request with a 60 s timeout and backoff (and a body
    # read with 10 s timeouts), so one call can stall for minutes. It runs in a worker thread that
    # reports signs of life; without one for the current phase's window we stop waiting. The worker
    # is a daemon: it may finish (harmlessly) into the cache later, or die with the process.
    answer_window = timeout + DOWNLOAD_GRACE_S
    last_beat = [time.monotonic(), answer_window]  # when, and how long the next may take
    state: dict = {"name": names[0]}
    done = threading.Event()

    def beat(transferring: bool = False) -> None:
        last_beat[:] = [time.monotonic(), TRANSFER_STALL_S if transferring else answer_window]

    def work() -> None:
        try:
            state["folder"] = _fetch_files(
                repo_id, revision, names, endpoint, cache_dir, timeout, beat, state
            )
        except BaseException as err:  # handed to the caller's thread
            state["error"] = err
        finally:
            done.set()

    threading.Thread(target=work, name=f"hub-download {repo_id}", daemon=True).start()
    while not done.wait(max(0.0, sum(last_beat) - time.monotonic())):
        since, window = last_beat
        if time.monotonic() - since >= window:
            verb = "answer" if window == answer_window else "progress"
            reason = f"no {verb} within {window:g} s"
            _remember(HubStatus(False, reason, endpoint))
            raise HubError(f"cannot download {state['name']} of {where} from {endpoint}: {reason}")
    if "error" in state:
        raise _download_error(state["error"], where, state["name"], endpoint, timeout) from state["error"]
    return state["folder"]


def push_folder(
    folder: str | Path,
    repo_id: str,
    private: bool = False,
    token: str | None = None,
    commit_message: str = "Upload model from Face GAN Lab",
    repo_type: str = "model",
    space_sdk: str | None = None,
) -> str:
    """Create repo `repo_id` if needed and upload the folder's files (one commit, unless huge).

    `repo_type` "model" (default): a run folder; everything (model.safetensors, config.json,
    training.json, history.jsonl, README.md, snapshots/...) except checkpoint.pt, hidden files and *.tmp.
    `repo_type` "space": a Space folder, created with `space_sdk` ("docker", "streamlit", ...);
    everything except checkpoint.pt, *.tmp and __pycache__ (hidden files such as .streamlit/ go up).
    `token` None means HF_TOKEN or the saved login. Returns the commit URL. Raises HubError (naming the
    repo and the HTTP status, never the token) on any failure, at once when the Hub is unreachable.
    """
    if repo_type not in REPO_TYPES:
        raise ValueError(f"repo_type must be one of {REPO_TYPES}, not {repo_type!r}")
    if (repo_type == "space") != (space_sdk is not None):
        raise ValueError("space_sdk is needed for repo_type 'space', and only for it")
    ignore = SPACE_PUSH_IGNORE if repo_type == "space" else PUSH_IGNORE
    what = f"space {repo_id}" if repo_type == "space" else repo_id
    folder = Path(folder)
    if not folder.is_dir():
        raise HubError(f"cannot push {folder}: not a folder")
    if not _files_to_push(folder, ignore):
        raise HubError(f"cannot push {folder}: no files to upload in it")
    endpoint = hub_endpoint()
    # The push requests have no timeout of their own: make sure the Hub answers now.
    status = hub_status(refresh=True)
    if not status.reachable:
        raise HubError(f"cannot push to {what}: the Hub at {endpoint} is unreachable ({status.reason})")

    from huggingface_hub import HfApi, get_token

    secrets = [s for s in (token, _quiet(get_token)) if s]
    step = "create the repo"
    try:
        api = HfApi(endpoint=endpoint, token=token or None)
        repo_url = api.create_repo(
            repo_id, private=private, exist_ok=True, repo_type=repo_type, space_sdk=space_sdk
        )
        # The Hub puts a bare name under the token owner's namespace: upload where it was created.
        target = getattr(repo_url, "repo_id", None) or repo_id
        step = "upload the files"
        # A copy: upload_folder appends its defaults to the list it is given, in place.
        info = api.upload_folder(
            repo_id=target,
            folder_path=folder,
            commit_message=commit_message,
            ignore_patterns=list(ignore),
            repo_type=repo_type,
        )
    except Exception as err:
        # `from None`: the library's exception holds the request, Authorization header included.
        raise _push_error(err, what, endpoint, step, secrets) from None
    return str(getattr(info, "commit_url", None) or repo_url)


# -- status -------------------------------------------------------------------------------------


def _env_offline() -> bool:
    return (os.environ.get("HF_HUB_OFFLINE") or "").strip().lower() in _TRUE


def _library_offline(endpoint: str) -> HubStatus | None:
    # huggingface_hub reads HF_HUB_OFFLINE once, at import: if it was set then, every request it
    # makes fails, whatever the environment says now.
    from huggingface_hub import constants

    if constants.is_offline_mode():
        return HubStatus(False, "huggingface_hub offline mode (HF_HUB_OFFLINE was set at import)", endpoint)
    return None


def _remember(status: HubStatus) -> None:
    with _STATUS_LOCK:
        _STATUS_CACHE[status.endpoint] = (time.monotonic(), status)


def _probe(endpoint: str, timeout: float) -> HubStatus:
    from huggingface_hub.utils import get_session

    box: dict[str, HubStatus] = {}

    def run() -> None:
        try:
            # The library's shared client: it carries the user's proxy and certificate set-up.
            get_session().head(endpoint + "/", timeout=timeout, follow_redirects=False)
            box["status"] = HubStatus(True, "reachable", endpoint)
        except Exception as err:
            box["status"] = HubStatus(False, _network_reason(err, endpoint, timeout), endpoint)

    # The client's timeouts cover each phase but not name resolution, which can block for long:
    # the thread's deadline bounds the whole.
    worker = threading.Thread(target=run, name="hub-status", daemon=True)
    worker.start()
    worker.join(timeout)
    return box.get("status") or HubStatus(False, f"timed out after {timeout:g} s", endpoint)


def _network_reason(err: BaseException, endpoint: str, timeout: float) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    low = text.lower()
    if "timeout" in type(err).__name__.lower() or "timed out" in low:
        return f"timed out after {timeout:g} s"
    if "refused" in low:
        return "connection refused"
    if any(s in low for s in ("name or service not known", "name resolution", "nodename", "getaddrinfo")):
        return f"cannot resolve {urlsplit(endpoint).hostname}"
    if "unreachable" in low:
        return "network is unreachable"
    if "ssl" in low or "certificate" in low:
        return f"TLS error: {text[:120]}"
    return f"{type(err).__name__}: {text[:160]}" if text else type(err).__name__


# -- download -----------------------------------------------------------------------------------


def _hub_cache_dir() -> str:
    # huggingface_hub fixes its cache folder at import; read the variables now instead.
    env = os.environ
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if env.get(var):
            return os.path.expandvars(os.path.expanduser(env[var]))
    if env.get("HF_HOME"):
        return os.path.join(os.path.expandvars(os.path.expanduser(env["HF_HOME"])), "hub")
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def _snapshot_of(path: Path, name: str) -> Path:
    for _ in Path(name).parts:
        path = path.parent
    return path


def _cached_snapshot(repo_id: str, commit: str, names: list[str], cache_dir: str) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    folders = set()
    for name in names:
        path = try_to_load_from_cache(repo_id, name, cache_dir=cache_dir, revision=commit, repo_type="model")
        if not isinstance(path, str):
            return None
        folders.add(_snapshot_of(Path(path), name))
    return folders.pop() if len(folders) == 1 else None


def _heartbeat_bar(beat: Callable[..., None]) -> type:
    from huggingface_hub.utils import tqdm as hf_tqdm

    # The library makes a file's progress bar once the Hub has answered for it (HTTP or Xet) and
    # ticks it as bytes come: the signs of life download_model waits for.
    class HeartbeatBar(hf_tqdm):
        def __init__(self, *args, **kwargs):
            beat(transferring=True)
            super().__init__(*args, **kwargs)

        def update(self, n=1):
            beat(transferring=True)
            return super().update(n)

    return HeartbeatBar


def _fetch_files(repo_id, revision, names, endpoint, cache_dir, timeout, beat, state) -> Path:
    # One hf_hub_download per file, not snapshot_download: the latter fetches in a ThreadPoolExecutor whose
    # (non-daemon) threads the interpreter joins at exit, so a download abandoned on a stalled Hub kept the
    # process from exiting for minutes. Here the only thread is download_model's daemon worker.
    from huggingface_hub import hf_hub_download

    bar = _heartbeat_bar(beat)
    folder = None
    for name in names:
        state["name"] = name
        beat()
        path = hf_hub_download(
            repo_id,
            name,
            revision=revision,
            repo_type="model",
            cache_dir=cache_dir,
            endpoint=endpoint,
            etag_timeout=timeout,
            tqdm_class=bar,
        )
        beat()
        if folder is None:
            folder = _snapshot_of(Path(path), name)
            # Pin the rest to the first file's commit: all land in one snapshot folder even if the
            # branch moves while we download.
            revision = folder.name
    return folder


def _download_error(err: BaseException, where: str, name: str, endpoint: str, timeout: float) -> HubError:
    from huggingface_hub import errors

    status = getattr(getattr(err, "response", None), "status_code", None)
    if isinstance(err, errors.GatedRepoError):
        why = "the repo is gated: accept its terms on the Hub and log in"
    elif isinstance(err, errors.RepositoryNotFoundError):
        why = f"repository not found (HTTP {status}; or it is private and no valid token was sent)"
    elif isinstance(err, errors.RevisionNotFoundError):
        why = f"revision not found (HTTP {status})"
    elif isinstance(err, errors.RemoteEntryNotFoundError):
        why = f"no such file in the repo (HTTP {status})"
    elif isinstance(err, errors.HfHubHTTPError):
        why = f"HTTP {status}"
    elif isinstance(err, errors.LocalEntryNotFoundError) and err.__cause__ is not None:
        # The library wraps network failures as "not in the local cache": report the real cause.
        why = _network_reason(err.__cause__, endpoint, timeout)
        _remember(HubStatus(False, why, endpoint))
    else:
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
        why = f"{type(err).__name__}: {first}" if first else type(err).__name__
    return HubError(f"cannot download {name} of {where} from {endpoint}: {why}")


# -- push ---------------------------------------------------------------------------------------


def _files_to_push(folder: Path, ignore: Iterable[str] = PUSH_IGNORE) -> list[str]:
    rels = (p.relative_to(folder).as_posix() for p in sorted(folder.rglob("*")) if p.is_file())
    return [r for r in rels if not any(fnmatch.fnmatchcase(r, pat) for pat in ignore)]


def _quiet(fn: Callable[[], str | None]) -> str | None:
    try:
        return fn()
    except Exception:
        return None


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _push_error(err: BaseException, repo_id: str, endpoint: str, step: str, secrets: list[str]) -> HubError:
    status = getattr(getattr(err, "response", None), "status_code", None)
    hints = {
        401: "not authenticated: log in with `hf auth login` or set HF_TOKEN",
        402: "payment required: a Space on compute hardware needs a subscription or billing set up",
        403: "forbidden: the token cannot write to this repo or namespace",
        404: "not found",
    }
    if status is not None:
        why = f"HTTP {status}" + (f" ({hints[status]})" if status in hints else "")
        server = " / ".join(
            line.strip() for line in (getattr(err, "server_message", None) or "").splitlines()
        )
        if server.strip(" /"):
            why += f": {server[:300]}"
    else:
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
        why = f"{type(err).__name__}: {first}" if first else type(err).__name__
    return HubError(_scrub(f"push to {repo_id} at {endpoint} failed to {step}: {why}", secrets))
