"""Pages of the observatory (issue 7): the datasets of the analytical store shown as maps,
charts and tables, with downloads and a printable region report.

- ``/observatory``: the datasets;
- ``/observatory/{dataset}``: a choropleth of an indicator by region for a year and cluster
  (a ranked table instead when no geometry of the regions is loaded);
- ``/observatory/{dataset}/regions/{code}``: the region's profile, and ``…/report`` (print)
  and ``…/report.pdf``;
- ``/observatory/{dataset}/clusters/{code}``: a cluster across regions;
- ``/observatory/{dataset}/compare?region=A&region=B``: two to five regions side by side.

Every choice is in the query string, so any state of a page is a link. Each table is built by
one function used both by its page and by its ``.csv`` download, so the two always agree;
text cells of the CSV are neutralised against formula injection as in ``/api/export``. Maps
(MapLibre GL, no base map: only our GeoJSON) and charts (ECharts) are drawn by
``static/js/observatory*.js`` from ``<script type="application/json">`` blocks: no inline
script or style (CSP). The PDF report is drawn by fpdf2 (pure Python) from the same tables.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload
from starlette.responses import Response

from clusteratlas.collaboration.models import Organisation, OrganisationSector, OrganisationStatus
from clusteratlas.observatory import QUADRANTS, REGISTRY, similarity_matrix
from clusteratlas.sources.store import (
    DatasetInfo,
    DatasetNotFound,
    GeometryLevelNotFound,
    ObservatoryStore,
    TableNotFound,
)
from clusteratlas.web.api.deps import SessionDep
from clusteratlas.web.api.export import neutralise
from clusteratlas.web.pages.deps import PageUser, render

__all__ = ["MAP_INDICATORS", "MapIndicator", "router"]

router = APIRouter(prefix="/observatory", include_in_schema=False)

DatasetName = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[^/]+$")]
Code = Annotated[str, Path(min_length=1, max_length=64)]
YearQuery = Annotated[int | None, Query(ge=0, le=9999)]
ShortText = Annotated[str | None, Query(max_length=64)]

#: organisations listed on a page (the region's, the cluster's)
MAX_ORGANISATIONS = 50
#: regions in the "top regions" table of a cluster page (the CSV has all of them)
TOP_REGIONS = 20
#: clusters in the report's bar chart and table
REPORT_CLUSTERS = 10
#: regions in the ranked table of a map (the CSV has all of them)
RANKED_ROWS = 100
#: related clusters shown on a cluster page
RELATED = 6
#: colour classes of the maps (CSS classes obs-c0 … obs-c4 in observatory.css)
N_CLASSES = 5
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


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt(value: Any, kind: str = "number") -> str:
    """``value`` as the pages show it: ``–`` when missing."""
    if _missing(value):
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


def _num(value: Any) -> float | int | None:
    """A JSON number (None for missing or infinite)."""
    if _missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, int | np.integer):
        return int(value)
    v = float(value)
    return v if math.isfinite(v) else None


def _query(**params: Any) -> str:
    """A query string from ``params`` (lists repeat the name; None is left out)."""
    pairs: list[tuple[str, Any]] = []
    for key, value in params.items():
        if value is None:
            continue
        for v in value if isinstance(value, list | tuple) else [value]:
            pairs.append((key, v))
    return ("?" + urlencode(pairs)) if pairs else ""


# ---- the store and its dataset ----------------------------------------------------------------


def _store(request: Request) -> ObservatoryStore:
    store = getattr(request.app.state, "observatory", None)
    if store is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="The observatory is not set up.")
    return store


def _bad(field_name: str, message: str) -> HTTPException:
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
    #: the file's version (:func:`_version`): cached results are keyed by it
    version: tuple[int, int, int] = (0, 0, 0)

    @property
    def name(self) -> str:
        return self.info.name

    def year(self, year: int | None) -> int:
        years = self.info.years
        if year is None:
            return years[-1]
        if year not in years:
            raise _bad("year", f"the dataset has the years {_span(years)}, not {year}")
        return year

    def region(self, code: str) -> str:
        name = self.region_names.get(code)
        if name is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                detail=f"The dataset “{self.info.title}” has no region “{code}”.",
            )
        return name

    def cluster(self, code: str) -> str:
        name = self.cluster_names.get(code)
        if name is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                detail=f"The dataset “{self.info.title}” has no cluster “{code}”.",
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


def _span(years: Sequence[int]) -> str:
    if not years:
        return "none"
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


#: datasets read lately, by (store folder, name): (version of the file, Dataset)
_DATASETS: dict[tuple[str, str], tuple[tuple[int, int, int], Dataset]] = {}
_MAX_DATASETS = 16


def _version(store: ObservatoryStore, name: str) -> tuple[int, int, int] | None:
    """Inode, modification time and size of the dataset's file: a reload changes them (the
    store replaces the file), and so does the store's own check."""
    try:
        st = os.stat(store.directory / f"{name}.duckdb")
    except (OSError, ValueError):
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _dataset(request: Request, name: str) -> Dataset:
    """The dataset with its regions and clusters, read once per version of its file."""
    store = _store(request)
    key = (str(store.directory), name)
    version = _version(store, name)
    cached = _DATASETS.get(key)
    if version is not None and cached is not None and cached[0] == version:
        return cached[1]
    try:
        info = store.dataset(name)
        regions = store.regions(name)
        clusters = store.clusters(name)
    except DatasetNotFound:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"There is no dataset “{name}”."
        ) from None
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
    return ds


