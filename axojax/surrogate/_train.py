"""Training (optax AdamW, warmup-cosine schedule, early stopping) and k-fold learning curves."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ._metrics import nrmse_pct, r2_score
from ._model import N_OUTPUTS, SurrogateCNN, SurrogateConfig
from ._predict import predict


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings.

    Attributes:
        epochs: maximum number of passes over the training split.
        batch_size: profiles per step (capped at the training-split size; the last partial batch
            of each shuffled epoch is dropped so every step has one compiled shape).
        learning_rate: peak AdamW learning rate of the warmup-cosine schedule.
        weight_decay: AdamW decoupled weight decay.
        warmup_fraction: fraction of all steps spent in linear warmup.
        patience: stop after this many epochs without a lower validation loss (best state kept).
        val_fraction: fraction of the profiles held out for early stopping (at least one).
    """

    epochs: int = 300
    batch_size: int = 64
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.05
    patience: int = 80
    val_fraction: float = 0.15


@dataclasses.dataclass(frozen=True)
class TrainHistory:
    """Per-epoch mean training loss and validation loss (z-scored MSE), and the epoch kept.

    `train_loss` is the first loss term of the step; `train_terms` (epochs, K) holds the per-epoch mean of
    every term a step returns (K = 1 for the default step: the MSE).
    """

    train_loss: np.ndarray
    val_loss: np.ndarray
    best_epoch: int
    train_terms: np.ndarray | None = None


def _mse(model: SurrogateCNN, x: Array, z: Array) -> Array:
    return jnp.mean((model.normalized(x) - z) ** 2)


@nnx.jit
def train_step(
    model: SurrogateCNN,
    optimizer: nnx.Optimizer,
    profiles: Float[Array, "batch time"],
    z_targets: Float[Array, "batch 4"],
) -> Float[Array, ""]:
    """One AdamW step on the z-scored MSE; updates `model` and `optimizer` in place, returns the loss.

    optax's bias correction raises a float to an int32 step count, which strict dtype promotion
    rejects, so the step is traced under scoped standard promotion (no global config change).
    """
    with jax.numpy_dtype_promotion("standard"):
        loss, grads = nnx.value_and_grad(_mse)(model, profiles, z_targets)
        optimizer.update(model, grads)
    return loss


@nnx.jit
def eval_loss(
    model: SurrogateCNN, profiles: Float[Array, "batch time"], z_targets: Float[Array, "batch 4"]
) -> Float[Array, ""]:
    """z-scored MSE of `model` on a batch (no update)."""
    return _mse(model, profiles, z_targets)


@functools.partial(nnx.jit, static_argnums=0)
def _init_model(config: SurrogateConfig, key: PRNGKeyArray) -> SurrogateCNN:
    """Initialise under jit (one compile instead of one per eager initialiser)."""
    return SurrogateCNN(config, rngs=nnx.Rngs(params=key))


StepFn = Callable[[int, int, np.ndarray], tuple[Array, ...]]
"""A training step: (epoch, batch number, training-split rows) -> scalar loss terms (first: reported)."""


@dataclasses.dataclass(frozen=True)
class StepContext:
    """What `fit` hands a step factory (`make_step`) once the data are split and normalised.

    Attributes:
        model: the surrogate in training (statistics set); the step updates it in place.
        optimizer: its `nnx.Optimizer` (AdamW, warmup-cosine schedule over all steps).
        profiles: training split, fiber strain [-] (n_train, T) float32 (NumPy, indexed by batch rows).
        z_targets: training-split outputs z-scored with the model's statistics (n_train, 4) float32.
        n_batches: steps per epoch.
        train: the optimisation settings.
        key: PRNG key for the step's own randomness (independent of initialisation, split and shuffling).
    """

    model: SurrogateCNN
    optimizer: nnx.Optimizer
    profiles: np.ndarray
    z_targets: np.ndarray
    n_batches: int
    train: TrainConfig
    key: PRNGKeyArray


def mse_step(ctx: StepContext) -> StepFn:
    """The default step of `fit`: one AdamW step on the z-scored MSE of the batch (`train_step`)."""
    step = nnx.cached_partial(train_step, ctx.model, ctx.optimizer)  # skips graph traversal on each call

    def run(epoch: int, batch: int, rows: np.ndarray) -> tuple[Array, ...]:
        return (step(ctx.profiles[rows], ctx.z_targets[rows]),)

    return run


