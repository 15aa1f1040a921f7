"""Maps of new impacts from a trained surrogate (`axojax predict`), one impact or a whole set.

    predict(model_dir, out, impacts="kin/*.csv")     # or a multi-impact MAT file, a folder
    predict(model_dir, out, strain="fe/*.nii.gz")    # imported strain fields

Each impact is read, resampled to the surrogate's grid through the anti-aliasing filter, and cut to
its window at the start that keeps the most DAMAGE (`axojax.pipeline.impacts.prepare_impacts`);
every voxel's profile goes through the surrogate. Output (DIR):

    DIR/<name>/<output>.nii.gz, DIR/<name>/summary.json    per impact (one impact: DIR/ itself), with
        per-tract results; with figures also DIR/<name>/index.html (viewer) and map_slices*.png, tracts*.png
    DIR/impacts.csv, DIR/impacts.json                      one row per impact: DAMAGE (full record,
        window, loss), peak |ω| and |α|, per output p50 / p95 / p99 / max and the volume fractions
        above the thresholds of `axojax.wholebrain.summary`, OOD fraction, compute and write times
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ._files import atomic_write_json, log
from .config import RunConfig
from .report import safe_name, write_table


def _brain_of(meta: dict[str, Any], out: Path):
    """The brain the surrogate was trained on (its metadata), or the embedded one at its resolution."""
    from .brain import load_run_brain

    fields = {f.name for f in dataclasses.fields(RunConfig)}
    saved = {k: v for k, v in dict(meta.get("brain") or {}).items() if k in fields}
    config = RunConfig(resolution_mm=float(meta.get("resolution_mm", 2.0)), **saved)
    return load_run_brain(config, out / "brain")


def _head_model_of(meta: dict[str, Any]):
    """The head model the surrogate's training profiles came from (its metadata): `FEHeadModel` at the
    run's element size and surface, finishing solves in which elements invert (`tissue.inverted`
    "exclude"; the voxels in them are flagged), for a run with tissue "fe"; else (reduced, imported
    strain, older checkpoints) `ReducedHeadModel()`."""
    if meta.get("tissue_model") == "fe":
        from axojax.headmodel import FEHeadModel

        return FEHeadModel(
            element_size_mm=float(meta.get("element_size_mm", 4.0)),
            allow_inverted=True,
            surface=str(meta.get("fe_surface", "staircase")),  # checkpoints before the key: staircase
        )
    from axojax.headmodel import ReducedHeadModel

    return ReducedHeadModel()


def _fe_maps(model, head, impacts, brain, chunk_voxels: int = 8192):
    """(`WholeBrainResult`, excluded flags (V,)) of each FE impact: one solve, the flags of the voxels in an
    element that inverted (`FEHeadModel.inverted_points`), profiles by voxel chunk with the flagged ones
    set to 0 (as the run's store holds them: an inverted element's strain is not the brain's), surrogate."""
    import equinox as eqx
    import jax.numpy as jnp
    import numpy as np

    from axojax.wholebrain import predict_maps
    from axojax.wholebrain._profiles import chunk_fiber_strain

    profiles_of = eqx.filter_jit(chunk_fiber_strain)
    coords = np.asarray(brain.coords_mm, np.float32)
    dirs, weights = np.asarray(brain.fiber_dir, np.float32), np.asarray(brain.fiber_weight, np.float32)
    for impact in impacts:
        u = head.motion(jnp.asarray(impact.t_s), jnp.asarray(impact.ang_acc_rad_s2))
        flags = np.asarray(head.inverted_points(u, jnp.asarray(coords)))
        parts = [
            np.asarray(
                profiles_of(head, u, *(jnp.asarray(a[i : i + chunk_voxels]) for a in (coords, dirs, weights)))
            )
            for i in range(0, coords.shape[0], chunk_voxels)  # chunks of voxels, each vectorised
        ]
        profiles = np.where(flags[:, None], 0.0, np.concatenate(parts)).astype(np.float32)
        yield predict_maps(model, profiles, name=impact.name), flags


def _row(name: str, res, summ: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"name": name, **extra}
    for out_name, o in summ["outputs"].items():
        for q, v in o["percentiles"].items():
            row[f"{out_name}_{q}"] = v
        for a in o["above"]:
            row[f"{out_name}_frac_ge_{a['threshold']:g}"] = a["fraction"]
    row["ood_fraction"] = summ["ood_fraction"]
    row["n_ood"] = int(res.ood.sum())
    # impacts: the fused program's share of the compute wall time (two in flight: from when the impact was
    # the oldest one running); strain files: the OOD check and the surrogate (profiles read, not computed)
    row["compute_s"] = round(res.compute_s, 4)
    return row


def predict(
    model_dir: str | Path,
    out: str | Path,
    *,
    impacts: str | Path | None = None,
    strain: str | Path | None = None,
    units: dict[str, str] | None = None,
    method: str = "cfc180",
    single_folder: bool = False,
    figures: bool | None = None,
) -> dict[str, Any]:
    """Maps of every impact of `impacts` (kinematics through the head model the surrogate was trained with:
    `_head_model_of`) or of every strain field of `strain`, with one table. With the FE brain, the voxels in
    an element that inverted are written as <name>/excluded.nii.gz and counted (n_excluded).

    Args:
        model_dir: surrogate checkpoint (DIR/surrogate/model of a run).
        out: output folder (module docstring).
        impacts: a kinematics file (a MAT file may hold several), folder or glob.
        strain: an imported strain file (NIfTI / NPZ / d3plot), folder or glob.
        units: units of kinematics files that do not name them (`axojax.kinematics.load_impacts`).
        method: anti-aliasing filter ("cfc180", "butterworth", "none").
        single_folder: a source with exactly one impact writes its maps into `out` itself.
        figures: figures on the brain and the viewer page (DIR/<name>/index.html) per impact (default: only
            for a single impact); the per-tract results are in every summary.json.

    Returns:
        {"rows": [...], "files": {"csv", "json"}, "seconds": wall time [s], "read_s": reading and
        windowing the impacts [s], "n_impacts", "n_voxels"}; each row also holds its compute_s (the
        impact's fused program: head model, profiles, OOD check, surrogate; for a strain file the OOD
        check and the surrogate) and write_s (maps, summary, tract results) [s].

    Raises:
        ValueError, FileNotFoundError: naming the file: unreadable or inconsistent input, an
            incompatible checkpoint.
    """
    from axojax.kinematics import impact_files, load_impact_set
    from axojax.surrogate import OutOfDistributionWarning, load_surrogate
    from axojax.wholebrain import (
        FUSED_CHUNK_VOXELS,
        coordinate_regions,
        external_profiles,
        predict_maps,
        summary,
        voxel_chunks,
        whole_brain_many,
        write_maps,
    )
    from axojax.wholebrain._tracts import tract_index
    from axojax.wholebrain.results import brain_results

    from .impacts import prepare_impacts
    from .maps import write_excluded_map
    from .tissue import load_strain_file

    if (impacts is None) == (strain is None):
        raise ValueError("predict: give either impacts or strain")
    out = Path(out)
    start = time.perf_counter()
    model, meta = load_surrogate(model_dir)
    brain = _brain_of(meta, out)
    dt_ms = model.config.dt_s * 1e3
    n_time = model.config.n_time
    jobs: list[tuple[str, Any, dict[str, Any]]] = []  # (name, impact or strain path, table columns)
    t_read = time.perf_counter()
    if impacts is not None:
        records = load_impact_set(impacts, units=units)
        windowed, kin, _ = prepare_impacts(
            records,
            dt_ms=dt_ms,
            window_ms=n_time * dt_ms,
            method=method,
            warn=lambda msg: log(f"warning: {msg}"),
        )
        for row in kin:
            extra = {k: row[k] for k in row if k not in ("name", "axis_head")}
            jobs.append((row["name"], windowed[row["name"]], extra))
    else:
        for path in impact_files_any(strain, impact_files):
            jobs.append((_strain_name(path), path, {"strain_file": str(path)}))
    read_s = time.perf_counter() - t_read
    one = single_folder and len(jobs) == 1
    figures = one if figures is None else figures
    head = _head_model_of(meta)
    regions = coordinate_regions(brain)  # the summary's default regions, built once
    tract_idx = tract_index(brain)  # where the AFQ tracts lie on the brain, built once
    # impacts: one fused program each, the brain chunked once, the next impact dispatched before this one
    # is collected (two programs side by side on the two cores)
    fe = hasattr(head, "inverted_points")  # the FE brain: one solve per impact, flags, then the surrogate
    excluded: dict[str, Any] = {}
    results = None
    if impacts is not None and fe:
        results = _fe_maps(model, head, (item for _, item, _ in jobs), brain)
    elif impacts is not None:
        results = whole_brain_many(
            model, head, (item for _, item, _ in jobs), brain, chunks=voxel_chunks(brain, FUSED_CHUNK_VOXELS)
        )

    def write(name: str, folder: Path, item: Any, res, extra: dict[str, Any]) -> dict[str, Any]:
        """Maps, summary.json and the table row of one impact (in the writer thread unless figures)."""
        t_write = time.perf_counter()
        paths = write_maps(folder, brain, res.values)
        flags = excluded.get(name)
        if flags is not None:
            extra["n_excluded"] = int(flags.sum())
            if flags.any():
                write_excluded_map(folder, brain, flags, name)
        summ = summary(res.values, brain, ood=res.ood, regions=regions)
        summ["tracts"], shown, notes = brain_results(  # per-tract results; figures + index.html if asked
            res.values,
            brain,
            ood=res.ood,
            viewer=folder / "index.html" if figures else None,
            figure=folder / "map_slices.png" if figures else None,
            title=name,
            index=tract_idx,
        )
        for note in notes:
            log(f"{name}: {note}")
        report = {
            "source": str(impacts if strain is None else item),
            **res.as_dict(),
            **extra,
            "summary": summ,
            "figures": shown,
        }
        atomic_write_json(folder / "summary.json", report)
        row = _row(name, res, summ, extra)
        row["write_s"] = round(time.perf_counter() - t_write, 4)
        row["maps"] = str(paths[next(iter(paths))].parent)
        return row

    rows: list[dict[str, Any]] = []
    # impact i's maps are written (NIfTI gzip, summary: host work) while impact i + 1 is computed; at most
    # one write in flight, so memory stays at two impacts' outputs. Figures use matplotlib: main thread.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="axojax-predict-write")
    pending: Future | None = None
    try:
        for name, item, extra in jobs:
            folder = out if one else out / safe_name(name)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if isinstance(item, Path):
                    field = load_strain_file(item)
                    profiles, covered = external_profiles(
                        field, brain, n_time=n_time, dt_s=model.config.dt_s, where=str(item)
                    )
                    res = predict_maps(model, profiles, name=name)
                    extra["covered_voxels"] = int(covered.sum())
                else:
                    assert results is not None  # impacts, not strain files
                    res = next(results)
                    if fe:
                        res, excluded[name] = res
            for w in caught:
                if issubclass(w.category, (OutOfDistributionWarning, RuntimeWarning)):
                    log(f"warning: {name}: {w.message}")
            if pending is not None:
                rows.append(pending.result())
                pending = None
            if figures:
                rows.append(write(name, folder, item, res, extra))
            else:
                pending = writer.submit(write, name, folder, item, res, extra)
        if pending is not None:
            rows.append(pending.result())
    finally:
        writer.shutdown(wait=True)
    columns = tuple(dict.fromkeys(k for r in rows for k in r))
    files = {"csv": out / "impacts.csv", "json": out / "impacts.json"}
    write_table(files["csv"], rows, columns)
    atomic_write_json(files["json"], rows)
    return {
        "rows": rows,
        "files": {k: str(v) for k, v in files.items()},
        "seconds": time.perf_counter() - start,
        "read_s": read_s,
        "n_impacts": len(rows),
        "n_voxels": brain.n_voxels,
    }


def _strain_name(path: Path) -> str:
    name = path.name
    for suffix in (".nii.gz", ".nii", ".npz"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def impact_files_any(source, impact_files) -> list[Path]:
    """Strain files of `source` (a file, a glob, or a folder of .nii/.nii.gz/.npz/d3plot files)."""
    path = Path(str(source))
    if path.is_dir():
        files = sorted(
            p
            for p in path.iterdir()
            if p.is_file() and (p.name.lower().endswith((".nii", ".nii.gz", ".npz")) or p.name == "d3plot")
        )
        if not files:
            raise FileNotFoundError(f"{path}: folder holds no strain file (.nii, .nii.gz, .npz, d3plot)")
        return files
    return impact_files(source)
