"""axojax.brain: white-matter voxels, coarse cubes and fiber orientations on a brain grid.

The embedded default is the MNI ICBM152 2009a white-matter map shipped in nilearn's wheel (notice:
`MNI_NOTICE.txt` in this package) with fiber directions from the 20 AFQ-Browser tracts that ship in
`data/` (notice: `data/AFQ_BROWSER_NOTICE.txt`) where they pass and a synthetic, anatomically motivated
field elsewhere (`Brain.fiber_source` says which)."""

from ._brain import (
    FIBER_SOURCES as FIBER_SOURCES,
)
from ._brain import (
    Brain as Brain,
)
from ._brain import (
    brain_from_mask as brain_from_mask,
)
from ._brain import (
    cube_ids as cube_ids,
)
from ._orientation import (
    principal_eigenvector as principal_eigenvector,
)
from ._orientation import (
    synthetic_fiber_field as synthetic_fiber_field,
)
from ._orientation import (
    tensor6_to_matrix as tensor6_to_matrix,
)
from .io import (
    DEFAULT_THRESHOLD_FRACTION as DEFAULT_THRESHOLD_FRACTION,
)
from .io import (
    default_brain as default_brain,
)
from .io import (
    fit_dwi_fibers as fit_dwi_fibers,
)
from .io import (
    load_brain as load_brain,
)
from .io import (
    mni_wm_template_path as mni_wm_template_path,
)
from .io import (
    read_streamline_fibers as read_streamline_fibers,
)
from .io import (
    read_tensor_nifti as read_tensor_nifti,
)
from .io import (
    read_v1_nifti as read_v1_nifti,
)
from .tracts import (
    Tracts as Tracts,
)
from .tracts import (
    afq_tracts as afq_tracts,
)
from .tracts import (
    tract_fibers as tract_fibers,
)
from .tracts import (
    with_tract_fibers as with_tract_fibers,
)