def _zscore(model: SurrogateCNN, targets: Array) -> Array:
    return (targets - model.out_mean[...][None, :]) / model.out_std[...][None, :]


def _check_data(profiles: ArrayLike, targets: ArrayLike) -> tuple[Array, Array]:
    x = jnp.asarray(profiles, jnp.float32)
    y = jnp.asarray(targets, jnp.float32)
    if x.ndim != 2 or y.shape != (x.shape[0], N_OUTPUTS):
        raise ValueError(f"need profiles (N, T) and targets (N, {N_OUTPUTS}), got {x.shape} and {y.shape}")
    if not (bool(jnp.all(jnp.isfinite(x))) and bool(jnp.all(jnp.isfinite(y)))):
        raise ValueError("profiles and targets must be finite (drop failed axon solves first)")
    return x, y


def fit(
    profiles: Float[ArrayLike, "n time"],
    targets: Float[ArrayLike, "n 4"],
    *,
    dt_s: float,
    key: PRNGKeyArray,
    config: SurrogateConfig | None = None,
    train: TrainConfig | None = None,
    make_step: Callable[[StepContext], StepFn] | None = None,
) -> tuple[SurrogateCNN, TrainHistory]:
    """Train a `SurrogateCNN` on simulated profiles.

    A random `val_fraction` of the data is held out for early stopping; normalisation statistics and
    training ranges are fitted on the rest. Each epoch runs the step on shuffled batches, then scores
    the z-scored MSE on the held-out profiles; training stops after `patience` epochs without a lower
    value and the best epoch's parameters are restored. Everything random derives from `key`, so a
    fixed key gives the same model. Gradient-aware (Sobolev) training, which also matches the axon
    model's input gradients, is `axojax.sensitivity.fit_sobolev` (this loop with its own step).

    Args:
        profiles: fiber strain [-], shape (N, T), uniform step `dt_s`.
        targets: axon outputs (N, 4) in `axojax.axon` order and units (fractions and %).
        dt_s: sampling step [s].
        key: PRNG key (init, split and shuffling).
        config: architecture (default: `SurrogateConfig(n_time=T, dt_s=dt_s)`); its n_time and dt_s
            must match the data.
        train: optimisation settings (default `TrainConfig()`).
        make_step: builds the per-batch step from a `StepContext` (called once, before the first
            epoch); the step updates `ctx.model` through `ctx.optimizer` and returns its loss terms.
            Default `mse_step`.

    Returns:
        The model at the epoch of lowest validation loss, and its `TrainHistory`.

    Raises:
        ValueError: mismatched shapes, non-finite data, too few profiles, or config/data mismatch.
    """
    x, y = _check_data(profiles, targets)
    n, t = x.shape
    config = SurrogateConfig(n_time=t, dt_s=float(dt_s)) if config is None else config
    if config.n_time != t or not np.isclose(config.dt_s, dt_s, rtol=1e-6, atol=0.0):
        raise ValueError(
            f"config expects T={config.n_time}, dt={config.dt_s:g} s; data has T={t}, dt={dt_s:g} s"
        )
    train = TrainConfig() if train is None else train
    n_val = max(1, int(round(train.val_fraction * n)))
    if n - n_val < 2:
        raise ValueError(f"need at least {n_val + 2} profiles, got {n}")
    k_init, k_split, k_shuffle = jax.random.split(key, 3)
    k_step = jax.random.split(key, 4)[3]  # the default step draws nothing; fit_sobolev its gradient batches
    perm = jax.random.permutation(k_split, n)
    x_val, y_val = x[perm[:n_val]], y[perm[:n_val]]
    x_tr, y_tr = x[perm[n_val:]], y[perm[n_val:]]
    n_tr = n - n_val

    model = _init_model(config, k_init)
    model.set_statistics(x_tr, y_tr)
    z_tr, z_val = _zscore(model, y_tr), _zscore(model, y_val)
    x_np, z_np = np.asarray(x_tr), np.asarray(z_tr)  # host-side batching: cheap numpy gathers

    bs = min(train.batch_size, n_tr)
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

    ctx = StepContext(model, optimizer, x_np, z_np, n_batches, train, k_step)
    step = (mse_step if make_step is None else make_step)(ctx)
    epoch_keys = jax.random.split(k_shuffle, train.epochs)
    perms = np.asarray(jax.vmap(lambda k: jax.random.permutation(k, n_tr))(epoch_keys))
    best_val, best_epoch = np.inf, -1
    best_state = None
    terms_hist, val_hist = [], []
    for epoch in range(train.epochs):
        idx = perms[epoch, : n_batches * bs].reshape(n_batches, bs)
        terms = [step(epoch, b, rows) for b, rows in enumerate(idx)]
        terms_hist.append([float(jnp.mean(jnp.stack(term))) for term in zip(*terms, strict=True)])
        val = float(eval_loss(model, x_val, z_val))
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
    train_loss = np.asarray([row[0] for row in terms_hist])
    return model, TrainHistory(train_loss, np.asarray(val_hist), best_epoch, np.asarray(terms_hist))


