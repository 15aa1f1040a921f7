"""Fiber strain profiles of the brain's voxels from an imported strain field (e.g. an FE head model run)."""

from __future__ import annotations

import warnings

import jax.numpy as jnp
import numpy as np
from jaxtyping import Bool, Float

from ..brain import Brain
from ..fiberstrain import project_strain_weighted
from ..headmodel import ExternalStrain


def voxel_of_points(coords_mm: Float[np.ndarray, "n 3"], brain: Brain) -> np.ndarray:
    """Index of the brain voxel containing each point [-], -1 outside the white matter, shape (n,)."""
    inv = np.linalg.inv(np.asarray(brain.affine, np.float64))
    ijk = np.rint(coords_mm @ inv[:3, :3].T + inv[:3, 3]).astype(np.int64)
    lookup = np.full(np.asarray(brain.mask).shape, -1, np.int64)
    vox = np.asarray(brain.voxel_ijk)
    lookup[vox[:, 0], vox[:, 1], vox[:, 2]] = np.arange(vox.shape[0])
    inside = np.all((ijk >= 0) & (ijk < np.asarray(lookup.shape)), axis=1)
    out = np.full(coords_mm.shape[0], -1, np.int64)
    out[inside] = lookup[ijk[inside, 0], ijk[inside, 1], ijk[inside, 2]]
    return out


def external_profiles(
    field: ExternalStrain,
    brain: Brain,
    *,
    n_time: int,
    dt_s: float,
    where: str = "strain",
) -> tuple[Float[np.ndarray, "vox time"], Bool[np.ndarray, " vox"]]:
    """Fiber strain ε_f [-] of every brain voxel from an imported Green–Lagrange strain history.

    Each white-matter voxel takes the imported point that falls inside it (the last one if several);
    the strain is interpolated linearly onto `n_time` samples of step `dt_s` from the record's first
    time (held at its last value past the end of the record, with a warning) and projected on the
    voxel's fiber populations.

    Args:
        field: from `axojax.headmodel.load_strain` (points in the brain's world frame [mm]).
        brain: voxels and fibers.
        n_time, dt_s: the surrogate's grid (samples, step [s]).
        where: file name for messages.

    Returns:
        profiles (V, n_time) float32 (zero where not covered) and `covered` (V,) bool.

    Raises:
        ValueError: no imported point inside the white matter (wrong frame or units?).
    """
    vox = voxel_of_points(np.asarray(field.coords_mm, np.float64), brain)
    hit = np.flatnonzero(vox >= 0)
    if hit.size == 0:
        raise ValueError(
            f"{where}: none of the {field.coords_mm.shape[0]} strain points lies in the brain's white matter "
            "(expected coordinates in mm in the brain's world frame, e.g. MNI)"
        )
    covered = np.zeros(brain.n_voxels, bool)
    covered[vox[hit]] = True
    point_of_voxel = np.full(brain.n_voxels, -1, np.int64)
    point_of_voxel[vox[hit]] = hit
    rows = point_of_voxel[covered]
    t = np.asarray(field.t_s, np.float64)
    grid = t[0] + dt_s * np.arange(n_time)
    if grid[-1] > t[-1] + 1e-9:
        warnings.warn(
            f"{where}: the record ends at {t[-1] - t[0]:.4g} s, the surrogate needs "
            f"{grid[-1] - t[0]:.4g} s; strain held at its last value after the end",
            RuntimeWarning,
            stacklevel=2,
        )
    strain = np.asarray(field.strain, np.float64)[rows]  # (Vc, T, 3, 3)
    flat = strain.reshape(rows.size, t.size, 9)
    idx = np.clip(np.searchsorted(t, grid, side="right") - 1, 0, t.size - 2)
    w = np.clip((grid - t[idx]) / (t[idx + 1] - t[idx]), 0.0, 1.0)[None, :, None]
    on_grid = (1.0 - w) * flat[:, idx] + w * flat[:, idx + 1]
    on_grid = on_grid.reshape(rows.size, n_time, 3, 3).astype(np.float32)
    dirs = np.asarray(brain.fiber_dir, np.float32)[covered]
    weights = np.asarray(brain.fiber_weight, np.float32)[covered]
    eps = project_strain_weighted(jnp.asarray(on_grid), jnp.asarray(dirs), jnp.asarray(weights))
    profiles = np.zeros((brain.n_voxels, n_time), np.float32)
    profiles[covered] = np.asarray(eps)
    return profiles, covered
