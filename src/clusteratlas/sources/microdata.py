"""Region × industry × year panels from establishment microdata, on DuckDB or PySpark.

Input files (Parquet or CSV) hold one row per establishment and year: ``year, region, industry,
employees`` and optionally ``establishment_id, firm_id, payroll`` (other names through a column
map). :func:`aggregate` builds ibis expressions and runs them on the engine asked for: DuckDB
(embedded, bounded memory, spills to disk) or Spark (local mode or a cluster). After passes
that check the rows and collect the codes, the cells pass (:func:`cells_expr`)

1. joins each row to the integer id of the ancestor of its region and industry at the requested
   levels (small ``code → ancestor`` tables built from the hierarchies of :mod:`hierarchies`),
2. sums employment (and payroll) per establishment where an establishment may have several
   rows in a year (one group each: faster than ``COUNT(DISTINCT)``; skipped on DuckDB when a
   bitmap shows that ids are unique per year),
3. sums them per cell, counting establishments, with bounds of the largest firm's employment
   for the dominance rule (the largest establishment; "votes" of the firms by bits of their
   id's hash), and labels the cells with their codes.

Only the cells whose bounds do not settle the dominance rule go through the firm-level
grouping (:func:`top_firms_expr`), on their own rows.

Only the cells (a few hundred thousand rows at most) come back to Python, where
:mod:`confidentiality` withholds the sensitive cells and their complements, and the long panel
(``year, region, industry, employment, establishments[, payroll], flag``) is built.

Without ``firm_id`` every establishment is its own firm; without ``establishment_id`` every row
is one establishment.
"""

from __future__ import annotations

import csv
import functools
import glob
import gzip
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clusteratlas.sources.base import InputError
from clusteratlas.sources.confidentiality import CONFIDENTIAL, suppress
from clusteratlas.sources.hierarchies import hierarchy_for

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = [
    "ENGINES",
    "OPTIONAL",
    "REQUIRED",
    "AggregateResult",
    "aggregate",
    "ancestor_map",
    "cells_expr",
    "connect",
    "duckdb_memory_limit",
    "expand_inputs",
    "parse_column_map",
    "parse_size",
    "read_microdata",
]

REQUIRED = ("year", "region", "industry", "employees")
OPTIONAL = ("establishment_id", "firm_id", "payroll")
ENGINES = ("duckdb", "spark")
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
#: the measure whose region and industry totals are taken as published
PUBLISHED = "employment"
MAX_SHOWN = 10
#: the code columns
CODES = ("region", "industry")
#: bits of a hash of the firm id that the cells pass "votes" on (see :func:`cells_expr`);
#: measured at 50 million rows (benchmarks/aggregate.py): 4 bits leave 449 of 131,570 cells
#: (3,687 rows) to the exact firm-level pass, each bit costs ~0.5 s of the ~5 s cells pass
VOTE_BITS = 4
#: largest bitmap (in bits) that :func:`_establishments_unique` builds on DuckDB
MAX_BITMAP = 1 << 30


# ---------------------------------------------------------------------------- inputs


def expand_inputs(patterns: Sequence[str | Path]) -> list[Path]:
    """Files named by paths or glob patterns (``data/*.parquet``), sorted, each once."""
    found: list[Path] = []
    for pattern in map(str, patterns):
        if glob.has_magic(pattern):
            matches = [Path(m) for m in sorted(glob.glob(pattern, recursive=True))]
            matches = [m for m in matches if m.is_file() and _kind(m) is not None]
            if not matches:
                raise InputError(
                    pattern, message=f"{pattern}: no Parquet or CSV file matches this pattern"
                )
            found += matches
        else:
            path = Path(pattern)
            if path.is_dir():
                found += sorted(p for p in path.iterdir() if _kind(p) is not None)
            elif not path.exists():
                raise InputError(path, message=f"{path}: no such file")
            else:
                found.append(path)
    unique = list(dict.fromkeys(found))
    if not unique:
        raise InputError(", ".join(map(str, patterns)), message="no input files")
    for path in unique:
        if _kind(path) is None:
            raise InputError(
                path, message=f"{path}: unknown file type (use .parquet, .csv or .tsv)"
            )
    return unique


