"""Output maps drawn on the brain with nilearn (`plot_stat_map`) over the MNI T1 that ships in its wheel.

nilearn and matplotlib are imported inside the functions only; nothing is downloaded (the T1 is read from the
installed nilearn package through `axojax._nilearn`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from jaxtyping import ArrayLike, Bool, Float

from .._nilearn import nilearn_file
from ..brain import Brain
from ..surrogate import OUTPUT_NAMES
from ._summary import OUTPUT_UNITS

MNI_T1_FILE = "datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
MNI_WM_FILE = "datasets/data/mni_icbm152_wm_tal_nlin_sym_09a_converted.nii.gz"
CMAP = "plasma"  # sequential, perceptually uniform, starts at 0
OOD_COLOUR = "cyan"
# values below this fraction of the colour scale's maximum are drawn transparent (the anatomy shows through)
TRANSPARENT_BELOW = 1e-6


def mni_t1_path() -> Path:
    """The MNI ICBM152 2009a T1 (1 mm) inside the installed nilearn package (never downloaded)."""
    return nilearn_file(MNI_T1_FILE, "figures on the brain (MNI T1)")


def on_mni(brain: Brain, *, min_fraction: float = 0.5) -> bool:
    """True when at least `min_fraction` of the brain's voxel centres lie on MNI white matter (template
    probability >= 0.1 of its maximum): the MNI T1 is then the right background."""
    import nibabel as nib

    img = nib.load(nilearn_file(MNI_WM_FILE, "figures on the brain (MNI white matter)"))
    data = np.asarray(img.dataobj, np.float32)
    inv = np.linalg.inv(np.asarray(img.affine, np.float64))
    coords = np.asarray(brain.coords_mm, np.float64)
    ijk = np.rint(coords @ inv[:3, :3].T + inv[:3, 3]).astype(np.int64)
    inside = np.all((ijk >= 0) & (ijk < np.asarray(data.shape)), axis=1)
    ijk = np.where(inside[:, None], ijk, 0)
    hit = inside & (data[ijk[:, 0], ijk[:, 1], ijk[:, 2]] >= 0.1 * data.max())
    return bool(brain.n_voxels) and float(hit.mean()) >= min_fraction


def hot_spot(values: Float[ArrayLike, " vox"], brain: Brain, *, quantile: float = 95.0) -> np.ndarray:
    """World coordinates [mm] of the cuts through the map's hot spots: along each grid axis, the slice holding
    the most voxels at or above the map's `quantile` percentile (above its minimum when that percentile is the
    minimum; ties: the larger sum there), so a cut shows much injured tissue rather than one extreme voxel at
    the edge of the brain. A constant map: the voxel nearest the centre of the white matter."""
    v = np.asarray(values, np.float64)
    ijk = np.asarray(brain.voxel_ijk)
    coords = np.asarray(brain.coords_mm, np.float64)
    if v.max() <= v.min():
        centre = coords.mean(axis=0)
        return coords[int(np.argmin(np.sum((coords - centre) ** 2, axis=1)))]
    level = float(np.percentile(v, quantile))
    hot = v >= level if level > v.min() else v > v.min()  # a mostly-zero map: every voxel above zero
    shape = tuple(int(n) for n in brain.mask.shape)
    cut = np.zeros(3, np.int64)
    for axis in range(3):  # three axes; the voxel reductions are bincounts
        count = np.bincount(ijk[hot, axis], minlength=shape[axis])
        total = np.bincount(ijk[hot, axis], weights=v[hot], minlength=shape[axis])
        cut[axis] = int(np.lexsort((total, count))[-1])
    affine = np.asarray(brain.affine, np.float64)
    return affine[:3, :3] @ cut + affine[:3, 3]


def _label(name: str) -> str:
    unit = OUTPUT_UNITS.get(name, "")
    return f"{name} [{unit}]" if unit else name


def _vmax(col: np.ndarray) -> float:
    top = float(col.max()) if col.size else 0.0
    return top if top > 0 else 1.0


def _panel(fig, rect_map, rect_cbar, img, bg, name, vmax, cut, ood_img, n_ood, title):
    """One ortho view of one output with its own colour bar and the OOD contour."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from nilearn import plotting

    display = plotting.plot_stat_map(
        img,
        bg_img=bg,
        cut_coords=tuple(float(c) for c in cut),
        display_mode="ortho",
        colorbar=False,
        figure=fig,
        axes=rect_map,
        title=title,
        threshold=TRANSPARENT_BELOW * vmax,
        cmap=CMAP,
        vmin=0.0,
        vmax=vmax,
        symmetric_cbar=False,
        black_bg=True,
        draw_cross=False,
        annotate=True,
        resampling_interpolation="nearest",
    )
    if n_ood:
        display.add_contours(ood_img, levels=[0.5], colors=OOD_COLOUR, linewidths=1.2)
    cax = fig.add_axes(rect_cbar)
    bar = fig.colorbar(ScalarMappable(Normalize(0.0, vmax), CMAP), cax=cax)
    bar.set_label(_label(name), fontsize=8, color="white")
    bar.ax.tick_params(labelsize=7, colors="white")
    bar.outline.set_edgecolor("white")
    return display


