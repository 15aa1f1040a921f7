"""End-to-end sensitivity: a whole-brain summary of surrogate outputs vs. impact pulse parameters.

Chain (all differentiable, pure jnp):

    PulseParameters --pulse_ang_acc--> α(t) [rad/s^2] --head model--> E(x, t) [-]
        --fiber projection--> ε_f(x, t) [-] --surrogate--> outputs (V, 4) --mean over voxels--> summary

The pulse is one half-sine lobe of angular acceleration about a fixed axis, as
`axojax.kinematics.half_sine_pulse`, but built here so that its duration is differentiable too
(`half_sine_pulse` takes the duration as a static Python float).
"""

from __future__ import annotations

import dataclasses
import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from .. import _units
from ..brain import Brain
from ..fiberstrain import project_strain_weighted
from ..headmodel import AbstractHeadModel, ReducedHeadModel, strain_history
from ..surrogate import OUTPUT_NAMES, SurrogateCNN

PULSE_FIELDS = ("peak_ang_vel_rad_s", "duration_ms", "axis_polar_rad", "axis_azimuth_rad")


class PulseParameters(eqx.Module):
    """A half-sine angular acceleration pulse about a fixed axis (head frame, SAE J211), from rest.

    α(t) = A sin(π (t - t0) / T) n for t0 <= t <= t0 + T, else 0, with A = π ω_peak / (2 T), so that the
    angular velocity after the pulse is ω_peak n. The axis is n = (sin θ cos φ, sin θ sin φ, cos θ).

    Attributes:
        peak_ang_vel_rad_s: ω_peak [rad/s], the angular velocity change of the pulse.
        duration_ms: T [ms].
        axis_polar_rad: θ [rad], angle of n from the head z axis (inferior).
        axis_azimuth_rad: φ [rad], angle of n's x-y projection from the x axis (anterior).
    """

    peak_ang_vel_rad_s: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    duration_ms: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    axis_polar_rad: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    axis_azimuth_rad: Float[Array, ""] = eqx.field(converter=jnp.asarray)

    def __check_init__(self):
        for name in PULSE_FIELDS:
            if getattr(self, name).ndim != 0:
                raise ValueError(f"PulseParameters.{name} must be a scalar, got {getattr(self, name).shape}")

    def astype(self, dtype) -> PulseParameters:
        """All fields cast to a floating dtype."""
        return PulseParameters(*(jnp.asarray(getattr(self, n), dtype) for n in PULSE_FIELDS))

    def axis(self) -> Float[Array, " 3"]:
        """Unit rotation axis n, head frame."""
        th, ph = self.axis_polar_rad, self.axis_azimuth_rad
        return jnp.stack([jnp.sin(th) * jnp.cos(ph), jnp.sin(th) * jnp.sin(ph), jnp.cos(th)])

    @property
    def peak_ang_acc_rad_s2(self) -> Float[Array, ""]:
        """Peak angular acceleration A = π ω_peak / (2 T) [rad/s^2]."""
        return jnp.pi * self.peak_ang_vel_rad_s / (2.0 * self.duration_ms * _units.MS_TO_S)


def pulse_ang_acc(
    pulse: PulseParameters, t_s: Float[Array, " time"], onset_ms: float = 10.0
) -> Float[Array, "time 3"]:
    """Angular acceleration α(t) [rad/s^2] of `pulse` sampled at `t_s` [s] (head frame).

    Differentiable w.r.t. every field of `pulse` (away from the measure-zero case of a sample exactly at
    the pulse end, where α has a kink in the duration).
    """
    dtype = pulse.duration_ms.dtype
    t = t_s.astype(dtype)
    dur_s = pulse.duration_ms * _units.MS_TO_S
    u = (t - onset_ms * _units.MS_TO_S) / dur_s
    inside = (u >= 0.0) & (u <= 1.0)
    lobe = jnp.where(inside, jnp.sin(jnp.pi * jnp.clip(u, 0.0, 1.0)), 0.0)
    return (pulse.peak_ang_acc_rad_s2 * lobe)[:, None] * pulse.axis()[None, :]


