"""Statistical disclosure control of region × industry tables: primary and complementary
suppression.

Primary suppression withholds a cell when it has fewer than ``min_establishments``
establishments, or when its largest firm holds more than ``dominance_share`` of its employment
(the (1, p) dominance rule). Withholding those cells alone is not enough when region totals and
industry totals are published: a single withheld cell in a row equals the row total minus the
published cells. Complementary suppression withholds more cells, year by year, until no withheld
cell can be recovered from the published cells and margins.

The heuristic (documented in ``docs/microdata.md``): the withheld cells of a year, seen as the
edges of a bipartite graph between regions and industries, must each lie on a *cycle* of
withheld cells. Along a cycle, adding ``+d`` and ``-d`` alternately to the cells keeps every row
and column total, so an intruder who knows the margins and the published cells cannot tell the
true values from the shifted ones: every withheld cell ``x`` can be anything in at least
``[x - m, x + m]``, where ``m`` is the smallest value on its cycle (values are non-negative). A
cell that is not yet on a cycle gets one through the cheapest path between its region and its
industry in the graph of non-empty cells (Dijkstra; a withheld cell costs nothing, a published
one costs its value), and the cells on that path are withheld too. Adding cells never breaks an
earlier cycle, so at the end every withheld cell is protected. A cell that lies on no cycle of
non-empty cells at all (a bridge of that graph: typically the only non-empty cell of its region
or industry, where the margin *is* the cell) cannot be protected by suppression; such cells are
returned in :attr:`Suppression.unprotected`.

Pure numpy/pandas/scipy on the aggregated table: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

__all__ = [
    "COMPLEMENTARY",
    "CONFIDENTIAL",
    "PRIMARY",
    "Suppression",
    "complementary_suppression",
    "primary_suppression",
    "suppress",
]

#: the ``flag`` of a withheld cell in the output panel
CONFIDENTIAL = "confidential"
#: why a cell is withheld (column ``reason`` of :attr:`Suppression.cells`)
PRIMARY = "primary"
COMPLEMENTARY = "complementary"


def primary_suppression(
    cells: pd.DataFrame,
    *,
    min_establishments: int = 0,
    dominance_share: float | None = None,
) -> np.ndarray:
    """Cells that are sensitive in themselves: a boolean array over the rows of ``cells``.

    ``cells`` has ``employment`` and ``establishments`` and, for the dominance rule,
    ``top_firm_employment`` (the employment of the cell's largest firm) or ``dominated`` (a
    boolean already computed with ``dominance_share``). A cell is sensitive when it has fewer
    than ``min_establishments`` establishments, or when its largest firm holds more than
    ``dominance_share`` of its employment.
    """
    if dominance_share is not None and not 0 < dominance_share <= 1:
        raise ValueError(f"dominance_share must be in (0, 1], got {dominance_share}")
    sensitive = np.zeros(len(cells), dtype=bool)
    if min_establishments > 0:
        sensitive |= cells["establishments"].to_numpy(np.float64) < min_establishments
    if dominance_share is not None:
        if "dominated" in cells:
            sensitive |= cells["dominated"].to_numpy(bool)
        elif "top_firm_employment" in cells:
            top = cells["top_firm_employment"].to_numpy(np.float64)
            total = cells["employment"].to_numpy(np.float64)
            sensitive |= top > dominance_share * total
        else:
            raise ValueError("the dominance rule needs the column top_firm_employment")
    return sensitive


@dataclass(frozen=True)
class Suppression:
    """The withheld cells of a table.

    ``withheld`` is a boolean array over the rows of the input; ``reason`` says ``primary``,
    ``complementary`` or ``""`` per row; ``unprotected`` lists the rows (positions) of primary
    cells that no suppression pattern can protect, because they are the only non-empty cell of
    their region or industry in that year (the published margin equals the cell).
    """

    withheld: np.ndarray
    reason: np.ndarray
    unprotected: np.ndarray

    @property
    def primary(self) -> int:
        return int((self.reason == PRIMARY).sum())

    @property
    def complementary(self) -> int:
        return int((self.reason == COMPLEMENTARY).sum())


def complementary_suppression(
    values: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    primary: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Complementary cells of one two-way table (one year).

    ``values[k]`` is the value of the cell at ``(rows[k], cols[k])`` (integer positions; each
    cell once; cells not given are empty and published as such). Returns ``(withheld,
    unprotected)``: booleans over the cells, the primary ones included, and the positions of
    primary cells that cannot be protected.
    """
    values = np.asarray(values, dtype=np.float64)
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    withheld = np.asarray(primary, dtype=bool).copy()
    n_cells = len(values)
    if n_cells == 0 or not withheld.any():
        return withheld, np.array([], dtype=np.int64)
    n_rows = int(rows.max()) + 1
    n_nodes = n_rows + int(cols.max()) + 1
    # nodes: regions 0..n_rows-1, industries n_rows..; every cell is an edge, stored in both
    # directions of one CSR matrix whose weights are refreshed before each search
    src = np.concatenate([rows, n_rows + cols])
    dst = np.concatenate([n_rows + cols, rows])
    cell_of = np.concatenate([np.arange(n_cells), np.arange(n_cells)])
    order = np.lexsort((dst, src))
    src, dst, cell_of = src[order], dst[order], cell_of[order]
    indptr = np.searchsorted(src, np.arange(n_nodes + 1))
    # a published cell costs its value, a withheld one almost nothing; the tiny cost per cell
    # prefers fewer cells among equally cheap paths
    eps = max(float(values.max()), 1.0) * 1e-9
    blocked = 1e300
    # cells not on any cycle of withheld cells need one; those on one stay protected whatever
    # is added later, so only the bridges of the withheld graph are searched for
    todo = _bridges(rows[withheld], n_rows + cols[withheld], n_nodes)
    todo = np.flatnonzero(withheld)[todo]
    todo = todo[np.argsort(-values[todo], kind="stable")]  # the largest first
    unprotected: list[int] = []
    for k in todo:
        cost = np.where(withheld, eps, values + eps)
        cost[k] = blocked  # the cell itself is no path from its region to its industry
        graph = sparse.csr_array((cost[cell_of], dst, indptr), shape=(n_nodes, n_nodes))
        dist, pred = csgraph.dijkstra(
            graph, directed=True, indices=int(rows[k]), return_predecessors=True
        )
        target = n_rows + int(cols[k])
        if not dist[target] < blocked / 2:
            unprotected.append(int(k))
            continue
        node = target
        while node != rows[k]:
            prev = int(pred[node])
            lo, hi = indptr[prev], indptr[prev + 1]
            j = lo + int(np.searchsorted(dst[lo:hi], node))
            withheld[cell_of[j]] = True
            node = prev
    return withheld, np.asarray(sorted(unprotected), dtype=np.int64)


