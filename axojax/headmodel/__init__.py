"""Head models: the reduced-order DAMAGE model, the finite-element brain, and imported FE strain."""

from axojax.headmodel._api import damage as damage
from axojax.headmodel._api import motion as motion
from axojax.headmodel._api import strain_from_motion as strain_from_motion
from axojax.headmodel._api import peak_mps as peak_mps
from axojax.headmodel._api import strain_history as strain_history
from axojax.headmodel._fe_model import LABELS as LABELS
from axojax.headmodel._fe_model import FEHeadModel as FEHeadModel
from axojax.headmodel._fe_model import FEMaterial as FEMaterial
from axojax.headmodel._fe_model import VoxelMesh as VoxelMesh
from axojax.headmodel._model import AbstractHeadModel as AbstractHeadModel
from axojax.headmodel._model import ReducedHeadModel as ReducedHeadModel
from axojax.headmodel._strain import green_lagrange as green_lagrange
from axojax.headmodel._strain import max_principal_strain as max_principal_strain
from axojax.headmodel._strain import twist_strain as twist_strain
from axojax.headmodel.io import ExternalStrain as ExternalStrain
from axojax.headmodel.io import load_d3plot_strain as load_d3plot_strain
from axojax.headmodel.io import load_strain as load_strain
