"""Benchmark: fiber strain profiles of one impact on every 2 mm default-brain voxel.

Default: the real reduced head model. One synthetic impact (half-sine angular acceleration pulse,
4 krad/s^2, 10 ms, about a tilted head-frame axis, 100 ms at 1 kHz) -> `strain_history` of
`ReducedHeadModel` on all default-brain voxels -> projection on the default fiber field ->
profiles. With `--synthetic-strain`, the old stand-in field E(x, t) = a(t) S(x) (a smooth pulse
of peak 0.08 times a position-dependent symmetric tensor, T samples over 50 ms) replaces the head
model.

Measures, chunk by chunk (`--chunk-voxels`, so memory stays bounded):
(1) strain + projection, jitted, on the device: a first pass (includes compilation) and a warm
    pass;
(2) `build_profiles` end to end into a temporary store (strain, checks, projection, writes);
(3) the store write alone: the same chunks written again into a fresh store (.npy + fsync).
Prints the voxel count, times, peak RSS (resource.getrusage) and tracemalloc peak (Python/NumPy
allocations only; JAX buffers are not traced), the 5/50/95th percentiles of the per-voxel peak
fiber strain, then one JSON line last.

    python benchmarks/bench_fiberstrain.py [--chunk-voxels 8192] [--synthetic-strain [--n-time 100]]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from axojax.brain import default_brain
from axojax.fiberstrain import ProfileDataset, build_profiles, project_strain_weighted
from axojax.headmodel import ReducedHeadModel, damage, strain_history
from axojax.kinematics import half_sine_pulse

PULSE_RAD_S2 = 4000.0
PULSE_MS = 10.0
AXIS_HEAD = (0.3, 0.8, 0.5)  # head frame (x anterior, y right, z inferior); normalised by the pulse


def make_synthetic_strain_fn(t_s: np.ndarray):
    pulse = jnp.asarray(0.08 * np.sin(np.pi * t_s / t_s[-1]) ** 2, dtype=jnp.float32)

    @jax.jit
    def strain_fn(impact, coords_mm):
        x, y, z = coords_mm[:, 0] / 70.0, coords_mm[:, 1] / 90.0, coords_mm[:, 2] / 70.0
        zero = jnp.zeros_like(x)
        s = jnp.stack(
            [
                jnp.stack([0.5 + 0.3 * x, 0.2 * y, zero], -1),
                jnp.stack([0.2 * y, 0.3 - 0.2 * z, 0.1 * x], -1),
                jnp.stack([zero, 0.1 * x, -0.4 + 0.1 * y], -1),
            ],
            -2,
        )
        return impact * pulse[None, :, None, None] * s[:, None, :, :]

    return strain_fn


def make_head_model_strain_fn(model: ReducedHeadModel):
    def strain_fn(impact, coords_mm):
        return strain_history(model, impact.t_s, impact.ang_acc_rad_s2, coords_mm)

    return strain_fn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk-voxels", type=int, default=8192)
    parser.add_argument(
        "--synthetic-strain",
        action="store_true",
        help="use the old synthetic strain field instead of the reduced head model",
    )
    parser.add_argument("--n-time", type=int, default=100, help="samples of the synthetic field (over 50 ms)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    brain = default_brain(2.0)
    t_load = time.perf_counter() - t0
    extra: dict[str, float] = {}
    if args.synthetic_strain:
        source = "synthetic"
        t_s = np.linspace(0.0, 0.05, args.n_time)
        strain_fn = make_synthetic_strain_fn(t_s)
        impact = jnp.float32(1.0)
    else:
        source = "reduced_head_model"
        model = ReducedHeadModel()
        impact = half_sine_pulse(PULSE_RAD_S2, PULSE_MS, AXIS_HEAD, dt_ms=1.0, window_ms=100.0)
        t_s = np.asarray(impact.t_s, dtype=np.float64)
        strain_fn = make_head_model_strain_fn(model)
        extra["damage"] = float(damage(model, impact))
    n_time = t_s.shape[0]
    coords = np.asarray(brain.coords_mm)
    dirs = np.asarray(brain.fiber_dir)
    weights = np.asarray(brain.fiber_weight)
    v, c = brain.n_voxels, args.chunk_voxels
    project = jax.jit(project_strain_weighted)

    tracemalloc.start()
    # (1) strain + projection, chunk by chunk; pass 0 includes compilation, pass 1 is warm
    t_pass = []
    for _ in range(2):
        t0 = time.perf_counter()
        for start in range(0, v, c):
            idx = np.minimum(np.arange(start, start + c), v - 1)
            strain = strain_fn(impact, jnp.asarray(coords[idx]))
            eps = project(
                strain, jnp.asarray(dirs[idx], strain.dtype), jnp.asarray(weights[idx], strain.dtype)
            )
            eps.block_until_ready()
        t_pass.append(time.perf_counter() - t0)
    t_first, t_warm = t_pass
    with tempfile.TemporaryDirectory() as tmp:
        # (2) the builder, end to end
        t0 = time.perf_counter()
        ds = build_profiles(
            strain_fn, {"impact_0": impact}, brain, Path(tmp) / "store", t_s=t_s, chunk_voxels=c
        )
        t_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        profiles = ds.read_impact(0)
        t_read = time.perf_counter() - t0
        store_mb = sum(ds.chunk_path(0, k).stat().st_size for k in range(ds.n_chunks)) / 2**20
        # (3) the write alone: the same chunks into a fresh store
        copy = ProfileDataset.create(
            Path(tmp) / "copy", t_s=t_s, coords_mm=coords, cube_id=np.asarray(brain.cube_id),
            impact_names=["impact_0"], chunk_voxels=c,
        )  # fmt: skip
        t_write = 0.0
        for k in range(ds.n_chunks):
            chunk = np.array(ds.read_chunk(0, k))
            t0 = time.perf_counter()
            copy.write_chunk(0, k, chunk)
            t_write += time.perf_counter() - t0
    _, peak_traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    peak_eps = profiles.max(axis=1)  # per-voxel peak over time of eps_f
    p5, p50, p95 = (float(x) for x in np.percentile(peak_eps, [5, 50, 95]))
    result = {
        "benchmark": "fiberstrain_one_impact",
        "strain_source": source,
        "n_voxels": v,
        "n_time": n_time,
        "chunk_voxels": c,
        "device": str(jax.devices()[0]),
        "dtype": str(strain.dtype),
        "brain_load_s": round(t_load, 3),
        "strain_project_first_s": round(t_first, 3),
        "strain_project_warm_s": round(t_warm, 3),
        "build_profiles_s": round(t_build, 3),
        "store_write_s": round(t_write, 3),
        "read_impact_s": round(t_read, 3),
        "store_mb": round(store_mb, 1),
        "peak_fiber_strain_p5": round(p5, 5),
        "peak_fiber_strain_p50": round(p50, 5),
        "peak_fiber_strain_p95": round(p95, 5),
        "peak_fiber_strain_max": round(float(peak_eps.max()), 5),
        "min_fiber_strain": round(float(profiles.min()), 5),
        "peak_traced_python_mb": round(peak_traced / 2**20, 1),
        "peak_rss_mb": round(rss_kb / 1024, 1),
        **{k: round(val, 4) for k, val in extra.items()},
    }
    if source == "synthetic":
        print("strain source          : synthetic field a(t) S(x)")
    else:
        print(
            f"strain source          : ReducedHeadModel, half-sine {PULSE_RAD_S2:g} rad/s^2, "
            f"{PULSE_MS:g} ms, head axis {AXIS_HEAD}, DAMAGE {extra['damage']:.3f}"
        )
    print(f"voxels x samples       : {v} x {n_time}, chunks of {c}, {strain.dtype}, {jax.devices()[0]}")
    print(f"load default brain     : {t_load:.2f} s")
    print(f"strain + projection    : {t_warm:.3f} s warm ({t_first:.3f} s first pass, with compile)")
    print(f"build_profiles (all)   : {t_build:.3f} s")
    print(f"store write alone      : {t_write:.3f} s ({store_mb:.1f} MB on disk)")
    print(f"read one impact        : {t_read:.3f} s")
    traced_mb = peak_traced / 2**20
    print(f"peak memory            : RSS {rss_kb / 1024:.0f} MB, tracemalloc {traced_mb:.1f} MB")
    print(
        f"peak eps_f per voxel   : p5 {p5:.4f}, p50 {p50:.4f}, p95 {p95:.4f}, "
        f"max {peak_eps.max():.4f} (min eps_f {profiles.min():.4f})"
    )
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
