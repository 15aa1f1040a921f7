"""Stage 1: impacts -> tissue strain -> fiber strain profiles of every white-matter voxel (DIR/profiles)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._files import log
from .config import RunConfig
from .impacts import impact_metadata, synthetic_impact_list


def load_run_brain(config: RunConfig):
    from axojax.brain import default_brain

    return default_brain(config.resolution_mm)


def stage_profiles(out: Path, config: RunConfig, brain=None):
    """Fiber strain profiles of every impact on every white-matter voxel, into DIR/profiles."""
    from axojax.fiberstrain import build_profiles
    from axojax.headmodel import ReducedHeadModel, strain_history

    brain = load_run_brain(config) if brain is None else brain
    impacts = synthetic_impact_list(config)
    model = ReducedHeadModel()

    def strain_fn(impact, coords_mm):
        return strain_history(model, impact.t_s, impact.ang_acc_rad_s2, coords_mm)

    t_s = np.asarray(next(iter(impacts.values())).t_s, np.float64)
    meta = {name: impact_metadata(imp) for name, imp in impacts.items()}
    log(f"profiles: {len(impacts)} impacts x {brain.n_voxels} voxels x {t_s.size} samples")
    return build_profiles(strain_fn, impacts, brain, out / "profiles", t_s=t_s, metadata=meta)
