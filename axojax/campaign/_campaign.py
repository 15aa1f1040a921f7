"""Resumable simulation campaign: the axon model over a profile selection, chunk by chunk."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

import numpy as np
from jaxtyping import ArrayLike, Float, Int

from .. import parallel
from .._typing import ProfileBatch, TimeGrid
from ..axon import OUTPUT_NAMES, AxonParams, SolverSettings, simulate, validate_profile
from . import store
from ._progress import ProgressBar
from ._result import NOT_RUN, CampaignResult, check_ids

DEFAULT_CHUNK_SIZE = 256
DEFAULT_RETRIES = 2


def tighter_settings(
    settings: SolverSettings, *, rtol_factor: float = 0.1, steps_factor: int = 4
) -> SolverSettings:
    """Settings for a retry: rtol x `rtol_factor` (default /10), max_steps x `steps_factor` (default
    x4); atol and the spatial grid unchanged (so the outputs stay comparable)."""
    return SolverSettings(
        rtol=settings.rtol * rtol_factor,
        atol=settings.atol,
        max_steps=int(settings.max_steps * steps_factor),
        grid=settings.grid,
    )


def default_retry_settings(
    settings: SolverSettings, retries: int = DEFAULT_RETRIES
) -> tuple[SolverSettings, ...]:
    """`retries` successively tighter settings (`tighter_settings` applied 1, 2, ... times)."""
    out = []
    s = settings
    for _ in range(retries):
        s = tighter_settings(s)
        out.append(s)
    return tuple(out)


def _pad_rows(x: np.ndarray, size: int) -> np.ndarray:
    """Pad with zero profiles to `size` rows, so every call has the same (compiled) batch shape."""
    if x.shape[0] == size:
        return x
    return np.concatenate([x, np.zeros((size - x.shape[0], x.shape[1]), x.dtype)])


def _simulate_rows(batch, t_s, params, settings):
    return simulate(t_s, batch, params, settings=settings)


def _solve(t_s, batch, params, settings):
    with warnings.catch_warnings():
        # failures are recorded per row (success, status) and retried; no warning per call
        warnings.simplefilter("ignore", RuntimeWarning)
        # rows split over the local devices (zero rows pad to a multiple of the device count);
        # with one device this is simulate(t_s, batch, params, settings=settings)
        res = parallel.run_sharded(_simulate_rows, (batch,), (t_s, params, settings), pad_mode="zeros")
    outputs = np.asarray(res.as_array(), np.float64)
    ok = np.asarray(res.success, np.bool_) & np.all(np.isfinite(outputs), axis=-1)
    return outputs, ok, np.asarray(res.status, np.int32)


def run_chunk(
    t_s: Float[np.ndarray, " time"],
    chunk: Float[np.ndarray, "m time"],
    params: AxonParams,
    attempt_settings: Sequence[SolverSettings],
    chunk_size: int,
) -> dict[str, np.ndarray]:
    """Solve one chunk: first attempt on every row, each retry only on the rows still failing.

    Every call is padded to `chunk_size` rows, so each settings entry compiles once per campaign;
    the rows are split over the local devices (`axojax.parallel.run_sharded`).

    Returns:
        outputs (m, 4) (NaN where failed), success (m,), status (m,) (diffrax code of the last
        attempt), attempts (m,), status_by_attempt (m, len(attempt_settings)) (-1 = not run).
    """
    m = chunk.shape[0]
    outputs = np.full((m, len(OUTPUT_NAMES)), np.nan)
    success = np.zeros(m, np.bool_)
    status = np.zeros(m, np.int32)
    attempts = np.zeros(m, np.int32)
    status_by_attempt = np.full((m, len(attempt_settings)), NOT_RUN, np.int32)
    todo = np.arange(m)
    for k, settings in enumerate(attempt_settings):
        if todo.size == 0:
            break
        out, ok, st = _solve(t_s, _pad_rows(chunk[todo], chunk_size), params, settings)
        out, ok, st = out[: todo.size], ok[: todo.size], st[: todo.size]
        outputs[todo] = np.where(ok[:, None], out, np.nan)
        success[todo] = ok
        status[todo] = st
        attempts[todo] = k + 1
        status_by_attempt[todo, k] = st
        todo = todo[~ok]
    return dict(
        outputs=outputs,
        success=success,
        status=status,
        attempts=attempts,
        status_by_attempt=status_by_attempt,
    )


def run_campaign(
    t_s: TimeGrid,
    profiles: ProfileBatch,
    out_dir: str | os.PathLike,
    *,
    ids: Int[ArrayLike, "batch 2"] | None = None,
    params: AxonParams | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    settings: SolverSettings | None = None,
    retry_settings: Sequence[SolverSettings] | None = None,
    progress: bool = True,
) -> CampaignResult:
    """Run the axon model over a profile selection, chunk by chunk, resumably.

    In a multi-process run (`axojax.parallel.initialize_distributed`), every process calls this with
    the same arguments and a shared `out_dir`; each solves its own share of the chunks.

    Each finished chunk is written atomically to `out_dir` (see `axojax.campaign.store`). Killed
    at any point and called again with the same arguments, the campaign resumes at the first
    unfinished chunk and ends with the same results as an uninterrupted run. Called again on a
    finished campaign, it only reads the results back.

    A row whose solve fails (diffrax status other than successful, or a non-finite output) is
    retried, alone with the other failing rows of its chunk, with each of `retry_settings` in turn;
    a row that still fails is stored with success False, NaN outputs and its diffrax status per
    attempt, and `training_arrays` leaves it out.

    Args:
        t_s: time grid [s], shape (T,), strictly increasing.
        profiles: fiber strain profiles [-] (fractions), shape (N, T); may be a NumPy memmap
            (only one chunk is read at a time for solving; the inputs are copied to `out_dir`).
        out_dir: campaign directory (created if needed).
        ids: origin of each profile, (impact index, voxel index), shape (N, 2) (default -1).
        params: axon parameters (default `AxonParams.male()`).
        chunk_size: profiles per chunk; every solve call has this batch size (the last chunk is
            padded with zero profiles), so the model compiles once per settings entry. With D local
            devices each solve is split over them (padded with zero profiles to a multiple of D);
            the stored results do not depend on D.
        settings: solver settings of the first attempt (default `SolverSettings()`).
        retry_settings: settings of the retries, in order (default: two retries, each with
            rtol / 10 and max_steps x 4 from the previous; `()` for no retry).
        progress: draw a progress bar on stderr.

    Returns:
        `CampaignResult` (as `load_campaign(out_dir)` returns it).

    Raises:
        ValueError: bad shapes or values (NaN, strain in percent, time not increasing), or
            `out_dir` holding a campaign over different inputs, parameters, settings, chunk size
            or axojax version.

    Warns:
        RuntimeWarning: if rows failed on every attempt (they are stored with success False).
    """
    t = np.asarray(t_s)
    if not np.issubdtype(t.dtype, np.floating):
        t = t.astype(np.float64)
    if np.ndim(profiles) != 2:
        raise ValueError(f"profiles: expected shape (N, T), got {np.shape(profiles)}")
    prof = profiles if isinstance(profiles, np.ndarray) else np.asarray(profiles)
    if not np.issubdtype(prof.dtype, np.floating):
        prof = prof.astype(np.float64)
    n = prof.shape[0]
    if n == 0:
        raise ValueError("profiles: empty selection (N = 0)")
    validate_profile(t, prof, name="profiles")
    id_arr = check_ids(ids, n)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer) or chunk_size < 1:
        raise ValueError(f"chunk_size: expected a positive int, got {chunk_size!r}")
    chunk_size = int(chunk_size)
    params = AxonParams.male() if params is None else params
    settings = SolverSettings() if settings is None else settings
    retries = default_retry_settings(settings) if retry_settings is None else tuple(retry_settings)
    attempt_settings = (settings, *retries)

    manifest = store.campaign_manifest(t, prof, id_arr, params, chunk_size, attempt_settings)
    # process 0 creates the directory; the others then check it (one process: a plain call)
    done = parallel.leader_first(
        lambda: store.open_campaign(out_dir, manifest, t, prof, id_arr), "axojax.campaign.open"
    )
    mine = parallel.process_share(manifest["n_chunks"])  # all chunks when single-process
    bar = ProgressBar(len(mine), done=len(done.intersection(mine)), enabled=progress)
    try:
        for i in mine:
            if i in done:
                continue
            start, stop = store.chunk_rows(manifest, i)
            arrays = run_chunk(t, np.asarray(prof[start:stop]), params, attempt_settings, chunk_size)
            store.write_chunk(out_dir, i, start, stop, arrays)
            bar.update(failed=int(np.count_nonzero(~arrays["success"])))
    finally:
        bar.close()
    parallel.sync_processes("axojax.campaign.chunks")
    result = store.load_campaign(out_dir)
    n_failed = int(np.count_nonzero(~result.usable))
    if parallel.process_index() == 0:
        store.mark_complete(out_dir, n_failed)
    if n_failed:
        warnings.warn(
            f"campaign {out_dir}: {n_failed} of {n} profile(s) failed on all "
            f"{len(attempt_settings)} attempt(s); stored with success=False, left out by "
            "training_arrays (reasons: result.failure_reasons())",
            RuntimeWarning,
            stacklevel=2,
        )
    return result
