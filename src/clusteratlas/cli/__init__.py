"""The ``clusteratlas`` command line: parse, call the library, render.

Heavy libraries (pandas, scipy, duckdb) are imported inside the commands, so ``--help`` is quick.
Exit codes are part of the contract: see :class:`ExitStatus`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from clusteratlas.observatory import ClusterDefinitions, Panel

__all__ = ["ExitStatus", "app", "main"]


class ExitStatus(IntEnum):
    """Exit codes of the ``clusteratlas`` command."""

    SUCCESS = 0
    ERROR = 1  # an unexpected failure (a bug: please report it)
    USAGE = 2  # wrong options or arguments (typer/click's own code)
    BAD_INPUT = 3  # an input file or value is invalid; the message says where and why


class LqBase(StrEnum):
    total = "total"
    type = "type"


class ShiftShareBy(StrEnum):
    cluster = "cluster"
    region = "region"


app = typer.Typer(
    name="clusteratlas",
    help="Cluster Atlas: map and monitor regional clusters from employment statistics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

PanelArg = Annotated[
    Path,
    typer.Argument(
        metavar="PANEL",
        help="Long table (CSV/Parquet): year, region, "
        "industry, employment [, establishments, payroll, flag].",
        show_default=False,
    ),
]
PanelsArg = Annotated[
    list[Path],
    typer.Argument(
        metavar="PANEL...",
        help="One or more files with different years: long tables (CSV/Parquet: year, region, "
        "industry, employment [, establishments, payroll, flag]), Eurostat SBS (TSV, "
        "SDMX-CSV) or County Business Patterns files; the layout is recognised from the content.",
        show_default=False,
    ),
]
NutsVersionOpt = Annotated[
    str | None,
    typer.Option(
        "--nuts-version",
        help="Recode NUTS regions of every year to this version (2021 or 2024) with Eurostat's "
        "NUTS change tables, for series that span versions (e.g. sbs_r_nuts06_r2 with "
        "sbs_r_nuts2021).",
    ),
]
NaicsEditionOpt = Annotated[
    str | None,
    typer.Option(
        "--naics-edition",
        help="Recode NAICS industries of every year to this edition (2017 or 2022) with the "
        "Census crosswalks, for County Business Patterns series that span editions.",
    ),
]
DefinitionsOpt = Annotated[
    Path | None,
    typer.Option(
        "--definitions",
        "-d",
        help="Cluster definitions CSV: industry, cluster, cluster_name, type. "
        "Without it each industry is its own cluster.",
    ),
]
OutOpt = Annotated[
    Path,
    typer.Option(
        "--out",
        "-o",
        help="Output file; the format follows the extension "
        "(.csv, .csv.gz, .tsv, .parquet, .json, .duckdb).",
        show_default=False,
    ),
]
YearOpt = Annotated[int | None, typer.Option("--year", "-y", help="Only this year (default: all).")]
ReferenceOpt = Annotated[
    str | None,
    typer.Option(
        "--reference-region",
        help="Region of the panel giving the reference totals (e.g. EU27_2020, "
        "US); it is left out of the ranking. Default: the sum of all regions.",
    ),
]
LqBaseOpt = Annotated[
    LqBase,
    typer.Option(
        "--lq-base",
        help="'total': shares of all employment; 'type': shares of employment in "
        "clusters of the same type (traded/local), as the US Cluster Mapping Project does.",
    ),
]


SourceOpt = Annotated[
    str | None,
    typer.Option(
        "--source",
        help="Reader of the panel file (table, eurostat, cbp, …). Default: recognised from the "
        "file's content.",
    ),
]
SourceOptionOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--source-option",
        "-O",
        help="KEY=VALUE option for the reader, repeatable (e.g. -O indicator=V16110 -O level=2 "
        "for Eurostat, -O imputation=midpoint for County Business Patterns).",
    ),
]
RegionLevelOpt = Annotated[
    int | None,
    typer.Option(
        "--region-level",
        help="Roll regions up to this level first (NUTS: 0 country … 3), keeping the "
        "reference region as it is.",
    ),
]
RegionCodesOpt = Annotated[
    str,
    typer.Option(
        "--region-codes",
        help="Region hierarchy for --region-level: 'nuts' (from the codes) or a code list "
        "file with columns code,parent[,level].",
    ),
]
IndustryLevelOpt = Annotated[
    int | None,
    typer.Option(
        "--industry-level",
        help="Roll industries up to this level first (NAICS: 2–6 digits; NACE: 1 section, "
        "2 division, 3 group, 4 class).",
    ),
]
IndustryCodesOpt = Annotated[
    str | None,
    typer.Option(
        "--industry-codes",
        help="Industry hierarchy for --industry-level: 'naics', 'nace' or a code list file "
        "(code,parent[,level]). Default: naics for numeric codes, else nace.",
    ),
]


class _AbortError(Exception):
    def __init__(self, message: str, status: ExitStatus = ExitStatus.BAD_INPUT) -> None:
        super().__init__(message)
        self.status = status


@contextmanager
def _errors() -> Iterator[None]:
    """Turn expected failures into a clear message and an exit code, never a traceback."""
    from clusteratlas.cli.output import OutputError
    from clusteratlas.observatory import PanelError
    from clusteratlas.sources import InputError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        except _AbortError as exc:
            _show_warnings(caught)
            err.print(f"[bold red]error:[/] {exc}", markup=True)
            raise typer.Exit(int(exc.status)) from None
        except (InputError, PanelError, OutputError, KeyError, ValueError) as exc:
            _show_warnings(caught)
            msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            err.print("[bold red]error:[/] ", markup=True, end="")
            err.print(str(msg), markup=False)
            raise typer.Exit(int(ExitStatus.BAD_INPUT)) from None
        except (typer.Exit, KeyboardInterrupt):
            raise
        except Exception as exc:  # a bug: say so plainly, without a traceback
            _show_warnings(caught)
            err.print("[bold red]internal error:[/] ", markup=True, end="")
            err.print(f"{type(exc).__name__}: {exc}", markup=False)
            err.print(
                "This is a bug in Cluster Atlas; please report it with the command you ran.",
                markup=False,
            )
            raise typer.Exit(int(ExitStatus.ERROR)) from None
        _show_warnings(caught)


def _show_warnings(caught: list[warnings.WarningMessage]) -> None:
    for w in caught:
        if issubclass(w.category, DeprecationWarning | PendingDeprecationWarning):
            continue
        err.print("[yellow]warning:[/] ", markup=True, end="")
        err.print(str(w.message), markup=False)


@contextmanager
def _progress(description: str, *, download: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr (only on a terminal); yields a ``(done, total)`` callback.
    ``download=True`` shows a download (size and speed) instead of steps and time."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TimeElapsedColumn,
        TransferSpeedColumn,
    )

    columns = (
        (DownloadColumn(), TransferSpeedColumn())
        if download
        else (MofNCompleteColumn(), TimeElapsedColumn())
    )
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        *columns,
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield update


def _load(
    panel_paths: list[Path],
    definitions_path: Path | None,
    out: Path | None,
    *,
    source: str | None = None,
    source_options: list[str] | None = None,
    years: tuple[int | None, ...] = (),
    reference_region: str | None = None,
    region_level: int | None = None,
    region_codes: str = "nuts",
    industry_level: int | None = None,
    industry_codes: str | None = None,
    naics_edition: str | None = None,
    nuts_version: str | None = None,
) -> tuple[Panel, ClusterDefinitions | None]:
    """What every analysis command does first: check the output place, read the inputs, check
    years and reference region, roll up if asked, and note unmapped industries."""
    from clusteratlas.cli.output import check_output
    from clusteratlas.observatory import Panel
    from clusteratlas.sources import open_panel, read_definitions
    from clusteratlas.sources.hierarchies import roll_up

    if out is not None:
        check_output(out)
    options = _parse_options(source_options or [])
    names = ", ".join(map(str, panel_paths))
    with err.status(f"reading {names}", spinner="dots") if err.is_terminal else nullcontext():
        panels = []
        for path in panel_paths:
            try:
                panels.append(open_panel(path, source=source, **options))
            except TypeError as exc:  # an option the reader does not take
                raise _AbortError(f"{path}: {exc}") from None
        panel = Panel.concat(panels)
        definitions = read_definitions(definitions_path) if definitions_path else None
    panel.require_years(*years)
    _check_reference(panel, reference_region)
    if nuts_version is not None:
        from clusteratlas.sources.crosswalk import harmonise_nuts

        panel, reports = harmonise_nuts(panel, nuts_version)
        for report in reports:
            err.print(f"note: {report.describe()}", markup=False)
    if naics_edition is not None:
        from clusteratlas.sources.crosswalk import harmonise_naics

        panel, reports = harmonise_naics(panel, naics_edition)
        for report in reports:
            err.print(f"note: {report.describe()}", markup=False)
    panel = roll_up(
        panel,
        region_level=region_level,
        region_codes=region_codes,
        industry_level=industry_level,
        industry_codes=industry_codes,
        keep=[reference_region] if reference_region else [],
    )
    if definitions is not None:
        report = definitions.unmapped(panel)
        if report.count:
            err.print(f"note: {report.describe()}", markup=False)
    return panel, definitions


def _parse_options(pairs: list[str]) -> dict[str, object]:
    """``KEY=VALUE`` pairs; whole numbers become ints, ``none`` becomes None."""
    options: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise _AbortError(f"--source-option {pair!r} is not KEY=VALUE")
        text = value.strip()
        options[key.strip().replace("-", "_")] = (
            int(text) if text.lstrip("-").isdigit() else None if text.lower() == "none" else text
        )
    return options


def _check_reference(panel: Panel, reference: str | None) -> None:
    if reference is not None and reference not in panel.regions:
        shown = ", ".join(map(str, panel.regions[:8]))
        raise _AbortError(
            f"--reference-region {reference!r} is not a region of the panel "
            f"(regions include {shown}{', …' if len(panel.regions) > 8 else ''})"
        )


def _finish(frame: Any, out: Path, table: str) -> None:
    from clusteratlas.cli.output import write_table

    with err.status(f"writing {out}", spinner="dots") if err.is_terminal else nullcontext():
        write_table(frame, out, table=table)
    err.print(f"wrote {len(frame):,} rows to {out}", markup=False)


@app.command()
def clusters(
    panel_paths: PanelsArg,
    out: OutOpt,
    definitions_path: DefinitionsOpt = None,
    source: SourceOpt = None,
    source_option: SourceOptionOpt = None,
    year: YearOpt = None,
    base_year: Annotated[
        int | None,
        typer.Option(
            "--base-year",
            help="Add change, growth_cagr, lq_change and quadrant relative to this year.",
        ),
    ] = None,
    reference_region: ReferenceOpt = None,
    lq_base: LqBaseOpt = LqBase.total,
    region_level: RegionLevelOpt = None,
    region_codes: RegionCodesOpt = "nuts",
    industry_level: IndustryLevelOpt = None,
    industry_codes: IndustryCodesOpt = None,
    naics_edition: NaicsEditionOpt = None,
    nuts_version: NutsVersionOpt = None,
) -> None:
    """Cluster indicators by year, region and cluster: shares, LQ, stars, strong-cluster flags."""
    with _errors():
        from clusteratlas.observatory import cluster_table

        panel, definitions = _load(
            panel_paths,
            definitions_path,
            out,
            source=source,
            source_options=source_option,
            years=(year, base_year),
            reference_region=reference_region,
            region_level=region_level,
            region_codes=region_codes,
            industry_level=industry_level,
            industry_codes=industry_codes,
            naics_edition=naics_edition,
            nuts_version=nuts_version,
        )
        with _progress("computing clusters") as update:
            table = cluster_table(
                panel,
                definitions,
                years=[year] if year is not None else None,
                base_year=base_year,
                reference_region=reference_region,
                lq_base=lq_base.value,
                progress=update,
            )
        _finish(table, out, "clusters")


@app.command()
def shiftshare(
    panel_paths: PanelsArg,
    out: OutOpt,
    base_year: Annotated[int, typer.Option("--base-year", help="Start year.", show_default=False)],
    year: Annotated[int, typer.Option("--year", "-y", help="End year.", show_default=False)],
    definitions_path: DefinitionsOpt = None,
    source: SourceOpt = None,
    source_option: SourceOptionOpt = None,
    reference_region: ReferenceOpt = None,
    by: Annotated[
        ShiftShareBy,
        typer.Option(
            "--by", help="'cluster': one row per region and cluster; 'region': summed per region."
        ),
    ] = ShiftShareBy.cluster,
    region_level: RegionLevelOpt = None,
    region_codes: RegionCodesOpt = "nuts",
    industry_level: IndustryLevelOpt = None,
    industry_codes: IndustryCodesOpt = None,
    naics_edition: NaicsEditionOpt = None,
    nuts_version: NutsVersionOpt = None,
) -> None:
    """Shift-share: national growth, industry mix and regional shift of employment change."""
    with _errors():
        from clusteratlas.observatory import shift_share

        panel, definitions = _load(
            panel_paths,
            definitions_path,
            out,
            source=source,
            source_options=source_option,
            years=(base_year, year),
            reference_region=reference_region,
            region_level=region_level,
            region_codes=region_codes,
            industry_level=industry_level,
            industry_codes=industry_codes,
            naics_edition=naics_edition,
            nuts_version=nuts_version,
        )
        table = shift_share(
            panel,
            definitions,
            base_year=base_year,
            year=year,
            reference_region=reference_region,
            by=by.value,
        )
        _finish(table, out, "shiftshare")


@app.command()
def regions(
    panel_paths: PanelsArg,
    out: OutOpt,
    definitions_path: DefinitionsOpt = None,
    source: SourceOpt = None,
    source_option: SourceOptionOpt = None,
    year: YearOpt = None,
    reference_region: ReferenceOpt = None,
    lq_base: LqBaseOpt = LqBase.total,
    region_level: RegionLevelOpt = None,
    region_codes: RegionCodesOpt = "nuts",
    industry_level: IndustryLevelOpt = None,
    industry_codes: IndustryCodesOpt = None,
    naics_edition: NaicsEditionOpt = None,
    nuts_version: NutsVersionOpt = None,
) -> None:
    """Region specialisation: Krugman, Hoover, Herfindahl, entropy, cluster strength."""
    with _errors():
        from clusteratlas.observatory import region_indices

        panel, definitions = _load(
            panel_paths,
            definitions_path,
            out,
            source=source,
            source_options=source_option,
            years=(year,),
            reference_region=reference_region,
            region_level=region_level,
            region_codes=region_codes,
            industry_level=industry_level,
            industry_codes=industry_codes,
            naics_edition=naics_edition,
            nuts_version=nuts_version,
        )
        with _progress("computing region indices") as update:
            table = region_indices(
                panel,
                definitions,
                years=[year] if year is not None else None,
                reference_region=reference_region,
                lq_base=lq_base.value,
                progress=update,
            )
        _finish(table, out, "regions")


@app.command()
def industries(
    panel_paths: PanelsArg,
    out: OutOpt,
    definitions_path: DefinitionsOpt = None,
    source: SourceOpt = None,
    source_option: SourceOptionOpt = None,
    year: YearOpt = None,
    reference_region: ReferenceOpt = None,
    region_level: RegionLevelOpt = None,
    region_codes: RegionCodesOpt = "nuts",
    industry_level: IndustryLevelOpt = None,
    industry_codes: IndustryCodesOpt = None,
    naics_edition: NaicsEditionOpt = None,
    nuts_version: NutsVersionOpt = None,
) -> None:
    """Cluster (industry) localisation: Hoover, locational Gini, Ellison–Glaeser raw G."""
    with _errors():
        from clusteratlas.observatory import industry_indices

        panel, definitions = _load(
            panel_paths,
            definitions_path,
            out,
            source=source,
            source_options=source_option,
            years=(year,),
            reference_region=reference_region,
            region_level=region_level,
            region_codes=region_codes,
            industry_level=industry_level,
            industry_codes=industry_codes,
            naics_edition=naics_edition,
            nuts_version=nuts_version,
        )
        with _progress("computing localisation indices") as update:
            table = industry_indices(
                panel,
                definitions,
                years=[year] if year is not None else None,
                reference_region=reference_region,
                progress=update,
            )
        _finish(table, out, "industries")


@app.command()
def inspect(
    panel_path: PanelArg,
    source: SourceOpt = None,
    source_option: SourceOptionOpt = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Also write the quality table (format from extension)."),
    ] = None,
) -> None:
    """What a file holds: years, regions, industries, and the share withheld or estimated."""
    with _errors():
        from rich.table import Table

        from clusteratlas.observatory.quality import flag_counts, panel_quality
        from clusteratlas.sources import open_panel
        from clusteratlas.sources.hierarchies import level_labels

        if out is not None:
            from clusteratlas.cli.output import check_output

            check_output(out)
        panel = open_panel(panel_path, source=source, **_parse_options(source_option or []))
        quality = panel_quality(
            panel,
            region_levels=level_labels(panel.regions, "region"),
            industry_levels=level_labels(panel.industries, "industry"),
        )
        console = Console(highlight=False, emoji=False, width=None if err.is_terminal else 120)
        y, r, i = panel.shape
        console.print(f"[bold]{panel_path}[/]", markup=True)
        years = f"{panel.years[0]}–{panel.years[-1]}" if y > 1 else str(panel.years[0])
        console.print(
            f"{y} years ({years}), {r} regions ({len(panel.aggregates)} of them aggregates: "
            f"{', '.join(panel.aggregates[:6]) or 'none'}), {i} industries; "
            f"measures: {', '.join(panel.measures)}",
            markup=False,
        )
        table = Table(title="Cells by year and level")
        for column in ("year", "regions", "industries"):
            table.add_column(column)
        for column in ("cells", "employment", "withheld", "estimated", "est. jobs"):
            table.add_column(column, justify="right")
        for row in quality.itertuples(index=False):
            table.add_row(
                str(row.year),
                row.region_level,
                row.industry_level,
                f"{row.cells:,}",
                f"{row.employment:,.0f}",
                f"{row.withheld_share:.1%}",
                f"{row.estimated_share:.1%}",
                f"{row.estimated_employment_share:.1%}",
            )
        console.print(table)
        counts = flag_counts(panel)
        if len(counts):
            console.print(
                "flags: " + ", ".join(f"{code} {n:,}" for code, n in counts.items()),
                markup=False,
            )
        else:
            console.print("flags: none", markup=False)
        if out is not None:
            _finish(quality, out, "quality")


@app.command()
def indicators() -> None:
    """List the indicators, what they mean and where they are documented."""
    from rich.table import Table

    from clusteratlas.observatory import REGISTRY

    table = Table("indicator", "table", "meaning", "docs")
    for spec in REGISTRY.values():
        table.add_row(spec.name, spec.table, spec.description, f"docs/indicators/{spec.page}.md")
    Console(soft_wrap=False).print(table)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the demo's files.")] = Path(
        "demo-output"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 2024,
    panel_path: Annotated[
        Path | None,
        typer.Option(
            "--panel",
            help="Run on this file instead of synthetic data (e.g. one from clusteratlas fetch).",
        ),
    ] = None,
    definitions_path: DefinitionsOpt = None,
    source: SourceOpt = None,
    source_option: SourceOptionOpt = None,
) -> None:
    """Run the full analysis (synthetic data by default), write tables and an HTML summary."""
    with _errors():
        from clusteratlas.cli.demo import run_demo

        run_demo(
            out,
            seed=seed,
            console=err,
            panel_path=panel_path,
            definitions_path=definitions_path,
            source=source,
            source_options=_parse_options(source_option or []),
        )


def _version(value: bool) -> None:
    if value:
        from clusteratlas import __version__

        typer.echo(f"clusteratlas {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Cluster Atlas: map and monitor regional clusters from employment statistics."""


