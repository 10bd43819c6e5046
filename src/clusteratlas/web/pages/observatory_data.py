"""What the observatory pages show, apart from the pages: the dataset with its lookups, the
map indicators and their colour classes, each table as a frame (one function per table, used
by its page and by its CSV download), the chart and map JSON, the organisations of the platform
in a region or a cluster's sectors, and the CSV writer (text cells neutralised against formula
injection as in ``/api/export``). The routes are in :mod:`clusteratlas.web.pages.observatory`.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
import re
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from fastapi import HTTPException, status
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload
from starlette.responses import Response

from clusteratlas.collaboration.models import Organisation, OrganisationSector, OrganisationStatus
from clusteratlas.observatory import QUADRANTS, REGISTRY, similarity_matrix
from clusteratlas.sources.store import (
    DatasetInfo,
    GeometryLevelNotFound,
    ObservatoryStore,
    TableNotFound,
)
from clusteratlas.web.api.export import neutralise

__all__ = [
    "BUBBLE_X",
    "Column",
    "Dataset",
    "LQ_BREAKS",
    "MAP_INDICATORS",
    "MapIndicator",
    "QUADRANT_PLACES",
    "REGION_INDEX_COLUMNS",
    "Table",
    "bad_choice",
    "bars_chart",
    "bubble_chart",
    "cluster_industries",
    "cluster_organisations",
    "cluster_regions",
    "cluster_trends",
    "colour_classes",
    "compare_frames",
    "csv_response",
    "default_cluster",
    "file_version",
    "flags_of",
    "fmt",
    "geometry_attribution",
    "lines_chart",
    "load_dataset",
    "map_frame",
    "map_json",
    "map_level",
    "missing",
    "num",
    "optional_table",
    "query_string",
    "region_clusters",
    "region_index_frame",
    "region_organisations",
    "related_clusters",
    "safe_name",
    "span",
    "warm_cluster_caches",
]

#: organisations listed on a page (the region's, the cluster's)
MAX_ORGANISATIONS = 50
#: related clusters shown on a cluster page
RELATED = 6
#: colour classes of the maps (CSS classes obs-c0 … obs-c4 in observatory.css)
N_CLASSES = 5
#: the classes of the LQ on the maps
LQ_BREAKS = (0.5, 0.8, 1.25, 2.0)


# ---- indicators, formats ----------------------------------------------------------------------


@dataclass(frozen=True)
class MapIndicator:
    """An indicator the maps can show: a column of the ``clusters`` table (one cluster) or of
    the ``regions`` table (all clusters of the region)."""

    key: str
    label: str
    table: str
    column: str
    kind: str  # how values read: see :func:`fmt`

    @property
    def per_cluster(self) -> bool:
        return self.table == "clusters"

    @property
    def description(self) -> str:
        spec = REGISTRY.get(self.column)
        return spec.description if spec is not None else ""


MAP_INDICATORS: dict[str, MapIndicator] = {
    i.key: i
    for i in (
        MapIndicator("lq", "Location quotient", "clusters", "lq", "ratio"),
        MapIndicator("employment", "Employment in the cluster", "clusters", "employment", "int"),
        MapIndicator("stars", "Stars (0–3)", "clusters", "stars", "stars"),
        MapIndicator(
            "growth_cagr", "Employment growth per year", "clusters", "growth_cagr", "rate"
        ),
        MapIndicator("lq_change", "Change of the LQ", "clusters", "lq_change", "signed"),
        MapIndicator("wage", "Average wage", "clusters", "wage", "money"),
        MapIndicator(
            "region_share", "Share of the region's employment", "clusters", "region_share", "share"
        ),
        MapIndicator(
            "cluster_strength",
            "Cluster strength (all clusters)",
            "regions",
            "cluster_strength",
            "share",
        ),
        MapIndicator("n_strong", "Strong clusters (count)", "regions", "n_strong", "int"),
        MapIndicator("n_three_star", "3-star clusters (count)", "regions", "n_three_star", "int"),
        MapIndicator("krugman", "Specialisation (Krugman index)", "regions", "krugman", "index"),
        MapIndicator(
            "region_employment", "Employment of the region", "regions", "employment", "int"
        ),
    )
}
#: the x axes the bubble chart offers (y is always the LQ)
BUBBLE_X = {"lq_change": "change of the LQ", "growth_cagr": "employment growth per year"}
#: where each quadrant of the bubble chart sits (x > 0 is right, LQ > 1 is top)
QUADRANT_PLACES = dict(
    zip(QUADRANTS, ("top-right", "top-left", "bottom-right", "bottom-left"), strict=True)
)
FLAG_COLUMNS = ("strong10", "strong", "significant", "qualifying")
REGION_INDEX_COLUMNS = (
    ("employment", "Employment", "int"),
    ("krugman", "Krugman index", "index"),
    ("hoover", "Hoover coefficient", "index"),
    ("herfindahl", "Herfindahl index", "index"),
    ("entropy", "Entropy", "index"),
    ("cluster_strength", "Cluster strength", "share"),
    ("n_strong", "Strong clusters", "int"),
    ("n_three_star", "3-star clusters", "int"),
)


def missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float):  # the common cases first: called for every cell of a page
        return value != value
    if isinstance(value, str | int):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt(value: Any, kind: str = "number") -> str:
    """``value`` as the pages show it: ``–`` when missing."""
    if missing(value):
        return "–"
    if kind == "text":
        return str(value)
    if kind == "bool":
        return "yes" if bool(value) else "no"
    if kind == "stars":
        n = int(value)
        return "★" * n + "☆" * (3 - n)
    v = float(value)
    if kind == "int":
        return f"{v:,.0f}"
    if kind == "money":
        return f"{v:,.0f}"
    if kind == "ratio":
        return f"{v:.2f}"
    if kind == "share":
        return f"{v * 100:.1f} %"
    if kind == "rate":
        return f"{v * 100:+.1f} %"
    if kind == "signed":
        return f"{v:+.2f}"
    if kind == "index":
        return f"{v:.3f}"
    return f"{v:,.4g}"


def num(value: Any) -> float | int | None:
    """A JSON number (None for missing or infinite)."""
    if missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, int | np.integer):
        return int(value)
    v = float(value)
    return v if math.isfinite(v) else None


def query_string(**params: Any) -> str:
    """A query string from ``params`` (lists repeat the name; None is left out)."""
    pairs: list[tuple[str, Any]] = []
    for key, value in params.items():
        if value is None:
            continue
        for v in value if isinstance(value, list | tuple) else [value]:
            pairs.append((key, v))
    return ("?" + urlencode(pairs)) if pairs else ""


# ---- the store and its dataset ----------------------------------------------------------------


def bad_choice(field_name: str, message: str) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, detail=f"{field_name}: {message}")


@dataclass
class Dataset:
    """One dataset of the store with the lookups the pages need."""

    store: ObservatoryStore
    info: DatasetInfo
    regions: pd.DataFrame  # code, name, level, parent
    clusters: pd.DataFrame  # code, name, type
    region_names: dict[str, str] = field(default_factory=dict)
    cluster_names: dict[str, str] = field(default_factory=dict)
    #: the file's version (:func:`file_version`): cached results are keyed by it
    version: tuple[int, int, int] = (0, 0, 0)
    #: the thread that computes, after a (re)load, what the first cluster page would otherwise
    #: wait for (:func:`warm_cluster_caches`); None when nothing is being prepared
    warming: threading.Thread | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.info.name

    def year(self, year: int | None) -> int:
        years = self.info.years
        if year is None:
            return years[-1]
        if year not in years:
            raise bad_choice("year", f"the dataset has the years {span(years)}, not {year}")
        return year

    def region(self, code: str) -> str:
        return self._name(self.region_names, code, "region")

    def cluster(self, code: str) -> str:
        return self._name(self.cluster_names, code, "cluster")

    def _name(self, names: dict[str, str], code: str, kind: str) -> str:
        """The name of ``code``; a 404 page when the dataset has no such region or cluster."""
        name = names.get(code)
        if name is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                detail=f"The dataset “{self.info.title}” has no {kind} “{code}”.",
            )
        return name

    def table(self, table: str, **kw: Any) -> pd.DataFrame:
        return self.store.table(self.name, table, **kw)

    def has(self, table: str, column: str | None = None) -> bool:
        """Whether the dataset has the table (and the table the column: a dataset of one
        year has no growth or LQ change)."""
        if table not in self.info.tables:
            return False
        return column is None or column in self.store.columns(self.name, table)

    @property
    def indicators(self) -> dict[str, MapIndicator]:
        """The map indicators this dataset has."""
        return {k: i for k, i in MAP_INDICATORS.items() if self.has(i.table, i.column)}


def span(years: Sequence[int]) -> str:
    if not years:
        return "none"
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


log = logging.getLogger(__name__)

#: datasets read lately, by (store folder, name): (version of the file, Dataset)
_DATASETS: dict[tuple[str, str], tuple[tuple[int, int, int], Dataset]] = {}
_MAX_DATASETS = 16


def file_version(store: ObservatoryStore, name: str) -> tuple[int, int, int] | None:
    """Inode, modification time and size of the dataset's file: a reload changes them (the
    store replaces the file), and so does the store's own check."""
    try:
        st = os.stat(store.directory / f"{name}.duckdb")
    except (OSError, ValueError):
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def load_dataset(store: ObservatoryStore, name: str) -> Dataset:
    """The dataset with its regions and clusters, read once per version of its file.

    Raises
    ------
    DatasetNotFound
        There is no such dataset.
    """
    key = (str(store.directory), name)
    version = file_version(store, name)
    cached = _DATASETS.get(key)
    if version is not None and cached is not None and cached[0] == version:
        return cached[1]
    info = store.dataset(name)
    regions = store.regions(name)
    clusters = store.clusters(name)
    regions["code"] = regions["code"].astype(str)
    clusters["code"] = clusters["code"].astype(str)
    ds = Dataset(
        store,
        info,
        regions,
        clusters,
        region_names=dict(zip(regions["code"], regions["name"].astype(str), strict=True)),
        cluster_names=dict(zip(clusters["code"], clusters["name"].astype(str), strict=True)),
        version=version or (0, 0, 0),
    )
    if version is not None:
        if len(_DATASETS) >= _MAX_DATASETS:
            _DATASETS.clear()
        _DATASETS[key] = (version, ds)
        if "clusters" in info.tables and info.years:
            ds.warming = threading.Thread(
                target=warm_cluster_caches, args=(ds,), name=f"warm {name}", daemon=True
            )
            ds.warming.start()
    return ds


