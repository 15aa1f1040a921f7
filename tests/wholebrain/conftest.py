"""Tiny brains in MNI-like coordinates, a short impact and a tiny untrained surrogate."""

import numpy as np
import pytest
from flax import nnx

from axojax.brain import brain_from_mask
from axojax.kinematics import half_sine_pulse
from axojax.surrogate import SurrogateCNN, SurrogateConfig

N_TIME = 40  # 40 ms at 1 ms: short, so the tests stay fast
DT_S = 1e-3
CHUNK = 512  # voxels per profile chunk in every test: one compile shared across the folder


def small_affine() -> np.ndarray:
    """2 mm voxels, first voxel centre at (-7, -31, -3) mm: the grid straddles x = 0 and y = -40 / 0."""
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = (-7.0, -51.0, 1.0)
    return affine


@pytest.fixture(scope="session")
def small_brain():
    """8 x 30 x 8 grid with a ragged mask (~1,600 voxels), two fiber populations per voxel."""
    rng = np.random.default_rng(0)
    mask = rng.random((8, 30, 8)) < 0.85
    n = int(mask.sum())
    dirs = rng.normal(size=(n, 2, 3))
    weights = rng.uniform(0.2, 1.0, size=(n, 2))
    return brain_from_mask(mask, small_affine(), dirs, weights)


@pytest.fixture(scope="session")
def impact():
    """A 4 krad/s^2, 10 ms half-sine about a tilted axis, 40 ms at 1 ms."""
    return half_sine_pulse(4000.0, 10.0, (0.3, 0.8, 0.5), dt_ms=1.0, window_ms=40.0, name="pulse_4k")


@pytest.fixture(scope="session")
def _surrogate():
    # built once: eager parameter initialisation compiles per layer (seconds on a busy 2-core CPU)
    config = SurrogateConfig(n_time=N_TIME, dt_s=DT_S, channels=(4,), kernel_size=3, hidden=8)
    return SurrogateCNN(config, rngs=nnx.Rngs(0))


@pytest.fixture
def tiny_surrogate(_surrogate):
    """An untrained CNN on the impact's grid (training ranges inf: nothing is out of distribution); a
    copy, so a test may change it."""
    return nnx.clone(_surrogate)
