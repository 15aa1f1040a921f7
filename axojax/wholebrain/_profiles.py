"""Fiber strain profiles of every white-matter voxel for one impact, in memory (pure jnp + a chunk loop).

The head model gives the Green-Lagrange strain history E(x, t) at the voxel centres; it is projected on the
brain's fiber populations, eps_f = sum_k w_k n_k^T E n_k, exactly as `axojax.fiberstrain.build_profiles` does
for its store, but without files: one jitted program per fixed-size voxel chunk (the last chunk padded by
repeating its last voxel), so a brain of any size compiles once per chunk size (`impact_profiles`).

For the fused whole-brain program (`axojax.wholebrain.whole_brain`): `voxel_chunks` pads and reshapes a
brain once, `chunk_fiber_strain` gives one chunk's profiles inside a caller's jit (the reduced model's
twist mode in closed form, without the (voxel, time, 3, 3) tensors).
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
from ..headmodel import AbstractHeadModel, ReducedHeadModel, motion
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
    return _tensor_fiber_strain(head_model, solved, coords_mm, fiber_dir, fiber_weight).astype(jnp.float32)


def _tensor_fiber_strain(
    head_model: AbstractHeadModel,
    solved,
    coords_mm: Float[Array, "chunk 3"],
    fiber_dir: Float[Array, "chunk k 3"],
    fiber_weight: Float[Array, "chunk k"],
) -> Float[Array, "chunk time"]:
    """Weighted fiber strain [-] through the head model's strain tensors, in the dtype of the solve."""
    strain = head_model.strain_from_motion(solved, coords_mm)
    return project_strain_weighted(strain, fiber_dir.astype(strain.dtype), fiber_weight.astype(strain.dtype))


@jax.jit
def _profile_checks(profiles: Float[Array, "vox time"]) -> tuple[Array, Array]:
    return jnp.all(jnp.isfinite(profiles)), jnp.max(jnp.abs(profiles), initial=0.0)


def _raise_on_bad_profiles(name: str, finite: ArrayLike, peak: ArrayLike) -> None:
    """The errors of `impact_profiles` for profiles that are NaN/inf or exceed |eps| = 1."""
    if not bool(finite):
        raise ValueError(f"impact {name!r}: fiber strain profiles contain NaN/inf")
    if float(peak) > MAX_PLAUSIBLE_STRAIN:
        raise ValueError(
            f"impact {name!r}: fiber strain reaches |eps| = {float(peak):.4g} > "
            f"{MAX_PLAUSIBLE_STRAIN}: outside the head model's range (acceleration in the wrong unit?)"
        )


class VoxelChunks(eqx.Module):
    """A brain's voxels in fixed-size chunks for the fused whole-brain program (`whole_brain`).

    Built once per brain and chunk size (`voxel_chunks`) and reused for every impact. The last chunk is
    padded by repeating the brain's last voxel.

    Attributes:
        coords_mm: voxel centres, MNI RAS [mm], (chunks, chunk, 3).
        fiber_dir: unit fiber directions [-], (chunks, chunk, K, 3).
        fiber_weight: population weights [-], (chunks, chunk, K).
        n_voxels: V, the voxels before padding (static).
    """

    coords_mm: Float[Array, "chunks chunk 3"]
    fiber_dir: Float[Array, "chunks chunk k 3"]
    fiber_weight: Float[Array, "chunks chunk k"]
    n_voxels: int = eqx.field(static=True)

    @property
    def chunk(self) -> int:
        """Voxels per chunk."""
        return int(self.coords_mm.shape[1])


