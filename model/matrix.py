"""The LP of SPEC section 2 as arrays: column costs and bounds, row bounds, a sparse matrix.

Assembled straight from the :class:`~rechain.model.data.ModelData` index tables with numpy and
scipy, without building Python objects per element; it is the same LP as the Pyomo model of
:mod:`rechain.model.formulation` (the readable definition), row for row and column for column:

- rows come family by family in the Pyomo model's order (``capacity``, ``use``,
  ``build_new_limit``, ``build_total_limit``, ``balance``, ``supply_limit``, ``trade_limit``,
  ``policy``), each over its index table in table order (a policy row with no terms that
  holds anyway is the empty row ``0 <= 0``, as Pyomo passes ``Constraint.Feasible``);
- the terms of a row are in the order the Pyomo rule writes them;
- columns are numbered in the order the variables first appear in the rows, which is the order
  Pyomo's persistent HiGHS interface adds them.

So a solver given these arrays sees the model Pyomo would have handed it, and returns the same
optimum and the same duals. Any solver interface can take the arrays; this module does not
import one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .data import ModelData

INF = np.inf

#: variable families in the order of the Pyomo model, with the ModelData table indexing each
FAMILIES = (("act", "cap"), ("new", "new"), ("cap", "cap"), ("supply", "supply"), ("ship", "ship"),
            ("unmet", "unmet"), ("dispose", "dispose"), ("violation", "policy"))
#: constraint families in the order of the Pyomo model
ROW_FAMILIES = ("capacity", "use", "build_new_limit", "build_total_limit", "balance", "supply_limit",
                "trade_limit", "policy")
_KEYS = {
    "cap": ("process", "region", "year"),
    "new": ("process", "region", "year"),
    "supply": ("commodity", "region", "year"),
    "ship": ("commodity", "origin", "destination", "year"),
    "unmet": ("commodity", "region", "year"),
    "dispose": ("commodity", "region", "year"),
    "balance": ("commodity", "region", "year"),
}
_DIM = {"process": "process", "commodity": "commodity", "region": "region", "origin": "region",
        "destination": "region", "year": "year", "vintage": "year"}


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


@dataclass
class LinearProgram:
    """A minimisation LP ``min c·x  s.t.  row_lower <= A x <= row_upper, col_lower <= x <= col_upper``.

    ``cols[family]`` gives, for each row of the family's ModelData table, the column of its
    variable (-1 where the variable does not exist, e.g. ``violation`` of a hard policy);
    ``rows[family]`` gives, for each row of the family's index table, its row (-1 where the
    row is left out): ``capacity``, ``use`` and ``build_total_limit`` over ``cap``,
    ``build_new_limit`` over ``new``, ``balance``, ``supply_limit`` over ``supply``,
    ``trade_limit`` over ``ship``, ``policy``. ``matrix`` is CSC (columns contiguous), ``num_row`` × ``num_col``.
    """

    col_cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    matrix: CSC
    cols: dict[str, np.ndarray] = field(default_factory=dict)
    rows: dict[str, np.ndarray] = field(default_factory=dict)
    offset: float = 0.0

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
        """Primal values per variable family, aligned with the ModelData tables (0 where absent)."""
        x = np.asarray(x, dtype=float)
        return {fam: _take(x, self.cols[fam], 0.0) for fam, _ in FAMILIES}

    def duals(self, y: np.ndarray) -> dict[str, np.ndarray]:
        """Row duals of the ``balance`` and ``policy`` rows, aligned with their tables (0 where absent)."""
        y = np.asarray(y, dtype=float)
        return {fam: _take(y, self.rows[fam], 0.0) for fam in ("balance", "policy")}


def _take(x: np.ndarray, idx: np.ndarray, fill: float) -> np.ndarray:
    out = np.full(len(idx), fill)
    ok = idx >= 0
    out[ok] = x[idx[ok]]
    return out


class _Coder:
    """Integer codes for names and years, shared by every table, so index tuples become int64
    keys that numpy can sort and search."""

    def __init__(self, d: ModelData):
        # columns stay pandas Series: pandas' Arrow-backed strings factorize fast, while
        # converting them to numpy objects is the slow part
        parts: dict[str, list] = {"process": [], "commodity": [], "region": [], "year": []}
        for name in ("cap", "new", "supply", "ship", "unmet", "dispose", "balance", "online"):
            t = getattr(d, name)
            for c in t.columns:
                if c in _DIM:
                    parts[_DIM[c]].append(t[c])
        parts["process"].append(pd.Series(d.process.index))
        parts["process"].append(d.io["process"])
        parts["commodity"].append(d.io["commodity"])
        parts["year"].append(pd.Series(d.years, dtype="int64"))
        self.uniques = {}
        for dim, series in parts.items():
            s = pd.concat([x.reset_index(drop=True) for x in series if len(x)], ignore_index=True) if any(len(x) for x in series) else pd.Series([], dtype=object)
            if dim == "year":
                s = s.astype("int64")
            self.uniques[dim] = pd.Index(s.unique())

    def codes(self, t: pd.DataFrame, cols) -> np.ndarray:
        """One int64 key per row of ``t`` from its columns ``cols`` (mixed radix)."""
        key = np.zeros(len(t), dtype=np.int64)
        for c in cols:
            u = self.uniques[_DIM[c]]
            v = t[c]
            code = u.get_indexer(v.astype("int64") if _DIM[c] == "year" else v)
            key = key * len(u) + code
        return key


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


def _lookup(table_keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Position of each query key in ``table_keys`` (unique), -1 where absent."""
    if len(table_keys) == 0:
        return np.full(len(query), -1, dtype=np.int64)
    order = np.argsort(table_keys, kind="stable")
    sk = table_keys[order]
    pos = np.searchsorted(sk, query)
    pos = np.minimum(pos, len(sk) - 1)
    hit = sk[pos] == query
    return np.where(hit, order[pos], -1)


