"""An in-memory facet index of the organisations, one per process and database.

The organisation search filters, counts its facets and sorts on a few columns of every
organisation; asking the database for each facet's counts costs a grouped query per facet over
the text matches. Instead each process keeps those columns as numpy arrays (a few hundred
kilobytes for 10,000 profiles) and asks the database only for the text matches and the page's
rows; the matches of the most recent queries are kept with the index, so the search API and
page and every facet, sort or page of the same words share them. Arrays and matches are
dropped when the database says they are stale: triggers change the token of
``search_generation`` in every transaction that writes organisations or their sectors
(migration ``9e3b2c1d7f60``), and each search compares that token with the one the index was
built at (one primary-key read). The sort orders come from the database itself (``ORDER BY
lower(name), id`` as ranks), so both paths order names the same way on SQLite and PostgreSQL.

:func:`search` gives the same answer as the SQL path of
:func:`clusteratlas.collaboration.search.search_organisations` (a property test checks it).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from clusteratlas.collaboration.models import (
    OrganisationManager,
    OrganisationStatus,
    SearchGeneration,
    User,
)
from clusteratlas.collaboration.permissions import can_moderate, is_member

__all__ = ["FACET_COLUMNS", "OrganisationIndex", "current_index", "search"]

#: the facets read from the organisations' own columns (``sector`` has its own table)
FACET_COLUMNS = ("country", "region", "type", "label")
#: matching rows an index keeps for recent text queries, all queries together (an id and a
#: score: 16 bytes a row, so 16 MB at most)
MATCH_CACHE_ROWS = 1_000_000


def _codes(values: Sequence[Any]) -> tuple[np.ndarray, list[str]]:
    """Integer codes of ``values`` (``-1`` for None) and the distinct values, in order."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    return codes.astype(np.int32), [str(v) for v in uniques]


def sector_group(code: str) -> str:
    """The sector facet's value of a code: NAICS range sectors (``31-33``) whole, other codes
    by their first three characters (NACE division ``C27``, NAICS subsector ``335``)."""
    return code if len(code) > 2 and code[2] == "-" else code[:3]


