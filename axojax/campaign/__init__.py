"""Simulation campaigns: run the axon model over a profile selection resumably, keep failed solves
out of the training set, and exchange profiles and results with external simulators."""

from ._campaign import default_retry_settings as default_retry_settings
from ._campaign import run_campaign as run_campaign
from ._campaign import tighter_settings as tighter_settings
from ._result import CampaignResult as CampaignResult
from ._result import status_reason as status_reason
from ._result import training_arrays as training_arrays
from .export import ImportedResults as ImportedResults
from .export import LsDynaCurve as LsDynaCurve
from .export import ProfileSet as ProfileSet
from .export import read_lsdyna_curves as read_lsdyna_curves
from .export import read_lsdyna_profiles as read_lsdyna_profiles
from .export import read_profiles_csv as read_profiles_csv
from .export import read_profiles_npz as read_profiles_npz
from .export import read_results as read_results
from .export import write_lsdyna_curves as write_lsdyna_curves
from .export import write_profiles_csv as write_profiles_csv
from .export import write_profiles_npz as write_profiles_npz
from .export import write_results as write_results
from .store import load_campaign as load_campaign
