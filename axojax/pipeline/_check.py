"""A run folder holds one run: its config is written once and compared on every rerun."""

from __future__ import annotations

import json
from pathlib import Path

from ._files import atomic_write_json
from .config import RunConfig


def check_config(out: Path, config: RunConfig) -> None:
    """Write DIR/config.json, or refuse a folder holding a run with another config."""
    path = out / "config.json"
    new = config.to_dict()
    if path.exists():
        # a key an older axojax did not write holds its default then (the same run): the tissue model
        # became a key with "reduced" and 4 mm (the default became "fe" at 6 mm later); an FE run from
        # before tissue.surface ran on the staircase mesh; an FE run from before tissue.inverted stopped
        # at its first inverted element, which "exclude" resumes past
        defaults = {
            **RunConfig().to_dict(),
            "tissue_model": "reduced",
            "element_size_mm": 4.0,
            "fe_surface": "staircase",
            "inverted_elements": new["inverted_elements"],
        }
        old = {**defaults, **json.loads(path.read_text())}
        diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        if diff:
            raise ValueError(
                f"{out}: holds a run with other settings ({', '.join(diff)}); "
                "use a new --out folder or the same settings to resume"
            )
        return
    atomic_write_json(path, new)
