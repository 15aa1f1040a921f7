"""How the four outputs' distributions move between parameter sets, on the profiles of a run's campaign.

    python experiments/calibrate_compare.py simulate --run DIR --label new --out OUT.npz [--slip-nm 28.4]
    PYTHONPATH=<checkout of an older commit> python experiments/calibrate_compare.py simulate ... --label old
    python experiments/calibrate_compare.py summary A.npz B.npz ...

`simulate` runs `axojax.axon.simulate_chunked` (float32, default preset of whichever axojax is imported)
on DIR/campaign/inputs.npz (training + held-out profiles of `axojax run`); `--slip-nm` overrides
`tau_failure_slip_nm` (the gap-spanning reading is 28.4 nm). `summary` prints, per output, the mean and
the 5/25/50/75/95/99th percentiles and the fraction of nonzero values of each file, in the order given.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

NAMES = ("peak_mt_strain", "peak_axolemma_strain", "tau_failure_pct", "nf_failure_pct")
Q = (5, 25, 50, 75, 95, 99)


def simulate(args) -> None:
    from axojax.axon import AxonParams, simulate_chunked

    d = np.load(Path(args.run) / "campaign" / "inputs.npz")
    params = AxonParams.male()
    if args.slip_nm is not None:
        params = params.replace(tau_failure_slip_nm=args.slip_nm)
    start = time.perf_counter()
    out = simulate_chunked(d["t_s"], d["profiles"].astype(np.float32), params, chunk_size=512)
    print(
        f"{args.label}: {d['profiles'].shape[0]} profiles in {time.perf_counter() - start:.0f} s, "
        f"{int(np.sum(~out['success']))} failed"
    )
    np.savez(args.out, label=args.label, ids=d["ids"], **{k: out[k] for k in (*NAMES, "success")})


def summary(args) -> None:
    runs = [np.load(f) for f in args.files]
    for name in NAMES:
        print(f"\n{name}: mean | " + " | ".join(f"p{q}" for q in Q) + " | > 0")
        for r in runs:
            x = r[name][r["success"]]
            qs = np.percentile(x, Q)
            print(
                f"  {str(r['label']):>10s}: {x.mean():.4g} | "
                + " | ".join(f"{v:.4g}" for v in qs)
                + f" | {np.mean(x > 1e-6):.1%}"
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("simulate")
    s.add_argument("--run", required=True)
    s.add_argument("--label", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--slip-nm", type=float, default=None)
    s.set_defaults(func=simulate)
    m = sub.add_parser("summary")
    m.add_argument("files", nargs="+")
    m.set_defaults(func=summary)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
