"""The LP of SPEC section 2, declared once: index tables, parameters, variables and rows.

Each declaration says what its family is: the index table it runs over and where a row exists,
its sense, its right-hand side and its terms, as data (:mod:`rechain.model.description`).
The LP arrays, the Pyomo model, the in-place parameter map, the result tables and
``docs/formulation.md`` are all made from these declarations, so they cannot disagree.

To add a family: declare its index table (if new), its params, and the family itself below
(and its terms in the rows it enters); add its validation to the instance checks; add its
tests. Nothing else needs editing.

Builders read the instance through views: an index table through a
:class:`~rechain.model.description.StructureView` (a column listed in :data:`SHAPES` only
through its shape), a param through a :class:`~rechain.model.description.ParamView` (only the
columns it declares). That is what lets a changed number go straight into the LP when its
shape is unchanged (:mod:`rechain.model.params`), and forces a rebuild otherwise.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .description import (
    Bound, Coef, Cost, IndexTable, Param, Pick, Rhs, RowFamily, Term, VarFamily, blank, blank_or_positive,
    positive,
)
from .errors import InstanceError, Problem
from .keys import DIM, groups, lookup, product
from .schema import POLICY_KINDS

INF = math.inf
P3 = ("process", "region", "year")
C3 = ("commodity", "region", "year")
S4 = ("commodity", "origin", "destination", "year")


def _any(v):
    return {}


#: the columns a parameter map may change in place, each with its shape: the part of its values
#: that decides which rows and columns of the LP exist. Every other column (names, years, lists,
#: lifetimes, lead times, directions) decides the structure and is never mapped.
SHAPES = {
    ("demand", "quantity"): positive,             # unmet demand exists where demand > 0
    ("supply", "price"): _any,
    ("supply", "max_quantity"): blank_or_positive,  # blank: no limit row; 0: no supply column
    ("trade", "cost"): _any,
    ("trade", "max_quantity"): blank_or_positive,
    ("processes", "capex"): _any,
    ("processes", "fixed_om"): _any,
    ("processes", "variable_cost"): _any,
    ("processes", "availability"): _any,
    ("process_io", "coefficient"): _any,
    ("capacity", "capacity"): positive,           # residual capacity exists where > 0
    ("build_limits", "max_new"): blank_or_positive,
    ("build_limits", "max_total"): blank,
    ("policies", "value"): _any,                  # (a hard min policy covering nothing: see its check)
    ("policies", "penalty"): blank,               # soft where a penalty is given
    ("commodities", "unmet_penalty"): _any,
    ("commodities", "disposal_cost"): blank,      # disposal exists where a cost is given
    ("storage", "initial"): _any,
    ("storage", "max_level"): _any,               # a bound of the stock, blank or not
    ("storage", "holding_cost"): _any,
    ("storage", "final"): _any,
    ("demand_response", "share"): _any,
    ("demand_response", "price"): _any,
    ("process_costs", "capex"): _any,            # (a blank cell defers to a less specific row: values only)
    ("process_costs", "fixed_om"): _any,
    ("process_costs", "variable_cost"): _any,
}
#: the settings a parameter map may change in place (none decides the structure)
MAPPED_SETTINGS = ("discount_rate", "base_year", "unmet_penalty")


def crf(rate: float, lifetime: int) -> float:
    """Capital recovery factor: the annuity per unit of capital over ``lifetime`` years (its
    limit 1/lifetime for a rate within 1e-9 of 0, where the formula divides by about 0)."""
    if abs(rate) < 1e-9:
        return 1.0 / lifetime
    g = (1.0 + rate) ** lifetime
    return rate * g / (g - 1.0)


# ------------------------------------------------------------------------------------------
# Index tables (built in this order; a builder may add position columns to earlier tables)
# ------------------------------------------------------------------------------------------


def _ints(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


_TEXT = pd.Series(["text"]).dtype  # the dtype pandas gives text (``str`` from pandas 3; object before)


def names_of(d, dim: str, codes: np.ndarray):
    """The names of ``codes`` of dimension ``dim`` as text, taken from the distinct names by
    code (no string made per row)."""
    return pd.array(d.dims.names[dim].to_numpy(dtype=object), dtype=_TEXT).take(np.asarray(codes, dtype=np.int64))


def unique_keys(keys: np.ndarray) -> np.ndarray:
    """The distinct values of ``keys`` (integers), ascending: ``np.unique`` by a stable sort,
    which on these mostly ordered key arrays is many times faster than numpy's hash table."""
    s = np.sort(keys, kind="stable")
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


def _process_of(d, codes: np.ndarray) -> np.ndarray:
    """The row of ``process`` of each process code."""
    at = pd.Index(d.tables["process"]["process"].to_numpy(dtype=object)).get_indexer(d.dims.names["process"])
    return at.astype(np.int64)[codes] if len(at) else np.zeros(len(codes), dtype=np.int64)


def _named_keys(d, keys: np.ndarray, cols) -> pd.DataFrame:
    """The key columns ``cols`` (names as text, years as int64) of int64 ``keys``."""
    named, code = _decode(d, keys, cols)
    return pd.DataFrame({c: np.asarray(named[c], dtype=np.int64) if DIM[c] == "year" else names_of(d, DIM[c], code[c])
                         for c in cols})


def _decode(d, key: np.ndarray, cols) -> tuple[dict, dict]:
    """Key columns (names and years) and their codes, from int64 keys of ``cols``."""
    dims = d.dims
    codes, rest = {}, np.asarray(key, dtype=np.int64).copy()
    for c in reversed(cols):
        radix = dims.size(DIM[c])
        codes[c] = rest % radix
        rest = rest // radix
    named = {}
    for c in cols:
        dim = DIM[c]
        named[c] = codes[c] + dims.year0 if dim == "year" else dims.names[dim].to_numpy(dtype=object)[codes[c]]
    return named, codes


def _process(sv, d):
    t = sv.table("processes")
    plant = t["capacity"].to_numpy(dtype=bool) if "capacity" in t.columns else np.ones(len(t), dtype=bool)
    return pd.DataFrame({"process": t["process"].to_numpy(dtype=object),
                         "lifetime": t["lifetime"].astype("int64").to_numpy(),
                         "lead_time": t["lead_time"].astype("int64").to_numpy(),
                         "plant": plant, "line": np.asarray(t.index, dtype=np.int64)})


def _year(sv, d):
    return pd.DataFrame({"year": _ints(d.years)})


def _io(sv, d):
    t = sv.table("process_io")
    procs = pd.Index(d.tables["process"]["process"].to_numpy(dtype=object))
    delay = t["delay"].fillna(0).astype("int64").to_numpy() if "delay" in t.columns else np.zeros(len(t), np.int64)
    return pd.DataFrame({"process": t["process"].to_numpy(dtype=object), "commodity": t["commodity"].to_numpy(dtype=object),
                         "delay": delay, "direction": t["direction"].to_numpy(dtype=object),
                         "p": procs.get_indexer(t["process"].to_numpy(dtype=object)).astype(np.int64)})


def _limit_groups(sv, d):
    """``build_limits`` rows expanded to (process, region, year) (``*`` regions, blank years)
    and grouped by that key: (keys ascending, source rows by group, group starts)."""
    bl = sv.table("build_limits")
    dims = d.dims
    nR, ny = len(dims.names["region"]), len(d.years)
    reg = bl["region"].to_numpy(dtype=object)
    star = reg == "*"
    yr = bl["year"].to_numpy(dtype="float64", na_value=np.nan)
    every = np.isnan(yr)
    row, (ro, yo) = product([np.where(star, nR, 1), np.where(every, ny, 1)])
    rcode = np.where(star, 0, dims.code("region", np.where(star, dims.names["region"][0] if nR else "", reg)))
    ycode = np.where(every, d.years[0] - dims.year0, np.nan_to_num(yr) - dims.year0).astype(np.int64)
    pcode = dims.code("process", bl["process"].to_numpy(dtype=object))
    key = (pcode[row] * dims.size("region") + rcode[row] + ro) * dims.size("year") + ycode[row] + yo
    uniq, members, starts = groups(key)
    d.aux["limits"] = (row[members], starts)
    d.aux["limit_keys"] = uniq
    return uniq