@dataclasses.dataclass(frozen=True)
class LearningCurve:
    """k-fold cross-validation over training-set sizes.

    Attributes:
        sizes: training-pool sizes N (S,); each N is split into k folds (train on k−1, test on 1).
        r2: R² per size, fold and output (S, k, 4).
        nrmse_pct: NRMSE [%] per size, fold and output (S, k, 4).
        threshold: the R² every output must exceed.
        min_size: smallest N whose fold-mean R² exceeds `threshold` on every output, or None.
    """

    sizes: np.ndarray
    r2: np.ndarray
    nrmse_pct: np.ndarray
    threshold: float
    min_size: int | None

    @property
    def r2_mean(self) -> np.ndarray:
        """Fold-mean R² (S, 4)."""
        return self.r2.mean(axis=1)

    @property
    def nrmse_mean(self) -> np.ndarray:
        """Fold-mean NRMSE [%] (S, 4)."""
        return self.nrmse_pct.mean(axis=1)


def learning_curve(
    profiles: Float[ArrayLike, "n time"],
    targets: Float[ArrayLike, "n 4"],
    *,
    dt_s: float,
    sizes: tuple[int, ...] | list[int],
    key: PRNGKeyArray,
    folds: int = 5,
    threshold: float = 0.90,
    config: SurrogateConfig | None = None,
    train: TrainConfig | None = None,
) -> LearningCurve:
    """Cross-validated accuracy against training-set size (the study's search for N).

    The data are shuffled once with `key`; size N uses the first N profiles (nested subsets), split
    into `folds` folds. Each fold's model is trained with `fit` on the other folds and scored on it.

    Args:
        profiles, targets, dt_s, config, train: as in `fit`.
        sizes: pool sizes N to evaluate, each <= number of profiles.
        key: PRNG key for the shuffle, fold models and their training.
        folds: k of k-fold cross-validation (>= 2).
        threshold: R² that every output must exceed for `min_size`.

    Returns:
        `LearningCurve`.

    Raises:
        ValueError: a size larger than the data or too small for `folds`.
    """
    x, y = _check_data(profiles, targets)
    n = x.shape[0]
    sizes = sorted(int(s) for s in sizes)
    if folds < 2:
        raise ValueError(f"folds must be >= 2, got {folds}")
    if not sizes or sizes[-1] > n or sizes[0] < 2 * folds:
        raise ValueError(f"sizes must lie in [{2 * folds}, {n}], got {sizes}")
    k_perm, k_fit = jax.random.split(key)
    perm = np.asarray(jax.random.permutation(k_perm, n))
    r2 = np.zeros((len(sizes), folds, N_OUTPUTS))
    nr = np.zeros_like(r2)
    for i, size in enumerate(sizes):
        pool = perm[:size]
        fold_of = np.arange(size) % folds
        for f in range(folds):
            test, tr = pool[fold_of == f], pool[fold_of != f]
            model, _ = fit(
                x[tr],
                y[tr],
                dt_s=dt_s,
                key=jax.random.fold_in(k_fit, i * folds + f),
                config=config,
                train=train,
            )
            pred = predict(model, x[test], check=False)
            r2[i, f] = np.asarray(r2_score(y[test], pred))
            nr[i, f] = np.asarray(nrmse_pct(y[test], pred))
    mean = r2.mean(axis=1)
    ok = np.all(mean > threshold, axis=1)
    min_size = int(np.asarray(sizes)[ok][0]) if ok.any() else None
    return LearningCurve(np.asarray(sizes), r2, nr, float(threshold), min_size)