def parse_column_map(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """``year=yr,region=nuts3`` → ``{"year": "yr", "region": "nuts3"}`` (our name = theirs)."""
    if text is None:
        return {}
    pairs = text.items() if isinstance(text, Mapping) else _pairs(text)
    mapping: dict[str, str] = {}
    for ours, theirs in pairs:
        ours, theirs = ours.strip().lower(), theirs.strip().lower()
        if ours not in REQUIRED + OPTIONAL:
            raise ValueError(
                f"--column-map: {ours!r} is not a microdata column; expected one of "
                f"{', '.join(REQUIRED + OPTIONAL)}"
            )
        if not theirs:
            raise ValueError(f"--column-map: no column given for {ours!r}")
        mapping[ours] = theirs
    return mapping


def _pairs(text: str) -> Iterator[tuple[str, str]]:
    for item in filter(None, (p.strip() for p in text.split(","))):
        ours, sep, theirs = item.partition("=")
        if not sep:
            raise ValueError(f"--column-map: {item!r} is not NAME=COLUMN")
        yield ours, theirs


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    return None


def _file_columns(path: Path) -> list[str]:
    """Column names of a file (lower-cased), read from its header or Parquet schema only."""
    try:
        if _kind(path) == "parquet":
            names = _parquet_footer(path).schema.to_arrow_schema().names
        else:
            opener = gzip.open if path.name.lower().endswith(".gz") else open
            sep = "\t" if ".tsv" in path.name.lower() else ","
            with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
                names = next(csv.reader(f, delimiter=sep), [])
    except (OSError, ValueError) as exc:
        raise InputError(path, message=f"{path}: cannot be read: {exc}") from None
    return [n.strip().lower() for n in names]


def _parquet_footer(path: Path) -> Any:
    """A Parquet file's metadata (schema, row groups, statistics), read once per version of the
    file: the column check, the grouping of reads and the id ranges all use it."""
    stat = path.stat()
    return _footer(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4096)
def _footer(path: str, mtime_ns: int, size: int) -> Any:  # noqa: ARG001 - the cache key
    import pyarrow.parquet as pq

    return pq.read_metadata(path)


def _columns_of(paths: Sequence[Path], column_map: Mapping[str, str]) -> dict[Path, dict[str, str]]:
    """For each file, ``{our name: its column}``; every file must have the required columns,
    and the optional ones in all files or in none."""
    found: dict[Path, dict[str, str]] = {}
    for path in paths:
        names = _file_columns(path)
        original = {n: n for n in names}
        missing = [
            f"{ours!r}" + (f" (mapped to {column_map[ours]!r})" if ours in column_map else "")
            for ours in REQUIRED
            if column_map.get(ours, ours) not in original
        ]
        if missing:
            raise InputError(
                path,
                message=(
                    f"{path}: missing column {', '.join(missing)} (found: "
                    f"{', '.join(names) or 'none'}); name other columns with --column-map, "
                    "e.g. region=nuts3"
                ),
            )
        found[path] = {
            ours: column_map.get(ours, ours)
            for ours in REQUIRED + OPTIONAL
            if column_map.get(ours, ours) in original
        }
    first = paths[0]
    for path in paths[1:]:
        differ = set(found[path]) ^ set(found[first])
        if differ:
            raise InputError(
                path,
                message=(
                    f"{path}: has {', '.join(sorted(set(found[path]) - set(found[first]))) or '-'}"
                    f" and lacks {', '.join(sorted(set(found[first]) - set(found[path]))) or '-'}"
                    f" compared with {first}; optional columns must be in every file or in none"
                ),
            )
    return found


# ---------------------------------------------------------------------------- engines


_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}


def parse_size(text: str) -> int:
    """Bytes of a size such as ``2GB`` (10⁹), ``1.5GiB`` (2³⁰), ``500MB`` or ``800MiB``."""
    import re

    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*", str(text), re.IGNORECASE)
    if not found:
        raise ValueError(
            f"memory limit {text!r}: give a number and a unit such as 2GB, 1.5GiB or 800MB"
        )
    return int(float(found[1]) * _UNITS[(found[2] or "b").lower()])


def duckdb_memory_limit(limit: str) -> str:
    """DuckDB's share of a memory budget for the whole process.

    DuckDB keeps its buffers within its ``memory_limit``, but Python, the imported libraries
    and the result frames come on top (~0.4 GB beside a 2 GB limit at 50 million rows), so it
    gets 60% of a small budget and all but 1 GB of a large one."""
    budget = parse_size(limit)
    if budget < 64 * 1000**2:
        raise ValueError(f"memory limit {limit!r} is too small: give at least 64MB")
    return f"{max(int(budget * 0.6), budget - 1000**3) // 1000**2}MB"


