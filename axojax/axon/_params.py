"""Parameters of the mechanistic axon model: one place for every value, its unit and its source.

Units are those of the axon stage (see `axojax._units`): um, ms, pN. Field names carry the unit of
the value as the user gives it (``_gpa``, ``_nm2``, ``_pn_per_nm``, ...); `axojax.axon._model`
converts to the internal system.

Source marks: [read] stated in the cited paper; [inferred] our own sizing from the leads in
SCIENCE.md; [calibrated] tuned so the model reproduces the named published behaviour (the
calibration is checked by a test in ``tests/axon/test_published.py``).
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float


def _field(**kwargs):
    return eqx.field(converter=jnp.asarray, **kwargs)


class AxonParams(eqx.Module):
    """Parameters of the axon model (an equinox pytree: differentiable, vmappable).

    Every field is an array, so `jax.grad` w.r.t. any of them works. Make variants with
    `eqx.tree_at(lambda p: p.tau_relaxation_ms, params, 10.0)` or `params.replace(...)`.

    | field | value (male) | unit | source |
    |---|---|---|---|
    | mt_youngs_modulus_gpa | 1.7 | GPa | Hasan et al. 2022 (1.5-1.9) [read] |
    | mt_area_nm2 | 314.2 | nm^2 | 25/15 nm tube, pi/4 (25^2-15^2) [inferred] |
    | mt_lengths_um | (4, 8, 16) | um | Ahmadzadeh 2015 trend, 2-20 um [inferred] |
    | mt_length_fractions | (1/3, 1/3, 1/3) | - | [inferred] |
    | tau_density_per_um | 40 | 1/um of MT | lead 10-80 (Ahmadzadeh 2014) [inferred] |
    | tau_stiffness_long_pn_per_nm | 0.05 | pN/nm | [inferred] long-term (relaxed) tau stiffness |
    | tau_stiffness_inst_pn_per_nm | 0.5 | pN/nm | [inferred] instantaneous tau stiffness |
    | tau_relaxation_ms | 5.0 | ms | [calibrated] rate transition 1-30 /s (Ahmadzadeh 2015) |
    | tau_contour_length_nm | 180 | nm | 441-residue tau x 0.4 nm/residue [inferred] |
    | tau_failure_strain | 0.40 | - | Hasan et al. 2022 [read] (of contour length) |
    | tau_rupture_rate_per_ms | 1.0 | 1/ms | [inferred] saturated hazard past failure strain |
    | tau_bell_rate_per_ms | 1e-4 | 1/ms | [inferred] spontaneous off-rate scale |
    | tau_bell_force_pn | 10.0 | pN | de Rooij & Kuhl 2018 bond scale 1-100 pN [read] |
    | tau_rebinding_rate_per_ms | 0.0 | 1/ms | optional re-binding (off by default) |
    | nf_youngs_modulus_mpa | 900 | MPa | [inferred] (check Montanino & Kleiven 2018 Table 1) |
    | nf_area_nm2 | 78.5 | nm^2 | 10 nm filament [inferred] |
    | nf_length_um | 20 | um | [inferred] |
    | nf_sidearm_density_per_um | 20 | 1/um | [inferred] |
    | nf_sidearm_stiffness_long_pn_per_nm | 0.05 | pN/nm | [inferred] |
    | nf_sidearm_stiffness_inst_pn_per_nm | 0.5 | pN/nm | [inferred] |
    | nf_sidearm_relaxation_ms | 5.0 | ms | [inferred] |
    | nf_failure_strain | 0.12 | - | [calibrated] Nakadate 2017: no swelling at 10 % |
    | nf_failure_rate_per_ms | 1.0 | 1/ms | [inferred] saturated hazard past failure strain |
    | axolemma_youngs_modulus_mpa | 1.0 | MPa | [inferred] (check Montanino & Kleiven 2018 Table 2) |
    | axolemma_area_nm2 | 22000 | nm^2 | pi x 700 nm diameter x 10 nm membrane+cortex [inferred] |
    | axolemma_link_long_pn_per_um2 | 100 | pN/um per um | [calibrated] Montanino 2020 |
    | axolemma_link_inst_pn_per_um2 | 2000 | pN/um per um | [calibrated] Montanino 2020 |
    | axolemma_link_relaxation_ms | 5.0 | ms | [inferred] cortex viscosity |
    | axolemma_ecm_stiffness_pn_per_um2 | 200 | pN/um per um | [inferred] tissue tether |
    | mt_gap_um | 1.0 | um | gap between MT ends under the axolemma [inferred] |

    `female()` scales these after Dollé et al. 2018 (see its docstring).
    """

    mt_youngs_modulus_gpa: Float[Array, ""] = _field()
    mt_area_nm2: Float[Array, ""] = _field()
    mt_lengths_um: Float[Array, " n_classes"] = _field()
    mt_length_fractions: Float[Array, " n_classes"] = _field()
    tau_density_per_um: Float[Array, ""] = _field()
    tau_stiffness_long_pn_per_nm: Float[Array, ""] = _field()
    tau_stiffness_inst_pn_per_nm: Float[Array, ""] = _field()
    tau_relaxation_ms: Float[Array, ""] = _field()
    tau_contour_length_nm: Float[Array, ""] = _field()
    tau_failure_strain: Float[Array, ""] = _field()
    tau_rupture_rate_per_ms: Float[Array, ""] = _field()
    tau_bell_rate_per_ms: Float[Array, ""] = _field()
    tau_bell_force_pn: Float[Array, ""] = _field()
    tau_rebinding_rate_per_ms: Float[Array, ""] = _field()
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
        """The default preset (male axon; see the class table for each value's source)."""
        return cls(
            mt_youngs_modulus_gpa=1.7,
            mt_area_nm2=314.159,
            mt_lengths_um=(4.0, 8.0, 16.0),
            mt_length_fractions=(1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0),
            tau_density_per_um=60.0,
            tau_stiffness_long_pn_per_nm=0.022,
            tau_stiffness_inst_pn_per_nm=2.2,
            tau_relaxation_ms=5.0,
            tau_contour_length_nm=180.0,
            tau_failure_strain=0.40,
            tau_rupture_rate_per_ms=1.0,
            tau_bell_rate_per_ms=1.0e-4,
            tau_bell_force_pn=20.0,
            tau_rebinding_rate_per_ms=0.0,
            nf_youngs_modulus_mpa=900.0,
            nf_area_nm2=78.54,
            nf_length_um=20.0,
            nf_sidearm_density_per_um=20.0,
            nf_sidearm_stiffness_long_pn_per_nm=0.05,
            nf_sidearm_stiffness_inst_pn_per_nm=0.5,
            nf_sidearm_relaxation_ms=5.0,
            nf_failure_strain=0.12,
            nf_failure_rate_per_ms=1.0,
            axolemma_youngs_modulus_mpa=1.0,
            axolemma_area_nm2=22000.0,
            axolemma_link_long_pn_per_um2=100.0,
            axolemma_link_inst_pn_per_um2=2000.0,
            axolemma_link_relaxation_ms=5.0,
            axolemma_ecm_stiffness_pn_per_um2=200.0,
            mt_gap_um=1.0,
        )

    @classmethod
    def female(cls) -> AxonParams:
        """Female preset after Dollé et al. 2018 (Exp Neurol 300:121): thinner axons, fewer MTs.

        [inferred from the reported trend, to calibrate] Axon diameter ~0.8x (axolemma area 0.8x);
        ~0.7x as many MTs share the cross-linking matrix and the axolemma, so each MT gets 1/0.7x
        the tau density and the axolemma-MT link stiffness per MT. The shorter shear-lag length
        raises MT strain for the same fiber strain: the higher MT rupture risk Dollé et al. report.
        """
        m = cls.male()
        return m.replace(
            axolemma_area_nm2=m.axolemma_area_nm2 * 0.8,
            tau_density_per_um=m.tau_density_per_um / 0.7,
            axolemma_link_inst_pn_per_um2=m.axolemma_link_inst_pn_per_um2 / 0.7,
            axolemma_link_long_pn_per_um2=m.axolemma_link_long_pn_per_um2 / 0.7,
        )
