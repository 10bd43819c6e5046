"""Commands on economic complexity and relatedness: ``complexity``, ``opportunities``,
``peers``, ``mentors`` and ``entry``. Thin: read, call the observatory, render."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from clusteratlas.cli import (
    DefinitionsOpt,
    PanelsArg,
    ReferenceOpt,
    SourceOpt,
    SourceOptionOpt,
    YearOpt,
    _AbortError,
    _errors,
    _finish,
    _load,
    _progress,
    app,
    err,
)

__all__ = ["complexity", "entry", "mentors", "opportunities", "peers"]

RegionOpt = Annotated[
    str, typer.Option("--region", "-r", help="The region to look at.", show_default=False)
]
TopOpt = Annotated[int, typer.Option("--top", "-n", help="How many rows to show.")]
ThresholdOpt = Annotated[
    float, typer.Option("--rca-threshold", help="Presence: RCA (location quotient) at least this.")
]
OptionalOutOpt = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Also write the table (format from the extension)."),
]


def _one_year(
    panel: Any,
    definitions: Any,
    year: int | None,
    reference: str | None,
    threshold: float,
    method: str = "eigenvector",
) -> Any:
    from clusteratlas.observatory.complexity import complexity_years

    year = panel.years[-1] if year is None else year
    return next(
        complexity_years(
            panel,
            definitions,
            years=[year],
            rca_threshold=threshold,
            method=method,
            reference_region=reference,
        )
    )


def _load_one_year(
    panel_paths: list[Path],
    definitions_path: Path | None,
    out: Path | None,
    *,
    source: str | None,
    source_option: list[str] | None,
    year: int | None,
    reference_region: str | None,
    threshold: float = 1.0,
) -> Any:
    """Read the panel (only ``year`` when given) and compute that year's complexity."""
    panel, definitions = _load(
        panel_paths,
        definitions_path,
        out,
        source=source,
        source_options=source_option,
        years=(year,),
        reference_region=reference_region,
    )
    return _one_year(panel, definitions, year, reference_region, threshold)


def _show(frame: Any, title: str, columns: list[str] | None = None) -> None:
    console = Console(highlight=False, emoji=False, width=None if err.is_terminal else 140)
    table = Table(title=title)
    columns = columns or list(frame.columns)
    for col in columns:
        numeric = frame[col].dtype.kind in "fiu"
        table.add_column(col, justify="right" if numeric else "left")
    for row in frame[columns].itertuples(index=False):
        table.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row])
    console.print(table)


def _check_region(cy: Any, region: str) -> None:
    if region not in cy.regions:
        shown = ", ".join(map(str, cy.regions[:8]))
        raise _AbortError(
            f"--region {region!r} is not a ranked region of the panel "
            f"(regions include {shown}{', …' if len(cy.regions) > 8 else ''})"
        )


@app.command()
def complexity(
    panel_paths: PanelsArg,
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Output file (format from extension).", show_default=False
        ),
    ],
    definitions_path: DefinitionsOpt = None,
    source: SourceOpt = None,
    source_option: SourceOptionOpt = None,
    year: YearOpt = None,
    reference_region: ReferenceOpt = None,
    rca_threshold: ThresholdOpt = 1.0,
    method: Annotated[
        str, typer.Option("--method", help="ECI/PCI by 'eigenvector' or 'reflections'.")
    ] = "eigenvector",
    fitness: Annotated[
        bool,
        typer.Option(
            "--fitness", help="Add fitness and product complexity (Tacchella et al. 2012)."
        ),
    ] = False,
) -> None:
    """Economic complexity: RCA, presence, diversity, ubiquity, ECI, PCI, density, COI, COG."""
    with _errors():
        from clusteratlas.observatory.complexity import complexity_table

        if method not in ("eigenvector", "reflections"):
            raise _AbortError(f"--method must be eigenvector or reflections, not {method!r}")
        panel, definitions = _load(
            panel_paths,
            definitions_path,
            out,
            source=source,
            source_options=source_option,
            years=(year,),
            reference_region=reference_region,
        )
        with _progress("computing complexity") as update:
            table = complexity_table(
                panel,
                definitions,
                years=[year] if year is not None else None,
                rca_threshold=rca_threshold,
                method=method,
                fitness=fitness,
                reference_region=reference_region,
                progress=update,
            )
        _finish(table, out, "complexity")


@app.command()
def opportunities(
    panel_paths: PanelsArg,
    region: RegionOpt,
    definitions_path: DefinitionsOpt = None,
    source: SourceOpt = None,
    source_option: SourceOptionOpt = None,
    year: YearOpt = None,
    reference_region: ReferenceOpt = None,
    rca_threshold: ThresholdOpt = 1.0,
    top: TopOpt = 20,
    out: OptionalOutOpt = None,
) -> None:
    """Diversification opportunities of a region: related, complex industries it lacks."""
    with _errors():
        from clusteratlas.observatory.relatedness import opportunities as find

        cy = _load_one_year(
            panel_paths,
            definitions_path,
            out,
            source=source,
            source_option=source_option,
            year=year,
            reference_region=reference_region,
            threshold=rca_threshold,
        )
        _check_region(cy, region)
        table = find(
            region,
            regions=cy.regions,
            industries=cy.industries,
            mcp=cy.mcp,
            density=cy.density,
            pci=cy.pci,
            proximity=cy.proximity,
            top=top,
        )
        _show(table, f"Opportunities for {region}, {cy.year}")
        if out is not None:
            _finish(table, out, "opportunities")


