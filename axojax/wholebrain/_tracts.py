"""Tract-level results: every output summarised over each AFQ tract and sampled along its core (host NumPy).

Tract voxels: the white-matter voxels holding a node or a segment midpoint of one of the tract's streamlines.
Tract profile (the AFQ convention): at each of the N = 100 nodes, the mean of the output at the streamlines'
node-i points, each weighted by exp(-d^2 / (2 s^2)) with d its distance to the core's node i and s the RMS of
those distances (an isotropic form of AFQ's Mahalanobis weighting); points outside the white matter have no
value and weight 0. Node 0 is the core's end with the smaller coordinate along its longest extent
(`axojax.brain.tracts.Tracts`): the corticospinal tract runs from the brainstem to the cortex.

`tract_index` does the geometry once per brain: the tracts' voxels as one index array sorted by tract
(segments), and the profile weights as one sparse (T N, V) matrix. `tract_summary` then reduces the voxels
of all tracts at once (segment sums, maxima and a segment sort for the percentile; no loop over voxels, and
none over tracts for the numbers), and the profiles are one sparse product.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse
from jaxtyping import ArrayLike, Bool, Float, Int

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
        member_voxels: the voxels of tract 0, then of tract 1, ... (sum of the tract sizes,), each
            tract's in increasing order (`members` as segments).
        member_start: where each tract's segment of `member_voxels` starts (T + 1,); the last entry is
            the length of `member_voxels`.
        profile_matrix: node weights normalised per (tract, node), sparse (T N, V): the profile of a map
            v (V, n) is `profile_matrix @ v` reshaped to (T, N, n) (`tract_profiles`).
        profile_defined: (T, N) bool, False where no streamline node of the tract lies on the white matter.
    """

    names: tuple[str, ...]
    members: Bool[np.ndarray, "tract vox"]
    node_voxel: Int[np.ndarray, "streamline node"]
    node_weight: Float[np.ndarray, "streamline node"]
    tract: Int[np.ndarray, " streamline"]
    overlap: float
    member_voxels: Int[np.ndarray, " member"]
    member_start: Int[np.ndarray, " tract_plus_one"]
    profile_matrix: scipy.sparse.csr_matrix
    profile_defined: Bool[np.ndarray, "tract node"]

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
    # einsum, not `flat @ inv.T`: NumPy's matmul of (P, 3) by (3, 3) took 0.2 s for the 0.5 M tract points
    p = np.rint(np.einsum("pj,ij->pi", flat, inv[:3, :3]) + inv[:3, 3]).astype(np.int64)
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
    tract_of = np.asarray(tracts.tract, np.int64)
    n_tracts, n_nodes = tracts.n_tracts, pts.shape[1]
    # profile weights: row (t, i) holds w[s, i] / sum_s' w[s', i] at voxel node_voxel[s, i], s in tract t
    rows = (tract_of[:, None] * n_nodes + np.arange(n_nodes)[None, :]).ravel()
    den = np.bincount(rows, weights=weight.ravel(), minlength=n_tracts * n_nodes)
    on = (node_voxel >= 0).ravel()
    rows_on = rows[on]
    profile = scipy.sparse.csr_matrix(
        (weight.ravel()[on] / np.where(den > 0, den, 1.0)[rows_on], (rows_on, node_voxel.ravel()[on])),
        shape=(n_tracts * n_nodes, brain.n_voxels),
    )  # duplicate (row, voxel) entries are summed
    t_of_member, member_voxels = np.nonzero(members)  # row-major: grouped by tract, voxels increasing
    return TractIndex(
        names=tuple(tracts.names),
        members=members,
        node_voxel=node_voxel,
        node_weight=weight,
        tract=tract_of,
        overlap=float(np.mean(node_voxel >= 0)),
        member_voxels=member_voxels.astype(np.int64),
        member_start=np.searchsorted(t_of_member, np.arange(n_tracts + 1)).astype(np.int64),
        profile_matrix=profile,
        profile_defined=(den > 0).reshape(n_tracts, n_nodes),
    )


def tract_profiles(values: Float[ArrayLike, "vox n"], index: TractIndex) -> Float[np.ndarray, "tract node n"]:
    """Each output along each tract's core: (T, N, n) [output units], NaN at nodes without white matter.

    At node i of tract t, sum_s w[s, i] v[node_voxel[s, i]] / sum_s w[s, i] over the tract's streamlines
    (module docstring): one sparse product with `index.profile_matrix`.
    """
    v = np.asarray(values, np.float64)
    t_count, n_nodes = len(index.names), index.n_nodes
    prof = np.asarray(index.profile_matrix @ v).reshape(t_count, n_nodes, v.shape[1])
    return np.where(index.profile_defined[..., None], prof, np.nan)


