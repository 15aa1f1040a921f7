"""Normalised parameter sensitivities of the mechanistic axon model, d log(output) / d log(parameter)."""

from __future__ import annotations

import dataclasses

import numpy as np
from jaxtyping import ArrayLike, Float

from ..axon import OUTPUT_NAMES, AxonParams, SolverSettings
from ._ode import OdeJacobians, ode_jacobians


def _flat_fields(params: AxonParams) -> list[tuple[str, str, tuple[int, ...]]]:
    """(label, field, index) per scalar entry; vector fields get one entry per element."""
    out = []
    for f in dataclasses.fields(params):
        shape = np.shape(getattr(params, f.name))
        if shape == ():
            out.append((f.name, f.name, ()))
        else:
            out.extend((f"{f.name}[{i}]", f.name, (i,)) for i in range(shape[0]))
    return out


@dataclasses.dataclass(frozen=True)
class ParameterSensitivity:
    """Elasticities S = (p / y) dy/dp = d log y / d log p of every output y w.r.t. every parameter p.

    Attributes:
        names: P parameter labels (`AxonParams` field names; vector fields as ``name[i]``).
        values: (P,) parameter values (field units).
        profile_names: B labels of the loading profiles.
        output_names: the 4 output names.
        outputs: (B, 4) output values.
        derivative: (P, B, 4) dy/dp [output unit per parameter unit].
        elasticity: (P, B, 4); NaN ("n/a") where y = 0 (e.g. NF failure 0 %: log y undefined), where
            p = 0 (log p undefined; e.g. a switched-off rate), or where the solve failed.
    """

    names: tuple[str, ...]
    values: np.ndarray
    profile_names: tuple[str, ...]
    output_names: tuple[str, ...]
    outputs: np.ndarray
    derivative: np.ndarray
    elasticity: np.ndarray

    def importance(self) -> np.ndarray:
        """(P,) max |S| over profiles and outputs, ignoring n/a entries (NaN if all are n/a)."""
        a = np.abs(self.elasticity.reshape(len(self.names), -1))
        out = np.full(len(self.names), np.nan)
        for i, row in enumerate(a):
            row = row[np.isfinite(row)]
            if row.size:
                out[i] = row.max()
        return out

    def ranking(self) -> list[str]:
        """Parameter labels by decreasing `importance` (all-n/a parameters last)."""
        imp = self.importance()
        key = np.where(np.isfinite(imp), -imp, np.inf)
        return [self.names[i] for i in np.argsort(key, kind="stable")]

    def to_markdown(self, top: int | None = None, digits: int = 3) -> str:
        """Ranked markdown table: one row per parameter, one column per (output, profile)."""
        order = self.ranking()[: top if top is not None else len(self.names)]
        cols = [(k, b) for k in range(len(self.output_names)) for b in range(len(self.profile_names))]
        head = " | ".join(f"{self.output_names[k]} ({self.profile_names[b]})" for k, b in cols)
        lines = [f"| rank | parameter | value | {head} |", "|" + "---|" * (3 + len(cols))]
        for r, name in enumerate(order, start=1):
            i = self.names.index(name)
            cells = " | ".join(
                "n/a"
                if not np.isfinite(self.elasticity[i, b, k])
                else f"{self.elasticity[i, b, k]:+.{digits}f}"
                for k, b in cols
            )
            lines.append(f"| {r} | `{name}` | {self.values[i]:.4g} | {cells} |")
        return "\n".join(lines)


def log_sensitivities(
    jac: OdeJacobians, params: AxonParams, profile_names: tuple[str, ...] | None = None
) -> ParameterSensitivity:
    """Elasticities from `ode_jacobians` output (see `ParameterSensitivity`). Zero divisions give n/a."""
    y = np.asarray(jac.outputs, np.float64)
    b = y.shape[0]
    names, values, derivs = [], [], []
    for label, field, idx in _flat_fields(params):
        names.append(label)
        values.append(float(np.asarray(getattr(params, field), np.float64)[idx]))
        d = np.asarray(getattr(jac.d_params, field), np.float64)  # (B, 4, *shape)
        derivs.append(d[(slice(None), slice(None)) + idx])
    p = np.asarray(values)
    d = np.stack(derivs)  # (P, B, 4)
    ok = (p[:, None, None] != 0.0) & (y[None] != 0.0) & np.isfinite(y[None]) & np.isfinite(d)
    el = np.full(d.shape, np.nan)
    safe_y = np.where(y != 0.0, y, 1.0)
    el[ok] = (p[:, None, None] * d / safe_y[None])[ok]
    if profile_names is None:
        profile_names = tuple(f"profile {i}" for i in range(b))
    if len(profile_names) != b:
        raise ValueError(f"profile_names has {len(profile_names)} entries, there are {b} profiles")
    return ParameterSensitivity(
        names=tuple(names),
        values=p,
        profile_names=tuple(profile_names),
        output_names=OUTPUT_NAMES,
        outputs=y,
        derivative=d,
        elasticity=el,
    )


def parameter_sensitivities(
    t_s: Float[ArrayLike, " time"],
    profiles: Float[ArrayLike, "batch time"],
    params: AxonParams | None = None,
    *,
    profile_names: tuple[str, ...] | None = None,
    settings: SolverSettings | None = None,
    chunk_size: int | None = None,
) -> ParameterSensitivity:
    """d log(output) / d log(parameter) for every `AxonParams` entry, per loading profile.

    Reverse mode through the diffrax solve w.r.t. the whole parameter pytree (`ode_jacobians`).

    Args:
        t_s: time grid [s], shape (T,).
        profiles: fiber strain [-], shape (B, T), e.g. a slow and a fast loading profile.
        params: parameters (default `AxonParams.male()`).
        profile_names: B labels for the table (default "profile i").
        settings: solver settings.
        chunk_size: see `ode_jacobians` (reuse one compiled program across calls).

    Returns:
        `ParameterSensitivity`.

    Raises:
        ValueError: bad profiles or a wrong number of names.
    """
    params = AxonParams.male() if params is None else params
    jac = ode_jacobians(t_s, profiles, params, settings=settings, chunk_size=chunk_size)
    return log_sensitivities(jac, params, profile_names)
