"""Whole-brain file access: output maps as NIfTI (one `<name>.nii.gz` per output) and label atlases.

Maps are written on the brain's grid and affine, float32, zero outside white matter, each to a temporary
file moved into place with `os.replace` (a map file is either complete or absent). Readers check grid and
affine against the brain and raise `ValueError` naming the file, the expected shape and affine.
"""

from __future__ import annotations

import json
import os
import re
import uuid
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import nibabel as nib
import numpy as np
from jaxtyping import ArrayLike, Float

from ..brain import Brain
from ..surrogate import OUTPUT_NAMES
from ._regions import RegionAtlas
from ._summary import OUTPUT_UNITS

__all__ = ["write_maps", "read_map", "read_maps", "read_label_atlas"]

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
# affine tolerance [mm]: the brain stores its affine in float32
_AFFINE_ATOL_MM = 1e-3


def _check_names(names: Sequence[str], n_columns: int) -> tuple[str, ...]:
    names = tuple(str(x) for x in names)
    if len(names) != n_columns:
        raise ValueError(f"write_maps: {len(names)} names {names} for {n_columns} value columns")
    bad = [x for x in names if not _SAFE_NAME.match(x) or x.startswith(".")]
    if bad or len(set(names)) != len(names):
        raise ValueError(f"write_maps: names must be unique file-name stems ([A-Za-z0-9_.-]), got {names}")
    return names


def _gzip_bytes(data: bytes) -> bytes:
    """`data` as one gzip member: deflate level 1 with the run-length strategy (`zlib.Z_RLE`).

    A map is ~90 % zeros outside the white matter and float32 noise inside, where longer matches are
    rare: RLE keeps the files as small as nibabel's level-1 gzip (~0.35 MB per 2 mm map) at ~25 % less
    CPU, and any gzip reader (nibabel, FSL, gunzip) reads it.
    """
    packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS, 8, zlib.Z_RLE)
    return packer.compress(data) + packer.flush()


def _atomic_save(img: nib.Nifti1Image, final: Path) -> None:
    """`img` as a single-file gzipped NIfTI at `final`, written to a temporary name and moved into place."""
    tmp = final.with_name(f".{final.name[: -len('.nii.gz')]}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp.nii.gz")
    try:
        with open(tmp, "wb") as f:
            f.write(_gzip_bytes(img.to_bytes()))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def write_maps(
    out_dir: str | os.PathLike,
    brain: Brain,
    values: Float[ArrayLike, "vox n"],
    names: Sequence[str] = OUTPUT_NAMES,
) -> dict[str, Path]:
    """Write one NIfTI map per output column: `<out_dir>/<name>.nii.gz`.

    Args:
        out_dir: directory, created if missing; existing maps of the same names are replaced.
        brain: grid shape and affine [mm] of the maps, and the white-matter voxels.
        values: per-voxel outputs (V, n) in their units (strains [-], failures [%]); stored as float32.
        names: file-name stem of each column (default: `axojax.surrogate.OUTPUT_NAMES`).

    Returns:
        {name: path} of the written files.

    Raises:
        ValueError: values not of shape (V, len(names)), NaN/inf values, or names that are not unique,
            safe file-name stems.
    """
    v = np.asarray(values)
    if v.ndim != 2 or v.shape[0] != brain.n_voxels:
        raise ValueError(f"write_maps: values need shape ({brain.n_voxels}, n), got {v.shape}")
    names = _check_names(names, v.shape[1])
    v = v.astype(np.float32)
    if not np.isfinite(v).all():
        raise ValueError(f"write_maps: values contain {int(np.sum(~np.isfinite(v)))} NaN/inf entries")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    affine = np.asarray(brain.affine, dtype=np.float64)
    paths = {}
    for j, name in enumerate(names):  # one file per output
        img = nib.Nifti1Image(brain.to_volume(v[:, j], fill=0.0), affine)
        img.header.set_data_dtype(np.float32)
        img.header.set_xyzt_units(xyz="mm")
        unit = OUTPUT_UNITS.get(name)
        img.header["descrip"] = f"axojax {name}" + (f" [{unit}]" if unit else "")
        path = out / f"{name}.nii.gz"
        _atomic_save(img, path)
        paths[name] = path
    return paths