def plot_brain_maps(
    values: Float[ArrayLike, "vox n"],
    brain: Brain,
    path: str | os.PathLike,
    *,
    ood: Bool[ArrayLike, " vox"] | None = None,
    names: Sequence[str] = OUTPUT_NAMES,
    per_output: bool = True,
    background: str | os.PathLike | None = "auto",
    title: str | None = None,
    dpi: int = 100,
) -> dict[str, Path]:
    """Each output map over the brain (nilearn `plot_stat_map`, ortho cuts through the map's hot spot).

    Colour: sequential (`CMAP`) from 0 to the map's maximum, one colour bar per output labelled with its
    unit; values below `TRANSPARENT_BELOW` of the maximum are transparent. Voxels outside the surrogate's
    training range (`ood`) are outlined in `OOD_COLOUR`.

    Args:
        values: per-voxel outputs (V, n) [strains -, failures %].
        brain: grid, affine [mm] and voxels.
        path: the four-output summary figure (e.g. figures/map_slices.png); with `per_output`, each output
            also gets `<stem>_<name><suffix>` next to it.
        ood: per-voxel out-of-distribution flags (V,).
        names: output name of each column.
        per_output: also write one figure per output.
        background: "auto" (the MNI T1 from nilearn's wheel when the brain lies on MNI white matter,
            `on_mni`, else none), a NIfTI path, or None (no anatomy).
        title: figure title of the summary.
        dpi: resolution.

    Returns:
        {"summary": path, name: path of each per-output figure}.

    Raises:
        ImportError: matplotlib missing (`pip install 'axojax[plots]'`).
        ValueError: values not of shape (V, len(names)), V = 0, or `ood` not (V,).
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("plot_brain_maps needs matplotlib: pip install 'axojax[plots]'") from err
    import nibabel as nib

    v = np.asarray(values, dtype=np.float32)
    names = tuple(str(x) for x in names)
    if v.ndim != 2 or v.shape != (brain.n_voxels, len(names)) or brain.n_voxels == 0:
        raise ValueError(
            f"plot_brain_maps: values need shape ({brain.n_voxels}, {len(names)}) with V > 0, got {v.shape}"
        )
    flags = np.zeros(brain.n_voxels, bool) if ood is None else np.asarray(ood, bool)
    if flags.shape != (brain.n_voxels,):
        raise ValueError(f"plot_brain_maps: ood needs shape ({brain.n_voxels},), got {flags.shape}")
    affine = np.asarray(brain.affine, np.float64)
    if background == "auto":
        background = mni_t1_path() if on_mni(brain) else None
    bg = nib.load(background) if background is not None else None
    ood_img = nib.Nifti1Image(brain.to_volume(flags.astype(np.float32)), affine)
    n_ood = int(flags.sum())
    imgs = [nib.Nifti1Image(brain.to_volume(v[:, j]), affine) for j in range(len(names))]
    cuts = [hot_spot(v[:, j], brain) for j in range(len(names))]
    vmaxes = [_vmax(v[:, j]) for j in range(len(names))]
    ood_note = (
        f"{n_ood} voxels outside the training range ({OOD_COLOUR} outline)" if n_ood else "no voxel OOD"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    with warnings.catch_warnings():
        # nilearn/numpy notes on masked arrays and resampling: not ours to act on
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        rows = len(names)
        height = 2.6 * rows + 0.4
        fig = Figure(figsize=(10.0, height), facecolor="black")
        for j, name in enumerate(names):
            y0 = 1.0 - (0.4 + (j + 1) * 2.6) / height
            h = 2.4 / height
            _panel(
                fig,
                [0.0, y0, 0.86, h],
                [0.89, y0 + 0.1 * h, 0.02, 0.8 * h],
                imgs[j],
                bg,
                name,
                vmaxes[j],
                cuts[j],
                ood_img,
                n_ood,
                _label(name),
            )
        fig.text(
            0.01, 1.0 - 0.28 / height, (title + ": " if title else "") + ood_note, color="white", fontsize=9
        )
        fig.savefig(path, dpi=dpi, facecolor="black")
        written["summary"] = path
        if per_output:
            for j, name in enumerate(names):
                fig = Figure(figsize=(10.0, 3.3), facecolor="black")
                _panel(
                    fig,
                    [0.0, 0.02, 0.86, 0.86],
                    [0.89, 0.12, 0.02, 0.7],
                    imgs[j],
                    bg,
                    name,
                    vmaxes[j],
                    cuts[j],
                    ood_img,
                    n_ood,
                    _label(name),
                )
                fig.text(0.01, 0.94, (title + ": " if title else "") + ood_note, color="white", fontsize=9)
                out = path.with_name(f"{path.stem}_{name}{path.suffix}")
                fig.savefig(out, dpi=dpi, facecolor="black")
                written[name] = out
    return written


def _tract_items(tracts: dict) -> list[dict]:
    if "items" not in tracts:
        raise ValueError(f"tract figures: no tract results ({tracts.get('skipped', 'no items')})")
    return list(tracts["items"])


def plot_tract_summary(tracts: dict, path: str | os.PathLike, *, dpi: int = 100) -> Path:
    """Bars of each output's mean per tract (with its p95 as a tick), one panel per output, units on the axes.

    Args:
        tracts: `tract_summary(...)` (e.g. `summary["tracts"]` of summary.json).
        path: image file to write.
        dpi: resolution.

    Raises:
        ImportError: matplotlib missing. ValueError: `tracts` holds no tract results.
    """
    from matplotlib.figure import Figure

    items = _tract_items(tracts)
    names = list(items[0]["outputs"]) if items else []
    labels = [f"{it['name']} ({it['n_voxels']})" for it in items]
    fig = Figure(figsize=(3.2 * max(len(names), 1) + 2.0, 0.28 * len(items) + 1.4))
    axes = fig.subplots(1, max(len(names), 1), sharey=True, squeeze=False)[0]
    y = np.arange(len(items))
    for ax, name in zip(axes, names, strict=False):
        mean = np.array(
            [np.nan if it["outputs"][name]["mean"] is None else it["outputs"][name]["mean"] for it in items]
        )
        p95 = np.array(
            [np.nan if it["outputs"][name]["p95"] is None else it["outputs"][name]["p95"] for it in items]
        )
        ax.barh(y, mean, color="#7b3294", label="mean")
        ax.plot(p95, y, "|", color="black", markersize=9, label="p95")
        ax.set_xlabel(_label(name), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xlim(left=0.0)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, labels, fontsize=7)
    axes[0].invert_yaxis()
    axes[0].legend(fontsize=7, loc="lower right")
    fig.suptitle("Outputs per tract (AFQ-Browser tracts; voxels in brackets)", fontsize=9)
    fig.subplots_adjust(
        left=0.2,
        right=0.98,
        bottom=0.9 / fig.get_figheight(),
        top=1 - 0.45 / fig.get_figheight(),
        wspace=0.12,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path


def plot_tract_profiles(tracts: dict, path: str | os.PathLike, *, dpi: int = 100) -> Path:
    """Tract profiles: one panel per tract, each output along the core's 100 nodes as a fraction of that
    output's largest profile value over all tracts (the legend gives it in the output's unit).

    Raises:
        ImportError: matplotlib missing. ValueError: `tracts` holds no tract results.
    """
    from matplotlib.figure import Figure

    items = _tract_items(tracts)
    names = list(items[0]["profile"]) if items else []
    prof = {
        n: np.array([[np.nan if x is None else x for x in it["profile"][n]] for it in items]) for n in names
    }
    top = {
        n: float(np.nanmax(p)) if np.isfinite(p).any() and np.nanmax(p) > 0 else 1.0 for n, p in prof.items()
    }
    cols = 5
    rows = int(np.ceil(len(items) / cols)) or 1
    fig = Figure(figsize=(2.6 * cols, 1.9 * rows + 0.9))
    axes = fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False)
    colours = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a")
    lines = []
    for k, it in enumerate(items):
        ax = axes[k // cols, k % cols]
        for j, n in enumerate(names):
            (line,) = ax.plot(prof[n][k] / top[n], color=colours[j % len(colours)], lw=1.2)
            if k == 0:
                lines.append(line)
        ax.set_title(it["name"], fontsize=7)
        ax.tick_params(labelsize=6)
        ax.set_ylim(0.0, 1.05)
        ax.grid(alpha=0.3)
    for k in range(len(items), rows * cols):
        axes[k // cols, k % cols].set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("node (0: inferior / posterior / left end)", fontsize=6)
    fig.legend(
        lines,
        [f"{n} (1 = {top[n]:.3g} {OUTPUT_UNITS.get(n, '')})" for n in names],
        loc="upper center",
        ncol=len(names),
        fontsize=7,
        frameon=False,
    )
    fig.subplots_adjust(
        left=0.04, right=0.99, bottom=0.07, top=1 - 0.6 / fig.get_figheight(), hspace=0.4, wspace=0.08
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path
