"""Gradients: surrogate vs. mechanistic input gradients, parameter and end-to-end sensitivities.

Imports axon, surrogate, headmodel, brain and fiberstrain; nothing imports this stage.
"""

from ..axon import peak as peak  # the arg-max peak of the axon read-out (this stage's name before)
from ._agreement import AgreementReport as AgreementReport
from ._agreement import agreement_report as agreement_report
from ._agreement import gradient_agreement as gradient_agreement
from ._agreement import smooth_gradients as smooth_gradients
from ._endtoend import PULSE_FIELDS as PULSE_FIELDS
from ._endtoend import BrainSummary as BrainSummary
from ._endtoend import PulseParameters as PulseParameters
from ._endtoend import brain_summary as brain_summary
from ._endtoend import finite_difference_check as finite_difference_check
from ._endtoend import pulse_ang_acc as pulse_ang_acc
from ._endtoend import select_voxels as select_voxels
from ._ode import OdeJacobians as OdeJacobians
from ._ode import ode_input_gradients as ode_input_gradients
from ._ode import ode_jacobians as ode_jacobians
from ._params import ParameterSensitivity as ParameterSensitivity
from ._params import log_sensitivities as log_sensitivities
from ._params import parameter_sensitivities as parameter_sensitivities
from ._sobolev import SobolevConfig as SobolevConfig
from ._sobolev import SobolevHistory as SobolevHistory
from ._sobolev import fit_sobolev as fit_sobolev
from ._sobolev import sobolev_grads as sobolev_grads
from ._sobolev import sobolev_step as sobolev_step
from ._surrogate import check_profiles as check_profiles
from ._surrogate import surrogate_input_gradients as surrogate_input_gradients
from .figures import plot_gradient_curves as plot_gradient_curves
