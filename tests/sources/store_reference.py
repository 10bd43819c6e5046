"""Reference tables for the store and API tests, computed here with the observatory's own
functions (not through the store), and a plain form of frames to compare them by.
(Not a conftest; imported as ``sources.store_reference``.)"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from clusteratlas.observatory import (
    ClusterDefinitions,
    Panel,
    cluster_table,
    complexity_table,
    complexity_years,
    industry_indices,
    mentors,
    opportunities,
    peers,
    region_indices,
    shift_share,
)
from clusteratlas.sources.synthetic import demo_definitions, demo_panel_frame


def demo_inputs(seed: int = 2024) -> tuple[Panel, ClusterDefinitions]:
    """The synthetic demo panel and its cluster definitions."""
    return Panel.from_frame(demo_panel_frame(seed)), ClusterDefinitions.from_frame(
        demo_definitions()
    )


def reference_tables(panel: Panel, definitions: ClusterDefinitions) -> dict[str, pd.DataFrame]:
    """Every table as the observatory computes it: dynamics and shift-share from the first
    year, complexity of every year, opportunities (all), peers (top 10) and mentors (on ECI)
    of the last year for every ranked region, with ``year`` and ``region`` in front."""
    first, last = panel.years[0], panel.years[-1]
    tables = {
        "clusters": cluster_table(panel, definitions, base_year=first),
        "regions": region_indices(panel, definitions),
        "industries": industry_indices(panel, definitions),
        "shiftshare": shift_share(panel, definitions, base_year=first, year=last),
        "complexity": complexity_table(panel, definitions),
    }
    cy = next(complexity_years(panel, definitions, years=[last]))
    shares = cy.employment / cy.employment.sum(axis=1, keepdims=True)
    opp, near = [], []
    for region in cy.regions:
        o = opportunities(
            region,
            regions=cy.regions,
            industries=cy.industries,
            mcp=cy.mcp,
            density=cy.density,
            pci=cy.pci,
            proximity=cy.proximity,
        )
        p = peers(region, regions=cy.regions, rca=cy.rca, shares=shares, top=10)
        p = p.rename(columns={"region": "peer"})
        for frame, out in ((o, opp), (p, near)):
            frame = frame.reset_index(drop=True)
            frame.insert(0, "region", region)
            frame.insert(0, "year", last)
            out.append(frame)
    tables["opportunities"] = pd.concat(opp, ignore_index=True)
    tables["peers"] = pd.concat(near, ignore_index=True)
    m = mentors(regions=cy.regions, profiles=cy.rca, indicator=pd.Series(cy.eci, index=cy.regions))
    m.insert(0, "year", last)
    tables["mentors"] = m.reset_index(drop=True)
    return tables


def plain(value: Any) -> Any:
    """A Python value: numpy scalars unwrapped, NaN and NA as None."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a frame as dicts of plain values, in order."""
    columns = list(frame.columns)
    return [
        {c: plain(v) for c, v in zip(columns, row, strict=True)}
        for row in frame.astype(object).itertuples(index=False, name=None)
    ]
