"""``clusteratlas fetch …``: download official files into the cache and print where they are.

Registered in :mod:`clusteratlas.cli` with ``app.add_typer(fetch_app, name="fetch")``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from clusteratlas.cli import ExitStatus, _errors, _progress, err

__all__ = ["fetch_app"]


class EurostatFormat(StrEnum):
    tsv = "tsv"
    sdmx_csv = "sdmx-csv"


class CbpLevel(StrEnum):
    county = "county"
    state = "state"
    msa = "msa"


fetch_app = typer.Typer(
    name="fetch",
    help="Download official data and code lists into the cache "
    "($CLUSTERATLAS_CACHE, default ~/.cache/clusteratlas) and print the cached path.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

OfflineOpt = Annotated[
    bool,
    typer.Option(
        "--offline",
        help="Do not download: print the cached file, or fail if it is not cached.",
    ),
]
RefreshOpt = Annotated[
    bool, typer.Option("--refresh", help="Download again even when the file is cached.")
]


@contextmanager
def _fetch_errors() -> Iterator[None]:
    """Like the main CLI: expected failures print ``error: …`` and exit 3, never a traceback."""
    from clusteratlas.sources.fetch import FetchError

    with _errors():
        try:
            yield
        except FetchError as exc:
            err.print("[bold red]error:[/] ", markup=True, end="")
            err.print(str(exc), markup=False)
            raise typer.Exit(int(ExitStatus.BAD_INPUT)) from None


def _show(path: Path) -> None:
    typer.echo(str(path))


@fetch_app.command()
def eurostat(
    dataset: Annotated[
        str,
        typer.Argument(
            metavar="DATASET",
            help="Eurostat dataset code, e.g. sbs_r_nuts2021.",
            show_default=False,
        ),
    ],
    fmt: Annotated[
        EurostatFormat, typer.Option("--format", help="File format (both gzip-compressed).")
    ] = EurostatFormat.tsv,
    offline: OfflineOpt = False,
    refresh: RefreshOpt = False,
) -> None:
    """A whole Eurostat dataset from the SDMX 2.1 API."""
    with _fetch_errors():
        from clusteratlas.sources.fetch import fetch_eurostat

        with _progress(f"eurostat {dataset}", download=True) as update:
            path = fetch_eurostat(
                dataset, fmt=fmt.value, offline=offline, refresh=refresh, progress=update
            )
        _show(path)


@fetch_app.command()
def cbp(
    year: Annotated[
        int, typer.Argument(metavar="YEAR", help="Reference year, e.g. 2016.", show_default=False)
    ],
    level: Annotated[
        CbpLevel, typer.Option("--level", help="Geography of the file.")
    ] = CbpLevel.county,
    offline: OfflineOpt = False,
    refresh: RefreshOpt = False,
) -> None:
    """A County Business Patterns archive from the Census Bureau."""
    with _fetch_errors():
        from clusteratlas.sources.fetch import fetch_cbp

        with _progress(f"cbp {year} {level.value}", download=True) as update:
            path = fetch_cbp(year, level.value, offline=offline, refresh=refresh, progress=update)
        _show(path)


@fetch_app.command()
def classifications(
    source: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Copy the code-list and crosswalk files from this folder (or URL ending in /) "
            "instead of converting the official downloads.",
        ),
    ] = None,
    offline: OfflineOpt = False,
    refresh: RefreshOpt = False,
) -> None:
    """Code lists: NUTS, US states and counties, NAICS 2012/2017 and their concordances; with
    --from also NACE."""
    with _fetch_errors():
        from clusteratlas.sources.fetch import fetch_classifications

        with _progress("classifications", download=True) as update:
            files = fetch_classifications(
                source=source, offline=offline, refresh=refresh, progress=update
            )
        for name in sorted(files):
            _show(files[name])


class NutsResolution(StrEnum):
    r60m = "60M"
    r20m = "20M"
    r10m = "10M"
    r03m = "03M"
    r01m = "01M"


@fetch_app.command("nuts-geometry")
def nuts_geometry(
    year: Annotated[
        int,
        typer.Argument(
            metavar="YEAR",
            help="NUTS version: 2003, 2006, 2010, 2013, 2016, 2021 or 2024.",
            show_default=False,
        ),
    ],
    resolution: Annotated[
        NutsResolution,
        typer.Option("--resolution", help="Map scale, 1:60 million (60M) to 1:1 million (01M)."),
    ] = NutsResolution.r20m,
    level: Annotated[int, typer.Option("--level", min=0, max=3, help="NUTS level 0–3.")] = 2,
    store_dir: Annotated[
        Path | None,
        typer.Option(
            "--store",
            help="Folder of the observatory store. Default: CLUSTERATLAS_OBSERVATORY_DIR, else "
            "'observatory' beside the SQLite database.",
            show_default=False,
        ),
    ] = None,
    offline: OfflineOpt = False,
    refresh: RefreshOpt = False,
) -> None:
    """NUTS region shapes (GeoJSON) from Eurostat GISCO, loaded into the observatory store as
    level nutsN with GISCO's attribution (its licence does not allow bundling them)."""
    with _fetch_errors():
        from clusteratlas.cli.load import open_store
        from clusteratlas.sources.fetch import fetch_nuts_geometry
        from clusteratlas.sources.store import GISCO_ATTRIBUTION

        with _progress(f"NUTS {year} level {level} ({resolution.value})", download=True) as update:
            path = fetch_nuts_geometry(
                year,
                resolution.value,
                level,
                offline=offline,
                refresh=refresh,
                progress=update,
            )
        store = open_store(store_dir)
        n = store.load_geometry(
            path,
            level=f"nuts{level}",
            code_property="NUTS_ID",
            name_property="NAME_LATN",
            attribution=GISCO_ATTRIBUTION,
        )
        err.print(f"loaded {n:,} shapes of level nuts{level} into {store.directory}", markup=False)
        _show(path)
