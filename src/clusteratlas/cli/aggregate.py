"""The ``aggregate`` command: establishment microdata → a region × industry × year panel, on
DuckDB or Spark, with confidential cells withheld. Thin: parse, call
:func:`clusteratlas.sources.microdata.aggregate`, write."""

from __future__ import annotations

from contextlib import nullcontext
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from clusteratlas.cli import (
    IndustryCodesOpt,
    RegionCodesOpt,
    _errors,
    _finish,
    app,
    err,
)

__all__ = ["aggregate"]


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


@app.command()
def aggregate(
    microdata: Annotated[
        list[str],
        typer.Argument(
            metavar="MICRODATA...",
            help="Parquet or CSV files of establishment rows (paths, folders or glob patterns "
            "such as 'data/*.parquet'): year, region, industry, employees [, establishment_id, "
            "firm_id, payroll].",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="The panel to write (.parquet, .csv, .csv.gz, .tsv): year, region, industry, "
            "employment, establishments [, payroll], flag.",
            show_default=False,
        ),
    ],
    engine: Annotated[
        Engine,
        typer.Option(
            "--engine",
            help="duckdb (embedded, spills to disk) or spark (local mode, or the cluster of "
            "--spark-master; needs Java 17).",
        ),
    ] = Engine.duckdb,
    region_level: Annotated[
        int | None,
        typer.Option(
            "--region-level",
            help="Roll regions up to this level (NUTS: 0 country … 3); every code must have an "
            "ancestor there, or the codes without one are reported.",
        ),
    ] = None,
    region_codes: RegionCodesOpt = "nuts",
    industry_level: Annotated[
        int | None,
        typer.Option(
            "--industry-level",
            help="Roll industries up to this level (NAICS: 2–6 digits; NACE: 1 section, "
            "2 division, 3 group, 4 class).",
        ),
    ] = None,
    industry_codes: IndustryCodesOpt = None,
    min_establishments: Annotated[
        int,
        typer.Option(
            "--min-establishments",
            help="Withhold cells with fewer establishments than this (0: no threshold rule).",
        ),
    ] = 0,
    dominance_share: Annotated[
        float | None,
        typer.Option(
            "--dominance-share",
            metavar="SHARE",
            help="Withhold cells where one firm holds more than this share of employment "
            "(e.g. 0.85; default: no dominance rule).",
        ),
    ] = None,
    column_map: Annotated[
        str | None,
        typer.Option(
            "--column-map",
            help="Other column names, as OURS=THEIRS pairs: year=yr,region=nuts3,employees=emp.",
        ),
    ] = None,
    memory_limit: Annotated[
        str | None,
        typer.Option(
            "--memory-limit",
            help="DuckDB: most memory the process may use (e.g. 2GB, 1.5GiB); DuckDB keeps its "
            "share (60%, or all but 1 GB of large limits) and spills the rest to --temp-dir.",
        ),
    ] = None,
    temp_dir: Annotated[
        Path | None,
        typer.Option(
            "--temp-dir", help="DuckDB: folder for spilled data (default: a temporary folder)."
        ),
    ] = None,
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            help="Spark master URL: local[*] (default), spark://host:7077, k8s://https://host:443 "
            "(see docs/scale.md).",
        ),
    ] = None,
) -> None:
    """Aggregate establishment microdata into a panel, withholding confidential cells."""
    with _errors():
        from clusteratlas.cli.output import check_output
        from clusteratlas.sources.microdata import aggregate as run

        if check_output(out) not in ("parquet", "csv", "tsv"):
            raise ValueError(f"{out}: write the panel as .parquet, .csv, .csv.gz or .tsv")
        if engine is not Engine.spark and spark_master is not None:
            raise ValueError("--spark-master needs --engine spark")
        status = f"aggregating on {engine.value}"
        with err.status(status, spinner="dots") if err.is_terminal else nullcontext() as shown:

            def on_step(text: str) -> None:
                if shown is not None:
                    shown.update(f"{status}: {text}")

            result = run(
                microdata,
                engine=engine.value,
                column_map=column_map,
                region_level=region_level,
                region_codes=region_codes,
                industry_level=industry_level,
                industry_codes=industry_codes,
                min_establishments=min_establishments,
                dominance_share=dominance_share,
                memory_limit=memory_limit,
                temp_directory=temp_dir,
                spark_master=spark_master,
                on_step=on_step,
            )
        err.print(f"note: {result.describe()}", markup=False)
        _finish(result.panel, out, "panel")