def _bridges(a: np.ndarray, b: np.ndarray, n_nodes: int) -> np.ndarray:
    """Which edges ``(a[k], b[k])`` of an undirected graph are bridges (on no cycle):
    Tarjan's low-link, iteratively."""
    n_edges = len(a)
    adjacency: list[list[tuple[int, int]]] = [[] for _ in range(n_nodes)]
    for k, (u, v) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        adjacency[u].append((v, k))
        adjacency[v].append((u, k))
    bridge = np.zeros(n_edges, dtype=bool)
    depth = [-1] * n_nodes
    low = [0] * n_nodes
    for root in set(a.tolist()):
        if depth[root] >= 0:
            continue
        depth[root] = low[root] = 0
        stack = [(root, -1, iter(adjacency[root]))]
        while stack:
            node, via, edges = stack[-1]
            for nxt, k in edges:
                if k == via:
                    continue
                if depth[nxt] < 0:
                    depth[nxt] = low[nxt] = depth[node] + 1
                    stack.append((nxt, k, iter(adjacency[nxt])))
                    break
                low[node] = min(low[node], depth[nxt])
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > depth[parent]:
                        bridge[via] = True
    return bridge


def suppress(
    cells: pd.DataFrame,
    *,
    min_establishments: int = 0,
    dominance_share: float | None = None,
    value: str = "employment",
) -> Suppression:
    """Primary and complementary suppression of a long table of cells.

    ``cells`` has ``year, region, industry`` (each combination once), ``value`` (the measure
    whose margins are published, by default ``employment``), ``establishments`` and, for the
    dominance rule, ``top_firm_employment`` or ``dominated`` (see :func:`primary_suppression`).
    Complementary cells are chosen year by year from the cells with a positive ``value``; absent
    cells are empty and published as such.
    """
    primary = primary_suppression(
        cells, min_establishments=min_establishments, dominance_share=dominance_share
    )
    withheld = primary.copy()
    unprotected: list[np.ndarray] = []
    if primary.any():
        r_codes, _ = pd.factorize(cells["region"])
        i_codes, _ = pd.factorize(cells["industry"])
        values = cells[value].to_numpy(np.float64)
        for _, positions in cells.groupby("year", sort=True).indices.items():
            if not primary[positions].any():
                continue
            # empty cells (value 0) can be withheld when primary, never chosen as complements
            usable = positions[(values[positions] > 0) | primary[positions]]
            w, bad = complementary_suppression(
                values[usable],
                _dense(r_codes[usable]),
                _dense(i_codes[usable]),
                primary[usable],
            )
            withheld[usable] = w
            unprotected.append(usable[bad])
    reason = np.where(primary, PRIMARY, np.where(withheld, COMPLEMENTARY, ""))
    lost = np.concatenate(unprotected) if unprotected else np.array([], dtype=np.int64)
    return Suppression(withheld=withheld, reason=reason.astype(object), unprotected=np.sort(lost))


def _dense(codes: np.ndarray) -> np.ndarray:
    """Renumber codes 0..k-1 (only the codes present in one year)."""
    return np.unique(codes, return_inverse=True)[1]
