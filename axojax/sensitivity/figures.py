"""Figures of input gradients (matplotlib, imported only when a figure is drawn)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from jaxtyping import ArrayLike, Float

from ..axon import OUTPUT_NAMES


def plot_gradient_curves(
    t_s: Float[ArrayLike, " time"],
    g_sur: Float[ArrayLike, "batch 4 time"],
    g_ode: Float[ArrayLike, "batch 4 time"],
    *,
    profiles: Float[ArrayLike, "batch time"] | None = None,
    indices: tuple[int, ...] = (0, 1, 2),
    labels: tuple[str, str] = ("surrogate", "ODE"),
    path: str | Path | None = None,
    title: str | None = None,
):
    """Surrogate and ODE input gradients, d output / d strain(t), for a few profiles.

    One row per profile in `indices`, one column per output; the profile itself (strain [%]) is drawn on
    a twin axis in grey when `profiles` is given.

    Args:
        t_s: time grid [s] (T,).
        g_sur, g_ode: gradients (B, 4, T) (output unit per unit strain).
        profiles: the profiles (B, T) [-], optional.
        indices: which profiles to draw.
        labels: legend names of the two gradient sets.
        path: if given, the figure is also saved there (PNG).
        title: figure title.

    Returns:
        The `matplotlib.figure.Figure`.

    Raises:
        ValueError: shapes differ or an index is out of range.
    """
    from matplotlib.figure import Figure  # no pyplot: no backend or global state involved

    t = np.asarray(t_s, np.float64) * 1e3
    a, r = np.asarray(g_sur, np.float64), np.asarray(g_ode, np.float64)
    if a.shape != r.shape or a.ndim != 3 or a.shape[2] != t.shape[0]:
        raise ValueError(f"need g_sur and g_ode of shape (B, 4, {t.shape[0]}), got {a.shape} and {r.shape}")
    if not indices or min(indices) < 0 or max(indices) >= a.shape[0]:
        raise ValueError(f"indices must lie in 0..{a.shape[0] - 1}, got {indices}")
    k = a.shape[1]
    fig = Figure(figsize=(3.3 * k, 2.4 * len(indices)))
    axes = fig.subplots(len(indices), k, squeeze=False, sharex=True)
    for row, b in enumerate(indices):
        for col in range(k):
            ax = axes[row, col]
            if profiles is not None:
                tw = ax.twinx()
                tw.plot(t, 100.0 * np.asarray(profiles)[b], color="0.8", lw=1.0)
                tw.set_yticks([])
            ax.plot(t, r[b, col], color="k", lw=1.3, label=labels[1])
            ax.plot(t, a[b, col], color="tab:red", lw=1.0, ls="--", label=labels[0])
            ax.axhline(0.0, color="0.6", lw=0.5)
            if row == 0:
                ax.set_title(OUTPUT_NAMES[col] if k == len(OUTPUT_NAMES) else f"output {col}", fontsize=9)
            if col == 0:
                ax.set_ylabel(f"profile {b}\nd out / d ε(t)", fontsize=8)
            if row == len(indices) - 1:
                ax.set_xlabel("time [ms]")
            ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
