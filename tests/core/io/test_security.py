"""Security settings and rules (the hardening issue's list), checked on the sources and the running pages.

Covered elsewhere, not repeated here:
- the Hub token is never printed, logged or put in an error or traceback: test_hub.py's
  test_push_folder_uploads_the_run, test_push_folder_http_error_names_repo_and_status_not_token
  (the server echoes the token; it is blanked) and test_dcgan_script_pushes_its_run_with_a_model_card /
  test_detector_script_pushes_weights_spectra_and_card (the scripts' output);
- a decompression bomb (60 MP, between PIL's warning and error limits) is refused with a message:
  test_faces.py::test_decompression_bomb_is_refused and test_detect_page.py's "decompression bomb" case;
- uploads are never written to disk: test_detect_page.py::test_uploads_are_never_written_to_disk.
"""

from __future__ import annotations

import ast
import os
import re
import tomllib
from pathlib import Path

import pytest
import torch
from conftest import ROOT, image_bytes
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.models import registry

pytestmark = pytest.mark.filterwarnings("ignore")

# ui/ with its views/ and charts/ subpackages
APP_LAYER = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").rglob("*.py"))]
ALL_CODE = [*APP_LAYER, *sorted((ROOT / "core").rglob("*.py")), *sorted((ROOT / "train").glob("*.py"))]


# ----------------------------------------------------------------------------- server settings


def streamlit_config() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


def test_xsrf_protection_stays_on_and_uploads_are_capped():
    server = streamlit_config()["server"]
    assert server["enableXsrfProtection"] is True
    assert server.get("enableCORS", True) is True  # Streamlit turns XSRF off when CORS is off
    assert 1 <= server["maxUploadSize"] <= 10  # MB; Streamlit refuses bigger files itself
    # the Detect page's uploader promises the same cap
    assert f"up to {server['maxUploadSize']} MB" in (ROOT / "ui" / "views" / "detect.py").read_text()  # the uploader's label


def project_files(suffixes: set[str]) -> list[Path]:
    """The project's own files with these suffixes ("" for Makefile, Dockerfile): not the venv, git,
    data, runs or weights."""
    skip = {".venv", ".git", "data", "runs", "weights", "__pycache__", ".pytest_cache", ".ruff_cache", "artifacts"}
    kept = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in skip]
        kept += [Path(folder) / f for f in files if Path(f).suffix in suffixes]
    return kept


def test_nothing_turns_xsrf_protection_off():
    """No code, script, Makefile or config starts the server with the protection off (documents may
    discuss the setting; they configure nothing)."""
    off = re.compile(r"(enableXsrfProtection|enable_xsrf_protection)[\"'\s:=]+false", re.IGNORECASE)
    files = project_files({".py", ".toml", ".sh", ".yml", ".yaml", ".cfg", ".json", ".ini", ""})
    assert len(files) > 20 and ROOT / "Makefile" in files
    hits = [str(p) for p in files if p != Path(__file__) and off.search(p.read_text(errors="ignore"))]
    assert hits == []


# ----------------------------------------------------------------------------- decompression bombs


def test_pil_pixel_limit_is_set_by_the_one_image_opener():
    from core.io import images

    assert images.MAX_PIXELS == 50_000_000
    assert Image.MAX_IMAGE_PIXELS == images.MAX_PIXELS  # set on import of core.io.images, which every image path uses


def test_a_bomb_past_pils_hard_limit_is_refused_too():
    """Above twice the limit PIL raises (below, it warns; that case is test_faces.py's)."""
    from core.io.images import ImageError, open_upload

    bomb = image_bytes(Image.new("1", (12_000, 9_000)), "PNG")  # 108 MP, ~13 kB
    assert len(bomb) < 100_000
    with pytest.raises(ImageError, match="too large to open safely"):
        open_upload(bomb)


# ----------------------------------------------------------------------------- no pickles


def dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """`torch.load` for the call target `T.load` after `import torch as T`; None when not a plain name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


PICKLE_MODULES = {"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}
PICKLE_CALLS = {"pandas.read_pickle", "torch.jit.load", "torch.serialization.load"}


def unsafe_loads(source: str) -> list[str]:
    """Every way the code could unpickle: torch.load without weights_only=True, np.load with
    allow_pickle=True, the pickle family of modules, pandas.read_pickle."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[(a.asname or a.name).split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
                if a.name.split(".")[0] in PICKLE_MODULES:
                    found.append(f"line {node.lineno}: import {a.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
            if node.module.split(".")[0] in PICKLE_MODULES:
                found.append(f"line {node.lineno}: from {node.module} import ...")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func, aliases)
        kw = {k.arg: k.value for k in node.keywords}
        is_true = lambda v: isinstance(v, ast.Constant) and v.value is True  # noqa: E731
        if name == "torch.load" and not is_true(kw.get("weights_only")):
            found.append(f"line {node.lineno}: torch.load without weights_only=True")
        elif name in ("numpy.load", "np.load") and "allow_pickle" in kw and not (
                isinstance(kw["allow_pickle"], ast.Constant) and kw["allow_pickle"].value is False):
            found.append(f"line {node.lineno}: numpy.load with allow_pickle")
        elif name in PICKLE_CALLS or (name and name.split(".")[0] in PICKLE_MODULES):
            found.append(f"line {node.lineno}: {name}")
    return found


def test_the_scanner_finds_every_kind_of_unpickling():
    bad = {
        "import torch\ntorch.load(p)": "without weights_only",
        "import torch as T\nT.load(p, weights_only=False)": "without weights_only",
        "from torch import load\nload(p, map_location='cpu')": "without weights_only",
        "import pickle\npickle.loads(b)": "import pickle",
        "from joblib import load": "from joblib",
        "import numpy as np\nnp.load(p, allow_pickle=True)": "allow_pickle",
        "import pandas as pd\npd.read_pickle(p)": "read_pickle",
    }
    for source, words in bad.items():
        found = unsafe_loads(source)
        assert found and words in found[0], (source, found)
    assert unsafe_loads("import torch\ntorch.load(p, map_location='cpu', weights_only=True)") == []
    assert unsafe_loads("import numpy as np\nnp.load(p)") == []


def test_no_code_unpickles_anything():
    found = {str(p.relative_to(ROOT)): unsafe_loads(p.read_text()) for p in ALL_CODE}
    assert {p: f for p, f in found.items() if f} == {}
    # not vacuous: the scanner sees the checkpoint loads, each with weights_only=True
    loads = [p for p in ALL_CODE if "torch.load(" in p.read_text()]
    assert {p.relative_to(ROOT).as_posix() for p in loads} >= {"core/gan/trainer.py", "core/detection/trainer.py"}


def test_torch_load_refuses_pickled_code_by_default(tmp_path):
    """Third-party loads without the keyword (facenet-pytorch reads MTCNN's weights with a bare
    torch.load) are safe only because torch >= 2.6 defaults to weights_only=True. Keep it so."""
    path, flag = tmp_path / "evil.pt", tmp_path / "payload-ran"
    torch.save({"weights": Payload(flag)}, path)
    with pytest.raises(Exception, match="[Ww]eights only load failed"):
        torch.load(path)
    assert not flag.exists()


class Payload:
    """Unpickling this creates a file: stands for any code a pickle can run."""

    def __init__(self, flag: Path):
        self.flag = str(flag)

    def __reduce__(self):
        return open, (self.flag, "w")


