import jax.numpy as jnp
import numpy as np
import pytest

from axojax.sampling import NRMSE_FLOOR, max_similarity, similarity, similarity_matrix

from .conftest import pulses
from .reference import sim_ref

TOL = {jnp.float32: 1e-3, jnp.float64: 1e-9}  # nrmse from a Gram product near s = 1


def bump(n_time=50, centre=20.0, width=4.0, amp=0.05, dtype=jnp.float64):
    t = np.arange(n_time, dtype=np.float64)
    return jnp.asarray(amp * np.exp(-0.5 * ((t - centre) / width) ** 2), dtype)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize("measure", ["nrmse", "xcorr"])
def test_identical_profiles_have_similarity_one(measure, dtype):
    a = bump(dtype=dtype)
    assert float(similarity(a, a, measure)) == pytest.approx(1.0, abs=TOL[dtype])
    m = similarity_matrix(a[None], a[None], measure)
    assert m.dtype == dtype and float(m[0, 0]) == pytest.approx(1.0, abs=TOL[dtype])


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@pytest.mark.parametrize("measure", ["nrmse", "xcorr"])
def test_symmetric_and_matches_reference(rng, measure, dtype):
    x = jnp.asarray(pulses(rng, 12), dtype)
    m = np.asarray(similarity_matrix(x, x, measure))
    np.testing.assert_allclose(m, m.T, atol=TOL[dtype])
    ref = np.array([[sim_ref(a, b, measure) for b in np.asarray(x)] for a in np.asarray(x)])
    np.testing.assert_allclose(m, ref, atol=TOL[dtype])
    assert np.all(m <= 1 + TOL[dtype]) and np.all(m >= -1 - TOL[dtype])


def test_scaled_copy_shape_one_amplitude_below_one():
    a = bump()
    b = 1.5 * a
    assert float(similarity(a, b, "xcorr")) == pytest.approx(1.0, abs=1e-12)
    # 1 - |1 - c| rms(a) / (c peak(a)), c = 1.5
    expect = 1 - 0.5 * float(jnp.sqrt(jnp.mean(a**2))) / (1.5 * float(jnp.max(a)))
    assert float(similarity(a, b, "nrmse")) == pytest.approx(expect, rel=1e-12)
    assert expect < 1


def test_shifted_copy_found_by_cross_correlation():
    a = bump(centre=20.0)
    b = bump(centre=23.0)  # 3 samples later, fully inside the window
    assert float(similarity(a, b, "xcorr", max_lag=5)) == pytest.approx(1.0, abs=1e-12)
    assert float(similarity(a, b, "xcorr", max_lag=0)) < 0.9
    assert float(similarity(a, b, "nrmse")) < 0.9


def test_zero_profiles_and_sign():
    z = jnp.zeros(30)
    a = bump(n_time=30, centre=12.0)
    assert float(similarity(z, z, "nrmse")) == 1.0 and float(similarity(z, z, "xcorr")) == 1.0
    assert float(similarity(z, a, "xcorr")) == 0.0
    assert float(similarity(a, -a, "xcorr", max_lag=0)) == pytest.approx(-1.0)
    assert float(similarity(a, -a, "nrmse")) == pytest.approx(1 - 2 * float(jnp.sqrt(jnp.mean(a**2))) / 0.05)


def test_floor_makes_sub_injurious_profiles_alike():
    # two 0.1 %-strain bumps at different times: unlike under the peak-relative scale, alike under the
    # 1 % floor (differences measured against 1 % strain)
    a = 0.001 / 0.05 * bump(centre=10.0)
    b = 0.001 / 0.05 * bump(centre=25.0)
    rmse = float(jnp.sqrt(jnp.mean((a - b) ** 2)))
    assert 1 - rmse / 0.001 < 0.8
    assert float(similarity(a, b, "nrmse")) == pytest.approx(1 - rmse / NRMSE_FLOOR, rel=1e-12)
    assert float(similarity(a, b, "nrmse")) > 0.9
    np.testing.assert_allclose(similarity_matrix(a[None], b[None], "nrmse")[0, 0], 1 - rmse / 0.01, rtol=1e-6)


def test_max_similarity_chunks(rng):
    q = pulses(rng, 37)
    r = pulses(rng, 9)
    got = max_similarity(q, r, "xcorr", chunk=8)
    np.testing.assert_allclose(got, np.asarray(similarity_matrix(q, r, "xcorr")).max(1), atol=1e-12)


def test_bad_measure_and_lag():
    a = bump()
    with pytest.raises(ValueError, match="measure must be one of"):
        similarity(a, a, "cosine")
    with pytest.raises(ValueError, match="max_lag must be in"):
        similarity(a, a, "xcorr", max_lag=50)
    with pytest.raises(ValueError, match="same shape"):
        similarity(a, a[:10])
