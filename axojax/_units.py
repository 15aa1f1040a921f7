"""Unit systems used inside axojax, one per stage. Conversions happen only at io edges.

axon (mechanistic model)
    length  : micrometre [um]
    time    : millisecond [ms]
    force   : piconewton [pN]
    => stiffness per tau [pN/um] (1 pN/nm = 1000 pN/um), axial rigidity EA [pN],
       viscosity of a dashpot [pN*ms/um], rates [1/ms].
    Strain is a dimensionless fraction (0.05 = 5 %); failure outputs are percentages (0-100).

Profiles handed between stages carry time in seconds [s] on the public API and strain as a fraction.
"""

from __future__ import annotations

# time
S_TO_MS = 1.0e3
MS_TO_S = 1.0e-3

# length / stiffness
NM_TO_UM = 1.0e-3
PN_PER_NM_TO_PN_PER_UM = 1.0e3

# pressure x area: 1 GPa * 1 nm^2 = 1e9 N/m^2 * 1e-18 m^2 = 1e-9 N = 1e3 pN
GPA_NM2_TO_PN = 1.0e3
# 1 MPa * 1 nm^2 = 1e6 * 1e-18 N = 1e-12 N = 1 pN
MPA_NM2_TO_PN = 1.0

# A strain whose magnitude exceeds this is taken for a percentage slip (0.05 = 5 %, 5.0 would be 500 %).
MAX_PLAUSIBLE_STRAIN = 1.0

# A time grid [s] spanning more than this is taken for milliseconds passed as seconds (impacts last
# tens to hundreds of ms).
MAX_PLAUSIBLE_DURATION_S = 10.0
