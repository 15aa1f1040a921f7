import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from axojax.kinematics import half_sine_pulse, synthetic_impacts


def test_half_sine_pulse_closed_form():
    imp = half_sine_pulse(2000.0, 10.0, (0.0, 2.0, 0.0))
    assert imp.t_s.shape == (100,)
    np.testing.assert_allclose(imp.ang_acc_rad_s2[5], [0.0, 2000.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(imp.ang_vel_rad_s[0], 0.0)  # starts at rest
    np.testing.assert_allclose(imp.ang_vel_rad_s[-1], [0.0, 2 * 2000.0 * 0.01 / np.pi, 0.0])
    np.testing.assert_allclose(imp.ang_acc_rad_s2[11:], 0.0, atol=1e-9)


@pytest.fixture(scope="module")
def batch():
    return synthetic_impacts(jr.PRNGKey(3), 256)


def test_synthetic_ranges_and_determinism(batch):
    a = batch
    b = synthetic_impacts(jr.PRNGKey(3), 256)
    c = synthetic_impacts(jr.PRNGKey(4), 256)
    np.testing.assert_array_equal(a.ang_acc_rad_s2, b.ang_acc_rad_s2)
    assert not np.allclose(a.ang_acc_rad_s2, c.ang_acc_rad_s2)
    assert a.t_s.shape == (256, 100) and a.ang_vel_rad_s.shape == (256, 100, 3)
    w_peak = jnp.linalg.norm(a.ang_vel_rad_s, axis=-1).max(axis=1)
    a_peak = jnp.linalg.norm(a.ang_acc_rad_s2, axis=-1).max(axis=1)
    assert float(a_peak.min()) >= 300.0 * (1 - 1e-9) and float(a_peak.max()) <= 8000.0 * (1 + 1e-9)
    assert float(w_peak.max()) <= 40.0 * (1 + 1e-9)
    assert float(w_peak.min()) >= 0.75 * 2.0  # grid sampling of biphasic peaks
    # the spread covers the range
    assert float(a_peak.max()) > 4000.0 and float(a_peak.min()) < 600.0
    assert float(w_peak.max()) > 25.0 and float(w_peak.min()) < 4.0
    # starts at rest; pulses end inside the window
    np.testing.assert_allclose(a.ang_vel_rad_s[:, 0], 0.0)
    np.testing.assert_allclose(a.ang_acc_rad_s2[:, 0], 0.0)
    np.testing.assert_allclose(a.ang_acc_rad_s2[:, 70:], 0.0, atol=1e-9)
    # both pulse shapes occur: biphasic pulses end with |ω| below its peak
    w_end = jnp.linalg.norm(a.ang_vel_rad_s[:, -1], axis=-1)
    biphasic = w_end < 0.9 * w_peak
    assert 0.3 < float(jnp.mean(biphasic)) < 0.7


def test_synthetic_consistent_velocity():
    # ω = ∫ α: compare with a trapezoid integral on a fine grid
    imp = synthetic_impacts(jr.PRNGKey(0), 8, dt_ms=0.05, window_ms=60.0)
    dt = imp.t_s[:, 1:] - imp.t_s[:, :-1]
    incr = 0.5 * (imp.ang_acc_rad_s2[:, 1:] + imp.ang_acc_rad_s2[:, :-1]) * dt[..., None]
    w = jnp.concatenate([jnp.zeros((8, 1, 3)), jnp.cumsum(incr, axis=1)], axis=1)
    scale = float(jnp.abs(imp.ang_vel_rad_s).max())
    np.testing.assert_allclose(w, imp.ang_vel_rad_s, atol=2e-3 * scale)


def test_synthetic_unit_axes(batch):
    imp = batch
    i_peak = jnp.argmax(jnp.linalg.norm(imp.ang_acc_rad_s2, axis=-1), axis=1)
    a = imp.ang_acc_rad_s2[jnp.arange(256), i_peak]
    w = imp.ang_vel_rad_s[:, -1]
    # α and ω share one axis per impact
    cross = jnp.linalg.norm(jnp.cross(a, imp.ang_vel_rad_s[:, 30]), axis=-1)
    np.testing.assert_allclose(cross, 0.0, atol=1e-6 * float(jnp.abs(a).max()) * 40)
    assert w.shape == (256, 3)


def test_synthetic_rejects_bad_window():
    with pytest.raises(ValueError, match="peak_at_ms"):
        synthetic_impacts(jr.PRNGKey(0), 2, peak_at_ms=5.0)
