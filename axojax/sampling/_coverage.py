"""How well a kept set covers the candidate pool: features, percentiles, KS distance, bin coverage.

Features of a profile eps(t) on the time grid t [s]:

- ``peak_strain`` = max_t |eps_t| [-];
- ``peak_strain_rate_per_s`` = max_k |eps_{k+1} - eps_k| / (t_{k+1} - t_k) [1/s];
- ``duration_s`` = time with |eps_t| >= peak_strain / 2 (full duration at half maximum, summed
  over all such samples, each sample weighted by its midpoint cell width) [s]; 0 for a zero
  profile.

Per feature the report gives percentiles of pool and kept set, the two-sample Kolmogorov-Smirnov
distance (max |F_pool - F_kept|, 0 = same distribution), and the bin coverage: the fraction of
the pool's non-empty histogram bins (`n_bins` equal-width bins over the pool's range) holding at
least one kept profile (1 = the kept set reaches every populated part of the range, tails
included).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._validate import check_time_grid
from ._stratify import check_profiles

FEATURES = ("peak_strain", "peak_strain_rate_per_s", "duration_s")
DEFAULT_PERCENTILES = (1.0, 5.0, 25.0, 50.0, 75.0, 95.0, 99.0)


@jax.jit
def _features(x, t):
    peak = jnp.max(jnp.abs(x), axis=-1)
    rate = jnp.max(jnp.abs(jnp.diff(x, axis=-1) / jnp.diff(t)[None, :]), axis=-1)
    edges = jnp.concatenate([t[:1], 0.5 * (t[1:] + t[:-1]), t[-1:]])
    width = jnp.diff(edges)
    above = (jnp.abs(x) >= 0.5 * peak[:, None]) & (peak[:, None] > 0)
    duration = jnp.sum(jnp.where(above, width[None, :], 0), axis=-1)
    return peak, rate, duration


def profile_features(
    profiles: Float[ArrayLike, "n time"], t_s: Float[ArrayLike, " time_t"]
) -> dict[str, Float[Array, " n"]]:
    """Peak |strain| [-], peak |strain rate| [1/s] and duration above half peak [s] per profile.

    Raises:
        ValueError: NaN/inf profiles, fewer than 2 samples, or a time grid that does not match.
    """
    x = jnp.asarray(profiles)
    check_profiles(x, "profiles", 2)
    t = jnp.asarray(t_s, dtype=x.dtype)
    if t.shape != (x.shape[1],) or x.shape[1] < 2:
        raise ValueError(
            f"t_s must have shape ({x.shape[1]},) with T >= 2 to match profiles {x.shape}, got {t.shape}"
        )
    check_time_grid(t, where="", field="t_s", max_duration_s=None)  # in the dtype the features use
    return dict(zip(FEATURES, _features(x, t), strict=True))


def ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov distance sup_x |F_a(x) - F_b(x)| [-]."""
    a = np.sort(np.asarray(a, np.float64))
    b = np.sort(np.asarray(b, np.float64))
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / a.size
    fb = np.searchsorted(b, grid, side="right") / b.size
    return float(np.max(np.abs(fa - fb)))


def bin_coverage(pool: np.ndarray, kept: np.ndarray, n_bins: int) -> float:
    """Fraction of the pool's non-empty equal-width bins that hold at least one kept value [-]."""
    lo, hi = float(np.min(pool)), float(np.max(pool))
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, n_bins + 1)
    hp, _ = np.histogram(pool, edges)
    hk, _ = np.histogram(np.clip(kept, lo, hi), edges)
    filled = hp > 0
    return float(np.mean(hk[filled] > 0))


@dataclasses.dataclass(frozen=True)
class FeatureCoverage:
    """Coverage numbers of one feature (units: those of the feature)."""

    percentiles: tuple[float, ...]
    pool: tuple[float, ...]
    kept: tuple[float, ...]
    ks_distance: float
    bin_coverage: float
    n_bins: int


@dataclasses.dataclass(frozen=True)
class CoverageReport:
    """Distribution coverage of a kept set vs. its candidate pool, per feature.

    Attributes:
        features: `FeatureCoverage` by feature name (see `FEATURES`).
        pool_values, kept_values: the feature values themselves (numpy arrays), for plots.
        n_pool, n_kept: set sizes.
    """

    features: dict[str, FeatureCoverage]
    pool_values: dict[str, np.ndarray]
    kept_values: dict[str, np.ndarray]
    n_pool: int
    n_kept: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready numbers (no per-profile values)."""
        return {
            "n_pool": self.n_pool,
            "n_kept": self.n_kept,
            "features": {k: dataclasses.asdict(v) for k, v in self.features.items()},
        }


def coverage_report(
    pool: Float[ArrayLike, "n_pool time"],
    kept: Float[ArrayLike, "n_kept time_k"],
    t_s: Float[ArrayLike, " time_t"],
    *,
    n_bins: int = 20,
    percentiles: tuple[float, ...] = DEFAULT_PERCENTILES,
) -> CoverageReport:
    """Compare peak strain, peak strain rate and duration of the kept set with the pool.

    Args:
        pool: all candidate profiles (e.g. the stratified training candidates) [-].
        kept: the kept profiles (e.g. `Selection.profiles`) [-].
        t_s: time grid [s].
        n_bins: equal-width histogram bins for the bin coverage.
        percentiles: percentiles to report [%].

    Returns:
        The `CoverageReport`.

    Raises:
        ValueError: an empty pool or kept set, NaN/inf, mismatched time grids, n_bins < 1.
    """
    p = jnp.asarray(pool)
    k = jnp.asarray(kept)
    for name, arr in (("pool", p), ("kept", k)):
        if arr.ndim != 2 or arr.shape[0] == 0:
            raise ValueError(f"{name} must be a non-empty (n, T) array, got shape {arr.shape}")
    if int(n_bins) < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    fp = {n: np.asarray(v) for n, v in profile_features(p, t_s).items()}
    fk = {n: np.asarray(v) for n, v in profile_features(k, t_s).items()}
    q = tuple(float(x) for x in percentiles)
    feats = {
        name: FeatureCoverage(
            percentiles=q,
            pool=tuple(float(v) for v in np.percentile(fp[name], q)),
            kept=tuple(float(v) for v in np.percentile(fk[name], q)),
            ks_distance=ks_distance(fp[name], fk[name]),
            bin_coverage=bin_coverage(fp[name], fk[name], int(n_bins)),
            n_bins=int(n_bins),
        )
        for name in FEATURES
    }
    return CoverageReport(feats, fp, fk, int(p.shape[0]), int(k.shape[0]))
