"""Benchmark: the CNN surrogate against a ridge baseline on the same splits, training time, inference.

Needs the output folder of `axojax run` (profiles store, sampling, campaign, saved surrogate):

    axojax run --out runs/default          # ~10 min on a 2-core CPU
    python benchmarks/bench_surrogate.py --run runs/default [--folds 3]

Prints, in one run:
(1) k-fold cross-validation on the adaptive training set, CNN (`axojax.surrogate.fit`, default settings)
    and ridge regression on quadratic hand-made features (`axojax.surrogate.fit_ridge`) on the same
    folds: R² and NRMSE [%] per output (fold means);
(2) worst-case validation (the held-out impact's 75 least similar profiles): the run's saved CNN and
    a ridge fitted on the same training data (the adaptive set and its amplitude variants);
(3) the wall time of one CNN training on the adaptive training set (target: 2,000 profiles in <= 3 min
    on the 2-core CPU), and on the adaptive set with its amplitude variants (what `axojax run` trains);
(4) inference over every voxel of the held-out impact (92,439 profiles at 2 mm): first call and warm.
Then one JSON line.
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

from axojax.campaign import load_campaign
from axojax.fiberstrain import ProfileDataset
from axojax.pipeline import RunConfig
from axojax.pipeline.simulate import split_arrays, training_set
from axojax.pipeline.train import scores, train_settings
from axojax.surrogate import OUTPUT_NAMES, fit, fit_ridge, load_surrogate, predict


def _table(title: str, cnn: dict, ridge: dict) -> None:
    print(f"\n{title}")
    print(f"  {'output':24s} {'R² CNN':>8s} {'NRMSE %':>8s} {'R² ridge':>9s} {'NRMSE %':>8s}")
    for name in OUTPUT_NAMES:
        c, r = cnn[name], ridge[name]
        fmt = lambda x: "n/a" if x is None else f"{x:.3f}"  # noqa: E731
        print(
            f"  {name:24s} {fmt(c['r2']):>8s} {fmt(c['nrmse_pct']):>8s} "
            f"{fmt(r['r2']):>9s} {fmt(r['nrmse_pct']):>8s}"
        )


def _mean_scores(per_fold: list[dict]) -> dict:
    out = {}
    for name in OUTPUT_NAMES:
        vals = [f[name] for f in per_fold]
        r2 = [v["r2"] for v in vals if v["r2"] is not None]
        nr = [v["nrmse_pct"] for v in vals if v["nrmse_pct"] is not None]
        out[name] = {
            "r2": float(np.mean(r2)) if r2 else None,
            "nrmse_pct": float(np.mean(nr)) if nr else None,
            "folds_with_constant_truth": len(vals) - len(r2),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="output folder of `axojax run`")
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()
    run = Path(args.run)
    if not (run / "surrogate" / "model").exists():
        sys.exit(f"{run}: no finished `axojax run` here (missing surrogate/model); run it first")
    config = RunConfig(**{**json.loads((run / "config.json").read_text())})
    dataset = ProfileDataset.open(run / "profiles")
    with np.load(run / "sampling" / "selection.npz") as z:
        sel = {k: z[k] for k in z.files}
    augment = load_campaign(run / "augment") if (run / "augment").exists() else None
    parts = split_arrays(load_campaign(run / "campaign"), sel, augment)
    x, y, _ = parts["train"]
    x_all, y_all = training_set(parts)  # + amplitude variants, if the run made them
    xw, yw, _ = parts["worst"]
    t_s = np.asarray(dataset.t_s)
    dt = float(t_s[1] - t_s[0])
    arch, train = train_settings(config, x.shape[1], dt)
    print(f"cpu cores: {os.cpu_count()}, devices: {jax.devices()}")
    print(
        f"training set {x.shape} (+ {x_all.shape[0] - x.shape[0]} amplitude variants), "
        f"worst-case set {xw.shape}, dt {dt * 1e3:g} ms"
    )

    # (1) k-fold, same folds for both models
    perm = np.asarray(jax.random.permutation(jax.random.PRNGKey(7), x.shape[0]))
    fold_of = np.arange(x.shape[0]) % args.folds
    cnn_folds, ridge_folds, fit_s = [], [], []
    for f in range(args.folds):
        te, tr = perm[fold_of == f], perm[fold_of != f]
        t0 = time.perf_counter()
        model, _ = fit(x[tr], y[tr], dt_s=dt, key=jax.random.PRNGKey(100 + f), config=arch, train=train)
        fit_s.append(time.perf_counter() - t0)
        cnn_folds.append(scores(y[te], np.asarray(predict(model, x[te], check=False))))
        ridge_folds.append(scores(y[te], np.asarray(fit_ridge(x[tr], y[tr], dt_s=dt)(x[te]))))
    cv_cnn, cv_ridge = _mean_scores(cnn_folds), _mean_scores(ridge_folds)
    _table(f"(1) {args.folds}-fold cross-validation on N = {x.shape[0]} (fold means)", cv_cnn, cv_ridge)

    # (2) worst case: the run's model; ridge on the whole training set
    saved, _ = load_surrogate(run / "surrogate" / "model", config=arch)
    wc_cnn = scores(yw, np.asarray(predict(saved, xw, check=False)))
    wc_ridge = scores(yw, np.asarray(fit_ridge(x_all, y_all, dt_s=dt)(xw)))
    _table(f"(2) worst-case validation, n = {xw.shape[0]}", wc_cnn, wc_ridge)

    # (3) one full training, on the adaptive set and on everything the run trains on
    timed = {}
    for label, (xt, yt) in (("adaptive", (x, y)), ("with_variants", (x_all, y_all))):
        if label == "with_variants" and xt.shape[0] == x.shape[0]:
            continue
        t0 = time.perf_counter()
        _, hist = fit(xt, yt, dt_s=dt, key=jax.random.PRNGKey(config.seed + 2), config=arch, train=train)
        timed[label] = round(time.perf_counter() - t0, 1)
        print(
            f"\n(3) training on N = {xt.shape[0]} ({label}): {timed[label]:.1f} s ({hist.train_loss.size} "
            f"epochs, best {hist.best_epoch})"
        )
    print(
        f"    CV fits on {x.shape[0] * (args.folds - 1) // args.folds}: "
        f"{', '.join(f'{s:.0f}' for s in fit_s)} s"
    )

    # (4) inference over every voxel of the held-out impact
    profiles = np.asarray(dataset.read_impact(int(sel["held_out_impact"])))
    t0 = time.perf_counter()
    jax.block_until_ready(predict(saved, profiles, check=False))
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    jax.block_until_ready(predict(saved, profiles, check=False))
    warm = time.perf_counter() - t0
    print(
        f"(4) inference on {profiles.shape[0]} voxel profiles: first call {first:.2f} s, warm {warm:.2f} s "
        f"({profiles.shape[0] / warm:,.0f} profiles/s)"
    )
    print(
        json.dumps(
            {
                "n_train": int(x.shape[0]),
                "folds": args.folds,
                "cv_cnn": cv_cnn,
                "cv_ridge": cv_ridge,
                "worst_cnn": wc_cnn,
                "worst_ridge": wc_ridge,
                "train_s": timed,
                "inference_first_s": round(first, 3),
                "inference_warm_s": round(warm, 3),
                "n_voxels": int(profiles.shape[0]),
            }
        )
    )


if __name__ == "__main__":
    main()
