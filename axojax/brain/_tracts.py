"""Fiber directions from tract streamlines (pure jnp): per-voxel mean tangent, with a small dilation.

A streamline's segment direction t and -t are the same fiber, so directions are averaged as orientation
tensors: the mean direction of a voxel is the principal eigenvector of sum_s t_s t_s^T over the segments
whose midpoint lies in it (sign-invariant; for a single straight bundle it is the bundle's direction).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from ._orientation import principal_eigenvector

# upper triangle of t t^T in FSL order (xx, xy, xz, yy, yz, zz), as `tensor6_to_matrix` reads it
_ROWS = (0, 0, 0, 1, 1, 2)
_COLS = (0, 1, 2, 1, 2, 2)


def segment_voxels(
    points_mm: Float[Array, "line node 3"], inv_affine: Float[Array, "4 4"], grid_shape: tuple[int, int, int]
) -> tuple[Int[Array, " seg"], Float[Array, "seg 3"]]:
    """Grid voxel of each segment midpoint and the segment's unit tangent.

    Args:
        points_mm: streamline points, world frame [mm].
        inv_affine: world [mm] -> voxel index, the inverse of the grid's affine.
        grid_shape: grid size (static).

    Returns:
        (flat C-order voxel index of each midpoint, -1 outside the grid; unit tangents [-], zero for
        zero-length segments), S = line * (node - 1) segments.
    """
    seg = points_mm[:, 1:] - points_mm[:, :-1]
    mid = 0.5 * (points_mm[:, 1:] + points_mm[:, :-1])
    seg, mid = seg.reshape(-1, 3), mid.reshape(-1, 3)
    length = jnp.linalg.norm(seg, axis=-1, keepdims=True)
    tangent = jnp.where(length > 0, seg / jnp.where(length > 0, length, 1.0), jnp.zeros((), seg.dtype))
    ijk = jnp.rint(mid @ inv_affine[:3, :3].T + inv_affine[None, :3, 3]).astype(jnp.int32)
    shape = jnp.asarray(grid_shape, jnp.int32)[None, :]
    inside = jnp.all((ijk >= 0) & (ijk < shape), axis=-1)
    flat = (ijk[:, 0] * grid_shape[1] + ijk[:, 1]) * grid_shape[2] + ijk[:, 2]
    return jnp.where(inside, flat, -1), tangent


def orientation_tensor_grid(
    flat: Int[Array, " seg"], tangent: Float[Array, "seg 3"], grid_shape: tuple[int, int, int]
) -> Float[Array, "x y z 6"]:
    """Sum of t t^T (FSL order) per grid voxel [-]; segments with index -1 are dropped."""
    n = grid_shape[0] * grid_shape[1] * grid_shape[2]
    ids = jnp.where(flat >= 0, flat, n)  # one extra slot collects the segments outside the grid
    dyads = tangent[:, _ROWS] * tangent[:, _COLS]
    tensor = jax.ops.segment_sum(dyads, ids, num_segments=n + 1)[:n]
    return tensor.reshape(*grid_shape, 6)


def box_sum(field: Float[Array, "x y z c"], radius: int) -> Float[Array, "x y z c"]:
    """Sum over the (2 radius + 1)^3 neighbourhood of each voxel (zeros beyond the grid)."""
    width = 2 * radius + 1
    return jax.lax.reduce_window(
        field, jnp.zeros((), field.dtype), jax.lax.add, (width, width, width, 1), (1, 1, 1, 1), "SAME"
    )


def tract_directions(
    tensor: Float[Array, "vox 6"], tensor_near: Float[Array, "vox 6"]
) -> tuple[Float[Array, "vox 3"], Int[Array, " vox"]]:
    """Mean tract direction of each voxel: its own segments, else its neighbourhood's (dilation).

    Args:
        tensor: sum of t t^T over the voxel's segments [-] (FSL order); its trace counts them.
        tensor_near: the same sum over the voxel's neighbourhood (`box_sum`).

    Returns:
        (unit directions [-], world frame (the x-axis where no tract passes); source per voxel:
        1 = a streamline passes through the voxel, 2 = only through a neighbour, 0 = none).
    """
    own = jnp.sum(tensor[:, (0, 3, 5)], axis=-1) > 0  # trace = number of non-degenerate segments
    near = jnp.sum(tensor_near[:, (0, 3, 5)], axis=-1) > 0
    use = jnp.where(own[:, None], tensor, tensor_near)
    covered = own | near
    # identity-like placeholder where nothing passes, so eigh stays well defined
    placeholder = jnp.asarray([1.0, 0.0, 0.0, 0.5, 0.0, 0.25], use.dtype)
    dirs = principal_eigenvector(jnp.where(covered[:, None], use, placeholder[None, :]))
    source = jnp.where(own, 1, jnp.where(near, 2, 0)).astype(jnp.int32)
    return dirs, source
