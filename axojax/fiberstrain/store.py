"""Chunked on-disk store of fiber strain profiles (n_impacts, n_voxels, T), and its builder.

Layout of a store directory (no dependency beyond numpy):

    manifest.json      format, version, quantity, shapes, chunking, impact names, metadata
    t_s.npy (T,), coords_mm.npy (V, 3), cube_id.npy (V,)
    impact00000_chunk00000.npy, ...    one float32 (n_chunk_voxels, T) array per impact and chunk
    impact00000_chunk00000_excluded.npy, ...   bool (n_chunk_voxels,): voxels whose profile the head
        model flagged as not the brain's (e.g. in an FE element that inverted); only where some are,
        written before its chunk

Every file is written to a temporary name and moved into place with `os.replace`, so a chunk file
either is complete or does not exist; reopening a partly written store (`ProfileDataset.create` with
the same arguments, or `build_profiles` again) removes stray temporaries and skips the finished
chunks. Chunks are read lazily with `np.load(mmap_mode="r")`, by impact or by voxel chunk, so 46
impacts x 92,500 voxels x 100 samples never have to sit in memory. One writer per store at a time.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float

from .. import _validate, parallel
from .._units import MAX_PLAUSIBLE_DURATION_S as MAX_PLAUSIBLE_DURATION_S
from .._units import MAX_PLAUSIBLE_STRAIN
from ..brain import Brain
from ._project import fiber_stretch_minus_one, project_strain_weighted

STORE_FORMAT = "axojax.fiberstrain.profiles"
STORE_VERSION = 1
MANIFEST = "manifest.json"
DEFAULT_CHUNK_VOXELS = 8192

Quantity = Literal["fiber_strain", "fiber_stretch_minus_one"]
QUANTITIES = ("fiber_strain", "fiber_stretch_minus_one")


def _tmp_name(final: Path) -> Path:
    return final.with_name(f".{final.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def _atomic_save_npy(final: Path, array: np.ndarray) -> None:
    tmp = _tmp_name(final)
    with open(tmp, "wb") as f:
        np.save(f, array, allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, final)


def _atomic_write_text(final: Path, text: str) -> None:
    tmp = _tmp_name(final)
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, final)


def check_time_grid(t_s: ArrayLike, where: str = "t_s") -> np.ndarray:
    """A validated time grid [s]: 1-D, finite, strictly increasing, shorter than
    `MAX_PLAUSIBLE_DURATION_S`.

    Raises:
        ValueError: naming `where` and the field t_s.
    """
    return _validate.check_time_grid(t_s, where=where, field="t_s", min_samples=1)


class ProfileDataset:
    """Fiber strain profiles, shape (n_impacts, n_voxels, T), stored chunked on disk.

    Open an existing store with `ProfileDataset.open(dir)`, start (or resume) one with
    `ProfileDataset.create(...)`, or let `build_profiles` do both.

    Attributes:
        store_dir: the directory.
        t_s: time grid (T,) [s].
        coords_mm: voxel world coordinates (V, 3) [mm].
        cube_id: coarse cube per voxel (V,) [-].
        impact_names: names of the impacts, in store order.
        metadata: per-impact JSON metadata, by name.
        quantity: "fiber_strain" (Green-Lagrange, eps_f) or "fiber_stretch_minus_one" (lambda - 1)
            [-].
        chunk_voxels: voxels per chunk (the last chunk may be shorter).
    """

    def __init__(self, store_dir: str | os.PathLike, manifest: dict[str, Any]):
        self.store_dir = Path(store_dir)
        self._manifest = manifest
        self.impact_names: tuple[str, ...] = tuple(manifest["impact_names"])
        self.metadata: dict[str, dict[str, Any]] = dict(manifest["metadata"])
        self.quantity: str = manifest["quantity"]
        self.chunk_voxels: int = int(manifest["chunk_voxels"])
        self.t_s = np.load(self.store_dir / "t_s.npy")
        self.coords_mm = np.load(self.store_dir / "coords_mm.npy", mmap_mode="r")
        self.cube_id = np.load(self.store_dir / "cube_id.npy", mmap_mode="r")
        expect = (len(self.impact_names), int(manifest["n_voxels"]), int(manifest["n_time"]))
        got = (len(self.impact_names), self.coords_mm.shape[0], self.t_s.shape[0])
        if got != expect or self.cube_id.shape != (expect[1],):
            raise ValueError(
                f"{self.store_dir}: arrays do not match {MANIFEST} (n_impacts, n_voxels, T) {expect}"
            )

    # --- creation
    # -----------------------------------------------------------------------------------------

    @classmethod
    def open(cls, store_dir: str | os.PathLike) -> ProfileDataset:
        """Open an existing store.

        Raises:
            FileNotFoundError: no manifest in `store_dir`.
            ValueError: a manifest of another format or version.
        """
        path = Path(store_dir) / MANIFEST
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no fiber strain store here")
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("format") != STORE_FORMAT or manifest.get("version") != STORE_VERSION:
            raise ValueError(
                f"{path}: field format/version is "
                f"{manifest.get('format')!r}/{manifest.get('version')!r}, "
                f"need {STORE_FORMAT!r}/{STORE_VERSION}"
            )
        return cls(store_dir, manifest)

    @classmethod
    def create(
        cls,
        store_dir: str | os.PathLike,
        *,
        t_s: Float[ArrayLike, " time"],
        coords_mm: Float[ArrayLike, "vox 3"],
        cube_id: ArrayLike,
        impact_names: Sequence[str],
        metadata: Mapping[str, Mapping[str, Any]] | None = None,
        chunk_voxels: int = DEFAULT_CHUNK_VOXELS,
        quantity: Quantity = "fiber_strain",
    ) -> ProfileDataset:
        """Create an empty store, or reopen (resume) a partly written one with the same arguments.

        Args:
            store_dir: directory, created if missing.
            t_s: time grid [s], strictly increasing.
            coords_mm: voxel world coordinates [mm].
            cube_id: coarse cube index per voxel [-].
            impact_names: unique names, one per impact.
            metadata: optional JSON-serialisable dict per impact name.
            chunk_voxels: voxels per chunk file.
            quantity: what the profiles hold, "fiber_strain" or "fiber_stretch_minus_one".

        Raises:
            ValueError: naming the directory and field on bad arguments, or on a manifest already
                there that differs (field named).
        """
        store_dir = Path(store_dir)
        t = check_time_grid(t_s, str(store_dir))
        coords = np.asarray(coords_mm, dtype=np.float32)
        cubes = np.asarray(cube_id, dtype=np.int32)
        if coords.ndim != 2 or coords.shape[1] != 3 or not np.isfinite(coords).all():
            raise ValueError(f"{store_dir}: field coords_mm must be finite (V, 3), got shape {coords.shape}")
        if cubes.shape != (coords.shape[0],):
            raise ValueError(f"{store_dir}: field cube_id shape {cubes.shape} != ({coords.shape[0]},)")
        names = [str(n) for n in impact_names]
        if len(set(names)) != len(names) or not names:
            raise ValueError(f"{store_dir}: field impact_names must be non-empty and unique")
        if quantity not in QUANTITIES:
            raise ValueError(f"{store_dir}: field quantity must be one of {QUANTITIES}, got {quantity!r}")
        if int(chunk_voxels) < 1:
            raise ValueError(f"{store_dir}: field chunk_voxels must be >= 1, got {chunk_voxels}")
        meta = {n: dict((metadata or {}).get(n, {})) for n in names}
        unknown = set(metadata or {}) - set(names)
        if unknown:
            raise ValueError(f"{store_dir}: field metadata names unknown impacts {sorted(unknown)}")
        try:
            json.dumps(meta)
        except TypeError as err:
            raise ValueError(f"{store_dir}: field metadata is not JSON-serialisable: {err}") from err
        manifest = {
            "format": STORE_FORMAT,
            "version": STORE_VERSION,
            "quantity": quantity,
            "unit": "-",
            "dtype": "float32",
            "time_unit": "s",
            "n_impacts": len(names),
            "n_voxels": int(coords.shape[0]),
            "n_time": int(t.shape[0]),
            "chunk_voxels": int(chunk_voxels),
            "impact_names": names,
            "metadata": meta,
        }
        if (store_dir / MANIFEST).is_file():
            old = cls.open(store_dir)
            old._check_same(manifest, t, coords, cubes)
            old._remove_temporaries()
            return old
        store_dir.mkdir(parents=True, exist_ok=True)
        _atomic_save_npy(store_dir / "t_s.npy", t)
        _atomic_save_npy(store_dir / "coords_mm.npy", coords)
        _atomic_save_npy(store_dir / "cube_id.npy", cubes)
        _atomic_write_text(store_dir / MANIFEST, json.dumps(manifest, indent=1))  # last: marks a valid store
        return cls(store_dir, manifest)

    def _check_same(self, manifest: dict, t: np.ndarray, coords: np.ndarray, cubes: np.ndarray) -> None:
        for field in ("quantity", "n_voxels", "n_time", "chunk_voxels", "impact_names", "metadata"):
            if self._manifest[field] != manifest[field]:
                raise ValueError(
                    f"{self.store_dir}: field {field} of the existing store "
                    f"({self._manifest[field]!r}) differs "
                    f"from the request ({manifest[field]!r}); use a new directory"
                )
        for field, old, new in (("t_s", self.t_s, t), ("coords_mm", self.coords_mm, coords)):
            if not np.allclose(old, new, rtol=1e-6, atol=1e-9):
                raise ValueError(
                    f"{self.store_dir}: field {field} of the existing store differs from the request"
                )
        if not np.array_equal(self.cube_id, cubes):
            raise ValueError(
                f"{self.store_dir}: field cube_id of the existing store differs from the request"
            )

    def _remove_temporaries(self) -> None:
        for tmp in self.store_dir.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)

    # --- shape and chunk bookkeeping
    # ----------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int, int]:
        """(n_impacts, n_voxels, T)."""
        return (len(self.impact_names), self.coords_mm.shape[0], self.t_s.shape[0])

    @property
    def n_chunks(self) -> int:
        """Number of voxel chunks."""
        return -(-self.shape[1] // self.chunk_voxels)

    def chunk_slice(self, chunk: int) -> slice:
        """Voxel index range of a chunk."""
        if not 0 <= chunk < self.n_chunks:
            raise IndexError(f"{self.store_dir}: chunk {chunk} outside 0..{self.n_chunks - 1}")
        return slice(chunk * self.chunk_voxels, min((chunk + 1) * self.chunk_voxels, self.shape[1]))

    def impact_index(self, impact: int | str) -> int:
        """Store index of an impact given by index or name."""
        if isinstance(impact, str):
            if impact not in self.impact_names:
                raise KeyError(f"{self.store_dir}: no impact named {impact!r}")
            return self.impact_names.index(impact)
        if not 0 <= impact < len(self.impact_names):
            raise IndexError(f"{self.store_dir}: impact {impact} outside 0..{len(self.impact_names) - 1}")
        return int(impact)

    def chunk_path(self, impact: int | str, chunk: int) -> Path:
        """File of one (impact, voxel chunk)."""
        return self.store_dir / f"impact{self.impact_index(impact):05d}_chunk{chunk:05d}.npy"

    def has_chunk(self, impact: int | str, chunk: int) -> bool:
        """Whether a chunk has been written (complete by construction)."""
        return self.chunk_path(impact, chunk).is_file()

    def missing_chunks(self) -> list[tuple[int, int]]:
        """(impact, chunk) pairs not yet written."""
        return [
            (i, c) for i in range(self.shape[0]) for c in range(self.n_chunks) if not self.has_chunk(i, c)
        ]

    @property
    def is_complete(self) -> bool:
        """Whether every chunk of every impact is written."""
        return not self.missing_chunks()

    # --- writing and reading
    # ------------------------------------------------------------------------------

    def write_chunk(self, impact: int | str, chunk: int, values: Float[ArrayLike, "vox time"]) -> None:
        """Write one chunk atomically (temporary file, then `os.replace`).

        Args:
            values: profiles of the chunk's voxels [-], shape (n_chunk_voxels, T); stored as
                float32.
        """
        sl = self.chunk_slice(chunk)
        arr = np.asarray(values, dtype=np.float32)
        if arr.shape != (sl.stop - sl.start, self.shape[2]):
            raise ValueError(
                f"{self.chunk_path(impact, chunk)}: field profiles need shape "
                f"{(sl.stop - sl.start, self.shape[2])}, "
                f"got {arr.shape}"
            )
        _atomic_save_npy(self.chunk_path(impact, chunk), arr)

    def read_chunk(self, impact: int | str, chunk: int) -> np.ndarray:
        """Profiles (n_chunk_voxels, T) of one impact and voxel chunk, memory-mapped [-]."""
        path = self.chunk_path(impact, chunk)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: chunk not written yet (store incomplete)")
        arr = np.load(path, mmap_mode="r")
        sl = self.chunk_slice(chunk)
        if arr.shape != (sl.stop - sl.start, self.shape[2]):
            raise ValueError(
                f"{path}: field profiles has shape {arr.shape}, manifest says "
                f"{(sl.stop - sl.start, self.shape[2])}"
            )
        return arr

    def read_impact(self, impact: int | str) -> np.ndarray:
        """All voxel profiles (V, T) of one impact [-] (one impact in memory: V x T float32)."""
        return np.concatenate([self.read_chunk(impact, c) for c in range(self.n_chunks)], axis=0)

    def read_voxel_chunk(self, chunk: int) -> np.ndarray:
        """Profiles (n_impacts, n_chunk_voxels, T) of one voxel chunk across all impacts [-]."""
        return np.stack([self.read_chunk(i, chunk) for i in range(self.shape[0])], axis=0)

    def to_array(self) -> np.ndarray:
        """The whole dataset (n_impacts, V, T) in memory [-]; for small stores."""
        return np.stack([self.read_impact(i) for i in range(self.shape[0])], axis=0)

    def excluded_path(self, impact: int | str, chunk: int) -> Path:
        """File of one (impact, voxel chunk)'s excluded-voxel flags."""
        chunk_file = self.chunk_path(impact, chunk)
        return chunk_file.with_name(chunk_file.stem + "_excluded.npy")

    def write_excluded(self, impact: int | str, chunk: int, flags: Bool[ArrayLike, " vox"]) -> None:
        """Record which voxels of a chunk the head model flagged (their profile is not the brain's, e.g.
        they lie in an FE element that inverted); atomic, and only a file where some are flagged. Write it
        before the chunk: a chunk on disk then always has its flags."""
        sl = self.chunk_slice(chunk)
        arr = np.asarray(flags, dtype=bool)
        if arr.shape != (sl.stop - sl.start,):
            raise ValueError(
                f"{self.excluded_path(impact, chunk)}: flags need shape {(sl.stop - sl.start,)}, "
                f"got {arr.shape}"
            )
        path = self.excluded_path(impact, chunk)
        if arr.any():
            _atomic_save_npy(path, arr)
        else:
            path.unlink(missing_ok=True)

    def excluded(self, impact: int | str) -> np.ndarray:
        """Flags (V,) of the voxels whose profile of this impact is excluded (see `write_excluded`);
        all False where the head model flagged none."""
        parts = []
        for c in range(self.n_chunks):
            sl, path = self.chunk_slice(c), self.excluded_path(impact, c)
            parts.append(np.load(path) if path.is_file() else np.zeros(sl.stop - sl.start, bool))
        return np.concatenate(parts).astype(bool)


