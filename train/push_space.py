"""Publish the app as a Hugging Face Space: `python -m train.push_space REPO_ID [--private] [--dry-run OUT_DIR]`.

The Space is a Docker Space that runs Streamlit: the Hub's built-in Streamlit SDK is deprecated, and its
documentation sends Streamlit apps to the Docker SDK. The Space's folder is assembled in a temporary
folder from what the app reads at run time and nothing else:

- app.py, pages/, core/, ui/, assets/ (the app; nothing under pages/ ui/ core/ imports train/ or tests/);
- weights/: every bundled model with its card, history, snapshots, spectra and directions, which the
  Home, Training History, Detect and Latent Lab pages read (never checkpoint.pt);
- .streamlit/config.toml (upload cap, theme);
- requirements.txt: the project's pins without the test tools (pytest, ruff, hypothesis, playwright);
- Dockerfile: Python 3.11, the requirements, `streamlit run app.py` on port 8501;
- README.md: the front matter that configures the Space (sdk: docker, app_port: 8501, ...) and a short
  description of the app and of the CelebA licence.

Then it creates the Space (if needed) and uploads the folder in one commit, with the token of HF_TOKEN or
the saved login (never printed). `--dry-run OUT_DIR` writes the folder to OUT_DIR instead and uploads
nothing. Exit codes: 0 done, 2 bad usage or nothing to publish, 4 push failed.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SPACE_SDK = "docker"
APP_PORT = 8501  # the port in .streamlit/config.toml; app_port tells the Hub where to look
PYTHON_IMAGE = "python:3.11-slim"  # the Python the project's pins are known to install on
APP_FILES = ("app.py", ".streamlit/config.toml")
APP_DIRS = ("pages", "core", "ui", "assets", "weights")
# Left out wherever they are: bytecode, the resumable training checkpoint (optimizer state), hidden
# files (including core.io.store's ".name.xxx.tmp" half-written files) and temp files.
SKIP = ("__pycache__", "*.pyc", "checkpoint.pt", ".*", "*.tmp")
# A GAN's own discriminator's weights serve only train.evaluate; the app shows its figures
# (weights/comparison/) and training record, so the Space is spared their 28 MB
NOT_SERVED = ("discriminator/model.safetensors",)
DEV_ONLY = {"pytest", "ruff", "hypothesis", "playwright", "onnx"}  # test, lint and training-only tools: not needed to serve
COMMIT_MESSAGE = "Upload the Face GAN Lab Space"


class SpaceError(Exception):
    """The Space folder cannot be assembled; the message says what is missing."""


def requirement_name(line: str) -> str | None:
    """The package a requirements.txt line names (lower case), or None for comments, blanks and options."""
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
    return match[0].lower().replace("_", "-") if match else None


def streamlit_pin(requirements: str) -> str:
    """The exact Streamlit version requirements.txt pins (`streamlit==X`)."""
    for line in requirements.splitlines():
        if requirement_name(line) == "streamlit":
            match = re.search(r"==\s*([^\s;#]+)", line)
            if match:
                return match[1]
    raise SpaceError("requirements.txt has no `streamlit==VERSION` pin")


def space_requirements(requirements: str) -> str:
    """The project's requirement lines without the test and training-only tools, after a comment saying where they came from."""
    kept = [line.rstrip() for line in requirements.splitlines()
            if requirement_name(line) is not None and requirement_name(line) not in DEV_ONLY]
    head = ("# Written by train/push_space.py from the project's requirements.txt, without the test and training-only tools "
            f"({', '.join(sorted(DEV_ONLY))}).\n")
    return head + "\n".join(kept) + "\n"