def map_level(ds: Dataset, level: str | None) -> str:
    """The region level a map shows: the one asked for, else the level with most regions."""
    levels = [str(v) for v in ds.regions["level"].dropna().unique()]
    if level is not None:
        if level not in levels:
            raise bad_choice("level", f"the dataset has the region levels {', '.join(levels)}")
        return level
    if not levels:
        return ""
    return str(ds.regions["level"].value_counts().idxmax())


def default_cluster(ds: Dataset) -> str:
    traded = ds.clusters[ds.clusters["type"].astype(str) == "traded"]
    frame = traded if len(traded) else ds.clusters
    return str(frame["code"].iloc[0]) if len(frame) else ""


# ---- tables as frames (shared by the pages and their CSV) -------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "number"
    link: str | None = None  # "region" or "cluster": the cell links to that page
    link_key: str | None = None  # the row's field with the code linked to (default: key)

    @property
    def target(self) -> str:
        return self.link_key or self.key


@dataclass
class Table:
    """A table of a page: its frame, the columns shown and its CSV link."""

    id: str
    title: str
    frame: pd.DataFrame
    columns: list[Column]
    csv: str
    note: str = ""

    @cached_property
    def rows(self) -> list[dict[str, Any]]:  # once: templates ask for it more than once
        return self.frame.to_dict("records")


