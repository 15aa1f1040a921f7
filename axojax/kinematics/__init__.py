"""Head impact kinematics: the `Impact` container, readers, resampling and synthetic pulses."""

from axojax.kinematics._filter import FILTERS as FILTERS
from axojax.kinematics._filter import cfc_sos as cfc_sos
from axojax.kinematics._filter import lowpass as lowpass
from axojax.kinematics._filter import resample_record as resample_record
from axojax.kinematics._impact import Impact as Impact
from axojax.kinematics._resample import crop_impact as crop_impact
from axojax.kinematics._resample import (
    derive_ang_acc as derive_ang_acc,
)
from axojax.kinematics._resample import (
    resample_impact as resample_impact,
)
from axojax.kinematics._resample import (
    resample_to_window as resample_to_window,
)
from axojax.kinematics._resample import (
    window_grid as window_grid,
)
from axojax.kinematics.io import UNITS as UNITS
from axojax.kinematics.io import impact_files as impact_files
from axojax.kinematics.io import load_impact as load_impact
from axojax.kinematics.io import load_impact_set as load_impact_set
from axojax.kinematics.io import load_impacts as load_impacts
from axojax.kinematics.io import unit_factor as unit_factor
from axojax.kinematics.synthetic import (
    half_sine_pulse as half_sine_pulse,
)
from axojax.kinematics.synthetic import (
    synthetic_impacts as synthetic_impacts,
)
