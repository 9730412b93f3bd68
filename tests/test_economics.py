"""Annuities, discounting and every cost term of the objective against hand arithmetic.

SPEC section 2: objective = Σ_y DF_y · cost_y with DF_y = (1 + i)^-(y - base_year); capital is
charged as the annuity capex · CRF(i, lifetime) in each year the capacity is online within the
horizon, CRF = i(1+i)^L / ((1+i)^L - 1) (1/L at i = 0). Each expected objective below is written
out as arithmetic and held to 1e-9 relative.
"""

import math

import pytest

from lpkit import make_instance, solved
from rechain.model import crf, discount_factors

I = 0.07
BASE = 2020
Y3 = (2021, 2022, 2023)
DF = {y: 1.07 ** -(y - BASE) for y in Y3}
REL = 1e-9


def annuity(capex, lifetime, i=I):
    g = (1 + i) ** lifetime
    return capex * i * g / (g - 1)


# ---- the formulas themselves --------------------------------------------------------------


def test_crf_against_the_formula_and_at_zero_rate():
    assert crf(0.05, 10) == pytest.approx(0.05 * 1.05**10 / (1.05**10 - 1), rel=1e-15)
    assert crf(0.1, 1) == pytest.approx(1.1, rel=1e-15)
    assert crf(0.0, 8) == 1 / 8
    assert crf(0.0, 1) == 1.0
    # the annuity repays the capital: its present value over the lifetime is 1
    for i, L in ((0.07, 20), (0.03, 5), (0.12, 30)):
        assert sum(crf(i, L) * (1 + i) ** -t for t in range(1, L + 1)) == pytest.approx(1.0, rel=1e-12)
    # continuity at i -> 0
    assert crf(1e-9, 8) == pytest.approx(1 / 8, rel=1e-6)


def test_discount_factors():
    df = discount_factors([2020, 2021, 2025], 2020, 0.06)
    assert df == {2020: 1.0, 2021: pytest.approx(1 / 1.06, rel=1e-15), 2025: pytest.approx(1.06**-5, rel=1e-15)}
    assert discount_factors([2019], 2020, 0.06)[2019] == pytest.approx(1.06, rel=1e-15)
    assert discount_factors([2021, 2030], 2020, 0.0) == {2021: 1.0, 2030: 1.0}


# ---- capital -----------------------------------------------------------------------------------


def plant(demand, capex=50.0, lifetime=10, lead_time=0, discount_rate=I, **kw):
    """One process ``make`` (buildable every year, nothing existing) making ``good``."""
    return make_instance(
        commodities=["good"], processes={"make": dict(capex=capex, lifetime=lifetime, lead_time=lead_time, **kw)},
        io=[("make", "good", "out", 1)], build_limits=[("make", "r")],
        demand=[("good", "r", y, q) for y, q in demand.items()], discount_rate=discount_rate, base_year=BASE)


def test_plant_built_in_the_last_year_costs_one_annuity_year():
    r = solved(plant({2023: 4}))
    a = annuity(50, 10)
    assert r.objective == pytest.approx(4 * a * DF[2023], rel=REL)
    capex = r.costs[r.costs["component"] == "capex"].set_index("year")["undiscounted"]
    assert list(capex) == pytest.approx([0, 0, 4 * a], rel=REL)


def test_capital_is_not_charged_while_building():
    # lead time 2: a 2021 start serves 2023 only, and pays one annuity year, in 2023
    r = solved(plant({2023: 4}, lead_time=2))
    assert r.capacity.set_index("year").loc[2021, "new"] == pytest.approx(4)
    assert r.objective == pytest.approx(4 * annuity(50, 10) * DF[2023], rel=REL)


@pytest.mark.parametrize("lifetime, years_charged", [(1, (2021,)), (2, (2021, 2022)), (10, Y3)])
def test_capital_charged_in_each_year_online_within_the_horizon(lifetime, years_charged):
    # demanded in 2021 only: the vintage is charged while it stands, idle or not, never
    # beyond its lifetime or the horizon
    r = solved(plant({2021: 3}, lifetime=lifetime))
    a = annuity(50, lifetime)
    assert r.objective == pytest.approx(3 * a * sum(DF[y] for y in years_charged), rel=REL)


def test_annuity_at_zero_discount_rate():
    r = solved(plant({y: 2 for y in Y3}, capex=30, lifetime=3, discount_rate=0.0))
    assert r.objective == pytest.approx(2 * 30 / 3 * 3, rel=REL)


