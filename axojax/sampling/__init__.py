"""axojax.sampling: stratified + adaptive selection of fiber strain profiles (SCIENCE §1, step 2).

Stratified: one candidate per 6 mm cube and impact (its most strained voxel). Adaptive: the
sequential greedy keeps a candidate only if it is less similar than a threshold to every profile
kept so far; `threshold_for_n` tunes the threshold to a requested training-set size. The
worst-case test set holds the held-out impact's candidates least similar to the kept set.

Numerics in `_similarity`, `_stratify`, `_adaptive`, `_worstcase`, `_coverage` (pure jnp/numpy),
and in `_augment` (`amplitude_variants`: the training impacts' profiles at other severities);
the store-driven pipeline in `io`; JSON and figure output in `report`."""

from ._adaptive import (
    Selection as Selection,
)
from ._adaptive import (
    select_adaptive as select_adaptive,
)
from ._adaptive import (
    threshold_for_n as threshold_for_n,
)
from ._augment import (
    amplitude_variants as amplitude_variants,
)
from ._coverage import (
    FEATURES as FEATURES,
)
from ._coverage import (
    CoverageReport as CoverageReport,
)
from ._coverage import (
    FeatureCoverage as FeatureCoverage,
)
from ._coverage import (
    coverage_report as coverage_report,
)
from ._coverage import (
    profile_features as profile_features,
)
from ._similarity import (
    MEASURES as MEASURES,
)
from ._similarity import (
    NRMSE_FLOOR as NRMSE_FLOOR,
)
from ._similarity import (
    max_similarity as max_similarity,
)
from ._similarity import (
    similarity as similarity,
)
from ._similarity import (
    similarity_matrix as similarity_matrix,
)
from ._stratify import (
    stratify as stratify,
)
from ._worstcase import (
    WorstCaseSet as WorstCaseSet,
)
from ._worstcase import (
    worst_case_set as worst_case_set,
)
from .io import (
    SamplingResult as SamplingResult,
)
from .io import (
    select_from_dataset as select_from_dataset,
)
from .report import (
    plot_coverage as plot_coverage,
)
from .report import (
    write_report_json as write_report_json,
)