def _level(ds: Dataset, level: str | None) -> str:
    """The region level a map shows: the one asked for, else the level with most regions."""
    levels = [str(v) for v in ds.regions["level"].dropna().unique()]
    if level is not None:
        if level not in levels:
            raise _bad("level", f"the dataset has the region levels {', '.join(levels)}")
        return level
    if not levels:
        return ""
    return str(ds.regions["level"].value_counts().idxmax())


def _default_cluster(ds: Dataset) -> str:
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

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.frame.to_dict("records")


def _map_frame(
    ds: Dataset, indicator: MapIndicator, year: int, cluster: str, level: str
) -> pd.DataFrame:
    """region, name, value, rank: the regions of ``level`` ranked by the indicator."""
    regions = ds.regions[ds.regions["level"].astype(str) == level] if level else ds.regions
    kw: dict[str, Any] = {"year": year, "columns": ["region", indicator.column]}
    if indicator.per_cluster:
        kw["cluster"] = cluster
    values = ds.table(indicator.table, **kw)
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


def _classes(values: pd.Series, indicator: MapIndicator) -> tuple[pd.Series, list[str]]:
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


def _region_clusters(ds: Dataset, code: str, year: int) -> pd.DataFrame:
    """The region's clusters in ``year``, ranked: most stars first, then by LQ."""
    frame = ds.table("clusters", year=year, region=code)
    frame = frame[[c for c in CLUSTER_ROW_COLUMNS if c in frame.columns]].copy()
    for name in ("cluster", "cluster_name", "type", "quadrant"):
        if name in frame.columns:
            frame[name] = frame[name].astype("string")
    frame = frame.sort_values(
        ["stars", "lq", "cluster"], ascending=[False, False, True], na_position="last"
    )
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)


def _flags(row: dict[str, Any]) -> list[str]:
    """The US Cluster Mapping flags of a row, strongest first, and the source's flags."""
    out = []
    for name in FLAG_COLUMNS:
        if name in row and not _missing(row[name]) and bool(row[name]):
            out.append("strong, top 10 %" if name == "strong10" else name)
            break  # the strongest only: each implies the weaker ones
    source = row.get("flag")
    if not _missing(source) and str(source):
        out.append(f"source flag {source}")
    return out


def _region_indices(ds: Dataset, code: str) -> pd.DataFrame:
    frame = ds.table("regions", region=code)
    frame = frame.sort_values("year").reset_index(drop=True)
    return frame[[c for c in ("year", *(k for k, _, _ in REGION_INDEX_COLUMNS)) if c in frame]]


def _extra(ds: Dataset, table: str, code: str) -> pd.DataFrame | None:
    """The region's rows of an optional table (peers, opportunities, mentors, shift-share)."""
    if not ds.has(table):
        return None
    try:
        frame = ds.table(table, region=code)
    except TableNotFound:
        return None
    return frame.drop(columns=[c for c in ("year", "region") if c in frame]).reset_index(drop=True)


def _cluster_regions(ds: Dataset, code: str, year: int) -> pd.DataFrame:
    """Every region with the cluster in ``year``, largest employment first."""
    frame = ds.table("clusters", year=year, cluster=code)
    keep = ["region", "employment", "lq", "stars", "region_share", "growth_cagr", "wage"]
    frame = frame[[c for c in keep if c in frame.columns]].copy()
    frame["region"] = frame["region"].astype(str)
    frame.insert(1, "name", frame["region"].map(ds.region_names))
    frame = frame.sort_values(["employment", "region"], ascending=[False, True])
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)