# --- builder
# ----------------------------------------------------------------------------------------------


@jax.jit
def _fiber_strain_chunk(strain, fiber_dir, fiber_weight):
    return project_strain_weighted(strain, fiber_dir, fiber_weight)


@jax.jit
def _fiber_stretch_chunk(strain, fiber_dir, fiber_weight):
    return fiber_stretch_minus_one(project_strain_weighted(strain, fiber_dir, fiber_weight))


@jax.jit
def _strain_checks(strain):
    finite = jnp.all(jnp.isfinite(strain))
    peak = jnp.max(jnp.abs(strain))
    asym = jnp.max(jnp.abs(strain - jnp.swapaxes(strain, -1, -2)))
    return finite, peak, asym


def _check_strain(strain: Array, expect: tuple[int, ...], where: str) -> None:
    if tuple(strain.shape) != expect:
        raise ValueError(
            f"{where}: field strain from strain_fn has shape {tuple(strain.shape)}, need {expect}"
        )
    finite, peak, asym = (np.asarray(x) for x in _strain_checks(strain))
    if not finite:
        raise ValueError(f"{where}: field strain from strain_fn contains NaN/inf")
    if peak > MAX_PLAUSIBLE_STRAIN:
        raise ValueError(
            f"{where}: field strain reaches |E| = {float(peak):.4g} > {MAX_PLAUSIBLE_STRAIN}: "
            "percent instead of a fraction, or unknown units?"
        )
    if asym > 1e-6 + 1e-4 * peak:
        raise ValueError(f"{where}: field strain is not symmetric (max |E - E^T| = {float(asym):.3g})")


