"""Public functions of the head model stage (generic over `AbstractHeadModel`)."""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from axojax.headmodel._model import AbstractHeadModel
from axojax.headmodel._strain import max_principal_strain
from axojax.kinematics import Impact

__all__ = ["damage", "strain_history", "peak_mps", "motion", "strain_from_motion"]


@eqx.filter_jit
def damage(
    model: AbstractHeadModel,
    impact_or_t_s: Impact | Float[Array, " time"],
    ang_acc_rad_s2: Float[Array, "time 3"] | None = None,
) -> Float[Array, ""]:
    """DAMAGE = β max_t |δ(t)| [-] of one impact (Gabler et al. 2019), from rest.

    Args:
        model: the head model.
        impact_or_t_s: an `Impact`, or sample times [s].
        ang_acc_rad_s2: angular acceleration [rad/s^2], head frame; only with times.

    Returns:
        DAMAGE [-], a scalar. Use `jax.vmap` for a batch of impacts.

    Raises:
        TypeError: an `Impact` together with `ang_acc_rad_s2`, or times without it.

    >>> from axojax.headmodel import ReducedHeadModel
    >>> from axojax.kinematics import half_sine_pulse
    >>> model = ReducedHeadModel()
    >>> round(float(damage(model, half_sine_pulse(5000.0, 10.0, (0.0, 1.0, 0.0), 0.1))), 2)
    0.34
    """
    if isinstance(impact_or_t_s, Impact):
        if ang_acc_rad_s2 is not None:
            raise TypeError("damage: pass either an Impact or (t_s, ang_acc_rad_s2), not both")
        return model.damage(impact_or_t_s.t_s, impact_or_t_s.ang_acc_rad_s2)
    if ang_acc_rad_s2 is None:
        raise TypeError("damage: ang_acc_rad_s2 is required when times are given")
    return model.damage(jnp.asarray(impact_or_t_s), jnp.asarray(ang_acc_rad_s2))


@eqx.filter_jit
def strain_history(
    model: AbstractHeadModel,
    t_s: Float[Array, " time"],
    ang_acc_rad_s2: Float[Array, "time 3"],
    coords_mm: Float[Array, "vox 3"],
) -> Float[Array, "vox time 3 3"]:
    """Green–Lagrange strain tensor history E(x, t) [-] at brain points.

    Args:
        model: the head model.
        t_s: sample times [s].
        ang_acc_rad_s2: head angular acceleration [rad/s^2], head frame (SAE J211).
        coords_mm: brain points, MNI RAS [mm].

    Returns:
        E [-], symmetric, in the RAS frame, at the input times.
    """
    return model.strain_history(t_s, ang_acc_rad_s2, coords_mm)


@eqx.filter_jit
def peak_mps(
    model: AbstractHeadModel,
    t_s: Float[Array, " time"],
    ang_acc_rad_s2: Float[Array, "time 3"],
    coords_mm: Float[Array, "vox 3"],
) -> Float[Array, " vox"]:
    """Peak over time of the maximum principal Green–Lagrange strain (MPS) [-] at each point.

    Args as `strain_history`. The brain-wide 95th percentile of this is the usual "MPS95".
    """
    strain = model.strain_history(t_s, ang_acc_rad_s2, coords_mm)
    return jnp.max(max_principal_strain(strain), axis=-1)


@eqx.filter_jit
def motion(model: AbstractHeadModel, t_s: Float[Array, " time"], ang_acc_rad_s2: Float[Array, "time 3"]):
    """The head model's solve of one impact (`AbstractHeadModel.motion`), for `strain_from_motion`.

    Solve once, then evaluate the strain at as many sets of brain points as needed: for the FE brain the
    solve is the expensive part, the strain at points a cheap interpolation.
    """
    return model.motion(t_s, ang_acc_rad_s2)


@eqx.filter_jit
def strain_from_motion(
    model: AbstractHeadModel, motion, coords_mm: Float[Array, "vox 3"]
) -> Float[Array, "vox time 3 3"]:
    """Green–Lagrange strain history [-] at brain points (MNI RAS, mm) from `motion(model, ...)`."""
    return model.strain_from_motion(motion, coords_mm)
