"""A local stand-in for the Hugging Face Hub's HTTP API, on loopback, for tests.

`HubStandIn` answers what huggingface_hub 2.4.0 asks of the Hub:

- reachability: HEAD/GET `/`;
- `hf_hub_download`: HEAD/GET `/{repo}/resolve/{revision}/{path}` with `X-Repo-Commit`, `ETag`,
  `Content-Length`; files named `*.safetensors` are "LFS": a 302 to `http://localhost:{port}/cdn/{sha256}`
  (another origin, like the Hub's CDN, so the library drops the Authorization header there) with
  `X-Linked-Etag` and `X-Linked-Size`; misses are 404 with `X-Error-Code` RepoNotFound, RevisionNotFound
  or EntryNotFound, as the Hub sends them;
- pushing (`HfApi.create_repo` + `upload_folder`): POST `/api/repos/create`, POST `/api/validate-yaml`
  (README.md), POST `/api/models/{repo}/preupload/{rev}` (every file "regular", so the library sends it
  inline, base64, in the commit: no LFS or Xet upload), POST `/api/models/{repo}/commit/{rev}` (NDJSON),
  GET `/api/models/{repo}[/revision/{rev}]`;
- Spaces (and datasets) the same way under `/api/spaces/...` (`/api/datasets/...`), with
  `/spaces/{repo}/resolve/...` for downloads. A repo has one type (`types`, "model" unless created or
  declared otherwise), and asking for it under another type's routes is a 404, as on the Hub. Creating a
  Space records its `sdk`; its README.md front matter is checked at validate-yaml against the Spaces
  configuration reference's rules that a typo breaks: it parses, `sdk` is one the Hub knows, the colours are
  from the thumbnail list, `short_description` is at most 60 characters.

It records every request (`requests`, with headers), what commits carried (`uploads`), and can fail a
route with a status (`fail={"commit": 403}`) or never answer it (`stall={"resolve"}`).

`closed_port()` gives an endpoint where nothing listens (connection refused); `HangingServer` accepts
connections and never answers. `hub_env` is the fixture for a clean Hub environment (import it into a test
module to make it autouse there) and `TOKEN` the login its tests use.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import pytest
from huggingface_hub import constants as hf_constants

from core.io import hub

_KINDS = {"models": "model", "spaces": "space", "datasets": "dataset"}  # URL segment -> repo type
_PREUPLOAD_COMMIT = re.compile(
    r"^/api/(?P<kind>models|spaces|datasets)/(?P<repo>.+)/(?P<op>preupload|commit)/(?P<rev>[^/]+)$"
)
_INFO = re.compile(r"^/api/(?P<kind>models|spaces|datasets)/(?P<repo>.+?)(?:/revision/(?P<rev>[^/]+))?$")
# What the Hub accepts in a Space card: sdk and colours from its Spaces configuration reference; the
# 60-character cap on short_description is not on that page but reported by people the Hub refused.
SPACE_SDKS = ("gradio", "streamlit", "docker", "static")
SPACE_COLORS = ("red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray")
SHORT_DESCRIPTION_MAX = 60
_CDN = re.compile(r"^/cdn/(?P<oid>[0-9a-f]{64})$")


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a blob: what the Hub sends as ETag for small files."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def closed_port() -> str:
    """An endpoint on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass
class Seen:
    """One request the stand-in received."""

    method: str
    path: str
    route: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names

    @property
    def auth(self) -> str | None:
        return self.headers.get("authorization")


