"""Writing result tables: the format follows the file extension, and a file is either written
whole or not at all (written to a temporary file beside it, then renamed)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

__all__ = ["FORMATS", "OutputError", "check_output", "write_table", "write_tables"]

FORMATS = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".json": "json",
    ".duckdb": "duckdb",
}


class OutputError(ValueError):
    """The output file name or place is not usable."""


def _format(path: Path) -> str:
    name = path.name.lower()
    for suffix, fmt in sorted(FORMATS.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(suffix):
            return fmt
    raise OutputError(
        f"{path}: cannot tell the output format from the extension; use one of {', '.join(FORMATS)}"
    )


def check_output(path: str | Path) -> str:
    """Fail early (before any work) when the output cannot be written; returns the format."""
    path = Path(path)
    fmt = _format(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{path}: the folder {parent} is not writable")
    if path.is_dir():
        raise OutputError(f"{path} is a folder, not a file")
    return fmt


def write_table(frame: pd.DataFrame, path: str | Path, *, table: str = "result") -> None:
    """Write ``frame`` to ``path`` atomically (``table`` names the table in a DuckDB file)."""
    if _format(Path(path)) == "duckdb":
        write_tables({table: frame}, path)
    else:
        _write_file(frame, Path(path))


def _write_file(frame: pd.DataFrame, path: Path) -> None:
    fmt = check_output(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
    try:
        if fmt in ("csv", "tsv"):
            frame.to_csv(
                tmp,
                index=False,
                sep="\t" if fmt == "tsv" else ",",
                compression="gzip" if path.name.lower().endswith(".gz") else None,
            )
        elif fmt == "parquet":
            frame.to_parquet(tmp, index=False)
        elif fmt == "json":
            _write_json(frame, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_json(frame: pd.DataFrame, path: str) -> None:
    """An array of records; floats written in full (shortest round-trip) precision and
    missing values as ``null`` (pandas' own writer keeps at most 15 digits)."""
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(records, f, ensure_ascii=False, indent=1, default=_json_default)


def _json_default(value: object) -> object:
    if hasattr(value, "item"):
        return value.item()  # numpy scalars
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def write_tables(tables: Mapping[str, pd.DataFrame], path: str | Path) -> None:
    """Write several named tables into one DuckDB file, replacing them in one transaction."""
    path = Path(path)
    if check_output(path) != "duckdb":
        raise OutputError(f"{path}: several tables can only be written to a .duckdb file")
    try:
        import duckdb  # optional dependency
    except ImportError:  # pragma: no cover - depends on the installation
        raise OutputError(
            "writing .duckdb files needs `pip install clusteratlas[duckdb]`"
        ) from None
    con = duckdb.connect(str(path))
    try:
        con.execute("BEGIN TRANSACTION")
        for name, frame in tables.items():
            con.register("_incoming", frame)
            con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _incoming')
            con.unregister("_incoming")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()
