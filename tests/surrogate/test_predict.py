import warnings

import jax.numpy as jnp
import numpy as np
import pytest

from axojax.surrogate import OutOfDistributionWarning, check_inputs, predict

from .conftest import DT_S, N_TRAIN, T


def test_shape_dtype_and_streaming(trained, axon_data):
    model, _ = trained
    x = axon_data[0][N_TRAIN:]
    out = predict(model, jnp.asarray(x, jnp.float64))  # float64 input under x64 -> float32 out
    assert out.shape == (x.shape[0], 4) and out.dtype == jnp.float32
    # chunking changes float32 rounding only
    np.testing.assert_allclose(predict(model, x, batch_size=7), out, rtol=1e-4, atol=1e-4)
    assert predict(model, x[:0]).shape == (0, 4)


def test_rejects_wrong_grid(trained):
    model, _ = trained
    with pytest.raises(ValueError, match="time samples"):
        predict(model, np.zeros((2, T + 1), np.float32))
    with pytest.raises(ValueError, match="dt"):
        predict(model, np.zeros((2, T), np.float32), dt_s=2 * DT_S)


def test_ood_warns_for_3x_peak_strain_not_for_training_profile(trained, axon_data):
    model, _ = trained
    x = axon_data[0][:N_TRAIN]
    biggest = x[np.argmax(np.abs(x).max(axis=1))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        predict(model, x[:50])  # training profiles: silent
        assert not np.any(check_inputs(model, x))
    profiles = np.stack([x[0], 3.0 * biggest, 3.0 * biggest])
    with pytest.warns(OutOfDistributionWarning, match="2 of 3"):
        out = predict(model, profiles)
    assert out.shape == (3, 4)
    np.testing.assert_array_equal(check_inputs(model, profiles, warn=False), [False, True, True])


def test_failure_outputs_clipped_to_percent_range(trained, axon_data):
    model, _ = trained
    x = jnp.asarray(axon_data[0][N_TRAIN:], jnp.float32)
    raw = model.normalized(x) * model.out_std[...][None, :] + model.out_mean[...][None, :]
    out = predict(model, x, check=False)
    np.testing.assert_allclose(out[:, :2], raw[:, :2], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(out[:, 2:], np.clip(raw[:, 2:], 0.0, 100.0), rtol=1e-5, atol=1e-5)
    assert float(jnp.min(out[:, 2:])) >= 0.0 and float(jnp.max(out[:, 2:])) <= 100.0
    # zero strain: nothing fails, and the raw regression may undershoot below 0
    zero = predict(model, jnp.zeros((1, T), jnp.float32), check=False)
    assert float(zero[0, 2]) >= 0.0 and float(zero[0, 3]) >= 0.0
