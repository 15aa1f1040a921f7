"""The 20 AFQ-Browser tracts that ship with axojax, and the default brain's tract fiber directions.

`afq_tracts()` reads `axojax/brain/data/afq_tracts.npz` (derived from AFQ-Browser 0.4.6, BSD-3-Clause; notice:
`axojax/brain/data/AFQ_BROWSER_NOTICE.txt`; made by `experiments/vendor_afq_tracts.py`): 4,992 streamlines and
20 core fibers, 100 points each, in mm, roughly in MNI space. `with_tract_fibers(brain)` gives a brain the
tracts' mean tangents where they pass (and one voxel around) and keeps its own fibers elsewhere. Nothing here
downloads anything.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ._brain import Brain
from ._tracts import box_sum, orientation_tensor_grid, segment_voxels, tract_directions

AFQ_TRACTS_FILE = Path(__file__).parent / "data" / "afq_tracts.npz"
# Rigid translation [mm] that puts the AFQ-Browser tracts on the MNI ICBM152 2009a white matter: it maximises
# the fraction of the middle half of every streamline (nodes 25-74; the ends reach into the cortex) inside the
# default 2 mm white-matter mask: 79.5 % unshifted, 83.2 % at (0, 0, +5), 83.7 % at the grid optimum (0, -2, +5)
# (x, y in 2 mm steps, z in 1 mm steps); over all nodes 75.1 % unshifted, 74.7 % here (docs/brain.md).
AFQ_SHIFT_MM = (0.0, 0.0, 5.0)
DEFAULT_DILATION_VOXELS = 1

__all__ = [
    "AFQ_SHIFT_MM",
    "AFQ_TRACTS_FILE",
    "DEFAULT_DILATION_VOXELS",
    "Tracts",
    "afq_tracts",
    "tract_fibers",
    "with_tract_fibers",
]


@dataclasses.dataclass(frozen=True)
class Tracts:
    """Streamlines of named tracts, resampled to N nodes each (host arrays).

    Fields:
        names: tract names, e.g. "Left Corticospinal" (T,).
        points_mm: streamline nodes, world frame [mm], (S, N, 3) float32, every streamline running the
            way its tract's core runs.
        tract: index into `names` of each streamline (S,).
        core_mm: each tract's core fiber (T, N, 3) [mm]; node 0 lies at the core's end with the smaller
            coordinate along its longest extent (the corticospinal tract starts in the brainstem).
    """

    names: tuple[str, ...]
    points_mm: np.ndarray
    tract: np.ndarray
    core_mm: np.ndarray

    @property
    def n_tracts(self) -> int:
        """Number of tracts T."""
        return len(self.names)

    @property
    def n_nodes(self) -> int:
        """Nodes per streamline N."""
        return int(self.points_mm.shape[1])


def _orient(core: np.ndarray) -> np.ndarray:
    """The core, reversed if needed so that node 0 has the smaller coordinate along its longest extent."""
    axis = int(np.argmax(core.max(axis=0) - core.min(axis=0)))
    return core[::-1] if core[0, axis] > core[-1, axis] else core


def afq_tracts(
    path: str | os.PathLike | None = None, *, shift_mm: tuple[float, float, float] = AFQ_SHIFT_MM
) -> Tracts:
    """The vendored AFQ-Browser tracts (or an NPZ of the same layout), translated by `shift_mm`.

    Args:
        path: NPZ with `points_mm` (S, N, 3), `tract` (S,), `core_mm` (T, N, 3), `names` (T,); None: the
            vendored file.
        shift_mm: translation added to every point [mm]; the default puts the tracts on the MNI white
            matter (`AFQ_SHIFT_MM`).

    Returns:
        The tracts, each streamline flipped where needed to run along its core.

    Raises:
        ValueError: naming the file and field on missing fields, wrong shapes, NaN, or tract indices
            outside the names.
    """
    path = AFQ_TRACTS_FILE if path is None else Path(path)
    with np.load(path) as z:
        missing = sorted({"points_mm", "tract", "core_mm", "names"} - set(z.files))
        if missing:
            raise ValueError(f"{path}: missing fields {missing}")
        points = np.asarray(z["points_mm"], np.float64)
        tract = np.asarray(z["tract"], np.int64)
        core = np.asarray(z["core_mm"], np.float64)
        names = tuple(str(n) for n in z["names"])
    if points.ndim != 3 or points.shape[2] != 3 or points.shape[1] < 2:
        raise ValueError(f"{path}: points_mm needs shape (S, N >= 2, 3), got {points.shape}")
    if core.shape != (len(names), points.shape[1], 3):
        raise ValueError(
            f"{path}: core_mm needs shape ({len(names)}, {points.shape[1]}, 3), got {core.shape}"
        )
    if tract.shape != (points.shape[0],) or tract.min(initial=0) < 0 or tract.max(initial=0) >= len(names):
        raise ValueError(f"{path}: tract needs {points.shape[0]} indices in 0..{len(names) - 1}")
    if not (np.isfinite(points).all() and np.isfinite(core).all()):
        raise ValueError(f"{path}: points_mm or core_mm contain NaN/inf")
    shift = np.asarray(shift_mm, np.float64)
    core = np.stack([_orient(c) for c in core]) + shift
    points = points + shift
    ref = core[tract]  # flip each streamline that runs against its core
    forward = np.linalg.norm(points - ref, axis=-1).mean(axis=1)
    backward = np.linalg.norm(points[:, ::-1] - ref, axis=-1).mean(axis=1)
    points = np.where((backward < forward)[:, None, None], points[:, ::-1], points)
    return Tracts(names, points.astype(np.float32), tract.astype(np.int32), core.astype(np.float32))


@functools.partial(jax.jit, static_argnums=(3, 4))
def _tract_fibers(points, inv, ijk, shape, dilation):
    flat, tangent = segment_voxels(points, inv, shape)
    grid = orientation_tensor_grid(flat, tangent, shape)
    near = box_sum(grid, dilation) if dilation else jnp.zeros_like(grid)
    return tract_directions(grid[ijk[:, 0], ijk[:, 1], ijk[:, 2]], near[ijk[:, 0], ijk[:, 1], ijk[:, 2]])


def tract_fibers(
    brain: Brain, tracts: Tracts | None = None, *, dilation_voxels: int = DEFAULT_DILATION_VOXELS
) -> tuple[np.ndarray, np.ndarray]:
    """Mean tract direction of each voxel of `brain`, and where it comes from.

    Each segment of every streamline goes to the grid voxel of its midpoint; a voxel's direction is the
    principal eigenvector of the sum of its segments' t t^T (`axojax.brain._tracts`). A voxel no streamline
    passes takes the sum over its (2 d + 1)^3 neighbourhood, d = `dilation_voxels`.

    Args:
        brain: grid, affine [mm] and voxels.
        tracts: streamlines, world frame [mm]; None: `afq_tracts()`.
        dilation_voxels: neighbourhood radius d [voxels], >= 0.

    Returns:
        (directions (V, 3) [-], world frame, float32, meaningful where the source is not 0; source (V,)
        int32: 1 a streamline passes the voxel, 2 only a neighbour within d, 0 none).

    Raises:
        ValueError: a negative `dilation_voxels`.
    """
    if dilation_voxels < 0:
        raise ValueError(f"dilation_voxels must be >= 0, got {dilation_voxels}")
    tracts = afq_tracts() if tracts is None else tracts
    shape = tuple(int(s) for s in brain.mask.shape)
    inv = jnp.asarray(np.linalg.inv(np.asarray(brain.affine, np.float64)), jnp.float32)
    dirs, source = _tract_fibers(jnp.asarray(tracts.points_mm), inv, brain.voxel_ijk, shape, dilation_voxels)
    return np.asarray(dirs, np.float32), np.asarray(source, np.int32)


def with_tract_fibers(
    brain: Brain, tracts: Tracts | None = None, *, dilation_voxels: int = DEFAULT_DILATION_VOXELS
) -> Brain:
    """`brain` with the tracts' mean directions where they pass (`tract_fibers`), its own fibers elsewhere.

    Only the first fiber population is replaced (weight 1 where a tract passes); `fiber_source` is 1 or 2
    there (`FIBER_SOURCES`: "tract", "tract_dilated") and unchanged elsewhere.
    """
    dirs, source = tract_fibers(brain, tracts, dilation_voxels=dilation_voxels)
    covered = source > 0
    own = np.asarray(brain.fiber_dir, np.float32)
    weight = np.asarray(brain.fiber_weight, np.float32)
    new_dir = own.copy()
    new_dir[covered, 0] = dirs[covered]
    new_weight = weight.copy()
    new_weight[covered] = 0.0
    new_weight[covered, 0] = 1.0
    new_source = np.where(covered, source, np.asarray(brain.fiber_source)).astype(np.int32)
    return brain.with_fibers(new_dir, new_weight, new_source)
