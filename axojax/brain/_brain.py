"""The `Brain`: white-matter voxels on a grid, their coordinates, coarse cubes and fibers."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from ._orientation import synthetic_fiber_field

DEFAULT_CUBE_MM = 6.0
# Where each voxel's fiber directions come from (`Brain.fiber_source`, codes 0..3):
FIBER_SOURCES = ("synthetic", "tract", "tract_dilated", "given")


class Brain(eqx.Module):
    """White-matter voxels of one brain grid with K fiber populations per voxel.

    Voxels are ordered as `np.argwhere(mask)` (C order of the grid indices i, j, k). Build one with
    `brain_from_mask`, `axojax.brain.default_brain` or `axojax.brain.load_brain`; replace fibers
    with `with_fibers`.

    Fields:
        mask: white-matter mask on the grid [bool], shape (x, y, z).
        affine: voxel index -> world [mm], RAS+ (MNI for the default brain).
        coords_mm: world coordinates of the voxel centres [mm].
        voxel_ijk: grid indices of the voxels [-].
        cube_id: index 0..n_cubes-1 of the coarse cube (edge `cube_mm`) holding each voxel.
        fiber_dir: unit fiber directions, world frame [-].
        fiber_weight: population weights, each row sums to 1 [-].
        fiber_source: per voxel, where its fibers come from, an index into `FIBER_SOURCES`: 0 the
            synthetic field, 1 a tract streamline through the voxel, 2 a streamline through a
            neighbour (dilation), 3 given (`with_fibers`, a file).
        voxel_size_mm: voxel edge lengths [mm] (static).
        cube_mm: coarse cube edge [mm] (static).
    """

    mask: Bool[Array, "x y z"]
    affine: Float[Array, "4 4"]
    coords_mm: Float[Array, "vox 3"]
    voxel_ijk: Int[Array, "vox 3"]
    cube_id: Int[Array, " vox"]
    fiber_dir: Float[Array, "vox k 3"]
    fiber_weight: Float[Array, "vox k"]
    fiber_source: Int[Array, " vox"]
    voxel_size_mm: tuple[float, float, float] = eqx.field(static=True)
    cube_mm: float = eqx.field(static=True)

    def __check_init__(self):
        n = self.coords_mm.shape[0]
        if self.voxel_ijk.shape[0] != n or self.cube_id.shape[0] != n or self.fiber_dir.shape[0] != n:
            raise ValueError("Brain: coords_mm, voxel_ijk, cube_id and fiber_dir need the same voxel count")
        if self.fiber_source.shape != (n,):
            raise ValueError(f"Brain: fiber_source shape {self.fiber_source.shape} != ({n},)")
        if self.fiber_weight.shape != self.fiber_dir.shape[:2]:
            raise ValueError(
                f"Brain: fiber_weight shape {self.fiber_weight.shape} != fiber_dir shape[:2] "
                f"{self.fiber_dir.shape[:2]}"
            )

    @property
    def n_voxels(self) -> int:
        """Number of white-matter voxels V."""
        return self.coords_mm.shape[0]

    @property
    def n_fibers(self) -> int:
        """Number of fiber populations K per voxel."""
        return self.fiber_dir.shape[1]

    @property
    def n_cubes(self) -> int:
        """Number of non-empty coarse cubes."""
        return int(np.asarray(self.cube_id).max()) + 1 if self.n_voxels else 0

    def with_fibers(
        self,
        fiber_dir: Float[ArrayLike, "vox k 3"] | Float[ArrayLike, "vox 3"],
        fiber_weight=None,
        fiber_source=None,
    ) -> Brain:
        """This brain with new fiber populations.

        Args:
            fiber_dir: fiber directions, world frame [-], (V, K, 3) or (V, 3) for K = 1; normalised
                here.
            fiber_weight: non-negative population weights (V, K) [-], e.g. streamline counts;
                normalised to sum 1 per voxel. A voxel whose weights are all zero keeps population 0
                with weight 1.
                None: equal weights.

            fiber_source: per-voxel source codes (V,) (`FIBER_SOURCES`); None: 3 ("given") everywhere.

        Returns:
            A new `Brain`; this one is unchanged.

        Raises:
            ValueError: on wrong shapes, NaN, zero-length directions or negative weights.
        """
        dirs, weights = _check_fibers(fiber_dir, fiber_weight, self.n_voxels, "fiber_dir")
        if fiber_source is None:
            source = np.full(self.n_voxels, FIBER_SOURCES.index("given"), np.int32)
        else:
            source = np.asarray(fiber_source, dtype=np.int32)
            if source.shape != (self.n_voxels,) or source.min(initial=0) < 0 or source.max(initial=0) > 3:
                raise ValueError(f"fiber_source: need ({self.n_voxels},) codes in 0..3, got {source.shape}")
        return eqx.tree_at(
            lambda b: (b.fiber_dir, b.fiber_weight, b.fiber_source),
            self,
            (jnp.asarray(dirs), jnp.asarray(weights), jnp.asarray(source)),
        )

    def to_volume(self, values: ArrayLike, fill: float = 0.0) -> np.ndarray:
        """Scatter per-voxel values (V, ...) back onto the grid (x, y, z, ...), `fill` outside the
        mask."""
        values = np.asarray(values)
        if values.shape[:1] != (self.n_voxels,):
            raise ValueError(f"to_volume: need {self.n_voxels} voxel values, got shape {values.shape}")
        out = np.full(self.mask.shape + values.shape[1:], fill, dtype=values.dtype)
        ijk = np.asarray(self.voxel_ijk)
        out[ijk[:, 0], ijk[:, 1], ijk[:, 2]] = values
        return out


def _check_fibers(fiber_dir, fiber_weight, n_voxels: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    dirs = np.asarray(fiber_dir, dtype=np.float64)
    if dirs.ndim == 2:
        dirs = dirs[:, None, :]
    if dirs.ndim != 3 or dirs.shape[0] != n_voxels or dirs.shape[2] != 3:
        raise ValueError(
            f"{where}: need shape ({n_voxels}, K, 3) or ({n_voxels}, 3), got {np.shape(fiber_dir)}"
        )
    norm = np.linalg.norm(dirs, axis=-1)
    if not np.all(np.isfinite(norm)):
        raise ValueError(f"{where}: {int(np.sum(~np.isfinite(norm)))} fiber directions contain NaN or inf")
    if np.any(norm < 1e-12):
        raise ValueError(f"{where}: {int(np.sum(norm < 1e-12))} fiber directions have zero length")
    dirs = dirs / norm[..., None]
    if fiber_weight is None:
        weights = np.full(dirs.shape[:2], 1.0 / dirs.shape[1])
    else:
        weights = np.asarray(fiber_weight, dtype=np.float64)
        if weights.ndim == 1:
            weights = weights[:, None]
        if weights.shape != dirs.shape[:2]:
            raise ValueError(f"{where}: fiber_weight shape {weights.shape} != {dirs.shape[:2]}")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError(f"{where}: fiber_weight must be finite and non-negative")
        total = weights.sum(axis=1, keepdims=True)
        empty = total[:, 0] <= 0
        weights = np.where(total > 0, weights / np.where(total > 0, total, 1.0), 0.0)
        weights[empty, 0] = 1.0
    return dirs.astype(np.float32), weights.astype(np.float32)


def cube_ids(coords_mm: Float[ArrayLike, "vox 3"], cube_mm: float = DEFAULT_CUBE_MM) -> np.ndarray:
    """Coarse cube index per voxel: the world-anchored cube (edge `cube_mm` [mm]) holding it.

    Cube (a, b, c) covers [a, a+1) x [b, b+1) x [c, c+1) times `cube_mm` in world mm. The non-empty
    cubes are numbered 0..n-1 in lexicographic order of (a, b, c).
    """
    cell = np.floor(np.asarray(coords_mm, dtype=np.float64) / cube_mm).astype(np.int64)
    if cell.shape[0] == 0:
        return np.zeros(0, dtype=np.int32)
    _, inverse = np.unique(cell, axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int32)


def brain_from_mask(
    mask: Bool[ArrayLike, "x y z"],
    affine: Float[ArrayLike, "4 4"],
    fiber_dir=None,
    fiber_weight=None,
    *,
    cube_mm: float = DEFAULT_CUBE_MM,
) -> Brain:
    """A `Brain` from a boolean white-matter mask and its affine.

    Args:
        mask: white-matter voxels [bool], shape (x, y, z).
        affine: voxel index -> world [mm], RAS+.
        fiber_dir: (V, K, 3) or (V, 3) fiber directions, world frame [-]; None: the synthetic field
            `synthetic_fiber_field` of the voxel coordinates (meaningful in MNI space only).
        fiber_weight: (V, K) non-negative weights [-], see `Brain.with_fibers`; None: equal.
        cube_mm: coarse cube edge [mm].

    Returns:
        The brain, float32 arrays.

    Raises:
        ValueError: on a mask that is not 3-D, a singular or non-affine matrix, or bad fibers.
    """
    mask = np.asarray(mask)
    affine = np.asarray(affine, dtype=np.float64)
    if mask.ndim != 3:
        raise ValueError(f"mask: need a 3-D grid, got shape {mask.shape}")
    if affine.shape != (4, 4) or not np.allclose(affine[3], [0, 0, 0, 1]):
        raise ValueError(f"affine: need a 4x4 affine with last row (0, 0, 0, 1), got\n{affine}")
    if not np.isfinite(affine).all() or abs(np.linalg.det(affine[:3, :3])) < 1e-12:
        raise ValueError("affine: singular or non-finite")
    mask = mask.astype(bool)
    ijk = np.argwhere(mask)
    coords = ijk @ affine[:3, :3].T + affine[:3, 3]
    source = np.full(len(ijk), FIBER_SOURCES.index("synthetic" if fiber_dir is None else "given"), np.int32)
    if fiber_dir is None:
        fiber_dir = np.asarray(jax.jit(synthetic_fiber_field)(jnp.asarray(coords, jnp.float32)))
    dirs, weights = _check_fibers(fiber_dir, fiber_weight, len(ijk), "fiber_dir")
    voxel_size = tuple(float(s) for s in np.linalg.norm(affine[:3, :3], axis=0))
    return Brain(
        mask=jnp.asarray(mask),
        affine=jnp.asarray(affine.astype(np.float32)),
        coords_mm=jnp.asarray(coords.astype(np.float32)),
        voxel_ijk=jnp.asarray(ijk.astype(np.int32)),
        cube_id=jnp.asarray(cube_ids(coords, cube_mm)),
        fiber_dir=jnp.asarray(dirs),
        fiber_weight=jnp.asarray(weights),
        fiber_source=jnp.asarray(source),
        voxel_size_mm=voxel_size,
        cube_mm=float(cube_mm),
    )
