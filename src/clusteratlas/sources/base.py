"""The data-source contract: anything that turns a file (or URL) into a Panel.

Modelled on xarray's backend entry points: a source is a class with ``name``, ``description``,
``url``, ``guess_can_open(path)`` and ``open(path, **options) -> Panel``. Sources are found
through the ``clusteratlas.sources`` entry-point group, and the built-in ones register through
the same group (see ``pyproject.toml``), so the plugin path is the one our own code uses. The
Eurostat and County Business Patterns readers plug in here.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from clusteratlas.observatory.panel import Panel, PanelError, Problem

__all__ = ["InputError", "Source", "available_sources", "open_panel"]


@runtime_checkable
class Source(Protocol):
    name: ClassVar[str]
    description: ClassVar[str]
    url: ClassVar[str]

    def guess_can_open(self, path: str | Path) -> bool: ...

    def open(self, path: str | Path, **options: Any) -> Panel: ...


class RowLocator(Protocol):
    """Where a 0-based row of a table read from a file is in that file."""

    unit: str  # "line" or "row"

    def __call__(self, row: int) -> int: ...


@dataclass(frozen=True)
class Located:
    """A problem placed in a file: ``line`` is the line number (text files) or 1-based row
    (Parquet), as ``unit`` says; ``message`` refers to other rows in the same units."""

    path: str
    line: int | None
    unit: str
    problem: Problem
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}, {self.unit} {self.line}"
        field = f", column {self.problem.field!r}" if self.problem.field else ""
        value = "" if self.problem.value is None else f", value {self.problem.value!r}"
        return f"{where}{field}{value}: {self.message}"


class InputError(ValueError):
    """A file could not be read into a valid panel or definitions table.

    ``located`` lists each problem with its file and line; ``str()`` is a readable report.
    """

    def __init__(
        self,
        path: str | Path,
        located: list[Located] | None = None,
        *,
        message: str | None = None,
        total: int | None = None,
    ) -> None:
        self.path = str(path)
        self.located = located or []
        self.total = total if total is not None else len(self.located)
        lines = [message] if message else []
        lines += [str(loc) for loc in self.located]
        if self.total > len(self.located):
            lines.append(f"... and {self.total - len(self.located)} more problems")
        super().__init__("\n".join(lines))

    @classmethod
    def from_panel_error(cls, path: str | Path, err: PanelError, locate: RowLocator) -> InputError:
        """Translate the 0-based frame rows of ``err`` into lines (or rows) of the file."""

        def where(row: int) -> str:
            return f"{locate.unit} {locate(row)}"

        located = [
            Located(
                str(path),
                None if p.row is None else locate(p.row),
                locate.unit,
                p,
                p.describe(where),
            )
            for p in err.problems
        ]
        return cls(path, located, total=err.total)


def available_sources() -> dict[str, type[Source]]:
    """Installed sources by name (built-ins included), from the entry-point group."""
    found: dict[str, type[Source]] = {}
    for ep in entry_points(group="clusteratlas.sources"):
        found[ep.name] = ep.load()
    return found


def open_panel(path: str | Path, *, source: str | None = None, **options: Any) -> Panel:
    """Read a panel with the named source, or with the installed source that recognises the
    file's content (official layouts first, the project's long table last)."""
    sources = available_sources()
    if source is not None:
        if source not in sources:
            raise ValueError(f"unknown source {source!r}; installed: {', '.join(sorted(sources))}")
        return sources[source]().open(path, **options)
    path = Path(path)
    if not path.exists():
        raise InputError(path, message=f"{path}: no such file")
    # the generic long table goes last, so a specific layout wins when both would match
    for name in sorted(sources, key=lambda n: n == "table"):
        reader = sources[name]()
        if reader.guess_can_open(path):
            return reader.open(path, **options)
    raise InputError(
        path,
        message=(
            f"{path}: no installed source recognises this file "
            f"(installed: {', '.join(sorted(sources))}). A long table needs the columns "
            "year, region, industry, employment; name the reader with --source if it is "
            "another layout"
        ),
    )
