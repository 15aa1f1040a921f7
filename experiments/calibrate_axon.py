"""Calibrate the axon model's free parameters to the published target set (docs/axon.md).

    python experiments/calibrate_axon.py [--steps 60] [--lr 0.05] [--out calib.json]
    python experiments/calibrate_axon.py --report-only      (before/after table of the current records)
    python experiments/calibrate_axon.py --write-docs       (regenerate the table in docs/axon.md)

Prints the before/after report of every target (markdown) and the fitted values; the values are
copied by hand into `axojax/axon/_records.py` (the one source of truth), then ``--write-docs``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

from axojax.axon import AxonParams, calibrate, evaluate, parameter_table, published_targets  # noqa: E402

FREE = (
    "tau_stiffness_long_pn_per_nm",
    "tau_stiffness_inst_pn_per_nm",
    "tau_relaxation_ms",
    "tau_bell_force_pn",
    "tau_rebinding_rate_per_ms",
    "mt_bundle_coupling",
    "nf_sidearm_stiffness_long_pn_per_nm",
    "nf_sidearm_stiffness_inst_pn_per_nm",
    "nf_sidearm_relaxation_ms",
    "nf_failure_strain",
    "axolemma_link_long_pn_per_um2",
    "axolemma_link_inst_pn_per_um2",
    "axolemma_link_relaxation_ms",
)
DOCS = Path(__file__).resolve().parents[1] / "docs" / "axon.md"


def write_docs() -> None:
    text = DOCS.read_text()
    new = re.sub(
        r"(<!-- params:begin -->\n).*?(\n<!-- params:end -->)",
        lambda m: m.group(1) + parameter_table() + m.group(2),
        text,
        flags=re.S,
    )
    DOCS.write_text(new)
    print(f"wrote the parameter table into {DOCS}")


def tighten(tg, margin: float):
    """The target with its range tightened by `margin` scales (so the fit lands inside, not on the edge)."""
    d = margin * tg.scale
    lower = None if tg.lower is None else tg.lower + d
    upper = None if tg.upper is None else tg.upper - d
    if lower is not None and upper is not None and lower > upper:
        lower = upper = 0.5 * (tg.lower + tg.upper)
    return dataclasses.replace(tg, lower=lower, upper=upper)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument(
        "--margin",
        type=float,
        default=0.5,
        help="fit to ranges tightened by this many `scale`s (the report uses the published ranges)",
    )
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args()
    if args.write_docs:
        write_docs()
        return
    targets = published_targets()
    params = AxonParams.male()
    start = time.perf_counter()
    fit_targets = [tighten(tg, args.margin) for tg in targets]
    res = calibrate(
        fit_targets,
        params,
        free=FREE,
        key=jax.random.key(0),
        steps=0 if args.report_only else args.steps,
        learning_rate=args.lr,
        callback=lambda k, loss: print(f"step {k:3d} loss {loss:.5g}", flush=True),
    )
    print(
        f"calibration: {len(res.loss_history)} evaluations in {time.perf_counter() - start:.0f} s; "
        f"loss {res.loss_history[0]:.4g} -> {res.loss_history.min():.4g}"
    )
    # report against the published ranges
    after = evaluate(targets, res.params)
    before = evaluate(targets, params)
    print("| target | range | before | after | met | source |\n|---|---|---|---|---|---|")
    for tg, b, a in zip(targets, before, after, strict=True):
        met = ("yes" if float(tg.excess(a)) == 0 else "**no**") + ("" if tg.weight else " (not fitted)")
        print(f"| {tg.name} | {tg.range_text()} | {b:.4g} | {a:.4g} | {met} | {tg.source} |")
    fitted = {n: float(getattr(res.params, n)) for n in FREE}
    for n in FREE:
        print(f"{n:40s} {float(getattr(params, n)):12.5g} -> {fitted[n]:12.5g}")
    if args.out is not None:
        args.out.write_text(
            json.dumps(
                {
                    "fitted": fitted,
                    "loss": res.loss_history.tolist(),
                    "report": [r.__dict__ for r in res.report],
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