class HubStandIn:
    """A threaded HTTP server on 127.0.0.1 (port 0) that plays the Hub for `repos`.

    `repos` maps repo id -> {path in repo: bytes}; `types` gives a repo's type where it is not "model".
    Use as a context manager; `endpoint` is its URL.
    """

    def __init__(
        self,
        repos: dict[str, dict[str, bytes]] | None = None,
        *,
        fail: dict[str, int] | None = None,
        stall: set[str] | frozenset[str] = frozenset(),
        echo_auth_in_errors: bool = False,
        user: str = "standin-user",
        lfs_suffixes: tuple[str, ...] = (".safetensors",),
        stall_s: float = 120.0,
        slow: dict[str, float] | None = None,
        types: dict[str, str] | None = None,
    ):
        self.repos: dict[str, dict[str, bytes]] = {r: dict(f) for r, f in (repos or {}).items()}
        self.types: dict[str, str] = {r: (types or {}).get(r, "model") for r in self.repos}
        self.validated: list[dict] = []  # the bodies of validate-yaml requests
        self.heads: dict[str, str] = {r: self._commit_sha(r, 0) for r in self.repos}
        self.uploads: dict[str, dict[str, bytes]] = {}
        self.commits: list[dict] = []
        self.created: dict[str, dict] = {}
        self.requests: list[Seen] = []
        self.fail = dict(fail or {})
        self.stall = set(stall)
        self.echo_auth_in_errors = echo_auth_in_errors
        self.user = user
        self.lfs_suffixes = lfs_suffixes
        # A stalled request is held this long and then dropped without an answer. Long on purpose:
        # a client that gave up may retry, and its retries should not land while other tests run.
        self.stall_s = stall_s
        self.slow = dict(slow or {})  # path in repo -> seconds over which its body trickles out
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._n_commits = 0

    # -- life cycle -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return self._server.server_address[1]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HubStandIn:
        standin = self

        class Handler(_Handler):
            hub = standin

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="hub-standin", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> HubStandIn:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- what was seen --------------------------------------------------------------------------

    def seen(self, route: str | None = None) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if route is None or r.route == route]

    def count(self, route: str | None = None) -> int:
        return len(self.seen(route))

    # -- helpers used by the handler ------------------------------------------------------------

    def _commit_sha(self, repo: str, n: int) -> str:
        return hashlib.sha1(f"{repo}#{n}".encode()).hexdigest()

    def repo_url(self, repo: str) -> str:
        """The repo's page, as the Hub writes it: /spaces/ or /datasets/ before the id of those types."""
        prefix = {"space": "spaces/", "dataset": "datasets/"}.get(self.types.get(repo, "model"), "")
        return f"{self.endpoint}/{prefix}{repo}"

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self.requests.append(seen)

    def _apply_commit(self, repo: str, revision: str, lines: list[dict]) -> tuple[int, dict]:
        header = next((x["value"] for x in lines if x.get("key") == "header"), {})
        added: dict[str, bytes] = {}
        deleted: list[str] = []
        for item in lines:
            key, value = item.get("key"), item.get("value", {})
            if key == "file":
                if value.get("encoding") != "base64":
                    return 422, {
                        "error": f"stand-in only takes base64 file content, got {value.get('encoding')}"
                    }
                added[value["path"]] = base64.b64decode(value["content"])
            elif key == "deletedFile":
                deleted.append(value["path"])
            elif key in ("lfsFile", "deletedFolder"):
                return 422, {"error": f"stand-in does not support '{key}' commit operations"}
        with self._lock:
            files = self.repos[repo]
            files.update(added)
            for path in deleted:
                files.pop(path, None)
            self.uploads.setdefault(repo, {}).update(added)
            self._n_commits += 1
            sha = self._commit_sha(repo, self._n_commits)
            self.heads[repo] = sha
            self.commits.append(
                {
                    "repo": repo,
                    "revision": revision,
                    "summary": header.get("summary"),
                    "files": sorted(added),
                    "oid": sha,
                }
            )
        return 200, {
            "success": True,
            "commitOid": sha,
            "commitUrl": f"{self.repo_url(repo)}/commit/{sha}",
            "pullRequestUrl": None,
        }


