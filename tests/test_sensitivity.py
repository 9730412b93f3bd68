"""Sensitivity: duals, reduced costs and ranging, each range checked by re-solving just inside
and just outside it."""

import math

import highspy
import numpy as np
import pytest

from rechain import instances
from rechain.model import build_model, load_instance
from rechain.solvers import solve
from rechain.solvers import pyomo_highs
from rechain.solvers.sensitivity import sensitivity


@pytest.fixture(scope="module")
def toy():
    return load_instance(instances.path("toy"))


@pytest.fixture(scope="module")
def solved(toy):
    m = build_model(toy)
    s = sensitivity(m)
    return m, s


def _copy(m):
    """A fresh HiGHS model of the same LP, to re-solve with one number changed."""
    h = pyomo_highs.highs(m._rechain_highs)
    lp = h.getLp()
    g = highspy.Highs()
    g.setOptionValue("output_flag", False)
    g.passModel(lp)
    return g, lp


def _run(g, allow_unbounded=False, allow_infeasible=False):
    g.run()
    if allow_unbounded and g.getModelStatus() == highspy.HighsModelStatus.kUnbounded:
        return -math.inf, None, None
    if allow_infeasible and g.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
        return math.inf, None, None
    assert g.getModelStatus() == highspy.HighsModelStatus.kOptimal
    sol = g.getSolution()
    return g.getInfo().objective_function_value, np.array(sol.col_value), np.array(sol.row_dual)


def _step(lo, hi, rhs):
    span = (hi - lo) if math.isfinite(hi - lo) else max(1.0, abs(rhs))
    return max(1e-3 * span, 1e-4)


def test_tables_agree_with_the_result(solved, toy):
    m, s = solved
    r = s.result
    assert s.prices["price"].tolist() == r.prices["price"].tolist()
    assert s.policies["shadow_price"].tolist() == r.policies["shadow_price"].tolist()
    target = s.policies.set_index("policy").loc["south_magnet_target"]
    assert target["binding"] and target["shadow_price"] > 0 and target["value"] == 32
    assert target["value_low"] <= 32 <= target["value_high"]
    quota = s.policies[s.policies["policy"] == "mining_quota"]
    # not binding: the shadow price 0 holds from the activity upward
    assert not quota["binding"].any() and (quota["shadow_price"] == 0).all()
    assert np.allclose(quota["value_low"], 55 - quota["slack"]) and np.isinf(quota["value_high"]).all()
    assert len(s.reduced_costs) == len(m.new) and set(s.cost_ranges["variable"]) == {"new", "act"}
    text = s.describe("south_magnet_target")
    assert len(text) == 1 and "shadow price 7.47523" in text[0] and "between 30 and +inf" in text[0]


def test_rhs_ranges_hold_inside_and_break_outside(solved):
    m, s = solved
    h = pyomo_highs.highs(m._rechain_highs)
    obj0 = h.getInfo().objective_function_value
    checked_out = moved = 0
    for r in s.rhs_ranges.itertuples():
        if r.rhs_low == r.rhs_high:
            continue
        key = (r.commodity, r.region, r.year) if r.row == "balance" else (r.policy, r.year)
        j = pyomo_highs.row(m._rechain_highs, getattr(m, r.row)[key])
        g, lp = _copy(m)
        eq = lp.row_lower_[j] == lp.row_upper_[j]
        upper = math.isinf(lp.row_lower_[j])

        def resolve_at(v, outside=False):
            g.changeRowBounds(j, v if (eq or not upper) else -highspy.kHighsInf, v if (eq or upper) else highspy.kHighsInf)
            return _run(g, allow_infeasible=outside)

        step = _step(r.rhs_low, r.rhs_high, r.rhs)
        for v in (r.rhs_low + step, r.rhs_high - step):
            if not math.isfinite(v):
                continue
            obj, _, duals = resolve_at(v)
            assert duals[j] == pytest.approx(r.dual, rel=1e-6, abs=1e-7), (r, v)
            assert obj == pytest.approx(obj0 + r.dual * (v - r.rhs), rel=1e-7), (r, v)
        for v in (r.rhs_low - step, r.rhs_high + step):
            if not math.isfinite(v):
                continue
            obj, _, duals = resolve_at(v, outside=True)
            checked_out += 1
            if math.isinf(obj):  # beyond the range no plan is feasible at all
                continue
            moved += 1
            # beyond the range the basis changes: the objective leaves the line with slope dual
            assert abs(obj - (obj0 + r.dual * (v - r.rhs))) > 1e-9 * max(1.0, abs(obj0)) or abs(duals[j] - r.dual) > 1e-7, (r, v)
    assert checked_out >= 5 and moved >= 3


