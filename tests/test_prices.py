"""Prices and shadow prices against finite differences of the objective; the result tables'
columns; re-solving a built model after :func:`update_parameters`.

``prices`` (balance dual ÷ DF_y) must equal the change of the objective per unit more demanded,
÷ DF_y; a policy's ``shadow_price`` the change of the objective per unit more of its value,
÷ DF_y. Each point is checked with one-sided differences both ways: where they agree the point is
not degenerate and the dual is unique, so a dual of the wrong sign, scale or discounting fails.
"""

import pyomo.environ as pyo
import pytest

from lpkit import column, make_instance, solved
from rechain import instances
from rechain.model import RebuildRequired, build_model, load_instance, update_parameters
from rechain.model.results import TABLE_COLUMNS
from rechain.solvers import solve

REL = 1e-6
H = 0.5  # the toy's optimal basis stays the same for at least this step at every point


@pytest.fixture(scope="module")
def toy():
    return load_instance(instances.path("toy"))


@pytest.fixture(scope="module")
def toy_result(toy):
    return solved(toy)


def df(inst, y):
    return (1 + inst.discount_rate) ** -(y - inst.base_year)


def demand_differences(inst, key, h=H, m=None):
    """Forward and backward differences of the objective (÷ DF_y) per unit more demand of
    ``key`` = (commodity, region, year), by setting the demand of a built model and solving it
    again in place (re-solving is checked against fresh solves further down); the model's
    demand is restored afterwards."""
    m = build_model(inst) if m is None else m
    base = solved(m).objective
    q = pyo.value(m.demand[key])
    out = []
    for step in (h, -h):
        m.demand[key] = q + step
        out.append((solved(m).objective - base) / step / df(inst, key[2]))
    m.demand[key] = q
    return out


def assert_price(price, fwd, bwd):
    assert fwd == pytest.approx(bwd, rel=REL, abs=REL), "degenerate point: the one-sided differences disagree"
    assert price == pytest.approx(fwd, rel=REL, abs=REL)


# ---- prices on the toy ------------------------------------------------------------------------


def test_every_toy_price_is_the_finite_difference(toy, toy_result):
    prices = toy_result.prices
    assert len(prices) == 24  # 8 commodity-regions touched, 3 years
    m = build_model(toy)
    for c, r, y, p in prices[["commodity", "region", "year", "price"]].itertuples(index=False, name=None):
        fwd, bwd = demand_differences(toy, (c, r, y), m=m)
        assert_price(p, fwd, bwd)


@pytest.mark.parametrize("commodity, region, year", [
    ("ev", "south", 2021), ("ev", "south", 2022), ("ev", "south", 2023), ("lace_oxide", "north", 2022)])
def test_toy_price_is_the_change_when_one_unit_more_is_demanded(toy, toy_result, commodity, region, year):
    # through the instance itself: its demand row scaled to one unit more and one unit less
    row = toy.demand[(toy.demand["commodity"] == commodity) & (toy.demand["year"] == year)]
    q = float(row["quantity"].iloc[0])
    where = {"commodity": commodity, "region": region, "year": year}
    up = solved(toy.with_changes({"table": "demand", "where": where, "column": "quantity", "set": q + 1})).objective
    down = solved(toy.with_changes({"table": "demand", "where": where, "column": "quantity", "set": q - 1})).objective
    d = df(toy, year)
    price = column(toy_result.prices, "price", commodity=commodity, region=region, year=year)
    assert_price(price, (up - toy_result.objective) / d, (toy_result.objective - down) / d)


def test_toy_prices_by_hand(toy_result):
    # surplus La/Ce oxide is disposed of at 0.5: one more demanded saves that
    lace = toy_result.prices[toy_result.prices["commodity"] == "lace_oxide"]
    assert list(lace["price"]) == pytest.approx([-0.5] * 3, rel=1e-12)
    # ore costs its variable cost of mining; PrNd oxide in the south 0.1 more than in the north
    p = toy_result.prices.set_index(["commodity", "region", "year"])["price"]
    for y in (2021, 2022, 2023):
        assert p["ore", "north", y] == pytest.approx(1.0, rel=1e-12)
        assert p["prnd_oxide", "south", y] - p["prnd_oxide", "north", y] == pytest.approx(0.1, rel=1e-9)


# ---- prices with co-production -------------------------------------------------------------


def coproduction(disposal_cost):
    """1 ore (at 1) -> 0.2 prnd + 0.8 lace; 2 prnd and 4 lace wanted a year, i = 5 %."""
    lace = {} if disposal_cost is None else {"disposal_cost": disposal_cost}
    return make_instance(
        commodities={"ore": {}, "prnd": {}, "lace": lace}, processes=["separation"],
        io=[("separation", "ore", "in", 1), ("separation", "prnd", "out", 0.2), ("separation", "lace", "out", 0.8)],
        capacity=[("separation", "r", 2021, 100)], supply=[("ore", "r", None, None, 1)],
        demand=[(c, "r", y, q) for y in (2021, 2022, 2023) for c, q in (("prnd", 2), ("lace", 4))],
        discount_rate=0.05)


