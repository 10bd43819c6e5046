"""Downloads of official files into a local cache, with a manifest of what was fetched.

Files go to :func:`cache_dir` (``$CLUSTERATLAS_CACHE``, default ``~/.cache/clusteratlas``).
:func:`fetch_url` streams to a temporary file and renames it into place only when complete, so
an interrupted download leaves nothing behind; it records the source address, UTC download time,
size and SHA-256 of each file in ``manifest.json`` at the top of the cache. With
``offline=True`` nothing is downloaded: the cached file is returned or :class:`FetchError` says
it is not cached.

Downloads use only the standard library (``urllib.request``). The Census Bureau publishes the
NAICS code lists and concordances only as Excel workbooks, and Eurostat its NUTS change tables:
converting them needs ``openpyxl`` (``.xlsx``) and, for the 2012 NAICS code list, ``xlrd``
(``.xls``), imported when needed.
``base_url=`` or the environment variable ``CLUSTERATLAS_FETCH_BASE`` replaces the scheme and
host of every official address (the path is kept), which points the functions at a mirror or,
in tests, at a local server.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clusteratlas.sources.classifications import KINDS, default_cache_dir

__all__ = [
    "CBP_LEVELS",
    "CLASSIFICATION_SOURCES",
    "EUROSTAT_FORMATS",
    "NUTS_CHANGE_SOURCES",
    "NUTS_GEOMETRY_RESOLUTIONS",
    "NUTS_GEOMETRY_YEARS",
    "WORKBOOK_SOURCES",
    "FetchError",
    "MissingReaderError",
    "cache_dir",
    "cbp_url",
    "eurostat_url",
    "fetch_cbp",
    "fetch_classifications",
    "fetch_eurostat",
    "fetch_nuts_geometry",
    "fetch_url",
    "nuts_geometry_url",
    "read_manifest",
]

Progress = Callable[[int, int], None]

EUROSTAT_API = "https://ec.europa.eu/eurostat/api/dissemination/sdmx/2.1/data"
#: our format name -> (the API's ``format`` value, cached file suffix)
EUROSTAT_FORMATS = {"tsv": ("TSV", ".tsv.gz"), "sdmx-csv": ("SDMX-CSV", ".sdmx.csv.gz")}
CBP_BASE = "https://www2.census.gov/programs-surveys/cbp/datasets"
#: level -> file suffix of the CBP archives (``cbp16co.zip``, ``cbp16st.zip``, ``cbp16msa.zip``)
CBP_LEVELS = {"county": "co", "state": "st", "msa": "msa"}
GISCO_NUTS = "https://gisco-services.ec.europa.eu/distribution/v2/nuts/csv/NUTS_AT_{year}.csv"
#: NUTS boundaries (GeoJSON, WGS 84) of GISCO; its licence asks for the attribution
#: ``store.GISCO_ATTRIBUTION`` and forbids bundling them, so users fetch them
GISCO_NUTS_GEOMETRY = (
    "https://gisco-services.ec.europa.eu/distribution/v2/nuts/geojson/"
    "NUTS_RG_{resolution}_{year}_4326_LEVL_{level}.geojson"
)
NUTS_GEOMETRY_YEARS = (2003, 2006, 2010, 2013, 2016, 2021, 2024)
#: map scales 1:60 million … 1:1 million
NUTS_GEOMETRY_RESOLUTIONS = ("60M", "20M", "10M", "03M", "01M")
CENSUS_COUNTIES = "https://www2.census.gov/geo/docs/reference/codes2020/national_county2020.txt"
CENSUS_STATES = "https://www2.census.gov/geo/docs/reference/state.txt"

#: code-list files that have an official source this module can convert: file -> source address
CLASSIFICATION_SOURCES = {
    "nuts_2016.csv": GISCO_NUTS.format(year=2016),
    "nuts_2021.csv": GISCO_NUTS.format(year=2021),
    "nuts_2024.csv": GISCO_NUTS.format(year=2024),
    "us_states.csv": CENSUS_STATES,
    "us_counties.csv": CENSUS_COUNTIES,
}
CENSUS_NAICS = "https://www.census.gov/naics"
#: NAICS files the Census Bureau publishes only as workbooks: file -> source address. These are
#: fetched on a best-effort basis: one that cannot be downloaded is skipped with a logged warning.
WORKBOOK_SOURCES = {
    "naics_2012.csv": f"{CENSUS_NAICS}/2012NAICS/2-digit_2012_Codes.xls",
    "naics_2017.csv": f"{CENSUS_NAICS}/2017NAICS/2-6%20digit_2017_Codes.xlsx",
    "naics_2012_2017.csv": f"{CENSUS_NAICS}/concordances/2012_to_2017_NAICS.xlsx",
    "naics_2017_2022.csv": f"{CENSUS_NAICS}/concordances/2017_to_2022_NAICS.xlsx",
}
EUROSTAT_NUTS_HISTORY = "https://ec.europa.eu/eurostat/documents/345175/629341"
#: Eurostat's NUTS change tables (workbooks on https://ec.europa.eu/eurostat/web/nuts/history):
#: file -> source address. Fetched on a best-effort basis, like :data:`WORKBOOK_SOURCES`.
NUTS_CHANGE_SOURCES = {
    "nuts_2016_2021.csv": f"{EUROSTAT_NUTS_HISTORY}/NUTS2016-NUTS2021.xlsx",
    "nuts_2021_2024.csv": f"{EUROSTAT_NUTS_HISTORY}/NUTS2021-NUTS2024.xlsx",
}
#: file -> (the sheet that lists every region with its old and new code, old year, new year)
NUTS_CHANGE_SHEETS = {
    "nuts_2016_2021.csv": ("Changes detailed NUTS 2016-2021", "2016", "2021"),
    "nuts_2021_2024.csv": ("NUTS2021- NUTS2024", "2021", "2024"),
}
#: every file ``fetch classifications --from`` copies (code lists and crosswalks)
CLASSIFICATION_FILES = tuple(
    sorted(
        {f for versions in KINDS.values() for f in versions.values()}
        | {"naics_2012_2017.csv", "naics_2017_2022.csv", "nace_rev2_to_rev2_1.csv"}
        | {"nuts_2016_2021.csv", "nuts_2021_2024.csv"}
    )
)
CHUNK = 1 << 16
TIMEOUT = 60
USER_AGENT = "clusteratlas (+https://pypi.org/project/clusteratlas/)"
#: how many rows at the top of a workbook are searched for its header row
HEADER_SCAN = 10

_log = logging.getLogger(__name__)


class FetchError(Exception):
    """A download failed, or an offline request found nothing in the cache."""


class MissingReaderError(FetchError):
    """A workbook cannot be read because the package that reads its format is not installed."""


class _UnavailableError(FetchError):
    """An official workbook could not be downloaded (or is not cached offline)."""


def cache_dir() -> Path:
    """The cache folder: ``$CLUSTERATLAS_CACHE``, else ``~/.cache/clusteratlas``."""
    return default_cache_dir()


def _rebase(url: str, base_url: str | None) -> str:
    base = base_url if base_url is not None else os.environ.get("CLUSTERATLAS_FETCH_BASE", "")
    base = base.strip().rstrip("/")
    if not base:
        return url
    parts = urllib.parse.urlsplit(url)
    return base + parts.path + (f"?{parts.query}" if parts.query else "")


# ---------------------------------------------------------------------- manifest
def _manifest_path(root: Path) -> Path:
    return root / "manifest.json"


def read_manifest(root: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """``{cached file (relative to the cache): {url, downloaded, size, sha256}}``."""
    path = _manifest_path(Path(root) if root is not None else cache_dir())
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data.get("files", {}) if isinstance(data, dict) else {}


def _record(root: Path, key: str, entry: dict[str, Any]) -> None:
    files = read_manifest(root)
    files[key] = entry
    payload = {"version": 1, "files": dict(sorted(files.items()))}
    root.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".manifest-", dir=root)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=2, ensure_ascii=False)
            f.write("\n")
        os.replace(tmp, _manifest_path(root))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _key(dest: Path, root: Path) -> str:
    try:
        return dest.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(dest.resolve())


# ---------------------------------------------------------------------- download
def fetch_url(
    url: str,
    dest: str | Path,
    *,
    progress: Progress | None = None,
    offline: bool = False,
    refresh: bool = False,
    root: str | Path | None = None,
) -> Path:
    """Download ``url`` to ``dest`` (relative paths are inside the cache) and return the path.

    A file already cached is returned without a download unless ``refresh``; ``offline`` never
    downloads and raises :class:`FetchError` when the file is not cached. ``progress`` is called
    with ``(bytes done, bytes expected)`` (expected 0 when the server does not say). The manifest
    of ``root`` (default: the cache) records the address, UTC time, size and SHA-256.
    """
    base = Path(root) if root is not None else cache_dir()
    target = Path(dest)
    if not target.is_absolute():
        target = base / target
    if target.is_file() and not refresh:
        return target
    if offline:
        raise FetchError(
            f"{target} is not cached and --offline forbids downloading it (from {url}); "
            "run the same command without --offline on a connected machine first"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    digest = hashlib.sha256()
    done = 0
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(request, timeout=TIMEOUT)  # noqa: S310
            except urllib.error.HTTPError as exc:
                hint = " (no such dataset, year or file?)" if exc.code == 404 else ""
                raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}{hint}") from None
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise FetchError(f"{url}: cannot connect ({reason})") from None
            with response:
                total = int(response.headers.get("Content-Length") or 0)
                if progress:
                    progress(0, total)
                while True:
                    try:
                        chunk = response.read(CHUNK)
                    except (OSError, ValueError) as exc:  # http.client.IncompleteRead is OSError
                        raise FetchError(f"{url}: download interrupted ({exc!r})") from None
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
            if total and done != total:
                raise FetchError(f"{url}: download interrupted after {done} of {total} bytes")
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _record(
        base,
        _key(target, base),
        {
            "url": url,
            "downloaded": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "size": done,
            "sha256": digest.hexdigest(),
        },
    )
    return target


# ---------------------------------------------------------------------- official sources
def eurostat_url(dataset: str, fmt: str = "tsv", *, base_url: str | None = None) -> str:
    """The Eurostat SDMX 2.1 API address of a whole dataset, gzip-compressed."""
    if fmt not in EUROSTAT_FORMATS:
        raise ValueError(f"unknown Eurostat format {fmt!r}; choose {', '.join(EUROSTAT_FORMATS)}")
    code = dataset.strip()
    if not code or not all(c.isalnum() or c in "_-$" for c in code):
        raise ValueError(f"not a Eurostat dataset code: {dataset!r} (e.g. sbs_r_nuts2021)")
    url = f"{EUROSTAT_API}/{code}?format={EUROSTAT_FORMATS[fmt][0]}&compressed=true"
    return _rebase(url, base_url)


def fetch_eurostat(
    dataset: str,
    *,
    fmt: str = "tsv",
    offline: bool = False,
    refresh: bool = False,
    progress: Progress | None = None,
    base_url: str | None = None,
) -> Path:
    """A whole Eurostat dataset (``fmt`` ``tsv`` or ``sdmx-csv``), gzip-compressed, cached as
    ``eurostat/<dataset><suffix>``. Eurostat updates datasets in place: ``refresh`` re-downloads."""
    url = eurostat_url(dataset, fmt, base_url=base_url)
    name = dataset.strip().lower() + EUROSTAT_FORMATS[fmt][1]
    return fetch_url(
        url, Path("eurostat") / name, progress=progress, offline=offline, refresh=refresh
    )


def cbp_url(year: int, level: str = "county", *, base_url: str | None = None) -> str:
    """The Census County Business Patterns archive of a year and level, e.g.
    ``…/cbp/datasets/2016/cbp16co.zip``."""
    if level not in CBP_LEVELS:
        raise ValueError(f"unknown CBP level {level!r}; choose {', '.join(CBP_LEVELS)}")
    if not 1986 <= int(year) <= 2100:
        raise ValueError(f"no County Business Patterns for {year}")
    name = f"cbp{int(year) % 100:02d}{CBP_LEVELS[level]}.zip"
    return _rebase(f"{CBP_BASE}/{int(year)}/{name}", base_url)


def fetch_cbp(
    year: int,
    level: str = "county",
    *,
    offline: bool = False,
    refresh: bool = False,
    progress: Progress | None = None,
    base_url: str | None = None,
) -> Path:
    """A County Business Patterns archive (county, state or MSA), cached as ``cbp/<name>.zip``."""
    url = cbp_url(year, level, base_url=base_url)
    name = url.rsplit("/", 1)[-1]
    return fetch_url(url, Path("cbp") / name, progress=progress, offline=offline, refresh=refresh)


def nuts_geometry_url(
    year: int, resolution: str = "20M", level: int = 2, *, base_url: str | None = None
) -> str:
    """The GISCO address of the NUTS regions of one version, scale and level as GeoJSON, e.g.
    ``…/nuts/geojson/NUTS_RG_20M_2021_4326_LEVL_2.geojson``."""
    if int(year) not in NUTS_GEOMETRY_YEARS:
        raise ValueError(
            f"no NUTS version {year}; choose {', '.join(map(str, NUTS_GEOMETRY_YEARS))}"
        )
    if resolution.upper() not in NUTS_GEOMETRY_RESOLUTIONS:
        raise ValueError(
            f"unknown resolution {resolution!r}; choose {', '.join(NUTS_GEOMETRY_RESOLUTIONS)}"
        )
    if int(level) not in (0, 1, 2, 3):
        raise ValueError(f"NUTS level {level} does not exist; choose 0, 1, 2 or 3")
    url = GISCO_NUTS_GEOMETRY.format(
        resolution=resolution.upper(), year=int(year), level=int(level)
    )
    return _rebase(url, base_url)


def fetch_nuts_geometry(
    year: int,
    resolution: str = "20M",
    level: int = 2,
    *,
    offline: bool = False,
    refresh: bool = False,
    progress: Progress | None = None,
    base_url: str | None = None,
) -> Path:
    """NUTS boundaries from GISCO, cached as ``gisco/<file name>.geojson``."""
    url = nuts_geometry_url(year, resolution, level, base_url=base_url)
    name = url.rsplit("/", 1)[-1]
    return fetch_url(url, Path("gisco") / name, progress=progress, offline=offline, refresh=refresh)


# ---------------------------------------------------------------------- code lists
def fetch_classifications(
    *,
    source: str | Path | None = None,
    offline: bool = False,
    refresh: bool = False,
    progress: Progress | None = None,
    base_url: str | None = None,
) -> dict[str, Path]:
    """Fill ``<cache>/classifications`` with code-list files in the layout
    :func:`~clusteratlas.sources.classifications.load_code_list` reads.

    Without ``source``: downloads the official files into ``classifications/raw`` and converts
    them: NUTS 2016, 2021 and 2024 from GISCO and the US states and 2020 counties from the Census
    Bureau (:data:`CLASSIFICATION_SOURCES`; a failure is an error), then the Census Bureau's NAICS
    2012 and 2017 code lists and the 2012→2017 and 2017→2022 concordances
    (:data:`WORKBOOK_SOURCES`, Excel workbooks), then Eurostat's NUTS 2016→2021 and 2021→2024
    change tables (:data:`NUTS_CHANGE_SOURCES`, workbooks converted to
    ``from_code,to_code,change``). A workbook that cannot be had (HTTP error,
    not cached with ``offline``, or for the 2012 ``.xls`` file no ``xlrd``) is skipped with a
    logged warning, so that the other lists are still fetched; a workbook whose layout is not
    the expected one is an error. NACE has no such download: copy it with ``source``. The
    manifest records each raw file and each converted file (with ``converted_from``).

    With ``source`` (a folder, or an address ending in ``/``): copies every known file found
    there (code lists and crosswalks), e.g. from a folder with the project's shared
    ``data/classifications`` files. Returns ``{file name: cached path}``.
    """
    root = cache_dir() / "classifications"
    root.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    if source is not None:
        return _copy_from(source, root, offline=offline, refresh=refresh, progress=progress)
    for name, official in CLASSIFICATION_SOURCES.items():
        target = _convert_official(
            name,
            official,
            root,
            offline=offline,
            refresh=refresh,
            progress=progress,
            base_url=base_url,
        )
        out[name] = target
    for name, official in {**WORKBOOK_SOURCES, **NUTS_CHANGE_SOURCES}.items():
        try:
            out[name] = _convert_official(
                name,
                official,
                root,
                offline=offline,
                refresh=refresh,
                progress=progress,
                base_url=base_url,
            )
        except (MissingReaderError, _UnavailableError) as exc:
            _log.warning(
                "%s skipped: %s; copy it with `clusteratlas fetch classifications --from DIR`",
                name,
                exc,
            )
    return out


def _convert_official(
    name: str,
    official: str,
    root: Path,
    *,
    offline: bool,
    refresh: bool,
    progress: Progress | None,
    base_url: str | None,
) -> Path:
    """Download ``official`` into ``classifications/raw`` and convert it to ``root/name``."""
    target = root / name
    if target.is_file() and not refresh:
        return target
    raw_name = urllib.parse.unquote(official.rsplit("/", 1)[-1])
    url = _rebase(official, base_url)
    try:
        raw = fetch_url(
            url,
            Path("classifications") / "raw" / raw_name,
            progress=progress,
            offline=offline,
            refresh=refresh,
        )
    except FetchError as exc:
        if name in WORKBOOK_SOURCES or name in NUTS_CHANGE_SOURCES:
            raise _UnavailableError(str(exc)) from None
        raise
    converter = _CONVERTERS.get(name) or _CONVERTERS["nuts"]
    rows = converter(raw)
    _write_csv(target, rows)
    base = cache_dir()
    data = target.read_bytes()
    raw_key = _key(raw, base)
    _record(
        base,
        _key(target, base),
        {
            "url": read_manifest(base).get(raw_key, {}).get("url", url),
            "downloaded": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "converted_from": raw_key,
        },
    )
    return target


def _copy_from(
    source: str | Path,
    root: Path,
    *,
    offline: bool,
    refresh: bool,
    progress: Progress | None,
) -> dict[str, Path]:
    out: dict[str, Path] = {}
    text = str(source)
    if "://" in text:
        base = text if text.endswith("/") else text + "/"
        for name in CLASSIFICATION_FILES:
            try:
                out[name] = fetch_url(
                    base + name,
                    Path("classifications") / name,
                    progress=progress,
                    offline=offline,
                    refresh=refresh,
                )
            except FetchError as exc:
                if "HTTP 404" not in str(exc) and "not cached" not in str(exc):
                    raise
        if not out:
            raise FetchError(f"{source}: none of the code-list files was found there")
        return out
    folder = Path(source)
    if not folder.is_dir():
        raise FetchError(f"{folder}: not a folder of code-list files")
    for name in CLASSIFICATION_FILES:
        src = folder / name
        if not src.is_file():
            continue
        target = root / name
        if not target.is_file() or refresh:
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=root)
            os.close(fd)
            try:
                shutil.copyfile(src, tmp)
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            data = target.read_bytes()
            _record(
                cache_dir(),
                _key(target, cache_dir()),
                {
                    "url": src.resolve().as_uri(),
                    "downloaded": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                },
            )
        out[name] = target
    if not out:
        raise FetchError(
            f"{folder}: none of the code-list files is there "
            f"(expected names such as {', '.join(CLASSIFICATION_FILES[:3])})"
        )
    return out


def _write_csv(target: Path, rows: list[dict[str, str]]) -> None:
    if not rows:
        raise FetchError(f"{target.name}: the downloaded file had no rows")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _records(path: Path, delimiter: str) -> Iterator[dict[str, str]]:
    text = path.read_bytes().decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    for row in reader:
        yield {str(k).strip().upper(): (v or "").strip() for k, v in row.items() if k}


def _nuts_rows(path: Path) -> list[dict[str, str]]:
    """GISCO ``NUTS_AT_<year>.csv`` (``NUTS_ID, LEVL_CODE, CNTR_CODE, NAME_LATN, NUTS_NAME``)."""
    rows = []
    codes = set()
    for rec in _records(path, ","):
        code = rec.get("NUTS_ID", "")
        if not code:
            continue
        if "LEVL_CODE" in rec and rec["LEVL_CODE"] != "":
            level = rec["LEVL_CODE"]
        else:
            level = str(len(code) - 2)
        latn = rec.get("NAME_LATN", "")
        rows.append(
            {
                "code": code,
                "name": rec.get("NUTS_NAME") or latn or code,
                "level": level,
                "parent": code[:-1] if len(code) > 2 else "",
                "country": rec.get("CNTR_CODE") or code[:2],
                "name_latn": latn,
            }
        )
        codes.add(code)
    for row in rows:  # Northern Ireland 2016 (UKN10…): cut-off parents that do not exist
        while row["parent"] and row["parent"] not in codes and len(row["parent"]) > 2:
            candidates = sorted(c for c in codes if c.startswith(row["parent"][:-1]) and
                                len(c) == len(row["parent"]))  # fmt: skip
            row["parent"] = candidates[0] if candidates else row["parent"][:-1]
    rows.sort(key=lambda r: r["code"])
    return rows


def _state_rows(path: Path) -> list[dict[str, str]]:
    """Census ``state.txt`` (``STATE|STUSAB|STATE_NAME|STATENS``)."""
    return [
        {"state_fips": r["STATE"].zfill(2), "state": r.get("STUSAB", ""), "name": r["STATE_NAME"]}
        for r in _records(path, "|")
        if r.get("STATE")
    ]


def _county_rows(path: Path) -> list[dict[str, str]]:
    """Census ``national_county2020.txt`` (``STATE|STATEFP|COUNTYFP|COUNTYNS|COUNTYNAME|…``)."""
    out = []
    for r in _records(path, "|"):
        st, co = r.get("STATEFP", "").zfill(2), r.get("COUNTYFP", "").zfill(3)
        if not r.get("COUNTYFP"):
            continue
        out.append(
            {
                "fips": st + co,
                "state_fips": st,
                "county_fips": co,
                "name": r.get("COUNTYNAME", ""),
                "state": r.get("STATE", ""),
                "class_code": r.get("CLASSFP", ""),
            }
        )
    return out


# ---------------------------------------------------------------------- workbooks
def _sheet_rows(path: Path, sheet: str | None = None) -> list[tuple[object, ...]]:
    """The cell values of one sheet of an ``.xlsx`` (openpyxl) or ``.xls`` (xlrd) file: the first
    one, or the one named ``sheet`` (see :func:`_pick_sheet`)."""
    if path.suffix.lower() == ".xls":
        try:
            import xlrd  # type: ignore[import-untyped]
        except ImportError:
            raise MissingReaderError(
                f"{path.name} is an .xls workbook, which needs the package xlrd "
                "(pip install 'xlrd>=2.0')"
            ) from None
        try:
            book = xlrd.open_workbook(str(path))
            names = book.sheet_names()
            index = 0 if sheet is None else names.index(_pick_sheet(names, sheet, path.name))
            xsheet = book.sheet_by_index(index)
            return [tuple(xsheet.row_values(i)) for i in range(xsheet.nrows)]
        except xlrd.XLRDError as exc:
            raise FetchError(f"{path.name}: not a readable .xls workbook ({exc})") from None
    try:
        import openpyxl
    except ImportError:
        raise FetchError(
            f"reading {path.name} (an Excel workbook) needs the package openpyxl: "
            "pip install 'openpyxl>=3.1', or copy the converted files with "
            "`clusteratlas fetch classifications --from DIR`"
        ) from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a bad file
        raise FetchError(f"{path.name}: not a readable .xlsx workbook ({exc})") from None
    try:
        if sheet is None:
            ws = book.worksheets[0]
        else:
            ws = book[_pick_sheet(book.sheetnames, sheet, path.name)]
        ws.reset_dimensions()  # some writers store a wrong sheet size; read every row
        return [tuple(row) for row in ws.iter_rows(values_only=True)]
    finally:
        book.close()


def _sheet_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower())


def _pick_sheet(names: list[str], wanted: str, file: str) -> str:
    """The sheet called ``wanted``, compared leniently (case, spaces, dashes); else the only
    sheet whose name holds all the numbers of ``wanted`` (e.g. both years of a change table)."""
    for name in names:
        if _sheet_key(name) == _sheet_key(wanted):
            return name
    numbers = re.findall(r"\d+", wanted)
    if numbers:
        found = [n for n in names if all(x in re.findall(r"\d+", n) for x in numbers)]
        if len(found) == 1:
            return found[0]
    raise FetchError(
        f"{file}: no sheet {wanted!r} (its sheets: {', '.join(map(repr, names))}); the official "
        "file's layout may have changed (copy a converted file with "
        "`clusteratlas fetch classifications --from DIR`)"
    )


def _cell(value: object) -> str:
    """A cell as text: whole numbers without ``.0``, line breaks as spaces, stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return re.sub(r"\s*[\r\n]+\s*", " ", text).strip()


