"""Input checks shared by the stages: time grids [s] and strain values [-].

No numerics beyond the checks themselves. Each check raises ValueError whose message names where
the value came from (a file, a function), the field and what was expected. `where` is a prefix
("data.npz" gives "data.npz: field 't_s' ..."); with `where=""` the message starts with the field.
`field` is printed as given, so a caller whose messages quote names passes e.g. "'t_s'".

Only concrete values are checked: callers that may see jax tracers check shapes themselves and call
these only on concrete arrays.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import ArrayLike

from ._units import MAX_PLAUSIBLE_DURATION_S, MAX_PLAUSIBLE_STRAIN

__all__ = ["check_time_grid", "check_finite", "check_strain_values"]


def _label(where: str, field: str) -> str:
    return f"{where}: field {field}" if where else field


def check_time_grid(
    t: ArrayLike,
    *,
    where: str,
    field: str = "t_s",
    min_samples: int = 2,
    max_duration_s: float | None = MAX_PLAUSIBLE_DURATION_S,
) -> np.ndarray:
    """A validated time grid [s] as float64: 1-D, at least `min_samples` samples, finite, strictly
    increasing and, unless `max_duration_s` is None, spanning at most `max_duration_s` (a longer
    grid is taken for milliseconds passed as seconds).

    Raises:
        ValueError: naming `where` and `field`, and what was expected.
    """
    label = _label(where, field)
    tn = np.asarray(t, dtype=np.float64)
    if tn.ndim != 1 or tn.shape[0] < min_samples:
        need = "a non-empty 1-D time grid [s]"
        if min_samples > 1:
            need += f" with at least {min_samples} samples"
        raise ValueError(f"{label} must be {need}, got shape {tn.shape}")
    check_finite(tn, where=where, field=field)
    step_ok = np.diff(tn) > 0
    if not np.all(step_ok):
        i, name = int(np.argmin(step_ok)), field.strip("'\"")
        raise ValueError(
            f"{label} must be strictly increasing (sorted, no repeats); first at "
            f"{name}[{i + 1}] = {tn[i + 1]:g} <= {name}[{i}] = {tn[i]:g}"
        )
    if max_duration_s is not None and tn[-1] - tn[0] > max_duration_s:
        raise ValueError(
            f"{label} spans {tn[-1] - tn[0]:.4g} s > {max_duration_s:g} s: milliseconds passed as "
            "seconds? Expected seconds (is time in ms?)"
        )
    return tn


def check_finite(x: ArrayLike, *, where: str, field: str) -> None:
    """Raise ValueError (naming `where`, `field` and the first bad index) if `x` holds NaN or inf."""
    xn = np.asarray(x)
    finite = np.isfinite(xn)
    if not np.all(finite):
        bad = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"{_label(where, field)} contains NaN or inf (first at index {bad}); expected finite values"
        )


def check_strain_values(x: ArrayLike, *, where: str, field: str) -> None:
    """Raise ValueError unless strain `x` [-] is finite and a fraction: |x| <= `MAX_PLAUSIBLE_STRAIN`
    (0.05 = 5 %; 5.0 is taken for a percentage).

    Raises:
        ValueError: naming `where` and `field`: NaN/inf (first index), or the peak |strain|.
    """
    xn = np.asarray(x, dtype=np.float64)
    check_finite(xn, where=where, field=field)
    peak = float(np.max(np.abs(xn), initial=0.0))
    if peak > MAX_PLAUSIBLE_STRAIN:
        raise ValueError(
            f"{_label(where, field)} reaches |strain| = {peak:.4g} > {MAX_PLAUSIBLE_STRAIN:g}; strain must "
            "be a fraction (0.05 = 5 %), this looks like a percentage (is it in percent?)"
        )
