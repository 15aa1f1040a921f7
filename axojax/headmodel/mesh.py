"""Head meshes from files: the embedded MNI ICBM152 2009 anatomy (inside the nilearn wheel) or a user's
label NIfTI. The numerics of the derivation are in `axojax.headmodel._fe_mesh` (see its docstring)."""

from __future__ import annotations

import os
from pathlib import Path

import jax.numpy as jnp
import nibabel as nib
import numpy as np

from axojax._nilearn import nilearn_file
from axojax.headmodel._fe_mesh import attach_falx, coarsen_labels, crop_labels, segment_head
from axojax.headmodel._fe_model import LABELS, VoxelMesh

__all__ = ["mni_head_mesh", "mni_head_labels", "load_label_mesh", "save_label_nifti", "smooth_mesh"]

_MNI = {
    "gm": "datasets/data/mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz",
    "wm": "datasets/data/mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz",
    "t1": "datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz",
}


def _check_size(element_size_mm: float, voxel_mm: float) -> int:
    block = element_size_mm / voxel_mm
    if abs(block - round(block)) > 1e-6 or round(block) < 1:
        raise ValueError(
            f"element_size_mm must be a whole multiple of the {voxel_mm:g} mm voxels, got {element_size_mm}"
        )
    return int(round(block))


