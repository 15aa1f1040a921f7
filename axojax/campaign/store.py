"""On-disk layout of a simulation campaign: manifest, inputs, one file per finished chunk.

Layout of a campaign directory (NumPy only):

    manifest.json         format, versions, shapes, chunk size, SHA-256 of time grid, profiles,
                          origin ids and axon parameters, the solver settings of every attempt,
                          and (once finished) "complete": true
    inputs.npz            t_s (T,) [s], profiles (N, T) [-], ids (N, 2) (impact, voxel; -1 unknown)
    chunk_00000.npz, ...  rows [start, stop): start, stop, outputs (m, 4), success (m,), status (m,),
                          attempts (m,), status_by_attempt (m, n_attempts)

Every file is written as ``<name>.tmp`` and moved into place with `os.replace`, so a chunk file is
either complete or absent: a campaign killed at any point loses at most the chunk in flight. On
restart, `open_campaign` compares the manifest with the new arguments (a different time grid,
profile set, parameter set, settings, chunk size or axojax version is refused), removes stray
``.tmp`` files and reports the finished chunks. One writer per directory at a time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from jaxtyping import Float, Int

from .. import __version__
from ..axon import OUTPUT_NAMES, AxonParams, SolverSettings
from ._result import NOT_RUN, CampaignResult

CAMPAIGN_FORMAT = "axojax.campaign.results"
CAMPAIGN_VERSION = 1
MANIFEST = "manifest.json"
INPUTS = "inputs.npz"
TMP_SUFFIX = ".tmp"
# Manifest entries that must agree for a restart to resume the same campaign.
IDENTITY_KEYS = (
    "format",
    "format_version",
    "axojax_version",
    "n_profiles",
    "n_samples",
    "dtype",
    "chunk_size",
    "t_s_sha256",
    "profiles_sha256",
    "ids_sha256",
    "params_sha256",
    "settings",
)
_CHUNK_KEYS = ("start", "stop", "outputs", "success", "status", "attempts", "status_by_attempt")
_HASH_BLOCK_BYTES = 1 << 24


class ChunkError(ValueError):
    """A chunk file that cannot be read or does not match the manifest."""


# --- hashing and description
# ---------------------------------------------------------------------------------------------


def hash_array(a: np.ndarray) -> str:
    """SHA-256 (hex) of an array's dtype, shape and values (little-endian, C order), read in
    blocks of rows so a memmap never has to sit in memory at once."""
    a = np.asarray(a)
    dtype = a.dtype.newbyteorder("<") if a.dtype.byteorder not in ("|",) else a.dtype
    h = hashlib.sha256(f"{dtype.str}{a.shape}".encode())
    if a.ndim == 0 or a.size == 0:
        h.update(np.ascontiguousarray(a, dtype=dtype).tobytes())
        return h.hexdigest()
    row_bytes = max(1, a[0].nbytes)
    block = max(1, _HASH_BLOCK_BYTES // row_bytes)
    for i in range(0, a.shape[0], block):
        h.update(np.ascontiguousarray(a[i : i + block], dtype=dtype).tobytes())
    return h.hexdigest()


def hash_params(params: AxonParams) -> str:
    """SHA-256 (hex) of an `AxonParams`: every field's name, shape and value (as float64)."""
    h = hashlib.sha256(type(params).__name__.encode())
    for field in dataclasses.fields(params):
        value = np.asarray(getattr(params, field.name), dtype=np.float64)
        h.update(f"|{field.name}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    return h.hexdigest()


def _describe(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {"type": type(obj).__name__}
        for field in dataclasses.fields(obj):
            out[field.name] = _describe(getattr(obj, field.name))
        return out
    if isinstance(obj, bool | int | str) or obj is None:
        return obj
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, np.generic):
        return obj.item()
    return repr(obj)


def describe_settings(settings: SolverSettings) -> dict[str, Any]:
    """JSON-ready description of solver settings (tolerances, max_steps, grid)."""
    return _describe(settings)


def campaign_manifest(
    t_s: Float[np.ndarray, " time"],
    profiles: Float[np.ndarray, "n time"],
    ids: Int[np.ndarray, "n 2"],
    params: AxonParams,
    chunk_size: int,
    attempt_settings: Sequence[SolverSettings],
) -> dict[str, Any]:
    """The manifest of a campaign over these inputs (identity entries plus bookkeeping)."""
    n, t = profiles.shape
    return {
        "format": CAMPAIGN_FORMAT,
        "format_version": CAMPAIGN_VERSION,
        "axojax_version": __version__,
        "n_profiles": int(n),
        "n_samples": int(t),
        "dtype": str(profiles.dtype),
        "chunk_size": int(chunk_size),
        "n_chunks": int(-(-n // chunk_size)),
        "output_names": list(OUTPUT_NAMES),
        "t_s_sha256": hash_array(t_s),
        "profiles_sha256": hash_array(profiles),
        "ids_sha256": hash_array(ids),
        "params_sha256": hash_params(params),
        "settings": [describe_settings(s) for s in attempt_settings],
        "units": {"t_s": "s", "profiles": "strain fraction [-]", "outputs": list(_OUTPUT_UNITS)},
        "complete": False,
    }


_OUTPUT_UNITS = ("fraction [-]", "fraction [-]", "percent", "percent")


# --- files
# ---------------------------------------------------------------------------------------------


def chunk_path(out_dir: str | os.PathLike, index: int) -> Path:
    """Path of chunk `index`: ``out_dir/chunk_00012.npz``."""
    return Path(out_dir) / f"chunk_{index:05d}.npz"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not supported on this platform
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write_bytes(final: Path, write) -> None:
    tmp = final.with_name(final.name + TMP_SUFFIX)
    with open(tmp, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, final)
    _fsync_dir(final.parent)


def _atomic_savez(final: Path, **arrays: np.ndarray) -> None:
    _atomic_write_bytes(final, lambda f: np.savez(f, **arrays))


def _atomic_write_json(final: Path, obj: dict[str, Any]) -> None:
    text = json.dumps(obj, indent=2, sort_keys=True) + "\n"
    _atomic_write_bytes(final, lambda f: f.write(text.encode("utf-8")))


def read_manifest(out_dir: str | os.PathLike) -> dict[str, Any]:
    """The manifest of a campaign directory.

    Raises:
        FileNotFoundError: no manifest.json in `out_dir`.
        ValueError: not an axojax campaign manifest, or a newer format version.
    """
    path = Path(out_dir) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no campaign manifest (was run_campaign started here?)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None
    if manifest.get("format") != CAMPAIGN_FORMAT:
        raise ValueError(f"{path}: format {manifest.get('format')!r}, expected {CAMPAIGN_FORMAT!r}")
    if int(manifest.get("format_version", -1)) > CAMPAIGN_VERSION:
        raise ValueError(
            f"{path}: format version {manifest['format_version']} is newer than this axojax reads "
            f"({CAMPAIGN_VERSION})"
        )
    return manifest


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def open_campaign(
    out_dir: str | os.PathLike,
    manifest: dict[str, Any],
    t_s: Float[np.ndarray, " time"],
    profiles: Float[np.ndarray, "n time"],
    ids: Int[np.ndarray, "n 2"],
) -> set[int]:
    """Create a campaign directory, or reopen one started with the same arguments.

    Removes stray ``.tmp`` files; a chunk file that cannot be read is removed with a warning (it
    will be recomputed).

    Returns:
        indices of the chunks already finished.

    Raises:
        ValueError: the directory holds a campaign over other inputs (the differing manifest
            entries are named), or chunk files without a manifest.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stray in out.glob("*" + TMP_SUFFIX):
        stray.unlink()
    manifest = json.loads(json.dumps(manifest))  # as it reads back from JSON (lists, floats)
    if (out / MANIFEST).is_file():
        stored = read_manifest(out)
        diffs = [
            f"{k} (stored {_short(stored.get(k))}, given {_short(manifest[k])})"
            for k in IDENTITY_KEYS
            if stored.get(k) != manifest[k]
        ]
        if diffs:
            raise ValueError(
                f"{out}: holds a campaign started with different arguments; cannot resume. "
                f"Differences: {'; '.join(diffs)}. Use another out_dir or delete this one."
            )
        if not (out / INPUTS).is_file():
            _atomic_savez(out / INPUTS, t_s=t_s, profiles=profiles, ids=ids)
    else:
        if any(out.glob("chunk_*.npz")):
            raise ValueError(
                f"{out}: has chunk files but no {MANIFEST}; not a campaign this version can resume. "
                "Use another out_dir or delete this one."
            )
        _atomic_savez(out / INPUTS, t_s=t_s, profiles=profiles, ids=ids)
        _atomic_write_json(out / MANIFEST, manifest)
    done = set()
    for i in range(manifest["n_chunks"]):
        path = chunk_path(out, i)
        if not path.is_file():
            continue
        try:
            read_chunk(out, i, manifest)
        except ChunkError as e:
            warnings.warn(f"{e}; removing it, the chunk will be recomputed", RuntimeWarning, stacklevel=3)
            path.unlink()
            continue
        done.add(i)
    return done


def chunk_rows(manifest: dict[str, Any], index: int) -> tuple[int, int]:
    """Rows [start, stop) of chunk `index`."""
    size = int(manifest["chunk_size"])
    return index * size, min((index + 1) * size, int(manifest["n_profiles"]))


def write_chunk(
    out_dir: str | os.PathLike, index: int, start: int, stop: int, arrays: dict[str, np.ndarray]
) -> Path:
    """Write the results of rows [start, stop) as chunk `index`, atomically.

    Args:
        arrays: outputs (m, 4), success (m,), status (m,), attempts (m,), status_by_attempt
            (m, n_attempts), m = stop - start.

    Returns:
        the chunk file path.
    """
    path = chunk_path(out_dir, index)
    _atomic_savez(
        path,
        start=np.asarray(start, np.int64),
        stop=np.asarray(stop, np.int64),
        outputs=np.asarray(arrays["outputs"], np.float64),
        success=np.asarray(arrays["success"], np.bool_),
        status=np.asarray(arrays["status"], np.int32),
        attempts=np.asarray(arrays["attempts"], np.int32),
        status_by_attempt=np.asarray(arrays["status_by_attempt"], np.int32),
    )
    return path


def read_chunk(out_dir: str | os.PathLike, index: int, manifest: dict[str, Any]) -> dict[str, np.ndarray]:
    """Read and check chunk `index` against the manifest.

    Raises:
        ChunkError: unreadable, a missing array, or rows/shapes that do not match the manifest.
    """
    path = chunk_path(out_dir, index)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except Exception as e:  # a truncated zip raises any of several types
        raise ChunkError(f"{path}: unreadable chunk file ({type(e).__name__}: {e})") from None
    missing = [k for k in _CHUNK_KEYS if k not in data]
    if missing:
        raise ChunkError(f"{path}: missing arrays {missing}")
    start, stop = chunk_rows(manifest, index)
    if (int(data["start"]), int(data["stop"])) != (start, stop):
        raise ChunkError(
            f"{path}: holds rows [{int(data['start'])}, {int(data['stop'])}), expected [{start}, {stop})"
        )
    m = stop - start
    n_attempts = len(manifest["settings"])
    shapes = {
        "outputs": (m, len(OUTPUT_NAMES)),
        "success": (m,),
        "status": (m,),
        "attempts": (m,),
        "status_by_attempt": (m, n_attempts),
    }
    for k, shape in shapes.items():
        if data[k].shape != shape:
            raise ChunkError(f"{path}: array {k} has shape {data[k].shape}, expected {shape}")
    return data


def mark_complete(out_dir: str | os.PathLike, n_failed: int) -> None:
    """Record in the manifest that every chunk is finished, and how many rows failed for good."""
    manifest = read_manifest(out_dir)
    manifest["complete"] = True
    manifest["n_failed"] = int(n_failed)
    _atomic_write_json(Path(out_dir) / MANIFEST, manifest)


def load_campaign(out_dir: str | os.PathLike, *, allow_partial: bool = False) -> CampaignResult:
    """Read a campaign directory written by `run_campaign`.

    Args:
        out_dir: the campaign directory.
        allow_partial: return an unfinished campaign; rows of missing chunks have NaN outputs,
            success False, status -1 and attempts 0.

    Returns:
        `CampaignResult` with outputs (N, 4), success (N,), status (N,), attempts (N,), the
        profiles (N, T), time grid (T,) [s] and origin ids (N, 2).

    Raises:
        FileNotFoundError: no manifest.
        ValueError: stored inputs that do not match the manifest hashes, a bad chunk file, or
            (unless `allow_partial`) missing chunks.
    """
    out = Path(out_dir)
    manifest = read_manifest(out)
    inputs_path = out / INPUTS
    try:
        with np.load(inputs_path, allow_pickle=False) as z:
            t_s, profiles, ids = z["t_s"], z["profiles"], z["ids"]
    except FileNotFoundError:
        raise FileNotFoundError(f"{inputs_path}: missing (campaign inputs)") from None
    except (KeyError, ValueError, OSError) as e:
        raise ValueError(f"{inputs_path}: cannot read campaign inputs ({e})") from None
    for key, arr in (("t_s", t_s), ("profiles", profiles), ("ids", ids)):
        if hash_array(arr) != manifest[f"{key}_sha256"]:
            raise ValueError(f"{inputs_path}: array {key} does not match {MANIFEST} ({key}_sha256)")
    n = int(manifest["n_profiles"])
    n_attempts = len(manifest["settings"])
    outputs = np.full((n, len(OUTPUT_NAMES)), np.nan)
    success = np.zeros(n, np.bool_)
    status = np.full(n, NOT_RUN, np.int32)
    attempts = np.zeros(n, np.int32)
    status_by_attempt = np.full((n, n_attempts), NOT_RUN, np.int32)
    missing = []
    for i in range(int(manifest["n_chunks"])):
        if not chunk_path(out, i).is_file():
            missing.append(i)
            continue
        data = read_chunk(out, i, manifest)
        sl = slice(*chunk_rows(manifest, i))
        outputs[sl] = data["outputs"]
        success[sl] = data["success"]
        status[sl] = data["status"]
        attempts[sl] = data["attempts"]
        status_by_attempt[sl] = data["status_by_attempt"]
    if missing and not allow_partial:
        raise ValueError(
            f"{out}: campaign incomplete, {len(missing)} of {manifest['n_chunks']} chunks missing "
            f"(first: {chunk_path(out, missing[0]).name}); rerun run_campaign with the same "
            "arguments to finish it, or pass allow_partial=True"
        )
    return CampaignResult(
        t_s=t_s,
        profiles=profiles,
        ids=ids,
        outputs=outputs,
        success=success,
        status=status,
        attempts=attempts,
        status_by_attempt=status_by_attempt,
        out_dir=out,
    )
