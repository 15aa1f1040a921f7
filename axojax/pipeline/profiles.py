"""Stage 1: impacts -> tissue strain -> fiber strain profiles of every white-matter voxel (DIR/profiles)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ._files import log
from .brain import load_run_brain as load_run_brain
from .config import RunConfig
from .impacts import impact_metadata
from .tissue import strain_function


def stage_profiles(out: Path, config: RunConfig, brain, impacts: dict[str, Any], on_files=None):
    """Fiber strain profiles of every impact on every white-matter voxel, into DIR/profiles (resumable).

    Args:
        out: the run folder.
        config: the run's settings (tissue model, strain files).
        brain: from `load_run_brain`.
        impacts: the run's impacts on the model grid, held-out last (`study_impacts`).
        on_files: called with the strain files read (for provenance) before any is read.
    """
    from axojax.fiberstrain import build_profiles

    t_s = np.asarray(next(iter(impacts.values())).t_s, np.float64)
    strain_fn, files, excluded_fn = strain_function(config, list(impacts), brain, t_s)
    if on_files is not None and files:
        on_files(list(files.values()))
    meta = {name: impact_metadata(imp) for name, imp in impacts.items()}
    for name, path in files.items():
        meta[name]["strain_file"] = str(path)
    source = config.tissue_model + (f" ({len(files)} imported)" if files else "")
    log(f"profiles: {len(impacts)} impacts x {brain.n_voxels} voxels x {t_s.size} samples, tissue {source}")
    dataset = build_profiles(
        strain_fn, impacts, brain, out / "profiles", t_s=t_s, metadata=meta, excluded_fn=excluded_fn
    )
    for name in impacts if excluded_fn is not None else ():
        n = int(dataset.excluded(name).sum())
        if n:
            log(
                f"profiles: impact {name!r}: {n} of {brain.n_voxels} voxels lie in an FE element that "
                "inverted; they are left out of sampling and marked in the maps"
            )
    return dataset
