"""Properties every solved instance must have, on random valid instances (``instance_gen``).

Hypothesis draws generator seeds (derandomized: the same examples on every run, so CI is
stable and a failure repeats; ``max_examples`` keeps this file well under 90 s).

- every commodity balance holds within 1e-6, recomputed from the result tables (flows, trade,
  supply, unmet, disposal) and the instance's demand — not from the solver's rows;
- activity <= availability x capacity;
- capacity = residual (capacity.csv carried forward) + the vintages online in the year;
- more demand never lowers the objective; a looser max-policy never raises it;
- multiplying every money figure by k multiplies the objective by k and leaves the plan as it
  was. The plan is compared exactly (activity, capacity, new capacity, supply, shipments, unmet,
  disposal, to 1e-6): the generator draws every money figure from a continuous range > 0 with
  a discount rate > 0, so alternative optima occur with probability zero, and k is a power of
  two (exact in floating point) so the solver sees the same problem up to an exact scaling;
- prices match finite differences of the objective in demand, at points where the forward and
  backward differences agree (a degenerate point has a kink there and no single price).
"""

from __future__ import annotations

import functools
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from instance_gen import money_changes, write_instance
from rechain.model.results import VALUE_COLUMNS
from rechain.model import load_instance
from rechain.solvers import solve

SEEDS = st.integers(0, 10**6)
FAST = settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
TOL = 1e-6

_TMP = tempfile.TemporaryDirectory(prefix="rechain-props-")


@functools.lru_cache(maxsize=None)
def instance(seed: int):
    return load_instance(write_instance(Path(_TMP.name) / f"gen{seed}", seed))


@functools.lru_cache(maxsize=None)
def solved(seed: int):
    r = solve(instance(seed))
    assert r.status == "optimal", r.message
    return r


def _sum_by(df: pd.DataFrame, keys: list[str], col: str = "quantity") -> dict:
    if df.empty:
        return {}
    return df.groupby(keys)[col].sum().to_dict()


def _balance_residuals(inst, r) -> dict:
    """(commodity, region, year) -> production - use + supply + imports - exports + unmet -
    disposal - demand, from the result tables alone."""
    K = ["commodity", "region", "year"]
    out = collections_default()
    f = r.flows
    sign = np.where(f["direction"] == "out", 1.0, -1.0)
    for k, v in (f.assign(q=f["quantity"] * sign).groupby(K)["q"].sum().items() if len(f) else []):
        out[k] += v
    for k, v in _sum_by(r.supply, K).items():
        out[k] += v
    t = r.trade
    for k, v in _sum_by(t.rename(columns={"destination": "region"}), K).items():
        out[k] += v
    for k, v in _sum_by(t.rename(columns={"origin": "region"}), K).items():
        out[k] -= v
    for k, v in _sum_by(r.unmet, K).items():
        out[k] += v
    for k, v in _sum_by(r.disposal, K).items():
        out[k] -= v
    for c, reg, y, q in inst.demand[K + ["quantity"]].itertuples(index=False, name=None):
        out[c, reg, int(y)] -= q
    return out


def collections_default():
    import collections

    return collections.defaultdict(float)


def _residual(inst, p, reg, y) -> float:
    """Existing capacity of (p, reg) in year y: the latest capacity.csv row at or before y."""
    c = inst.capacity
    rows = c[(c["process"] == p) & (c["region"] == reg) & (c["year"] <= y)]
    return float(rows.sort_values("year")["capacity"].iloc[-1]) if len(rows) else 0.0


@FAST
@given(SEEDS)
def test_balances_use_and_capacity_hold(seed):
    inst, r = instance(seed), solved(seed)
    note(repr(inst))
    # every balance, recomputed from the tables
    res = _balance_residuals(inst, r)
    scale = {k: 1.0 + abs(q) for k, q in zip(map(tuple, inst.demand[["commodity", "region", "year"]].to_numpy()), inst.demand["quantity"])}
    worst = max((abs(v) / scale.get(k, 1.0), k) for k, v in res.items())
    assert worst[0] <= TOL, f"balance of {worst[1]} is off by {worst[0]}"
    # use: activity within available capacity
    cap = r.capacity.merge(r.activity, on=["process", "region", "year"], how="outer")
    cap = cap.fillna({c: 0.0 for c in ("new", "residual", "total", "activity")})
    avail = inst.processes.set_index("process")["availability"]
    over = cap["activity"] - avail.reindex(cap["process"]).to_numpy() * cap["total"]
    assert over.max() <= TOL if len(over) else True
    # capacity = residual + online vintages
    proc = inst.processes.set_index("process")
    for p, reg, y, residual, total in cap[["process", "region", "year", "residual", "total"]].itertuples(index=False, name=None):
        assert residual == _residual(inst, p, reg, y)
        lt, life = int(proc.at[p, "lead_time"]), int(proc.at[p, "lifetime"])
        built = cap[(cap["process"] == p) & (cap["region"] == reg)]
        online = built[(built["year"] + lt <= y) & (y <= built["year"] + lt + life - 1)]["new"].sum()
        assert total == np.float64(residual + online) or math.isclose(total, residual + online, rel_tol=1e-9, abs_tol=TOL)
    # no capacity where there is none to count
    assert (cap["total"] >= -TOL).all()
    # the cost table adds up to the objective
    assert math.isclose(r.costs["discounted"].sum(), r.objective, rel_tol=1e-7, abs_tol=1e-6)