@pytest.mark.parametrize("disposal_cost, hand", [
    # lace surplus disposed of at 0.5: more lace wanted saves 0.5; more prnd takes 5 ore and
    # 4 more lace to dispose of
    (0.5, {"lace": -0.5, "prnd": 5 * 1 + 4 * 0.5, "ore": 1.0}),
    # no disposal: lace limits separation (x = 5, 1 prnd unmet at 1000); one more lace wanted
    # lets 1.25 ore more be separated: 1.25 - 0.25 * 1000
    (None, {"lace": 1.25 - 0.25 * 1000, "prnd": 1000.0, "ore": 1.0}),
])
def test_coproduct_prices(disposal_cost, hand):
    inst = coproduction(disposal_cost)
    r = solved(inst)
    for (c, reg, y), p in r.prices.set_index(["commodity", "region", "year"])["price"].items():
        assert p == pytest.approx(hand[c], rel=1e-9)
        if (c, reg, y) in (("lace", "r", 2022), ("prnd", "r", 2023)):
            assert_price(p, *demand_differences(inst, (c, reg, y), h=0.1))


# ---- policy shadow prices ---------------------------------------------------------------------


def test_toy_policy_shadow_price(toy, toy_result):
    # the south's 2023 magnet-capacity target (32): shadow price = objective change per unit
    where = {"policy": "south_magnet_target"}
    base = toy_result.objective
    up = solved(toy.with_changes({"table": "policies", "where": where, "column": "value", "set": 32 + H})).objective
    down = solved(toy.with_changes({"table": "policies", "where": where, "column": "value", "set": 32 - H})).objective
    d = df(toy, 2023)
    sp = column(toy_result.policies, "shadow_price", policy="south_magnet_target", year=2023)
    assert sp > 0
    assert_price(sp, (up - base) / H / d, (base - down) / H / d)
    quota = toy_result.policies[toy_result.policies["policy"] == "mining_quota"]
    assert (quota["slack"] > 0).all() and (quota["shadow_price"] == 0).all()


def market(policy, make_cost, supply_price):
    """good: 8 wanted a year, made (10 existing) at ``make_cost`` or bought at ``supply_price``;
    one policy on making, stated for each year; i = 5 %."""
    rows = [dict(policy="p", year=y, **policy) for y in (2021, 2022, 2023)]
    return make_instance(
        commodities=["good"], processes={"make": dict(variable_cost=make_cost)}, io=[("make", "good", "out", 1)],
        capacity=[("make", "r", 2021, 10)], supply=[("good", "r", None, None, supply_price)],
        demand=[("good", "r", y, 8) for y in (2021, 2022, 2023)], policies=rows, discount_rate=0.05)


@pytest.mark.parametrize("policy, make_cost, supply_price, hand", [
    (dict(kind="max_activity", value=5, processes="make"), 1, 5, -(5 - 1)),         # one more made saves 4
    (dict(kind="max_activity", value=5, processes="make", penalty=2), 1, 5, -2),    # violated: saves the penalty
    (dict(kind="min_activity", value=6, processes="make"), 5, 1, 5 - 1),            # one more made costs 4
    (dict(kind="max_supply", value=3, commodities="good"), 5, 1, -(5 - 1)),         # one more bought saves 4
    (dict(kind="max_activity", value=9, processes="make"), 1, 5, 0),                # slack: 0
])
def test_policy_shadow_price_is_the_finite_difference(policy, make_cost, supply_price, hand):
    inst = market(policy, make_cost, supply_price)
    r = solved(inst)
    base = r.objective
    for y in (2021, 2022, 2023):
        sp = column(r.policies, "shadow_price", policy="p", year=y)
        assert sp == pytest.approx(hand, rel=1e-9, abs=1e-9)
        v = policy["value"]
        diffs = []
        for step in (H, -H):
            changed = inst.with_changes({"table": "policies", "where": {"policy": "p", "year": y}, "column": "value", "set": v + step})
            diffs.append((solved(changed).objective - base) / step / df(inst, y))
        assert_price(sp, *diffs)


# ---- result tables --------------------------------------------------------------------------


