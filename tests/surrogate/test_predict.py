import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from axojax.surrogate import (
    OutOfDistributionWarning,
    SurrogateCNN,
    SurrogateConfig,
    apply_inference,
    check_inputs,
    inference_parts,
    predict,
)
from axojax.surrogate._model import conv_taps

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


@pytest.mark.parametrize("kernel_size", [4, 5])
def test_conv_taps_is_the_same_convolution(kernel_size):
    """SAME zero padding on both sides, odd and even kernels: the numbers of nnx.Conv."""
    conv = nnx.Conv(2, 3, kernel_size=(kernel_size,), padding="SAME", rngs=nnx.Rngs(1))
    x = jnp.asarray(np.random.default_rng(0).normal(size=(5, 11, 2)), jnp.float32)
    np.testing.assert_allclose(conv_taps(x, conv.kernel[...], conv.bias[...]), conv(x), rtol=1e-6, atol=1e-6)


def test_infer_and_apply_inference_equal_the_model(trained, axon_data):
    """The inference path (first conv as taps, fused GELU + pool) gives the model's outputs and flags."""
    model, _ = trained
    x = jnp.asarray(axon_data[0][N_TRAIN:], jnp.float32)
    x = jnp.concatenate([x, 3.0 * x])  # the second half out of distribution
    graphdef, state = inference_parts(model)
    reference = jax.jit(lambda s, p: nnx.merge(graphdef, s)(p))  # the model's own __call__
    ref = np.asarray(reference(state, x))
    scale = np.maximum(np.abs(ref).max(axis=0), 1e-6)
    out, flags = jax.jit(apply_inference, static_argnums=(0, 3))(graphdef, state, x, 0.1)
    np.testing.assert_allclose(np.asarray(out) / scale, ref / scale, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(flags, check_inputs(model, x, warn=False))
    assert flags.any() and not flags.all()
    odd = SurrogateCNN(SurrogateConfig(n_time=9, dt_s=1e-3, channels=(3, 2), kernel_size=4), rngs=nnx.Rngs(2))
    g2, s2 = inference_parts(odd)
    y = x[:6, :9]  # odd lengths 9 -> 4 -> 2: the trailing sample dropped as in the model
    np.testing.assert_allclose(
        jax.jit(lambda s, p: nnx.merge(g2, s).infer(p))(s2, y),
        jax.jit(lambda s, p: nnx.merge(g2, s)(p))(s2, y),
        rtol=1e-5,
        atol=1e-6,
    )
