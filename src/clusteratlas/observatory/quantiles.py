"""Percentiles of many columns at once, each over its own subset of rows.

The star ratings and the strong-cluster flags compare each region with percentiles of the
regions where the cluster is present. Computing those with ``numpy.percentile`` one column at a
time costs a Python call per cluster and year; here every column is sorted in one call and the
interpolation is done on arrays. The result is bit-for-bit what ``numpy.percentile`` (the default
``linear`` method) gives for each column's selected values; the tests check that.

:class:`SortedColumns` keeps the sorted columns, so percentiles of any positive multiple of the
values (``values / k`` with one ``k`` per column, such as a location quotient derived from a
share) are obtained without sorting again: dividing by a positive number is monotone in
floating point, so the sorted multiples are exactly the multiples of the sorted values.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["SortedColumns", "masked_percentiles"]


class SortedColumns:
    """The selected values of each column of a (n, k) array, sorted (unselected pushed last).

    Parameters
    ----------
    values : (n, k) float array
    mask : (n, k) bool array
        Which rows count for each column. Selected values must be finite.
    """

    def __init__(self, values: np.ndarray, mask: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        mask = np.asarray(mask, dtype=bool)
        self.n, self.k = values.shape
        ordered = np.where(mask, values, np.inf).T.copy()
        ordered.sort(axis=1)
        self.ordered = ordered
        self.count = mask.sum(axis=0)

    @classmethod
    def from_cells(
        cls, values: np.ndarray, slots: np.ndarray, count: np.ndarray, n: int
    ) -> SortedColumns:
        """From selected cells of an ``(n, k)`` array given as ``values`` at flat positions
        ``slots = column * n + row`` of the transposed array, with ``count`` cells per column."""
        self = cls.__new__(cls)
        self.n, self.k = n, len(count)
        ordered = np.full(self.k * n, np.inf)
        ordered[slots] = values
        ordered = ordered.reshape(self.k, n)
        ordered.sort(axis=1)
        self.ordered = ordered
        self.count = count
        return self

    def percentiles(self, q: Sequence[float], *, divisor: np.ndarray | None = None) -> np.ndarray:
        """``(len(q), k)`` percentiles of each column (of ``values / divisor`` if given, with
        ``divisor`` a positive (k,) array); NaN for a column with no selected value."""
        out = np.full((len(q), self.k), np.nan)
        if self.n == 0 or self.k == 0:
            return out
        count, n = self.count, self.n
        cols = np.arange(self.k)
        has = count > 0
        for j, pct in enumerate(q):
            quantile = np.true_divide(pct, 100)  # as numpy.percentile does
            virtual = (count - 1) * quantile
            previous = np.floor(virtual)
            above = virtual >= count - 1
            nxt = np.where(above, count - 1, previous + 1)
            previous = np.where(above, count - 1, previous)
            gamma = virtual - np.where(above, -1, previous)
            a = self.ordered[cols, np.clip(previous, 0, n - 1).astype(np.intp)]
            b = self.ordered[cols, np.clip(nxt, 0, n - 1).astype(np.intp)]
            if divisor is not None:
                a, b = a / divisor, b / divisor
            with np.errstate(invalid="ignore"):
                res = _lerp(a, b, gamma)
            out[j] = np.where(has, res, np.nan)
        return out


def masked_percentiles(values: np.ndarray, mask: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """Column-wise percentiles of ``values[mask[:, j], j]`` for each column ``j``.

    Returns a ``(len(q), k)`` array, NaN for a column with no selected value; equal to
    ``numpy.percentile`` of each column's selected values.
    """
    return SortedColumns(values, mask).percentiles(q)


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Linear interpolation written as numpy's quantile code writes it (for identical rounding)."""
    diff = b - a
    res = a + diff * t
    hi = t >= 0.5
    res[hi] = (b - diff * (1 - t))[hi]
    # equal neighbours (including the clipped last element) give the value itself
    same = a == b
    res[same] = a[same]
    return res