def test_the_app_gets_weights_only_through_the_safetensors_registry():
    """Pages and ui/ never read a weights file themselves (which would skip the hash check): they call
    core.models.registry, whose load_folder reads model.safetensors only (the next test)."""
    readers = {"torch.load", "torch.jit.load", "safetensors.torch.load_file", "safetensors.safe_open",
               "safetensors.torch.load", "core.io.store.load_weights"}
    calls = {}
    for path in APP_LAYER:
        tree = ast.parse(path.read_text())
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                aliases.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
            elif isinstance(node, ast.Import):
                aliases.update({(a.asname or a.name): a.name for a in node.names})
        calls[str(path.relative_to(ROOT))] = {dotted(n.func, aliases) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert {name: c & readers for name, c in calls.items() if c & readers} == {}
    assert "core.models.registry.load" in calls["ui/models.py"]  # ui.models: the app's one loader
    # the Hub download fetches only safetensors and JSON
    assert all(f.endswith((".safetensors", ".json")) for f in registry.MODEL_FILES)


def test_a_pickle_posing_as_weights_is_refused_without_running(tmp_path):
    spec = registry.get_spec("cnn")
    flag = tmp_path / "payload-ran"
    torch.save({"weights": Payload(flag)}, tmp_path / "model.safetensors")
    with pytest.raises(registry.WeightsError, match="cannot read .*model.safetensors"):
        registry.load_folder(spec, tmp_path)
    assert not flag.exists()
    (tmp_path / "model.safetensors").unlink()
    torch.save({"weights": Payload(flag)}, tmp_path / "pytorch_model.bin")  # other formats are not even looked at
    with pytest.raises(registry.WeightsError, match="model.safetensors is missing"):
        registry.load_folder(spec, tmp_path)
    assert not flag.exists()


# ----------------------------------------------------------------------------- no raw HTML


def html_sinks(source: str) -> list[str]:
    """Calls that render raw HTML (unsafe_allow_html=True, st.html, components.html) with anything
    but a string constant."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        unsafe = any(k.arg == "unsafe_allow_html" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                     for k in node.keywords)
        is_html = isinstance(node.func, ast.Attribute) and node.func.attr in ("html", "iframe")
        if unsafe or is_html:
            body = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg in ("body", "html")), None)
            if not (isinstance(body, ast.Constant) and isinstance(body.value, str)):
                found.append(f"line {node.lineno}: {ast.unparse(node)[:80]}")
    return found


def test_raw_html_is_only_ever_a_constant():
    assert html_sinks('st.markdown(f"<b>{name}</b>", unsafe_allow_html=True)')
    assert html_sinks("st.html(page)") and html_sinks("components.html(make(x), height=3)")
    assert html_sinks('st.markdown("<br>", unsafe_allow_html=True)') == []
    found = {str(p.relative_to(ROOT)): html_sinks(p.read_text()) for p in APP_LAYER}
    assert {p: f for p, f in found.items() if f} == {}


def test_markdown_text_helper_escapes_html_and_markdown():
    from ui.widgets import csv_cell, md_text

    assert md_text("<img src=x onerror=alert(1)>.png") == r"&lt;img src=x onerror=alert\(1\)&gt;.png"
    assert md_text("[click](https://example.com) **x** :red[y] $z$") == (
        r"\[click\]\(https\://example.com\) \*\*x\*\* \:red\[y\] \$z\$")
    assert md_text("holiday photo 2024.jpg") == "holiday photo 2024.jpg"
    assert csv_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")" and csv_cell("a.jpg") == "a.jpg"
    assert csv_cell(0.5) == 0.5 and csv_cell(None) is None


EVIL = "<img src=x onerror=alert(1)>"


def shown_markdown(at: AppTest) -> list[str]:
    """Every text the page hands the browser to render as Markdown."""
    texts = [e.value for kind in ("markdown", "caption", "error", "warning", "info", "success") for e in at.get(kind)]
    texts += [c for img in at.get("image") for c in img.captions]
    return texts


def test_upload_names_reach_the_page_escaped(real_face_bytes):
    """File names are the visitor's text: through the Detect page's batch path (table, details of
    each file), no name becomes a tag, link or formatting; the table still shows it as typed."""
    from ui.widgets import md_text

    items = [(f"{EVIL}.jpg", real_face_bytes),
             (f"{EVIL} [x](https://example.com).png", b"not an image"),
             ("=1+1 **bold**.png", image_bytes(Image.new("RGB", (200, 200), (120, 130, 140)), "PNG"))]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.session_state["detect_inputs"] = items
    at.switch_page("pages/detect.py").run()
    assert not at.exception, at.exception
    assert list(at.dataframe[0].value["file"]) == [n for n, _ in items]  # plain text: shown as typed
    # no HTML on the page but the app's own style sheet (app.py): a file name never becomes markup
    assert all(h.proto.body.startswith("<style>") and "</style>" == h.proto.body[-8:] for h in at.get("html"))
    assert not any(EVIL in h.proto.body for h in at.get("html"))
    seen = []
    for name, _ in items:
        [details] = [s for s in at.selectbox if s.label == "Details for"]
        details.set_value(name).run()
        assert not at.exception, at.exception
        texts = shown_markdown(at)
        seen += texts
        assert any(md_text(name) in t for t in texts), texts  # its details name it, escaped
    assert not [t for t in seen if "<img" in t or "](https://example.com)" in t or "**bold**" in t]