def _cluster_trends(ds: Dataset, code: str) -> pd.DataFrame:
    """year, employment, payroll, wage, regions: the cluster's totals over all regions.

    Only regions of the most common level are summed, so that a panel holding both states and
    counties (or an aggregate) is not counted twice."""
    single = ds.regions["level"].nunique() <= 1
    columns = ["year", "employment", "payroll"] + ([] if single else ["region"])
    frame = ds.table("clusters", cluster=code, columns=columns)
    if not single:
        level = _level(ds, None)
        codes = ds.regions.loc[ds.regions["level"].astype(str) == level, "code"]
        frame = frame[frame["region"].astype(str).isin(codes)]
    payroll = pd.to_numeric(frame["payroll"], errors="coerce")
    frame = frame.assign(payroll=payroll, unpaid=payroll.isna())
    out = frame.groupby("year", sort=True).agg(
        employment=("employment", "sum"),
        payroll=("payroll", "sum"),
        unpaid=("unpaid", "any"),
        regions=("employment", "size"),
    )
    out["payroll"] = out["payroll"].where(~out.pop("unpaid"))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["wage"] = out["payroll"] / out["employment"].where(out["employment"] > 0)
    return out.reset_index()[["year", "employment", "payroll", "wage", "regions"]]


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


def _related(ds: Dataset, code: str, year: int) -> pd.DataFrame:
    clusters, sim = _colocation(ds.store, ds.name, ds.version, year, _level(ds, None))
    if code not in clusters or len(clusters) < 2:
        return pd.DataFrame({"cluster": [], "cluster_name": [], "similarity": []})
    i = clusters.index(code)
    out = pd.DataFrame({"cluster": list(clusters), "similarity": sim[i]})
    out = out[(out["cluster"] != code) & out["similarity"].notna()]
    out = out.sort_values(["similarity", "cluster"], ascending=[False, True]).head(RELATED)
    out.insert(1, "cluster_name", out["cluster"].map(ds.cluster_names))
    return out.reset_index(drop=True)