def _new(sv, d):
    uniq = _limit_groups(sv, d)
    src, starts = d.aux["limits"]
    shape = sv.shape("build_limits", "max_new")
    ok = np.logical_and.reduceat(shape["blank"][src] | shape["positive"][src], starts) if len(starts) else np.zeros(0, bool)
    limited = ~np.logical_and.reduceat(shape["blank"][src], starts) if len(starts) else np.zeros(0, bool)
    named, code = _decode(d, uniq, P3)
    proc = d.tables["process"]
    p = _process_of(d, code["process"])
    lead = proc["lead_time"].to_numpy()[p] if len(uniq) else np.zeros(0, np.int64)
    plant = proc["plant"].to_numpy()[p] if len(uniq) else np.zeros(0, bool)
    keep = ok & plant & (named["year"] + lead <= sv.last_year)
    g = np.flatnonzero(keep)
    t = pd.DataFrame({"process": names_of(d, "process", code["process"][g]), "region": names_of(d, "region", code["region"][g]),
                      "year": named["year"][g]})
    t["year"] = t["year"].astype(np.int64)
    t["p"] = p[g]
    t["lim"] = g.astype(np.int64)  # the group of build_limits rows that applies
    t["limited"] = limited[g]
    t["key"] = uniq[g]
    return t


