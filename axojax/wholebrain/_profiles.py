"""Fiber strain profiles of every white-matter voxel for one impact, in memory (pure jnp + a chunk loop).

The head model gives the Green-Lagrange strain history E(x, t) at the voxel centres; it is projected on the
brain's fiber populations, eps_f = sum_k w_k n_k^T E n_k, exactly as `axojax.fiberstrain.build_profiles` does
for its store, but without files: one jitted program per fixed-size voxel chunk (the last chunk padded by
repeating its last voxel), so a brain of any size compiles once per chunk size.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._units import MAX_PLAUSIBLE_STRAIN
from ..brain import Brain
from ..fiberstrain import check_time_grid, project_strain_weighted
from ..headmodel import AbstractHeadModel, motion
from ..kinematics import Impact

DEFAULT_CHUNK_VOXELS = 8192


@eqx.filter_jit
def _chunk_profiles(
    head_model: AbstractHeadModel,
    solved,
    coords_mm: Float[Array, "chunk 3"],
    fiber_dir: Float[Array, "chunk k 3"],
    fiber_weight: Float[Array, "chunk k"],
) -> Float[Array, "chunk time"]:
    """Profiles of one voxel chunk [-] in the dtype of the solved motion, cast to float32 at the end."""
    strain = head_model.strain_from_motion(solved, coords_mm)
    eps = project_strain_weighted(strain, fiber_dir.astype(strain.dtype), fiber_weight.astype(strain.dtype))
    return eps.astype(jnp.float32)


@jax.jit
def _profile_checks(profiles: Float[Array, "vox time"]) -> tuple[Array, Array]:
    return jnp.all(jnp.isfinite(profiles)), jnp.max(jnp.abs(profiles), initial=0.0)


def _impact_grid(impact: Impact, t_s: Float[ArrayLike, " time"] | None) -> tuple[Array, Array]:
    """(t_s, ang_acc) of one impact, on its own samples or interpolated onto `t_s` (zero outside)."""
    if impact.t_s.ndim != 1:
        raise ValueError(
            f"impact {impact.name!r}: need a single impact (t_s of shape (T,)), got a batch of shape "
            f"{impact.t_s.shape}; index or vmap it first"
        )
    acc = impact.ang_acc_rad_s2
    if t_s is None:
        check_time_grid(np.asarray(impact.t_s), f"impact {impact.name!r}")
        return impact.t_s, acc
    grid = check_time_grid(t_s, f"impact {impact.name!r}")
    t_new = jnp.asarray(grid, dtype=impact.t_s.dtype)
    acc = jax.vmap(
        lambda col: jnp.interp(t_new, impact.t_s, col, left=0.0, right=0.0), in_axes=1, out_axes=1
    )(acc)
    return t_new, acc


def impact_profiles(
    head_model: AbstractHeadModel,
    impact: Impact,
    brain: Brain,
    *,
    t_s: Float[ArrayLike, " time"] | None = None,
    chunk_voxels: int = DEFAULT_CHUNK_VOXELS,
) -> Float[Array, "vox time"]:
    """Fiber strain profiles of every white-matter voxel of `brain` for one impact, in memory.

    The head model is solved once (`head_model.motion`), then evaluated chunk by chunk. The same numbers as
    `axojax.fiberstrain.build_profiles` with the strain function
    `lambda imp, x: strain_history(head_model, imp.t_s, imp.ang_acc_rad_s2, x)` (computed in the dtype of
    the impact's angular acceleration, returned as float32), without the store.

    Args:
        head_model: e.g. `axojax.headmodel.ReducedHeadModel()`.
        impact: one impact (not a batch); its angular acceleration [rad/s^2] drives the model from rest.
        brain: voxel centres [mm] and fiber populations (directions [-], weights [-]).
        t_s: output time grid [s] in the impact's time frame, strictly increasing; the acceleration is
            interpolated linearly onto it (zero outside the record) and the model starts from rest at
            `t_s[0]`. None: the impact's own samples (for the surrogate, resample the impact first with
            `axojax.kinematics.resample_impact`).
        chunk_voxels: voxels per compiled chunk (memory ~ chunk_voxels x T x 9 strain values); the chunk is
            `min(chunk_voxels, V)`, so one compile per brain size below `chunk_voxels`.

    Returns:
        Green-Lagrange fiber strain profiles eps_f (V, T) [-], float32, voxels in the brain's order
        (92,439 x 100 x 4 B = 37 MB for the default brain and a 100 ms window at 1 ms).

    Raises:
        ValueError: a batched impact, a bad time grid or `chunk_voxels`, or profiles that are NaN/inf or
            exceed |eps| = 1 (acceleration in the wrong unit?).
    """
    if int(chunk_voxels) < 1:
        raise ValueError(f"chunk_voxels must be >= 1, got {chunk_voxels}")
    t, acc = _impact_grid(impact, t_s)
    n = brain.n_voxels
    if n == 0:
        return jnp.zeros((0, t.shape[0]), jnp.float32)
    chunk = min(int(chunk_voxels), n)
    n_chunks = -(-n // chunk)
    # pad on the host to a whole number of chunks by repeating the last voxel; slice there too (a device
    # slice per chunk offset would compile a small program per offset)
    idx = np.minimum(np.arange(n_chunks * chunk), n - 1)
    coords = np.asarray(brain.coords_mm)[idx]
    dirs = np.asarray(brain.fiber_dir)[idx]
    weights = np.asarray(brain.fiber_weight)[idx]
    solved = motion(head_model, t, acc)  # one solve per impact, whatever the number of voxel chunks
    parts = []
    for s in range(0, n_chunks * chunk, chunk):  # fixed-size voxel chunks, vectorised inside
        sl = slice(s, s + chunk)
        parts.append(
            _chunk_profiles(
                head_model, solved, jnp.asarray(coords[sl]), jnp.asarray(dirs[sl]), jnp.asarray(weights[sl])
            )
        )
    profiles = jnp.concatenate(parts, axis=0)[:n] if n_chunks > 1 else parts[0][:n]
    finite, peak = _profile_checks(profiles)
    if not bool(finite):
        raise ValueError(f"impact {impact.name!r}: fiber strain profiles contain NaN/inf")
    if float(peak) > MAX_PLAUSIBLE_STRAIN:
        raise ValueError(
            f"impact {impact.name!r}: fiber strain reaches |eps| = {float(peak):.4g} > "
            f"{MAX_PLAUSIBLE_STRAIN}: outside the head model's range (acceleration in the wrong unit?)"
        )
    return profiles
