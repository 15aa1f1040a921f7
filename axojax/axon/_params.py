"""Parameters of the mechanistic axon model (the pytree; its values come from `_records`).

Units are those of the axon stage (see `axojax._units`): um, ms, pN. Field names carry the unit of
the value as the user gives it (``_gpa``, ``_nm2``, ``_pn_per_nm``, ...); `axojax.axon._model`
converts to the internal system.

Values, units, sources and marks: `axojax.axon._records` (the one source of truth).
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from . import _records


def _field(**kwargs):
    return eqx.field(converter=jnp.asarray, **kwargs)


class AxonParams(eqx.Module):
    """Parameters of the axon model (an equinox pytree: differentiable, vmappable).

    Every field is an array, so `jax.grad` w.r.t. any of them works. Make variants with
    `eqx.tree_at(lambda p: p.tau_relaxation_ms, params, 10.0)` or `params.replace(...)`.

    Values, units, sources and marks live in one place, `axojax.axon._records.RECORDS` (shown in
    docs/axon.md, generated from it); `male()` and `female()` are built from those records.
    """

    mt_youngs_modulus_gpa: Float[Array, ""] = _field()
    mt_area_nm2: Float[Array, ""] = _field()
    mt_lengths_um: Float[Array, " n_classes"] = _field()
    mt_length_fractions: Float[Array, " n_classes"] = _field()
    tau_density_per_um: Float[Array, ""] = _field()
    tau_stiffness_long_pn_per_nm: Float[Array, ""] = _field()
    tau_stiffness_inst_pn_per_nm: Float[Array, ""] = _field()
    tau_relaxation_ms: Float[Array, ""] = _field()
    tau_failure_slip_nm: Float[Array, ""] = _field()
    tau_rupture_rate_per_ms: Float[Array, ""] = _field()
    tau_bell_rate_per_ms: Float[Array, ""] = _field()
    tau_bell_force_pn: Float[Array, ""] = _field()
    tau_rebinding_rate_per_ms: Float[Array, ""] = _field()
    mt_bundle_coupling: Float[Array, ""] = _field()
    mt_gap_bypass_fraction: Float[Array, ""] = _field()
    nf_youngs_modulus_mpa: Float[Array, ""] = _field()
    nf_area_nm2: Float[Array, ""] = _field()
    nf_length_um: Float[Array, ""] = _field()
    nf_sidearm_density_per_um: Float[Array, ""] = _field()
    nf_sidearm_stiffness_long_pn_per_nm: Float[Array, ""] = _field()
    nf_sidearm_stiffness_inst_pn_per_nm: Float[Array, ""] = _field()
    nf_sidearm_relaxation_ms: Float[Array, ""] = _field()
    nf_failure_strain: Float[Array, ""] = _field()
    nf_failure_rate_per_ms: Float[Array, ""] = _field()
    axolemma_youngs_modulus_mpa: Float[Array, ""] = _field()
    axolemma_area_nm2: Float[Array, ""] = _field()
    axolemma_link_long_pn_per_um2: Float[Array, ""] = _field()
    axolemma_link_inst_pn_per_um2: Float[Array, ""] = _field()
    axolemma_link_relaxation_ms: Float[Array, ""] = _field()
    axolemma_ecm_stiffness_pn_per_um2: Float[Array, ""] = _field()
    mt_gap_um: Float[Array, ""] = _field()

    def __check_init__(self):
        if self.mt_lengths_um.ndim != 1 or self.mt_length_fractions.shape != self.mt_lengths_um.shape:
            raise ValueError(
                "AxonParams: mt_lengths_um and mt_length_fractions must be 1-D of equal length, got "
                f"{self.mt_lengths_um.shape} and {self.mt_length_fractions.shape}"
            )
        for f in dataclasses.fields(self):
            if f.name in ("mt_lengths_um", "mt_length_fractions"):
                continue
            if getattr(self, f.name).ndim != 0:
                raise ValueError(
                    f"AxonParams.{f.name} must be a scalar, got shape {getattr(self, f.name).shape}"
                )

    @property
    def n_classes(self) -> int:
        """Number of MT length classes (static)."""
        return self.mt_lengths_um.shape[0]

    def replace(self, **changes) -> AxonParams:
        """A copy with the named fields changed (values converted to arrays)."""
        return dataclasses.replace(self, **changes)

    def astype(self, dtype) -> AxonParams:
        """All fields cast to a floating dtype (float32 default, float64 for tests)."""
        return AxonParams(
            **{f.name: jnp.asarray(getattr(self, f.name), dtype) for f in dataclasses.fields(self)}
        )

    @classmethod
    def male(cls) -> AxonParams:
        """The default preset (male axon), from `axojax.axon._records.RECORDS`."""
        return cls(**_records.male_values())

    @classmethod
    def female(cls) -> AxonParams:
        """Female preset after Dollé et al. 2018 (Exp Neurol 300:121): thinner axons, fewer MTs.

        The male records scaled by `axojax.axon._records.FEMALE_RULES` [inferred from the reported
        trend]: axolemma area 0.8x; ~0.7x as many MTs share the cross-linking matrix and the
        axolemma, so tau density and axolemma-MT link stiffness per MT 1/0.7x. The shorter shear-lag
        length raises MT strain for the same fiber strain: the higher MT rupture risk Dollé et al.
        report.
        """
        return cls(**_records.female_values())
