"""CNN surrogate of the axon model (Flax NNX): fiber strain profiles (B, T) -> axon outputs (B, 4).

Imports no other axojax stage: it meets `axojax.axon` only in plain arrays.
"""

from ._baseline import RidgeBaseline as RidgeBaseline
from ._baseline import fit_ridge as fit_ridge
from ._baseline import hand_features as hand_features
from ._metrics import nrmse_pct as nrmse_pct
from ._metrics import r2_score as r2_score
from ._model import OUTPUT_NAMES as OUTPUT_NAMES
from ._model import SurrogateCNN as SurrogateCNN
from ._model import SurrogateConfig as SurrogateConfig
from ._model import profile_features as profile_features
from ._predict import OutOfDistributionWarning as OutOfDistributionWarning
from ._predict import apply_inference as apply_inference
from ._predict import check_inputs as check_inputs
from ._predict import inference_parts as inference_parts
from ._predict import predict as predict
from ._predict import warn_out_of_distribution as warn_out_of_distribution
from ._train import LearningCurve as LearningCurve
from ._train import StepContext as StepContext
from ._train import StepFn as StepFn
from ._train import TrainConfig as TrainConfig
from ._train import TrainHistory as TrainHistory
from ._train import eval_loss as eval_loss
from ._train import fit as fit
from ._train import learning_curve as learning_curve
from ._train import mse_step as mse_step
from ._train import train_step as train_step
from .io import load_surrogate as load_surrogate
from .io import read_metadata as read_metadata
from .io import save_surrogate as save_surrogate
