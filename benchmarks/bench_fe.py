"""Benchmark of the FE brain (`axojax.headmodel.FEHeadModel`): absolute figures and ratios from one run.

Prints, for one element size (default 4 mm, the MNI mesh):
- mesh build time, node / element counts, the explicit step for the default bulk modulus and for
  K = 2,190 MPa (their ratio is the speed-up the bulk-modulus study buys);
- one 100 ms impact at 1 ms sampling (float32): compile time, warm wall time, time per explicit step,
  peak resident memory of the process;
- a vmapped batch of impacts: wall time per impact against the single solve;
- the internal-force kernel (displacement gradient + assembly) on the dense grid (array shifts, as the
  solver does it) against the same operator by gather over an element list and `jax.ops.segment_sum`.

    python benchmarks/bench_fe.py                    # 4 mm, CPU
    python benchmarks/bench_fe.py --element-size 2 --batch 4   # the accelerator run (2 mm, H-class GPU)
"""

from __future__ import annotations

import argparse
import resource
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from axojax.headmodel import FEHeadModel, FEMaterial
from axojax.headmodel import _fe_solver as fe
from axojax.headmodel.mesh import mni_head_mesh
from axojax.kinematics import half_sine_pulse


def _timed(fn, *args, repeat=1):
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(repeat):
        out = jax.block_until_ready(fn(*args))
    return first, (time.perf_counter() - t0) / repeat, out


def _kernel_ratio(mesh, repeat=50):
    """Dense-grid gradient + assembly vs gather/segment_sum over the deformable elements."""
    h = mesh.element_size_mm
    lab = np.asarray(mesh.labels)
    node_shape = tuple(s + 1 for s in lab.shape)
    u = jax.random.normal(jax.random.PRNGKey(0), (3, *node_shape), jnp.float32)

    @jax.jit
    def dense(u):
        grad, q = fe.element_gradients(u, h)
        return fe.nodal_forces(grad, q, node_shape, h)

    cells = np.argwhere(np.isin(lab, fe.DEFORMABLE_LABELS))
    corners = cells[:, None, :] + fe.CORNERS[None]
    flat = jnp.asarray(
        np.ravel_multi_index(tuple(np.moveaxis(corners, -1, 0)), node_shape), jnp.int32
    )  # (E, 8)
    signs = jnp.asarray(2.0 * fe.CORNERS - 1.0, jnp.float32)
    gam = jnp.asarray(fe.HOURGLASS_BASE, jnp.float32)
    n_nodes = int(np.prod(node_shape))

    @jax.jit
    def gathered(u):
        uf = u.reshape(3, -1)
        c = uf[:, flat]  # (3, E, 8)
        grad = jnp.einsum("iea,aj->ije", c, signs) / (4 * h)
        q = jnp.einsum("iea,ma->mie", c, gam)
        fa = jnp.einsum("ije,aj->iea", grad, signs) / (4 * h) + jnp.einsum("mie,ma->iea", q, gam)
        out = jax.vmap(lambda x: jax.ops.segment_sum(x.reshape(-1), flat.reshape(-1), n_nodes))(fa)
        return out.reshape(3, *node_shape)

    _, t_dense, _ = _timed(dense, u, repeat=repeat)
    _, t_gather, _ = _timed(gathered, u, repeat=repeat)
    return t_dense, t_gather


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--element-size", type=float, default=4.0)
    p.add_argument("--window-ms", type=float, default=100.0)
    p.add_argument("--batch", type=int, default=2)
    args = p.parse_args(argv)
    print(f"devices: {jax.devices()}")
    t0 = time.perf_counter()
    mesh = mni_head_mesh(args.element_size)
    t_mesh = time.perf_counter() - t0
    counts = mesh.counts()
    print(f"mesh {args.element_size:g} mm: grid {mesh.grid_shape}, {counts} (built in {t_mesh:.1f} s)")
    # allow_inverted: the cost is the same (the corner Jacobians are computed either way); the 4 mm mesh
    # inverts 1-3 surface elements transiently on this pulse (docs/fe.md), which would stop the solve
    model = FEHeadModel(mesh, allow_inverted=True)
    stiff = FEHeadModel(mesh, FEMaterial(bulk_modulus_mpa=2190.0))
    print(
        f"explicit step: K = {float(model.material.bulk_modulus_mpa):g} MPa {model.time_step_s * 1e6:.2f} us "
        f"({model.substeps} per ms), K = 2,190 MPa {stiff.time_step_s * 1e6:.2f} us "
        f"(ratio {model.time_step_s / stiff.time_step_s:.1f}x)"
    )
    # DAMAGE ~0.2; the cost does not depend on the pulse
    imp = half_sine_pulse(3000.0, 10.0, (0.3, 1.0, 0.2), window_ms=args.window_ms)
    t = jnp.asarray(imp.t_s, jnp.float32)
    a = jnp.asarray(imp.ang_acc_rad_s2, jnp.float32)
    motion = eqx.filter_jit(model.motion)
    first, warm, _ = _timed(motion, t, a)
    steps = (t.shape[0] - 1) * model.substeps
    print(
        f"one {args.window_ms:g} ms impact: compile+run {first:.1f} s, warm {warm:.2f} s, "
        f"{steps} steps, {1e3 * warm / steps:.2f} ms/step"
    )
    acc = jnp.stack([a * (0.5 + 0.5 * k) for k in range(args.batch)])
    batched = eqx.filter_jit(lambda m, t, a: jax.vmap(m.motion, in_axes=(None, 0))(t, a))
    _, warm_b, _ = _timed(batched, model, t, acc)
    print(
        f"vmapped batch of {args.batch}: {warm_b:.2f} s, {warm_b / args.batch:.2f} s per impact "
        f"(single {warm:.2f} s; ratio {warm / (warm_b / args.batch):.2f}x)"
    )
    t_dense, t_gather = _kernel_ratio(mesh)
    print(
        f"gradient + assembly kernel: dense grid {1e3 * t_dense:.2f} ms, gather/segment_sum "
        f"{1e3 * t_gather:.2f} ms (dense {t_gather / t_dense:.1f}x faster)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"peak resident memory of the process: {peak:.2f} GB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
