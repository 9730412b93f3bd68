"""The linear program of SPEC section 2 as a Pyomo ``ConcreteModel``.

Component names are the symbols of ``docs/formulation.md``:

=================  ==========================================================================
variables          ``act``, ``new``, ``cap``, ``supply``, ``ship``, ``unmet``, ``dispose``,
                   ``violation``
constraints        ``capacity``, ``use``, ``build_new_limit``, ``build_total_limit``,
                   ``balance``, ``supply_limit``, ``trade_limit``, ``policy``
objective          ``cost``
=================  ==========================================================================

Parameters that what-if studies change (demand, prices, costs, limits, policy values,
discount factors) are mutable, so a persistent solver re-solves without a rebuild
(:func:`update_parameters`). Index sets come precomputed from :mod:`rechain.model.data`.
"""

from __future__ import annotations

import math
from collections import defaultdict

import pyomo.environ as pyo

from .data import ModelData, prepare
from .errors import InstanceError, Problem
from .instance import Instance


def _finite(df, col):
    return df[df[col] < math.inf]


def _tuples(df, cols):
    return list(df[cols].itertuples(index=False, name=None))


def build_model(instance: Instance, data: ModelData | None = None) -> pyo.ConcreteModel:
    """Build the Pyomo model of ``instance`` (SPEC section 2).

    The model carries ``m._rechain_data`` (the :class:`ModelData` it was built from) and
    ``m._rechain_instance`` for result extraction and parameter updates.
    """
    d = data if data is not None else prepare(instance)
    m = pyo.ConcreteModel(name=instance.name)
    m._rechain_data = d
    m._rechain_instance = instance

    P3 = ["process", "region", "year"]
    # ---- sets -------------------------------------------------------------------------
    m.Y = pyo.Set(initialize=d.years, ordered=True)
    m.P = pyo.Set(initialize=list(d.process.index), ordered=True)
    m.NEW = pyo.Set(initialize=_tuples(d.new, P3), dimen=3, ordered=True)
    m.NEW_LIM = pyo.Set(initialize=_tuples(_finite(d.new, "max_new"), P3), dimen=3, ordered=True)
    m.CAP = pyo.Set(initialize=_tuples(d.cap, P3), dimen=3, ordered=True)
    m.CAP_LIM = pyo.Set(initialize=_tuples(_finite(d.cap, "max_total"), P3), dimen=3, ordered=True)
    S3 = ["commodity", "region", "year"]
    m.SUPPLY = pyo.Set(initialize=_tuples(d.supply, S3), dimen=3, ordered=True)
    m.SUPPLY_LIM = pyo.Set(initialize=_tuples(_finite(d.supply, "max_quantity"), S3), dimen=3, ordered=True)
    S4 = ["commodity", "origin", "destination", "year"]
    m.SHIP = pyo.Set(initialize=_tuples(d.ship, S4), dimen=4, ordered=True)
    m.SHIP_LIM = pyo.Set(initialize=_tuples(_finite(d.ship, "max_quantity"), S4), dimen=4, ordered=True)
    m.UNMET = pyo.Set(initialize=_tuples(d.unmet, S3), dimen=3, ordered=True)
    m.DISPOSE = pyo.Set(initialize=_tuples(d.dispose, S3), dimen=3, ordered=True)
    m.BAL = pyo.Set(initialize=_tuples(d.balance, S3), dimen=3, ordered=True)
    m.POL = pyo.Set(initialize=_tuples(d.policy, ["policy", "year"]), dimen=2, ordered=True)
    soft = d.policy[d.policy["penalty"].notna()]
    m.POL_SOFT = pyo.Set(initialize=_tuples(soft, ["policy", "year"]), dimen=2, ordered=True)

    # ---- parameters (mutable: what-if studies change them in place) ----------------------
    proc = d.process
    mut = dict(mutable=True, within=pyo.Reals)
    m.df = pyo.Param(m.Y, initialize=d.df, **mut)
    m.annuity = pyo.Param(m.P, initialize=proc["annuity"].to_dict(), **mut)
    m.fixed_om = pyo.Param(m.P, initialize=proc["fixed_om"].to_dict(), **mut)
    m.variable_cost = pyo.Param(m.P, initialize=proc["variable_cost"].to_dict(), **mut)
    m.availability = pyo.Param(m.P, initialize=proc["availability"].to_dict(), **mut)
    m.residual = pyo.Param(m.CAP, initialize=dict(zip(_tuples(d.cap, P3), d.cap["residual"])), **mut)
    lim = _finite(d.new, "max_new")
    m.max_new = pyo.Param(m.NEW_LIM, initialize=dict(zip(_tuples(lim, P3), lim["max_new"])), **mut)
    lim = _finite(d.cap, "max_total")
    m.max_total = pyo.Param(m.CAP_LIM, initialize=dict(zip(_tuples(lim, P3), lim["max_total"])), **mut)
    m.demand = pyo.Param(m.BAL, initialize=dict(zip(_tuples(d.balance, S3), d.balance["demand"])), **mut)
    m.supply_price = pyo.Param(m.SUPPLY, initialize=dict(zip(_tuples(d.supply, S3), d.supply["price"])), **mut)
    lim = _finite(d.supply, "max_quantity")
    m.supply_max = pyo.Param(m.SUPPLY_LIM, initialize=dict(zip(_tuples(lim, S3), lim["max_quantity"])), **mut)
    m.ship_cost = pyo.Param(m.SHIP, initialize=dict(zip(_tuples(d.ship, S4), d.ship["cost"])), **mut)
    lim = _finite(d.ship, "max_quantity")
    m.ship_max = pyo.Param(m.SHIP_LIM, initialize=dict(zip(_tuples(lim, S4), lim["max_quantity"])), **mut)
    m.unmet_penalty = pyo.Param(m.UNMET, initialize=dict(zip(_tuples(d.unmet, S3), d.unmet["penalty"])), **mut)
    m.disposal_cost = pyo.Param(m.DISPOSE, initialize=dict(zip(_tuples(d.dispose, S3), d.dispose["cost"])), **mut)
    m.policy_value = pyo.Param(m.POL, initialize=dict(zip(_tuples(d.policy, ["policy", "year"]), d.policy["value"])), **mut)
    m.policy_penalty = pyo.Param(m.POL_SOFT, initialize=dict(zip(_tuples(soft, ["policy", "year"]), soft["penalty"])), **mut)

    # ---- variables (all >= 0) ---------------------------------------------------------
    nn = pyo.NonNegativeReals
    m.act = pyo.Var(m.CAP, domain=nn)
    m.new = pyo.Var(m.NEW, domain=nn)
    m.cap = pyo.Var(m.CAP, domain=nn)
    m.supply = pyo.Var(m.SUPPLY, domain=nn)
    m.ship = pyo.Var(m.SHIP, domain=nn)
    # unmet demand: at most the demand itself
    m.unmet = pyo.Var(m.UNMET, domain=nn, bounds=lambda m, c, r, y: (0, m.demand[c, r, y]))
    m.dispose = pyo.Var(m.DISPOSE, domain=nn)
    m.violation = pyo.Var(m.POL_SOFT, domain=nn)

    # ---- capacity: residual plus the vintages online in the year --------------------------
    vintages = defaultdict(list)
    for p, r, v, y in d.online.itertuples(index=False, name=None):
        vintages[p, r, y].append((p, r, v))

    def capacity_rule(m, p, r, y):
        return m.cap[p, r, y] == m.residual[p, r, y] + sum(m.new[k] for k in vintages[p, r, y])

    m.capacity = pyo.Constraint(m.CAP, rule=capacity_rule)

    # ---- use: activity within available capacity ---------------------------------------
    m.use = pyo.Constraint(m.CAP, rule=lambda m, p, r, y: m.act[p, r, y] <= m.availability[p] * m.cap[p, r, y])

    # ---- build limits -------------------------------------------------------------------
    m.build_new_limit = pyo.Constraint(m.NEW_LIM, rule=lambda m, p, r, y: m.new[p, r, y] <= m.max_new[p, r, y])
    m.build_total_limit = pyo.Constraint(m.CAP_LIM, rule=lambda m, p, r, y: m.cap[p, r, y] <= m.max_total[p, r, y])

    # ---- commodity balance -------------------------------------------------------------
    terms = defaultdict(list)  # (c, r, y) -> [(coef, var)]
    acts = d.cap[P3].merge(d.io, on="process")
    for p, r, y, c, a in acts[P3 + ["commodity", "coefficient"]].itertuples(index=False, name=None):
        terms[c, r, y].append((a, m.act[p, r, y]))
    for k in m.SUPPLY:
        terms[k].append((1.0, m.supply[k]))
    for c, o, dd, y in m.SHIP:
        terms[c, dd, y].append((1.0, m.ship[c, o, dd, y]))
        terms[c, o, y].append((-1.0, m.ship[c, o, dd, y]))
    for k in m.UNMET:
        terms[k].append((1.0, m.unmet[k]))
    for k in m.DISPOSE:
        terms[k].append((-1.0, m.dispose[k]))

    def balance_rule(m, c, r, y):
        return sum(a * v for a, v in terms[c, r, y]) == m.demand[c, r, y]

    m.balance = pyo.Constraint(m.BAL, rule=balance_rule)

    # ---- outside supply and lanes -----------------------------------------------------------
    m.supply_limit = pyo.Constraint(m.SUPPLY_LIM, rule=lambda m, c, r, y: m.supply[c, r, y] <= m.supply_max[c, r, y])
    m.trade_limit = pyo.Constraint(m.SHIP_LIM, rule=lambda m, c, o, dd, y: m.ship[c, o, dd, y] <= m.ship_max[c, o, dd, y])

    # ---- policies -----------------------------------------------------------------------
    pterms = defaultdict(list)
    for pol, y, var, key in d.policy_terms.itertuples(index=False, name=None):
        pterms[pol, y].append(getattr(m, var)[key])
    sense = dict(zip(_tuples(d.policy, ["policy", "year"]), d.policy["sense"]))

    def policy_rule(m, pol, y):
        body = sum(pterms[pol, y])
        if (pol, y) in m.POL_SOFT:
            body = body - m.violation[pol, y] if sense[pol, y] == "max" else body + m.violation[pol, y]
        if isinstance(body, (int, float)):
            return pyo.Constraint.Feasible if (body <= pyo.value(m.policy_value[pol, y]) if sense[pol, y] == "max" else body >= pyo.value(m.policy_value[pol, y])) else pyo.Constraint.Infeasible
        return body <= m.policy_value[pol, y] if sense[pol, y] == "max" else body >= m.policy_value[pol, y]

    m.policy = pyo.Constraint(m.POL, rule=policy_rule)

    # ---- objective: discounted cost ----------------------------------------------------
    online_years = defaultdict(list)
    for p, r, v, y in d.online.itertuples(index=False, name=None):
        online_years[p, r, v].append(y)

    def cost_rule(m):
        e = 0
        for k in m.NEW:
            e += m.annuity[k[0]] * sum(m.df[y] for y in online_years[k]) * m.new[k]
        for p, r, y in m.CAP:
            e += m.df[y] * (m.fixed_om[p] * m.cap[p, r, y] + m.variable_cost[p] * m.act[p, r, y])
        for k in m.SUPPLY:
            e += m.df[k[2]] * m.supply_price[k] * m.supply[k]
        for k in m.SHIP:
            e += m.df[k[3]] * m.ship_cost[k] * m.ship[k]
        for k in m.UNMET:
            e += m.df[k[2]] * m.unmet_penalty[k] * m.unmet[k]
        for k in m.DISPOSE:
            e += m.df[k[2]] * m.disposal_cost[k] * m.dispose[k]
        for k in m.POL_SOFT:
            e += m.df[k[1]] * m.policy_penalty[k] * m.violation[k]
        return e

    m.cost = pyo.Objective(rule=cost_rule, sense=pyo.minimize)
    return m