def _compare_frames(
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


def _region_organisations(session: Session, code: str) -> list[Organisation]:
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


def _cluster_organisations(session: Session, industries: Sequence[str]) -> list[Organisation]:
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


def _cluster_industries(ds: Dataset, code: str) -> list[str] | None:
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
    if _missing(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return repr(float(value))
    return neutralise(str(value))


def _safe_name(*parts: str) -> str:
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


def _bubble(frame: pd.DataFrame, x: str, region: str) -> dict[str, Any]:
    points = []
    for row in frame.to_dict("records"):
        px, py, size = _num(row.get(x)), _num(row.get("lq")), _num(row.get("employment"))
        if px is None or py is None or size is None:
            continue
        points.append(
            {
                "code": str(row["cluster"]),
                "name": str(row["cluster_name"]),
                "x": px,
                "y": py,
                "size": size,
                "quadrant": None if _missing(row.get("quadrant")) else str(row["quadrant"]),
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


def _lines(
    title: str, x: Sequence[Any], series: list[tuple[str, Sequence[Any], int]], y_labels: list[str]
) -> dict[str, Any]:
    return {
        "kind": "lines",
        "title": title,
        "x": [_num(v) if not isinstance(v, str) else v for v in x],
        "series": [
            {"name": name, "values": [_num(v) for v in values], "axis": axis}
            for name, values, axis in series
        ],
        "y_labels": y_labels,
    }


def _bars(
    title: str, categories: Sequence[str], series: list[tuple[str, Sequence[Any]]], y_label: str
) -> dict[str, Any]:
    return {
        "kind": "bars",
        "title": title,
        "categories": [str(c) for c in categories],
        "series": [{"name": name, "values": [_num(v) for v in vals]} for name, vals in series],
        "y_label": y_label,
    }


# ---- map data ---------------------------------------------------------------------------------


def _map_data(
    ds: Dataset,
    frame: pd.DataFrame,
    indicator: MapIndicator,
    level: str,
    year: int,
) -> tuple[dict[str, Any] | None, list[str], pd.Series]:
    """(the map's JSON or None without geometry, legend labels, class of each row)."""
    classes, legend = _classes(frame["value"], indicator)
    if not level or level not in ds.store.geometry_levels():
        return None, legend, classes
    codes = frame["region"].tolist()
    data = {
        "geometry": f"/observatory/{ds.name}/geometry.json{_query(level=level)}",
        "label": indicator.label,
        "classes": dict(zip(codes, (int(c) for c in classes), strict=True)),
        "values": dict(zip(codes, (fmt(v, indicator.kind) for v in frame["value"]), strict=True)),
        "names": dict(zip(codes, frame["name"].astype(str), strict=True)),
        "link": f"/observatory/{ds.name}/regions/",
        "link_query": _query(year=year),
    }
    return data, legend, classes


def _geometry_attribution(store: ObservatoryStore, level: str) -> str:
    try:
        return store.geometry_attribution(level) or ""
    except GeometryLevelNotFound:
        return ""


# ---- pages ------------------------------------------------------------------------------------


def _page(request: Request, user: Any, template: str, **context: Any) -> Response:
    return render(
        request,
        f"observatory/{template}",
        user=user,
        fmt=fmt,
        flags=_flags,
        query=_query,
        num=_num,
        **context,
    )


@router.get("")
def datasets_page(request: Request, user: PageUser) -> Response:
    """The datasets of the analytical store."""
    store = _store(request)
    return _page(request, user, "datasets.html", datasets=store.datasets(), span=_span)


@router.get("/datasets.csv")
def datasets_csv(request: Request) -> Response:
    """The datasets as CSV (a dataset cannot be named so: names have no dot)."""
    rows = [
        {
            "name": d.name,
            "title": d.title,
            "first_year": d.years[0] if d.years else None,
            "last_year": d.years[-1] if d.years else None,
            "regions": d.n_regions,
            "clusters": d.n_clusters,
            "region_levels": " ".join(d.region_levels),
            "tables": " ".join(d.tables),
            "source": d.source,
            "loaded_at": d.loaded_at.isoformat(),
        }
        for d in _store(request).datasets()
    ]
    columns = ["name", "title", "first_year", "last_year", "regions", "clusters"]
    columns += ["region_levels", "tables", "source", "loaded_at"]
    return csv_response(pd.DataFrame(rows, columns=columns), "observatory-datasets")


@router.get("/{dataset}/geometry.json")
def geometry(
    request: Request,
    dataset: DatasetName,
    level: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The GeoJSON of the dataset's regions of ``level`` (those with a shape)."""
    ds = _dataset(request, dataset)
    level = _level(ds, level)
    if level not in ds.store.geometry_levels():
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"No geometry is loaded for the level “{level}”."
        )
    codes = ds.regions.loc[ds.regions["level"].astype(str) == level, "code"].astype(str)
    try:
        text = ds.store.geometry_json(level, list(codes))
    except GeometryLevelNotFound:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"No geometry is loaded for the level “{level}”."
        ) from None
    return Response(text, media_type="application/geo+json")


@router.get("/{dataset}")
def dataset_home(
    request: Request,
    user: PageUser,
    dataset: DatasetName,
    indicator: ShortText = None,
    year: YearQuery = None,
    cluster: ShortText = None,
    level: ShortText = None,
) -> Response:
    """Home of a dataset: a choropleth of an indicator by region (or a ranked table)."""
    ds = _dataset(request, dataset)
    chosen = _home_choices(ds, indicator, year, cluster, level)
    ind, year_, cluster_, level_ = chosen
    frame = _map_frame(ds, ind, year_, cluster_, level_)
    map_data, legend, classes = _map_data(ds, frame, ind, level_, year_)
    frame = frame.assign(cls=classes.to_numpy())
    params = {
        "indicator": ind.key,
        "year": year_,
        "cluster": cluster_ if ind.per_cluster else None,
        "level": level_ or None,
    }
    table = _ranking(
        f"{ind.label}, {year_}" + (f": {ds.cluster_names[cluster_]}" if ind.per_cluster else ""),
        frame,
        ind,
        f"/observatory/{ds.name}/map.csv{_query(**params)}",
    )
    attribution = ""
    if map_data is not None:
        attribution = _geometry_attribution(ds.store, level_)
        map_data["attribution"] = attribution
    levels = [str(v) for v in ds.regions["level"].dropna().unique()]
    return _page(
        request,
        user,
        "dataset.html",
        ds=ds,
        info=ds.info,
        indicator=ind,
        indicators=ds.indicators,
        year=year_,
        cluster=cluster_,
        level=level_,
        levels=levels,
        clusters=ds.clusters.to_dict("records"),
        table=table,
        map_data=map_data,
        legend=legend,
        attribution=attribution,
        base_year=ds.info.years[0],
        span=_span,
    )


def _ranking(title: str, frame: pd.DataFrame, ind: MapIndicator, csv: str) -> Table:
    """The regions ranked by the map's indicator: the first :data:`RANKED_ROWS` on the page."""
    shown = frame.head(RANKED_ROWS)
    note = ""
    if len(shown) < len(frame):
        note = f"The {len(shown)} first of {len(frame)} regions; the CSV has all of them."
    columns = [
        Column("rank", "Rank", "int"),
        Column("region", "Region", "text", link="region"),
        Column("name", "Name", "text"),
        Column("value", ind.label, ind.kind),
    ]
    return Table("ranking", title, shown, columns, csv, note=note)


def _home_choices(
    ds: Dataset, indicator: str | None, year: int | None, cluster: str | None, level: str | None
) -> tuple[MapIndicator, int, str, str]:
    key = indicator or "lq"
    if key not in MAP_INDICATORS:
        raise _bad("indicator", f"choose one of {', '.join(MAP_INDICATORS)}")
    ind = MAP_INDICATORS[key]
    if not ds.has(ind.table, ind.column):
        raise _bad("indicator", f"the dataset has no {ind.column} in its {ind.table} table")
    cluster_ = cluster or _default_cluster(ds)
    if cluster_ not in ds.cluster_names:
        raise _bad("cluster", f"the dataset has no cluster “{cluster_}”")
    return ind, ds.year(year), cluster_, _level(ds, level)


@router.get("/{dataset}/map.csv")
def map_csv(
    request: Request,
    dataset: DatasetName,
    indicator: ShortText = None,
    year: YearQuery = None,
    cluster: ShortText = None,
    level: ShortText = None,
) -> Response:
    """The home page's ranking as CSV."""
    ds = _dataset(request, dataset)
    ind, year_, cluster_, level_ = _home_choices(ds, indicator, year, cluster, level)
    frame = _map_frame(ds, ind, year_, cluster_, level_).rename(columns={"value": ind.column})
    frame.insert(0, "year", year_)
    parts = [ds.name, ind.key, str(year_)]
    if ind.per_cluster:
        frame.insert(1, "cluster", cluster_)
        parts.append(cluster_)
    return csv_response(frame, _safe_name(*parts))


# ---- region profile ---------------------------------------------------------------------------


@dataclass
class RegionProfile:
    ds: Dataset
    code: str
    name: str
    year: int
    x: str
    clusters: pd.DataFrame
    indices: pd.DataFrame
    extras: dict[str, pd.DataFrame]


#: rows of the optional tables shown on the profile (the CSV has all)
EXTRA_ROWS = 20
EXTRA_TABLES = {
    "peers": "Peer regions",
    "opportunities": "Diversification opportunities",
    "mentors": "Possible mentors",
    "shiftshare": "Shift-share of employment change",
}


def _profile(ds: Dataset, code: str, year: int | None, x: str | None) -> RegionProfile:
    name = ds.region(code)
    year_ = ds.year(year)
    x_ = x or "lq_change"
    if x_ not in BUBBLE_X:
        raise _bad("x", f"choose one of {', '.join(BUBBLE_X)}")
    extras = {}
    for table in EXTRA_TABLES:
        frame = _extra(ds, table, code)
        if frame is None:
            continue
        for column in ("peer", "mentor"):
            if column in frame:
                at = frame.columns.get_loc(column) + 1
                frame.insert(at, f"{column}_name", frame[column].astype(str).map(ds.region_names))
        extras[table] = frame
    return RegionProfile(
        ds,
        code,
        name,
        year_,
        x_,
        _region_clusters(ds, code, year_),
        _region_indices(ds, code),
        extras,
    )


def _region_tables(p: RegionProfile, limit: int | None = EXTRA_ROWS) -> dict[str, Table]:
    base = f"/observatory/{p.ds.name}/regions/{p.code}"
    tables = {
        "clusters": Table(
            "clusters",
            f"Clusters of {p.name}, {p.year}",
            p.clusters,
            [
                Column("rank", "#", "int"),
                Column("cluster_name", "Cluster", "text", link="cluster", link_key="cluster"),
                Column("type", "Type", "text"),
                Column("employment", "Employment", "int"),
                Column("lq", "LQ", "ratio"),
                Column("stars", "Stars", "stars"),
                Column("growth_cagr", "Growth per year", "rate"),
                Column("quadrant", "Quadrant", "text"),
                Column("flags", "Flags", "flags"),
            ],
            f"{base}/clusters.csv{_query(year=p.year)}",
        ),
        "indices": Table(
            "indices",
            f"Specialisation of {p.name} over time",
            p.indices,
            [Column("year", "Year", "text")]
            + [Column(k, label, kind) for k, label, kind in REGION_INDEX_COLUMNS if k in p.indices],
            f"{base}/indices.csv",
        ),
    }
    for key, frame in p.extras.items():
        shown = frame.head(limit) if limit is not None else frame
        note = ""
        if len(shown) < len(frame):
            note = f"The {len(shown)} first of {len(frame)} rows; the CSV has all of them."
        tables[key] = Table(
            key,
            EXTRA_TABLES[key],
            shown,
            [_generic_column(c, frame[c]) for c in frame.columns],
            f"{base}/{key}.csv",
            note=note,
        )
    return tables


def _generic_column(name: str, series: pd.Series) -> Column:
    link, link_key = None, None
    if name in ("peer", "mentor"):
        link = "region"
    elif name in ("peer_name", "mentor_name"):
        link, link_key = "region", name.removesuffix("_name")
    if pd.api.types.is_bool_dtype(series):
        kind = "bool"
    elif pd.api.types.is_integer_dtype(series):
        kind = "int"
    elif pd.api.types.is_float_dtype(series):
        kind = "index"
    else:
        kind = "text"
    label = name.replace("_", " ").capitalize()
    return Column(name, label, kind, link=link, link_key=link_key)


def _region_charts(p: RegionProfile) -> dict[str, Any]:
    years = p.indices["year"].tolist()
    specialisation = [
        (label, p.indices[k].tolist(), 0)
        for k, label, _ in REGION_INDEX_COLUMNS
        if k in ("krugman", "hoover", "herfindahl") and k in p.indices
    ]
    charts = {
        "bubble": _bubble(p.clusters, p.x, p.name),
        "specialisation": _lines(f"Specialisation of {p.name}", years, specialisation, ["Index"]),
    }
    if "employment" in p.indices:
        charts["employment"] = _lines(
            f"Employment of {p.name}",
            years,
            [("Employment", p.indices["employment"].tolist(), 0)],
            ["Employees"],
        )
    return charts


@router.get("/{dataset}/regions/{code}")
def region_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    dataset: DatasetName,
    code: Code,
    year: YearQuery = None,
    x: ShortText = None,
) -> Response:
    """A region's profile."""
    ds = _dataset(request, dataset)
    p = _profile(ds, code, year, x)
    return _page(
        request,
        user,
        "region.html",
        ds=ds,
        info=ds.info,
        p=p,
        tables=_region_tables(p),
        charts=_region_charts(p),
        bubble_x=BUBBLE_X,
        organisations=_region_organisations(session, code),
        extra_titles=EXTRA_TABLES,
    )


@router.get("/{dataset}/regions/{code}/report")
def region_report(
    request: Request,
    session: SessionDep,
    user: PageUser,
    dataset: DatasetName,
    code: Code,
    year: YearQuery = None,
) -> Response:
    """The region's profile as a printable report (one column, page breaks)."""
    ds = _dataset(request, dataset)
    p = _profile(ds, code, year, None)
    top = p.clusters.head(REPORT_CLUSTERS)
    charts = {
        "top": _bars(
            f"Top clusters of {p.name} (most stars, then highest LQ), {p.year}",
            top["cluster_name"].astype(str).tolist(),
            [("LQ", top["lq"].tolist())],
            "Location quotient",
        ),
        **_region_charts(p),
    }
    return _page(
        request,
        user,
        "report.html",
        ds=ds,
        info=ds.info,
        p=p,
        top=top.to_dict("records"),
        tables=_region_tables(p, limit=REPORT_CLUSTERS),
        charts=charts,
        organisations=_region_organisations(session, code),
        generated=datetime.now(UTC),
    )


@router.get("/{dataset}/regions/{code}/report.pdf")
def region_report_pdf(
    request: Request,
    session: SessionDep,
    dataset: DatasetName,
    code: Code,
    year: YearQuery = None,
) -> Response:
    """The region's report as a PDF drawn on the server (tables and a bar chart)."""
    ds = _dataset(request, dataset)
    p = _profile(ds, code, year, None)
    from clusteratlas.web.pages.observatory_pdf import region_pdf

    data = region_pdf(p, organisations=_region_organisations(session, code), fmt=fmt)
    filename = _safe_name(ds.name, p.code, str(p.year), "report")
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}.pdf"'},
    )