def map_frame(
    ds: Dataset,
    indicator: MapIndicator,
    year: int,
    cluster: str,
    level: str,
    values: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """region, name, value, rank: the regions of ``level`` ranked by the indicator (read from
    the store unless ``values``, the region and indicator columns of those rows, are given)."""
    regions = ds.regions[ds.regions["level"].astype(str) == level] if level else ds.regions
    if values is None:
        kw: dict[str, Any] = {"year": year, "columns": ["region", indicator.column]}
        if indicator.per_cluster:
            kw["cluster"] = cluster
        values = ds.table(indicator.table, **kw)
    else:
        values = values[["region", indicator.column]]
    values = values.rename(columns={indicator.column: "value"})
    values["region"] = values["region"].astype(str)
    out = pd.DataFrame(
        {"region": regions["code"].astype(str).to_numpy(), "name": regions["name"].to_numpy()}
    )
    out = out.merge(values, on="region", how="left")
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype("float64")
    out = out.sort_values(["value", "region"], ascending=[False, True], na_position="last")
    out["rank"] = out["value"].rank(method="min", ascending=False).astype("Int64")
    return out.reset_index(drop=True)[["rank", "region", "name", "value"]]


def colour_classes(values: pd.Series, indicator: MapIndicator) -> tuple[pd.Series, list[str]]:
    """Colour classes 0…4 of ``values`` (−1 when missing) and the legend's labels."""
    v = values.to_numpy(dtype="float64")
    present = ~np.isnan(v)
    cls = np.full(len(v), -1, dtype=int)
    if indicator.kind == "stars":
        cls[present] = np.clip(v[present].astype(int), 0, 3) + 1
        return pd.Series(cls, index=values.index), ["", "no star", "1 star", "2 stars", "3 stars"]
    if indicator.column == "lq":
        breaks = list(LQ_BREAKS)
    else:
        breaks = []
        if present.any():
            qs = np.nanpercentile(v[present], [20, 40, 60, 80])
            breaks = sorted({float(q) for q in qs})
    cls[present] = np.searchsorted(np.asarray(breaks), v[present], side="right")
    labels: list[str] = []
    edges = [None, *breaks, None]
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        if lo is None and hi is None:
            labels.append("all values")
        elif lo is None:
            labels.append(f"< {fmt(hi, indicator.kind)}")
        elif hi is None:
            labels.append(f"≥ {fmt(lo, indicator.kind)}")
        else:
            labels.append(f"{fmt(lo, indicator.kind)} to < {fmt(hi, indicator.kind)}")
    return pd.Series(cls, index=values.index), labels


CLUSTER_ROW_COLUMNS = (
    "cluster", "cluster_name", "type", "employment", "lq", "stars", "region_share",
    "growth_cagr", "lq_change", "quadrant", "wage", *FLAG_COLUMNS, "flag",
)  # fmt: skip


def region_clusters(ds: Dataset, code: str, year: int) -> pd.DataFrame:
    """The region's clusters in ``year``, ranked: most stars first, then by LQ."""
    have = ds.store.columns(ds.name, "clusters")
    columns = [c for c in CLUSTER_ROW_COLUMNS if c in have]  # reading fewer columns is faster
    frame = ds.table("clusters", year=year, region=code, columns=columns)
    for name in ("cluster", "cluster_name", "type", "quadrant"):
        if name in frame.columns:
            frame[name] = frame[name].astype("string")
    frame = frame.sort_values(
        ["stars", "lq", "cluster"], ascending=[False, False, True], na_position="last"
    )
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)


