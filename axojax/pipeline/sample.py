"""Stage 2: stratified + adaptive sampling, learning-curve pool, worst-case set (DIR/sampling)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ._files import _json_default, atomic_save_npz, atomic_write_json, log
from .config import RunConfig


def stage_sample(out: Path, config: RunConfig, dataset) -> dict[str, Any]:
    """Adaptive training selection (and learning-curve pool), worst-case set -> DIR/sampling."""
    from axojax.sampling import plot_coverage

    path = out / "sampling" / "selection.npz"
    if path.exists():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    names = list(dataset.impact_names)
    train, held_out = names[:-1], names[-1]
    log(f"sampling: N = {config.n_train} of the stratified candidates of {len(train)} impacts")
    res = _select(dataset, train, held_out, config.n_train, config)
    if res.n_tail:
        log(
            f"sampling: {res.n_tail} of them from the severity tail "
            f"(peak strain >= {100 * res.tail_peak_strain:.1f} %)"
        )
    arrays = {
        "train_impact": np.asarray(res.selection.impact, np.int64),
        "train_voxel": np.asarray(res.selection.voxel, np.int64),
        "train_threshold": np.float64(res.selection.threshold),
        "train_n_tail": np.int64(res.n_tail),
        "tail_peak_strain": np.float64(np.nan if res.tail_peak_strain is None else res.tail_peak_strain),
        "worst_voxel": np.asarray(res.worst_case.voxel, np.int64),
        "worst_similarity": np.asarray(res.worst_case.max_similarity, np.float64),
        "held_out_impact": np.int64(len(names) - 1),
        "n_candidates_per_impact": np.int64(res.n_candidates_per_impact),
        "held_voxel": np.asarray(res.held_out_voxels, np.int64),
    }
    if config.n_pool > config.n_train:
        log(f"sampling: learning-curve pool N = {config.n_pool}")
        pool = _select(dataset, train, held_out, config.n_pool, config)
        arrays["pool_impact"] = np.asarray(pool.selection.impact, np.int64)
        arrays["pool_voxel"] = np.asarray(pool.selection.voxel, np.int64)
        arrays["pool_threshold"] = np.float64(pool.selection.threshold)
    else:
        arrays["pool_impact"], arrays["pool_voxel"] = arrays["train_impact"], arrays["train_voxel"]
        arrays["pool_threshold"] = arrays["train_threshold"]
    cov = res.coverage
    atomic_write_json(out / "sampling" / "coverage.json", _coverage_dict(cov))
    (out / "figures").mkdir(parents=True, exist_ok=True)
    try:
        plot_coverage(cov, out / "figures" / "sampling_coverage.png")
    except ImportError:
        log("sampling: matplotlib not installed, coverage figure skipped")
    atomic_save_npz(path, **arrays)
    return arrays


def _select(dataset, train, held_out, n: int, config: RunConfig):
    """Threshold search to about n kept (±1 %, at least ±2); if the greedy count jumps over that
    window, the exact greedy stopped at n kept."""
    from axojax.sampling import select_from_dataset

    common = dict(n=n, n_worst=config.n_worst, measure=config.measure, tail_fraction=config.tail_fraction)
    try:
        return select_from_dataset(dataset, train, held_out, rtol=max(0.01, 2.0 / n), **common)
    except ValueError as err:
        if "jumps over the window" not in str(err):
            raise
        log(f"sampling: {err}; taking the greedy stopped at exactly {n} kept")
        return select_from_dataset(dataset, train, held_out, exact=True, **common)


def _coverage_dict(cov) -> dict[str, Any]:
    return json.loads(json.dumps(cov.as_dict(), default=_json_default))