@router.get("/{dataset}/regions/{code}/{table}.csv")
def region_csv(
    request: Request,
    dataset: DatasetName,
    code: Code,
    table: Annotated[str, Path(max_length=32)],
    year: YearQuery = None,
) -> Response:
    """A table of the region's profile as CSV."""
    ds = _dataset(request, dataset)
    p = _profile(ds, code, year, None)
    if table == "clusters":
        frame = p.clusters.copy()
        frame.insert(0, "year", p.year)
        frame.insert(1, "region", p.code)
        return csv_response(frame, _safe_name(ds.name, code, "clusters", str(p.year)))
    if table == "indices":
        frame = p.indices.copy()
        frame.insert(1, "region", p.code)
        return csv_response(frame, _safe_name(ds.name, code, "indices"))
    if table in p.extras:
        return csv_response(p.extras[table], _safe_name(ds.name, code, table))
    raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"This region has no table “{table}”.")


# ---- cluster page -----------------------------------------------------------------------------


@router.get("/{dataset}/clusters/{code}")
def cluster_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    dataset: DatasetName,
    code: Code,
    year: YearQuery = None,
    indicator: ShortText = None,
    level: ShortText = None,
) -> Response:
    """A cluster across the regions: map, top regions, trends, related clusters."""
    ds = _dataset(request, dataset)
    name = ds.cluster(code)
    year_ = ds.year(year)
    key = indicator or "lq"
    if key not in ("lq", "stars", "employment"):
        raise _bad("indicator", "choose one of lq, stars, employment")
    ind = MAP_INDICATORS[key]
    level_ = _level(ds, level)
    frame = _map_frame(ds, ind, year_, code, level_)
    map_data, legend, classes = _map_data(ds, frame, ind, level_, year_)
    attribution = ""
    if map_data is not None:
        attribution = _geometry_attribution(ds.store, level_)
        map_data["attribution"] = attribution
    regions = _cluster_regions(ds, code, year_)
    trends = _cluster_trends(ds, code)
    related = _related(ds, code, year_)
    base = f"/observatory/{ds.name}/clusters/{code}"
    tables = {
        "regions": Table(
            "regions",
            f"Top regions, {year_}",
            regions.head(TOP_REGIONS),
            [
                Column("rank", "#", "int"),
                Column("name", "Region", "text", link="region", link_key="region"),
                Column("employment", "Employment", "int"),
                Column("lq", "LQ", "ratio"),
                Column("stars", "Stars", "stars"),
                Column("growth_cagr", "Growth per year", "rate"),
                Column("wage", "Average wage", "money"),
            ],
            f"{base}/regions.csv{_query(year=year_)}",
            note=f"{len(regions)} regions have this cluster; the CSV has all of them.",
        ),
        "trends": Table(
            "trends",
            "Totals of the cluster by year",
            trends,
            [
                Column("year", "Year", "text"),
                Column("employment", "Employment", "int"),
                Column("wage", "Average wage", "money"),
                Column("regions", "Regions", "int"),
            ],
            f"{base}/trends.csv",
        ),
        "related": Table(
            "related",
            f"Related clusters (co-location, {year_})",
            related,
            [
                Column("cluster_name", "Cluster", "text", link="cluster", link_key="cluster"),
                Column("similarity", "Similarity", "index"),
            ],
            f"{base}/related.csv{_query(year=year_)}",
        ),
    }
    charts = {
        "trends": _lines(
            f"{name}: employment and average wage",
            trends["year"].tolist(),
            [
                ("Employment", trends["employment"].tolist(), 0),
                ("Average wage", trends["wage"].tolist(), 1),
            ],
            ["Employees", "Average wage"],
        )
    }
    industries = _cluster_industries(ds, code)
    organisations = _cluster_organisations(session, industries) if industries else []
    return _page(
        request,
        user,
        "cluster.html",
        ds=ds,
        info=ds.info,
        code=code,
        name=name,
        cluster_type=str(ds.clusters.loc[ds.clusters["code"].astype(str) == code, "type"].iloc[0]),
        year=year_,
        indicator=ind,
        level=level_,
        levels=[str(v) for v in ds.regions["level"].dropna().unique()],
        table=_ranking(
            f"{ind.label} by region, {year_}",
            frame,
            ind,
            f"/observatory/{ds.name}/map.csv{_query(indicator=ind.key, year=year_, cluster=code)}",
        ),
        tables=tables,
        charts=charts,
        map_data=map_data,
        legend=legend,
        attribution=attribution,
        industries=industries,
        organisations=organisations,
    )


