"""Benchmark: fiber strain profiles of one impact on every 2 mm default-brain voxel.

Synthetic head model: E(x, t) = a(t) S(x), a smooth pulse a(t) (peak 0.08) times a symmetric
tensor field S that varies with position, T = 100 samples over 50 ms. Measures (1) the jitted
projection alone, chunk by chunk, and (2) `build_profiles` into a temporary store (strain
evaluation, checks, projection, atomic .npy writes). Prints times and peak memory, then one JSON
line last.

    python benchmarks/bench_fiberstrain.py [--chunk-voxels 8192] [--n-time 100]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import tracemalloc

import jax
import jax.numpy as jnp
import numpy as np

from axojax.brain import default_brain
from axojax.fiberstrain import build_profiles, project_strain_weighted


def make_strain_fn(t_s: np.ndarray):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk-voxels", type=int, default=8192)
    parser.add_argument("--n-time", type=int, default=100)
    args = parser.parse_args()

    t0 = time.perf_counter()
    brain = default_brain(2.0)
    t_load = time.perf_counter() - t0
    t_s = np.linspace(0.0, 0.05, args.n_time)
    strain_fn = make_strain_fn(t_s)
    coords = brain.coords_mm
    v, c = brain.n_voxels, args.chunk_voxels
    project = jax.jit(project_strain_weighted)

    tracemalloc.start()
    # (1) projection alone, chunk by chunk (first chunk includes compilation; time the second pass)
    for rep in range(2):
        t0 = time.perf_counter()
        peak_eps = 0.0
        for start in range(0, v, c):
            idx = np.minimum(np.arange(start, start + c), v - 1)
            strain = strain_fn(jnp.float32(1.0), coords[idx])
            eps = project(strain, brain.fiber_dir[idx], brain.fiber_weight[idx])
            peak_eps = max(peak_eps, float(jnp.max(eps)))
        t_project = time.perf_counter() - t0
    # (2) the builder, writing a store
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ds = build_profiles(
            strain_fn, {"impact_0": jnp.float32(1.0)}, brain, tmp, t_s=t_s, chunk_voxels=c
        )
        t_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        profiles = ds.read_impact(0)
        t_read = time.perf_counter() - t0
        store_mb = sum(ds.chunk_path(0, k).stat().st_size for k in range(ds.n_chunks)) / 2**20
    _, peak_traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    result = {
        "benchmark": "fiberstrain_one_impact",
        "n_voxels": v,
        "n_time": args.n_time,
        "chunk_voxels": c,
        "device": str(jax.devices()[0]),
        "brain_load_s": round(t_load, 3),
        "project_s": round(t_project, 3),
        "build_profiles_s": round(t_build, 3),
        "read_impact_s": round(t_read, 3),
        "store_mb": round(store_mb, 1),
        "peak_fiber_strain": round(float(profiles.max()), 5),
        "peak_traced_python_mb": round(peak_traced / 2**20, 1),
        "peak_rss_mb": round(rss_kb / 1024, 1),
    }
    print(f"voxels x samples      : {v} x {args.n_time}, chunks of {c}")
    print(f"load default brain    : {t_load:.2f} s")
    print(f"projection (warm)     : {t_project:.3f} s")
    print(f"build_profiles + write: {t_build:.3f} s ({store_mb:.1f} MB on disk)")
    print(f"read one impact       : {t_read:.3f} s")
    traced_mb = peak_traced / 2**20
    print(f"peak memory           : RSS {rss_kb / 1024:.0f} MB, traced Python {traced_mb:.1f} MB")
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
