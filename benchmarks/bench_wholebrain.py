"""Benchmark: whole-brain surrogate maps of one impact vs. direct mechanistic simulation.

On the default brain (92,439 white-matter voxels at 2 mm) and one synthetic impact (half-sine angular
acceleration, 4 krad/s^2, 10 ms, tilted head-frame axis; 100 ms at 1 ms, T = 100), float32:

(1) `impact_profiles`: fiber strain profiles of every voxel (reduced head model), cold and warm;
(2) surrogate inference over all voxels with a `SurrogateCNN` of the default `SurrogateConfig` (untrained
    weights: the cost does not depend on their values; `--fit-epochs N` fits it on the simulated subset
    first): `axojax.surrogate.predict` per batch size, `check_inputs`, and `predict_maps` (both), warm;
(3) `whole_brain` end to end, warm;
(4) the direct mechanistic simulation (`axojax.axon.simulate` in batches of `--mech-batch`, compiled
    beforehand) of `--n-mech` random voxels of the same impact, extrapolated to all voxels.

Times are the best of `--repeats` runs, wall clock and process CPU time (user + system, all threads); on a
shared machine the CPU time is the steadier figure. Prints the efficiency ratio (mechanistic time per voxel /
surrogate time per voxel) and absolute figures, then one JSON line last.

    python benchmarks/bench_wholebrain.py [--n-mech 1024] [--mech-batch 256] [--batch-sizes 2048,4096,8192]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

import jax
import numpy as np
from flax import nnx

from axojax.axon import simulate
from axojax.brain import default_brain
from axojax.headmodel import ReducedHeadModel, damage
from axojax.kinematics import half_sine_pulse
from axojax.surrogate import SurrogateCNN, SurrogateConfig, TrainConfig, check_inputs, fit, predict
from axojax.wholebrain import impact_profiles, predict_maps, summary, whole_brain

PULSE_RAD_S2 = 4000.0
PULSE_MS = 10.0
AXIS_HEAD = (0.3, 0.8, 0.5)  # head frame (x anterior, y right, z inferior); normalised by the pulse
STUDY_INFERENCE_S = 12.0  # the reference study: whole white matter (~92,500 voxels) in 12 s
TARGET_INFERENCE_S = 2.0


def timed(fn, repeats: int) -> tuple[float, float, object]:
    """Best wall and CPU time [s] of `repeats` calls of fn (results blocked on), and the last result."""
    best_wall, best_cpu, out = np.inf, np.inf, None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        out = jax.block_until_ready(fn())
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-mech", type=int, default=1024, help="voxels simulated with the axon model")
    ap.add_argument("--mech-batch", type=int, default=256, help="profiles per axon-model batch")
    ap.add_argument("--batch-sizes", default="1024,2048,4096,8192", help="surrogate batch sizes to time")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--fit-epochs", type=int, default=0, help="fit the surrogate on the subset first")
    args = ap.parse_args()
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]

    w0 = time.perf_counter()
    brain = default_brain(2.0)
    load_s = time.perf_counter() - w0
    v = brain.n_voxels
    head = ReducedHeadModel()
    impact = half_sine_pulse(PULSE_RAD_S2, PULSE_MS, AXIS_HEAD, dt_ms=1.0, window_ms=100.0, name="bench")
    t_s = np.asarray(impact.t_s, dtype=np.float64)

    # (1) profiles
    w0 = time.perf_counter()
    profiles = jax.block_until_ready(impact_profiles(head, impact, brain))
    prof_cold_s = time.perf_counter() - w0
    prof_s, prof_cpu, profiles = timed(lambda: impact_profiles(head, impact, brain), args.repeats)
    n_time = profiles.shape[1]

    # (4 first: its subset can train the surrogate) mechanistic model on a random subset of voxels
    rng = np.random.default_rng(0)
    subset = np.sort(rng.choice(v, size=min(args.n_mech, v), replace=False))
    sub = np.asarray(profiles)[subset]
    mb = min(args.mech_batch, len(subset))
    w0 = time.perf_counter()
    jax.block_until_ready(simulate(t_s, sub[:mb]).peak_mt_strain)  # compile + one batch
    mech_compile_s = time.perf_counter() - w0
    w0, c0 = time.perf_counter(), time.process_time()
    outs, n_failed = [], 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # failed solves are counted below
        for start in range(0, len(subset), mb):  # batches of profiles, vmapped inside
            chunk = sub[start : start + mb]
            m = chunk.shape[0]
            if m < mb:
                chunk = np.concatenate([chunk, np.zeros((mb - m, n_time), chunk.dtype)])
            res = simulate(t_s, chunk)
            outs.append(np.asarray(res.as_array())[:m])
            n_failed += int(m - np.count_nonzero(np.asarray(res.success)[:m]))
    mech_s, mech_cpu = time.perf_counter() - w0, time.process_time() - c0
    mech_out = np.concatenate(outs)
    mech_per_voxel = mech_s / len(subset)

    # (2) surrogate
    config = SurrogateConfig(n_time=n_time, dt_s=1e-3)
    if args.fit_epochs > 0:
        ok = np.isfinite(mech_out).all(axis=1)
        w0 = time.perf_counter()
        model, _ = fit(
            sub[ok], mech_out[ok], dt_s=1e-3, key=jax.random.PRNGKey(0), config=config,
            train=TrainConfig(epochs=args.fit_epochs),
        )  # fmt: skip
        fit_s = time.perf_counter() - w0
        surrogate = f"fitted on {int(ok.sum())} simulated voxels, {args.fit_epochs} epochs ({fit_s:.0f} s)"
    else:
        model = SurrogateCNN(config, rngs=nnx.Rngs(0))
        surrogate = "untrained (random weights)"
    n_params = sum(int(np.size(x)) for x in jax.tree.leaves(nnx.state(model, nnx.Param)))
    per_batch = {}
    for bs in batch_sizes:
        jax.block_until_ready(predict(model, profiles, batch_size=bs, check=False))  # compile
        wall, cpu, _ = timed(lambda bs=bs: predict(model, profiles, batch_size=bs, check=False), args.repeats)
        per_batch[bs] = (wall, cpu)
    best_bs = min(per_batch, key=lambda b: per_batch[b][0])
    jax.block_until_ready(check_inputs(model, profiles, warn=False))
    ood_s, ood_cpu, flags = timed(lambda: check_inputs(model, profiles, warn=False), args.repeats)
    predict_maps(model, profiles, batch_size=best_bs, warn=False)
    maps_s, maps_cpu, result = timed(
        lambda: predict_maps(model, profiles, batch_size=best_bs, warn=False), args.repeats
    )
    # (3) end to end
    whole_brain(model, head, impact, brain, batch_size=best_bs, warn=False)
    e2e_s, e2e_cpu, e2e = timed(
        lambda: whole_brain(model, head, impact, brain, batch_size=best_bs, warn=False), args.repeats
    )
    stats = summary(result.values, brain, ood=result.ood)

    surrogate_per_voxel = maps_s / v
    ratio = mech_per_voxel / surrogate_per_voxel
    ratio_e2e = mech_per_voxel / (e2e_s / v)
    ratio_cpu = (mech_cpu / len(subset)) / (maps_cpu / v)
    infer_s, infer_cpu = per_batch[best_bs]
    out = {
        "benchmark": "wholebrain_one_impact",
        "device": str(jax.devices()[0]),
        "cpu_count": os.cpu_count(),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "n_voxels": v,
        "n_time": n_time,
        "dtype": str(profiles.dtype),
        "damage": round(float(damage(head, impact)), 4),
        "surrogate": surrogate,
        "surrogate_params": n_params,
        "brain_load_s": round(load_s, 2),
        "profiles_cold_s": round(prof_cold_s, 3),
        "profiles_warm_s": round(prof_s, 3),
        "profiles_warm_cpu_s": round(prof_cpu, 3),
        "predict_s_by_batch": {str(b): round(w, 3) for b, (w, _) in per_batch.items()},
        "predict_cpu_s_by_batch": {str(b): round(c, 3) for b, (_, c) in per_batch.items()},
        "best_batch_size": best_bs,
        "predict_warm_s": round(infer_s, 3),
        "predict_warm_cpu_s": round(infer_cpu, 3),
        "check_inputs_warm_s": round(ood_s, 3),
        "predict_maps_warm_s": round(maps_s, 3),
        "predict_maps_warm_cpu_s": round(maps_cpu, 3),
        "whole_brain_warm_s": round(e2e_s, 3),
        "whole_brain_warm_cpu_s": round(e2e_cpu, 3),
        "mech_n_voxels": len(subset),
        "mech_batch": mb,
        "mech_compile_plus_first_batch_s": round(mech_compile_s, 2),
        "mech_subset_s": round(mech_s, 2),
        "mech_subset_cpu_s": round(mech_cpu, 2),
        "mech_failed_solves": n_failed,
        "mech_s_per_voxel": mech_per_voxel,
        "mech_all_voxels_extrapolated_s": round(mech_per_voxel * v, 1),
        "surrogate_s_per_voxel": surrogate_per_voxel,
        "efficiency_ratio": round(ratio, 1),
        "efficiency_ratio_incl_profiles": round(ratio_e2e, 1),
        "efficiency_ratio_cpu_time": round(ratio_cpu, 1),
        "ood_fraction": stats["ood_fraction"],
        "peak_fiber_strain_p95": round(float(np.percentile(np.asarray(profiles).max(axis=1), 95)), 4),
    }
    print(
        f"brain: {v} voxels x {n_time} samples ({profiles.dtype}), {jax.devices()[0]}, "
        f"{os.cpu_count()} CPUs, load average {out['load_avg_1min']}"
    )
    print(f"impact: half-sine {PULSE_RAD_S2:g} rad/s^2, {PULSE_MS:g} ms, DAMAGE {out['damage']}")
    print(
        f"profiles (impact_profiles)  : {prof_s:.2f} s warm (CPU {prof_cpu:.2f} s), {prof_cold_s:.2f} s cold"
    )
    print(f"surrogate                   : default SurrogateConfig, {n_params} parameters, {surrogate}")
    for b, (w, c) in per_batch.items():
        print(f"  predict, batch {b:>6d}    : {w:.2f} s warm (CPU {c:.2f} s)")
    print(f"  check_inputs (OOD)        : {ood_s:.3f} s warm")
    flag = "meets" if maps_s <= TARGET_INFERENCE_S else "MISSES"
    print(
        f"  predict_maps (OOD + infer): {maps_s:.2f} s warm (CPU {maps_cpu:.2f} s), batch {best_bs}: "
        f"{flag} the {TARGET_INFERENCE_S:g} s target (study: {STUDY_INFERENCE_S:g} s)"
    )
    print(f"whole_brain end to end      : {e2e_s:.2f} s warm (CPU {e2e_cpu:.2f} s)")
    print(
        f"mechanistic axon model      : {len(subset)} voxels in {mech_s:.1f} s (CPU {mech_cpu:.1f} s; "
        f"batches of {mb}; compile + first batch {mech_compile_s:.1f} s; {n_failed} failed) -> "
        f"{mech_per_voxel * 1e3:.1f} ms/voxel, all voxels ~{mech_per_voxel * v / 60:.1f} min"
    )
    print(
        f"efficiency ratio            : {ratio:,.0f}x per voxel (mechanistic / surrogate); "
        f"{ratio_e2e:,.0f}x including the profiles; {ratio_cpu:,.0f}x in CPU time"
    )
    print(json.dumps(out))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
