import jax
import jax.numpy as jnp
import numpy as np
import pytest

from axojax.headmodel import (
    ReducedHeadModel,
    damage,
    green_lagrange,
    max_principal_strain,
    peak_mps,
    strain_history,
    twist_strain,
)
from axojax.headmodel._strain import twist_displacement
from axojax.kinematics import half_sine_pulse


def _brain_grid(step_mm):
    """Points of the model's ellipsoid on a regular grid, MNI RAS [mm]."""
    model = ReducedHeadModel()
    s = np.asarray(model.brain_semi_axes_mm)
    g = np.arange(-90.0, 90.1, step_mm)
    r = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)
    r = r[np.sum((r / s) ** 2, axis=-1) <= 1.0]
    return jnp.asarray(r + np.asarray(model.brain_center_mm))


@pytest.mark.parametrize("gamma", [0.01, 0.3, -0.8])
def test_twist_is_simple_shear_on_the_equator(gamma):
    # sphere radius R, θ about z, point on the x axis at distance x: a = θ x e_y, b = 2x/R^2 e_x,
    # so F = R_z (I + γ e_y ⊗ e_x) with γ = 2 θ x^2 / R^2
    radius, x = 60.0, 45.0
    theta = gamma * radius**2 / (2.0 * x**2)
    e = twist_strain(jnp.asarray([0.0, 0.0, theta]), jnp.asarray([x, 0.0, 0.0]), jnp.full(3, radius))
    f = jnp.eye(3).at[1, 0].set(gamma)
    np.testing.assert_allclose(e, green_lagrange(f), atol=1e-14)
    expected = np.array([[gamma**2 / 2, gamma / 2, 0], [gamma / 2, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(e, expected, atol=1e-14)
    mps = 0.5 * (gamma**2 / 2 + abs(gamma) * np.sqrt(1 + gamma**2 / 4))
    np.testing.assert_allclose(max_principal_strain(e), mps, rtol=1e-12)


def test_twist_closed_form_matches_displacement_gradient(getkey):
    semi = jnp.asarray([70.0, 85.0, 65.0])
    thetas = 0.4 * jax.random.normal(getkey(), (6, 3))
    rs = 50.0 * jax.random.normal(getkey(), (6, 3))

    @jax.jit
    @jax.vmap
    def both(theta, r):
        grad_u = jax.jacfwd(twist_displacement, argnums=1)(theta, r, semi)
        e = twist_strain(theta, r, semi)
        return e, green_lagrange(jnp.eye(3) + grad_u), jnp.linalg.eigvalsh(e)

    e, e_ref, lam = both(thetas, rs)
    np.testing.assert_allclose(e, e_ref, atol=1e-12)
    np.testing.assert_allclose(e, jnp.swapaxes(e, -1, -2), atol=0)
    mps = max_principal_strain(e)
    assert bool(jnp.all(lam[:, 0] - 1e-15 <= mps))
    assert bool(jnp.all(mps <= jnp.linalg.norm(e, axis=(-2, -1)) + 1e-15))
    assert bool(jnp.all(mps >= jnp.trace(e, axis1=-2, axis2=-1) / 3 - 1e-15))
    assert bool(jnp.all(mps > 0))


def test_zero_kinematics_zero_strain():
    model = ReducedHeadModel()
    imp = half_sine_pulse(0.0, 10.0, (0.0, 0.0, 1.0), window_ms=30.0)
    coords = jnp.asarray([[0.0, -18.0, 18.0], [40.0, 0.0, 30.0]])
    e = strain_history(model, imp.t_s, imp.ang_acc_rad_s2, coords)
    assert e.shape == (2, 30, 3, 3)
    np.testing.assert_array_equal(e, 0.0)
    assert float(damage(model, imp)) == 0.0


def test_strain_pattern():
    model = ReducedHeadModel()
    # head y (no stiffness coupling) = RAS x: no shear on the RAS x axis; in the RAS y-z plane the
    # shear grows toward the periphery
    imp = half_sine_pulse(4000.0, 10.0, (0.0, 1.0, 0.0), window_ms=60.0)
    c = model.brain_center_mm
    offsets = [
        (0.0, 0.0, 0.0),
        (40.0, 0.0, 0.0),
        (0.0, 20.0, 0.0),
        (0.0, 40.0, 0.0),
        (0.0, 80.0, 0.0),
    ]
    coords = jnp.stack([c + jnp.asarray(o) for o in offsets])
    p = peak_mps(model, imp.t_s, imp.ang_acc_rad_s2, coords)
    np.testing.assert_allclose(p[:2], 0.0, atol=1e-15)
    assert 0.0 < p[2] < p[3] < p[4]
    e = strain_history(model, imp.t_s, imp.ang_acc_rad_s2, coords)
    np.testing.assert_allclose(e, jnp.swapaxes(e, -1, -2), atol=0)


def test_mps95_tracks_damage_and_ranges():
    """Calibration: brain 95th-percentile MPS ≈ DAMAGE; published magnitude ranges."""
    model = ReducedHeadModel()
    coords = _brain_grid(8.0)
    f = jax.jit(lambda t, a: jnp.percentile(peak_mps(model, t, a, coords), 95.0))
    cases = [  # (α [rad/s^2], T [ms], head axis)
        (614.0, 10.0, (0.0, 0.0, 1.0)),  # youth hockey median
        (1500.0, 10.0, (0.0, 1.0, 0.0)),  # multi-sport median
        (5000.0, 10.0, (0.0, 1.0, 0.0)),  # concussive
        (6000.0, 15.0, (1.0, 0.0, 0.0)),
    ]
    mps95 = []
    for amp, dur, axis in cases:
        imp = half_sine_pulse(amp, dur, axis)
        m = float(f(imp.t_s, imp.ang_acc_rad_s2))
        np.testing.assert_allclose(m, float(damage(model, imp)), rtol=0.10)
        mps95.append(m)
    assert 0.03 < mps95[0] < 0.1 and 0.05 < mps95[1] < 0.25
    assert 0.3 < mps95[2] < 0.5 and 0.3 < mps95[3] < 0.5


def test_grad_peak_mps_wrt_amplitude():
    model = ReducedHeadModel()
    coords = jnp.asarray([[30.0, 10.0, 40.0], [-50.0, -40.0, 10.0], [0.0, 50.0, -10.0]])

    def f(amp_krad_s2):
        imp = half_sine_pulse(1000.0 * amp_krad_s2, 8.0, (0.3, 1.0, -0.5), window_ms=50.0)
        return jnp.max(peak_mps(model, imp.t_s, imp.ang_acc_rad_s2, coords))

    f = jax.jit(f)
    amp = jnp.asarray(4.0)
    g = jax.jit(jax.grad(f))(amp)
    h = 1e-4
    fd = (f(amp + h) - f(amp - h)) / (2 * h)
    assert float(g) > 0
    np.testing.assert_allclose(g, fd, rtol=1e-3)
