"""Synthetic head impacts spanning measured sport ranges (SCIENCE.md §5).

Pulses are analytic: the angular acceleration α(t) is one half-sine lobe (amplitude A, duration T1),
or two lobes of opposite sign (biphasic: A, T1, then -A2, T2 with A2*T2 = r*A*T1, r in [0.5, 1],
T2 = s*T1, s in [1, 2], so |A2| <= A). The angular velocity is the exact integral
ω(t) = ∫_0^t α dτ sampled on the grid, so the impact starts at rest (α = ω = 0) and

    peak |ω| = 2 A T1 / π,        peak |α| = A.

Both are drawn so that they fall inside the requested ranges (the peak of the first lobe sits on a
grid sample; the sampled ω peak of a biphasic pulse can fall a little below 2 A T1 / π).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from axojax._units import MS_TO_S
from axojax.kinematics._impact import Impact
from axojax.kinematics._resample import window_grid

__all__ = ["half_sine_pulse", "synthetic_impacts"]


def _lobes(t, t0, amp1, dur1, amp2, dur2):
    """α and ω of a lobe A1 sin on [t0, t0+T1] followed by -A2 sin on [t0+T1, t0+T1+T2]."""
    u1 = jnp.clip((t - t0) / dur1, 0.0, 1.0)
    u2 = jnp.clip((t - t0 - dur1) / dur2, 0.0, 1.0)
    in1 = (t >= t0) & (t <= t0 + dur1)
    in2 = (t > t0 + dur1) & (t <= t0 + dur1 + dur2)
    acc = jnp.where(in1, amp1 * jnp.sin(jnp.pi * u1), 0.0) - jnp.where(in2, amp2 * jnp.sin(jnp.pi * u2), 0.0)
    vel = amp1 * dur1 / jnp.pi * (1.0 - jnp.cos(jnp.pi * u1)) - amp2 * dur2 / jnp.pi * (
        1.0 - jnp.cos(jnp.pi * u2)
    )
    return acc, vel


def half_sine_pulse(
    peak_rad_s2: float | Float[ArrayLike, ""],
    duration_ms: float,
    axis: Float[ArrayLike, " 3"] | tuple[float, float, float],
    dt_ms: float = 1.0,
    window_ms: float = 100.0,
    *,
    onset_ms: float = 0.0,
    name: str = "half-sine",
) -> Impact:
    """A single half-sine angular acceleration pulse starting at rest.

    α(t) = A sin(π (t - t0) / T) n for t0 <= t <= t0 + T, else 0;  ω = ∫ α (so ω(t0) = 0 and
    ω = 2 A T / π n after the pulse).

    Args:
        peak_rad_s2: amplitude A [rad/s^2] (may be a traced scalar: differentiable).
        duration_ms: pulse duration T [ms].
        axis: rotation axis n, head frame (normalised here).
        dt_ms: sample interval [ms].
        window_ms: record length [ms].
        onset_ms: pulse start t0 [ms].
        name: label of the impact.

    Returns:
        An `Impact` on the grid 0, dt, ..., window - dt [s].

    >>> imp = half_sine_pulse(2000.0, 10.0, (0.0, 1.0, 0.0))
    >>> imp.t_s.shape, imp.ang_acc_rad_s2.shape
    ((100,), (100, 3))
    """
    amp = jnp.asarray(peak_rad_s2)
    dtype = amp.dtype if jnp.issubdtype(amp.dtype, jnp.floating) else jnp.result_type(float)
    return _half_sine(
        amp.astype(dtype),
        jnp.asarray(axis, dtype=dtype),
        duration_ms,
        dt_ms,
        window_ms,
        onset_ms,
        name,
    )


@functools.partial(jax.jit, static_argnums=(2, 3, 4, 5, 6))
def _half_sine(amp, axis, duration_ms, dt_ms, window_ms, onset_ms, name) -> Impact:
    dtype = amp.dtype
    n = axis / jnp.linalg.norm(axis)
    t = window_grid(dt_ms, window_ms, dtype=dtype)
    dur = duration_ms * MS_TO_S
    acc, vel = _lobes(t, onset_ms * MS_TO_S, amp, dur, jnp.zeros_like(amp), dur)
    return Impact(t, vel[:, None] * n[None, :], acc[:, None] * n[None, :], name=name)


@functools.partial(jax.jit, static_argnums=(1,))
def _uniforms(key: PRNGKeyArray, n: int) -> Float[Array, "n 7"]:
    """All random numbers of `synthetic_impacts` in one draw (one threefry compilation)."""
    return jr.uniform(key, (n, 7), dtype=jnp.result_type(float))


def synthetic_impacts(
    key: PRNGKeyArray,
    n: int,
    *,
    peak_ang_vel_rad_s: tuple[float, float] = (2.0, 40.0),
    peak_ang_acc_rad_s2: tuple[float, float] = (300.0, 8000.0),
    duration_ms: tuple[float, float] = (5.0, 20.0),
    biphasic_fraction: float = 0.5,
    dt_ms: float = 1.0,
    window_ms: float = 100.0,
    peak_at_ms: float = 20.0,
) -> Impact:
    """Draw `n` random impacts (vectorised with `jax.vmap`).

    Per impact: a uniform random unit axis; pulse duration T (total of both lobes) uniform in
    `duration_ms`; biphasic with probability `biphasic_fraction`; peak |α| log-uniform inside the
    part of `peak_ang_acc_rad_s2` that keeps peak |ω| = 2 A T1 / π inside `peak_ang_vel_rad_s`
    (the defaults always leave a non-empty interval; otherwise the α range wins).

    Args:
        key: PRNG key.
        n: number of impacts.
        peak_ang_vel_rad_s: (min, max) peak |ω| [rad/s].
        peak_ang_acc_rad_s2: (min, max) peak |α| [rad/s^2].
        duration_ms: (min, max) pulse duration [ms].
        biphasic_fraction: probability of a biphasic pulse.
        dt_ms: sample interval [ms].
        window_ms: record length [ms].
        peak_at_ms: time of the first-lobe α peak [ms], a multiple of `dt_ms`; must exceed
            half the longest duration so every pulse starts at rest.

    Returns:
        One `Impact` whose arrays carry a leading axis of length `n`: `t_s` (n, T),
        `ang_vel_rad_s` and `ang_acc_rad_s2` (n, T, 3).
    """
    if peak_at_ms < 0.5 * duration_ms[1] or peak_at_ms + duration_ms[1] > window_ms:
        raise ValueError(
            f"peak_at_ms={peak_at_ms} must leave room for a {duration_ms[1]} ms pulse "
            f"inside the {window_ms} ms window, starting at rest"
        )
    return _draw(
        _uniforms(key, n),
        tuple(float(v) for v in peak_ang_vel_rad_s),
        tuple(float(v) for v in peak_ang_acc_rad_s2),
        tuple(float(v) for v in duration_ms),
        float(biphasic_fraction),
        float(dt_ms),
        float(window_ms),
        float(peak_at_ms),
    )


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4, 5, 6, 7))
def _draw(
    uniforms,
    peak_ang_vel_rad_s,
    peak_ang_acc_rad_s2,
    duration_ms,
    biphasic_fraction,
    dt_ms,
    window_ms,
    peak_at_ms,
) -> Impact:
    dtype = jnp.result_type(float)
    t = window_grid(dt_ms, window_ms, dtype=dtype)
    w_lo, w_hi = (jnp.asarray(v, dtype) for v in peak_ang_vel_rad_s)
    a_lo, a_hi = (jnp.asarray(v, dtype) for v in peak_ang_acc_rad_s2)
    t_peak = jnp.asarray(round(peak_at_ms / dt_ms) * dt_ms * MS_TO_S, dtype)

    def one(u):
        u = u.astype(dtype)
        # uniform axis on the sphere from two uniforms (Archimedes)
        cos_polar = 2.0 * u[0] - 1.0
        sin_polar = jnp.sqrt(jnp.clip(1.0 - cos_polar**2, 0.0, 1.0))
        azimuth = 2.0 * jnp.pi * u[1]
        axis = jnp.stack([sin_polar * jnp.cos(azimuth), sin_polar * jnp.sin(azimuth), cos_polar])
        total = (duration_ms[0] + (duration_ms[1] - duration_ms[0]) * u[2]) * MS_TO_S
        biphasic = u[3] < biphasic_fraction
        s = 1.0 + u[4]
        r = 0.5 + 0.5 * u[5]
        dur1 = jnp.where(biphasic, total / (1.0 + s), total)
        gain = 2.0 * dur1 / math.pi  # peak |ω| per unit A [s]
        lo = jnp.maximum(a_lo, w_lo / gain)
        hi = jnp.maximum(jnp.minimum(a_hi, w_hi / gain), lo)
        lo = jnp.minimum(lo, a_hi)
        hi = jnp.clip(hi, lo, a_hi)
        amp = jnp.exp(jnp.log(lo) + (jnp.log(hi) - jnp.log(lo)) * u[6])
        dur2 = s * dur1
        amp2 = jnp.where(biphasic, r * amp / s, 0.0)
        acc, vel = _lobes(t, t_peak - 0.5 * dur1, amp, dur1, amp2, dur2)
        return Impact(t, vel[:, None] * axis[None, :], acc[:, None] * axis[None, :], name="synthetic")

    return jax.vmap(one)(uniforms)
