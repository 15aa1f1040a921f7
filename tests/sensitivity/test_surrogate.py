"""Surrogate input gradients vs. finite differences."""

import numpy as np
import pytest

from axojax.sensitivity import surrogate_input_gradients
from axojax.surrogate import predict

from .conftest import tiny_surrogate

T = 32


def test_input_gradient_matches_finite_differences():
    model = tiny_surrogate(T)
    rng = np.random.default_rng(1)
    t = np.arange(T) * 1e-3
    x = np.stack([0.08 * np.sin(np.pi * np.clip((t - 0.005) / w, 0, 1)) ** 2 for w in (0.006, 0.015, 0.02)])
    g = np.asarray(surrogate_input_gradients(model, x))
    assert g.shape == (3, 4, T) and g.dtype == np.float32
    assert np.all(np.abs(g).sum(axis=-1) > 0)
    # rows are independent: the batch does not mix profiles (same shape, so no recompilation)
    np.testing.assert_allclose(
        np.asarray(surrogate_input_gradients(model, x[::-1])), g[::-1], rtol=1e-5, atol=1e-6 * np.abs(g).max()
    )
    v = rng.normal(size=x.shape)
    v /= np.linalg.norm(v, axis=-1, keepdims=True)
    h = 1e-3

    def f(z):
        return np.asarray(predict(model, z, check=False), np.float64)

    fd = (f(x + h * v) - f(x - h * v)) / (2 * h)
    ad = np.einsum("bkt,bt->bk", g, v)
    tol = 1e-2 * np.abs(fd) + 1e-3 * np.abs(fd).max(axis=0, keepdims=True)
    assert np.all(np.abs(ad - fd) <= tol), (ad, fd)
    # one sample at a time, on the sample of largest sensitivity of each output
    for k in range(4):
        b, j = np.unravel_index(np.abs(g[:, k]).argmax(), g[:, k].shape)
        e = np.zeros_like(x)
        e[b, j] = h
        fd1 = (f(x + e) - f(x - e))[b, k] / (2 * h)
        assert fd1 == pytest.approx(g[b, k, j], rel=2e-2)


@pytest.mark.parametrize(
    "bad,match", [(np.zeros((2, 31)), "32 time samples"), (np.full((1, 32), np.inf), "NaN or inf")]
)
def test_bad_profiles_raise(bad, match):
    with pytest.raises(ValueError, match=match):
        surrogate_input_gradients(tiny_surrogate(T), bad)
    # a 1-D profile: jaxtyping rejects it first under the test config (TypeError), else our ValueError
    with pytest.raises((ValueError, TypeError), match="shape|profiles"):
        surrogate_input_gradients(tiny_surrogate(T), np.zeros(T))