def flags_of(row: dict[str, Any]) -> list[str]:
    """The US Cluster Mapping flags of a row, strongest first, and the source's flags."""
    out = []
    for name in FLAG_COLUMNS:
        if name in row and not missing(row[name]) and bool(row[name]):
            out.append("strong, top 10 %" if name == "strong10" else name)
            break  # the strongest only: each implies the weaker ones
    source = row.get("flag")
    if not missing(source) and str(source):
        out.append(f"source flag {source}")
    return out


def region_index_frame(ds: Dataset, code: str) -> pd.DataFrame:
    frame = ds.table("regions", region=code)
    frame = frame.sort_values("year").reset_index(drop=True)
    return frame[[c for c in ("year", *(k for k, _, _ in REGION_INDEX_COLUMNS)) if c in frame]]


def optional_table(ds: Dataset, table: str, code: str) -> pd.DataFrame | None:
    """The region's rows of an optional table (peers, opportunities, mentors, shift-share)."""
    if not ds.has(table):
        return None
    try:
        frame = ds.table(table, region=code)
    except TableNotFound:
        return None
    return frame.drop(columns=[c for c in ("year", "region") if c in frame]).reset_index(drop=True)


def warm_cluster_caches(ds: Dataset) -> None:
    """Compute every cluster's totals and the co-location matrix of the last year now (in a
    background thread, once per version of the dataset's file), so that the first cluster page
    after a load finds them instead of taking ~2 s at US-county scale. A failure here (say the
    file was replaced meanwhile) is left to the page, which computes them itself."""
    try:
        level = map_level(ds, None)
        _cluster_totals(ds.store, ds.name, ds.version, level)
        _colocation(ds.store, ds.name, ds.version, ds.info.years[-1], level)
    except Exception:  # noqa: BLE001 - best effort: the page does the same work on demand
        log.debug("warming the cluster caches of %s failed", ds.name, exc_info=True)


