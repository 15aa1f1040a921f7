"""Benchmark: the three batch workloads sharded over 1 and D devices, throughput per device and scaling.

Runs itself once per device count in a subprocess (`XLA_FLAGS=--xla_force_host_platform_device_count=D`
on CPU; on a GPU machine the visible GPUs are used and `--devices` is ignored by XLA), each child
measuring, after a warm-up call that compiles, the fastest of `--repeat` runs:

- campaign: `run_campaign` over N axon profiles (100 ms at 1 kHz, sin^2 pulses 1-15 %, float32),
  chunks of `--chunk` profiles split over the devices -> axon sims/s;
- fiber strain: `build_profiles` of one synthetic impact on every default-brain voxel (2 mm,
  `ReducedHeadModel` + `strain_history`, chunks of 8192 voxels) -> voxels/s;
- inference: `predict` of an untrained default-size `SurrogateCNN` (T = 100) on N profiles,
  batch 4096 -> profiles/s.

Prints per device count: devices, wall times, throughput and throughput per device; then the
scaling efficiency E_D = throughput_D / (D x throughput_1) per workload, and one JSON line last.
On a CPU, forced host devices share the machine's cores: E_D measures the overhead of sharding
on those cores, not what D real accelerators would give.

    python benchmarks/bench_parallel.py [--devices 1 2 4] [--n-axon 512] [--chunk 64] [--n-infer 32768]
    python benchmarks/bench_parallel.py --child [...]   # one measurement on the visible devices
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def random_profiles(n: int, seed: int = 0):
    """n sin^2 pulses: peak 1-15 %, duration 5-40 ms, onset 0-40 ms, on 100 ms at 1 kHz (float32)."""
    import numpy as np

    t = np.arange(100) * 1e-3
    rng = np.random.default_rng(seed)
    amp = rng.uniform(0.01, 0.15, n)
    dur = rng.uniform(0.005, 0.04, n)
    t0 = rng.uniform(0.0, 0.04, n)
    e = amp[:, None] * np.sin(np.pi * np.clip((t[None] - t0[:, None]) / dur[:, None], 0, 1)) ** 2
    return t, e.astype(np.float32)


def _best_of(repeat: int, fn):
    """(last result, shortest wall time [s]) of `repeat` calls fn(k), k = 0..repeat-1."""
    best = float("inf")
    for k in range(repeat):
        t0 = time.perf_counter()
        out = fn(k)
        best = min(best, time.perf_counter() - t0)
    return out, best


def child(args: argparse.Namespace) -> dict:
    import jax
    import numpy as np
    from flax import nnx

    from axojax import parallel
    from axojax.brain import default_brain
    from axojax.campaign import run_campaign
    from axojax.fiberstrain import build_profiles
    from axojax.headmodel import ReducedHeadModel, strain_history
    from axojax.kinematics import half_sine_pulse
    from axojax.surrogate import SurrogateCNN, SurrogateConfig, predict

    d = parallel.local_device_count()
    out: dict = dict(devices=d, platform=jax.devices()[0].platform, device_kind=jax.devices()[0].device_kind)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # campaign
        t, prof = random_profiles(args.n_axon)
        run_campaign(t, prof[: args.chunk], tmp / "warm", chunk_size=args.chunk, progress=False)
        res, dt = _best_of(
            args.repeat,
            lambda k: run_campaign(t, prof, tmp / f"campaign{k}", chunk_size=args.chunk, progress=False),
        )
        out["campaign"] = dict(
            n=args.n_axon,
            chunk=args.chunk,
            wall_s=dt,
            per_s=args.n_axon / dt,
            n_failed=int((~res.success).sum()),
        )
        # fiber strain
        brain = default_brain(2.0)
        model = ReducedHeadModel()
        impact = half_sine_pulse(4000.0, 10.0, (0.3, 0.8, 0.5), dt_ms=1.0, window_ms=100.0)

        def strain_fn(imp, coords_mm):
            return strain_history(model, imp.t_s, imp.ang_acc_rad_s2, coords_mm)

        t_s = np.asarray(impact.t_s)
        build_profiles(strain_fn, {"warm": impact}, brain, tmp / "warm_store", t_s=t_s)
        _, dt = _best_of(
            args.repeat,
            lambda k: build_profiles(strain_fn, {"impact": impact}, brain, tmp / f"store{k}", t_s=t_s),
        )
        out["fiber_strain"] = dict(n=brain.n_voxels, wall_s=dt, per_s=brain.n_voxels / dt)
        # inference
        cnn = SurrogateCNN(SurrogateConfig(n_time=100, dt_s=1e-3), rngs=nnx.Rngs(0))
        _, x = random_profiles(args.n_infer, seed=1)
        predict(cnn, x[:4096]).block_until_ready()
        _, dt = _best_of(args.repeat, lambda k: predict(cnn, x).block_until_ready())
        out["inference"] = dict(n=args.n_infer, wall_s=dt, per_s=args.n_infer / dt)
    for k in ("campaign", "fiber_strain", "inference"):
        out[k]["per_s_per_device"] = out[k]["per_s"] / d
    return out


UNITS = dict(campaign="axon sims/s", fiber_strain="voxels/s", inference="profiles/s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--n-axon", type=int, default=512)
    ap.add_argument("--chunk", type=int, default=64)
    ap.add_argument("--n-infer", type=int, default=32768)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per workload; the fastest counts")
    ap.add_argument("--child", action="store_true")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    runs = {}
    for d in args.devices:
        env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={d}"}
        cmd = [sys.executable, __file__, "--child", "--n-axon", str(args.n_axon), "--chunk", str(args.chunk)]
        cmd += ["--n-infer", str(args.n_infer), "--repeat", str(args.repeat)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode:
            sys.exit(f"child with {d} device(s) failed:\n{proc.stderr[-4000:]}")
        runs[d] = json.loads(proc.stdout.strip().splitlines()[-1])
        r = runs[d]
        print(f"{r['devices']} {r['platform']} device(s) ({r['device_kind']}), {os.cpu_count()} CPU cores:")
        for k, unit in UNITS.items():
            w = r[k]
            print(
                f"  {k:13s}: {w['n']:6d} in {w['wall_s']:7.2f} s -> {w['per_s']:9.1f} {unit}, "
                f"{w['per_s_per_device']:9.1f} per device"
            )
    base = min(runs)
    efficiency = {
        d: {k: runs[d][k]["per_s"] / (runs[base][k]["per_s"] * d / base) for k in UNITS}
        for d in runs
        if d != base
    }
    for d, eff in efficiency.items():
        print(
            f"scaling efficiency {base} -> {d} devices: " + ", ".join(f"{k} {v:.2f}" for k, v in eff.items())
        )
    print(json.dumps(dict(benchmark="parallel", cpu_count=os.cpu_count(), runs=runs, efficiency=efficiency)))


if __name__ == "__main__":
    main()
