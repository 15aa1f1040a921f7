"""Whole-brain prediction: profiles of every voxel -> surrogate outputs, with OOD flags and timings.

`whole_brain` runs one impact as ONE jitted program (`_fused_maps`): the head model's solve, then a
`lax.map` over fixed-size voxel chunks, each chunk's fiber strain profiles -> OOD flags -> surrogate
outputs, so no profile goes back to the host and a brain of any size compiles once per (brain, chunk,
model). `fused=False` keeps the earlier path (all profiles by `impact_profiles`, then `predict_maps`),
the reference the fused program is tested against.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float

from ..brain import Brain
from ..headmodel import AbstractHeadModel
from ..kinematics import Impact
from ..surrogate import (
    OUTPUT_NAMES,
    SurrogateCNN,
    apply_inference,
    check_inputs,
    inference_parts,
    predict,
    warn_out_of_distribution,
)
from ._profiles import (
    DEFAULT_CHUNK_VOXELS,
    VoxelChunks,
    _impact_grid,
    _raise_on_bad_profiles,
    chunk_fiber_strain,
    impact_profiles,
    voxel_chunks,
)

DEFAULT_BATCH_SIZE = 2048  # fastest on the 2-core CPU (benchmarks/bench_wholebrain.py): cache-sized
# voxels per lax.map step of the fused program: each layer's activations (256 x 100 x 16 floats, 1.6 MB)
# stay in the 2 MB L2 of a core; 128 and 384-1024 were 5-60 % slower (benchmarks/bench_predict.py notes)
FUSED_CHUNK_VOXELS = 256


@dataclasses.dataclass(frozen=True, eq=False)
class WholeBrainResult:
    """Surrogate outputs on every white-matter voxel for one impact.

    Attributes:
        name: the impact's name.
        values: outputs (V, 4), float32, columns in `axojax.surrogate.OUTPUT_NAMES` order and units:
            peak_mt_strain [-], peak_axolemma_strain [-], tau_failure_pct [%], nf_failure_pct [%].
        ood: True where the voxel's profile lies outside the surrogate's training range (V,)
            (`axojax.surrogate.check_inputs`): its outputs there are extrapolations.
        profiles_s: wall time of the fiber strain profiles on their own [s] (the unfused `whole_brain`); None
            where they were not timed on their own: given to `predict_maps`, or computed inside the fused
            program, whose time `inference_s` includes them (`fused`).
        inference_s: wall time [s] of the OOD check and the surrogate, results on the host; for the fused
            program (`fused` True) the whole program: head-model solve, profiles, OOD check, surrogate.
        output_names: names of the columns of `values`.
        fused: `inference_s` is the fused program's time (`whole_brain`, `whole_brain_many`).
    """

    name: str
    values: Float[np.ndarray, "vox 4"]
    ood: Bool[np.ndarray, " vox"]
    profiles_s: float | None
    inference_s: float
    output_names: tuple[str, ...] = OUTPUT_NAMES
    fused: bool = False

    @property
    def n_voxels(self) -> int:
        """Number of voxels V."""
        return int(self.values.shape[0])

    @property
    def compute_s(self) -> float:
        """Wall time [s] from the impact (or the given profiles) to the outputs on the host: `inference_s`
        plus `profiles_s` when the profiles were timed on their own."""
        return self.inference_s + (self.profiles_s or 0.0)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready metadata (no arrays): name, voxel and OOD counts, timings [s] (`compute_s`, and its
        split into `profiles_s` and `inference_s` where there is one), `fused`, output names."""
        return {
            "name": self.name,
            "n_voxels": self.n_voxels,
            "n_ood": int(self.ood.sum()),
            "ood_fraction": float(self.ood.mean()) if self.n_voxels else None,
            "compute_s": self.compute_s,
            "fused": self.fused,
            "profiles_s": self.profiles_s,
            "inference_s": self.inference_s,
            "output_names": list(self.output_names),
        }


def predict_maps(
    model: SurrogateCNN,
    profiles: Float[ArrayLike, "vox time"],
    *,
    name: str = "profiles",
    batch_size: int = DEFAULT_BATCH_SIZE,
    margin: float = 0.1,
    dt_s: float | None = None,
    warn: bool = True,
) -> WholeBrainResult:
    """Surrogate outputs and OOD flags for the profiles of every voxel.

    One `axojax.surrogate.check_inputs` pass, then `axojax.surrogate.predict` streamed in batches of
    `batch_size` (one compiled program), without its own second OOD check.

    Args:
        model: a trained `SurrogateCNN`.
        profiles: fiber strain [-], (V, T) with T = `model.config.n_time`, on the model's grid.
        name: label stored in the result (the impact's name).
        batch_size: profiles per compiled inference batch.
        margin: relative tolerance of the OOD check over the training maxima (0.1 = 10 %).
        dt_s: time step of the profiles [s], checked against the model's if given.
        warn: emit an `OutOfDistributionWarning` with the count when any voxel is flagged.

    Returns:
        A `WholeBrainResult` with `profiles_s` None.

    Raises:
        ValueError: wrong rank, number of time samples, time step or batch size.
    """
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    start = time.perf_counter()
    flags = check_inputs(model, profiles, margin=margin, dt_s=dt_s, warn=warn)
    values = predict(model, profiles, batch_size=int(batch_size), check=False)
    values_np, flags_np = (np.asarray(x) for x in jax.device_get((values, flags)))
    elapsed = time.perf_counter() - start
    return WholeBrainResult(
        name=str(name),
        values=values_np.astype(np.float32, copy=False),
        ood=flags_np.astype(bool, copy=False),
        profiles_s=None,
        inference_s=elapsed,
    )


