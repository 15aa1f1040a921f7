"""Adaptive sampling: sequential greedy selection of dissimilar profiles, and the threshold search.

Definition (the sequential greedy). Go through the candidates in order (training impacts in the
given order, within an impact in the given candidate order); keep a candidate iff its similarity
to every profile kept so far is below the threshold. Hence no kept pair has similarity >=
threshold, and every rejected candidate has similarity >= threshold to some kept one.

Implementation (exactly the sequential greedy, up to floating-point rounding of similarities that
fall on the threshold). The candidates of all impacts are concatenated in order and processed in
blocks of `block` rows inside one `lax.while_loop`:

1. block vs. kept buffer: one Gram matmul against the filled part of a fixed-capacity buffer
   (`lax.switch` over power-of-two prefix sizes, so early blocks do not pay for the full buffer);
   candidates with any similarity >= threshold are rejected;
2. block vs. itself: a (block, block) conflict matrix, resolved exactly by a fixed-point
   `lax.while_loop`: a survivor is rejected once an earlier conflicting candidate is kept, and
   kept once every earlier conflicting candidate is rejected (each round decides at least the
   first undecided candidate, usually far more);
3. the kept rows are scattered into the buffer.

The loop stops early once more than `stop_above` profiles are kept, which is what makes the
threshold search cheap on passes that overshoot.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from ._similarity import DEFAULT_MAX_LAG, Measure, _sim_matrix, _stats, check_measure
from ._stratify import check_profiles

DEFAULT_BLOCK = 256
_INITIAL_CAPACITY = 2048  # kept-buffer size of the first select_adaptive pass (x4 on overflow)


class Selection(eqx.Module):
    """Profiles kept by adaptive sampling, in the order they were kept.

    Fields:
        profiles: kept fiber strain profiles [-].
        impact: index (into the training impact list) of each kept profile's impact [-].
        voxel: origin id of each kept profile, e.g. its voxel index in the brain [-].
        threshold: similarity threshold used [-] (static).
        measure: similarity measure, "nrmse" or "xcorr" (static).
        max_lag: largest lag of "xcorr" [samples] (static).
        n_examined: candidates gone through (all of them unless truncated to an exact N) (static).
        n_candidates: candidates offered (static).
    """

    profiles: Float[Array, "kept time"]
    impact: Int[Array, " kept"]
    voxel: Int[Array, " kept"]
    threshold: float = eqx.field(static=True)
    measure: str = eqx.field(static=True)
    max_lag: int = eqx.field(static=True)
    n_examined: int = eqx.field(static=True)
    n_candidates: int = eqx.field(static=True)

    @property
    def n_kept(self) -> int:
        """Number of kept profiles."""
        return int(self.profiles.shape[0])


@dataclasses.dataclass(frozen=True)
class _Pool:
    """Candidates of all impacts concatenated in order, padded to whole blocks."""

    x: Array  # (padded, T)
    valid: Array  # (padded,) bool
    impact: np.ndarray  # (n,) impact index
    voxel: np.ndarray  # (n,) origin id
    n: int


def _pool(
    candidates_by_impact: Sequence[ArrayLike] | ArrayLike,
    voxels_by_impact: Sequence[ArrayLike] | ArrayLike | None,
    block: int,
) -> _Pool:
    cands = [jnp.asarray(c) for c in candidates_by_impact]
    if not cands:
        raise ValueError("candidates_by_impact is empty: expected at least one impact's candidates")
    for i, c in enumerate(cands):
        check_profiles(c, f"candidates of impact {i}", 2)
        if c.shape[1] != cands[0].shape[1] or c.dtype != cands[0].dtype:
            raise ValueError(
                f"candidates of impact {i} have shape {c.shape} dtype {c.dtype}, expected "
                f"(n, {cands[0].shape[1]}) {cands[0].dtype} like impact 0"
            )
    if voxels_by_impact is None:
        voxels = [np.arange(c.shape[0]) for c in cands]
    else:
        voxels = [np.asarray(v) for v in voxels_by_impact]
        if len(voxels) != len(cands) or any(
            v.shape != (c.shape[0],) for v, c in zip(voxels, cands, strict=False)
        ):
            raise ValueError(
                "voxels_by_impact must give one id per candidate of each impact, shapes "
                f"{[(c.shape[0],) for c in cands]}, got {[v.shape for v in voxels]}"
            )
    n = sum(c.shape[0] for c in cands)
    if n == 0:
        raise ValueError("no candidate profiles: every impact has zero candidates")
    pad = -(-n // block) * block - n
    x = jnp.concatenate(cands + [jnp.zeros((pad, cands[0].shape[1]), cands[0].dtype)], axis=0)
    valid = jnp.arange(n + pad) < n
    impact = np.concatenate([np.full(c.shape[0], i) for i, c in enumerate(cands)])
    voxel = np.concatenate(voxels).astype(np.int64)
    return _Pool(x=x, valid=valid, impact=impact, voxel=voxel, n=n)


def _resolve_block(conflict, survivor):
    """Exact sequential greedy inside a block.

    conflict[j, i] (i < j only): candidates i and j are too similar. Returns the kept mask.
    """

    def cond(state):
        _, und = state
        return jnp.any(und)

    def body(state):
        keep, und = state
        rejected = und & jnp.any(conflict & keep[None, :], axis=1)
        und = und & ~rejected
        new = und & ~jnp.any(conflict & und[None, :], axis=1)
        return keep | new, und & ~new

    keep, _ = jax.lax.while_loop(cond, body, (jnp.zeros_like(survivor), survivor))
    return keep


@functools.partial(jax.jit, static_argnames=("measure", "max_lag", "capacity", "block"))
def _greedy(x, valid, threshold, *, measure, max_lag, capacity, block):
    """Sequential greedy over the rows of x; stops once more than `capacity` are kept.

    Returns (kept row indices (capacity + block,), padded with -1; count; rows examined).
    """
    n_rows, n_time = x.shape
    n_blocks = n_rows // block
    size = capacity + block
    sizes = []
    s = block
    while s < size:
        sizes.append(s)
        s *= 2
    sizes.append(size)
    sizes_arr = jnp.asarray(sizes, dtype=jnp.int32)
    thr = jnp.asarray(threshold, x.dtype)
    rows = jnp.arange(block, dtype=jnp.int32)
    lower = rows[None, :] < rows[:, None]  # [j, i]: i earlier than j

    def cond(state):
        b, count, *_ = state
        return (b < n_blocks) & (count <= capacity)

    def body(state):
        b, count, buf, st0, st1, idx = state
        xb = jax.lax.dynamic_slice_in_dim(x, b * block, block)
        vb = jax.lax.dynamic_slice_in_dim(valid, b * block, block)
        xb_st = _stats(xb, measure)

        def against(m):
            def branch(_):
                sim = _sim_matrix(xb, xb_st, buf[:m], (st0[:m], st1[:m]), measure, max_lag)
                filled = jnp.arange(m, dtype=jnp.int32) < count
                return jnp.any((sim >= thr) & filled[None, :], axis=1)

            return branch

        bucket = jnp.minimum(jnp.searchsorted(sizes_arr, count), len(sizes) - 1)
        near_kept = jax.lax.switch(bucket, [against(m) for m in sizes], None)
        survivor = vb & ~near_kept
        within = _sim_matrix(xb, xb_st, xb, xb_st, measure, max_lag) >= thr
        keep = _resolve_block(within & lower, survivor)
        pos = jnp.where(keep, count + jnp.cumsum(keep, dtype=jnp.int32) - 1, size)
        buf = buf.at[pos].set(xb, mode="drop")
        st0 = st0.at[pos].set(xb_st[0], mode="drop")
        st1 = st1.at[pos].set(xb_st[1], mode="drop")
        idx = idx.at[pos].set(b * block + rows, mode="drop")
        return b + 1, count + jnp.sum(keep, dtype=jnp.int32), buf, st0, st1, idx

    init = (
        jnp.asarray(0, jnp.int32),
        jnp.asarray(0, jnp.int32),
        jnp.zeros((size, n_time), x.dtype),
        jnp.zeros((size,), x.dtype),
        jnp.zeros((size,), x.dtype),
        jnp.full((size,), -1, jnp.int32),
    )
    b, count, *_, idx = jax.lax.while_loop(cond, body, init)
    return idx, count, b * block


def _run(pool: _Pool, threshold: float, measure: str, max_lag: int, capacity: int, block: int):
    idx, count, examined = _greedy(
        pool.x,
        pool.valid,
        float(threshold),
        measure=measure,
        max_lag=int(max_lag),
        capacity=int(capacity),
        block=int(block),
    )
    return np.asarray(idx), int(count), min(int(examined), pool.n)


def _selection(pool: _Pool, idx: np.ndarray, n_examined: int, threshold, measure, max_lag):
    idx = idx.astype(np.int64)
    return Selection(
        profiles=pool.x[jnp.asarray(idx)],
        impact=jnp.asarray(pool.impact[idx]),
        voxel=jnp.asarray(pool.voxel[idx]),
        threshold=float(threshold),
        measure=measure,
        max_lag=int(max_lag),
        n_examined=int(n_examined),
        n_candidates=pool.n,
    )


def _check_common(measure: str, max_lag: int, block: int, pool_or_t: int) -> None:
    check_measure(measure, max_lag, pool_or_t)
    if int(block) < 1:
        raise ValueError(f"block must be >= 1 candidate, got {block}")


def select_adaptive(
    candidates_by_impact: Sequence[Float[ArrayLike, "_ _"]] | Float[ArrayLike, "_ _ _"],
    threshold: float,
    measure: Measure | str = "nrmse",
    *,
    voxels_by_impact: Sequence[ArrayLike] | ArrayLike | None = None,
    max_lag: int = DEFAULT_MAX_LAG,
    block: int = DEFAULT_BLOCK,
) -> Selection:
    """Keep a candidate iff its similarity to every profile kept so far is below `threshold`.

    Impacts are gone through in the given order, the candidates of each impact in their order.
    The result is exactly the sequential greedy result (see the module docstring).

    Args:
        candidates_by_impact: per training impact, its candidate profiles (n_i, T) [-], e.g. from
            `stratify`; one dtype and time grid for all.
        threshold: similarity threshold [-]; candidates with similarity >= threshold to a kept
            profile are rejected.
        measure: "nrmse" (amplitude-aware) or "xcorr" (shape); see `similarity`.
        voxels_by_impact: origin id (e.g. voxel index) of each candidate; default: its row.
        max_lag: largest lag of "xcorr" [samples].
        block: candidates per vectorised step (tuning only; the result does not depend on it).

    Returns:
        The `Selection` (kept profiles with their impact index and origin id).

    Raises:
        ValueError: no candidates, NaN/inf, mismatched shapes, dtypes or ids, unknown measure, a
            non-finite threshold.
    """
    if not math.isfinite(float(threshold)):
        raise ValueError(f"threshold must be a finite similarity, got {threshold}")
    pool = _pool(candidates_by_impact, voxels_by_impact, int(block))
    _check_common(measure, max_lag, block, pool.x.shape[1])
    capacity = min(pool.n, _INITIAL_CAPACITY)
    while True:
        idx, count, examined = _run(pool, threshold, measure, max_lag, capacity, block)
        if count <= capacity or capacity >= pool.n:
            break
        capacity = min(pool.n, 4 * capacity)
    return _selection(pool, idx[:count], examined, threshold, measure, max_lag)


def threshold_for_n(
    candidates_by_impact: Sequence[Float[ArrayLike, "_ _"]] | Float[ArrayLike, "_ _ _"],
    n: int,
    measure: Measure | str = "nrmse",
    *,
    voxels_by_impact: Sequence[ArrayLike] | ArrayLike | None = None,
    max_lag: int = DEFAULT_MAX_LAG,
    rtol: float = 0.01,
    exact: bool = False,
    max_iter: int = 60,
    block: int = DEFAULT_BLOCK,
) -> Selection:
    """Bisection on the similarity threshold until adaptive sampling keeps about `n` profiles.

    The kept count grows with the threshold (not strictly monotonically: the greedy can jump), so
    the search brackets the target in [-1, 1] and narrows the bracket (regula falsi on
    log(count), safeguarded by bisection) until the count lies in
    [ceil(n (1 - rtol)), floor(n (1 + rtol))]. Passes that overshoot stop as soon as the count
    leaves the window. With `exact=True` the window is [n, floor(n (1 + rtol))] and the result is
    cut to the first n kept profiles, which is the greedy stopped at n kept (its `n_examined`
    candidates satisfy the defining property); then exactly n are returned.

    Args:
        candidates_by_impact: as in `select_adaptive`.
        n: requested number of kept profiles.
        measure, voxels_by_impact, max_lag, block: as in `select_adaptive`.
        rtol: relative tolerance on the count [-].
        exact: return exactly n (truncated greedy).
        max_iter: most greedy passes.

    Returns:
        The `Selection` at the threshold found (`selection.threshold`).

    Raises:
        ValueError: n < 1 or more than the candidates offered; no threshold within `max_iter` steps
            gives a count in the window (the count jumps over it, e.g. many duplicate candidates:
            widen rtol or use exact=True); and as in `select_adaptive`.
    """
    pool = _pool(candidates_by_impact, voxels_by_impact, int(block))
    _check_common(measure, max_lag, block, pool.x.shape[1])
    n = int(n)
    if not 1 <= n <= pool.n:
        raise ValueError(f"n must be in 1..{pool.n} (the number of candidate profiles offered), got {n}")
    if not 0 <= rtol < 1:
        raise ValueError(f"rtol must be in [0, 1), got {rtol}")
    n_lo = n if exact else math.ceil(n * (1 - rtol))
    n_hi = max(n, math.floor(n * (1 + rtol)))
    # Safeguarded regula falsi on log(count) vs. threshold: interpolate inside the bracket (kept
    # >= 5 % of its width from either end), bisect instead after a step that did not halve it.
    lo, hi = -1.0, 1.0 + 1e-3
    c_lo, c_hi = 1.0, float(pool.n)  # count(lo) = 1, count(hi) = all candidates
    width = hi - lo
    for _ in range(max_iter):
        w = hi - lo
        if w <= 0.5 * width and c_hi > c_lo:
            f = (math.log(n) - math.log(c_lo)) / (math.log(c_hi) - math.log(c_lo))
            thr = lo + w * min(max(f, 0.05), 0.95)
        else:
            thr = 0.5 * (lo + hi)
        width = w
        idx, count, examined = _run(pool, thr, measure, max_lag, n_hi, block)
        if count > n_hi:  # stopped early: count is a lower bound, which biases towards cheap overshoots
            hi, c_hi = thr, float(count)
        elif count < n_lo:
            lo, c_lo = thr, max(float(count), 1.0)
        else:
            if exact:
                examined = int(idx[n - 1]) + 1
                count = n
            return _selection(pool, idx[:count], examined, thr, measure, max_lag)
    raise ValueError(
        f"no similarity threshold gives {n_lo}..{n_hi} kept profiles after {max_iter} greedy "
        f"passes (bracket [{lo:.9g}, {hi:.9g}]): the count jumps over the window; widen rtol or use "
        "exact=True"
    )
