"""Whole-brain summary figures of the four output maps: volumes above thresholds, percentiles, OOD fraction,
per-region means (host-side NumPy reductions, float64; a JSON-serialisable dict)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from jaxtyping import ArrayLike, Bool, Float

from ..brain import Brain
from ..surrogate import OUTPUT_NAMES
from ._regions import RegionAtlas, coordinate_regions

OUTPUT_UNITS: dict[str, str] = {
    "peak_mt_strain": "-",
    "peak_axolemma_strain": "-",
    "tau_failure_pct": "%",
    "nf_failure_pct": "%",
}

# Default thresholds per output, in the output's unit (docs/wholebrain.md gives the reasons):
DEFAULT_THRESHOLDS: dict[str, tuple[float, ...]] = {
    "peak_mt_strain": (0.02, 0.05, 0.10),  # MT rupture risk near 5 % at fast rates (Ahmadzadeh 2015)
    "peak_axolemma_strain": (0.05, 0.10, 0.15),  # membrane poration at 10-13 % (Montanino 2020)
    "tau_failure_pct": (10.0, 25.0, 50.0),  # share of tau cross-links failed [%]
    "nf_failure_pct": (1.0, 5.0, 10.0),  # share of neurofilament links failed [%]
}
DEFAULT_PERCENTILES = (50.0, 95.0, 99.0)


def voxel_volume_ml(brain: Brain) -> float:
    """Volume of one voxel [mL] = |det(affine[:3, :3])| [mm^3] / 1000."""
    return float(abs(np.linalg.det(np.asarray(brain.affine, dtype=np.float64)[:3, :3]))) / 1000.0


def _num(x: float) -> float | None:
    """A JSON number (None for NaN)."""
    x = float(x)
    return None if not np.isfinite(x) else x


def _pct_key(q: float) -> str:
    return f"p{q:g}".replace(".", "_")


def summary(
    values: Float[ArrayLike, "vox n"],
    brain: Brain,
    *,
    ood: Bool[ArrayLike, " vox"] | None = None,
    thresholds: Mapping[str, Sequence[float | int]] | None = None,
    regions: RegionAtlas | None = None,
    names: Sequence[str] = OUTPUT_NAMES,
    percentiles: Sequence[float | int] = DEFAULT_PERCENTILES,
) -> dict[str, Any]:
    """Summary figures of whole-brain output maps, as a JSON-serialisable dict.

    Per output (column of `values`, in `names` order):
    - `above`: for each threshold, the fraction of white-matter voxels with value >= threshold [-] and their
      volume [mL] (count x voxel volume from the affine);
    - `percentiles`: p50, p95, p99 (linear interpolation) and `max` over the voxels, and `mean`.
    Overall: `n_voxels`, `voxel_volume_ml`, `white_matter_volume_ml`, `ood_fraction` (None without `ood`).
    `regions`: per region (label > 0 with its name): voxel count, volume [mL], mean of each output,
    OOD fraction; regions without white-matter voxels have count 0 and null means.

    Args:
        values: per-voxel outputs (V, n) in their units (strains [-], failures [%]).
        brain: gives V and the voxel volume (affine [mm]).
        ood: per-voxel out-of-distribution flags (V,), e.g. `WholeBrainResult.ood`.
        thresholds: thresholds by output name, in the output's unit; replaces `DEFAULT_THRESHOLDS` for the
            names given (an empty sequence: none). Names without defaults get none.
        regions: region labels; None: `coordinate_regions(brain)` (coordinate bands, not anatomy).
        names: output names of the columns.
        percentiles: percentiles in [0, 100] to report besides the maximum.

    Returns:
        {"n_voxels", "voxel_volume_ml", "white_matter_volume_ml", "ood_fraction",
         "outputs": {name: {"unit", "mean", "percentiles": {"p50", ..., "max"},
                            "above": [{"threshold", "fraction", "volume_ml"}, ...]}},
         "regions": {"source", "items": [{"label", "name", "n_voxels", "volume_ml", "ood_fraction",
                                          "mean": {name: value}}]}}

    Raises:
        ValueError: shapes that do not match the brain or `names`, NaN/inf values, unknown threshold names,
            percentiles outside [0, 100].
    """
    v = np.asarray(values, dtype=np.float64)
    n = brain.n_voxels
    names = tuple(str(x) for x in names)
    if v.ndim != 2 or v.shape != (n, len(names)):
        raise ValueError(f"summary: values need shape ({n}, {len(names)}) for outputs {names}, got {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError(f"summary: values contain {int(np.sum(~np.isfinite(v)))} NaN/inf entries")
    flags = None
    if ood is not None:
        flags = np.asarray(ood, dtype=bool)
        if flags.shape != (n,):
            raise ValueError(f"summary: ood needs shape ({n},), got {flags.shape}")
    q = np.asarray(percentiles, dtype=np.float64)
    if q.ndim != 1 or np.any((q < 0) | (q > 100)):
        raise ValueError(f"summary: percentiles must lie in [0, 100], got {tuple(percentiles)}")
    chosen = {k: tuple(DEFAULT_THRESHOLDS.get(k, ())) for k in names}
    if thresholds is not None:
        unknown = sorted(set(thresholds) - set(names))
        if unknown:
            raise ValueError(f"summary: thresholds for unknown outputs {unknown}; outputs are {names}")
        chosen.update({k: tuple(float(t) for t in ts) for k, ts in thresholds.items()})
    dv = voxel_volume_ml(brain)

    outputs: dict[str, Any] = {}
    for j, name in enumerate(names):  # loop over the outputs; reductions over voxels are vectorised
        col = v[:, j]
        ts = np.asarray(chosen[name], dtype=np.float64)
        counts = (col[:, None] >= ts[None, :]).sum(axis=0) if n else np.zeros(len(ts), np.int64)
        pct = np.percentile(col, q) if n else np.full(len(q), np.nan)
        outputs[name] = {
            "unit": OUTPUT_UNITS.get(name, "?"),
            "mean": _num(col.mean()) if n else None,
            "percentiles": {
                **{_pct_key(qq): _num(p) for qq, p in zip(q, pct, strict=True)},
                "max": _num(col.max()) if n else None,
            },
            "above": [
                {
                    "threshold": float(t),
                    "fraction": float(c) / n if n else None,
                    "volume_ml": float(c) * dv,
                }
                for t, c in zip(ts, counts, strict=True)
            ],
        }

    atlas = coordinate_regions(brain) if regions is None else regions
    if atlas.labels.shape != (n,):
        raise ValueError(
            f"summary: region labels ({atlas.source}) need shape ({n},), got {atlas.labels.shape}"
        )
    labels = atlas.labels.astype(np.int64)
    n_labels = max([int(labels.max(initial=0)), *(int(k) for k in atlas.names)]) + 1
    count = np.bincount(labels, minlength=n_labels)
    sums = np.stack([np.bincount(labels, weights=v[:, j], minlength=n_labels) for j in range(len(names))], 1)
    ood_count = None
    if flags is not None:
        ood_count = np.bincount(labels, weights=flags.astype(np.float64), minlength=n_labels)
    present = {int(k) for k in np.flatnonzero(count[1:]) + 1}
    items = []
    for k in sorted(present | {int(x) for x in atlas.names}):  # loop over regions, not voxels
        c = int(count[k])
        ood_fraction = None if ood_count is None or c == 0 else float(ood_count[k]) / c
        items.append(
            {
                "label": k,
                "name": str(atlas.names.get(k, f"label {k}")),
                "n_voxels": c,
                "volume_ml": c * dv,
                "ood_fraction": ood_fraction,
                "mean": {name: (_num(sums[k, j] / c) if c else None) for j, name in enumerate(names)},
            }
        )
    return {
        "n_voxels": n,
        "voxel_volume_ml": dv,
        "white_matter_volume_ml": n * dv,
        "ood_fraction": None if flags is None or n == 0 else float(flags.mean()),
        "outputs": outputs,
        "regions": {"source": atlas.source, "items": items},
    }