SPEC_COLUMNS = {  # SPEC section 3, with the unit column of section 4.7
    "capacity": ["process", "region", "year", "residual", "new", "total", "utilisation", "unit"],
    "flows": ["process", "commodity", "region", "year", "direction", "quantity", "unit"],
    "prices": ["commodity", "region", "year", "price", "unit"],
    "policies": ["policy", "year", "shadow_price", "slack", "violation", "unit"],  # the unit of the policy's value
    "costs": ["year", "component", "undiscounted", "discounted", "unit"],
    "stock": ["commodity", "region", "year", "level", "holding_cost", "unit"],
    "demand_response": ["commodity", "region", "year", "step", "share", "price", "unmet", "unit"],
    "investment": ["process", "region", "year", "new", "capex", "overnight", "unit"],
}


@pytest.mark.parametrize("name", list(SPEC_COLUMNS))
def test_result_tables_have_exactly_the_spec_columns(toy, toy_result, name):
    assert list(getattr(toy_result, name).columns) == SPEC_COLUMNS[name]
    assert TABLE_COLUMNS[name] == SPEC_COLUMNS[name]
    # also when there is no solution to fill them
    bad = toy.with_changes({"table": "build_limits", "where": {"process": "magnet_making"}, "column": "max_new", "set": 1})
    r = solve(bad)
    assert r.status == "infeasible"
    assert list(getattr(r, name).columns) == SPEC_COLUMNS[name]


def test_result_tables_one_row_per_index_tuple(toy_result):
    keys = {"capacity": ["process", "region", "year"], "flows": ["process", "commodity", "region", "year", "direction"],
            "prices": ["commodity", "region", "year"], "policies": ["policy", "year"], "costs": ["year", "component"],
            "activity": ["process", "region", "year"], "trade": ["commodity", "origin", "destination", "year"],
            "supply": ["commodity", "region", "year"], "unmet": ["commodity", "region", "year"],
            "disposal": ["commodity", "region", "year"]}
    for name, cols in keys.items():
        t = getattr(toy_result, name)
        assert not t.duplicated(cols).any(), name
        assert set(cols) <= set(t.columns), name


def test_flows_follow_the_coefficients(toy_result):
    flows = toy_result.flows.set_index(["process", "commodity", "year"])
    act = toy_result.activity.set_index(["process", "year"])["activity"]
    for y in (2021, 2022, 2023):
        assert flows.loc[("separation", "lace_oxide", y), "quantity"] == pytest.approx(0.8 * act["separation", y])
        assert flows.loc[("separation", "lace_oxide", y), "direction"] == "out"
        assert flows.loc[("metal_making", "prnd_oxide", y), "quantity"] == pytest.approx(1.2 * act["metal_making", y])
        assert flows.loc[("metal_making", "prnd_oxide", y), "direction"] == "in"


# ---- re-solving after update_parameters ---------------------------------------------------------


