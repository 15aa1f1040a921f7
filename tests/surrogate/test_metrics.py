import numpy as np
import pytest

from axojax.surrogate import nrmse_pct, r2_score


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hand_computed(dtype):
    y = np.array([[1.0, 0.0], [2.0, 10.0], [3.0, 20.0]], dtype)
    p = np.array([[1.0, 2.0], [2.0, 10.0], [4.0, 18.0]], dtype)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    # column 0: ss_res = 1, ss_tot = 2 -> 0.5; column 1: ss_res = 8, ss_tot = 200 -> 0.96
    np.testing.assert_allclose(r2_score(y, p), [0.5, 0.96], rtol=tol)
    # column 0: rmse = sqrt(1/3), range 2; column 1: rmse = sqrt(8/3), range 20
    np.testing.assert_allclose(
        nrmse_pct(y, p), [100 * np.sqrt(1 / 3) / 2, 100 * np.sqrt(8 / 3) / 20], rtol=tol
    )


def test_perfect_prediction():
    y = np.random.default_rng(0).normal(size=(10, 4))
    np.testing.assert_allclose(r2_score(y, y), np.ones(4))
    np.testing.assert_allclose(nrmse_pct(y, y), np.zeros(4))
