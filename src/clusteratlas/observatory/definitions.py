"""Cluster definitions: which industries make up which cluster.

A definitions table has the columns ``industry, cluster, cluster_name, type`` (``type`` is
``traded`` or ``local`` and may be left out). Applying definitions to a panel aggregates
industries into clusters; industries that belong to no cluster are reported, never silently
dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse

from clusteratlas.observatory.panel import Panel, PanelError, Problem, as_text, plain

__all__ = ["ClusterDefinitions", "DefinitionsError", "UnmappedReport"]

TYPES = ("traded", "local")


class DefinitionsError(PanelError):
    """The definitions table is not valid; ``problems`` says where and why."""


@dataclass(frozen=True)
class UnmappedReport:
    """Industries of a panel that belong to no cluster, and how much employment they hold."""

    industries: tuple[str, ...]
    employment: dict[int, float]
    share: dict[int, float]

    @property
    def count(self) -> int:
        return len(self.industries)

    def describe(self, limit: int = 10) -> str:
        if not self.industries:
            return "every industry of the panel belongs to a cluster"
        shown = ", ".join(self.industries[:limit])
        more = f" and {self.count - limit} more" if self.count > limit else ""
        shares = ", ".join(f"{y}: {s:.1%}" for y, s in self.share.items())
        return (
            f"{self.count} industries belong to no cluster ({shown}{more}); "
            f"their share of employment by year: {shares}"
        )


class ClusterDefinitions:
    """A validated mapping of industries to clusters.

    Build with :meth:`from_frame` or :meth:`identity`.
    """

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table.reset_index(drop=True)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> ClusterDefinitions:
        """Validate a definitions table (values as read from a file are fine).

        Raises
        ------
        DefinitionsError
            On missing columns, empty codes, an unknown type, an industry mapped twice, or a
            cluster given two different names or types. Rows are 0-based positions.
        """
        missing = [c for c in ("industry", "cluster") if c not in frame]
        if missing:
            found = ", ".join(map(str, frame.columns)) or "none"
            raise DefinitionsError(
                [
                    Problem(None, c, None, f"missing required column (found: {found})")
                    for c in missing
                ]
            )
        if len(frame) == 0:
            raise DefinitionsError([Problem(None, None, None, "the table has no rows")])
        frame = frame.reset_index(drop=True)
        t = pd.DataFrame({c: as_text(frame[c]) for c in ("industry", "cluster")})
        t["cluster_name"] = as_text(frame["cluster_name"]) if "cluster_name" in frame else ""
        t.loc[t["cluster_name"] == "", "cluster_name"] = t["cluster"]
        t["type"] = as_text(frame["type"]).str.lower() if "type" in frame else ""
        problems: list[Problem] = []
        for col in ("industry", "cluster"):
            for r in np.flatnonzero(t[col].eq("").to_numpy()):
                problems.append(Problem(int(r), col, plain(frame[col].iloc[r]), "empty code"))
        for r in np.flatnonzero(~t["type"].isin(TYPES + ("",)).to_numpy()):
            problems.append(
                Problem(
                    int(r),
                    "type",
                    plain(frame["type"].iloc[r]),
                    "type must be 'traded' or 'local' (or empty)",
                )
            )
        first_row: dict[str, int] = {}
        for r, (ind, cl) in enumerate(zip(t["industry"], t["cluster"], strict=True)):
            if ind in first_row and ind:
                prev = first_row[ind]
                problems.append(
                    Problem(
                        r,
                        "industry",
                        ind,
                        f"industry mapped twice: to cluster {t['cluster'].iloc[prev]!r} "
                        f"at {{related}} and to {cl!r} here",
                        related=prev,
                    )
                )
            else:
                first_row[ind] = r
        for col in ("cluster_name", "type"):
            seen: dict[str, tuple[int, str]] = {}
            for r, (cl, val) in enumerate(zip(t["cluster"], t[col], strict=True)):
                if cl in seen and seen[cl][1] != val:
                    problems.append(
                        Problem(
                            r,
                            col,
                            val,
                            f"cluster {cl!r} has {col} {seen[cl][1]!r} at {{related}}",
                            related=seen[cl][0],
                        )
                    )
                seen.setdefault(cl, (r, val))
        if problems:
            raise DefinitionsError(problems[:20], total=len(problems))
        return cls(t)

    @classmethod
    def identity(cls, industries: Sequence[str]) -> ClusterDefinitions:
        """Each industry its own cluster (named by its code, no type)."""
        codes = [str(i) for i in industries]
        return cls(
            pd.DataFrame(
                {
                    "industry": codes,
                    "cluster": codes,
                    "cluster_name": codes,
                    "type": [""] * len(codes),
                }
            )
        )

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        return (
            f"<ClusterDefinitions {len(self.clusters)} clusters from {len(self.table)} industries>"
        )

    @cached_property
    def clusters(self) -> pd.DataFrame:
        """One row per cluster, sorted by code: index ``cluster``, ``cluster_name``, ``type``."""
        return (
            self.table.drop_duplicates("cluster")
            .set_index("cluster")[["cluster_name", "type"]]
            .sort_index()
        )

    @property
    def has_types(self) -> bool:
        return bool((self.table["type"] != "").any())

    @cached_property
    def is_identity(self) -> bool:
        return bool((self.table["industry"] == self.table["cluster"]).all())

    def matrix(self, industries: pd.Index) -> tuple[sparse.csr_array, np.ndarray]:
        """The industries × clusters 0/1 aggregation matrix (float64) and the mask of industries
        that belong to a cluster."""
        cl_pos = pd.Series(np.arange(len(self.clusters)), index=self.clusters.index)
        mapping = self.table.set_index("industry")["cluster"]
        target = mapping.reindex(industries)
        mapped = target.notna().to_numpy()
        rows = np.flatnonzero(mapped)
        cols = cl_pos.reindex(target.iloc[rows].to_numpy()).to_numpy()
        A = sparse.csr_array(
            (np.ones(len(rows)), (rows, cols)), shape=(len(industries), len(self.clusters))
        )
        return A, mapped

    def unmapped(self, panel: Panel) -> UnmappedReport:
        """Which industries of ``panel`` belong to no cluster, with their employment by year."""
        _, mapped = self.matrix(panel.industries)
        codes = tuple(str(c) for c in panel.industries[~mapped])
        employment: dict[int, float] = {}
        share: dict[int, float] = {}
        for y in panel.years:
            by_industry = np.asarray(panel.matrix("employment", y).sum(axis=0)).ravel()
            total = float(by_industry.sum())
            employment[y] = float(by_industry[~mapped].sum())
            share[y] = employment[y] / total if total > 0 else 0.0
        return UnmappedReport(codes, employment, share)

    def apply(self, panel: Panel) -> tuple[Panel, UnmappedReport]:
        """Aggregate a panel into region × cluster; industries without a cluster are left out of
        the result and described in the returned report."""
        report = self.unmapped(panel)
        _, mapped = self.matrix(panel.industries)
        keep = panel.industries[mapped]
        mapping = self.table.set_index("industry")["cluster"]
        sub = panel if mapped.all() else _drop_industries(panel, keep)
        return sub.aggregate(industries=mapping.reindex(keep)), report


def _drop_industries(panel: Panel, keep: pd.Index) -> Panel:
    pos = panel.industries.get_indexer(keep)
    data = {m: {y: panel.matrix(m, y)[:, pos] for y in panel.years} for m in panel.measures}
    remap = np.full(len(panel.industries), -1)
    remap[pos] = np.arange(len(pos))
    fl = panel._flags.copy()  # noqa: SLF001 - same layer
    fl["industry"] = remap[fl["industry"].to_numpy()]
    fl = fl[fl["industry"] >= 0]
    return Panel(years=panel.years, regions=panel.regions, industries=keep, data=data, flags=fl)
