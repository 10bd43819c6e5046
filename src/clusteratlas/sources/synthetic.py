"""Deterministic synthetic panels: the demo data set and large panels for benchmarks.

Nothing here is official data. The demo panel uses real NUTS 2021 level-2 region codes and names
and real NACE Rev. 2 divisions (Eurostat code lists, reused with acknowledgement) so that it
looks like the data analysts work with, but every number is generated.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from clusteratlas.observatory import Panel

__all__ = [
    "DEMO_NOTICE",
    "demo_definitions",
    "demo_panel_frame",
    "demo_regions",
    "industry_titles",
    "random_panel",
    "random_panel_frame",
    "us_atlas_states",
    "us_states_panel_frame",
]

DEMO_NOTICE = (
    "SYNTHETIC DATA: the demo panel is generated (seeded, deterministic); region and industry "
    "codes are real (NUTS 2021, NACE Rev. 2) but no number is an official statistic."
)


def _data(name: str) -> pd.DataFrame:
    with resources.files("clusteratlas.sources").joinpath("data", name).open("rb") as f:
        return pd.read_csv(f, dtype=str, keep_default_na=False)


def demo_regions() -> pd.DataFrame:
    """The demo's regions: ``region, name, country`` (NUTS 2021 level 2)."""
    return _data("demo_regions.csv")


def industry_titles() -> pd.DataFrame:
    """NACE Rev. 2 divisions: ``industry, title, section``."""
    return _data("nace_rev2_divisions.csv")


def demo_definitions() -> pd.DataFrame:
    """The demo's cluster definitions (NACE divisions → 19 illustrative clusters)."""
    return _data("demo_definitions.csv")


def demo_panel_frame(seed: int = 2024, years: range = range(2015, 2023)) -> pd.DataFrame:
    """A realistic synthetic long table over the demo regions and all NACE divisions.

    Regions differ in size (log-normal), each has a few specialisations (clusters with high
    location quotients), clusters grow or shrink at region-specific rates, small cells are
    missing, about 1% of cells are flagged ``e`` (estimated) and a few ``c`` (confidential,
    employment withheld). Establishments and payroll follow the employment with plausible
    firm sizes and wage levels.
    """
    rng = np.random.default_rng(seed)
    regions = demo_regions()["region"].to_numpy()
    industries = industry_titles()["industry"].to_numpy()
    defs = demo_definitions().set_index("industry")["cluster"]
    clusters = np.array(sorted(defs.unique()))
    n_r, n_i = len(regions), len(industries)
    size = rng.lognormal(mean=13.0, sigma=0.7, size=n_r)  # total employment ~ 450k
    base_share = rng.dirichlet(np.full(n_i, 1.5))
    # specialisations: each region strong in 1–3 clusters
    spec = np.ones((n_r, n_i))
    cl_of = np.array([defs.get(i, "") for i in industries])
    for r in range(n_r):
        for c in rng.choice(clusters, size=rng.integers(1, 4), replace=False):
            spec[r, cl_of == c] *= rng.uniform(2.0, 4.5)
    spec *= rng.lognormal(0.0, 0.35, size=(n_r, n_i))
    growth = rng.normal(0.01, 0.025, size=(n_r, n_i))
    firm_size = rng.uniform(4, 60, size=n_i)
    wage_level = rng.uniform(22, 70, size=n_i)  # thousand EUR per employee
    region_wage = rng.lognormal(0, 0.25, size=n_r)
    frames = []
    y0 = years[0]
    for y in years:
        t = y - y0
        shares = base_share[None, :] * spec * np.exp(growth * t)
        shares /= shares.sum(axis=1, keepdims=True)
        emp = size[:, None] * (1.0 + 0.012 * t) * shares * rng.lognormal(0, 0.03, (n_r, n_i))
        emp = np.round(emp)
        emp[emp < 25] = 0  # small cells missing, as in published statistics
        est = np.maximum(1, np.round(emp / firm_size[None, :] * rng.lognormal(0, 0.2, emp.shape)))
        pay = np.round(emp * wage_level[None, :] * region_wage[:, None] * (1.02**t))
        r, i = np.nonzero(emp > 0)
        frame = pd.DataFrame(
            {
                "year": y,
                "region": regions[r],
                "industry": industries[i],
                "employment": emp[r, i].astype(np.int64).astype(object),
                "establishments": est[r, i].astype(np.int64),
                "payroll": pay[r, i].astype(np.int64),
                "flag": "",
            }
        )
        u = rng.random(len(frame))
        frame.loc[u < 0.01, "flag"] = "e"
        conf = u > 0.997
        frame.loc[conf, "flag"] = "c"
        frame.loc[conf, "employment"] = ""
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


US_STATES_NOTICE = (
    "SYNTHETIC DATA: the US states demo panel is generated (seeded, deterministic); state codes "
    "and names are real (FIPS, from us-atlas) but no number is an official statistic."
)


def us_atlas_states(path: str | Path, *, territories: bool = False) -> pd.DataFrame:
    """The states of a us-atlas ``states-*.json`` TopoJSON file: ``region`` (two-digit FIPS)
    and ``name``, sorted by code; the 50 states and DC, plus the five territories (FIPS ≥ 60)
    when ``territories``."""
    path = Path(path)
    try:
        topology = json.loads(path.read_text(encoding="utf-8"))
        geometries = topology["objects"]["states"]["geometries"]
        rows = [(str(g["id"]), str(g["properties"]["name"])) for g in geometries]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a us-atlas states file ({exc})") from exc
    frame = pd.DataFrame(rows, columns=["region", "name"]).sort_values("region")
    if not territories:
        frame = frame[frame["region"].astype(int) < 60]
    return frame.reset_index(drop=True)


