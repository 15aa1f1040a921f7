"""The one source of truth for the axon model's parameters: every value, its unit, source and mark.

`AxonParams.male()` and `AxonParams.female()` are built from `RECORDS` (and `FEMALE_RULES`), and the
parameter table of docs/axon.md is `parameter_table()` (a test fails when the two differ; regenerate
it with ``python experiments/calibrate_axon.py --write-docs``).

Marks:
    [read]        the value (or the range it is taken from, given in `source`) is stated in the source;
    [inferred]    our own sizing or geometry, not fitted;
    [calibrated]  fitted by `axojax.axon.calibrate` to the published behaviours named in
                  `calibrated_against` (targets in `axojax.axon.published_targets`).

`bounds` is the physical range a calibration may search (from the source's range where there is one).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

Mark = Literal["read", "inferred", "calibrated"]


@dataclasses.dataclass(frozen=True)
class Record:
    """One parameter: `AxonParams` field name, male value, unit, source, mark and search range."""

    name: str
    value: float | tuple[float, ...]
    unit: str
    source: str
    mark: Mark
    calibrated_against: str = ""
    bounds: tuple[float, float] | None = None

    def __post_init__(self):
        if self.mark not in ("read", "inferred", "calibrated"):
            raise ValueError(f"Record {self.name}: mark must be read/inferred/calibrated, got {self.mark!r}")
        if self.mark == "calibrated" and not self.calibrated_against:
            raise ValueError(f"Record {self.name}: a calibrated value must name its calibration behaviour")
        if self.bounds is not None and not (0.0 < self.bounds[0] < self.bounds[1]):
            raise ValueError(f"Record {self.name}: bounds must be 0 < lo < hi, got {self.bounds}")


_AHM = "Ahmadzadeh et al. 2015 (Biophys J 109:2328)"
_HASAN = "Hasan et al. 2022 (Front Bioeng Biotechnol 10:904818)"
_DRK = "de Rooij & Kuhl 2018 (Front Cell Neurosci 12:144)"
_NAK = "Nakadate et al. 2017 (Stapp Car Crash J 61, doi:10.4271/2017-22-0003)"
_MON = "Montanino et al. 2020 (Front Neurol 11:25), unmyelinated axolemma"

# fmt: off
RECORDS: tuple[Record, ...] = (
    Record("mt_youngs_modulus_gpa", 1.7, "GPa", f"{_HASAN}: 1.5-1.9 GPa, mid value", "read"),
    Record("mt_area_nm2", 314.159, "nm²", "25/15 nm tube: π/4 (25² − 15²)", "inferred"),
    Record("mt_lengths_um", (4.0, 8.0, 16.0), "µm", f"{_AHM}: 2-20 µm trend; three classes", "inferred"),
    Record("mt_length_fractions", (1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0), "-", "equal numbers per class",
           "inferred"),
    Record("tau_density_per_um", 60.0, "1/µm of MT", "lead 10-80 /µm (Ahmadzadeh 2014, recalled)",
           "inferred", bounds=(10.0, 80.0)),
    Record("tau_stiffness_long_pn_per_nm", 0.00221, "pN/nm", "long-term (relaxed) tau stiffness",
           "calibrated",
           f"{_AHM}: slow loading to ~100 % tolerated", bounds=(1e-4, 0.5)),
    Record("tau_stiffness_inst_pn_per_nm", 1.49, "pN/nm", "instantaneous tau stiffness", "calibrated",
           f"{_AHM}: ≥ 30 /s strains MTs near 5 % at 5 % axonal strain", bounds=(0.05, 20.0)),
    Record("tau_relaxation_ms", 4.62, "ms", "lead 0.5-50 ms", "calibrated",
           f"{_AHM} slow vs fast; {_NAK} rate cells", bounds=(0.5, 50.0)),
    Record("tau_failure_slip_nm", 72.0, "nm",
           f"elastic slip at tau failure: 40 % ({_HASAN}) of the 180 nm contour (441 residues × 0.4 nm); "
           "the gap-spanning reading gives 28.4 nm (docs/axon.md)", "inferred"),
    Record("tau_rupture_rate_per_ms", 1.0, "1/ms", "saturated hazard past the failure strain", "inferred"),
    Record("tau_bell_rate_per_ms", 1.0e-4, "1/ms", "spontaneous off-rate scale", "inferred"),
    Record("tau_bell_force_pn", 15.9, "pN", f"{_DRK}: bond strengths 1-100 pN (range only)", "calibrated",
           f"{_DRK}: failure stretch rises with rate", bounds=(1.0, 100.0)),
    Record("tau_rebinding_rate_per_ms", 0.116, "1/ms", "re-binding of broken taus (taus break and re-form)",
           "calibrated", f"{_AHM}: slow loading to ~100 % tolerated", bounds=(1e-3, 1.0)),
    Record("mt_bundle_coupling", 0.388, "-",
           "share of the bundle force per MT that passes each MT end gap through the MT bridging it "
           "(0: affine mean-field bundle; staggered MT ends, Ahmadzadeh et al. 2014, 2015)", "calibrated",
           f"{_AHM}: short MTs lose their taus first", bounds=(0.01, 0.9)),
    Record("mt_gap_bypass_fraction", 0.1, "-",
           "stiffness of the load paths bypassing an MT end gap (the gapped MT's own end, NFs, cortex) "
           "per intact tau-bed end stiffness EA/λ₀; bounds the gap opening when bridging taus fail",
           "inferred"),
    Record("nf_youngs_modulus_mpa", 900.0, "MPa", "to check against Montanino & Kleiven 2018 Table 1",
           "inferred"),
    Record("nf_area_nm2", 78.54, "nm²", "10 nm filament", "inferred"),
    Record("nf_length_um", 20.0, "µm", "NF length", "inferred"),
    Record("nf_sidearm_density_per_um", 20.0, "1/µm", "NF side-arm density", "inferred"),
    Record("nf_sidearm_stiffness_long_pn_per_nm", 0.002, "pN/nm", "NF side arm, relaxed", "calibrated",
           f"{_NAK}: one NF-failure cut separates the 12 cells", bounds=(1e-4, 0.5)),
    Record("nf_sidearm_stiffness_inst_pn_per_nm", 0.15, "pN/nm", "NF side arm, instantaneous", "calibrated",
           f"{_NAK}: one NF-failure cut separates the 12 cells", bounds=(0.02, 20.0)),
    Record("nf_sidearm_relaxation_ms", 1.5, "ms", "NF side-arm viscosity", "calibrated",
           f"{_NAK}: one NF-failure cut separates the 12 cells", bounds=(0.2, 50.0)),
    Record("nf_failure_strain", 0.06, "-", "NF failure strain", "calibrated",
           f"{_NAK}: one NF-failure cut separates the 12 cells", bounds=(0.02, 0.5)),
    Record("nf_failure_rate_per_ms", 1.0, "1/ms", "saturated hazard past the failure strain", "inferred"),
    Record("axolemma_youngs_modulus_mpa", 1.0, "MPa", "to check against Montanino & Kleiven 2018 Table 2",
           "inferred"),
    Record("axolemma_area_nm2", 22000.0, "nm²", "π × 700 nm diameter × 10 nm membrane + cortex", "inferred"),
    Record("axolemma_link_long_pn_per_um2", 134.0, "pN/µm per µm", "axolemma-MT link, relaxed",
           "calibrated", f"{_MON}: poration at 10-12 % axonal strain", bounds=(1.0, 1e4)),
    Record("axolemma_link_inst_pn_per_um2", 5180.0, "pN/µm per µm", "axolemma-MT link, instantaneous",
           "calibrated", f"{_MON}: poration at 10-12 % axonal strain", bounds=(10.0, 1e5)),
    Record("axolemma_link_relaxation_ms", 3.35, "ms", "cortex viscosity", "calibrated",
           f"{_MON}: poration at 10-12 % axonal strain", bounds=(0.5, 50.0)),
    Record("axolemma_ecm_stiffness_pn_per_um2", 200.0, "pN/µm per µm", "tissue tether", "inferred"),
    Record("mt_gap_um", 1.0, "µm", "gap between MT ends under the axolemma", "inferred"),
)
# fmt: on

# Female preset: Dollé et al. 2018 (Exp Neurol 300:121) report thinner axons with fewer MTs [read]; the
# factors are [inferred] from that trend: diameter ~0.8x (axolemma area 0.8x); ~0.7x as many MTs share
# the cross-linking matrix and the axolemma, so tau density and axolemma-MT link stiffness per MT 1/0.7x.
FEMALE_RULES: dict[str, float] = {
    "axolemma_area_nm2": 0.8,
    "tau_density_per_um": 1.0 / 0.7,
    "axolemma_link_long_pn_per_um2": 1.0 / 0.7,
    "axolemma_link_inst_pn_per_um2": 1.0 / 0.7,
}

# Read-out thresholds used by the published targets (not model parameters).
# Poration: the axolemma (membrane + cortex) strain at which pores form. Not fitted: only the link
# stiffnesses are calibrated so that it is reached at the axonal strain Montanino et al. 2020 report.
AXOLEMMA_PORATION_STRAIN = Record(
    "axolemma_poration_strain",
    0.22,
    "-",
    "membrane + cortex strain at pore formation (fixed, not fitted)",
    "inferred",
)
# NF-failure cut that separates swelling from no swelling (Nakadate 2017 cells).
NF_SWELLING_CUT_PCT = Record("nf_swelling_cut_pct", 5.0, "%", "one cut for all 12 Nakadate cells", "inferred")
# MT rupture strain at very high rate: Wu & Adnan 2018 (Sci Rep), ~16 %.
MT_RUPTURE_STRAIN = Record(
    "mt_rupture_strain", 0.16, "-", "Wu & Adnan 2018 (Sci Rep): ~16 % at high rate", "read"
)
THRESHOLDS: tuple[Record, ...] = (AXOLEMMA_PORATION_STRAIN, NF_SWELLING_CUT_PCT, MT_RUPTURE_STRAIN)

_BY_NAME = {r.name: r for r in RECORDS}


def record(name: str) -> Record:
    """The record of one `AxonParams` field (KeyError naming the known fields otherwise)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no parameter record {name!r}; known: {', '.join(_BY_NAME)}") from None


