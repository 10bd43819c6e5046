"""What a panel holds and how much of it is withheld or estimated, before anyone trusts a map."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from clusteratlas.observatory.panel import Panel

__all__ = ["ESTIMATED_FLAGS", "WITHHELD_FLAGS", "flag_counts", "panel_quality"]

#: flag codes that mark a value as estimated (Eurostat ``e``, CBP imputation ``e``) …
ESTIMATED_FLAGS = frozenset({"e"})
#: … and as withheld / confidential (Eurostat ``c``/``C``, CBP ``D``/``S``)
WITHHELD_FLAGS = frozenset({"c", "C", "D", "S"})


def panel_quality(
    panel: Panel,
    *,
    region_levels: Mapping[str, str] | None = None,
    industry_levels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Cells, employment and the share withheld or estimated, by year and level.

    Parameters
    ----------
    region_levels, industry_levels
        Optional labels of each code's level (``"NUTS 2"``, ``"6 digits"``); codes without one
        are labelled ``"all"``.

    Returns
    -------
    One row per year, region level and industry level with ``cells`` (stored or flagged
    cells), ``employment``, ``flagged`` (cells with any flag), ``withheld`` (flagged withheld:
    the value is not published), ``estimated`` (cells with bounds or an estimate flag),
    ``withheld_share``, ``estimated_share`` (of cells) and ``estimated_employment_share``.
    Aggregate regions are labelled ``"aggregate"``.
    """
    frame = panel.to_frame()
    regions, industries = dict(region_levels or {}), dict(industry_levels or {})
    aggregates = set(panel.aggregates)
    r_level = ["aggregate" if r in aggregates else regions.get(r, "all") for r in frame["region"]]
    i_level = [industries.get(i, "all") for i in frame["industry"]]
    codes = (
        frame["flag"].fillna("").str.split(",")
        if "flag" in frame
        else pd.Series([[]] * len(frame), index=frame.index)
    )
    withheld = codes.map(lambda c: bool(WITHHELD_FLAGS.intersection(c))).to_numpy(bool)
    estimated = codes.map(lambda c: bool(ESTIMATED_FLAGS.intersection(c))).to_numpy(bool)
    if "employment_lower" in frame:
        estimated = estimated | frame["employment_lower"].notna().to_numpy()
    flagged = codes.map(lambda c: any(c)).to_numpy(bool)
    work = pd.DataFrame(
        {
            "year": frame["year"],
            "region_level": r_level,
            "industry_level": i_level,
            "cells": 1,
            "employment": frame["employment"],
            "flagged": flagged.astype(np.int64),
            "withheld": withheld.astype(np.int64),
            "estimated": estimated.astype(np.int64),
            "estimated_employment": np.where(estimated, frame["employment"], 0.0),
        }
    )
    out = work.groupby(["year", "region_level", "industry_level"], as_index=False).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["withheld_share"] = out["withheld"] / out["cells"]
        out["estimated_share"] = out["estimated"] / out["cells"]
        out["estimated_employment_share"] = np.where(
            out["employment"] > 0, out.pop("estimated_employment") / out["employment"], 0.0
        )
    return out


def flag_counts(panel: Panel) -> pd.Series:
    """How many cells carry each flag code (a cell flagged ``"c,e"`` counts for both)."""
    codes = panel.flags["flag"].str.split(",").explode()
    codes = codes[codes != ""]
    return codes.value_counts().sort_index().rename("cells")
