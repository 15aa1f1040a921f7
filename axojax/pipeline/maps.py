"""Stage 5: whole-white-matter maps of the held-out impact (DIR/maps), or of every impact."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ._files import log


def write_excluded_map(folder: Path, brain, excluded, label: str) -> dict[str, Path]:
    """folder/excluded.nii.gz: 1 at the voxels (flags (V,)) in an FE element that inverted, and a log line."""
    from axojax.wholebrain import write_maps

    paths = write_maps(folder, brain, np.asarray(excluded, np.float32)[:, None], names=("excluded",))
    log(
        f"{label}: {int(np.sum(excluded))} of {brain.n_voxels} voxels lie in an FE element that inverted "
        f"({paths['excluded']}); their values are not the brain's"
    )
    return paths


def _timing(res) -> dict[str, Any]:
    """Timings of a `WholeBrainResult` [s]: the total, and its split where the profiles were timed apart."""
    out: dict[str, Any] = {"compute_s": res.compute_s, "fused": res.fused}
    if res.profiles_s is not None:
        out.update(profiles_s=res.profiles_s, inference_s=res.inference_s)
    return out


def stage_maps(
    out: Path,
    model,
    impact,
    brain,
    *,
    name: str | None = None,
    head_model=None,
    profiles=None,
    folder: Path | None = None,
    figure: Path | None = None,
    excluded=None,
) -> dict[str, Any]:
    """Surrogate maps of one impact on every voxel -> NIfTI maps, summary (with per-tract results), figures on
    the brain, viewer page (folder/index.html).

    Args:
        out: the run folder.
        model: the trained surrogate.
        impact: the impact on the model grid.
        brain: the run's brain.
        name: label (default: the impact's name).
        head_model: profiles by this head model (default `ReducedHeadModel()`), unless `profiles`.
        profiles: the impact's fiber strain profiles (V, T) (e.g. from the store, for imported or FE
            strain); None: computed with `head_model`.
        folder: where the maps go (default DIR/maps).
        figure: slice figure path (default DIR/figures/map_slices.png).
        excluded: flags (V,) of voxels whose profiles the store excludes (`ProfileDataset.excluded`: in
            an FE element that inverted); where any is, they are written as folder/excluded.nii.gz (1 =
            excluded) and counted in the report; their values stay in the maps and the summary.
    """
    from axojax.headmodel import ReducedHeadModel
    from axojax.surrogate import OutOfDistributionWarning
    from axojax.wholebrain import predict_maps, summary, whole_brain, write_maps
    from axojax.wholebrain.results import brain_results

    name = impact.name if name is None else name
    folder = out / "maps" if folder is None else folder
    figure = out / "figures" / "map_slices.png" if figure is None else figure
    log(f"maps: impact {name!r} on {brain.n_voxels} voxels")
    with warnings.catch_warnings(record=True) as caught:  # out-of-range voxels: a log line, not a warning
        warnings.simplefilter("always", OutOfDistributionWarning)
        if profiles is None:
            head = ReducedHeadModel() if head_model is None else head_model
            res = whole_brain(model, head, impact, brain)
            warm = whole_brain(model, head, impact, brain, warn=False)  # compiled: the timing a user sees
        else:
            res = predict_maps(model, profiles, name=name)
            warm = predict_maps(model, profiles, name=name, warn=False)
    for w in caught:
        if issubclass(w.category, OutOfDistributionWarning):
            log(f"maps: warning: {w.message}")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    paths = write_maps(folder, brain, res.values)
    n_excluded = 0 if excluded is None else int(np.sum(excluded))
    if n_excluded:
        paths.update(write_excluded_map(folder, brain, excluded, "maps"))
    report = {
        "impact": name,
        "files": {k: str(v) for k, v in paths.items()},
        # compute_s: impact (or given profiles) -> outputs on the host; for the fused program (head model,
        # profiles, OOD, surrogate in one) there is no separate profile time, so no split is reported
        "first_call": _timing(res),
        "warm": _timing(warm),
        "summary": summary(res.values, brain, ood=res.ood),
        "n_excluded": n_excluded,  # voxels in an FE element that inverted (maps/excluded.nii.gz)
    }
    tracts, files, notes = brain_results(  # figures on the MNI T1, maps/index.html, per-tract results
        res.values,
        brain,
        ood=res.ood,
        viewer=folder / "index.html",
        figure=figure,
        per_output=folder == out / "maps",
        title=f"impact {name}",
    )
    report["summary"]["tracts"], report["figures"] = tracts, files
    for note in notes:
        log(f"maps: {note}")
    return report
