"""Figures of the run and the short table printed at its end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ._files import atomic_write_json, log


def _figures(out: Path, lc: dict[str, Any], sampling_dir: Path) -> None:
    from axojax.surrogate.report import plot_learning_curve, plot_predicted_vs_simulated

    try:
        plot_learning_curve(
            lc["sizes"], lc["r2_mean"], lc["nrmse_pct_mean"], out / "figures" / "learning_curve.png"
        )
        for file, fig in (("worst_case", "worst_case_scatter"), ("held_out", "held_out_scatter")):
            if (sampling_dir / f"{file}.npz").exists():
                with np.load(sampling_dir / f"{file}.npz") as z:
                    plot_predicted_vs_simulated(z["outputs"], z["predicted"], out / "figures" / f"{fig}.png")
    except ImportError:
        log("figures: matplotlib not installed, skipped")


KINEMATICS_COLUMNS = (
    "name",
    "held_out",
    "rate_hz",
    "record_ms",
    "window_start_ms",
    "window_ms",
    "peak_ang_vel_rad_s",
    "peak_ang_acc_rad_s2",
    "damage_full_record",
    "damage_resampled_record",
    "damage_window",
    "damage_loss_pct",
)


def write_table(path: Path, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    """Rows as CSV (the given columns, in order), written atomically."""
    import csv
    import io
    import os

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else _cell(row.get(c)) for c in columns])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(buf.getvalue())
    os.replace(tmp, path)


def _cell(x):
    return f"{x:.6g}" if isinstance(x, float) else x


def write_kinematics_report(folder: Path, rows: list[dict[str, Any]]) -> None:
    """DIR/impacts/kinematics.{json,csv}: per impact its sampling, window, peaks and DAMAGE of the full
    record, the resampled record and the window."""
    atomic_write_json(folder / "kinematics.json", rows)
    write_table(folder / "kinematics.csv", rows, KINEMATICS_COLUMNS)


def kinematics_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The per-impact DAMAGE table as printed by `axojax run`."""
    lines = [
        f"  {'impact':24s} {'rate Hz':>8s} {'DAMAGE full':>11s} {'window':>8s} {'loss %':>7s}  window ms"
    ]
    for r in rows:
        mark = " (held out)" if r.get("held_out") else ""
        lines.append(
            f"  {r['name'][:24]:24s} {r['rate_hz']:8.0f} {r['damage_full_record']:11.3f} "
            f"{r['damage_window']:8.3f} "
            f"{r['damage_loss_pct']:7.2f}  {r['window_start_ms']:.0f}+{r['window_ms']:g}{mark}"
        )
    return lines


def safe_name(name: str) -> str:
    """An impact name as a folder name: letters, digits, '-', '_', '.' kept, anything else '_'."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