def _online(sv, d):
    """The years each buildable vintage is online within the horizon."""
    new, proc = d.tables["new"], d.tables["process"]
    first, last = sv.first_year, sv.last_year
    v = new["year"].to_numpy(dtype=np.int64)
    a = v + proc["lead_time"].to_numpy()[new["p"].to_numpy()]
    b = np.minimum(a + proc["lifetime"].to_numpy()[new["p"].to_numpy()] - 1, last)
    lo = np.maximum(a, first)
    cnt = np.maximum(b - lo + 1, 0)
    rep = np.repeat(np.arange(len(new), dtype=np.int64), cnt)
    off = np.arange(int(cnt.sum()), dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    # the names as categories (a code per row: this table has a row per vintage and year)
    dims = d.dims
    pr = new["key"].to_numpy()[rep] // dims.size("year")  # (process, region) of the vintage's key
    return pd.DataFrame({"process": pd.Categorical.from_codes(pr // dims.size("region"), dims.names["process"]),
                         "region": pd.Categorical.from_codes(pr % dims.size("region"), dims.names["region"]),
                         "vintage": v[rep], "year": lo[rep] + off, "new": rep})


def _residual_keys(sv, d):
    """(process, region, year) keys of positive existing capacity, each with the row of
    ``capacity.csv`` it comes from (the latest listed year at or before it)."""
    t = sv.table("capacity")
    dims = d.dims
    if not len(t):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pos = sv.shape("capacity", "capacity")["positive"]
    grp = dims.code("process", t["process"].to_numpy(dtype=object)) * dims.size("region") + dims.code("region", t["region"].to_numpy(dtype=object))
    ys = t["year"].astype("int64").to_numpy() - dims.year0
    ny = dims.size("year")
    key = grp * ny + ys
    order = np.argsort(key, kind="stable")
    sk = key[order]
    gs = unique_keys(grp)
    hy = _ints(d.years) - dims.year0
    g_of, y_of = np.repeat(gs, len(hy)), np.tile(hy, len(gs))
    i = np.searchsorted(sk, g_of * ny + y_of, side="right") - 1
    ok = i >= 0
    src = np.where(ok, order[np.maximum(i, 0)], -1)
    ok &= grp[np.maximum(src, 0)] == g_of
    ok &= pos[np.maximum(src, 0)]
    proc = d.tables["process"]
    plant = dict(zip(proc["process"], proc["plant"]))
    nR = dims.size("region")
    ok &= np.array([plant.get(p, False) for p in dims.names["process"]], dtype=bool)[g_of // nR] if len(g_of) else ok
    return (g_of * ny + y_of)[ok], src[ok]


def _cap(sv, d):
    dims = d.dims
    res_key, res_src = _residual_keys(sv, d)
    on = d.tables["online"]
    # the key of its vintage's row of new, its year (the last digit) moved on to the online year
    on_key = d.tables["new"]["key"].to_numpy()[on["new"].to_numpy()] + (on["year"].to_numpy() - on["vintage"].to_numpy())
    keys = unique_keys(np.concatenate([res_key, on_key]))
    t = _named_keys(d, keys, P3)
    t["p"] = _process_of(d, keys // (dims.size("region") * dims.size("year")))
    t["y"] = (t["year"].to_numpy() - d.years[0]).astype(np.int64)
    src = np.full(len(keys), -1, dtype=np.int64)
    src[lookup(keys, res_key)] = res_src
    t["src"] = src
    # the group of build_limits rows that applies to each row (max_total), -1 where none
    src_l, starts = d.aux["limits"]
    lim = lookup(d.aux["limit_keys"], keys)
    t["lim"] = lim
    shape = sv.shape("build_limits", "max_total")
    nonblank = ~np.logical_and.reduceat(shape["blank"][src_l], starts) if len(starts) else np.zeros(0, bool)
    t["limited"] = np.where(lim >= 0, nonblank[np.maximum(lim, 0)] if len(nonblank) else False, False)
    t["key"] = keys
    on["cap"] = lookup(keys, on_key)
    return t


def _act(sv, d):
    """Where activity exists: every row of ``cap``, and every (process, region, year) of a
    process without plant; sets ``cap.act``, the activity of each capacity row."""
    dims, cap, proc = d.dims, d.tables["cap"], d.tables["process"]
    plantless = proc["process"].to_numpy(dtype=object)[~proc["plant"].to_numpy(dtype=bool)]
    nR = dims.size("region")
    pcode = dims.code("process", plantless)
    r = np.arange(len(dims.names["region"]), dtype=np.int64)
    y = _ints(d.years) - dims.year0
    extra = ((np.repeat(pcode, len(r) * len(y)) * nR + np.tile(np.repeat(r, len(y)), len(pcode))) * dims.size("year")
             + np.tile(y, len(pcode) * len(r)))
    keys = unique_keys(np.concatenate([cap["key"].to_numpy(), extra]))
    t = _named_keys(d, keys, P3)
    t["p"] = _process_of(d, keys // (nR * dims.size("year")))
    t["y"] = (t["year"].to_numpy() - d.years[0]).astype(np.int64)
    t["key"] = keys
    cap["act"] = lookup(keys, cap["key"].to_numpy())
    d.tables["act"] = t
    _cost_rows(sv, d)
    return t


def _cost_rows(sv, d):
    """For every row of ``new`` (by vintage), ``cap`` and ``act`` (by year), the rows of
    ``process_costs.csv`` that could set its costs, most specific first: (region, year),
    (region), (year), (* and blank year); -1 where there is none. The params take the first
    one whose cell is not blank, else ``processes.csv``."""
    pc = sv.table("process_costs")
    dims = d.dims
    nR, nY = dims.size("region"), dims.size("year")
    for name in ("new", "cap", "act"):
        t = d.tables[name]
        cand = np.full((len(t), 4), -1, dtype=np.int64)
        if len(pc) and len(t):
            reg = pc["region"].to_numpy(dtype=object)
            star = reg == "*"
            rc = np.where(star, nR, dims.code("region", np.where(star, dims.names["region"][0], reg)))
            yr = pc["year"].to_numpy(dtype="float64", na_value=np.nan)
            yc = np.where(np.isnan(yr), nY, np.nan_to_num(yr) - dims.year0).astype(np.int64)
            key = (dims.code("process", pc["process"].to_numpy(dtype=object)) * (nR + 1) + rc) * (nY + 1) + yc
            p = dims.code("process", t["process"].to_numpy(dtype=object))
            r = dims.code("region", t["region"].to_numpy(dtype=object))
            y = t["year"].to_numpy(dtype=np.int64) - dims.year0
            for k, (r_, y_) in enumerate(((r, y), (r, nY), (nR, y), (nR, nY))):
                cand[:, k] = lookup(key, (p * (nR + 1) + r_) * (nY + 1) + y_)
        d.aux[("process_costs", name)] = cand


def _actio(sv, d):
    """Every row of ``act`` with every ``process_io`` row of its process (the terms of the
    balance rows that activity enters), in act order, then io order; an output delayed past
    the horizon drops out."""
    act, io = d.tables["act"], d.tables["io"]
    cp, ip = act["p"].to_numpy(), io["p"].to_numpy()
    order = np.argsort(ip, kind="stable")
    sp = ip[order]
    lo = np.searchsorted(sp, cp, side="left")
    cnt = np.searchsorted(sp, cp, side="right") - lo
    ci = np.repeat(np.arange(len(cp), dtype=np.int64), cnt)
    off = np.arange(int(cnt.sum()), dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    ii = order[np.repeat(lo, cnt) + off].astype(np.int64)
    arrive = act["year"].to_numpy()[ci] + io["delay"].to_numpy()[ii]
    keep = arrive <= d.years[-1]
    return pd.DataFrame({"act": ci[keep], "io": ii[keep], "year": arrive[keep]})


def _supply(sv, d):
    t = sv.table("supply")
    dims = d.dims
    shape = sv.shape("supply", "max_quantity")
    yr = t["year"].to_numpy(dtype="float64", na_value=np.nan)
    every = np.isnan(yr)
    ny = len(d.years)
    row, (yo,) = product([np.where(every, ny, 1)])
    year = np.where(every[row], d.years[0] + yo, np.nan_to_num(yr)[row]).astype(np.int64)
    key = dims.key({"commodity": t["commodity"].to_numpy(dtype=object)[row], "region": t["region"].to_numpy(dtype=object)[row],
                    "year": year}, C3)
    # a row for one year overrides an every-year row for that year, whatever the file's order
    order = np.lexsort((~every[row], key))
    last = np.ones(len(order), dtype=bool)
    last[:-1] = key[order][1:] != key[order][:-1]
    pick = order[last]
    src = row[pick]
    keep = shape["blank"][src] | shape["positive"][src]
    pick, src = pick[keep], src[keep]
    named, _ = _decode(d, key[pick], C3)
    out = pd.DataFrame({c: named[c] for c in C3})
    out["year"] = out["year"].astype(np.int64)
    out["src"] = src
    out["limited"] = ~shape["blank"][src]
    out["y"] = out["year"].to_numpy() - d.years[0]
    return out


def _ship(sv, d):
    t = sv.table("trade")
    shape = sv.shape("trade", "max_quantity")
    keep = np.flatnonzero(shape["blank"] | shape["positive"])
    ny = len(d.years)
    src = np.repeat(keep, ny)
    out = pd.DataFrame({"commodity": t["commodity"].to_numpy(dtype=object)[src], "origin": t["origin"].to_numpy(dtype=object)[src],
                        "destination": t["destination"].to_numpy(dtype=object)[src], "year": np.tile(_ints(d.years), len(keep))})
    out["src"] = src.astype(np.int64)
    out["limited"] = ~shape["blank"][src]
    out["y"] = out["year"].to_numpy() - d.years[0]
    return out


def _curves(sv, d, commodity, region, year) -> tuple[np.ndarray, np.ndarray]:
    """The ``demand_response`` rows that apply to each (commodity, region, year): those of the
    most specific level present, (region, year) > (region) > (year) > (* and blank year), in
    step order. Returns (query row, demand_response row) pairs, by query row."""
    dr = sv.table("demand_response")
    if not len(dr) or not len(commodity):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    dims = d.dims
    nR, nY = dims.size("region"), dims.size("year")
    reg = dr["region"].to_numpy(dtype=object)
    star = reg == "*"
    rc = np.where(star, nR, dims.code("region", np.where(star, dims.names["region"][0], reg)))
    yr = dr["year"].to_numpy(dtype="float64", na_value=np.nan)
    every = np.isnan(yr)
    yc = np.where(every, nY, np.nan_to_num(yr) - dims.year0).astype(np.int64)
    cc = dims.code("commodity", dr["commodity"].to_numpy(dtype=object))

    def key(c, r, y):
        return (c * (nR + 1) + r) * (nY + 1) + y

    dr_key = key(cc, rc, yc)
    qc = dims.code("commodity", np.asarray(commodity, dtype=object))
    qr = dims.code("region", np.asarray(region, dtype=object))
    qy = np.asarray(year, dtype=np.int64) - dims.year0
    uniq, members, starts = groups(dr_key)
    ends = np.append(starts[1:], len(members))
    chosen = np.full(len(qc), -1, dtype=np.int64)
    for r_, y_ in ((qr, qy), (qr, np.full(len(qy), nY)), (np.full(len(qr), nR), qy), (np.full(len(qr), nR), np.full(len(qy), nY))):
        g = lookup(uniq, key(qc, r_, y_))
        chosen = np.where((chosen < 0) & (g >= 0), g, chosen)
    q = np.flatnonzero(chosen >= 0)
    cnt = (ends - starts)[chosen[q]]
    rows = np.repeat(q, cnt)
    off = np.arange(int(cnt.sum()), dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    src = members[np.repeat(starts[chosen[q]], cnt) + off]
    steps = dr["step"].astype("int64").to_numpy()[src]
    order = np.lexsort((steps, rows))
    return rows[order], src[order]


def _unmet(sv, d):
    """Unmet demand, per step of the demand curve where one applies (else one step, 0, at the
    unmet penalty), where demand > 0: demand rows in file order, steps ascending."""
    t = sv.table("demand")
    pos = np.flatnonzero(sv.shape("demand", "quantity")["positive"])
    com, reg = t["commodity"].to_numpy(dtype=object)[pos], t["region"].to_numpy(dtype=object)[pos]
    yr = t["year"].astype("int64").to_numpy()[pos]
    q, curve = _curves(sv, d, com, reg, yr)
    has = np.zeros(len(pos), dtype=bool)
    has[q] = True
    plain = np.flatnonzero(~has)
    rows = np.concatenate([q, plain])
    curve = np.concatenate([curve, np.full(len(plain), -1, dtype=np.int64)])
    steps = np.where(curve >= 0, sv.table("demand_response")["step"].astype("int64").to_numpy()[np.maximum(curve, 0)]
                     if len(sv.table("demand_response")) else 0, 0)
    order = np.lexsort((steps, rows))
    rows, curve, steps = rows[order], curve[order], steps[order]
    out = pd.DataFrame({"commodity": com[rows], "region": reg[rows], "year": yr[rows], "step": steps.astype(np.int64)})
    out["src"] = pos[rows].astype(np.int64)
    out["curve"] = curve
    coms = sv.table("commodities")["commodity"].to_numpy(dtype=object)
    out["c"] = pd.Index(coms).get_indexer(out["commodity"].to_numpy(dtype=object)).astype(np.int64)
    out["y"] = out["year"].to_numpy() - d.years[0]
    return out


def _storage(sv, d):
    t = sv.table("storage")
    return pd.DataFrame({"commodity": t["commodity"].to_numpy(dtype=object), "region": t["region"].to_numpy(dtype=object),
                         "src": np.arange(len(t), dtype=np.int64)})


def _stock(sv, d):
    """The stock of every stockable (commodity, region) at the end of every year; sets
    ``storage.last``, the stock of its last year."""
    st = d.tables["storage"]
    ny = len(d.years)
    src = np.repeat(st["src"].to_numpy(), ny)
    k = np.tile(np.arange(ny, dtype=np.int64), len(st))
    out = pd.DataFrame({"commodity": st["commodity"].to_numpy(dtype=object)[src], "region": st["region"].to_numpy(dtype=object)[src],
                        "year": _ints(d.years)[k]})
    out["src"] = src
    out["y"] = k
    out["prev"] = np.where(k > 0, np.arange(len(out), dtype=np.int64) - 1, -1)
    st["last"] = np.arange(len(st), dtype=np.int64) * ny + ny - 1
    return out


def _balance(sv, d):
    """Every (commodity, region, year) that anything touches; sets the balance row of every
    term (``bal`` columns of actio, supply, ship, unmet, stock)."""
    dims = d.dims
    act, io, ai = d.tables["act"], d.tables["io"], d.tables["actio"]
    # (commodity, region, year) of each term from the codes of io and the keys of act
    nR, nY = dims.size("region"), dims.size("year")
    act_region = act["key"].to_numpy() // nY % nR
    act_key = ((dims.code("commodity", io["commodity"])[ai["io"].to_numpy()] * nR + act_region[ai["act"].to_numpy()]) * nY
               + ai["year"].to_numpy() - dims.year0)
    sp, sh, un, sk = d.tables["supply"], d.tables["ship"], d.tables["unmet"], d.tables["stock"]
    sp_key = dims.key(sp, C3)
    in_key = dims.key({"commodity": sh["commodity"], "region": sh["destination"], "year": sh["year"]}, C3)
    out_key = dims.key({"commodity": sh["commodity"], "region": sh["origin"], "year": sh["year"]}, C3)
    un_key = dims.key(un, C3)
    st_key = dims.key(sk, C3)
    keys = unique_keys(np.concatenate([act_key, sp_key, in_key, out_key, un_key, st_key]))
    t = _named_keys(d, keys, C3)
    dem = sv.table("demand")
    dem_key = dims.key({"commodity": dem["commodity"].to_numpy(dtype=object), "region": dem["region"].to_numpy(dtype=object),
                        "year": dem["year"].astype("int64").to_numpy()}, C3)
    src = np.full(len(keys), -1, dtype=np.int64)
    hit = lookup(keys, dem_key)
    src[hit[hit >= 0]] = np.flatnonzero(hit >= 0)
    t["src"] = src
    t["y"] = t["year"].to_numpy() - d.years[0]
    t["key"] = keys
    ai["bal"] = lookup(keys, act_key)
    sp["bal"] = lookup(keys, sp_key)
    sh["bal_in"] = lookup(keys, in_key)
    sh["bal_out"] = lookup(keys, out_key)
    un["bal"] = lookup(keys, un_key)
    sk["bal"] = lookup(keys, st_key)
    return t


def _dispose(sv, d):
    """Where a commodity with a disposal cost can arrive: made, bought, shipped in or held."""
    coms = sv.table("commodities")["commodity"].to_numpy(dtype=object)
    disposable = set(coms[~sv.shape("commodities", "disposal_cost")["blank"]])
    bal = d.tables["balance"]
    ai, io, sp, sh, sk = d.tables["actio"], d.tables["io"], d.tables["supply"], d.tables["ship"], d.tables["stock"]
    made = ai["bal"].to_numpy()[(io["direction"].to_numpy(dtype=object) == "out")[ai["io"].to_numpy()]]
    rows = unique_keys(np.concatenate([made, sp["bal"].to_numpy(), sh["bal_in"].to_numpy(), sk["bal"].to_numpy()]).astype(np.int64))
    if disposable:  # the commodity of a balance row is the first digit of its key
        dims = d.dims
        com = bal["key"].to_numpy()[rows] // (dims.size("region") * dims.size("year"))
        rows = rows[np.isin(com, dims.code("commodity", sorted(disposable)))]
    else:
        rows = rows[:0]
    out = pd.DataFrame({c: bal[c].to_numpy()[rows] for c in C3})
    out["year"] = out["year"].astype(np.int64)
    out["bal"] = rows
    out["c"] = pd.Index(coms).get_indexer(out["commodity"].to_numpy(dtype=object)).astype(np.int64)
    out["y"] = out["year"].to_numpy() - d.years[0]
    return out


def _policy(sv, d):
    pol = sv.table("policies")
    kinds = pol["kind"].to_numpy(dtype=object)
    yr = pol["year"].to_numpy(dtype="float64", na_value=np.nan)
    every = np.isnan(yr)
    ny = len(d.years)
    row, (yo,) = product([np.where(every, ny, 1)])
    year = np.where(every[row], d.years[0] + yo, np.nan_to_num(yr)[row]).astype(np.int64)
    out = pd.DataFrame({"policy": pol["policy"].to_numpy(dtype=object)[row], "year": year, "kind": kinds[row]})
    out["sense"] = [POLICY_KINDS[k].sense for k in kinds[row]]
    out["src"] = row.astype(np.int64)
    out["line"] = pol.index.to_numpy()[row].astype(np.int64)
    out["soft"] = ~sv.shape("policies", "penalty")["blank"][row]
    out["y"] = year - d.years[0]
    return out


def _items(cells, universe: list[str]) -> list[list[str]]:
    from .cells import expand

    return [expand(c, universe) for c in cells]


def _policy_terms(sv, d):
    """The variables each policy row sums: (row of ``policy``, variable family, position in
    the family's index table, part: 0 the summed items, 1 the items of ``share_of``), by row,
    part and position. One pass per policy kind over all its rows."""
    pol, raw = d.tables["policy"], sv.table("policies")
    dims = d.dims
    regions = list(sv.table("regions")["region"])
    universe = {"processes": list(sv.table("processes")["process"]), "commodities": list(sv.table("commodities")["commodity"])}
    var_table = {"act": "act", "cap": "cap", "new": "new", "supply": "supply", "ship": "ship", "stock": "stock"}
    var_cols = {"act": P3, "cap": P3, "new": P3, "supply": C3, "ship": S4, "stock": C3}
    out = []
    src = pol["src"].to_numpy()
    for name, kind in POLICY_KINDS.items():
        rows = np.flatnonzero(pol["kind"].to_numpy(dtype=object) == name)
        if not len(rows):
            continue
        parts = [(0, kind.select)] + ([(1, "share_of")] if kind.share_of else [])
        table = var_table[kind.var]
        cols = var_cols[table]
        vkeys = d.tables[table]["key"].to_numpy() if "key" in d.tables[table] else dims.key(d.tables[table], cols)
        for part, column in parts:
            lines = np.unique(src[rows])
            cells = raw[column].to_numpy(dtype=object) if column in raw.columns else np.full(len(raw), None, dtype=object)
            items = dict(zip(lines, _items(cells[lines], universe[_universe(column)])))
            regs = dict(zip(lines, _items(raw["regions"].to_numpy(dtype=object)[lines], regions)))
            lists = [[items[s] for s in src[rows]], [regs[s] for s in src[rows]]]
            if kind.destinations:
                dests = dict(zip(lines, _items(raw["destinations"].to_numpy(dtype=object)[lines], regions)))
                lists.append([dests[s] for s in src[rows]])
            counts = [np.fromiter((len(x) for x in lst), dtype=np.int64, count=len(rows)) for lst in lists]
            comb, offs = product(counts)
            flat = []
            for lst, cnt, off in zip(lists, counts, offs):
                starts = np.cumsum(cnt) - cnt
                values = np.asarray([v for x in lst for v in x], dtype=object)
                flat.append(values[starts[comb] + off] if len(values) else values)
            year = pol["year"].to_numpy()[rows][comb]
            cols_now = dict(zip(cols[:-1], flat))
            cols_now["year"] = year
            pos = lookup(vkeys, dims.key(cols_now, cols)) if len(comb) else np.zeros(0, np.int64)
            ok = pos >= 0
            out.append(pd.DataFrame({"row": rows[comb][ok], "var": kind.var, "pos": pos[ok], "part": part}))
    t = pd.concat(out, ignore_index=True) if out else pd.DataFrame({"row": [], "var": [], "pos": [], "part": []})
    t = t.astype({"row": np.int64, "pos": np.int64, "part": np.int64})
    t = t.drop_duplicates(["row", "part", "pos"]).sort_values(["row", "part", "pos"], kind="stable").reset_index(drop=True)
    _terms_per_policy(sv, d, t)
    return t


def _universe(column: str) -> str:
    return "commodities" if column == "commodities" else "processes"


def _terms_per_policy(sv, d, terms):
    pol = d.tables["policy"]
    pol["n_terms"] = np.bincount(terms["row"].to_numpy(), minlength=len(pol)) if len(terms) else np.zeros(len(pol), np.int64)


def _per_vintage(column):
    """A ``processes.csv`` column for each vintage (p, r, v) of ``new`` (blank: 0)."""
    def derive(v, d):
        vals = np.nan_to_num(v.column("processes", column), nan=0.0)
        return vals[d.tables["new"]["p"].to_numpy()] if len(d.tables["new"]) else np.zeros(0)

    return derive


def _check_min_build(values, d, label):
    """``min_build`` makes new capacity 0 or at least min_build through a switch that also caps
    it at ``max_new``: a vintage with a min_build needs a finite max_new."""
    bad = np.flatnonzero((values > 0) & ~np.isfinite(d.params["max_new"]))
    if len(bad):
        new, proc = d.tables["new"], d.tables["process"]
        problems, seen = [], set()
        for i in bad.tolist():
            p, r = new["process"].iloc[i], new["region"].iloc[i]
            if (p, r) in seen:
                continue
            seen.add((p, r))
            problems.append(Problem(label("processes"), f"process '{p}' has a min_build, which needs a finite max_new in "
                                    f"{label('build_limits')} for region '{r}' (it caps a vintage that is built)",
                                    row=int(proc["line"].iloc[int(new["p"].iloc[i])]), column="min_build", value=float(values[i])))
        raise InstanceError(problems)


def _check_policy_values(values, d, label):
    """A hard min policy with a positive value that covers nothing that can exist cannot hold
    (its row would be 0 >= value): an error, found in the values, so that a value changed in
    place is checked too."""
    pol = d.tables["policy"]
    share = np.array([POLICY_KINDS[k].share_of for k in pol["kind"].to_numpy(dtype=object)], dtype=bool)
    bad = np.flatnonzero((pol["n_terms"].to_numpy() == 0) & (pol["sense"].to_numpy(dtype=object) == "min")
                         & (values > 0) & ~pol["soft"].to_numpy(dtype=bool) & ~share)
    if len(bad):
        problems = []
        for i in bad:
            kind = POLICY_KINDS[pol["kind"].iloc[i]]
            problems.append(Problem(label("policies"), f"policy '{pol['policy'].iloc[i]}' requires {values[i]:g} of {kind.sums} in "
                                    f"{int(pol['year'].iloc[i])} but covers nothing that can exist then (no capacity or build option)",
                                    row=int(pol["line"].iloc[i]), column="value"))
        raise InstanceError(problems)


INDEX_TABLES = (
    IndexTable("process", ("process",), "P", "P", "every row of `processes.csv`", _process, index="p"),
    IndexTable("year", ("year",), "Y", "Y", "`years.first … years.last`", _year, index="y"),
    IndexTable("io", ("process", "commodity", "delay"), "IO", "\\mathcal{IO}", "every row of `process_io.csv`", _io, index="p,c,\\delta"),
    IndexTable("new", P3, "NEW", "\\mathcal{N}", "a `build_limits` row allows building $p$ (a process with plant) in $r$ in year $v$ "
               "(every applicable `max_new` blank or > 0) and $v + \\text{lead\\_time}_p \\le$ the last year", _new,
               doc="vintages (p, r, v): building started in year v", index="p,r,v"),
    IndexTable("online", ("process", "region", "vintage", "year"), None, "\\text{online}",
               "$v + \\text{lead\\_time}_p \\le y \\le v + \\text{lead\\_time}_p + \\text{lifetime}_p - 1$", _online, index="p,r,v,y"),
    IndexTable("cap", P3, "CAP", "\\mathcal{C}", "residual capacity > 0 in year $y$, or a buildable vintage of $p$ in $r$ is "
               "online in $y$", _cap, index="p,r,y"),
    IndexTable("act", P3, "ACT", "\\mathcal{A}", "a row of $\\mathcal{C}$, or any $(r, y)$ of a process without plant "
               "(`capacity` false)", _act, index="p,r,y"),
    IndexTable("actio", ("act", "io"), None, "", "every row of $\\mathcal{A}$ with every `process_io` row of its process "
               "whose output arrives within the horizon (year $y + \\delta$)", _actio, index=""),
    IndexTable("supply", C3, "SUPPLY", "\\mathcal{S}", "a `supply.csv` row (blank year: every year; a row for one year "
               "overrides it) with `max_quantity` blank or > 0", _supply, index="c,r,y"),
    IndexTable("ship", S4, "SHIP", "\\mathcal{T}", "a `trade.csv` lane with `max_quantity` blank or > 0, every year", _ship, index="c,o,d,y"),
    IndexTable("unmet", ("commodity", "region", "year", "step"), "UNMET", "\\mathcal{U}",
               "demand > 0: one row per step of the demand curve that applies (`demand_response.csv`), else one step 0",
               _unmet, index="c,r,y,s"),
    IndexTable("storage", ("commodity", "region"), "STORAGE", "\\mathcal{K}", "a `storage.csv` row", _storage, index="c,r"),
    IndexTable("stock", C3, "STOCK", "\\mathcal{H}", "a `storage.csv` row, every year", _stock, index="c,r,y"),
    IndexTable("balance", C3, "BAL", "\\mathcal{B}", "anything (activity, supply, shipment, demand, stock) touches $c$ in $r$ in $y$",
               _balance, index="c,r,y"),
    IndexTable("dispose", C3, "DISPOSE", "\\mathcal{D}", "$c$ has a `disposal_cost` and something can bring $c$ to $r$ in $y$",
               _dispose, index="c,r,y"),
    IndexTable("policy", ("policy", "year"), "POL", "\\mathcal{P}", "a `policies.csv` row (blank year: every year)", _policy, index="\\pi,y"),
    IndexTable("policy_terms", ("row", "var", "pos"), None, "", "the variables a policy row sums", _policy_terms, index=""),
)


# ------------------------------------------------------------------------------------------
# Parameters
# ------------------------------------------------------------------------------------------


def _df(v, d):
    rate, base = v.setting("discount_rate"), v.setting("base_year")
    return np.array([(1.0 + rate) ** -(y - base) for y in d.years], dtype=float)


def _effective_cost(v, d, column: str, table: str) -> np.ndarray:
    """``column`` (capex, fixed_om, variable_cost) for each row of ``table``: the most specific
    non-blank cell of ``process_costs.csv`` that applies, else ``processes.csv``'s."""
    out = v.column("processes", column)[d.tables[table]["p"].to_numpy()]
    cand = d.aux[("process_costs", table)]
    if cand.size and (cand >= 0).any():
        vals = v.column("process_costs", column)
        found = np.zeros(len(out), dtype=bool)
        for k in range(4):
            c = cand[:, k]
            hit = ~found & (c >= 0)
            hit[hit] = ~np.isnan(vals[c[hit]])
            out = np.where(hit, vals[np.maximum(c, 0)], out)
            found |= hit
    return out


def _capex_of_vintage(v, d):
    return _effective_cost(v, d, "capex", "new")


def _annuity(v, d):
    rate = v.setting("discount_rate")
    factor = np.array([crf(rate, int(L)) for L in v.column("processes", "lifetime")], dtype=float)
    return _capex_of_vintage(v, d) * factor[d.tables["new"]["p"].to_numpy()]


def _costs_of(column, table):
    def derive(v, d):
        return _effective_cost(v, d, column, table)

    return derive


def _per_process(column):
    def derive(v, d):
        return v.column("processes", column)

    return derive


def _io_coef(v, d):
    coef = v.column("process_io", "coefficient")
    return np.where(v.column("process_io", "direction") == "out", coef, -coef)


def _residual(v, d):
    src = d.tables["cap"]["src"].to_numpy()
    cap = v.column("capacity", "capacity")
    return np.where(src >= 0, cap[np.maximum(src, 0)] if len(cap) else 0.0, 0.0)


def _tightest(column, table):
    def derive(v, d):
        vals = v.column("build_limits", column)
        src, starts = d.aux["limits"]
        lim = d.tables[table]["lim"].to_numpy()
        if not len(starts):
            return np.full(len(lim), INF)
        tight = np.minimum.reduceat(np.where(np.isnan(vals[src]), INF, vals[src]), starts)
        return np.where(lim >= 0, tight[np.maximum(lim, 0)], INF)

    return derive


def _demand(v, d):
    src = d.tables["balance"]["src"].to_numpy()
    q = v.column("demand", "quantity")
    return np.where(src >= 0, q[np.maximum(src, 0)] if len(q) else 0.0, 0.0)


def _by_src(table, src_table, column, blank_inf=False):
    def derive(v, d):
        vals = v.column(src_table, column)
        out = vals[d.tables[table]["src"].to_numpy()]
        return np.where(np.isnan(out), INF, out) if blank_inf else out

    return derive


def _unmet_penalty(v, d):
    """Money per unit left unmet: the step's price on a demand curve, else the commodity's
    unmet penalty (else the instance's)."""
    own = v.column("commodities", "unmet_penalty")
    default = v.setting("unmet_penalty")
    pen = np.where(np.isnan(own), np.nan if default is None else default, own)
    un = d.tables["unmet"]
    curve = un["curve"].to_numpy()
    price = v.column("demand_response", "price")
    return np.where(curve >= 0, price[np.maximum(curve, 0)] if len(price) else 0.0, pen[un["c"].to_numpy()])


def _unmet_share(v, d):
    curve = d.tables["unmet"]["curve"].to_numpy()
    share = v.column("demand_response", "share")
    return np.where(curve >= 0, share[np.maximum(curve, 0)] if len(share) else 0.0, 1.0)


def _storage_final(v, d):
    final = v.column("storage", "final")
    return np.where(np.isnan(final), v.column("storage", "initial"), final)


def _disposal_cost(v, d):
    return v.column("commodities", "disposal_cost")[d.tables["dispose"]["c"].to_numpy()]


_RATE = ("instance", "discount_rate")


def _PC(column):
    return (("processes", column), ("process_costs", column))


PARAMS = (
    Param("df", "year", (_RATE, ("instance", "base_year")), _df,
          "discount factor $DF_y = (1+i)^{-(y - \\text{base\\_year})}$", "y"),
    Param("capex", "new", _PC("capex"), _capex_of_vintage,
          "money per unit of annual capacity of vintage $v$ in $r$ (`process_costs.csv`: most specific row, else `processes.csv`)",
          "p,r,v"),
    Param("annuity", "new", _PC("capex") + (("processes", "lifetime"), _RATE), _annuity,
          "$\\text{capex}_{p,r,v} \\cdot CRF(i, L_p)$, $CRF = \\frac{i(1+i)^L}{(1+i)^L - 1}$ ($1/L$ when $i = 0$): money per unit of "
          "capacity per year online", "p,r,v"),
    Param("fixed_om", "cap", _PC("fixed_om"), _costs_of("fixed_om", "cap"),
          "money per unit of capacity per year, by operating year", "p,r,y"),
    Param("variable_cost", "act", _PC("variable_cost"), _costs_of("variable_cost", "act"),
          "money per unit of activity, by activity year", "p,r,y"),
    Param("availability", "process", (("processes", "availability"),), _per_process("availability"),
          "share of capacity usable in a year", "p"),
    Param("io", "io", (("process_io", "coefficient"), ("process_io", "direction")), _io_coef,
          "signed `process_io` coefficient: + output, − input, per unit of activity (an output delayed by $\\delta$ years "
          "arrives in year $y + \\delta$)", "p,c,\\delta"),
    Param("residual", "cap", (("capacity", "capacity"),), _residual,
          "existing capacity (a year not listed in `capacity.csv` takes the latest listed year before it)", "p,r,y"),
    Param("max_new", "new", (("build_limits", "max_new"),), _tightest("max_new", "new"),
          "the tightest `max_new` of the `build_limits` rows that apply", "p,r,v"),
    Param("unit_size", "new", (("processes", "unit_size"),), _per_vintage("unit_size"),
          "size of a plant module of $p$ (0: capacity in any amount)", "p,r,v"),
    Param("min_build", "new", (("processes", "min_build"),), _per_vintage("min_build"),
          "the least new capacity of a vintage that is built at all (0: none)", "p,r,v", check=_check_min_build),
    Param("max_total", "cap", (("build_limits", "max_total"),), _tightest("max_total", "cap"),
          "the tightest `max_total` of the `build_limits` rows that apply", "p,r,y"),
    Param("demand", "balance", (("demand", "quantity"),), _demand, "`demand.csv` quantity (0 where none)", "c,r,y"),
    Param("supply_price", "supply", (("supply", "price"),), _by_src("supply", "supply", "price"),
          "money per unit bought from outside", "c,r,y"),
    Param("supply_max", "supply", (("supply", "max_quantity"),), _by_src("supply", "supply", "max_quantity", True),
          "most that can be bought in a year", "c,r,y"),
    Param("ship_cost", "ship", (("trade", "cost"),), _by_src("ship", "trade", "cost"), "money per unit shipped", "c,o,d,y"),
    Param("ship_max", "ship", (("trade", "max_quantity"),), _by_src("ship", "trade", "max_quantity", True),
          "most a lane carries in a year", "c,o,d,y"),
    Param("unmet_penalty", "unmet", (("commodities", "unmet_penalty"), ("instance", "unmet_penalty"), ("demand_response", "price")),
          _unmet_penalty, "money per unit of unmet demand: the step's `price` on a demand curve, else the commodity's "
          "`unmet_penalty` (else the instance's)", "c,r,y,s"),
    Param("unmet_share", "unmet", (("demand_response", "share"),), _unmet_share,
          "share of the demand that may go unmet in the step (1 where no curve applies)", "c,r,y,s"),
    Param("stock_initial", "storage", (("storage", "initial"),), _by_src("storage", "storage", "initial"),
          "stock before the first year", "c,r"),
    Param("final_stock", "storage", (("storage", "final"), ("storage", "initial")), _storage_final,
          "least stock at the end of the last year (blank: the initial stock)", "c,r"),
    Param("stock_max", "storage", (("storage", "max_level"),), _by_src("storage", "storage", "max_level", True),
          "most that can be held", "c,r"),
    Param("holding_cost", "storage", (("storage", "holding_cost"),), _by_src("storage", "storage", "holding_cost"),
          "money per unit held at the end of a year", "c,r"),
    Param("disposal_cost", "dispose", (("commodities", "disposal_cost"),), _disposal_cost, "money per unit disposed of", "c,r,y"),
    Param("policy_value", "policy", (("policies", "value"),), _by_src("policy", "policies", "value"),
          "the policy's value in the year", "\\pi,y", check=_check_policy_values),
    Param("policy_penalty", "policy", (("policies", "penalty"),), _by_src("policy", "policies", "penalty"),
          "money per unit of violation of a soft policy", "\\pi,y"),
)


# ------------------------------------------------------------------------------------------
# Builders of parts: positions of rows, variables and param entries
# ------------------------------------------------------------------------------------------


def _col(d, table, column):
    return d.tables[table][column].to_numpy()


def _all(table):
    """Every row of ``table``, indexing the params by the row itself."""
    def build(d):
        n = len(d.tables[table])
        i = np.arange(n, dtype=np.int64)
        return Pick(rows=i, vars=i, index=(i,))

    return build


def _where(table, column):
    def build(d):
        i = np.flatnonzero(_col(d, table, column)).astype(np.int64)
        return Pick(rows=i, vars=i, index=(i,))

    return build


def _positive(param):
    """The rows of ``new`` where ``param`` is positive (the vintages it concerns)."""
    def build(d):
        i = np.flatnonzero(d.params[param] > 0).astype(np.int64)
        return Pick(rows=i, vars=i, index=(i,))

    return build


def _self(table):
    """The same row of ``table`` as row and variable, no params."""
    def build(d):
        i = np.arange(len(d.tables[table]), dtype=np.int64)
        return Pick(rows=i, vars=i)

    return build


def _cost(table, params_by=None, where=None):
    """Cost of the variables of ``table`` (those where column ``where`` is true), each paid in
    its own year; params indexed by the columns ``params_by`` (default: the row itself)."""
    def build(d):
        t = d.tables[table]
        i = np.arange(len(t), dtype=np.int64) if where is None else np.flatnonzero(t[where].to_numpy(dtype=bool)).astype(np.int64)
        index = (i,) if params_by is None else tuple(t[c].to_numpy()[i] for c in params_by)
        return Pick(vars=i, years=t["y"].to_numpy()[i], index=index)

    return build


def _capex(d):
    on = d.tables["online"]
    v = on["new"].to_numpy()
    return Pick(vars=v, years=on["year"].to_numpy() - d.years[0], index=(v,))


def _vintages(d):
    on = d.tables["online"]
    return Pick(rows=on["cap"].to_numpy(), vars=on["new"].to_numpy())


def _use_cap(d):
    i = np.arange(len(d.tables["cap"]), dtype=np.int64)
    return Pick(rows=i, vars=i, index=(_col(d, "cap", "p"),))


def _use_act(d):
    i = np.arange(len(d.tables["cap"]), dtype=np.int64)
    return Pick(rows=i, vars=_col(d, "cap", "act"))


def _act_io(d):
    ai = d.tables["actio"]
    return Pick(rows=ai["bal"].to_numpy(), vars=ai["act"].to_numpy(), index=(ai["io"].to_numpy(),))


def _stock_bound(d):
    t = d.tables["stock"]
    return Pick(vars=np.arange(len(t), dtype=np.int64), index=(t["src"].to_numpy(),))


def _stock_held(d):
    t = d.tables["stock"]
    return Pick(vars=np.arange(len(t), dtype=np.int64), years=t["y"].to_numpy(), index=(t["src"].to_numpy(),))


def _stock_in(d):
    """The stock of the year before, brought into the balance (first year: the initial stock,
    on the right-hand side)."""
    t = d.tables["stock"]
    later = np.flatnonzero(t["prev"].to_numpy() >= 0)
    return Pick(rows=t["bal"].to_numpy()[later], vars=t["prev"].to_numpy()[later])


def _stock_initial(d):
    t = d.tables["stock"]
    first = np.flatnonzero(t["prev"].to_numpy() < 0)
    return Pick(rows=t["bal"].to_numpy()[first], index=(t["src"].to_numpy()[first],))


def _stock_last(d):
    t = d.tables["storage"]
    i = np.arange(len(t), dtype=np.int64)
    return Pick(rows=i, vars=t["last"].to_numpy(), index=(i,))


def _into_balance(table, column="bal"):
    def build(d):
        t = d.tables[table]
        return Pick(rows=t[column].to_numpy(), vars=np.arange(len(t), dtype=np.int64))

    return build


def _unmet_bound(d):
    t = d.tables["unmet"]
    i = np.arange(len(t), dtype=np.int64)
    return Pick(vars=i, index=(i, t["bal"].to_numpy()))


def _soft(d):
    return Pick(vars=np.flatnonzero(_col(d, "policy", "soft")).astype(np.int64))


def _policy_members(d):
    pol = d.tables["policy"]
    return Pick(rows=np.flatnonzero((pol["n_terms"].to_numpy() > 0) | pol["soft"].to_numpy(dtype=bool)).astype(np.int64))


def _policy_sense(d):
    return np.where(d.tables["policy"]["sense"].to_numpy(dtype=object) == "max", -1, 1)


def _policy_sum(var, part=0):
    def build(d):
        t = d.tables["policy_terms"]
        sel = np.flatnonzero((t["var"].to_numpy(dtype=object) == var) & (t["part"].to_numpy() == part))
        rows = t["row"].to_numpy()[sel]
        return Pick(rows=rows, vars=t["pos"].to_numpy()[sel], index=(rows,))

    return build


def _violation(sense):
    def build(d):
        pol = d.tables["policy"]
        i = np.flatnonzero(pol["soft"].to_numpy(dtype=bool) & (pol["sense"].to_numpy(dtype=object) == sense)).astype(np.int64)
        return Pick(rows=i, vars=i)

    return build


def _policy_rhs(d):
    pol = d.tables["policy"]
    share = np.array([POLICY_KINDS[k].share_of for k in pol["kind"].to_numpy(dtype=object)], dtype=bool)
    i = np.flatnonzero(~share).astype(np.int64)
    return Pick(rows=i, index=(i,))


def _p(name, index):
    return ((name, index),)


# ------------------------------------------------------------------------------------------
# Variables (all >= 0), in the order of the Pyomo model
# ------------------------------------------------------------------------------------------

VARS = (
    VarFamily("new", "new", "NEW", "new capacity of $p$ whose building starts in $r$ in year $v$",
              costs=(Cost("capex", Coef(params=_p("annuity", "p,r,v")), _capex, over="every year $y$ the vintage is online"),)),
    VarFamily("cap", "cap", "CAP", "capacity of $p$ in $r$ in $y$",
              costs=(Cost("fixed_om", Coef(params=_p("fixed_om", "p,r,y")), _cost("cap")),)),
    VarFamily("act", "act", "ACT", "activity of $p$ in $r$ in $y$ (units of its reference commodity per year)",
              costs=(Cost("variable", Coef(params=_p("variable_cost", "p,r,y")), _cost("act")),)),
    VarFamily("supply", "supply", "SUPPLY", "purchases from outside the modelled system",
              costs=(Cost("supply", Coef(params=_p("supply_price", "c,r,y")), _cost("supply")),)),
    VarFamily("ship", "ship", "SHIP", "shipments along a lane",
              costs=(Cost("trade", Coef(params=_p("ship_cost", "c,o,d,y")), _cost("ship")),)),
    VarFamily("unmet", "unmet", "UNMET", "demand left unmet, in step $s$ of its demand curve",
              upper=(Bound(Coef(params=(("unmet_share", "c,r,y,s"), ("demand", "c,r,y"))), _unmet_bound,
                           "at most the step's share of the demand"),),
              costs=(Cost("unmet", Coef(params=_p("unmet_penalty", "c,r,y,s")), _cost("unmet")),)),
    VarFamily("stock", "stock", "STOCK", "stock held at the end of the year",
              upper=(Bound(Coef(params=_p("stock_max", "c,r")), _stock_bound, "at most `max_level`"),),
              costs=(Cost("holding", Coef(params=_p("holding_cost", "c,r")), _stock_held),)),
    VarFamily("dispose", "dispose", "DISPOSE", "quantity disposed of",
              costs=(Cost("disposal", Coef(params=_p("disposal_cost", "c,r,y")), _cost("dispose")),)),
    VarFamily("modules", "new", "NEW_MOD", "plant modules of $p$ whose building starts in $r$ in year $v$ (a whole number)",
              members=_positive("unit_size"), exists="`unit_size` is given", integer=True, unit="modules"),
    VarFamily("built", "new", "NEW_ON", "1 if new capacity of $p$ is started in $r$ in year $v$, else 0",
              members=_positive("min_build"), exists="`min_build` > 0", integer=True,
              upper=(Bound(Coef(), _positive("min_build"), "at most 1"),)),
    VarFamily("violation", "policy", "POL_SOFT", "violation of a soft policy", members=_soft,
              exists="the policy has a `penalty` (soft)",
              costs=(Cost("violation", Coef(params=_p("policy_penalty", "\\pi,y")), _cost("policy", where="soft")),)),
)


# ------------------------------------------------------------------------------------------
# Rows, in the order of the Pyomo model
# ------------------------------------------------------------------------------------------

ROWS = (
    RowFamily("capacity", "cap", "CAP", "capacity is what exists plus the vintages online",
              terms=(Term("cap", Coef(), "p,r,y", _self("cap")),
                     Term("new", Coef(b=-1), "p,r,v", _vintages, over="v:\\,(p,r,v,y)\\,\\in\\,\\text{online}")),
              rhs=(Rhs(Coef(params=_p("residual", "p,r,y")), _all("cap")),), sense="=="),
    RowFamily("use", "cap", "CAP", "activity within the available capacity",
              terms=(Term("act", Coef(), "p,r,y", _use_act),
                     Term("cap", Coef(b=-1, params=_p("availability", "p")), "p,r,y", _use_cap)),
              sense="<="),
    RowFamily("build_new_limit", "new", "NEW_LIM", "new capacity within the build limit", limit=True, relax=True,
              terms=(Term("new", Coef(), "p,r,v", _where("new", "limited")),),
              rhs=(Rhs(Coef(params=_p("max_new", "p,r,v")), _where("new", "limited")),), sense="<=",
              members=_where("new", "limited"), exists="a finite `max_new` applies"),
    RowFamily("module_size", "new", "NEW_MOD", "new capacity is whole plant modules",
              terms=(Term("new", Coef(), "p,r,v", _positive("unit_size")),
                     Term("modules", Coef(b=-1, params=_p("unit_size", "p,r,v")), "p,r,v", _positive("unit_size"))),
              sense="==", members=_positive("unit_size"), exists="`unit_size` is given"),
    RowFamily("build_at_least", "new", "NEW_ON", "new capacity, where started, is at least `min_build`",
              terms=(Term("new", Coef(), "p,r,v", _positive("min_build")),
                     Term("built", Coef(b=-1, params=_p("min_build", "p,r,v")), "p,r,v", _positive("min_build"))),
              sense=">=", members=_positive("min_build"), exists="`min_build` > 0"),
    RowFamily("build_switch", "new", "NEW_ON", "no new capacity where none is started (at most `max_new` where it is)",
              terms=(Term("new", Coef(), "p,r,v", _positive("min_build")),
                     Term("built", Coef(b=-1, params=_p("max_new", "p,r,v")), "p,r,v", _positive("min_build"))),
              sense="<=", members=_positive("min_build"), exists="`min_build` > 0"),
    RowFamily("build_total_limit", "cap", "CAP_LIM", "total capacity within the build limit", limit=True, relax=True,
              terms=(Term("cap", Coef(), "p,r,y", _where("cap", "limited")),),
              rhs=(Rhs(Coef(params=_p("max_total", "p,r,y")), _where("cap", "limited")),), sense="<=",
              members=_where("cap", "limited"), exists="a finite `max_total` applies"),
    RowFamily("balance", "balance", "BAL", "what is made, bought, shipped in or left unmet equals what is used, shipped out, "
              "disposed of or demanded", relax=True,
              terms=(Term("act", Coef(params=_p("io", "p,c,\\delta")), "p,r,y-\\delta", _act_io, over="p,\\delta"),
                     Term("supply", Coef(), "c,r,y", _into_balance("supply")),
                     Term("ship", Coef(), "c,o,r,y", _into_balance("ship", "bal_in"), over="o"),
                     Term("ship", Coef(b=-1), "c,r,d,y", _into_balance("ship", "bal_out"), over="d"),
                     Term("unmet", Coef(), "c,r,y", _into_balance("unmet")),
                     Term("dispose", Coef(b=-1), "c,r,y", _into_balance("dispose")),
                     Term("stock", Coef(), "c,r,y-1", _stock_in),
                     Term("stock", Coef(b=-1), "c,r,y", _into_balance("stock"))),
              rhs=(Rhs(Coef(params=_p("demand", "c,r,y")), _all("balance")),
                   Rhs(Coef(b=-1, params=_p("stock_initial", "c,r")), _stock_initial, when="the first year of a stock")),
              sense="==",
              dual="the marginal cost of one more unit of $c$ in $r$ in $y$ (discounted; `prices` divides by $DF_y$)"),
    RowFamily("stock_final", "storage", "STORAGE", "a plan hands on at least the final stock", relax=True,
              terms=(Term("stock", Coef(), "c,r,\\text{last}", _stock_last),),
              rhs=(Rhs(Coef(params=_p("final_stock", "c,r")), _all("storage")),), sense=">=",
              dual="the value of one unit less of stock to hand on"),
    RowFamily("supply_limit", "supply", "SUPPLY_LIM", "outside supply within its limit", limit=True, relax=True,
              terms=(Term("supply", Coef(), "c,r,y", _where("supply", "limited")),),
              rhs=(Rhs(Coef(params=_p("supply_max", "c,r,y")), _where("supply", "limited")),), sense="<=",
              members=_where("supply", "limited"), exists="a finite `max_quantity` applies"),
    RowFamily("trade_limit", "ship", "SHIP_LIM", "shipments within the lane's limit", limit=True, relax=True,
              terms=(Term("ship", Coef(), "c,o,d,y", _where("ship", "limited")),),
              rhs=(Rhs(Coef(params=_p("ship_max", "c,o,d,y")), _where("ship", "limited")),), sense="<=",
              members=_where("ship", "limited"), exists="a finite `max_quantity` applies"),
    RowFamily("policy", "policy", "POL", "a policy holds in a year", relax=True,
              terms=(Term("act", Coef(), "p,r,y", _policy_sum("act"), over="(p,r) \\in \\pi", when="activity kinds"),
                     Term("cap", Coef(), "p,r,y", _policy_sum("cap"), over="(p,r) \\in \\pi", when="capacity kinds"),
                     Term("new", Coef(), "p,r,y", _policy_sum("new"), over="(p,r) \\in \\pi", when="new capacity"),
                     Term("supply", Coef(), "c,r,y", _policy_sum("supply"), over="(c,r) \\in \\pi", when="outside supply"),
                     Term("ship", Coef(), "c,o,d,y", _policy_sum("ship"), over="(c,o,d) \\in \\pi", when="shipments"),
                     Term("stock", Coef(), "c,r,y", _policy_sum("stock"), over="(c,r) \\in \\pi", when="stocks"),
                     Term("act", Coef(b=-1, params=_p("policy_value", "\\pi,y")), "p,r,y", _policy_sum("act", part=1),
                          over="(p,r) \\in \\text{share\\_of}_\\pi", when="share kinds: the activity the share is of"),
                     Term("violation", Coef(b=-1), "\\pi,y", _violation("max"), when="soft max policies"),
                     Term("violation", Coef(), "\\pi,y", _violation("min"), when="soft min policies")),
              rhs=(Rhs(Coef(params=_p("policy_value", "\\pi,y")), _policy_rhs, when="every kind but the share kinds"),),
              sense=_policy_sense, members=_policy_members, sense_doc="$\\le$ for max kinds, $\\ge$ for min kinds",
              exists="a `policies.csv` row (blank year: every year) that sums something or is soft",
              dual="the marginal cost of one more unit of the policy's value (discounted)"),
)

#: variable and row families by name
VAR = {f.name: f for f in VARS}
ROW = {f.name: f for f in ROWS}
TABLE = {t.name: t for t in INDEX_TABLES}
PARAM = {p.name: p for p in PARAMS}