def build_profiles(
    strain_fn: Callable[[Any, Float[Array, "vox 3"]], Float[Array, "vox time 3 3"]],
    impacts: Mapping[str, Any],
    brain: Brain,
    store_dir: str | os.PathLike,
    *,
    t_s: Float[ArrayLike, " time"],
    chunk_voxels: int = DEFAULT_CHUNK_VOXELS,
    metadata: Mapping[str, Mapping[str, Any]] | None = None,
    quantity: Quantity = "fiber_strain",
    excluded_fn: Callable[[Any, Float[Array, "vox 3"]], Bool[ArrayLike, " vox"]] | None = None,
) -> ProfileDataset:
    """Fiber strain profiles of every impact on every white-matter voxel, written to a store.

    For each impact and voxel chunk not yet in the store, `strain_fn(impact, coords_mm)` gives the
    Green-Lagrange strain history at the chunk's voxel centres; it is projected on the brain's fiber
    populations (weighted mean of n_k^T E n_k) and written atomically. Every call gets exactly
    `chunk_voxels` coordinates (the last chunk is padded by repeating its last voxel), so a jitted
    head model compiles once. Rerunning with the same arguments resumes: finished chunks are
    skipped.

    With D local devices, `chunk_voxels` is rounded up to a multiple of D (more repeats of the last
    voxel), the coordinates reach `strain_fn` split over the devices (a jitted head model then runs
    sharded) and the projection runs sharded over voxels (`axojax.parallel`). In a multi-process
    run every process calls this with the same arguments and store; each builds its own share of
    the (impact, chunk) pairs.

    Args:
        strain_fn: head model, (impact, coords_mm (chunk_voxels, 3) [mm, brain world frame]) ->
            strain (chunk_voxels, T, 3, 3) [-] (chunk_voxels rounded up to a multiple of the local
            device count), e.g. a closure over
            `axojax.headmodel.strain_history` and `t_s`.
        impacts: impact objects by name, passed to `strain_fn` as they are.
        brain: voxels, coordinates, cube ids and fiber populations.
        store_dir: store directory (see `ProfileDataset`).
        t_s: time grid of the strain histories [s], strictly increasing.
        chunk_voxels: voxels per strain_fn call and per chunk file.
        metadata: optional JSON-serialisable dict per impact name.
        quantity: store eps_f ("fiber_strain") or lambda - 1 ("fiber_stretch_minus_one").
        excluded_fn: (impact, coords_mm) -> flags (chunk_voxels,) of the points whose strain the head
            model does not vouch for (e.g. `FEHeadModel.inverted_points` of a solve with inverted
            elements), called after `strain_fn` on the same chunk; stored with
            `ProfileDataset.write_excluded` before the chunk. None: nothing is flagged.

    Returns:
        The complete `ProfileDataset`.

    Raises:
        ValueError: naming the store and field on a bad time grid, an existing store with other
            arguments, or strain of the wrong shape, NaN, asymmetric, or with |E| > 1 (percent given
            as a fraction?).
    """
    dataset = parallel.leader_first(  # process 0 creates the store, the others then open it
        lambda: ProfileDataset.create(
            store_dir,
            t_s=t_s,
            coords_mm=np.asarray(brain.coords_mm),
            cube_id=np.asarray(brain.cube_id),
            impact_names=list(impacts),
            metadata=metadata,
            chunk_voxels=chunk_voxels,
            quantity=quantity,
        ),
        "axojax.fiberstrain.create",
    )
    project = _fiber_strain_chunk if quantity == "fiber_strain" else _fiber_stretch_chunk
    coords = np.asarray(brain.coords_mm)
    dirs = np.asarray(brain.fiber_dir)
    weights = np.asarray(brain.fiber_weight)
    n_time = dataset.shape[2]
    mesh = parallel.batch_mesh()
    size = parallel.padded_size(chunk_voxels, mesh.size)  # voxels per call, split over the devices
    mine = parallel.process_share(len(impacts) * dataset.n_chunks)  # all pairs when single-process
    for i, (name, impact) in enumerate(impacts.items()):
        for c in range(dataset.n_chunks):  # chunks of voxels; the voxels within a chunk are vectorised
            if dataset.has_chunk(i, c) or i * dataset.n_chunks + c not in mine:
                continue
            sl = dataset.chunk_slice(c)
            n = sl.stop - sl.start
            pad = np.r_[np.arange(sl.start, sl.stop), np.full(size - n, sl.stop - 1)]
            strain = jnp.asarray(strain_fn(impact, parallel.shard_batch(coords[pad], mesh)))
            _check_strain(strain, (size, n_time, 3, 3), f"{store_dir}: impact {name!r} chunk {c}")
            eps = parallel.run_sharded(
                project,
                (
                    strain,
                    jnp.asarray(dirs[pad], strain.dtype),
                    jnp.asarray(weights[pad], strain.dtype),
                ),
                mesh=mesh,
            )
            if excluded_fn is not None:
                flags = np.asarray(excluded_fn(impact, coords[pad]), bool)
                if flags.shape != (size,):
                    raise ValueError(
                        f"{store_dir}: impact {name!r} chunk {c}: excluded_fn gave shape {flags.shape}, "
                        f"expected ({size},)"
                    )
                dataset.write_excluded(i, c, flags[:n])
            dataset.write_chunk(i, c, np.asarray(eps)[:n])
    parallel.sync_processes("axojax.fiberstrain.built")
    return dataset
