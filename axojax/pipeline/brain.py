"""Stage 0: the run's brain: white-matter voxels (embedded MNI or the user's mask) and fibers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._read import read_input
from .config import RunConfig


def _fiber_image_on_grid(path: str, brain, out_dir: Path | None, components: int) -> str:
    """`path` sampled at the brain's voxel centres (nearest voxel), written next to the run as a NIfTI
    on the brain's grid; returns its path. Voxels outside the image get zeros (refused later)."""
    import nibabel as nib

    img = read_input(path, "fiber image (NIfTI)", lambda: nib.load(path))
    data = read_input(path, "fiber image (NIfTI)", lambda: np.asarray(img.dataobj, np.float64))
    if data.ndim != 4 or data.shape[3] != components:
        raise ValueError(f"{path}: fiber image needs shape (x, y, z, {components}), got {data.shape}")
    inv = np.linalg.inv(np.asarray(img.affine, np.float64))
    coords = np.asarray(brain.coords_mm, np.float64)
    ijk = np.rint(coords @ inv[:3, :3].T + inv[:3, 3]).astype(np.int64)
    inside = np.all((ijk >= 0) & (ijk < np.asarray(data.shape[:3])), axis=1)
    vox = np.asarray(brain.voxel_ijk)
    grid = np.zeros(tuple(brain.mask.shape) + (components,), np.float32)
    grid[vox[inside, 0], vox[inside, 1], vox[inside, 2]] = data[
        ijk[inside, 0], ijk[inside, 1], ijk[inside, 2]
    ]
    # the brain's voxel axes: vectors in the "voxel"/"fsl" frames are re-expressed only through the
    # rotation of the affines, which agree when the two grids differ by scale (the usual case)
    target = (out_dir or Path(".")) / f"resampled_{Path(path).name.split('.')[0]}.nii.gz"
    target.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(grid, np.asarray(brain.affine, np.float64)), str(target))
    return str(target)


def load_run_brain(config: RunConfig, out_dir: Path | None = None):
    """The `axojax.brain.Brain` of the run.

    Voxels: the embedded MNI white matter at `resolution_mm`, or `brain_mask` block-averaged to
    `resolution_mm` (0: its own grid) and thresholded at `mask_threshold` of its maximum. Fibers: the
    synthetic field, or read from `fibers_path` ("v1", "tensor", "tractogram", "dwi") on the mask's
    grid; a fiber image on another grid is refused unless `fibers_resample` (nearest voxel, written to
    `out_dir`).

    Raises:
        ValueError: naming the file: unreadable, wrong grid or affine, a mask without white-matter
            voxels, or fibers that are NaN / zero inside the mask (the mask misses the fibers).
    """
    from axojax.brain import (
        default_brain,
        fit_dwi_fibers,
        load_brain,
        read_streamline_fibers,
        read_tensor_nifti,
        read_v1_nifti,
    )

    if config.brain_mask:
        path = config.brain_mask
        res = config.resolution_mm or None
        brain = read_input(
            path,
            "white-matter mask (NIfTI)",
            lambda: load_brain(path, resolution_mm=res, threshold_fraction=config.mask_threshold),
        )
        if brain.n_voxels == 0:
            raise ValueError(f"{path}: no white-matter voxel at threshold {config.mask_threshold}")
    else:
        brain = default_brain(config.resolution_mm)
    if config.fibers == "synthetic":
        return brain
    path = config.fibers_path
    weights = None
    if config.fibers in ("v1", "tensor"):
        if config.fibers_resample:
            path = _fiber_image_on_grid(path, brain, out_dir, 3 if config.fibers == "v1" else 6)
        reader = read_v1_nifti if config.fibers == "v1" else read_tensor_nifti
        what = f"fiber {config.fibers} image (NIfTI)"
        dirs = read_input(path, what, lambda: reader(path, brain, convention=config.fibers_convention))
    elif config.fibers == "tractogram":
        dirs, weights = read_input(
            path, "tractogram (.trk/.tck)", lambda: read_streamline_fibers(path, brain)
        )
    else:
        dirs = read_input(
            path, "DWI series", lambda: fit_dwi_fibers(path, config.fibers_bval, config.fibers_bvec, brain)
        )
    return read_input(path, "fibers", lambda: brain.with_fibers(dirs, weights))
