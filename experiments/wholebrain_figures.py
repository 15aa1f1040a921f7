"""Figures of docs/wholebrain.md and the README: the held-out impact of a finished `axojax run`, mapped again
on the default brain (AFQ tract fibers + synthetic field) with the run's surrogate (profiles from the reduced
head model, or, for an FE or imported-strain run, from the run's profile store), drawn by
`axojax.wholebrain.results.brain_results` (figures on the MNI T1, tract summary and profiles, viewer page).

    python experiments/wholebrain_figures.py RUN_DIR [--out docs/figures] [--work /tmp/axojax_figures]

Writes the run's figures (map_slices*.png, tracts.png, tract_profiles.png) and maps/index.html into --work
and copies three to --out as wholebrain_map_slices.png, wholebrain_tracts.png, wholebrain_tract_profiles.png.
Prints the per-tract table (mean / p95 / fraction above the first threshold of tau failure) and the viewer
page's size.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import time
from pathlib import Path

import numpy as np

from axojax.brain import default_brain
from axojax.fiberstrain import ProfileDataset
from axojax.headmodel import ReducedHeadModel
from axojax.pipeline.config import RunConfig
from axojax.pipeline.impacts import study_impacts
from axojax.surrogate import load_surrogate
from axojax.wholebrain import predict_maps, whole_brain
from axojax.wholebrain.results import brain_results


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "figures")
    ap.add_argument("--work", type=Path, default=Path("/tmp/axojax_figures"))
    args = ap.parse_args()
    saved = json.loads((args.run / "config.json").read_text())
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    config = RunConfig(
        **{k: (tuple(v) if isinstance(v, list) else v) for k, v in saved.items() if k in fields}
    )
    impacts, _, _ = study_impacts(config)
    held = json.loads((args.run / "metrics.json").read_text())["maps"]["impact"]
    model, _ = load_surrogate(args.run / "surrogate" / "model")
    brain = default_brain(config.resolution_mm)
    if config.tissue_model == "reduced":
        res = whole_brain(model, ReducedHeadModel(), impacts[held], brain, warn=False)
    else:  # FE or imported strain: the run's own profiles (FE: voxels in inverted elements stored as 0)
        store = ProfileDataset.open(args.run / "profiles")
        res = predict_maps(model, store.read_impact(held), name=held, warn=False)
    t = time.perf_counter()
    tracts, files, notes = brain_results(
        res.values,
        brain,
        ood=res.ood,
        viewer=args.work / "maps" / "index.html",
        figure=args.work / "figures" / "map_slices.png",
        title=f"impact {held}",
    )
    args.out.mkdir(parents=True, exist_ok=True)
    for key, name in (
        ("figure_summary", "map_slices"),
        ("figure_tracts", "tracts"),
        ("figure_tract_profiles", "tract_profiles"),
    ):
        shutil.copyfile(files[key], args.out / f"wholebrain_{name}.png")
    print(f"brain_results: {time.perf_counter() - t:.1f} s; notes {notes}")
    for k, v in files.items():
        print(f"  {k}: {v} ({Path(v).stat().st_size / 1e6:.2f} MB)")
    print(
        f"fiber sources: {np.bincount(np.asarray(brain.fiber_source), minlength=4).tolist()}, "
        f"OOD voxels {int(res.ood.sum())}"
    )
    print(f"{'tract':28s} {'voxels':>6s} {'tau mean %':>10s} {'tau p95 %':>9s} {'>=10 %':>7s} {'MT p95':>7s}")
    for it in tracts["items"]:
        tau = it["outputs"]["tau_failure_pct"]
        print(
            f"{it['name']:28s} {it['n_voxels']:6d} {tau['mean']:10.2f} {tau['p95']:9.2f} "
            f"{tau['above'][0]['fraction']:7.3f} {it['outputs']['peak_mt_strain']['p95']:7.4f}"
        )


if __name__ == "__main__":
    main()
