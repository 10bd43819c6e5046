"""JSON API of the observatory store: loaded datasets, their regions, clusters and computed
tables, and region geometry (GeoJSON). Read-only and public.

| route | answer |
| --- | --- |
| ``GET /api/observatory/datasets`` | every loaded dataset |
| ``GET /api/observatory/datasets/{name}`` | one dataset (404 when unknown) |
| ``GET /api/observatory/datasets/{name}/regions`` | its regions: code, name, level, parent |
| ``GET /api/observatory/datasets/{name}/clusters`` | its clusters: code, name, type |
| ``GET /api/observatory/datasets/{name}/tables/{table}`` | rows of a table, filtered, paged |
| ``GET /api/observatory/geometry`` | the geometry levels and their attribution |
| ``GET /api/observatory/geometry/{level}?codes=`` | a GeoJSON FeatureCollection |

Table rows have the columns of the observatory's own frames (see ``docs/observatory-store.md``);
missing values are ``null``. Without a store folder every list is empty.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

import numpy as np
import orjson
import pandas as pd
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from pydantic import BaseModel, Field

from clusteratlas.collaboration import ValidationError
from clusteratlas.sources.store import (
    TABLES,
    DatasetInfo,
    DatasetNotFound,
    GeometryLevelNotFound,
    ObservatoryStore,
    TableNotFound,
)
from clusteratlas.web.api.errors import error_responses

__all__ = ["router"]

router = APIRouter(prefix="/observatory", tags=["observatory"])

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
LEVEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
CODE = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[^\x00]*$")]
MAX_LIMIT = 1000

DatasetName = Annotated[
    str, Path(pattern=NAME_PATTERN, description="the dataset's name (clusteratlas load --name)")
]
TableName = Annotated[
    str,
    Path(pattern=r"^[a-z_]{1,32}$", description=f"one of {', '.join(TABLES)}"),
]
Codes = Annotated[
    list[CODE] | None,
    Query(max_length=500, description="repeat, or separate by commas, for several"),
]


class DatasetPublic(BaseModel):
    name: str
    title: str
    years: list[int]
    n_regions: int
    n_clusters: int
    region_levels: list[str] = Field(description="nuts0–nuts3, state, county, aggregate, other")
    loaded_at: datetime
    tables: list[str] = Field(description="the tables that could be computed")
    source: str = Field(description="where the panel came from")
    notes: list[str] = Field(description="why a table is missing")


class DatasetsPublic(BaseModel):
    data: list[DatasetPublic]
    count: int


class RegionPublic(BaseModel):
    code: str
    name: str
    level: str
    parent: str | None


class RegionsPublic(BaseModel):
    data: list[RegionPublic]
    count: int


class ClusterPublic(BaseModel):
    code: str
    name: str
    type: str = Field(description="traded, local, … (from the definitions)")


class ClustersPublic(BaseModel):
    data: list[ClusterPublic]
    count: int


class TablePage(BaseModel):
    data: list[dict[str, Any]] = Field(description="rows: column → value (null when missing)")
    count: int = Field(description="rows matching the filters, in all")
    limit: int
    offset: int
    columns: list[str]


class GeometryLevelPublic(BaseModel):
    level: str
    attribution: str | None = Field(description="to show with every map of this level")


class GeometryLevelsPublic(BaseModel):
    data: list[GeometryLevelPublic]
    count: int


class Feature(BaseModel):
    type: Literal["Feature"]
    id: str
    properties: dict[str, Any] = Field(description="code and name")
    geometry: dict[str, Any]


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[Feature]


def _store(request: Request) -> ObservatoryStore:
    return request.app.state.observatory  # type: ignore[no-any-return]


def _not_found(exc: LookupError) -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=str(exc))


def _public(info: DatasetInfo) -> DatasetPublic:
    return DatasetPublic(
        name=info.name,
        title=info.title,
        years=list(info.years),
        n_regions=info.n_regions,
        n_clusters=info.n_clusters,
        region_levels=list(info.region_levels),
        loaded_at=info.loaded_at,
        tables=list(info.tables),
        source=info.source,
        notes=list(info.notes),
    )


def _column(series: pd.Series) -> list[Any]:
    """One column as JSON-ready Python values (missing and non-finite values as None)."""
    values = series.to_numpy()
    if values.dtype.kind == "f":
        out = values.tolist()
        for k in np.flatnonzero(~np.isfinite(values)):
            out[k] = None
        return out
    if values.dtype.kind in "iub":
        return values.tolist()  # type: ignore[no-any-return]
    out = series.to_numpy(dtype=object, na_value=None).tolist()
    for k, v in enumerate(out):  # rare: numpy scalars or non-finite floats in object columns
        if isinstance(v, np.generic):
            v = out[k] = v.item()
        if isinstance(v, float) and not math.isfinite(v):
            out[k] = None
    return out


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: Python values, NaN and NA as None (column by column, which
    is several times faster than row by row)."""
    columns = list(frame.columns)
    data = [_column(frame[c]) for c in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*data, strict=True)]


