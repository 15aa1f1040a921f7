"""Benchmark: stratified + adaptive sampling of a synthetic pool of fiber strain profiles.

Synthetic pool: `--impacts` impacts (default 45) x `--cubes` 6 mm cubes (5,000) x
`--voxels-per-cube` voxels (8) x `--n-time` samples (100, 1 ms). Each cube has a random smooth
pulse per impact (amplitude 0.5-10 % signed, onset, width 3-15 ms, biphasic second lobe); its
voxels carry that pulse scaled by 0.7-1.0 plus a small smooth perturbation.

Measures, on whatever JAX device is default:
(1) stratify: per impact, generate its voxel profiles on the device (not timed) and stratify
    them (timed; first impact includes compilation, reported separately);
(2) threshold search (`threshold_for_n`) to N = `--n` (2,000) kept, +-1 %, with "nrmse"
    (first call: includes compilation; second call: warm), with the number of greedy passes;
(3) one `select_adaptive` pass at the threshold found, warm;
(4) with `--xcorr`: the same search and pass with the "xcorr" measure (max lag 5 samples);
(5) the worst-case set (75) of one extra held-out impact, and the coverage report of the
    "nrmse" selection vs. the pool.
Prints absolute times, then one JSON line last.

    python benchmarks/bench_sampling.py [--impacts 45] [--cubes 5000] [--n 2000] [--xcorr]
"""

from __future__ import annotations

import argparse
import json
import time
from unittest import mock

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from axojax.sampling import (
    _adaptive,
    coverage_report,
    select_adaptive,
    stratify,
    threshold_for_n,
    worst_case_set,
)


def impact_profiles(key, n_cubes: int, per_cube: int, n_time: int):
    """(n_cubes * per_cube, T) float32 voxel profiles of one impact, and their cube ids."""
    t = jnp.arange(n_time, dtype=jnp.float32) * 1e-3
    k = jr.split(key, 7)
    amp = jr.uniform(k[0], (n_cubes, 1), minval=0.005, maxval=0.1)
    amp = amp * jnp.where(jr.bernoulli(k[1], 0.8, (n_cubes, 1)), 1.0, -1.0)
    onset = jr.uniform(k[2], (n_cubes, 1), minval=0.005, maxval=0.05)
    width = jr.uniform(k[3], (n_cubes, 1), minval=0.003, maxval=0.015)
    bi = jr.uniform(k[4], (n_cubes, 1), maxval=0.7)
    g1 = jnp.exp(-0.5 * ((t - onset) / width) ** 2)
    g2 = jnp.exp(-0.5 * ((t - onset - 2.0 * width) / (1.5 * width)) ** 2)
    base = amp * (g1 - bi * g2)  # (cubes, T)
    scale = jr.uniform(k[5], (n_cubes, per_cube, 1), minval=0.7, maxval=1.0)
    wiggle = (
        0.02 * amp[:, None, :] * jnp.sin(2 * jnp.pi * (t / 0.03 + jr.uniform(k[6], (n_cubes, per_cube, 1))))
    )
    vox = (scale * base[:, None, :] + wiggle).reshape(n_cubes * per_cube, n_time)
    cube_id = jnp.repeat(jnp.arange(n_cubes), per_cube)
    return vox, cube_id


def count_passes(fn):
    calls = {"n": 0}
    real = _adaptive._run

    def counted(*args, **kwargs):
        calls["n"] += 1
        return real(*args, **kwargs)

    with mock.patch.object(_adaptive, "_run", counted):
        out = fn()
    return out, calls["n"]


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    jax.block_until_ready(out)
    return out, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impacts", type=int, default=45)
    parser.add_argument("--cubes", type=int, default=5000)
    parser.add_argument("--voxels-per-cube", type=int, default=8)
    parser.add_argument("--n-time", type=int, default=100)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--xcorr", action="store_true", help="also time the xcorr measure")
    args = parser.parse_args()
    print(f"device: {jax.devices()[0]}")
    gen = jax.jit(impact_profiles, static_argnums=(1, 2, 3))
    key = jr.PRNGKey(0)
    cands, voxels, strat_s = [], [], []
    for i in range(args.impacts + 1):  # the last one is held out
        vox, cube = gen(jr.fold_in(key, i), args.cubes, args.voxels_per_cube, args.n_time)
        jax.block_until_ready(vox)
        (c, v), dt = timed(lambda vox=vox, cube=cube: stratify(vox, np.asarray(cube)))
        cands.append(c)
        voxels.append(v)
        strat_s.append(dt)
    held, held_vox = cands.pop(), voxels.pop()
    n_pool = sum(c.shape[0] for c in cands)
    print(
        f"pool: {args.impacts} impacts x {args.cubes} cubes x {args.voxels_per_cube} voxels x "
        f"{args.n_time} samples -> {n_pool} candidates"
    )
    print(
        f"stratify: first impact {strat_s[0]:.3f} s (compile), then {np.mean(strat_s[1:]):.4f} s "
        f"per impact; {sum(strat_s[1:-1]):.2f} s for {args.impacts - 1} warm impacts"
    )
    result = {"device": str(jax.devices()[0]), "n_pool": n_pool, "n_target": args.n}
    result["stratify_s_per_impact"] = float(np.mean(strat_s[1:]))
    sels = {}
    measures = ["nrmse"] + (["xcorr"] if args.xcorr else [])
    for m in measures:
        (sel, passes), cold = timed(
            lambda m=m: count_passes(lambda: threshold_for_n(cands, args.n, m, voxels_by_impact=voxels))
        )
        (sel, passes), warm = timed(
            lambda m=m: count_passes(lambda: threshold_for_n(cands, args.n, m, voxels_by_impact=voxels))
        )
        _, one_cold = timed(lambda m=m, thr=sel.threshold: select_adaptive(cands, thr, m))
        _, one = timed(lambda m=m, thr=sel.threshold: select_adaptive(cands, thr, m))
        print(
            f"{m}: threshold {sel.threshold:.6f} -> {sel.n_kept} kept; search {cold:.2f} s cold, "
            f"{warm:.2f} s warm ({passes} greedy passes); "
            f"one full pass {one:.2f} s warm ({one_cold:.2f} s cold)"
        )
        result[m] = {
            "threshold": sel.threshold,
            "n_kept": sel.n_kept,
            "search_cold_s": cold,
            "search_warm_s": warm,
            "passes": passes,
            "one_pass_s": one,
        }
        worst = lambda sel=sel: worst_case_set(held, sel, 75, voxels=np.asarray(held_vox))  # noqa: E731
        timed(worst)
        wc, dt = timed(worst)
        print(
            f"{m}: worst-case set (75 of {held.shape[0]}) {dt:.2f} s warm, max-similarity "
            f"{float(wc.max_similarity[0]):.3f}..{float(wc.max_similarity[-1]):.3f}"
        )
        result[m]["worst_case_s"] = dt
        sels[m] = sel
    t_s = np.arange(args.n_time) * 1e-3
    pool = jnp.concatenate(cands)
    kept = sels["nrmse"].profiles  # coverage of the nrmse selection
    timed(lambda: coverage_report(pool, kept, t_s))
    rep, dt = timed(lambda: coverage_report(pool, kept, t_s))
    for name, f in rep.features.items():
        print(f"coverage {name}: KS {f.ks_distance:.3f}, bins covered {f.bin_coverage:.2f}")
    result["coverage_s"] = dt
    result["coverage"] = {k: [v.ks_distance, v.bin_coverage] for k, v in rep.features.items()}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
