"""Regression metrics per output: coefficient of determination and normalised RMSE."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float


def r2_score(y_true: Float[ArrayLike, "n k"], y_pred: Float[ArrayLike, "n k"]) -> Float[Array, " k"]:
    """Coefficient of determination per output column.

    R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)². A constant column gives −inf (or NaN if also predicted exactly).

    >>> r2_score([[1.0], [2.0], [3.0]], [[1.0], [2.0], [4.0]])  # 1 - 1/2
    Array([0.5], dtype=float32)
    """
    y, p = jnp.asarray(y_true), jnp.asarray(y_pred)
    ss_res = jnp.sum((y - p) ** 2, axis=0)
    ss_tot = jnp.sum((y - jnp.mean(y, axis=0)[None, :]) ** 2, axis=0)
    return 1.0 - ss_res / ss_tot


def nrmse_pct(y_true: Float[ArrayLike, "n k"], y_pred: Float[ArrayLike, "n k"]) -> Float[Array, " k"]:
    """Root-mean-square error over the range of the true values, in percent, per output column.

    NRMSE = 100 · √(mean((y − ŷ)²)) / (max y − min y).
    """
    y, p = jnp.asarray(y_true), jnp.asarray(y_pred)
    rmse = jnp.sqrt(jnp.mean((y - p) ** 2, axis=0))
    return 100.0 * rmse / (jnp.max(y, axis=0) - jnp.min(y, axis=0))
