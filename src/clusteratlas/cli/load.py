"""``clusteratlas load``, ``load-geometry`` and ``datasets``: the observatory store of the web app.

Registered on the main app in ``cli/__init__.py`` (``app.command()(load)`` and so on). The
store is the folder of :class:`~clusteratlas.sources.store.ObservatoryStore`: ``--store`` or
the settings (``CLUSTERATLAS_OBSERVATORY_DIR``, else ``observatory/`` beside the SQLite
database).
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from clusteratlas.cli import (
    DefinitionsOpt,
    PanelsArg,
    SourceOpt,
    SourceOptionOpt,
    _AbortError,
    _errors,
    _parse_options,
    err,
)

if TYPE_CHECKING:
    from clusteratlas.sources.store import DatasetInfo, ObservatoryStore

__all__ = ["US_ATLAS_DIR", "datasets", "load", "load_geometry", "open_store"]

#: where ``make static`` copies the us-atlas TopoJSON files (npm package us-atlas, ISC)
US_ATLAS_DIR = Path(__file__).resolve().parents[1] / "web" / "static" / "vendor" / "us-atlas"


class UsAtlas(StrEnum):
    states = "states"
    counties = "counties"


StoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Folder of the observatory store. Default: CLUSTERATLAS_OBSERVATORY_DIR, else "
        "'observatory' beside the SQLite database.",
        show_default=False,
    ),
]


def open_store(directory: Path | None) -> ObservatoryStore:
    """The store in ``directory``, else the one the settings name (as the web app does)."""
    from clusteratlas.sources.store import ObservatoryStore

    if directory is not None:
        return ObservatoryStore(directory)
    from clusteratlas.collaboration.settings import get_settings

    return ObservatoryStore.from_settings(get_settings())


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-_")[:64]
    return slug or "dataset"


def _summary(info: DatasetInfo, store: ObservatoryStore) -> None:
    from rich.table import Table

    console = Console(highlight=False, emoji=False, width=None if err.is_terminal else 120)
    years = f"{info.years[0]}–{info.years[-1]}" if len(info.years) > 1 else str(info.years[0])
    console.print(
        f"dataset {info.name!r} ({info.title}): {len(info.years)} years ({years}), "
        f"{info.n_regions:,} regions ({', '.join(info.region_levels)}), "
        f"{info.n_clusters:,} clusters; in {store.directory}",
        markup=False,
    )
    table = Table("table", "rows", "columns")
    table.columns[1].justify = "right"
    for name in info.tables:
        columns = store.columns(info.name, name)
        shown = ", ".join(columns[:6]) + (", …" if len(columns) > 6 else "")
        table.add_row(name, f"{store.count(info.name, name):,}", shown)
    console.print(table)
    for note in info.notes:
        console.print(f"note: {note}", markup=False)


def load(
    panel_paths: PanelsArg,
    definitions_path: DefinitionsOpt = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="Name of the dataset (letters, digits, - and _); loading the same name again "
            "replaces it. Default: from the first file's name.",
        ),
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", help="Title shown on the pages (default: the name).")
    ] = None,
    region_names: Annotated[
        Path | None,
        typer.Option(
            "--region-names",
            help="CSV/Parquet with columns region (or code) and name; regions it lacks are "
            "named from the cached code lists (clusteratlas fetch classifications).",
        ),
    ] = None,
    source: SourceOpt = None,
    source_option: SourceOptionOpt = None,
    store_dir: StoreOpt = None,
) -> None:
    """Compute every observatory table of a panel and store it for the web app."""
    with _errors():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        from clusteratlas.observatory import ClusterDefinitions, Panel
        from clusteratlas.sources import open_panel, read_definitions, read_table

        dataset = name if name is not None else _slug(panel_paths[0].name.split(".")[0])
        store = open_store(store_dir)
        options = _parse_options(source_option or [])
        panels = [open_panel(path, source=source, **options) for path in panel_paths]
        panel = panels[0] if len(panels) == 1 else Panel.concat(panels)
        definitions = (
            read_definitions(definitions_path)
            if definitions_path is not None
            else ClusterDefinitions.identity(list(panel.industries))
        )
        report = definitions.unmapped(panel)
        if report.count:
            err.print(f"note: {report.describe()}", markup=False)
        names = read_table(region_names)[0] if region_names is not None else None
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as bar:
            tasks: dict[str, int] = {}

            def update(step: str, done: int, total: int) -> None:
                if step not in tasks:
                    tasks[step] = bar.add_task(step, total=total or None)
                bar.update(tasks[step], completed=done, total=total or None)

            info = store.load_dataset(
                dataset,
                panel,
                definitions,
                title=title,
                source=", ".join(p.name for p in panel_paths),
                progress=update,
                region_names=names,
            )
        _summary(info, store)


def load_geometry(
    file: Annotated[
        Path | None,
        typer.Argument(
            metavar="[FILE]",
            help="GeoJSON or TopoJSON file (every object of a topology unless --object).",
            show_default=False,
        ),
    ] = None,
    level: Annotated[
        str | None,
        typer.Option(
            "--level",
            help="Level of the shapes, as datasets name region levels: nuts0–nuts3, state, "
            "county, …",
        ),
    ] = None,
    code_property: Annotated[
        str | None,
        typer.Option(
            "--code-property",
            help="Property holding the region code. Default: the feature's id, else code, "
            "NUTS_ID, GEOID, FIPS or id.",
        ),
    ] = None,
    name_property: Annotated[
        str | None,
        typer.Option(
            "--name-property",
            help="Property holding the name. Default: name, NAME_LATN, NUTS_NAME or NAME.",
        ),
    ] = None,
    objects: Annotated[
        list[str] | None,
        typer.Option("--object", help="Only this object of a TopoJSON file (repeatable)."),
    ] = None,
    attribution: Annotated[
        str | None,
        typer.Option("--attribution", help="Text the licence asks maps of these shapes to show."),
    ] = None,
    us_atlas: Annotated[
        UsAtlas | None,
        typer.Option(
            "--us-atlas",
            help="Load the bundled US states or counties (npm package us-atlas, copied by "
            "`make static`) instead of a file; the level is state or county.",
        ),
    ] = None,
    store_dir: StoreOpt = None,
) -> None:
    """Load region shapes for the maps, from a GeoJSON/TopoJSON file or the bundled US atlas."""
    with _errors():
        from clusteratlas.sources.store import US_ATLAS_ATTRIBUTION

        if (file is None) == (us_atlas is None):
            raise _AbortError("give either FILE or --us-atlas states|counties", 2)
        if us_atlas is not None:
            file = US_ATLAS_DIR / f"{us_atlas.value}-10m.json"
            if not file.is_file():
                raise _AbortError(
                    f"{file} is missing: run `make static` (it copies the npm package us-atlas)"
                )
            level = level or {"states": "state", "counties": "county"}[us_atlas.value]
            objects = objects or [us_atlas.value]
            attribution = attribution or US_ATLAS_ATTRIBUTION
        if level is None:
            raise _AbortError("--level is required with a FILE (e.g. --level nuts2)", 2)
        assert file is not None
        store = open_store(store_dir)
        n = store.load_geometry(
            file,
            level=level,
            code_property=code_property,
            name_property=name_property,
            objects=objects,
            attribution=attribution,
        )
        err.print(f"loaded {n:,} shapes of level {level} into {store.directory}", markup=False)


def datasets(
    drop: Annotated[
        str | None, typer.Option("--drop", help="Delete this dataset.", show_default=False)
    ] = None,
    store_dir: StoreOpt = None,
) -> None:
    """List the datasets of the observatory store (or delete one with --drop)."""
    with _errors():
        from rich.table import Table

        from clusteratlas.sources.store import DatasetNotFound

        store = open_store(store_dir)
        if drop is not None:
            try:
                store.drop_dataset(drop)
            except DatasetNotFound as exc:
                raise _AbortError(str(exc)) from None
            err.print(f"dropped dataset {drop!r} from {store.directory}", markup=False)
            return
        infos = store.datasets()
        console = Console(highlight=False, emoji=False, width=None if err.is_terminal else 140)
        if not infos:
            console.print(f"no datasets in {store.directory}", markup=False)
        else:
            table = Table("name", "title", "years", "regions", "clusters", "loaded", "source")
            for info in infos:
                table.add_row(
                    info.name,
                    info.title,
                    f"{info.years[0]}–{info.years[-1]}",
                    f"{info.n_regions:,}",
                    f"{info.n_clusters:,}",
                    info.loaded_at.strftime("%Y-%m-%d %H:%M UTC"),
                    info.source,
                )
            console.print(table)
        levels = store.geometry_levels()
        if levels:
            console.print(f"geometry levels: {', '.join(levels)}", markup=False)