def _words(header: str) -> set[str]:
    """The words of a header before any parenthesis, lower case, with letters and digits apart
    (``2017 NAICS US   Code``, ``CODE 2016`` and ``Code2016`` alike)."""
    return set(re.findall(r"[a-z]+|[0-9]+", header.split("(")[0].lower()))


def _find_header(
    rows: list[tuple[object, ...]], wanted: dict[str, str], name: str
) -> tuple[int, dict[str, int]]:
    """The header row among the first rows and ``{our column: its index}``; each wanted label
    matches the first header cell that has all the label's words."""
    best: dict[str, int] = {}
    for i, row in enumerate(rows[:HEADER_SCAN]):
        cells = [_words(_cell(v)) for v in row]
        found: dict[str, int] = {}
        for key, label in wanted.items():
            need = _words(label)
            for j, words in enumerate(cells):
                if need <= words and j not in found.values():
                    found[key] = j
                    break
        if len(found) == len(wanted):
            return i, found
        if len(found) > len(best):
            best = found
    missing = ", ".join(repr(wanted[k]) for k in wanted if k not in best)
    raise FetchError(
        f"{name}: no column {missing} in the first {HEADER_SCAN} rows; the official file's "
        "layout may have changed (copy a converted file with "
        "`clusteratlas fetch classifications --from DIR`)"
    )


