"""Calibration of `AxonParams` by gradient through the ODE (optax) against a set of targets.

A `Target` is a loading (one or a few strain histories on one time grid), a quantity of the
simulated histories (an output or a derived number), the value or range it should have, a weight
and its source. `calibrate` fits the named free parameters in log space inside bounds,

    log p = log lo + (log hi - log lo) * sigmoid(z),      loss = sum_k w_k (excess_k / scale_k)^2,

where excess_k is how far target k's quantity lies outside [lower_k, upper_k] (0 inside), and
returns the fitted parameters with a before/after report of every target.

Recalibrating to your own data: build `Target`s from your loadings (`ramp_hold` or any strain
history) and measured values, pick the free parameters, and call
``calibrate(targets, AxonParams.male(), free=("tau_relaxation_ms", ...), key=jax.random.key(0))``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, PRNGKeyArray

from . import _model, _records
from ._params import AxonParams
from ._simulate import AxonHistory, SolverSettings, _solve_batch

Quantity = Callable[[AxonHistory], Array]


# ---------------------------------------------------------------- quantities of simulated histories
def _first_crossing(x: Array, y: Array, level) -> Array:
    """x where y first reaches `level` (linear interpolation); differentiable in x and y.

    If y never reaches it, x[-1] * level / max(y) (a smooth continuation, > x[-1], so a range target
    on it still has a gradient).
    """
    reached = y >= level
    k = jnp.argmax(reached)
    km = jnp.maximum(k - 1, 0)
    dy = y[k] - y[km]
    frac = jnp.where(dy > 0, (level - y[km]) / jnp.where(dy > 0, dy, 1.0), 1.0)
    at = jnp.where(k > 0, x[km] + frac * (x[k] - x[km]), x[0])
    never = x[-1] * level / jnp.maximum(_model.peak(y), 1e-12)
    return jnp.where(jnp.any(reached), at, never)


def output(name: str, i: int = 0) -> Quantity:
    """Peak over time of history field `name` of loading `i` (e.g. 'nf_failure_pct', 'mt_strain')."""

    def q(h: AxonHistory) -> Array:
        return _model.peak(getattr(h, name)[i])

    q.__name__ = f"peak {name}" + (f" [{i}]" if i else "")
    return q


def by_class(name: str, cls: int, i: int = 0) -> Quantity:
    """Peak over time of a per-class history ('mt_strain_by_class', 'tau_failure_pct_by_class')."""

    def q(h: AxonHistory) -> Array:
        return _model.peak(getattr(h, name)[i, :, cls])

    q.__name__ = f"peak {name}[class {cls}]"
    return q


def crossing(x_name: str, y_name: str, level: float, i: int = 0) -> Quantity:
    """History `x_name` (or 't_s') where history `y_name` of loading `i` first reaches `level`."""

    def q(h: AxonHistory) -> Array:
        return _first_crossing(getattr(h, x_name)[i], getattr(h, y_name)[i], level)

    q.__name__ = f"{x_name} at {y_name} = {level:g}"
    return q


def ratio(a: Quantity, b: Quantity) -> Quantity:
    def q(h):
        return a(h) / b(h)

    q.__name__ = f"({a.__name__}) / ({b.__name__})"
    return q


def difference(a: Quantity, b: Quantity) -> Quantity:
    def q(h):
        return a(h) - b(h)

    q.__name__ = f"({a.__name__}) - ({b.__name__})"
    return q


# ---------------------------------------------------------------- targets
@dataclasses.dataclass(frozen=True, eq=False)
class Target:
    """One calibration target.

    Attributes:
        name: short label.
        t_s: time grid [s], shape (T,).
        strain: loading(s) [-] on that grid, shape (K, T) (K = 1 for one loading).
        quantity: function of the `AxonHistory` of the K loadings (leading axis K) -> scalar.
        lower, upper: the range the quantity should lie in (None = unbounded; equal for a value).
        scale: residual scale in the quantity's unit (excess / scale is the residual).
        weight: weight of the squared residual (0: reported, not fitted).
        source: where the behaviour is published.
    """

    name: str
    t_s: np.ndarray
    strain: np.ndarray
    quantity: Quantity
    lower: float | None = None
    upper: float | None = None
    scale: float = 1.0
    weight: float = 1.0
    source: str = ""

    def __post_init__(self):
        t = np.asarray(self.t_s, float)
        e = np.atleast_2d(np.asarray(self.strain, float))
        if t.ndim != 1 or e.shape[-1] != t.size:
            raise ValueError(f"Target {self.name}: strain must be (K, T) with T = len(t_s), got {e.shape}")
        if self.lower is None and self.upper is None:
            raise ValueError(f"Target {self.name}: give lower, upper or both")
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise ValueError(f"Target {self.name}: lower {self.lower} > upper {self.upper}")
        if not self.scale > 0:
            raise ValueError(f"Target {self.name}: scale must be > 0, got {self.scale}")
        object.__setattr__(self, "t_s", t)
        object.__setattr__(self, "strain", e)

    def excess(self, q: ArrayLike) -> Array:
        """How far q lies outside [lower, upper], in units of `scale` (0 inside)."""
        q = jnp.asarray(q)
        r = jnp.zeros_like(q)
        if self.lower is not None:
            r = r + jnp.maximum(self.lower - q, 0.0)
        if self.upper is not None:
            r = r + jnp.maximum(q - self.upper, 0.0)
        return r / self.scale

    def range_text(self) -> str:
        if self.lower is not None and self.upper is not None:
            return f"{self.lower:g}" if self.lower == self.upper else f"[{self.lower:g}, {self.upper:g}]"
        return f">= {self.lower:g}" if self.lower is not None else f"<= {self.upper:g}"


def ramp_hold(t_s: np.ndarray, rate_per_s: float, amplitude: float) -> np.ndarray:
    """Ramp at `rate_per_s` [1/s] to `amplitude` [-], then hold."""
    return np.minimum(rate_per_s * np.asarray(t_s, float), amplitude)


@dataclasses.dataclass(frozen=True)
class TargetReport:
    name: str
    source: str
    quantity: str
    range: str
    weight: float
    before: float
    after: float
    met_before: bool
    met_after: bool


@dataclasses.dataclass(frozen=True)
class CalibrationResult:
    """Fitted parameters, the loss history and a before/after report of every target."""

    params: AxonParams
    free: tuple[str, ...]
    loss_history: np.ndarray
    report: tuple[TargetReport, ...]
    success: bool  # every solve succeeded at the end

    def table(self) -> str:
        """The report as a markdown table."""
        rows = [
            "| target | quantity | range | before | after | met | source |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in self.report:
            met = ("yes" if r.met_after else "**no**") + ("" if r.weight else " (not fitted)")
            rows.append(
                f"| {r.name} | {r.quantity} | {r.range} | {r.before:.4g} | {r.after:.4g} | {met} "
                f"| {r.source} |"
            )
        return "\n".join(rows)


# ---------------------------------------------------------------- evaluation
def _groups(targets: Sequence[Target]):
    """Targets sharing a time grid are simulated in one batch: [(t, strains (B, T), [(target, rows)])]."""
    groups: dict[bytes, tuple[np.ndarray, list[np.ndarray], list]] = {}
    for index, tg in enumerate(targets):
        key = tg.t_s.tobytes()
        t, rows, members = groups.setdefault(key, (tg.t_s, [], []))
        start = sum(r.shape[0] for r in rows)
        rows.append(tg.strain)
        members.append((index, tg, (start, start + tg.strain.shape[0])))
    return [(t, np.concatenate(rows), members) for t, rows, members in groups.values()]


def _evaluate(params: AxonParams, groups, settings: SolverSettings, dtype):
    """Quantities (N,) in the order of the targets and an all-solves-succeeded flag."""
    qs, ok = {}, jnp.asarray(True)
    p = params.astype(dtype)
    for t, strain, members in groups:
        t_ms = jnp.asarray(t * 1e3, dtype)
        res = _solve_batch(t_ms, jnp.asarray(strain, dtype), p, settings, True)
        ok = ok & jnp.all(res.success)
        for index, tg, rows in members:
            h = jax.tree_util.tree_map(lambda x, rows=rows: x[rows[0] : rows[1]], res.history)
            qs[index] = tg.quantity(h)
    return jnp.stack([qs[k] for k in range(len(qs))]), ok


def evaluate(
    targets: Sequence[Target], params: AxonParams, *, settings: SolverSettings | None = None
) -> np.ndarray:
    """Each target's quantity for `params` (float64 where x64 is on), shape (N,)."""
    settings = SolverSettings() if settings is None else settings
    dtype = jnp.asarray(np.zeros(1)).dtype
    q, _ = eqx.filter_jit(_evaluate)(params, _groups(targets), settings, dtype)
    return np.asarray(q)


