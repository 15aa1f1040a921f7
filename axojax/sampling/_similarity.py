"""Similarity of fiber strain profiles: the two measures of adaptive sampling (pure jnp).

Both measures are symmetric, equal 1 for identical profiles and lie in [-1, 1]:

- ``"nrmse"`` (amplitude-aware): ``s(a, b) = 1 - RMSE(a, b) / max(peak|a|, peak|b|, floor)`` with
  ``RMSE(a, b) = sqrt(mean_t (a_t - b_t)^2)``, ``peak|a| = max_t |a_t|`` and the strain floor
  ``NRMSE_FLOOR`` = 0.01 (1 % strain): below it, differences are measured against 1 % strain rather
  than against the profiles' own tiny peaks, so sub-injurious profiles of different shapes count as
  alike instead of filling the training set (without the floor, half of a 2,000-profile selection
  on the default data peaked below 0.2 % strain). Two all-zero profiles have similarity 1. A copy
  scaled by c > 0 (peaks above the floor) has ``s = 1 - |1 - c| rms(a) / (max(1, c) peak|a|) < 1``.
- ``"xcorr"`` (shape): the maximum over lags ``|l| <= max_lag`` samples of the normalised
  (uncentred) cross-correlation ``sum_t a_{t+l} b_t / (||a|| ||b||)``, the profiles padded with zeros
  outside the time window (no wrap-around). Scale-free (a copy scaled by c > 0 has ``s = 1``) and
  shift-tolerant; not mean-centred, because zero strain is a physical baseline, and not
  sign-blind, because tension and compression differ. Two all-zero profiles have similarity 1, an
  all-zero and a non-zero one 0.

Matrices are computed from Gram products (one matmul per block, `Precision.HIGHEST` so GPUs do
not drop to TF32). Near s = 1 the Gram form of "nrmse" loses digits to cancellation: about 1e-4 in
float32, 1e-8 in float64.
"""

from __future__ import annotations

import functools
from typing import Literal

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

Measure = Literal["nrmse", "xcorr"]
MEASURES: tuple[str, ...] = ("nrmse", "xcorr")
DEFAULT_MAX_LAG = 5  # samples; 5 ms at the study's 1 ms resolution
NRMSE_FLOOR = 0.01  # [-] strain scale below which "nrmse" stops normalising by the peak (see above)
_HI = jax.lax.Precision.HIGHEST


