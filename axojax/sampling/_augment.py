"""Amplitude variants of training profiles: the same impact a little milder or more severe.

The reduced head model is linear in the head's angular acceleration up to the second-order
(Green–Lagrange) term, so scaling an impact by a factor a scales its fiber strain profiles by
about a. The variants are therefore profiles the training impacts would have produced at other
severities; their axon outputs are simulated (never copied from the source), so nothing about
the axon response is assumed. They fill the amplitude gaps between the training impacts where
tau failure switches: a profile at the tau-failure threshold moves from 14 % to 43 % failure
over a 10 % change in amplitude (measured on the default run's worst-case set).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from ._stratify import check_profiles

DEFAULT_SCALE_RANGE = (0.75, 1.25)


def amplitude_variants(
    profiles: Float[ArrayLike, "n time"],
    key: PRNGKeyArray,
    *,
    copies: int = 1,
    scale_range: tuple[float, float] = DEFAULT_SCALE_RANGE,
    max_peak: float | None = None,
) -> tuple[Float[Array, "m time"], Int[Array, " m"], Float[Array, " m"]]:
    """Scaled copies a·ε(t) of each profile, a ~ U(scale_range), m = copies · n.

    Args:
        profiles: fiber strain profiles [-] (fractions), shape (n, T).
        key: PRNG key of the scale factors.
        copies: variants per profile (>= 1).
        scale_range: (low, high) of the uniform scale factor [-], 0 < low <= high.
        max_peak: largest peak |strain| [-] a variant may reach (default: the largest of
            `profiles`), so that the variants do not reach past the most severe source profile;
            a factor that would pass it is lowered to reach it exactly. (Peak strain rate is
            not capped: a variant may reach 1.25x the source's rate, and the surrogate's
            training range, which its out-of-distribution check uses, includes it.)

    Returns:
        (variants [-] (m, T), source row of each (m,), scale factor used (m,)); copy c of
        profile i is row c·n + i.
    """
    x = jnp.asarray(profiles)
    check_profiles(x, "amplitude_variants: profiles", 2)
    if int(copies) < 1:
        raise ValueError(f"amplitude_variants: copies must be >= 1, got {copies}")
    lo, hi = (float(v) for v in scale_range)
    if not 0.0 < lo <= hi:
        raise ValueError(
            f"amplitude_variants: scale_range must be (low, high) with 0 < low <= high, got {scale_range}"
        )
    peak = jnp.max(jnp.abs(x), axis=-1)  # (n,)
    cap = jnp.max(peak) if max_peak is None else jnp.asarray(max_peak, x.dtype)
    if not float(cap) > 0.0:
        raise ValueError(f"amplitude_variants: max_peak must be > 0, got {float(cap)}")
    n = x.shape[0]
    scale = jax.random.uniform(key, (int(copies), n), x.dtype, lo, hi)
    limit = jnp.where(peak > 0.0, cap / jnp.where(peak > 0.0, peak, 1.0), hi)
    scale = jnp.minimum(scale, limit[None, :]).reshape(-1)
    source = jnp.tile(jnp.arange(n), int(copies))
    return x[source] * scale[:, None], source, scale
