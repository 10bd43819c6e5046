"""Region and industry hierarchies (NUTS 0–3, NAICS 2–6 digits, NACE sections to classes).

A :class:`Hierarchy` knows each code's parent and level, so a panel can be rolled up from, say,
NUTS-3 to NUTS-2, or from NACE classes to divisions. Hierarchies are derived from the structure
of the codes themselves (``Hierarchy.nuts``, ``.naics``, ``.nace``) or read from a code list with a
``parent`` column (``Hierarchy.from_frame``), such as the official classification files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import pandas as pd

__all__ = ["NACE_SECTIONS", "Hierarchy"]

#: NACE Rev. 2 sections and the divisions they contain (Eurostat, NACE Rev. 2, 2008).
NACE_SECTIONS: dict[str, tuple[int, int]] = {
    "A": (1, 3), "B": (5, 9), "C": (10, 33), "D": (35, 35), "E": (36, 39), "F": (41, 43),
    "G": (45, 47), "H": (49, 53), "I": (55, 56), "J": (58, 63), "K": (64, 66), "L": (68, 68),
    "M": (69, 75), "N": (77, 82), "O": (84, 84), "P": (85, 85), "Q": (86, 88), "R": (90, 93),
    "S": (94, 96), "T": (97, 98), "U": (99, 99),
}  # fmt: skip

#: NAICS sectors that span several two-digit codes.
NAICS_SECTORS = {"31": "31-33", "32": "31-33", "33": "31-33", "44": "44-45", "45": "44-45",
                 "48": "48-49", "49": "48-49"}  # fmt: skip


class Hierarchy:
    """Parent and level of each code of a classification.

    Parameters
    ----------
    parents
        ``{code: parent}``; top-level codes have no entry or map to ``None``/``""``.
    levels
        ``{code: level}``, 0 (or 1) for the top level, increasing downwards.
    name
        Human name of the classification, used in messages.
    """

    def __init__(
        self,
        parents: Mapping[str, str | None],
        levels: Mapping[str, int],
        *,
        name: str = "hierarchy",
    ) -> None:
        self.parents = {str(k): (str(v) if v else None) for k, v in parents.items()}
        self.levels = {str(k): int(v) for k, v in levels.items()}
        self.name = name

    def __repr__(self) -> str:
        return f"<Hierarchy {self.name}: {len(self.levels)} codes>"

    def level(self, code: str) -> int | None:
        return self.levels.get(code)

    def ancestor(self, code: str, level: int) -> str | None:
        """The code's ancestor at ``level`` (the code itself at its own level), or None."""
        seen = 0
        while code is not None and seen < 50:
            lv = self.levels.get(code)
            if lv is None:
                return None
            if lv == level:
                return code
            if lv < level:
                return None
            code = self.parents.get(code)  # type: ignore[assignment]
            seen += 1
        return None

    def ancestors(self, codes: Iterable[str], level: int) -> dict[str, str]:
        """``{code: ancestor at level}`` for all codes; raises if any has none."""
        out: dict[str, str] = {}
        bad: list[str] = []
        for c in codes:
            a = self.ancestor(str(c), level)
            if a is None:
                bad.append(str(c))
            else:
                out[str(c)] = a
        if bad:
            shown = ", ".join(bad[:10]) + (f" (and {len(bad) - 10} more)" if len(bad) > 10 else "")
            raise ValueError(
                f"{len(bad)} codes have no {self.name} ancestor at level {level}: {shown}"
            )
        return out

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        code: str = "code",
        parent: str = "parent",
        level: str | None = "level",
        name: str = "hierarchy",
    ) -> Hierarchy:
        """From a code list with parent (and optionally level) columns."""
        codes = frame[code].astype(str).str.strip()
        parents = frame[parent].fillna("").astype(str).str.strip()
        pmap = dict(zip(codes, parents, strict=True))
        if level is not None and level in frame:
            lmap = dict(zip(codes, frame[level].astype(int), strict=True))
        else:
            lmap = {}
            for c in codes:
                depth, p = 0, pmap.get(c)
                while p and depth < 50:
                    depth, p = depth + 1, pmap.get(p)
                lmap[c] = depth
        return cls(pmap, lmap, name=name)

    @classmethod
    def nuts(cls, codes: Iterable[str]) -> Hierarchy:
        """NUTS regions: level = length − 2 (``DE`` 0, ``DE1`` 1, ``DE11`` 2, ``DE111`` 3).

        Codes that are not NUTS-shaped (``EU27_2020``) get no level and roll up nowhere.
        """
        parents: dict[str, str | None] = {}
        levels: dict[str, int] = {}
        pattern = re.compile(r"^[A-Z]{2}[0-9A-Z]{0,3}$")
        for c in map(str, codes):
            if not pattern.match(c):
                continue
            for k in range(2, len(c) + 1):
                sub = c[:k]
                levels[sub] = k - 2
                parents[sub] = sub[:-1] if k > 2 else None
        return cls(parents, levels, name="NUTS")

    @classmethod
    def naics(cls, codes: Iterable[str]) -> Hierarchy:
        """NAICS industries: 2-digit sector (level 2) down to 6-digit national industry (6).

        Sectors spanning several codes (``31-33``, ``44-45``, ``48-49``) are level 2 and the parents
        of their three-digit subsectors.
        """
        parents: dict[str, str | None] = {}
        levels: dict[str, int] = {}
        for c in map(str, codes):
            if c in NAICS_SECTORS.values():
                levels[c], parents[c] = 2, None
                continue
            if not re.fullmatch(r"\d{2,6}", c):
                continue
            for k in range(2, len(c) + 1):
                sub = c[:k]
                if k == 2:
                    sector = NAICS_SECTORS.get(sub, sub)
                    levels[sector], parents[sector] = 2, None
                    continue
                levels[sub] = k
                parents[sub] = NAICS_SECTORS.get(sub[:2], sub[:2]) if k == 3 else sub[:-1]
        return cls(parents, levels, name="NAICS")

    @classmethod
    def nace(cls, codes: Iterable[str]) -> Hierarchy:
        """NACE Rev. 2: section (level 1, ``C``), division (2, ``10``), group (3, ``10.1``), class
        (4, ``10.11``). Eurostat's compact forms (``C10``, ``C101``, ``C1011``) are understood too.
        """
        parents: dict[str, str | None] = {}
        levels: dict[str, int] = {}

        def section_of(division: int) -> str | None:
            for letter, (lo, hi) in NACE_SECTIONS.items():
                if lo <= division <= hi:
                    return letter
            return None

        for c in map(str, codes):
            if c in NACE_SECTIONS:
                levels[c], parents[c] = 1, None
                continue
            dotted = re.fullmatch(r"(\d{2})(?:\.(\d)(\d)?)?", c)
            compact = re.fullmatch(r"([A-U])(\d{2})(\d)?(\d)?", c)
            if dotted:
                div, g, k = dotted.groups()
                chain = [div] + ([f"{div}.{g}"] if g else []) + ([f"{div}.{g}{k}"] if k else [])
                section = section_of(int(div))
            elif compact:
                sec, div, g, k = compact.groups()
                chain = [sec + div]
                chain += [sec + div + g] if g else []
                chain += [sec + div + g + k] if k else []
                section = sec
            else:
                continue
            if section is None:
                continue
            levels[section], parents[section] = 1, None
            prev = section
            for depth, code in enumerate(chain, start=2):
                levels[code], parents[code] = depth, prev
                prev = code
        return cls(parents, levels, name="NACE")
