"""Crosswalks between editions of a classification: NAICS 2012 → 2017 → 2022, NACE Rev. 2 →
Rev. 2.1, and NUTS 2016 → 2021 → 2024 (Eurostat's NUTS change tables).

A :class:`Crosswalk` is a set of ``from_code → to_code`` pairs. :func:`apply_crosswalk` recodes a
panel's industries (or regions) for some years: codes that merge are summed, a code that splits
has its values divided among its targets (equal shares, or in proportion to ``weights``), and
codes the crosswalk does not know are kept as they are. The :class:`CrosswalkReport` says what
happened. :func:`harmonise` brings a panel whose years use different editions onto one edition;
:func:`harmonise_naics` and :func:`harmonise_nuts` do so for US industries and EU regions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from clusteratlas.observatory.panel import Panel
from clusteratlas.sources.classifications import MissingCodeListError, default_cache_dir

__all__ = [
    "CONVERTED_FLAG",
    "CROSSWALKS",
    "NAICS_EDITIONS",
    "NUTS_VERSIONS",
    "Crosswalk",
    "CrosswalkReport",
    "apply_crosswalk",
    "harmonise",
    "harmonise_naics",
    "harmonise_nuts",
    "load_crosswalk",
    "naics_edition",
    "nuts_version",
    "weights_from_panel",
]

#: flag added to every cell that received a share of a split code
CONVERTED_FLAG = "x"

#: name -> (file name, scheme, from edition, to edition)
CROSSWALKS: dict[str, tuple[str, str, str, str]] = {
    "naics-2012-2017": ("naics_2012_2017.csv", "naics", "2012", "2017"),
    "naics-2017-2022": ("naics_2017_2022.csv", "naics", "2017", "2022"),
    "nace-2-2.1": ("nace_rev2_to_rev2_1.csv", "nace", "2", "2.1"),
    "nuts-2016-2021": ("nuts_2016_2021.csv", "nuts", "2016", "2021"),
    "nuts-2021-2024": ("nuts_2021_2024.csv", "nuts", "2021", "2024"),
}

#: the NAICS edition of each County Business Patterns year (first year of each edition)
NAICS_EDITIONS: dict[str, int] = {"2012": 2012, "2017": 2017, "2022": 2022}


#: the NUTS version of Eurostat's regional structural business statistics by reference year
#: (first year of each version): up to 2020 NUTS 2016 (``sbs_r_nuts06_r2``), 2021–2023 NUTS 2021
#: (``sbs_r_nuts2021``), from 2024 NUTS 2024
NUTS_VERSIONS: dict[str, int] = {"2016": 0, "2021": 2021, "2024": 2024}


def nuts_version(year: int) -> str:
    """The NUTS version in which Eurostat publishes regional SBS for a reference year:
    ``"2016"`` up to 2020, ``"2021"`` for 2021–2023, ``"2024"`` from 2024."""
    return [v for v, start in NUTS_VERSIONS.items() if start <= int(year)][-1]


def naics_edition(year: int) -> str:
    """The NAICS edition that US statistics (CBP) use for a reference year (2012 onwards)."""
    found = [e for e, start in NAICS_EDITIONS.items() if start <= year]
    if not found:
        raise ValueError(f"no supported NAICS edition for {year} (NAICS 2012 starts in 2012)")
    return found[-1]


@dataclass(frozen=True)
class Crosswalk:
    """``from_code → to_code`` pairs between two editions of a classification.

    A code with one target and whose target has one source is one-to-one (possibly renamed);
    several sources with one target merge; a source with several targets splits.

    Rows with an empty side are not pairs: a source without a target is ``discontinued`` (e.g. a
    NUTS region abolished without a stated successor), a target without a source is ``new``.
    Both are kept as sorted tuples (codes that also appear in a pair are not listed).
    """

    pairs: pd.DataFrame = field(repr=False)
    name: str = "crosswalk"
    scheme: str | None = None
    from_edition: str | None = None
    to_edition: str | None = None
    #: source codes without a target
    discontinued: tuple[str, ...] = ()
    #: target codes without a source
    new: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        pairs = self.pairs
        missing = [c for c in ("from_code", "to_code") if c not in pairs.columns]
        if missing:
            raise ValueError(
                f"a crosswalk needs the columns from_code, to_code (missing {missing})"
            )
        raw = pairs[["from_code", "to_code"]].fillna("").astype(str)
        raw = raw.apply(lambda s: s.str.strip())
        has_from, has_to = raw["from_code"] != "", raw["to_code"] != ""
        clean = raw[has_from & has_to]
        clean = clean.drop_duplicates().sort_values(["from_code", "to_code"], ignore_index=True)
        gone = set(raw.loc[has_from & ~has_to, "from_code"]) | set(self.discontinued)
        added = set(raw.loc[has_to & ~has_from, "to_code"]) | set(self.new)
        object.__setattr__(self, "pairs", clean)
        object.__setattr__(self, "discontinued", tuple(sorted(gone - set(clean["from_code"]))))
        object.__setattr__(self, "new", tuple(sorted(added - set(clean["to_code"]))))

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]], **kwargs: object) -> Crosswalk:
        """From ``(from_code, to_code)`` tuples; an empty side marks a discontinued or new code."""
        frame = pd.DataFrame(list(pairs), columns=["from_code", "to_code"], dtype=object)
        return cls(frame, **kwargs)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return (
            f"<Crosswalk {self.name}: {len(self.pairs)} pairs, {len(self.sources)} → "
            f"{len(self.targets_all)} codes>"
        )

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def sources(self) -> list[str]:
        return sorted(set(self.pairs["from_code"]))

    @property
    def targets_all(self) -> list[str]:
        return sorted(set(self.pairs["to_code"]))

    def targets(self, code: str) -> list[str]:
        return list(self.pairs.loc[self.pairs["from_code"] == code, "to_code"])

    def mapping(self) -> dict[str, list[str]]:
        """``{from_code: [to_code, …]}``."""
        return {k: list(g) for k, g in self.pairs.groupby("from_code", sort=True)["to_code"]}

    def then(self, other: Crosswalk) -> Crosswalk:
        """This crosswalk followed by ``other`` (e.g. NAICS 2012→2017 then 2017→2022).

        Codes of the middle edition that ``other`` does not know pass through unchanged; those
        it discontinues are dropped, and a source left without a target is discontinued. New
        codes of this crosswalk, carried through ``other``, stay new."""
        gone = set(other.discontinued)
        middle = self.pairs.rename(columns={"to_code": "mid"})
        middle = middle[~middle["mid"].isin(gone)]
        nxt = other.pairs.rename(columns={"from_code": "mid"})
        joined = middle.merge(nxt, on="mid", how="left")
        joined["to_code"] = joined["to_code"].fillna(joined["mid"])
        later = other.mapping()
        new = set(other.new) | {
            t for code in self.new if code not in gone for t in later.get(code, [code])
        }
        return Crosswalk(
            joined[["from_code", "to_code"]],
            name=f"{self.name} + {other.name}",
            scheme=self.scheme,
            from_edition=self.from_edition,
            to_edition=other.to_edition,
            discontinued=tuple(
                set(self.discontinued) | (set(self.sources) - set(joined["from_code"]))
            ),
            new=tuple(new),
        )

    def reverse(self) -> Crosswalk:
        return Crosswalk(
            self.pairs.rename(columns={"from_code": "to_code", "to_code": "from_code"}),
            name=f"{self.name} (reversed)",
            scheme=self.scheme,
            from_edition=self.to_edition,
            to_edition=self.from_edition,
            discontinued=self.new,
            new=self.discontinued,
        )


def load_crosswalk(
    name: str,
    *,
    path: str | Path | None = None,
    cache_dir: str | Path | None = None,
) -> Crosswalk:
    """Read a named crosswalk (:data:`CROSSWALKS`): ``naics-2012-2017``, ``naics-2017-2022``,
    ``naics-2012-2022`` (the two chained), ``nace-2-2.1``, ``nuts-2016-2021``,
    ``nuts-2021-2024``.

    ``path`` is the CSV file (``from_code,to_code,…``) or a folder holding it under its usual
    name; without it the file is read from ``<cache>/classifications``, where
    ``clusteratlas fetch classifications`` puts the NAICS concordances and Eurostat's NUTS change
    tables (``from_code,to_code,change``). Rows with an empty ``from_code`` or ``to_code`` are
    not pairs: they give the crosswalk's :attr:`~Crosswalk.new` and
    :attr:`~Crosswalk.discontinued` codes.
    """
    key = name.strip().lower().replace("_", "-").replace("rev", "")
    if key == "naics-2012-2022":
        first = load_crosswalk("naics-2012-2017", path=path, cache_dir=cache_dir)
        return first.then(load_crosswalk("naics-2017-2022", path=path, cache_dir=cache_dir))
    if key not in CROSSWALKS:
        raise ValueError(
            f"unknown crosswalk {name!r}; choose one of {', '.join(CROSSWALKS)}, naics-2012-2022"
        )
    filename, scheme, src, dst = CROSSWALKS[key]
    if path is not None:
        file = Path(path)
        if file.is_dir():
            file = file / filename
    else:
        root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        file = root / "classifications" / filename
    if not file.is_file():
        hint = {
            "nuts": "run `clusteratlas fetch classifications` (Eurostat's NUTS change tables)",
            "naics": "run `clusteratlas fetch classifications`",
        }.get(scheme, "run `clusteratlas fetch classifications --from DIR` (NACE)")
        raise MissingCodeListError(f"the {key} crosswalk is not at {file}; {hint}, or pass path=")
    frame = pd.read_csv(file, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return Crosswalk(frame, name=key, scheme=scheme, from_edition=src, to_edition=dst)


# ---------------------------------------------------------------------- the report
@dataclass(frozen=True)
class CrosswalkReport:
    """What :func:`apply_crosswalk` did to the codes that had data in the converted years."""

    crosswalk: str
    dimension: str
    years: tuple[int, ...]
    #: codes mapped to the same code
    unchanged: tuple[str, ...] = ()
    #: one-to-one under a new code: ``{old: new}``
    renamed: dict[str, str] = field(default_factory=dict)
    #: ``{new: (old, …)}`` for targets that received several codes
    merged: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: ``{old: (new, …)}`` for codes divided among several targets
    split: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: codes the crosswalk does not know, kept as they are
    unknown: tuple[str, ...] = ()
    #: split codes divided in equal shares because ``weights`` gave their targets no weight
    equal_shares: tuple[str, ...] = ()
    weighted: bool = False
    #: codes the crosswalk gives no successor (e.g. a NUTS region abolished), kept as they are
    discontinued: tuple[str, ...] = ()
    #: codes of the result that the crosswalk lists as new in its target edition
    new: tuple[str, ...] = ()
    #: codes left as they are on request (``keep=``, e.g. a panel's aggregate regions)
    kept: tuple[str, ...] = ()

    def describe(self, limit: int = 8) -> str:
        """A few lines for people: counts, then examples."""

        def some(items: Sequence[str]) -> str:
            shown = ", ".join(items[:limit])
            return shown + (f" (and {len(items) - limit} more)" if len(items) > limit else "")

        years = _span(self.years)
        how = "by the given weights" if self.weighted else "in equal shares"
        lines = [
            f"{self.crosswalk} applied to the {self.dimension} codes of {years}: "
            f"{len(self.unchanged)} unchanged, {len(self.renamed)} renamed, "
            f"{len(self.merged)} merged targets, {len(self.split)} split codes, "
            f"{len(self.unknown)} not in the crosswalk (kept as they are)"
            + (f", {len(self.discontinued)} discontinued" if self.discontinued else "")
            + (f", {len(self.new)} new" if self.new else "")
            + (f", {len(self.kept)} aggregates kept" if self.kept else "")
        ]
        if self.renamed:
            lines.append("renamed: " + some([f"{a}→{b}" for a, b in self.renamed.items()]))
        if self.merged:
            lines.append("merged: " + some([f"{'+'.join(s)}→{t}" for t, s in self.merged.items()]))
        if self.split:
            lines.append(
                f"split ({how}, cells flagged '{CONVERTED_FLAG}'): "
                + some([f"{s}→{'/'.join(t)}" for s, t in self.split.items()])
            )
        if self.equal_shares:
            lines.append("no weights, so split equally: " + some(list(self.equal_shares)))
        if self.unknown:
            lines.append("not in the crosswalk: " + some(list(self.unknown)))
        if self.discontinued:
            lines.append(
                "discontinued, with no successor in the crosswalk (kept as they are): "
                + some(list(self.discontinued))
            )
        if self.new:
            lines.append("new, with no predecessor in the crosswalk: " + some(list(self.new)))
        if self.kept:
            lines.append("kept as they are: " + some(list(self.kept)))
        return "\n".join(lines)


def _span(years: Sequence[int]) -> str:
    if not years:
        return "no years"
    ys = list(years)
    if ys == list(range(ys[0], ys[-1] + 1)) and len(ys) > 1:
        return f"{ys[0]}–{ys[-1]}"
    return ", ".join(map(str, ys))


# ---------------------------------------------------------------------- applying
def weights_from_panel(
    panel: Panel, year: int | None = None, *, dimension: str = "industry"
) -> pd.Series:
    """Total employment of each code in one year (default: the panel's first), to use as
    ``weights`` for splits: e.g. target employment in the first year of the new edition."""
    y = panel.years[0] if year is None else year
    m = panel.matrix("employment", y)
    axis = 0 if dimension == "industry" else 1
    totals = np.asarray(m.sum(axis=axis)).ravel()
    labels = panel.industries if dimension == "industry" else panel.regions
    return pd.Series(totals, index=list(labels), dtype=float)


def _used(panel: Panel, years: Sequence[int], dimension: str) -> np.ndarray:
    """Which codes of the dimension have a non-zero value or a flag in the given years."""
    n = len(panel.industries if dimension == "industry" else panel.regions)
    used = np.zeros(n, bool)
    for measure in panel.measures:
        for y in years:
            m = panel.matrix(measure, y).tocoo()
            used[(m.coords[1] if dimension == "industry" else m.coords[0])] = True
    fl = panel.flag_positions
    fl = fl[fl["year"].isin(years)]
    used[fl[dimension].to_numpy()] = True
    return used


def apply_crosswalk(
    panel: Panel,
    crosswalk: Crosswalk,
    *,
    dimension: str = "industry",
    years: Iterable[int] | None = None,
    weights: Mapping[str, float] | pd.Series | None = None,
    keep: Iterable[str] = (),
) -> tuple[Panel, CrosswalkReport]:
    """Recode the panel's industries (or regions) with a crosswalk in the given years (all by
    default); other years keep their codes.

    - Codes that merge into one target are summed.
    - A code with several targets is divided among them: in equal shares, or in proportion to
      ``weights[target]`` (e.g. :func:`weights_from_panel` of the first year of the new
      edition); a code whose targets all have no positive weight is split equally. Split values
      are fractional. Every cell that received a share of a split code is flagged
      :data:`CONVERTED_FLAG` (``x``), besides the flags it inherits.
    - Flags follow their values (a target cell carries the union of its sources' flags), and so
      do bounds of estimated values (scaled by the share).
    - Codes not in the crosswalk are kept as they are and listed in the report; so are the
      crosswalk's discontinued codes (listed apart), and the codes in ``keep`` (e.g. aggregate
      regions such as ``EU27_2020`` or countries), which are never recoded.

    The recoded dimension loses its hierarchy (it belonged to the old edition).
    """
    if dimension not in ("industry", "region"):
        raise ValueError(f"dimension must be 'industry' or 'region', not {dimension!r}")
    chosen = tuple(panel.years) if years is None else tuple(sorted(set(map(int, years))))
    panel.require_years(*chosen)
    old = list(panel.industries if dimension == "industry" else panel.regions)
    kept = set(keep)
    mapping = {c: t for c, t in crosswalk.mapping().items() if c not in kept}
    w = None if weights is None else pd.Series(weights, dtype=float)

    # shares[c] = [(target, share)] for the converted years
    shares: dict[str, list[tuple[str, float]]] = {}
    equal: list[str] = []
    for code in old:
        targets = mapping.get(code)
        if targets is None:
            shares[code] = [(code, 1.0)]
        elif len(targets) == 1:
            shares[code] = [(targets[0], 1.0)]
        else:
            tw = None
            if w is not None:
                tw = w.reindex(targets).fillna(0.0).clip(lower=0.0).to_numpy()
                if tw.sum() <= 0:
                    tw = None
                    equal.append(code)
            if tw is None:
                tw = np.ones(len(targets))
            shares[code] = list(zip(targets, (tw / tw.sum()).tolist(), strict=True))

    converting = len(chosen) > 0
    keeping = [y for y in panel.years if y not in chosen]
    labels: set[str] = set()
    if converting:
        labels |= {t for pairs in shares.values() for t, _ in pairs}
    if keeping:
        labels |= set(np.asarray(old, dtype=object)[_used(panel, keeping, dimension)])
    new = sorted(labels)
    index = {c: k for k, c in enumerate(new)}

    rows, cols, vals, split_src = [], [], [], []
    for k, code in enumerate(old):
        for t, s in shares[code]:
            rows.append(k)
            cols.append(index[t])
            vals.append(s)
            split_src.append(len(shares[code]) > 1)
    conv = sparse.csr_array((vals, (rows, cols)), shape=(len(old), len(new)))
    ident_pos = np.array([index.get(c, -1) for c in old])
    keep_ok = ident_pos >= 0
    ident = sparse.csr_array(
        (np.ones(keep_ok.sum()), (np.flatnonzero(keep_ok), ident_pos[keep_ok])),
        shape=(len(old), len(new)),
    )
    split_codes = np.array([len(shares[c]) > 1 for c in old])

    def recode(m: sparse.csr_array, M: sparse.csr_array) -> sparse.csr_array:
        return sparse.csr_array(m @ M if dimension == "industry" else M.T @ m)

    data = {
        measure: {
            y: recode(panel.matrix(measure, y), conv if y in chosen else ident) for y in panel.years
        }
        for measure in panel.measures
    }
    flags = _recode_flags(panel, dimension, chosen, conv, ident, split_codes, data["employment"])

    used = _used(panel, chosen, dimension) if converting else np.zeros(len(old), bool)
    report = _report(
        crosswalk, dimension, chosen, old, used, mapping, equal, w is not None, kept, new
    )
    if dimension == "industry":
        out = Panel(
            years=panel.years,
            regions=panel.regions,
            industries=new,
            data=data,
            flags=flags,
            region_hierarchy=panel.region_hierarchy,
            aggregates=panel.aggregates,
        )
    else:
        out = Panel(
            years=panel.years,
            regions=new,
            industries=panel.industries,
            data=data,
            flags=flags,
            industry_hierarchy=panel.industry_hierarchy,
            aggregates=[a for a in panel.aggregates if a in index],
        )
    return out, report


def _recode_flags(
    panel: Panel,
    dimension: str,
    chosen: tuple[int, ...],
    conv: sparse.csr_array,
    ident: sparse.csr_array,
    split_codes: np.ndarray,
    employment: Mapping[int, sparse.csr_array],
) -> pd.DataFrame | None:
    """Flags (and bounds) moved to the new codes; split cells get the converted flag."""
    fl = panel.flag_positions.copy()
    has_bounds = "lower" in fl
    if has_bounds:
        value = np.zeros(len(fl))
        for y, g in fl.groupby("year", sort=False):
            m = panel.matrix("employment", int(y))
            value[g.index.to_numpy()] = np.asarray(m[g["region"], g["industry"]]).ravel()
        fl["below"] = value - fl["lower"]
        fl["above"] = fl["upper"] - value
    # cells of split codes in converted years that hold a value: they will carry the x flag
    extra = []
    for y in chosen:
        for measure in panel.measures:
            c = panel.matrix(measure, y).tocoo()
            r, i = c.coords[0], c.coords[1]
            pos = i if dimension == "industry" else r
            keep = split_codes[pos]
            if keep.any():
                extra.append(
                    pd.DataFrame({"year": y, "region": r[keep], "industry": i[keep], "flag": ""})
                )
    if extra:
        fl = pd.concat([fl, *extra], ignore_index=True)
    if not len(fl):
        return None
    parts = []
    for y, g in fl.groupby("year", sort=False):
        M = (conv if int(y) in chosen else ident).tocoo()
        links = pd.DataFrame({"src": M.coords[0], "dst": M.coords[1], "share": M.data})
        g = g.rename(columns={dimension: "src"}).merge(links, on="src", how="inner")
        if int(y) in chosen:
            split = split_codes[g["src"].to_numpy()]
            g["flag"] = np.where(split, g["flag"].astype(str) + "," + CONVERTED_FLAG, g["flag"])
        if has_bounds:
            g["below"] = g["below"] * g["share"]
            g["above"] = g["above"] * g["share"]
        parts.append(g.drop(columns=["src", "share"]).rename(columns={"dst": dimension}))
    fl = pd.concat(parts, ignore_index=True)
    keys = ["year", "region", "industry"]
    out = (
        fl.assign(flag=fl["flag"].astype(str).str.split(","))
        .explode("flag")
        .groupby(keys, as_index=False)["flag"]
        .agg(lambda s: ",".join(sorted(set(s) - {""})))
    )
    if has_bounds:
        gaps = fl.groupby(keys, as_index=False)[["below", "above"]].sum(min_count=1)
        out = out.merge(gaps, on=keys)
        value = np.zeros(len(out))
        for y, g in out.groupby("year", sort=False):
            m = employment[int(y)]
            value[g.index.to_numpy()] = np.asarray(m[g["region"], g["industry"]]).ravel()
        out["lower"] = value - out.pop("below")
        out["upper"] = value + out.pop("above")
    return out


def _report(
    crosswalk: Crosswalk,
    dimension: str,
    years: tuple[int, ...],
    old: list[str],
    used: np.ndarray,
    mapping: Mapping[str, list[str]],
    equal: list[str],
    weighted: bool,
    kept: set[str],
    labels: list[str],
) -> CrosswalkReport:
    present = [c for c, u in zip(old, used, strict=True) if u]
    gone = set(crosswalk.discontinued)
    unknown = [c for c in present if c not in mapping and c not in kept and c not in gone]
    known = [c for c in present if c in mapping]
    sources_of: dict[str, list[str]] = {}
    for c in known:
        for t in mapping[c]:
            sources_of.setdefault(t, []).append(c)
    split = {c: tuple(mapping[c]) for c in known if len(mapping[c]) > 1}
    merged = {t: tuple(s) for t, s in sorted(sources_of.items()) if len(s) > 1}
    unchanged, renamed = [], {}
    for c in known:
        (t, *more) = mapping[c]
        if more or len(sources_of[t]) > 1:
            continue
        if t == c:
            unchanged.append(c)
        else:
            renamed[c] = t
    return CrosswalkReport(
        crosswalk=crosswalk.name,
        dimension=dimension,
        years=years,
        unchanged=tuple(unchanged),
        renamed=renamed,
        merged=merged,
        split=split,
        unknown=tuple(unknown),
        equal_shares=tuple(c for c in equal if c in split),
        weighted=weighted,
        discontinued=tuple(c for c in present if c in gone and c not in mapping and c not in kept),
        new=tuple(sorted(set(crosswalk.new) & set(labels))),
        kept=tuple(c for c in present if c in kept),
    )


# ---------------------------------------------------------------------- editions
def harmonise(
    panel: Panel,
    *,
    target: str,
    edition_of: Callable[[int], str] | Mapping[int, str],
    crosswalks: Iterable[Crosswalk],
    dimension: str = "industry",
    weights: Mapping[str, float] | pd.Series | None = None,
    keep: Iterable[str] = (),
) -> tuple[Panel, list[CrosswalkReport]]:
    """Bring a panel whose years use different editions onto the ``target`` edition.

    ``edition_of`` gives each year's edition (a function or a mapping); ``crosswalks`` are the
    available steps, each with ``from_edition`` and ``to_edition`` set; a chain of steps (e.g.
    2012→2017→2022) is composed with :meth:`Crosswalk.then` and applied once to the years of
    that edition. Codes in ``keep`` are never recoded (see :func:`apply_crosswalk`). Returns
    the panel and one report per converted edition.
    """
    steps = {(c.from_edition, c.to_edition): c for c in crosswalks}
    keep = tuple(keep)
    find = edition_of.__getitem__ if isinstance(edition_of, Mapping) else edition_of
    by_edition: dict[str, list[int]] = {}
    for y in panel.years:
        by_edition.setdefault(str(find(y)), []).append(y)
    reports = []
    for edition, years in sorted(by_edition.items()):
        if edition == target:
            continue
        chain = _chain(steps, edition, target)
        if chain is None:
            known = ", ".join(f"{a}→{b}" for a, b in steps)
            raise ValueError(
                f"no crosswalk path from edition {edition} to {target} (have: {known or 'none'})"
            )
        walk = chain[0]
        for step in chain[1:]:
            walk = walk.then(step)
        panel, report = apply_crosswalk(
            panel, walk, dimension=dimension, years=years, weights=weights, keep=keep
        )
        reports.append(report)
    return panel, reports


def _chain(
    steps: Mapping[tuple[str | None, str | None], Crosswalk], start: str, goal: str
) -> list[Crosswalk] | None:
    frontier: list[tuple[str, list[Crosswalk]]] = [(start, [])]
    seen = {start}
    while frontier:
        edition, path = frontier.pop(0)
        for (a, b), cw in steps.items():
            if a == edition and b is not None and b not in seen:
                if b == goal:
                    return path + [cw]
                seen.add(b)
                frontier.append((b, path + [cw]))
    return None


def harmonise_naics(
    panel: Panel,
    target: str = "2022",
    *,
    weights: Mapping[str, float] | pd.Series | None = None,
    path: str | Path | None = None,
    cache_dir: str | Path | None = None,
) -> tuple[Panel, list[CrosswalkReport]]:
    """NAICS industries of each year (2012–2016 in NAICS 2012, 2017–2021 in 2017, from 2022 in
    2022, as County Business Patterns publishes them) recoded to one edition (default 2022).
    Going back to an older edition is not supported."""
    steps = [
        load_crosswalk("naics-2012-2017", path=path, cache_dir=cache_dir),
        load_crosswalk("naics-2017-2022", path=path, cache_dir=cache_dir),
    ]
    return harmonise(
        panel, target=target, edition_of=naics_edition, crosswalks=steps, weights=weights
    )


def harmonise_nuts(
    panel: Panel,
    target: str = "2021",
    *,
    weights: Mapping[str, float] | pd.Series | None = None,
    path: str | Path | None = None,
    cache_dir: str | Path | None = None,
) -> tuple[Panel, list[CrosswalkReport]]:
    """NUTS regions of each year (:func:`nuts_version`: up to 2020 NUTS 2016, 2021–2023 NUTS 2021,
    from 2024 NUTS 2024, as Eurostat publishes regional SBS) recoded to one version (default
    2021, or 2024) with Eurostat's NUTS change tables (``nuts-2016-2021``, ``nuts-2021-2024``,
    read from ``path`` or the cache). The panel's aggregate regions (``EU27_2020``, countries…)
    are kept as they are and stay aggregates. Regions the table discontinues without a
    successor are kept under their old code; the reports list them, and the new regions.
    Going back to an older version is not supported."""
    goal = "".join(ch for ch in str(target) if ch.isdigit())
    if goal not in NUTS_VERSIONS:
        raise ValueError(f"unknown NUTS version {target!r}; choose {', '.join(NUTS_VERSIONS)}")
    versions = {nuts_version(y) for y in panel.years}
    later = sorted(v for v in versions if int(v) > int(goal))
    if later:
        raise ValueError(
            f"the panel has years in NUTS {', '.join(later)}, later than the target NUTS {goal}; "
            "going back to an older NUTS version is not supported"
        )
    names = {"2016": "nuts-2016-2021", "2021": "nuts-2021-2024"}
    needed = [n for v, n in names.items() if int(v) < int(goal) and min(versions) <= v]
    steps = [load_crosswalk(n, path=path, cache_dir=cache_dir) for n in needed]
    return harmonise(
        panel,
        target=goal,
        edition_of=nuts_version,
        crosswalks=steps,
        dimension="region",
        weights=weights,
        keep=panel.aggregates,
    )