def dockerfile() -> str:
    return f"""\
# Written by train/push_space.py. A Docker Space that serves the Streamlit app on port {APP_PORT}.
FROM {PYTHON_IMAGE}

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# The dependencies first: a change to the app alone reuses this (slow, several GB) layer.
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt

# Spaces run the container as user 1000; its home holds the Hugging Face cache (Hub weights).
RUN useradd -m -u 1000 user
USER user
# freed tensor buffers go back to the system instead of piling up in malloc arenas (see tests/e2e/test_load.py)
ENV HOME=/home/user HF_HUB_DISABLE_TELEMETRY=1 MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /home/user/app
COPY --chown=user . .

EXPOSE {APP_PORT}
CMD ["streamlit", "run", "app.py", "--server.port={APP_PORT}", "--server.address=0.0.0.0"]
"""


def space_readme(streamlit_version: str, models: list[str]) -> str:
    """The Space's README.md: front matter (the Hub's Spaces configuration reference) and a short body."""
    listed = ", ".join(f"`{m}`" for m in models) or "none"
    return f"""\
---
title: Face GAN Lab
emoji: 🎭
colorFrom: purple
colorTo: indigo
sdk: {SPACE_SDK}
app_port: {APP_PORT}
pinned: false
license: other
short_description: "GAN-made faces, and detectors that spot them"
tags:
  - streamlit
  - gan
  - dcgan
  - deepfake-detection
---

# Face GAN Lab

A demo of generative adversarial networks (GANs) for faces, with the training behind it: generate faces,
walk between them and add and subtract them in the latent space, upload a photo and ask the detectors
whether it is real or GAN-made, see how each model was trained, train a tiny GAN live in the browser and
play a spot-the-fake quiz. Streamlit {streamlit_version} on CPU, in a Docker Space.

Models bundled under `weights/`: {listed}. Each folder's `README.md` is its model card. The app loads a
model from the Hugging Face Hub when its registry entry names a published repo that answers, and from
these bundled files otherwise; the Home page says which it used for each model, and why.

## Licence: research use only

The generators were trained on CelebA (Liu et al., "Deep Learning Face Attributes in the Wild", ICCV 2015),
which is available for **non-commercial research purposes only**; the detectors also on FFHQ (CC BY-NC-SA
4.0), LFW, UTKFace (non-commercial research), StyleGAN2 faces (NVIDIA licence, non-commercial) and Stable
Diffusion 2.1 faces (SDFD, research use). The weights carry the same restriction, and so does this Space:
do not use it, or its models, commercially. None of those photos is in this Space; the
quiz on the Classroom page needs real photos from a folder named in `FACEGAN_QUIZ_REAL_DIR` and says so
when there is none. CelebA is mostly young, light-skinned celebrities, and the generators inherit that bias;
the detectors are a teaching tool, not a forensic one.
"""


def _skipped(rel: Path) -> bool:
    return any(fnmatch.fnmatchcase(part, pat) for part in rel.parts for pat in SKIP) or rel.as_posix().endswith(NOT_SERVED)


def assemble(out: Path, root: Path = ROOT) -> list[str]:
    """Write the Space's files into the empty or missing folder `out`; returns their paths, sorted."""
    for name in (*APP_FILES, "requirements.txt", *APP_DIRS):
        if not (root / name).exists():
            raise SpaceError(f"{root / name} is missing")
    requirements = (root / "requirements.txt").read_text()
    version = streamlit_pin(requirements)
    models = sorted(p.name for p in (root / "weights").iterdir()
                    if p.is_dir() and not _skipped(Path(p.name)) and (p / "model.safetensors").is_file())
    if not models:
        raise SpaceError(f"{root / 'weights'} holds no model (no */model.safetensors): bundle one first")

    out.mkdir(parents=True, exist_ok=True)
    written = []
    sources = [root / f for f in APP_FILES]
    for name in APP_DIRS:
        sources += [p for p in sorted((root / name).rglob("*"))
                    if p.is_file() and not _skipped(p.relative_to(root / name))]
    for src in sources:
        rel = src.relative_to(root)
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out / rel)
        written.append(rel.as_posix())
    generated = {
        "requirements.txt": space_requirements(requirements),
        "Dockerfile": dockerfile(),
        "README.md": space_readme(version, models),
    }
    for name, text in generated.items():
        (out / name).write_text(text, encoding="utf-8")
        written.append(name)
    return sorted(written)


