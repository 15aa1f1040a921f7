import numpy as np
import pytest
import scipy.signal

from axojax.kinematics import Impact, cfc_sos, crop_impact, half_sine_pulse, lowpass, resample_record


def _gain(sos, f_hz, fs_hz):
    """|H|^2 of the forward-backward filter at f (the zero-phase gain)."""
    _, h = scipy.signal.sosfreqz(sos, worN=[f_hz], fs=fs_hz)
    return float(np.abs(h[0]) ** 2)


def test_cfc180_matches_sae_j211_corridor():
    fs = 10_000.0
    sos = cfc_sos(180.0, 1.0 / fs)
    assert _gain(sos, 0.0, fs) == pytest.approx(1.0, abs=1e-12)  # a0 + a1 + a2 = 1 - b1 - b2
    assert 20 * np.log10(_gain(sos, 100.0, fs)) > -0.5  # J211 CFC 180: flat to 180 Hz within +0.5/-1 dB
    assert -1.0 < 20 * np.log10(_gain(sos, 180.0, fs)) < 0.5
    assert -4.5 < 20 * np.log10(_gain(sos, 300.0, fs)) < -1.5  # -3 dB near 300 Hz (1.67 CFC)
    assert 20 * np.log10(_gain(sos, 2000.0, fs)) < -30.0
    with pytest.raises(ValueError, match="sampling rate"):
        cfc_sos(180.0, 1.0 / 500.0)


def test_lowpass_is_zero_phase_and_keeps_a_slow_pulse():
    t = np.arange(0, 0.3, 1e-4)
    slow = np.exp(-(((t - 0.15) / 0.01) ** 2))
    y = lowpass(slow[:, None] * np.ones(3), 1e-4)
    np.testing.assert_allclose(y[:, 0], slow, atol=2e-3)
    assert np.argmax(y[:, 0]) == np.argmax(slow)  # no phase lag
    yb = lowpass(slow[:, None] * np.ones(3), 1e-4, method="butterworth", cutoff_hz=400.0)
    np.testing.assert_allclose(yb[:, 0], slow, atol=2e-3)
    with pytest.raises(ValueError, match="filter must be"):
        lowpass(np.stack([slow] * 3, axis=1), 1e-4, method="fir")


def test_resampling_anti_aliases_what_point_sampling_folds_back():
    """A 10 kHz record = a smooth pulse + a 2.2 kHz tone. Sampled every 10th point the tone folds back
    to 200 Hz at full amplitude; filtered first, it is gone."""
    fine = half_sine_pulse(3000.0, 12.0, (0.0, 0.0, 1.0), dt_ms=0.1, window_ms=100.0, onset_ms=30.0)
    t = np.asarray(fine.t_s)
    tone = 300.0 * np.sin(2 * np.pi * 2200.0 * t)[:, None] * np.array([1.0, 0.0, 0.0])
    noisy = Impact(t, fine.ang_vel_rad_s, np.asarray(fine.ang_acc_rad_s2) + tone, name="n")
    clean = resample_record(fine, dt_ms=1.0, method="none")
    point = resample_record(noisy, dt_ms=1.0, method="none")
    filt = resample_record(noisy, dt_ms=1.0, method="cfc180")
    assert point.t_s.shape == (100,) and filt.t_s.shape == (100,)
    np.testing.assert_allclose(filt.t_s, np.arange(100) * 1e-3, atol=1e-12)
    err_point = np.abs(np.asarray(point.ang_acc_rad_s2 - clean.ang_acc_rad_s2))[:, 0].max()
    err_filt = np.abs(np.asarray(filt.ang_acc_rad_s2 - clean.ang_acc_rad_s2))[:, 0].max()
    assert err_point > 200.0  # the tone, aliased at nearly full amplitude
    assert err_filt < 15.0  # < 5 % of the tone
    # the pulse itself survives the filter (its content lies mostly below 180 Hz; its corners round off)
    np.testing.assert_allclose(filt.ang_acc_rad_s2[:, 2], clean.ang_acc_rad_s2[:, 2], atol=0.05 * 3000.0)


def test_resample_record_upsamples_without_filtering_and_handles_uneven_grids():
    coarse = half_sine_pulse(2000.0, 10.0, (0.0, 1.0, 0.0), dt_ms=2.0, window_ms=60.0, onset_ms=10.0)
    up = resample_record(coarse, dt_ms=1.0)
    assert up.t_s.shape == (59,)
    np.testing.assert_allclose(up.ang_acc_rad_s2[::2], coarse.ang_acc_rad_s2, atol=1e-9)
    t = np.sort(np.r_[0.0, np.random.default_rng(0).uniform(0, 0.05, 400), 0.05])
    uneven = Impact(t, np.zeros((t.size, 3)), np.ones((t.size, 3)), name="u")
    out = resample_record(uneven, dt_ms=1.0)
    np.testing.assert_allclose(out.ang_acc_rad_s2, 1.0, atol=1e-9)


def test_crop_impact_pads_at_rest():
    imp = half_sine_pulse(1000.0, 10.0, (1.0, 0.0, 0.0), dt_ms=1.0, window_ms=50.0, onset_ms=5.0)
    win = crop_impact(imp, -0.010, dt_ms=1.0, window_ms=100.0)
    assert win.t_s.shape == (100,) and float(win.t_s[0]) == 0.0
    np.testing.assert_allclose(win.ang_acc_rad_s2[:10], 0.0)
    np.testing.assert_allclose(win.ang_acc_rad_s2[10:60], imp.ang_acc_rad_s2, atol=1e-9)
    np.testing.assert_allclose(win.ang_acc_rad_s2[60:], 0.0)
    np.testing.assert_allclose(win.ang_vel_rad_s[60:], np.broadcast_to(imp.ang_vel_rad_s[-1], (40, 3)))
