"""Input gradients of the CNN surrogate: d(output) / d(strain sample), through the NNX model."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, ArrayLike, Float

from .._validate import check_finite
from ..surrogate import SurrogateCNN


def check_profiles(profiles: ArrayLike, n_time: int | None = None, *, name: str = "profiles") -> Array:
    """Validate a batch of fiber strain profiles [-] (B, T): rank, length, finiteness; returns an array.

    Integer input becomes float32; floating input keeps its dtype.

    Raises:
        ValueError: not 2-D, wrong number of samples, empty, or NaN/inf.
    """
    x = jnp.asarray(profiles)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"{name}: expected a non-empty batch of shape (batch, time), got {x.shape}")
    if n_time is not None and x.shape[1] != n_time:
        raise ValueError(f"{name}: expected {n_time} time samples, got {x.shape[1]}")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.float32)
    check_finite(x, where="", field=name)
    return x


@functools.partial(jax.jit, static_argnums=0)
def _surrogate_jacobian(graphdef, state, profiles):
    def total(x):  # rows are independent, so d(sum over batch)/dx[b] is the per-profile gradient
        return jnp.sum(nnx.merge(graphdef, state)(x), axis=0)

    return jnp.moveaxis(jax.jacrev(total)(profiles), 0, 1)


def surrogate_input_gradients(
    model: SurrogateCNN, profiles: Float[ArrayLike, "batch time"]
) -> Float[Array, "batch 4 time"]:
    """Gradients of the surrogate's four outputs w.r.t. every strain sample of each profile.

    Reverse mode (`jax.jacrev`) through the NNX model, split into graph and state so the model is
    not modified. The surrogate evaluates in float32 whatever the input dtype.

    Args:
        model: a `SurrogateCNN`.
        profiles: fiber strain [-], shape (B, T) with T = `model.config.n_time`.

    Returns:
        float32 (B, 4, T): d output_k / d strain(t_j), in the output's unit per unit strain
        (outputs in `axojax.surrogate.OUTPUT_NAMES` order).

    Raises:
        ValueError: wrong shape or non-finite profiles.
    """
    x = check_profiles(profiles, model.config.n_time).astype(jnp.float32)
    graphdef, state = nnx.split(model)
    return _surrogate_jacobian(graphdef, state, x)