def mni_head_labels(closing_mm: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """1 mm labels of the embedded MNI head (0 outside, 1 CSF, 2 GM, 3 WM, 4 falx) and their affine."""
    imgs = {k: nib.load(nilearn_file(v, "the embedded head mesh")) for k, v in _MNI.items()}
    affine = imgs["wm"].affine
    data = {k: np.asarray(img.dataobj, np.float32) / 255.0 for k, img in imgs.items()}
    x_mm = affine[0, 0] * np.arange(data["wm"].shape[0]) + affine[0, 3]
    return segment_head(data["gm"], data["wm"], data["t1"], x_mm, closing_mm=closing_mm), affine


def _mesh_from_fine(
    fine: np.ndarray, affine: np.ndarray, element_size_mm: float, shell_mm: float, midline: bool
) -> VoxelMesh:
    vox = float(affine[0, 0])
    block = _check_size(element_size_mm, vox)
    mid = None
    offset = [0, 0, 0]
    if midline:
        mid = int(round(-affine[0, 3] / vox))
        offset[0] = (mid - block // 2) % block
    labels = coarsen_labels(fine, block, offset=tuple(offset), midline_index=mid)
    labels, start = crop_labels(labels, margin=1)
    if shell_mm > 0:
        labels = attach_falx(labels)
    first_voxel = np.asarray(offset) + start * block
    origin = affine[:3, :3] @ (first_voxel - 0.5) + affine[:3, 3]
    return VoxelMesh(
        jnp.asarray(labels, jnp.int32),
        jnp.asarray(origin),
        float(element_size_mm),
        float(shell_mm) if shell_mm > 0 else None,
    )


def smooth_mesh(
    mesh: VoxelMesh, *, max_move: float = 0.5, min_jacobian: float = 0.3, skull_smoothing: float | None = None
) -> VoxelMesh:
    """`mesh` with the envelope's boundary nodes moved onto the smooth skull surface (the zero level of
    `_fe_mesh.skull_distance`, the one the subarachnoid layer slides on): the brain's surface follows the
    skull instead of a voxel staircase, and its boundary nodes start on the surface they slide along.

    Moves are capped at `max_move` x the element size and halved where a cell's corner Jacobian would fall
    below `min_jacobian` (`_fe_mesh.smooth_offsets`); only boundary nodes move. Needs a subarachnoid layer
    (`sas_thickness_mm`). The cells with a moved node are general hexahedra (Gauss-integrated by
    `FEHeadModel`). `skull_smoothing`: a new sigma / h for the skull surface (default: the mesh's).
    """
    from axojax.headmodel._fe_mesh import boundary_area_vectors, skull_distance, smooth_offsets
    from axojax.headmodel._fe_solver import DEFORMABLE_LABELS

    if mesh.sas_thickness_mm is None:
        raise ValueError("smooth_mesh: the mesh has no subarachnoid layer (sas_thickness_mm is None)")
    lab = np.asarray(mesh.labels)
    h = mesh.element_size_mm
    inside = np.isin(lab, DEFORMABLE_LABELS)
    boundary = np.linalg.norm(boundary_area_vectors(inside, h), axis=0) > 0
    sigma = mesh.skull_smoothing if skull_smoothing is None else float(skull_smoothing)
    phi, origin, spacing = skull_distance(inside, h, smoothing=sigma)
    offset = smooth_offsets(
        inside, boundary, h, phi, origin, spacing, max_move=max_move, min_jacobian=min_jacobian
    )
    return VoxelMesh(mesh.labels, mesh.origin_mm, h, mesh.sas_thickness_mm, jnp.asarray(offset), sigma)


def mni_head_mesh(element_size_mm: float = 4.0, *, csf_shell_mm: float = 3.0) -> VoxelMesh:
    """The default head mesh at `element_size_mm` (a whole number of mm: 6, 4, 3 or 2).

    `csf_shell_mm`: thickness of the subarachnoid space between the brain envelope and the skull [mm];
    it sets the stiffness of the elastic layer that ties the envelope to the skull
    (`VoxelMesh.sas_thickness_mm`).
    """
    if not csf_shell_mm > 0:
        raise ValueError(f"mni_head_mesh: csf_shell_mm must be > 0, got {csf_shell_mm}")
    fine, affine = mni_head_labels()
    return _mesh_from_fine(fine, affine, element_size_mm, csf_shell_mm, midline=True)


def _canonical(img: nib.spatialimages.SpatialImage, path) -> tuple[np.ndarray, np.ndarray]:
    img = nib.as_closest_canonical(img)
    aff = img.affine
    lin = aff[:3, :3]
    diag = np.diag(lin)
    if np.max(np.abs(lin - np.diag(diag))) > 1e-6 * np.max(np.abs(diag)) or not np.allclose(
        diag, diag[0], rtol=1e-6
    ):
        raise ValueError(
            f"{path}: need an axis-aligned grid of isotropic voxels, got affine {aff[:3, :3].tolist()}"
        )
    return np.asarray(img.dataobj), aff


def load_label_mesh(
    path: str | os.PathLike, element_size_mm: float | None = None, *, csf_shell_mm: float = 0.0
) -> VoxelMesh:
    """A head mesh from a label NIfTI with the codes of `LABELS` (0 outside, 1 CSF, 2 GM, 3 WM, 4 falx).

    Each voxel is an element, or blocks of voxels when `element_size_mm` is a multiple of the voxel size
    (most frequent label of a block, as for the default mesh). With `csf_shell_mm` > 0 the labelled
    region is tied to the rigid skull through a subarachnoid layer of that thickness (as the default mesh;
    falx fragments that do not reach the skull become CSF); with 0 its boundary is fixed to the skull.

    Raises:
        ValueError: naming the file: not a NIfTI, non-integer or unknown label codes, no brain tissue, or
            a grid that is not axis-aligned and isotropic.
    """
    path = Path(path)
    try:
        img = nib.load(path)
        data, affine = _canonical(img, path)
    except ValueError:
        raise
    except Exception as exc:  # nibabel raises several types on corrupt files
        raise ValueError(f"{path}: cannot read a label NIfTI ({type(exc).__name__}: {exc})") from None
    data = np.asarray(data)
    if data.ndim != 3:
        raise ValueError(f"{path}: need a 3-D label image, got shape {data.shape}")
    if not np.all(np.isfinite(data)) or np.any(data != np.round(data)):
        raise ValueError(f"{path}: labels must be whole numbers (codes {sorted(LABELS.values())})")
    codes = set(np.unique(data).astype(int).tolist())
    unknown = codes - set(LABELS.values())
    if unknown:
        raise ValueError(f"{path}: unknown label codes {sorted(unknown)}; expected {LABELS}")
    if not codes & {2, 3}:
        raise ValueError(f"{path}: no grey or white matter (labels 2, 3)")
    vox = float(affine[0, 0])
    size = vox if element_size_mm is None else float(element_size_mm)
    return _mesh_from_fine(data.astype(np.uint8), affine, size, csf_shell_mm, midline=False)


def save_label_nifti(mesh: VoxelMesh, path: str | os.PathLike) -> Path:
    """Write the mesh's element labels as a NIfTI (one voxel per element), e.g. to edit and reload."""
    h = mesh.element_size_mm
    affine = np.diag([h, h, h, 1.0])
    affine[:3, 3] = np.asarray(mesh.origin_mm) + 0.5 * h
    path = Path(path)
    nib.save(nib.Nifti1Image(np.asarray(mesh.labels, np.uint8), affine), path)
    return path