class _Handler(BaseHTTPRequestHandler):
    hub: HubStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    # -- plumbing -------------------------------------------------------------------------------

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, trickle_s: float = 0.0
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not body or self.command == "HEAD":
            return
        if trickle_s <= 0:
            self.wfile.write(body)
            return
        self.wfile.flush()  # headers out now: the client has its answer, the bytes come slowly
        pieces = 5
        step = -(-len(body) // pieces)
        for start in range(0, len(body), step):
            threading.Event().wait(trickle_s / pieces)
            self.wfile.write(body[start : start + step])
            self.wfile.flush()

    def _json(self, status: int, obj, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), {"Content-Type": "application/json", **(headers or {})})

    def _error(
        self, status: int, code: str | None, message: str, headers: dict[str, str] | None = None
    ) -> None:
        extra = {"X-Error-Message": message, **(headers or {})}
        if code:
            extra["X-Error-Code"] = code
        self._json(status, {"error": message}, extra)

    # -- routing --------------------------------------------------------------------------------

    def _route(self, path: str) -> tuple[str, dict]:
        if path == "/":
            return "root", {}
        if path == "/api/repos/create":
            return "create", {}
        if path == "/api/validate-yaml":
            return "validate-yaml", {}
        if m := _PREUPLOAD_COMMIT.match(path):
            return m["op"], {"repo": unquote(m["repo"]), "rev": unquote(m["rev"]), "kind": _KINDS[m["kind"]]}
        if m := _INFO.match(path):
            return "info", {"repo": unquote(m["repo"]), "rev": unquote(m["rev"] or "main"), "kind": _KINDS[m["kind"]]}
        if m := _CDN.match(path):
            return "cdn", {"oid": m["oid"]}
        if "/resolve/" in path:
            repo, rest = path[1:].split("/resolve/", 1)
            kind = "model"
            for segment, name in _KINDS.items():
                if segment != "models" and repo.startswith(segment + "/"):
                    repo, kind = repo.removeprefix(segment + "/"), name
            rev, _, filename = rest.partition("/")
            return "resolve", {"repo": unquote(repo), "rev": unquote(rev), "file": unquote(filename), "kind": kind}
        return "unknown", {}

    def _handle(self) -> None:
        path = urlsplit(self.path).path
        route, params = self._route(path)
        body = self._body()
        hub = self.hub
        hub._record(Seen(self.command, path, route, {k.lower(): v for k, v in self.headers.items()}))

        if route in hub.stall:
            threading.Event().wait(hub.stall_s)  # never answer (in test time)
            self.close_connection = True
            return
        if route in hub.fail:
            message = f"stand-in refuses {route}"
            body = {"error": message}
            if hub.echo_auth_in_errors:  # a careless server that echoes the credentials in its error body
                body["error"] = f"{message} for {self.headers.get('Authorization')}"
            self._json(hub.fail[route], body, {"X-Error-Message": message})
            return
        getattr(self, "_do_" + route.replace("-", "_"))(params, body)

    do_GET = do_HEAD = do_POST = do_PUT = _handle

    # -- routes ---------------------------------------------------------------------------------

    def _do_unknown(self, params, body) -> None:
        self._error(404, None, f"stand-in has no route for {self.command} {self.path}")

    def _do_root(self, params, body) -> None:
        self._send(200, b"Hugging Face Hub stand-in\n", {"Content-Type": "text/plain"})

    def _repo_or_404(self, repo: str, kind: str = "model") -> dict[str, bytes] | None:
        files = self.hub.repos.get(repo)
        if files is None or self.hub.types.get(repo) != kind:  # a Space is not found among models
            self._error(404, "RepoNotFound", "Repository not found")
            return None
        return files

    def _do_resolve(self, params, body) -> None:
        hub = self.hub
        files = self._repo_or_404(params["repo"], params["kind"])
        if files is None:
            return
        head = hub.heads[params["repo"]]
        if params["rev"] not in ("main", head):
            self._error(404, "RevisionNotFound", f"Invalid rev id: {params['rev']}")
            return
        data = files.get(params["file"])
        common = {"X-Repo-Commit": head}
        if data is None:
            self._error(404, "EntryNotFound", "Entry not found", common)
            return
        if params["file"].endswith(hub.lfs_suffixes):
            oid = hashlib.sha256(data).hexdigest()
            self._send(
                302,
                headers={
                    **common,
                    "ETag": f'"{git_blob_sha1(oid.encode())}"',
                    "X-Linked-Etag": f'"{oid}"',
                    "X-Linked-Size": str(len(data)),
                    "Location": f"http://localhost:{hub.port}/cdn/{oid}",
                },
            )
            return
        self._send(
            200,
            data,
            {**common, "ETag": f'"{git_blob_sha1(data)}"', "Content-Type": "application/octet-stream"},
            trickle_s=hub.slow.get(params["file"], 0.0),
        )

    def _do_cdn(self, params, body) -> None:
        for files in self.hub.repos.values():
            for data in files.values():
                if hashlib.sha256(data).hexdigest() == params["oid"]:
                    self._send(
                        200, data, {"ETag": f'"{params["oid"]}"', "Content-Type": "application/octet-stream"}
                    )
                    return
        self._error(404, None, "no such object")

    def _do_create(self, params, body) -> None:
        hub = self.hub
        payload = json.loads(body or b"{}")
        repo = f"{payload.get('organization') or hub.user}/{payload['name']}"
        kind = payload.get("type") or "model"
        if kind == "space" and payload.get("sdk") not in SPACE_SDKS:
            self._error(400, None, f"Invalid sdk {payload.get('sdk')!r}; expected one of {', '.join(SPACE_SDKS)}")
            return
        with hub._lock:
            exists = repo in hub.repos
            if not exists:
                hub.repos[repo] = {}
                hub.types[repo] = kind
                hub.heads[repo] = hub._commit_sha(repo, 0)
                hub.created[repo] = payload
        url = hub.repo_url(repo)
        if exists:
            self._json(409, {"error": f"You already created this {hub.types[repo]} repo", "url": url})
        else:
            self._json(200, {"url": url, "name": repo, "id": hub._commit_sha(repo, -1)[:24]})

    def _do_validate_yaml(self, params, body) -> None:
        payload = json.loads(body or b"{}")
        with self.hub._lock:
            self.hub.validated.append(payload)
        errors = _space_card_errors(payload.get("content", "")) if payload.get("repoType") == "space" else []
        self._json(400 if errors else 200, {"errors": [{"message": e} for e in errors], "warnings": []})

    def _do_preupload(self, params, body) -> None:
        files = self._repo_or_404(params["repo"], params["kind"])
        if files is None:
            return
        payload = json.loads(body or b"{}")
        answer = []
        for f in payload.get("files", []):
            old = files.get(f["path"])
            answer.append(
                {
                    "path": f["path"],
                    "uploadMode": "regular",
                    "shouldIgnore": False,
                    "oid": git_blob_sha1(old) if old is not None else None,
                }
            )
        self._json(200, {"files": answer, "commitOid": self.hub.heads[params["repo"]]})

    def _do_commit(self, params, body) -> None:
        if self._repo_or_404(params["repo"], params["kind"]) is None:
            return
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        status, answer = self.hub._apply_commit(params["repo"], params["rev"], lines)
        self._json(status, answer)

    def _do_info(self, params, body) -> None:
        files = self._repo_or_404(params["repo"], params["kind"])
        if files is None:
            return
        created = self.hub.created.get(params["repo"], {})
        info = {
            "id": params["repo"],
            "sha": self.hub.heads[params["repo"]],
            "private": created.get("visibility") == "private",
            "siblings": [{"rfilename": name} for name in sorted(files)],
        }
        if params["kind"] == "space":
            info["sdk"] = created.get("sdk")
        self._json(200, info)