def male_values() -> dict[str, float | tuple[float, ...]]:
    """Field -> value of the male preset."""
    return {r.name: r.value for r in RECORDS}


def female_values() -> dict[str, float | tuple[float, ...]]:
    """Field -> value of the female preset (male values scaled by `FEMALE_RULES`)."""
    out = male_values()
    for name, factor in FEMALE_RULES.items():
        out[name] = float(out[name]) * factor  # type: ignore[arg-type]
    return out


def _fmt(v) -> str:
    if isinstance(v, tuple):
        return ", ".join(_fmt(x) for x in v)
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e4 or a < 1e-2:
        return f"{v:.3g}"
    return f"{v:.4g}" if not math.isclose(v, 1 / 3, rel_tol=1e-9) else "1/3"


def parameter_table() -> str:
    """The markdown table of docs/axon.md (between its ``params`` markers), generated from the records."""
    fem = female_values()
    lines = [
        "| field | male | female | unit | source | mark | calibrated against |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in RECORDS:
        f = fem[r.name]
        f_txt = _fmt(f) if r.name in FEMALE_RULES else "="
        lines.append(
            f"| {r.name} | {_fmt(r.value)} | {f_txt} | {r.unit} | {r.source} | [{r.mark}] | "
            f"{r.calibrated_against or '–'} |"
        )
    for r in THRESHOLDS:
        lines.append(
            f"| *{r.name}* (read-out) | {_fmt(r.value)} | = | {r.unit} | {r.source} | [{r.mark}] | – |"
        )
    return "\n".join(lines)
