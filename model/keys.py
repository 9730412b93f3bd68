"""Integer keys of index tuples, so tables are joined with numpy sorts instead of Python loops.

Every name of an instance (process, commodity, region, policy) gets a code (its position in
its table), every year its offset in the horizon (capacity rows may list years before it), and
an index tuple becomes one int64 in mixed radix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: the dimension of each key column
DIM = {"process": "process", "commodity": "commodity", "region": "region", "origin": "region",
       "destination": "region", "year": "year", "vintage": "year", "policy": "policy", "step": "step",
       "delay": "delay"}


class Dims:
    """Codes of the names of each dimension (their rank in name order, so sorting keys sorts
    by names), and of years (offset from ``year0``)."""

    def __init__(self, names: dict[str, list], years: list[int], year_span: tuple[int, int] | None = None):
        self.names = {k: pd.Index(sorted({str(x) for x in v}), dtype=object) for k, v in names.items()}
        lo, hi = (years[0], years[-1]) if year_span is None else year_span
        self.year0 = int(lo)
        self.nyear = int(hi - lo + 1)

    def size(self, dim: str) -> int:
        if dim == "year":
            return self.nyear
        return max(len(self.names[dim]), 1)

    def code(self, col: str, values) -> np.ndarray:
        dim = DIM[col]
        if dim == "year":
            return np.asarray(values, dtype=np.int64) - self.year0
        if dim in ("step", "delay"):
            return np.asarray(values, dtype=np.int64)
        # each distinct name looked up once: pandas factorizes a column of text where it is
        # held (Arrow), without making a Python string per row first
        codes, distinct = pd.factorize(values if isinstance(values, (pd.Series, pd.Index)) else np.asarray(values, dtype=object))
        if not len(codes):
            return np.zeros(0, dtype=np.int64)
        found = self.names[dim].get_indexer(np.asarray(distinct, dtype=object)).astype(np.int64)
        return np.where(codes >= 0, found[np.maximum(codes, 0)], -1)

    def key(self, frame, cols) -> np.ndarray:
        """One int64 per row of ``frame`` (a DataFrame or a mapping of arrays) from ``cols``."""
        n = len(frame[cols[0]]) if len(cols) else 0
        k = np.zeros(n, dtype=np.int64)
        for c in cols:
            dim = DIM[c]
            radix = self.size(dim) if dim not in ("step", "delay") else 1 << 16
            k = k * radix + self.code(c, frame[c])
        return k


def lookup(keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Position of each ``query`` key among ``keys`` (unique), -1 where absent."""
    query = np.asarray(query, dtype=np.int64)
    if len(keys) == 0:
        return np.full(len(query), -1, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    pos = np.minimum(np.searchsorted(sk, query), len(sk) - 1)
    return np.where(sk[pos] == query, order[pos], -1).astype(np.int64)


def groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows grouped by equal keys: ``(unique keys ascending, members, starts)`` where the rows
    of group g are ``members[starts[g]:starts[g + 1]]`` (in their original order)."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    first = np.ones(len(sk), dtype=bool)
    first[1:] = sk[1:] != sk[:-1]
    starts = np.flatnonzero(first)
    return sk[starts], order, starts


def product(counts: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """For rows with ``counts[k][i]`` items in list k, every combination of one item of each
    list: the row of each combination and, per list, the item's offset within the row's list
    (rows in order, the last list varying fastest)."""
    total = np.ones(len(counts[0]), dtype=np.int64)
    for c in counts:
        total = total * c
    row = np.repeat(np.arange(len(total), dtype=np.int64), total)
    k = np.arange(int(total.sum()), dtype=np.int64) - np.repeat(np.cumsum(total) - total, total)
    offsets = []
    rest = total.copy()
    for c in counts:
        rest = rest // np.maximum(c, 1)
        r = rest[row]
        offsets.append((k // np.maximum(r, 1)) % np.maximum(c[row], 1))
    return row, offsets


def ragged(lists: list[list]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A list of lists as (flat items, start of each list, length of each list)."""
    lengths = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    flat = [v for x in lists for v in x]
    starts = np.cumsum(lengths) - lengths
    return np.asarray(flat, dtype=object), starts, lengths
