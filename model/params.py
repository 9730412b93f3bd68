"""Changes of an instance's numbers mapped straight onto its LP, without preparing it again.

A what-if usually changes numbers, not structure: a demand scaled, a price or a quota set. For
such a change the LP keeps its rows, columns and non-zeros; only some costs, bounds and
coefficients move. A :class:`ParameterMap` records, once per base instance, where each number
of the instance lands in the LP of :mod:`rechain.model.matrix` (and in the parameters the result
tables read), so :meth:`ParameterMap.apply` turns a changed instance into the new arrays in a few
vectorised steps instead of :func:`~rechain.model.data.prepare` plus
:func:`~rechain.model.matrix.assemble`.

Numbers it maps (SPEC section 2, the same arithmetic as ``prepare`` and ``assemble``):

==============================  ============================================================
``demand.quantity``             balance row bounds, the upper bound of unmet demand
``supply.price``                cost of outside supply (DF_y x price)
``supply.max_quantity``         supply limit rows
``trade.cost``                  cost of shipments
``trade.max_quantity``          trade limit rows
``processes.capex``             cost of new capacity (annuity x Σ DF over its online years)
``processes.fixed_om``          cost of capacity
``processes.variable_cost``     cost of activity
``processes.availability``      coefficients of the use rows
``process_io.coefficient``      coefficients of the balance rows
``capacity.capacity``           capacity rows (residual capacity, carried forward)
``build_limits.max_new``        build limit rows (the tightest applicable limit)
``build_limits.max_total``      total capacity limit rows
``policies.value``              policy row bounds
``policies.penalty``            cost of violating a soft policy
``commodities.unmet_penalty``   cost of unmet demand
``commodities.disposal_cost``   cost of disposal
==============================  ============================================================

Anything else, and any change that would add or remove a row or column (a demand set to or
from zero, a limit turned blank or finite, a soft policy made hard, residual capacity that
appears or vanishes, a new name or year, another discount rate), raises :class:`ShapeChange`:
the caller prepares and assembles the instance in full. ``tests/test_params.py`` checks that
the arrays equal those of a full ``prepare`` + ``assemble`` for changes of every kind.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .data import ModelData, _carry_forward, crf
from .instance import Instance
from .matrix import CSC, LinearProgram
from .schema import TABLES

INF = np.inf

#: the (table, column) pairs whose changes map onto the LP in place
MAPPED = {
    ("demand", "quantity"), ("supply", "price"), ("supply", "max_quantity"), ("trade", "cost"),
    ("trade", "max_quantity"), ("processes", "capex"), ("processes", "fixed_om"), ("processes", "variable_cost"),
    ("processes", "availability"), ("process_io", "coefficient"), ("capacity", "capacity"),
    ("build_limits", "max_new"), ("build_limits", "max_total"), ("policies", "value"), ("policies", "penalty"),
    ("commodities", "unmet_penalty"), ("commodities", "disposal_cost"),
}
#: settings that must be equal for the map to hold
SETTINGS = ("first_year", "last_year", "base_year", "discount_rate", "unmet_penalty")


class ShapeChange(Exception):
    """The changed instance has another LP shape (or a change the map does not cover)."""


@dataclass
class Update:
    """The LP arrays and result parameters of a changed instance (see :meth:`ParameterMap.apply`)."""

    lp: LinearProgram
    parameters: dict[str, np.ndarray]
    changed: list[tuple[str, str]]


def _floats(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype="float64", na_value=np.nan)


def _index(df: pd.DataFrame, cols) -> pd.MultiIndex:
    arrays = []
    for c in cols:
        v = df[c]
        arrays.append(v.astype("int64").to_numpy() if c == "year" else v.to_numpy(dtype=object))
    return pd.MultiIndex.from_arrays(arrays) if len(df) else pd.MultiIndex.from_arrays([[] for _ in cols])


def _lookup(target: pd.DataFrame, tcols, source: pd.DataFrame, scols=None) -> np.ndarray:
    """Position in ``source`` of the row whose key equals each row of ``target`` (the last
    such row where several match; -1 where none)."""
    scols = tcols if scols is None else scols
    if not len(target):
        return np.zeros(0, dtype=np.int64)
    if not len(source):
        return np.full(len(target), -1, dtype=np.int64)
    src = _index(source, scols)
    keep = ~src.duplicated(keep="last")
    pos = np.flatnonzero(keep)
    found = src[keep].get_indexer(_index(target, tcols))
    return np.where(found >= 0, pos[np.maximum(found, 0)], -1)


class _Limits:
    """The rows of ``build_limits`` that apply to each (process, region, year), to take the
    tightest limit of a column again (as ``prepare`` does) after its values changed."""

    def __init__(self, rows: pd.DataFrame, regions: list[str], years: list[int]):
        r = pd.DataFrame({"process": rows["process"].to_numpy(dtype=object), "region": rows["region"].to_numpy(dtype=object),
                          "year": rows["year"].to_numpy(dtype="float64", na_value=np.nan), "pos": np.arange(len(rows))})
        r["region"] = [regions if x == "*" else [x] for x in r["region"]]
        r["year"] = [years if np.isnan(y) else [int(y)] for y in r["year"]]
        r = r.explode("region").explode("year") if len(r) else r
        r["year"] = r["year"].astype("int64")
        code, uniq = pd.factorize(pd.MultiIndex.from_frame(r[["process", "region", "year"]])) if len(r) else (np.zeros(0, dtype=np.int64), None)
        order = np.argsort(code, kind="stable")
        self.members = r["pos"].to_numpy(dtype=np.int64)[order]
        self.starts = np.searchsorted(code[order], np.arange(len(uniq) if uniq is not None else 0))
        self.keys = (pd.DataFrame({"process": uniq.get_level_values(0), "region": uniq.get_level_values(1), "year": uniq.get_level_values(2)})
                     if uniq is not None else pd.DataFrame(columns=["process", "region", "year"]))

    def tightest(self, values: np.ndarray) -> np.ndarray:
        if not len(self.starts):
            return np.zeros(0)
        v = np.where(np.isnan(values), INF, values)
        return np.minimum.reduceat(v[self.members], self.starts)


class ParameterMap:
    """Where every mapped number of ``instance`` lands in ``lp`` (built from ``data``) and in
    the result parameters ``parameters`` (:meth:`rechain.model.results.ResultLayout.parameters`)."""

    def __init__(self, instance: Instance, data: ModelData, lp: LinearProgram, parameters: dict[str, np.ndarray]):
        self.base, self.data, self.lp = instance, data, lp
        self.parameters = parameters
        d, T = data, instance.tables
        self.rate = instance.discount_rate
        years = list(d.years)
        self.df = pd.Series(d.df, dtype=float)

        def dfs(t):
            return self.df.reindex(t["year"].to_numpy()).to_numpy() if len(t) else np.zeros(0)

        self.df_of = {k: dfs(getattr(d, k)) for k in ("cap", "supply", "ship", "unmet", "dispose")}
        self.df_of["policy"] = dfs(d.policy)

        # rows of each instance table behind each row of a ModelData table
        self.balance_src = _lookup(d.balance, ["commodity", "region", "year"], T["demand"])
        self.unmet_src = _lookup(d.unmet, ["commodity", "region", "year"], T["demand"])
        sp = T["supply"]
        specific = sp[sp["year"].notna()]
        every = sp[sp["year"].isna()]
        s1 = _lookup(d.supply, ["commodity", "region", "year"], specific)
        s2 = _lookup(d.supply, ["commodity", "region"], every)
        pos_specific, pos_every = np.flatnonzero(sp["year"].notna().to_numpy()), np.flatnonzero(sp["year"].isna().to_numpy())
        self.supply_src = np.where(s1 >= 0, pos_specific[np.maximum(s1, 0)] if len(pos_specific) else -1,
                                   pos_every[np.maximum(s2, 0)] if len(pos_every) else -1)
        self.ship_src = _lookup(d.ship, ["commodity", "origin", "destination"], T["trade"])
        procs = pd.Index(T["processes"]["process"].to_numpy(dtype=object))
        self.proc_of = {k: procs.get_indexer(getattr(d, k)["process"].to_numpy(dtype=object)) if len(getattr(d, k)) else np.zeros(0, dtype=np.int64)
                        for k in ("cap", "new")}
        self.lifetime = T["processes"]["lifetime"].to_numpy(dtype="int64")
        pol = T["policies"]
        self.policy_src = pol.index.get_indexer(d.policy["line"].to_numpy()) if len(d.policy) else np.zeros(0, dtype=np.int64)
        self.policy_terms = d.policy["n_terms"].to_numpy() if len(d.policy) else np.zeros(0, dtype=np.int64)
        self.policy_max = (d.policy["sense"] == "max").to_numpy() if len(d.policy) else np.zeros(0, dtype=bool)
        coms = pd.Index(T["commodities"]["commodity"].to_numpy(dtype=object))
        self.unmet_com = coms.get_indexer(d.unmet["commodity"].to_numpy(dtype=object)) if len(d.unmet) else np.zeros(0, dtype=np.int64)
        self.dispose_com = coms.get_indexer(d.dispose["commodity"].to_numpy(dtype=object)) if len(d.dispose) else np.zeros(0, dtype=np.int64)

        # residual capacity: the carried-forward table and the cap row of each of its rows
        self.years = years
        self.residual = _carry_forward(T["capacity"], years)
        self.residual_cap = _lookup(self.residual, ["process", "region", "year"], d.cap)

        # build limits: the tightest limit per (process, region, year), and its rows in new / cap
        regions = list(T["regions"]["region"])
        self.limits = _Limits(T["build_limits"], regions, years)
        self.new_limit = _lookup(d.new, ["process", "region", "year"], self.limits.keys)
        self.cap_limit = _lookup(d.cap, ["process", "region", "year"], self.limits.keys)
        bl = T["build_limits"]
        self.base_limits = {c: self.limits.tightest(_floats(bl[c])) for c in ("max_new", "max_total")}

        # matrix entries: availability in the use rows, io coefficients in the balance rows
        self.use_pos = lp.positions(lp.rows["use"], lp.cols["cap"]) if len(d.cap) else np.zeros(0, dtype=np.int64)
        self.io_k, self.io_pos = self._io_entries()
        self.io_sign = np.where(T["process_io"]["direction"].to_numpy(dtype=object) == "out", 1.0, -1.0)

    def _io_entries(self):
        d, lp = self.data, self.lp
        if not (len(d.cap) and len(d.io)):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        pairs = d.cap[["process", "region", "year"]].assign(_cap=np.arange(len(d.cap))).merge(
            d.io[["process", "commodity"]].assign(_io=np.arange(len(d.io))), on="process")
        brow = _lookup(pairs, ["commodity", "region", "year"], d.balance)
        rows = lp.rows["balance"][brow]
        cols = lp.cols["act"][pairs["_cap"].to_numpy()]
        pos = lp.positions(rows, cols)
        if (pos < 0).any():  # not expected: every io term is an entry of the balance rows
            raise ShapeChange("an io coefficient has no matrix entry")
        return pairs["_io"].to_numpy(dtype=np.int64), pos

    # ------------------------------------------------------------------------------------------
    def changes(self, instance: Instance) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
        """The mapped columns whose values differ from the base instance: (table, column) ->
        (old values, new values), per row of the table. Raises :class:`ShapeChange` for any
        other difference."""
        b = self.base
        for s in SETTINGS:
            if getattr(instance, s) != getattr(b, s):
                raise ShapeChange(f"the setting {s} differs")
        out = {}
        for name in TABLES:
            A, B = b.tables[name], instance.tables[name]
            if A is B:
                continue
            if len(A) != len(B) or list(A.columns) != list(B.columns) or not A.index.equals(B.index):
                raise ShapeChange(f"the rows of {name} differ")
            for col in A.columns:
                if (name, col) in MAPPED:
                    old, new = _floats(A[col]), _floats(B[col])
                    if not np.array_equal(old, new, equal_nan=True):
                        out[(name, col)] = (old, new)
                elif not A[col].equals(B[col]):
                    raise ShapeChange(f"{name}.{col} differs")
        return out

    def apply(self, instance: Instance) -> Update:
        """The LP and result parameters of ``instance``, which differs from the base instance
        only in mapped numbers that keep the LP's shape; else :class:`ShapeChange`."""
        changes = self.changes(instance)
        base = self.lp
        a = {k: getattr(base, k).copy() for k in ("col_cost", "col_lower", "col_upper", "row_lower", "row_upper")}
        data = None
        p = dict(self.parameters)
        lp, d = base, self.data

        def moved(old, new):
            return ~((old == new) | (np.isnan(old) & np.isnan(new)))

        def set_rows(rows, lo=None, up=None):
            ok = rows >= 0
            if lo is not None:
                a["row_lower"][rows[ok]] = lo[ok]
            if up is not None:
                a["row_upper"][rows[ok]] = up[ok]

        def limit(fam, src, old, new, zero_ok=False):
            """New right-hand sides of limit rows, where no limit turns blank, finite or zero."""
            m = moved(old, new)
            bad = m & ~(np.isfinite(old) & np.isfinite(new) & ((old > 0) & (new > 0) | zero_ok))
            if bad.any():
                raise ShapeChange(f"a limit turns blank, finite or zero ({fam})")
            return new[src] if len(src) else np.zeros(0)

        for (table, col), (old, new) in changes.items():
            if (table, col) == ("demand", "quantity"):
                m = moved(old, new)
                if (m & ((old <= 0) | (new <= 0))).any():
                    raise ShapeChange("a demand turns zero or non-zero")
                has = self.balance_src >= 0
                q = np.where(has, new[np.maximum(self.balance_src, 0)], 0.0) if len(has) else np.zeros(0)
                set_rows(lp.rows["balance"], q, q)
                if len(self.unmet_src):
                    a["col_upper"][lp.cols["unmet"]] = new[self.unmet_src]
            elif (table, col) == ("supply", "price"):
                if len(self.supply_src):
                    price = new[self.supply_src]
                    a["col_cost"][lp.cols["supply"]] = self.df_of["supply"] * price
                    p["cost_supply"] = price
            elif (table, col) == ("supply", "max_quantity"):
                set_rows(lp.rows["supply_limit"], up=limit("supply", self.supply_src, old, new))
            elif (table, col) == ("trade", "cost"):
                if len(self.ship_src):
                    cost = new[self.ship_src]
                    a["col_cost"][lp.cols["ship"]] = self.df_of["ship"] * cost
                    p["cost_ship"] = cost
            elif (table, col) == ("trade", "max_quantity"):
                set_rows(lp.rows["trade_limit"], up=limit("trade", self.ship_src, old, new))
            elif (table, col) == ("processes", "capex"):
                annuity = np.array([c * crf(self.rate, int(L)) for c, L in zip(new, self.lifetime)], dtype=float)
                if len(d.new):
                    ann = annuity[self.proc_of["new"]]
                    a["col_cost"][lp.cols["new"]] = ann * d.new["online_weight"].to_numpy(dtype=float)
                    p["cost_new"] = ann
            elif (table, col) == ("processes", "fixed_om"):
                if len(d.cap):
                    v = new[self.proc_of["cap"]]
                    a["col_cost"][lp.cols["cap"]] = self.df_of["cap"] * v
                    p["cost_cap"] = v
            elif (table, col) == ("processes", "variable_cost"):
                if len(d.cap):
                    v = new[self.proc_of["cap"]]
                    a["col_cost"][lp.cols["act"]] = self.df_of["cap"] * v
                    p["cost_act"] = v
            elif (table, col) == ("processes", "availability"):
                if len(d.cap):
                    data = base.matrix.data.copy() if data is None else data
                    data[self.use_pos] = -new[self.proc_of["cap"]]
            elif (table, col) == ("process_io", "coefficient"):
                signed = self.io_sign * new
                if len(self.io_pos):
                    data = base.matrix.data.copy() if data is None else data
                    data[self.io_pos] = signed[self.io_k]
                p["io"] = signed
            elif (table, col) == ("capacity", "capacity"):
                cap_t = instance.tables["capacity"]
                res = _carry_forward(cap_t, self.years)
                same = (len(res) == len(self.residual) and all(
                    np.array_equal(res[c].to_numpy(dtype=object if c != "year" else "int64"),
                                   self.residual[c].to_numpy(dtype=object if c != "year" else "int64")) for c in ("process", "region", "year")))
                if not same:
                    raise ShapeChange("residual capacity appears or vanishes")
                r = np.zeros(len(d.cap))
                r[self.residual_cap] = res["residual"].to_numpy(dtype=float)
                set_rows(lp.rows["capacity"], r, r)
                p["residual"] = r
            elif (table, col) in (("build_limits", "max_new"), ("build_limits", "max_total")):
                old_t, new_t = self.base_limits[col], self.limits.tightest(new)
                if col == "max_new":
                    up = limit("build_new", self.new_limit, old_t, new_t)
                    set_rows(lp.rows["build_new_limit"], up=up)
                else:
                    up = limit("build_total", np.maximum(self.cap_limit, 0), old_t, new_t, zero_ok=True)
                    rows = np.where(self.cap_limit >= 0, lp.rows["build_total_limit"], -1)
                    set_rows(rows, up=up)
            elif (table, col) == ("policies", "value"):
                if not len(d.policy):
                    continue
                v = new[self.policy_src]
                m = moved(old[self.policy_src], v)
                if (m & (self.policy_terms == 0)).any():
                    raise ShapeChange("a policy covering nothing changes its value")
                rows = np.where(self.policy_terms > 0, lp.rows["policy"], -1)
                set_rows(rows, np.where(self.policy_max, -INF, v), np.where(self.policy_max, v, INF))
                p["policy_value"] = v
            elif (table, col) == ("policies", "penalty"):
                if not len(d.policy):
                    continue
                if (np.isnan(old) != np.isnan(new)).any():
                    raise ShapeChange("a policy turns soft or hard")
                v = new[self.policy_src]
                vc = lp.cols["violation"]
                soft = vc >= 0
                a["col_cost"][vc[soft]] = self.df_of["policy"][soft] * v[soft]
                p["cost_violation"] = np.where(soft, v, 0.0)
            elif (table, col) == ("commodities", "unmet_penalty"):
                fill = self.base.unmet_penalty if self.base.unmet_penalty is not None else np.nan
                eff = np.where(np.isnan(new), fill, new)
                if len(d.unmet):
                    pen = eff[self.unmet_com]
                    if np.isnan(pen).any():
                        raise ShapeChange("a demanded commodity loses its unmet penalty")
                    a["col_cost"][lp.cols["unmet"]] = self.df_of["unmet"] * pen
                    p["cost_unmet"] = pen
            elif (table, col) == ("commodities", "disposal_cost"):
                if (np.isnan(old) != np.isnan(new)).any():
                    raise ShapeChange("a commodity becomes disposable or not")
                if len(d.dispose):
                    v = new[self.dispose_com]
                    a["col_cost"][lp.cols["dispose"]] = self.df_of["dispose"] * v
                    p["cost_dispose"] = v
            else:  # pragma: no cover - MAPPED and the branches above list the same pairs
                raise ShapeChange(f"{table}.{col} is not mapped")
        matrix = base.matrix if data is None else CSC(base.matrix.indptr, base.matrix.indices, data, base.matrix.shape)
        return Update(replace(base, matrix=matrix, **a), p, sorted(changes))
