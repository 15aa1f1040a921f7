"""Figure of component strain histories for a slow and a fast ramp (docs/figures/axon_ramps.png).

python experiments/axon_figure.py [--out docs/figures/axon_ramps.png]
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from axojax.axon import simulate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/figures/axon_ramps.png")
    args = ap.parse_args()
    cases = [
        ("slow: 1 /s to 10 %", np.linspace(0, 0.15, 301), 1.0),
        ("fast: 50 /s to 10 %", np.linspace(0, 0.006, 301), 50.0),
    ]
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), sharex="col")
    for col, (title, t, rate) in enumerate(cases):
        r = simulate(t, np.minimum(rate * t, 0.10), history=True)
        h = r.history
        tm = t * 1e3
        ax = axes[0, col]
        ax.plot(tm, 100 * h.fiber_strain, "k--", label="axon (fiber) strain")
        for c, name in enumerate(("MT 4 um", "MT 8 um", "MT 16 um")):
            ax.plot(tm, 100 * h.mt_strain_by_class[:, c], label=f"peak {name}")
        ax.plot(tm, 100 * h.axolemma_strain, label="peak axolemma")
        ax.plot(tm, 100 * h.nf_strain, label="peak NF")
        ax.set_title(title)
        ax.set_ylabel("strain [%]")
        ax = axes[1, col]
        ax.plot(tm, h.tau_failure_pct, label="tau failure")
        ax.plot(tm, h.nf_failure_pct, label="NF failure")
        ax.set_ylabel("failed [%]")
        ax.set_xlabel("time [ms]")
    axes[0, 0].legend(fontsize=8)
    axes[1, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
