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
one function of :mod:`~clusteratlas.web.pages.observatory_data`, used both by its page and by
its ``.csv`` download, so the two always agree. Maps
(MapLibre GL, no base map: only our GeoJSON) and charts (ECharts) are drawn by
``static/js/observatory*.js`` from ``<script type="application/json">`` blocks: no inline
script or style (CSP). The PDF report is drawn by fpdf2 (pure Python) from the same tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from starlette.responses import Response

from clusteratlas.sources.store import (
    DatasetNotFound,
    GeometryLevelNotFound,
    ObservatoryStore,
)
from clusteratlas.web.api.deps import SessionDep
from clusteratlas.web.pages.deps import PageUser, render
from clusteratlas.web.pages.observatory_data import (
    BUBBLE_X,
    MAP_INDICATORS,
    REGION_INDEX_COLUMNS,
    Column,
    Dataset,
    MapIndicator,
    Table,
    bad_choice,
    bars_chart,
    bubble_chart,
    cluster_industries,
    cluster_organisations,
    cluster_regions,
    cluster_trends,
    compare_frames,
    csv_response,
    default_cluster,
    flags_of,
    fmt,
    geometry_attribution,
    lines_chart,
    load_dataset,
    map_frame,
    map_json,
    map_level,
    num,
    optional_table,
    query_string,
    region_clusters,
    region_index_frame,
    region_organisations,
    related_clusters,
    safe_name,
    span,
)

__all__ = ["router"]

router = APIRouter(prefix="/observatory", include_in_schema=False)

DatasetName = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[^/]+$")]
Code = Annotated[str, Path(min_length=1, max_length=64)]
YearQuery = Annotated[int | None, Query(ge=0, le=9999)]
ShortText = Annotated[str | None, Query(max_length=64)]

#: regions in the "top regions" table of a cluster page (the CSV has all of them)
TOP_REGIONS = 20
#: clusters in the report's bar chart and table
REPORT_CLUSTERS = 10
#: regions in the ranked table of a map (the CSV has all of them)
RANKED_ROWS = 100


def _store(request: Request) -> ObservatoryStore:
    store = getattr(request.app.state, "observatory", None)
    if store is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="The observatory is not set up.")
    return store


def _dataset(request: Request, name: str) -> Dataset:
    try:
        return load_dataset(_store(request), name)
    except DatasetNotFound:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"There is no dataset “{name}”."
        ) from None


# ---- pages ------------------------------------------------------------------------------------


def _page(request: Request, user: Any, template: str, **context: Any) -> Response:
    return render(
        request,
        f"observatory/{template}",
        user=user,
        fmt=fmt,
        flags=flags_of,
        query=query_string,
        num=num,
        **context,
    )