# ---------------------------------------------------------------- the fit
def _bounds(free: Sequence[str], bounds: dict[str, tuple[float, float]] | None):
    out = []
    for name in free:
        b = (bounds or {}).get(name) or _records.record(name).bounds
        if b is None:
            raise ValueError(
                f"calibrate: no bounds for free parameter {name!r}; pass bounds={{{name!r}: (lo, hi)}}"
            )
        out.append(b)
    return np.log(np.asarray(out, float))


class CalibrationLoss(eqx.Module):
    """The calibration loss in the sigmoid coordinate z of the free parameters (see module doc).

    `loss(z)` returns (loss, (quantities, all solves ok)); `to_params(z)` the parameters; `z0` the
    start. Built by `calibration_loss`.
    """

    targets: tuple = eqx.field(static=True)
    free: tuple[str, ...] = eqx.field(static=True)
    groups: list  # [(t, strains, [(index, target, rows)])]: arrays traced, the rest static under filter_jit
    settings: SolverSettings
    params: AxonParams
    lo: Array
    hi: Array
    weights: Array
    z0: Array

    def to_params(self, z: Array) -> AxonParams:
        vals = jnp.exp(self.lo + (self.hi - self.lo) * jax.nn.sigmoid(z))
        return eqx.tree_at(lambda p: [getattr(p, n) for n in self.free], self.params, list(vals))

    def __call__(self, z: Array):
        dtype = self.z0.dtype
        q, ok = _evaluate(self.to_params(z), self.groups, self.settings, dtype)
        r = jnp.stack([tg.excess(q[k]) for k, tg in enumerate(self.targets)])
        return jnp.sum(self.weights * r * r), (q, ok)


