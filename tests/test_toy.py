"""The toy instance solved and checked against an optimum worked out by hand.

The toy chain (instances/toy): in the north a mine and a separation plant (1 t ore -> 0.2 t PrNd
oxide + 0.8 t La/Ce oxide); in the south metal making (1.2 t oxide -> 1 t metal), magnet making
(0.3 t metal -> 1 t magnet + 0.1 t swarf), swarf recycling (1 t swarf -> 0.25 t oxide) and EV
assembly (2 t magnet per thousand EVs). PrNd oxide is shipped north -> south at 0.1 a tonne.
"""

import pytest

from rechain import instances
from rechain.model import crf, load_instance
from rechain.solvers import solve

YEARS = [2021, 2022, 2023]
DF = {y: 1.05 ** -(y - 2020) for y in YEARS}
EV = {2021: 10, 2022: 12, 2023: 15}
LACE_DEMAND = 20


@pytest.fixture(scope="module")
def res():
    r = solve(load_instance(instances.path("toy")))
    assert r.status == "optimal", r.message
    return r


def hand_plan():
    """Every flow follows from the demand: no choice but the capacity vintages."""
    plan = {}
    for y in YEARS:
        magnet = 2 * EV[y]                      # t magnet
        metal = 0.3 * magnet                    # t PrNd metal
        swarf = 0.1 * magnet                    # all recycled: recycling (0.5/t) beats disposal
        recycled_oxide = 0.25 * swarf           # plus the mined oxide it saves
        oxide_in = 1.2 * metal
        shipped = oxide_in - recycled_oxide     # PrNd oxide from the north
        ore = shipped / 0.2
        lace = 0.8 * ore
        plan[y] = dict(magnet=magnet, metal=metal, swarf=swarf, shipped=shipped, ore=ore,
                       lace_disposed=lace - LACE_DEMAND)
    return plan


def test_flows_match_the_hand_plan(res):
    plan = hand_plan()
    act = res.activity.set_index(["process", "year"])["activity"]
    for y, p in plan.items():
        assert act["ev_assembly", y] == pytest.approx(EV[y])
        assert act["magnet_making", y] == pytest.approx(p["magnet"])
        assert act["metal_making", y] == pytest.approx(p["metal"])
        assert act["recycling", y] == pytest.approx(p["swarf"])
        assert act["mine", y] == pytest.approx(p["ore"])
        assert act["separation", y] == pytest.approx(p["ore"])
    ship = res.trade.set_index("year")["quantity"]
    disp = res.disposal.set_index(["commodity", "year"])["quantity"]
    for y, p in plan.items():
        assert ship[y] == pytest.approx(p["shipped"])
        assert disp["lace_oxide", y] == pytest.approx(p["lace_disposed"])
        assert disp["swarf", y] == pytest.approx(0.0)
    assert plan[2023]["ore"] == pytest.approx(50.25)
    assert res.unmet["quantity"].abs().max() == pytest.approx(0.0)


def test_capacity_vintages(res):
    # 22 t/y of magnet capacity exists. 2022 needs 24: 2 t/y must start in 2021 (lead time 1).
    # 2023's target is 32: the other 8 start in 2022 (a 2021 start would pay one more year).
    cap = res.capacity[res.capacity["process"] == "magnet_making"].set_index("year")
    assert list(cap["new"]) == pytest.approx([2.0, 8.0, 0.0])
    assert list(cap["total"]) == pytest.approx([22.0, 24.0, 32.0])
    assert cap.loc[2022, "utilisation"] == pytest.approx(1.0)
    assert res.capacity.loc[res.capacity["process"] != "magnet_making", "new"].abs().max() == 0


def test_objective_by_hand(res):
    plan = hand_plan()
    a = 50 * crf(0.05, 10)  # annuity of 1 t/y of magnet capacity
    assert a == pytest.approx(50 * 0.05 * 1.05**10 / (1.05**10 - 1))
    cap = {2021: 22, 2022: 24, 2023: 32}
    capex = {2021: 0.0, 2022: 2 * a, 2023: 10 * a}
    total = 0.0
    for y, p in plan.items():
        variable = 1 * p["ore"] + 2 * p["ore"] + 3 * p["metal"] + 5 * p["magnet"] + 0.5 * p["swarf"]
        fixed_om = 1 * cap[y]
        trade = 0.1 * p["shipped"]
        disposal = 0.5 * p["lace_disposed"]
        total += DF[y] * (variable + fixed_om + capex[y] + trade + disposal)
    assert res.objective == pytest.approx(total, rel=1e-9)
    assert res.costs["discounted"].sum() == pytest.approx(total, rel=1e-9)


def test_prices_by_hand(res):
    price = res.prices.set_index(["commodity", "region", "year"])["price"]
    for y in YEARS:
        # La/Ce oxide is in surplus: one more tonne demanded is one tonne less disposed
        assert price["lace_oxide", "north", y] == pytest.approx(-0.5)
        # one t of ore costs 1 (mining) + 2 (separation) and leaves 0.8 t La/Ce to dispose
        # at 0.5; it gives 0.2 t PrNd oxide
        assert price["prnd_oxide", "north", y] == pytest.approx((1 + 2 + 0.8 * 0.5) / 0.2)
        assert price["prnd_oxide", "south", y] == pytest.approx((1 + 2 + 0.8 * 0.5) / 0.2 + 0.1)
        assert price["ore", "north", y] == pytest.approx(1.0)


def test_policies_by_hand(res):
    pol = res.policies.set_index(["policy", "year"])
    # one more t/y of target in 2023 is one more t/y built in 2022: its annuity and fixed O&M
    # in 2023 (undiscounted)
    assert pol.loc[("south_magnet_target", 2023), "shadow_price"] == pytest.approx(50 * crf(0.05, 10) + 1)
    assert pol.loc[("south_magnet_target", 2023), "slack"] == pytest.approx(0.0)
    plan = hand_plan()
    for y in YEARS:
        assert pol.loc[("mining_quota", y), "shadow_price"] == pytest.approx(0.0)
        assert pol.loc[("mining_quota", y), "slack"] == pytest.approx(55 - plan[y]["ore"])