def us_states_panel_frame(
    states: pd.DataFrame, seed: int = 2026, years: range = range(2015, 2023)
) -> pd.DataFrame:
    """A synthetic long table over US states (``states``: ``region``, as from
    :func:`us_atlas_states`) and the demo's NACE divisions, for the demo's clusters
    (:func:`demo_definitions`).

    States differ in size (log-normal, about 140 million employees in all), each is
    specialised in one to three clusters, and clusters grow or shrink at state-specific rates;
    small cells are missing. Establishments and payroll follow employment (US-dollar wages).
    No flags.
    """
    rng = np.random.default_rng(seed)
    regions = states["region"].astype(str).to_numpy()
    industries = industry_titles()["industry"].to_numpy()
    defs = demo_definitions().set_index("industry")["cluster"]
    cluster_of = np.array([defs.get(i, "") for i in industries])
    clusters = np.array(sorted(defs.unique()))
    n_r, n_i = len(regions), len(industries)
    size = rng.lognormal(mean=14.0, sigma=1.0, size=n_r)
    spec = np.ones((n_r, n_i))
    for r in range(n_r):
        for c in rng.choice(clusters, size=rng.integers(1, 4), replace=False):
            spec[r, cluster_of == c] *= rng.uniform(1.8, 4.0)
    shares0 = rng.dirichlet(np.full(n_i, 1.5))[None, :] * spec
    shares0 *= rng.lognormal(0.0, 0.3, size=(n_r, n_i))
    growth = rng.normal(0.012, 0.03, size=(n_r, n_i))
    firm_size = rng.uniform(5, 80, size=n_i)
    wage = rng.uniform(30, 110, size=n_i)[None, :] * rng.lognormal(0, 0.2, size=n_r)[:, None]
    frames = []
    for t, year in enumerate(years):
        shares = shares0 * np.exp(growth * t)
        shares /= shares.sum(axis=1, keepdims=True)
        emp = np.round(size[:, None] * (1.0 + 0.015 * t) * shares)
        emp[emp < 50] = 0
        r, i = np.nonzero(emp)
        e = emp[r, i]
        frames.append(
            pd.DataFrame(
                {
                    "year": year,
                    "region": regions[r],
                    "industry": industries[i],
                    "employment": e.astype(np.int64),
                    "establishments": np.maximum(1, np.round(e / firm_size[i])).astype(np.int64),
                    "payroll": np.round(e * wage[r, i] * 1.025**t).astype(np.int64),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _random_cells(
    n_regions: int, n_industries: int, n_years: int, zero_share: float, seed: int
) -> Iterator[tuple[int, np.ndarray, np.ndarray, dict[str, np.ndarray]]]:
    """Year by year: region positions, industry positions and measures of the present cells."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(9.0, 1.2, n_regions)
    share = rng.dirichlet(np.full(n_industries, 0.8))
    for t in range(n_years):
        present = rng.random((n_regions, n_industries)) >= zero_share
        r, i = np.nonzero(present)
        emp = np.ceil(size[r] * share[i] * rng.lognormal(0, 1.0, len(r)) * 5)
        yield (
            2010 + t,
            r,
            i,
            {
                "employment": emp,
                "establishments": np.ceil(emp / rng.uniform(2, 40, len(r))),
                "payroll": np.round(emp * rng.uniform(20, 80, len(r)), 1),
            },
        )


def _labels(n_regions: int, n_industries: int) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.array([f"R{k:05d}" for k in range(n_regions)], dtype=object),
        np.array([f"I{k:04d}" for k in range(n_industries)], dtype=object),
    )


def random_panel_frame(
    n_regions: int,
    n_industries: int,
    n_years: int = 10,
    *,
    zero_share: float = 0.6,
    seed: int = 0,
) -> pd.DataFrame:
    """A large random long table for benchmarks and tests (numeric columns, no flags).

    About ``zero_share`` of the region × industry cells are absent each year. The same
    arguments give the same data as :func:`random_panel`.
    """
    regions, industries = _labels(n_regions, n_industries)
    frames = []
    for year, r, i, measures in _random_cells(n_regions, n_industries, n_years, zero_share, seed):
        frames.append(
            pd.DataFrame(
                {
                    "year": np.full(len(r), year, dtype=np.int64),
                    "region": regions[r],
                    "industry": industries[i],
                    **measures,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def random_panel(
    n_regions: int,
    n_industries: int,
    n_years: int = 10,
    *,
    zero_share: float = 0.6,
    seed: int = 0,
) -> Panel:
    """The panel of :func:`random_panel_frame`, built directly from sparse matrices (no long
    table in memory, so benchmarks measure the analysis, not the generator)."""
    regions, industries = _labels(n_regions, n_industries)
    data: dict[str, dict[int, sparse.csr_array]] = {}
    years = []
    shape = (n_regions, n_industries)
    for year, r, i, measures in _random_cells(n_regions, n_industries, n_years, zero_share, seed):
        years.append(year)
        for name, values in measures.items():
            data.setdefault(name, {})[year] = sparse.csr_array((values, (r, i)), shape=shape)
    return Panel(years=years, regions=regions, industries=industries, data=data)