def calibration_loss(
    targets: Sequence[Target],
    params: AxonParams,
    *,
    free: Sequence[str],
    bounds: dict[str, tuple[float, float]] | None = None,
    settings: SolverSettings | None = None,
) -> CalibrationLoss:
    """The loss `calibrate` minimises, as a differentiable function of z (for checks and other optimisers).

    Raises:
        ValueError: unknown or vector free fields, a start outside its bounds, missing bounds.
    """
    settings = SolverSettings() if settings is None else settings
    free = tuple(free)
    fields = {f.name for f in dataclasses.fields(AxonParams)}
    for name in free:
        if name not in fields:
            raise ValueError(f"calibrate: {name!r} is not an AxonParams field")
        if np.ndim(getattr(params, name)) != 0:
            raise ValueError(f"calibrate: {name!r} is not a scalar field")
    log_b = _bounds(free, bounds)
    x0 = np.log(np.asarray([float(getattr(params, n)) for n in free]))
    for name, x, (lo, hi) in zip(free, x0, log_b, strict=True):
        if not lo < x < hi:
            raise ValueError(
                f"calibrate: start {name} = {np.exp(x):.4g} outside its bounds "
                f"({np.exp(lo):.4g}, {np.exp(hi):.4g})"
            )
    dtype = jnp.asarray(np.zeros(1)).dtype
    groups = _groups(targets)
    lo, hi = jnp.asarray(log_b[:, 0], dtype), jnp.asarray(log_b[:, 1], dtype)
    u0 = (x0 - log_b[:, 0]) / (log_b[:, 1] - log_b[:, 0])
    z = jnp.asarray(np.log(u0 / (1.0 - u0)), dtype)
    weights = jnp.asarray([tg.weight for tg in targets], dtype)
    return CalibrationLoss(
        targets=tuple(targets),
        groups=groups,
        free=free,
        settings=settings,
        params=params.astype(dtype),
        lo=lo,
        hi=hi,
        weights=weights,
        z0=z,
    )


