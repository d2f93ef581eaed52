"""The statistics of ``schemas/flow.md`` computed in Python, for the
sequences the flows table has no statistic columns of (``tcp_flags``,
``tcp_window_sizes``): over many rows at once (``segment_stats``, what
``to_dataframe`` uses) or one sequence (``sequence_stats``, ``flow.stats``).
Tests check both against the engine's own statistic columns."""

from __future__ import annotations

import numpy as np


def segment_stats(values: np.ndarray, offsets: np.ndarray) -> dict[str, np.ndarray]:
    """Per list row: the statistics of ``schemas/flow.md`` over the absolute
    values, and over the up (> 0) and down (< 0) values, for all rows at
    once (values grouped by row, so every reduction is a ``reduceat`` or a
    ``bincount``). Empty sets give 0 (the caller masks rows the reference
    leaves out)."""
    offsets = np.asarray(offsets, dtype=np.int64)
    v = np.asarray(values)[offsets[0]:offsets[-1]] if len(offsets) else np.zeros(0)
    offsets = offsets - (offsets[0] if len(offsets) else 0)
    integral = v.dtype.kind in "iu"
    v = v.astype(np.float64)
    a = np.abs(v)
    n_rows = max(len(offsets) - 1, 0)
    counts = np.diff(offsets)
    seg = np.repeat(np.arange(n_rows), counts)
    out: dict[str, np.ndarray] = {}

    def moments(mask, prefix: str, full: bool):
        s_idx = seg if mask is None else seg[mask]
        x = a if mask is None else a[mask]
        k = np.bincount(s_idx, minlength=n_rows)
        div = np.maximum(k, 1)
        total = np.bincount(s_idx, weights=x, minlength=n_rows)
        mean = total / div
        d = x - mean[s_idx]
        m2 = np.bincount(s_idx, weights=d * d, minlength=n_rows) / div
        ok = k > 0
        starts = np.cumsum(k) - k
        mn = np.zeros(n_rows)
        mx = np.zeros(n_rows)
        if ok.any():
            mn[ok] = np.minimum.reduceat(x, starts[ok])
            mx[ok] = np.maximum.reduceat(x, starts[ok])
        out[prefix + "count"] = k
        out[prefix + "sum"] = total
        out[prefix + "mean"] = mean
        out[prefix + "std"] = np.sqrt(m2)
        out[prefix + "var"] = m2
        out[prefix + "min"] = mn
        out[prefix + "max"] = mx
        out[prefix + "range"] = mx - mn
        if full:
            m3 = np.bincount(s_idx, weights=d ** 3, minlength=n_rows) / div
            m4 = np.bincount(s_idx, weights=d ** 4, minlength=n_rows) / div
            pos = m2 > 0
            safe = np.where(pos, m2, 1.0)
            out[prefix + "skew"] = np.where(pos, m3 / safe ** 1.5, 0.0)
            out[prefix + "kurt"] = np.where(pos, m4 / safe ** 2 - 3.0, 0.0)
            out[prefix + "cv"] = np.where(mean != 0, np.sqrt(m2) / np.where(mean != 0, mean, 1.0), 0.0)
            if integral and (len(x) == 0 or x.max() < 2 ** 31):
                # one sort of (row, value) packed in an int64: no lexsort
                sx = (np.sort((s_idx.astype(np.int64) << 32) | x.astype(np.int64)) & 0xFFFFFFFF).astype(np.float64)
            else:
                sx = x[np.lexsort((x, s_idx))]
            med = np.zeros(n_rows)
            med[ok] = (sx[starts[ok] + (k[ok] - 1) // 2] + sx[starts[ok] + k[ok] // 2]) / 2.0
            out[prefix + "median"] = med

    moments(None, "", True)
    moments(v > 0, "up_", False)
    moments(v < 0, "down_", False)
    return out


def sequence_stats(values) -> dict[str, float]:
    """``segment_stats`` of one sequence, as Python numbers."""
    v = np.asarray(values)
    return {k: col[0].item() for k, col in segment_stats(v, np.array([0, len(v)])).items()}
