"""End-to-end gradient: impact pulse parameters -> head model -> fibers -> surrogate -> brain mean."""

import jax.numpy as jnp
import numpy as np
import pytest

from axojax.brain import brain_from_mask
from axojax.kinematics import half_sine_pulse
from axojax.sensitivity import (
    PULSE_FIELDS,
    BrainSummary,
    PulseParameters,
    finite_difference_check,
    pulse_ang_acc,
)

from .conftest import tiny_surrogate

T = 32  # samples at 1 ms


@pytest.fixture(scope="module")
def brain():
    """27 voxels on a 12 mm grid around the head model's brain centre, two random fiber populations."""
    affine = np.diag([12.0, 12.0, 12.0, 1.0])
    affine[:3, 3] = (-12.0, -30.0, 6.0)
    rng = np.random.default_rng(0)
    return brain_from_mask(np.ones((3, 3, 3), bool), affine, rng.normal(size=(27, 2, 3)), rng.random((27, 2)))


def test_pulse_matches_half_sine_pulse():
    p = PulseParameters(25.0, 10.0, 1.2, 1.0).astype(jnp.float64)
    t = jnp.arange(T, dtype=jnp.float64) * 1e-3
    acc = pulse_ang_acc(p, t, onset_ms=5.0)
    ref = half_sine_pulse(
        float(p.peak_ang_acc_rad_s2), 10.0, p.axis(), dt_ms=1.0, window_ms=float(T), onset_ms=5.0
    )
    np.testing.assert_allclose(acc, ref.ang_acc_rad_s2, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(ref.ang_vel_rad_s[-1], 25.0 * p.axis(), rtol=1e-12)  # ω after the pulse
    assert float(jnp.linalg.norm(p.axis())) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def surrogate():
    """A tiny untrained surrogate normalised on sin^2 pulses of ±0.3-1 % strain (these impacts give fiber
    strains within ±1.3 % at these voxels), so normalised inputs are O(1) and outputs respond to them."""
    t = np.arange(T) * 1e-3
    x = [
        a * np.sin(np.pi * np.clip((t - 0.005) / w, 0, 1)) ** 2
        for a in (-0.01, -0.003, 0.003, 0.01)
        for w in (0.008, 0.02)
    ]
    model = tiny_surrogate(T, profiles=np.stack(x))
    # drop the global-max features (rows c:2c of the dense layer): the max over time has kinks wherever its
    # arg-max moves, which finite differences straddle; the mean-pooled half is smooth
    c = model.config.channels[-1]
    model.hidden.kernel[...] = model.hidden.kernel[...].at[c:].set(0.0)
    return model


def test_gradient_matches_finite_differences(brain, surrogate):
    """Mean tau failure over 14 voxels, float64 pulse and head model; the surrogate itself runs in float32,
    so the step stays well above its rounding (measured: max relative error 1.2e-3, duration)."""
    summary = BrainSummary(surrogate, brain, np.arange(0, 27, 2), output="tau_failure_pct", onset_ms=5.0)
    p0 = PulseParameters(25.0, 10.5, 1.2, 1.0).astype(jnp.float64)
    value, grad = summary.value_and_grad(p0)
    assert float(value) == pytest.approx(float(summary.value(p0)), rel=1e-6)
    check = finite_difference_check(summary, p0, rel_step=1e-2)
    assert set(check) == set(PULSE_FIELDS)
    for name, (ad, fd, rel) in check.items():
        assert ad == float(getattr(grad, name))
        assert abs(fd) > 1e-3 * abs(float(value)), name  # a real dependence, not noise
        assert rel <= 1e-2, (name, ad, fd)


def test_bad_arguments_raise(brain, surrogate):
    model = surrogate
    with pytest.raises(ValueError, match="output must be one of"):
        BrainSummary(model, brain, output="tau")
    with pytest.raises(ValueError, match="voxels"):
        BrainSummary(model, brain, np.array([0, 27]))
    with pytest.raises(ValueError, match="positive duration"):
        BrainSummary(model, brain).value(PulseParameters(25.0, -1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="scalar"):
        PulseParameters(jnp.ones(2), 10.0, 1.0, 1.0)


def test_gradient_through_the_fe_brain(brain, surrogate):
    """The same end-to-end chain with the finite-element brain as the head model (a coarse box head of
    10 mm elements around the voxels: CSF shell, white-matter core), against finite differences."""
    from axojax.headmodel import FEHeadModel, VoxelMesh

    lab = np.ones((12, 12, 12), np.int32)
    lab[1:-1, 1:-1, 1:-1] = 3
    mesh = VoxelMesh(jnp.asarray(lab), jnp.asarray([-60.0, -78.0, -42.0]), 10.0)
    head = FEHeadModel(mesh, centre_mm=(0.0, -18.0, 18.0))
    summary = BrainSummary(
        surrogate, brain, np.arange(0, 27, 2), head=head, output="tau_failure_pct", onset_ms=5.0
    )
    p0 = PulseParameters(25.0, 10.5, 1.2, 1.0).astype(jnp.float64)
    value, grad = summary.value_and_grad(p0)
    check = finite_difference_check(summary, p0, rel_step=1e-2)
    for name, (ad, fd, rel) in check.items():
        assert ad == float(getattr(grad, name))
        assert abs(fd) > 1e-3 * abs(float(value)), name
        assert rel <= 2e-2, (name, ad, fd)