def _after_warming(ds: Dataset) -> None:
    """Wait for the warm-up under way, if any, rather than compute the same thing beside it."""
    if ds.warming is not None and ds.warming is not threading.current_thread():
        ds.warming.join(timeout=120)


def cluster_regions(ds: Dataset, code: str, year: int) -> pd.DataFrame:
    """Every region with the cluster in ``year``, largest employment first."""
    keep = ["region", "employment", "lq", "stars", "region_share", "growth_cagr", "wage"]
    have = ds.store.columns(ds.name, "clusters")
    # only these columns: a cluster's rows are spread over the whole year, and DuckDB reads
    # every column asked for across it
    frame = ds.table("clusters", year=year, cluster=code, columns=[c for c in keep if c in have])
    frame["region"] = frame["region"].astype(str)
    frame.insert(1, "name", frame["region"].map(ds.region_names))
    frame = frame.sort_values(["employment", "region"], ascending=[False, True])
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)


def cluster_trends(ds: Dataset, code: str) -> pd.DataFrame:
    """year, employment, payroll, wage, regions: the cluster's totals over all regions.

    Only regions of the most common level are summed, so that a panel holding both states and
    counties (or an aggregate) is not counted twice."""
    _after_warming(ds)
    totals = _cluster_totals(ds.store, ds.name, ds.version, map_level(ds, None))
    out = totals[totals["cluster"] == code]
    return out[["year", "employment", "payroll", "wage", "regions"]].reset_index(drop=True)


@lru_cache(maxsize=8)
def _cluster_totals(
    store: ObservatoryStore, name: str, version: tuple[int, int, int], level: str
) -> pd.DataFrame:
    """cluster, year, employment, payroll, wage, regions of every cluster, summed over the
    regions of ``level`` (all regions when the dataset has one level); computed in one pass
    and cached per dataset version (a cluster's rows are spread over the whole table)."""
    regions = store.regions(name)
    single = regions["level"].nunique() <= 1
    columns = ["year", "cluster", "employment", "payroll"] + ([] if single else ["region"])
    frame = store.table(name, "clusters", columns=columns)
    if not single:
        codes = regions.loc[regions["level"].astype(str) == level, "code"].astype(str)
        frame = frame[frame["region"].astype(str).isin(codes)]
    payroll = pd.to_numeric(frame["payroll"], errors="coerce")
    frame = frame.assign(
        cluster=frame["cluster"].astype(str), payroll=payroll, unpaid=payroll.isna()
    )
    out = frame.groupby(["cluster", "year"], sort=True).agg(
        employment=("employment", "sum"),
        payroll=("payroll", "sum"),
        unpaid=("unpaid", "any"),
        regions=("employment", "size"),
    )
    out["payroll"] = out["payroll"].where(~out.pop("unpaid"))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["wage"] = out["payroll"] / out["employment"].where(out["employment"] > 0)
    return out.reset_index()


