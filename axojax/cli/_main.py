"""`axojax` command line: a thin shell over `axojax.pipeline` (parses arguments, prints).

    axojax run --out DIR [--config study.toml] [--preset default|paper|tiny] [--axon male|female]
               [--seed N] [--impacts FILE|GLOB] [--held-out RULE|NAME] [--tissue reduced|fe|import]
    axojax profiles|sample|simulate|train --out DIR [...]   (the pipeline up to that stage)
    axojax init [--out study.toml]                          (a commented study file to edit)
    axojax predict --model DIR/surrogate/model --impact FILE|--impacts FILE|GLOB|--strain GLOB --out DIR
    axojax axon --out DIR                                   (axon model on three example profiles)

Every stage resumes from what DIR already holds. Flags win over the study file. Bad input ends with
one `axojax: error: ...` line and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from .. import pipeline
from ..kinematics import FILTERS
from ..pipeline import PRESETS, RunConfig
from ..pipeline._files import atomic_write_json
from ..pipeline.config import TISSUE_MODELS
from ..pipeline.report import kinematics_lines


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
    """The run's config: the study file (if any), then the flags given on the command line."""
    overrides = {
        "scale": args.preset,
        "preset": args.axon,
        "seed": args.seed,
        "n_impacts": args.n_impacts,
        "impacts": None if args.impacts is None else _abs(args.impacts),
        "held_out": args.held_out,
        "tissue_model": args.tissue,
    }
    if args.config is not None:
        return pipeline.load_config(args.config, overrides=overrides)
    return pipeline.config_from_dict({}, where="command line", overrides=overrides)


def _abs(path: str) -> str:
    return path if path == "synthetic" else str(Path(path).absolute())


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
        f"computed in {mp['warm']['compute_s']:.2f} s warm"
    )
    if m["impacts"].get("kinematics"):
        print(f"  kinematics, {m['impacts']['window_ms']:g} ms window (DIR/impacts/kinematics.csv):")
        for line in kinematics_lines(m["impacts"]["kinematics"]):
            print(line)
    print(f"  total {t['total_s']:.0f} s; metrics.json written")


def _stage(until: str):
    def run(args: argparse.Namespace) -> int:
        config = _config(args)
        metrics = pipeline.run(config, Path(args.out), until=until, study_file=args.config)
        if until == "maps":
            _print_summary(metrics)
        else:
            print(json.dumps(metrics, indent=1, default=str)[:2000])
        return 0

    return run


def _predict(args: argparse.Namespace) -> int:
    units = {
        k: v
        for k, v in (("t", args.time_unit), ("ang_vel", args.ang_vel_unit), ("ang_acc", args.ang_acc_unit))
        if v is not None
    }
    res = pipeline.predict(
        args.model,
        args.out,
        impacts=args.impact or args.impacts,
        strain=args.strain,
        units=units or None,
        method=args.filter,
        single_folder=args.impacts is None,
    )
    print(
        f"axojax predict: {res['n_impacts']} impact(s) x {res['n_voxels']} voxels in {res['seconds']:.1f} s; "
        f"table {res['files']['csv']}"
    )
    for r in res["rows"]:
        dmg = ""
        if "damage_window" in r:
            dmg = f"DAMAGE {r['damage_full_record']:.3f} full, {r['damage_window']:.3f} window; "
        print(
            f"  {r['name']}: {dmg}{r['n_ood']} voxels out of the training range; "
            f"p95 tau failure {r.get('tau_failure_pct_p95') or 0.0:.2f} %; maps in {r['maps']}"
        )
    return 0


def _init(args: argparse.Namespace) -> int:
    path = Path(args.out)
    if path.exists() and not args.force:
        raise FileExistsError(f"{path}: exists; pass --force to overwrite")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(pipeline.template_toml())
    print(f"axojax init: wrote {path}; edit it, then: axojax run --config {path} --out DIR")
    return 0


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="output folder (created; a rerun resumes)")
    p.add_argument("--config", default=None, help="study file (TOML; `axojax init` writes a template)")
    p.add_argument(
        "--preset",
        choices=PRESETS,
        default=None,
        help="scale: default (~10 min on 2 CPU cores), paper (the study's scale), tiny (tests)",
    )
    p.add_argument("--axon", choices=("male", "female"), default=None, help="axon parameter preset")
    p.add_argument("--seed", type=int, default=None, help="seed of the synthetic impacts and training")
    p.add_argument("--n-impacts", type=int, default=None, help="synthetic training impacts")
    p.add_argument("--impacts", default=None, help="measured kinematics: .mat/.csv/.npz file, folder or glob")
    p.add_argument("--held-out", default=None, help="held-out impact: most_severe, random or a name")
    p.add_argument("--tissue", choices=TISSUE_MODELS, default=None, help="tissue strain model")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="axojax", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="the whole pipeline (embedded default data, or a study file)")
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
    init = sub.add_parser("init", help="write a commented study file (TOML) to edit")
    init.add_argument("--out", default="study.toml", help="file to write (default study.toml)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(func=_init)
    pred = sub.add_parser("predict", help="maps of new impacts from a saved surrogate")
    pred.add_argument("--model", required=True, help="surrogate checkpoint (DIR/surrogate/model)")
    src = pred.add_mutually_exclusive_group(required=True)
    src.add_argument("--impact", help="impact kinematics (.mat, .csv or .npz) for the reduced head model")
    src.add_argument("--impacts", help="every impact of a multi-impact .mat file, a folder or a glob")
    src.add_argument("--strain", help="imported strain field(s): .nii/.nii.gz/.npz/d3plot, folder or glob")
    pred.add_argument("--out", required=True, help="folder for the maps, summary.json and impacts.csv/json")
    pred.add_argument("--filter", choices=FILTERS, default="cfc180", help="anti-aliasing filter")
    pred.add_argument("--time-unit", default=None, help="time unit of files that do not name it (s, ms)")
    pred.add_argument("--ang-vel-unit", default=None, help="rad/s, deg/s or rpm")
    pred.add_argument("--ang-acc-unit", default=None, help="rad/s2, krad/s2 or deg/s2")
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
    except (ValueError, FileNotFoundError, FileExistsError, OSError, ImportError) as err:
        print(f"axojax: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    except Exception as err:  # a failed FE solve (eqx.error_if inside jit): one line, not a traceback
        line = next((x.strip() for x in str(err).splitlines() if "FEHeadModel:" in x), None)
        if line is None:
            raise
        print(
            f"axojax: error: {line[line.index('FEHeadModel:') :]} (tissue model 'fe'; tissue.model = "
            "'reduced' solves every impact; docs/fe.md says which impacts the FE brain solves)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
