"""Figures of docs/fe.md: the labels of the MNI head mesh, and peak MPS / peak fiber strain of the FE brain
beside the reduced model for a coronal, a sagittal and an axial rotation (mid-slices through the brain).

    python experiments/fe_figures.py --element-size 4 --out docs/figures
"""

from __future__ import annotations

import argparse
from pathlib import Path

import equinox as eqx
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

from axojax.brain import default_brain  # noqa: E402
from axojax.fiberstrain import project_strain_weighted  # noqa: E402
from axojax.headmodel import FEHeadModel, ReducedHeadModel, max_principal_strain, motion, strain_from_motion  # noqa: E402
from axojax.headmodel.mesh import mni_head_mesh  # noqa: E402
from axojax.kinematics import half_sine_pulse  # noqa: E402

PULSES = [("coronal", (1.0, 0.0, 0.0)), ("sagittal", (0.0, 1.0, 0.0)), ("axial", (0.0, 0.0, 1.0))]


def label_figure(mesh, path: Path) -> None:
    lab = np.asarray(mesh.labels)
    cmap = ListedColormap(["white", "#7fb3d5", "#a9a9a9", "#f5f5dc", "#c0392b"])
    mid = [s // 2 for s in lab.shape]
    fig, axes = plt.subplots(1, 3, figsize=(12, 4))
    views = [
        ("sagittal (x = 0)", lab[int(np.argwhere(lab == 4)[0, 0]) if (lab == 4).any() else mid[0]].T),
        ("coronal", lab[:, mid[1]].T),
        ("axial", lab[:, :, mid[2]].T),
    ]
    for ax, (name, img) in zip(axes, views):
        ax.imshow(img, origin="lower", cmap=cmap, vmin=-0.5, vmax=4.5, interpolation="nearest")
        ax.set_title(name)
        ax.axis("off")
    counts = mesh.counts()
    fig.suptitle(
        f"MNI head mesh, {mesh.element_size_mm:g} mm: CSF (blue) {counts['csf']}, GM (grey) {counts['grey_matter']}, "
        f"WM (beige) {counts['white_matter']}, falx (red) {counts['falx']} elements; {counts['nodes']} nodes"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def strain_maps(head, brain, t, a):
    coords = np.asarray(brain.coords_mm, np.float32)
    mo = motion(head, t, a)
    mps, fib = [], []
    for s in range(0, coords.shape[0], 8192):
        e = strain_from_motion(head, mo, jnp.asarray(coords[s : s + 8192]))
        mps.append(np.asarray(jnp.max(max_principal_strain(e), axis=1)))
        eps = project_strain_weighted(
            e,
            jnp.asarray(brain.fiber_dir[s : s + 8192], e.dtype),
            jnp.asarray(brain.fiber_weight[s : s + 8192], e.dtype),
        )
        fib.append(np.asarray(jnp.max(jnp.abs(eps), axis=1)))
    return np.concatenate(mps), np.concatenate(fib)


def map_figure(fe_model, brain, path: Path) -> None:
    reduced = ReducedHeadModel()
    ijk = np.asarray(brain.voxel_ijk)
    shape = tuple(int(s) for s in brain.mask.shape)
    fig, axes = plt.subplots(4, 3, figsize=(11, 13))
    for col, (name, axis) in enumerate(PULSES):
        imp = half_sine_pulse(4000.0, 10.0, axis, window_ms=60.0)
        t = jnp.asarray(imp.t_s, jnp.float32)
        a = jnp.asarray(imp.ang_acc_rad_s2, jnp.float32)
        fe_mps, fe_fib = strain_maps(fe_model, brain, t, a)
        red_mps, red_fib = strain_maps(reduced, brain, t, a)
        rows = [
            ("FE peak MPS", fe_mps),
            ("reduced peak MPS", red_mps),
            ("FE peak |fiber strain|", fe_fib),
            ("reduced peak |fiber strain|", red_fib),
        ]
        for row, (title, vals) in enumerate(rows):
            vol = np.full(shape, np.nan)
            vol[ijk[:, 0], ijk[:, 1], ijk[:, 2]] = vals
            sl = vol[:, :, shape[2] // 2 + 5].T  # axial slice through the corpus callosum
            ax = axes[row, col]
            im = ax.imshow(sl, origin="lower", cmap="magma", vmin=0, vmax=np.nanpercentile(vals, 99))
            ax.set_title(f"{name}: {title}\np95 {np.percentile(vals, 95):.3f}", fontsize=9)
            ax.axis("off")
            fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle("4 krad/s^2, 10 ms half-sine pulses; white-matter voxels (2 mm), axial slice", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--element-size", type=float, default=4.0)
    p.add_argument("--out", default="docs/figures")
    p.add_argument("--labels-only", action="store_true")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    mesh = mni_head_mesh(args.element_size)
    label_figure(mesh, out / "fe_labels.png")
    if not args.labels_only:
        map_figure(FEHeadModel(mesh), default_brain(2.0), out / "fe_maps.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