def main() -> None:
    """Entry point of the ``clusteratlas`` script."""
    app()


from clusteratlas.cli.fetch import fetch_app  # noqa: E402 - uses _errors and err above

app.add_typer(fetch_app, name="fetch")

import clusteratlas.cli.complexity  # noqa: E402, F401 - registers its commands on `app`
from clusteratlas.cli.db import db_app  # noqa: E402 - uses _errors and err above

app.add_typer(db_app, name="db")

from clusteratlas.cli.serve import serve  # noqa: E402 - uses _errors and err above

app.command()(serve)
import clusteratlas.cli.seed  # noqa: E402, F401 - registers `seed-demo` on `app`
from clusteratlas.cli.mail import mail_app  # noqa: E402 - uses _errors and err above

app.add_typer(mail_app, name="mail")

import clusteratlas.cli.schedule  # noqa: E402, F401 - registers its command on `app`
from clusteratlas.cli.searches import searches_app  # noqa: E402 - uses _errors and err above

app.add_typer(searches_app, name="saved-searches")
from clusteratlas.cli.events import events_app  # noqa: E402 - uses _errors and err above

app.add_typer(events_app, name="events")
from clusteratlas.cli.load import datasets, load, load_geometry  # noqa: E402 - uses _errors

app.command()(load)
app.command("load-geometry")(load_geometry)
app.command()(datasets)
import clusteratlas.cli.aggregate  # noqa: E402, F401 - registers `aggregate` on `app`
