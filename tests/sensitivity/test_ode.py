"""Reverse-mode ODE derivatives: same values as `simulate`, strain and parameter derivatives vs. FD."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from axojax.axon import simulate
from axojax.sensitivity import OdeJacobians, log_sensitivities, ode_input_gradients, ode_jacobians, peak

from .conftest import PROFILES, SETTINGS, T_S


def test_outputs_equal_simulate(ode_jac, params):
    """The outputs are `simulate`'s (the Jacobian is `jax.jacrev` of simulate itself)."""
    ref = simulate(T_S, PROFILES, params, settings=SETTINGS).as_array()
    np.testing.assert_allclose(ode_jac.outputs, ref, rtol=1e-10)


def test_outputs(ode_jac):
    out = np.asarray(ode_jac.outputs)
    assert out.shape == (1, 4) and np.all(np.asarray(ode_jac.success))
    assert np.all(out[0] > 0.0) and out[0, 1] > out[0, 0]  # taus and NFs fail; axolemma strain > MT strain


def test_strain_gradient_matches_finite_differences(ode_jac, params):
    """d output / d strain along a random direction vs. central differences (same compiled program)."""
    g = np.asarray(ode_jac.d_strain)
    assert g.shape == (1, 4, T_S.size) and np.all(np.isfinite(g))
    v = np.random.default_rng(0).normal(size=PROFILES.shape) * 1e-2
    h = 1e-4
    plus, minus = (
        ode_input_gradients(T_S, PROFILES + s * h * v, params, settings=SETTINGS)[0] for s in (1, -1)
    )
    fd = (np.asarray(plus) - np.asarray(minus)) / (2 * h)
    ad = np.einsum("bkt,bt->bk", g, v)
    assert np.all(np.abs(fd) > 1e-6)
    np.testing.assert_allclose(ad, fd, rtol=2e-3)
    # causality: a peak cannot depend on strain after it; the profile is back at 0 after 10 ms, and with tau
    # re-binding (issue 17) the failed fractions peak inside the pulse and recover after it
    assert np.all(g[0, :, 11:] == 0.0)
    assert np.all(np.any(g[0, 2:, :11] != 0.0, axis=-1))  # the failures do depend on the pulse


@pytest.mark.parametrize("field,index", [("tau_relaxation_ms", ()), ("mt_lengths_um", (2,))])
def test_log_sensitivity_matches_finite_differences(ode_jac, params, field, index):
    sens = log_sensitivities(ode_jac, params, ("fast",))
    label = field if index == () else f"{field}[{index[0]}]"
    el = sens.elasticity[sens.names.index(label)]  # (2, 4)
    x0 = jnp.asarray(getattr(params, field))
    h = 1e-4

    def outputs(scale):
        x = x0.at[index].multiply(scale) if index else x0 * scale
        p = eqx.tree_at(lambda q: getattr(q, field), params, x)
        return np.asarray(ode_jacobians(T_S, PROFILES, p, settings=SETTINGS).outputs)

    y = np.asarray(ode_jac.outputs)
    fd = (outputs(1 + h) - outputs(1 - h)) / (2 * h * y)
    defined = np.isfinite(el)
    assert defined.all()
    assert np.max(np.abs(el)) > 0.01
    # atol: FD also sees the adaptive steps move (an output that does not depend on p, e.g. NF failure on
    # a tau parameter, shows ~1e-3 elasticity in FD, exactly 0 by autodiff with frozen steps)
    np.testing.assert_allclose(el[defined], fd[defined], rtol=5e-3, atol=2e-3)


def test_zero_parameter_and_zero_output_are_not_available(params):
    """Hand-made derivatives: S = p dy/dp / y; n/a (NaN) where y = 0 or p = 0, never inf."""
    # tau re-binding is on in the presets (Ahmadzadeh 2015, issue 17): set it to 0 for the p = 0 case
    params = params.replace(tau_rebinding_rate_per_ms=0.0)
    out = jnp.asarray([[0.05, 0.1, 20.0, 0.0]])  # NF failure 0 %
    d_params = jax.tree.map(lambda a: jnp.ones((1, 4) + a.shape), params)
    jac = OdeJacobians(
        outputs=out, d_strain=jnp.zeros((1, 4, 3)), d_params=d_params, success=jnp.asarray([True])
    )
    sens = log_sensitivities(jac, params, ("pulse",))
    # 31 fields, two of them 3-vectors (issue 17 merged tau_contour_length_nm and tau_failure_strain into
    # tau_failure_slip_nm and added mt_bundle_coupling and mt_gap_bypass_fraction)
    assert len(sens.names) == 31 + 2 * 2
    i = sens.names.index("tau_relaxation_ms")
    tau = float(params.tau_relaxation_ms)
    np.testing.assert_allclose(sens.elasticity[i, 0, :3], tau / np.asarray([0.05, 0.1, 20.0]))
    assert np.isnan(sens.elasticity[i, 0, 3])
    assert np.all(np.isnan(sens.elasticity[sens.names.index("tau_rebinding_rate_per_ms")]))  # p = 0
    j = sens.names.index("mt_lengths_um[2]")
    assert sens.values[j] == 16.0 and sens.elasticity[j, 0, 0] == pytest.approx(16.0 / 0.05)
    assert np.all(np.isfinite(sens.derivative))
    # ranking by max |S|: the largest value / smallest output first, the all-n/a parameter last
    assert sens.ranking()[0] == "axolemma_area_nm2" and sens.ranking()[-1] == "tau_rebinding_rate_per_ms"
    table = sens.to_markdown(top=5)
    assert table.count("\n") == 6 and "`axolemma_area_nm2`" in table and "n/a" in table


def test_peak_gradient_is_one_hot():
    x = jnp.asarray([[0.1, 0.5], [0.5, 0.2]])
    assert float(peak(x)) == 0.5
    np.testing.assert_array_equal(jax.grad(peak)(x), [[0.0, 1.0], [0.0, 0.0]])


@pytest.mark.parametrize(
    "profiles,match",
    [
        (np.zeros((2, 5)), "shape|profiles"),
        (np.zeros(31), "shape|profiles"),
        (np.full((1, 31), np.nan), "NaN"),
        (np.full((1, 31), 5.0), "percent"),
    ],
)
def test_bad_profiles_raise(profiles, match):
    # wrong shapes: jaxtyping rejects them first under the test config (TypeError), else our ValueError
    with pytest.raises((ValueError, TypeError), match=match):
        ode_jacobians(T_S, profiles)
