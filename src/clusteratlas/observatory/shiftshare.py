"""Classical shift-share decomposition of employment change between two years."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clusteratlas.observatory.clusters import StarRules, StrongRules, _employment, _setup
from clusteratlas.observatory.definitions import ClusterDefinitions
from clusteratlas.observatory.panel import Panel

__all__ = ["SHIFTSHARE_COLUMNS", "shift_share"]

SHIFTSHARE_COLUMNS = (
    "region",
    "cluster",
    "cluster_name",
    "type",
    "employment_base",
    "employment",
    "change",
    "national_growth",
    "industry_mix",
    "regional_shift",
)


def shift_share(
    panel: Panel,
    definitions: ClusterDefinitions | None = None,
    *,
    base_year: int,
    year: int,
    reference_region: str | None = None,
    by: str = "cluster",
) -> pd.DataFrame:
    """Decompose each region's change in cluster employment from ``base_year`` to ``year``.

    With G = E_ref(year)/E_ref(base) − 1 (the reference economy's growth over all industries)
    and g_c = E_c,ref(year)/E_c,ref(base) − 1:
    ``national_growth`` = E_cr(base)·G, ``industry_mix`` = E_cr(base)·(g_c − G) and
    ``regional_shift`` = change − national_growth − industry_mix, so the three components add
    up exactly to ``change``.

    Parameters
    ----------
    by
        ``"cluster"``: one row per region and cluster with employment in either year;
        ``"region"``: the components summed over each region's clusters.
    """
    panel.require_years(base_year, year)
    if by not in ("cluster", "region"):
        raise ValueError(f"by must be 'cluster' or 'region', not {by!r}")
    s = _setup(panel, definitions, reference_region, "total", StarRules(), StrongRules())
    y0, y1 = _employment(s, base_year), _employment(s, year)
    E0, E1 = y0.ranked(s), y1.ranked(s)
    with np.errstate(divide="ignore", invalid="ignore"):
        G = y1.reference_total / y0.reference_total - 1.0
        g = np.where(
            y0.reference_cluster > 0, y1.reference_cluster / y0.reference_cluster - 1.0, 0.0
        )
    national = E0 * G
    mix = E0 * (g - G)[None, :]
    change = E1 - E0
    shift = change - national - mix
    keep = (E0 > 0) | (E1 > 0)
    r, c = np.nonzero(keep)
    clusters = s.clusters
    out = pd.DataFrame(
        {
            "region": s.regions.to_numpy()[r].astype(str),
            "cluster": clusters.index.to_numpy()[c].astype(str),
            "cluster_name": clusters["cluster_name"].to_numpy()[c],
            "type": clusters["type"].to_numpy()[c],
            "employment_base": E0[r, c],
            "employment": E1[r, c],
            "change": change[r, c],
            "national_growth": national[r, c],
            "industry_mix": mix[r, c],
            "regional_shift": shift[r, c],
        }
    )
    if by == "region":
        numeric = list(SHIFTSHARE_COLUMNS[4:])  # employment_base … regional_shift
        out = out.groupby("region", as_index=False, sort=True)[numeric].sum()
    return out
