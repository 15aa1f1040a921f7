import jax.random as jr
import numpy as np
import pytest

from axojax.sampling import amplitude_variants

from .conftest import pulses


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_variants_are_scaled_copies_of_their_source(rng, dtype):
    x = pulses(rng, 30, dtype=dtype)
    v, src, a = (
        np.asarray(o) for o in amplitude_variants(x, jr.PRNGKey(0), copies=3, scale_range=(0.8, 1.2))
    )
    assert v.shape == (90, 40) and v.dtype == dtype
    np.testing.assert_array_equal(src, np.tile(np.arange(30), 3))  # copy c of row i is row c*n + i
    np.testing.assert_allclose(v, x[src] * a[:, None], rtol=1e-6, atol=1e-9)
    # the factors lie in the range (or at the cap), and the copies of one row differ
    assert a.min() >= 0.8 and a.max() <= 1.2
    assert np.sum(a[:30] != a[30:60]) >= 28  # (equal only where the peak cap binds both)
    # sign and shape kept: every variant is perfectly correlated with its source
    corr = np.sum(v * x[src], 1) / (np.linalg.norm(v, axis=1) * np.linalg.norm(x[src], axis=1))
    np.testing.assert_allclose(corr, 1.0, rtol=1e-5)


def test_peak_never_exceeds_the_training_maximum(rng):
    x = pulses(rng, 50)
    top = np.abs(x).max()
    v, src, a = (
        np.asarray(o) for o in amplitude_variants(x, jr.PRNGKey(1), copies=4, scale_range=(1.1, 1.5))
    )
    peak = np.abs(v).max(1)
    assert peak.max() <= top * (1 + 1e-12)
    # the largest profile cannot grow: its variants equal it exactly
    i = int(np.argmax(np.abs(x).max(1)))
    np.testing.assert_allclose(a[src == i], 1.0)
    # an explicit cap below every peak shrinks every variant to it
    cap = 0.5 * np.abs(x).max(1).min()
    v2, _, _ = amplitude_variants(x, jr.PRNGKey(1), scale_range=(0.9, 1.1), max_peak=cap)
    np.testing.assert_allclose(np.abs(np.asarray(v2)).max(1), cap, rtol=1e-12)


def test_deterministic_per_key(rng):
    x = pulses(rng, 10)
    a1 = np.asarray(amplitude_variants(x, jr.PRNGKey(3))[2])
    a2 = np.asarray(amplitude_variants(x, jr.PRNGKey(3))[2])
    a3 = np.asarray(amplitude_variants(x, jr.PRNGKey(4))[2])
    np.testing.assert_array_equal(a1, a2)
    assert not np.allclose(a1, a3)


def test_zero_profile_stays_zero():
    x = np.zeros((2, 40))
    x[1, 5] = 0.02
    v, _, _ = amplitude_variants(x, jr.PRNGKey(0), scale_range=(0.9, 0.9))
    np.testing.assert_array_equal(np.asarray(v)[0], 0.0)
    assert np.isfinite(np.asarray(v)).all()


def test_bad_input(rng):
    x = pulses(rng, 5)
    with pytest.raises(ValueError, match="copies"):
        amplitude_variants(x, jr.PRNGKey(0), copies=0)
    with pytest.raises(ValueError, match="scale_range"):
        amplitude_variants(x, jr.PRNGKey(0), scale_range=(1.2, 0.8))
    with pytest.raises(ValueError, match="scale_range"):
        amplitude_variants(x, jr.PRNGKey(0), scale_range=(0.0, 1.0))
    bad = x.copy()
    bad[2, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        amplitude_variants(bad, jr.PRNGKey(0))
    with pytest.raises(TypeError):  # (n, time) by the jaxtyping annotation
        amplitude_variants(x[0], jr.PRNGKey(0))
    with pytest.raises(ValueError, match="max_peak"):
        amplitude_variants(x, jr.PRNGKey(0), max_peak=0.0)