def assemble(d: ModelData) -> LinearProgram:
    """The LP of ``d`` as arrays (see the module docstring for the row and column order)."""
    code = _Coder(d)
    df_of = pd.Series(d.df, dtype=float)
    proc = d.process

    # ---- columns in family layout (renumbered by first appearance at the end) ---------------
    n = {"act": len(d.cap), "new": len(d.new), "cap": len(d.cap), "supply": len(d.supply), "ship": len(d.ship),
         "unmet": len(d.unmet), "dispose": len(d.dispose)}
    soft = d.policy["penalty"].notna().to_numpy() if len(d.policy) else np.zeros(0, dtype=bool)
    n["violation"] = int(soft.sum())
    start, s = {}, 0
    for fam, _ in FAMILIES:
        start[fam] = s
        s += n[fam]
    ncol = s
    fcol = {fam: start[fam] + np.arange(n[fam]) for fam, _ in FAMILIES if fam != "violation"}
    vcol = np.full(len(d.policy), -1, dtype=np.int64)
    vcol[soft] = start["violation"] + np.arange(n["violation"])
    fcol["violation"] = vcol

    cost = np.zeros(ncol)
    lower = np.zeros(ncol)
    upper = np.full(ncol, INF)
    PU = code.uniques["process"]
    cp = PU.get_indexer(d.cap["process"])  # process code of each cap row

    def per_process(col, rows):
        return proc[col].reindex(PU).to_numpy(dtype=float)[rows]

    cap_df = df_of.reindex(d.cap["year"].to_numpy()).to_numpy()
    if len(d.new):
        cost[fcol["new"]] = per_process("annuity", PU.get_indexer(d.new["process"])) * d.new["online_weight"].to_numpy(dtype=float)
    if len(d.cap):
        cost[fcol["cap"]] = cap_df * per_process("fixed_om", cp)
        cost[fcol["act"]] = cap_df * per_process("variable_cost", cp)
    for fam, col in (("supply", "price"), ("ship", "cost"), ("unmet", "penalty"), ("dispose", "cost")):
        t = getattr(d, fam)
        if len(t):
            cost[fcol[fam]] = df_of.reindex(t["year"].to_numpy()).to_numpy() * t[col].to_numpy(dtype=float)
    if n["violation"]:
        pol = d.policy[soft]
        cost[vcol[soft]] = df_of.reindex(pol["year"].to_numpy()).to_numpy() * pol["penalty"].to_numpy(dtype=float)
    if len(d.unmet):
        upper[fcol["unmet"]] = d.unmet["demand"].to_numpy(dtype=float)

    # ---- rows: (row, col, value) triplets in the Pyomo rules' term order ---------------------
    R, C, V = [], [], []
    rlo, rup = [], []
    rowpos = {}
    nrow = 0

    def add_rows(name, count, lo, up):
        nonlocal nrow
        rowpos[name] = nrow + np.arange(count)
        rlo.append(np.broadcast_to(np.asarray(lo, dtype=float), (count,)))
        rup.append(np.broadcast_to(np.asarray(up, dtype=float), (count,)))
        nrow += count
        return rowpos[name]

    def add_terms(rows, cols, vals):
        R.append(np.asarray(rows, dtype=np.int64))
        C.append(np.asarray(cols, dtype=np.int64))
        V.append(np.broadcast_to(np.asarray(vals, dtype=float), (len(rows),)))

    P3 = _KEYS["cap"]
    cap_key = code.codes(d.cap, P3)
    new_key = code.codes(d.new, P3)

    # capacity: cap - Σ new(vintages online) == residual
    rows = add_rows("capacity", len(d.cap), d.cap["residual"].to_numpy(dtype=float), d.cap["residual"].to_numpy(dtype=float))
    add_terms(rows, fcol["cap"], 1.0)
    if len(d.online):
        on = d.online
        on_row = _lookup(cap_key, code.codes(on, ("process", "region", "year")))
        on_col = _lookup(new_key, code.codes(on, ("process", "region", "vintage")))
        add_terms(rows[on_row], fcol["new"][on_col], -1.0)

    # use: act - availability·cap <= 0
    rows = add_rows("use", len(d.cap), -INF, 0.0)
    add_terms(rows, fcol["act"], 1.0)
    add_terms(rows, fcol["cap"], -per_process("availability", cp))

    # build limits
    aligned = {}  # row of each row of a family's table, -1 where it has none (an infinite limit)

    def limit_rows(name, table, column, fam):
        fin = np.flatnonzero(table[column].to_numpy(dtype=float) < INF) if len(table) else np.zeros(0, dtype=np.int64)
        rows = add_rows(name, len(fin), -INF, table[column].to_numpy(dtype=float)[fin])
        add_terms(rows, fcol[fam][fin], 1.0)
        aligned[name] = np.full(len(table), -1, dtype=np.int64)
        aligned[name][fin] = rows

    limit_rows("build_new_limit", d.new, "max_new", "new")
    limit_rows("build_total_limit", d.cap, "max_total", "cap")

    # balance: Σ io·act + supply + Σ ship in − Σ ship out + unmet − dispose == demand
    dem = d.balance["demand"].to_numpy(dtype=float)
    rows = add_rows("balance", len(d.balance), dem, dem)
    S3 = _KEYS["balance"]
    bal_key = code.codes(d.balance, S3)
    if len(d.cap) and len(d.io):
        # the Pyomo rule's order: the rows of cap merged with io (left order kept)
        io = d.io
        cap_i, io_i = pairs_by_code(cp, code.uniques["process"].get_indexer(io["process"].to_numpy()))
        com = code.uniques["commodity"].get_indexer(io["commodity"].to_numpy())[io_i]
        ru = code.uniques["region"].get_indexer(d.cap["region"])[cap_i]
        yu = code.uniques["year"].get_indexer(d.cap["year"].astype("int64"))[cap_i]
        nR, nY = len(code.uniques["region"]), len(code.uniques["year"])
        key = (com.astype(np.int64) * nR + ru) * nY + yu
        add_terms(rows[_lookup(bal_key, key)], fcol["act"][cap_i], io["coefficient"].to_numpy(dtype=float)[io_i])
    if len(d.supply):
        add_terms(rows[_lookup(bal_key, code.codes(d.supply, S3))], fcol["supply"], 1.0)
    if len(d.ship):
        to_dest = _lookup(bal_key, code.codes(d.ship, ("commodity", "destination", "year")))
        from_orig = _lookup(bal_key, code.codes(d.ship, ("commodity", "origin", "year")))
        # each lane: +ship in its destination's row, then −ship in its origin's row
        add_terms(np.column_stack([rows[to_dest], rows[from_orig]]).ravel(),
                  np.repeat(fcol["ship"], 2), np.tile([1.0, -1.0], len(d.ship)))
    if len(d.unmet):
        add_terms(rows[_lookup(bal_key, code.codes(d.unmet, S3))], fcol["unmet"], 1.0)
    if len(d.dispose):
        add_terms(rows[_lookup(bal_key, code.codes(d.dispose, S3))], fcol["dispose"], -1.0)

    # outside supply and lanes
    limit_rows("supply_limit", d.supply, "max_quantity", "supply")
    limit_rows("trade_limit", d.ship, "max_quantity", "ship")

    # policies: Σ terms (− violation for max, + violation for min) <= / >= value
    pol_rows = np.full(len(d.policy), -1, dtype=np.int64)
    if len(d.policy):
        pol = d.policy
        is_max = (pol["sense"] == "max").to_numpy()
        value = pol["value"].to_numpy(dtype=float)
        nterms = pol["n_terms"].to_numpy() if "n_terms" in pol.columns else _count_terms(d)
        lo, up = np.where(is_max, -INF, value), np.where(is_max, value, INF)
        # a hard row without terms that holds anyway is Pyomo's Constraint.Feasible, which
        # Pyomo passes on as the empty row 0 <= 0; one that cannot hold keeps its bounds, and
        # the solver reports the instance infeasible, as it is
        empty_ok = (nterms == 0) & ~soft & np.where(is_max, value >= 0, value <= 0)
        lo[empty_ok], up[empty_ok] = -INF, 0.0
        pol_rows[:] = add_rows("policy", len(pol), lo, up)
        t = d.policy_terms
        if len(t):
            pk = pd.MultiIndex.from_arrays([pol["policy"].to_numpy(), pol["year"].to_numpy()])
            trow = pol_rows[pk.get_indexer(pd.MultiIndex.from_arrays([t["policy"].to_numpy(), t["year"].to_numpy()]))]
            tcol = np.full(len(t), -1, dtype=np.int64)
            var = t["var"].to_numpy()
            keys = t["key"].to_numpy()
            for fam in pd.unique(var):
                sel = np.flatnonzero(var == fam)
                table = "cap" if fam == "act" else fam
                cols = _KEYS[table]
                q = pd.DataFrame(list(keys[sel]), columns=list(cols))
                pos = _lookup(code.codes(getattr(d, table), cols), code.codes(q, cols))
                tcol[sel] = fcol[fam][pos]
            add_terms(trow, tcol, 1.0)
        if n["violation"]:
            add_terms(pol_rows[soft], vcol[soft], np.where(is_max[soft], -1.0, 1.0))
    rowpos["policy"] = pol_rows

    # ---- one CSR in row order, terms of a row in rule order --------------------------------
    R = np.concatenate(R) if R else np.zeros(0, dtype=np.int64)
    C = np.concatenate(C) if C else np.zeros(0, dtype=np.int64)
    V = np.concatenate(V) if V else np.zeros(0)
    order = np.argsort(R, kind="stable")
    R, C, V = R[order], C[order], V[order]

    # columns numbered by first appearance in the rows (never-used columns last, in family order)
    first = np.full(ncol, len(C), dtype=np.int64)
    uc, ui = np.unique(C, return_index=True)
    first[uc] = ui
    perm = np.lexsort((np.arange(ncol), first))  # new position -> old column
    newpos = np.empty(ncol, dtype=np.int64)
    newpos[perm] = np.arange(ncol)

    # entries are in row order, so a stable sort by column keeps each column's rows ascending
    NC = newpos[C]
    by_col = np.argsort(NC, kind="stable")
    indptr = np.zeros(ncol + 1, dtype=np.int64)
    np.cumsum(np.bincount(NC, minlength=ncol), out=indptr[1:])
    A = CSC(indptr=indptr, indices=R[by_col], data=np.ascontiguousarray(V[by_col], dtype=float), shape=(nrow, ncol))
    cols = {}
    for fam, _ in FAMILIES:
        fc = fcol[fam]
        cols[fam] = np.where(fc >= 0, newpos[np.maximum(fc, 0)], -1) if len(fc) else np.zeros(0, dtype=np.int64)
    return LinearProgram(
        col_cost=cost[perm], col_lower=lower[perm], col_upper=upper[perm],
        row_lower=np.concatenate(rlo) if rlo else np.zeros(0), row_upper=np.concatenate(rup) if rup else np.zeros(0),
        matrix=A, cols=cols,
        rows={"capacity": rowpos["capacity"], "use": rowpos["use"], **aligned, "balance": rowpos["balance"], "policy": pol_rows},
    )


def _count_terms(d: ModelData) -> np.ndarray:
    t = d.policy_terms
    if not len(t):
        return np.zeros(len(d.policy), dtype=np.int64)
    c = t.groupby(["policy", "year"], sort=False).size()
    idx = pd.MultiIndex.from_arrays([d.policy["policy"], d.policy["year"]])
    return c.reindex(idx).fillna(0).to_numpy(dtype=np.int64)
