"""Voxel head meshes from tissue maps (pure numpy + scipy.ndimage; no file access).

Derivation of the default mesh from the MNI ICBM152 2009 (nonlinear, symmetric) maps at 1 mm (grey matter
p_GM, white matter p_WM, T1), see docs/fe.md:

1. brain parenchyma: p_GM + p_WM >= 0.5;
2. intracranial envelope: the parenchyma closed with a ball of radius `closing_mm` and its holes filled:
   it holds the ventricles and the sulcal CSF;
3. 1 mm labels: white matter where parenchyma and p_WM >= p_GM, grey matter where parenchyma and
   p_GM > p_WM, CSF in the rest of the envelope (ventricles, sulci);
4. falx: the interhemispheric fissure on the midline (|x| <= 1 mm), inside the envelope, dark on the T1
   (T1 < `falx_t1_max` of its maximum: CSF and dura, the parenchyma is >= 0.54 in 95 % of its voxels),
   above the top of the corpus callosum (the highest white-matter voxel of the midline at that y);
   columns without midline white matter (frontal and occipital poles) keep the whole fissure;
5. elements: blocks of h^3 voxels (h = element size in mm, an integer); a block is inside when at least
   half its voxels are in the envelope and takes the most frequent label among them, except that a block
   of the midline column with >= `falx_fraction` falx voxels becomes falx (a 1 mm structure must survive
   the coarsening); for an even h the midline column spans x in [-h/2 - 0.5, h/2 - 0.5] mm (1 mm voxels);
6. the falx is a fold of the dura: falx fragments that do not reach the envelope's boundary (a few dark
   midline voxels deep in the brain) become CSF;
7. the subarachnoid space is not meshed: the envelope's boundary is tied to the rigid skull through an
   elastic layer of stated thickness (`axojax.headmodel._fe_solver.Layer`), which holds the brain as the
   CSF layer would but cannot invert however far the brain slides;
8. the skull's inner surface: the envelope's boundary rounded off (`skull_distance`), a smooth signed
   distance on a grid finer than the elements, so that the layer measures the brain's normal gap to a
   smooth surface, not to the voxel staircase.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["segment_head", "coarsen_labels", "attach_falx", "crop_labels", "skull_distance"]

OUTSIDE, CSF, GM, WM, FALX = 0, 1, 2, 3, 4


def _ball(radius_vox: int) -> np.ndarray:
    r = int(radius_vox)
    g = np.arange(-r, r + 1)
    x, y, z = np.meshgrid(g, g, g, indexing="ij")
    return x**2 + y**2 + z**2 <= r**2


def segment_head(
    p_gm: np.ndarray,
    p_wm: np.ndarray,
    t1: np.ndarray,
    x_mm: np.ndarray,
    *,
    closing_mm: float = 3.0,
    falx_t1_max: float = 0.5,
) -> np.ndarray:
    """1 mm labels (0 outside, 1 CSF, 2 GM, 3 WM, 4 falx) from tissue probabilities in [0, 1] and a T1 in
    [0, 1]; `x_mm` is the RAS x coordinate [mm] of each voxel column (first axis)."""
    tissue = p_gm + p_wm
    brain = tissue >= 0.5
    envelope = ndimage.binary_fill_holes(
        ndimage.binary_closing(brain, _ball(round(closing_mm)), border_value=0)
    )
    envelope |= brain
    labels = np.zeros(brain.shape, np.uint8)
    labels[envelope] = CSF
    labels[brain & (p_wm >= p_gm)] = WM
    labels[brain & (p_gm > p_wm)] = GM
    mid = np.abs(x_mm) <= 1.0
    if mid.any():
        i0 = int(np.argmin(np.abs(x_mm)))
        wm_mid = p_wm[i0] >= 0.5  # (y, z)
        nz = wm_mid.shape[1]
        z_idx = np.arange(nz)
        top = np.where(wm_mid.any(axis=1), np.max(np.where(wm_mid, z_idx[None, :], -1), axis=1), -1)  # (y,)
        above = z_idx[None, :] > top[:, None]  # (y, z)
        fissure = envelope[mid] & (t1[mid] < falx_t1_max) & above[None]
        sub = labels[mid]
        sub[fissure] = FALX
        labels[mid] = sub
    return labels


def coarsen_labels(
    labels: np.ndarray,
    block: int,
    *,
    offset: tuple[int, int, int] = (0, 0, 0),
    midline_index: int | None = None,
    falx_fraction: float = 0.2,
) -> np.ndarray:
    """Element labels of blocks of `block`^3 voxels starting at voxel `offset` (see the module docstring).

    `midline_index`: the voxel column (first axis) of x = 0; only the block column that holds it may be falx.
    """
    b = int(block)
    lab = labels[offset[0] :, offset[1] :, offset[2] :]
    shape = [s // b for s in lab.shape]
    lab = lab[: shape[0] * b, : shape[1] * b, : shape[2] * b]
    blocks = (
        lab.reshape(shape[0], b, shape[1], b, shape[2], b).transpose(0, 2, 4, 1, 3, 5).reshape(*shape, b**3)
    )
    counts = np.stack([(blocks == c).sum(axis=-1) for c in range(5)], axis=-1)  # (nx, ny, nz, 5)
    inside = counts[..., 1:].sum(axis=-1) * 2 >= b**3
    tissue = np.argmax(counts[..., 1:], axis=-1) + 1  # most frequent of CSF / GM / WM / falx
    out = np.where(inside, tissue, OUTSIDE).astype(np.uint8)
    if midline_index is not None:
        col = (midline_index - offset[0]) // b
        if 0 <= col < shape[0]:
            falx = inside[col] & (counts[col, ..., FALX] >= falx_fraction * b**3)
            out[col][falx] = FALX
    return out


def attach_falx(labels: np.ndarray) -> np.ndarray:
    """Falx (4) fragments that touch no outside cell (26-neighbours; the skull) become CSF (1)."""
    out = labels.copy()
    parts, _ = ndimage.label(labels == FALX, np.ones((3, 3, 3), bool))
    skull = ndimage.binary_dilation(labels == OUTSIDE, np.ones((3, 3, 3), bool), border_value=1)
    attached = np.unique(parts[skull & (parts > 0)])
    out[(parts > 0) & ~np.isin(parts, attached)] = CSF
    return out


def crop_labels(labels: np.ndarray, margin: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Crop to the bounding box of the labelled cells plus `margin` empty cells; returns (labels, start)."""
    idx = np.argwhere(labels > 0)
    if idx.size == 0:
        raise ValueError("head mesh: no labelled cell")
    lo = idx.min(axis=0) - margin
    hi = idx.max(axis=0) + 1 + margin
    pad_lo = np.maximum(-lo, 0)
    pad_hi = np.maximum(hi - np.asarray(labels.shape), 0)
    padded = np.pad(labels, list(zip(pad_lo, pad_hi)))
    lo_p = lo + pad_lo
    hi_p = hi + pad_lo
    return padded[lo_p[0] : hi_p[0], lo_p[1] : hi_p[1], lo_p[2] : hi_p[2]], lo


