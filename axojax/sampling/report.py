"""Writing the coverage report: a JSON file and a matplotlib figure (the `plots` extra)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ._coverage import FEATURES, CoverageReport

_LABELS = {
    "peak_strain": "peak |fiber strain| [-]",
    "peak_strain_rate_per_s": "peak |strain rate| [1/s]",
    "duration_s": "duration above half peak [s]",
}


def write_report_json(report: CoverageReport, path: str | os.PathLike) -> Path:
    """Write `report.as_dict()` as JSON; returns the path."""
    path = Path(path)
    path.write_text(json.dumps(report.as_dict(), indent=1), encoding="utf-8")
    return path


def plot_coverage(report: CoverageReport, path: str | os.PathLike | None = None):
    """Histograms (density) of pool vs. kept set for each feature, with KS and bin coverage.

    Needs matplotlib (`pip install axojax[plots]`), imported here only.

    Args:
        report: from `coverage_report`.
        path: if given, the figure is saved there (format from the suffix).

    Returns:
        The matplotlib Figure.

    Raises:
        ImportError: matplotlib is not installed.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("plot_coverage needs matplotlib: pip install 'axojax[plots]'") from err
    import numpy as np

    fig, axes = plt.subplots(1, len(FEATURES), figsize=(4.2 * len(FEATURES), 3.4))
    for ax, name in zip(np.atleast_1d(axes), FEATURES, strict=True):
        pool = report.pool_values[name]
        kept = report.kept_values[name]
        cov = report.features[name]
        lo, hi = float(pool.min()), float(pool.max())
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, cov.n_bins + 1)
        ax.hist(pool, edges, density=True, alpha=0.5, label=f"pool (n={report.n_pool})")
        ax.hist(
            np.clip(kept, edges[0], edges[-1]),
            edges,
            density=True,
            histtype="step",
            linewidth=1.5,
            label=f"kept (n={report.n_kept})",
        )
        ax.set_xlabel(_LABELS[name])
        ax.set_title(f"KS {cov.ks_distance:.3f}, bins covered {cov.bin_coverage:.0%}", fontsize=9)
    np.atleast_1d(axes)[0].set_ylabel("density")
    np.atleast_1d(axes)[0].legend(fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
