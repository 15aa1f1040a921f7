"""Everything a neuroimager reads at a glance for one impact's maps: tract results, figures on the brain, the
viewer page. Called by `axojax run` (stage maps) and `axojax predict`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..brain import Brain
from ._tracts import TractIndex, tract_summary


def _sibling(figure: Path, new: str) -> Path:
    """figures/map_slices.png -> figures/<new>.png; figures/map_slices_<impact>.png -> <new>_<impact>.png."""
    stem = figure.stem
    tail = stem[len("map_slices") :] if stem.startswith("map_slices") else "_" + stem
    return figure.with_name(f"{new}{tail}{figure.suffix}")


def brain_results(
    values,
    brain: Brain,
    *,
    ood=None,
    viewer: Path | None = None,
    figure: Path | None = None,
    per_output: bool = True,
    title: str | None = None,
    index: TractIndex | None = None,
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """Tract summary, figures on the MNI T1, tract figures and the viewer of one set of output maps.

    Args:
        values: per-voxel outputs (V, 4) [strains -, failures %].
        brain: the brain of the maps.
        ood: per-voxel out-of-distribution flags (V,).
        viewer: the HTML page to write (e.g. DIR/maps/index.html); None: none.
        figure: the four-output figure (e.g. DIR/figures/map_slices.png); per-output figures
            (`map_slices_<output>.png`), `tracts.png` and `tract_profiles.png` go next to it. None: none.
        per_output: also one figure per output.
        title: figure and page title.
        index: `tract_index(brain)`, when several maps share a brain.

    Returns:
        (tract summary (`tract_summary`), {figure or page: path}, notes: what was skipped and why).
    """
    from ._figures import plot_brain_maps, plot_tract_profiles, plot_tract_summary
    from .viewer import write_viewer

    values = np.asarray(values, np.float32)
    tracts = tract_summary(values, brain, index=index, ood=ood)
    files: dict[str, str] = {}
    notes: list[str] = []
    if "skipped" in tracts:
        notes.append(f"tract results skipped: {tracts['skipped']}")
    try:
        if figure is not None:
            for key, path in plot_brain_maps(
                values, brain, figure, ood=ood, per_output=per_output, title=title
            ).items():
                files[f"figure_{key}"] = str(path)
            if "items" in tracts:
                files["figure_tracts"] = str(plot_tract_summary(tracts, _sibling(figure, "tracts")))
                files["figure_tract_profiles"] = str(
                    plot_tract_profiles(tracts, _sibling(figure, "tract_profiles"))
                )
        if viewer is not None:
            files["viewer"] = str(write_viewer(viewer, values, brain, ood=ood, title=title))
    except ImportError as err:  # matplotlib (the plots extra) is missing: nilearn's plotting needs it too
        notes.append(f"figures and viewer skipped: {err}")
    return tracts, files, notes
