"""Anti-aliased resampling of measured kinematics onto the model grid (host numerics, NumPy/SciPy).

A record sampled faster than the model grid (e.g. 10 kHz onto 1 ms) is low-pass filtered before it is
sampled, so content above the new Nyquist frequency does not fold back into the band the head model
sees. Two zero-phase filters:

- `"cfc180"`: SAE J211-1 channel frequency class 180 (the class for head angular velocity): the
  J211 two-pole Butterworth-type section run forward and backward (phaseless, four poles), -3 dB near
  300 Hz. Its coefficients (SAE J211-1 (2014), Appendix C), for sample interval T [s]:

      ω_d = 2π · CFC · 2.0775,   ω_a = tan(ω_d T / 2),   D = 1 + √2 ω_a + ω_a²
      a0 = a2 = ω_a² / D,  a1 = 2 a0,  b1 = -2 (ω_a² - 1) / D,  b2 = (-1 + √2 ω_a - ω_a²) / D
      y[n] = a0 x[n] + a1 x[n-1] + a2 x[n-2] + b1 y[n-1] + b2 y[n-2]

- `"butterworth"`: a zero-phase Butterworth (`scipy.signal.butter` + `sosfiltfilt`), order 4, cut-off
  `cutoff_hz` (default 0.4 × the new sampling rate: 400 Hz on a 1 ms grid).

These run on the host before any JAX code sees the record (they are part of reading the data, like
the readers in `io`).
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Float

from axojax.kinematics._impact import Impact

__all__ = ["FILTERS", "cfc_sos", "lowpass", "resample_record"]

FILTERS = ("cfc180", "butterworth", "none")


def cfc_sos(cfc_hz: float, dt_s: float) -> Float[np.ndarray, "1 6"]:
    """SAE J211 CFC filter section for `scipy.signal.sosfilt` (run it forward and backward).

    Args:
        cfc_hz: channel frequency class [Hz] (60, 180, 600, 1000).
        dt_s: sample interval [s]; J211 needs a sampling rate above ~ 2 × 2.0775 × CFC.

    Raises:
        ValueError: a sampling rate too low for the class.
    """
    wd = 2.0 * np.pi * cfc_hz * 2.0775
    if wd * dt_s / 2.0 >= np.pi / 2.0:
        raise ValueError(
            f"CFC {cfc_hz:g} needs a sampling rate above {wd / np.pi:.0f} Hz, got {1.0 / dt_s:.0f} Hz"
        )
    wa = np.tan(wd * dt_s / 2.0)
    d = 1.0 + np.sqrt(2.0) * wa + wa**2
    a0 = wa**2 / d
    b1 = -2.0 * (wa**2 - 1.0) / d
    b2 = (-1.0 + np.sqrt(2.0) * wa - wa**2) / d
    return np.array([[a0, 2.0 * a0, a0, 1.0, -b1, -b2]])


def lowpass(
    x: Float[np.ndarray, "time 3"],
    dt_s: float,
    *,
    method: str = "cfc180",
    cutoff_hz: float | None = None,
) -> Float[np.ndarray, "time 3"]:
    """Zero-phase low-pass filter along axis 0 of a uniformly sampled signal.

    Args:
        x: samples (any unit), time along axis 0.
        dt_s: sample interval [s].
        method: "cfc180", "butterworth" or "none" (module docstring).
        cutoff_hz: Butterworth -3 dB frequency [Hz] (required for "butterworth").

    Returns:
        The filtered samples, same shape (float64). Ends are padded by odd reflection
        (`scipy.signal.sosfiltfilt`), so a record that starts and ends at rest keeps its ends.
    """
    import scipy.signal

    x = np.asarray(x, np.float64)
    if method == "none":
        return x
    if method == "cfc180":
        sos = cfc_sos(180.0, dt_s)
    elif method == "butterworth":
        if cutoff_hz is None or not 0.0 < cutoff_hz < 0.5 / dt_s:
            raise ValueError(f"butterworth cutoff_hz must lie in (0, {0.5 / dt_s:g}) Hz, got {cutoff_hz}")
        sos = scipy.signal.butter(4, cutoff_hz, fs=1.0 / dt_s, output="sos")
    else:
        raise ValueError(f"filter must be one of {FILTERS}, got {method!r}")
    padlen = min(3 * (2 * sos.shape[0] + 1), x.shape[0] - 1)  # sosfiltfilt's default, for short records
    return scipy.signal.sosfiltfilt(sos, x, axis=0, padlen=padlen)


def resample_record(
    impact: Impact,
    *,
    dt_ms: float = 1.0,
    method: str = "cfc180",
    cutoff_hz: float | None = None,
) -> Impact:
    """The whole record on a uniform grid of step `dt_ms`, anti-aliased when that is coarser.

    A non-uniform record is first interpolated linearly onto its own median step. When the new step
    is longer than the record's, ω, α (and the linear acceleration) are low-pass filtered at the
    record's rate (`lowpass`; Butterworth default cut-off 0.4 / dt) and then sampled by linear
    interpolation at t0, t0 + dt, ... (t0 the record's first time); otherwise they are only
    interpolated (no content above the new Nyquist frequency to fold back).

    Args:
        impact: one impact, any sampling.
        dt_ms: new sample interval [ms].
        method: "cfc180", "butterworth" or "none" (point sampling, as before).
        cutoff_hz: Butterworth cut-off [Hz]; None: 0.4 / dt.

    Returns:
        An `Impact` on t0 + k dt [s], k = 0 .. floor(duration / dt), same name.
    """
    t = np.asarray(impact.t_s, np.float64)
    fields = [np.asarray(impact.ang_vel_rad_s, np.float64), np.asarray(impact.ang_acc_rad_s2, np.float64)]
    if impact.lin_acc_m_s2 is not None:
        fields.append(np.asarray(impact.lin_acc_m_s2, np.float64))
    dt_in = float(np.median(np.diff(t)))
    if np.max(np.abs(np.diff(t) - dt_in)) > 1e-6 * dt_in:  # non-uniform: onto its own median step
        grid = t[0] + dt_in * np.arange(int(np.floor((t[-1] - t[0]) / dt_in + 1e-9)) + 1)
        fields = [_interp(grid, t, f) for f in fields]
        t = grid
    dt_s = dt_ms * 1e-3
    if dt_s > dt_in * (1.0 + 1e-9) and method != "none":
        cut = 0.4 / dt_s if cutoff_hz is None else cutoff_hz
        fields = [lowpass(f, dt_in, method=method, cutoff_hz=cut) for f in fields]
    new = t[0] + dt_s * np.arange(int(np.floor((t[-1] - t[0]) / dt_s + 1e-9)) + 1)
    fields = [_interp(new, t, f) for f in fields]
    lin = fields[2] if len(fields) == 3 else None
    return Impact(new, fields[0], fields[1], lin, name=impact.name)


def _interp(t_new: np.ndarray, t: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.stack([np.interp(t_new, t, y[:, j]) for j in range(y.shape[1])], axis=1)