def select_voxels(brain: Brain, n: int, *, key: PRNGKeyArray) -> np.ndarray:
    """`n` distinct white-matter voxel indices of `brain`, drawn uniformly with `key` (sorted)."""
    if not 0 < n <= brain.n_voxels:
        raise ValueError(f"n must lie in 1..{brain.n_voxels}, got {n}")
    return np.sort(np.asarray(jax.random.choice(key, brain.n_voxels, (n,), replace=False)))


def _summary(graphdef, state, head, coords, dirs, weights, pulse, t_s, onset_ms, column):
    acc = pulse_ang_acc(pulse, t_s, onset_ms)
    strain = strain_history(head, t_s.astype(acc.dtype), acc, coords.astype(acc.dtype))
    eps = project_strain_weighted(strain, dirs.astype(acc.dtype), weights.astype(acc.dtype))
    return jnp.mean(nnx.merge(graphdef, state)(eps)[:, column])


@functools.partial(jax.jit, static_argnums=(0, 8, 9))
def _value(graphdef, state, head, coords, dirs, weights, pulse, t_s, onset_ms, column):
    return _summary(graphdef, state, head, coords, dirs, weights, pulse, t_s, onset_ms, column)


@functools.partial(jax.jit, static_argnums=(0, 8, 9))
def _value_and_grad(graphdef, state, head, coords, dirs, weights, pulse, t_s, onset_ms, column):
    def f(p):
        return _summary(graphdef, state, head, coords, dirs, weights, p, t_s, onset_ms, column)

    return jax.value_and_grad(f)(pulse)


@dataclasses.dataclass(frozen=True)
class BrainSummary:
    """A whole-brain summary as a function of the pulse: mean surrogate output over (a subset of) voxels.

    Attributes:
        surrogate: a trained `SurrogateCNN`; the pulse is sampled on its grid (n_time samples, dt_s).
        brain: voxel coordinates [mm, MNI RAS] and weighted fiber populations.
        voxels: indices of the voxels to average over (None: all white-matter voxels).
        head: the head model (strain from angular acceleration).
        output: which surrogate output to average (one of `axojax.surrogate.OUTPUT_NAMES`).
        onset_ms: pulse start [ms].

    Raises:
        ValueError: unknown output or bad voxel indices (at construction); a non-finite pulse or a
            non-positive duration (at evaluation).
    """

    surrogate: SurrogateCNN
    brain: Brain
    voxels: np.ndarray | None = None
    head: AbstractHeadModel = dataclasses.field(default_factory=ReducedHeadModel)
    output: str = "tau_failure_pct"
    onset_ms: float = 10.0

    def __post_init__(self):
        if self.output not in OUTPUT_NAMES:
            raise ValueError(f"output must be one of {OUTPUT_NAMES}, got {self.output!r}")
        if self.voxels is not None:
            v = np.asarray(self.voxels)
            if v.ndim != 1 or v.size == 0 or v.min() < 0 or v.max() >= self.brain.n_voxels:
                raise ValueError(f"voxels: need 1-D indices in 0..{self.brain.n_voxels - 1}")

    def _args(self, pulse: PulseParameters):
        if not isinstance(pulse, PulseParameters):
            raise TypeError(f"pulse: expected PulseParameters, got {type(pulse).__name__}")
        vals = np.asarray([getattr(pulse, n) for n in PULSE_FIELDS], dtype=np.float64)
        if not np.all(np.isfinite(vals)) or vals[1] <= 0:
            raise ValueError(
                f"pulse: need finite values and a positive duration, got {dict(zip(PULSE_FIELDS, vals))}"
            )
        cfg = self.surrogate.config
        dtype = pulse.duration_ms.dtype
        t_s = jnp.arange(cfg.n_time, dtype=dtype) * jnp.asarray(cfg.dt_s, dtype)
        idx = slice(None) if self.voxels is None else jnp.asarray(self.voxels)
        graphdef, state = nnx.split(self.surrogate)
        b = self.brain
        return (
            graphdef,
            state,
            self.head,
            b.coords_mm[idx],
            b.fiber_dir[idx],
            b.fiber_weight[idx],
            pulse,
            t_s,
            float(self.onset_ms),
            OUTPUT_NAMES.index(self.output),
        )

    def value(self, pulse: PulseParameters) -> Float[Array, ""]:
        """Mean of the chosen surrogate output over the voxels for `pulse` (output's unit)."""
        return _value(*self._args(pulse))

    def value_and_grad(self, pulse: PulseParameters) -> tuple[Float[Array, ""], PulseParameters]:
        """The summary and its gradient w.r.t. every field of `pulse` (reverse mode, one pass)."""
        return _value_and_grad(*self._args(pulse))


