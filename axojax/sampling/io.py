"""Sampling straight from a fiber strain `ProfileDataset`, one impact in memory at a time."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from ..fiberstrain import ProfileDataset
from ._adaptive import DEFAULT_BLOCK, Selection, select_adaptive, threshold_for_n
from ._coverage import CoverageReport, coverage_report
from ._similarity import DEFAULT_MAX_LAG, Measure
from ._stratify import _stratify_segments, check_profiles, cube_segments
from ._worstcase import DEFAULT_N_WORST, WorstCaseSet, worst_case_set

DEFAULT_N = 2000


@dataclasses.dataclass(frozen=True)
class SamplingResult:
    """Stratified + adaptive training set, worst-case test set and coverage report.

    Attributes:
        selection: kept training profiles; `selection.impact` indexes `train_impacts`,
            `selection.voxel` is the voxel index in the store.
        worst_case: the held-out impact's least similar candidates (`voxel`: store voxel index).
        coverage: kept set vs. the stratified candidate pool of the training impacts.
        train_impacts: training impact names, in the order gone through.
        held_out: the held-out impact name.
        n_candidates_per_impact: stratified candidates per impact (the non-empty cubes; an impact
            with excluded voxels can have fewer, see `_candidates`).
        n_tail: kept profiles added by the severity pass (0 without one); they are the last
            `n_tail` rows of `selection`.
        tail_peak_strain: peak |strain| [-] above which a candidate belongs to the severity
            tail (None without a severity pass).
        held_out_voxels: store voxel index of every stratified candidate of the held-out impact
            (one per cube), the superset the worst-case set is drawn from.
    """

    selection: Selection
    worst_case: WorstCaseSet
    coverage: CoverageReport
    train_impacts: tuple[str, ...]
    held_out: str
    n_candidates_per_impact: int
    n_tail: int = 0
    tail_peak_strain: float | None = None
    held_out_voxels: np.ndarray | None = None


def _candidates(dataset: ProfileDataset, name: str, seg, n_cubes: int):
    """One candidate per cube of one impact; voxels the store flags as excluded (`ProfileDataset.excluded`,
    e.g. in an FE element that inverted) are never candidates (a cube with only such voxels has none)."""
    profiles = jnp.asarray(dataset.read_impact(name))  # one impact (V, T) in memory
    check_profiles(profiles, f"{dataset.store_dir}: impact {name!r}", 2)
    excluded = dataset.excluded(name)
    if not excluded.any():
        return _stratify_segments(profiles, seg, n_cubes=n_cubes)
    cand, vox = _stratify_segments(profiles, seg, jnp.asarray(~excluded), n_cubes=n_cubes)
    ok = ~excluded[np.asarray(vox)]
    return cand[ok], vox[ok]


def select_from_dataset(
    dataset: ProfileDataset,
    train_impacts: Sequence[str],
    held_out: str,
    *,
    n: int = DEFAULT_N,
    threshold: float | None = None,
    n_worst: int = DEFAULT_N_WORST,
    measure: Measure | str = "nrmse",
    max_lag: int = DEFAULT_MAX_LAG,
    rtol: float = 0.01,
    exact: bool = False,
    block: int = DEFAULT_BLOCK,
    tail_fraction: float = 0.0,
    tail_quantile: float = 0.99,
) -> SamplingResult:
    """Stratify each training impact as it is read, select adaptively, pick the worst-case set.

    Raw profiles are streamed one impact at a time (`ProfileDataset.read_impact`); only the
    stratified candidates (one per cube and impact) stay in memory.

    Args:
        dataset: the fiber strain store.
        train_impacts: names of the training impacts, in the order adaptive sampling goes through
            them.
        held_out: name of the held-out impact.
        n: requested number of kept profiles (threshold search); ignored if `threshold` is given.
        threshold: a fixed similarity threshold instead of the search [-].
        n_worst: size of the worst-case test set.
        measure, max_lag, rtol, exact, block: see `threshold_for_n` and `select_adaptive`.
        tail_fraction: share of the `n` kept profiles reserved for the severity tail [-]: the
            adaptive pass keeps about `n (1 - tail_fraction)`, then a second adaptive pass over
            the not-yet-kept candidates whose peak |strain| is at or above the pool's
            `tail_quantile` keeps the rest (all of them if fewer are left). Rare severe
            profiles (e.g. the > ~14 % strains that fail neurofilaments) are a tiny share of the
            pool; without this pass the training set holds only a handful. 0 turns it off.
        tail_quantile: quantile of the candidates' peak |strain| that starts the tail [-].

    Returns:
        The `SamplingResult`.

    Raises:
        ValueError: unknown, repeated or empty impact names, the held-out impact among the
            training impacts, NaN/inf in the store, and as in `threshold_for_n`.
    """
    names = [str(x) for x in train_impacts]
    known = set(dataset.impact_names)
    unknown = [x for x in names + [str(held_out)] if x not in known]
    if unknown:
        raise ValueError(
            f"{dataset.store_dir}: impacts {unknown} not in the store (expected names from "
            f"{list(dataset.impact_names)})"
        )
    if not names or len(set(names)) != len(names):
        raise ValueError(f"train_impacts must be non-empty and unique, got {names}")
    if held_out in names:
        raise ValueError(f"held-out impact {held_out!r} is also a training impact")
    if not 0.0 <= tail_fraction < 1.0:
        raise ValueError(f"tail_fraction must be in [0, 1), got {tail_fraction}")
    if not 0.0 < tail_quantile < 1.0:
        raise ValueError(f"tail_quantile must be in (0, 1), got {tail_quantile}")
    if tail_fraction > 0.0 and threshold is not None:
        raise ValueError("tail_fraction needs the threshold search (n), not a fixed threshold")
    unique, seg = cube_segments(np.asarray(dataset.cube_id))
    seg = jnp.asarray(seg)
    cands, voxels = [], []
    for name in names:
        c, v = _candidates(dataset, name, seg, int(unique.size))
        cands.append(c)
        voxels.append(np.asarray(v))
    common = dict(voxels_by_impact=voxels, max_lag=max_lag, block=block)
    n_tail, cut = 0, None
    if threshold is None:
        n_tail = int(round(tail_fraction * n))
        sel = threshold_for_n(cands, n - n_tail, measure, rtol=rtol, exact=exact, **common)
        if n_tail:
            sel, n_tail, cut = _add_tail(
                sel, cands, voxels, n_tail, tail_quantile, measure, rtol, exact, max_lag, block
            )
    else:
        sel = select_adaptive(cands, threshold, measure, **common)
    hc, hv = _candidates(dataset, held_out, seg, int(unique.size))
    worst = worst_case_set(hc, sel, n_worst, voxels=np.asarray(hv))
    cov = coverage_report(jnp.concatenate(cands, axis=0), sel.profiles, dataset.t_s)
    return SamplingResult(
        sel,
        worst,
        cov,
        tuple(names),
        str(held_out),
        int(unique.size),
        n_tail=n_tail,
        tail_peak_strain=cut,
        held_out_voxels=np.asarray(hv),
    )


def _add_tail(sel, cands, voxels, n_tail, quantile, measure, rtol, exact, max_lag, block):
    """Second adaptive pass over the severe candidates the first pass left; returns the merged
    selection (tail rows last), the number added and the peak-strain cut."""
    peaks = [np.asarray(jnp.max(jnp.abs(c), axis=1)) for c in cands]
    cut = float(np.quantile(np.concatenate(peaks), quantile))
    kept_impact, kept_voxel = np.asarray(sel.impact), np.asarray(sel.voxel)
    tail_c, tail_v = [], []
    for i, (c, v, p) in enumerate(zip(cands, voxels, peaks, strict=True)):
        m = (p >= cut) & ~np.isin(v, kept_voxel[kept_impact == i])
        tail_c.append(c[jnp.asarray(np.flatnonzero(m))])
        tail_v.append(v[m])
    available = sum(int(v.size) for v in tail_v)
    if available == 0:
        return sel, 0, cut
    common = dict(voxels_by_impact=tail_v, max_lag=max_lag, block=block)
    if available <= n_tail:
        tail = select_adaptive(tail_c, 1.0 + 1e-3, measure, **common)  # keeps every one
    else:
        tail = threshold_for_n(tail_c, n_tail, measure, rtol=rtol, exact=exact, **common)
    merged = dataclasses.replace(
        sel,
        profiles=jnp.concatenate([sel.profiles, tail.profiles]),
        impact=jnp.concatenate([sel.impact, tail.impact]),
        voxel=jnp.concatenate([sel.voxel, tail.voxel]),
    )
    return merged, tail.n_kept, cut
