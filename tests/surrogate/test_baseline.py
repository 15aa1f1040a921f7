import jax.numpy as jnp
import numpy as np
import pytest

from axojax.surrogate import fit_ridge, hand_features, r2_score

DT = 1e-3


def _pulses(rng, n, t=60):
    time = np.arange(t) * DT
    amp = rng.uniform(0.0, 0.15, n)
    width = rng.uniform(0.004, 0.02, n)
    centre = rng.uniform(0.015, 0.04, n)
    return amp[:, None] * np.exp(-0.5 * ((time[None] - centre[:, None]) / width[:, None]) ** 2)


def test_hand_features_closed_form():
    t = np.arange(50) * DT
    x = np.where(t < 0.02, 2.0 * t, 0.04)[None]  # ramp at 2 /s to 4 %, then hold
    f = np.asarray(hand_features(x, DT))[0]
    assert f[0] == pytest.approx(0.04) and f[1] == pytest.approx(0.04) and f[2] == pytest.approx(0.04)
    assert f[3] == pytest.approx(2.0, rel=1e-5)  # peak rate [1/s]
    assert f[6] == pytest.approx(DT * np.sum(x > 0.02))  # time above 2 % [s]
    assert f[9] == pytest.approx(DT * x.sum(), rel=1e-5)  # strain impulse [s]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ridge_recovers_a_quadratic_function_of_the_features(dtype):
    rng = np.random.default_rng(0)
    x = _pulses(rng, 400).astype(dtype)
    f = np.asarray(hand_features(x, DT), np.float64)
    z = (f - f.mean(0)) / f.std(0)
    y = np.stack([z[:, 0] + 0.5 * z[:, 3] ** 2, z[:, 1] * z[:, 3], 2 * z[:, 9], z[:, 0] ** 2], axis=-1)
    model = fit_ridge(x[:300], y[:300], dt_s=DT, alpha=1e-6)
    r2 = np.asarray(r2_score(jnp.asarray(y[300:], jnp.float32), model(x[300:])))
    assert np.all(r2 > 0.98), r2
    # a heavy penalty shrinks towards the mean
    flat = fit_ridge(x[:300], y[:300], dt_s=DT, alpha=1e3)
    assert np.all(np.asarray(r2_score(jnp.asarray(y[300:], jnp.float32), flat(x[300:]))) < 0.5)
