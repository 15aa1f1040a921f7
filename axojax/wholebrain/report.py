"""Figures of whole-brain maps (matplotlib, the `plots` extra, imported inside the function only)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from jaxtyping import ArrayLike, Float

from ..brain import Brain
from ..surrogate import OUTPUT_NAMES
from ._summary import OUTPUT_UNITS


def plot_slices(
    values: Float[ArrayLike, "vox n"],
    brain: Brain,
    path: str | os.PathLike,
    *,
    names: Sequence[str] = OUTPUT_NAMES,
    through: str = "max",
    title: str | None = None,
    dpi: int = 110,
) -> Path:
    """Axial, coronal and sagittal slices of each output map, one row per output with its colourbar.

    Each row's slices pass through that map's maximum (`through="max"`) or through the white-matter voxel
    nearest the centre of the mask's bounding box (`"centre"`). Voxels outside white matter are blank. Axes
    are world mm when the affine is axis-aligned, voxel indices otherwise.

    Args:
        values: per-voxel outputs (V, n) [map units].
        brain: grid, affine [mm] and voxels.
        path: image file to write (format from the suffix, e.g. .png).
        names: output name of each column (row titles, units).
        through: "max" or "centre".
        title: figure title.
        dpi: resolution of the image.

    Returns:
        The path written.

    Raises:
        ImportError: matplotlib is not installed (`pip install 'axojax[plots]'`).
        ValueError: values not of shape (V, len(names)), V = 0, or an unknown `through`.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("plot_slices needs matplotlib: pip install 'axojax[plots]'") from err
    v = np.asarray(values, dtype=np.float64)
    names = tuple(str(x) for x in names)
    if v.ndim != 2 or v.shape != (brain.n_voxels, len(names)) or brain.n_voxels == 0:
        raise ValueError(
            f"plot_slices: values need shape ({brain.n_voxels}, {len(names)}) with V > 0, got {v.shape}"
        )
    if through not in ("max", "centre"):
        raise ValueError(f"plot_slices: through must be 'max' or 'centre', got {through!r}")
    ijk = np.asarray(brain.voxel_ijk)
    mask = np.asarray(brain.mask, dtype=bool)
    affine = np.asarray(brain.affine, dtype=np.float64)
    lin = affine[:3, :3]
    aligned = np.allclose(lin, np.diag(np.diag(lin)), atol=1e-6) and np.all(np.diag(lin) > 0)
    shape = mask.shape
    if aligned:  # voxel-edge extents in world mm along each grid axis
        lo = affine[:3, 3] - 0.5 * np.diag(lin)
        hi = affine[:3, 3] + (np.asarray(shape) - 0.5) * np.diag(lin)
        axis_names = ("x [mm]", "y [mm]", "z [mm]")
    else:
        lo, hi = -0.5 * np.ones(3), np.asarray(shape) - 0.5
        axis_names = ("i", "j", "k")
    centre = 0.5 * (ijk.min(axis=0) + ijk.max(axis=0))
    centre_voxel = int(np.argmin(np.sum((ijk - centre) ** 2, axis=1)))
    # (view, fixed grid axis, horizontal axis, vertical axis)
    views = (("axial", 2, 0, 1), ("coronal", 1, 0, 2), ("sagittal", 0, 1, 2))

    # a fixed grid (three slices + a colourbar axis per row) rather than a layout engine: several times
    # faster to draw
    rows = len(names)
    top_in = 0.75 if title else 0.45  # room for the figure title
    height_in = 2.9 * rows + 0.2 + top_in
    fig = Figure(figsize=(11.0, height_in))
    grid = fig.subplots(rows, 4, squeeze=False, gridspec_kw={"width_ratios": (1.0, 1.0, 1.0, 0.05)})
    fig.subplots_adjust(
        left=0.06, right=0.92, bottom=0.5 / height_in, top=1.0 - top_in / height_in, wspace=0.3, hspace=0.45
    )
    axes, caxes = grid[:, :3], grid[:, 3]
    for row, name in enumerate(names):  # one row per output map
        vol = np.ma.masked_array(brain.to_volume(v[:, row], fill=0.0), mask=~mask)
        at = ijk[int(np.argmax(v[:, row])) if through == "max" else centre_voxel]
        vmin, vmax = float(v[:, row].min()), float(v[:, row].max())
        if vmax <= vmin:
            vmax = vmin + 1.0
        image = None
        for col, (view, fixed, h, w) in enumerate(views):
            ax = axes[row, col]
            # the slice keeps the other two axes in order (h, w); imshow wants rows = vertical axis w
            plane = np.ma.take(vol, int(at[fixed]), axis=fixed).T
            image = ax.imshow(
                plane,
                origin="lower",
                extent=(lo[h], hi[h], lo[w], hi[w]),
                cmap="magma",
                vmin=vmin,
                vmax=vmax,
                interpolation="nearest",
                aspect="equal",
            )
            pos = affine[:3, :3] @ at + affine[:3, 3] if aligned else at.astype(np.float64)
            ax.set_title(f"{view}, {axis_names[fixed].split()[0]} = {pos[fixed]:.1f}", fontsize=8)
            ax.set_xlabel(axis_names[h], fontsize=7)
            ax.set_ylabel(axis_names[w], fontsize=7)
            ax.tick_params(labelsize=6)
            ax.locator_params(nbins=4)
            ax.set_facecolor("0.85")
        unit = OUTPUT_UNITS.get(name, "")
        cbar = fig.colorbar(image, cax=caxes[row])
        cbar.set_label(f"{name} [{unit}]" if unit else name, fontsize=8)
        cbar.ax.tick_params(labelsize=6)
    if title:
        fig.suptitle(title, fontsize=10)
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    return path