_PARAMS = {
    # model param: (ModelData table, key columns, value column)
    "residual": ("cap", ["process", "region", "year"], "residual"),
    "max_new": ("new", ["process", "region", "year"], "max_new"),
    "max_total": ("cap", ["process", "region", "year"], "max_total"),
    "demand": ("balance", ["commodity", "region", "year"], "demand"),
    "supply_price": ("supply", ["commodity", "region", "year"], "price"),
    "supply_max": ("supply", ["commodity", "region", "year"], "max_quantity"),
    "ship_cost": ("ship", ["commodity", "origin", "destination", "year"], "cost"),
    "ship_max": ("ship", ["commodity", "origin", "destination", "year"], "max_quantity"),
    "unmet_penalty": ("unmet", ["commodity", "region", "year"], "penalty"),
    "disposal_cost": ("dispose", ["commodity", "region", "year"], "cost"),
    "policy_value": ("policy", ["policy", "year"], "value"),
    "policy_penalty": ("policy", ["policy", "year"], "penalty"),
}


def update_parameters(m: pyo.ConcreteModel, instance: Instance) -> pyo.ConcreteModel:
    """Set the mutable parameters of a built model to the values of ``instance``.

    ``instance`` must give the model the same sparsity (the same variables and rows: e.g. a
    different demand level, price, cost, finite limit or policy value). Where it does not, an
    :class:`InstanceError` says what differs and the model must be rebuilt.
    """
    old: ModelData = m._rechain_data
    new = prepare(instance)
    problems = []
    if old.years != new.years:
        problems.append("the years differ")
    updates = []  # every check runs before any value is set: a refused update changes nothing
    for name, (table, keys, col) in _PARAMS.items():
        comp = getattr(m, name)
        t = getattr(new, table)
        if name == "policy_penalty":
            t = t[t["penalty"].notna()]
        if name in ("max_new", "max_total", "supply_max", "ship_max"):
            t = t[t[col] < math.inf]
        vals = dict(zip(_tuples(t, keys), t[col]))
        if set(vals) != set(comp.keys()):
            problems.append(f"the rows of '{name}' differ (e.g. a limit turned blank or a new demand)")
            continue
        updates.append((comp, vals))
    # ``online`` too: a lifetime or lead-time change can move the years a vintage serves
    # while every index set stays the same, and the capacity rows would keep the old vintages
    for name in ("new", "cap", "online", "supply", "ship", "unmet", "dispose", "balance"):
        a, b = getattr(old, name), getattr(new, name)
        cols = [c for c in a.columns if c in ("process", "commodity", "region", "origin", "destination", "vintage", "year")]
        if not a[cols].reset_index(drop=True).equals(b[cols].reset_index(drop=True)):
            problems.append(f"the set of '{name}' differs")
    # process_io coefficients and policy senses are fixed in the built rows, not parameters
    if not old.io.reset_index(drop=True).equals(new.io.reset_index(drop=True)):
        problems.append("the process_io coefficients differ")
    if list(old.policy["sense"]) != list(new.policy["sense"]):
        problems.append("a policy kind differs (max or min)")
    if not old.policy_terms[["policy", "year", "var"]].equals(new.policy_terms[["policy", "year", "var"]]) or list(old.policy_terms["key"]) != list(new.policy_terms["key"]):
        problems.append("the policy rows or their terms differ")
    if problems:
        raise InstanceError([Problem("model", "cannot update the built model in place: " + p + "; rebuild it") for p in problems])
    for comp, vals in updates:
        for k, v in vals.items():
            comp[k] = float(v)
    for y, v in new.df.items():
        m.df[y] = v
    for p, row in new.process.iterrows():
        m.annuity[p] = row["annuity"]
        m.fixed_om[p] = row["fixed_om"]
        m.variable_cost[p] = row["variable_cost"]
        m.availability[p] = row["availability"]
    m._rechain_data = new
    m._rechain_instance = instance
    return m
