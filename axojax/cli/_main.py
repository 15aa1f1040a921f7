"""`axojax` entry point. Until the whole pipeline lands, `axojax run` simulates the axon model on the
built-in example fiber strain profiles and prints the four injury outputs."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def example_profiles() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Built-in example fiber strain profiles on 100 ms at 1 kHz: t [s], {name: strain [-]}."""
    t = np.linspace(0.0, 0.1, 101)

    def pulse(amp, dur_s, t0_s=0.02):
        return amp * np.sin(np.pi * np.clip((t - t0_s) / dur_s, 0.0, 1.0)) ** 2

    return t, {
        "mild (4 %, 30 ms pulse)": pulse(0.04, 0.030),
        "moderate (8 %, 20 ms pulse)": pulse(0.08, 0.020),
        "severe (15 %, 10 ms pulse)": pulse(0.15, 0.010),
    }


def _run(args: argparse.Namespace) -> int:
    from ..axon import OUTPUT_NAMES, AxonParams, simulate

    params = AxonParams.female() if args.preset == "female" else AxonParams.male()
    t, profiles = example_profiles()
    start = time.perf_counter()
    res = simulate(t, np.stack(list(profiles.values())).astype(np.float32), params)
    out = np.asarray(res.as_array())
    elapsed = time.perf_counter() - start
    print(
        f"axojax: axon model ({args.preset}) on {len(profiles)} example profiles "
        f"({elapsed:.1f} s incl. compilation)"
    )
    print(
        f"{'profile':30s} {'MT strain':>10s} {'axolemma':>10s} {'tau fail %':>11s} {'NF fail %':>10s}"
    )
    for name, row, ok in zip(profiles, out, np.asarray(res.success), strict=True):
        flag = "" if ok else "  (solve failed)"
        print(f"{name:30s} {row[0]:10.4f} {row[1]:10.4f} {row[2]:11.2f} {row[3]:10.2f}{flag}")
    if args.out is not None:
        out_dir = Path(args.out)
        out_dir.mkdir(parents=True, exist_ok=True)
        result = {
            name: dict(zip(OUTPUT_NAMES, map(float, row), strict=True))
            for name, row in zip(profiles, out, strict=True)
        }
        tmp = out_dir / "metrics.json.tmp"
        tmp.write_text(json.dumps({"preset": args.preset, "outputs": result}, indent=2))
        tmp.replace(out_dir / "metrics.json")
        print(f"wrote {out_dir / 'metrics.json'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="axojax", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the main job on the embedded default data")
    run.add_argument("--out", default=None, help="output folder (metrics.json)")
    run.add_argument("--preset", choices=("male", "female"), default="male")
    run.set_defaults(func=_run)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"axojax: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