def _space_card_errors(readme: str) -> list[str]:
    """What the Hub would refuse in a Space's README.md front matter (a few rules; see the module doc)."""
    import yaml  # a dependency of huggingface_hub

    match = re.match(r"^---\r?\n(.*?)\r?\n---\r?\n", readme, re.S)
    if not match:
        return ["README.md has no YAML front matter"]
    try:
        card = yaml.safe_load(match[1]) or {}
    except yaml.YAMLError as err:
        return [f"YAML front matter does not parse: {str(err).splitlines()[0]}"]
    if not isinstance(card, dict):
        return ["YAML front matter is not a mapping"]
    errors = []
    if card.get("sdk") not in SPACE_SDKS:
        errors.append(f"sdk must be one of {', '.join(SPACE_SDKS)}, not {card.get('sdk')!r}")
    for key in ("colorFrom", "colorTo"):
        if key in card and card[key] not in SPACE_COLORS:
            errors.append(f"{key} must be one of {', '.join(SPACE_COLORS)}, not {card[key]!r}")
    short = card.get("short_description")
    if short is not None and (not isinstance(short, str) or len(short) > SHORT_DESCRIPTION_MAX):
        errors.append(f"short_description must be a string of at most {SHORT_DESCRIPTION_MAX} characters")
    if "app_port" in card and not isinstance(card["app_port"], int):
        errors.append("app_port must be an integer")
    return errors


class HangingServer:
    """Accepts TCP connections on 127.0.0.1 and never answers: a Hub behind a dead proxy."""

    def __init__(self):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.1)  # lets the accept loop notice close()
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="hub-hanging", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    @property
    def connections(self) -> int:
        return len(self._conns)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._conns.append(conn)  # held open, never read from or answered

    def __enter__(self) -> HangingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(1.0)
        for conn in self._conns:
            conn.close()
        self._sock.close()


# ----------------------------------------------------------------------------- the tests' Hub environment

TOKEN = "hf_TestTokenDoNotLeak0123456789abcdef"


@pytest.fixture(autouse=True)
def hub_env(monkeypatch, tmp_path):
    """A clean Hub environment: own cache and token file, online, no saved answers."""
    for var in (
        "HF_HUB_OFFLINE",
        "TRANSFORMERS_OFFLINE",
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HF_ENDPOINT",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    # huggingface_hub reads these at import: pin them so the machine's set-up cannot leak in.
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tmp_path / "hf" / "token"))
    monkeypatch.setattr(hf_constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "hf" / "stored_tokens"))
    monkeypatch.setattr(hf_constants, "HF_HUB_ETAG_TIMEOUT", hf_constants.DEFAULT_ETAG_TIMEOUT)
    # Otherwise the first request's user-agent asks huggingface.co (the endpoint fixed at import, not
    # HF_ENDPOINT) for its list of AI agents: traffic off loopback, up to 3 s plus name resolution.
    monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(hub, "_STATUS_CACHE", {})
    return tmp_path
