"""Pure, jit-compiled, batched prediction with an out-of-distribution check."""

from __future__ import annotations

import functools
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jaxtyping import Array, ArrayLike, Bool, Float

from .. import parallel
from ._model import SurrogateCNN


class OutOfDistributionWarning(UserWarning):
    """Some profiles lie outside the surrogate's training range: its outputs there are extrapolations."""


@functools.partial(jax.jit, static_argnums=0)
def _apply(graphdef, state, profiles):
    return nnx.merge(graphdef, state).infer(profiles)


def inference_parts(model: SurrogateCNN) -> tuple[Any, Any]:
    """The model as (static graph, array state) for `apply_inference` inside a caller's `jax.jit`.

    The graph is hashable (pass it as a static argument), the state a pytree of float32 arrays; split
    once and reuse both, so repeated calls hit the same compiled program.
    """
    return nnx.split(model)


def apply_inference(
    graphdef: Any, state: Any, profiles: Float[Array, "batch time"], margin: float = 0.1
) -> tuple[Float[Array, "batch 4"], Bool[Array, " batch"]]:
    """Outputs and out-of-distribution flags of one batch: pure and traceable (no checks, no warning).

    The numbers of `predict(..., check=False)` and `check_inputs(..., margin=margin)` on the same batch,
    for callers that fuse the surrogate into their own jitted program (`axojax.wholebrain.whole_brain`).

    Args:
        graphdef, state: from `inference_parts(model)`.
        profiles: fiber strain [-], float32 (B, T) on the model's grid (not validated here).
        margin: see `check_inputs` (a Python float: static under jit).

    Returns:
        (outputs (B, 4) in `predict`'s units, flags (B,) True where out of distribution).
    """
    model = nnx.merge(graphdef, state)
    return model.infer(profiles), model.out_of_distribution(profiles, margin)


def warn_out_of_distribution(model: SurrogateCNN, n_flagged: int, n_total: int, margin: float) -> None:
    """Emit the `OutOfDistributionWarning` of `check_inputs` for `n_flagged` of `n_total` profiles (none
    when `n_flagged` is 0)."""
    if n_flagged:
        warnings.warn(
            f"surrogate: {n_flagged} of {n_total} profile(s) outside the training range "
            f"(peak |strain| > {float(model.max_abs_strain[...]):.4g} or peak |rate| > "
            f"{float(model.max_abs_rate_per_s[...]):.4g} /s, margin {margin:.0%}); "
            "their predictions are extrapolations",
            OutOfDistributionWarning,
            stacklevel=3,
        )


def _apply_rows(profiles, graphdef, state):
    return _apply(graphdef, state, profiles)


@functools.partial(jax.jit, static_argnums=(0, 3))
def _ood(graphdef, state, profiles, margin):
    return nnx.merge(graphdef, state).out_of_distribution(profiles, margin)


def _validate(model: SurrogateCNN, profiles: ArrayLike, dt_s: float | None) -> Array:
    profiles = jnp.asarray(profiles)
    if profiles.ndim != 2:
        raise ValueError(f"profiles must have shape (batch, time), got shape {profiles.shape}")
    t = model.config.n_time
    if profiles.shape[1] != t:
        raise ValueError(
            f"profiles have {profiles.shape[1]} time samples, the surrogate was trained on {t} "
            f"(duration {t * model.config.dt_s:g} s at dt {model.config.dt_s:g} s); resample first"
        )
    if dt_s is not None and not np.isclose(dt_s, model.config.dt_s, rtol=1e-6, atol=0.0):
        raise ValueError(f"profiles sampled at dt {dt_s:g} s, the surrogate expects {model.config.dt_s:g} s")
    return profiles.astype(jnp.float32)


def check_inputs(
    model: SurrogateCNN,
    profiles: Float[ArrayLike, "batch time"],
    *,
    margin: float = 0.1,
    dt_s: float | None = None,
    warn: bool = True,
) -> Bool[Array, " batch"]:
    """Flag profiles outside the training distribution.

    Args:
        model: a trained `SurrogateCNN`.
        profiles: fiber strain [-], shape (B, T) with T = `model.config.n_time`.
        margin: relative tolerance over the training maxima of peak |strain| [-] and
            peak |dε/dt| [1/s] (0.1 = 10 % beyond the training range).
        dt_s: sampling step of `profiles` [s], checked against the model's if given.
        warn: emit an `OutOfDistributionWarning` with the count when any profile is flagged.

    Returns:
        Boolean mask (B,), True where a profile is out of distribution.

    Raises:
        ValueError: wrong rank, number of samples (duration) or time step.
    """
    x = _validate(model, profiles, dt_s)
    graphdef, state = nnx.split(model)
    flags = _ood(graphdef, state, x, float(margin))
    if warn:
        warn_out_of_distribution(model, int(jnp.sum(flags)), x.shape[0], margin)
    return flags


def predict(
    model: SurrogateCNN,
    profiles: Float[ArrayLike, "batch time"],
    *,
    batch_size: int = 4096,
    check: bool = True,
    margin: float = 0.1,
    dt_s: float | None = None,
) -> Float[Array, "batch 4"]:
    """Predict the four axon outputs for a batch of fiber strain profiles.

    The model is split into a static graph and its state, and one jit-compiled program is run
    over fixed-size chunks (the last one padded), so any B compiles once per `batch_size`. With D
    local devices each chunk is split over them (`axojax.parallel.run_sharded`; zero rows pad it to
    a multiple of D); the outputs do not depend on D.

    Args:
        model: a trained `SurrogateCNN` (not modified).
        profiles: fiber strain [-] (fractions), shape (B, T), on the training grid.
        batch_size: profiles per compiled chunk.
        check: run `check_inputs` and warn about out-of-distribution profiles.
        margin: see `check_inputs`.
        dt_s: sampling step of `profiles` [s], checked against the model's if given.

    Returns:
        float32 array (B, 4): peak_mt_strain [-], peak_axolemma_strain [-], tau_failure_pct [%],
        nf_failure_pct [%].

    Raises:
        ValueError: wrong rank, number of samples or time step.
    """
    x = _validate(model, profiles, dt_s)
    if check:
        check_inputs(model, x, margin=margin, warn=True)
    graphdef, state = nnx.split(model)
    n = x.shape[0]
    chunk = max(1, min(int(batch_size), n))
    outs = []
    for start in range(0, n, chunk):
        xb = x[start : start + chunk]
        m = xb.shape[0]
        if m < chunk:
            xb = jnp.concatenate([xb, jnp.zeros((chunk - m, x.shape[1]), x.dtype)], axis=0)
        # one device: _apply(graphdef, state, xb)
        outs.append(parallel.run_sharded(_apply_rows, (xb,), (graphdef, state), pad_mode="zeros")[:m])
    if not outs:
        return jnp.zeros((0, 4), jnp.float32)
    return jnp.concatenate(outs, axis=0)
