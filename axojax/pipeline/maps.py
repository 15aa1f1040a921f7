"""Stage 5: whole-white-matter maps of the held-out impact (DIR/maps)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._files import log


def stage_maps(out: Path, model, impact, brain, *, name: str | None = None) -> dict[str, Any]:
    """Surrogate maps of one impact on every voxel -> DIR/maps/*.nii.gz, summary, slice figure."""
    from axojax.headmodel import ReducedHeadModel
    from axojax.wholebrain import summary, whole_brain, write_maps
    from axojax.wholebrain.report import plot_slices

    name = impact.name if name is None else name
    log(f"maps: impact {name!r} on {brain.n_voxels} voxels")
    head = ReducedHeadModel()
    res = whole_brain(model, head, impact, brain)
    warm = whole_brain(model, head, impact, brain, warn=False)  # compiled: the timing a user sees
    paths = write_maps(out / "maps", brain, res.values)
    report = {
        "impact": name,
        "files": {k: str(v) for k, v in paths.items()},
        "first_call": {"profiles_s": res.profiles_s, "inference_s": res.inference_s},
        "warm": {"profiles_s": warm.profiles_s, "inference_s": warm.inference_s},
        "summary": summary(res.values, brain, ood=res.ood),
    }
    try:
        plot_slices(res.values, brain, out / "figures" / "map_slices.png", title=f"impact {name}")
    except ImportError:
        log("maps: matplotlib not installed, slice figure skipped")
    return report