@router.get("/{dataset}/clusters/{code}/{table}.csv")
def cluster_csv(
    request: Request,
    dataset: DatasetName,
    code: Code,
    table: Annotated[str, Path(max_length=32)],
    year: YearQuery = None,
) -> Response:
    """A table of the cluster page as CSV."""
    ds = _dataset(request, dataset)
    ds.cluster(code)
    year_ = ds.year(year)
    if table == "regions":
        frame = _cluster_regions(ds, code, year_)
        frame.insert(0, "year", year_)
        frame.insert(1, "cluster", code)
        return csv_response(frame, _safe_name(ds.name, code, "regions", str(year_)))
    if table == "trends":
        frame = _cluster_trends(ds, code)
        frame.insert(1, "cluster", code)
        return csv_response(frame, _safe_name(ds.name, code, "trends"))
    if table == "related":
        frame = _related(ds, code, year_)
        frame.insert(0, "year", year_)
        return csv_response(frame, _safe_name(ds.name, code, "related", str(year_)))
    raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"This cluster has no table “{table}”.")


# ---- compare ----------------------------------------------------------------------------------

MAX_COMPARE = 5
RegionsQuery = Annotated[list[str], Query(max_length=64)]


def _compare_codes(ds: Dataset, region: list[str]) -> list[str]:
    """The regions to compare: codes, or names that one region has (any case)."""
    by_name: dict[str, list[str]] = {}
    for code, name in ds.region_names.items():
        by_name.setdefault(name.casefold(), []).append(code)
    wanted = []
    for value in (v.strip() for v in region if v.strip()):
        named = by_name.get(value.casefold(), [])
        wanted.append(named[0] if value not in ds.region_names and len(named) == 1 else value)
    codes = list(dict.fromkeys(wanted))
    unknown = [c for c in codes if c not in ds.region_names]
    if unknown:
        raise _bad("region", f"the dataset has no region {', '.join(unknown[:5])}")
    if len(codes) > MAX_COMPARE:
        raise _bad("region", f"compare at most {MAX_COMPARE} regions")
    return codes


