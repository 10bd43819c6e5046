"""Long tables in CSV or Parquet:
``year,region,industry,employment[,establishments,payroll,flag]``."""

from __future__ import annotations

import csv
import gzip
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from clusteratlas.observatory.definitions import ClusterDefinitions, DefinitionsError
from clusteratlas.observatory.hierarchy import Hierarchy
from clusteratlas.observatory.panel import ExtraColumnsWarning, Panel, PanelError
from clusteratlas.sources.base import InputError, RowLocator

__all__ = ["LongTableSource", "read_definitions", "read_table"]

CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    return None


class ParquetRows:
    """Parquet rows are numbered from 1."""

    unit = "row"

    def __call__(self, row: int) -> int:
        return row + 1


class TextLines:
    """Line numbers of the records of a CSV/TSV file, found only when a message needs them.

    Blank lines (which the reader skips) and line breaks inside quoted values are counted, so
    the number is the line where the record starts in the file.
    """

    unit = "line"

    def __init__(self, path: Path, sep: str) -> None:
        self.path, self.sep = path, sep
        self._starts: list[int] | None = None

    def __call__(self, row: int) -> int:
        if self._starts is None:
            self._starts = self._scan()
        # records after the header; fall back to the simple count if the scan was short
        return self._starts[row + 1] if row + 1 < len(self._starts) else row + 2

    def _scan(self) -> list[int]:
        opener = gzip.open if self.path.name.lower().endswith(".gz") else open
        starts: list[int] = []
        with opener(self.path, "rt", encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, delimiter=self.sep)
            previous_end = 0
            for record in reader:
                if record:  # the reader skips blank lines too
                    starts.append(previous_end + 1)
                previous_end = reader.line_num
        return starts


def read_table(path: str | Path) -> tuple[pd.DataFrame, ParquetRows | TextLines]:
    """Read a CSV/TSV/Parquet file with every column as text (Parquet keeps its types).

    Returns the frame and a locator that turns a 0-based frame row into the line (text) or
    1-based row (Parquet) of the file, for error messages.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, message=f"{path}: no such file")
    kind = _kind(path)
    if kind is None:
        raise InputError(path, message=f"{path}: unknown file type (use .csv, .tsv or .parquet)")
    sep = "\t" if ".tsv" in path.name.lower() else ","
    try:
        if kind == "parquet":
            frame = pd.read_parquet(path)
            locate: ParquetRows | TextLines = ParquetRows()
        else:
            frame = pd.read_csv(
                path,
                sep=sep,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skipinitialspace=True,
                encoding="utf-8-sig",
            )
            locate = TextLines(path, sep)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise InputError(path, message=f"{path}: cannot be read as {kind}: {exc}") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame, locate


class LongTableSource:
    """The project's own long-table contract, in CSV (comma or tab) or Parquet."""

    name: ClassVar[str] = "table"
    description: ClassVar[str] = (
        "Long table: year, region, industry, employment [, establishments, payroll, flag]"
    )
    url: ClassVar[str] = "docs/data-contract.md"

    def guess_can_open(self, path: str | Path) -> bool:
        """Any CSV, TSV or Parquet file: the long table is the fallback layout, tried after the
        readers of official layouts (see :func:`clusteratlas.sources.base.open_panel`), and it
        names exactly what is missing when a file is not one."""
        return _kind(Path(path)) is not None

    def open(
        self,
        path: str | Path,
        *,
        region_hierarchy: Hierarchy | None = None,
        industry_hierarchy: Hierarchy | None = None,
        **options: Any,
    ) -> Panel:
        if options:
            raise ValueError(f"the table reader takes no options (got {', '.join(options)})")
        frame, locate = read_table(path)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ExtraColumnsWarning)
            try:
                panel = Panel.from_frame(
                    frame, region_hierarchy=region_hierarchy, industry_hierarchy=industry_hierarchy
                )
            except PanelError as err:
                raise InputError.from_panel_error(path, err, locate) from None
        for w in caught:
            warnings.warn(f"{path}: {w.message}", w.category, stacklevel=2)
        return panel


#: Columns of the US Cluster Mapping Project's benchmark definitions file
#: (``cluster_code, cluster_key, cluster_name, short_name, traded_local, naics_vintage, naics,
#: naics_label``), read as it is published.
CMP_COLUMNS = {"cluster_code", "cluster_name", "traded_local", "naics_vintage", "naics"}


def read_definitions(path: str | Path, *, vintage: str | None = None) -> ClusterDefinitions:
    """Read cluster definitions: ``industry,cluster,cluster_name,type`` (CSV or Parquet).

    The US Cluster Mapping Project's benchmark file (Delgado, Porter & Stern 2016) is also read
    as published: its ``naics``, ``cluster_code``, ``cluster_name`` and ``traded_local``
    columns, for one NAICS edition (``vintage``; by default the newest in the file).
    """
    frame, locate = read_table(path)
    if set(frame.columns) >= CMP_COLUMNS:
        vintages = sorted(frame["naics_vintage"].str.strip().unique())
        chosen = vintage if vintage is not None else vintages[-1]
        if chosen not in vintages:
            raise InputError(
                path,
                message=(
                    f"{path}: NAICS vintage {chosen!r} is not in the file (it has "
                    f"{', '.join(vintages)})"
                ),
            )
        keep = frame["naics_vintage"].str.strip() == chosen
        kept_rows = np.flatnonzero(keep.to_numpy())
        frame = pd.DataFrame(
            {
                "industry": frame.loc[keep, "naics"],
                "cluster": frame.loc[keep, "cluster_code"],
                "cluster_name": frame.loc[keep, "cluster_name"],
                "type": frame.loc[keep, "traded_local"].str.strip().str.lower(),
            }
        ).reset_index(drop=True)
        try:
            return ClusterDefinitions.from_frame(frame)
        except DefinitionsError as err:
            raise InputError.from_panel_error(path, err, _Subset(locate, kept_rows)) from None
    try:
        return ClusterDefinitions.from_frame(frame)
    except DefinitionsError as err:
        raise InputError.from_panel_error(path, err, locate) from None


class _Subset:
    """Locates rows of a frame made of some rows (``rows``) of the file's table."""

    def __init__(self, locate: RowLocator, rows: np.ndarray) -> None:
        self.locate, self.rows, self.unit = locate, rows, locate.unit

    def __call__(self, row: int) -> int:
        return self.locate(int(self.rows[row]))
