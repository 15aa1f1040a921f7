"""Exchange with an external axon simulator: selected profiles out (NPZ, CSV, LS-DYNA keyword), the
four outputs back in (CSV, NPZ), checked at the edge.

Conventions (all formats):
    id       row index of the profile in the exported selection, 0 .. N-1 (results come back keyed
             by it; in keyword files LCID = first_lcid + id)
    ids      origin of a profile, (impact index, voxel index); -1 where unknown
    time     seconds [s] in NPZ and CSV; in keyword files ms by default (`time_unit`)
    strain   fiber strain as a fraction [-] (0.05 = 5 %), never percent

Profile files:
    NPZ  t_s (T,) float64 [s], strain (N, T) [-], ids (N, 2) int64
    CSV  long table, one row per (profile, sample), rows ordered by id then time, header
         ``id,impact,voxel,t_s,strain``; values written with 17 significant digits (exact
         round trip)
    K    LS-DYNA keyword: one ``*DEFINE_CURVE`` per profile, card 1 (LCID, SIDR, SFA, SFO, OFFA,
         OFFO, DATTYP, LCINT) in 10-character fields, then one point per line, abscissa (time)
         and ordinate (strain) in two 20-character fields (``%20.12E``, 13 significant digits);
         a ``$ axojax id=.. impact=.. voxel=..`` comment line before each curve

Result files (from the external simulator):
    CSV  header with ``id`` and the four output names (any order, extra columns ignored), one row
         per profile
    NPZ  arrays ``id`` (N,) and one (N,) array per output name
    Strain outputs are fractions (|x| <= 1), failure outputs percentages in [0, 100].
"""

from __future__ import annotations

import io
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
from jaxtyping import ArrayLike, Float, Int

from .. import __version__
from .._units import MAX_PLAUSIBLE_STRAIN, MS_TO_S, S_TO_MS
from ..axon import OUTPUT_NAMES, validate_profile
from ._result import check_ids
from .store import _atomic_savez, _atomic_write_bytes

PROFILE_CSV_COLUMNS = ("id", "impact", "voxel", "t_s", "strain")
RESULT_ID_COLUMN = "id"
STRAIN_OUTPUTS = ("peak_mt_strain", "peak_axolemma_strain")
PERCENT_OUTPUTS = ("tau_failure_pct", "nf_failure_pct")
TimeUnit = Literal["s", "ms"]
_TIME_FACTOR = {"s": 1.0, "ms": S_TO_MS}  # written value = t_s * factor
_LSDYNA_ID_COMMENT = re.compile(r"^\$\s*axojax\s+id=(-?\d+)\s+impact=(-?\d+)\s+voxel=(-?\d+)")


class ProfileSet(NamedTuple):
    """Profiles read back from an export file."""

    t_s: Float[np.ndarray, " time"]  # [s]
    strain: Float[np.ndarray, "n time"]  # fiber strain [-], fractions
    ids: Int[np.ndarray, "n 2"]  # (impact index, voxel index); -1 unknown


class ImportedResults(NamedTuple):
    """Outputs of an external simulator, sorted by profile id."""

    ids: Int[np.ndarray, " n"]  # row index in the exported selection
    outputs: Float[np.ndarray, "n 4"]  # `OUTPUT_NAMES` order: fractions [-], then percent


class LsDynaCurve(NamedTuple):
    """One ``*DEFINE_CURVE`` as written in the file (before SFA/SFO/OFFA/OFFO are applied).

    LS-DYNA evaluates abscissa SFA * (a + OFFA) and ordinate SFO * (o + OFFO).
    """

    lcid: int
    sfa: float
    sfo: float
    offa: float
    offo: float
    abscissa: Float[np.ndarray, " points"]
    ordinate: Float[np.ndarray, " points"]
    ids: tuple[int, int, int] | None  # (id, impact, voxel) from the axojax comment, if any


# --- shared checks
# ---------------------------------------------------------------------------------------------