@lru_cache(maxsize=32)
def _colocation(
    store: ObservatoryStore, name: str, version: tuple[int, int, int], year: int, level: str
) -> tuple[tuple[str, ...], np.ndarray]:
    """Clusters and the cosine similarity of their LQ profiles across the regions of ``level``
    in ``year`` (co-location); cached per dataset version."""
    frame = store.table(name, "clusters", year=year, columns=["region", "cluster", "lq"])
    if level:
        regions = store.regions(name)
        codes = set(regions.loc[regions["level"].astype(str) == level, "code"].astype(str))
        frame = frame[frame["region"].astype(str).isin(codes)]
    table = frame.pivot_table(index="cluster", columns="region", values="lq", observed=True)
    table = table.fillna(0.0)
    clusters = tuple(str(c) for c in table.index)
    if not clusters or table.shape[1] == 0:
        return clusters, np.zeros((len(clusters), len(clusters)))
    return clusters, similarity_matrix(table.to_numpy(dtype="float64"))


def related_clusters(ds: Dataset, code: str, year: int) -> pd.DataFrame:
    _after_warming(ds)
    clusters, sim = _colocation(ds.store, ds.name, ds.version, year, map_level(ds, None))
    if code not in clusters or len(clusters) < 2:
        return pd.DataFrame({"cluster": [], "cluster_name": [], "similarity": []})
    i = clusters.index(code)
    out = pd.DataFrame({"cluster": list(clusters), "similarity": sim[i]})
    out = out[(out["cluster"] != code) & out["similarity"].notna()]
    out = out.sort_values(["similarity", "cluster"], ascending=[False, True]).head(RELATED)
    out.insert(1, "cluster_name", out["cluster"].map(ds.cluster_names))
    return out.reset_index(drop=True)


def compare_frames(
    ds: Dataset, codes: list[str], year: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(indices, clusters, employment over time) of the regions, for ``year``."""
    indices = ds.table("regions", year=year, region=codes)
    indices["region"] = indices["region"].astype(str)
    indices = indices.set_index("region").reindex(codes).reset_index()
    clusters = ds.table(
        "clusters",
        year=year,
        region=codes,
        columns=["region", "cluster", "cluster_name", "employment", "lq", "stars"],
    )
    clusters["region"] = clusters["region"].astype(str)
    clusters["cluster"] = clusters["cluster"].astype(str)
    order = {c: i for i, c in enumerate(codes)}
    clusters = clusters.sort_values(
        ["cluster", "region"], key=lambda s: s.map(order) if s.name == "region" else s
    ).reset_index(drop=True)
    history = ds.table("regions", region=codes, columns=["year", "region", "employment"])
    history["region"] = history["region"].astype(str)
    return indices, clusters, history


# ---- organisations of the platform ------------------------------------------------------------


def region_organisations(session: Session, code: str) -> list[Organisation]:
    query = (
        select(Organisation)
        .where(
            Organisation.region_code == code,
            Organisation.status == OrganisationStatus.published,
        )
        .order_by(Organisation.name, Organisation.id)
        .limit(MAX_ORGANISATIONS)
    )
    return list(session.scalars(query))


def _like(code: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", code) + "%"


def _sector_prefixes(industries: Sequence[str]) -> list[str]:
    """Prefixes of organisation sector codes for the cluster's industry codes: the code as it
    is, and for NACE division-style codes (``27``, ``27.1``) also with the section letter that
    profiles store (``C27…``)."""
    out: set[str] = set()
    for code in industries:
        code = str(code).strip()
        if code:
            out.add(code)
    return sorted(out)


def cluster_organisations(session: Session, industries: Sequence[str]) -> list[Organisation]:
    prefixes = _sector_prefixes(industries)
    if not prefixes:
        return []
    conditions = []
    for prefix in prefixes:
        conditions.append(OrganisationSector.code.like(_like(prefix), escape="\\"))
        if prefix[:1].isdigit():  # NACE profiles keep the section letter: C27 for 27
            conditions.append(
                (OrganisationSector.scheme == "NACE")
                & OrganisationSector.code.like("_" + _like(prefix), escape="\\")
            )
    ids = select(OrganisationSector.organisation_id).where(or_(*conditions))
    query = (
        select(Organisation)
        .where(Organisation.id.in_(ids), Organisation.status == OrganisationStatus.published)
        .options(selectinload(Organisation.sectors))
        .order_by(Organisation.name, Organisation.id)
        .limit(MAX_ORGANISATIONS)
    )
    return list(session.scalars(query))


def cluster_industries(ds: Dataset, code: str) -> list[str] | None:
    """The industry codes of the cluster, or None when the store does not keep definitions."""
    reader: Callable[..., pd.DataFrame] | None = getattr(ds.store, "definitions", None)
    if reader is None:
        return None
    try:
        frame = reader(ds.name)
    except (KeyError, LookupError):
        return None
    return sorted(frame.loc[frame["cluster"].astype(str) == code, "industry"].astype(str))


# ---- CSV --------------------------------------------------------------------------------------


def _csv_cell(value: Any) -> str:
    if missing(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return neutralise(str(value))


def safe_name(*parts: str) -> str:
    text = "-".join(parts)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "table"


def csv_response(frame: pd.DataFrame, filename: str) -> Response:
    """``frame`` as a UTF-8 CSV download (text cells neutralised)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([_csv_cell(v) for v in row])
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )


