"""Agreement metrics on hand-made gradients."""

import numpy as np
import pytest

from axojax.sensitivity import agreement_report, gradient_agreement, smooth_gradients


def _grads():
    rng = np.random.default_rng(0)
    return rng.normal(size=(5, 4, 20))


def test_identical_negated_scaled():
    g = _grads()
    cos, err = gradient_agreement(g, g)
    np.testing.assert_allclose(cos, 1.0)
    np.testing.assert_allclose(err, 0.0, atol=0)
    cos, err = gradient_agreement(-g, g)
    np.testing.assert_allclose(cos, -1.0)
    np.testing.assert_allclose(err, 2.0)
    cos, err = gradient_agreement(3.0 * g, g)
    np.testing.assert_allclose(cos, 1.0)
    np.testing.assert_allclose(err, 2.0)


def test_orthogonal_and_hand_computed():
    a = np.array([[[1.0, 0.0, 0.0]]])
    r = np.array([[[0.0, 2.0, 0.0]]])
    cos, err = gradient_agreement(a, r)
    assert cos[0, 0] == 0.0
    assert err[0, 0] == pytest.approx(np.sqrt(5.0) / 2.0)
    cos, err = gradient_agreement(np.array([[[1.0, 1.0, 0.0]]]), np.array([[[1.0, 0.0, 0.0]]]))
    assert cos[0, 0] == pytest.approx(1 / np.sqrt(2.0)) and err[0, 0] == pytest.approx(1.0)


def test_zero_reference_is_nan_zero_surrogate_is_no_agreement():
    g = _grads()
    ref = g.copy()
    ref[:, 3] = 0.0  # e.g. NF failure 0 % everywhere: relative error undefined
    sur = g.copy()
    sur[0, 2] = 0.0  # e.g. a failure output clipped at 0 %
    sur[1, 1, 4] = np.nan
    cos, err = gradient_agreement(sur, ref)
    assert np.all(np.isnan(cos[:, 3])) and np.all(np.isnan(err[:, 3]))
    assert cos[0, 2] == 0.0 and err[0, 2] == 1.0
    assert np.isnan(cos[1, 1]) and np.isnan(err[1, 1])
    rep = agreement_report(sur, ref)
    assert rep.n_valid.tolist() == [5, 4, 5, 0]
    assert rep.mean_cosine[2] == pytest.approx(0.8) and rep.median_cosine[2] == pytest.approx(1.0)
    assert rep.median_rel_error[0] == pytest.approx(0.0, abs=1e-15)
    assert np.isnan(rep.mean_cosine[3])
    table = rep.to_markdown()
    assert "| nf_failure_pct | 0 | n/a | n/a | n/a | n/a |" in table
    assert "| tau_failure_pct | 5 | 0.800 | 1.000 | 0.200 | 0.000 |" in table


def test_smoothing():
    g = _grads()
    np.testing.assert_allclose(agreement_report(g, g, smooth_sigma_samples=2.0).median_cosine, 1.0)
    spike = np.zeros((1, 1, 41))
    spike[0, 0, 20] = 1.0
    s = smooth_gradients(spike, 3.0)
    assert s.sum() == pytest.approx(1.0) and s[0, 0].argmax() == 20 and s[0, 0, 20] < 0.2
    # a spike vs. a 3-sample box of the same area: poor raw, good smoothed agreement
    box = np.zeros_like(spike)
    box[0, 0, 19:22] = 1.0 / 3.0
    assert gradient_agreement(box, spike)[0][0, 0] < 0.6
    assert gradient_agreement(smooth_gradients(box, 3.0), s)[0][0, 0] > 0.99


def test_shape_errors():
    g = _grads()
    # under the test config jaxtyping rejects mismatched shapes first (a TypeError); else our ValueError
    with pytest.raises((ValueError, TypeError), match="same shape|g_ode"):
        gradient_agreement(g, g[:, :, :-1])
    with pytest.raises((ValueError, TypeError), match="batch, outputs, time|g_sur"):
        gradient_agreement(g[0], g[0])
    with pytest.raises(ValueError, match="output_names"):
        agreement_report(g, g, ("a", "b"))
    with pytest.raises(ValueError, match="positive"):
        smooth_gradients(g, 0.0)
