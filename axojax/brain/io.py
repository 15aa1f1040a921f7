"""Brain file access: the embedded MNI white-matter template and fiber orientation readers.

Every reader returns unit fiber directions in the world frame (RAS+ mm) on the voxels of a given
`Brain`, and raises `ValueError` naming the file and the field on a grid or affine that differs from
the brain's, NaN, or zero-length vectors inside the white-matter mask. Nothing here downloads
anything.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import jax.numpy as jnp
import nibabel as nib
import numpy as np
from jaxtyping import Array, Float

from .._nilearn import nilearn_file
from ._brain import DEFAULT_CUBE_MM, Brain, brain_from_mask
from ._orientation import principal_eigenvector

# nilearn ships the MNI ICBM152 2009a (nonlinear, symmetric) white-matter probability map (0-255, 1
# mm) in its
# wheel. Redistribution notice: axojax/brain/MNI_NOTICE.txt.
MNI_WM_FILE = "datasets/data/mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz"
# Fraction of the resampled map's maximum at which a voxel counts as white matter. With the 2 mm
# block
# average this gives 92,439 voxels (the study: ~92,500); 0.37 would give 93,692.
DEFAULT_THRESHOLD_FRACTION = 0.38

Convention = Literal["fsl", "voxel", "world"]

__all__ = [
    "DEFAULT_THRESHOLD_FRACTION",
    "default_brain",
    "fit_dwi_fibers",
    "load_brain",
    "mni_wm_template_path",
    "read_streamline_fibers",
    "read_tensor_nifti",
    "read_v1_nifti",
]


def mni_wm_template_path() -> Path:
    """Path of the MNI ICBM152 2009a white-matter map inside the installed nilearn package.

    Found with `importlib.util.find_spec` (nilearn is not imported, its fetchers are never called).

    Raises:
        FileNotFoundError: nilearn is not installed or does not ship the file.
    """
    return nilearn_file(MNI_WM_FILE, "the default brain (MNI white-matter template)")


def _block_average(data: np.ndarray, affine: np.ndarray, factors: tuple[int, int, int]):
    """Block average over `factors` voxels (zero-padded at far edges); affine to block centres."""
    pad = [(0, (-s) % f) for s, f in zip(data.shape, factors)]
    data = np.pad(data, pad)
    fx, fy, fz = factors
    nx, ny, nz = (s // f for s, f in zip(data.shape, factors))
    coarse = data.reshape(nx, fx, ny, fy, nz, fz).mean(axis=(1, 3, 5))
    scale = np.eye(4)
    scale[:3, :3] = np.diag(factors)
    scale[:3, 3] = (np.asarray(factors) - 1) / 2.0  # centre of block I is fine index f*I + (f-1)/2
    return coarse, affine @ scale


def load_brain(
    path: str | os.PathLike,
    *,
    resolution_mm: float | None = None,
    threshold_fraction: float = DEFAULT_THRESHOLD_FRACTION,
    cube_mm: float = DEFAULT_CUBE_MM,
) -> Brain:
    """A `Brain` from a white-matter probability (or label) NIfTI.

    The map is block-averaged to `resolution_mm` (an integer multiple of its voxel size; the mean
    probability of each coarse voxel) and thresholded at `threshold_fraction` of the resampled
    maximum. Fibers: the synthetic field (`synthetic_fiber_field`, meaningful for MNI-space maps);
    replace them with `Brain.with_fibers` and the readers below.

    Args:
        path: 3-D NIfTI, any non-negative scale (0-255 or 0-1).
        resolution_mm: target isotropic voxel size [mm]; None keeps the file's grid.
        threshold_fraction: white matter where value >= fraction * max, in (0, 1].
        cube_mm: coarse cube edge [mm] for `Brain.cube_id`.

    Raises:
        ValueError: naming the file: not 3-D, NaN, a resolution that is not a multiple of the voxel
            size, or a threshold outside (0, 1].
    """
    img = nib.load(path)
    data = np.asarray(img.dataobj, dtype=np.float64)
    affine = np.asarray(img.affine, dtype=np.float64)
    if data.ndim != 3:
        raise ValueError(f"{path}: need a 3-D white-matter map, got shape {data.shape}")
    if not np.isfinite(data).all():
        raise ValueError(f"{path}: white-matter map has {int(np.sum(~np.isfinite(data)))} NaN/inf voxels")
    if not 0.0 < threshold_fraction <= 1.0:
        raise ValueError(f"threshold_fraction must lie in (0, 1], got {threshold_fraction}")
    if resolution_mm is not None:
        voxel = np.linalg.norm(affine[:3, :3], axis=0)
        ratio = resolution_mm / voxel
        factors = tuple(int(round(r)) for r in ratio)
        if np.any(np.abs(ratio - factors) > 1e-6) or min(factors) < 1:
            raise ValueError(
                f"{path}: resolution_mm={resolution_mm} is not an integer multiple of the "
                f"voxel size {voxel} mm"
            )
        data, affine = _block_average(data, affine, factors)
    mask = data >= threshold_fraction * data.max()
    return brain_from_mask(mask, affine, cube_mm=cube_mm)


def default_brain(
    resolution_mm: float = 2.0,
    *,
    threshold_fraction: float = DEFAULT_THRESHOLD_FRACTION,
    cube_mm: float = DEFAULT_CUBE_MM,
    tracts: bool = True,
) -> Brain:
    """The embedded brain: MNI ICBM152 2009a white matter, block-averaged and thresholded.

    At 2 mm and the default threshold (0.38 of the maximum): 92,439 voxels in 6,370 non-empty 6 mm
    cubes, grid (99, 117, 95), first voxel centre (-97.5, -133.5, -71.5) mm. Fibers: the mean tangents of
    the 20 vendored AFQ-Browser tracts where they pass, one voxel around them, and the synthetic field
    elsewhere (`axojax.brain.tracts.with_tract_fibers`; `Brain.fiber_source` says which). Copyright
    notices: axojax/brain/MNI_NOTICE.txt (template), axojax/brain/data/AFQ_BROWSER_NOTICE.txt (tracts).

    Args:
        resolution_mm: isotropic voxel size [mm], an integer (1, 2, 3, ...).
        threshold_fraction: white matter where the block-averaged probability >= fraction * max.
        cube_mm: coarse cube edge [mm].
        tracts: False: the synthetic field everywhere.
    """
    brain = load_brain(
        mni_wm_template_path(),
        resolution_mm=resolution_mm,
        threshold_fraction=threshold_fraction,
        cube_mm=cube_mm,
    )
    if not tracts:
        return brain
    from .tracts import with_tract_fibers

    return with_tract_fibers(brain)


# --- orientation readers
# ------------------------------------------------------------------------------------


def _load_on_grid(path, brain: Brain, field: str, last_dim: int) -> np.ndarray:
    """Image data on the brain voxels (V, last_dim), after checking grid shape and affine."""
    img = nib.load(path)
    shape = img.shape
    grid = tuple(brain.mask.shape)
    if len(shape) != 4 or shape[:3] != grid or shape[3] != last_dim:
        raise ValueError(f"{path}: field {field} needs shape {grid + (last_dim,)}, got {shape}")
    affine = np.asarray(img.affine, dtype=np.float64)
    brain_affine = np.asarray(brain.affine, dtype=np.float64)
    diff = np.abs(affine - brain_affine).max()
    if diff > 1e-3 * max(1.0, np.abs(brain_affine).max()):
        raise ValueError(
            f"{path}: field {field} affine differs from the brain's (max |diff| = {diff:.4g} mm)"
        )
    data = np.asarray(img.dataobj, dtype=np.float64)
    ijk = np.asarray(brain.voxel_ijk)
    return data[ijk[:, 0], ijk[:, 1], ijk[:, 2]]


def _check_vectors(values: np.ndarray, brain: Brain, path, field: str) -> None:
    bad = ~np.isfinite(values).all(axis=-1)
    if bad.any():
        first = tuple(int(i) for i in np.asarray(brain.voxel_ijk)[np.argmax(bad)])
        raise ValueError(
            f"{path}: field {field} has NaN/inf at {int(bad.sum())} white-matter voxels, first {first}"
        )
    zero = np.linalg.norm(values, axis=-1) < 1e-12
    if zero.any():
        first = tuple(int(i) for i in np.asarray(brain.voxel_ijk)[np.argmax(zero)])
        raise ValueError(
            f"{path}: field {field} is zero-length at {int(zero.sum())} white-matter voxels, first {first}"
        )


def _to_world(vec: np.ndarray, affine: np.ndarray, convention: Convention) -> np.ndarray:
    """Direction vectors from a file convention to the world (RAS+) frame, unit length."""
    if convention == "world":
        out = vec
    elif convention in ("voxel", "fsl"):
        rot = affine[:3, :3] / np.linalg.norm(affine[:3, :3], axis=0)
        if convention == "fsl" and np.linalg.det(affine[:3, :3]) > 0:
            # FSL stores vectors in a radiological voxel frame: x is flipped for neurological (det >
            # 0) images.
            vec = vec * np.array([-1.0, 1.0, 1.0])
        out = vec @ rot.T
    else:
        raise ValueError(f"convention must be 'fsl', 'voxel' or 'world', got {convention!r}")
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


def read_v1_nifti(
    path: str | os.PathLike, brain: Brain, *, convention: Convention = "fsl"
) -> Float[Array, "vox 3"]:
    """Principal fiber directions from an (x, y, z, 3) eigenvector NIfTI (FSL dtifit `*_V1`).

    Args:
        path: NIfTI on the brain's grid and affine.
        brain: gives the grid and the white-matter voxels.
        convention: frame of the stored vectors: "fsl" (dtifit: voxel axes, x flipped when the
            affine has a positive determinant), "voxel" (voxel axes) or "world" (RAS+ already).

    Returns:
        Unit directions (V, 3), world frame [-], float32.

    Raises:
        ValueError: naming the file and field V1 on grid/affine mismatch, NaN or zero vectors in the
            mask.
    """
    vec = _load_on_grid(path, brain, "V1", 3)
    _check_vectors(vec, brain, path, "V1")
    return jnp.asarray(_to_world(vec, np.asarray(brain.affine, np.float64), convention).astype(np.float32))


def read_tensor_nifti(
    path: str | os.PathLike, brain: Brain, *, convention: Convention = "fsl"
) -> Float[Array, "vox 3"]:
    """Principal fiber directions from a 6-component tensor NIfTI (FSL dtifit `--save_tensor`).

    Component order along the last axis (FSL): Dxx, Dxy, Dxz, Dyy, Dyz, Dzz (upper triangle row by
    row); the principal eigenvector comes from `jnp.linalg.eigh`.

    Args:
        path: (x, y, z, 6) NIfTI on the brain's grid and affine [any diffusivity unit].
        brain: gives the grid and the white-matter voxels.
        convention: frame of the tensor axes, as in `read_v1_nifti`.

    Returns:
        Unit directions (V, 3), world frame [-], float32.

    Raises:
        ValueError: naming the file and field tensor on grid/affine mismatch, NaN or all-zero
            tensors.
    """
    tensor = _load_on_grid(path, brain, "tensor", 6)
    _check_vectors(tensor, brain, path, "tensor")
    vec = np.asarray(principal_eigenvector(jnp.asarray(tensor)), dtype=np.float64)
    return jnp.asarray(_to_world(vec, np.asarray(brain.affine, np.float64), convention).astype(np.float32))


def _hemisphere_bins(n_bins: int) -> np.ndarray:
    """`n_bins` near-uniform unit directions on the upper hemisphere (Fibonacci lattice)."""
    i = np.arange(n_bins) + 0.5
    z = i / n_bins
    phi = np.pi * (3.0 - np.sqrt(5.0)) * i
    r = np.sqrt(1.0 - z**2)
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=-1)


def read_streamline_fibers(
    path: str | os.PathLike,
    brain: Brain,
    *,
    k: int = 1,
    n_bins: int = 100,
    min_count: int = 1,
    chunk_segments: int = 200_000,
) -> tuple[Float[Array, "vox k 3"], Float[Array, "vox k"]]:
    """Up to `k` fiber populations per voxel from a tractogram (.trk, .tck: `nibabel.streamlines`).

    Each streamline segment lands in the brain voxel nearest to its midpoint (world mm -> voxel
    through the brain's affine). Its direction goes to the nearest of `n_bins` orientation bins
    (sign-invariant); per voxel the `k` most populated bins are kept, each with the mean
    (sign-aligned) direction of its segments and its segment count as weight.

    Args:
        path: tractogram; streamline points in world RAS+ mm (nibabel converts .trk to RAS mm).
        brain: gives the grid and the white-matter voxels.
        k: populations per voxel.
        n_bins: orientation bins on the hemisphere.
        min_count: a bin with fewer segments is dropped.
        chunk_segments: segments per vectorised block (memory: chunk_segments x n_bins floats).

    Returns:
        directions (V, k, 3) [-] and counts (V, k) [-], float32. Slots with no segments carry the
        brain's population-0 direction and count 0; pass both to `Brain.with_fibers` (voxels without
        segments then keep the brain's direction).

    Raises:
        ValueError: naming the file and field streamlines on NaN coordinates or no segment inside
            the mask.
    """
    tractogram = nib.streamlines.load(path)
    streamlines = tractogram.streamlines
    points = np.asarray(streamlines.get_data(), dtype=np.float64)
    if points.size and not np.isfinite(points).all():
        n_bad = int(np.sum(~np.isfinite(points).all(axis=1)))
        raise ValueError(f"{path}: field streamlines has {n_bad} NaN/inf points")
    lengths = np.fromiter((len(s) for s in streamlines), dtype=np.int64, count=len(streamlines))
    seg_ok = np.ones(max(len(points) - 1, 0), dtype=bool)
    ends = np.cumsum(lengths)[:-1] - 1  # last point of each streamline but the final one
    seg_ok[ends[(ends >= 0) & (ends < len(seg_ok))]] = False
    vec = (points[1:] - points[:-1])[seg_ok]
    mid = 0.5 * (points[1:] + points[:-1])[seg_ok]
    norm = np.linalg.norm(vec, axis=1)
    keep = norm > 1e-9
    vec, mid = vec[keep] / norm[keep, None], mid[keep]

    affine = np.asarray(brain.affine, dtype=np.float64)
    ijk = np.rint((mid - affine[:3, 3]) @ np.linalg.inv(affine[:3, :3]).T).astype(np.int64)
    grid = np.asarray(brain.mask.shape)
    inside = np.all((ijk >= 0) & (ijk < grid), axis=1)
    lookup = np.full(tuple(grid), -1, dtype=np.int64)
    vox_ijk = np.asarray(brain.voxel_ijk)
    lookup[vox_ijk[:, 0], vox_ijk[:, 1], vox_ijk[:, 2]] = np.arange(brain.n_voxels)
    vox = np.full(len(ijk), -1, dtype=np.int64)
    vox[inside] = lookup[ijk[inside, 0], ijk[inside, 1], ijk[inside, 2]]
    sel = vox >= 0
    if not sel.any():
        raise ValueError(f"{path}: field streamlines has no segment inside the brain mask (wrong space?)")
    vox, vec = vox[sel], vec[sel]

    bins = _hemisphere_bins(n_bins)
    bin_id = np.empty(len(vec), dtype=np.int64)
    for start in range(0, len(vec), chunk_segments):  # blocks of segments, not voxels
        dots = vec[start : start + chunk_segments] @ bins.T
        bin_id[start : start + chunk_segments] = np.argmax(np.abs(dots), axis=1)
    sign = np.sign(np.einsum("si,si->s", vec, bins[bin_id]))
    aligned = vec * np.where(sign == 0, 1.0, sign)[:, None]

    key = vox * n_bins + bin_id
    uniq, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    sums = np.stack([np.bincount(inverse, weights=aligned[:, i], minlength=len(uniq)) for i in range(3)], 1)
    u_vox = uniq // n_bins
    order = np.lexsort((-counts, u_vox))  # by voxel, most populated bin first
    u_vox, counts, sums = u_vox[order], counts[order], sums[order]
    first = np.searchsorted(u_vox, u_vox, side="left")
    rank = np.arange(len(u_vox)) - first
    take = (rank < k) & (counts >= min_count)

    base = np.asarray(brain.fiber_dir, dtype=np.float64)[:, :1, :]
    dirs = np.repeat(base, k, axis=1)
    weights = np.zeros((brain.n_voxels, k))
    mean = sums[take] / np.linalg.norm(sums[take], axis=1, keepdims=True)
    dirs[u_vox[take], rank[take]] = mean
    weights[u_vox[take], rank[take]] = counts[take]
    return jnp.asarray(dirs.astype(np.float32)), jnp.asarray(weights.astype(np.float32))


def fit_dwi_fibers(
    dwi_path: str | os.PathLike,
    bval_path: str | os.PathLike,
    bvec_path: str | os.PathLike,
    brain: Brain,
) -> Float[Array, "vox 3"]:
    """Principal fiber directions from a dipy `TensorModel` fit of a DWI series on the brain grid.

    Needs dipy (optional dependency). The b-vectors are read in FSL convention (like
    `read_v1_nifti`'s default), so the returned vectors are converted from FSL voxel axes to world.

    Args:
        dwi_path: 4-D DWI NIfTI (x, y, z, n) on the brain's grid and affine.
        bval_path, bvec_path: FSL-format b-values [s/mm^2] and b-vectors.
        brain: gives the grid and the voxels to fit.

    Returns:
        Unit directions (V, 3), world frame [-], float32.

    Raises:
        ImportError: dipy is not installed.
        ValueError: naming the file on grid/affine mismatch, NaN signal, or a failed (zero) tensor.
    """
    try:
        from dipy.core.gradients import gradient_table
        from dipy.io.gradients import read_bvals_bvecs
        from dipy.reconst.dti import TensorModel
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("fit_dwi_fibers needs dipy (pip install dipy)") from err
    bvals, bvecs = read_bvals_bvecs(os.fspath(bval_path), os.fspath(bvec_path))
    n_vol = nib.load(dwi_path).shape[-1]
    if len(bvals) != n_vol:
        raise ValueError(f"{bval_path}: {len(bvals)} b-values for {n_vol} volumes in {dwi_path}")
    signal = _load_on_grid(dwi_path, brain, "dwi", n_vol)
    if not np.isfinite(signal).all():
        raise ValueError(f"{dwi_path}: field dwi has NaN/inf signal in the white-matter mask")
    fit = TensorModel(gradient_table(bvals, bvecs=bvecs)).fit(signal)
    vec = np.asarray(fit.evecs, dtype=np.float64)[..., :, 0]
    _check_vectors(vec, brain, dwi_path, "tensor fit")
    return jnp.asarray(_to_world(vec, np.asarray(brain.affine, np.float64), "fsl").astype(np.float32))