def check_measure(measure: str, max_lag: int, n_time: int) -> None:
    """Raise ValueError unless `measure` is known and `0 <= max_lag < n_time`."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    if not 0 <= int(max_lag) < n_time:
        raise ValueError(f"max_lag must be in 0..{n_time - 1} samples (T = {n_time}), got {max_lag}")


def _stats(x: Float[Array, "n time"], measure: str) -> tuple[Float[Array, " n"], Float[Array, " n"]]:
    """Per-profile statistics the measure needs: (sum of squares, peak |x|) or (norm, norm)."""
    sq = jnp.sum(x * x, axis=-1)
    if measure == "nrmse":
        return sq, jnp.maximum(jnp.max(jnp.abs(x), axis=-1), jnp.asarray(NRMSE_FLOOR, x.dtype))
    norm = jnp.sqrt(sq)
    return norm, norm


def _shifted(x: Float[Array, "n time"], max_lag: int) -> Float[Array, "n lag time"]:
    """x shifted by l = -max_lag..max_lag samples: out[:, l + max_lag, t] = x[:, t + l] (zero-padded)."""
    n_time = x.shape[-1]
    xp = jnp.pad(x, ((0, 0), (max_lag, max_lag)))
    return jnp.stack([xp[:, k : k + n_time] for k in range(2 * max_lag + 1)], axis=1)


def _sim_matrix(
    a: Float[Array, "na time"],
    a_stats: tuple[Array, Array],
    b: Float[Array, "nb time"],
    b_stats: tuple[Array, Array],
    measure: str,
    max_lag: int,
) -> Float[Array, "na nb"]:
    """Similarity of every row of `a` to every row of `b`."""
    if measure == "nrmse":
        sq_a, pk_a = a_stats
        sq_b, pk_b = b_stats
        g = jnp.matmul(a, b.T, precision=_HI)
        d2 = jnp.maximum(sq_a[:, None] + sq_b[None, :] - 2 * g, 0)
        rmse = jnp.sqrt(d2 / a.shape[-1])
        den = jnp.maximum(pk_a[:, None], pk_b[None, :])
        ok = den > 0
        return jnp.where(ok, 1 - rmse / jnp.where(ok, den, 1), 1)
    na, _ = a_stats
    nb, _ = b_stats
    n_lag = 2 * max_lag + 1
    sh = _shifted(a, max_lag).reshape(a.shape[0] * n_lag, a.shape[-1])
    g = jnp.matmul(sh, b.T, precision=_HI).reshape(a.shape[0], n_lag, b.shape[0])
    g = jnp.max(g, axis=1)
    den = na[:, None] * nb[None, :]
    ok = den > 0
    both_zero = (na[:, None] == 0) & (nb[None, :] == 0)
    zero_case = jnp.where(both_zero, 1, 0).astype(a.dtype)
    return jnp.where(ok, g / jnp.where(ok, den, 1), zero_case)


def similarity(
    a: Float[ArrayLike, " time"],
    b: Float[ArrayLike, " time_b"],
    measure: Measure | str = "nrmse",
    *,
    max_lag: int = DEFAULT_MAX_LAG,
) -> Float[Array, ""]:
    """Similarity of two profiles (see the module docstring for the definitions).

    Args:
        a, b: fiber strain profiles on the same time grid [-].
        measure: "nrmse" (amplitude-aware) or "xcorr" (shape, max over lags).
        max_lag: largest lag of "xcorr" [samples].

    Returns:
        Similarity in [-1, 1] [-]; 1 for identical profiles.
    """
    a = jnp.asarray(a)
    b = jnp.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"profiles need the same shape (T,), got {a.shape} and {b.shape}")
    check_measure(measure, max_lag, a.shape[-1])
    return _pair(a, b, measure=measure, max_lag=int(max_lag))


@functools.partial(jax.jit, static_argnames=("measure", "max_lag"))
def _pair(a, b, *, measure, max_lag):
    if measure == "nrmse":  # direct difference: exact near s = 1
        rmse = jnp.sqrt(jnp.mean((a - b) ** 2))
        den = jnp.maximum(jnp.maximum(jnp.max(jnp.abs(a)), jnp.max(jnp.abs(b))), NRMSE_FLOOR)
        return 1 - rmse / den.astype(rmse.dtype)
    return _matrix(a[None], b[None], measure=measure, max_lag=max_lag)[0, 0]


@functools.partial(jax.jit, static_argnames=("measure", "max_lag"))
def _matrix(a, b, *, measure, max_lag):
    return _sim_matrix(a, _stats(a, measure), b, _stats(b, measure), measure, max_lag)


def similarity_matrix(
    a: Float[ArrayLike, "na time"],
    b: Float[ArrayLike, "nb time_b"],
    measure: Measure | str = "nrmse",
    *,
    max_lag: int = DEFAULT_MAX_LAG,
) -> Float[Array, "na nb"]:
    """Similarity of every profile of `a` to every profile of `b` [-] (one Gram matmul)."""
    a = jnp.asarray(a)
    b = jnp.asarray(b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"need (na, T) and (nb, T) on one time grid, got {a.shape} and {b.shape}")
    check_measure(measure, max_lag, a.shape[-1])
    return _matrix(a, b, measure=measure, max_lag=int(max_lag))


def max_similarity(
    queries: Float[ArrayLike, "nq time"],
    refs: Float[ArrayLike, "nr time_r"],
    measure: Measure | str = "nrmse",
    *,
    max_lag: int = DEFAULT_MAX_LAG,
    chunk: int = 256,
) -> Float[Array, " nq"]:
    """For each query profile, its largest similarity to any reference profile [-].

    Queries go through in chunks of `chunk` rows (`lax.map`), so memory stays at
    chunk x n_refs x (2 max_lag + 1).
    """
    q = jnp.asarray(queries)
    r = jnp.asarray(refs)
    if q.ndim != 2 or r.ndim != 2 or q.shape[1] != r.shape[1] or r.shape[0] == 0:
        raise ValueError(
            f"need queries (nq, T) and non-empty refs (nr, T) on one time grid, got {q.shape} and {r.shape}"
        )
    check_measure(measure, max_lag, q.shape[1])
    return _max_similarity(q, r, measure=measure, max_lag=int(max_lag), chunk=int(chunk))


@functools.partial(jax.jit, static_argnames=("measure", "max_lag", "chunk"))
def _max_similarity(q, r, *, measure, max_lag, chunk):
    nq = q.shape[0]
    n_chunks = -(-nq // chunk)
    qp = jnp.pad(q, ((0, n_chunks * chunk - nq), (0, 0))).reshape(n_chunks, chunk, q.shape[1])
    r_stats = _stats(r, measure)

    def one(qc):
        return jnp.max(_sim_matrix(qc, _stats(qc, measure), r, r_stats, measure, max_lag), axis=1)

    return jax.lax.map(one, qp).reshape(-1)[:nq]