def brain_summary(
    pulse: PulseParameters,
    surrogate: SurrogateCNN,
    brain: Brain,
    *,
    voxels: Int[ArrayLike, " n"] | None = None,
    head: AbstractHeadModel | None = None,
    output: str = "tau_failure_pct",
    onset_ms: float = 10.0,
) -> tuple[Float[Array, ""], PulseParameters]:
    """Mean surrogate output over white-matter voxels for one pulse, and its gradient w.r.t. the pulse.

    The pulse is sampled on the surrogate's grid (T = `surrogate.config.n_time`, step `dt_s`) starting at
    `onset_ms`; the head model gives Green–Lagrange strain at the voxels, projected on the brain's
    weighted fiber populations, and the surrogate maps each voxel's profile to its outputs.

    Args:
        pulse: impact parameters (their dtype sets the dtype of the chain; the surrogate runs in float32).
        surrogate: a trained `SurrogateCNN`.
        brain: voxel coordinates [mm] and fibers.
        voxels: indices of the voxels to average over (default: all of them).
        head: head model (default `ReducedHeadModel()`).
        output: one of `axojax.surrogate.OUTPUT_NAMES`.
        onset_ms: pulse start [ms].

    Returns:
        `(value, grad)`: the mean output (its unit) and d value / d field as a `PulseParameters`
        (output unit per rad/s, per ms, per rad).

    Raises:
        ValueError: unknown output, bad voxel indices, non-finite pulse or non-positive duration.
    """
    summary = BrainSummary(
        surrogate,
        brain,
        None if voxels is None else np.asarray(voxels),
        ReducedHeadModel() if head is None else head,
        output,
        onset_ms,
    )
    return summary.value_and_grad(pulse)


def finite_difference_check(
    summary: BrainSummary, pulse: PulseParameters, *, rel_step: float = 1e-3
) -> dict[str, tuple[float, float, float]]:
    """Reverse-mode gradient of `summary` vs. central finite differences, per pulse field.

    Each field x is perturbed by ±h with h = rel_step * max(|x|, 1) (angles: h = rel_step rad). The shifted
    values come from the same compiled program as the gradient (`value_and_grad`).

    Returns:
        {field: (autodiff, finite difference, relative error |ad - fd| / |fd|)}; the relative error is
        NaN when the finite difference is exactly zero.
    """
    _, grad = summary.value_and_grad(pulse)
    out = {}
    for name in PULSE_FIELDS:
        x0 = getattr(pulse, name)
        h = rel_step * max(abs(float(x0)), 1.0)

        def shifted(d, name=name, x0=x0):
            return eqx.tree_at(lambda p: getattr(p, name), pulse, x0 + jnp.asarray(d, x0.dtype))

        fd = (
            float(summary.value_and_grad(shifted(h))[0]) - float(summary.value_and_grad(shifted(-h))[0])
        ) / (2.0 * h)
        ad = float(getattr(grad, name))
        rel = abs(ad - fd) / abs(fd) if fd != 0.0 else float("nan")
        out[name] = (ad, fd, rel)
    return out
