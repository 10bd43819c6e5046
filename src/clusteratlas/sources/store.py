"""The observatory store: computed tables of loaded datasets and region geometries, in DuckDB.

A store is a folder. Each dataset is one DuckDB file ``<name>.duckdb`` holding every table the
observatory computes for a panel (:data:`TABLES`, columns as the observatory's own frames, in
their row order) plus the dataset's regions, clusters and description. Region shapes live in
``geometry.duckdb``, one set of shapes per level (``nuts2``, ``county``, …) with the
attribution their licence asks for.

Writes are atomic: a dataset (or the geometry file) is written whole to a temporary file in the
same folder, then renamed over the old one, so a reader sees the old file or the new one, never
a half-written one. Readers attach each file read-only to an in-memory DuckDB database and
attach it again when the file was replaced (inode, size or modification time changed), so
``clusteratlas load`` can replace a dataset while ``clusteratlas serve`` runs. (A plain
``duckdb.connect(path)`` would not do: DuckDB keeps one database per path in a process and
would hand back the replaced file.)

Region levels are short keys shared by datasets and geometry: ``nuts0`` … ``nuts3`` for NUTS
codes, ``state`` (two-digit FIPS), ``county`` (five-digit FIPS), ``aggregate`` for a panel's
aggregate regions and ``other`` for anything else.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clusteratlas.observatory import (
    ClusterDefinitions,
    ComplexityError,
    Panel,
    cluster_table,
    complexity_table,
    complexity_years,
    industry_indices,
    mentors,
    opportunities,
    region_indices,
    shift_share,
)

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "GEOMETRY_FILE",
    "GISCO_ATTRIBUTION",
    "TABLES",
    "US_ATLAS_ATTRIBUTION",
    "DatasetInfo",
    "DatasetNotFound",
    "GeometryError",
    "GeometryLevelNotFound",
    "ObservatoryStore",
    "StoreError",
    "TableNotFound",
    "compute_tables",
    "read_features",
    "region_level",
    "topology_features",
]

#: the tables of a dataset, in the order they are computed
TABLES = (
    "clusters",
    "regions",
    "industries",
    "shiftshare",
    "complexity",
    "opportunities",
    "peers",
    "mentors",
)
GEOMETRY_FILE = "geometry.duckdb"
#: what Eurostat GISCO asks users of its NUTS boundaries to show
GISCO_ATTRIBUTION = "© EuroGeographics for the administrative boundaries"
US_ATLAS_ATTRIBUTION = "US Census Bureau cartographic boundaries, via us-atlas (ISC licence)"

#: peers kept per region in the ``peers`` table
PEERS_TOP = 10
#: decimals kept of geometry coordinates (1e-6 degrees is about 0.1 m)
COORDINATE_DECIMALS = 6

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_LEVEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_NUTS = re.compile(r"[A-Z]{2}[A-Z0-9]{0,3}")
_SUFFIX = ".duckdb"

Progress = Callable[[str, int, int], None]


#: the copy of the clusters table in cluster order (see ``ObservatoryStore._source``)
BY_CLUSTER = "_clusters_by_cluster"


class StoreError(ValueError):
    """A store operation cannot be done (bad name, bad argument); the message says why."""


class DatasetNotFound(LookupError):  # noqa: N818 - the name is the store's contract
    """No dataset of that name in the store."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "no such dataset"


class TableNotFound(KeyError):  # noqa: N818 - the name is the store's contract
    """The dataset has no such table (unknown name, or not computable for this panel)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "no such table"


class GeometryLevelNotFound(LookupError):  # noqa: N818 - the name is the store's contract
    """No geometry loaded for that level."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "no such geometry level"


class GeometryError(ValueError):
    """A geometry file cannot be read; the message names the file, feature and field."""


@dataclass(frozen=True)
class DatasetInfo:
    """What a stored dataset holds. ``notes`` says why a table is missing (e.g. complexity on a
    disconnected panel)."""

    name: str
    title: str
    years: tuple[int, ...]
    n_regions: int
    n_clusters: int
    region_levels: tuple[str, ...]
    loaded_at: datetime
    tables: tuple[str, ...]
    source: str  # where the panel came from (file name), shown on pages
    notes: tuple[str, ...] = ()


