"""Gradient-aware (Sobolev) training of the CNN surrogate: match outputs and input gradients of the ODE.

Loss per step, in the surrogate's z-scored output space (z_k = (y_k - mean_k) / std_k):

    L = mean_{b,k} (z_pred - z)^2 + λ mean_{k: s_k > 0} mean_{b in G} |∂z_pred,k/∂ε_b - g_b,k / std_k|^2 / s_k

where ε_b is a profile (T samples) of the gradient subset G, g_b,k = d y_k / d ε_b(t) from the mechanistic
model (`ode_jacobians`), and s_k = mean_b |g_b,k / std_k|^2 over the subset normalises each output's
gradient term (outputs whose reference gradients are all zero, like NF failure below threshold, are left
out). For equal norms the gradient term is 2 (1 - cosine), so it targets the agreement metric directly.
The optimiser, schedule and early stopping follow `axojax.surrogate.fit` (AdamW, warmup-cosine, best
validation MSE); only the loss differs, so λ = 0 is the plain fit of this loop.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ..surrogate import SurrogateCNN, SurrogateConfig, TrainConfig, eval_loss


@dataclasses.dataclass(frozen=True)
class SobolevConfig:
    """Settings of the gradient term.

    Attributes:
        weight: λ, weight of the gradient term relative to the z-scored MSE (0: plain training).
        grad_batch_size: gradient-subset profiles per step (capped at the subset size).
    """

    weight: float = 1.0
    grad_batch_size: int = 16

    def __post_init__(self):
        if not self.weight >= 0.0:
            raise ValueError(f"weight must be >= 0, got {self.weight}")
        if self.grad_batch_size < 1:
            raise ValueError(f"grad_batch_size must be >= 1, got {self.grad_batch_size}")


@dataclasses.dataclass(frozen=True)
class SobolevHistory:
    """Per-epoch mean training MSE and gradient term, validation MSE, and the epoch kept."""

    train_mse: np.ndarray
    train_grad: np.ndarray
    val_mse: np.ndarray
    best_epoch: int


@functools.partial(nnx.jit, static_argnums=0)
def _init_model(config: SurrogateConfig, key: PRNGKeyArray) -> SurrogateCNN:
    """Initialise under jit (one compilation instead of one per eager initialiser)."""
    return SurrogateCNN(config, rngs=nnx.Rngs(params=key))


def _input_jacobian(model: SurrogateCNN, x: Array) -> Array:
    """d z_pred / d x, (b, 4, T) (rows are independent, so the batch sum gives per-row gradients)."""
    jac = jax.jacrev(lambda xx: jnp.sum(model.normalized(xx), axis=0))(x)
    return jnp.moveaxis(jac, 0, 1)


def _losses(model, x, z, xg, gz, inv_scale, weight):
    mse = jnp.mean((model.normalized(x) - z) ** 2)
    err = jnp.mean(jnp.sum((_input_jacobian(model, xg) - gz) ** 2, axis=-1), axis=0)  # (4,)
    grad_term = jnp.sum(err * inv_scale) / jnp.maximum(jnp.sum((inv_scale > 0).astype(err.dtype)), 1.0)
    return mse + weight * grad_term, (mse, grad_term)


@nnx.jit
def sobolev_grads(
    model: SurrogateCNN,
    profiles: Float[Array, "batch time"],
    z_targets: Float[Array, "batch 4"],
    grad_profiles: Float[Array, "gbatch time"],
    z_grad_targets: Float[Array, "gbatch 4 time"],
    inv_scale: Float[Array, " 4"],
    weight: Float[Array, ""],
) -> tuple[Any, Float[Array, ""], Float[Array, ""]]:
    """Parameter gradients of MSE + weight · gradient term, the MSE and the gradient term (no update).

    Kept apart from the optimiser update so that this second-order program (the expensive compilation)
    is shared by every fit of the same architecture: the optimiser, whose schedule is part of its static
    graph, only enters the cheap `_apply` program.
    """
    grads, (mse, gterm) = nnx.grad(_losses, has_aux=True)(
        model, profiles, z_targets, grad_profiles, z_grad_targets, inv_scale, weight
    )
    return grads, mse, gterm


@nnx.jit
def _apply(model: SurrogateCNN, optimizer: nnx.Optimizer, grads: Any) -> None:
    """One AdamW update in place (scoped standard promotion: optax raises floats to an int32 step count)."""
    with jax.numpy_dtype_promotion("standard"):
        optimizer.update(model, grads)


def sobolev_step(
    model: SurrogateCNN,
    optimizer: nnx.Optimizer,
    profiles: Float[ArrayLike, "batch time"],
    z_targets: Float[ArrayLike, "batch 4"],
    grad_profiles: Float[ArrayLike, "gbatch time"],
    z_grad_targets: Float[ArrayLike, "gbatch 4 time"],
    inv_scale: Float[ArrayLike, " 4"],
    weight: Float[ArrayLike, ""],
) -> tuple[Float[Array, ""], Float[Array, ""]]:
    """One AdamW step on MSE + weight · gradient term; updates in place, returns (mse, gradient term)."""
    grads, mse, gterm = sobolev_grads(
        model, profiles, z_targets, grad_profiles, z_grad_targets, inv_scale, weight
    )
    _apply(model, optimizer, grads)
    return mse, gterm


def _check(profiles, targets, grad_profiles, grad_targets):
    x = np.asarray(profiles, np.float32)
    y = np.asarray(targets, np.float32)
    xg = np.asarray(grad_profiles, np.float32)
    g = np.asarray(grad_targets, np.float32)
    if x.ndim != 2 or y.shape != (x.shape[0], 4):
        raise ValueError(f"need profiles (N, T) and targets (N, 4), got {x.shape} and {y.shape}")
    if xg.ndim != 2 or xg.shape[1] != x.shape[1] or g.shape != (xg.shape[0], 4, x.shape[1]):
        raise ValueError(
            f"need grad_profiles (M, {x.shape[1]}) and grad_targets (M, 4, {x.shape[1]}), "
            f"got {xg.shape} and {g.shape}"
        )
    for name, a in (("profiles", x), ("targets", y), ("grad_profiles", xg), ("grad_targets", g)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must be finite (drop failed axon solves first)")
    return x, y, xg, g


def fit_sobolev(
    profiles: Float[ArrayLike, "n time"],
    targets: Float[ArrayLike, "n 4"],
    grad_profiles: Float[ArrayLike, "m time"],
    grad_targets: Float[ArrayLike, "m 4 time"],
    *,
    dt_s: float,
    key: PRNGKeyArray,
    config: SurrogateConfig | None = None,
    train: TrainConfig | None = None,
    sobolev: SobolevConfig | None = None,
) -> tuple[SurrogateCNN, SobolevHistory]:
    """Train a `SurrogateCNN` on outputs and, on a subset, on the ODE's input gradients (module docstring).

    Args:
        profiles: fiber strain [-] (N, T), uniform step `dt_s` [s].
        targets: axon outputs (N, 4) (`axojax.axon` order and units).
        grad_profiles: profiles with reference gradients (M, T), typically a subset of `profiles`.
        grad_targets: d output / d strain sample (M, 4, T) from `ode_jacobians` (output unit per unit strain).
        dt_s: sampling step [s].
        key: PRNG key (initialisation, validation split, shuffling).
        config: architecture (default `SurrogateConfig(n_time=T, dt_s=dt_s)`).
        train: optimisation settings (default `TrainConfig()`).
        sobolev: gradient-term settings (default `SobolevConfig()`).

    Returns:
        The model at the epoch of lowest validation MSE, and its `SobolevHistory`.

    Raises:
        ValueError: mismatched shapes, non-finite data, too few profiles, config/data mismatch.
    """
    x, y, xg, g = _check(profiles, targets, grad_profiles, grad_targets)
    n, t = x.shape
    config = SurrogateConfig(n_time=t, dt_s=float(dt_s)) if config is None else config
    if config.n_time != t or not np.isclose(config.dt_s, dt_s, rtol=1e-6, atol=0.0):
        raise ValueError(
            f"config expects T={config.n_time}, dt={config.dt_s:g} s; data has T={t}, dt={dt_s:g} s"
        )
    train = TrainConfig() if train is None else train
    sobolev = SobolevConfig() if sobolev is None else sobolev
    n_val = max(1, int(round(train.val_fraction * n)))
    if n - n_val < 2:
        raise ValueError(f"need at least {n_val + 2} profiles, got {n}")
    k_init, k_split, k_shuffle, k_grad = jax.random.split(key, 4)
    perm = np.asarray(jax.random.permutation(k_split, n))
    x_val, y_val = x[perm[:n_val]], y[perm[:n_val]]
    x_tr, y_tr = x[perm[n_val:]], y[perm[n_val:]]
    n_tr = n - n_val

    model = _init_model(config, k_init)
    model.set_statistics(jnp.asarray(x_tr), jnp.asarray(y_tr))
    mean = np.asarray(model.out_mean[...])
    std = np.asarray(model.out_std[...])
    z_tr, z_val = (y_tr - mean) / std, (y_val - mean) / std
    gz = g / std[None, :, None]
    scale = np.mean(np.sum(gz.astype(np.float64) ** 2, axis=-1), axis=0)
    inv_scale = np.where(scale > 0, 1.0 / np.where(scale > 0, scale, 1.0), 0.0).astype(np.float32)

    bs = min(train.batch_size, n_tr)
    gbs = min(sobolev.grad_batch_size, xg.shape[0])
    n_batches = n_tr // bs
    total = max(1, train.epochs * n_batches)
    schedule = optax.warmup_cosine_decay_schedule(
        init_value=0.0,
        peak_value=train.learning_rate,
        warmup_steps=max(1, int(train.warmup_fraction * total)),
        decay_steps=total,
        end_value=0.01 * train.learning_rate,
    )
    optimizer = nnx.Optimizer(model, optax.adamw(schedule, weight_decay=train.weight_decay), wrt=nnx.Param)
    weight = jnp.asarray(sobolev.weight, jnp.float32)
    inv_scale_j = jnp.asarray(inv_scale)
    epoch_keys = jax.random.split(k_shuffle, train.epochs)
    perms = np.asarray(jax.vmap(lambda k: jax.random.permutation(k, n_tr))(epoch_keys))
    gidx = np.asarray(jax.random.randint(k_grad, (train.epochs, n_batches, gbs), 0, xg.shape[0]))
    x_val_j, z_val_j = jnp.asarray(x_val), jnp.asarray(z_val, jnp.float32)
    best_val, best_epoch, best_state = np.inf, -1, None
    mse_hist, grad_hist, val_hist = [], [], []
    for epoch in range(train.epochs):
        idx = perms[epoch, : n_batches * bs].reshape(n_batches, bs)
        terms = [
            sobolev_step(
                model, optimizer, x_tr[i], z_tr[i].astype(np.float32), xg[j], gz[j], inv_scale_j, weight
            )
            for i, j in zip(idx, gidx[epoch], strict=True)
        ]
        mse_hist.append(float(np.mean([float(m) for m, _ in terms])))
        grad_hist.append(float(np.mean([float(gt) for _, gt in terms])))
        val = float(eval_loss(model, x_val_j, z_val_j))
        val_hist.append(val)
        if val < best_val:
            best_val, best_epoch = val, epoch
            best_state = jax.tree.map(jnp.copy, nnx.to_pure_dict(nnx.state(model)))
        elif epoch - best_epoch >= train.patience:
            break
    if best_state is not None:
        state = nnx.state(model)
        nnx.replace_by_pure_dict(state, best_state)
        nnx.update(model, state)
    return model, SobolevHistory(
        np.asarray(mse_hist), np.asarray(grad_hist), np.asarray(val_hist), best_epoch
    )
