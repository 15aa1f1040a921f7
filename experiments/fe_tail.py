"""The white matter's strain tail in the FE brain: peak MPS and peak fiber strain p95 / p99 / max of the
default run's impacts against the brain-skull layer's shear modulus, and where the hottest voxels sit (next
to CSF, the falx or the skull) (docs/fe.md, "The FE brain as the default tissue model").

Voxels in an element that inverted are left out (as `axojax run` does).

    python experiments/fe_tail.py --impacts train_014,held_out_020 --layer-kpa 0.5,1.5,5 --surface staircase
    python experiments/fe_tail.py --impacts held_out_020 --bulk-mpa 2.19,21.9,219 --surface staircase
    python experiments/fe_tail.py --impacts train_006,train_014,train_016,held_out_020 --falx anchored,hanging
"""

from __future__ import annotations

import argparse

import jax.numpy as jnp
import numpy as np

from axojax.fiberstrain import project_strain_weighted
from axojax.headmodel import FEHeadModel, FEMaterial, max_principal_strain, motion, strain_from_motion
from axojax.pipeline.brain import load_run_brain
from axojax.pipeline.config import RunConfig
from axojax.pipeline.impacts import study_impacts

CHUNK = 16384


def peaks(model, u, brain):
    """(peak MPS, peak |fiber strain|) per voxel [-] of one solve, by voxel chunk."""
    c = jnp.asarray(brain.coords_mm, jnp.float32)
    d, w = jnp.asarray(brain.fiber_dir, jnp.float32), jnp.asarray(brain.fiber_weight, jnp.float32)
    mps, fib = [], []
    for i in range(0, c.shape[0], CHUNK):
        e = strain_from_motion(model, u, c[i : i + CHUNK])
        mps.append(np.asarray(jnp.max(max_principal_strain(e), axis=1)))
        fib.append(
            np.asarray(
                jnp.max(jnp.abs(project_strain_weighted(e, d[i : i + CHUNK], w[i : i + CHUNK])), axis=1)
            )
        )
    return np.concatenate(mps), np.concatenate(fib)


def neighbours(model, coords):
    """Per point: whether its element's 27-cell neighbourhood holds CSF, falx, outside (skull) [bool x3]."""
    lab = np.asarray(model.mesh.labels)
    ijk = np.floor((coords - np.asarray(model.mesh.origin_mm)) / model.mesh.element_size_mm).astype(int)
    pad = np.pad(lab, 1, constant_values=0)
    out = np.zeros((coords.shape[0], 3), bool)
    for dx in (0, 1, 2):
        for dy in (0, 1, 2):
            for dz in (0, 1, 2):
                v = pad[ijk[:, 0] + dx, ijk[:, 1] + dy, ijk[:, 2] + dz]
                out |= np.stack([v == 1, v == 4, v == 0], axis=1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--impacts", default="train_014,held_out_020")
    ap.add_argument("--layer-kpa", default="0.5", help="the layer's shear moduli [kPa]")
    ap.add_argument("--bulk-mpa", default="2.19", help="brain bulk moduli [MPa] (the layer's k_n scales too)")
    ap.add_argument("--surface", default="staircase,smooth", help="FEHeadModel(surface=) values")
    ap.add_argument("--falx", default="anchored", help="FEHeadModel(falx=) values")
    ap.add_argument("--element-size", type=float, default=6.0)
    args = ap.parse_args()
    config = RunConfig()
    impacts, _, _ = study_impacts(config)
    brain = load_run_brain(config)
    coords = np.asarray(brain.coords_mm, np.float32)
    q = lambda a: "/".join(f"{x:.3f}" for x in (np.percentile(a, 95), np.percentile(a, 99), a.max()))  # noqa: E731
    variants = [
        (float(g), float(k), surface, falx)
        for g in args.layer_kpa.split(",")
        for k in args.bulk_mpa.split(",")
        for surface in args.surface.split(",")
        for falx in args.falx.split(",")
    ]
    for name in args.impacts.split(","):
        for g, k, surface, falx in variants:
            model = FEHeadModel(
                element_size_mm=args.element_size,
                allow_inverted=True,
                material=FEMaterial(sas_shear_kpa=g, bulk_modulus_mpa=k),
                surface=surface,
                falx=falx,
            )
            u = motion(model, impacts[name].t_s, impacts[name].ang_acc_rad_s2)
            bad = np.asarray(model.inverted_points(u, jnp.asarray(coords)))
            mps, fib = (a[~bad] for a in peaks(model, u, brain))
            hot = mps > 2.0 * np.percentile(mps, 95)
            near = neighbours(model, coords[~bad][hot]).mean(axis=0) if hot.any() else np.zeros(3)
            top = coords[~bad][np.argsort(mps)[::-1][:3]].astype(int).tolist()
            print(
                f"{name:13s} layer {g:g} kPa, K {k:g} MPa, {surface}, falx {falx}: "
                f"{int(bad.sum())} voxels in inverted elements; "
                f"WM peak MPS p95/p99/max {q(mps)} (max/p95 {mps.max() / np.percentile(mps, 95):.2f}); "
                f"fiber {q(fib)} (max/p95 {fib.max() / np.percentile(fib, 95):.2f}); "
                f"{int(hot.sum())} voxels above 2 p95 MPS, next to CSF / falx / skull "
                f"{near[0]:.2f} / {near[1]:.2f} / {near[2]:.2f}; hottest at {top} mm",
                flush=True,
            )
    base = neighbours(FEHeadModel(element_size_mm=args.element_size), coords).mean(axis=0)
    print(
        f"all white-matter voxels next to CSF / falx / skull: {base[0]:.2f} / {base[1]:.2f} / {base[2]:.2f}"
    )


if __name__ == "__main__":
    main()