@eqx.filter_jit
def _fused_maps(
    head_model: AbstractHeadModel,
    graphdef,
    state,
    t_s: Float[Array, " time"],
    ang_acc_rad_s2: Float[Array, "time 3"],
    chunks: VoxelChunks,
    margin: float,
) -> tuple[Float[Array, "vox 4"], Bool[Array, " vox"], Bool[Array, ""], Float[Array, ""]]:
    """One impact on every voxel: (outputs (V, 4), OOD flags (V,), all profiles finite, peak |eps| [-])."""
    solved = head_model.motion(t_s, ang_acc_rad_s2)

    def one_chunk(args):
        coords, dirs, weights = args
        eps = chunk_fiber_strain(head_model, solved, coords, dirs, weights).astype(jnp.float32)
        values, flags = apply_inference(graphdef, state, eps, margin)
        return values, flags, jnp.all(jnp.isfinite(eps)), jnp.max(jnp.abs(eps), initial=0.0)

    values, flags, finite, peak = jax.lax.map(
        one_chunk, (chunks.coords_mm, chunks.fiber_dir, chunks.fiber_weight)
    )
    n = chunks.n_voxels
    return values.reshape(-1, values.shape[-1])[:n], flags.reshape(-1)[:n], jnp.all(finite), jnp.max(peak)


def _check_grid(model: SurrogateCNN, impact: Impact, t_s: Float[ArrayLike, " time"] | None) -> float:
    """The profile grid's mean step [s]; ValueError unless it is uniform and the surrogate's."""
    t, _ = _impact_grid(impact, t_s)
    t = np.asarray(t, dtype=np.float64)
    n_time, dt_model = model.config.n_time, model.config.dt_s
    if t.shape[0] != n_time:
        raise ValueError(
            f"impact {impact.name!r}: {t.shape[0]} time samples, the surrogate was trained on {n_time} "
            f"(dt {dt_model:g} s); resample the impact (axojax.kinematics.resample_impact) or pass t_s"
        )
    # mean step: accurate to ~1e-7 relative even on a float32 grid, whose single steps are not
    dt = np.diff(t)
    dt_mean = float(t[-1] - t[0]) / (t.shape[0] - 1)
    if np.max(np.abs(dt - dt_mean)) > 1e-3 * dt_mean:
        raise ValueError(
            f"impact {impact.name!r}: the surrogate needs a uniform time grid, steps range "
            f"{dt.min():g}-{dt.max():g} s; resample the impact first"
        )
    if not np.isclose(dt_mean, dt_model, rtol=1e-6, atol=0.0):
        raise ValueError(
            f"impact {impact.name!r}: sampled at dt {dt_mean:g} s, the surrogate expects {dt_model:g} s; "
            "resample the impact first"
        )
    return dt_mean


def _chunks_for(brain: Brain, chunks: VoxelChunks | None) -> VoxelChunks:
    if chunks is None:
        return voxel_chunks(brain, FUSED_CHUNK_VOXELS)
    if chunks.n_voxels != brain.n_voxels:
        raise ValueError(f"chunks hold {chunks.n_voxels} voxels, the brain {brain.n_voxels}")
    return chunks


def _collect(
    model: SurrogateCNN, name: str, out: Any, since: float, margin: float, warn: bool
) -> WholeBrainResult:
    """The host side of one dispatched fused program: wait, check the profiles, flag, time."""
    values, flags, finite, peak = jax.device_get(out)
    elapsed = time.perf_counter() - since
    _raise_on_bad_profiles(name, finite, peak)
    flags = np.asarray(flags, dtype=bool)
    if warn:
        warn_out_of_distribution(model, int(flags.sum()), flags.shape[0], margin)
    return WholeBrainResult(
        name=name,
        values=np.asarray(values, dtype=np.float32),
        ood=flags,
        profiles_s=None,
        inference_s=elapsed,
        fused=True,
    )


