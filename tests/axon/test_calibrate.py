"""`calibrate`: recovers known parameters from model-generated targets; its loss gradient is right."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from axojax.axon import AxonParams, SolverSettings, Target, _model, calibrate, evaluate, ramp_hold
from axojax.axon._calibrate import calibration_loss, output

T_S = np.linspace(0.0, 0.02, 21)  # 20 ms at 1 kHz [s]
# a small grid: reverse mode compiles quickly. The targets come from the same settings, so the truth is
# an exact zero of the loss whatever the tolerance; the gradient check uses tight ones (smooth FD).
GRID = _model.Grid(n_mt=4, n_nf=3, n_gap=2)
SETTINGS = SolverSettings(rtol=1e-5, atol=1e-7, grid=GRID)
TIGHT = SolverSettings(rtol=1e-8, atol=1e-10, max_steps=20000, grid=GRID)
LOADINGS = (ramp_hold(T_S, 30.0, 0.06), ramp_hold(T_S, 60.0, 0.12))
FREE = ("tau_relaxation_ms", "axolemma_link_inst_pn_per_um2")
TRUE = {"tau_relaxation_ms": 8.0, "axolemma_link_inst_pn_per_um2": 2600.0}


def _targets(values=None):
    """Peak MT and axolemma strain and tau failure of both loadings, at `values` (default: truth)."""
    spec = [(e, q) for e in LOADINGS for q in ("mt_strain", "axolemma_strain", "tau_failure_pct")]
    dummy = [Target(f"{q} {k}", T_S, e, output(q), lower=0.0) for k, (e, q) in enumerate(spec)]
    if values is None:
        values = evaluate(dummy, AxonParams.male().replace(**TRUE), settings=SETTINGS)
    return [
        Target(
            f"{q} {k}",
            T_S,
            e,
            output(q),
            lower=float(v),
            upper=float(v),
            scale=0.01 * abs(float(v)),
            source="model with TRUE parameters",
        )
        for k, ((e, q), v) in enumerate(zip(spec, values, strict=True))
    ]


@pytest.fixture(scope="module")
def targets():
    return _targets()


def test_calibrate_recovers_known_parameters(targets):
    """Identifiability: from the male preset, the two free parameters come back within 2 %."""
    res = calibrate(
        targets,
        AxonParams.male(),
        free=FREE,
        key=jax.random.key(0),
        steps=120,
        learning_rate=0.1,
        tol=1e-6,
        settings=SETTINGS,
    )
    assert res.success
    for name, value in TRUE.items():
        np.testing.assert_allclose(float(getattr(res.params, name)), value, rtol=0.02, err_msg=name)
    assert res.loss_history[-1] < 1e-3 * res.loss_history[0]
    assert all(r.met_after or abs(r.after - r.before) > 0 for r in res.report)
    assert not all(r.met_before for r in res.report)
    assert "| target |" in res.table()


def test_calibration_loss_gradient_matches_central_differences(targets):
    """d loss / d z (float64) against central differences at a point off the optimum."""
    loss = calibration_loss(targets[:3], AxonParams.male(), free=FREE, settings=TIGHT)
    z = loss.z0 + jnp.asarray([0.1, -0.2])
    value_and_grad = jax.jit(jax.value_and_grad(lambda z: loss(z)[0]))  # one compilation for both

    def f(z):
        return value_and_grad(z)[0]

    g = value_and_grad(z)[1]
    h = 1e-5
    fd = np.asarray([(f(z + h * e) - f(z - h * e)) / (2 * h) for e in np.eye(2)])
    assert np.all(np.abs(fd) > 1e-3)
    np.testing.assert_allclose(np.asarray(g), fd, rtol=1e-4)


def test_calibrate_rejects_bad_free_parameters(targets):
    p = AxonParams.male()
    with pytest.raises(ValueError, match="not an AxonParams field"):
        calibration_loss(targets, p, free=("tau_speed",))
    with pytest.raises(ValueError, match="not a scalar"):
        calibration_loss(targets, p, free=("mt_lengths_um",))
    with pytest.raises(ValueError, match="no bounds"):
        calibration_loss(targets, p, free=("mt_gap_um",))
    with pytest.raises(ValueError, match="outside its bounds"):
        calibration_loss(targets, p, free=("tau_relaxation_ms",), bounds={"tau_relaxation_ms": (10.0, 20.0)})
    with pytest.raises(ValueError, match="lower"):
        Target("bad", T_S, LOADINGS[0], output("mt_strain"), lower=1.0, upper=0.0)
