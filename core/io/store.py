"""Files on disk: atomic writes, safetensors weights, JSON and the JSON-lines history.

torch and safetensors.torch are imported by the functions that move tensors, not with this module:
the app's first page reads JSON records through here without torch (core.models.registry.describe).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


class WriteError(OSError):
    """A file could not be written (disk full, file-size limit, permissions...). Nothing changed on
    disk: the new bytes went to a temporary file beside it, which was removed again. `errno` is the
    system's (ENOSPC for a full disk); `filename` is the file that was meant to be written."""

    def __str__(self) -> str:
        return f"cannot write {self.filename}: {self.strerror}; the file on disk was left as it was"


def _write_error(err: OSError, path: Path) -> WriteError:
    return WriteError(err.errno, err.strerror or str(err), str(path))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never half.

    On any failure (a full disk, say) the old file stays as it was, no temporary file is left
    behind, and the error is a WriteError naming `path`.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise _write_error(err, path) from err
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o644)  # mkstemp makes 0600; these files are meant to be shared
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError) and not isinstance(err, WriteError):
            raise _write_error(err, path) from err
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut too (best effort: not every system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_torch_save(path: str | Path, obj) -> None:
    """torch.save, atomically (training checkpoints; never loaded by the app)."""
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


def copy_file(src: str | Path, dest: str | Path) -> None:
    """Copy one file atomically: `dest` is the old file or the whole new one, never half."""
    atomic_write_bytes(dest, Path(src).read_bytes())


def save_tensors(path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    """Save named tensors (a data cache) as safetensors with string metadata, atomically."""
    from safetensors.torch import save as safetensors_bytes

    atomic_write_bytes(path, safetensors_bytes(tensors, metadata=metadata))


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_json(path: str | Path, obj) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())


def read_json(path: str | Path, default=None):
    path = Path(path)
    if not path.exists():
        return default
    return json.loads(path.read_text())


def save_weights(module: torch.nn.Module, path: str | Path, half: bool = False) -> None:
    """Save a module's state dict as safetensors (optionally float16), atomically."""
    from safetensors.torch import save as safetensors_bytes

    state = {
        k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
        for k, v in module.state_dict().items()
    }
    atomic_write_bytes(path, safetensors_bytes(state))


def load_weights(module: torch.nn.Module, path: str | Path) -> torch.nn.Module:
    """Load safetensors weights into `module`, casting each tensor to the module's dtype."""
    from safetensors.torch import load_file

    state = load_file(str(path))
    own = module.state_dict()
    state = {k: v.to(own[k].dtype) if k in own else v for k, v in state.items()}
    module.load_state_dict(state, strict=True)
    return module


def read_history(path: str | Path) -> list[dict]:
    """Rows of a history.jsonl file (one JSON object a line); a torn last line is ignored."""
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return rows


def write_history(path: str | Path, rows: Iterable[dict]) -> None:
    atomic_write_bytes(path, "".join(json.dumps(r) + "\n" for r in rows).encode())
