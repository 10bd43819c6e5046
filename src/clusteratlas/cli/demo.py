"""``clusteratlas demo``: the full analysis on a synthetic panel, end to end."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import pandas as pd
from rich.console import Console

from clusteratlas.cli.output import write_table, write_tables
from clusteratlas.cli.summary import render_summary
from clusteratlas.observatory import (
    ClusterDefinitions,
    ComplexityError,
    cluster_table,
    complexity_table,
    industry_indices,
    region_indices,
    shift_share,
)
from clusteratlas.sources import open_panel, read_definitions
from clusteratlas.sources.classifications import known_names
from clusteratlas.sources.synthetic import (
    DEMO_NOTICE,
    US_STATES_NOTICE,
    demo_definitions,
    demo_panel_frame,
    demo_regions,
    industry_titles,
    us_atlas_states,
    us_states_panel_frame,
)

__all__ = ["run_demo"]


def _write_us_states(out: Path, console: Console) -> dict[str, Path]:
    """The inputs of the second demo dataset, at US state level (the web observatory's map
    draws them with the bundled us-atlas shapes): panel and region names. Nothing without the
    us-atlas file (``make static``)."""
    from clusteratlas.cli.load import US_ATLAS_DIR

    states_file = US_ATLAS_DIR / "states-10m.json"
    if not states_file.exists():
        console.print(f"note: no US states demo: {states_file} is missing", markup=False)
        return {}
    console.print(f"[bold yellow]{US_STATES_NOTICE}[/]", markup=True)
    states = us_atlas_states(states_file)
    files = {"us_panel": out / "us-states-panel.csv", "us_names": out / "us-states-names.csv"}
    write_table(us_states_panel_frame(states), files["us_panel"])
    write_table(states, files["us_names"])
    return files


def run_demo(
    out: Path,
    *,
    seed: int = 2024,
    console: Console | None = None,
    panel_path: Path | None = None,
    definitions_path: Path | None = None,
    source: str | None = None,
    source_options: dict[str, object] | None = None,
) -> dict[str, Path]:
    """Write the demo's inputs, tables, DuckDB file and HTML summary into ``out``.

    Without ``panel_path`` the panel is synthetic: it is written first and read back through
    the same readers a user's files go through, so the demo exercises the whole path. With
    ``panel_path`` (say a file from ``clusteratlas fetch``) the same analysis runs on it.
    """
    console = console or Console(stderr=True)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    if panel_path is None:
        console.print(f"[bold yellow]{DEMO_NOTICE}[/]", markup=True)
        files["panel"] = out / "panel.csv"
        files["definitions"] = out / "definitions.csv"
        write_table(demo_panel_frame(seed), files["panel"])
        write_table(demo_definitions(), files["definitions"])
        files["region_names"] = out / "region-names.csv"  # for `clusteratlas load --region-names`
        write_table(demo_regions()[["region", "name"]], files["region_names"])
        panel = open_panel(files["panel"])
        definitions = read_definitions(files["definitions"])
        notice, region_names, titles = DEMO_NOTICE, demo_regions(), industry_titles()
        files.update(_write_us_states(out, console))
    else:
        panel = open_panel(panel_path, source=source, **(source_options or {}))
        definitions = (
            read_definitions(definitions_path)
            if definitions_path
            else ClusterDefinitions.identity(panel.industries)
        )
        names = known_names(panel.regions, ["nuts", "us-counties", "us-states"])
        region_names = pd.DataFrame({"region": list(names), "name": list(names.values())})
        notice, titles = f"Data: {panel_path}", None
    first, last = panel.years[0], panel.years[-1]
    console.print(f"panel: {panel!r}", markup=False)
    console.print(f"note: {definitions.unmapped(panel).describe()}", markup=False)

    steps = ["clusters", "regions", "industries", "shiftshare", "complexity"]
    tables = {}
    with console.status("running the analysis") if console.is_terminal else nullcontext():
        tables["clusters"] = cluster_table(panel, definitions, base_year=first)
        tables["regions"] = region_indices(panel, definitions)
        tables["industries"] = industry_indices(panel, definitions)
        tables["shiftshare"] = shift_share(panel, definitions, base_year=first, year=last)
        try:
            tables["complexity"] = complexity_table(panel, definitions, years=[last])
        except ComplexityError as exc:  # say why, and carry on with the rest
            console.print(f"note: no complexity table: {exc}", markup=False)
    for name in [step for step in steps if step in tables]:
        files[name] = out / f"{name}.csv"
        write_table(tables[name], files[name])
    files["duckdb"] = out / "observatory.duckdb"
    write_tables({**tables, "panel": panel.to_frame()}, files["duckdb"])
    files["summary"] = out / "summary.html"
    html = render_summary(
        tables,
        panel=panel,
        definitions=definitions,
        region_names=region_names,
        industry_titles=titles,
        notice=notice,
    )
    tmp = files["summary"].with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(files["summary"])
    for name, path in files.items():
        console.print(f"  {name:<12} {path}", markup=False)
    console.print(f"open {files['summary']} in a browser for the summary", markup=False)
    return files
