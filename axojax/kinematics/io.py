"""Reading measured head impacts: MAT (struct array `impact`), CSV (one impact per file), NPZ.

Expected contents (SCIENCE.md §4), head frame SAE J211 (x anterior, y right, z inferior):

- MAT: struct array `impact` with fields `t` [s], `ang_vel` (T x 3) [rad/s], `ang_acc` (T x 3)
  [rad/s^2], optional `lin_acc_CG` (T x 3) [m/s^2]. One file may hold several impacts.
- CSV: header `t, wx, wy, wz, ax, ay, az` (ω then α), or `t, wx, wy, wz` (α derived by central
  differences), optionally followed by `lx, ly, lz` (linear acceleration).
- NPZ: arrays `t`, `ang_vel`, optional `ang_acc`, optional `lin_acc_CG` (same units as MAT).

Every reader checks units for obvious slips (ω in deg/s, t in ms) and raises `ValueError` naming
the file and the field.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from axojax._units import MAX_PLAUSIBLE_DURATION_S
from axojax._validate import check_finite, check_time_grid
from axojax.kinematics._impact import Impact

__all__ = ["load_impact", "load_impacts", "MAX_ANG_VEL_RAD_S", "MAX_ANG_ACC_RAD_S2", "MAX_SPAN_S"]

#: Peak |ω| above this [rad/s] is taken for deg/s (severe sport impacts stay below ~60 rad/s).
MAX_ANG_VEL_RAD_S = 200.0
#: Peak |α| above this [rad/s^2] is taken for deg/s^2 (severe impacts stay below ~20 krad/s^2).
MAX_ANG_ACC_RAD_S2 = 1.0e5
#: A record spanning more than this [s] is taken for time in ms.
MAX_SPAN_S = MAX_PLAUSIBLE_DURATION_S

_CSV_COLUMNS = ("t", "wx", "wy", "wz", "ax", "ay", "az", "lx", "ly", "lz")


def _as_tx3(path, field: str, x, n_t: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    x = np.squeeze(x)
    if x.ndim == 2 and x.shape == (3, n_t) and n_t != 3:
        x = x.T
    if x.shape != (n_t, 3):
        raise ValueError(f"{path}: field '{field}' must have shape ({n_t}, 3), got {x.shape}")
    return x


def _build(path, name: str, t, ang_vel, ang_acc=None, lin_acc=None) -> Impact:
    t = check_time_grid(np.asarray(t, dtype=np.float64).ravel(), where=str(path), field="'t'")
    fields = {"ang_vel": _as_tx3(path, "ang_vel", ang_vel, t.size)}
    if ang_acc is not None:
        fields["ang_acc"] = _as_tx3(path, "ang_acc", ang_acc, t.size)
    if lin_acc is not None:
        fields["lin_acc_CG"] = _as_tx3(path, "lin_acc_CG", lin_acc, t.size)
    for field, x in fields.items():
        check_finite(x, where=str(path), field=f"'{field}'")
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


def _load_mat(path: Path) -> list[Impact]:
    import scipy.io

    try:
        mat = scipy.io.loadmat(str(path), squeeze_me=False, struct_as_record=True)
    except NotImplementedError as err:  # MATLAB v7.3 (HDF5)
        raise ValueError(f"{path}: MATLAB v7.3 (HDF5) files are not supported; save with -v7") from err
    if "impact" not in mat:
        keys = sorted(k for k in mat if not k.startswith("__"))
        raise ValueError(f"{path}: no variable 'impact' (found {keys})")
    arr = mat["impact"]
    if arr.dtype.names is None:
        raise ValueError(f"{path}: variable 'impact' must be a struct array")
    names = set(arr.dtype.names)
    for field in ("t", "ang_vel"):
        if field not in names:
            raise ValueError(f"{path}: struct 'impact' lacks field '{field}' (has {sorted(names)})")
    out = []
    for i, rec in enumerate(arr.ravel()):
        get = lambda f: rec[f] if f in names and np.size(rec[f]) > 0 else None  # noqa: E731
        out.append(
            _build(
                f"{path} [impact {i}]",
                f"{path.stem}[{i}]",
                get("t"),
                get("ang_vel"),
                get("ang_acc"),
                get("lin_acc_CG"),
            )
        )
    return out


def _load_csv(path: Path) -> Impact:
    with open(path) as f:
        header = f.readline()
    cols = [c.strip().lower() for c in header.replace(";", ",").split(",")]
    if cols and cols[0] not in _CSV_COLUMNS:
        try:
            float(cols[0])
        except ValueError:
            pass
        else:
            raise ValueError(f"{path}: missing header line (need columns {', '.join(_CSV_COLUMNS[:7])})")
    allowed = {4: _CSV_COLUMNS[:4], 7: _CSV_COLUMNS[:7], 10: _CSV_COLUMNS}
    if len(cols) not in allowed:
        raise ValueError(
            f"{path}: need 4 (t, wx, wy, wz), 7 (+ ax, ay, az) or 10 (+ lx, ly, lz) columns, "
            f"got {len(cols)}: {cols}"
        )
    if tuple(cols) != allowed[len(cols)]:
        raise ValueError(f"{path}: header must be {', '.join(allowed[len(cols)])}, got {', '.join(cols)}")
    try:
        table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    except ValueError as err:
        raise ValueError(f"{path}: could not parse numbers: {err}") from err
    if table.shape[1] != len(cols):
        raise ValueError(f"{path}: header has {len(cols)} columns, data rows have {table.shape[1]}")
    acc = table[:, 4:7] if len(cols) >= 7 else None
    lin = table[:, 7:10] if len(cols) == 10 else None
    return _build(path, path.stem, table[:, 0], table[:, 1:4], acc, lin)


def _load_npz(path: Path) -> Impact:
    with np.load(path) as data:
        keys = set(data.files)
        for field in ("t", "ang_vel"):
            if field not in keys:
                raise ValueError(f"{path}: missing array '{field}' (has {sorted(keys)})")
        get = lambda f: data[f] if f in keys else None  # noqa: E731
        return _build(path, path.stem, get("t"), get("ang_vel"), get("ang_acc"), get("lin_acc_CG"))


def load_impacts(path: str | Path) -> list[Impact]:
    """Read all impacts in a file (several for MAT, one for CSV/NPZ).

    Args:
        path: a `.mat`, `.csv` or `.npz` file.

    Returns:
        A list of `Impact` (float64 on the host when x64 is on, else float32).

    Raises:
        ValueError: unknown suffix, missing field, wrong shape/columns, NaN, unsorted time, or
            values suggesting deg/s or ms.
        FileNotFoundError: `path` does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".mat":
        return _load_mat(path)
    if suffix == ".csv":
        return [_load_csv(path)]
    if suffix == ".npz":
        return [_load_npz(path)]
    raise ValueError(f"{path}: unknown suffix '{path.suffix}' (need .mat, .csv or .npz)")


def load_impact(path: str | Path) -> Impact:
    """Read one impact; for a MAT file holding several, use `load_impacts`.

    Raises:
        ValueError: as `load_impacts`, or when the file holds more than one impact.
    """
    impacts = load_impacts(path)
    if len(impacts) != 1:
        raise ValueError(f"{path}: holds {len(impacts)} impacts; use load_impacts")
    return impacts[0]