def _segment_percentile(
    x: Float[np.ndarray, " member"], seg: Int[np.ndarray, " member"], start: Int[np.ndarray, " s1"], q: float
) -> Float[np.ndarray, " seg"]:
    """The q-th percentile [0, 100] of each segment of `x` (segment ids `seg` sorted, `start` their
    offsets), NumPy's default linear interpolation; NaN for an empty segment."""
    order = np.lexsort((x, seg))  # by segment, then by value
    xs = x[order]
    n = np.diff(start)
    pos = np.maximum(n - 1, 0) * (q / 100.0)
    lo = np.floor(pos).astype(np.int64)
    frac = pos - lo
    last = np.maximum(start[1:] - 1, 0)
    a = xs[np.minimum(start[:-1] + lo, last)] if xs.size else np.zeros(n.shape)
    b = xs[np.minimum(start[:-1] + lo + 1, last)] if xs.size else np.zeros(n.shape)
    # NumPy's lerp: from the lower neighbour below t = 0.5, from the upper one above (same numbers)
    out = np.where(frac >= 0.5, b - (b - a) * (1.0 - frac), a + (b - a) * frac)
    return np.where(n > 0, out, np.nan)


def _json_list(x: np.ndarray) -> list[float | None]:
    """A float array as a JSON list (None for NaN/inf)."""
    return [p if np.isfinite(p) else None for p in x.tolist()]


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
    # every tract's voxels as segments of one array: the reductions run over all tracts at once
    start = index.member_start
    count = np.diff(start)
    seg = np.repeat(np.arange(count.size), count)
    x = v[index.member_voxels]  # (M, n)
    ts_all = [(j, th) for j, name in enumerate(names) for th in chosen[name]]
    hits = np.stack([x[:, j] >= th for j, th in ts_all], 1) if ts_all else np.zeros((x.shape[0], 0), bool)
    cols = [x, hits.astype(np.float64)]
    if flags is not None:
        cols.append(flags[index.member_voxels, None].astype(np.float64))
    stacked = np.concatenate(cols, axis=1)  # (M, n + thresholds [+ 1])
    full = count > 0
    sums = np.zeros((count.size, stacked.shape[1]))
    peak = np.full((count.size, v.shape[1]), np.nan)
    if full.any():  # segment reductions over the non-empty tracts (reduceat runs to the next start)
        sums[full] = np.add.reduceat(stacked, start[:-1][full], axis=0)
        peak[full] = np.maximum.reduceat(x, start[:-1][full], axis=0)
    share = sums / np.maximum(count, 1)[:, None]
    mean = share[:, : v.shape[1]]
    above = share[:, v.shape[1] : v.shape[1] + len(ts_all)]
    ood_frac = share[:, -1] if flags is not None else None
    p95 = np.stack([_segment_percentile(x[:, j], seg, start, 95.0) for j in range(v.shape[1])], 1)
    first = np.cumsum([0, *(len(chosen[name]) for name in names)])  # output j's columns of `above`
    items = []
    for t, tract_name in enumerate(index.names):  # assembling the dict per tract; the numbers are above
        n = int(count[t])
        outputs = {}
        for j, name in enumerate(names):
            outputs[name] = {
                "unit": OUTPUT_UNITS.get(name, "?"),
                "mean": _num(mean[t, j]) if n else None,
                "p95": _num(p95[t, j]) if n else None,
                "max": _num(peak[t, j]) if n else None,
                "above": [
                    {"threshold": float(th), "fraction": float(above[t, first[j] + k]) if n else None}
                    for k, th in enumerate(chosen[name])
                ],
            }
        item: dict[str, Any] = {
            "name": tract_name,
            "n_voxels": n,
            "volume_ml": n * dv,
            "ood_fraction": None if ood_frac is None or n == 0 else float(ood_frac[t]),
            "outputs": outputs,
        }
        if prof is not None:
            item["profile"] = {name: _json_list(prof[t, :, j]) for j, name in enumerate(names)}
        items.append(item)
    return {**head, "n_nodes": index.n_nodes, "items": items}
