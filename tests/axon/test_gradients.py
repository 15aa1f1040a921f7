"""Reverse-mode derivatives of `simulate` (float64): finite under jit and vmap, equal to central FD."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from axojax.axon import AxonParams, SolverSettings, _model, peak, simulate

T_S = np.linspace(0.0, 0.099, 100)  # 100 ms at 1 kHz [s]
# tight tolerances so finite differences see a smooth solve; a small grid keeps compilation short
SETTINGS = SolverSettings(rtol=1e-7, atol=1e-9, max_steps=20000, grid=_model.Grid(n_mt=4, n_nf=3, n_gap=2))
# a sin^2 pulse (16 %, 10 ms: peak rate 50 /s) after 20 ms of zero strain (many equal read-outs before
# it; taus and NFs fail; NF failure is rate dependent, Nakadate 2017), and a
# Gaussian pulse: with nested `jnp.max` peaks, the program below gave NaN for every derivative of the latter
PROFILES = np.stack(
    [
        0.16 * np.sin(np.pi * np.clip((T_S - 0.02) / 0.01, 0.0, 1.0)) ** 2,
        0.12 * np.exp(-0.5 * ((T_S - 0.05) / 0.01) ** 2),
    ]
)


def _outputs(strain, params):
    return simulate(T_S, strain, params, settings=SETTINGS).as_array()


@pytest.fixture(scope="module")
def jacobians():
    """d outputs / d strain (2, 4, T) and d outputs / d params (leaves (2, 4, *shape)), one program."""
    jac = jax.jit(jax.vmap(jax.jacrev(_outputs, argnums=(0, 1)), in_axes=(0, None)))
    return jac(jnp.asarray(PROFILES), AxonParams.male())


def test_strain_jacobian_is_finite_and_matches_finite_differences(jacobians):
    d_strain = np.asarray(jacobians[0])
    assert d_strain.shape == (2, 4, T_S.size) and np.all(np.isfinite(d_strain))
    v = np.random.default_rng(0).normal(size=PROFILES.shape) * 1e-2
    h = 1e-4
    params = AxonParams.male()
    plus, minus = (np.asarray(_outputs(PROFILES + s * h * v, params)) for s in (1.0, -1.0))
    fd = (plus - minus) / (2 * h)
    ad = np.einsum("bkt,bt->bk", d_strain, v)
    assert np.all(np.abs(fd[0]) > 1e-6)  # all four outputs respond (the Gaussian does not fail NFs)
    np.testing.assert_allclose(ad, fd, rtol=2e-3, atol=1e-9)
    # causality: a peak strain cannot depend on strain after it; the first pulse is over at 30 ms
    np.testing.assert_array_equal(d_strain[0, :2, 41:], 0.0)
    # failures respond to the strain of the pulse (re-binding heals taus after it: their peak is within)
    assert np.all(np.any(d_strain[0, 2:, 20:31] != 0.0, axis=-1))


def test_parameter_derivative_matches_finite_differences(jacobians):
    d_tau = np.asarray(jacobians[1].tau_relaxation_ms)
    assert d_tau.shape == (2, 4) and np.all(np.isfinite(d_tau))
    assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree.leaves(jacobians[1]))
    tau0 = float(AxonParams.male().tau_relaxation_ms)  # [ms]
    h = 1e-4 * tau0

    def outputs(tau):
        params = eqx.tree_at(lambda p: p.tau_relaxation_ms, AxonParams.male(), tau)
        return np.asarray(_outputs(PROFILES, params))

    fd = (outputs(tau0 + h) - outputs(tau0 - h)) / (2 * h)
    assert np.max(np.abs(d_tau)) > 1e-3
    # atol: FD also sees the adaptive steps move (an output that barely depends on tau shows a small FD
    # derivative; by autodiff, with the steps frozen, it is ~0)
    np.testing.assert_allclose(d_tau, fd, rtol=5e-3, atol=1e-3 * np.max(np.abs(fd)))


def test_peak_value_and_one_hot_gradient():
    x = jnp.asarray([[0.1, 0.5, 0.5], [0.5, 0.2, 0.0]])
    assert float(peak(x)) == 0.5
    np.testing.assert_array_equal(jax.grad(peak)(x), [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(peak(x, axis=-1), jnp.max(x, axis=-1))
    np.testing.assert_array_equal(peak(x, axis=0), jnp.max(x, axis=0))
    np.testing.assert_array_equal(jax.grad(lambda a: jnp.sum(peak(a, axis=0)))(x), [[0, 1, 1], [1, 0, 0]])
    assert np.isnan(float(peak(jnp.asarray([1.0, jnp.nan, 2.0]))))  # NaN propagates, as jnp.max
    zeros = jnp.zeros(5)  # all tied: the derivative goes to the first entry, never 0/0
    np.testing.assert_array_equal(jax.jit(jax.grad(peak))(zeros), [1.0, 0.0, 0.0, 0.0, 0.0])
