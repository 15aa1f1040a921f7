import numpy as np
import pytest


def pulses(rng: np.random.Generator, n: int, n_time: int = 40, dtype=np.float64) -> np.ndarray:
    """Random smooth pulses: amplitude, onset, width, biphasic part [-]."""
    t = np.linspace(0.0, 1.0, n_time)
    amp = rng.uniform(0.01, 0.1, (n, 1)) * rng.choice([-1.0, 1.0], (n, 1))
    onset = rng.uniform(0.1, 0.6, (n, 1))
    width = rng.uniform(0.05, 0.2, (n, 1))
    bi = rng.uniform(0.0, 0.6, (n, 1))
    g = np.exp(-0.5 * ((t - onset) / width) ** 2)
    g2 = np.exp(-0.5 * ((t - onset - 2 * width) / width) ** 2)
    return (amp * (g - bi * g2)).astype(dtype)


BLOCK = 32  # one block size (and pool shape) throughout the tests keeps compilations few


def impacts(rng, n_impacts=4, n=50, dtype=np.float64):
    """Candidates of a few impacts, each (n, 40)."""
    return [pulses(rng, n, dtype=dtype) for _ in range(n_impacts)]


@pytest.fixture
def rng():
    return np.random.default_rng(0)
