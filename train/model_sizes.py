"""Count every bundled model's parameters into weights/model_sizes.json, so the Home page says them
without building a model (and so without importing torch: core.models.registry.describe).

    python -m train.model_sizes [--dry-run]

Each count sits beside the config.json it was counted for (less a detector's temperature, which a
refit changes and no weight's shape depends on); a model retrained with another architecture counts
as unknown until this runs again (Home then loads that model, and torch, to count it: seconds of the
first visitor's wait; `train.bundle` refreshes the bundled model's entry itself).
`--dry-run` counts and prints without writing.
"""

from __future__ import annotations

import argparse
import sys

from core.io.store import write_json
from core.models import registry


def count(names: list[str]) -> dict[str, dict]:
    """{name: {"config": its config.json, "n_params": its count}} for each of `names` whose bundled weights load."""
    sizes = {}
    for name in names:
        try:
            loaded = registry.load(name, use_hub=False)
        except registry.WeightsError as err:
            print(f"{name:<18} skipped: {err}")
            continue
        sizes[name] = {"config": registry.architecture(loaded.config), "n_params": loaded.n_params}
        print(f"{name:<18} {loaded.n_params:>12,}")
    return sizes


def refresh(name: str) -> None:
    """Count the bundled `name` again into weights/model_sizes.json, the other entries kept (train.bundle)."""
    from core.io.store import read_json

    sizes = read_json(registry.SIZES_FILE, {}) or {}
    sizes.update(count([name]))
    write_json(registry.SIZES_FILE, sizes)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dry-run", action="store_true", help="count and print, write nothing")
    args = ap.parse_args(argv)
    sizes = count(registry.names(comparison=None, subject=None))
    if not args.dry_run:
        write_json(registry.SIZES_FILE, sizes)
        print(f"wrote {registry.SIZES_FILE.relative_to(registry.REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
