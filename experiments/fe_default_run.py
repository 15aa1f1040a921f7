"""The default run's impacts (`axojax run`: 20 synthetic training impacts + the held-out one) through the FE
brain: which would stop on an inverted element, where inversion starts, the cost per impact, and the white
matter's peak MPS and fiber strain beside the reduced model's (docs/fe.md, "The default run's impacts").

Each impact is solved once with `allow_inverted=True`; a strict solve (the default `FEHeadModel`, and
`axojax run --tissue fe`) stops exactly when some deforming cell has a corner Jacobian <= 0 at a sample,
which this script finds from the same motion.

    python experiments/fe_default_run.py --element-size 4 --out fe_default_run.json
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

from axojax.brain import default_brain
from axojax.headmodel import FEHeadModel, ReducedHeadModel, damage, max_principal_strain, motion
from axojax.headmodel import _fe_solver as fe
from axojax.headmodel._fe_model import point_cell_values
from axojax.pipeline.config import RunConfig
from axojax.pipeline.impacts import synthetic_impact_list

NAMES = {1: "CSF", 2: "GM", 3: "WM", 4: "falx"}


def first_inversion(model, u):
    """(first sample index, cell index) of every cell whose corner Jacobian goes <= 0 at some sample."""
    deform = fe.deformable_mask(model.mesh.labels).astype(u.dtype)
    h = model.mesh.element_size_mm

    def step(first, k_u):
        k, uk = k_u
        bad = fe.cell_corner_jacobians(uk, h, deform, model.mesh.node_offset_mm) <= 0.0
        return jnp.where((first < 0) & bad, k, first), None

    init = jnp.full(model.mesh.grid_shape, -1, jnp.int32)
    first, _ = jax.lax.scan(step, init, (jnp.arange(u.shape[0], dtype=jnp.int32), u))
    first = np.asarray(first)
    idx = np.argwhere(first >= 0)
    return first, idx


def peaks(strain, fiber_dir, fiber_weight):
    """Per voxel: peak MPS [-] and peak fiber strain [-] (weighted mean over fiber populations)."""
    mps = jnp.max(max_principal_strain(strain), axis=-1)
    ef = jnp.einsum("vk,vki,vtij,vkj->vt", fiber_weight, fiber_dir, strain, fiber_dir)
    return np.asarray(mps), np.asarray(jnp.max(ef, axis=-1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--element-size", type=float, default=4.0)
    ap.add_argument("--names", nargs="*", default=None, help="impact names (default: all 21)")
    ap.add_argument("--out", default=None, help="write the rows as JSON")
    args = ap.parse_args()

    brain = default_brain()
    xyz = jnp.asarray(brain.coords_mm, jnp.float32)
    fdir = jnp.asarray(brain.fiber_dir, jnp.float32)
    fw = jnp.asarray(brain.fiber_weight, jnp.float32)
    impacts = synthetic_impact_list(RunConfig())
    names = args.names or list(impacts)
    t0 = time.perf_counter()
    model = FEHeadModel(element_size_mm=args.element_size, allow_inverted=True)
    print(
        f"FE brain {args.element_size:g} mm built in {time.perf_counter() - t0:.1f} s; {len(names)} impacts"
    )
    reduced = ReducedHeadModel()
    lab = np.asarray(model.mesh.labels)
    outer = np.zeros(lab.size, bool)
    outer[np.asarray(fe.surface_cells(lab))] = True
    outer = outer.reshape(lab.shape)
    strain_fe = jax.jit(lambda u: model.strain_from_motion(u, xyz))
    strain_red = jax.jit(lambda t, a: reduced.strain_history(t, a, xyz))
    rows = []
    for name in names:
        imp = impacts[name]
        t0 = time.perf_counter()
        u = jax.block_until_ready(motion(model, imp.t_s, imp.ang_acc_rad_s2))
        solve_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        e = jax.block_until_ready(strain_fe(u))
        strain_s = time.perf_counter() - t0
        mps, ef = peaks(e, fdir, fw)
        mps_r, ef_r = peaks(strain_red(imp.t_s, imp.ang_acc_rad_s2), fdir, fw)
        first, idx = first_inversion(model, u)
        # the voxels `model.inverted_points` flags, from the same scan (the cells with a first inversion)
        wm_bad = int(np.asarray(point_cell_values(model.mesh, jnp.asarray(first >= 0), xyz)).sum())
        row = {
            "name": name,
            "damage": round(float(damage(reduced, imp)), 3),
            "strict_solves": bool(idx.size == 0),
            "inverted_cells": {NAMES[k]: int(np.sum(lab[tuple(idx.T)] == k)) for k in NAMES}
            if idx.size
            else {},
            "inverted_outer_layer": int(outer[tuple(idx.T)].sum()) if idx.size else 0,
            "first_inversion_ms": None,
            "first_inverted_labels": [],
            "wm_voxels_in_inverted": wm_bad,
            "solve_s": round(solve_s, 1),
            "strain_s": round(strain_s, 1),
            "fe_mps_p95": round(float(np.percentile(mps, 95)), 3),
            "fe_mps_max": round(float(mps.max()), 3),
            "reduced_mps_p95": round(float(np.percentile(mps_r, 95)), 3),
            "reduced_mps_max": round(float(mps_r.max()), 3),
            "fe_fiber_p95": round(float(np.percentile(ef, 95)), 3),
            "reduced_fiber_p95": round(float(np.percentile(ef_r, 95)), 3),
        }
        if idx.size:
            k0 = int(first[tuple(idx.T)].min())
            row["first_inversion_ms"] = round(float(imp.t_s[k0] - imp.t_s[0]) * 1e3, 1)
            row["first_inverted_labels"] = sorted(
                {
                    NAMES[int(lab[tuple(c)])] + (" outer" if outer[tuple(c)] else " inner")
                    for c in idx[first[tuple(idx.T)] == k0]
                }
            )
        rows.append(row)
        print(json.dumps(row), flush=True)
    solved = [r for r in rows if r["strict_solves"]]
    print(
        f"strict solves: {len(solved)} of {len(rows)}; stopped at DAMAGE "
        f"{sorted(r['damage'] for r in rows if not r['strict_solves'])}; "
        f"solve {np.mean([r['solve_s'] for r in rows]):.1f} s + strain "
        f"{np.mean([r['strain_s'] for r in rows]):.1f} s per impact (mean)"
    )
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
