"""A simple baseline a user might try instead of the CNN: ridge regression on hand-made features.

Features of a profile (strain [-] on a uniform grid of step dt [s]): peak strain, peak |strain|,
final strain, peak and mean positive strain rate, peak negative rate, time above 2/5/10 % of
strain (s), strain impulse ∫ max(ε, 0) dt, rate-weighted peak (peak ε · peak rate), plus their
squares and pairwise products (a quadratic model). Features are z-scored on the training set; the
ridge solution is closed form. Pure jnp, fixed shapes, jit-friendly.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ._model import profile_features

_LEVELS = (0.02, 0.05, 0.10)


def hand_features(profiles: Float[ArrayLike, "n time"], dt_s: float) -> Float[Array, "n f"]:
    """Hand-made scalar features of each profile (see module docstring), shape (n, 11)."""
    x = jnp.asarray(profiles, jnp.float32)
    feats = profile_features(x, dt_s)
    eps, rate = feats[..., 0], feats[..., 1]
    dt = jnp.asarray(dt_s, jnp.float32)
    cols = [
        jnp.max(eps, axis=-1),
        jnp.max(jnp.abs(eps), axis=-1),
        eps[:, -1],
        jnp.max(rate, axis=-1),
        jnp.mean(jnp.maximum(rate, 0.0), axis=-1),
        jnp.min(rate, axis=-1),
        *[dt * jnp.sum(eps > lvl, axis=-1).astype(jnp.float32) for lvl in _LEVELS],
        dt * jnp.sum(jnp.maximum(eps, 0.0), axis=-1),
        jnp.max(eps, axis=-1) * jnp.max(rate, axis=-1),
    ]
    return jnp.stack(cols, axis=-1)


def _quadratic(f: Float[Array, "n k"]) -> Float[Array, "n q"]:
    i, j = jnp.triu_indices(f.shape[1])
    return jnp.concatenate([f, f[:, i] * f[:, j]], axis=-1)


@dataclasses.dataclass(frozen=True)
class RidgeBaseline:
    """Fitted ridge model on quadratic hand features (arrays float32)."""

    dt_s: float
    f_mean: Array
    f_std: Array
    q_mean: Array
    q_std: Array
    weights: Array
    bias: Array

    def design(self, profiles: Float[ArrayLike, "n time"]) -> Float[Array, "n q"]:
        f = (hand_features(profiles, self.dt_s) - self.f_mean[None, :]) / self.f_std[None, :]
        return (_quadratic(f) - self.q_mean[None, :]) / self.q_std[None, :]

    def __call__(self, profiles: Float[ArrayLike, "n time"]) -> Float[Array, "n 4"]:
        """Predicted outputs (n, 4) in the axon model's order and units."""
        return self.design(profiles) @ self.weights + self.bias[None, :]


def fit_ridge(
    profiles: Float[ArrayLike, "n time"],
    targets: Float[ArrayLike, "n 4"],
    *,
    dt_s: float,
    alpha: float = 1e-2,
) -> RidgeBaseline:
    """Closed-form ridge regression of the outputs on quadratic hand features.

    Args:
        profiles: fiber strain [-], (n, T), step `dt_s` [s].
        targets: axon outputs (n, 4).
        dt_s: sampling step [s].
        alpha: ridge penalty on the standardised design (relative to n).

    Returns:
        The fitted `RidgeBaseline`.
    """
    y = jnp.asarray(targets, jnp.float32)
    f = hand_features(profiles, dt_s)
    f_mean, f_std = jnp.mean(f, axis=0), jnp.maximum(jnp.std(f, axis=0), 1e-12)
    q = _quadratic((f - f_mean[None, :]) / f_std[None, :])
    q_mean, q_std = jnp.mean(q, axis=0), jnp.maximum(jnp.std(q, axis=0), 1e-12)
    a = (q - q_mean[None, :]) / q_std[None, :]
    bias = jnp.mean(y, axis=0)
    n = jnp.asarray(a.shape[0], jnp.float32)
    gram = a.T @ a + alpha * n * jnp.eye(a.shape[1], dtype=jnp.float32)
    weights = jnp.linalg.solve(gram, a.T @ (y - bias[None, :]))
    return RidgeBaseline(float(dt_s), f_mean, f_std, q_mean, q_std, weights, bias)