def _trilinear_lipschitz(phi: np.ndarray, s: float) -> float:
    """Upper bound of |grad| of the trilinear interpolant of grid values `phi` (spacing s): in a cell, the
    derivative along an axis is a convex combination of the cell's 4 edge differences along it."""
    bound = 0.0
    for axis in range(3):
        d = np.abs(np.diff(phi, axis=axis)) / s
        others = [k for k in range(3) if k != axis]
        for k in others:
            n = d.shape[k]
            d = np.maximum(np.take(d, np.arange(n - 1), axis=k), np.take(d, np.arange(1, n), axis=k))
        bound = bound + d[tuple(slice(0, phi.shape[k] - 1) for k in range(3))] ** 2
    return float(np.sqrt(np.max(bound)))


def skull_distance(
    inside: np.ndarray,
    h: float,
    *,
    margin_cells: int = 3,
    max_spacing_mm: float = 1.5,
    smoothing: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Smooth signed distance [mm] to the skull's inner surface (negative inside) on a fine grid.

    `inside`: the mesh's deforming cells (nx, ny, nz) of side h [mm]. The cells are refined by r =
    ceil(h / `max_spacing_mm`) per axis, the exact signed distance of the refined staircase is taken
    (Euclidean distance transforms, +-half a fine voxel so that the staircase's faces are the zero level),
    and a Gaussian of sigma = `smoothing` h rounds its steps and corners off; phi is then scaled (by at most
    a few %) so that its trilinear interpolant has |grad phi| <= 1 (the layer's stable-step bound).
    Returns (phi (px, py, pz), position of phi[0, 0, 0] relative to the mesh's node (0, 0, 0) [mm],
    spacing [mm]); the grid extends `margin_cells` cells beyond the mesh's node box on every side.
    """
    r = max(1, int(np.ceil(h / max_spacing_mm - 1e-9)))
    s = h / r
    m = int(margin_cells)
    cells = np.pad(np.asarray(inside, bool), m)
    fine = cells.repeat(r, 0).repeat(r, 1).repeat(r, 2)  # fine voxel centres at (k + 1/2) s - m h
    d_out = ndimage.distance_transform_edt(~fine, sampling=s)  # outside voxels: distance to the inside
    d_in = ndimage.distance_transform_edt(fine, sampling=s)
    phi = np.where(fine, -(d_in - 0.5 * s), d_out - 0.5 * s)
    phi = ndimage.gaussian_filter(phi, sigma=smoothing * h / s, mode="nearest")
    phi = phi / max(1.0, _trilinear_lipschitz(phi, s))
    origin = np.full(3, 0.5 * s - m * h)
    return phi, origin, s
