"""Tract-level results: every output summarised over each AFQ tract and sampled along its core (host NumPy).

Tract voxels: the white-matter voxels holding a node or a segment midpoint of one of the tract's streamlines.
Tract profile (the AFQ convention): at each of the N = 100 nodes, the mean of the output at the streamlines'
node-i points, each weighted by exp(-d^2 / (2 s^2)) with d its distance to the core's node i and s the RMS of
those distances (an isotropic form of AFQ's Mahalanobis weighting); points outside the white matter have no
value and weight 0. Node 0 is the core's end with the smaller coordinate along its longest extent
(`axojax.brain.tracts.Tracts`): the corticospinal tract runs from the brainstem to the cortex.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from jaxtyping import ArrayLike, Bool, Float

from ..brain import Brain
from ..brain.tracts import Tracts, afq_tracts
from ..surrogate import OUTPUT_NAMES
from ._summary import DEFAULT_THRESHOLDS, OUTPUT_UNITS, _num, voxel_volume_ml

# below this fraction of the tracts' points on the brain's white matter, the brain is not in the tracts'
# (MNI) space and no tract result is reported (default brain: 60 %)
MIN_TRACT_OVERLAP = 0.25
TRACT_SOURCE = "AFQ-Browser 0.4.6 tracts (axojax/brain/data, BSD-3-Clause)"


@dataclasses.dataclass(frozen=True)
class TractIndex:
    """Where the tracts lie on one brain's voxels (build once per brain with `tract_index`).

    Fields:
        names: tract names (T,).
        members: tract membership of each voxel (T, V) bool.
        node_voxel: voxel index of each streamline node (S, N), -1 off the white matter.
        node_weight: profile weight of each streamline node (S, N) [-], 0 off the white matter.
        tract: tract index of each streamline (S,).
        overlap: fraction of all streamline nodes on the white matter [-].
    """

    names: tuple[str, ...]
    members: np.ndarray
    node_voxel: np.ndarray
    node_weight: np.ndarray
    tract: np.ndarray
    overlap: float

    @property
    def n_nodes(self) -> int:
        """Profile nodes N."""
        return int(self.node_voxel.shape[1])


def _voxel_lookup(points_mm: np.ndarray, brain: Brain) -> np.ndarray:
    """Index of the brain voxel holding each point (nearest grid voxel), -1 off the white matter."""
    grid = np.full(tuple(brain.mask.shape), -1, np.int64)
    ijk = np.asarray(brain.voxel_ijk)
    grid[ijk[:, 0], ijk[:, 1], ijk[:, 2]] = np.arange(brain.n_voxels)
    inv = np.linalg.inv(np.asarray(brain.affine, np.float64))
    flat = points_mm.reshape(-1, 3).astype(np.float64)
    p = np.rint(flat @ inv[:3, :3].T + inv[:3, 3]).astype(np.int64)
    inside = np.all((p >= 0) & (p < np.asarray(grid.shape)), axis=1)
    p = np.where(inside[:, None], p, 0)
    return np.where(inside, grid[p[:, 0], p[:, 1], p[:, 2]], -1).reshape(points_mm.shape[:-1])


def tract_index(brain: Brain, tracts: Tracts | None = None) -> TractIndex:
    """Tract voxels and profile sampling of `tracts` (default: the vendored AFQ tracts) on `brain`."""
    tracts = afq_tracts() if tracts is None else tracts
    pts = np.asarray(tracts.points_mm, np.float64)
    node_voxel = _voxel_lookup(pts, brain)
    mid_voxel = _voxel_lookup(0.5 * (pts[:, 1:] + pts[:, :-1]), brain)
    members = np.zeros((tracts.n_tracts, brain.n_voxels), bool)
    for vox in (node_voxel, mid_voxel):
        t = np.broadcast_to(tracts.tract[:, None], vox.shape)
        ok = vox >= 0
        members[t[ok], vox[ok]] = True
    d2 = np.sum((pts - np.asarray(tracts.core_mm, np.float64)[tracts.tract]) ** 2, axis=-1)  # (S, N)
    # per tract and node, the mean squared distance to the core (s^2)
    sums = np.zeros((tracts.n_tracts, pts.shape[1]))
    np.add.at(sums, tracts.tract, d2)
    count = np.bincount(tracts.tract, minlength=tracts.n_tracts)[:, None]
    s2 = sums / np.maximum(count, 1)
    weight = np.exp(-0.5 * d2 / np.maximum(s2[tracts.tract], 1e-12))
    weight = np.where(node_voxel >= 0, weight, 0.0)
    return TractIndex(
        names=tuple(tracts.names),
        members=members,
        node_voxel=node_voxel,
        node_weight=weight,
        tract=np.asarray(tracts.tract, np.int64),
        overlap=float(np.mean(node_voxel >= 0)),
    )


def tract_profiles(values: Float[ArrayLike, "vox n"], index: TractIndex) -> np.ndarray:
    """Each output along each tract's core: (T, N, n) [output units], NaN at nodes without white matter."""
    v = np.asarray(values, np.float64)
    t_count, n_nodes = len(index.names), index.n_nodes
    x = v[np.maximum(index.node_voxel, 0)]  # (S, N, n)
    w = index.node_weight[..., None]
    num = np.zeros((t_count, n_nodes, v.shape[1]))
    den = np.zeros((t_count, n_nodes, 1))
    np.add.at(num, index.tract, w * x)
    np.add.at(den, index.tract, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def tract_summary(
    values: Float[ArrayLike, "vox n"],
    brain: Brain,
    *,
    index: TractIndex | None = None,
    ood: Bool[ArrayLike, " vox"] | None = None,
    names: Sequence[str] = OUTPUT_NAMES,
    thresholds: Mapping[str, Sequence[float]] | None = None,
    profiles: bool = True,
) -> dict[str, Any]:
    """Every output per tract, as tract-based reports give them (JSON-serialisable).

    Per tract: `n_voxels`, `volume_ml`, `ood_fraction` and per output `mean`, `p95`, `max` and `above`
    (fraction of the tract's voxels >= each threshold of `DEFAULT_THRESHOLDS`), and the `profile` (N values,
    `tract_profiles`; null at nodes without white matter).

    Args:
        values: per-voxel outputs (V, n) [strains -, failures %].
        brain: the brain the values live on.
        index: `tract_index(brain)` (built here when None).
        ood: per-voxel out-of-distribution flags (V,).
        names: output names of the columns.
        thresholds: per-output thresholds replacing the defaults.
        profiles: include the profiles.

    Returns:
        {"source", "overlap", "n_nodes", "items": [{"name", "n_voxels", "volume_ml", "ood_fraction",
         "outputs": {name: {"unit", "mean", "p95", "max", "above": [{"threshold", "fraction"}]}},
         "profile": {name: [N values]}}]}; or {"source", "overlap", "skipped": reason} when fewer than
        `MIN_TRACT_OVERLAP` of the tract points fall on the brain's white matter (not MNI space).

    Raises:
        ValueError: values not of shape (V, len(names)), or `ood` not (V,).
    """
    v = np.asarray(values, np.float64)
    names = tuple(str(x) for x in names)
    if v.ndim != 2 or v.shape != (brain.n_voxels, len(names)):
        raise ValueError(f"tract_summary: values need shape ({brain.n_voxels}, {len(names)}), got {v.shape}")
    flags = None if ood is None else np.asarray(ood, bool)
    if flags is not None and flags.shape != (brain.n_voxels,):
        raise ValueError(f"tract_summary: ood needs shape ({brain.n_voxels},), got {flags.shape}")
    index = tract_index(brain) if index is None else index
    head: dict[str, Any] = {"source": TRACT_SOURCE, "overlap": index.overlap}
    if index.overlap < MIN_TRACT_OVERLAP:
        head["skipped"] = (
            f"only {100 * index.overlap:.1f} % of the tract points lie on this brain's white matter "
            f"(< {100 * MIN_TRACT_OVERLAP:.0f} %): not in the tracts' MNI space"
        )
        return head
    chosen = {k: tuple(DEFAULT_THRESHOLDS.get(k, ())) for k in names}
    chosen.update({k: tuple(float(t) for t in ts) for k, ts in (thresholds or {}).items()})
    prof = tract_profiles(v, index) if profiles else None
    dv = voxel_volume_ml(brain)
    items = []
    for t, tract_name in enumerate(index.names):  # loop over the 20 tracts; voxel reductions vectorised
        sel = index.members[t]
        n = int(sel.sum())
        x = v[sel]
        outputs = {}
        for j, name in enumerate(names):
            col = x[:, j]
            ts = np.asarray(chosen[name], np.float64)
            outputs[name] = {
                "unit": OUTPUT_UNITS.get(name, "?"),
                "mean": _num(col.mean()) if n else None,
                "p95": _num(np.percentile(col, 95)) if n else None,
                "max": _num(col.max()) if n else None,
                "above": [
                    {"threshold": float(th), "fraction": float(np.mean(col >= th)) if n else None}
                    for th in ts
                ],
            }
        item: dict[str, Any] = {
            "name": tract_name,
            "n_voxels": n,
            "volume_ml": n * dv,
            "ood_fraction": None if flags is None or n == 0 else float(flags[sel].mean()),
            "outputs": outputs,
        }
        if prof is not None:
            item["profile"] = {name: [_num(p) for p in prof[t, :, j]] for j, name in enumerate(names)}
        items.append(item)
    return {**head, "n_nodes": index.n_nodes, "items": items}
