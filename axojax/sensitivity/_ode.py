"""Reverse-mode derivatives of the mechanistic axon model w.r.t. strain samples and parameters.

The values are those of `axojax.axon.simulate` (same vector field, solver, controller and adjoint: diffrax
`Bosh3`, PID clipped to the input samples, the default `RecursiveCheckpointAdjoint`, i.e. exact reverse-mode
derivatives of the discrete solve). Only the peak read-out differs in how it is differentiated: `simulate`
takes peaks with nested `jnp.max`, whose derivative divides by the number of entries equal to the maximum.
Under jit, XLA may recompute the compared values in another fusion, no entry compares equal, and the
derivative is 0/0 = NaN; in reverse mode that NaN reaches every output (0 * NaN). Here every peak is a
gather at the `argmax` (one-hot derivative), which gives the same values and finite derivatives. A test
checks that the outputs equal `simulate`'s.
"""

from __future__ import annotations

import dataclasses

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float

from .. import _units
from ..axon import AxonParams, SolverSettings, _model, validate_profile
from ._surrogate import check_profiles


def peak(x: Float[Array, "*shape"]) -> Float[Array, ""]:
    """Maximum of all entries of `x`, differentiated as a gather at the arg-max (one-hot derivative)."""
    flat = x.reshape(-1)
    return flat[jnp.argmax(jax.lax.stop_gradient(flat))]


def peak_outputs(
    states: _model.State,
    strain: Float[Array, " time"],
    ip: _model.Internal,
    geo: _model.Geometry,
    grid: _model.Grid,
) -> Float[Array, " 4"]:
    """The four outputs from a state trajectory (leading time axis) and the strain at its times.

    The read-out of `axojax.axon.simulate` (`_model.readout`, then the maximum over time), with every
    maximum taken by `peak`, so its derivative is finite.
    """

    def faces(state, eps):
        f = _model.equilibrium(state, eps, ip, geo, grid)
        mt = _model.free_bar_face_strain(f.mt_u, geo.mt_vol, geo.mt_dx, eps)
        v = f.ax_v
        ax = eps + jnp.concatenate(
            [2.0 * v[:1] / geo.ax_vol[0], jnp.diff(v) / geo.ax_dx[:-1], -2.0 * v[-1:] / geo.ax_dx[-1]]
        )
        by_class = jnp.sum(-jnp.expm1(-state.tau_psi) * geo.mt_vol, axis=-1) / ip.mt_half
        w_len = ip.mt_w * ip.mt_half
        tau = jnp.sum(w_len * by_class) / jnp.sum(w_len)
        nf = jnp.sum(-jnp.expm1(-state.nf_psi) * geo.nf_vol) / ip.nf_half
        return mt, ax, tau, nf

    mt, ax, tau, nf = jax.vmap(faces)(states, strain)
    return jnp.stack([peak(mt), peak(ax), 100.0 * peak(tau), 100.0 * peak(nf)])


def _outputs_one(
    t_ms: Float[Array, " time"], strain: Float[Array, " time"], params: AxonParams, settings: SolverSettings
) -> tuple[Float[Array, " 4"], Bool[Array, ""]]:
    """The four outputs of one profile (simulate's solve, arg-max peaks) and the solver success flag."""
    grid = settings.grid
    ip = _model.to_internal(params)
    geo = _model.geometry(ip, grid)
    interp = diffrax.LinearInterpolation(ts=t_ms, ys=strain)

    def rhs(t, y, args):
        return _model.vector_field(y, interp.evaluate(t), ip, geo, grid)

    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(rhs),
        diffrax.Bosh3(),
        t0=t_ms[0],
        t1=t_ms[-1],
        dt0=None,
        y0=_model.initial_state(params.n_classes, grid, strain.dtype),
        saveat=diffrax.SaveAt(ts=t_ms),
        stepsize_controller=diffrax.ClipStepSizeController(
            diffrax.PIDController(rtol=settings.rtol, atol=settings.atol), step_ts=t_ms
        ),
        max_steps=settings.max_steps,
        throw=False,
    )

    out = peak_outputs(sol.ys, strain, ip, geo, grid)
    return out, diffrax.is_successful(sol.result)


@eqx.filter_jit
def _jacobians(t_ms, strain, params, settings):
    def one(s):
        def f(s, p):
            out, ok = _outputs_one(t_ms, s, p, settings)
            return out, (out, ok)

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
    t_ms = jnp.asarray(t_s, x.dtype) * jnp.asarray(_units.S_TO_MS, x.dtype)
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
        parts.append(jax.tree.map(lambda a, m=m: a[:m], _jacobians(t_ms, xb, params, settings)))
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