def calibrate(
    targets: Sequence[Target],
    params: AxonParams,
    *,
    free: Sequence[str],
    key: PRNGKeyArray,
    bounds: dict[str, tuple[float, float]] | None = None,
    steps: int = 100,
    learning_rate: float | optax.Schedule = 0.05,
    init_noise: float = 0.0,
    tol: float = 1e-10,
    settings: SolverSettings | None = None,
    callback: Callable[[int, float], None] | None = None,
) -> CalibrationResult:
    """Fit the `free` scalar fields of `params` to `targets` by Adam on the calibration loss.

    Args:
        targets: the `Target`s (weights 0 are reported only).
        params: starting parameters (the fields not in `free` stay as given).
        free: names of scalar `AxonParams` fields to fit, each positive.
        key: PRNG key for the start: z + init_noise * N(0, 1) in the sigmoid coordinate.
        bounds: {name: (lo, hi)} search ranges; default the record's `bounds`.
        steps, learning_rate: Adam iterations and step size (in the sigmoid coordinate z).
        init_noise: start perturbation (0: start at `params`, deterministic).
        tol: stop when the loss falls below it.
        settings: solver settings (default `SolverSettings()`).
        callback: called as callback(step, loss) after each evaluation (progress logging).

    Returns:
        `CalibrationResult`: fitted parameters (the best loss seen), losses, before/after report.

    Raises:
        ValueError: unknown or vector free fields, a value outside its bounds, missing bounds.
        RuntimeError: a solve fails at the starting parameters (the loss would be NaN).
    """
    loss_fn = calibration_loss(targets, params, free=free, bounds=bounds, settings=settings)
    free = loss_fn.free
    to_params = loss_fn.to_params
    z = loss_fn.z0 + init_noise * jax.random.normal(key, loss_fn.z0.shape, loss_fn.z0.dtype)
    value_and_grad = eqx.filter_jit(lambda f, z: jax.value_and_grad(f, has_aux=True)(z))
    opt = optax.adam(learning_rate)
    state = opt.init(z)

    @eqx.filter_jit
    def update(z, g, state):
        with jax.numpy_dtype_promotion("standard"):  # optax mixes its int32 step count with floats
            upd, state = opt.update(g, state, z)
        return optax.apply_updates(z, upd), state

    losses: list[float] = []
    best = (np.inf, z, None)
    q_before = None
    for _ in range(max(steps, 0) + 1):
        (loss, (q, ok)), g = value_and_grad(loss_fn, z)
        loss_f = float(loss)
        if q_before is None:
            if not bool(ok) or not np.isfinite(loss_f):
                raise RuntimeError("calibrate: a solve failed at the starting parameters (loss is NaN)")
            q_before = np.asarray(q)
        if not bool(ok) or not np.isfinite(loss_f) or not np.all(np.isfinite(np.asarray(g))):
            break  # keep the best point so far; a failed solve is never a silent NaN in the result
        losses.append(loss_f)
        if callback is not None:
            callback(len(losses) - 1, loss_f)
        if loss_f < best[0]:
            best = (loss_f, z, np.asarray(q))
        if loss_f < tol or len(losses) > steps:
            break
        z, state = update(z, g, state)
    _, z_best, q_after = best
    fitted = to_params(z_best)
    # a clean float copy of the fitted values (no tracers)
    fitted = params.replace(**{n: float(getattr(fitted, n)) for n in free})
    report = tuple(
        TargetReport(
            name=tg.name,
            source=tg.source,
            quantity=getattr(tg.quantity, "__name__", "quantity"),
            range=tg.range_text(),
            weight=tg.weight,
            before=float(q_before[k]),
            after=float(q_after[k]),
            met_before=bool(tg.excess(jnp.asarray(q_before[k])) == 0),
            met_after=bool(tg.excess(jnp.asarray(q_after[k])) == 0),
        )
        for k, tg in enumerate(targets)
    )
    return CalibrationResult(
        params=fitted,
        free=free,
        loss_history=np.asarray(losses),
        report=report,
        success=bool(np.all(np.isfinite(q_after))),
    )
