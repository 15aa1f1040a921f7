"""Public entry points of the axon model: validation at the edge, a jitted vmapped core, a chunked runner."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float, Int

from .. import _units
from .._validate import check_strain_values, check_time_grid
from . import _model
from ._params import AxonParams

OUTPUT_NAMES: tuple[str, str, str, str] = (
    "peak_mt_strain",
    "peak_axolemma_strain",
    "tau_failure_pct",
    "nf_failure_pct",
)


class SolverSettings(eqx.Module):
    """Adaptive Bosh3 settings (steps also land on every input sample, where the piecewise-linear
    strain has kinks). Tolerances apply to the internal state (um and -log fractions)."""

    rtol: float = eqx.field(static=True, default=1e-3)
    atol: float = eqx.field(static=True, default=1e-5)
    max_steps: int = eqx.field(static=True, default=4096)
    grid: _model.Grid = _model.Grid()


class AxonHistory(eqx.Module):
    """Time histories at the input time samples; leading axes (*batch, time)."""

    t_s: Float[Array, "*batch time"]
    fiber_strain: Float[Array, "*batch time"]
    mt_strain: Float[Array, "*batch time"]
    mt_strain_by_class: Float[Array, "*batch time classes"]
    axolemma_strain: Float[Array, "*batch time"]
    nf_strain: Float[Array, "*batch time"]
    tau_failure_pct: Float[Array, "*batch time"]
    tau_failure_pct_by_class: Float[Array, "*batch time classes"]
    nf_failure_pct: Float[Array, "*batch time"]
    tau_stretch_ratio: Float[Array, "*batch time"]


class AxonResponse(eqx.Module):
    """The four injury outputs of one profile (or a batch: leading axes `*batch`).

    Strains are fractions (0.05 = 5 %); failures are percentages (0-100). `success` is False where
    the ODE solve failed; those outputs are NaN and `status` holds diffrax's result code.
    """

    peak_mt_strain: Float[Array, "*batch"]
    peak_axolemma_strain: Float[Array, "*batch"]
    tau_failure_pct: Float[Array, "*batch"]
    nf_failure_pct: Float[Array, "*batch"]
    success: Bool[Array, "*batch"]
    status: Int[Array, "*batch"]
    history: AxonHistory | None = None

    def as_array(self) -> Float[Array, "*batch 4"]:
        """Outputs stacked in the order of `OUTPUT_NAMES`."""
        return jnp.stack([getattr(self, n) for n in OUTPUT_NAMES], axis=-1)


def _solve_one(t_ms, strain, params: AxonParams, settings: SolverSettings, with_history: bool):
    grid = settings.grid
    ip = _model.to_internal(params)
    geo = _model.geometry(ip, grid)
    interp = diffrax.LinearInterpolation(ts=t_ms, ys=strain)

    def rhs(t, y, args):
        return _model.vector_field(y, interp.evaluate(t), ip, geo, grid)

    y0 = _model.initial_state(params.n_classes, grid, strain.dtype)
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(rhs),
        diffrax.Bosh3(),
        t0=t_ms[0],
        t1=t_ms[-1],
        dt0=None,
        y0=y0,
        saveat=diffrax.SaveAt(ts=t_ms),
        stepsize_controller=diffrax.ClipStepSizeController(
            diffrax.PIDController(rtol=settings.rtol, atol=settings.atol), step_ts=t_ms
        ),
        max_steps=settings.max_steps,
        throw=False,
    )
    ok = diffrax.is_successful(sol.result)
    ro = jax.vmap(lambda y, e: _model.readout(y, e, ip, geo, grid))(sol.ys, strain)
    nan = jnp.asarray(jnp.nan, strain.dtype)

    def peak_over_time(x):
        return jnp.where(ok, _model.peak(x), nan)

    out = dict(
        peak_mt_strain=peak_over_time(ro.mt_strain),
        peak_axolemma_strain=peak_over_time(ro.axolemma_strain),
        tau_failure_pct=100.0 * peak_over_time(ro.tau_failed_fraction),
        nf_failure_pct=100.0 * peak_over_time(ro.nf_failed_fraction),
        success=ok,
        status=jnp.asarray(sol.result._value, jnp.int32),
    )
    if with_history:
        out["history"] = AxonHistory(
            t_s=t_ms * _units.MS_TO_S,
            fiber_strain=strain,
            mt_strain=ro.mt_strain,
            mt_strain_by_class=ro.mt_strain_by_class,
            axolemma_strain=ro.axolemma_strain,
            nf_strain=ro.nf_strain,
            tau_failure_pct=100.0 * ro.tau_failed_fraction,
            tau_failure_pct_by_class=100.0 * ro.tau_failed_by_class,
            nf_failure_pct=100.0 * ro.nf_failed_fraction,
            tau_stretch_ratio=ro.tau_stretch_ratio,
        )
    return AxonResponse(**out)


@eqx.filter_jit
def _solve_batch(t_ms, strain, params, settings, with_history):
    return jax.vmap(lambda s: _solve_one(t_ms, s, params, settings, with_history))(strain)


def _is_traced(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def validate_profile(t: ArrayLike, strain: ArrayLike, *, name: str = "strain") -> None:
    """Raise ValueError if a time grid [s] / fiber strain profile [-] pair is unusable.

    Checks shapes ((T,) and (T,) or (B, T)), finiteness, strictly increasing time and strain given
    as a fraction (|strain| <= 1; 5.0 for 5 % is a percent slip). Traced values are checked only for
    shape.
    """
    t_shape, s_shape = np.shape(t), np.shape(strain)
    if len(t_shape) != 1 or t_shape[0] < 2:
        raise ValueError(f"t: expected a 1-D time grid [s] with at least 2 samples, got shape {t_shape}")
    if len(s_shape) not in (1, 2) or s_shape[-1] != t_shape[0]:
        raise ValueError(
            f"{name}: expected shape (T,) or (B, T) with T = len(t) = {t_shape[0]}, got {s_shape}"
        )
    if not _is_traced(t):
        check_time_grid(t, where="", field="t")
    if not _is_traced(strain):
        check_strain_values(strain, where="", field=name)


def simulate(
    t: ArrayLike,
    strain: ArrayLike,
    params: AxonParams | None = None,
    *,
    history: bool = False,
    settings: SolverSettings | None = None,
) -> AxonResponse:
    """Simulate the axon model for one fiber strain profile or a batch of them.

    Args:
        t: time grid [s], strictly increasing, shape (T,); any spacing.
        strain: fiber strain eps_f(t) [-] as a fraction, shape (T,) or (B, T) (vmapped, one program).
        params: `AxonParams` (default `AxonParams.male()`), cast to the dtype of `strain`.
        history: also return time histories at the samples of `t`.
        settings: solver tolerances and discretisation.

    Returns:
        `AxonResponse` with leading axes matching `strain` without its time axis.

    Raises:
        ValueError: bad shapes, NaN, non-increasing t, strain in percent.

    Differentiable w.r.t. `strain` and every field of `params`, also under `jax.vmap` and jit, e.g.
    `jax.jacrev(lambda e: simulate(t, e).as_array())(e)` (4, T): reverse mode through the diffrax
    solve, with every peak (over time, positions and MT classes) taken by `peak`, whose derivative
    goes to one entry and stays finite at ties. A failed solve gives `success=False` and NaN
    outputs, and a warning (never a silent NaN).
    """
    validate_profile(t, strain)
    settings = SolverSettings() if settings is None else settings
    params = AxonParams.male() if params is None else params
    strain = jnp.asarray(strain)
    if not jnp.issubdtype(strain.dtype, jnp.floating):
        strain = strain.astype(jnp.float32)
    dtype = strain.dtype
    t_ms = jnp.asarray(t, dtype) * jnp.asarray(_units.S_TO_MS, dtype)
    params = params.astype(dtype)
    single = strain.ndim == 1
    batch = strain[None] if single else strain
    out = _solve_batch(t_ms, batch, params, settings, history)
    if single:
        out = jax.tree_util.tree_map(lambda x: x[0], out)
    if not _is_traced(out.success):
        n_bad = int(np.size(out.success) - np.count_nonzero(np.asarray(out.success)))
        if n_bad:
            warnings.warn(
                f"axon model: {n_bad} solve(s) failed (success=False, outputs NaN)",
                RuntimeWarning,
                stacklevel=2,
            )
    return out


def iter_chunks(n: int, chunk_size: int) -> Iterator[slice]:
    """Slices covering range(n) in chunks of `chunk_size`."""
    for start in range(0, n, chunk_size):
        yield slice(start, min(start + chunk_size, n))


def simulate_chunked(
    t: ArrayLike,
    strain: ArrayLike,
    params: AxonParams | None = None,
    *,
    chunk_size: int = 1024,
    settings: SolverSettings | None = None,
) -> dict[str, np.ndarray]:
    """Simulate a batch larger than memory in fixed-size chunks (one compiled program).

    `strain` may be a NumPy memmap: only one chunk is moved to the device at a time. The last chunk
    is padded to `chunk_size` (zero profiles) so no recompilation happens.

    Returns:
        dict of NumPy arrays (B,) for each name in `OUTPUT_NAMES`, plus `success` and `status`.
    """
    if np.ndim(strain) != 2:
        raise ValueError(f"strain: expected shape (B, T), got {np.shape(strain)}")
    validate_profile(t, np.zeros((1, np.shape(strain)[1])))
    n = np.shape(strain)[0]
    keys = (*OUTPUT_NAMES, "success", "status")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    dtype = np.asarray(strain[:1]).dtype
    if not np.issubdtype(dtype, np.floating):
        dtype = np.dtype(np.float32)
    for sl in iter_chunks(n, chunk_size):
        chunk = np.asarray(strain[sl], dtype=dtype)
        m = chunk.shape[0]
        if m < chunk_size:
            chunk = np.concatenate([chunk, np.zeros((chunk_size - m, chunk.shape[1]), dtype)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = simulate(t, chunk, params, settings=settings)
        for k in keys:
            parts[k].append(np.asarray(getattr(res, k))[:m])
    out = {k: np.concatenate(v) for k, v in parts.items()}
    n_bad = int(n - np.count_nonzero(out["success"]))
    if n_bad:
        warnings.warn(
            f"axon model: {n_bad} of {n} solve(s) failed (success=False, outputs NaN)",
            RuntimeWarning,
            stacklevel=2,
        )
    return out
