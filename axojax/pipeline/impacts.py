"""Stage 1a: the run's impacts on the model grid, the held-out one last, with a kinematics report.

Synthetic impacts are drawn on the model grid. Measured ones (`config.impacts`: a MAT struct array,
CSV / NPZ files, a folder or a glob) are read in SI units, resampled to `dt_ms` through an
anti-aliasing filter (`axojax.kinematics.resample_record`), and cut to the model window at the
start that keeps the most of their DAMAGE (`place_window`). Per impact the report gives DAMAGE of
the full record (at its own rate, unfiltered), of the resampled record and of the window.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .config import RunConfig


def synthetic_impact_list(config: RunConfig) -> dict[str, Any]:
    """The run's synthetic impacts by name: `n_impacts` training impacts, then the held-out one
    (drawn with its own key, peak |ω| in `config.held_out_peak_ang_vel_rad_s`)."""
    from axojax.kinematics import Impact, synthetic_impacts

    key = jax.random.PRNGKey(config.seed)
    grid = {"dt_ms": config.dt_ms, "window_ms": config.synthetic_window_ms}
    batches = [
        (synthetic_impacts(key, config.n_impacts, **grid), "train_{:03d}"),
        (
            synthetic_impacts(
                jax.random.fold_in(key, 1),
                1,
                peak_ang_vel_rad_s=config.held_out_peak_ang_vel_rad_s,
                **grid,
            ),
            "held_out_{:03d}",
        ),
    ]
    impacts = {}
    for batch, pattern in batches:
        for i in range(batch.t_s.shape[0]):
            name = pattern.format(len(impacts))
            impacts[name] = Impact(
                t_s=batch.t_s[i],
                ang_vel_rad_s=batch.ang_vel_rad_s[i],
                ang_acc_rad_s2=batch.ang_acc_rad_s2[i],
                name=name,
            )
    return impacts


def impact_metadata(impact) -> dict[str, float]:
    """Peak |ω| [rad/s], peak |α| [rad/s^2] and the dominant rotation axis of an impact."""
    w = np.asarray(impact.ang_vel_rad_s, np.float64)
    a = np.asarray(impact.ang_acc_rad_s2, np.float64)
    i = int(np.argmax(np.linalg.norm(w, axis=-1)))
    axis = w[i] / max(np.linalg.norm(w[i]), 1e-30)
    return {
        "peak_ang_vel_rad_s": float(np.linalg.norm(w, axis=-1).max()),
        "peak_ang_acc_rad_s2": float(np.linalg.norm(a, axis=-1).max()),
        "axis_head": [float(v) for v in axis],
    }


@eqx.filter_jit
def _damages(
    model, t_s: Float[Array, " time"], ang_acc_rad_s2: Float[Array, "n time 3"]
) -> Float[Array, " n"]:
    """DAMAGE [-] of `n` records (or candidate windows) on one shared time grid `t_s`: one batched solve,
    whose step matrices (one matrix exponential per sample interval) are computed once for all `n`
    (compiled per (n, T))."""
    return jax.vmap(lambda a: model.damage(t_s, a))(ang_acc_rad_s2)


def record_damages(records: dict[str, Any], model=None) -> dict[str, float]:
    """DAMAGE [-] of every record by name, the records that share a time grid in one batched call.

    The numbers of `axojax.headmodel.damage(model, record)` record by record (to float rounding): the
    reduced model's solve on a grid of T samples costs T x substeps matrix exponentials, the same for
    every record on that grid, so a season of records from one sensor (a MAT struct array) pays for them
    once instead of once per impact.

    Args:
        records: `Impact`s by name (any sampling; each its own grid, or shared ones).
        model: the head model (None: `ReducedHeadModel()`).
    """
    from axojax.headmodel import ReducedHeadModel

    model = ReducedHeadModel() if model is None else model
    groups: dict[tuple, list[str]] = {}
    for name, rec in records.items():  # records with the same time samples, bit for bit
        t = np.ascontiguousarray(np.asarray(rec.t_s))
        groups.setdefault((t.shape, t.dtype.str, t.tobytes()), []).append(name)
    out: dict[str, float] = {}
    for names in groups.values():
        acc = jnp.stack([jnp.asarray(records[n].ang_acc_rad_s2) for n in names])
        dmg = np.asarray(_damages(model, jnp.asarray(records[names[0]].t_s), acc))
        out.update(zip(names, (float(d) for d in dmg), strict=True))
    return {name: out[name] for name in records}  # in the records' order


@eqx.filter_jit
def _damage(model, t_s, ang_acc_rad_s2):
    """DAMAGE [-] of one record (compiled once per record length)."""
    return model.damage(t_s, ang_acc_rad_s2)


def place_window(record, n_time: int, model=None) -> tuple[float, float, float]:
    """The window of `n_time` samples of a uniformly resampled record that keeps the most DAMAGE.

    Every start from `n_time - 1` samples before the sample of peak |α| up to that sample is tried
    (samples before the record are α = 0: the head at rest); the one whose DAMAGE is closest to the
    DAMAGE of the whole resampled record wins; among equals, the one nearest 20 % of the window
    before the peak (the fixed rule of `axojax.kinematics.resample_impact`).

    Args:
        record: an `Impact` on a uniform grid (`axojax.kinematics.resample_record`).
        n_time: window length [samples].
        model: the head model whose DAMAGE is kept (None: `ReducedHeadModel()`).

    Returns:
        (window start in the record's time [s], DAMAGE of the window [-], DAMAGE of the whole
        resampled record [-]).
    """
    from axojax.headmodel import ReducedHeadModel

    model = ReducedHeadModel() if model is None else model
    t = np.asarray(record.t_s, np.float64)
    acc = np.asarray(record.ang_acc_rad_s2, np.float64)
    dt = float(t[1] - t[0])
    full = float(_damage(model, jnp.asarray(t), jnp.asarray(acc)))
    k_peak = int(np.argmax(np.sum(acc**2, axis=1)))
    starts = np.arange(k_peak - n_time + 1, k_peak + 1)
    padded = np.concatenate([np.zeros((n_time, 3)), acc, np.zeros((n_time, 3))])
    idx = starts[:, None] + n_time + np.arange(n_time)[None, :]
    windows = padded[np.clip(idx, 0, padded.shape[0] - 1)]
    grid = jnp.asarray(dt * np.arange(n_time))
    dmg = np.asarray(_damages(model, grid, jnp.asarray(windows)))  # the candidates on one grid
    gap = np.abs(dmg - full)
    ties = np.flatnonzero(gap <= gap.min() + 1e-6 * max(full, 1e-12))
    default = k_peak - round(0.2 * n_time)  # among equals: the fixed rule of `resample_impact`
    best = int(ties[np.argmin(np.abs(starts[ties] - default))])
    return float(t[0] + starts[best] * dt), float(dmg[best]), full


def select_held_out(config: RunConfig, impacts: dict[str, Any]) -> str:
    """Name of the held-out measured impact (`config.held_out`: "auto"/"most_severe", "random" or a name).

    Raises:
        ValueError: an unknown name, or fewer than two impacts.
    """
    names = list(impacts)
    if len(names) < 2:
        raise ValueError(
            f"{config.impacts}: {len(names)} impact(s); a run needs at least two (train + held-out)"
        )
    rule = config.held_out
    if rule in ("auto", "most_severe"):
        peaks = [float(np.linalg.norm(np.asarray(i.ang_acc_rad_s2), axis=-1).max()) for i in impacts.values()]
        return names[int(np.argmax(peaks))]
    if rule == "random":
        key = jax.random.fold_in(jax.random.PRNGKey(config.seed), 3)
        return names[int(jax.random.randint(key, (), 0, len(names)))]
    if rule not in impacts:
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        raise ValueError(
            f"impacts.held_out: no impact named {rule!r} in {config.impacts} (expected 'most_severe', "
            f"'random' or one of: {shown})"
        )
    return rule


def prepare_impacts(
    records: dict[str, Any],
    *,
    dt_ms: float,
    window_ms: float,
    method: str = "cfc180",
    cutoff_hz: float | None = None,
    max_damage_loss_pct: float = 1.0,
    warn=None,
) -> tuple[dict[str, Any], list[dict[str, Any]], float]:
    """Measured records -> impacts on the model window, with the kinematics report.

    Args:
        records: measured `Impact`s by name (any sampling, SI units).
        dt_ms: model step [ms].
        window_ms: model window [ms]; 0: the shortest multiple of 10 ms from 100 ms up in which no
            impact loses more than `max_damage_loss_pct` of its DAMAGE (at most the longest record).
        method, cutoff_hz: anti-aliasing filter (`axojax.kinematics.resample_record`).
        max_damage_loss_pct: loss [%] above which `warn` is called with a message (fixed window).
        warn: callable taking a message, or None.

    Returns:
        (impacts on the grid 0 .. window by name, one report dict per impact, the window [ms]).
    """
    from axojax.headmodel import ReducedHeadModel
    from axojax.kinematics import crop_impact, resample_record

    model = ReducedHeadModel()
    resampled = {
        name: resample_record(rec, dt_ms=dt_ms, method=method, cutoff_hz=cutoff_hz or None)
        for name, rec in records.items()
    }
    # DAMAGE of the full records (report only): one batched solve per shared time grid. The window
    # choice below stays record by record: its ties are decided at float32 rounding, which batching moves
    native = record_damages(records, model)

    def placements(n_time):
        return {name: place_window(r, n_time, model) for name, r in resampled.items()}

    def loss_pct(window, full):
        return 100.0 * (full - window) / full if full > 0 else 0.0

    if window_ms:
        n_time = round(window_ms / dt_ms)
        placed = placements(n_time)
    else:
        longest = max(float(r.t_s[-1] - r.t_s[0]) * 1e3 + dt_ms for r in resampled.values())
        n_time = round(100.0 / dt_ms)
        while True:
            placed = placements(n_time)
            worst = max(loss_pct(p[1], p[2]) for p in placed.values())
            if worst <= max_damage_loss_pct or n_time * dt_ms >= longest:
                break
            n_time += round(10.0 / dt_ms)
        window_ms = n_time * dt_ms
    impacts, report = {}, []
    for name, rec in records.items():
        start, dmg_window, dmg_grid = placed[name]
        impacts[name] = crop_impact(resampled[name], start, dt_ms=dt_ms, window_ms=window_ms)
        t = np.asarray(rec.t_s)
        row = {
            "name": name,
            "rate_hz": round(1.0 / float(np.median(np.diff(t))), 3),
            "n_samples": int(t.size),
            "record_ms": round(float(t[-1] - t[0]) * 1e3, 3),
            "window_start_ms": round(start * 1e3, 3),
            "window_ms": window_ms,
            **impact_metadata(rec),
            "damage_full_record": native[name],
            "damage_resampled_record": dmg_grid,
            "damage_window": dmg_window,
            "damage_loss_pct": loss_pct(dmg_window, dmg_grid),
        }
        if warn is not None and row["damage_loss_pct"] > max_damage_loss_pct:
            warn(
                f"impact {name!r}: the {window_ms:g} ms window keeps DAMAGE {dmg_window:.3f} of "
                f"{dmg_grid:.3f} ({row['damage_loss_pct']:.1f} % lost > {max_damage_loss_pct:g} %)"
            )
        report.append(row)
    return impacts, report, float(window_ms)


def study_impacts(config: RunConfig) -> tuple[dict[str, Any], list[dict[str, Any]], float]:
    """The run's impacts by name, training ones first and the held-out impact last, each on the model
    grid; the kinematics report (one dict per impact, empty for synthetic impacts); the window [ms].

    Raises:
        ValueError, FileNotFoundError: from the readers (naming the file), or a bad held-out choice.
    """
    from ._files import log

    if not config.measured:
        return synthetic_impact_list(config), [], config.synthetic_window_ms
    from axojax.kinematics import load_impact_set

    records = load_impact_set(config.impacts, units=config.units())
    held = select_held_out(config, records)
    order = [n for n in records if n != held] + [held]
    impacts, report, window_ms = prepare_impacts(
        {n: records[n] for n in order},
        dt_ms=config.dt_ms,
        window_ms=config.window_ms,
        method=config.kinematics_filter,
        cutoff_hz=config.cutoff_hz,
        max_damage_loss_pct=config.max_damage_loss_pct,
        warn=lambda msg: log(f"warning: {msg}"),
    )
    for row in report:
        row["held_out"] = row["name"] == held
    return impacts, report, window_ms
