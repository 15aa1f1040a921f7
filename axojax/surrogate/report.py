"""Figures of the surrogate's validation: learning curve and predicted vs simulated (matplotlib, lazy)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ._model import OUTPUT_NAMES

_LABELS = {
    "peak_mt_strain": "peak MT strain [-]",
    "peak_axolemma_strain": "peak axolemma strain [-]",
    "tau_failure_pct": "tau failure [%]",
    "nf_failure_pct": "NF failure [%]",
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_learning_curve(
    sizes: Sequence[int],
    r2_mean: Mapping[str, Sequence[float]],
    nrmse_mean: Mapping[str, Sequence[float]],
    path: str | os.PathLike,
    *,
    threshold: float = 0.90,
) -> Path:
    """Fold-mean R² and NRMSE [%] against training-set size, one line per output; PNG at `path`."""
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name in r2_mean:
        ax1.plot(sizes, r2_mean[name], "o-", label=_LABELS.get(name, name))
        ax2.plot(sizes, nrmse_mean[name], "o-", label=_LABELS.get(name, name))
    ax1.axhline(threshold, color="k", lw=0.8, ls="--")
    for ax, ylabel in ((ax1, "cross-validated R²"), (ax2, "cross-validated NRMSE [%]")):
        ax.set_xscale("log")
        ax.set_xlabel("training profiles N")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    ax1.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_predicted_vs_simulated(
    simulated: np.ndarray,
    predicted: np.ndarray,
    path: str | os.PathLike,
    *,
    names: Sequence[str] = OUTPUT_NAMES,
    title: str = "worst-case validation",
) -> Path:
    """Scatter of surrogate vs mechanistic outputs (n, 4), one panel per output with R²/NRMSE; PNG."""
    from ._metrics import nrmse_pct, r2_score

    plt = _pyplot()
    y, p = np.asarray(simulated, np.float64), np.asarray(predicted, np.float64)
    r2 = np.asarray(r2_score(y, p))
    nr = np.asarray(nrmse_pct(y, p))
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.8))
    for i, (ax, name) in enumerate(zip(np.atleast_1d(axes), names, strict=True)):
        lo, hi = min(y[:, i].min(), p[:, i].min()), max(y[:, i].max(), p[:, i].max())
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
        ax.scatter(y[:, i], p[:, i], s=10, alpha=0.7)
        ax.set_xlabel(f"simulated {_LABELS.get(name, name)}")
        ax.set_ylabel("surrogate")
        if np.ptp(y[:, i]) == 0.0:  # R² and NRMSE undefined
            rmse = float(np.sqrt(np.mean((y[:, i] - p[:, i]) ** 2)))
            ax.set_title(f"all simulated = {y[0, i]:.3g}; RMSE {rmse:.3g}", fontsize=9)
        else:
            ax.set_title(f"R² {r2[i]:.3f}, NRMSE {nr[i]:.1f} %", fontsize=9)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
