"""Agreement of two sets of input gradients: cosine similarity and relative norm error, per output."""

from __future__ import annotations

import dataclasses

import numpy as np
from jaxtyping import ArrayLike, Float

from ..axon import OUTPUT_NAMES


def _as_gradients(g: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(g, dtype=np.float64)
    if a.ndim != 3:
        raise ValueError(f"{name}: expected gradients of shape (batch, outputs, time), got {a.shape}")
    return a


def smooth_gradients(g: Float[ArrayLike, "batch out time"], sigma_samples: float) -> np.ndarray:
    """Gradients convolved along time with a unit-sum Gaussian of s.d. `sigma_samples` (zero padding).

    <K g, v> = <g, K v>: comparing smoothed gradients compares directional derivatives along smoothed,
    band-limited perturbations of the profile (a peak output's derivative is a one-sample spike that no
    band-limited perturbation resolves).
    """
    a = _as_gradients(g, "g")
    if not sigma_samples > 0:
        raise ValueError(f"sigma_samples must be positive, got {sigma_samples}")
    half = int(np.ceil(4.0 * sigma_samples))
    x = np.arange(-half, half + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (x / sigma_samples) ** 2)
    kernel /= kernel.sum()
    rows = a.reshape(-1, a.shape[-1])
    out = np.stack([np.convolve(r, kernel, mode="full")[half : half + a.shape[-1]] for r in rows])
    return out.reshape(a.shape)


def gradient_agreement(
    g_sur: Float[ArrayLike, "batch out time"], g_ode: Float[ArrayLike, "batch out time"]
) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarity and relative error of surrogate vs. mechanistic input gradients.

    For each profile b and output k, with a = g_sur[b, k, :] and r = g_ode[b, k, :] (d output / d strain
    sample, in output units per unit strain):

        cosine = <a, r> / (|a| |r|),        rel_error = |a - r| / |r|.

    Args:
        g_sur: surrogate gradients (B, K, T).
        g_ode: reference (ODE) gradients (B, K, T), same shape.

    Returns:
        `(cosine, rel_error)`, float64 arrays (B, K). NaN where the reference gradient is zero (e.g. an
        output that is identically 0 near the profile, like NF failure below its failure strain) or where
        either gradient is not finite. A zero surrogate gradient against a non-zero reference (e.g. a
        failure output clipped at 0 %) counts as cosine 0 and relative error 1: no information is no
        agreement. Never divides by zero silently.

    Raises:
        ValueError: shapes differ or are not 3-D.

    >>> import numpy as np
    >>> g = np.arange(1.0, 7.0).reshape(1, 2, 3)
    >>> cos, err = gradient_agreement(-g, g)
    >>> cos.tolist(), err.tolist()
    ([[-1.0, -1.0]], [[2.0, 2.0]])
    """
    a, r = _as_gradients(g_sur, "g_sur"), _as_gradients(g_ode, "g_ode")
    if a.shape != r.shape:
        raise ValueError(f"g_sur and g_ode must have the same shape, got {a.shape} and {r.shape}")
    finite = np.all(np.isfinite(a), axis=-1) & np.all(np.isfinite(r), axis=-1)
    a = np.where(finite[..., None], a, 0.0)
    r = np.where(finite[..., None], r, 0.0)
    na, nr = np.linalg.norm(a, axis=-1), np.linalg.norm(r, axis=-1)
    ok = finite & (nr > 0)
    cosine = np.full(na.shape, np.nan)
    rel = np.full(na.shape, np.nan)
    denom = np.where(ok & (na > 0), na * nr, 1.0)
    cosine[ok] = np.where(na > 0, np.sum(a * r, axis=-1) / denom, 0.0)[ok]
    rel[ok] = np.linalg.norm(a - r, axis=-1)[ok] / nr[ok]
    return np.clip(cosine, -1.0, 1.0), rel


def _stat(x: np.ndarray, fn) -> np.ndarray:
    """Column-wise statistic over finite entries; NaN for a column without any."""
    out = np.full(x.shape[1], np.nan)
    for k in range(x.shape[1]):
        col = x[:, k][np.isfinite(x[:, k])]
        if col.size:
            out[k] = fn(col)
    return out


@dataclasses.dataclass(frozen=True)
class AgreementReport:
    """Gradient agreement over a profile set.

    Attributes:
        output_names: names of the K outputs.
        cosine: cosine similarity per profile and output (B, K); NaN where undefined.
        rel_error: ||g_sur - g_ode|| / ||g_ode|| per profile and output (B, K); NaN where undefined.
        n_valid: profiles with a defined cosine, per output (K,).
        mean_cosine, median_cosine, mean_rel_error, median_rel_error: statistics over the defined
            entries, per output (K,); NaN if none is defined.
    """

    output_names: tuple[str, ...]
    cosine: np.ndarray
    rel_error: np.ndarray
    n_valid: np.ndarray
    mean_cosine: np.ndarray
    median_cosine: np.ndarray
    mean_rel_error: np.ndarray
    median_rel_error: np.ndarray

    def to_markdown(self, digits: int = 3) -> str:
        """A markdown table: one row per output (n, mean/median cosine, mean/median relative error)."""
        lines = [
            "| output | n | mean cosine | median cosine | mean rel. error | median rel. error |",
            "|---|---|---|---|---|---|",
        ]
        for k, name in enumerate(self.output_names):
            vals = (
                self.mean_cosine[k],
                self.median_cosine[k],
                self.mean_rel_error[k],
                self.median_rel_error[k],
            )
            cells = " | ".join("n/a" if not np.isfinite(v) else f"{v:.{digits}f}" for v in vals)
            lines.append(f"| {name} | {int(self.n_valid[k])} | {cells} |")
        return "\n".join(lines)


def agreement_report(
    g_sur: Float[ArrayLike, "batch out time"],
    g_ode: Float[ArrayLike, "batch out time"],
    output_names: tuple[str, ...] = OUTPUT_NAMES,
    *,
    smooth_sigma_samples: float = 0.0,
) -> AgreementReport:
    """`gradient_agreement` over a profile set, summarised per output (mean and median).

    Args:
        g_sur: surrogate input gradients (B, K, T).
        g_ode: mechanistic (ODE) input gradients (B, K, T).
        output_names: K names (default: the four axon outputs).
        smooth_sigma_samples: if > 0, compare `smooth_gradients` of both (s.d. in samples).

    Returns:
        `AgreementReport`.

    Raises:
        ValueError: shapes differ, or `output_names` does not have K entries.
    """
    if smooth_sigma_samples > 0:
        g_sur = smooth_gradients(g_sur, smooth_sigma_samples)
        g_ode = smooth_gradients(g_ode, smooth_sigma_samples)
    cosine, rel = gradient_agreement(g_sur, g_ode)
    if len(output_names) != cosine.shape[1]:
        raise ValueError(
            f"output_names has {len(output_names)} entries, gradients have {cosine.shape[1]} outputs"
        )
    return AgreementReport(
        output_names=tuple(output_names),
        cosine=cosine,
        rel_error=rel,
        n_valid=np.sum(np.isfinite(cosine), axis=0),
        mean_cosine=_stat(cosine, np.mean),
        median_cosine=_stat(cosine, np.median),
        mean_rel_error=_stat(rel, np.mean),
        median_rel_error=_stat(rel, np.median),
    )