@router.get("")
def datasets_page(request: Request, user: PageUser) -> Response:
    """The datasets of the analytical store."""
    store = _store(request)
    return _page(request, user, "datasets.html", datasets=store.datasets(), span=span)


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
    level = map_level(ds, level)
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
    frame = map_frame(ds, ind, year_, cluster_, level_)
    map_data, legend, classes = map_json(ds, frame, ind, level_, year_)
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
        f"/observatory/{ds.name}/map.csv{query_string(**params)}",
    )
    attribution = ""
    if map_data is not None:
        attribution = geometry_attribution(ds.store, level_)
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
        span=span,
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
        raise bad_choice("indicator", f"choose one of {', '.join(MAP_INDICATORS)}")
    ind = MAP_INDICATORS[key]
    if not ds.has(ind.table, ind.column):
        raise bad_choice("indicator", f"the dataset has no {ind.column} in its {ind.table} table")
    cluster_ = cluster or default_cluster(ds)
    if cluster_ not in ds.cluster_names:
        raise bad_choice("cluster", f"the dataset has no cluster “{cluster_}”")
    return ind, ds.year(year), cluster_, map_level(ds, level)


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
    frame = map_frame(ds, ind, year_, cluster_, level_).rename(columns={"value": ind.column})
    frame.insert(0, "year", year_)
    parts = [ds.name, ind.key, str(year_)]
    if ind.per_cluster:
        frame.insert(1, "cluster", cluster_)
        parts.append(cluster_)
    return csv_response(frame, safe_name(*parts))


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
        raise bad_choice("x", f"choose one of {', '.join(BUBBLE_X)}")
    extras = {}
    for table in EXTRA_TABLES:
        frame = optional_table(ds, table, code)
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
        region_clusters(ds, code, year_),
        region_index_frame(ds, code),
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
            f"{base}/clusters.csv{query_string(year=p.year)}",
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
        "bubble": bubble_chart(p.clusters, p.x, p.name),
        "specialisation": lines_chart(
            f"Specialisation of {p.name}", years, specialisation, ["Index"]
        ),
    }
    if "employment" in p.indices:
        charts["employment"] = lines_chart(
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
        organisations=region_organisations(session, code),
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
        "top": bars_chart(
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
        organisations=region_organisations(session, code),
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

    data = region_pdf(p, organisations=region_organisations(session, code), fmt=fmt)
    filename = safe_name(ds.name, p.code, str(p.year), "report")
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
        return csv_response(frame, safe_name(ds.name, code, "clusters", str(p.year)))
    if table == "indices":
        frame = p.indices.copy()
        frame.insert(1, "region", p.code)
        return csv_response(frame, safe_name(ds.name, code, "indices"))
    if table in p.extras:
        return csv_response(p.extras[table], safe_name(ds.name, code, table))
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
        raise bad_choice("indicator", "choose one of lq, stars, employment")
    ind = MAP_INDICATORS[key]
    level_ = map_level(ds, level)
    regions = cluster_regions(ds, code, year_)
    # the map's values are among the rows just read: no second pass over the cluster's rows
    frame = map_frame(ds, ind, year_, code, level_, values=regions)
    map_data, legend, classes = map_json(ds, frame, ind, level_, year_)
    attribution = ""
    if map_data is not None:
        attribution = geometry_attribution(ds.store, level_)
        map_data["attribution"] = attribution
    trends = cluster_trends(ds, code)
    related = related_clusters(ds, code, year_)
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
            f"{base}/regions.csv{query_string(year=year_)}",
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
            f"{base}/related.csv{query_string(year=year_)}",
        ),
    }
    charts = {
        "trends": lines_chart(
            f"{name}: employment and average wage",
            trends["year"].tolist(),
            [
                ("Employment", trends["employment"].tolist(), 0),
                ("Average wage", trends["wage"].tolist(), 1),
            ],
            ["Employees", "Average wage"],
        )
    }
    industries = cluster_industries(ds, code)
    organisations = cluster_organisations(session, industries) if industries else []
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
            f"/observatory/{ds.name}/map.csv"
            + query_string(indicator=ind.key, year=year_, cluster=code),
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
        frame = cluster_regions(ds, code, year_)
        frame.insert(0, "year", year_)
        frame.insert(1, "cluster", code)
        return csv_response(frame, safe_name(ds.name, code, "regions", str(year_)))
    if table == "trends":
        frame = cluster_trends(ds, code)
        frame.insert(1, "cluster", code)
        return csv_response(frame, safe_name(ds.name, code, "trends"))
    if table == "related":
        frame = related_clusters(ds, code, year_)
        frame.insert(0, "year", year_)
        return csv_response(frame, safe_name(ds.name, code, "related", str(year_)))
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
        raise bad_choice("region", f"the dataset has no region {', '.join(unknown[:5])}")
    if len(codes) > MAX_COMPARE:
        raise bad_choice("region", f"compare at most {MAX_COMPARE} regions")
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
    indices, clusters, history = compare_frames(ds, codes, year_)
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
        "lq": bars_chart(
            f"Location quotients, {year_}",
            [ds.cluster_names.get(str(c), str(c)) for c in top],
            [(f"{ds.region_names[c]} ({c})", [lq.at[k, c] for k in top]) for c in codes],
            "Location quotient",
        ),
        "employment": lines_chart(
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
        "csv": f"/observatory/{ds.name}/compare.csv{query_string(region=codes, year=year_)}",
        "indices_csv": (
            f"/observatory/{ds.name}/compare.csv"
            + query_string(region=codes, year=year_, table="indices")
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
        raise bad_choice("region", "choose two to five regions")
    if table not in ("clusters", "indices"):
        raise bad_choice("table", "choose clusters or indices")
    indices, clusters, _ = compare_frames(ds, codes, year_)
    frame = clusters if table == "clusters" else indices
    if "year" not in frame:
        frame.insert(0, "year", year_)
    return csv_response(frame, safe_name(ds.name, "compare", table, *codes, str(year_)))
