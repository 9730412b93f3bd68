"""Sparse index sets and parameters of the LP, computed once from an instance (SPEC section 2).

Every variable family and constraint family exists only where the data give it meaning; the
rows are plain DataFrames, so the Pyomo formulation and any matrix builder read the same sets,
and no constraint rule ever filters a Cartesian product.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InstanceError, Problem
from .instance import Instance, expand
from .schema import POLICY_KINDS

INF = math.inf


def crf(rate: float, lifetime: int) -> float:
    """Capital recovery factor: the annuity per unit of capital over ``lifetime`` years."""
    if rate == 0:
        return 1.0 / lifetime
    g = (1.0 + rate) ** lifetime
    return rate * g / (g - 1.0)


def discount_factors(years: list[int], base_year: int, rate: float) -> dict[int, float]:
    """DF_y = (1 + i)^-(y - base_year)."""
    return {y: (1.0 + rate) ** -(y - base_year) for y in years}


@dataclass
class ModelData:
    """Index tables of every variable and constraint family, with their parameters.

    Tables (columns):
      - ``process``: process, availability, annuity, fixed_om, variable_cost, lifetime, lead_time
      - ``new``: process, region, year, max_new, online_weight — one row per buildable vintage
        that comes online within the horizon; ``online_weight`` = Σ DF_y over its online years
      - ``cap``: process, region, year, residual, max_total — where capacity can be non-zero
      - ``online``: process, region, vintage, year — vintage ``vintage`` counts in ``year``
      - ``io``: process, commodity, coefficient (signed: + out, − in)
      - ``supply``: commodity, region, year, max_quantity, price
      - ``ship``: commodity, origin, destination, year, max_quantity, cost
      - ``unmet``: commodity, region, year, demand, penalty
      - ``dispose``: commodity, region, year, cost
      - ``balance``: commodity, region, year, demand
      - ``policy``: policy, year, kind, sense, value, penalty, line
      - ``policy_terms``: policy, year, var, key (tuple index of the summed variable)
    """

    years: list[int]
    df: dict[int, float]
    process: pd.DataFrame
    new: pd.DataFrame
    cap: pd.DataFrame
    online: pd.DataFrame
    io: pd.DataFrame
    supply: pd.DataFrame
    ship: pd.DataFrame
    unmet: pd.DataFrame
    dispose: pd.DataFrame
    balance: pd.DataFrame
    policy: pd.DataFrame
    policy_terms: pd.DataFrame


def _min_limits(rows: pd.DataFrame, column: str, regions: list[str], years: list[int]) -> pd.DataFrame:
    """Expand build-limit rows (``*`` region, blank year) to (process, region, year) and keep
    the tightest value where several rows apply; blank values are unbounded (inf)."""
    if rows.empty:
        return pd.DataFrame(columns=["process", "region", "year", column])
    r = rows[["process", "region", "year", column]].copy()
    r["region"] = r["region"].map(lambda x: regions if x == "*" else [x])
    r["year"] = [years if pd.isna(y) else [int(y)] for y in r["year"]]
    r = r.explode("region").explode("year")
    r[column] = r[column].astype("float64").fillna(INF)
    r["year"] = r["year"].astype(int)
    return r.groupby(["process", "region", "year"], as_index=False)[column].min()


def _carry_forward(capt: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Existing capacity per (process, region, year): the value of the latest listed year at or
    before the year, where positive; (process, region) in order of first listing, years ascending."""
    cols = ["process", "region", "year", "residual"]
    if not len(capt):
        return pd.DataFrame({c: pd.Series(dtype="float64" if c == "residual" else ("int64" if c == "year" else object)) for c in cols})
    grp, _ = pd.factorize(pd.MultiIndex.from_arrays([capt["process"].to_numpy(), capt["region"].to_numpy()]))
    ys = capt["year"].astype("int64").to_numpy()
    vs = capt["capacity"].to_numpy(dtype=float)
    order = np.lexsort((ys, grp))
    span = int(max(ys.max(), years[-1]) - min(ys.min(), years[0]) + 2)
    base = int(min(ys.min(), years[0]))
    key = grp[order].astype(np.int64) * span + (ys[order] - base)
    ng = int(grp.max()) + 1
    g_of = np.repeat(np.arange(ng, dtype=np.int64), len(years))
    y_of = np.tile(np.asarray(years, dtype=np.int64), ng)
    i = np.searchsorted(key, g_of * span + (y_of - base), side="right") - 1
    ok = i >= 0
    ok[ok] = grp[order][i[ok]] == g_of[ok]
    val = np.where(ok, vs[order][np.maximum(i, 0)], 0.0)
    keep = ok & (val > 0)
    first_row = order[np.searchsorted(grp[order], np.arange(ng))]  # a row of each group
    pick = first_row[g_of[keep]]
    return pd.DataFrame({
        "process": capt["process"].to_numpy()[pick], "region": capt["region"].to_numpy()[pick],
        "year": y_of[keep], "residual": val[keep].astype(float),
    })