_NAICS_CODE = re.compile(r"\d{2,6}|\d{2}-\d{2}")


def _naics_code_rows(path: Path) -> list[dict[str, str]]:
    """A Census "2-6 digit" code file (``Seq. No., <year> NAICS US Code, <year> NAICS US
    Title``): ``code, title, level``, in the file's order. ``level`` is the number of digits; the
    sector ranges ``31-33``, ``44-45`` and ``48-49`` are level 2."""
    rows = _sheet_rows(path)
    head, cols = _find_header(rows, {"code": "NAICS Code", "title": "NAICS Title"}, path.name)
    out = []
    for row in rows[head + 1 :]:
        cells = [_cell(v) for v in row]
        code = cells[cols["code"]] if cols["code"] < len(cells) else ""
        if not _NAICS_CODE.fullmatch(code):
            continue  # blank lines and notes
        title = cells[cols["title"]] if cols["title"] < len(cells) else ""
        level = 2 if "-" in code else len(code)
        out.append({"code": code, "title": title, "level": str(level)})
    return out


def _naics_concordance(source: str, target: str) -> Callable[[Path], list[dict[str, str]]]:
    """A Census concordance ``<from>_to_<to>_NAICS.xlsx`` (two title rows, then ``<from> NAICS
    Code, <from> NAICS Title (and specific piece …), <to> NAICS Code, <to> NAICS Title``):
    ``from_code, to_code, from_title, to_title``, in the file's order."""

    def convert(path: Path) -> list[dict[str, str]]:
        rows = _sheet_rows(path)
        wanted = {
            "from_code": f"{source} NAICS Code",
            "from_title": f"{source} NAICS Title",
            "to_code": f"{target} NAICS Code",
            "to_title": f"{target} NAICS Title",
        }
        head, cols = _find_header(rows, wanted, path.name)
        out = []
        for row in rows[head + 1 :]:
            cells = [_cell(v) for v in row]
            got = {k: cells[j] if j < len(cells) else "" for k, j in cols.items()}
            if not (got["from_code"].isdigit() and got["to_code"].isdigit()):
                continue  # blank lines and notes
            out.append({k: got[k] for k in ("from_code", "to_code", "from_title", "to_title")})
        return out

    return convert


