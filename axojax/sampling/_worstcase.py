"""Worst-case independent test set: held-out candidates least similar to the training set."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from ._adaptive import Selection
from ._similarity import DEFAULT_MAX_LAG, Measure, max_similarity
from ._stratify import check_profiles

DEFAULT_N_WORST = 75


class WorstCaseSet(eqx.Module):
    """The held-out profiles least similar to the kept training profiles, least similar first.

    Fields:
        profiles: the chosen held-out profiles [-].
        voxel: origin id (e.g. voxel index) of each [-].
        max_similarity: each one's largest similarity to any kept training profile [-].
        measure: similarity measure (static).
        max_lag: largest lag of "xcorr" [samples] (static).
    """

    profiles: Float[Array, "n time"]
    voxel: Int[Array, " n"]
    max_similarity: Float[Array, " n"]
    measure: str = eqx.field(static=True)
    max_lag: int = eqx.field(static=True)


def worst_case_set(
    held_out: Float[ArrayLike, "cand time"],
    kept: Selection | Float[ArrayLike, "kept time_k"],
    n: int = DEFAULT_N_WORST,
    measure: Measure | str | None = None,
    *,
    voxels: Int[ArrayLike, " ids"] | None = None,
    max_lag: int | None = None,
) -> WorstCaseSet:
    """The `n` held-out candidates with the lowest max-similarity to the kept set.

    Args:
        held_out: candidate profiles of the held-out impact (e.g. `stratify` output) [-].
        kept: the training `Selection`, or kept profiles (M, T) [-].
        n: size of the test set (the study: 75).
        measure: similarity measure; default: the selection's, else "nrmse".
        voxels: origin id of each held-out candidate; default: its row.
        max_lag: largest lag of "xcorr" [samples]; default: the selection's, else 5.

    Returns:
        The `WorstCaseSet`, sorted by increasing max-similarity (ties: lower row first).

    Raises:
        ValueError: empty kept set, NaN/inf, mismatched time grids or ids, n < 1 or more than the
            held-out candidates.
    """
    if isinstance(kept, Selection):
        measure = kept.measure if measure is None else measure
        max_lag = kept.max_lag if max_lag is None else max_lag
        ref = kept.profiles
    else:
        ref = jnp.asarray(kept)
    measure = "nrmse" if measure is None else measure
    max_lag = DEFAULT_MAX_LAG if max_lag is None else int(max_lag)
    q = jnp.asarray(held_out)
    check_profiles(q, "held_out", 2)
    check_profiles(ref, "kept", 2)
    if ref.shape[0] == 0:
        raise ValueError("kept set is empty: expected at least one kept training profile")
    if ref.shape[1] != q.shape[1] or ref.dtype != q.dtype:
        raise ValueError(
            f"held_out {q.shape} {q.dtype} and kept {ref.shape} {ref.dtype} need one time grid and dtype"
        )
    if not 1 <= int(n) <= q.shape[0]:
        raise ValueError(f"n must be in 1..{q.shape[0]} (the held-out candidates), got {n}")
    ids = np.arange(q.shape[0]) if voxels is None else np.asarray(voxels)
    if ids.shape != (q.shape[0],):
        raise ValueError(f"voxels must have shape ({q.shape[0]},), got {ids.shape}")
    score = max_similarity(q, ref, measure, max_lag=max_lag)
    order = jnp.argsort(score, stable=True)[: int(n)]
    return WorstCaseSet(
        profiles=q[order],
        voxel=jnp.asarray(ids)[order],
        max_similarity=score[order],
        measure=measure,
        max_lag=max_lag,
    )
