import jax
import jax.numpy as jnp
import numpy as np
import pytest

from axojax.surrogate import (
    OUTPUT_NAMES,
    StepContext,
    TrainConfig,
    fit,
    learning_curve,
    mse_step,
    nrmse_pct,
    predict,
    r2_score,
)

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


def test_custom_step_runs_in_the_same_loop(axon_data):
    """A step factory sees the split and normalised data; extra loss terms land in `train_terms`."""
    x, y = axon_data
    x, y = x[:96], y[:96]
    seen = []

    def make_step(ctx: StepContext):
        assert ctx.profiles.shape == (96 - 14, x.shape[1]) and ctx.n_batches == 2 and ctx.train is FAST
        np.testing.assert_allclose(ctx.z_targets.mean(axis=0), 0.0, atol=1e-5)  # z-scored on this split
        step = mse_step(ctx)

        def run(epoch, batch, rows):
            seen.append((epoch, batch, rows.size))
            return (*step(epoch, batch, rows), jnp.asarray(2.0 * epoch))

        return run

    m1, h1 = fit(x, y, dt_s=DT_S, key=jax.random.PRNGKey(3), config=CONFIG, train=FAST, make_step=make_step)
    m2, h2 = fit(x, y, dt_s=DT_S, key=jax.random.PRNGKey(3), config=CONFIG, train=FAST)
    epochs = h1.val_loss.size
    assert seen == [(e, b, 32) for e in range(epochs) for b in range(2)]
    assert h1.train_terms.shape == (epochs, 2) and h2.train_terms.shape == (epochs, 1)
    np.testing.assert_array_equal(h1.train_terms[:, 1], 2.0 * np.arange(epochs))
    np.testing.assert_array_equal(h1.train_loss, h2.train_loss)  # the same updates as the default step
    np.testing.assert_array_equal(predict(m1, x), predict(m2, x))


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