_NUTS_CODE = re.compile(r"[A-Z]{2}[A-Z0-9]{0,3}")


def _nuts_changes(name: str) -> Callable[[Path], list[dict[str, str]]]:
    """A Eurostat NUTS change table ``NUTS<old>-NUTS<new>.xlsx``: its sheet that lists every
    region (:data:`NUTS_CHANGE_SHEETS`), whose header row has ``Code <old>``, ``Code <new>``, the
    country, the three NUTS level names and ``Change``, becomes ``from_code, to_code, change``,
    one row per distinct pair in the file's order. A region without a new code (discontinued)
    or without an old code (new) keeps an empty side; rows with no code (notes) are left out."""
    sheet, old, new = NUTS_CHANGE_SHEETS[name]

    def convert(path: Path) -> list[dict[str, str]]:
        rows = _sheet_rows(path, sheet)
        wanted = {"from_code": f"Code {old}", "to_code": f"Code {new}"}
        head, cols = _find_header(rows, wanted, f"{path.name}, sheet {sheet!r}")
        change = _change_column(rows[head], set(cols.values()))
        out, seen = [], set()
        for row in rows[head + 1 :]:
            cells = [_cell(v) for v in row]
            a, b = (cells[cols[k]] if cols[k] < len(cells) else "" for k in wanted)
            if not (a or b) or any(c and not _NUTS_CODE.fullmatch(c) for c in (a, b)):
                continue  # blank lines, notes
            if (a, b) in seen:
                continue
            seen.add((a, b))
            text = cells[change] if change is not None and change < len(cells) else ""
            out.append({"from_code": a, "to_code": b, "change": text})
        return out

    return convert


def _change_column(header: tuple[object, ...], taken: set[int]) -> int | None:
    """The ``Change`` column of a NUTS change table (not ``Change comments``), if any."""
    words = {j: _words(_cell(v)) for j, v in enumerate(header) if j not in taken}
    for test in (
        lambda w: w == {"change"},
        lambda w: "change" in w and "comments" not in w and "comment" not in w,
        lambda w: "change" in w or "changes" in w,
    ):
        found = [j for j, w in words.items() if test(w)]
        if found:
            return found[0]
    return None


_CONVERTERS: dict[str, Callable[[Path], list[dict[str, str]]]] = {
    "nuts": _nuts_rows,
    "us_states.csv": _state_rows,
    "us_counties.csv": _county_rows,
    "naics_2012.csv": _naics_code_rows,
    "naics_2017.csv": _naics_code_rows,
    "naics_2012_2017.csv": _naics_concordance("2012", "2017"),
    "naics_2017_2022.csv": _naics_concordance("2017", "2022"),
    "nuts_2016_2021.csv": _nuts_changes("nuts_2016_2021.csv"),
    "nuts_2021_2024.csv": _nuts_changes("nuts_2021_2024.csv"),
}
