"""The observatory: pure analytics on a validated :class:`Panel` (no I/O, no web).

Import rule: this package imports numpy, scipy and pandas only — never ``sources``, ``web``,
``cli`` or ``collaboration`` (see ``docs/architecture.md``).
"""

from clusteratlas.observatory.clusters import (
    CLUSTER_COLUMNS,
    DYNAMICS_COLUMNS,
    QUADRANTS,
    ClusterYear,
    StarRules,
    StrongRules,
    cluster_table,
    iter_cluster_years,
)
from clusteratlas.observatory.complexity import (
    COMPLEXITY_COLUMNS,
    FITNESS_COLUMNS,
    ComplexityError,
    ComplexityYear,
    complexity_table,
    complexity_years,
)
from clusteratlas.observatory.definitions import (
    ClusterDefinitions,
    DefinitionsError,
    UnmappedReport,
)
from clusteratlas.observatory.hierarchy import Hierarchy
from clusteratlas.observatory.indices import (
    INDUSTRY_COLUMNS,
    REGION_COLUMNS,
    industry_indices,
    region_indices,
)
from clusteratlas.observatory.panel import (
    ExtraColumnsWarning,
    Panel,
    PanelError,
    Problem,
)
from clusteratlas.observatory.quantiles import masked_percentiles
from clusteratlas.observatory.registry import REGISTRY, IndicatorSpec
from clusteratlas.observatory.relatedness import (
    ENTRY_EXIT_COLUMNS,
    MENTOR_COLUMNS,
    OPPORTUNITY_COLUMNS,
    OPPORTUNITY_QUADRANTS,
    PEER_COLUMNS,
    QUADRANT_READINGS,
    REGRESSION_COLUMNS,
    EntryExitResult,
    entry_exit,
    mentors,
    opportunities,
    peers,
    similarity_matrix,
)
from clusteratlas.observatory.shiftshare import SHIFTSHARE_COLUMNS, shift_share

__all__ = [
    "CLUSTER_COLUMNS",
    "COMPLEXITY_COLUMNS",
    "FITNESS_COLUMNS",
    "ComplexityError",
    "ComplexityYear",
    "complexity_table",
    "complexity_years",
    "ENTRY_EXIT_COLUMNS",
    "MENTOR_COLUMNS",
    "OPPORTUNITY_COLUMNS",
    "OPPORTUNITY_QUADRANTS",
    "PEER_COLUMNS",
    "QUADRANT_READINGS",
    "REGRESSION_COLUMNS",
    "EntryExitResult",
    "entry_exit",
    "mentors",
    "opportunities",
    "peers",
    "similarity_matrix",
    "DYNAMICS_COLUMNS",
    "INDUSTRY_COLUMNS",
    "QUADRANTS",
    "REGION_COLUMNS",
    "REGISTRY",
    "SHIFTSHARE_COLUMNS",
    "ClusterDefinitions",
    "ClusterYear",
    "DefinitionsError",
    "ExtraColumnsWarning",
    "Hierarchy",
    "IndicatorSpec",
    "Panel",
    "PanelError",
    "Problem",
    "StarRules",
    "StrongRules",
    "UnmappedReport",
    "cluster_table",
    "industry_indices",
    "iter_cluster_years",
    "masked_percentiles",
    "region_indices",
    "shift_share",
]
