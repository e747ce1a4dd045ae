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


# /proc/cpuinfo's names for native bfloat16 arithmetic: AVX512-BF16 (Cooper Lake, Zen 4 on) and AMX (Sapphire Rapids on)
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo; empty where there is none (not Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def native_bfloat16(device: str | torch.device) -> bool:
    """Whether `device` computes in bfloat16 natively: a CUDA GPU that does so without emulation, or a CPU
    with AVX512-BF16 or AMX. Elsewhere bfloat16 autocast is emulated and slower than float32."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        return any(f in cpu_flags() for f in BF16_CPU_FLAGS)
    return False
