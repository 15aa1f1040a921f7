"""Figures of docs/fe.md: the labels of the MNI head mesh, and peak MPS / peak fiber strain of the FE brain
beside the reduced model for a coronal, a sagittal and an axial rotation (mid-slices through the brain).

    python experiments/fe_figures.py --element-size 4 --out docs/figures
"""

from __future__ import annotations

import argparse
from pathlib import Path

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
PEAK_RAD_S2 = (
    3000.0  # DAMAGE 0.15 / 0.20 / 0.24 about x / y / z: inside the range the FE brain solves (docs/fe.md)
)


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
        f"WM (beige) {counts['white_matter']}, falx (red) {counts['falx']} elements; {counts['nodes']} nodes;\n"
        f"the envelope hangs in the skull by a {mesh.sas_thickness_mm:g} mm subarachnoid layer (not meshed)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def strain_maps(head, brain, t, a):
    """(peak MPS, peak |fiber strain|) [-] at the brain's voxels for one impact."""
    return strain_maps_from_motion(head, brain, motion(head, t, a))


def strain_maps_from_motion(head, brain, mo):
    """(peak MPS, peak |fiber strain|) [-] at the brain's voxels from a solved motion `mo`."""
    coords = np.asarray(brain.coords_mm, np.float32)
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


def map_figure(fe_model, brain, out: Path) -> list[Path]:
    """Per pulse axis, one figure on the MNI T1 (nilearn, via `axojax.wholebrain.plot_brain_maps`): peak
    MPS and peak |fiber strain| of the FE brain beside the reduced model's; prints their p95 and the
    Spearman rank correlation of the two models' peak-MPS maps."""
    from axojax.wholebrain import plot_brain_maps

    reduced = ReducedHeadModel()
    paths = []
    for name, axis in PULSES:
        imp = half_sine_pulse(PEAK_RAD_S2, 10.0, axis, window_ms=60.0)
        t = jnp.asarray(imp.t_s, jnp.float32)
        a = jnp.asarray(imp.ang_acc_rad_s2, jnp.float32)
        fe_mps, fe_fib = strain_maps(fe_model, brain, t, a)
        red_mps, red_fib = strain_maps(reduced, brain, t, a)
        values = np.stack([fe_mps, red_mps, fe_fib, red_fib], axis=1)
        names = ["FE peak MPS", "reduced peak MPS", "FE peak |fiber strain|", "reduced peak |fiber strain|"]
        path = out / f"fe_maps_{name}.png"
        plot_brain_maps(
            values,
            brain,
            path,
            names=names,
            per_output=False,
            title=f"{name} rotation, {PEAK_RAD_S2 / 1e3:g} krad/s^2 10 ms half-sine: "
            f"FE ({fe_model.mesh.element_size_mm:g} mm) vs reduced",
        )
        rank = lambda v: np.argsort(np.argsort(v))  # noqa: E731
        rho = float(np.corrcoef(rank(fe_mps), rank(red_mps))[0, 1])
        print(
            f"{name}: p95 peak MPS FE {np.percentile(fe_mps, 95):.3f} reduced {np.percentile(red_mps, 95):.3f}; "
            f"p95 |fiber| FE {np.percentile(fe_fib, 95):.3f} reduced {np.percentile(red_fib, 95):.3f}; "
            f"Spearman(FE, reduced) peak MPS {rho:.2f}",
            flush=True,
        )
        paths.append(path)
    return paths


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
        map_figure(FEHeadModel(mesh), default_brain(2.0), out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
