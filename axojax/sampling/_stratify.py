"""Stratified sampling: at most one candidate profile per coarse (6 mm) cube and impact (pure jnp).

The candidate of a cube is its voxel with the largest peak |fiber strain| over time (ties -> the
lowest voxel index). Rationale: within a 6 mm cube the profiles of one impact are strongly
correlated (the head model's strain field is smooth on that scale), so the cube's most strained
voxel carries the most injurious loading, bounds what the cube can contribute, and keeps the high
strain tail of the distribution in the pool (a random or central voxel would thin that tail out).
The choice is deterministic, which keeps the pipeline reproducible without a PRNG key.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int


def cube_segments(cube_ids: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Renumber cube ids to segments 0..C-1 in ascending id order.

    Returns:
        (unique cube ids (C,), segment per voxel (V,)).

    Raises:
        ValueError: cube ids not a non-empty 1-D integer array.
    """
    ids = np.asarray(cube_ids)
    if ids.ndim != 1 or ids.size == 0 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            f"cube_ids must be a non-empty 1-D integer array (one id per voxel), got dtype "
            f"{ids.dtype} shape {ids.shape}"
        )
    unique, seg = np.unique(ids, return_inverse=True)
    return unique, seg.reshape(-1).astype(np.int32)


@functools.partial(jax.jit, static_argnames=("n_cubes",))
def _stratify_segments(profiles, seg, keep=None, *, n_cubes):
    """profiles (V, T), seg (V,) in 0..C-1 -> (candidates (C, T), voxel index (C,)). With `keep` (V,)
    bool, a voxel not kept stands for its cube only when none of the cube's voxels is kept."""
    n_vox = profiles.shape[0]
    peak = jnp.max(jnp.abs(profiles), axis=-1)
    if keep is not None:
        peak = jnp.where(keep, peak, -1.0)  # peaks are >= 0
    best = jax.ops.segment_max(peak, seg, num_segments=n_cubes)
    vox = jnp.arange(n_vox, dtype=jnp.int32)
    is_best = peak == best[seg]
    pick = jax.ops.segment_min(jnp.where(is_best, vox, n_vox), seg, num_segments=n_cubes)
    return profiles[pick], pick


@jax.jit
def _all_finite(x):
    return jnp.all(jnp.isfinite(x))


def check_profiles(x: np.ndarray | Array, name: str, ndim: int) -> None:
    """Raise ValueError unless `x` is a finite floating array with `ndim` dimensions."""
    if x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(x.shape)}")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise ValueError(f"{name} must be floating point, got dtype {x.dtype}")
    if not bool(_all_finite(jnp.asarray(x))):
        raise ValueError(f"{name} contains NaN/inf (expected finite fiber strain profiles)")


def stratify(
    profiles: Float[ArrayLike, "*impact vox time"],
    cube_ids: ArrayLike,
) -> tuple[Float[Array, "*impact cube time"], Int[Array, "*impact cube"]]:
    """One candidate profile per cube (and impact): the voxel with the largest peak |strain|.

    Vectorised with `jax.ops.segment_max` (peak per cube), `segment_min` (lowest voxel index among
    the maxima) and a gather; no loop over voxels.

    Args:
        profiles: fiber strain profiles [-] of V voxels over T samples, optionally with leading
            impact axes.
        cube_ids: coarse cube of each voxel [-] (any integers; cubes are sorted by id).

    Returns:
        (candidates (..., C, T) [-], voxel index (..., C) of each candidate), cubes in ascending id
        order; C is the number of distinct cube ids.

    Raises:
        ValueError: NaN/inf or non-float profiles, fewer than 2 axes, or a cube id count that does
            not match the voxel axis.
    """
    x = jnp.asarray(profiles)
    if x.ndim < 2:
        raise ValueError(f"profiles must be (..., vox, time), got shape {x.shape}")
    check_profiles(x, "profiles", x.ndim)
    unique, seg = cube_segments(cube_ids)
    if seg.shape[0] != x.shape[-2]:
        raise ValueError(f"cube_ids has {seg.shape[0]} entries, expected one per voxel ({x.shape[-2]})")
    batch = x.shape[:-2]
    flat = x.reshape((-1,) + x.shape[-2:])
    fn = jax.vmap(lambda p: _stratify_segments(p, jnp.asarray(seg), n_cubes=int(unique.size)))
    cand, pick = fn(flat)
    return cand.reshape(batch + cand.shape[1:]), pick.reshape(batch + pick.shape[1:])
