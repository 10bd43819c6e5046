"""Specialisation indices of regions and localisation indices of clusters (industries)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from clusteratlas.observatory.clusters import (
    ClusterYear,
    LqBase,
    Progress,
    StarRules,
    StrongRules,
    _compute_year,
    _employment,
    _setup,
)
from clusteratlas.observatory.definitions import ClusterDefinitions
from clusteratlas.observatory.panel import Panel

__all__ = ["REGION_COLUMNS", "INDUSTRY_COLUMNS", "industry_indices", "region_indices"]

REGION_COLUMNS = (
    "year",
    "region",
    "employment",
    "krugman",
    "hoover",
    "herfindahl",
    "entropy",
    "cluster_strength",
    "n_strong",
    "n_three_star",
)
INDUSTRY_COLUMNS = (
    "year",
    "cluster",
    "cluster_name",
    "type",
    "employment",
    "hoover",
    "gini",
    "eg_raw",
)


def _years(panel: Panel, years: Sequence[int] | None) -> list[int]:
    out = [int(y) for y in (years if years is not None else panel.years)]
    panel.require_years(*out)
    return out


def region_indices(
    panel: Panel,
    definitions: ClusterDefinitions | None = None,
    *,
    years: Sequence[int] | None = None,
    reference_region: str | None = None,
    lq_base: LqBase = "total",
    stars: StarRules = StarRules(),  # noqa: B008 - frozen dataclass
    strong: StrongRules = StrongRules(),  # noqa: B008 - frozen dataclass
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Specialisation of each region over the clusters, by year.

    With s_cr = E_cr / E_r (E_r summed over the clusters) and s_c = E_c,ref / E_ref:
    ``krugman`` = Σ|s_cr − s_c|; ``hoover`` (coefficient of specialisation) = krugman / 2;
    ``herfindahl`` = Σ s_cr²; ``entropy`` = −Σ s_cr ln s_cr; ``cluster_strength`` = share of the
    region's traded employment in strong clusters (all clusters count as traded when the
    definitions have no types); ``n_strong`` and ``n_three_star`` count the region's strong and
    three-star clusters. Regions without employment in any cluster that year are left out.
    """
    s = _setup(panel, definitions, reference_region, lq_base, stars, strong)
    report = _years(panel, years)
    frames = []
    for done, y in enumerate(report, start=1):
        frames.append(_region_year(_compute_year(s, y), s.regions, s.flag_clusters))
        if progress is not None:
            progress(done, len(report))
    return pd.concat(frames, ignore_index=True)


def _region_year(cy: ClusterYear, regions: pd.Index, traded: np.ndarray) -> pd.DataFrame:
    E = cy.dense("employment")
    strong = cy.dense("strong", False)
    stars = cy.dense("stars", 0)
    Er = E.sum(axis=1)
    keep = Er > 0
    E, Er = E[keep], Er[keep]
    s = E / Er[:, None]
    ref = cy.reference_cluster / cy.reference_cluster.sum()
    krugman = np.abs(s - ref[None, :]).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(s > 0, s * np.log(np.where(s > 0, s, 1.0)), 0.0).sum(axis=1)
        traded_e = E[:, traded].sum(axis=1)
        strong_e = (E * strong[keep])[:, traded].sum(axis=1)
        strength = np.where(traded_e > 0, strong_e / traded_e, np.nan)
    return pd.DataFrame(
        {
            "year": np.full(int(keep.sum()), cy.year, dtype=np.int64),
            "region": regions[keep].astype(str),
            "employment": Er,
            "krugman": krugman,
            "hoover": krugman / 2,
            "herfindahl": (s**2).sum(axis=1),
            "entropy": entropy,
            "cluster_strength": strength,
            "n_strong": strong[keep].sum(axis=1).astype(np.int64),
            "n_three_star": (stars[keep] == 3).sum(axis=1).astype(np.int64),
        }
    )


def industry_indices(
    panel: Panel,
    definitions: ClusterDefinitions | None = None,
    *,
    years: Sequence[int] | None = None,
    reference_region: str | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Geographic concentration of each cluster (or industry) across the regions, by year.

    With y_r = E_cr / E_c and x_r = E_r / E (E_r the region's employment over all industries,
    whether in a cluster or not, E their sum over the regions, the reference region excluded):
    ``hoover`` (localisation) = ½ Σ|y_r − x_r|;
    ``gini`` = locational Gini, one minus twice the area under the Lorenz curve of y against x
    with regions sorted by y_r / x_r; ``eg_raw`` = Σ (y_r − x_r)², the raw geographic
    concentration G of Ellison and Glaeser (1997). Clusters without employment are left out.
    """
    s = _setup(panel, definitions, reference_region, "total", StarRules(), StrongRules())
    clusters = s.clusters
    report = _years(panel, years)
    frames = []
    for done, y in enumerate(report, start=1):
        emp = _employment(s, y)  # no stars or flags needed here
        E = emp.ranked(s)
        Ec = E.sum(axis=0)
        keep = Ec > 0
        E, Ec = E[:, keep], Ec[keep]
        Er = emp.region_total  # over all industries, in a cluster or not
        x = Er / Er.sum() if Er.sum() > 0 else Er
        Y = E / Ec[None, :]
        diff = Y - x[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(x[:, None] > 0, Y / x[:, None], np.inf)
        order = np.argsort(ratio, axis=0, kind="stable")
        ys = np.take_along_axis(Y, order, axis=0)
        xs = x[order]
        Yc = np.cumsum(ys, axis=0)
        Yprev = np.vstack([np.zeros((1, Yc.shape[1])), Yc[:-1]])
        gini = 1.0 - (xs * (Yc + Yprev)).sum(axis=0)
        info = clusters[keep]
        frames.append(
            pd.DataFrame(
                {
                    "year": np.full(int(keep.sum()), y, dtype=np.int64),
                    "cluster": info.index.astype(str),
                    "cluster_name": info["cluster_name"].to_numpy(),
                    "type": info["type"].to_numpy(),
                    "employment": Ec,
                    "hoover": 0.5 * np.abs(diff).sum(axis=0),
                    "gini": gini,
                    "eg_raw": (diff**2).sum(axis=0),
                }
            )
        )
        if progress is not None:
            progress(done, len(report))
    return pd.concat(frames, ignore_index=True)