def _vintages(new: pd.DataFrame, lt: pd.Series, life: pd.Series, years: list[int], df: dict[int, float]):
    """The years each buildable vintage is online within the horizon (``online``) and its
    ``online_weight`` Σ DF_y over them (summed year by year, as the objective states it)."""
    first, last = years[0], years[-1]
    v = new["year"].to_numpy(dtype=np.int64)
    a = v + lt.reindex(new["process"]).to_numpy(dtype=np.int64)
    b = np.minimum(a + life.reindex(new["process"]).to_numpy(dtype=np.int64) - 1, last)
    lo = np.maximum(a, first)
    cnt = np.maximum(b - lo + 1, 0)
    # Σ DF over [s, e], added in year order from 0.0, for every pair of years of the horizon
    ny = len(years)
    table = np.zeros((ny + 1, ny + 1))
    for i in range(ny):
        w = 0.0
        for j in range(i, ny):
            w += df[years[j]]
            table[i, j + 1] = w
    si = np.clip(lo - first, 0, ny)
    ei = np.clip(b - first + 1, 0, ny)
    new = new.copy()
    new["online_weight"] = np.where(cnt > 0, table[si, np.maximum(ei, si)], 0.0)
    new = new[["process", "region", "year", "max_new", "online_weight"]]
    rep = np.repeat(np.arange(len(new)), cnt)
    off = np.arange(int(cnt.sum()), dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    online = pd.DataFrame({
        "process": new["process"].to_numpy()[rep], "region": new["region"].to_numpy()[rep],
        "vintage": v[rep], "year": lo[rep] + off,
    })
    return new, online


def prepare(inst: Instance) -> ModelData:
    """Compute the sparse index tables and parameters of the LP for ``inst``."""
    years = inst.years
    last = inst.last_year
    rate = inst.discount_rate
    df = discount_factors(years, inst.base_year, rate)
    regions = list(inst.regions["region"])
    T = inst.tables

    proc = T["processes"][["process", "availability", "capex", "fixed_om", "variable_cost", "lifetime", "lead_time"]].copy()
    proc["lifetime"] = proc["lifetime"].astype(int)
    proc["lead_time"] = proc["lead_time"].astype(int)
    proc["annuity"] = [c * crf(rate, L) for c, L in zip(proc["capex"], proc["lifetime"])]
    proc = proc.set_index("process")

    # -- residual (existing) capacity, carried forward to later years ------------------------
    capt = T["capacity"]
    residual = _carry_forward(capt, years)

    # -- buildable vintages and their limits --------------------------------------------------
    bl = T["build_limits"]
    max_new = _min_limits(bl, "max_new", regions, years)
    max_total = _min_limits(bl, "max_total", regions, years)
    lt = proc["lead_time"]
    life = proc["lifetime"]
    new = max_new.rename(columns={"year": "year"}).copy()
    if len(new):
        new = new[new["process"].isin(proc.index)]
        on_first = new["year"].to_numpy() + lt.reindex(new["process"]).to_numpy()
        new = new[on_first <= last].reset_index(drop=True)
        new = new[new["max_new"] > 0].reset_index(drop=True)
    new, online = _vintages(new, lt, life, years, df)

    # -- capacity and activity exist where residual or an online vintage exists ---------------
    keys = pd.concat([residual[["process", "region", "year"]], online[["process", "region", "year"]]]).drop_duplicates()
    cap = keys.merge(residual, how="left", on=["process", "region", "year"]).fillna({"residual": 0.0})
    cap = cap.merge(max_total, how="left", on=["process", "region", "year"]).fillna({"max_total": INF})
    cap = cap.sort_values(["process", "region", "year"]).reset_index(drop=True)

    # -- process io (signed) ---------------------------------------------------------------
    io = T["process_io"][["process", "commodity", "direction", "coefficient"]].copy()
    io["coefficient"] = np.where(io["direction"] == "out", io["coefficient"], -io["coefficient"])
    io = io[["process", "commodity", "coefficient"]].reset_index(drop=True)

    # -- outside supply ----------------------------------------------------------------------
    sp = T["supply"][["commodity", "region", "year", "max_quantity", "price"]].copy()
    if len(sp):
        # every-year rows first, whatever the file's order, so a row for one year overrides them
        sp = sp.iloc[np.argsort(sp["year"].notna().to_numpy(), kind="stable")]
        sp["year"] = [years if pd.isna(y) else [int(y)] for y in sp["year"]]
        sp = sp.explode("year")
        sp["year"] = sp["year"].astype(int)
        # a row for one year overrides an every-year row for that year
        sp = sp.drop_duplicates(["commodity", "region", "year"], keep="last")
        sp = sp.sort_values(["commodity", "region", "year"], kind="stable")
    sp["max_quantity"] = sp["max_quantity"].astype("float64").fillna(INF)
    sp = sp[sp["max_quantity"] > 0].reset_index(drop=True)

    # -- shipments -------------------------------------------------------------------------
    tr = T["trade"][["commodity", "origin", "destination", "cost", "max_quantity"]].copy()
    tr["max_quantity"] = tr["max_quantity"].astype("float64").fillna(INF)
    tr = tr[tr["max_quantity"] > 0]
    ship = tr.merge(pd.DataFrame({"year": years}), how="cross")[["commodity", "origin", "destination", "year", "max_quantity", "cost"]]

    # -- demand, unmet demand ----------------------------------------------------------------
    dem = T["demand"][["commodity", "region", "year", "quantity"]].rename(columns={"quantity": "demand"}).copy()
    dem["year"] = dem["year"].astype(int)
    com = T["commodities"].set_index("commodity")
    pen_col = com["unmet_penalty"] if "unmet_penalty" in com.columns else pd.Series(np.nan, index=com.index)
    pen = pen_col.astype("float64").fillna(inst.unmet_penalty if inst.unmet_penalty is not None else np.nan)
    unmet = dem[dem["demand"] > 0].copy()
    unmet["penalty"] = pen.reindex(unmet["commodity"]).to_numpy()
    unmet = unmet.reset_index(drop=True)

    # -- balance rows: every (commodity, region, year) that anything touches ------------------
    actkeys = cap[["process", "region", "year"]]
    touched = actkeys.merge(io[["process", "commodity"]], on="process")[["commodity", "region", "year"]]
    parts = [
        touched,
        sp[["commodity", "region", "year"]],
        ship[["commodity", "origin", "year"]].rename(columns={"origin": "region"}),
        ship[["commodity", "destination", "year"]].rename(columns={"destination": "region"}),
        dem[dem["demand"] > 0][["commodity", "region", "year"]],
    ]
    bal = pd.concat(parts).drop_duplicates().sort_values(["commodity", "region", "year"]).reset_index(drop=True)
    bal = bal.merge(dem, how="left", on=["commodity", "region", "year"]).fillna({"demand": 0.0})

    # -- disposal where the commodity has a disposal cost and something can bring it ---------
    dcost = com["disposal_cost"].astype("float64") if "disposal_cost" in com.columns else pd.Series(dtype=float)
    dcost = dcost.dropna()
    produced = pd.concat([
        actkeys.merge(io[io["coefficient"] > 0][["process", "commodity"]], on="process")[["commodity", "region", "year"]],
        sp[["commodity", "region", "year"]],
        ship[["commodity", "destination", "year"]].rename(columns={"destination": "region"}),
    ]).drop_duplicates()
    dispose = produced[produced["commodity"].isin(dcost.index)].copy()
    dispose["cost"] = dcost.reindex(dispose["commodity"]).to_numpy()
    dispose = dispose.sort_values(["commodity", "region", "year"]).reset_index(drop=True)

    policy, terms = _policies(inst, years, regions, cap, new, sp, ship)

    return ModelData(
        years=years, df=df, process=proc, new=new, cap=cap, online=online, io=io, supply=sp,
        ship=ship.reset_index(drop=True), unmet=unmet, dispose=dispose, balance=bal, policy=policy,
        policy_terms=terms,
    )


def _policies(inst, years, regions, cap, new, sp, ship):
    pol = inst.policies
    rows, terms = [], []
    problems = []
    processes = list(inst.processes["process"])
    commodities = list(inst.commodities["commodity"])
    by = {
        "activity": cap[["process", "region", "year"]],
        "capacity": cap[["process", "region", "year"]],
        "new capacity": new[["process", "region", "year"]],
    }
    var_of = {"activity": "act", "capacity": "cap", "new capacity": "new", "outside supply": "supply", "shipments": "ship"}
    for ln, row in zip(pol.index, pol.to_dict("records")):
        sums, selector, sense = POLICY_KINDS[row["kind"]]
        ys = years if pd.isna(row["year"]) else [int(row["year"])]
        regs = set(expand(row["regions"], regions))
        if selector == "processes":
            items = set(expand(row["processes"], processes))
            base = by[sums]
            sel = base[base["process"].isin(items) & base["region"].isin(regs)]
            keycols = ["process", "region", "year"]
        elif sums == "outside supply":
            items = set(expand(row["commodities"], commodities))
            sel = sp[sp["commodity"].isin(items) & sp["region"].isin(regs)]
            keycols = ["commodity", "region", "year"]
        else:
            items = set(expand(row["commodities"], commodities))
            dests = set(expand(row["destinations"], regions))
            sel = ship[ship["commodity"].isin(items) & ship["origin"].isin(regs) & ship["destination"].isin(dests)]
            keycols = ["commodity", "origin", "destination", "year"]
        penalty = None if pd.isna(row["penalty"]) else float(row["penalty"])
        # the selected rows' keys once, then split by year (in table order within a year)
        keys = list(zip(*(sel[c].tolist() for c in keycols))) if len(sel) else []
        sy = sel["year"].to_numpy()
        by_year: dict = {}
        for y, k in zip(sy.tolist(), keys):
            by_year.setdefault(y, []).append(k)
        for y in ys:
            ks = by_year.get(y, [])
            if not ks and sense == "min" and row["value"] > 0 and penalty is None:
                problems.append(Problem(inst.label("policies"), f"policy '{row['policy']}' requires {row['value']:g} of {sums} in {y} but covers nothing that can exist then (no capacity or build option)", row=int(ln), column="value"))
                continue
            rows.append((row["policy"], y, row["kind"], sense, float(row["value"]), penalty, int(ln), len(ks)))
            terms.extend((row["policy"], y, var_of[sums], k) for k in ks)
    if problems:
        raise InstanceError(problems)
    policy = pd.DataFrame(rows, columns=["policy", "year", "kind", "sense", "value", "penalty", "line", "n_terms"])
    terms = pd.DataFrame(terms, columns=["policy", "year", "var", "key"])
    return policy, terms