def whole_brain_many(
    model: SurrogateCNN,
    head_model: AbstractHeadModel,
    impacts: Iterable[Impact],
    brain: Brain,
    *,
    t_s: Float[ArrayLike, " time"] | None = None,
    margin: float = 0.1,
    warn: bool = True,
    chunks: VoxelChunks | None = None,
    in_flight: int = 2,
) -> Iterator[WholeBrainResult]:
    """`whole_brain` (fused) of each impact in order, with up to `in_flight` programs running at once.

    Impact i + 1 is dispatched before impact i is collected, so on a multi-core CPU the two programs run
    side by side (XLA keeps each chunk's small ops mostly on one core) and the caller's host work on
    result i (writing maps) overlaps the computation of i + 1. The brain is chunked once for all impacts.

    Args:
        model, head_model, brain, t_s, margin, warn: as `whole_brain`.
        impacts: impacts on the surrogate's grid (any iterable; consumed lazily).
        chunks: `voxel_chunks(brain, n)` (default: `FUSED_CHUNK_VOXELS` voxels per chunk).
        in_flight: programs dispatched ahead, >= 1 (1: one at a time).

    Yields:
        One `WholeBrainResult` per impact, in order; `inference_s` is the wall time from when the impact
        became the oldest one in flight to its results on the host (these sum to the compute wall time).

    Raises:
        ValueError: as `whole_brain` (grid checked at dispatch, profile checks at collection), or
            `in_flight` < 1.
    """
    if int(in_flight) < 1:
        raise ValueError(f"in_flight must be >= 1, got {in_flight}")
    if brain.n_voxels == 0:
        for impact in impacts:
            yield whole_brain(model, head_model, impact, brain, t_s=t_s, margin=margin, warn=warn)
        return
    chunks = _chunks_for(brain, chunks)
    graphdef, state = inference_parts(model)
    queue: deque[tuple[str, Any]] = deque()
    since = time.perf_counter()
    for impact in impacts:
        _check_grid(model, impact, t_s)
        t_grid, acc = _impact_grid(impact, t_s)
        out = _fused_maps(head_model, graphdef, state, t_grid, acc, chunks, float(margin))  # async dispatch
        queue.append((impact.name, out))
        if len(queue) >= int(in_flight):
            name, out = queue.popleft()
            result = _collect(model, name, out, since, float(margin), warn)
            yield result
            since = time.perf_counter()
    while queue:
        name, out = queue.popleft()
        result = _collect(model, name, out, since, float(margin), warn)
        yield result
        since = time.perf_counter()


def whole_brain(
    model: SurrogateCNN,
    head_model: AbstractHeadModel,
    impact: Impact,
    brain: Brain,
    *,
    t_s: Float[ArrayLike, " time"] | None = None,
    chunk_voxels: int = DEFAULT_CHUNK_VOXELS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    margin: float = 0.1,
    warn: bool = True,
    fused: bool = True,
    chunks: VoxelChunks | None = None,
) -> WholeBrainResult:
    """Axonal injury maps of one impact: head model -> fiber strain profiles -> surrogate, every voxel.

    Fused (default): one compiled program per impact (module docstring) over voxel chunks of
    `FUSED_CHUNK_VOXELS` (or the given `chunks`); the outputs and flags of the unfused path to float32
    rounding (tested to 1e-5 of each output's maximum), several times faster on the CPU
    (benchmarks/bench_predict.py). For many impacts, `whole_brain_many` keeps two programs in flight.

    Args:
        model: a trained `SurrogateCNN`; its grid (`config.n_time` samples at `config.dt_s`) must match the
            profile grid.
        head_model: e.g. `axojax.headmodel.ReducedHeadModel()`.
        impact: one impact on the surrogate's grid (e.g. `axojax.kinematics.resample_impact(imp)` for
            100 ms at 1 ms), or any record together with `t_s`.
        brain: white-matter voxels [mm] and fibers.
        t_s: profile time grid [s] (see `impact_profiles`); None: the impact's samples.
        chunk_voxels: voxels per compiled profile chunk (unfused path).
        batch_size: profiles per compiled inference batch (unfused path).
        margin: OOD tolerance, see `axojax.surrogate.check_inputs`.
        warn: warn when voxels are out of distribution.
        fused: one program per impact (True) or profiles first, then the surrogate (False).
        chunks: `voxel_chunks(brain, n)` built once for many impacts (fused path; default: built here with
            `FUSED_CHUNK_VOXELS`).

    Returns:
        A `WholeBrainResult` named after the impact. Unfused: both timings; fused (`fused` True):
        `profiles_s` None and `inference_s` the whole program (solve, profiles, OOD check, surrogate,
        results on the host); `compute_s` is the total either way.

    Raises:
        ValueError: a profile grid that is not uniform or does not match the surrogate's (samples, step;
            checked before any strain is computed), or the errors of `impact_profiles`.
    """
    dt_mean = _check_grid(model, impact, t_s)
    if fused and brain.n_voxels:
        chunks = _chunks_for(brain, chunks)
        t_grid, acc = _impact_grid(impact, t_s)
        graphdef, state = inference_parts(model)
        start = time.perf_counter()
        out = _fused_maps(head_model, graphdef, state, t_grid, acc, chunks, float(margin))
        return _collect(model, impact.name, out, start, float(margin), warn)
    start = time.perf_counter()
    profiles = impact_profiles(head_model, impact, brain, t_s=t_s, chunk_voxels=chunk_voxels)
    profiles.block_until_ready()
    profiles_s = time.perf_counter() - start
    result = predict_maps(
        model,
        profiles,
        name=impact.name,
        batch_size=batch_size,
        margin=margin,
        dt_s=dt_mean,
        warn=warn,
    )
    return dataclasses.replace(result, profiles_s=profiles_s)
