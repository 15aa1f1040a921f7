"""The whole run: every stage in order, each resumable."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ._check import check_config
from ._files import _timed, atomic_write_json
from .brain import load_run_brain
from .config import RunConfig
from .impacts import study_impacts
from .maps import stage_maps
from .profiles import stage_profiles
from .provenance import record_inputs
from .report import _figures, safe_name, write_kinematics_report
from .sample import stage_sample
from .simulate import split_arrays, stage_augment, stage_simulate, training_set
from .train import stage_fit, stage_learning_curve, stage_validate

STAGES = ("profiles", "sample", "simulate", "train", "maps")


def run(
    config: RunConfig,
    out: str | os.PathLike,
    *,
    until: str = "maps",
    study_file: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Impacts -> profiles -> sampling -> axon campaign -> surrogate -> maps, resumable.

    Args:
        config: the run's settings (`RunConfig`, e.g. `RunConfig.preset_config("tiny")` or
            `load_config("study.toml")`).
        out: output folder (layout: `axojax.pipeline`).
        until: last stage to run, one of `STAGES`.
        study_file: the TOML the config was read from (its hash goes into DIR/provenance.json).

    Returns the metrics dict; the full run also writes it to DIR/metrics.json.

    Raises:
        ValueError, FileNotFoundError: naming the file or setting: unreadable or inconsistent input, a
            folder holding a run with other settings, or an input file changed since the run began.
    """
    if until not in STAGES:
        raise ValueError(f"until must be one of {STAGES}, got {until!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    check_config(out, config)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    record_inputs(out, config, config.input_files(), study_file=study_file)
    impacts, kinematics, window_ms = _timed(timings, "impacts_s", lambda: study_impacts(config))
    if kinematics:
        write_kinematics_report(out / "impacts", kinematics)
    brain = _timed(timings, "brain_s", lambda: load_run_brain(config, out / "brain"))
    dataset = _timed(
        timings,
        "profiles_s",
        lambda: stage_profiles(out, config, brain, impacts, lambda files: record_inputs(out, config, files)),
    )
    if until == "profiles":
        return {"profiles": str(dataset.store_dir), "shape": list(dataset.shape), "timings": timings}
    sel = _timed(timings, "sampling_s", lambda: stage_sample(out, config, dataset))
    if until == "sample":
        return {"n_train_selected": int(sel["train_voxel"].size), "timings": timings}
    result = _timed(timings, "simulate_s", lambda: stage_simulate(out, config, dataset, sel))
    augment = _timed(timings, "augment_s", lambda: stage_augment(out, config, result, sel))
    if until == "simulate":
        return {
            "n_simulated": result.n_profiles,
            "n_failed": int((~result.usable).sum()),
            "n_amplitude_variants": 0 if augment is None else augment.n_profiles,
            "timings": timings,
        }
    parts = split_arrays(result, sel, augment)
    t_s = np.asarray(dataset.t_s, np.float64)
    dt_s = float(t_s[1] - t_s[0])
    lc = _timed(timings, "learning_curve_s", lambda: stage_learning_curve(out, config, parts["pool"], dt_s))
    n_variants = parts["augment"][0].shape[0] if "augment" in parts else 0
    model, fit_info = _timed(
        timings, "train_s", lambda: stage_fit(out, config, training_set(parts), dt_s, n_variants)
    )
    held = int(sel["held_out_impact"])
    validation = stage_validate(out, model, parts, t_s)
    atomic_write_json(out / "surrogate" / "validation.json", validation)
    _figures(out, lc, out / "sampling")
    if until == "train":
        return {"learning_curve": lc, "training": fit_info, "worst_case_validation": validation}
    held_name = list(impacts)[held]
    maps = _timed(timings, "maps_s", lambda: _maps(out, config, model, impacts, held_name, brain, dataset))
    timings["total_s"] = round(time.perf_counter() - start, 1)
    metrics = {
        "config": config.to_dict(),
        "brain": {
            "n_voxels": brain.n_voxels,
            "n_cubes": brain.n_cubes,
            "resolution_mm": config.resolution_mm,
        },
        "impacts": {
            "n_train": len(impacts) - 1,
            "held_out": held_name,
            "source": config.impacts,
            "window_ms": window_ms,
            "kinematics": kinematics,
        },
        "tissue": {
            "model": config.tissue_model,
            **(
                {"element_size_mm": config.element_size_mm, "surface": config.fe_surface}
                if config.tissue_model == "fe"
                else {}
            ),
            # voxels whose profile the store excludes (in an FE element that inverted), by impact
            "excluded_voxels": {
                name: int(n) for name in dataset.impact_names if (n := dataset.excluded(name).sum())
            },
        },
        "sampling": {
            "n_candidates_per_impact": int(sel["n_candidates_per_impact"]),
            "n_train_selected": int(sel["train_voxel"].size),
            "train_threshold": float(sel["train_threshold"]),
            "n_train_from_tail": int(sel["train_n_tail"]) if "train_n_tail" in sel else 0,
            "tail_peak_strain": (
                float(sel["tail_peak_strain"])
                if "tail_peak_strain" in sel and np.isfinite(sel["tail_peak_strain"])
                else None
            ),
            "n_pool_selected": int(sel["pool_voxel"].size),
            "pool_threshold": float(sel["pool_threshold"]),
            "n_worst": int(sel["worst_voxel"].size),
            "coverage": json.loads((out / "sampling" / "coverage.json").read_text()),
        },
        "simulation": {
            "n_profiles": result.n_profiles,
            "n_failed": int((~result.usable).sum()),
            "axon_preset": config.preset,
            "n_amplitude_variants": 0 if augment is None else augment.n_profiles,
            "n_amplitude_variants_failed": 0 if augment is None else int((~augment.usable).sum()),
        },
        "learning_curve": {k: v for k, v in lc.items() if not k.endswith("_folds")},
        "training": fit_info,
        "worst_case_validation": validation,
        "maps": maps,
        "timings": timings,
    }
    atomic_write_json(out / "metrics.json", metrics)
    return metrics


def _maps(out: Path, config: RunConfig, model, impacts, held_name: str, brain, dataset) -> dict[str, Any]:
    """Maps of the held-out impact in DIR/maps (and, with map_impacts "all", of every impact in
    DIR/maps/<name>/). The reduced head model recomputes the profiles (as `axojax predict` does);
    FE and imported strain read them from the store."""
    from .tissue import head_model_for

    names = list(impacts)
    from_store = config.tissue_model != "reduced"
    head = None if from_store else head_model_for(config)

    def one(name, folder=None, figure=None):
        profiles = np.asarray(dataset.read_impact(names.index(name))) if from_store else None
        excluded = dataset.excluded(names.index(name)) if from_store else None
        return stage_maps(
            out,
            model,
            impacts[name],
            brain,
            head_model=head,
            profiles=profiles,
            folder=folder,
            figure=figure,
            excluded=excluded,
        )

    report = one(held_name)
    if config.map_impacts == "all":
        report["all_impacts"] = {
            name: one(
                name, out / "maps" / safe_name(name), out / "figures" / f"map_slices_{safe_name(name)}.png"
            )["summary"]
            for name in names
        }
    return report