@FAST
@given(SEEDS, st.sampled_from([1.05, 1.5, 3.0]))
def test_more_demand_never_lowers_the_objective(seed, factor):
    inst = instance(seed)
    more = inst.with_changes({"table": "demand", "where": {}, "column": "quantity", "scale": factor})
    a, b = solved(seed), solve(more)
    assert b.status == "optimal"
    assert b.objective >= a.objective - 1e-7 * max(1.0, abs(a.objective))


@FAST
@given(SEEDS, st.sampled_from([1.2, 2.0, 10.0]))
def test_loosening_a_max_policy_never_raises_the_objective(seed, factor):
    inst = instance(seed)
    pol = inst.policies
    names = sorted(set(pol.loc[pol["kind"].str.startswith("max"), "policy"]))
    assume(names)
    a = solved(seed)
    for name in names:
        looser = inst.with_changes({"table": "policies", "where": {"policy": name}, "column": "value", "scale": factor})
        b = solve(looser)
        assert b.status == "optimal"
        assert b.objective <= a.objective + 1e-7 * max(1.0, abs(a.objective)), name


PLAN = {"activity": ["process", "region", "year"], "capacity": ["process", "region", "year"],
        "supply": ["commodity", "region", "year"], "trade": ["commodity", "origin", "destination", "year"],
        "unmet": ["commodity", "region", "year"], "disposal": ["commodity", "region", "year"]}


@FEW
@given(SEEDS, st.sampled_from([0.25, 2.0, 64.0]))
def test_scaling_every_money_figure_scales_the_objective_and_keeps_the_plan(seed, k):
    inst = instance(seed)
    changes = money_changes(inst, k)
    scaled = inst.with_changes(changes)
    # every money figure moved, nothing else
    assert scaled.unmet_penalty == inst.unmet_penalty * k
    for col in ("capex", "fixed_om", "variable_cost"):
        assert np.allclose(scaled.processes[col], inst.processes[col] * k, rtol=1e-15)
    assert scaled.demand.equals(inst.demand)
    a, b = solved(seed), solve(scaled)
    assert b.status == "optimal"
    assert math.isclose(b.objective, k * a.objective, rel_tol=1e-7)
    for name, keys in PLAN.items():
        x, y = getattr(a, name), getattr(b, name)
        assert list(x[keys].itertuples(index=False)) == list(y[keys].itertuples(index=False)), name
        for col in VALUE_COLUMNS[name]:
            assert np.allclose(x[col].to_numpy(float), y[col].to_numpy(float), rtol=1e-6, atol=TOL), f"{name}.{col}"
    # prices are money: they scale by k as well
    assert np.allclose(b.prices["price"], k * a.prices["price"], rtol=1e-6, atol=1e-6 * k)


@FEW
@given(SEEDS)
def test_prices_match_finite_differences(seed):
    inst = instance(seed)
    r = solved(seed)
    dem = inst.demand[inst.demand["quantity"] > 0]
    df = {y: (1 + inst.discount_rate) ** -(y - inst.base_year) for y in inst.years}
    price = {k: v for k, v in zip(map(tuple, r.prices[["commodity", "region", "year"]].to_numpy()), r.prices["price"])}
    checked = 0
    for c, reg, y, q in dem[["commodity", "region", "year", "quantity"]].head(3).itertuples(index=False, name=None):
        y = int(y)
        h = 1e-3 * max(1.0, q)
        objs = []
        for sign in (1, -1):
            ch = {"table": "demand", "where": {"commodity": c, "region": reg, "year": y}, "column": "quantity", "set": q + sign * h}
            s = solve(inst.with_changes(ch))
            assert s.status == "optimal"
            objs.append(s.objective)
        fwd, bwd = (objs[0] - r.objective) / h, (r.objective - objs[1]) / h
        if abs(fwd - bwd) > 1e-6 * max(1.0, abs(fwd)):
            note(f"{c},{reg},{y}: a kink (forward {fwd}, backward {bwd}); no single price to check")
            continue
        checked += 1
        # the price is undiscounted: objective change per unit = price x DF_y
        assert math.isclose(price[c, reg, y] * df[y], fwd, rel_tol=1e-5, abs_tol=1e-6), (c, reg, y, price[c, reg, y] * df[y], fwd)
    note(f"{checked} prices checked")


def test_prices_are_checked_somewhere():
    """The finite-difference property is not vacuous: on these seeds some points are smooth."""
    checked = 0
    for seed in range(6):
        inst, r = instance(seed), solved(seed)
        dem = inst.demand[inst.demand["quantity"] > 0].iloc[0]
        c, reg, y, q = dem["commodity"], dem["region"], int(dem["year"]), float(dem["quantity"])
        h = 1e-3 * max(1.0, q)
        up = solve(inst.with_changes({"table": "demand", "where": {"commodity": c, "region": reg, "year": y}, "column": "quantity", "set": q + h}))
        dn = solve(inst.with_changes({"table": "demand", "where": {"commodity": c, "region": reg, "year": y}, "column": "quantity", "set": q - h}))
        fwd, bwd = (up.objective - r.objective) / h, (r.objective - dn.objective) / h
        if abs(fwd - bwd) <= 1e-6 * max(1.0, abs(fwd)):
            checked += 1
    assert checked >= 3
