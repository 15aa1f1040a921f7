"""Reading measured head impacts: MAT (struct array `impact`), CSV (one impact per file), NPZ.

Expected contents (SCIENCE.md §4), head frame SAE J211 (x anterior, y right, z inferior):

- MAT: struct array `impact` with fields `t` [s], `ang_vel` (T x 3) [rad/s], `ang_acc` (T x 3)
  [rad/s^2], optional `lin_acc_CG` (T x 3) [m/s^2]. One file may hold several impacts.
- CSV: a header naming the columns, in any order, case-insensitive: `t` (or `time`), `wx, wy, wz` (or
  `ang_vel_x`, `omega_x`, `angvel_x`, `w_x`, ...), optional `ax, ay, az` (or `ang_acc_x`, `alpha_x`,
  ...; without them α is derived by central differences), optional `lx, ly, lz` (`lin_acc_x`, ...).
  A column may name its unit: `ang_vel_x [deg/s]`, `omega_x (rad/s)`, `wx_deg_s`, `time_ms`; otherwise
  the `units` argument, otherwise SI. Comma or semicolon separated.
- NPZ: arrays `t`, `ang_vel`, optional `ang_acc`, optional `lin_acc_CG` (same units as MAT).

Units other than SI are converted (`UNITS`). Every reader checks units for obvious slips (ω in
deg/s, t in ms) and raises `ValueError` naming the file and the field.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from axojax._units import MAX_PLAUSIBLE_DURATION_S
from axojax._validate import check_finite, check_time_grid
from axojax.kinematics._impact import Impact

__all__ = [
    "load_impact",
    "load_impacts",
    "load_impact_set",
    "impact_files",
    "unit_factor",
    "UNITS",
    "MAX_ANG_VEL_RAD_S",
    "MAX_ANG_ACC_RAD_S2",
    "MAX_SPAN_S",
]

#: Peak |ω| above this [rad/s] is taken for deg/s (severe sport impacts stay below ~60 rad/s).
MAX_ANG_VEL_RAD_S = 200.0
#: Peak |α| above this [rad/s^2] is taken for deg/s^2 (severe impacts stay below ~20 krad/s^2).
MAX_ANG_ACC_RAD_S2 = 1.0e5
#: A record spanning more than this [s] is taken for time in ms.
MAX_SPAN_S = MAX_PLAUSIBLE_DURATION_S

#: Units each field may come in, with the factor to the SI unit of the `Impact` (s, rad/s, rad/s^2,
#: m/s^2). Names are compared lower-case with spaces removed ("deg/s^2" = "deg/s2" = "deg_s2").
UNITS: dict[str, dict[str, float]] = {
    "t": {"s": 1.0, "ms": 1e-3, "us": 1e-6},
    "ang_vel": {"rad/s": 1.0, "deg/s": np.pi / 180.0, "rpm": 2.0 * np.pi / 60.0},
    "ang_acc": {"rad/s2": 1.0, "krad/s2": 1e3, "deg/s2": np.pi / 180.0},
    "lin_acc_CG": {"m/s2": 1.0, "g": 9.80665, "mm/ms2": 1e3},
}

# CSV column names (case-insensitive): canonical name -> accepted spellings. A unit may follow in
# brackets or parentheses ("ang_vel_x [deg/s]", "omega_x (rad/s)") or as a suffix ("wx_deg_s").
_CSV_ALIASES: dict[str, tuple[str, ...]] = {
    "t": ("t", "time", "t_s", "time_s"),
    **{
        f"w{c}": (
            f"w{c}",
            f"ang_vel_{c}",
            f"angvel_{c}",
            f"omega_{c}",
            f"av_{c}",
            f"w_{c}",
            f"angular_velocity_{c}",
        )
        for c in "xyz"
    },
    **{
        f"a{c}": (
            f"a{c}",
            f"ang_acc_{c}",
            f"angacc_{c}",
            f"alpha_{c}",
            f"aa_{c}",
            f"a_{c}",
            f"angular_acceleration_{c}",
        )
        for c in "xyz"
    },
    **{
        f"l{c}": (
            f"l{c}",
            f"lin_acc_{c}",
            f"lin_acc_cg_{c}",
            f"linacc_{c}",
            f"la_{c}",
            f"linear_acceleration_{c}",
        )
        for c in "xyz"
    },
}
_CSV_LOOKUP = {alias: name for name, aliases in _CSV_ALIASES.items() for alias in aliases}
_CSV_FIELD = {"t": "t", "w": "ang_vel", "a": "ang_acc", "l": "lin_acc_CG"}
# unit suffixes written into column names ("wx_deg_s", "time_ms"), longest first
_UNIT_SUFFIXES = {
    "t": (("_ms", "ms"), ("_us", "us"), ("_s", "s")),
    "ang_vel": (("_rad_s", "rad/s"), ("_deg_s", "deg/s"), ("_rpm", "rpm")),
    "ang_acc": (("_krad_s2", "krad/s2"), ("_rad_s2", "rad/s2"), ("_deg_s2", "deg/s2")),
    "lin_acc_CG": (("_m_s2", "m/s2"), ("_g", "g")),
}


def _norm_unit(unit: str) -> str:
    u = unit.strip().lower().replace(" ", "").replace("^", "").replace("²", "2").replace("_", "/")
    return {"sec": "s", "msec": "ms", "rad/s/s": "rad/s2", "deg/s/s": "deg/s2", "m/s/s": "m/s2"}.get(u, u)


def unit_factor(field: str, unit: str | None, where: str) -> float:
    """Factor from `unit` to the SI unit of `field` ("t", "ang_vel", "ang_acc", "lin_acc_CG"); 1 for None.

    Raises:
        ValueError: naming `where`: a unit not in `UNITS[field]`.
    """
    if unit is None:
        return 1.0
    table = UNITS[field]
    factor = table.get(_norm_unit(unit))
    if factor is None:
        raise ValueError(f"{where}: unknown unit {unit!r} for '{field}' (expected one of {', '.join(table)})")
    return factor


def _check_units(units, where: str) -> dict[str, str]:
    units = dict(units or {})
    unknown = sorted(set(units) - set(UNITS))
    if unknown:
        raise ValueError(f"{where}: units for unknown fields {unknown} (expected some of {sorted(UNITS)})")
    for field, unit in units.items():
        unit_factor(field, unit, where)
    return units


def _as_tx3(path, field: str, x, n_t: int) -> np.ndarray:
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: field '{field}' must be a numeric ({n_t}, 3) array ({err})") from err
    x = np.squeeze(x)
    if x.ndim == 2 and x.shape == (3, n_t) and n_t != 3:
        x = x.T
    if x.shape != (n_t, 3):
        raise ValueError(f"{path}: field '{field}' must have shape ({n_t}, 3), got {x.shape}")
    return x


def _build(path, name: str, t, ang_vel, ang_acc=None, lin_acc=None, units=None) -> Impact:
    units = units or {}
    try:
        t = np.asarray(t, dtype=np.float64).ravel()
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: field 't' must be a numeric vector of times ({err})") from err
    t = check_time_grid(t * unit_factor("t", units.get("t"), str(path)), where=str(path), field="'t'")
    fields = {"ang_vel": _as_tx3(path, "ang_vel", ang_vel, t.size)}
    if ang_acc is not None:
        fields["ang_acc"] = _as_tx3(path, "ang_acc", ang_acc, t.size)
    if lin_acc is not None:
        fields["lin_acc_CG"] = _as_tx3(path, "lin_acc_CG", lin_acc, t.size)
    for field, x in fields.items():
        check_finite(x, where=str(path), field=f"'{field}'")
        fields[field] = x * unit_factor(field, units.get(field), str(path))
    w_peak = np.linalg.norm(fields["ang_vel"], axis=-1).max()
    if w_peak > MAX_ANG_VEL_RAD_S:
        raise ValueError(
            f"{path}: field 'ang_vel' peaks at {w_peak:g} rad/s (> {MAX_ANG_VEL_RAD_S:g}); "
            "is it in deg/s? Convert to rad/s."
        )
    if "ang_acc" in fields:
        a_peak = np.linalg.norm(fields["ang_acc"], axis=-1).max()
        if a_peak > MAX_ANG_ACC_RAD_S2:
            raise ValueError(
                f"{path}: field 'ang_acc' peaks at {a_peak:g} rad/s^2 (> {MAX_ANG_ACC_RAD_S2:g}); "
                "is it in deg/s^2? Convert to rad/s^2."
            )
        acc = fields["ang_acc"]
    else:
        acc = np.gradient(fields["ang_vel"], t, axis=0)  # as _resample.derive_ang_acc
    return Impact(t, fields["ang_vel"], acc, fields.get("lin_acc_CG"), name=name)


def _mat_text(x) -> str | None:
    """A MATLAB char array / string field as text, or None."""
    x = np.asarray(x)
    if x.dtype.kind in "US" and x.size >= 1:
        return "".join(str(v) for v in x.ravel()).strip() or None
    return None


def _load_mat(path: Path, units) -> list[Impact]:
    import scipy.io

    try:
        mat = scipy.io.loadmat(str(path), squeeze_me=False, struct_as_record=True)
    except NotImplementedError as err:  # MATLAB v7.3 (HDF5)
        raise ValueError(f"{path}: MATLAB v7.3 (HDF5) files are not supported; save with -v7") from err
    except Exception as err:  # scipy raises ValueError, TypeError, IndexError, ... on a damaged file
        raise ValueError(
            f"{path}: not a readable MAT file ({type(err).__name__}: {err}); expected a MATLAB v5/v7 "
            "file holding a struct array 'impact'"
        ) from err
    if "impact" not in mat:
        keys = sorted(k for k in mat if not k.startswith("__"))
        raise ValueError(f"{path}: no variable 'impact' (found {keys}); expected a struct array 'impact'")
    arr = mat["impact"]
    if arr.dtype.names is None:
        raise ValueError(f"{path}: variable 'impact' must be a struct array")
    names = set(arr.dtype.names)
    for field in ("t", "ang_vel"):
        if field not in names:
            raise ValueError(f"{path}: struct 'impact' lacks field '{field}' (has {sorted(names)})")
    if arr.size == 0:
        raise ValueError(f"{path}: struct array 'impact' is empty; expected at least one impact")
    out = []
    for i, rec in enumerate(arr.ravel()):
        get = lambda f: rec[f] if f in names and np.size(rec[f]) > 0 else None  # noqa: E731
        if get("t") is None or get("ang_vel") is None:
            raise ValueError(f"{path}: impact {i} has an empty field 't' or 'ang_vel'")
        label = _mat_text(rec["name"]) if "name" in names else None
        out.append(
            _build(
                f"{path} [impact {i}]",
                label or f"{path.stem}[{i}]",
                get("t"),
                get("ang_vel"),
                get("ang_acc"),
                get("lin_acc_CG"),
                units,
            )
        )
    return out


def _parse_column(path, raw: str) -> tuple[str, str | None]:
    """(canonical column name, unit named in the header or None) of one CSV header cell."""
    cell = raw.strip().strip('"').strip("'").strip()
    unit = None
    for open_, close in (("[", "]"), ("(", ")")):
        if cell.endswith(close) and open_ in cell:
            cell, unit = cell[: cell.rindex(open_)].strip(), cell[cell.rindex(open_) + 1 : -1]
            break
    key = cell.lower().replace(" ", "_").replace("-", "_")
    if key in _CSV_LOOKUP:
        return _CSV_LOOKUP[key], unit
    if unit is None:
        for name_field, suffixes in _UNIT_SUFFIXES.items():
            for suffix, u in suffixes:
                if key.endswith(suffix) and key[: -len(suffix)] in _CSV_LOOKUP:
                    name = _CSV_LOOKUP[key[: -len(suffix)]]
                    if _CSV_FIELD[name[0]] == name_field:
                        return name, u
    raise ValueError(
        f"{path}: unknown column {raw.strip()!r}; expected t, then wx, wy, wz (or ang_vel_x, omega_x, ...), "
        "optionally ax, ay, az (ang_acc_x, alpha_x, ...) and lx, ly, lz (lin_acc_x, ...), "
        "with an optional unit as in 'ang_vel_x [deg/s]'"
    )


def _load_csv(path: Path, units) -> Impact:
    try:
        with open(path, encoding="utf-8-sig") as f:
            header = f.readline()
            has_rows = any(line.strip() for line in f)
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not a text CSV file ({err})") from err
    if not header.strip():
        raise ValueError(f"{path}: empty file; expected a header line (t, wx, wy, wz, ...) and data rows")
    delim = ";" if header.count(";") > header.count(",") else ","
    cells = [c for c in header.rstrip("\n").split(delim)]
    try:
        float(cells[0])
    except ValueError:
        pass
    else:
        raise ValueError(f"{path}: missing header line (need columns t, wx, wy, wz[, ax, ay, az])")
    parsed = [_parse_column(path, c) for c in cells]
    cols = [name for name, _ in parsed]
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise ValueError(f"{path}: columns {dup} appear more than once (aliases of the same quantity?)")
    groups = {
        f: [f"{p}{c}" for c in "xyz"] for p, f in (("w", "ang_vel"), ("a", "ang_acc"), ("l", "lin_acc_CG"))
    }
    for field, names in (("t", ["t"]), ("ang_vel", groups["ang_vel"])):
        if not set(names) <= set(cols):
            raise ValueError(f"{path}: need columns {', '.join(names)} ('{field}'), got {', '.join(cols)}")
    for field, names in groups.items():
        present = [n for n in names if n in cols]
        if present and len(present) != 3:
            raise ValueError(f"{path}: '{field}' needs all three columns {', '.join(names)}, got {present}")
    file_units = dict(units or {})
    for (name, unit), raw in zip(parsed, cells, strict=True):
        if unit is None:
            continue
        field = _CSV_FIELD[name[0]]
        unit_factor(field, unit, f"{path}: column {raw.strip()!r}")
        prev = file_units.get(f"__csv_{field}")
        if prev is not None and _norm_unit(prev) != _norm_unit(unit):
            raise ValueError(f"{path}: the columns of '{field}' name different units ({prev}, {unit})")
        file_units[f"__csv_{field}"] = unit
    for field in UNITS:  # a unit named in the header wins over the one passed in
        if f"__csv_{field}" in file_units:
            file_units[field] = file_units.pop(f"__csv_{field}")
    if not has_rows:
        raise ValueError(f"{path}: no data rows after the header; expected one row per sample")
    try:
        table = np.loadtxt(path, delimiter=delim, skiprows=1, ndmin=2)
    except ValueError as err:
        raise ValueError(f"{path}: could not parse numbers: {err}") from err
    if table.size == 0:
        raise ValueError(f"{path}: no data rows after the header; expected one row per sample")
    if table.shape[1] != len(cols):
        raise ValueError(f"{path}: header has {len(cols)} columns, data rows have {table.shape[1]}")
    col = {name: table[:, i] for i, name in enumerate(cols)}
    stack = lambda names: np.column_stack([col[n] for n in names]) if names[0] in col else None  # noqa: E731
    return _build(
        path,
        path.stem,
        col["t"],
        stack(groups["ang_vel"]),
        stack(groups["ang_acc"]),
        stack(groups["lin_acc_CG"]),
        file_units,
    )


def _load_npz(path: Path, units) -> Impact:
    import zipfile

    bad = (OSError, ValueError, EOFError, zipfile.BadZipFile)
    expected = "expected an NPZ archive with arrays t, ang_vel[, ang_acc]"
    with open(path, "rb") as fh:  # our handle: np.load leaves its own open when the zip is damaged
        try:
            data = np.load(fh, allow_pickle=False)
        except bad as err:
            raise ValueError(
                f"{path}: not a readable NPZ file ({type(err).__name__}: {err}); {expected}"
            ) from err
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError(f"{path}: holds a single array; {expected}")
        with data:
            keys = set(data.files)
            for field in ("t", "ang_vel"):
                if field not in keys:
                    raise ValueError(f"{path}: missing array '{field}' (has {sorted(keys)})")
            try:
                arrays = {f: data[f] for f in ("t", "ang_vel", "ang_acc", "lin_acc_CG") if f in keys}
            except bad as err:
                raise ValueError(f"{path}: damaged NPZ archive ({type(err).__name__}: {err})") from err
    get = arrays.get
    return _build(path, path.stem, get("t"), get("ang_vel"), get("ang_acc"), get("lin_acc_CG"), units)


SUFFIXES = (".mat", ".csv", ".npz")


def load_impacts(path: str | Path, *, units: dict[str, str] | None = None) -> list[Impact]:
    """Read all impacts in a file (several for MAT, one for CSV/NPZ).

    Args:
        path: a `.mat`, `.csv` or `.npz` file.
        units: unit of each field the file does not name itself, by field ("t": "s" | "ms" | "us",
            "ang_vel": "rad/s" | "deg/s" | "rpm", "ang_acc": "rad/s2" | "krad/s2" | "deg/s2",
            "lin_acc_CG": "m/s2" | "g"); None: SI. A unit in a CSV header wins.

    Returns:
        A list of `Impact` (float64 on the host when x64 is on, else float32), SI units.

    Raises:
        ValueError: unknown suffix, a damaged or empty file, missing field, wrong shape/columns,
            NaN, unsorted time, unknown units, or values suggesting deg/s or ms.
        FileNotFoundError: `path` does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; expected a .mat, .csv or .npz file (or use load_impact_set)")
    units = _check_units(units, str(path))
    suffix = path.suffix.lower()
    if suffix == ".mat":
        return _load_mat(path, units)
    if suffix == ".csv":
        return [_load_csv(path, units)]
    if suffix == ".npz":
        return [_load_npz(path, units)]
    raise ValueError(f"{path}: unknown suffix '{path.suffix}' (need .mat, .csv or .npz)")