def read_map(
    path: str | os.PathLike,
) -> tuple[Float[np.ndarray, "x y z"], Float[np.ndarray, "4 4"]]:
    """A 3-D map and its affine.

    Returns:
        (volume (x, y, z) float32 in the map's unit, affine voxel -> world [mm] float64).

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: naming the file, if the image is not 3-D.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such map")
    img = nib.load(path)
    if len(img.shape) != 3:
        raise ValueError(f"{path}: need a 3-D map, got shape {img.shape}")
    return np.asarray(img.get_fdata(dtype=np.float32)), np.asarray(img.affine, dtype=np.float64)


def _check_grid(path: Path, shape: tuple[int, ...], affine: np.ndarray, brain: Brain) -> None:
    grid = tuple(int(s) for s in brain.mask.shape)
    expect = np.asarray(brain.affine, dtype=np.float64)
    if tuple(shape) != grid:
        raise ValueError(
            f"{path}: grid {tuple(shape)} differs from the brain's: need shape {grid} and affine\n{expect}"
        )
    diff = float(np.abs(affine - expect).max())
    if diff > _AFFINE_ATOL_MM * max(1.0, float(np.abs(expect).max())):
        raise ValueError(
            f"{path}: affine differs from the brain's (max |diff| = {diff:.4g} mm): need shape {grid} and "
            f"affine\n{expect}\ngot\n{affine}"
        )


def read_maps(
    out_dir: str | os.PathLike, brain: Brain, names: Sequence[str] = OUTPUT_NAMES
) -> Float[np.ndarray, "vox n"]:
    """Per-voxel values (V, n) [map units] of the maps `<out_dir>/<name>.nii.gz` (inverse of `write_maps`).

    Raises:
        FileNotFoundError: a map is missing.
        ValueError: naming the file, on a grid or affine other than the brain's.
    """
    names = tuple(str(x) for x in names)
    ijk = np.asarray(brain.voxel_ijk)
    cols = []
    for name in names:  # one file per output
        path = Path(out_dir) / f"{name}.nii.gz"
        vol, affine = read_map(path)
        _check_grid(path, vol.shape, affine, brain)
        cols.append(vol[ijk[:, 0], ijk[:, 1], ijk[:, 2]])
    return np.stack(cols, axis=1) if cols else np.zeros((brain.n_voxels, 0), np.float32)


def _read_names(source: Mapping[int, str] | str | os.PathLike) -> dict[int, str]:
    """Label names from a mapping, a JSON object {"label": "name"}, or a text table "<label> <name> ..."."""
    if isinstance(source, Mapping):
        items = source.items()
        where = "names"
    else:
        path = Path(source)
        where = str(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such label-name file")
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".json":
            obj = json.loads(text)
            if not isinstance(obj, dict):
                raise ValueError(f"{path}: need a JSON object {{label: name}}, got {type(obj).__name__}")
            items = obj.items()
        else:  # FSL/FreeSurfer-style lookup table: label, name, optional colour columns; '#' comments
            rows = [line.split("#", 1)[0].split() for line in text.splitlines()]
            rows = [r for r in rows if r]
            bad = [r for r in rows if len(r) < 2]
            if bad:
                raise ValueError(f"{path}: each line needs '<label> <name>', got {' '.join(bad[0])!r}")
            items = [(r[0], r[1]) for r in rows]
    out = {}
    for key, name in items:
        try:
            label = int(key)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where}: label {key!r} is not an integer") from err
        out[label] = str(name)
    out.pop(0, None)  # 0 = background
    return out


def read_label_atlas(
    path: str | os.PathLike,
    brain: Brain,
    *,
    names: Mapping[int, str] | str | os.PathLike | None = None,
) -> RegionAtlas:
    """Region labels of the white-matter voxels from an integer label NIfTI on the brain's grid.

    Args:
        path: 3-D label image (or 4-D with one volume), same grid shape and affine as `brain`; integer labels,
            0 = background (also accepted as integral floats).
        brain: grid, affine [mm] and white-matter voxels.
        names: label names: a mapping {label: name}, a JSON file {"label": "name"}, or a text lookup table
            with lines "<label> <name> [...]" ('#' comments; FSL/FreeSurfer style). None: "label <k>".

    Returns:
        A `RegionAtlas` with the label of each white-matter voxel (0 where the atlas has background).

    Raises:
        FileNotFoundError: a missing atlas or name file.
        ValueError: naming the file: a grid shape or affine other than the brain's (with the expected shape
            and affine), non-integer or negative labels, or a malformed name file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such label atlas")
    img = nib.load(path)
    shape = tuple(img.shape)
    if len(shape) == 4 and shape[3] == 1:
        shape = shape[:3]
    if len(shape) != 3:
        raise ValueError(f"{path}: need a 3-D label image, got shape {tuple(img.shape)}")
    _check_grid(path, shape, np.asarray(img.affine, dtype=np.float64), brain)
    data = np.asarray(img.dataobj).reshape(shape)
    ijk = np.asarray(brain.voxel_ijk)
    raw = np.asarray(data[ijk[:, 0], ijk[:, 1], ijk[:, 2]], dtype=np.float64)
    if not np.isfinite(raw).all() or np.any(raw != np.round(raw)) or np.any(raw < 0):
        raise ValueError(f"{path}: labels must be non-negative integers inside the white-matter mask")
    label_names = {} if names is None else _read_names(names)
    return RegionAtlas(labels=raw.astype(np.int32), names=label_names, source=str(path))