CHANGES = {
    "demand": {"table": "demand", "where": {"commodity": "ev"}, "column": "quantity", "scale": 1.7},
    "lace_demand": {"table": "demand", "where": {"commodity": "lace_oxide", "year": 2022}, "column": "quantity", "set": 35},
    "policy_value": {"table": "policies", "where": {"policy": "south_magnet_target"}, "column": "value", "set": 40},
    "quota": {"table": "policies", "where": {"policy": "mining_quota"}, "column": "value", "set": 45},
    "capex": {"table": "processes", "where": {"process": "magnet_making"}, "column": "capex", "scale": 3},
    "fixed_om": {"table": "processes", "where": {}, "column": "fixed_om", "set": 0.7},
    "variable_cost": {"table": "processes", "where": {"process": "mine"}, "column": "variable_cost", "set": 4},
    "availability": {"table": "processes", "where": {"process": "magnet_making"}, "column": "availability", "set": 0.8},
    "residual": {"table": "capacity", "where": {"process": "magnet_making"}, "column": "capacity", "set": 18},
    "trade_cost": {"table": "trade", "where": {}, "column": "cost", "set": 2.5},
    "disposal_cost": {"table": "commodities", "where": {"commodity": "lace_oxide"}, "column": "disposal_cost", "set": 3},
    "discount_rate": {"table": "instance", "column": "discount_rate", "set": 0.11},
    "unmet_penalty": {"table": "instance", "column": "unmet_penalty", "set": 20},
    "commodity_unmet_penalty": {"table": "commodities", "where": {"commodity": "ev"}, "column": "unmet_penalty", "set": 5},
    # io coefficients are mutable params of the built rows (a model that kept the old ones
    # re-solved to 890.14 instead of 1072.01)
    "coefficient": {"table": "process_io", "where": {"process": "separation", "commodity": "lace_oxide"}, "column": "coefficient", "set": 0.5},
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_resolve_after_update_parameters_equals_a_fresh_solve(toy, change):
    inst2 = toy.with_changes(CHANGES[change])
    m = build_model(toy)
    first = solved(m)
    update_parameters(m, inst2)
    again = solved(m)  # the same persistent solver, no rebuild
    fresh = solved(inst2)
    assert again.objective == pytest.approx(fresh.objective, rel=1e-9)
    assert not first.objective == pytest.approx(fresh.objective, rel=1e-9), "the change should move the optimum"
    # the re-solve's tables come from the updated data (duals may differ where degenerate)
    assert again.costs["discounted"].sum() == pytest.approx(fresh.objective, rel=1e-9)


def test_several_changes_then_back(toy):
    m = build_model(toy)
    base = solved(m).objective
    inst2 = toy.with_changes([CHANGES["demand"], CHANGES["capex"], CHANGES["discount_rate"], CHANGES["availability"]])
    update_parameters(m, inst2)
    assert solved(m).objective == pytest.approx(solved(inst2).objective, rel=1e-9)
    update_parameters(m, toy)
    assert solved(m).objective == pytest.approx(base, rel=1e-9)


REFUSED = {
    # a lead-time change moves which vintages exist
    "lead_time": {"table": "processes", "where": {"process": "magnet_making"}, "column": "lead_time", "set": 3},
    # policy senses decide the built rows (accepted once, the re-solve kept the old one: an
    # optimum instead of infeasible)
    "policy_kind": {"table": "policies", "where": {"policy": "mining_quota"}, "column": "kind", "set": "min_activity"},
    # a hard policy turned soft gains a violation variable
    "penalty": {"table": "policies", "where": {"policy": "mining_quota"}, "column": "penalty", "set": 3},
}


@pytest.mark.parametrize("change", list(REFUSED))
def test_update_that_changes_the_built_rows_is_refused(toy, change):
    m = build_model(toy)
    with pytest.raises(RebuildRequired, match="rebuild"):
        update_parameters(m, toy.with_changes(REFUSED[change]))


def test_update_that_moves_the_online_years_of_a_vintage_is_refused():
    # 1 existing in every year keeps the capacity rows the same when the lifetime drops from
    # 30 to 1, but the 2021 vintage then serves 2021 only: the capacity rows of the built
    # model would keep it online to 2023 (re-solve 810, fresh solve 18270)
    inst = make_instance(commodities=["good"], processes={"make": dict(capex=30, lifetime=30)}, io=[("make", "good", "out", 1)],
                         capacity=[("make", "r", 2021, 1)], build_limits=[("make", "r", 2021)],
                         demand=[("good", "r", y, 10) for y in (2021, 2022, 2023)])
    short = inst.with_changes({"table": "processes", "where": {}, "column": "lifetime", "set": 1})
    assert solved(short).objective == pytest.approx(9 * 30 * 1 + (9 + 9) * 1000, rel=1e-9)
    m = build_model(inst)
    assert solved(m).objective == pytest.approx(9 * 1 * 3, rel=1e-9)
    with pytest.raises(RebuildRequired, match="rebuild"):
        update_parameters(m, short)


def test_update_moves_the_unmet_bound_with_the_demand():
    # nothing can make 'good': all of it is unmet, and unmet <= demand must follow the new
    # demand (with the old bound of 10 the re-solve would be infeasible)
    inst = make_instance(commodities=["good"], demand=[("good", "r", 2021, 10)], years=(2021, 2021))
    more = inst.with_changes({"table": "demand", "where": {}, "column": "quantity", "set": 20})
    m = build_model(inst)
    assert solved(m).objective == pytest.approx(10 * 1000, rel=1e-9)
    update_parameters(m, more)
    r = solved(m)
    assert r.objective == pytest.approx(20 * 1000, rel=1e-9)
    assert column(r.unmet, "quantity") == pytest.approx(20)
    assert m.unmet["good", "r", 2021, 0].ub == 20  # step 0: no demand curve


@pytest.mark.parametrize("kind", ["max_capacity", "max_new_capacity"])
def test_capacity_policy_shadow_price_is_the_finite_difference(kind):
    # a plant buildable in 2023 only (capex 30 over 30 years at 5 %: annuity a a year) or buying
    # at 5; 8 wanted in 2023. One more unit of plant allowed replaces a unit bought: a - 5
    def inst_with(value):
        return make_instance(
            commodities=["good"], processes={"make": dict(capex=30)}, io=[("make", "good", "out", 1)],
            build_limits=[("make", "r", 2023)], supply=[("good", "r", None, None, 5)], demand=[("good", "r", 2023, 8)],
            policies=[dict(policy="p", kind=kind, year=2023, value=value, processes="make")], discount_rate=0.05)
    r = solved(inst_with(3))
    a = 30 * 0.05 * 1.05**30 / (1.05**30 - 1)
    sp = column(r.policies, "shadow_price", year=2023)
    assert sp == pytest.approx(a - 5, rel=1e-9)
    d = 1.05**-3
    up, down = solved(inst_with(3 + H)).objective, solved(inst_with(3 - H)).objective
    assert_price(sp, (up - r.objective) / H / d, (r.objective - down) / H / d)