@app.command()
def peers(
    panel_paths: PanelsArg,
    region: RegionOpt,
    definitions_path: DefinitionsOpt = None,
    source: SourceOpt = None,
    source_option: SourceOptionOpt = None,
    year: YearOpt = None,
    reference_region: ReferenceOpt = None,
    top: TopOpt = 10,
    out: OptionalOutOpt = None,
) -> None:
    """Peer regions: the most similar specialisation profiles (cosine similarity of RCA)."""
    with _errors():
        from clusteratlas.observatory.relatedness import peers as find

        cy = _load_one_year(
            panel_paths,
            definitions_path,
            out,
            source=source,
            source_option=source_option,
            year=year,
            reference_region=reference_region,
        )
        _check_region(cy, region)
        totals = cy.employment.sum(axis=1, keepdims=True)
        shares = cy.employment / totals.clip(min=1e-300)
        table = find(region, regions=cy.regions, rca=cy.rca, shares=shares, top=top)
        _show(table, f"Peers of {region}, {cy.year}")
        if out is not None:
            _finish(table, out, "peers")


@app.command()
def mentors(
    panel_paths: PanelsArg,
    definitions_path: DefinitionsOpt = None,
    source: SourceOpt = None,
    source_option: SourceOptionOpt = None,
    year: YearOpt = None,
    reference_region: ReferenceOpt = None,
    indicator: Annotated[
        str,
        typer.Option(
            "--indicator",
            help="Region-level column to compare on: 'eci' (computed) or a column of the "
            "--indicators file, such as R&D intensity.",
        ),
    ] = "eci",
    indicators: Annotated[
        Path | None,
        typer.Option(
            "--indicators",
            help="CSV/Parquet with a column region and one or more indicator columns.",
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            "--region", "-r", help="Only this region's mentors (or mentees with --view mentor)."
        ),
    ] = None,
    view: Annotated[
        str,
        typer.Option(
            "--view", help="'mentee': who could mentor each region; 'mentor': whom it could mentor."
        ),
    ] = "mentee",
    out: OptionalOutOpt = None,
) -> None:
    """Mentor pairs: similar regions that are clearly stronger on an indicator."""
    with _errors():
        import pandas as pd

        from clusteratlas.observatory.relatedness import mentors as find
        from clusteratlas.sources import read_table

        cy = _load_one_year(
            panel_paths,
            definitions_path,
            out,
            source=source,
            source_option=source_option,
            year=year,
            reference_region=reference_region,
        )
        if indicators is None:
            if indicator != "eci":
                raise _AbortError(
                    f"--indicator {indicator!r} needs --indicators FILE holding "
                    "that column (without a file only 'eci' is available)"
                )
            values = pd.Series(cy.eci, index=cy.regions, name="eci")
        else:
            frame, _ = read_table(indicators)
            if "region" not in frame.columns or indicator not in frame.columns:
                raise _AbortError(
                    f"{indicators}: needs the columns region and {indicator} "
                    f"(found: {', '.join(frame.columns)})"
                )
            numbers = pd.to_numeric(frame[indicator], errors="coerce")
            if numbers.isna().any():
                line = int(numbers.isna().to_numpy().argmax()) + 2
                bad = frame.loc[numbers.isna(), indicator].iloc[0]
                raise _AbortError(
                    f"{indicators}, line {line}, column {indicator!r}: {bad!r} is not a number"
                )
            values = pd.Series(
                numbers.to_numpy(), index=frame["region"].astype(str), name=indicator
            )
        if region is not None:
            _check_region(cy, region)
        table = find(
            regions=cy.regions, profiles=cy.rca, indicator=values, view=view, region=region
        )
        _show(table, f"Mentors ({view} view), {cy.year}, indicator {values.name}")
        if out is not None:
            _finish(table, out, "mentors")


@app.command()
def entry(
    panel_paths: PanelsArg,
    start: Annotated[int, typer.Option("--start", help="First year.", show_default=False)],
    end: Annotated[int, typer.Option("--end", help="Last year.", show_default=False)],
    definitions_path: DefinitionsOpt = None,
    source: SourceOpt = None,
    source_option: SourceOptionOpt = None,
    reference_region: ReferenceOpt = None,
    rca_threshold: ThresholdOpt = 1.0,
    fixed_effects: Annotated[
        str, typer.Option("--fixed-effects", help="none, region, industry or both.")
    ] = "none",
    out: OptionalOutOpt = None,
) -> None:
    """Entry and exit: specialisations gained and lost, and how relatedness predicted entry."""
    with _errors():
        from clusteratlas.observatory.complexity import complexity_years
        from clusteratlas.observatory.relatedness import entry_exit

        panel, definitions = _load(
            panel_paths,
            definitions_path,
            out,
            source=source,
            source_options=source_option,
            years=(start, end),
            reference_region=reference_region,
        )
        first, last = complexity_years(
            panel,
            definitions,
            years=[start, end],
            rca_threshold=rca_threshold,
            reference_region=reference_region,
        )
        if list(first.regions) != list(last.regions) or list(first.industries) != list(
            last.industries
        ):
            raise _AbortError(
                f"the regions or industries of {start} and {end} differ; "
                "entry and exit need the same ones in both years"
            )
        result = entry_exit(
            {start: first.rca, end: last.rca},
            {start: first.density, end: last.density},
            regions=first.regions,
            industries=first.industries,
            start=start,
            end=end,
            threshold=rca_threshold,
            fixed_effects=fixed_effects,
        )
        counts = result.events["event"].value_counts()
        err.print(
            f"{counts.get('entry', 0):,} entries and {counts.get('exit', 0):,} exits "
            f"between {start} and {end}",
            markup=False,
        )
        _show(result.regression, f"Entry on relatedness density, {start}–{end}")
        if out is not None:
            _finish(result.events, out, "entry_exit")
