"""Validation of the FE brain against DAMAGE over synthetic pulses, and map slices (docs/fe.md).

DAMAGE (Gabler et al. 2019) was fit to MPS95 of FE head models (GHBMC, THUMS, ...) over many pulses; a
mechanical brain should correlate with it. For N half-sine pulses (random axes, 5-20 ms, 1-8 krad/s^2,
60 ms at 1 ms) this prints per pulse the FE MPS95 (95th percentile over the brain's grey- and
white-matter elements of the peak maximum principal strain, element centres) and DAMAGE, then the Pearson
r, the slope of MPS95 on DAMAGE (least squares through the origin) and the largest disagreements, for MPS
as Green-Lagrange strain and as logarithmic strain, 0.5 ln(1 + 2 E1) (the same percentile: the map is
monotone; which measure the FE models behind DAMAGE report is not stated in SCIENCE.md); with
--figure it also draws peak MPS and peak fiber strain of a sagittal, a coronal and an axial rotation,
FE beside the reduced model, on the MNI T1.

    python experiments/fe_validation.py --n 40 --element-size 6 --out runs/fe_validation.json
    python experiments/fe_validation.py --n 40 --element-size 6 --hourglass-scale 2
    python experiments/fe_validation.py --n 40 --element-size 6 --sas-shear-kpa 5
    python experiments/fe_validation.py --n 40 --element-size 6 --integration full --pulses 5 8 11
    python experiments/fe_validation.py --n 40 --element-size 6 --falx sliding
"""

from __future__ import annotations

import argparse
import functools
import json
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from axojax.headmodel import FEHeadModel, FEMaterial, ReducedHeadModel, damage, max_principal_strain
from axojax.headmodel import _fe_solver as fe
from axojax.headmodel.mesh import mni_head_mesh, smooth_mesh
from axojax.kinematics import half_sine_pulse


