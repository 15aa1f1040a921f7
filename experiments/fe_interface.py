"""The brain-skull interface of the FE brain: ring frequency and strain vs subarachnoid layer (docs/fe.md).

The subarachnoid layer (label 5) is meshed as whole element layers; its shear modulus is scaled by the
meshed over the physical thickness (`VoxelMesh.sas_stiffness_scale`) so that the layer's tangential
stiffness per area is that of the physical layer at any element size. For each (element size, physical
thickness) this prints

- the brain's rigid rotation ring frequency about the vertical axis: after a 2 ms, 1 krad/s^2 pulse
  about z, the mass-weighted mean rotation of the brain (GM + WM nodes) relative to the skull,
  theta(t) = sum m (r x u).z / sum m r_perp^2, and the frequency of its oscillation (zero crossings of
  theta - its mean over the record) -- to compare with the 15-30 Hz brain-skull resonance of SCIENCE.md §5;
- for a 4 krad/s^2 (`--peak`), 10 ms half-sine about z (DAMAGE 0.320) over 60 ms: MPS95 of the GM + WM
  elements as
  Green-Lagrange and as logarithmic strain (0.5 ln(1 + 2 E1), the same percentile), the largest
  brain-skull displacement and (`--fiber`) the p95 of the peak |fiber strain| over the 2 mm WM voxels;
- whether the most severe pulse of the validation set (7.8 krad/s^2, 12.3 ms, DAMAGE 0.748) solves.

    python experiments/fe_interface.py --element-size 6 --sas-mm 6 3 1.5
    python experiments/fe_interface.py --element-size 6 4 3 --sas-mm 3 --peak 3000 --no-ring --no-severe --fiber
    python experiments/fe_interface.py --element-size 6 4 3 --sas-mm 3 --peak 3000 --no-ring --no-severe \
        --fiber --csf-shear-kpa 0.5 5 --sas-shear-kpa 0.5 2 5
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import equinox as eqx
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fe_figures import strain_maps_from_motion  # noqa: E402
from fe_validation import element_mps95, random_pulses  # noqa: E402

from axojax.brain import default_brain  # noqa: E402

from axojax.headmodel import FEHeadModel, FEMaterial, ReducedHeadModel, damage  # noqa: E402
from axojax.headmodel import _fe_solver as fe  # noqa: E402
from axojax.headmodel.mesh import mni_head_mesh  # noqa: E402
from axojax.kinematics import half_sine_pulse  # noqa: E402


def ring_frequency(model: FEHeadModel, record_ms: float = 200.0) -> tuple[float, np.ndarray]:
    """(frequency [Hz], theta(t) [rad]) of the brain's rigid rotation about z after a short pulse."""
    imp = half_sine_pulse(1000.0, 2.0, (0.0, 0.0, 1.0), window_ms=record_ms)
    u = np.asarray(
        eqx.filter_jit(model.motion)(
            jnp.asarray(imp.t_s, jnp.float32), jnp.asarray(imp.ang_acc_rad_s2, jnp.float32)
        )
    )
    mesh = model.mesh
    lab = np.asarray(mesh.labels)
    brain = np.zeros(tuple(s + 1 for s in lab.shape))
    for ax, ay, az in fe.CORNERS:
        brain[ax : ax + lab.shape[0], ay : ay + lab.shape[1], az : az + lab.shape[2]] += (lab == 2) | (
            lab == 3
        )
    node_shape = brain.shape
    x = (
        np.asarray(fe.node_positions(node_shape, mesh.origin_mm, mesh.element_size_mm))
        - np.asarray(model.centre_mm)[:, None, None, None]
    )
    axis = np.asarray(model.head_to_ras) @ np.array([0.0, 0.0, 1.0])  # head z in RAS
    w = brain.reshape(-1)
    xr = x.reshape(3, -1)
    rperp2 = np.sum(xr**2, axis=0) - (axis @ xr) ** 2
    ur = u.reshape(u.shape[0], 3, -1)
    torque_arm = np.einsum("i,ijk->jk", axis, np.cross(xr[:, None, :], ur.transpose(1, 0, 2), axis=0))
    theta = (torque_arm * w[None]).sum(axis=1) / np.sum(w * rperp2)  # (time,)
    tail = theta[5:] - theta[5:].mean()
    s = np.sign(tail)
    crossings = np.nonzero(s[1:] * s[:-1] < 0)[0]
    if crossings.size < 3:
        return float("nan"), theta
    period_ms = 2.0 * np.mean(np.diff(crossings)) * 1.0  # samples are 1 ms apart
    return 1e3 / period_ms, theta


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--element-size", type=float, nargs="+", default=[6.0])
    p.add_argument("--sas-mm", type=float, nargs="+", default=[6.0, 3.0, 1.5])
    p.add_argument("--peak", type=float, default=4000.0, help="the moderate pulse's peak [rad/s^2]")
    p.add_argument("--no-severe", action="store_true")
    p.add_argument("--no-ring", action="store_true")
    p.add_argument("--fiber", action="store_true", help="also the fiber-strain p95 over the 2 mm WM voxels")
    p.add_argument("--csf-shear-kpa", type=float, nargs="+", default=[0.5], help="FEMaterial.csf_shear_kpa")
    p.add_argument(
        "--sas-shear-kpa",
        type=float,
        nargs="+",
        default=[None],
        help="FEMaterial.sas_shear_kpa (default: the same as --csf-shear-kpa)",
    )
    p.add_argument(
        "--allow-inverted",
        action="store_true",
        help="FEHeadModel(allow_inverted=True): finish solves whose elements invert (default: stop)",
    )
    args = p.parse_args(argv)
    reduced = ReducedHeadModel()
    brain = default_brain(2.0) if args.fiber else None
    moderate = half_sine_pulse(args.peak, 10.0, (0.0, 0.0, 1.0), window_ms=60.0)
    severe = half_sine_pulse(*random_pulses(40, 0)[0], window_ms=60.0)
    grid = itertools.product(args.element_size, args.sas_mm, args.csf_shear_kpa, args.sas_shear_kpa)
    meshes = {}  # one mesh per (element size, layer thickness), shared by the shear moduli
    for h, t_sas, g_csf, g_sas in grid:
        t0 = time.perf_counter()
        g_sas = g_csf if g_sas is None else g_sas
        if (h, t_sas) not in meshes:
            meshes[(h, t_sas)] = mni_head_mesh(h, csf_shell_mm=t_sas)
        mesh = meshes[(h, t_sas)]
        model = FEHeadModel(
            mesh, FEMaterial(csf_shear_kpa=g_csf, sas_shear_kpa=g_sas), allow_inverted=args.allow_inverted
        )
        f_ring = float("nan") if args.no_ring else ring_frequency(model)[0]
        t = jnp.asarray(moderate.t_s, jnp.float32)
        a = jnp.asarray(moderate.ang_acc_rad_s2, jnp.float32)
        line = (
            f"h {h:g} mm  SAS {t_sas:g} mm  G_CSF {g_csf:g} kPa  G_SAS {g_sas:g} kPa  ring {f_ring:5.1f} Hz  "
            f"moderate (DAMAGE {float(damage(reduced, t, a)):.3f}): "
        )
        try:
            u = eqx.filter_jit(model.motion)(t, a)
            gl = element_mps95(model, u)
            log = 0.5 * np.log1p(2.0 * gl)
            disp = float(jnp.max(jnp.linalg.norm(u, axis=1)))
            line += f"MPS95 GL {gl:.3f} log {log:.3f}, max disp {disp:.1f} mm"
            if brain is not None:
                fib = strain_maps_from_motion(model, brain, u)[1]
                line += f", fiber p95 {np.percentile(fib, 95):.3f}"
        except Exception as err:  # the solve reports divergence (never a silent NaN)
            if "diverged" not in str(err):
                raise
            line += "diverged"
        if not args.no_severe:
            try:
                us = eqx.filter_jit(model.motion)(
                    jnp.asarray(severe.t_s, jnp.float32), jnp.asarray(severe.ang_acc_rad_s2, jnp.float32)
                )
                line += f"; severe: MPS95 GL {element_mps95(model, us):.3f}"
            except Exception as err:  # the solve reports divergence (never a silent NaN)
                if "diverged" not in str(err):
                    raise
                line += "; severe: diverged"
        print(line + f"  [{time.perf_counter() - t0:.0f} s]", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
