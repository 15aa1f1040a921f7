import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from axojax.axon import simulate  # noqa: E402

T_FAST = np.linspace(0.0, 0.1, 101)  # 100 ms at 1 kHz [s]
T_FINE = np.linspace(0.0, 0.04, 201)  # 40 ms at 5 kHz [s]
RATES = (1.0, 10.0, 30.0, 50.0)  # [1/s]
AMPS = (0.0, 0.02, 0.05, 0.10, 0.15, 0.20)


def ramp(t, rate, amp):
    """Ramp at `rate` [1/s] to `amp` [-], then hold."""
    return np.minimum(rate * t, amp)


@pytest.fixture(scope="session")
def ramp_grid():
    """Outputs for every (rate, amplitude) ramp-and-hold on 100 ms, float64: arrays (rates, amps, 4)."""
    e = np.stack([ramp(T_FAST, r, a) for r in RATES for a in AMPS])
    res = simulate(T_FAST, e, history=True)
    return res, np.asarray(res.as_array()).reshape(len(RATES), len(AMPS), 4)


@pytest.fixture(scope="session")
def fine_ramps():
    """Ramps to 30 % at 10, 30, 50 /s sampled at 5 kHz, with histories."""
    rates = (10.0, 30.0, 50.0)
    e = np.stack([ramp(T_FINE, r, 0.30) for r in rates])
    return rates, simulate(T_FINE, e, history=True)
