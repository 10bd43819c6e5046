"""Percentiles of many columns at once, each over its own subset of rows.

The star ratings and the strong-cluster flags compare each region with percentiles of the
regions where the cluster is present. Computing those with ``numpy.percentile`` one column at a
time costs a Python call per cluster and year; here every column is sorted in one call and the
interpolation is done on arrays. The result is bit-for-bit what ``numpy.percentile`` (the default
``linear`` method) gives for each column's selected values; the tests check that.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["masked_percentiles"]


def masked_percentiles(
    values: np.ndarray, mask: np.ndarray, q: Sequence[float]
) -> np.ndarray:
    """Column-wise percentiles of ``values[mask[:, j], j]`` for each column ``j``.

    Parameters
    ----------
    values : (n, k) float array
    mask : (n, k) bool array
        Which rows count for each column. Masked-in values must be finite.
    q : sequence of percentiles in [0, 100]

    Returns
    -------
    (len(q), k) float array; NaN for a column with no selected value.
    """
    values = np.asarray(values, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    n, k = values.shape
    out = np.full((len(q), k), np.nan)
    if n == 0 or k == 0:
        return out
    # Columns as contiguous rows, unselected values pushed to the end by +inf.
    ordered = np.where(mask, values, np.inf).T.copy()
    ordered.sort(axis=1)
    count = mask.sum(axis=0)
    cols = np.arange(k)
    has = count > 0
    for j, pct in enumerate(q):
        quantile = np.true_divide(pct, 100)  # as numpy.percentile does
        virtual = (count - 1) * quantile
        previous = np.floor(virtual)
        nxt = previous + 1
        above = virtual >= count - 1
        previous = np.where(above, count - 1, previous)
        nxt = np.where(above, count - 1, nxt)
        gamma = virtual - np.where(above, -1, previous)
        prev_i = np.clip(previous, 0, n - 1).astype(np.intp)
        next_i = np.clip(nxt, 0, n - 1).astype(np.intp)
        a = ordered[cols, prev_i]
        b = ordered[cols, next_i]
        with np.errstate(invalid="ignore"):
            res = _lerp(a, b, gamma)
        out[j] = np.where(has, res, np.nan)
    return out


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