def random_pulses(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    axes = rng.normal(size=(n, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    peaks = rng.uniform(1000.0, 8000.0, n)
    durations = rng.uniform(5.0, 20.0, n)
    return [(float(p), float(d), tuple(float(v) for v in a)) for p, d, a in zip(peaks, durations, axes)]


@functools.partial(jax.jit, static_argnums=1)
def _peak_element_mps(motion, h: float, offset=None):
    """Peak over time of the MPS at every element centre [-] (compiled once per mesh size)."""

    def one(u):
        grad = fe.centre_gradients(u, h, offset)
        e = jnp.moveaxis(fe.green_lagrange_from_grad(grad), (0, 1), (-2, -1))
        return max_principal_strain(e)

    return jnp.max(jax.lax.map(one, motion), axis=0)


def element_mps95(model: FEHeadModel, motion) -> float:
    """95th percentile over GM + WM elements of the peak (over time) MPS at element centres."""
    lab = np.asarray(model.mesh.labels)
    mps = np.asarray(_peak_element_mps(motion, model.mesh.element_size_mm, model.mesh.node_offset_mm))
    return float(np.percentile(mps[(lab == 2) | (lab == 3)], 95))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=40)
    p.add_argument("--element-size", type=float, default=6.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None)
    p.add_argument(
        "--hourglass-scale", type=float, default=None, help="FEMaterial.hourglass_scale (default 1)"
    )
    p.add_argument("--csf-shear-kpa", type=float, default=None, help="FEMaterial.csf_shear_kpa (default 0.5)")
    p.add_argument("--sas-shear-kpa", type=float, default=None, help="FEMaterial.sas_shear_kpa (default 0.5)")
    p.add_argument(
        "--allow-inverted",
        action="store_true",
        help="FEHeadModel(allow_inverted=True): finish solves whose elements invert (default: stop)",
    )
    p.add_argument(
        "--integration",
        choices=("surface", "full", "reduced"),
        default="reduced",
        help="FEHeadModel(integration=): cells with 2x2x2 Gauss-point deviatoric stress (default none)",
    )
    p.add_argument("--pulses", type=int, nargs="*", default=None, help="run only these pulse indices")
    p.add_argument(
        "--smooth", action="store_true", help="mesh.smooth_mesh: boundary nodes on the smooth skull surface"
    )
    p.add_argument(
        "--falx",
        choices=("anchored", "hanging", "sliding"),
        default="anchored",
        help="FEHeadModel(falx=): anchored to the skull, hanging in the layer, or a rigid partition "
        "that the brain slides along",
    )
    p.add_argument("--min-jacobian", type=float, default=0.3, help="smooth_mesh's corner Jacobian floor")
    p.add_argument("--skull-smoothing", type=float, default=0.5, help="skull surface sigma / element size")
    args = p.parse_args(argv)
    overrides = {
        k: v
        for k, v in (
            ("hourglass_scale", args.hourglass_scale),
            ("csf_shear_kpa", args.csf_shear_kpa),
            ("sas_shear_kpa", args.sas_shear_kpa),
        )
        if v is not None
    }
    mesh = mni_head_mesh(args.element_size)
    if args.smooth:
        mesh = smooth_mesh(mesh, min_jacobian=args.min_jacobian, skull_smoothing=args.skull_smoothing)
    elif args.skull_smoothing != 0.5:
        mesh = type(mesh)(
            mesh.labels,
            mesh.origin_mm,
            mesh.element_size_mm,
            mesh.sas_thickness_mm,
            None,
            args.skull_smoothing,
        )
    model = FEHeadModel(
        mesh,
        FEMaterial(**overrides),
        allow_inverted=args.allow_inverted,
        integration=args.integration,
        falx=args.falx,
    )
    reduced = ReducedHeadModel()
    motion_fn = eqx.filter_jit(model.motion)
    rows = []
    for i, (peak, dur, axis) in enumerate(random_pulses(args.n, args.seed)):
        if args.pulses is not None and i not in args.pulses:
            continue
        imp = half_sine_pulse(peak, dur, axis, window_ms=60.0)
        t = jnp.asarray(imp.t_s, jnp.float32)
        a = jnp.asarray(imp.ang_acc_rad_s2, jnp.float32)
        t0 = time.perf_counter()
        dmg = float(damage(reduced, t, a))
        try:
            mps95 = element_mps95(model, motion_fn(t, a))
        except Exception as err:  # an inverted element: the solve reports it (never a silent NaN)
            if "diverged" not in str(err):
                raise
            print(f"{i:3d} {peak:6.0f} rad/s^2 {dur:5.1f} ms  DAMAGE {dmg:.3f}: solve diverged", flush=True)
            rows.append({"peak_rad_s2": peak, "duration_ms": dur, "axis": axis, "mps95": None, "damage": dmg})
            continue
        rows.append({"peak_rad_s2": peak, "duration_ms": dur, "axis": axis, "mps95": mps95, "damage": dmg})
        print(
            f"{i:3d} {peak:6.0f} rad/s^2 {dur:5.1f} ms axis ({axis[0]:+.2f},{axis[1]:+.2f},{axis[2]:+.2f})"
            f"  FE MPS95 {mps95:.3f}  DAMAGE {dmg:.3f}  {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
    ok = [r for r in rows if r["mps95"] is not None]
    print(
        f"{len(ok)} of {len(rows)} pulses solved; diverged at DAMAGE {[round(r['damage'], 3) for r in rows if r['mps95'] is None]}"
    )

    def write_out(pearson_r, slope):
        if args.out:
            with open(args.out, "w") as f:
                out = {"element_size_mm": args.element_size, "pearson_r": pearson_r, "slope": slope}
                json.dump({**out, "rows": rows}, f, indent=1)

    if len(ok) < 2:
        print("fewer than 2 pulses solved: no correlation to report")
        write_out(None, None)
        return 0
    x = np.array([r["damage"] for r in ok])
    y = np.array([r["mps95"] for r in ok])
    r = float(np.corrcoef(x, y)[0, 1])
    slope = float(np.sum(x * y) / np.sum(x * x))
    ratio = y / x
    order = np.argsort(np.abs(np.log(ratio)))[::-1][:5]
    print(
        f"Pearson r {r:.3f}; slope of FE MPS95 on DAMAGE (through 0) {slope:.3f}; ratio median {np.median(ratio):.3f}"
    )
    y_log = 0.5 * np.log1p(2.0 * y)
    print(
        f"as logarithmic strain: Pearson r {np.corrcoef(x, y_log)[0, 1]:.3f}; slope "
        f"{np.sum(x * y_log) / np.sum(x * x):.3f}; ratio median {np.median(y_log / x):.3f}"
    )
    print("largest disagreements (FE MPS95 / DAMAGE):")
    for k in order:
        rr = ok[k]
        print(
            f"  {rr['peak_rad_s2']:6.0f} rad/s^2 {rr['duration_ms']:5.1f} ms axis {np.round(rr['axis'], 2)}: {ratio[k]:.2f}"
        )
    write_out(r, slope)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
