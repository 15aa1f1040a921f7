"""Stage 4: learning curve, final surrogate, worst-case and held-out validation (DIR/surrogate)."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ._files import atomic_save_npz, atomic_write_json, log
from .config import RunConfig
from .simulate import axon_params, training_set


def train_settings(config: RunConfig, n_time: int, dt_s: float):
    from axojax.surrogate import SurrogateConfig, TrainConfig

    arch = SurrogateConfig(n_time=n_time, dt_s=dt_s, channels=config.channels)
    train = TrainConfig(
        epochs=config.epochs,
        patience=config.patience,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
    )
    return arch, train


def scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, dict[str, Any]]:
    """R², NRMSE [%] (RMSE over the range of the true values) and RMSE per output name.

    An output whose true values are all equal (e.g. no NF failure anywhere in the set) has no
    R² or NRMSE: both are reported as None with `constant_truth` True, and RMSE still holds.
    """
    from axojax.surrogate import OUTPUT_NAMES, nrmse_pct, r2_score

    y, p = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    r2 = np.asarray(r2_score(y, p))
    nr = np.asarray(nrmse_pct(y, p))
    rmse = np.sqrt(np.mean((y - p) ** 2, axis=0))
    out = {}
    for i, name in enumerate(OUTPUT_NAMES):
        const = bool(np.ptp(y[:, i]) == 0.0)
        out[name] = {
            "r2": None if const else float(r2[i]),
            "nrmse_pct": None if const else float(nr[i]),
            "rmse": float(rmse[i]),
            "constant_truth": const,
        }
    return out


def stage_learning_curve(out: Path, config: RunConfig, pool, dt_s: float) -> dict[str, Any]:
    """k-fold learning curve over `lc_sizes` on the sampled pool -> learning_curve.json + figure."""
    import jax

    from axojax.surrogate import OUTPUT_NAMES, learning_curve

    path = out / "surrogate" / "learning_curve.json"
    if path.exists():
        return json.loads(path.read_text())
    x, y = pool[:2]
    sizes = sorted({min(s, x.shape[0]) for s in config.lc_sizes})  # the largest: the whole pool
    arch, train = train_settings(config, x.shape[1], dt_s)
    log(f"train: {config.lc_folds}-fold learning curve over N = {sizes}")
    start = time.perf_counter()
    lc = learning_curve(
        x,
        y,
        dt_s=dt_s,
        sizes=sizes,
        key=jax.random.PRNGKey(config.seed + 1),
        folds=config.lc_folds,
        config=arch,
        train=train,
    )
    report = {
        "sizes": [int(s) for s in lc.sizes],
        "folds": config.lc_folds,
        "threshold_r2": lc.threshold,
        "min_size_r2_above_threshold": lc.min_size,
        "r2_mean": {n: lc.r2_mean[:, i].tolist() for i, n in enumerate(OUTPUT_NAMES)},
        "nrmse_pct_mean": {n: lc.nrmse_mean[:, i].tolist() for i, n in enumerate(OUTPUT_NAMES)},
        "r2_folds": lc.r2.tolist(),
        "nrmse_pct_folds": lc.nrmse_pct.tolist(),
        "seconds": round(time.perf_counter() - start, 1),
    }
    atomic_write_json(path, report)
    return report


def stage_fit(out: Path, config: RunConfig, train_set, dt_s: float, n_variants: int = 0):
    """Train the final surrogate on `train_set` = (profiles, outputs) (the adaptive training set
    and its last `n_variants` rows of amplitude variants) -> DIR/surrogate/model."""
    import jax

    from axojax.surrogate import fit, load_surrogate, save_surrogate

    ckpt = out / "surrogate" / "model"
    x, y = train_set
    arch, train = train_settings(config, x.shape[1], dt_s)
    if ckpt.exists():
        model, _ = load_surrogate(ckpt, config=arch)
        return model, json.loads((out / "surrogate" / "fit.json").read_text())
    log(f"train: final surrogate on N = {x.shape[0]} profiles ({n_variants} amplitude variants)")
    start = time.perf_counter()
    model, hist = fit(x, y, dt_s=dt_s, key=jax.random.PRNGKey(config.seed + 2), config=arch, train=train)
    seconds = time.perf_counter() - start
    params = axon_params(config)
    meta = {
        "axon_preset": config.preset,
        "axon_params": {
            f.name: float(np.asarray(getattr(params, f.name)))
            for f in dataclasses.fields(params)
            if np.ndim(getattr(params, f.name)) == 0
        },
        "n_train": int(x.shape[0]),
        "seed": config.seed,
        "resolution_mm": config.resolution_mm,
        # what `axojax predict` needs to rebuild the run's brain and tissue model
        "brain": {
            k: getattr(config, k)
            for k in (
                "brain_mask",
                "mask_threshold",
                "fibers",
                "fibers_path",
                "fibers_bval",
                "fibers_bvec",
                "fibers_convention",
                "fibers_resample",
            )
        },
        "tissue_model": config.tissue_model,
        "element_size_mm": config.element_size_mm,
        "fe_surface": config.fe_surface,
    }
    info = {
        "n_train": int(x.shape[0]),
        "n_amplitude_variants": n_variants,
        "epochs_run": int(hist.train_loss.size),
        "best_epoch": int(hist.best_epoch),
        "best_val_loss": float(hist.val_loss[hist.best_epoch]),
        "seconds": round(seconds, 1),
    }
    atomic_write_json(out / "surrogate" / "fit.json", info)
    save_surrogate(ckpt, model, meta)
    return model, info


def stage_validate(out: Path, model, parts, t_s: np.ndarray) -> dict[str, Any]:
    """Independent validation on the held-out impact, with the ridge baseline fitted on the same
    training set (`training_set(parts)`): the worst-case set, and (if simulated) every stratified
    candidate of the impact.

    Returns {"n", "surrogate", "ridge_baseline"} of the worst-case set, plus "held_out_impact"
    with the same keys for all candidates; writes DIR/sampling/{worst_case,held_out}.npz."""
    from axojax.surrogate import fit_ridge, predict

    ridge = fit_ridge(*training_set(parts), dt_s=float(t_s[1] - t_s[0]))
    report: dict[str, Any] = {}
    for name, file in (("worst", "worst_case.npz"), ("held", "held_out.npz")):
        if name not in parts:
            continue
        x, y, voxel = parts[name]
        pred = np.asarray(predict(model, x, check=False))
        atomic_save_npz(out / "sampling" / file, t_s=t_s, profiles=x, outputs=y, predicted=pred, voxel=voxel)
        res = {
            "n": int(x.shape[0]),
            "surrogate": scores(y, pred),
            "ridge_baseline": scores(y, np.asarray(ridge(x))),
        }
        if name == "worst":
            report.update(res)
        else:
            report["held_out_impact"] = res
    return report
