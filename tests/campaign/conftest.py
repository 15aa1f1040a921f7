import numpy as np
import pytest

# 21 samples over 40 ms: short profiles keep each solve cheap; the compile (~15 s per batch shape
# and settings) dominates, so every test here uses batches of CHUNK profiles of this length.
T_S = np.linspace(0.0, 0.04, 21)  # [s]
CHUNK = 2


def ramp(rate_per_s: float, amp: float) -> np.ndarray:
    """Ramp at `rate_per_s` [1/s] to `amp` [-], then hold, on T_S."""
    return np.minimum(rate_per_s * T_S, amp)


def campaign_profiles() -> tuple[np.ndarray, np.ndarray]:
    """8 profiles (4 chunks of 2) with origin ids (impact, voxel)."""
    rates = (30.0, 10.0, 50.0, 5.0, 20.0, 40.0, 1.0, 0.0)
    amps = (0.05, 0.03, 0.10, 0.08, 0.12, 0.02, 0.01, 0.0)
    profiles = np.stack([ramp(r, a) for r, a in zip(rates, amps, strict=True)])
    ids = np.stack([np.arange(8) % 3, 100 + 7 * np.arange(8)], axis=-1).astype(np.int64)
    return profiles, ids


@pytest.fixture
def selection():
    t = T_S.copy()
    profiles, ids = campaign_profiles()
    return t, profiles, ids
