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

from rechain.model import Instance, Result, build_model
from rechain.model.data import crf

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
            span = f"between {_num(r.value_low)} and {_num(r.value_high)}"
            if r.binding:
                out.append(f"{r.policy} {r.year}: shadow price {r.shadow_price:.6g} per unit of its value; "
                           f"it holds while the value stays {span} (now {_num(r.value)})")
            else:
                out.append(f"{r.policy} {r.year}: not binding (slack {r.slack:.6g}); its shadow price stays 0 "
                           f"while the value stays {span}")
        return out


def _num(x: float) -> str:
    if x == INF:
        return "+inf"
    if x == -INF:
        return "-inf"
    return f"{x + 0.0:.6g}"  # + 0.0: no "-0"


def sensitivity(instance_or_model, **solve_options) -> Sensitivity:
    """Solve ``instance_or_model`` with HiGHS (a built model is re-solved in place) and report
    duals, reduced costs and ranging. Raises ``RuntimeError`` if the solve is not optimal."""
    m = build_model(instance_or_model) if isinstance(instance_or_model, Instance) else instance_or_model
    res = solve(m, **solve_options)
    if not res.ok:
        raise RuntimeError(f"sensitivity needs an optimal solve; got {res.status}: {res.message}")
    opt = m._rechain_highs
    h = opt._solver_model
    status, rg = h.getRanging()
    if not rg.valid:
        raise RuntimeError(f"HiGHS gave no ranging ({h.modelStatusToString(h.getModelStatus())}, {status}); "
                           "ranging needs a simplex basis")
    lp = h.getLp()
    sol = h.getSolution()
    basis = h.getBasis()
    vmap = opt._pyomo_var_to_solver_var_map
    cmap = opt._pyomo_con_to_solver_con_map
    d = m._rechain_data
    inst = m._rechain_instance

    rows = _row_ranges(m, d, res, lp, sol, basis, rg, cmap)
    prices = res.prices.merge(
        rows[rows["row"] == "balance"][["commodity", "region", "year", "rhs", "rhs_low", "rhs_high", "objective_low", "objective_high"]]
        .rename(columns={"rhs": "demand", "rhs_low": "demand_low", "rhs_high": "demand_high"}),
        on=["commodity", "region", "year"], how="left")
    pol = rows[rows["row"] == "policy"][["policy", "year", "rhs", "rhs_low", "rhs_high", "objective_low", "objective_high", "binding"]]
    policies = res.policies.merge(pol.rename(columns={"rhs": "value", "rhs_low": "value_low", "rhs_high": "value_high"}),
                                  on=["policy", "year"], how="left")
    policies = policies[["policy", "year", "value", "shadow_price", "slack", "violation", "binding",
                         "value_low", "value_high", "objective_low", "objective_high"]]

    cols = _col_ranges(m, d, inst, lp, sol, basis, rg, vmap)
    new = cols[cols["variable"] == "new"]
    reduced = new[["process", "region", "year", "value", "cost", "reduced_cost", "basis", "capex_gap"]].rename(columns={"value": "new"})
    cost_ranges = cols[["variable", "process", "region", "year", "value", "cost", "cost_low", "cost_high",
                        "parameter", "parameter_value", "parameter_low", "parameter_high"]]
    return Sensitivity(res, prices, policies, reduced.reset_index(drop=True), cost_ranges.reset_index(drop=True),
                       rows.drop(columns=["binding"]).reset_index(drop=True))


def _is_basic(status) -> bool:
    import highspy

    return status == highspy.HighsBasisStatus.kBasic


def _row_ranges(m, d, res, lp, sol, basis, rg, cmap) -> pd.DataFrame:
    """Range of each balance and policy row's right-hand side over which the basis stays
    optimal. A non-basic (binding) row: HiGHS's bound ranging. A basic row: its dual is 0 and
    stays 0 while the bound does not cut into the row's activity (equality rows: a single
    point, the basis is degenerate there)."""
    obj = res.objective
    out = []
    families = (("balance", ["commodity", "region", "year"]), ("policy", ["policy", "year"]))
    for fam, keys in families:
        con = getattr(m, fam)
        t = getattr(d, fam)
        for key in t[keys].itertuples(index=False, name=None):
            c = con[key] if key in con else None
            j = cmap.get(c) if c is not None else None
            if j is None:
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


def _col_ranges(m, d, inst, lp, sol, basis, rg, vmap) -> pd.DataFrame:
    proc = d.process
    capex = inst.processes.set_index("process")["capex"]
    out = []
    new_w = dict(zip(d.new[["process", "region", "year"]].itertuples(index=False, name=None), d.new["online_weight"]))
    for fam, table in (("new", d.new), ("act", d.cap)):
        var = getattr(m, fam)
        for key in table[["process", "region", "year"]].itertuples(index=False, name=None):
            j = vmap.get(id(var[key])) if key in var else None
            if j is None:
                continue
            p, r, y = key
            cost = lp.col_cost_[j]
            low, high = rg.col_cost_dn.value_[j], rg.col_cost_up.value_[j]
            low = -INF if low <= -1e30 else low
            high = INF if high >= 1e30 else high
            if fam == "new":
                # cost = capex · CRF · Σ DF over the years the vintage is online
                k = crf(inst.discount_rate, int(proc.loc[p, "lifetime"])) * new_w[key]
                param, pval = "capex", float(capex[p])
            else:
                k = d.df[y]
                param, pval = "variable_cost", float(proc.loc[p, "variable_cost"])
            conv = (lambda c: c / k) if k > 0 else (lambda c: math.nan)
            rc = sol.col_dual[j]
            out.append({"variable": fam, "process": p, "region": r, "year": y, "value": sol.col_value[j],
                        "cost": cost, "reduced_cost": rc, "basis": basis.col_status[j].name.removeprefix("k").lower(),
                        "cost_low": low, "cost_high": high, "parameter": param, "parameter_value": pval,
                        "parameter_low": conv(low), "parameter_high": conv(high), "capex_gap": conv(rc)})
    cols = ["variable", "process", "region", "year", "value", "cost", "reduced_cost", "basis", "cost_low", "cost_high",
            "parameter", "parameter_value", "parameter_low", "parameter_high", "capex_gap"]
    t = pd.DataFrame(out, columns=cols)
    t["year"] = t["year"].astype(int)
    return t