def _check_profiles(t_s, strain, ids, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.asarray(t_s, np.float64)
    s = np.asarray(strain, np.float64)
    if s.ndim != 2:
        raise ValueError(f"{where}: strain must have shape (N, T), got {s.shape}")
    try:
        validate_profile(t, s, name="strain")
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    n = s.shape[0]
    return t, s, check_ids(ids, n, where=f"{where}: ids")


def _as_int_column(values: np.ndarray, path, column: str) -> np.ndarray:
    if not np.all(values == np.round(values)):
        row = int(np.flatnonzero(values != np.round(values))[0])
        raise ValueError(f"{path}: column {column!r} must hold integers, row {row} has {values[row]!r}")
    return values.astype(np.int64)


def _check_finite(values: np.ndarray, path, column: str, row_offset: int = 0, what: str = "row") -> None:
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ValueError(
            f"{path}: column {column!r} has {bad.size} NaN/inf value(s), first at {what} "
            f"{int(bad[0]) + row_offset}"
        )


def _read_csv_table(path: Path, required: Sequence[str]) -> dict[str, np.ndarray]:
    """A numeric CSV with one header line -> column name -> float64 values."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ValueError(f"{path}: empty file, expected a header line with columns {list(required)}")
    header = [c.strip().strip('"').strip() for c in lines[0].split(",")]
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise ValueError(f"{path}: duplicate column(s) {dupes}")
    for col in required:
        if col not in header:
            raise ValueError(f"{path}: missing column {col!r}; found columns {header}")
    body = [ln for ln in lines[1:] if ln.strip()]
    if not body:
        raise ValueError(f"{path}: no data rows below the header")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            table = np.loadtxt(io.StringIO("\n".join(body)), delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError as e:
        raise ValueError(f"{path}: cannot parse numeric CSV ({e})") from None
    if table.shape[1] != len(header):
        raise ValueError(f"{path}: {table.shape[1]} values per row, but {len(header)} header columns")
    return {name: table[:, j] for j, name in enumerate(header)}


# --- profiles: NPZ
# ---------------------------------------------------------------------------------------------


def write_profiles_npz(
    path: str | os.PathLike,
    t_s: Float[ArrayLike, " time"],
    strain: Float[ArrayLike, "n time"],
    ids: Int[ArrayLike, "n 2"] | None = None,
) -> Path:
    """Write profiles as NPZ: t_s (T,) [s], strain (N, T) [-], ids (N, 2) (-1 where unknown).

    Raises:
        ValueError: bad shapes, NaN, strain in percent, time not increasing.
    """
    path = Path(path)
    t, s, id_arr = _check_profiles(t_s, strain, ids, str(path))
    _atomic_savez(path, t_s=t, strain=s, ids=id_arr)
    return path


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """All arrays of an NPZ file (no pickles), with errors naming the file."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except (ValueError, OSError) as e:
        raise ValueError(f"{path}: not a readable NPZ file ({e})") from None


def read_profiles_npz(path: str | os.PathLike) -> ProfileSet:
    """Read profiles written by `write_profiles_npz` (or any NPZ with t_s, strain, optional ids).

    Raises:
        ValueError: naming the file and array: missing array, bad shape, NaN, strain in percent.
    """
    path = Path(path)
    data = _read_npz(path)
    for key in ("t_s", "strain"):
        if key not in data:
            raise ValueError(f"{path}: missing array {key!r}; found {sorted(data)}")
    t, s, id_arr = _check_profiles(data["t_s"], data["strain"], data.get("ids"), str(path))
    return ProfileSet(t, s, id_arr)


# --- profiles: CSV (long table)
# ---------------------------------------------------------------------------------------------


def write_profiles_csv(
    path: str | os.PathLike,
    t_s: Float[ArrayLike, " time"],
    strain: Float[ArrayLike, "n time"],
    ids: Int[ArrayLike, "n 2"] | None = None,
) -> Path:
    """Write profiles as a long CSV table, one row per (profile, sample):
    ``id,impact,voxel,t_s,strain`` (id = row index 0..N-1, time [s], strain [-] as a fraction).

    Raises:
        ValueError: bad shapes, NaN, strain in percent, time not increasing.
    """
    path = Path(path)
    t, s, id_arr = _check_profiles(t_s, strain, ids, str(path))
    n, nt = s.shape
    row = np.repeat(np.arange(n), nt)
    buf = io.StringIO()
    buf.write(",".join(PROFILE_CSV_COLUMNS) + "\n")
    for i, imp, vox, ti, si in zip(
        row.tolist(),
        id_arr[row, 0].tolist(),
        id_arr[row, 1].tolist(),
        np.tile(t, n).tolist(),
        s.reshape(-1).tolist(),
        strict=True,
    ):
        buf.write(f"{i},{imp},{vox},{ti!r},{si!r}\n")
    data = buf.getvalue().encode("utf-8")
    _atomic_write_bytes(path, lambda f: f.write(data))
    return path


def read_profiles_csv(path: str | os.PathLike) -> ProfileSet:
    """Read a long CSV table of profiles (`write_profiles_csv` layout; impact and voxel columns
    optional, rows in any order).

    Raises:
        ValueError: naming the file and column: missing column, NaN, non-integer or non-contiguous
            ids, profiles with different sample counts or time grids, strain in percent.
    """
    path = Path(path)
    cols = _read_csv_table(path, ("id", "t_s", "strain"))
    for name, values in cols.items():
        _check_finite(values, path, name, row_offset=2, what="line")
    pid = _as_int_column(cols["id"], path, "id")
    t_all, s_all = cols["t_s"], cols["strain"]
    order = np.lexsort((t_all, pid))
    pid, t_all, s_all = pid[order], t_all[order], s_all[order]
    uniq, counts = np.unique(pid, return_counts=True)
    n = uniq.size
    if not np.array_equal(uniq, np.arange(n)):
        raise ValueError(
            f"{path}: column 'id' must number the profiles 0..N-1, got ids {uniq[:10].tolist()}..."
        )
    if np.any(counts != counts[0]):
        j = int(np.flatnonzero(counts != counts[0])[0])
        raise ValueError(
            f"{path}: profile id {j} has {counts[j]} samples, profile 0 has {counts[0]}; all profiles "
            "must share one time grid"
        )
    nt = int(counts[0])
    t_grid = t_all.reshape(n, nt)
    if not np.allclose(t_grid, t_grid[:1], rtol=0.0, atol=1e-12):
        j = int(np.flatnonzero(~np.all(np.isclose(t_grid, t_grid[:1], rtol=0.0, atol=1e-12), axis=1))[0])
        raise ValueError(f"{path}: column 't_s' of profile id {j} differs from that of profile 0")
    id_arr = np.full((n, 2), -1, np.int64)
    for k, name in enumerate(("impact", "voxel")):
        if name in cols:
            v = _as_int_column(cols[name][order], path, name).reshape(n, nt)
            if np.any(v != v[:, :1]):
                j = int(np.flatnonzero(np.any(v != v[:, :1], axis=1))[0])
                raise ValueError(f"{path}: column {name!r} changes within profile id {j}")
            id_arr[:, k] = v[:, 0]
    t, s, id_arr = _check_profiles(t_grid[0], s_all.reshape(n, nt), id_arr, str(path))
    return ProfileSet(t, s, id_arr)


# --- profiles: LS-DYNA keyword
# ---------------------------------------------------------------------------------------------


def _f10(x: float) -> str:
    """A float in a 10-character field, exact when its shortest repr fits."""
    text = repr(float(x))
    if len(text) > 10:
        for digits in range(6, -1, -1):
            text = f"{float(x):.{digits}E}"
            if len(text) <= 10:
                break
    return text.rjust(10)


def _i10(i: int, name: str) -> str:
    text = str(int(i))
    if len(text) > 10:
        raise ValueError(f"{name} = {i} does not fit a 10-character field")
    return text.rjust(10)


def _f20(x: float) -> str:
    """A float in a 20-character field, 13 significant digits (``%20.12E``)."""
    x = float(x)
    if abs(x) < 1e-99:
        x = 0.0
    text = f"{x:20.12E}"
    if len(text) > 20:
        raise ValueError(f"value {x!r} does not fit a 20-character field")
    return text


def write_lsdyna_curves(
    path: str | os.PathLike,
    t_s: Float[ArrayLike, " time"],
    strain: Float[ArrayLike, "n time"],
    ids: Int[ArrayLike, "n 2"] | None = None,
    *,
    first_lcid: int = 1,
    time_unit: TimeUnit = "ms",
    sfa: float = 1.0,
    sfo: float = 1.0,
) -> Path:
    """Write one LS-DYNA ``*DEFINE_CURVE`` per profile (fixed-width fields).

    Card 1: LCID = first_lcid + id, SIDR 0, SFA, SFO, OFFA 0, OFFO 0, DATTYP 0, LCINT 0, each
    10 characters; then per sample one line with abscissa (time) and ordinate (fiber strain as a
    fraction [-]) in two 20-character fields.

    Args:
        path: the keyword file (``.k``).
        t_s: time grid [s], shape (T,).
        strain: fiber strain [-], shape (N, T).
        ids: (impact, voxel) of each profile, shape (N, 2); written in a comment before each curve.
        first_lcid: LCID of profile 0.
        time_unit: unit of the abscissa values written: "ms" (default; models in mm-ms-kg or
            mm-ms-g) or "s" (models in mm-s-t or m-s-kg).
        sfa: SFA written on card 1; LS-DYNA uses SFA * abscissa. E.g. time_unit="s", sfa=1000
            writes seconds for a model that runs in ms.
        sfo: SFO written on card 1 (LS-DYNA uses SFO * ordinate); 1 keeps strain a fraction.

    Raises:
        ValueError: bad profiles, unknown time unit, an LCID that does not fit its field.
    """
    path = Path(path)
    t, s, id_arr = _check_profiles(t_s, strain, ids, str(path))
    if time_unit not in _TIME_FACTOR:
        raise ValueError(f"time_unit: expected one of {sorted(_TIME_FACTOR)}, got {time_unit!r}")
    if first_lcid < 1:
        raise ValueError(f"first_lcid: LS-DYNA curve ids are positive, got {first_lcid}")
    n = s.shape[0]
    _i10(first_lcid + n - 1, "last LCID")
    abscissa = [_f20(a) for a in (t * _TIME_FACTOR[time_unit]).tolist()]
    card1_tail = f"{_f10(sfa)}{_f10(sfo)}{_f10(0.0)}{_f10(0.0)}{0:10d}{0:10d}"
    out = io.StringIO()
    out.write("*KEYWORD\n")
    out.write(f"$ axojax {__version__}: {n} fiber strain profiles, one *DEFINE_CURVE each\n")
    out.write(f"$ abscissa: time [{time_unit}] (x SFA); ordinate: fiber strain [-] as a fraction (x SFO)\n")
    for i in range(n):
        out.write(f"$ axojax id={i} impact={id_arr[i, 0]} voxel={id_arr[i, 1]}\n")
        out.write("*DEFINE_CURVE\n")
        out.write("$#    lcid      sidr       sfa       sfo      offa      offo    dattyp     lcint\n")
        out.write(f"{_i10(first_lcid + i, 'LCID')}{0:10d}{card1_tail}\n")
        out.write("$#                a1                  o1\n")
        for a, o in zip(abscissa, s[i].tolist(), strict=True):
            out.write(f"{a}{_f20(o)}\n")
    out.write("*END\n")
    data = out.getvalue().encode("ascii")
    _atomic_write_bytes(path, lambda f: f.write(data))
    return path


def _card_fields(line: str, widths: Sequence[int]) -> list[str]:
    if "," in line:  # LS-DYNA free format
        fields = [f.strip() for f in line.split(",")]
        return (fields + [""] * len(widths))[: len(widths)]
    out, pos = [], 0
    for w in widths:
        out.append(line[pos : pos + w].strip())
        pos += w
    return out


def _parse_number(text: str, kind, default, path, lineno: int, name: str):
    if not text:
        return default
    try:
        return kind(float(text)) if kind is int else kind(text)
    except ValueError:
        raise ValueError(f"{path}:{lineno}: cannot read {name} from {text!r}") from None


def read_lsdyna_curves(path: str | os.PathLike) -> list[LsDynaCurve]:
    """Parse every ``*DEFINE_CURVE`` (and ``*DEFINE_CURVE_TITLE``) of a keyword file.

    Fixed-width fields (card 1: 10 characters each; points: 20 + 20) or comma-separated free
    format. Blank or zero SFA/SFO read as 1 (LS-DYNA's default).

    Raises:
        ValueError: naming the file and line of a field that is not a number, or a curve without
            points.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="ascii", errors="replace").splitlines()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    curves: list[LsDynaCurve] = []
    pending_ids: tuple[int, int, int] | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$"):
            m = _LSDYNA_ID_COMMENT.match(line)
            if m:
                pending_ids = (int(m[1]), int(m[2]), int(m[3]))
            i += 1
            continue
        keyword = line[1:].split()[0].upper() if line.startswith("*") and line[1:].split() else ""
        i += 1
        if keyword not in ("DEFINE_CURVE", "DEFINE_CURVE_TITLE"):
            continue
        curve_ids, pending_ids = pending_ids, None
        data: list[tuple[int, str]] = []  # (line number, text) of the cards of this keyword
        while i < len(lines) and not lines[i].startswith("*"):
            m = _LSDYNA_ID_COMMENT.match(lines[i])
            if m:  # the comment of the next curve
                pending_ids = (int(m[1]), int(m[2]), int(m[3]))
            elif not lines[i].startswith("$") and lines[i].strip():
                data.append((i + 1, lines[i]))
            i += 1
        if keyword == "DEFINE_CURVE_TITLE":
            data = data[1:]
        if not data:
            raise ValueError(f"{path}:{i}: *{keyword} without card 1")
        lineno, card = data[0]
        f = _card_fields(card, (10,) * 8)
        lcid = _parse_number(f[0], int, None, path, lineno, "LCID")
        if lcid is None:
            raise ValueError(f"{path}:{lineno}: *{keyword} card 1 has no LCID")
        sfa = _parse_number(f[2], float, 1.0, path, lineno, "SFA") or 1.0
        sfo = _parse_number(f[3], float, 1.0, path, lineno, "SFO") or 1.0
        offa = _parse_number(f[4], float, 0.0, path, lineno, "OFFA")
        offo = _parse_number(f[5], float, 0.0, path, lineno, "OFFO")
        points = data[1:]
        if not points:
            raise ValueError(f"{path}:{lineno}: curve LCID {lcid} has no points")
        a = np.empty(len(points))
        o = np.empty(len(points))
        for k, (ln, text) in enumerate(points):
            fa, fo = _card_fields(text, (20, 20))
            a[k] = _parse_number(fa, float, 0.0, path, ln, "abscissa")
            o[k] = _parse_number(fo, float, 0.0, path, ln, "ordinate")
        curves.append(LsDynaCurve(lcid, sfa, sfo, offa, offo, a, o, curve_ids))
    return curves


def read_lsdyna_profiles(path: str | os.PathLike, *, time_unit: TimeUnit = "ms") -> ProfileSet:
    """Read the curves of a keyword file back as profiles (in file order).

    Time t_s = SFA * (abscissa + OFFA) / (1000 if time_unit == "ms" else 1), strain =
    SFO * (ordinate + OFFO). Here `time_unit` is the unit of the scaled abscissa, i.e. the unit
    the LS-DYNA model runs in. Origin ids come from the ``$ axojax id=..`` comments (-1 if absent).

    Raises:
        ValueError: no curves, curves on different time grids, or bad profiles (naming the file).
    """
    path = Path(path)
    if time_unit not in _TIME_FACTOR:
        raise ValueError(f"time_unit: expected one of {sorted(_TIME_FACTOR)}, got {time_unit!r}")
    curves = read_lsdyna_curves(path)
    if not curves:
        raise ValueError(f"{path}: no *DEFINE_CURVE found")
    to_s = 1.0 if time_unit == "s" else MS_TO_S
    t0 = curves[0].sfa * (curves[0].abscissa + curves[0].offa) * to_s
    strain = np.empty((len(curves), t0.size))
    ids = np.full((len(curves), 2), -1, np.int64)
    for k, c in enumerate(curves):
        t = c.sfa * (c.abscissa + c.offa) * to_s
        if t.shape != t0.shape or not np.allclose(t, t0, rtol=1e-12, atol=0.0):
            raise ValueError(
                f"{path}: curve LCID {c.lcid} has another time grid than LCID {curves[0].lcid}; "
                "profiles must share one"
            )
        strain[k] = c.sfo * (c.ordinate + c.offo)
        if c.ids is not None:
            ids[k] = c.ids[1:]
    t, s, ids = _check_profiles(t0, strain, ids, str(path))
    return ProfileSet(t, s, ids)


# --- results
# ---------------------------------------------------------------------------------------------


def _result_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".npz"):
        raise ValueError(f"{path}: unknown results format {suffix!r}; use .csv or .npz")
    return suffix[1:]


def write_results(
    path: str | os.PathLike,
    outputs: Float[ArrayLike, "n 4"],
    ids: Int[ArrayLike, " n"] | None = None,
) -> Path:
    """Write the four outputs per profile as CSV (``id`` + output-name columns) or NPZ (one array
    per column), chosen by the suffix.

    Args:
        outputs: (N, 4) in `OUTPUT_NAMES` order: strains [-] as fractions, failures in percent.
        ids: profile ids (default 0..N-1).
    """
    path = Path(path)
    fmt = _result_format(path)
    out = np.asarray(outputs, np.float64)
    if out.ndim != 2 or out.shape[1] != len(OUTPUT_NAMES):
        raise ValueError(f"outputs: expected shape (N, {len(OUTPUT_NAMES)}), got {out.shape}")
    id_arr = np.arange(out.shape[0]) if ids is None else np.asarray(ids)
    if id_arr.shape != (out.shape[0],) or not np.issubdtype(id_arr.dtype, np.integer):
        raise ValueError(f"ids: expected {out.shape[0]} integer ids, got {id_arr.dtype} {id_arr.shape}")
    columns = {RESULT_ID_COLUMN: id_arr.astype(np.int64)}
    columns.update({name: out[:, j] for j, name in enumerate(OUTPUT_NAMES)})
    if fmt == "npz":
        _atomic_savez(path, **columns)
        return path
    buf = io.StringIO()
    buf.write(",".join(columns) + "\n")
    for i, row in zip(id_arr.tolist(), out.tolist(), strict=True):
        buf.write(f"{i}," + ",".join(repr(float(v)) for v in row) + "\n")
    data = buf.getvalue().encode("utf-8")
    _atomic_write_bytes(path, lambda f: f.write(data))
    return path


def read_results(path: str | os.PathLike, *, n_profiles: int | None = None) -> ImportedResults:
    """Read the four outputs of an external simulator from CSV or NPZ (by suffix).

    Args:
        path: results file with an ``id`` column and one column per name in `OUTPUT_NAMES`.
        n_profiles: the number of exported profiles; if given, the file must hold exactly one row
            per id 0..n_profiles-1.

    Returns:
        `ImportedResults`: ids (N,) and outputs (N, 4), sorted by id.

    Raises:
        ValueError: naming the file and column: missing column, NaN/inf, wrong row count,
            duplicate or unknown ids, a strain output above 1 in magnitude (given in percent?), a
            failure percentage outside 0-100.
    """
    path = Path(path)
    fmt = _result_format(path)
    required = (RESULT_ID_COLUMN, *OUTPUT_NAMES)
    if fmt == "csv":
        cols = _read_csv_table(path, required)
        offset, what = 2, "line"
    else:
        cols = _read_npz(path)
        for col in required:
            if col not in cols:
                raise ValueError(f"{path}: missing column {col!r}; found {sorted(cols)}")
        n_id = np.shape(cols[RESULT_ID_COLUMN])
        for col in required:
            if np.ndim(cols[col]) != 1 or np.shape(cols[col]) != n_id:
                raise ValueError(f"{path}: column {col!r} has shape {np.shape(cols[col])}, expected {n_id}")
        offset, what = 0, "row"
    values = {col: np.asarray(cols[col], np.float64) for col in required}
    for col in required:
        _check_finite(values[col], path, col, offset, what)
    n = values[RESULT_ID_COLUMN].size
    if n_profiles is not None and n != n_profiles:
        raise ValueError(f"{path}: has {n} rows, expected {n_profiles} (one per exported profile)")
    ids = _as_int_column(values[RESULT_ID_COLUMN], path, RESULT_ID_COLUMN)
    uniq, counts = np.unique(ids, return_counts=True)
    if np.any(counts > 1):
        raise ValueError(f"{path}: column 'id' repeats id {int(uniq[counts > 1][0])}")
    if n_profiles is not None and not np.array_equal(uniq, np.arange(n_profiles)):
        raise ValueError(f"{path}: column 'id' must hold 0..{n_profiles - 1}, got ids outside that range")
    for col in STRAIN_OUTPUTS:
        big = np.flatnonzero(np.abs(values[col]) > MAX_PLAUSIBLE_STRAIN)
        if big.size:
            r = int(big[0])
            raise ValueError(
                f"{path}: column {col!r} reaches {values[col][r]:g} ({what} {r + offset}); strain "
                "outputs must be fractions (0.05 = 5 %), this looks like a percentage"
            )
    for col in PERCENT_OUTPUTS:
        bad = np.flatnonzero((values[col] < 0.0) | (values[col] > 100.0))
        if bad.size:
            r = int(bad[0])
            raise ValueError(
                f"{path}: column {col!r} has {values[col][r]:g} ({what} {r + offset}); failure "
                "percentages must lie in 0-100"
            )
    order = np.argsort(ids, kind="stable")
    outputs = np.stack([values[name] for name in OUTPUT_NAMES], axis=-1)[order]
    return ImportedResults(ids[order], outputs)
