"""A model folder on disk, and the one writer of its record.

A folder holds model.safetensors (the weights), config.json (rebuilds the network) and
training.json (the record: how it was trained, how it scores); bundled folders add README.md,
the model card rendered from the record. Trainers, `train.bundle`, `train.evaluate` and
`train.evaluate_generators` all write through `write_model` / `update_record`, so the record
always carries the SHA-256 of the weights beside it (`registry.load_folder` checks it) and the
card never lags behind the figures it shows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from core.io.store import file_sha256, read_json, save_weights, write_json

if TYPE_CHECKING:  # the app reads records without torch (core.models.registry.describe)
    from torch import nn

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
RECORD_FILE = "training.json"
MODEL_FILES = [WEIGHTS_FILE, CONFIG_FILE, RECORD_FILE]


def read_record(folder: str | Path) -> dict:
    """training.json of `folder`, or {} where there is none yet."""
    return read_json(Path(folder) / RECORD_FILE, {}) or {}


def write_record(folder: str | Path, training: dict, spec=None) -> dict:
    """Write training.json with the weights' current hash; with a registry `spec`, re-render the card.

    Returns the record as written.
    """
    folder = Path(folder)
    training = {**training, "weights_sha256": file_sha256(folder / WEIGHTS_FILE)}
    write_json(folder / RECORD_FILE, training)
    if spec is not None:
        from core.io.cards import write_card

        config = {**spec.config, **(read_json(folder / CONFIG_FILE, {}) or {})}
        write_card(folder, spec, config, training)
    return training


def update_record(folder: str | Path, change: Callable[[dict], None] | None = None, spec=None) -> dict:
    """Read training.json, let `change` edit it in place, write it back (hash refreshed, card re-rendered)."""
    training = read_record(folder)
    if change is not None:
        change(training)
    return write_record(folder, training, spec)


def write_model(model: nn.Module, folder: str | Path, config: dict, training: dict | None = None,
                half: bool = True, spec=None) -> None:
    """Write a folder that `registry.load_folder` reads: weights (float16 by default), config, record.

    Without `training`, an existing record is kept (its hash refreshed); a new folder gets one with
    only the hash, so a damaged file is always caught.
    """
    folder = Path(folder)
    save_weights(model, folder / WEIGHTS_FILE, half=half)
    write_json(folder / CONFIG_FILE, config)
    write_record(folder, read_record(folder) if training is None else training, spec)