@dataclass(frozen=True)
class OrganisationIndex:
    """The columns of every organisation that the search filters, counts and sorts on."""

    token: str
    ids: np.ndarray  # sorted ascending; position i describes organisation ids[i]
    published: np.ndarray
    codes: Mapping[str, np.ndarray]  # facet → code per organisation (-1: none)
    values: Mapping[str, list[str]]  # facet → the value of each code
    name_rank: np.ndarray  # rank in ORDER BY lower(name), id
    newest_rank: np.ndarray  # rank in ORDER BY published_at DESC NULLS LAST, lower(name), id
    sector_org: np.ndarray  # (organisation, sector group) pairs, without repeats
    sector_group: np.ndarray
    sector_values: list[str]
    code_orgs: Mapping[str, np.ndarray]  # full sector code → positions of its organisations
    #: text matches of recent queries (ids, scores), valid as long as the index is
    _matches: OrderedDict[Any, Any] = field(default_factory=OrderedDict, repr=False)
    _matches_rows: list[int] = field(default_factory=lambda: [0], repr=False)
    _matches_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def matches(self, key: Any, compute: Callable[[], Any]) -> Any:
        """The text matches of ``key`` (the query's words and scoring), computed once while
        this index is current: the search API and page and every facet or sort of the same
        words share them. The most recent are kept, :data:`MATCH_CACHE_ROWS` rows in all."""
        with self._matches_lock:
            found = self._matches.get(key)
            if found is not None:
                self._matches.move_to_end(key)
                return found
        found = compute()
        with self._matches_lock:
            if key not in self._matches:
                self._matches[key] = found
                self._matches_rows[0] += len(found[0])
            while self._matches_rows[0] > MATCH_CACHE_ROWS and len(self._matches) > 1:
                _, dropped = self._matches.popitem(last=False)
                self._matches_rows[0] -= len(dropped[0])
        return found

    @property
    def size(self) -> int:
        return len(self.ids)

    def positions(self, ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Positions of the given ids that are in the index (others are dropped)."""
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids) or not self.size:
            return np.empty(0, dtype=np.int64)
        found = np.searchsorted(self.ids, ids)
        found = np.minimum(found, self.size - 1)
        return found[self.ids[found] == ids]

    def mask_of(self, positions: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        mask[positions] = True
        return mask


def _token(session: Session) -> str | None:
    return session.scalar(select(SearchGeneration.token).where(SearchGeneration.id == 1))


def _rows(session: Session, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in session.execute(text(sql))]


def _ranks(session: Session, ids: np.ndarray, order_sql: str) -> np.ndarray:
    ordered = np.fromiter(
        (r[0] for r in _rows(session, f"SELECT id FROM organisations ORDER BY {order_sql}")),
        dtype=np.int64,
    )
    rank = np.empty(len(ids), dtype=np.int64)
    rank[np.searchsorted(ids, ordered)] = np.arange(len(ordered))
    return rank


def build(session: Session, token: str) -> OrganisationIndex:
    """Read the index's columns (in ``session``'s transaction)."""
    frame = pd.DataFrame(
        _rows(
            session,
            "SELECT id, status, country, region_code, type, quality_label "
            "FROM organisations ORDER BY id",
        ),
        columns=["id", "status", *FACET_COLUMNS],
        dtype=object,
    )
    ids = frame["id"].to_numpy(dtype=np.int64)
    published = (frame["status"] == OrganisationStatus.published.value).to_numpy(dtype=bool)
    codes: dict[str, np.ndarray] = {}
    values: dict[str, list[str]] = {}
    for facet in FACET_COLUMNS:
        codes[facet], values[facet] = _codes(frame[facet])
    name_rank = _ranks(session, ids, "lower(name), id")
    newest_rank = _ranks(session, ids, "published_at IS NULL, published_at DESC, lower(name), id")
    sectors = pd.DataFrame(
        _rows(session, "SELECT organisation_id, code FROM organisation_sectors"),
        columns=["organisation_id", "code"],
        dtype=object,
    )
    sectors["position"] = np.searchsorted(ids, sectors["organisation_id"].to_numpy(np.int64))
    codes_text = sectors["code"].astype(str)
    is_range = codes_text.str.slice(2, 3) == "-"
    sectors["group"] = codes_text.where(is_range, codes_text.str.slice(0, 3))
    pairs = sectors[["position", "group"]].drop_duplicates().sort_values(["position", "group"])
    group_codes, sector_values = _codes(pairs["group"])
    code_orgs = {
        str(code): np.unique(group.to_numpy(dtype=np.int64))
        for code, group in sectors.groupby("code", sort=False)["position"]
    }
    return OrganisationIndex(
        token=token,
        ids=ids,
        published=published,
        codes=codes,
        values=values,
        name_rank=name_rank,
        newest_rank=newest_rank,
        sector_org=pairs["position"].to_numpy(dtype=np.int64),
        sector_group=group_codes,
        sector_values=sector_values,
        code_orgs=code_orgs,
    )


_indexes: weakref.WeakKeyDictionary[Engine, OrganisationIndex] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def current_index(session: Session) -> OrganisationIndex | None:
    """The index of ``session``'s database as ``session`` sees it, rebuilt if stale; None when
    the database has no generation token (not migrated to ``9e3b2c1d7f60``)."""
    token = _token(session)
    if token is None:
        return None
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    index = _indexes.get(engine)
    if index is not None and index.token == token:
        return index
    with _lock:
        index = _indexes.get(engine)
        if index is None or index.token != token:
            index = build(session, token)
            _indexes[engine] = index
    return index


def _visible(session: Session, index: OrganisationIndex, viewer: User | None) -> np.ndarray:
    if viewer is None or not is_member(viewer):
        return index.published
    if can_moderate(viewer) or viewer.is_admin:
        return np.ones(index.size, dtype=bool)
    managed = session.scalars(
        select(OrganisationManager.organisation_id).where(OrganisationManager.user_id == viewer.id)
    ).all()
    return index.published | index.mask_of(index.positions(managed))


def _facet_mask(index: OrganisationIndex, facet: str, wanted: Sequence[str]) -> np.ndarray:
    if facet == "sector":
        found = [orgs for code, orgs in index.code_orgs.items() if code.startswith(tuple(wanted))]
        if not found:
            return np.zeros(index.size, dtype=bool)
        return index.mask_of(np.concatenate(found))
    known = {value: k for k, value in enumerate(index.values[facet])}
    chosen = [known[value] for value in wanted if value in known]
    return np.isin(index.codes[facet], np.asarray(chosen, dtype=np.int32))


def _counts(index: OrganisationIndex, facet: str, mask: np.ndarray) -> dict[str, int]:
    if facet == "sector":
        groups = index.sector_group[mask[index.sector_org]]
        values = index.sector_values
    else:
        groups = index.codes[facet][mask]
        groups = groups[groups >= 0]
        values = index.values[facet]
    counted = np.bincount(groups, minlength=len(values))
    return {values[k]: int(n) for k, n in enumerate(counted.tolist()) if n}


@dataclass
class IndexedResult:
    ids: list[int]  # the page, in order
    total: int
    counts: dict[str, dict[str, int]]  # facet → value → count (not yet sorted or cut)


def search(
    session: Session,
    index: OrganisationIndex,
    *,
    viewer: User | None,
    matches: tuple[np.ndarray, np.ndarray | None] | None,
    filters: Mapping[str, Sequence[str]],
    sort: str,
    limit: int,
    offset: int,
    facets: Sequence[str],
) -> IndexedResult:
    """The page of ids, the total and the disjunctive facet counts. ``matches``: the text
    matches as ids and scores (scores only for the relevance sort), None without words;
    ``filters``: facet → wanted values (normalised as the SQL path has them)."""
    base = _visible(session, index, viewer)
    scores = None
    if matches is not None:
        match_ids, match_scores = matches
        ids = np.asarray(match_ids, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        found = np.searchsorted(index.ids, ids[order])
        found = np.minimum(found, max(index.size - 1, 0))
        keep = index.ids[found] == ids[order] if index.size else np.zeros(0, dtype=bool)
        base = base & index.mask_of(found[keep])
        if match_scores is not None:
            scores = np.full(index.size, -np.inf)
            scores[found[keep]] = np.asarray(match_scores, dtype=np.float64)[order][keep]
    masks = {facet: _facet_mask(index, facet, wanted) for facet, wanted in filters.items()}
    every = base.copy()
    for mask in masks.values():
        every &= mask
    counts: dict[str, dict[str, int]] = {}
    for facet in facets:
        scope = base.copy()
        for name, mask in masks.items():
            if name != facet:
                scope &= mask
        counts[facet] = _counts(index, facet, scope)
    positions = np.flatnonzero(every)
    end = offset + limit
    if scores is not None and sort == "relevance":
        ranked = positions[np.lexsort((index.name_rank[positions], -scores[positions]))]
    else:
        key = (index.newest_rank if sort == "newest" else index.name_rank)[positions]
        if end < len(positions):
            top = np.argpartition(key, end - 1)[:end]
            ranked = positions[top[np.argsort(key[top])]]
        else:
            ranked = positions[np.argsort(key)]
    page = index.ids[ranked[offset:end]]
    return IndexedResult(ids=page.tolist(), total=int(every.sum()), counts=counts)
