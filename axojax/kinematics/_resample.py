"""Pure numerics on sampled kinematics: derivatives, uniform resampling, fixed windows.

All functions take and return arrays (time in seconds); window lengths are static so the
results have static shapes and the functions are jit-friendly.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from axojax._units import MS_TO_S
from axojax.kinematics._impact import Impact

__all__ = ["derive_ang_acc", "window_grid", "resample_to_window", "resample_impact", "crop_impact"]


def derive_ang_acc(
    t_s: Float[Array, " time"], ang_vel_rad_s: Float[Array, "time 3"]
) -> Float[Array, "time 3"]:
    """Angular acceleration from angular velocity by central differences.

    Second-order central differences on a possibly non-uniform grid (one-sided at the ends),
    as `numpy.gradient`.

    Args:
        t_s: sample times [s], strictly increasing.
        ang_vel_rad_s: angular velocity ω [rad/s].

    Returns:
        α = dω/dt [rad/s^2], same shape as `ang_vel_rad_s`.
    """
    return jnp.gradient(ang_vel_rad_s, t_s, axis=0)


def _n_samples(dt_ms: float, window_ms: float) -> int:
    n = round(window_ms / dt_ms)
    if n < 2 or abs(n * dt_ms - window_ms) > 1e-9 * window_ms:
        raise ValueError(f"window_ms={window_ms} must be a multiple (>= 2) of dt_ms={dt_ms}")
    return n


def window_grid(dt_ms: float = 1.0, window_ms: float = 100.0, *, dtype=None) -> Float[Array, " time"]:
    """Uniform time grid 0, dt, ..., window - dt [s] (window/dt samples)."""
    n = _n_samples(dt_ms, window_ms)
    return jnp.arange(n, dtype=dtype or jnp.result_type(float)) * (dt_ms * MS_TO_S)


@functools.partial(jax.jit, static_argnames=("dt_ms", "window_ms", "pre_peak_fraction"))
def resample_to_window(
    t_s: Float[Array, " time"],
    ang_vel_rad_s: Float[Array, "time 3"],
    ang_acc_rad_s2: Float[Array, "time 3"],
    *,
    dt_ms: float = 1.0,
    window_ms: float = 100.0,
    pre_peak_fraction: float = 0.2,
) -> tuple[Float[Array, " window"], Float[Array, "window 3"], Float[Array, "window 3"], Float[Array, ""]]:
    """Resample onto a uniform grid, cropped/padded to a fixed window around the |α| peak.

    The window starts `pre_peak_fraction * window_ms` before the sample of largest |α|. Values are
    linearly interpolated; outside the record α is padded with zeros and ω with its end values
    (consistent with α = 0 there).

    Args:
        t_s: sample times [s], strictly increasing.
        ang_vel_rad_s: angular velocity [rad/s].
        ang_acc_rad_s2: angular acceleration [rad/s^2].
        dt_ms: output sample interval [ms].
        window_ms: output window length [ms]; a multiple of `dt_ms`.
        pre_peak_fraction: fraction of the window placed before the |α| peak, in [0, 1).

    Returns:
        `(t_s, ω, α, t_start_s)`: the grid starting at 0 [s], ω [rad/s], α [rad/s^2] on it, and
        the time in the input record where the window starts [s].
    """
    if not 0.0 <= pre_peak_fraction < 1.0:
        raise ValueError(f"pre_peak_fraction must lie in [0, 1), got {pre_peak_fraction}")
    grid = window_grid(dt_ms, window_ms, dtype=t_s.dtype)
    i_peak = jnp.argmax(jnp.sum(ang_acc_rad_s2**2, axis=-1))
    t_start = t_s[i_peak] - pre_peak_fraction * window_ms * MS_TO_S
    t_new = t_start + grid

    def interp(y, pad):
        kw = {} if pad is None else {"left": pad, "right": pad}
        return jax.vmap(lambda col: jnp.interp(t_new, t_s, col, **kw), in_axes=1, out_axes=1)(y)

    w = interp(ang_vel_rad_s, None)
    a = interp(ang_acc_rad_s2, 0.0)
    return grid, w, a, t_start


def resample_impact(
    impact: Impact,
    *,
    dt_ms: float = 1.0,
    window_ms: float = 100.0,
    pre_peak_fraction: float = 0.2,
) -> Impact:
    """`resample_to_window` applied to an `Impact` (linear acceleration padded with zeros).

    Returns:
        A new `Impact` on the grid 0..window [s].
    """
    grid, w, a, t0 = resample_to_window(
        impact.t_s,
        impact.ang_vel_rad_s,
        impact.ang_acc_rad_s2,
        dt_ms=dt_ms,
        window_ms=window_ms,
        pre_peak_fraction=pre_peak_fraction,
    )
    lin = None
    if impact.lin_acc_m_s2 is not None:
        t_new = t0 + grid
        lin = jax.vmap(
            lambda col: jnp.interp(t_new, impact.t_s, col, left=0.0, right=0.0),
            in_axes=1,
            out_axes=1,
        )(impact.lin_acc_m_s2)
    return Impact(grid, w, a, lin, name=impact.name)


def crop_impact(impact: Impact, t_start_s: float, *, dt_ms: float = 1.0, window_ms: float = 100.0) -> Impact:
    """The record on the window [t_start, t_start + window) at step `dt_ms`, times shifted to start at 0.

    Linear interpolation; outside the record α and the linear acceleration are zero and ω holds its
    end values (α = 0 there), as in `resample_to_window`, whose window is placed by a fixed rule.

    Args:
        impact: one impact.
        t_start_s: window start in the record's time [s] (may precede the record: zero padding).
        dt_ms: output step [ms].
        window_ms: window length [ms], a multiple of `dt_ms`.

    Returns:
        A new `Impact` on the grid 0, dt, ..., window - dt [s], same name.
    """
    grid = window_grid(dt_ms, window_ms, dtype=impact.t_s.dtype)
    t_new = jnp.asarray(t_start_s, impact.t_s.dtype) + grid

    def interp(y, pad):
        kw = {} if pad is None else {"left": pad, "right": pad}
        return jax.vmap(lambda col: jnp.interp(t_new, impact.t_s, col, **kw), in_axes=1, out_axes=1)(y)

    lin = None if impact.lin_acc_m_s2 is None else interp(impact.lin_acc_m_s2, 0.0)
    return Impact(
        grid, interp(impact.ang_vel_rad_s, None), interp(impact.ang_acc_rad_s2, 0.0), lin, name=impact.name
    )
