"""`axojax` command line: the end-to-end pipeline and each of its stages.

    axojax run --out DIR [--preset default|paper] [--axon male|female] [--seed N]
    axojax profiles|sample|simulate|train --out DIR [...]   (the pipeline up to that stage)
    axojax predict --model DIR/surrogate/model --impact FILE|--strain FILE --out MAPS_DIR
    axojax axon --out DIR                                   (axon model on three example profiles)

Every stage resumes from what DIR already holds. Bad input ends with one `axojax: error: ...` line
and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from .. import pipeline
from ..pipeline import PRESETS, RunConfig
from ..pipeline._files import atomic_write_json, log


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


def _axon(args: argparse.Namespace) -> int:
    from ..axon import OUTPUT_NAMES, AxonParams, simulate

    params = AxonParams.female() if args.axon == "female" else AxonParams.male()
    t, profiles = example_profiles()
    start = time.perf_counter()
    res = simulate(t, np.stack(list(profiles.values())).astype(np.float32), params)
    out = np.asarray(res.as_array())
    print(
        f"axojax: axon model ({args.axon}) on {len(profiles)} example profiles "
        f"({time.perf_counter() - start:.1f} s incl. compilation)"
    )
    print(f"{'profile':30s} {'MT strain':>10s} {'axolemma':>10s} {'tau fail %':>11s} {'NF fail %':>10s}")
    for name, row, ok in zip(profiles, out, np.asarray(res.success), strict=True):
        flag = "" if ok else "  (solve failed)"
        print(f"{name:30s} {row[0]:10.4f} {row[1]:10.4f} {row[2]:11.2f} {row[3]:10.2f}{flag}")
    if args.out is not None:
        result = {
            name: dict(zip(OUTPUT_NAMES, map(float, row), strict=True))
            for name, row in zip(profiles, out, strict=True)
        }
        atomic_write_json(Path(args.out) / "axon_examples.json", {"preset": args.axon, "outputs": result})
    return 0


def _config(args: argparse.Namespace) -> RunConfig:
    overrides = {"preset": args.axon, "seed": args.seed}
    if args.n_impacts is not None:
        overrides["n_impacts"] = args.n_impacts
    return RunConfig.preset_config(args.preset, **overrides)


def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _print_summary(m: dict) -> None:
    lc, val, t = m["learning_curve"], m["worst_case_validation"], m["timings"]
    print(
        f"axojax run: {m['brain']['n_voxels']} voxels, {m['impacts']['n_train']} training impacts "
        f"+ held-out {m['impacts']['held_out']}"
    )
    s = m["sampling"]
    print(
        f"  sampling: {s['n_train_selected']} training profiles (threshold {s['train_threshold']:.4f}), "
        f"{s.get('n_train_from_tail', 0)} of them from the severity tail, {s['n_worst']} worst-case"
    )
    sim = m["simulation"]
    print(f"  simulated {sim['n_profiles']} profiles ({sim['n_failed']} failed)")
    if sim.get("n_amplitude_variants"):
        print(
            f"  + {sim['n_amplitude_variants']} amplitude variants of the training profiles "
            f"({sim['n_amplitude_variants_failed']} failed); final surrogate trained on "
            f"{m['training']['n_train']} in {m['training']['seconds']:.0f} s"
        )
    print(
        f"  learning curve N = {lc['sizes']}: smallest N with R² > {lc['threshold_r2']}: "
        f"{lc['min_size_r2_above_threshold']}"
    )
    tables = [(f"worst case ({val['n']})", val)]
    if "held_out_impact" in val:
        tables.append((f"held-out impact ({val['held_out_impact']['n']})", val["held_out_impact"]))
    for title, v_set in tables:
        print(f"  {title:24s} {'R² CNN':>8s} {'NRMSE %':>8s} {'R² ridge':>9s} {'NRMSE %':>8s}")
        for name, v in v_set["surrogate"].items():
            b = v_set["ridge_baseline"][name]
            print(
                f"  {name:24s} {_fmt(v['r2']):>8s} {_fmt(v['nrmse_pct']):>8s} "
                f"{_fmt(b['r2']):>9s} {_fmt(b['nrmse_pct']):>8s}"
            )
        for name, v in v_set["surrogate"].items():
            if v.get("constant_truth"):
                print(
                    f"    {name}: every true value is equal (R², NRMSE undefined); RMSE CNN {v['rmse']:.3g}, "
                    f"ridge {v_set['ridge_baseline'][name]['rmse']:.3g}"
                )
    mp = m["maps"]
    print(
        f"  maps: {len(mp['files'])} NIfTI in {Path(next(iter(mp['files'].values()))).parent}; "
        f"inference {mp['warm']['inference_s']:.2f} s warm"
    )
    print(f"  total {t['total_s']:.0f} s; metrics.json written")


def _stage(until: str):
    def run(args: argparse.Namespace) -> int:
        config = _config(args)
        out = Path(args.out)
        metrics = pipeline.run(config, out, until=until)
        if until == "maps":
            _print_summary(metrics)
        else:
            print(json.dumps(metrics, indent=1, default=str)[:2000])
        return 0

    return run


def _predict(args: argparse.Namespace) -> int:
    from ..brain import default_brain
    from ..headmodel import ReducedHeadModel, load_strain
    from ..kinematics import load_impact, resample_impact
    from ..surrogate import OutOfDistributionWarning, load_surrogate
    from ..wholebrain import external_profiles, predict_maps, summary, whole_brain, write_maps
    from ..wholebrain.report import plot_slices

    model, meta = load_surrogate(args.model)
    brain = default_brain(float(meta.get("resolution_mm", 2.0)))
    out = Path(args.out)
    source = Path(args.impact if args.impact is not None else args.strain)
    covered = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if args.impact is not None:
            impact = load_impact(source)
            dt_ms = model.config.dt_s * 1e3
            impact = resample_impact(impact, dt_ms=dt_ms, window_ms=model.config.n_time * dt_ms)
            res = whole_brain(model, ReducedHeadModel(), impact, brain)
        else:
            field = load_strain(source)
            profiles, covered = external_profiles(
                field, brain, n_time=model.config.n_time, dt_s=model.config.dt_s, where=str(source)
            )
            res = predict_maps(model, profiles, name=source.name)
    for w in caught:
        if issubclass(w.category, (OutOfDistributionWarning, RuntimeWarning)):
            log(f"warning: {w.message}")
    paths = write_maps(out, brain, res.values)
    report = {"source": str(source), **res.as_dict(), "summary": summary(res.values, brain, ood=res.ood)}
    if covered is not None:
        report["covered_voxels"] = int(covered.sum())
    atomic_write_json(out / "summary.json", report)
    try:
        plot_slices(res.values, brain, out / "map_slices.png", title=source.name)
    except ImportError:
        pass
    print(
        f"axojax predict: {brain.n_voxels} voxels in {res.inference_s:.2f} s "
        f"({int(res.ood.sum())} out of the training range); "
        f"maps: {', '.join(p.name for p in paths.values())}"
    )
    return 0


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="output folder (created; a rerun resumes)")
    p.add_argument(
        "--preset",
        choices=PRESETS,
        default="default",
        help="default (~10 min on 2 CPU cores), paper (the study's scale), tiny (tests)",
    )
    p.add_argument("--axon", choices=("male", "female"), default="male", help="axon parameter preset")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic impacts and training")
    p.add_argument("--n-impacts", type=int, default=None, help="training impacts (overrides the preset)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="axojax", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="the whole pipeline on the embedded default data")
    _add_run_options(run)
    run.set_defaults(func=_stage("maps"))
    helps = {
        "profiles": "fiber strain profiles of every impact and voxel",
        "sample": "... then stratified + adaptive sampling",
        "simulate": "... then the axon model on the selected profiles",
        "train": "... then learning curve, surrogate training and worst-case validation",
    }
    for name, text in helps.items():
        p = sub.add_parser(name, help=text)
        _add_run_options(p)
        p.set_defaults(func=_stage(name))
    pred = sub.add_parser("predict", help="maps of a new impact from a saved surrogate")
    pred.add_argument("--model", required=True, help="surrogate checkpoint (DIR/surrogate/model)")
    src = pred.add_mutually_exclusive_group(required=True)
    src.add_argument("--impact", help="impact kinematics (.mat, .csv or .npz) for the reduced head model")
    src.add_argument("--strain", help="imported strain history (.nii/.nii.gz/.npz, see docs/headmodel.md)")
    pred.add_argument("--out", required=True, help="folder for the maps and summary.json")
    pred.set_defaults(func=_predict)
    axon = sub.add_parser("axon", help="the axon model on three example profiles")
    axon.add_argument("--out", default=None)
    axon.add_argument("--axon", choices=("male", "female"), default="male")
    axon.set_defaults(func=_axon)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, FileExistsError, OSError) as err:
        print(f"axojax: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