def voxel_chunks(brain: Brain, chunk_voxels: int) -> VoxelChunks:
    """`brain`'s voxels and fibers padded to whole chunks of `min(chunk_voxels, V)` voxels (host work, once).

    Raises:
        ValueError: `chunk_voxels` < 1 or a brain without voxels.
    """
    if int(chunk_voxels) < 1:
        raise ValueError(f"chunk_voxels must be >= 1, got {chunk_voxels}")
    n = brain.n_voxels
    if n == 0:
        raise ValueError("voxel_chunks: the brain has no voxels")
    chunk = min(int(chunk_voxels), n)
    n_chunks = -(-n // chunk)
    idx = np.minimum(np.arange(n_chunks * chunk), n - 1)
    dirs = np.asarray(brain.fiber_dir)[idx]
    return VoxelChunks(
        coords_mm=jnp.asarray(np.asarray(brain.coords_mm)[idx].reshape(n_chunks, chunk, 3)),
        fiber_dir=jnp.asarray(dirs.reshape(n_chunks, chunk, *dirs.shape[1:])),
        fiber_weight=jnp.asarray(np.asarray(brain.fiber_weight)[idx].reshape(n_chunks, chunk, -1)),
        n_voxels=n,
    )


def _twist_fiber_strain(
    head_model: ReducedHeadModel,
    disp_m: Float[Array, "time 3"],
    coords_mm: Float[Array, "chunk 3"],
    fiber_dir: Float[Array, "chunk k 3"],
    fiber_weight: Float[Array, "chunk k"],
) -> Float[Array, "chunk time"]:
    """Weighted fiber strain of the reduced model's twist mode without forming the strain tensors [-].

    With a = θ × r and b = 2 r / s² (`axojax.headmodel._strain`), E = ½ (a ⊗ b + b ⊗ a) + ½ |a|² b ⊗ b,
    so n^T E n = (n·a)(n·b) + ½ |a|² (n·b)²: the numbers of `project_strain_weighted(strain_from_motion(...))`
    to rounding, in one elementwise fusion over (voxel, time) instead of (voxel, time, 3, 3) tensors.
    In the dtype of `disp_m`.
    """
    dtype = disp_m.dtype
    theta = head_model.rotation_from_motion(disp_m)  # (T, 3) [rad]
    r = coords_mm.astype(dtype) - head_model.brain_center_mm.astype(dtype)[None, :]
    b = 2.0 * r / head_model.brain_semi_axes_mm.astype(dtype)[None, :] ** 2
    tx, ty, tz = (theta[None, :, i] for i in range(3))
    rx, ry, rz = (r[:, i, None] for i in range(3))
    ax, ay, az = ty * rz - tz * ry, tz * rx - tx * rz, tx * ry - ty * rx  # a = θ × r, (chunk, T)
    a2 = ax * ax + ay * ay + az * az
    n = fiber_dir.astype(dtype)
    w = fiber_weight.astype(dtype)
    nb = jnp.sum(n * b[:, None, :], axis=-1)  # (chunk, K)
    eps = jnp.zeros_like(a2)
    for k in range(n.shape[1]):
        nk, nbk = n[:, k], nb[:, k, None]
        na = nk[:, 0, None] * ax + nk[:, 1, None] * ay + nk[:, 2, None] * az
        eps = eps + w[:, k, None] * (na * nbk + 0.5 * a2 * nbk * nbk)
    return eps


def chunk_fiber_strain(
    head_model: AbstractHeadModel,
    solved,
    coords_mm: Float[Array, "chunk 3"],
    fiber_dir: Float[Array, "chunk k 3"],
    fiber_weight: Float[Array, "chunk k"],
) -> Float[Array, "chunk time"]:
    """Weighted fiber strain [-] of one voxel chunk from the head model's solve, traceable (no jit).

    The reduced model in closed form (`_twist_fiber_strain`), any other through its strain tensors
    (`strain_from_motion` + `project_strain_weighted`); in the dtype of the solve.
    """
    if isinstance(head_model, ReducedHeadModel):
        return _twist_fiber_strain(head_model, solved, coords_mm, fiber_dir, fiber_weight)
    return _tensor_fiber_strain(head_model, solved, coords_mm, fiber_dir, fiber_weight)


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
    _raise_on_bad_profiles(impact.name, finite, peak)
    return profiles
