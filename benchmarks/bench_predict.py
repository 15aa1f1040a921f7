"""Benchmark: batch predict (`axojax predict --impacts`) of a season of measured impacts.

Writes `--n-impacts` (46, the study's season) impacts as ONE MAT file (struct array `impact`, 10 kHz,
300 ms, half-sine pulses with sensor noise), then maps all of them with `axojax.pipeline.predict` on the
embedded brain (`--resolution-mm`, default 2 mm: 92,439 voxels): per impact the CFC 180 anti-aliasing,
DAMAGE-placed 100 ms window, reduced head model profiles, surrogate inference, four NIfTI maps and the
summary row; one impacts.csv/json. A first call on two other impacts compiles everything (cold); the
call on the season is the warm figure the issue asks for (46 impacts <= 60 s warm on the 2-core CPU).

The surrogate is the default architecture (channels 16, 32, 64) fitted for one epoch on random profiles
(inference cost does not depend on the weights), or `--model DIR/surrogate/model` of a real run.

    python benchmarks/bench_predict.py [--n-impacts 46] [--resolution-mm 2] [--model M] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import jax
import numpy as np
import scipy.io

from axojax.pipeline import predict
from axojax.surrogate import SurrogateConfig, TrainConfig, fit, save_surrogate


def season_file(
    path: Path, n: int, *, rate_hz: float = 10_000.0, record_ms: float = 300.0, seed: int = 0
) -> Path:
    """`n` impacts at `rate_hz`: half-sine α pulses (1-6 krad/s², 6-15 ms, random axis, onset 60-150 ms)
    plus white noise (1 % of the peak), ω = ∫α."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(record_ms * rate_hz / 1e3)) / rate_hz
    rec = np.zeros((1, n), dtype=[("t", "O"), ("ang_vel", "O"), ("ang_acc", "O")])
    for i in range(n):
        amp, dur, t0 = rng.uniform(1000, 6000), rng.uniform(0.006, 0.015), rng.uniform(0.06, 0.15)
        axis = rng.normal(size=3)
        u = np.clip((t - t0) / dur, 0.0, 1.0)
        a = (
            np.where((t >= t0) & (t <= t0 + dur), amp * np.sin(np.pi * u), 0.0)[:, None]
            * axis
            / np.linalg.norm(axis)
        )
        a = a + rng.normal(0.0, 0.01 * amp, a.shape)
        rec[0, i] = (t[:, None], np.cumsum(a, axis=0) / rate_hz, a)
    scipy.io.savemat(path, {"impact": rec})
    return path


def quick_model(path: Path, resolution_mm: float) -> Path:
    rng = np.random.default_rng(1)
    t = np.arange(100) * 1e-3
    x = (rng.uniform(0.0, 0.15, (256, 1)) * np.sin(np.pi * np.clip((t - 0.02) / 0.015, 0, 1)) ** 2).astype(
        np.float32
    )
    y = rng.uniform(0.0, 1.0, (256, 4)).astype(np.float32)
    model, _ = fit(
        x,
        y,
        dt_s=1e-3,
        key=jax.random.PRNGKey(0),
        config=SurrogateConfig(n_time=100, dt_s=1e-3),
        train=TrainConfig(epochs=1, batch_size=64),
    )
    save_surrogate(path, model, {"resolution_mm": resolution_mm})
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-impacts", type=int, default=46)
    parser.add_argument("--resolution-mm", type=float, default=2.0)
    parser.add_argument("--model", default=None, help="a trained surrogate (default: a quick one)")
    parser.add_argument("--out", default=None, help="work folder (default: a temporary one, removed)")
    args = parser.parse_args()
    work = Path(args.out or tempfile.mkdtemp(prefix="bench_predict_"))
    work.mkdir(parents=True, exist_ok=True)
    model = Path(args.model) if args.model else quick_model(work / "model", args.resolution_mm)
    mat = season_file(work / "season.mat", args.n_impacts)
    print(
        f"{mat}: {args.n_impacts} impacts, 10 kHz, 300 ms ({mat.stat().st_size / 1e6:.1f} MB); "
        f"{os.cpu_count()} CPUs, jax {jax.__version__} on {jax.devices()[0].platform}"
    )
    first = season_file(work / "first_two.mat", 2, seed=1)  # compiles everything once (cold)
    runs = {}
    for label, source in (("cold", first), ("warm", mat)):
        dest = work / f"maps_{label}"
        shutil.rmtree(dest, ignore_errors=True)
        start, cpu = time.perf_counter(), time.process_time()
        res = predict(model, dest, impacts=source)
        runs[label] = {"wall_s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu, "res": res}
    for label, r in runs.items():
        rows = r["res"]["rows"]
        prof = sum(x["profiles_s"] for x in rows)
        inf = sum(x["inference_s"] for x in rows)
        wr = sum(x["write_s"] for x in rows)
        print(
            f"{label}: {len(rows)} impacts x {r['res']['n_voxels']} voxels in {r['wall_s']:.1f} s wall "
            f"({r['wall_s'] / len(rows):.2f} s per impact; process CPU {r['cpu_s']:.1f} s): read + filter + "
            f"window {r['res']['read_s']:.1f} s, profiles {prof:.1f} s, surrogate {inf:.1f} s, "
            f"maps + summary written {wr:.1f} s"
        )
    warm = runs["warm"]["wall_s"]
    print(
        f"target 46 impacts <= 60 s warm: {'met' if warm <= 60.0 * len(rows) / 46 else 'NOT met'} "
        f"({warm:.1f} s for {len(rows)})"
    )
    print(
        json.dumps(
            {k: {"wall_s": round(v["wall_s"], 2), "cpu_s": round(v["cpu_s"], 2)} for k, v in runs.items()}
        )
    )
    if args.out is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
