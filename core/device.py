"""The one device picker, and the line that says what a run was trained on.

torch is imported when a function is called, not with this module: the app's first page reads model
records through core.models.registry without torch (a cold start spends 3 s importing it).
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """Return `device` if given, else CUDA when present, else CPU."""
    import torch

    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def hardware_description(device: torch.device) -> str:
    """"1 x <GPU>" or "N threads of <CPU model>", with the torch version: the record's hardware line."""
    import torch

    if device.type == "cuda":
        return f"1 x {torch.cuda.get_device_name(device)} (torch {torch.__version__})"
    model = platform.processor() or "CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    n = torch.get_num_threads()
    return f"{n} thread{'' if n == 1 else 's'} of {model} (torch {torch.__version__}, CPU)"