def summary(folder: Path, files: list[str]) -> str:
    size = sum((folder / f).stat().st_size for f in files)
    weights = sum((folder / f).stat().st_size for f in files if f.startswith("weights/"))
    return f"{len(files)} files, {size / 1e6:.1f} MB ({weights / 1e6:.1f} MB of them weights/)"


def contents(folder: Path, files: list[str]) -> list[str]:
    """One line per top-level entry: a file, or a folder with its file count and size (weights/: its models)."""
    groups: dict[str, list[str]] = {}
    for name in files:
        groups.setdefault(name.split("/", 1)[0] + ("/" if "/" in name else ""), []).append(name)
    lines = []
    for top, names in groups.items():
        if not top.endswith("/"):
            lines.append(top)
            continue
        count = f"{len(names)} file" + ("s" if len(names) != 1 else "")
        line = f"{top} ({count}, {sum((folder / n).stat().st_size for n in names) / 1e6:.2f} MB)"
        if top == "weights/":
            line += ": " + ", ".join(sorted({n.split("/")[1] for n in names}))
        lines.append(line)
    return lines


def model_sources() -> list[str]:
    """Where the Space will load each registered model from: Hub repo and revision first, then bundled.

    An unpinned revision is called out: the Space then loads whatever that repo's main holds, if it exists.
    """
    from core.models import registry

    lines = []
    for name in registry.names():
        spec = registry.get_spec(name)
        bundled = (spec.bundled_dir / "model.safetensors").is_file()
        fallback = "else the bundled copy" if bundled else "no bundled copy: unavailable unless the Hub has it"
        if spec.hub_repo:
            pin = spec.hub_revision or "main, not pinned"
            lines.append(f"{name}: Hub {spec.hub_repo} ({pin}), {fallback}")
        else:
            lines.append(f"{name}: {'bundled copy' if bundled else 'nowhere (no Hub repo, no bundled copy)'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m train.push_space", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo_id", metavar="REPO_ID", help="the Space to create or update, e.g. your-name/face-gan-lab")
    ap.add_argument("--private", action="store_true", help="create the Space as private (an existing one keeps "
                                                            "its visibility)")
    ap.add_argument("--dry-run", metavar="OUT_DIR", type=Path, default=None,
                    help="write the Space's folder to OUT_DIR (missing or empty) and upload nothing")
    args = ap.parse_args(argv)

    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(args.repo_id)
    except HFValidationError:
        print(f"error: {args.repo_id!r} is not a repo id; expected NAMESPACE/NAME, e.g. your-name/face-gan-lab",
              file=sys.stderr)
        return 2
    if args.dry_run is not None and args.dry_run.exists() and (
        not args.dry_run.is_dir() or any(args.dry_run.iterdir())
    ):
        print(f"error: {args.dry_run} exists and is not an empty folder; name a new one", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="face-gan-space-") as tmp:
        folder = args.dry_run if args.dry_run is not None else Path(tmp)
        try:
            files = assemble(folder)
        except SpaceError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        print(f"Space folder: {summary(folder, files)}")
        if args.dry_run is not None:
            for line in contents(folder, files):
                print(f"  {line}")
        print("On the Space each model loads from (core/models/registry.py):")
        for line in model_sources():
            print(f"  {line}")
        if args.dry_run is not None:
            print(f"dry run: written to {folder}; nothing uploaded")
            return 0

        from core.io.hub import HubError, push_folder

        print(f"pushing to the Space {args.repo_id} ...")
        try:
            commit_url = push_folder(folder, args.repo_id, private=args.private, commit_message=COMMIT_MESSAGE,
                                     repo_type="space", space_sdk=SPACE_SDK)
        except HubError as err:
            print(f"push failed: {err}", file=sys.stderr)
            return 4
    space_url = commit_url.split("/commit/", 1)[0]
    print(f"commit: {commit_url}")
    print(f"Space: {space_url} (after a new commit it rebuilds; its Logs tab shows the build)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
