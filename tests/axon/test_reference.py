"""Agreement with an independent SciPy (solve_ivp, LSODA) implementation of the same equations."""

import numpy as np
import pytest
from reference_axon import Reference

from axojax.axon import AxonParams, simulate

from .conftest import T_FAST


def _profiles():
    rng = np.random.default_rng(7)
    amp = rng.uniform(0.02, 0.15, 4)
    dur = rng.uniform(0.005, 0.04, 4)
    t0 = rng.uniform(0.0, 0.04, 4)
    return amp[:, None] * np.sin(np.pi * np.clip((T_FAST[None] - t0[:, None]) / dur[:, None], 0, 1)) ** 2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_scipy_reference_within_1_percent(dtype):
    """The reference implements the affine mean-field bundle (mt_bundle_coupling = 0); the coupled
    bundle's block solve is checked against a dense NumPy solve in test_model.py."""
    e = _profiles()
    params = AxonParams.male().replace(mt_bundle_coupling=0.0)
    ref = Reference(params)
    expected = np.stack([ref.simulate(T_FAST, p, rtol=1e-7, atol=1e-9) for p in e])
    got = np.asarray(simulate(T_FAST.astype(dtype), e.astype(dtype), params).as_array(), dtype=float)
    scale = np.maximum(np.abs(expected), 0.01 * np.abs(expected).max(axis=0) + 1e-12)
    assert np.max(np.abs(got - expected) / scale) < 0.01
