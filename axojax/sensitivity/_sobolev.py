"""Gradient-aware (Sobolev) training of the CNN surrogate: match outputs and input gradients of the ODE.

Loss per step, in the surrogate's z-scored output space (z_k = (y_k - mean_k) / std_k):

    L = mean_{b,k} (z_pred - z)^2 + λ mean_{k: s_k > 0} mean_{b in G} |∂z_pred,k/∂ε_b - g_b,k / std_k|^2 / s_k

where ε_b is a profile (T samples) of the gradient subset G, g_b,k = d y_k / d ε_b(t) from the mechanistic
model (`ode_jacobians`), and s_k = mean_b |g_b,k / std_k|^2 over the subset normalises each output's
gradient term (outputs whose reference gradients are all zero, like NF failure below threshold, are left
out). For equal norms the gradient term is 2 (1 - cosine), so it targets the agreement metric directly.
Training is `axojax.surrogate.fit` (split, normalisation, AdamW with warmup-cosine, early stopping on the
validation MSE, best epoch restored) with this loss's step (`make_step`); λ = 0 is the plain loss.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ..surrogate import StepContext, StepFn, SurrogateCNN, SurrogateConfig, TrainConfig, fit


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


def _check_gradients(n_time: int, grad_profiles, grad_targets) -> tuple[np.ndarray, np.ndarray]:
    xg = np.asarray(grad_profiles, np.float32)
    g = np.asarray(grad_targets, np.float32)
    if xg.ndim != 2 or xg.shape[1] != n_time or g.shape != (xg.shape[0], 4, n_time):
        raise ValueError(
            f"need grad_profiles (M, {n_time}) and grad_targets (M, 4, {n_time}), "
            f"got {xg.shape} and {g.shape}"
        )
    for name, a in (("grad_profiles", xg), ("grad_targets", g)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must be finite (drop failed axon solves first)")
    return xg, g


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

    `axojax.surrogate.fit` with a step on MSE + λ · gradient term (same split, normalisation, optimiser
    and early stopping; each step draws `grad_batch_size` gradient profiles at random).

    Args:
        profiles: fiber strain [-] (N, T), uniform step `dt_s` [s].
        targets: axon outputs (N, 4) (`axojax.axon` order and units).
        grad_profiles: profiles with reference gradients (M, T), typically a subset of `profiles`.
        grad_targets: d output / d strain sample (M, 4, T) from `ode_jacobians` (output unit per unit strain).
        dt_s: sampling step [s].
        key: PRNG key (initialisation, validation split, shuffling, gradient batches).
        config: architecture (default `SurrogateConfig(n_time=T, dt_s=dt_s)`).
        train: optimisation settings (default `TrainConfig()`).
        sobolev: gradient-term settings (default `SobolevConfig()`).

    Returns:
        The model at the epoch of lowest validation MSE, and its `SobolevHistory`.

    Raises:
        ValueError: mismatched shapes, non-finite data, too few profiles, config/data mismatch.
    """
    if np.ndim(profiles) != 2:
        raise ValueError(f"need profiles (N, T), got shape {np.shape(profiles)}")
    xg, g = _check_gradients(np.shape(profiles)[1], grad_profiles, grad_targets)
    sobolev = SobolevConfig() if sobolev is None else sobolev
    gbs = min(sobolev.grad_batch_size, xg.shape[0])
    weight = jnp.asarray(sobolev.weight, jnp.float32)

    def make_step(ctx: StepContext) -> StepFn:
        std = np.asarray(ctx.model.out_std[...])
        gz = g / std[None, :, None]
        scale = np.mean(np.sum(gz.astype(np.float64) ** 2, axis=-1), axis=0)
        inv_scale = jnp.asarray(np.where(scale > 0, 1.0 / np.where(scale > 0, scale, 1.0), 0.0), jnp.float32)
        shape = (ctx.train.epochs, ctx.n_batches, gbs)
        gidx = np.asarray(jax.random.randint(ctx.key, shape, 0, xg.shape[0]))

        def step(epoch: int, batch: int, rows: np.ndarray) -> tuple[Array, ...]:
            j = gidx[epoch, batch]
            x, z = ctx.profiles[rows], ctx.z_targets[rows]
            return sobolev_step(ctx.model, ctx.optimizer, x, z, xg[j], gz[j], inv_scale, weight)

        return step

    model, hist = fit(profiles, targets, dt_s=dt_s, key=key, config=config, train=train, make_step=make_step)
    terms = hist.train_terms.reshape(-1, 2)
    return model, SobolevHistory(terms[:, 0], terms[:, 1], hist.val_loss, hist.best_epoch)
