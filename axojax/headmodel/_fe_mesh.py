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
    partition: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Smooth signed distance [mm] to the skull's inner surface (negative inside) on a fine grid.

    `inside`: the mesh's deforming cells (nx, ny, nz) of side h [mm]. The cells are refined by r =
    ceil(h / `max_spacing_mm`) per axis, the exact signed distance of the refined staircase is taken
    (Euclidean distance transforms, +-half a fine voxel so that the staircase's faces are the zero level),
    and a Gaussian of sigma = `smoothing` h rounds its steps and corners off; phi is then scaled (by at most
    a few %) so that its trilinear interpolant has |grad phi| <= 1 (the layer's stable-step bound).
    Returns (phi (px, py, pz), position of phi[0, 0, 0] relative to the mesh's node (0, 0, 0) [mm],
    spacing [mm]); the grid extends `margin_cells` cells beyond the mesh's node box on every side.

    `partition`: rigid dural cells inside the skull (nx, ny, nz; the falx of `FEHeadModel(falx="sliding")`),
    which the brain slides along: the surface is then that of the envelope `inside | partition` (smoothed
    as above) cut by the partition's own faces, phi = max(phi_envelope, signed distance into the
    partition), rounded by a Gaussian of one fine voxel only (a one-cell-thick partition would vanish
    under the envelope's sigma of h / 2).
    """
    r = max(1, int(np.ceil(h / max_spacing_mm - 1e-9)))
    s = h / r
    m = int(margin_cells)

    def signed(cells_bool):  # exact signed distance of the refined staircase, negative inside
        fine = np.pad(np.asarray(cells_bool, bool), m).repeat(r, 0).repeat(r, 1).repeat(r, 2)
        d_out = ndimage.distance_transform_edt(~fine, sampling=s)  # fine voxel centres at (k + 1/2) s - m h
        d_in = ndimage.distance_transform_edt(fine, sampling=s)
        return np.where(fine, -(d_in - 0.5 * s), d_out - 0.5 * s)

    envelope = np.asarray(inside, bool) if partition is None else np.asarray(inside, bool) | partition
    phi = ndimage.gaussian_filter(signed(envelope), sigma=smoothing * h / s, mode="nearest")
    if partition is not None and np.any(partition):
        # rounded at the scale of one fine voxel: the max has kinks (where the partition meets the skull)
        # and the staircase's corners, where the trilinear interpolant's gradient would reach sqrt(3)
        phi = ndimage.gaussian_filter(np.maximum(phi, -signed(partition)), sigma=1.0, mode="nearest")
    phi = phi / max(1.0, _trilinear_lipschitz(phi, s))
    origin = np.full(3, 0.5 * s - m * h)
    return phi, origin, s


def _phi_at(phi: np.ndarray, origin: np.ndarray, s: float, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(phi, grad phi) at points x (3, n) [mm, node frame] by trilinear interpolation (as the solver's)."""
    xi = (x - origin[:, None]) / s
    base = np.clip(np.floor(xi).astype(np.int64), 0, (np.asarray(phi.shape) - 2)[:, None])
    w = np.clip(xi - base, 0.0, 1.0)
    val = np.zeros(x.shape[1])
    grad = np.zeros_like(x)
    for ax in (0, 1):
        for ay in (0, 1):
            for az in (0, 1):
                c = phi[base[0] + ax, base[1] + ay, base[2] + az]
                wx, wy, wz = (
                    (w[0] if ax else 1 - w[0]),
                    (w[1] if ay else 1 - w[1]),
                    (w[2] if az else 1 - w[2]),
                )
                val += c * wx * wy * wz
                grad += c * np.stack([(2 * ax - 1) * wy * wz, (2 * ay - 1) * wx * wz, (2 * az - 1) * wx * wy])
    return val, grad / s


def corner_jacobians(offset: np.ndarray, h: float) -> np.ndarray:
    """det(dX/dX_cube) at the 8 corners of every cell of the grid whose nodes sit at grid + offset [mm]:
    (8, nx, ny, nz); 1 for an unmoved cube."""
    e = np.eye(3)
    d = [np.diff(offset, axis=k + 1) / h + e[:, k].reshape(3, 1, 1, 1) for k in range(3)]
    nx, ny, nz = (n - 1 for n in offset.shape[1:])
    out = []
    for a in (0, 1):
        for b in (0, 1):
            for c in (0, 1):
                ex = d[0][:, :, b : b + ny, c : c + nz]
                ey = d[1][:, a : a + nx, :, c : c + nz]
                ez = d[2][:, a : a + nx, b : b + ny, :]
                m = np.stack([ex, ey, ez], axis=1)  # m[i, j] = dX_i / dX_cube_j
                out.append(np.linalg.det(np.moveaxis(m, (0, 1), (-2, -1))))
    return np.stack(out)


def smooth_offsets(
    inside: np.ndarray,
    boundary: np.ndarray,
    h: float,
    phi: np.ndarray,
    phi_origin: np.ndarray,
    spacing: float,
    *,
    max_move: float = 0.5,
    min_jacobian: float = 0.3,
    newton_steps: int = 4,
    max_halvings: int = 12,
) -> np.ndarray:
    """Node offsets [mm] (3, nx+1, ny+1, nz+1) that move the `boundary` nodes of the voxel envelope
    `inside` onto the smooth skull surface phi = 0 (`skull_distance`), so that the envelope's surface
    follows the skull instead of a staircase.

    Each boundary node takes `newton_steps` projections x <- x - phi grad phi / |grad phi|^2, its move is
    capped at `max_move` h, and where a deforming cell's corner Jacobian det(dX/dX_cube) would fall below
    `min_jacobian` the moves of its nodes are halved (repeatedly, `max_halvings` times at most; then those
    nodes stay on the grid). Other nodes do not move.
    """
    shape = boundary.shape
    idx = np.flatnonzero(boundary)
    grid = np.stack(np.unravel_index(idx, shape)).astype(np.float64) * h  # (3, nb)
    x = grid.copy()
    for _ in range(newton_steps):
        val, g = _phi_at(phi, phi_origin, spacing, x)
        x = x - val * g / np.maximum(np.sum(g * g, axis=0), 1e-12)
    move = x - grid
    norm = np.linalg.norm(move, axis=0)
    move *= np.minimum(1.0, max_move * h / np.maximum(norm, 1e-12))
    offset = np.zeros((3, *shape))
    flat = offset.reshape(3, -1)
    flat[:, idx] = move
    scale = np.ones(int(np.prod(shape)))
    inside = np.asarray(inside, bool)
    for k in range(max_halvings + 1):
        jac = corner_jacobians(offset, h).min(axis=0)
        bad = inside & (jac < min_jacobian)
        if not bad.any():
            return offset
        nodes = np.zeros(shape, bool)
        for a in (0, 1):
            for b in (0, 1):
                for c in (0, 1):
                    nodes[a : a + bad.shape[0], b : b + bad.shape[1], c : c + bad.shape[2]] |= bad
        sel = nodes.reshape(-1)
        scale[sel] *= 0.0 if k == max_halvings else 0.5
        flat[:] = 0.0
        flat[:, idx] = move * scale[idx]
    return offset


def boundary_area_vectors(inside: np.ndarray, h: float, offset: np.ndarray | None = None) -> np.ndarray:
    """Outward area vector [mm^2] (3, nx+1, ny+1, nz+1) of each node's share of the envelope's surface (the
    faces between `inside` cells and the rest): a face with nodes at grid + offset is a bilinear quad of
    area vector (d1 x d2) / 2 over its diagonals; each of its 4 nodes takes a quarter."""
    inside = np.asarray(inside, bool)
    node_shape = tuple(n + 1 for n in inside.shape)
    pos = np.stack(np.meshgrid(*[h * np.arange(n) for n in node_shape], indexing="ij"))
    if offset is not None:
        pos = pos + offset
    out = np.zeros((3, *node_shape))
    d = np.pad(inside, 1).astype(np.int8)
    for k in range(3):
        j, m = (k + 1) % 3, (k + 2) % 3
        jump = np.diff(d, axis=k)  # face planes along k: (n_k + 1) planes; +1: entering along +k
        sl = [slice(1, -1)] * 3
        sl[k] = slice(None)
        jump = jump[tuple(sl)]  # (.., n_k + 1, ..) x cells in the other two axes
        faces = np.argwhere(jump != 0)  # (F, 3): plane index along k, lower corner in j and m
        sign = -jump[tuple(faces.T)].astype(np.float64)  # outward: -e_k where the region starts along +k

        def node(dj, dm, faces=faces, j=j, m=m):
            n = faces.copy()
            n[:, j] += dj
            n[:, m] += dm
            return tuple(n.T)

        a, b, c, e = node(0, 0), node(1, 0), node(1, 1), node(0, 1)
        vec = 0.5 * np.cross(
            (pos[(slice(None), *c)] - pos[(slice(None), *a)]).T,
            (pos[(slice(None), *e)] - pos[(slice(None), *b)]).T,
        )
        vec = (sign[:, None] * vec / 4.0).T  # (3, F): each node's quarter
        for n in (a, b, c, e):
            for i in range(3):
                np.add.at(out[i], n, vec[i])
    return out
