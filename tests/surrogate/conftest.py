"""Session data: strain pulses simulated once with the axon model, and one trained surrogate."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from axojax.axon import simulate
from axojax.surrogate import SurrogateConfig, TrainConfig, fit

T = 64
DT_S = 1e-3  # 1 kHz, as the study's resampled impacts [s]
N_TRAIN = 320
N_TEST = 80
CONFIG = SurrogateConfig(n_time=T, dt_s=DT_S, channels=(8, 16, 32), kernel_size=5, hidden=32)
TRAIN = TrainConfig(epochs=60, batch_size=32, learning_rate=3e-3, patience=20)


def make_profiles(key, n: int) -> np.ndarray:
    """Gaussian strain pulses [-], amplitude 0-0.3, centre 10-40 ms, width 2-15 ms: (n, T) float32.

    0.3: with the calibrated axon defaults (issue 17) neurofilaments fail in ~7 % of pulses up to 0.2, too few
    held-out failures (6 of 80) to score the NF output; up to 0.3 more of them fail.
    """
    k1, k2, k3 = jax.random.split(key, 3)
    amp = jax.random.uniform(k1, (n, 1), minval=0.0, maxval=0.3)
    t0 = jax.random.uniform(k2, (n, 1), minval=0.010, maxval=0.040)
    width = jax.random.uniform(k3, (n, 1), minval=0.002, maxval=0.015)
    t = (jnp.arange(T, dtype=jnp.float64) * DT_S)[None, :]
    return np.asarray(amp * jnp.exp(-0.5 * ((t - t0) / width) ** 2), np.float32)


@pytest.fixture(scope="session")
def axon_data():
    """(profiles (N, T), outputs (N, 4)) float32 from the axon model, N = N_TRAIN + N_TEST."""
    x = make_profiles(jax.random.PRNGKey(0), N_TRAIN + N_TEST)
    y = np.asarray(simulate(np.arange(T) * DT_S, x).as_array(), np.float32)
    assert np.all(np.isfinite(y))
    return x, y


@pytest.fixture(scope="session")
def trained(axon_data):
    """A surrogate trained on the first N_TRAIN simulated profiles, and its history."""
    x, y = axon_data
    return fit(x[:N_TRAIN], y[:N_TRAIN], dt_s=DT_S, key=jax.random.PRNGKey(1), config=CONFIG, train=TRAIN)
