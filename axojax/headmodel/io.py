"""Importing external strain tensor histories (e.g. from a finite-element head model).

Formats:

- NIfTI (`.nii`, `.nii.gz`): a 5-D image (x, y, z, t, 6), components in the order
  xx, yy, zz, xy, yz, xz (tensor shear components E_ij, not engineering γ = 2 E_ij). The time step
  comes from the header (`pixdim[4]` with its unit) or from `t_s`.
- NPZ: `coords_mm` (V, 3), `t_s` (T,), `strain` (V, T, 6) in the order above or (V, T, 3, 3).
- LS-DYNA d3plot (`load_d3plot_strain`, optional extra `axojax[d3plot]`, lasso-python): solid
  element strain `element_solid_strain` (n_states, n_solids, n_layers, 6), one point per solid
  element at its centroid.

Strain is Green–Lagrange [-] as a fraction (0.05 = 5 %); coordinates in the image's world space,
normally MNI RAS [mm].
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
from jaxtyping import Float

from axojax._units import MS_TO_S
from axojax._validate import check_strain_values, check_time_grid

__all__ = [
    "ExternalStrain",
    "load_strain",
    "load_d3plot_strain",
    "voigt_to_tensor",
    "tensor_to_voigt",
]

#: Component order of the 6-vector form: xx, yy, zz, xy, yz, xz.
VOIGT_ORDER = ((0, 0), (1, 1), (2, 2), (0, 1), (1, 2), (0, 2))

#: Longest plausible d3plot record [s]; longer means the time unit is wrong (impacts last
#: tens to hundreds of ms).
MAX_D3PLOT_DURATION_S = 10.0


class ExternalStrain(NamedTuple):
    """Strain histories read from a file.

    Attributes:
        coords_mm: point coordinates (V, 3), world space [mm].
        t_s: sample times (T,) [s].
        strain: Green–Lagrange tensors (V, T, 3, 3) [-], symmetric.
        affine: voxel-to-world affine (4, 4) [mm] (identity for point clouds).
        grid_shape: (x, y, z) of a NIfTI grid (points in C order), or None for point clouds.
    """

    coords_mm: Float[np.ndarray, "vox 3"]
    t_s: Float[np.ndarray, " time"]
    strain: Float[np.ndarray, "vox time 3 3"]
    affine: Float[np.ndarray, "4 4"]
    grid_shape: tuple[int, int, int] | None


def voigt_to_tensor(v: Float[np.ndarray, "*batch 6"]) -> Float[np.ndarray, "*batch 3 3"]:
    """(xx, yy, zz, xy, yz, xz) -> symmetric 3 x 3 tensor."""
    out = np.zeros(v.shape[:-1] + (3, 3), dtype=v.dtype)
    for k, (i, j) in enumerate(VOIGT_ORDER):
        out[..., i, j] = v[..., k]
        out[..., j, i] = v[..., k]
    return out


def tensor_to_voigt(e: Float[np.ndarray, "*batch 3 3"]) -> Float[np.ndarray, "*batch 6"]:
    """Symmetric 3 x 3 tensor -> (xx, yy, zz, xy, yz, xz)."""
    return np.stack([e[..., i, j] for i, j in VOIGT_ORDER], axis=-1)


def _check_strain(path, field: str, strain: np.ndarray) -> np.ndarray:
    check_strain_values(strain, where=str(path), field=f"'{field}'")  # the 6-vector holds the tensor's values
    if strain.shape[-1] == 6 and strain.shape[-2:] != (3, 3):
        strain = voigt_to_tensor(strain)
    elif strain.shape[-2:] == (3, 3):
        asym = np.max(np.abs(strain - np.swapaxes(strain, -1, -2)), initial=0.0)
        if asym > 1e-6 * max(1.0, np.max(np.abs(strain), initial=0.0)):
            raise ValueError(f"{path}: field '{field}' is not symmetric (max |E - Eᵀ| = {asym:g})")
    else:
        raise ValueError(
            f"{path}: field '{field}' must end in 6 (xx, yy, zz, xy, yz, xz) or (3, 3), "
            f"got shape {strain.shape}"
        )
    return strain


def _check_time(path, t_s: np.ndarray, n_t: int) -> np.ndarray:
    t_s = np.asarray(t_s, dtype=np.float64).ravel()
    if t_s.shape[0] != n_t:
        raise ValueError(f"{path}: field 't_s' has {t_s.shape[0]} samples, strain has {n_t}")
    return check_time_grid(t_s, where=str(path), field="'t_s'", min_samples=1, max_duration_s=None)


def _unreadable(path: Path, kind: str, expected: str, err: Exception) -> ValueError:
    return ValueError(
        f"{path}: not a readable {kind} file ({type(err).__name__}: {err}); expected {expected}"
    )


_NPZ_EXPECTED = "an NPZ archive with arrays coords_mm (V, 3), t_s (T,), strain (V, T, 6)"


def _load_npz(path: Path) -> ExternalStrain:
    import zipfile

    bad = (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError)
    with open(path, "rb") as fh:  # our handle: np.load leaves its own open when the zip is damaged
        try:
            data = np.load(fh, allow_pickle=False)
        except bad as err:
            raise _unreadable(path, "NPZ", _NPZ_EXPECTED, err) from err
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError(f"{path}: holds a single array; expected {_NPZ_EXPECTED}")
        with data:
            keys = set(data.files)
            for field in ("coords_mm", "t_s", "strain"):
                if field not in keys:
                    raise ValueError(f"{path}: missing array '{field}' (has {sorted(keys)})")
            try:
                coords = np.asarray(data["coords_mm"], dtype=np.float64)
                strain = np.asarray(data["strain"], dtype=np.float64)
                t_s = data["t_s"]
            except bad as err:
                raise _unreadable(path, "NPZ", _NPZ_EXPECTED, err) from err
    if coords.ndim != 2 or coords.shape[1] != 3:
        raise ValueError(f"{path}: field 'coords_mm' must have shape (V, 3), got {coords.shape}")
    if strain.ndim not in (3, 4) or strain.shape[0] != coords.shape[0]:
        raise ValueError(
            f"{path}: field 'strain' must have shape ({coords.shape[0]}, T, 6) or "
            f"({coords.shape[0]}, T, 3, 3), got {strain.shape}"
        )
    if not np.all(np.isfinite(coords)):
        raise ValueError(f"{path}: field 'coords_mm' contains NaN or inf")
    strain = _check_strain(path, "strain", strain)
    t_s = _check_time(path, t_s, strain.shape[1])
    return ExternalStrain(coords, t_s, strain, np.eye(4), None)


def _load_nifti(path: Path, t_s) -> ExternalStrain:
    import nibabel as nib

    expected = "a 5-D NIfTI (x, y, z, t, 6) of strain components"
    try:
        img = nib.load(str(path))
        data = np.asarray(img.dataobj, dtype=np.float64)
    except Exception as err:  # noqa: BLE001 - nibabel / gzip / zlib errors on a damaged file
        raise _unreadable(path, "NIfTI", expected, err) from err
    if data.ndim != 5 or data.shape[-1] != 6:
        raise ValueError(
            f"{path}: image must be 5-D (x, y, z, t, 6) with components xx, yy, zz, xy, yz, xz, "
            f"got shape {data.shape}"
        )
    nx, ny, nz, n_t, _ = data.shape
    strain = _check_strain(path, "image", data.reshape(nx * ny * nz, n_t, 6))
    if t_s is None:
        zooms = img.header.get_zooms()
        unit = img.header.get_xyzt_units()[1]
        scale = {"sec": 1.0, "msec": MS_TO_S, "usec": 1.0e-6}.get(unit)
        if scale is None or zooms[3] <= 0:
            raise ValueError(f"{path}: header time unit is '{unit}' (step {zooms[3]}); pass t_s explicitly")
        t_s = np.arange(n_t) * (zooms[3] * scale)
    t_s = _check_time(path, t_s, n_t)
    ijk = np.stack(np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij"), -1)
    ijk = ijk.reshape(-1, 3).astype(np.float64)
    affine = np.asarray(img.affine, dtype=np.float64)
    coords = ijk @ affine[:3, :3].T + affine[:3, 3]
    return ExternalStrain(coords, t_s, strain, affine, (nx, ny, nz))


def load_strain(path: str | Path, *, t_s=None) -> ExternalStrain:
    """Read an external Green–Lagrange strain tensor history.

    Args:
        path: `.nii`, `.nii.gz` or `.npz` file (module docstring).
        t_s: sample times [s] for a NIfTI whose header lacks a time unit (ignored for NPZ).

    Returns:
        `ExternalStrain` (NumPy float64 arrays; pass to `jnp.asarray` as needed).

    Raises:
        ValueError: unknown suffix, missing field, wrong last dimension, NaN, percent-looking
            values, a non-symmetric tensor, or a time axis whose length differs from the strain's.
        FileNotFoundError: `path` does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    name = path.name.lower()
    if name.endswith(".npz"):
        return _load_npz(path)
    if name.endswith(".nii") or name.endswith(".nii.gz"):
        return _load_nifti(path, t_s)
    raise ValueError(f"{path}: unknown suffix (need .nii, .nii.gz or .npz)")


