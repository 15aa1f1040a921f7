import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from axojax.headmodel import AbstractHeadModel, ReducedHeadModel, damage
from axojax.kinematics import half_sine_pulse, synthetic_impacts

# (peak α [rad/s^2], duration [ms], axis, DAMAGE) from SCIENCE.md §5
REFERENCE = [
    (2000.0, 10.0, (0.0, 1.0, 0.0), 0.134),
    (2000.0, 10.0, (0.0, 0.0, 1.0), 0.161),
    (5000.0, 10.0, (0.0, 1.0, 0.0), 0.336),
    (6000.0, 15.0, (1.0, 0.0, 0.0), 0.411),
]


def _stack(dt_ms):
    pulses = [half_sine_pulse(a, d, ax, dt_ms=dt_ms) for a, d, ax, _ in REFERENCE]
    return jax.tree.map(lambda *x: jnp.stack(x), *pulses)


@jax.jit
def _batched_damage(model, impacts):
    return jax.vmap(lambda i: damage(model, i))(impacts)


@pytest.mark.parametrize(("dt_ms", "rtol"), [(0.1, 2e-3)])
def test_damage_reference_values(dt_ms, rtol):
    got = _batched_damage(ReducedHeadModel(), _stack(dt_ms))
    ref = np.array([r[-1] for r in REFERENCE])
    # references are rounded to 3 digits: allow half a unit in the last digit on top of rtol
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=5e-4)


def test_exact_integrator_matches_diffrax():
    imp = half_sine_pulse(3000.0, 8.0, (1.0, 0.0, 1.0), window_ms=30.0)
    exact = ReducedHeadModel().relative_motion(imp.t_s, imp.ang_acc_rad_s2)
    ode = ReducedHeadModel(integrator="diffrax").relative_motion(imp.t_s, imp.ang_acc_rad_s2)
    np.testing.assert_allclose(exact, ode, atol=1e-9 * float(jnp.abs(exact).max()))


def test_damage_zero_and_linearity():
    model = ReducedHeadModel()
    imp = half_sine_pulse(1000.0, 10.0, (0.0, 0.0, 1.0))
    t, a = imp.t_s, imp.ang_acc_rad_s2
    assert float(damage(model, t, jnp.zeros_like(a))) == 0.0
    d1 = damage(model, t, a)
    np.testing.assert_allclose(damage(model, t, 3.0 * a), 3.0 * d1, rtol=1e-10)
    # the sign of α does not matter; δ from rest
    np.testing.assert_allclose(damage(model, t, -a), d1, rtol=1e-10)
    np.testing.assert_allclose(model.relative_motion(t, a)[0], 0.0)


def test_damage_float32_and_vmap_over_synthetic():
    model = ReducedHeadModel()
    batch = synthetic_impacts(jr.PRNGKey(0), 4)
    d64 = _batched_damage(model, batch)
    batch32 = jax.tree.map(lambda x: x.astype(jnp.float32), batch)
    d32 = _batched_damage(model, batch32)
    assert d64.shape == (4,) and d32.dtype == jnp.float32
    np.testing.assert_allclose(d32, d64, rtol=1e-3)
    assert bool(jnp.all(d64 > 0))


def test_damage_argument_errors():
    model = ReducedHeadModel()
    imp = half_sine_pulse(1000.0, 10.0, (0.0, 0.0, 1.0))
    with pytest.raises(TypeError, match="not both"):
        damage(model, imp, imp.ang_acc_rad_s2)
    with pytest.raises(TypeError, match="required"):
        damage(model, imp.t_s)
    with pytest.raises(TypeError):
        AbstractHeadModel()  # abstract
    with pytest.raises(ValueError, match="substeps"):
        ReducedHeadModel(substeps=0)
    with pytest.raises(ValueError, match="integrator"):
        ReducedHeadModel(integrator="euler")


def test_stiffness_matrix_and_variants():
    model = ReducedHeadModel()
    k = model.stiffness_matrix()
    np.testing.assert_allclose(k, k.T)
    np.testing.assert_allclose(k[0, 0], 32142.0 + 1636.3)
    np.testing.assert_allclose(k[0, 2], -1636.3)
    stiffer = eqx.tree_at(lambda m: m.kzz_n_m, model, jnp.asarray(2 * 16935.0))
    imp = half_sine_pulse(1000.0, 10.0, (0.0, 0.0, 1.0))
    assert float(damage(stiffer, imp)) < float(damage(model, imp))
