"""axojax.fiberstrain: Green-Lagrange strain projected on fiber directions, and the chunked profile
store.

Numerics in `_project` (pure jnp); files in `store` (JSON manifest + one .npy per impact and voxel
chunk)."""

from ._project import (
    fiber_stretch_minus_one as fiber_stretch_minus_one,
)
from ._project import (
    project_strain as project_strain,
)
from ._project import (
    project_strain_populations as project_strain_populations,
)
from ._project import (
    project_strain_weighted as project_strain_weighted,
)
from .store import (
    ProfileDataset as ProfileDataset,
)
from .store import (
    build_profiles as build_profiles,
)
from .store import (
    check_time_grid as check_time_grid,
)