def _solid_centroids(nodes: np.ndarray, conn: np.ndarray) -> np.ndarray:
    """Centroid of each solid's distinct nodes; LS-DYNA stores tetrahedra, pentahedra and other
    degenerate solids as 8 node slots with repeated nodes, which must count once."""
    repeated = np.zeros(conn.shape, dtype=bool)
    for j in range(1, conn.shape[1]):  # over the 8 node slots, not over elements
        repeated[:, j] = np.any(conn[:, j : j + 1] == conn[:, :j], axis=1)
    keep = (~repeated)[..., None]
    return np.sum(nodes[conn] * keep, axis=1) / np.sum(keep, axis=1)


def load_d3plot_strain(
    path: str | Path,
    *,
    element_centroids: bool = True,
    time_unit_s: float = MS_TO_S,
    length_unit_mm: float = 1.0,
) -> ExternalStrain:
    """Read the solid element strain history of an LS-DYNA d3plot (needs lasso-python).

    One point per solid element. `element_solid_strain` (n_states, n_solids, n_layers, 6), in the
    order xx, yy, zz, xy, yz, xz in the global frame, is averaged over the integration-point
    layers (1 or 8) and turned into symmetric tensors. The shear components LS-DYNA writes are
    tensor components E_ij, not engineering shear γ_ij = 2 E_ij (Oasys D3PLOT manual,
    "Manipulations of strain tensor components": "there is absolutely no factor of 2"), so they
    are used as they are. The strain is written only when the deck sets STRFLG = 1 in
    `*DATABASE_EXTENT_BINARY`. The strain measure is LS-DYNA's own (for solids generally not
    Green–Lagrange; the two agree to first order at small strain); no conversion is made.

    LS-DYNA has no unit system of its own: state times are multiplied by `time_unit_s` and node
    coordinates by `length_unit_mm`. The defaults fit the mm–ms–kg system of most head models
    (GHBMC, THUMS); use `time_unit_s=1.0` for mm–s–tonne. Coordinates stay in the FE model's frame
    (not MNI RAS): register them to the brain before sampling.

    Args:
        path: the first file of the d3plot family (`d3plot`; `d3plot01`, ... are found next
            to it).
        element_centroids: True: `coords_mm` holds each solid's centroid (mean of its distinct
            nodes, undeformed geometry) [mm]. False: skip the geometry; `coords_mm` is all NaN
            (for callers that map elements by index themselves).
        time_unit_s: seconds per LS-DYNA time unit [s] (1e-3 for ms).
        length_unit_mm: millimetres per LS-DYNA length unit [mm] (1.0 for mm, 1e3 for m).

    Returns:
        `ExternalStrain` with V = n_solids, T = n_states, identity affine, `grid_shape=None`
        (NumPy float64; the tensors take V x T x 9 x 8 bytes).

    Raises:
        ImportError: lasso-python is not installed (`pip install "axojax[d3plot]"`).
        FileNotFoundError: `path` does not exist.
        ValueError: naming the file and field: no solid elements, no `element_solid_strain`
            (STRFLG = 0), no state times, NaN, percent-looking strain, times not strictly
            increasing or longer than 10 s after scaling (wrong `time_unit_s`?).
    """
    try:
        from lasso.dyna import ArrayType, D3plot
    except ImportError as err:
        raise ImportError('load_d3plot_strain needs lasso-python: pip install "axojax[d3plot]"') from err

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if not (time_unit_s > 0 and length_unit_mm > 0):
        raise ValueError(
            f"{path}: time_unit_s and length_unit_mm must be > 0, got {time_unit_s!r} and {length_unit_mm!r}"
        )
    fields = [ArrayType.global_timesteps, ArrayType.element_solid_strain]
    try:
        d3plot = D3plot(str(path), state_array_filter=fields)
    except Exception as err:  # noqa: BLE001 - lasso raises assorted errors on a damaged family
        raise _unreadable(
            path, "LS-DYNA d3plot", "a d3plot family with solid elements and strain", err
        ) from err
    arrays = d3plot.arrays
    conn = arrays.get(ArrayType.element_solid_node_indexes)
    if conn is None or conn.shape[0] == 0:
        raise ValueError(
            f"{path}: field '{ArrayType.element_solid_node_indexes}' is empty: no solid elements"
        )
    for field in fields:
        if field not in arrays:
            hint = (
                " (set STRFLG = 1 in *DATABASE_EXTENT_BINARY)"
                if field == ArrayType.element_solid_strain
                else ""
            )
            raise ValueError(f"{path}: missing field '{field}'{hint}")
    raw = np.asarray(arrays[ArrayType.element_solid_strain], dtype=np.float64)
    n_solids = conn.shape[0]
    if raw.ndim != 4 or raw.shape[1] != n_solids or raw.shape[3] != 6:
        raise ValueError(
            f"{path}: field '{ArrayType.element_solid_strain}' must have shape "
            f"(n_states, {n_solids}, n_layers, 6), got {raw.shape}"
        )
    strain = np.ascontiguousarray(np.swapaxes(raw.mean(axis=2), 0, 1))  # (V, T, 6)
    strain = _check_strain(path, ArrayType.element_solid_strain, strain)
    times = np.asarray(arrays[ArrayType.global_timesteps], dtype=np.float64) * time_unit_s
    t_s = _check_time(path, times, strain.shape[1])
    if t_s[-1] - t_s[0] > MAX_D3PLOT_DURATION_S:
        raise ValueError(
            f"{path}: field '{ArrayType.global_timesteps}' spans {t_s[-1] - t_s[0]:.4g} s "
            f"> {MAX_D3PLOT_DURATION_S:g} s with time_unit_s={time_unit_s:g}: wrong time unit?"
        )
    if element_centroids:
        nodes = np.asarray(arrays[ArrayType.node_coordinates], dtype=np.float64) * length_unit_mm
        coords = _solid_centroids(nodes, np.asarray(conn, dtype=np.int64))
    else:
        coords = np.full((n_solids, 3), np.nan)
    return ExternalStrain(coords, t_s, strain, np.eye(4), None)
