"""axojax.wholebrain: surrogate injury maps of the whole white matter for one impact.

Head model -> fiber strain profiles of every white-matter voxel (`impact_profiles`, in memory) -> streamed CNN
surrogate (`predict_maps`, `whole_brain`) -> summary figures (`summary`), NIfTI maps (`io`), figures on the
MNI T1 (`plot_brain_maps`, nilearn + matplotlib), the interactive page (`write_viewer`), bare slice figures
(`report`)."""

from ._external import (
    external_profiles as external_profiles,
)
from ._external import (
    voxel_of_points as voxel_of_points,
)
from ._figures import (
    hot_spot as hot_spot,
)
from ._figures import (
    on_mni as on_mni,
)
from ._figures import (
    plot_brain_maps as plot_brain_maps,
)
from ._maps import (
    DEFAULT_BATCH_SIZE as DEFAULT_BATCH_SIZE,
)
from ._maps import (
    FUSED_CHUNK_VOXELS as FUSED_CHUNK_VOXELS,
)
from ._maps import (
    WholeBrainResult as WholeBrainResult,
)
from ._maps import (
    predict_maps as predict_maps,
)
from ._maps import (
    whole_brain as whole_brain,
)
from ._maps import (
    whole_brain_many as whole_brain_many,
)
from ._profiles import (
    DEFAULT_CHUNK_VOXELS as DEFAULT_CHUNK_VOXELS,
)
from ._profiles import (
    VoxelChunks as VoxelChunks,
)
from ._profiles import (
    impact_profiles as impact_profiles,
)
from ._profiles import (
    voxel_chunks as voxel_chunks,
)
from ._regions import (
    RegionAtlas as RegionAtlas,
)
from ._regions import (
    coordinate_regions as coordinate_regions,
)
from ._summary import (
    DEFAULT_PERCENTILES as DEFAULT_PERCENTILES,
)
from ._summary import (
    DEFAULT_THRESHOLDS as DEFAULT_THRESHOLDS,
)
from ._summary import (
    OUTPUT_UNITS as OUTPUT_UNITS,
)
from ._summary import (
    summary as summary,
)
from ._summary import (
    voxel_volume_ml as voxel_volume_ml,
)
from .io import (
    read_label_atlas as read_label_atlas,
)
from .io import (
    read_map as read_map,
)
from .io import (
    read_maps as read_maps,
)
from .io import (
    write_maps as write_maps,
)
from .report import (
    plot_slices as plot_slices,
)
from .viewer import (
    write_viewer as write_viewer,
)