# ---- the other cost terms ------------------------------------------------------------------------


def test_fixed_om_on_total_capacity_including_existing():
    # make: 4 existing + 6 built in 2021 for a demand of 10 a year; idle: 3 existing, never
    # used (a variable cost of 100) but its fixed O&M is paid all the same
    inst = make_instance(
        commodities=["good"],
        processes={"make": dict(capex=30, fixed_om=2), "idle": dict(fixed_om=5, variable_cost=100)},
        io=[("make", "good", "out", 1), ("idle", "good", "out", 1)],
        capacity=[("make", "r", 2021, 4), ("idle", "r", 2021, 3)], build_limits=[("make", "r")],
        demand=[("good", "r", y, 10) for y in Y3], discount_rate=I, base_year=BASE)
    r = solved(inst)
    a = annuity(30, 30)
    assert r.objective == pytest.approx(sum(DF[y] * (2 * 10 + 5 * 3 + 6 * a) for y in Y3), rel=REL)
    fom = r.costs[r.costs["component"] == "fixed_om"]["undiscounted"]
    assert list(fom) == pytest.approx([35, 35, 35], rel=REL)


def test_variable_cost():
    inst = make_instance(commodities=["good"], processes={"make": dict(variable_cost=3)}, io=[("make", "good", "out", 1)],
                         capacity=[("make", "r", 2021, 10)], demand=[("good", "r", y, q) for y, q in zip(Y3, (4, 5, 6))],
                         discount_rate=I, base_year=BASE)
    r = solved(inst)
    assert r.objective == pytest.approx(DF[2021] * 3 * 4 + DF[2022] * 3 * 5 + DF[2023] * 3 * 6, rel=REL)


def test_supply_price_and_instance_default_unmet_penalty():
    # 5 bought at 2.5 a year, the rest unmet at the instance's 40
    inst = make_instance(commodities=["ore"], supply=[("ore", "r", None, 5, 2.5)],
                         demand=[("ore", "r", y, q) for y, q in zip(Y3, (4, 6, 9))],
                         discount_rate=I, base_year=BASE, unmet_penalty=40)
    r = solved(inst)
    assert r.objective == pytest.approx(DF[2021] * 4 * 2.5 + DF[2022] * (5 * 2.5 + 1 * 40) + DF[2023] * (5 * 2.5 + 4 * 40), rel=REL)


def test_trade_cost_and_commodity_unmet_penalty():
    # bought in a at 1, shipped to b at 0.25 (at most 3 a year); the commodity's own penalty
    # (60) overrides the instance's (1000)
    inst = make_instance(regions=["a", "b"], commodities={"ore": {"unmet_penalty": 60}}, supply=[("ore", "a", None, None, 1)],
                         trade=[("ore", "a", "b", 0.25, 3)], demand=[("ore", "b", y, 4) for y in Y3],
                         discount_rate=I, base_year=BASE)
    r = solved(inst)
    assert r.objective == pytest.approx(sum(DF[y] * (3 * 1 + 3 * 0.25 + 1 * 60) for y in Y3), rel=REL)


def test_disposal_cost():
    # 1 ore (at 1) -> 0.4 a + 0.6 b; 2 of a wanted a year: 5 ore, 3 b disposed of at 0.75
    inst = make_instance(commodities={"ore": {}, "a": {}, "b": {"disposal_cost": 0.75}}, processes=["split"],
                         io=[("split", "ore", "in", 1), ("split", "a", "out", 0.4), ("split", "b", "out", 0.6)],
                         capacity=[("split", "r", 2021, 100)], supply=[("ore", "r", None, None, 1)],
                         demand=[("a", "r", y, 2) for y in Y3], discount_rate=I, base_year=BASE)
    r = solved(inst)
    assert r.objective == pytest.approx(sum(DF[y] * (5 * 1 + 3 * 0.75) for y in Y3), rel=REL)


def test_violation_penalty():
    # at most 2 bought a year, soft at 1.5: 5 wanted, bought at 1 (cheaper than unmet 1000)
    inst = make_instance(commodities=["ore"], supply=[("ore", "r", None, None, 1)],
                         demand=[("ore", "r", y, 5) for y in Y3],
                         policies=[dict(policy="quota", kind="max_supply", value=2, commodities="ore", penalty=1.5)],
                         discount_rate=I, base_year=BASE)
    r = solved(inst)
    assert r.objective == pytest.approx(sum(DF[y] * (5 * 1 + 3 * 1.5) for y in Y3), rel=REL)
    assert list(r.policies["violation"]) == pytest.approx([3, 3, 3])


