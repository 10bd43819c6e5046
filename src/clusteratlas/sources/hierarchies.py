"""Choosing a region or industry hierarchy by name (derived from the codes) or from a code list
file (``code,parent[,level]``, such as the official NUTS, NACE or NAICS lists)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from clusteratlas.observatory.hierarchy import NAICS_SECTORS, Hierarchy
from clusteratlas.observatory.panel import Panel
from clusteratlas.sources.base import InputError
from clusteratlas.sources.table import read_table

__all__ = ["SCHEMES", "hierarchy_for", "level_labels", "roll_up"]

SCHEMES = ("nuts", "naics", "nace")


def hierarchy_for(spec: str, codes: Iterable[str]) -> Hierarchy:
    """``nuts``, ``naics`` or ``nace`` (derived from the codes) or the path of a code list."""
    codes = list(codes)
    if spec.lower() in SCHEMES:
        return getattr(Hierarchy, spec.lower())(codes)
    path = Path(spec)
    frame, _ = read_table(path)
    missing = [c for c in ("code", "parent") if c not in frame.columns]
    if missing:
        raise InputError(
            path,
            message=(
                f"{path}: a code list needs the columns code and parent (and optionally level); "
                f"missing {', '.join(missing)} (found: {', '.join(frame.columns)}); "
                f"or name a scheme: {', '.join(SCHEMES)}"
            ),
        )
    level = "level" if "level" in frame.columns else None
    return Hierarchy.from_frame(frame, level=level, name=path.name)


def roll_up(
    panel: Panel,
    *,
    region_level: int | None = None,
    region_codes: str = "nuts",
    industry_level: int | None = None,
    industry_codes: str | None = None,
    keep: Sequence[str] = (),
) -> Panel:
    """Aggregate a panel's regions and/or industries to a level of their hierarchy.

    ``keep`` lists region codes left as they are (a reference region such as ``EU27_2020``);
    aggregate regions are treated as :meth:`Panel.rollup` says. ``industry_codes`` defaults to
    ``naics`` when every industry code is numeric, else ``nace``.
    """
    if region_level is None and industry_level is None:
        return panel
    r_hier = i_hier = None
    if region_level is not None:
        apart = set(panel.aggregates) | set(keep)
        r_hier = hierarchy_for(region_codes, [c for c in panel.regions if c not in apart])
    if industry_level is not None:
        codes = list(panel.industries)
        scheme = industry_codes or ("naics" if all(c.isdigit() for c in codes) else "nace")
        i_hier = hierarchy_for(scheme, codes)
    return panel.rollup(
        region_level=region_level,
        industry_level=industry_level,
        region_hierarchy=r_hier,
        industry_hierarchy=i_hier,
        keep=keep,
    )


def level_labels(codes: Iterable[str], dimension: str) -> dict[str, str]:
    """A readable level for each code, guessed from its shape (``"NUTS 2"``, ``"county"``,
    ``"6 digits"``, ``"division"``); codes of no known shape are ``"other"``."""
    codes = [str(c) for c in codes]
    labels: dict[str, str] = {}
    if dimension == "region":
        nuts = Hierarchy.nuts(codes)
        for c in codes:
            level = nuts.level(c)
            if level is not None and not c.isdigit():
                labels[c] = f"NUTS {level}"
            elif c.isdigit():
                labels[c] = {2: "state", 5: "county"}.get(len(c), f"{len(c)} digits")
            else:
                labels[c] = "other"
        return labels
    nace = Hierarchy.nace(codes)
    names = {1: "section", 2: "division", 3: "group", 4: "class"}
    for c in codes:
        if c == "00":
            labels[c] = "total"
        elif c in NAICS_SECTORS.values():
            labels[c] = "2 digits"
        elif c.isdigit():
            labels[c] = f"{len(c)} digits"
        elif (level := nace.level(c)) is not None:
            labels[c] = names[level]
        else:
            labels[c] = "other"
    return labels
