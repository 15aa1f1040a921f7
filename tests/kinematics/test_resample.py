import jax
import jax.numpy as jnp
import numpy as np
import pytest

from axojax.kinematics import (
    Impact,
    derive_ang_acc,
    half_sine_pulse,
    resample_impact,
    resample_to_window,
    window_grid,
)


def test_derive_ang_acc_exact_for_quadratic():
    # central differences are exact for a quadratic, also on a non-uniform grid (interior)
    t = jnp.asarray([0.0, 0.001, 0.0025, 0.003, 0.0045, 0.006])
    w = jnp.stack([t**2, 3.0 * t, -(t**2)], axis=-1) * 1.0e3
    a = derive_ang_acc(t, w)
    expected = jnp.stack([2.0 * t, 3.0 * jnp.ones_like(t), -2.0 * t], axis=-1) * 1.0e3
    np.testing.assert_allclose(a[1:-1], expected[1:-1], rtol=1e-10, atol=1e-9)


def test_window_grid():
    g = window_grid(1.0, 100.0)
    assert g.shape == (100,)
    np.testing.assert_allclose(g[1] - g[0], 1e-3)
    with pytest.raises(ValueError, match="multiple"):
        window_grid(0.3, 1.0)


def test_resample_places_peak_and_pads():
    # a 10 kHz half-sine pulse, 30 ms record, peak at 15 ms
    t = jnp.arange(300.0) * 1e-4
    amp = 2000.0
    phase = jnp.clip((t - 0.010) / 0.010, 0.0, 1.0)
    a = jnp.where((t >= 0.010) & (t <= 0.020), amp * jnp.sin(jnp.pi * phase), 0.0)
    w = amp * 0.010 / jnp.pi * (1.0 - jnp.cos(jnp.pi * phase))
    axis = jnp.asarray([0.0, 0.0, 1.0])
    grid, w_new, a_new, t0 = resample_to_window(
        t, w[:, None] * axis[None, :], a[:, None] * axis[None, :], pre_peak_fraction=0.25
    )
    assert grid.shape == (100,) and w_new.shape == (100, 3)
    np.testing.assert_allclose(t0, 0.015 - 0.025, atol=1e-12)
    i_peak = int(jnp.argmax(jnp.abs(a_new[:, 2])))
    assert i_peak == 25
    np.testing.assert_allclose(a_new[i_peak, 2], amp, rtol=1e-12)
    # padding: α -> 0 outside, ω held at its end value (consistent with α = 0)
    np.testing.assert_allclose(a_new[-1], 0.0)
    np.testing.assert_allclose(w_new[-1, 2], 2 * amp * 0.010 / np.pi, rtol=1e-12)
    np.testing.assert_allclose(w_new[0], 0.0)


def test_resample_impact_jit_and_lin_acc():
    imp = half_sine_pulse(1000.0, 10.0, (1.0, 0.0, 0.0), dt_ms=0.5, window_ms=50.0, onset_ms=5.0)
    imp = Impact(imp.t_s, imp.ang_vel_rad_s, imp.ang_acc_rad_s2, jnp.ones((100, 3)), name="p")
    out = jax.jit(lambda i: resample_impact(i, window_ms=60.0))(imp)
    assert out.t_s.shape == (60,) and out.lin_acc_m_s2.shape == (60, 3)
    assert out.name == "p"
    # peak at 10 ms in the record -> sample 12 of the new window (20 % pre-peak)
    assert int(jnp.argmax(out.ang_acc_rad_s2[:, 0])) == 12
    np.testing.assert_allclose(out.lin_acc_m_s2[-1], 0.0)  # padded past the 50 ms record
    np.testing.assert_allclose(out.lin_acc_m_s2[12], 1.0)