# ---------------------------------------------------------------------- computing the tables
def _step(progress: Progress | None, name: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


def compute_tables(
    panel: Panel,
    definitions: ClusterDefinitions,
    *,
    progress: Progress | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Every table of :data:`TABLES` that can be computed, and why the others cannot.

    ``clusters`` has the dynamics from the first year (when there are two or more years),
    ``shiftshare`` runs from the first to the last year, ``complexity`` covers every year;
    ``opportunities`` (every candidate of every region), ``peers`` (the
    :data:`PEERS_TOP` most similar regions of each region) and ``mentors`` (on the ECI) are
    of the last year. These three take the observatory's per-region frames and put ``year``
    and the ``region`` looked at in front; in ``peers`` the similar region is ``peer``.
    """
    years = panel.years
    first, last = years[0], years[-1]
    base = first if len(years) > 1 else None
    tables: dict[str, pd.DataFrame] = {}
    skipped: dict[str, str] = {}
    tables["clusters"] = cluster_table(
        panel, definitions, base_year=base, progress=_step(progress, "clusters")
    )
    tables["regions"] = region_indices(panel, definitions, progress=_step(progress, "regions"))
    tables["industries"] = industry_indices(
        panel, definitions, progress=_step(progress, "industries")
    )
    if base is None:
        skipped["shiftshare"] = "shift-share needs two years or more"
    else:
        if progress:
            progress("shiftshare", 0, 1)
        tables["shiftshare"] = shift_share(panel, definitions, base_year=first, year=last)
        if progress:
            progress("shiftshare", 1, 1)
    try:
        tables["complexity"] = complexity_table(
            panel, definitions, progress=_step(progress, "complexity")
        )
        cy = next(complexity_years(panel, definitions, years=[last]))
    except ComplexityError as exc:
        reason = f"complexity cannot be computed: {exc}"
        for name in ("complexity", "opportunities", "peers", "mentors"):
            skipped[name] = reason
        return tables, skipped
    regions = list(cy.regions)
    opp, skipped_regions = [], []
    for k, region in enumerate(regions):
        try:
            frame = opportunities(
                region,
                regions=cy.regions,
                industries=cy.industries,
                mcp=cy.mcp,
                density=cy.density,
                pci=cy.pci,
                proximity=cy.proximity,
            )
        except ValueError:  # no specialisation (no employment in the year): no options
            skipped_regions.append(region)
            continue
        opp.append(_focal(frame, last, region))
        if progress and (k % 50 == 0 or k == len(regions) - 1):
            progress("opportunities", k + 1, len(regions))
    if skipped_regions:
        shown = ", ".join(map(str, skipped_regions[:10]))
        skipped["opportunities"] = (
            f"{len(skipped_regions)} regions have no specialisation in {last}, so no "
            f"opportunities: {shown}{' …' if len(skipped_regions) > 10 else ''}"
        )
    tables["opportunities"] = pd.concat(opp, ignore_index=True)
    totals = cy.employment.sum(axis=1, keepdims=True)
    shares = cy.employment / np.clip(totals, 1e-300, None)
    tables["peers"] = _all_peers(cy.regions, cy.rca, shares, last, PEERS_TOP)
    if progress:
        progress("peers", 1, 1)
    eci = pd.Series(cy.eci, index=cy.regions, name="eci")
    frame = mentors(regions=cy.regions, profiles=cy.rca, indicator=eci)
    frame.insert(0, "year", np.int64(last))
    tables["mentors"] = frame.reset_index(drop=True)
    if progress:
        progress("mentors", 1, 1)
    return tables, skipped


def _unit_rows(profiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows scaled to unit length (NaN as 0) and the all-zero rows, computed exactly as
    :func:`clusteratlas.observatory.peers` does for its cosine similarities."""
    X = np.asarray(profiles, dtype=np.float64)
    X = np.nan_to_num(X, nan=0.0) if np.isnan(X).any() else X
    scale = np.abs(X).max(axis=1, initial=0.0)
    zero = scale == 0
    Y = X / np.where(zero, 1.0, scale)[:, None]
    norm = np.sqrt(np.einsum("ij,ij->i", Y, Y))
    return Y / np.where(zero, 1.0, norm)[:, None], zero


def _all_peers(
    regions: pd.Index, rca: np.ndarray, shares: np.ndarray, year: int, top: int
) -> pd.DataFrame:
    """:func:`clusteratlas.observatory.peers` of every region (with ``year``, the ``region``
    looked at and the similar region as ``peer``), the unit rows computed once instead of
    once per region: the same arithmetic in the same order, so the same bits (the tests
    compare it with the observatory's function). Regions with an all-zero profile, for
    which ``peers`` raises, have no rows."""
    n = len(regions)
    u_rca, zero_rca = _unit_rows(rca)
    u_sh, zero_sh = _unit_rows(shares)
    labels = regions.astype(str).to_numpy()
    focal, peer, sim_rca, sim_sh, rank = [], [], [], [], []
    for r in range(n):
        if zero_rca[r] or zero_sh[r]:
            continue
        s_rca = np.clip(u_rca @ u_rca[r], -1.0, 1.0)
        s_rca[zero_rca] = np.nan
        s_rca[r] = 1.0
        s_sh = np.clip(u_sh @ u_sh[r], -1.0, 1.0)
        s_sh[zero_sh] = np.nan
        s_sh[r] = 1.0
        others = np.delete(np.arange(n), r)
        k = s_rca[others]
        defined = ~np.isnan(k)
        order = np.lexsort((labels[others], -np.where(defined, k, 0.0), ~defined))[:top]
        rows = others[order]
        focal.append(np.full(len(rows), r))
        peer.append(rows)
        sim_rca.append(s_rca[rows])
        sim_sh.append(s_sh[rows])
        ranks = np.arange(1, len(rows) + 1, dtype=np.float64)
        ranks[~defined[order]] = np.nan
        rank.append(ranks)

    def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts) if parts else np.array([], dtype=dtype)

    ranks = cat(rank, np.float64)
    return pd.DataFrame(
        {
            "year": np.full(len(ranks), year, dtype=np.int64),
            "region": regions[cat(focal, np.int64)],
            "peer": regions[cat(peer, np.int64)],
            "similarity_rca": cat(sim_rca, np.float64),
            "similarity_shares": cat(sim_sh, np.float64),
            "rank": pd.array(ranks, dtype="Int64"),  # NaN (no similarity) becomes <NA>
        }
    )


def _focal(frame: pd.DataFrame, year: int, region: str) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    frame.insert(0, "region", region)
    frame.insert(0, "year", np.int64(year))
    return frame


def region_level(code: str, *, aggregate: bool = False) -> str:
    """The level key of a region code: ``nuts0``–``nuts3``, ``state``, ``county``,
    ``aggregate`` or ``other``."""
    if aggregate:
        return "aggregate"
    if _NUTS.fullmatch(code):
        return f"nuts{len(code) - 2}"
    if code.isdigit():
        return {2: "state", 5: "county"}.get(len(code), "other")
    return "other"


def _derived_parent(code: str, level: str) -> str | None:
    if level.startswith("nuts") and level != "nuts0":
        return code[:-1]
    if level == "county":
        return code[:2]
    return None


def _names(region_names: Mapping[str, str] | pd.DataFrame | None) -> dict[str, str]:
    if region_names is None:
        return {}
    if isinstance(region_names, pd.DataFrame):
        key = "region" if "region" in region_names.columns else "code"
        if key not in region_names.columns or "name" not in region_names.columns:
            raise StoreError(
                "region names need the columns region (or code) and name; found "
                + ", ".join(map(str, region_names.columns))
            )
        return dict(
            zip(region_names[key].astype(str), region_names["name"].astype(str), strict=True)
        )
    return {str(k): str(v) for k, v in region_names.items()}


def _region_frame(panel: Panel, names: Mapping[str, str]) -> pd.DataFrame:
    codes = [str(c) for c in panel.regions]
    missing = [c for c in codes if c not in names]
    known: dict[str, str] = {}
    if missing:
        from clusteratlas.sources.classifications import known_names

        known = known_names(missing, ["nuts", "us-counties", "us-states"])
    aggregates = set(panel.aggregates)
    hierarchy = panel.region_hierarchy
    rows = []
    for code in codes:
        level = region_level(code, aggregate=code in aggregates)
        if hierarchy is not None and code in hierarchy.levels:
            parent = hierarchy.parents.get(code)
        else:
            parent = _derived_parent(code, level)
        rows.append((code, names.get(code) or known.get(code) or code, level, parent))
    return pd.DataFrame(rows, columns=["code", "name", "level", "parent"])


def _cluster_frame(definitions: ClusterDefinitions) -> pd.DataFrame:
    clusters = definitions.clusters
    return pd.DataFrame(
        {
            "code": clusters.index.astype(str),
            "name": clusters["cluster_name"].astype(str).to_numpy(),
            "type": clusters["type"].astype(str).to_numpy(),
        }
    )


def _definitions_frame(definitions: ClusterDefinitions) -> pd.DataFrame:
    table = definitions.table
    return pd.DataFrame(
        {
            "industry": table["industry"].astype(str).to_numpy(),
            "cluster": table["cluster"].astype(str).to_numpy(),
        }
    )


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categoricals as text (DuckDB VARCHAR), the row order kept in ``_row``."""
    out = frame.reset_index(drop=True).copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(object).where(out[column].notna(), None)
    out.insert(0, "_row", np.arange(len(out), dtype=np.int64))
    return out


# ---------------------------------------------------------------------- geometry files
def _arc_points(topology: Mapping[str, Any]) -> list[list[list[float]]]:
    """The arcs of a topology in coordinates (quantized, delta-encoded arcs decoded)."""
    transform = topology.get("transform")
    arcs = topology.get("arcs")
    if not isinstance(arcs, list):
        raise GeometryError("a topology needs a list 'arcs'")
    if transform is None:
        return [[[float(v) for v in p] for p in arc] for arc in arcs]
    try:
        sx, sy = (float(v) for v in transform["scale"])
        tx, ty = (float(v) for v in transform["translate"])
    except (KeyError, TypeError, ValueError):
        raise GeometryError(
            "the topology's transform needs scale [x, y] and translate [x, y]"
        ) from None
    decoded = []
    for arc in arcs:
        x = y = 0
        points = []
        for p in arc:
            x += p[0]
            y += p[1]
            points.append([x * sx + tx, y * sy + ty, *p[2:]])
        decoded.append(points)
    return decoded


def _point(topology: Mapping[str, Any], p: Sequence[float]) -> list[float]:
    transform = topology.get("transform")
    if transform is None:
        return [float(v) for v in p]
    (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
    return [p[0] * sx + tx, p[1] * sy + ty, *p[2:]]


def _line(arcs: list[list[list[float]]], indices: Sequence[int]) -> list[list[float]]:
    """Stitch arcs into one line: ``~i`` (``-i - 1``) is arc ``i`` reversed; the first point of
    each following arc repeats the last of the previous one and is dropped."""
    points: list[list[float]] = []
    for index in indices:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def _topo_geometry(
    topology: Mapping[str, Any], arcs: list[list[list[float]]], g: Mapping[str, Any]
) -> dict[str, Any] | None:
    kind = g.get("type")
    if kind is None:
        return None
    if kind == "GeometryCollection":
        return {
            "type": "GeometryCollection",
            "geometries": [
                x for x in (_topo_geometry(topology, arcs, h) for h in g["geometries"]) if x
            ],
        }
    if kind == "Point":
        return {"type": "Point", "coordinates": _point(topology, g["coordinates"])}
    if kind == "MultiPoint":
        return {
            "type": "MultiPoint",
            "coordinates": [_point(topology, p) for p in g["coordinates"]],
        }
    if kind == "LineString":
        return {"type": kind, "coordinates": _line(arcs, g["arcs"])}
    if kind == "MultiLineString":
        return {"type": kind, "coordinates": [_line(arcs, a) for a in g["arcs"]]}
    if kind == "Polygon":
        return {"type": kind, "coordinates": [_line(arcs, ring) for ring in g["arcs"]]}
    if kind == "MultiPolygon":
        return {
            "type": kind,
            "coordinates": [[_line(arcs, ring) for ring in poly] for poly in g["arcs"]],
        }
    raise GeometryError(f"unknown geometry type {kind!r}")


def topology_features(
    topology: Mapping[str, Any], objects: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """GeoJSON features of the named objects of a TopoJSON topology (default: every object).

    Quantized topologies (``transform``) are decoded; the members of a
    ``GeometryCollection`` object become one feature each, keeping their ``id`` and
    ``properties`` (and the object's name as ``properties["_object"]``).
    """
    if topology.get("type") != "Topology":
        raise GeometryError("not a TopoJSON topology (type is not 'Topology')")
    available = topology.get("objects")
    if not isinstance(available, Mapping):
        raise GeometryError("a topology needs an 'objects' mapping")
    names = list(available) if objects is None else list(objects)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise GeometryError(
            f"no object {', '.join(map(repr, unknown))} in the topology "
            f"(objects: {', '.join(available)})"
        )
    arcs = _arc_points(topology)
    features = []
    for name in names:
        obj = available[name]
        members = obj["geometries"] if obj.get("type") == "GeometryCollection" else [obj]
        for k, member in enumerate(members):
            try:
                geometry = _topo_geometry(topology, arcs, member)
            except (KeyError, IndexError, TypeError) as exc:
                raise GeometryError(
                    f"object {name!r}, geometry {k}: malformed ({type(exc).__name__}: {exc})"
                ) from None
            feature: dict[str, Any] = {
                "type": "Feature",
                "properties": {**(member.get("properties") or {}), "_object": name},
                "geometry": geometry,
            }
            if "id" in member:
                feature["id"] = member["id"]
            features.append(feature)
    return features


_CODE_PROPERTIES = ("code", "NUTS_ID", "GEOID", "geoid", "FIPS", "fips", "id", "ID")
_NAME_PROPERTIES = ("name", "NAME_LATN", "NUTS_NAME", "NAME", "Name")


def read_features(
    path: str | Path,
    *,
    code_property: str | None = None,
    name_property: str | None = None,
    objects: Iterable[str] | None = None,
) -> list[tuple[str, str, dict[str, Any]]]:
    """``(code, name, geometry)`` of every feature of a GeoJSON or TopoJSON file.

    The code is the property ``code_property`` when given, else the feature's ``id``, else the
    first of ``code``, ``NUTS_ID``, ``GEOID``, ``FIPS``, ``id`` it has; the name likewise from
    ``name_property`` or ``name``, ``NAME_LATN``, ``NUTS_NAME``, ``NAME`` (the code when none).

    Raises
    ------
    GeometryError
        Naming the file and the feature: not JSON, neither GeoJSON nor TopoJSON, a feature
        without a code or geometry, a code given twice.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise GeometryError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GeometryError(f"{path}: not a JSON file ({exc})") from None
    if not isinstance(data, dict):
        raise GeometryError(f"{path}: not GeoJSON or TopoJSON (the top level is not an object)")
    kind = data.get("type")
    try:
        if kind == "Topology":
            features = topology_features(data, objects)
        elif kind == "FeatureCollection" and isinstance(data.get("features"), list):
            features = data["features"]
        elif kind == "Feature":
            features = [data]
        else:
            raise GeometryError(
                f"not GeoJSON or TopoJSON: type is {kind!r} (expected FeatureCollection, "
                "Feature or Topology)"
            )
    except GeometryError as exc:
        raise GeometryError(f"{path}: {exc}") from None
    out: list[tuple[str, str, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for k, feature in enumerate(features):
        where = f"{path}: feature {k}"
        if not isinstance(feature, dict):
            raise GeometryError(f"{where}: not an object")
        props = feature.get("properties") or {}
        if "_object" in props:
            where += f" (object {props['_object']!r})"
        code = _pick(feature, props, code_property, _CODE_PROPERTIES, use_id=True)
        if code is None:
            wanted = (
                f"property {code_property!r}"
                if code_property
                else "an id or one of the properties " + ", ".join(_CODE_PROPERTIES)
            )
            raise GeometryError(f"{where}: no code ({wanted}); name it with --code-property")
        name = _pick(feature, props, name_property, _NAME_PROPERTIES, use_id=False) or code
        if name_property and name_property not in props:
            raise GeometryError(f"{where} ({code}): no property {name_property!r}")
        geometry = feature.get("geometry")
        if not isinstance(geometry, dict) or "type" not in geometry:
            raise GeometryError(f"{where} ({code}): no geometry")
        if code in seen:
            raise GeometryError(f"{where}: code {code!r} given twice (also feature {seen[code]})")
        seen[code] = k
        out.append((code, name, geometry))
    if not out:
        raise GeometryError(f"{path}: no features")
    return out


def _pick(
    feature: Mapping[str, Any],
    props: Mapping[str, Any],
    wanted: str | None,
    candidates: Sequence[str],
    *,
    use_id: bool,
) -> str | None:
    if wanted:
        value = props.get(wanted)
    elif use_id and feature.get("id") not in (None, ""):
        value = feature["id"]
    else:
        value = next((props[c] for c in candidates if props.get(c) not in (None, "")), None)
    if value is None or str(value).strip() == "":
        return None
    return str(value).strip()


def _rounded(value: Any, decimals: int = COORDINATE_DECIMALS) -> Any:
    if isinstance(value, float):
        return round(value, decimals)
    if isinstance(value, list):
        return [_rounded(v, decimals) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v, decimals) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------- the store
class _Attached:
    """One file attached read-only to its own in-memory DuckDB database."""

    def __init__(self, path: Path, key: tuple[int, int, int]) -> None:
        import duckdb

        self.key = key
        self.con = duckdb.connect(":memory:")
        quoted = str(path).replace("'", "''")
        self.con.execute(f"ATTACH '{quoted}' AS ds (READ_ONLY)")
        self.cache: dict[str, Any] = {}

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.con.cursor()


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _write_atomically(target: Path, write: Callable[[duckdb.DuckDBPyConnection], None]) -> None:
    """Build a DuckDB file beside ``target`` with ``write`` and rename it over ``target``."""
    import duckdb

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    os.unlink(tmp)  # DuckDB creates the file itself
    tmp_path = Path(tmp)
    try:
        con = duckdb.connect(tmp)
        try:
            write(con)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        Path(tmp + ".wal").unlink(missing_ok=True)
        raise


class ObservatoryStore:
    """Datasets (one DuckDB file each) and region geometries in one folder.

    Safe to share between the threads of a web server: every query runs on its own cursor.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._attached: dict[Path, _Attached] = {}

    def __repr__(self) -> str:
        return f"ObservatoryStore({str(self.directory)!r})"

    @classmethod
    def from_settings(cls, settings: Any) -> ObservatoryStore:
        """``settings.observatory_dir`` if set (``CLUSTERATLAS_OBSERVATORY_DIR``), else a folder
        ``observatory`` beside the SQLite database file (the working directory for other
        databases and in-memory SQLite)."""
        directory = getattr(settings, "observatory_dir", None)
        if directory:
            return cls(Path(directory))
        url = str(getattr(settings, "database_url", "") or "")
        prefix = "sqlite:///"
        if url.startswith(prefix):
            file = url[len(prefix) :].split("?", 1)[0]
            if file and file != ":memory:":
                return cls(Path(file).parent / "observatory")
        return cls(Path.cwd() / "observatory")

    # ------------------------------------------------------------------ reading helpers
    def _path(self, name: str) -> Path:
        if not isinstance(name, str) or not _NAME.fullmatch(name) or name == "geometry":
            raise DatasetNotFound(f"no dataset {name!r}")
        return self.directory / f"{name}{_SUFFIX}"

    def _attach(self, path: Path) -> _Attached | None:
        key = _stat_key(path)
        if key is None:
            with self._lock:
                self._attached.pop(path, None)
            return None
        with self._lock:
            current = self._attached.get(path)
            if current is not None and current.key == key:
                return current
        fresh = _Attached(path, key)  # outside the lock: attaching reads the file
        with self._lock:
            self._attached[path] = fresh
        return fresh

    def _readable(self, path: Path) -> _Attached | None:
        """The attached file, None when there is none; :class:`StoreError` when it is not a
        DuckDB file or not one the store wrote (its check query fails)."""
        import duckdb

        try:
            attached = self._attach(path)
            if attached is not None and "checked" not in attached.cache:
                table = "levels" if path.name == GEOMETRY_FILE else "_meta"
                attached.cursor().execute(f"SELECT * FROM ds.{table} LIMIT 1").fetchall()
                attached.cache["checked"] = True
        except duckdb.Error as exc:
            with self._lock:
                self._attached.pop(path, None)
            reason = str(exc).strip().splitlines()[0]
            raise StoreError(f"{path} is not a file of the observatory store ({reason})") from None
        return attached

    def _dataset(self, name: str) -> _Attached:
        try:
            attached = self._readable(self._path(name))
        except StoreError as exc:
            raise DatasetNotFound(f"no dataset {name!r}: {exc}") from None
        if attached is None:
            raise DatasetNotFound(f"no dataset {name!r}")
        return attached

    # ------------------------------------------------------------------ datasets
    def load_dataset(
        self,
        name: str,
        panel: Panel,
        definitions: ClusterDefinitions | None,
        *,
        title: str | None = None,
        source: str = "",
        progress: Progress | None = None,
        region_names: Mapping[str, str] | pd.DataFrame | None = None,
    ) -> DatasetInfo:
        """Compute every table for ``panel`` and store it as dataset ``name``, replacing a
        dataset of that name atomically. ``region_names`` (``{code: name}`` or a frame with
        ``region``/``code`` and ``name``) names regions; codes it lacks take their names from
        the installed or cached code lists (NUTS, US states and counties), else their code."""
        if not isinstance(name, str) or not _NAME.fullmatch(name) or name == "geometry":
            raise StoreError(
                f"dataset name {name!r}: use 1–64 letters, digits, '-' or '_', starting with a "
                "letter or digit ('geometry' is taken)"
            )
        if definitions is None:
            definitions = ClusterDefinitions.identity(list(panel.industries))
        tables, skipped = compute_tables(panel, definitions, progress=progress)
        regions = _region_frame(panel, _names(region_names))
        clusters = _cluster_frame(definitions)
        info = DatasetInfo(
            name=name,
            title=title or name,
            years=tuple(int(y) for y in panel.years),
            n_regions=len(regions),
            n_clusters=len(clusters),
            region_levels=tuple(dict.fromkeys(regions["level"])),
            loaded_at=datetime.now(UTC).replace(microsecond=0),
            tables=tuple(t for t in TABLES if t in tables),
            source=source,
            notes=tuple(f"{t}: {reason}" for t, reason in skipped.items()),
        )
        meta = {
            "name": info.name,
            "title": info.title,
            "years": list(info.years),
            "n_regions": info.n_regions,
            "n_clusters": info.n_clusters,
            "region_levels": list(info.region_levels),
            "loaded_at": info.loaded_at.isoformat(),
            "tables": list(info.tables),
            "source": info.source,
            "notes": list(info.notes),
            "skipped": skipped,
        }
        total = len(tables) + 3

        def write(con: duckdb.DuckDBPyConnection) -> None:
            items = [
                ("_regions", regions),
                ("_clusters", clusters),
                ("_definitions", _definitions_frame(definitions)),
            ]
            items += [(t, _plain(tables[t])) for t in info.tables]
            for k, (table, frame) in enumerate(items):
                if progress:
                    progress("writing", k, total)
                con.register("_incoming", frame)
                con.execute(f"CREATE TABLE {_quote(table)} AS SELECT * FROM _incoming")
                con.unregister("_incoming")
            if "clusters" in info.tables:
                # a cluster's rows are spread over every region of a year, so a filter on the
                # cluster would read the whole year: a copy in cluster order serves it
                con.execute(
                    f"CREATE TABLE {BY_CLUSTER} AS SELECT * FROM clusters "
                    "ORDER BY cluster, year, _row"
                )
            con.execute("CREATE TABLE _meta (info VARCHAR)")
            con.execute("INSERT INTO _meta VALUES (?)", [json.dumps(meta)])
            if progress:
                progress("writing", total, total)

        _write_atomically(self._path(name), write)
        return info

    def drop_dataset(self, name: str) -> None:
        """Delete a dataset (readers that have it open keep reading the deleted file)."""
        path = self._path(name)
        try:
            path.unlink()
        except FileNotFoundError:
            raise DatasetNotFound(f"no dataset {name!r}") from None
        with self._lock:
            self._attached.pop(path, None)

    def datasets(self) -> list[DatasetInfo]:
        """Every stored dataset, by name; an empty list when the folder does not exist."""
        if not self.directory.is_dir():
            return []
        infos = []
        for path in sorted(self.directory.glob(f"*{_SUFFIX}")):
            name = path.name[: -len(_SUFFIX)]
            if name == "geometry" or not _NAME.fullmatch(name):
                continue
            with contextlib.suppress(DatasetNotFound):
                infos.append(self.dataset(name))
        return infos

    def dataset(self, name: str) -> DatasetInfo:
        attached = self._dataset(name)
        info = attached.cache.get("info")
        if info is None:
            row = attached.cursor().execute("SELECT info FROM ds._meta").fetchone()
            meta = json.loads(row[0])
            info = DatasetInfo(
                name=name,
                title=meta["title"],
                years=tuple(meta["years"]),
                n_regions=meta["n_regions"],
                n_clusters=meta["n_clusters"],
                region_levels=tuple(meta["region_levels"]),
                loaded_at=datetime.fromisoformat(meta["loaded_at"]),
                tables=tuple(meta["tables"]),
                source=meta["source"],
                notes=tuple(meta.get("notes", ())),
            )
            attached.cache["info"] = info
        return info

    def regions(self, name: str) -> pd.DataFrame:
        """``code, name, level, parent`` of every region of the panel (aggregates included)."""
        return self._dataset(name).cursor().execute("SELECT * FROM ds._regions").df()

    def clusters(self, name: str) -> pd.DataFrame:
        """``code, name, type`` of every cluster of the definitions."""
        return self._dataset(name).cursor().execute("SELECT * FROM ds._clusters").df()

    def definitions(self, name: str) -> pd.DataFrame:
        """``industry, cluster`` of the cluster definitions the dataset was loaded with
        (:class:`TableNotFound` for a dataset stored before they were kept)."""
        cursor = self._dataset(name).cursor()
        try:
            return cursor.execute("SELECT * FROM ds._definitions").df()
        except duckdb.CatalogException:
            raise TableNotFound(
                f"dataset {name!r} was stored without its definitions: load it again"
            ) from None

    def columns(self, name: str, table: str) -> tuple[str, ...]:
        """The column names of a table of a dataset."""
        attached, _ = self._table(name, table)
        return self._columns(attached, table)

    def _table(self, name: str, table: str) -> tuple[_Attached, DatasetInfo]:
        info = self.dataset(name)
        if table not in info.tables:
            why = dict(n.split(": ", 1) for n in info.notes if ": " in n).get(table)
            known = f"; tables: {', '.join(info.tables)}"
            raise TableNotFound(
                f"dataset {name!r} has no table {table!r}" + (f" ({why})" if why else known)
            )
        return self._dataset(name), info

    def _columns(self, attached: _Attached, table: str) -> tuple[str, ...]:
        key = f"columns:{table}"
        if key not in attached.cache:
            rows = attached.cursor().execute(f"DESCRIBE ds.{_quote(table)}").fetchall()
            attached.cache[key] = tuple(r[0] for r in rows if r[0] != "_row")
        return attached.cache[key]

    def _source(
        self,
        attached: _Attached,
        table: str,
        region: str | Sequence[str] | None,
        cluster: str | Sequence[str] | None,
    ) -> str:
        """The table to read: the copy of ``clusters`` in cluster order when filtering by
        cluster and not by region (files written before the copy existed have none)."""
        if table != "clusters" or cluster is None or region is not None:
            return f"ds.{_quote(table)}"
        key = "has:by_cluster"
        if key not in attached.cache:
            found = attached.cursor().execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'ds' "
                "AND table_name = ?",
                [BY_CLUSTER],
            )
            attached.cache[key] = bool(found.fetchone()[0])
        return f"ds.{BY_CLUSTER}" if attached.cache[key] else f"ds.{_quote(table)}"

    def _where(
        self,
        table: str,
        columns: Sequence[str],
        year: int | None,
        region: str | Sequence[str] | None,
        cluster: str | Sequence[str] | None,
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if year is not None:
            if "year" not in columns:
                raise StoreError(f"table {table!r} has no year column; leave year out")
            clauses.append("year = ?")
            params.append(int(year))
        for value, candidates, what in (
            (region, ("region",), "region"),
            (cluster, ("cluster", "industry"), "cluster"),
        ):
            if value is None:
                continue
            column = next((c for c in candidates if c in columns), None)
            if column is None:
                raise StoreError(f"table {table!r} has no {what} column; leave {what} out")
            values = [value] if isinstance(value, str) else [str(v) for v in value]
            if not values:
                continue
            clauses.append(f"{_quote(column)} IN ({', '.join('?' * len(values))})")
            params.extend(values)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def table(
        self,
        name: str,
        table: str,
        *,
        year: int | None = None,
        region: str | Sequence[str] | None = None,
        cluster: str | Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> pd.DataFrame:
        """Rows of a table, filtered by year, region(s) and cluster(s) (``cluster`` filters the
        ``industry`` column of tables by industry: complexity, opportunities), in the
        observatory's row order unless ``order_by`` (missing values last).

        Raises
        ------
        DatasetNotFound, TableNotFound
            No such dataset, or no such table in it.
        StoreError
            A filter on a column the table lacks, an unknown column, a negative limit.
        """
        attached, _ = self._table(name, table)
        available = self._columns(attached, table)
        where, params = self._where(table, available, year, region, cluster)
        wanted = list(available) if columns is None else list(columns)
        unknown = [c for c in wanted if c not in available]
        if unknown or not wanted:
            raise StoreError(
                f"table {table!r} has no column {', '.join(map(repr, unknown)) or '(none asked)'}"
                f"; columns: {', '.join(available)}"
            )
        if order_by is not None and order_by not in available:
            raise StoreError(
                f"cannot order by {order_by!r}: table {table!r} has the columns "
                + ", ".join(available)
            )
        order = "_row"
        if order_by is not None:
            order = f"{_quote(order_by)} {'DESC' if descending else 'ASC'} NULLS LAST, _row"
        if limit is not None and limit < 0 or offset < 0:
            raise StoreError("limit and offset must be 0 or more")
        source = self._source(attached, table, region, cluster)
        sql = f"SELECT {', '.join(map(_quote, wanted))} FROM {source}{where} ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        if offset:
            sql += f" OFFSET {int(offset)}"
        return attached.cursor().execute(sql, params).df()

    def count(
        self,
        name: str,
        table: str,
        *,
        year: int | None = None,
        region: str | Sequence[str] | None = None,
        cluster: str | Sequence[str] | None = None,
    ) -> int:
        """How many rows :meth:`table` would give with these filters and no limit."""
        attached, _ = self._table(name, table)
        where, params = self._where(table, self._columns(attached, table), year, region, cluster)
        source = self._source(attached, table, region, cluster)
        row = attached.cursor().execute(f"SELECT count(*) FROM {source}{where}", params)
        return int(row.fetchone()[0])

    # ------------------------------------------------------------------ geometry
    def load_geometry(
        self,
        path: str | Path,
        *,
        level: str,
        code_property: str | None = None,
        name_property: str | None = None,
        objects: Iterable[str] | None = None,
        attribution: str | None = None,
    ) -> int:
        """Store the shapes of a GeoJSON or TopoJSON file (every object of a topology unless
        ``objects``) as ``level``, replacing that level; returns the number of shapes.
        ``attribution`` is shown with maps of the level (licences ask for it)."""
        if not isinstance(level, str) or not _LEVEL.fullmatch(level):
            raise StoreError(
                f"geometry level {level!r}: use 1–32 letters, digits, '-' or '_' "
                "(e.g. nuts2, state, county)"
            )
        features = read_features(
            path, code_property=code_property, name_property=name_property, objects=objects
        )
        rows = pd.DataFrame(
            {
                "level": level,
                "code": [f[0] for f in features],
                "name": [f[1] for f in features],
                "geometry": [json.dumps(_rounded(f[2]), separators=(",", ":")) for f in features],
            }
        )
        meta = pd.DataFrame(
            {
                "level": [level],
                "attribution": [attribution],
                "source": [Path(path).name],
                "loaded_at": [datetime.now(UTC).replace(microsecond=0).isoformat()],
                "n": [len(rows)],
            }
        )
        target = self.directory / GEOMETRY_FILE
        old = target if self._readable(target) is not None else None  # StoreError: unreadable

        def write(con: duckdb.DuckDBPyConnection) -> None:
            con.execute(
                "CREATE TABLE features (level VARCHAR, code VARCHAR, name VARCHAR, "
                "geometry VARCHAR)"
            )
            con.execute(
                "CREATE TABLE levels (level VARCHAR, attribution VARCHAR, source VARCHAR, "
                "loaded_at VARCHAR, n BIGINT)"
            )
            if old is not None:
                quoted = str(old).replace("'", "''")
                con.execute(f"ATTACH '{quoted}' AS old (READ_ONLY)")
                con.execute(
                    "INSERT INTO features SELECT * FROM old.features WHERE level <> ?", [level]
                )
                con.execute("INSERT INTO levels SELECT * FROM old.levels WHERE level <> ?", [level])
                con.execute("DETACH old")
            con.register("_incoming", rows)
            con.execute("INSERT INTO features SELECT * FROM _incoming")
            con.register("_meta", meta)
            con.execute("INSERT INTO levels SELECT * FROM _meta")

        _write_atomically(target, write)
        return len(rows)

    def _geometry_file(self) -> _Attached | None:
        try:
            return self._readable(self.directory / GEOMETRY_FILE)
        except StoreError as exc:
            raise GeometryLevelNotFound(f"no geometry: {exc}") from None

    def geometry_levels(self) -> list[str]:
        """The levels with loaded shapes, sorted (none when the geometry file is unreadable)."""
        try:
            attached = self._geometry_file()
        except GeometryLevelNotFound:
            return []
        if attached is None:
            return []
        rows = attached.cursor().execute("SELECT level FROM ds.levels ORDER BY level").fetchall()
        return [r[0] for r in rows]

    def geometry_attribution(self, level: str) -> str | None:
        """The attribution to show with maps of ``level`` (None when none was recorded)."""
        attached = self._geometry_file()
        if attached is None:
            raise GeometryLevelNotFound(f"no geometry for level {level!r}")
        row = (
            attached.cursor()
            .execute("SELECT attribution FROM ds.levels WHERE level = ?", [level])
            .fetchone()
        )
        if row is None:
            raise GeometryLevelNotFound(f"no geometry for level {level!r}")
        return row[0]

    def _shapes(self, level: str) -> dict[str, tuple[str, str]]:
        """``{code: (name, geometry JSON)}`` of a level, kept until the file changes."""
        attached = self._geometry_file()
        if attached is None:
            raise GeometryLevelNotFound(f"no geometry for level {level!r}")
        key = f"shapes:{level}"
        shapes = attached.cache.get(key)
        if shapes is None:
            rows = (
                attached.cursor()
                .execute(
                    "SELECT code, name, geometry FROM ds.features WHERE level = ? ORDER BY code",
                    [level],
                )
                .fetchall()
            )
            if not rows:
                raise GeometryLevelNotFound(f"no geometry for level {level!r}")
            shapes = {code: (name, geometry) for code, name, geometry in rows}
            attached.cache[key] = shapes
        return shapes

    def _features(self, level: str, codes: Iterable[str] | None) -> Iterator[tuple[str, str, str]]:
        shapes = self._shapes(level)
        chosen = shapes if codes is None else [c for c in dict.fromkeys(codes) if c in shapes]
        for code in chosen:
            name, geometry = shapes[code]
            yield code, name, geometry

    def geometry(self, level: str, codes: Iterable[str] | None = None) -> dict[str, Any]:
        """A GeoJSON FeatureCollection of the level's shapes (only ``codes`` when given;
        unknown codes are left out). Each feature has ``id`` and ``properties`` ``code`` and
        ``name``."""
        return json.loads(self.geometry_json(level, codes))

    def geometry_json(self, level: str, codes: Iterable[str] | None = None) -> str:
        """:meth:`geometry` as JSON text, built from the stored text without parsing it."""
        parts = [
            f'{{"type":"Feature","id":{json.dumps(code)},"properties":{{"code":'
            f'{json.dumps(code)},"name":{json.dumps(name)}}},"geometry":{geometry}}}'
            for code, name, geometry in self._features(level, codes)
        ]
        return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
