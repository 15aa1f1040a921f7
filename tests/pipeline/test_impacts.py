import numpy as np
import pytest

from axojax.headmodel import ReducedHeadModel, damage
from axojax.kinematics import Impact, half_sine_pulse
from axojax.pipeline import RunConfig
from axojax.pipeline.impacts import place_window, prepare_impacts, record_damages, select_held_out


def _two_events(gap_ms: float) -> Impact:
    """10 kHz, 300 ms: a sharp pulse (the |α| peak) at 50 ms, a longer, stronger-DAMAGE one `gap_ms` later."""
    a = half_sine_pulse(7000.0, 3.0, (0.0, 0.0, 1.0), dt_ms=0.1, window_ms=300.0, onset_ms=50.0)
    b = half_sine_pulse(3000.0, 25.0, (0.3, 1.0, 0.0), dt_ms=0.1, window_ms=300.0, onset_ms=50.0 + gap_ms)
    return Impact(
        a.t_s, a.ang_vel_rad_s + b.ang_vel_rad_s, a.ang_acc_rad_s2 + b.ang_acc_rad_s2, name=f"gap{gap_ms:g}"
    )


def test_auto_window_keeps_the_damage_of_every_impact():
    records = {"near": _two_events(40.0), "far": _two_events(140.0)}
    full = {n: float(damage(ReducedHeadModel(), r)) for n, r in records.items()}
    messages = []
    _, fixed, w_fixed = prepare_impacts(records, dt_ms=1.0, window_ms=100.0, warn=messages.append)
    assert w_fixed == 100.0
    loss = {r["name"]: r["damage_loss_pct"] for r in fixed}
    assert loss["near"] < 1.0 and loss["far"] > 20.0  # no 100 ms window holds both events of "far"
    assert len(messages) == 1 and "'far'" in messages[0] and "lost" in messages[0]
    impacts, auto, w_auto = prepare_impacts(records, dt_ms=1.0, window_ms=0.0)
    assert 100.0 < w_auto <= 200.0 and w_auto % 10 == 0
    for r in auto:
        assert r["damage_loss_pct"] <= 1.0
        assert r["damage_window"] == pytest.approx(full[r["name"]], rel=0.02)  # vs the raw 10 kHz record
        assert r["damage_full_record"] == pytest.approx(full[r["name"]], rel=1e-9)
        imp = impacts[r["name"]]
        assert imp.t_s.shape == (round(w_auto),) and float(imp.t_s[1] - imp.t_s[0]) == pytest.approx(1e-3)
        # the window keeps the |α| peak (a 3 ms pulse loses some of its peak to CFC 180: content near 170 Hz)
        assert np.abs(np.asarray(imp.ang_acc_rad_s2)).max() > 0.7 * 7000.0


def test_place_window_prefers_the_old_rule_among_equals():
    imp = half_sine_pulse(2000.0, 10.0, (0.0, 1.0, 0.0), dt_ms=1.0, window_ms=300.0, onset_ms=100.0)
    start, kept, full = place_window(imp, 100)
    assert kept == pytest.approx(full, rel=1e-3)
    assert start == pytest.approx(0.105 - 0.020, abs=1.5e-3)  # 20 % of 100 ms before the peak at 105 ms


def test_held_out_rules():
    imps = {
        n: half_sine_pulse(a, 10.0, (0.0, 0.0, 1.0), name=n)
        for n, a in (("a", 1000.0), ("b", 5000.0), ("c", 2000.0))
    }
    config = RunConfig.preset_config("tiny", impacts="x.mat", held_out="most_severe")
    assert select_held_out(config, imps) == "b"
    assert select_held_out(RunConfig.preset_config("tiny", impacts="x.mat", held_out="c"), imps) == "c"
    drawn = {
        select_held_out(RunConfig.preset_config("tiny", impacts="x", held_out="random", seed=s), imps)
        for s in range(8)
    }
    assert drawn <= set(imps) and len(drawn) > 1
    with pytest.raises(
        ValueError, match="no impact named 'zz'.*expected 'most_severe', 'random' or one of: a, b, c"
    ):
        select_held_out(RunConfig.preset_config("tiny", impacts="x.mat", held_out="zz"), imps)
    with pytest.raises(ValueError, match="at least two"):
        select_held_out(config, {"a": imps["a"]})


def test_record_damages_batched_equals_record_by_record():
    """Records on one time grid share one batched solve, others get their own; each DAMAGE is the one of
    `damage(model, record)`, in the records' order of names."""
    model = ReducedHeadModel()
    grid = dict(dt_ms=0.1, window_ms=120.0)
    records = {
        "a": half_sine_pulse(3000.0, 8.0, (0.0, 0.0, 1.0), onset_ms=30.0, name="a", **grid),
        "short": half_sine_pulse(4000.0, 6.0, (1.0, 0.0, 0.0), dt_ms=0.1, window_ms=60.0, name="short"),
        "b": half_sine_pulse(6000.0, 12.0, (0.3, 1.0, 0.0), onset_ms=50.0, name="b", **grid),
        "c": _two_events(40.0),
    }
    got = record_damages(records, model)
    assert list(got) == ["a", "short", "b", "c"]
    for name, rec in records.items():
        assert got[name] == pytest.approx(float(damage(model, rec)), rel=1e-10), name
    assert got["b"] > got["a"] > 0.0  # not one number copied: a stronger, longer pulse has more DAMAGE