# ---- chart data -------------------------------------------------------------------------------


def bubble_chart(frame: pd.DataFrame, x: str, region: str) -> dict[str, Any]:
    points = []
    for row in frame.to_dict("records"):
        px, py, size = num(row.get(x)), num(row.get("lq")), num(row.get("employment"))
        if px is None or py is None or size is None:
            continue
        points.append(
            {
                "code": str(row["cluster"]),
                "name": str(row["cluster_name"]),
                "x": px,
                "y": py,
                "size": size,
                "quadrant": None if missing(row.get("quadrant")) else str(row["quadrant"]),
            }
        )
    return {
        "kind": "bubble",
        "title": f"Clusters of {region}",
        "x_label": BUBBLE_X[x][:1].upper() + BUBBLE_X[x][1:],
        "x_percent": x == "growth_cagr",
        "y_label": "Location quotient",
        "size_label": "Employment",
        "quadrants": QUADRANT_PLACES,
        "points": points,
    }


def lines_chart(
    title: str, x: Sequence[Any], series: list[tuple[str, Sequence[Any], int]], y_labels: list[str]
) -> dict[str, Any]:
    return {
        "kind": "lines",
        "title": title,
        "x": [num(v) if not isinstance(v, str) else v for v in x],
        "series": [
            {"name": name, "values": [num(v) for v in values], "axis": axis}
            for name, values, axis in series
        ],
        "y_labels": y_labels,
    }


def bars_chart(
    title: str, categories: Sequence[str], series: list[tuple[str, Sequence[Any]]], y_label: str
) -> dict[str, Any]:
    return {
        "kind": "bars",
        "title": title,
        "categories": [str(c) for c in categories],
        "series": [{"name": name, "values": [num(v) for v in vals]} for name, vals in series],
        "y_label": y_label,
    }


# ---- map data ---------------------------------------------------------------------------------


def map_json(
    ds: Dataset,
    frame: pd.DataFrame,
    indicator: MapIndicator,
    level: str,
    year: int,
) -> tuple[dict[str, Any] | None, list[str], pd.Series]:
    """(the map's JSON or None without geometry, legend labels, class of each row)."""
    classes, legend = colour_classes(frame["value"], indicator)
    if not level or level not in ds.store.geometry_levels():
        return None, legend, classes
    codes = frame["region"].tolist()
    data = {
        "geometry": f"/observatory/{ds.name}/geometry.json{query_string(level=level)}",
        "label": indicator.label,
        "classes": dict(zip(codes, (int(c) for c in classes), strict=True)),
        "values": dict(zip(codes, (fmt(v, indicator.kind) for v in frame["value"]), strict=True)),
        "names": dict(zip(codes, frame["name"].astype(str), strict=True)),
        "link": f"/observatory/{ds.name}/regions/",
        "link_query": query_string(year=year),
    }
    return data, legend, classes


def geometry_attribution(store: ObservatoryStore, level: str) -> str:
    try:
        return store.geometry_attribution(level) or ""
    except GeometryLevelNotFound:
        return ""