def test_cost_ranges_hold_inside_and_break_outside(solved):
    m, s = solved
    x0 = np.array(pyomo_highs.highs(m._rechain_highs).getSolution().col_value)
    checked_out = 0
    for r in s.cost_ranges.itertuples():
        j = pyomo_highs.column(m._rechain_highs, getattr(m, r.variable)[r.process, r.region, r.year])
        step = _step(r.cost_low, r.cost_high, r.cost)
        g, lp = _copy(m)
        for c in (r.cost_low + step, r.cost_high - step):
            if not math.isfinite(c):
                continue
            g.changeColCost(j, c)
            _, x, _ = _run(g)
            assert np.allclose(x, x0, atol=1e-7), (r, c)  # the same plan stays optimal
        for c in (r.cost_low - step, r.cost_high + step):
            if not math.isfinite(c):
                continue
            g.changeColCost(j, c)
            obj, x, _ = _run(g, allow_unbounded=c < 0)  # a negative capex may be unbounded
            cost = np.array(lp.col_cost_)
            cost[j] = c
            # the old plan is no longer optimal: a strictly cheaper one exists
            assert obj < float(cost @ x0) - 1e-9, (r, c)
            checked_out += 1
    assert checked_out >= 5


def test_ranges_in_the_users_units(toy, solved):
    """Change the instance itself (policy value, demand) inside / outside the reported range."""
    _, s = solved
    t = s.policies.set_index("policy").loc["south_magnet_target"]
    base = s.result.objective
    df = 1.05 ** -3
    for v in (t["value_low"] + 0.1, 45.0):
        r = solve(toy.with_changes({"table": "policies", "where": {"policy": "south_magnet_target"}, "column": "value", "set": v}))
        sp = r.policies.set_index("policy").loc["south_magnet_target", "shadow_price"]
        assert sp == pytest.approx(t["shadow_price"], rel=1e-6)
        assert r.objective == pytest.approx(base + df * t["shadow_price"] * (v - 32), rel=1e-7)
    r = solve(toy.with_changes({"table": "policies", "where": {"policy": "south_magnet_target"}, "column": "value", "set": t["value_low"] - 0.1}))
    assert r.policies.set_index("policy").loc["south_magnet_target", "shadow_price"] != pytest.approx(t["shadow_price"], rel=1e-6)
    p = s.prices.set_index(["commodity", "region", "year"]).loc[("ev", "south", 2022)]
    for q, same in ((p["demand_high"] - 0.05, True), (p["demand_high"] + 0.05, False)):
        inst = toy.with_changes({"table": "demand", "where": {"commodity": "ev", "year": 2022}, "column": "quantity", "set": q})
        price = solve(inst).prices.set_index(["commodity", "region", "year"]).loc[("ev", "south", 2022), "price"]
        assert (price == pytest.approx(p["price"], rel=1e-6)) == same


def test_reduced_costs_and_capex_gap():
    """A magnet plant option too dear to build: its reduced cost says by how much."""
    inst = load_instance(instances.path("toy")).with_changes([
        {"table": "policies", "where": {"policy": "south_magnet_target"}, "column": "value", "set": 0},
        {"table": "processes", "where": {"process": "magnet_making"}, "column": "capex", "set": 5000},
    ])
    s = sensitivity(inst)
    rc = s.reduced_costs
    unbuilt = rc[rc["new"] == 0]
    assert len(unbuilt) and (unbuilt["reduced_cost"] > 0).all() and (unbuilt["basis"] == "lower").all()
    row = unbuilt.iloc[0]
    gap = row["capex_gap"]
    # capex cut by slightly more than the gap: this vintage gets built; slightly less: not
    for cut, built in ((gap * 1.01, True), (gap * 0.99, False)):
        m = build_model(inst)
        solve(m)
        h = pyomo_highs.highs(m._rechain_highs)
        j = pyomo_highs.column(m._rechain_highs, m.new[row["process"], row["region"], row["year"]])
        g, lp = _copy(m)
        g.changeColCost(j, lp.col_cost_[j] * (5000 - cut) / 5000)
        _, x, _ = _run(g)
        assert (x[j] > 1e-7) == built


def test_a_share_policy_reports_its_share_and_no_rhs_range():
    # a max_share row reads  activity(processes) - value x activity(share_of) <= 0: its value is a
    # coefficient, not the right-hand side, so the table gives the share itself and no range (HiGHS
    # ranges bounds and costs only), and the shadow price stays per unit of the share
    inst = load_instance(instances.path("inner_mongolia_2021_2025"))
    s = sensitivity(inst)
    rows = s.policies[s.policies.policy == "dy_diffusion_depth"]
    assert len(rows) == 5
    assert (rows.value == 0.5).all()
    assert rows[["value_low", "value_high", "objective_low", "objective_high"]].isna().all().all()
    assert rows.binding.any()
    text = "\n".join(s.describe(policy="dy_diffusion_depth"))
    assert "no range: the value is a coefficient of the row" in text
    assert "between" not in text