def _split(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    out = [part.strip() for value in values for part in value.split(",") if part.strip()]
    return out or None


@router.get("/datasets", response_model=DatasetsPublic)
def list_datasets(request: Request) -> DatasetsPublic:
    """Every loaded dataset (an empty list before ``clusteratlas load``)."""
    data = [_public(info) for info in _store(request).datasets()]
    return DatasetsPublic(data=data, count=len(data))


@router.get("/datasets/{name}", response_model=DatasetPublic, responses=error_responses(404))
def get_dataset(request: Request, name: DatasetName) -> DatasetPublic:
    try:
        return _public(_store(request).dataset(name))
    except DatasetNotFound as exc:
        raise _not_found(exc) from None


@router.get(
    "/datasets/{name}/regions", response_model=RegionsPublic, responses=error_responses(404)
)
def dataset_regions(request: Request, name: DatasetName) -> RegionsPublic:
    try:
        frame = _store(request).regions(name)
    except DatasetNotFound as exc:
        raise _not_found(exc) from None
    data = [RegionPublic(**row) for row in records(frame)]
    return RegionsPublic(data=data, count=len(data))


@router.get(
    "/datasets/{name}/clusters", response_model=ClustersPublic, responses=error_responses(404)
)
def dataset_clusters(request: Request, name: DatasetName) -> ClustersPublic:
    try:
        frame = _store(request).clusters(name)
    except DatasetNotFound as exc:
        raise _not_found(exc) from None
    data = [ClusterPublic(**row) for row in records(frame)]
    return ClustersPublic(data=data, count=len(data))


@router.get(
    "/datasets/{name}/tables/{table}",
    response_model=TablePage,
    responses=error_responses(404),
)
def dataset_table(
    request: Request,
    name: DatasetName,
    table: TableName,
    year: Annotated[int | None, Query(ge=0, le=9999, description="only this year")] = None,
    region: Codes = None,
    cluster: Annotated[
        list[CODE] | None,
        Query(
            max_length=500,
            description="cluster codes (the industry column in complexity and opportunities)",
        ),
    ] = None,
    columns: Annotated[
        list[Annotated[str, Field(max_length=64)]] | None,
        Query(max_length=100, description="only these columns (default: all)"),
    ] = None,
    order_by: Annotated[str | None, Query(max_length=64, description="a column")] = None,
    descending: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
) -> Response:
    """Rows of one computed table of a dataset, in the observatory's order unless
    ``order_by`` (missing values last), ``limit`` at a time."""
    store = _store(request)
    try:
        available = store.columns(name, table)
    except (DatasetNotFound, TableNotFound) as exc:
        raise _not_found(exc) from None
    regions, clusters = _split(region), _split(cluster)
    wanted = _split(columns)
    errors: dict[str, str] = {}
    if year is not None and "year" not in available:
        errors["year"] = f"the table {table} has no year column"
    if regions and "region" not in available:
        errors["region"] = f"the table {table} has no region column"
    if clusters and not {"cluster", "industry"} & set(available):
        errors["cluster"] = f"the table {table} has no cluster column"
    if order_by is not None and order_by not in available:
        errors["order_by"] = f"not a column of {table}: {', '.join(available)}"
    unknown = [c for c in wanted or () if c not in available]
    if unknown:
        errors["columns"] = f"not columns of {table}: {', '.join(unknown)}"
    if errors:
        raise ValidationError(errors)
    filters: dict[str, Any] = {"year": year, "region": regions, "cluster": clusters}
    frame = store.table(
        name,
        table,
        **filters,
        columns=wanted,
        order_by=order_by,
        descending=descending,
        limit=limit,
        offset=offset,
    )
    count = store.count(name, table, **filters)
    # built by hand: validating up to 1,000 rows through the model would double the time,
    # and json.dumps takes 30 times longer than orjson for them
    body = {
        "data": records(frame),
        "count": count,
        "limit": limit,
        "offset": offset,
        "columns": list(frame.columns),
    }
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/geometry", response_model=GeometryLevelsPublic)
def geometry_levels(request: Request) -> GeometryLevelsPublic:
    """The levels with region shapes, and the attribution each asks maps to show."""
    store = _store(request)
    data = [
        GeometryLevelPublic(level=level, attribution=store.geometry_attribution(level))
        for level in store.geometry_levels()
    ]
    return GeometryLevelsPublic(data=data, count=len(data))


@router.get(
    "/geometry/{level}",
    response_model=FeatureCollection,
    responses=error_responses(404),
)
def geometry(
    request: Request,
    level: Annotated[str, Path(pattern=LEVEL_PATTERN, description="nuts2, state, county, …")],
    codes: Codes = None,
) -> Response:
    """Shapes of a level as GeoJSON (only ``codes`` when given; unknown codes are left out)."""
    try:
        text = _store(request).geometry_json(level, _split(codes))
    except GeometryLevelNotFound as exc:
        raise _not_found(exc) from None
    return Response(content=text, media_type="application/json")