# ---- every term at once, and the cost table ------------------------------------------------------


def every_component(base_year=BASE):
    """A smelter in a (2 ore -> 1 metal + 0.5 slag; 3 existing, at most 1 new a year, capex 40
    over 20 years, fixed O&M 1.5, variable cost 2); ore bought in a at 3; metal shipped to b at
    0.5, where 3, 5 and 7 are wanted (unmet at 100); slag disposed of at 2; ore purchases at most
    10 a year, soft at 4; 1 of 'spare', which nothing makes, wanted in 2022 (unmet at 1000)."""
    return make_instance(
        regions=["a", "b"],
        commodities={"ore": {}, "metal": {"unmet_penalty": 100}, "slag": {"kind": "waste", "disposal_cost": 2}, "spare": {}},
        processes={"smelt": dict(capex=40, lifetime=20, fixed_om=1.5, variable_cost=2)},
        io=[("smelt", "metal", "out", 1), ("smelt", "ore", "in", 2), ("smelt", "slag", "out", 0.5)],
        capacity=[("smelt", "a", 2021, 3)], build_limits=[("smelt", "a", None, 1)],
        supply=[("ore", "a", None, None, 3)], trade=[("metal", "a", "b", 0.5)],
        demand=[("metal", "b", 2021, 3), ("metal", "b", 2022, 5), ("metal", "b", 2023, 7), ("spare", "b", 2022, 1)],
        policies=[dict(policy="ore_quota", kind="max_supply", value=10, commodities="ore", regions="a", penalty=4)],
        discount_rate=I, base_year=base_year)


def every_component_by_hand():
    # A unit of metal costs 2*3 ore + 2 + 0.5*2 slag + 0.5 shipping (+ 8 over the quota), plus
    # capacity: far below 100, so the smelter is built at 1 a year: 4, 5, 6 stand; 3, 5, 6 are
    # made; 1 metal is unmet in 2023; ore 6, 10, 12 (2 over the quota in 2023).
    a = annuity(40, 20)
    cap = {2021: 4, 2022: 5, 2023: 6}
    made = {2021: 3, 2022: 5, 2023: 6}
    cost = {}
    for y in Y3:
        cost[y] = {
            "capex": a * (y - 2020),  # vintages 2021..y, one unit each, all online
            "fixed_om": 1.5 * cap[y],
            "variable": 2 * made[y],
            "supply": 3 * 2 * made[y],
            "trade": 0.5 * made[y],
            "unmet": {2021: 0, 2022: 1000 * 1, 2023: 100 * 1}[y],
            "disposal": 2 * 0.5 * made[y],
            "violation": 4 * max(0, 2 * made[y] - 10),
        }
    return cost


def test_every_component_objective_and_cost_table():
    r = solved(every_component())
    hand = every_component_by_hand()
    assert r.objective == pytest.approx(sum(DF[y] * sum(c.values()) for y, c in hand.items()), rel=REL)
    costs = r.costs.set_index(["year", "component"])
    # every declared component has its line, holding (of stocks, SPEC 4.1) at 0 here
    assert set(costs.index) == {(y, c) for y in Y3 for c in hand[y]} | {(y, "holding") for y in Y3}
    assert (costs.xs("holding", level="component")["undiscounted"] == 0).all()
    for y in Y3:
        for comp, v in hand[y].items():
            assert costs.loc[(y, comp), "undiscounted"] == pytest.approx(v, rel=REL, abs=1e-9), (y, comp)
            assert costs.loc[(y, comp), "discounted"] == pytest.approx(v * DF[y], rel=REL, abs=1e-9), (y, comp)
    assert r.costs["discounted"].sum() == pytest.approx(r.objective, rel=REL)
    dfy = r.costs["year"].map(DF)
    assert (r.costs["undiscounted"] * dfy - r.costs["discounted"]).abs().max() < 1e-9 * r.objective
    pol = r.policies.set_index("year")
    assert list(pol["violation"]) == pytest.approx([0, 0, 2])
    assert list(pol["slack"]) == pytest.approx([4, 0, 0], abs=1e-9)


def test_base_year_only_rescales_the_objective():
    # money discounted to 2018 instead of 2020: every DF is 1.07^-2 times smaller
    a = solved(every_component()).objective
    b = solved(every_component(base_year=2018)).objective
    assert b == pytest.approx(a * 1.07**-2, rel=REL)
    assert not math.isclose(a, b)
