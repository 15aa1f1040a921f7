"""Figures of the run and the short table printed at its end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ._files import log


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
