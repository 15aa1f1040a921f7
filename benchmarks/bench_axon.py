"""Axon model throughput: 1024 random 100 ms profiles at 1 kHz on this machine, float32, vs the
independent SciPy reference (solve_ivp/LSODA on the same equations) in the same run.

    python benchmarks/bench_axon.py [--batch 1024] [--n-scipy 8]

Prints absolute figures and the ratio, then a JSON line last.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_axon import Reference  # noqa: E402

from axojax.axon import AxonParams, simulate  # noqa: E402


def random_profiles(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n sin^2 pulses: peak 1-15 %, duration 5-40 ms, onset 0-40 ms, on 100 ms at 1 kHz."""
    t = np.arange(100) * 1e-3
    rng = np.random.default_rng(seed)
    amp = rng.uniform(0.01, 0.15, n)
    dur = rng.uniform(0.005, 0.04, n)
    t0 = rng.uniform(0.0, 0.04, n)
    e = amp[:, None] * np.sin(np.pi * np.clip((t[None] - t0[:, None]) / dur[:, None], 0, 1)) ** 2
    return t, e.astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--n-scipy", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    t, e = random_profiles(args.batch)
    start = time.perf_counter()
    res = simulate(t, e)
    jax.block_until_ready(res.peak_mt_strain)
    compile_s = time.perf_counter() - start
    runs = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        res = simulate(t, e)
        jax.block_until_ready(res.peak_mt_strain)
        runs.append(time.perf_counter() - start)
    ours_s = min(runs)
    ours_per_sim = ours_s / args.batch
    ref = Reference(AxonParams.male())
    start = time.perf_counter()
    ref_out = np.stack(
        [ref.simulate(t, e[k].astype(float), rtol=1e-3, atol=1e-5) for k in range(args.n_scipy)]
    )
    scipy_per_sim = (time.perf_counter() - start) / args.n_scipy
    ours_out = np.asarray(res.as_array())[: args.n_scipy]
    scale = np.maximum(np.abs(ref_out), 0.01 * np.abs(ref_out).max(0) + 1e-12)
    result = {
        "device": jax.devices()[0].device_kind,
        "cpu_count": os.cpu_count(),
        "batch": args.batch,
        "dtype": "float32",
        "compile_plus_first_run_s": round(compile_s, 2),
        "batch_s": round(ours_s, 3),
        "sims_per_s": round(args.batch / ours_s, 1),
        "scipy_s_per_sim": round(scipy_per_sim, 4),
        "speedup_per_sim_vs_scipy": round(scipy_per_sim / ours_per_sim, 1),
        "max_rel_diff_vs_scipy_same_rtol": float(np.max(np.abs(ours_out - ref_out) / scale)),
        "failed_solves": int(np.size(res.success) - np.count_nonzero(np.asarray(res.success))),
    }
    print(
        f"axojax axon: {result['sims_per_s']} sims/s ({ours_s:.2f} s per {args.batch}, float32, "
        f"{result['device']}); compile+first {compile_s:.1f} s"
    )
    print(
        f"SciPy LSODA reference (rtol 1e-3): {scipy_per_sim * 1e3:.1f} ms/sim -> ratio "
        f"{result['speedup_per_sim_vs_scipy']}x"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
