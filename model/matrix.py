"""The LP as arrays: column costs and bounds, row bounds, a sparse matrix, assembled from the
parts of every family (:mod:`rechain.model.families`) with numpy, no Python per element.

The order is the Pyomo model's (:mod:`rechain.model.formulation`), which renders the same
parts: rows family by family in declaration order, each over its members in table order;
the terms of a row in part order, then in the order its builder gives them (the same variable
twice in one row is one entry, its coefficients added in that order); columns numbered in the
order the variables first appear in the rows (then in the objective), which is the order
Pyomo's persistent HiGHS interface adds them. So a solver given these arrays sees the model
Pyomo would have handed it, and returns the same optimum and duals.

The numbers come from :meth:`Layout.evaluate` of the params; the parameter map of
:mod:`rechain.model.params` calls the same method with changed params, so an in-place update
and a fresh assembly agree entry for entry by construction. Nothing here imports a solver.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .data import ModelData
from .description import EmittedPart

INF = np.inf


@dataclass
class CSC:
    """A sparse matrix in compressed sparse column form (the layout of ``scipy.sparse.csc_matrix``
    and of HiGHS's column-wise matrix); scipy itself is not needed, and costs time to import."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]

    @property
    def nnz(self) -> int:
        return len(self.data)

    def to_scipy(self):
        import scipy.sparse as sp

        return sp.csc_matrix((self.data, self.indices, self.indptr), shape=self.shape)

    def without_zeros(self) -> "CSC":
        """The same matrix without explicit zeros (what a solver is given: a coefficient that is
        0 now keeps its place in :attr:`data`, so a later change can set it)."""
        keep = self.data != 0
        if keep.all():
            return self
        col = np.repeat(np.arange(self.shape[1], dtype=np.int64), np.diff(self.indptr))[keep]
        indptr = np.zeros(self.shape[1] + 1, dtype=np.int64)
        np.cumsum(np.bincount(col, minlength=self.shape[1]), out=indptr[1:])
        return CSC(indptr, self.indices[keep], self.data[keep], self.shape)


@dataclass
class Layout:
    """Where the numbers of every part land in the LP, to compute them from params.

    ``matrix``: (part, entry positions in ``CSC.data``); ``costs``: (part, columns); ``upper``:
    (part, entries kept, columns); ``rhs``: (part, entries kept, rows); ``sense``: per row, -1
    (<=), 0 (==), 1 (>=)."""

    nnz: int
    ncol: int
    nrow: int
    matrix: list[tuple[EmittedPart, np.ndarray]]
    costs: list[tuple[EmittedPart, np.ndarray]]
    upper: list[tuple[EmittedPart, np.ndarray]]
    rhs: list[tuple[EmittedPart, np.ndarray]]
    sense: np.ndarray

    @staticmethod
    def uses(part: EmittedPart, cost: bool = False) -> set[str]:
        names = set(part.coef.names)
        return names | {"df"} if cost else names

    def evaluate(self, params: dict[str, np.ndarray], only: set[str] | None = None, base: "LinearProgram | None" = None) -> dict:
        """The LP's numbers from ``params``: ``col_cost``, ``col_upper``, ``row_lower``,
        ``row_upper`` and ``data``. With ``only`` (param names) and ``base``, the arrays none of
        whose parts reads a param of ``only`` are those of ``base``, shared."""
        out = {}

        def changed(group, cost=False):
            return only is None or base is None or any(self.uses(g[0], cost) & only for g in group)

        # sums part by part (np.add.at adds in the order given, as the Pyomo rendering adds the
        # terms of an entry), so no array of every term's number is made
        if changed(self.matrix):
            data = np.zeros(self.nnz)
            for p, pos in self.matrix:
                np.add.at(data, pos, p.values(params))
            out["data"] = data
        else:
            out["data"] = base.matrix.data
        if changed(self.costs, cost=True):
            cost = np.zeros(self.ncol)
            for p, cols in self.costs:
                np.add.at(cost, cols, params["df"][p.pick.years] * p.values(params))
            out["col_cost"] = cost
        else:
            out["col_cost"] = base.col_cost
        if changed(self.upper):
            up = np.full(self.ncol, INF)
            for p, keep, cols in self.upper:
                up[cols] = p.values(params)[keep]
            out["col_upper"] = up
        else:
            out["col_upper"] = base.col_upper
        if changed(self.rhs):
            # the parts of one row add up, in part order (as the Pyomo rendering adds them)
            rhs = np.zeros(self.nrow)
            for p, keep, rows in self.rhs:
                np.add.at(rhs, rows, p.values(params)[keep])
            out["row_lower"] = np.where(self.sense >= 0, rhs, -INF)
            out["row_upper"] = np.where(self.sense <= 0, rhs, INF)
        else:
            out["row_lower"], out["row_upper"] = base.row_lower, base.row_upper
        return out


@dataclass
class LinearProgram:
    """A minimisation LP ``min c·x  s.t.  row_lower <= A x <= row_upper, col_lower <= x <= col_upper``.

    ``cols[family]`` gives, for each row of the family's index table, the column of its
    variable (-1 where the variable does not exist, e.g. ``violation`` of a hard policy);
    ``rows[family]`` gives, for each row of the family's index table, its row (-1 where the
    row is left out, e.g. ``build_new_limit`` without a finite limit). ``matrix`` is CSC
    (columns contiguous), ``num_row`` × ``num_col``; ``layout`` computes its numbers."""

    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    matrix: CSC
    cols: dict[str, np.ndarray] = field(default_factory=dict)
    rows: dict[str, np.ndarray] = field(default_factory=dict)
    offset: float = 0.0
    layout: Layout | None = None
    integer: np.ndarray | None = None  # columns that take whole numbers (None: an LP)

    @property
    def num_col(self) -> int:
        return len(self.col_cost)

    @property
    def num_row(self) -> int:
        return len(self.row_lower)

    @property
    def num_nz(self) -> int:
        return int(self.matrix.nnz)

    def positions(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Index into ``matrix.data`` of each entry (``rows[k]``, ``cols[k]``); -1 where the
        matrix has no such entry. The rows of a column are ascending, so one search does it."""
        a = self.matrix
        nrow = max(self.num_row, 1)
        col_of = np.repeat(np.arange(self.num_col, dtype=np.int64), np.diff(a.indptr))
        keys = col_of * nrow + a.indices.astype(np.int64)
        q = np.asarray(cols, dtype=np.int64) * nrow + np.asarray(rows, dtype=np.int64)
        if not len(keys):
            return np.full(len(q), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(keys, q), len(keys) - 1)
        return np.where(keys[pos] == q, pos, -1)

    def values(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Primal values per variable family, aligned with the index tables (0 where absent)."""
        x = np.asarray(x, dtype=float)
        return {fam: _take(x, idx, 0.0) for fam, idx in self.cols.items()}

    def duals(self, y: np.ndarray) -> dict[str, np.ndarray]:
        """Row duals per row family, aligned with the index tables (0 where absent)."""
        y = np.asarray(y, dtype=float)
        return {fam: _take(y, idx, 0.0) for fam, idx in self.rows.items()}

    def with_numbers(self, numbers: dict) -> "LinearProgram":
        """The same LP with other numbers (from :meth:`Layout.evaluate`)."""
        from dataclasses import replace

        m = self.matrix
        matrix = m if numbers["data"] is m.data else CSC(m.indptr, m.indices, numbers["data"], m.shape)
        return replace(self, col_cost=numbers["col_cost"], col_upper=numbers["col_upper"], row_lower=numbers["row_lower"],
                       row_upper=numbers["row_upper"], matrix=matrix)


def _take(x: np.ndarray, idx: np.ndarray, fill: float) -> np.ndarray:
    out = np.full(len(idx), fill)
    ok = idx >= 0
    out[ok] = x[idx[ok]]
    return out


def _index_dtype(n: int):
    """int32 for positions below ``n`` when they fit (half the memory of int64), else int64."""
    return np.int32 if n < np.iinfo(np.int32).max else np.int64


def assemble(d: ModelData) -> LinearProgram:
    """The LP of ``d`` as arrays (see the module docstring for the row and column order).

    Made with few temporaries, each as small as it can be (int32 positions where they fit,
    the work done part by part where it can be): on a large LP the memory a process touches
    for the first time costs more than the arithmetic."""
    # ---- provisional columns: family by family, members in table order ----------------------
    col_of, start = {}, 0
    for name, ev in d.vars.items():
        m = np.full(ev.size, -1, dtype=np.int64)
        m[ev.members] = start + np.arange(len(ev.members))
        col_of[name] = m
        start += len(ev.members)
    ncol = start

    # ---- rows and their terms ------------------------------------------------------------------
    row_of, senses, parts = {}, [], []
    nrow = 0
    for name, er in d.rows.items():
        m = np.full(er.size, -1, dtype=np.int64)
        m[er.members] = nrow + np.arange(len(er.members))
        row_of[name] = m
        senses.append(er.sense)
        nrow += len(er.members)
        parts += [(name, part) for part in er.terms]
    nterm = sum(part.size for _, part in parts)
    R = np.empty(nterm, dtype=_index_dtype(nrow))  # the row and the provisional column of every term
    C = np.empty(nterm, dtype=_index_dtype(ncol))
    # the first place of each column in the rows (row, then term): row * nterm + term, minimal
    first = np.full(ncol, np.iinfo(np.int64).max, dtype=np.int64)
    k = 0
    for name, part in parts:
        p, n = part.pick, part.size
        r, c = row_of[name][p.rows], col_of[part.decl.var][p.vars]
        if (r < 0).any() or (c < 0).any():
            raise ValueError(f"family '{name}': a term of '{part.decl.var}' falls on a row or variable that does not exist")
        R[k:k + n], C[k:k + n] = r, c
        np.minimum.at(first, c, r * nterm + np.arange(k, k + n))
        k += n
    parts = [part for _, part in parts]

    # ---- costs ---------------------------------------------------------------------------------
    cost_parts = []
    for name, ev in d.vars.items():
        for part in ev.costs:
            cols = col_of[name][part.pick.vars]
            if (cols < 0).any():
                raise ValueError(f"family '{name}': a cost falls on a variable that does not exist")
            cost_parts.append((part, cols))

    # ---- columns numbered by first appearance in the rows, then in the objective ------------
    in_obj = np.full(ncol, np.iinfo(np.int64).max, dtype=np.int64)
    k = 0
    for _, c in cost_parts:
        np.minimum.at(in_obj, c, np.arange(k, k + len(c)))
        k += len(c)
    perm = np.lexsort((np.arange(ncol), in_obj, first))  # new position -> provisional column
    del first, in_obj
    newpos = np.empty(ncol, dtype=np.int64)
    newpos[perm] = np.arange(ncol)

    # ---- one CSC entry per (row, column); an entry's terms add up in term order ---------------
    # the sort key (column, row) of every term, sorted stably: the terms of an entry stay in
    # term order; a run of equal keys is one entry
    key = newpos[C]
    del C
    key *= max(nrow, 1)
    key += R
    del R
    order = np.argsort(key, kind="stable")
    key.sort(kind="stable")  # key[order], in place
    run = np.empty(nterm, dtype=bool)
    run[:1] = True
    np.not_equal(key[1:], key[:-1], out=run[1:])
    nnz = int(np.count_nonzero(run))
    entry = np.empty(nterm, dtype=_index_dtype(nnz))  # the entry of every term
    num = np.cumsum(run, dtype=entry.dtype)
    num -= 1
    entry[order] = num
    del order, num
    key = key[run]
    del run
    ucol, indices = np.divmod(key, max(nrow, 1))
    del key
    indices = indices.astype(_index_dtype(nrow))
    indptr = np.zeros(ncol + 1, dtype=np.int64)
    np.cumsum(np.bincount(ucol, minlength=ncol), out=indptr[1:])
    del ucol

    # ---- the numbers ---------------------------------------------------------------------------
    matrix_parts, k = [], 0
    for part in parts:
        n = part.size
        matrix_parts.append((part, entry[k:k + n]))
        k += n
    # a bound or right-hand side picked for a variable or row that does not exist is dropped
    upper = []
    for name, ev in d.vars.items():
        for part in ev.upper:
            c = col_of[name][part.pick.vars]
            upper.append((part, c >= 0, newpos[c[c >= 0]]))
    rhs = []
    for name, er in d.rows.items():
        for part in er.rhs:
            r = row_of[name][part.pick.rows]
            rhs.append((part, r >= 0, r[r >= 0]))
    layout = Layout(nnz=nnz, ncol=ncol, nrow=nrow, matrix=matrix_parts,
                    costs=[(p, newpos[c]) for p, c in cost_parts], upper=upper, rhs=rhs,
                    sense=np.concatenate(senses) if senses else np.zeros(0, dtype=np.int64))
    num = layout.evaluate(d.params)
    cols = {name: np.where(m >= 0, newpos[np.maximum(m, 0)], -1) if len(m) else m for name, m in col_of.items()}
    whole = [cols[name][ev.members] for name, ev in d.vars.items() if ev.family.integer and len(ev.members)]
    return LinearProgram(
        col_cost=num["col_cost"], col_lower=np.zeros(ncol), col_upper=num["col_upper"],
        row_lower=num["row_lower"], row_upper=num["row_upper"],
        matrix=CSC(indptr=indptr, indices=indices, data=num["data"], shape=(nrow, ncol)),
        cols=cols, rows=row_of, layout=layout,
        integer=np.sort(np.concatenate(whole)) if whole else None,
    )


def pairs_by_code(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i, j) with ``left[i] == right[j]``: in left order, and in right order for
    one i (the order of a pandas inner merge)."""
    order = np.argsort(right, kind="stable")
    rs = right[order]
    lo = np.searchsorted(rs, left, side="left")
    cnt = np.searchsorted(rs, left, side="right") - lo
    li = np.repeat(np.arange(len(left)), cnt)
    off = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    return li, order[np.repeat(lo, cnt) + off]


def arrays(lp) -> dict[str, np.ndarray]:
    """The arrays of an LP, from a :class:`LinearProgram` or a ``highspy.HighsLp``, by name
    (explicit zeros of the matrix left out, as a solver is given it)."""
    if isinstance(lp, LinearProgram):
        a = lp.matrix.without_zeros()
        return dict(col_cost=lp.col_cost, col_lower=lp.col_lower, col_upper=lp.col_upper, row_lower=lp.row_lower,
                    row_upper=lp.row_upper, start=a.indptr, index=a.indices, value=a.data)
    return dict(col_cost=lp.col_cost_, col_lower=lp.col_lower_, col_upper=lp.col_upper_, row_lower=lp.row_lower_,
                row_upper=lp.row_upper_, start=lp.a_matrix_.start_, index=lp.a_matrix_.index_, value=lp.a_matrix_.value_)


def differences(got, want: LinearProgram, data: ModelData, limit: int = 5) -> list[str]:
    """Where LP ``got`` (a LinearProgram or a HighsLp) differs from ``want``, bit for bit, in
    words that name the rows and columns by family and index (``balance[ore,a,2021]``,
    ``act[mine,a,2021]``); empty when they are the same LP."""
    from .numerics import _Namer

    rname = _Namer(data, want.rows, want.num_row)
    cname = _Namer(data, want.cols, want.num_col)
    g, w = {k: np.asarray(v) for k, v in arrays(got).items()}, arrays(want)
    out = []
    if len(g["col_cost"]) != len(w["col_cost"]) or len(g["row_lower"]) != len(w["row_lower"]):
        return [f"sizes differ: {len(g['row_lower'])} x {len(g['col_cost'])} against {len(w['row_lower'])} x {len(w['col_cost'])}"]

    def same(a, b):
        return (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b

    for key, name in (("col_cost", cname), ("col_lower", cname), ("col_upper", cname), ("row_lower", rname), ("row_upper", rname)):
        bad = np.flatnonzero(~same(g[key], w[key]))
        out += [f"{key} of {name(int(i))}: {g[key][i]!r} against {w[key][i]!r}" for i in bad[:limit]]
    # the matrix, entry by entry: (row, column) -> value
    def entries(x):
        col = np.repeat(np.arange(len(x["start"]) - 1), np.diff(x["start"]))
        return {(int(r), int(c)): float(v) for r, c, v in zip(x["index"], col, x["value"])}

    if not (np.array_equal(g["start"], w["start"]) and np.array_equal(g["index"], w["index"]) and np.array_equal(g["value"], w["value"])):
        eg, ew = entries(g), entries(w)
        bad = [k for k in sorted(set(eg) | set(ew)) if eg.get(k) != ew.get(k)]
        out += [f"coefficient of {cname(c)} in {rname(r)}: {eg.get((r, c))!r} against {ew.get((r, c))!r}" for r, c in bad[:limit]]
        if not bad:
            out.append("the matrix holds the same entries in another order")
    return out
