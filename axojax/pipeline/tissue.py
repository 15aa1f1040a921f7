"""Stage 1b: tissue strain per impact: the reduced head model, the FE head model, or imported files.

`head_model_for(config)` is the one place that picks the head model; `strain_function` turns the
choice into the `(impact, coords_mm) -> E (V, T, 3, 3)` function the profile store is built with.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ._read import read_input
from .config import RunConfig


def head_model_for(config: RunConfig):
    """The `axojax.headmodel.AbstractHeadModel` of `config.tissue_model`.

    "reduced" and "import" (for impacts without a strain file when `strain_fallback` is "reduced")
    give `ReducedHeadModel()`; "fe" gives `FEHeadModel(element_size_mm=config.element_size_mm,
    surface=config.fe_surface)`, with `allow_inverted` when `config.inverted_elements` is "exclude".

    Raises:
        ValueError: "fe" in a version without `axojax.headmodel.FEHeadModel`.
    """
    if config.tissue_model == "fe":
        try:
            from axojax.headmodel import FEHeadModel
        except ImportError as err:
            raise ValueError(
                "tissue model 'fe' is not available in this version (no axojax.headmodel.FEHeadModel); "
                "use tissue.model = 'reduced' or 'import'"
            ) from err
        return FEHeadModel(
            element_size_mm=config.element_size_mm,
            allow_inverted=config.inverted_elements == "exclude",
            surface=config.fe_surface,
        )
    from axojax.headmodel import ReducedHeadModel

    return ReducedHeadModel()


def strain_file_for(pattern: str, name: str, index: int, stem: str) -> Path:
    """The strain file of one impact: `pattern` with {name}, {index} (in its file) and {stem} filled in."""
    try:
        return Path(pattern.format(name=name, index=index, stem=stem))
    except (KeyError, IndexError, ValueError) as err:
        raise ValueError(
            f"tissue.strain: pattern {pattern!r} may use only {{name}}, {{index}} and {{stem}} ({err})"
        ) from err


def _name_parts(name: str) -> tuple[str, int]:
    """(file stem, index in the file) of an impact name "stem" or "stem[i]"."""
    if name.endswith("]") and "[" in name:
        stem, idx = name[:-1].rsplit("[", 1)
        if idx.isdigit():
            return stem, int(idx)
    return name, 0


def match_strain_files(config: RunConfig, names: list[str]) -> dict[str, Path]:
    """Strain file of each impact that has one (`config.strain_files`).

    Raises:
        ValueError: an impact without a file while `strain_fallback` is "none" (naming the file
            expected), or no impact with a file at all.
    """
    found, missing = {}, []
    for name in names:
        stem, index = _name_parts(name)
        path = strain_file_for(config.strain_files, name, index, stem)
        (found.__setitem__(name, path) if path.exists() else missing.append((name, path)))
    if missing and config.strain_fallback == "none":
        name, path = missing[0]
        raise ValueError(
            f"{path}: no strain file for impact {name!r} ({len(missing)} of {len(names)} impacts lack one; "
            "set tissue.fallback = 'reduced' to use the reduced head model for them)"
        )
    if not found:
        raise ValueError(f"tissue.strain: pattern {config.strain_files!r} matches no impact's file")
    return found


def load_strain_file(path: Path):
    """`axojax.headmodel.load_strain` (NIfTI / NPZ) or `load_d3plot_strain` (a file named d3plot*)."""
    from axojax.headmodel import load_d3plot_strain, load_strain

    if path.name.lower().startswith("d3plot"):
        return read_input(path, "LS-DYNA d3plot", lambda: load_d3plot_strain(path))
    return read_input(path, "strain file", lambda: load_strain(path))


def imported_strain_at(
    field, path: Path, coords_mm: np.ndarray, t_s: np.ndarray, voxel_mm: float
) -> np.ndarray:
    """Imported strain at brain points: the nearest imported point, interpolated onto `t_s` [s]
    counted from the record's first time (held at its last value past the end).

    Raises:
        ValueError: naming the file: points farther than a voxel diagonal (or 1.5 point spacings)
            from every imported point (the strain does not cover the white matter).
    """
    from scipy.spatial import cKDTree

    pts = np.asarray(field.coords_mm, np.float64)
    tree = cKDTree(pts)
    spacing = float(np.median(tree.query(pts, k=2)[0][:, 1])) if pts.shape[0] > 1 else 0.0
    tol = max(np.sqrt(3.0) * voxel_mm, 1.5 * spacing)
    dist, idx = tree.query(np.asarray(coords_mm, np.float64))
    far = dist > tol
    if far.any():
        raise ValueError(
            f"{path}: {int(far.sum())} of {far.size} white-matter voxels lie farther than {tol:.1f} mm from "
            "every strain point (expected strain covering the brain mask, in its world frame [mm])"
        )
    t = np.asarray(field.t_s, np.float64)
    grid = t[0] + np.asarray(t_s, np.float64) - float(t_s[0])
    e = np.asarray(field.strain, np.float64)[idx].reshape(idx.size, t.size, 9)
    if t.size == 1:
        out = np.repeat(e, grid.size, axis=1)
    else:
        k = np.clip(np.searchsorted(t, grid, side="right") - 1, 0, t.size - 2)
        w = np.clip((grid - t[k]) / (t[k + 1] - t[k]), 0.0, 1.0)[None, :, None]
        out = (1.0 - w) * e[:, k] + w * e[:, k + 1]
    return out.reshape(idx.size, grid.size, 3, 3)


def solve_impact(model, impact):
    """`axojax.headmodel.motion` of one impact; a solve that stops (the FE brain's "diverged") is re-raised
    as a ValueError naming the impact, its DAMAGE and what to do.

    Raises:
        ValueError: the head model's solve of `impact` stopped.
    """
    import jax

    from axojax.headmodel import damage, motion

    try:
        u = motion(model, impact.t_s, impact.ang_acc_rad_s2)
        return jax.block_until_ready(u)
    except RuntimeError as err:
        if type(err).__name__ != "EquinoxRuntimeError":  # not a failed check of the solve (e.g. memory)
            raise
        lines = [ln for ln in str(err).splitlines() if "EquinoxRuntimeError:" in ln]
        why = lines[0].split("EquinoxRuntimeError:")[-1].strip() if lines else "a failed check"
        level = float(damage(model, impact))
        advice = (
            "The FE brain solves without an inverted element up to DAMAGE ~0.12-0.24 (4 mm) / 0.21-0.24 "
            "(6 mm; docs/fe.md, 'Validation'); set tissue.inverted = 'exclude' to finish such solves and "
            "leave the voxels in inverted elements out, or use tissue.model = 'reduced'."
            if "inverted" in why
            else "Use tissue.model = 'reduced' for this impact, or check its kinematics (units, spikes)."
        )
        raise ValueError(
            f"impact {impact.name!r} (DAMAGE {level:.3f}): the tissue model's solve stopped ({why}). "
            f"{advice} The impacts before it are kept: rerunning resumes."
        ) from err


def strain_function(
    config: RunConfig, names: list[str], brain, t_s: np.ndarray
) -> tuple[Callable[[Any, Any], Any], dict[str, Path], Callable[[Any, Any], Any] | None]:
    """The run's `(impact, coords_mm) -> E (V, T, 3, 3)`, the strain files it reads by impact name, and
    (FE with `inverted_elements` "exclude", else None) `(impact, coords_mm) -> flags (V,)` of the points
    in an element that inverted in the impact's solve (`FEHeadModel.inverted_cells`); the strain of a
    flagged point is returned as 0 (an inverted element's strain is not the brain's and can exceed 1)."""
    import jax.numpy as jnp

    from axojax.headmodel import strain_from_motion

    model = head_model_for(config)
    files = match_strain_files(config, names) if config.tissue_model == "import" else {}
    voxel_mm = float(max(brain.voxel_size_mm))
    fields: dict[str, Any] = {}
    solved: dict[str, Any] = {}
    inverted: dict[str, Any] = {}  # the cells that inverted in the cached solve
    flags = config.tissue_model == "fe" and config.inverted_elements == "exclude"

    def motion_of(impact):
        if impact.name not in solved:  # one solve per impact: the store asks chunk by chunk per impact
            solved.clear()
            solved[impact.name] = solve_impact(model, impact)
        return solved[impact.name]

    def strain_fn(impact, coords_mm):
        path = files.get(impact.name)
        if path is None:
            e = strain_from_motion(model, motion_of(impact), coords_mm)
            if flags:  # an inverted element's strain is not the brain's (it can pass 100 %): stored as 0
                e = jnp.where(excluded_fn(impact, coords_mm)[:, None, None, None], 0.0, e)
            return e
        if impact.name not in fields:  # one file at a time: the store asks chunk by chunk per impact
            fields.clear()
            fields[impact.name] = load_strain_file(path)
        e = imported_strain_at(fields[impact.name], path, np.asarray(coords_mm), t_s, voxel_mm)
        return jnp.asarray(e, jnp.float32)

    def excluded_fn(impact, coords_mm):
        if impact.name not in inverted:  # one scan of the solve per impact
            inverted.clear()
            inverted[impact.name] = model.inverted_cells(motion_of(impact))
        return model.points_in_cells(inverted[impact.name], jnp.asarray(coords_mm, jnp.float32))

    return strain_fn, files, (excluded_fn if flags else None)
