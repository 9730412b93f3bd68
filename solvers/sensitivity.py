"""Sensitivity of a solved plan: duals, reduced costs and HiGHS ranging as tidy tables.

- ``prices``: the balance duals (undiscounted, as in :class:`Result`) with the range of the
  demand over which each price holds (the optimal basis stays optimal).
- ``policies``: policy shadow prices (undiscounted) with the range of the policy's value over
  which each shadow price holds, and the objective at the ends of that range.
- ``reduced_costs``: for every capacity option (``new`` column), how much its objective
  coefficient would have to fall before building it pays; ``capex_gap`` states the same in
  money per unit of annual capacity (the capex cut that makes the option break even).
- ``cost_ranges``: for the ``new`` and ``act`` columns, the range of the objective coefficient
  over which the plan stays optimal, also stated as a range of ``capex`` (``new``) or
  ``variable_cost`` (``act``) of that one vintage / year.
- ``rhs_ranges``: the balance and policy rows together, in long form.

Objective coefficients, reduced costs and ``objective_low/high`` are discounted (the units of
the objective); ``price``, ``shadow_price``, ``capex_gap`` and the ``parameter_*`` columns are
in money of the year concerned. Ranges are those of the final simplex basis: where the LP is
degenerate another optimal basis may hold over a wider range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rechain.model import Instance, Result
from rechain.model.data import crf
from rechain.model.formatting import fmt

from . import pyomo_highs
from .solve import solve

INF = math.inf


@dataclass
class Sensitivity:
    """Tables of a sensitivity report (see the module docstring for columns and units)."""

    result: Result
    prices: pd.DataFrame
    policies: pd.DataFrame
    reduced_costs: pd.DataFrame
    cost_ranges: pd.DataFrame
    rhs_ranges: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def describe(self, policy: str | None = None, tol: float = 1e-9) -> list[str]:
        """One sentence per binding policy row (or the rows of ``policy``): its shadow price
        and the range of its value over which that price holds."""
        rows = self.policies if policy is None else self.policies[self.policies["policy"] == policy]
        out = []
        for r in rows.itertuples():
            if policy is None and not r.binding:
                continue
            if math.isnan(r.value_low) and math.isnan(r.value_high):
                span = "(no range: the value is a coefficient of the row)"
                if r.binding:
                    out.append(f"{r.policy} {r.year}: shadow price {r.shadow_price:.6g} per unit of its value "
                               f"(now {fmt(r.value)}); {span}")
                else:
                    out.append(f"{r.policy} {r.year}: not binding (slack {r.slack:.6g}), value {fmt(r.value)}")
                continue
            span = f"between {fmt(r.value_low)} and {fmt(r.value_high)}"
            if r.binding:
                out.append(f"{r.policy} {r.year}: shadow price {r.shadow_price:.6g} per unit of its value; "
                           f"it holds while the value stays {span} (now {fmt(r.value)})")
            else:
                out.append(f"{r.policy} {r.year}: not binding (slack {r.slack:.6g}); its shadow price stays 0 "
                           f"while the value stays {span}")
        return out


def sensitivity(instance_or_model, **solve_options) -> Sensitivity:
    """Solve ``instance_or_model`` with HiGHS (an instance on the direct path, a built Pyomo
    model re-solved in place) and report duals, reduced costs and ranging. Raises
    ``RuntimeError`` if the solve is not optimal."""
    if isinstance(instance_or_model, Instance):
        from .direct import DirectModel

        model = DirectModel(instance_or_model)
        res = model.solve(**solve_options)
        h, d, inst = model.highs, model.data, model.instance
        cols, rows = model.lp.cols, model.lp.rows
    else:
        m = instance_or_model
        res = solve(m, **solve_options)
        if res.ok:
            opt = pyomo_highs.persistent(m)
            h, d, inst = pyomo_highs.highs(opt), m._rechain_data, m._rechain_instance
            cols, rows = pyomo_highs.family_columns(opt, m, d), pyomo_highs.family_rows(opt, m, d)
    if not res.ok:
        raise RuntimeError(f"sensitivity needs an optimal solve; got {res.status}: {res.message}")
    status, rg = h.getRanging()
    if not rg.valid:
        raise RuntimeError(f"HiGHS gave no ranging ({h.modelStatusToString(h.getModelStatus())}, {status}); "
                           "ranging needs a simplex basis")
    lp = h.getLp()
    sol = h.getSolution()
    basis = h.getBasis()

    ranges = _row_ranges(d, res, lp, sol, basis, rg, rows)
    prices = res.prices.merge(
        ranges[ranges["row"] == "balance"][["commodity", "region", "year", "rhs", "rhs_low", "rhs_high", "objective_low", "objective_high"]]
        .rename(columns={"rhs": "demand", "rhs_low": "demand_low", "rhs_high": "demand_high"}),
        on=["commodity", "region", "year"], how="left")
    pol = ranges[ranges["row"] == "policy"][["policy", "year", "rhs", "rhs_low", "rhs_high", "objective_low", "objective_high", "binding"]]
    policies = res.policies.merge(pol.rename(columns={"rhs": "value", "rhs_low": "value_low", "rhs_high": "value_high"}),
                                  on=["policy", "year"], how="left")
    policies = policies[["policy", "year", "value", "shadow_price", "slack", "violation", "binding",
                         "value_low", "value_high", "objective_low", "objective_high"]]
    policies = _share_values(policies, inst)

    ctab = _col_ranges(d, inst, lp, sol, basis, rg, cols)
    new = ctab[ctab["variable"] == "new"]
    reduced = new[["process", "region", "year", "value", "cost", "reduced_cost", "basis", "capex_gap"]].rename(columns={"value": "new"})
    cost_ranges = ctab[["variable", "process", "region", "year", "value", "cost", "cost_low", "cost_high",
                        "parameter", "parameter_value", "parameter_low", "parameter_high"]]
    return Sensitivity(res, prices, policies, reduced.reset_index(drop=True), cost_ranges.reset_index(drop=True),
                       ranges.drop(columns=["binding"]).reset_index(drop=True))


def _is_basic(status) -> bool:
    import highspy

    return status == highspy.HighsBasisStatus.kBasic


SHARE_KINDS = ("max_share", "min_share")


def _share_values(policies: pd.DataFrame, inst: Instance) -> pd.DataFrame:
    """A share policy's value is a coefficient of its row, not its right-hand side (which is 0):
    report the value itself and no range (HiGHS ranges bounds and costs, not coefficients);
    its shadow price is still per unit of the value."""
    pol = inst.policies
    share = pol[pol["kind"].isin(SHARE_KINDS)]
    if share.empty:
        return policies
    policies = policies.copy()
    for (name, year), g in policies.groupby(["policy", "year"]):
        rows = share[share["policy"] == name]
        if rows.empty:
            continue
        exact = rows[rows["year"] == year]
        value = float((exact if len(exact) else rows[rows["year"].isna()])["value"].iloc[0])
        policies.loc[g.index, ["value", "value_low", "value_high", "objective_low", "objective_high"]] = [
            value, math.nan, math.nan, math.nan, math.nan]
    return policies


def _row_ranges(d, res, lp, sol, basis, rg, rows) -> pd.DataFrame:
    """Range of each balance and policy row's right-hand side over which the basis stays
    optimal. A non-basic (binding) row: HiGHS's bound ranging. A basic row: its dual is 0 and
    stays 0 while the bound does not cut into the row's activity (equality rows: a single
    point, the basis is degenerate there)."""
    obj = res.objective
    out = []
    for fam in ("balance", "policy"):
        keys = d.keys(d.rows[fam].family.table)
        for key, j in zip(keys, rows[fam].tolist()):
            if j < 0:
                continue
            lo, up = lp.row_lower_[j], lp.row_upper_[j]
            # the side that holds the user's value: the finite bound (both for an equality)
            side_upper = math.isinf(lo)
            rhs = up if side_upper else lo
            act = sol.row_value[j]
            dual = sol.row_dual[j]
            if _is_basic(basis.row_status[j]):
                binding = False
                if lo == up:
                    low, high = rhs, rhs
                elif side_upper:  # a <= row: any value above the activity keeps the basis
                    low, high = act, INF
                else:  # a >= row
                    low, high = -INF, act
                ol = oh = obj
            else:
                binding = True
                low, high = rg.row_bound_dn.value_[j], rg.row_bound_up.value_[j]
                ol, oh = rg.row_bound_dn.objective_[j], rg.row_bound_up.objective_[j]
                low = -INF if low <= -1e30 else low
                high = INF if high >= 1e30 else high
                ol = math.nan if math.isinf(low) else ol
                oh = math.nan if math.isinf(high) else oh
            rec = {"row": fam, "policy": None, "commodity": None, "region": None, "year": key[-1],
                   "rhs": rhs, "activity": act, "dual": dual, "rhs_low": low, "rhs_high": high,
                   "objective_low": ol, "objective_high": oh, "binding": binding}
            if fam == "balance":
                rec.update(commodity=key[0], region=key[1])
            else:
                rec.update(policy=key[0])
            out.append(rec)
    cols = ["row", "policy", "commodity", "region", "year", "rhs", "activity", "dual", "rhs_low", "rhs_high",
            "objective_low", "objective_high", "binding"]
    t = pd.DataFrame(out, columns=cols)
    t["year"] = t["year"].astype(int)
    return t


def _cost_per_unit(d, family: str, param: str) -> np.ndarray:
    """Σ over the cost entries of each variable of ``family`` of DF × ∂cost/∂``param``: the
    change of its objective coefficient per unit of the param (per row of its index table)."""
    ev = d.vars[family]
    out = np.zeros(ev.size)
    for part in ev.costs:
        if param in part.coef.names and part.size:
            w = d.params["df"][part.pick.years] * part.coef.derivative(param, d.params, part.pick.index, part.size)
            out += np.bincount(part.pick.vars, weights=w, minlength=ev.size)
    return out


def _col_ranges(d, inst, lp, sol, basis, rg, cols) -> pd.DataFrame:
    proc = d.tables["process"]
    capex = inst.processes.set_index("process")["capex"]
    rate = inst.discount_rate
    out = []
    # the objective coefficient per unit of capex (annuity = capex x CRF) and of variable cost
    per_unit = {"new": _cost_per_unit(d, "new", "annuity") * np.array([crf(rate, int(L)) for L in proc["lifetime"]])[d.new["p"].to_numpy()],
                "act": _cost_per_unit(d, "act", "variable_cost")}
    variable_cost = inst.processes.set_index("process")["variable_cost"]
    for fam, param, values in (("new", "capex", capex), ("act", "variable_cost", variable_cost)):
        table = d.tables[d.vars[fam].family.table]
        for i, (p, r, y, j) in enumerate(zip(table["process"], table["region"], table["year"].tolist(), cols[fam].tolist())):
            if j < 0:
                continue
            cost = lp.col_cost_[j]
            low, high = rg.col_cost_dn.value_[j], rg.col_cost_up.value_[j]
            low = -INF if low <= -1e30 else low
            high = INF if high >= 1e30 else high
            k = per_unit[fam][i]
            conv = (lambda c: c / k) if k > 0 else (lambda c: math.nan)
            rc = sol.col_dual[j]
            out.append({"variable": fam, "process": p, "region": r, "year": y, "value": sol.col_value[j],
                        "cost": cost, "reduced_cost": rc, "basis": basis.col_status[j].name.removeprefix("k").lower(),
                        "cost_low": low, "cost_high": high, "parameter": param, "parameter_value": float(values[p]),
                        "parameter_low": conv(low), "parameter_high": conv(high), "capex_gap": conv(rc)})
    cols_ = ["variable", "process", "region", "year", "value", "cost", "reduced_cost", "basis", "cost_low", "cost_high",
             "parameter", "parameter_value", "parameter_low", "parameter_high", "capex_gap"]
    t = pd.DataFrame(out, columns=cols_)
    t["year"] = t["year"].astype(int)
    return t
