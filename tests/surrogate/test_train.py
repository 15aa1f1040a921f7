import jax
import numpy as np
import pytest

from axojax.surrogate import OUTPUT_NAMES, TrainConfig, fit, learning_curve, nrmse_pct, predict, r2_score

from .conftest import CONFIG, DT_S, N_TRAIN

FAST = TrainConfig(epochs=4, batch_size=32, patience=2)


def test_training_reduces_loss_and_fits_axon_model(trained, axon_data):
    model, hist = trained
    x, y = axon_data
    assert hist.train_loss[-1] < 0.1 * hist.train_loss[0]
    assert hist.val_loss[hist.best_epoch] == pytest.approx(hist.val_loss.min())
    pred = predict(model, x[N_TRAIN:])
    r2 = np.asarray(r2_score(y[N_TRAIN:], pred))
    nrmse = np.asarray(nrmse_pct(y[N_TRAIN:], pred))
    # measured (80 held-out pulses, 320 training, 60 epochs): R2 ~0.97-0.99, NRMSE ~2-6 %
    assert np.all(r2 > 0.90), dict(zip(OUTPUT_NAMES, r2))
    assert np.all(nrmse < 10.0), dict(zip(OUTPUT_NAMES, nrmse))


def test_deterministic_for_fixed_key(axon_data):
    x, y = axon_data
    x, y = x[:96], y[:96]
    m1, h1 = fit(x, y, dt_s=DT_S, key=jax.random.PRNGKey(3), config=CONFIG, train=FAST)
    m2, h2 = fit(x, y, dt_s=DT_S, key=jax.random.PRNGKey(3), config=CONFIG, train=FAST)
    m3, _ = fit(x, y, dt_s=DT_S, key=jax.random.PRNGKey(4), config=CONFIG, train=FAST)
    np.testing.assert_array_equal(h1.train_loss, h2.train_loss)
    np.testing.assert_array_equal(predict(m1, x), predict(m2, x))
    assert not np.array_equal(predict(m1, x), predict(m3, x))


def test_fit_rejects_bad_data(axon_data):
    x, y = axon_data
    key = jax.random.PRNGKey(0)
    bad = y[:10].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        fit(x[:10], bad, dt_s=DT_S, key=key)
    with pytest.raises(ValueError, match="config expects"):
        fit(x[:10], y[:10], dt_s=2 * DT_S, key=key, config=CONFIG)


def test_learning_curve_shapes_and_threshold(axon_data):
    x, y = axon_data
    curve = learning_curve(
        x[:120],
        y[:120],
        dt_s=DT_S,
        sizes=(120, 80),
        key=jax.random.PRNGKey(5),
        folds=2,
        threshold=-np.inf,
        config=CONFIG,
        train=FAST,
    )
    assert curve.sizes.tolist() == [80, 120]
    assert curve.r2.shape == curve.nrmse_pct.shape == (2, 2, 4)
    assert curve.r2_mean.shape == curve.nrmse_mean.shape == (2, 4)
    assert np.all(np.isfinite(curve.r2)) and np.all(curve.nrmse_pct > 0)
    assert curve.min_size == 80
    with pytest.raises(ValueError, match="sizes"):
        learning_curve(x[:60], y[:60], dt_s=DT_S, sizes=(100,), key=jax.random.PRNGKey(5), folds=2)
