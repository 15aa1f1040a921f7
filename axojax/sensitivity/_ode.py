"""Reverse-mode derivatives of the mechanistic axon model w.r.t. strain samples and parameters.

`jax.vmap` over profiles of `jax.jacrev` of `axojax.axon.simulate` itself (diffrax `Bosh3`, PID clipped to
the input samples, the default `RecursiveCheckpointAdjoint`, i.e. exact reverse-mode derivatives of the
discrete solve). Its peaks are arg-max gathers (`axojax.axon.peak`), so the derivatives are finite.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

from ..axon import AxonParams, SolverSettings, simulate, validate_profile
from ._surrogate import check_profiles


@eqx.filter_jit
def _jacobians(t_s, strain, params, settings):
    def f(s, p):
        res = simulate(t_s, s, p, settings=settings)
        out = res.as_array()
        return out, (out, res.success)

    def one(s):
        jac, (out, ok) = jax.jacrev(f, argnums=(0, 1), has_aux=True)(s, params)
        return out, ok, jac[0], jac[1]

    return jax.vmap(one)(strain)


@dataclasses.dataclass(frozen=True)
class OdeJacobians:
    """Outputs of the axon model and their derivatives for a batch of B profiles of T samples.

    Attributes:
        outputs: (B, 4) in `axojax.axon.OUTPUT_NAMES` order (strains [-], failures [%]); NaN where the
            solve failed.
        d_strain: (B, 4, T), d output / d strain sample [output unit per unit strain]; NaN where failed.
        d_params: `AxonParams` whose every leaf has shape (B, 4, *field shape): d output / d field
            [output unit per field unit]; NaN where failed.
        success: (B,) solver success flags.
    """

    outputs: Array
    d_strain: Array
    d_params: AxonParams
    success: Array


def ode_jacobians(
    t_s: Float[ArrayLike, " time"],
    profiles: Float[ArrayLike, "batch time"],
    params: AxonParams | None = None,
    *,
    settings: SolverSettings | None = None,
    chunk_size: int | None = None,
) -> OdeJacobians:
    """Outputs of the axon model and their reverse-mode derivatives w.r.t. strain and every parameter.

    One compiled program per (chunk, T, dtype, settings): `jax.vmap` over profiles of `jax.jacrev` through
    the diffrax solve (module docstring). The dtype is that of `profiles` (float32 unless given float64).

    Args:
        t_s: time grid [s], strictly increasing, shape (T,).
        profiles: fiber strain [-] (fractions), shape (B, T).
        params: `AxonParams` (default `AxonParams.male()`), cast to the profiles' dtype.
        settings: solver settings (default `SolverSettings()`, as `simulate`).
        chunk_size: profiles per compiled call (the last chunk is padded with copies of the first
            profile); default: all B at once. A fixed chunk size compiles once for any B.

    Returns:
        `OdeJacobians`.

    Raises:
        ValueError: bad shapes, NaN/inf, non-increasing `t_s`, strain in percent, chunk_size < 1.
    """
    x = check_profiles(profiles)
    validate_profile(t_s, x)
    settings = SolverSettings() if settings is None else settings
    params = (AxonParams.male() if params is None else params).astype(x.dtype)
    t = jnp.asarray(t_s, x.dtype)
    n = x.shape[0]
    chunk = n if chunk_size is None else int(chunk_size)
    if chunk < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    parts = []
    for start in range(0, n, chunk):
        xb = x[start : start + chunk]
        m = xb.shape[0]
        if m < chunk:
            xb = jnp.concatenate([xb, jnp.broadcast_to(x[:1], (chunk - m, x.shape[1]))], axis=0)
        parts.append(jax.tree.map(lambda a, m=m: a[:m], _jacobians(t, xb, params, settings)))
    out, ok, d_strain, d_params = jax.tree.map(lambda *a: jnp.concatenate(a, axis=0), *parts)
    nan = jnp.asarray(jnp.nan, x.dtype)

    def mask(a):
        return jnp.where(ok.reshape(ok.shape + (1,) * (a.ndim - 1)), a, nan)

    return OdeJacobians(
        outputs=mask(out), d_strain=mask(d_strain), d_params=jax.tree.map(mask, d_params), success=ok
    )


def ode_input_gradients(
    t_s: Float[ArrayLike, " time"],
    profiles: Float[ArrayLike, "batch time"],
    params: AxonParams | None = None,
    *,
    settings: SolverSettings | None = None,
    chunk_size: int | None = None,
) -> tuple[Float[Array, "batch 4"], Float[Array, "batch 4 time"]]:
    """Outputs (B, 4) and d output / d strain sample (B, 4, T) of the axon model (see `ode_jacobians`)."""
    jac = ode_jacobians(t_s, profiles, params, settings=settings, chunk_size=chunk_size)
    return jac.outputs, jac.d_strain