def load_impact(path: str | Path, *, units: dict[str, str] | None = None) -> Impact:
    """Read one impact; for a MAT file holding several, use `load_impacts` or `load_impact_set`.

    Raises:
        ValueError: as `load_impacts`, or when the file holds more than one impact.
    """
    impacts = load_impacts(path, units=units)
    if len(impacts) != 1:
        raise ValueError(
            f"{path}: holds {len(impacts)} impacts; pick one with load_impacts(path)[i], or read them all "
            "with load_impact_set (axojax predict --impacts)"
        )
    return impacts[0]


def impact_files(source: str | Path) -> list[Path]:
    """The impact files of `source`: one file, every .mat/.csv/.npz file of a folder, or a glob
    pattern ("kin/*.csv"), sorted by name.

    Raises:
        FileNotFoundError: a path that does not exist, or a pattern/folder that matches no impact file.
    """
    import glob

    text = str(source)
    path = Path(text)
    if any(ch in text for ch in "*?["):
        files = sorted(Path(p) for p in glob.glob(text) if Path(p).is_file())
        if not files:
            raise FileNotFoundError(f"{text}: the pattern matches no file")
        return files
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
        if not files:
            raise FileNotFoundError(f"{path}: folder holds no .mat, .csv or .npz file")
        return files
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    return [path]


def load_impact_set(source: str | Path, *, units: dict[str, str] | None = None) -> dict[str, Impact]:
    """Every impact of a file, folder or glob pattern (`impact_files`), by name, in file order.

    Names: the file stem for CSV/NPZ, `stem[i]` for the i-th impact of a MAT file (or its `name`
    field when the struct has one).

    Raises:
        ValueError: as `load_impacts`, or two impacts with the same name.
        FileNotFoundError: as `impact_files`.
    """
    out: dict[str, Impact] = {}
    for path in impact_files(source):
        for imp in load_impacts(path, units=units):
            if imp.name in out:
                raise ValueError(
                    f"{path}: impact name {imp.name!r} appears twice in {source}; rename one file"
                )
            out[imp.name] = imp
    return out