@contextmanager
def connect(
    engine: str = "duckdb",
    *,
    memory_limit: str | None = None,
    temp_directory: str | Path | None = None,
    threads: int | None = None,
    spark_master: str | None = None,
    spark_session: Any = None,
    spark_config: Mapping[str, str] | None = None,
) -> Iterator[Any]:
    """An ibis backend for ``engine``, closed (and its spill folder removed) afterwards.

    DuckDB runs in memory with ``memory_limit`` (e.g. ``2GB``) and spills to ``temp_directory``
    (by default a fresh temporary folder). Spark uses ``spark_session`` if given, else starts
    one on ``spark_master`` (default ``local[*]``, bound to 127.0.0.1) and stops it afterwards.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    try:
        import ibis
    except ImportError:  # pragma: no cover - depends on the installation
        raise ValueError(
            "aggregating microdata needs ibis: pip install 'clusteratlas[microdata]'"
        ) from None
    if engine == "duckdb":
        own_tmp = temp_directory is None
        tmp = (
            Path(tempfile.mkdtemp(prefix="clusteratlas-spill-"))
            if own_tmp
            else Path(temp_directory)
        )
        tmp.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {"temp_directory": str(tmp), "preserve_insertion_order": False}
        if memory_limit:
            config["memory_limit"] = duckdb_memory_limit(memory_limit)
        if threads:
            config["threads"] = threads
        con = ibis.duckdb.connect(**config)
        try:
            yield con
        finally:
            con.disconnect()
            if own_tmp:
                shutil.rmtree(tmp, ignore_errors=True)
        return
    session, own = spark_session, spark_session is None
    if own:
        session = start_spark(spark_master or "local[*]", config=spark_config)
    try:
        yield ibis.pyspark.connect(session)
    finally:
        if own:
            session.stop()


def start_spark(master: str = "local[*]", *, config: Mapping[str, str] | None = None) -> Any:
    """A Spark session on ``master``; local masters bind to 127.0.0.1. Needs Java 17."""
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise ValueError(
            "the spark engine needs Java 17: install it (Debian: openjdk-17-jre-headless) or set "
            "JAVA_HOME; or use --engine duckdb"
        )
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover - depends on the installation
        raise ValueError(
            "the spark engine needs pyspark: pip install 'clusteratlas[microdata]'"
        ) from None
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.master(master)
        .appName("clusteratlas-aggregate")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
    )
    # results come back through Arrow (measured: 1M rows, 25 s → 15 s warm in local mode); on
    # one machine a few shuffle partitions per core beat the default 200
    settings = {"spark.sql.execution.arrow.pyspark.enabled": "true"}
    if master.startswith("local"):
        settings["spark.driver.host"] = "127.0.0.1"
        settings["spark.sql.shuffle.partitions"] = str(max(8, 2 * (os.cpu_count() or 1)))
    for key, value in (settings | dict(config or {})).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


# ---------------------------------------------------------------------------- expression


def read_microdata(
    con: Any,
    paths: Sequence[Path],
    columns: Mapping[Path, Mapping[str, str]],
    *,
    raw: bool = False,
) -> ir.Table:
    """One table over all files with our column names and types: ``year`` int64, codes and
    ids as text, ``employees`` and ``payroll`` float64 (values that are not numbers become
    null and are counted as invalid), plus ``_file``. With ``raw=True`` the text of each
    column before conversion is kept as ``_raw_<name>`` (for error messages)."""
    import ibis

    spark = con.name == "pyspark"
    selections = []
    for path, group in _read_groups(paths, columns, together=not spark and not raw):
        text = _kind(path) == "csv"
        if len(group) > 1:  # one read of many files: the file of each row from DuckDB
            t = con.read_parquet([str(p) for p in group], filename=True)
        elif not text:
            t = con.read_parquet(str(path))
        else:
            sep = "\t" if ".tsv" in path.name.lower() else ","
            options: dict[str, Any] = (
                {"inferSchema": False, "sep": sep}
                if spark
                else {"all_varchar": True, "delim": sep, "header": True}
            )
            t = con.read_csv(str(path), **options)
        lower = {c.lower().strip(): c for c in t.columns}
        cols = {ours: t[lower[theirs]] for ours, theirs in columns[path].items()}
        out: dict[str, Any] = {
            "year": _number(cols["year"], "int64"),
            "region": _text(cols["region"], strip=text),
            "industry": _text(cols["industry"], strip=text),
            "employees": _number(cols["employees"], "float64"),
        }
        for name in ("establishment_id", "firm_id"):
            if name in cols:  # ids keep their type (integers group faster than text)
                out[name] = _text(cols[name], strip=True) if text else cols[name]
        if "payroll" in cols:
            out["payroll"] = _number(cols["payroll"], "float64")
        out["_file"] = t.filename if len(group) > 1 else ibis.literal(str(path))
        if raw:
            for name, column in cols.items():
                out[f"_raw_{name}"] = column.cast("string")
            # the row's place in its file, 0 for the first row (in scan order, which DuckDB
            # keeps for one file: the error path reads with DuckDB only)
            out["_row"] = ibis.row_number()
        selections.append((t, out))
    for name in ("establishment_id", "firm_id"):
        types = {str(out[name].type().copy(nullable=True)) for _, out in selections if name in out}
        if len(types) > 1:  # e.g. integers in one file, text in another: compare as text
            for _, out in selections:
                out[name] = _text(out[name], strip=False)
    parts = [t.select(**out) for t, out in selections]
    return parts[0] if len(parts) == 1 else ibis.union(*parts)


def _read_groups(
    paths: Sequence[Path], columns: Mapping[Path, Mapping[str, str]], *, together: bool
) -> list[tuple[Path, list[Path]]]:
    """The files in reads: with ``together``, Parquet files with the same columns and types
    are read in one (a union of one read per file costs DuckDB ~0.4 s to plan at 50 files,
    for every pass), each with the first of them; CSV files, and every file otherwise, alone."""
    if not together:
        return [(path, [path]) for path in paths]
    groups: dict[Any, list[Path]] = {}
    for path in paths:
        key: Any = path
        if _kind(path) == "parquet":
            schema = _parquet_footer(path).schema.to_arrow_schema()
            if "filename" not in {n.lower() for n in schema.names}:
                key = (tuple(sorted(columns[path].items())), str(schema.remove_metadata()))
        groups.setdefault(key, []).append(path)
    return [(group[0], group) for group in groups.values()]


def _text(column: Any, *, strip: bool) -> Any:
    """Codes and ids as text; text read from CSV loses surrounding spaces."""
    if column.type().is_string():
        return column.strip() if strip else column
    return column.cast("string")


def _number(column: Any, to: str) -> Any:
    if column.type().is_numeric():
        return column.cast(to)
    return column.cast("string").strip().try_cast(to)


def cells_expr(
    table: ir.Table,
    *,
    region_map: pd.DataFrame | None = None,
    industry_map: pd.DataFrame | None = None,
    every_firm: bool = False,
    unique_establishments: bool = False,
    vote_bits: int = 0,
) -> ir.Table:
    """The cells pass: one ibis expression, whatever the engine, over rows already checked.

    ``region_map``/``industry_map`` are ``code, ancestor`` frames (see :func:`ancestor_map`);
    without one the codes are kept. Returns one row per ``year, region, industry`` with
    ``employment, establishments[, payroll], largest_unit`` (the largest establishment's
    employment, a lower bound of the largest firm's), and, with ``vote_bits`` > 0 and a
    ``firm_id``, the votes ``_vote0, _vote1, …``: the employment of the firms whose id's hash
    has that bit set. A firm lies on one side of every bit, so its employment is at most
    ``min over bits of max(_vote, employment - _vote)`` (:func:`dominance_bounds`): most cells
    are settled by these bounds, and only the others go to :func:`top_firms_expr`, the
    exact firm-level grouping, instead of grouping every firm of every cell.

    ``every_firm``: no row lacks its ``firm_id`` (one grouping key fewer);
    ``unique_establishments``: no ``establishment_id`` occurs twice in a year, so each row is one
    establishment (otherwise the rows are first grouped per establishment, which is how distinct
    establishments are counted without ``COUNT(DISTINCT)``). With maps, the cells carry the
    integer ids of their ancestors (``_region_id``, ``_industry_id``) beside the codes.
    """
    import ibis

    t, keys, labels = _establishment_rows(
        table, region_map, industry_map, every_firm, unique_establishments
    )
    aggs: dict[str, Any] = {
        "employment": t.employees.sum(),
        "establishments": t.count(),
    }
    if "payroll" in t.columns:
        aggs["payroll"] = t.payroll.sum()
    aggs["largest_unit"] = t.employees.max()
    if vote_bits and "_firm" in t.columns:
        firm = t._firm
        bits = firm % 65521 if firm.type().is_integer() else firm.hash()
        for b in range(vote_bits):
            aggs[f"_vote{b}"] = ibis.ifelse((bits & (1 << b)) != 0, t.employees, 0.0).sum()
    return _labelled(t.group_by(keys).aggregate(**aggs), labels)


def top_firms_expr(
    table: ir.Table,
    cells: pd.DataFrame,
    *,
    region_map: pd.DataFrame | None = None,
    industry_map: pd.DataFrame | None = None,
    every_firm: bool = False,
    unique_establishments: bool = False,
) -> ir.Table:
    """The largest firm's employment (``top_firm_employment``) in each of ``cells`` (rows of
    :func:`cells_expr`'s result, with the same maps): the firm-level grouping, on the rows of
    those cells only. A firm is its ``firm_id``; an establishment without one is its own firm."""

    t, keys, _ = _establishment_rows(
        table,
        region_map,
        industry_map,
        every_firm,
        unique_establishments,
        only=cells,
    )
    units = [c for c in ("_firm", "_alone") if c in t.columns]
    firms = t.group_by([*keys, *units]).aggregate(_employment=t.employees.sum())
    return firms.group_by(keys).aggregate(top_firm_employment=firms._employment.max())


def dominance_bounds(cells: pd.DataFrame, *, firms: bool) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) bounds of the largest firm's employment in each of ``cells``
    (:func:`cells_expr`'s result): the largest establishment, and the largest side of the
    votes on the firm's side of every bit (the cell's employment without votes). Without
    firms (``firms=False``: no ``firm_id``) each establishment is its own firm: both bounds
    are the largest establishment."""
    total = cells["employment"].to_numpy(np.float64)
    lower = cells["largest_unit"].to_numpy(np.float64)
    if not firms:
        return lower, lower
    upper = total.copy()
    for name in (c for c in cells.columns if c.startswith("_vote")):
        side = cells[name].to_numpy(np.float64)
        upper = np.minimum(upper, np.maximum(side, total - side))
    return lower, upper


def _establishment_rows(
    table: ir.Table,
    region_map: pd.DataFrame | None,
    industry_map: pd.DataFrame | None,
    every_firm: bool,
    unique_establishments: bool,
    *,
    only: pd.DataFrame | None = None,
) -> tuple[ir.Table, list[str], dict[str, ir.Table]]:
    """One row per establishment of a cell (the rows themselves when they are), with the
    ancestors' integer ids and the firm (``_firm``, and ``_alone`` for establishments without
    a firm); also the cell's keys and the label tables of the ids. ``only``: the rows of these
    cells only (a frame of their keys), kept before any grouping."""
    import ibis

    t = table
    # mapped codes are grouped by the integer id of their ancestor (cheaper to hash than text)
    # and labelled at the end
    labels: dict[str, ir.Table] = {}
    group = {"region": "region", "industry": "industry"}
    for key, mapping in (("region", region_map), ("industry", industry_map)):
        if mapping is None:
            continue
        ids, uniques = pd.factorize(mapping["ancestor"], sort=True)
        m = ibis.memtable(
            pd.DataFrame({f"_{key}_code": mapping["code"].astype(str), f"_{key}_id": ids})
        )
        t = t.left_join(m, t[key] == m[f"_{key}_code"]).drop(f"_{key}_code")
        labels[key] = ibis.memtable(
            pd.DataFrame({f"_{key}_lid": np.arange(len(uniques)), f"_{key}_label": uniques})
        )
        group[key] = f"_{key}_id"
    keys = ["year", group["region"], group["industry"]]
    if only is not None:
        t = t.semi_join(ibis.memtable(only[keys].reset_index(drop=True)), keys)
    # the unit of the dominance rule: the firm, or the establishment when the firm is unknown
    units: dict[str, Any] = {}
    if "firm_id" in t.columns:
        units["_firm"] = t.firm_id
        if "establishment_id" in t.columns and not every_firm:
            units["_alone"] = t.firm_id.isnull().ifelse(
                t.establishment_id, ibis.null(t.establishment_id.type())
            )
    t = t.mutate(**units)
    if "establishment_id" in t.columns and not unique_establishments:
        sums: dict[str, Any] = {"employees": t.employees.sum()}
        if "payroll" in t.columns:
            sums["payroll"] = t.payroll.sum()
        t = t.group_by([*keys, *units, "establishment_id"]).aggregate(**sums)
    return t, keys, labels


def _labelled(cells: ir.Table, labels: Mapping[str, ir.Table]) -> ir.Table:
    """Cells with the ancestor codes beside their integer ids."""
    for key, table in labels.items():
        cells = cells.left_join(table, cells[f"_{key}_id"] == table[f"_{key}_lid"])
        cells = cells.mutate(**{key: cells[f"_{key}_label"]})
    order = ["year", "region", "industry"]
    ids = [f"_{key}_id" for key in labels]
    rest = [c for c in cells.columns if c not in order and (c[0] != "_" or c.startswith("_vote"))]
    return cells.select(*order, *ids, *rest)


def ancestor_map(
    codes: pd.DataFrame,
    *,
    dimension: str,
    level: int,
    scheme: str | None,
) -> pd.DataFrame:
    """``code, ancestor`` for every code of ``codes`` (columns ``code, file``: where each was
    first seen) at ``level`` of the hierarchy ``scheme`` (``nuts``, ``nace``, ``naics`` or a
    code list file; industries default to naics for numeric codes, else nace).

    Raises :class:`~clusteratlas.sources.base.InputError` naming the codes that have no
    ancestor at that level, and a file each comes from; nothing is dropped silently.
    """
    values = [str(c) for c in codes["code"]]
    if scheme is None:
        scheme = (
            "nuts"
            if dimension == "region"
            else ("naics" if all(c.isdigit() for c in values) else "nace")
        )
    hierarchy = hierarchy_for(scheme, values)
    ancestors = {c: hierarchy.ancestor(c, level) for c in values}
    unknown = codes[[ancestors[c] is None for c in values]]
    if len(unknown):
        shown = "; ".join(
            f"{row.code!r} ({row.file})" for row in unknown.head(MAX_SHOWN).itertuples()
        )
        more = f" and {len(unknown) - MAX_SHOWN} more" if len(unknown) > MAX_SHOWN else ""
        raise InputError(
            str(unknown["file"].iloc[0]),
            message=(
                f"{len(unknown)} {dimension} codes are not in the {hierarchy.name} hierarchy "
                f"or have no ancestor at level {level} (column {dimension!r}): {shown}{more}"
            ),
        )
    return pd.DataFrame({"code": values, "ancestor": [ancestors[c] for c in values]})


# ---------------------------------------------------------------------------- the whole job


@dataclass(frozen=True)
class AggregateResult:
    """The output panel (long frame, withheld values empty) and what was done to get it."""

    panel: pd.DataFrame
    rows: int
    cells: int
    primary: int
    complementary: int
    #: primary cells the margins reveal whatever is withheld (see confidentiality)
    unprotected: pd.DataFrame = field(repr=False)
    engine: str = "duckdb"

    def describe(self) -> str:
        text = (
            f"{self.rows:,} rows → {self.cells:,} cells; withheld {self.primary:,} sensitive "
            f"and {self.complementary:,} complementary cells"
        )
        if len(self.unprotected):
            text += (
                f"; {len(self.unprotected):,} sensitive cells are revealed by the region or "
                "industry totals whatever is withheld (e.g. the only cell of a region): "
                + ", ".join(
                    f"{r.year} {r.region} {r.industry}"
                    for r in self.unprotected.head(MAX_SHOWN).itertuples()
                )
            )
        return text


def aggregate(
    inputs: Sequence[str | Path],
    *,
    engine: str = "duckdb",
    column_map: str | Mapping[str, str] | None = None,
    region_level: int | None = None,
    region_codes: str = "nuts",
    industry_level: int | None = None,
    industry_codes: str | None = None,
    min_establishments: int = 0,
    dominance_share: float | None = None,
    memory_limit: str | None = None,
    temp_directory: str | Path | None = None,
    threads: int | None = None,
    spark_master: str | None = None,
    spark_session: Any = None,
    on_step: Callable[[str], None] | None = None,
) -> AggregateResult:
    """Read microdata files, aggregate them on ``engine`` and apply confidentiality rules.

    Returns the long panel (``year, region, industry, employment, establishments[, payroll],
    flag``) that :func:`~clusteratlas.sources.open_panel` reads: withheld cells have the flag
    ``confidential`` and empty values. ``on_step`` is called with a short description of each
    step as it starts (for a progress display).
    """
    step = on_step or (lambda _: None)
    if min_establishments < 0:
        raise ValueError(f"--min-establishments must be ≥ 0, got {min_establishments}")
    if dominance_share is not None and not 0 < dominance_share <= 1:
        raise ValueError(f"--dominance-share must be in (0, 1], got {dominance_share}")
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    column_map = parse_column_map(column_map)
    paths = expand_inputs(inputs)
    columns = _columns_of(paths, column_map)
    with connect(
        engine,
        memory_limit=memory_limit,
        temp_directory=temp_directory,
        threads=threads,
        spark_master=spark_master,
        spark_session=spark_session,
    ) as con:
        table = read_microdata(con, paths, columns)
        # checked first, before any aggregation, in passes over few columns: the invalid
        # rows (one global count; empty codes are seen among the distinct codes, which costs
        # less than testing every row's text), whether every row names its firm, and the codes
        # found (checked against the hierarchies, and numbered even without a roll-up so that
        # the aggregation groups by integers)
        first: dict[str, Any] = {
            "rows": table.count(),
            "invalid": sum(
                c.ifelse(1, 0) for name, c, _ in _checks(table) if name not in CODES
            ).sum(),
        }
        if "firm_id" in table.columns and "establishment_id" in table.columns:
            first["no_firm"] = table.firm_id.isnull().ifelse(1, 0).sum()
        bitmap = engine == "duckdb" and _integer_ids(table)
        ranges = _parquet_ranges(paths, columns) if bitmap else None
        if bitmap:
            first |= _id_summary(table, ranges)
        plural = "s" if len(paths) > 1 else ""
        step(f"checking the rows of {len(paths):,} file{plural}")
        summary = con.execute(table.aggregate(**first)).iloc[0]
        step("collecting the region and industry codes")
        found = {
            key: con.execute(table.select(key).distinct()).rename(columns={key: "code"})
            for key in CODES
        }
        empty = any((f["code"].isna() | (f["code"] == "")).any() for f in found.values())
        if int(summary["invalid"]) or empty:
            checks = sum(c.ifelse(1, 0) for _, c, _ in _checks(table)).sum()
            invalid = int(con.execute(table.aggregate(n=checks))["n"].iloc[0])
            raise _invalid_rows(paths, columns, invalid)
        maps: dict[str, pd.DataFrame | None] = {"region": None, "industry": None}
        for key, level, scheme in (
            ("region", region_level, region_codes),
            ("industry", industry_level, industry_codes),
        ):
            codes = found[key].sort_values("code", ignore_index=True)
            if level is None:
                maps[key] = pd.DataFrame({"code": codes["code"], "ancestor": codes["code"]})
                continue
            try:
                maps[key] = ancestor_map(
                    codes.assign(file=""), dimension=key, level=level, scheme=scheme
                )
            except InputError:  # again, with a file each code comes from (only on error)
                seen = table.group_by(key).aggregate(file=table._file.min())
                codes = con.execute(seen).rename(columns={key: "code"})
                codes = codes.sort_values("code", ignore_index=True)
                ancestor_map(codes, dimension=key, level=level, scheme=scheme)
                raise
        plan = {
            "region_map": maps["region"],
            "industry_map": maps["industry"],
            "every_firm": "no_firm" in summary and int(summary["no_firm"]) == 0,
            "unique_establishments": bitmap and _establishments_unique(con, table, summary, ranges),
        }
        dominance = dominance_share is not None
        step(f"summing {int(summary['rows']):,} rows into cells")
        cells = con.execute(cells_expr(table, **plan, vote_bits=VOTE_BITS if dominance else 0))
        if dominance:
            cells["dominated"] = _dominated(
                con, table, cells, plan, dominance_share, min_establishments, step
            )
    cells = cells.sort_values(["year", "region", "industry"], kind="stable", ignore_index=True)
    cells["year"] = cells["year"].astype(np.int64)
    step(f"withholding confidential cells among {len(cells):,}")
    return _publish(
        cells,
        rows=int(summary["rows"]),
        engine=engine,
        min_establishments=min_establishments,
        dominance_share=dominance_share,
    )


def _integer_ids(table: ir.Table) -> bool:
    return "establishment_id" in table.columns and table.establishment_id.type().is_integer()


def _id_summary(table: ir.Table, ranges: tuple[int, ...] | None) -> dict[str, ir.Value]:
    """What :func:`_establishments_unique` needs from the first pass: the count and range of
    the establishment ids and years, and with ``ranges`` (from the files' statistics) the
    bitmap's count of distinct (year, id) pairs, filled in the same pass."""
    aggs = {
        "est_count": table.establishment_id.count(),
        "est_min": table.establishment_id.min(),
        "est_max": table.establishment_id.max(),
        "year_min": table.year.min(),
        "year_max": table.year.max(),
    }
    distinct = ranges and _distinct_establishments(table, *ranges)
    if distinct is not None:
        aggs["est_distinct"] = distinct
    return aggs


def _establishments_unique(
    con: Any, table: ir.Table, summary: pd.Series, ranges: tuple[int, ...] | None
) -> bool:
    """Whether no establishment id occurs twice in a year and none is empty (DuckDB, integer
    ids): the distinct (year, id) pairs are counted in a bitmap (``bitstring_agg``: ~1 s at
    50 million rows where grouping per establishment takes ~9 s), filled in the first pass when
    the files' statistics gave the ranges (``ranges``: first and last year, smallest and
    largest id), else in a pass of its own."""
    rows = int(summary["rows"])
    if rows == 0 or int(summary["est_count"]) != rows:
        return rows == 0
    found = tuple(int(summary[k]) for k in ("year_min", "year_max", "est_min", "est_max"))
    if "est_distinct" in summary and ranges is not None:
        inside = ranges[0] <= found[0] and found[1] <= ranges[1]
        if inside and ranges[2] <= found[2] and found[3] <= ranges[3]:
            return int(summary["est_distinct"]) == rows
    distinct = _distinct_establishments(table, *found)
    if distinct is None:
        return False
    return int(con.execute(table.aggregate(distinct=distinct))["distinct"].iloc[0]) == rows


def _distinct_establishments(
    table: ir.Table, first_year: int, last_year: int, low: int, high: int
) -> ir.Value | None:
    """The number of distinct (year, establishment id) pairs with the year and id in these
    ranges, counted in a bitmap of one bit per pair; None when it would exceed ``MAX_BITMAP``."""
    import ibis

    span = high - low + 1
    size = span * (last_year - first_year + 1)
    if size <= 0 or size > MAX_BITMAP:
        return None
    bitstring_agg, bit_count = _bitmap_functions()
    position = (table.year - first_year) * span + (table.establishment_id.cast("int64") - low)
    inside = (position >= 0) & (position < size)
    return bit_count(bitstring_agg(inside.ifelse(position, ibis.null("int64")), 0, size - 1))


@functools.cache
def _bitmap_functions() -> tuple[Any, Any]:
    """DuckDB's ``bitstring_agg`` and ``bit_count`` as ibis functions."""
    import ibis

    @ibis.udf.agg.builtin
    def bitstring_agg(value: int, low: int, high: int) -> str:  # a BIT string in DuckDB
        ...

    @ibis.udf.scalar.builtin
    def bit_count(bits: str) -> int: ...

    return bitstring_agg, bit_count


def _parquet_ranges(
    paths: Sequence[Path], columns: Mapping[Path, Mapping[str, str]]
) -> tuple[int, int, int, int] | None:
    """First and last ``year``, smallest and largest ``establishment_id`` of Parquet files,
    from their statistics (no pass over the rows); None when a file is not Parquet or a row
    group lacks integer statistics of these columns."""
    bounds: dict[str, list[int]] = {}
    for path in paths:
        if _kind(path) != "parquet":
            return None
        meta = _parquet_footer(path)
        index = {meta.schema.column(i).path.strip().lower(): i for i in range(meta.num_columns)}
        for ours in ("year", "establishment_id"):
            column = index.get(columns[path][ours])
            if column is None:
                return None
            for group in range(meta.num_row_groups):
                if meta.row_group(group).num_rows == 0:
                    continue
                stats = meta.row_group(group).column(column).statistics
                if stats is None or not stats.has_min_max:
                    return None
                low, high = stats.min, stats.max
                if not isinstance(low, int) or not isinstance(high, int):
                    return None
                seen = bounds.setdefault(ours, [low, high])
                seen[0], seen[1] = min(seen[0], low), max(seen[1], high)
    if set(bounds) != {"year", "establishment_id"}:
        return None
    return (*bounds["year"], *bounds["establishment_id"])


def _dominated(
    con: Any,
    table: ir.Table,
    cells: pd.DataFrame,
    plan: Mapping[str, Any],
    share: float,
    min_establishments: int,
    step: Callable[[str], None],
) -> np.ndarray:
    """Which ``cells`` have a firm with more than ``share`` of their employment: settled by
    :func:`dominance_bounds` where they can, by :func:`top_firms_expr` for the rest (except
    cells with fewer than ``min_establishments``, withheld whatever their firms)."""
    limit = share * cells["employment"].to_numpy(np.float64)
    lower, upper = dominance_bounds(cells, firms="firm_id" in table.columns)
    dominated = lower > limit
    undecided = (~dominated & (upper > limit)) & (
        cells["establishments"].to_numpy(np.float64) >= min_establishments
    )
    if undecided.any():
        keys = [c for c in ("year", "_region_id", "_industry_id") if c in cells]
        wanted = cells.loc[undecided, keys]
        step(f"grouping the firms of {len(wanted):,} cells the bounds leave undecided")
        top = con.execute(top_firms_expr(table, wanted, **plan))
        top = wanted.merge(top, on=keys, how="left")["top_firm_employment"].to_numpy(np.float64)
        dominated[undecided] = top > limit[undecided]
    return dominated


def _publish(
    cells: pd.DataFrame,
    *,
    rows: int,
    engine: str,
    min_establishments: int,
    dominance_share: float | None,
) -> AggregateResult:
    result = suppress(cells, min_establishments=min_establishments, dominance_share=dominance_share)
    measures = [m for m in ("employment", "establishments", "payroll") if m in cells]
    panel = cells[["year", "region", "industry", *measures]].copy()
    for m in measures:
        panel[m] = panel[m].astype(np.float64)
        panel.loc[result.withheld, m] = np.nan
    panel["flag"] = np.where(result.withheld, CONFIDENTIAL, "")
    return AggregateResult(
        panel=panel,
        rows=rows,
        cells=len(cells),
        primary=result.primary,
        complementary=result.complementary,
        unprotected=cells.iloc[result.unprotected][["year", "region", "industry"]],
        engine=engine,
    )


def _where(path: Path, row: int) -> str:
    """``line N`` of a text file (the header is line 1), ``row N`` of a Parquet file."""
    return f"line {row + 2}" if _kind(path) == "csv" else f"row {row + 1}"


def _checks(t: ir.Table) -> list[tuple[str, Any, str]]:
    """(our column, condition, what is wrong) of the rows :func:`cells_expr` counts invalid."""
    checks = [
        ("year", t.year.isnull(), "empty or not a whole number"),
        ("region", t.region.isnull() | (t.region == ""), "empty code"),
        ("industry", t.industry.isnull() | (t.industry == ""), "empty code"),
        ("employees", t.employees.isnull(), "empty or not a number"),
        ("employees", t.employees < 0, "negative value"),
    ]
    if "payroll" in t.columns:
        checks.append(("payroll", t.payroll < 0, "negative value"))
    return checks


def _invalid_rows(
    paths: Sequence[Path], columns: Mapping[Path, Mapping[str, str]], total: int
) -> InputError:
    """Where the invalid rows are: file, column, how many, and the first one's place and value
    (error path, with DuckDB whatever the engine: one pass over every file to find the files,
    then one over each such file on its own, so that its rows keep their order)."""
    import ibis

    con = ibis.duckdb.connect()
    lines = []
    try:
        t = read_microdata(con, paths, columns)
        counts = {f"n{k}": c.ifelse(1, 0).sum() for k, (_, c, _) in enumerate(_checks(t))}
        per_file = con.execute(t.group_by("_file").aggregate(**counts))
        bad_files = set(per_file.loc[per_file.drop(columns="_file").sum(axis=1) > 0, "_file"])
        for path in paths:
            if str(path) not in bad_files:
                continue
            t = read_microdata(con, [path], columns, raw=True)
            checks = _checks(t)
            aggs: dict[str, Any] = {}
            for k, (name, condition, _) in enumerate(checks):
                aggs[f"n{k}"] = condition.ifelse(1, 0).sum()
                aggs[f"first{k}"] = t._row.min(where=condition)
                aggs[f"example{k}"] = t[f"_raw_{name}"].argmin(t._row, where=condition)
            found = con.execute(t.aggregate(**aggs)).iloc[0]
            for k, (name, _, what) in enumerate(checks):
                n = int(found[f"n{k}"])
                if not n:
                    continue
                theirs = columns[path][name]
                label = f"{theirs!r}" + (f" (our {name!r})" if theirs != name else "")
                example = found[f"example{k}"]
                value = "empty" if example is None or pd.isna(example) else repr(example)
                where = _where(path, int(found[f"first{k}"]))
                first = f"{where}: {value}" if n == 1 else f"the first at {where}: {value}"
                plural = "" if n == 1 else "s"
                lines.append(f"{path}, column {label}: {n:,} row{plural} {what} ({first})")
    finally:
        con.disconnect()
    where = lines[0].split(",")[0] if lines else str(paths[0])
    return InputError(
        where, message=f"{total:,} invalid rows, nothing written:\n" + "\n".join(lines)
    )
