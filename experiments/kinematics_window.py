"""DAMAGE of the full record vs the model window, old point-sampled window vs the filtered, placed one.

Writes a three-impact MAT file (struct array `impact`, 10 kHz, 300 ms, with sensor noise) like the public
head-kinematics files of issue 15, reads it back, and prints per impact: DAMAGE of the full record (its
own rate), of the old 100 ms window (every 10th sample, 20 % before the |α| peak:
`axojax.kinematics.resample_impact`), and of the new window (CFC 180 anti-aliasing, start chosen by
DAMAGE: `axojax.pipeline.impacts.prepare_impacts`) at 100 ms and "auto".

    python experiments/kinematics_window.py [--out DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import scipy.io

from axojax.headmodel import ReducedHeadModel, damage
from axojax.kinematics import load_impacts, resample_impact
from axojax.pipeline.impacts import prepare_impacts


def pulse(t, t0, dur, amp, axis):
    """Half-sine α lobe [rad/s²] of `dur` s from t0 along `axis`, shape (T, 3)."""
    u = np.clip((t - t0) / dur, 0.0, 1.0)
    a = np.where((t >= t0) & (t <= t0 + dur), amp * np.sin(np.pi * u), 0.0)
    return a[:, None] * np.asarray(axis, float)[None, :] / np.linalg.norm(axis)


def write_study_file(
    path: Path, *, rate_hz: float = 10_000.0, record_ms: float = 300.0, seed: int = 0
) -> Path:
    """A sharp hit with a longer one 70 ms later; a long padded impact; a sharp hit (the |α| peak) with a
    stronger, longer one 140 ms later. ω = ∫α, white sensor noise added."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(record_ms * rate_hz / 1e3)) / rate_hz
    events = [
        pulse(t, 0.080, 0.004, 6000.0, (0.2, 0.3, 1.0))
        - pulse(t, 0.084, 0.006, 4000.0, (0.2, 0.3, 1.0))
        + pulse(t, 0.150, 0.020, 2500.0, (1.0, 0.0, 0.3)),
        pulse(t, 0.120, 0.030, 1500.0, (0.0, 1.0, 0.2)) - pulse(t, 0.150, 0.040, 900.0, (0.0, 1.0, 0.2)),
        pulse(t, 0.050, 0.003, 7000.0, (0.0, 0.0, 1.0)) + pulse(t, 0.190, 0.025, 3000.0, (0.3, 1.0, 0.0)),
    ]
    rec = np.zeros((1, len(events)), dtype=[("t", "O"), ("ang_vel", "O"), ("ang_acc", "O")])
    for i, acc in enumerate(events):
        acc = acc + rng.normal(0.0, 150.0, acc.shape)  # sensor noise, white to 5 kHz
        vel = np.cumsum(acc, axis=0) / rate_hz
        rec[0, i] = (t[:, None], vel, acc)
    scipy.io.savemat(path, {"impact": rec})
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=None, help="folder for the MAT file (default: a temporary one)")
    args = parser.parse_args()
    folder = Path(args.out or tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    path = write_study_file(folder / "impacts_10khz.mat")
    records = {imp.name: imp for imp in load_impacts(path)}
    model = ReducedHeadModel()
    old = {
        n: float(damage(model, resample_impact(r, dt_ms=1.0, window_ms=100.0))) for n, r in records.items()
    }
    _, fixed, _ = prepare_impacts(records, dt_ms=1.0, window_ms=100.0)
    _, auto, auto_ms = prepare_impacts(records, dt_ms=1.0, window_ms=0.0)
    print(f"{path}: {len(records)} impacts, 10 kHz, 300 ms")
    print(
        f"{'impact':22s} {'full record':>11s} {'old 100 ms':>10s} {'loss %':>7s} "
        f"{'new 100 ms':>10s} {'loss %':>7s} {f'auto {auto_ms:g} ms':>13s} {'loss %':>7s}"
    )
    for f, a in zip(fixed, auto, strict=True):
        full = f["damage_full_record"]
        print(
            f"{f['name']:22s} {full:11.3f} {old[f['name']]:10.3f} {100 * (1 - old[f['name']] / full):7.2f} "
            f"{f['damage_window']:10.3f} {f['damage_loss_pct']:7.2f} {a['damage_window']:13.3f} "
            f"{a['damage_loss_pct']:7.2f}"
        )
    print(
        "loss % of the new windows is against the resampled (filtered) full record; old against the raw one"
    )


if __name__ == "__main__":
    main()
