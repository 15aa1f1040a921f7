"""Mechanistic axon model: microtubules cross-linked by tau, neurofilaments, axolemma (a diffrax ODE)."""

from ._calibrate import CalibrationResult as CalibrationResult
from ._calibrate import Target as Target
from ._calibrate import TargetReport as TargetReport
from ._calibrate import calibrate as calibrate
from ._calibrate import evaluate as evaluate
from ._calibrate import ramp_hold as ramp_hold
from ._model import peak as peak
from ._params import AxonParams as AxonParams
from ._records import RECORDS as RECORDS
from ._records import Record as Record
from ._records import parameter_table as parameter_table
from ._simulate import OUTPUT_NAMES as OUTPUT_NAMES
from ._simulate import AxonHistory as AxonHistory
from ._simulate import AxonResponse as AxonResponse
from ._simulate import SolverSettings as SolverSettings
from ._simulate import simulate as simulate
from ._simulate import simulate_chunked as simulate_chunked
from ._simulate import validate_profile as validate_profile
from ._targets import published_targets as published_targets
