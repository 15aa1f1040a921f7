"""Mechanistic axon model: microtubules cross-linked by tau, neurofilaments, axolemma (a diffrax ODE)."""

from ._model import peak as peak
from ._params import AxonParams as AxonParams
from ._simulate import OUTPUT_NAMES as OUTPUT_NAMES
from ._simulate import AxonHistory as AxonHistory
from ._simulate import AxonResponse as AxonResponse
from ._simulate import SolverSettings as SolverSettings
from ._simulate import simulate as simulate
from ._simulate import simulate_chunked as simulate_chunked
from ._simulate import validate_profile as validate_profile