@router.get("/{dataset}/compare")
def compare_page(
    request: Request,
    user: PageUser,
    dataset: DatasetName,
    region: RegionsQuery = [],  # noqa: B006 - FastAPI copies defaults
    year: YearQuery = None,
) -> Response:
    """Two to five regions side by side."""
    ds = _dataset(request, dataset)
    year_ = ds.year(year)
    codes = _compare_codes(ds, region[: MAX_COMPARE + 1])
    context: dict[str, Any] = {
        "ds": ds,
        "info": ds.info,
        "year": year_,
        "codes": codes,
        "regions": ds.regions.sort_values("code").to_dict("records"),
        "max_compare": MAX_COMPARE,
        "compared": None,
        "message": "",
    }
    if len(codes) < 2:
        context["message"] = "Choose two to five regions to compare."
        return _page(request, user, "compare.html", **context)
    indices, clusters, history = _compare_frames(ds, codes, year_)
    lq = clusters.pivot_table(index="cluster", columns="region", values="lq", observed=True)
    stars = clusters.pivot_table(index="cluster", columns="region", values="stars", observed=True)
    lq = lq.reindex(columns=codes)
    order = lq.max(axis=1).sort_values(ascending=False).index
    rows = []
    for cluster in order:
        rows.append(
            {
                "cluster": cluster,
                "cluster_name": ds.cluster_names.get(str(cluster), str(cluster)),
                "cells": [
                    (lq.at[cluster, c], stars.at[cluster, c] if c in stars.columns else None)
                    for c in codes
                ],
            }
        )
    top = list(order[:10])
    charts = {
        "lq": _bars(
            f"Location quotients, {year_}",
            [ds.cluster_names.get(str(c), str(c)) for c in top],
            [(f"{ds.region_names[c]} ({c})", [lq.at[k, c] for k in top]) for c in codes],
            "Location quotient",
        ),
        "employment": _lines(
            "Employment over time",
            list(ds.info.years),
            [
                (
                    f"{ds.region_names[c]} ({c})",
                    history[history["region"] == c]
                    .set_index("year")["employment"]
                    .reindex(list(ds.info.years))
                    .tolist(),
                    0,
                )
                for c in codes
            ],
            ["Employees"],
        ),
    }
    context |= {
        "compared": True,
        "indices": indices.to_dict("records"),
        "index_columns": [c for c in REGION_INDEX_COLUMNS if c[0] in indices],
        "cluster_rows": rows,
        "charts": charts,
        "csv": f"/observatory/{ds.name}/compare.csv{_query(region=codes, year=year_)}",
        "indices_csv": (
            f"/observatory/{ds.name}/compare.csv"
            + _query(region=codes, year=year_, table="indices")
        ),
    }
    return _page(request, user, "compare.html", **context)


@router.get("/{dataset}/compare.csv")
def compare_csv(
    request: Request,
    dataset: DatasetName,
    region: RegionsQuery = [],  # noqa: B006 - FastAPI copies defaults
    year: YearQuery = None,
    table: Annotated[str, Query(max_length=16)] = "clusters",
) -> Response:
    """The compared regions as CSV: their clusters (``table=clusters``, long: region, cluster,
    employment, LQ, stars) or their specialisation indices (``table=indices``)."""
    ds = _dataset(request, dataset)
    year_ = ds.year(year)
    codes = _compare_codes(ds, region[: MAX_COMPARE + 1])
    if len(codes) < 2:
        raise _bad("region", "choose two to five regions")
    if table not in ("clusters", "indices"):
        raise _bad("table", "choose clusters or indices")
    indices, clusters, _ = _compare_frames(ds, codes, year_)
    frame = clusters if table == "clusters" else indices
    if "year" not in frame:
        frame.insert(0, "year", year_)
    return csv_response(frame, _safe_name(ds.name, "compare", table, *codes, str(year_)))
