"""Benchmark: peak memory of a study streamed through the chunked profile store.

Default brain at 2 mm (`axojax.brain.default_brain()`, 92,439 voxels), `--impacts` synthetic impacts
(`synthetic_impacts`, 100 ms at 1 kHz), `ReducedHeadModel` + `strain_history` -> `build_profiles`
into a temporary store (chunks of `--chunk-voxels`), then streamed back one impact at a time
(`read_impact`, V x T float32) through `predict` of an untrained default-size `SurrogateCNN` (the
whole-brain inference path; `--no-predict` only reads).

Reports the peak resident set size (getrusage ru_maxrss) and the current RSS (/proc/self/status)
after each stage and impact, next to the size the whole study would take in memory
(n_impacts x V x T x 4 bytes): with streaming the peak does not grow with the number of impacts.
One JSON line last.

    python benchmarks/bench_memory.py [--impacts 10] [--chunk-voxels 8192] [--no-predict]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import jax
import numpy as np
from flax import nnx

from axojax import parallel
from axojax.brain import default_brain
from axojax.fiberstrain import build_profiles
from axojax.headmodel import ReducedHeadModel, strain_history
from axojax.kinematics import synthetic_impacts
from axojax.surrogate import SurrogateCNN, SurrogateConfig, predict


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--impacts", type=int, default=10)
    ap.add_argument("--chunk-voxels", type=int, default=8192)
    ap.add_argument("--no-predict", action="store_true")
    args = ap.parse_args()

    stages: dict[str, dict[str, float]] = {}

    def mark(name: str, **extra: float) -> None:
        stages[name] = dict(peak_rss_mb=round(peak_rss_mb(), 1), rss_mb=round(current_rss_mb(), 1), **extra)
        print(
            f"{name:24s} peak RSS {stages[name]['peak_rss_mb']:8.1f} MB, now {stages[name]['rss_mb']:8.1f} MB"
        )

    mark("start")
    brain = default_brain(2.0)
    batch = synthetic_impacts(jax.random.PRNGKey(0), args.impacts)
    impacts = {
        f"impact_{i:02d}": jax.tree_util.tree_map(lambda a, i=i: a[i], batch) for i in range(args.impacts)
    }
    t_s = np.asarray(batch.t_s[0])
    model = ReducedHeadModel()

    def strain_fn(impact, coords_mm):
        return strain_history(model, impact.t_s, impact.ang_acc_rad_s2, coords_mm)

    cnn = SurrogateCNN(SurrogateConfig(n_time=t_s.shape[0], dt_s=float(t_s[1] - t_s[0])), rngs=nnx.Rngs(0))
    mark("loaded")
    v, t = brain.n_voxels, t_s.shape[0]
    whole_mb = args.impacts * v * t * 4 / 2**20
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ds = build_profiles(
            strain_fn, impacts, brain, Path(tmp) / "store", t_s=t_s, chunk_voxels=args.chunk_voxels
        )
        t_build = time.perf_counter() - t0
        store_mb = sum(p.stat().st_size for p in Path(tmp, "store").glob("impact*.npy")) / 2**20
        mark("built", seconds=round(t_build, 2))
        t0 = time.perf_counter()
        peak_strain = []
        for i in range(ds.shape[0]):
            profiles = ds.read_impact(i)  # (V, T) float32: one impact in memory at a time
            peak_strain.append(float(np.max(profiles)))
            if not args.no_predict:
                np.asarray(predict(cnn, profiles, check=False))
            mark(f"streamed {ds.impact_names[i]}")
        t_stream = time.perf_counter() - t0
    result = dict(
        benchmark="memory",
        n_impacts=args.impacts,
        n_voxels=v,
        n_time=t,
        chunk_voxels=args.chunk_voxels,
        devices=parallel.local_device_count(),
        device=str(jax.devices()[0]),
        predict=not args.no_predict,
        whole_study_in_memory_mb=round(whole_mb, 1),
        store_mb=round(store_mb, 1),
        build_s=round(t_build, 2),
        stream_s=round(t_stream, 2),
        max_peak_fiber_strain=round(max(peak_strain), 5),
        peak_rss_mb=round(peak_rss_mb(), 1),
        stages=stages,
    )
    print(
        f"{args.impacts} impacts x {v} voxels x {t} samples: whole study {whole_mb:.0f} MB in memory, "
        f"store {store_mb:.0f} MB on disk; build {t_build:.1f} s, stream {t_stream:.1f} s; "
        f"peak RSS {result['peak_rss_mb']:.0f} MB"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
