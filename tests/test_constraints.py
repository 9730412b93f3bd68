"""Each constraint family of SPEC section 2 on a tiny instance where it binds.

Every test states its instance in a few lines (tests/lpkit.py), asserts the optimum worked out
by hand in the comments, and shows that the answer changes when the family is dropped
(``m.<family>.deactivate()``) or its sense is reversed, so a missing family or a sign error
fails here and names the family. Money is undiscounted (discount_rate 0) unless said otherwise;
with i = 0 the annuity of a plant is capex / lifetime per year it is online.
"""

import pytest

from lpkit import column, flipped, make_instance, normalised, solved, without
from rechain.model import build_model
from rechain.solvers import solve

Y3 = (2021, 2022, 2023)
ONE_YEAR = dict(years=(2021, 2021))


def one_good(**kw):
    """One commodity ``good`` made by one process ``make`` in region ``r``."""
    proc = kw.pop("make", {})
    args = dict(commodities=["good"], processes={"make": proc}, io=[("make", "good", "out", 1)])
    args.update(kw)
    return make_instance(**args)


# ---- capacity ---------------------------------------------------------------------------


def test_capacity_residual_plus_new_vintages():
    # 4 existing; 10 demanded each year: 6 built in 2021 (annuity 30/30 = 1 per year) -> 18
    inst = one_good(make=dict(capex=30, lifetime=30), capacity=[("make", "r", 2021, 4)], build_limits=[("make", "r")],
                    demand=[("good", "r", y, 10) for y in Y3])
    r = solved(inst)
    assert r.objective == pytest.approx(6 * 1.0 * 3, rel=1e-9)
    cap = r.capacity.set_index("year")
    assert list(cap["residual"]) == [4, 4, 4]
    assert list(cap["new"]) == pytest.approx([6, 0, 0])
    assert list(cap["total"]) == pytest.approx([10, 10, 10])
    assert r.unmet["quantity"].abs().max() == 0
    # without the family capacity is free: nothing is built
    assert without(inst, "capacity").objective == pytest.approx(0.0, abs=1e-9)
    # the row is cap - residual - sum(new of the vintages online) = 0
    m = build_model(inst)
    coefs, rhs = normalised(m.capacity["make", "r", 2023], "cap[make,r,2023]")
    assert coefs == {"cap[make,r,2023]": 1.0, "new[make,r,2021]": -1.0, "new[make,r,2022]": -1.0, "new[make,r,2023]": -1.0}
    assert rhs == 4


def test_lead_time_delays_new_capacity():
    # lead time 1: nothing built can serve 2021 (10 unmet at 1000); 10 started in 2021 serve
    # 2022 and 2023 at annuity 1 each year -> 10000 + 20; a 2023 start never comes online
    inst = one_good(make=dict(capex=30, lifetime=30, lead_time=1), build_limits=[("make", "r")],
                    demand=[("good", "r", y, 10) for y in Y3])
    r = solved(inst)
    assert r.objective == pytest.approx(10 * 1000 + 10 * 1 * 2, rel=1e-9)
    cap = r.capacity.set_index("year")
    assert list(cap["new"]) == pytest.approx([10, 0, 0])
    assert list(cap.reindex(Y3)["total"].fillna(0)) == pytest.approx([0, 10, 10])
    assert column(r.unmet, "quantity", year=2021) == pytest.approx(10)
    m = build_model(inst)
    assert ("make", "r", 2023) not in m.new  # would come online after the horizon
    assert [k for k in m.capacity if k[2] == 2021] == []


def test_lead_time_and_one_year_lifetime():
    # lead time 1, lifetime 1: a 2021 start is online in 2022 only; demand 5 in 2022
    inst = one_good(make=dict(capex=7, lifetime=1, lead_time=1), build_limits=[("make", "r")],
                    demand=[("good", "r", 2022, 5)])
    r = solved(inst)
    assert r.objective == pytest.approx(5 * 7, rel=1e-9)
    cap = r.capacity.set_index("year")
    assert cap.loc[2021, "new"] == pytest.approx(5)
    assert cap.loc[2022, "total"] == pytest.approx(5)
    assert 2023 not in cap.index or cap.loc[2023, "total"] == 0


def test_lifetime_expiry():
    # lifetime 2 (annuity 20/2 = 10): the 2021 vintage leaves after 2022, so 2023 needs a new
    # one; the cheapest is a 2023 start (a 2022 start would pay 2022 twice) -> 5*10*2 + 5*10
    inst = one_good(make=dict(capex=20, lifetime=2), build_limits=[("make", "r")],
                    demand=[("good", "r", y, 5) for y in Y3])
    r = solved(inst)
    assert r.objective == pytest.approx(150, rel=1e-9)
    cap = r.capacity.set_index("year")
    assert list(cap["new"]) == pytest.approx([5, 0, 5])
    assert list(cap["total"]) == pytest.approx([5, 5, 5])


def test_existing_capacity_carries_forward():
    # make: listed 2019 (3) and 2022 (7) -> 3, 7, 7; make2: listed 2022 (2) and 2023 (0)
    # -> 0 (nothing listed before), 2, 0. Demand 10 a year: unmet 7, 1, 3 at 1000
    inst = make_instance(
        commodities=["good"], processes=["make", "make2"],
        io=[("make", "good", "out", 1), ("make2", "good", "out", 1)],
        capacity=[("make", "r", 2019, 3), ("make", "r", 2022, 7), ("make2", "r", 2022, 2), ("make2", "r", 2023, 0)],
        demand=[("good", "r", y, 10) for y in Y3])
    r = solved(inst)
    assert r.objective == pytest.approx((7 + 1 + 3) * 1000, rel=1e-9)
    res = r.capacity.set_index(["process", "year"])["residual"]
    assert [res.get(("make", y), 0) for y in Y3] == [3, 7, 7]
    assert [res.get(("make2", y), 0) for y in Y3] == [0, 2, 0]
    assert list(r.unmet.set_index("year")["quantity"]) == pytest.approx([7, 1, 3])


# ---- use ----------------------------------------------------------------------------------


def test_use_availability():
    # 10 existing at availability 0.8: 8 made, 2 unmet at 1000
    inst = one_good(make=dict(availability=0.8), capacity=[("make", "r", 2021, 10)],
                    demand=[("good", "r", 2021, 10)], **ONE_YEAR)
    r = solved(inst)
    assert r.objective == pytest.approx(2000, rel=1e-9)
    assert column(r.capacity, "utilisation", year=2021) == pytest.approx(0.8)
    assert without(inst, "use").objective == pytest.approx(0.0, abs=1e-9)
    assert flipped(inst, "use").objective == pytest.approx(0.0, abs=1e-9)


# ---- build limits -----------------------------------------------------------------------


def test_build_new_limit():
    # at most 4 new: 6 unmet -> 6000 + 4 (annuity 1)
    inst = one_good(make=dict(capex=30), build_limits=[("make", "r", None, 4)],
                    demand=[("good", "r", 2021, 10)], **ONE_YEAR)
    r = solved(inst)
    assert r.objective == pytest.approx(6004, rel=1e-9)
    assert without(inst, "build_new_limit").objective == pytest.approx(10, rel=1e-9)
    assert flipped(inst, "build_new_limit").objective == pytest.approx(10, rel=1e-9)


def test_build_total_limit():
    # 3 existing, total at most 5: 2 new, 5 unmet -> 5000 + 2
    inst = one_good(make=dict(capex=30), capacity=[("make", "r", 2021, 3)], build_limits=[("make", "r", None, None, 5)],
                    demand=[("good", "r", 2021, 10)], **ONE_YEAR)
    r = solved(inst)
    assert r.objective == pytest.approx(5002, rel=1e-9)
    assert column(r.capacity, "total", year=2021) == pytest.approx(5)
    assert without(inst, "build_total_limit").objective == pytest.approx(7, rel=1e-9)
    assert flipped(inst, "build_total_limit").objective == pytest.approx(7, rel=1e-9)


def test_star_region_and_blank_year_limits():
    # one row for every region and year: at most 4 new a year; demand 10 in a and in b,
    # 2021-2022. Each region builds 4 + 4: unmet 6 + 2; capex 4*2 + 4*1 per region
    two = dict(regions=["a", "b"], years=(2021, 2022), make=dict(capex=30),
               demand=[("good", g, y, 10) for g in "ab" for y in (2021, 2022)])
    inst = one_good(build_limits=[("make", "*", None, 4)], **two)
    r = solved(inst)
    assert r.objective == pytest.approx(1000 * 2 * (6 + 2) + 2 * (4 * 2 + 4), rel=1e-9)
    new = r.capacity.set_index(["region", "year"])["new"]
    assert all(new[g, y] == pytest.approx(4) for g in "ab" for y in (2021, 2022))
    assert without(inst, "build_new_limit").objective == pytest.approx(2 * 10 * 2, rel=1e-9)


def test_several_limit_rows_on_one_key_all_hold():
    # as above, plus: new in a in 2022 at most 1 (with the * row: min(4, 1)); total in every
    # region in 2022 at most 6 (its blank max_new leaves the * row's 4 in force)
    # a: 4 + 1 -> unmet 6, 5; capex 4*2 + 1.   b: 4 + 2 -> unmet 6, 4; capex 4*2 + 2
    inst = one_good(regions=["a", "b"], years=(2021, 2022), make=dict(capex=30),
                    demand=[("good", g, y, 10) for g in "ab" for y in (2021, 2022)],
                    build_limits=[("make", "*", None, 4), ("make", "a", 2022, 1), ("make", "*", 2022, None, 6)])
    r = solved(inst)
    assert r.objective == pytest.approx(1000 * (6 + 5 + 6 + 4) + (9 + 10), rel=1e-9)
    cap = r.capacity.set_index(["region", "year"])
    assert cap.loc[("a", 2022), "new"] == pytest.approx(1)
    assert cap.loc[("b", 2022), "new"] == pytest.approx(2)
    assert cap.loc[("b", 2022), "total"] == pytest.approx(6)
    assert cap.loc[("a", 2021), "new"] == pytest.approx(4)


def test_new_is_zero_where_no_row_allows_it():
    # building allowed only in a, only in 2021; b's demand goes unmet; a's 2022 demand of 10
    # needs 10 started in 2021 (annuity 1, two years). A max_new of 0 allows nothing either.
    inst = one_good(regions=["a", "b", "c"], years=(2021, 2022), make=dict(capex=30),
                    build_limits=[("make", "a", 2021), ("make", "c", None, 0)],
                    demand=[("good", "a", 2021, 5), ("good", "a", 2022, 10), ("good", "b", 2021, 3), ("good", "c", 2022, 2)])
    r = solved(inst)
    assert r.objective == pytest.approx(10 * 2 + 1000 * (3 + 2), rel=1e-9)
    m = build_model(inst)
    assert set(m.new) == {("make", "a", 2021)}
    cap = r.capacity.set_index(["region", "year"])
    assert cap.loc[("a", 2021), "new"] == pytest.approx(10)
    assert ("b", 2021) not in cap.index and ("c", 2022) not in cap.index


# ---- balance ------------------------------------------------------------------------------


def balance_instance():
    """Every term of the balance in one plan. Region a: a mine (4 existing, 1 a tonne of ore),
    outside ore (at most 6, at 3), a smelter (2 ore -> 1 metal + 0.5 slag, slag disposed of
    at 2); metal shipped a -> b at 0.5; 6 metal demanded in b at an unmet penalty of 100."""
    return make_instance(
        regions=["a", "b"],
        commodities={"ore": {}, "metal": {"unmet_penalty": 100}, "slag": {"kind": "waste", "disposal_cost": 2}},
        processes={"mine": dict(variable_cost=1), "smelt": {}},
        io=[("mine", "ore", "out", 1), ("smelt", "metal", "out", 1), ("smelt", "ore", "in", 2), ("smelt", "slag", "out", 0.5)],
        capacity=[("mine", "a", 2021, 4), ("smelt", "a", 2021, 10)],
        supply=[("ore", "a", None, 6, 3)],
        trade=[("metal", "a", "b", 0.5)],
        demand=[("metal", "b", 2021, 6)], **ONE_YEAR)


def test_balance_every_term():
    # 4 + 6 = 10 ore -> 5 metal (7.5 a tonne delivered < 100), 2.5 slag; 1 metal unmet
    inst = balance_instance()
    r = solved(inst)
    assert r.objective == pytest.approx(4 * 1 + 6 * 3 + 2.5 * 2 + 5 * 0.5 + 1 * 100, rel=1e-9)
    assert column(r.trade, "quantity") == pytest.approx(5)
    assert column(r.disposal, "quantity", commodity="slag") == pytest.approx(2.5)
    assert column(r.unmet, "quantity", commodity="metal") == pytest.approx(1)
    assert column(r.supply, "quantity", commodity="ore") == pytest.approx(6)
    assert without(inst, "balance").objective == pytest.approx(0.0, abs=1e-9)


def test_balance_row_coefficients():
    # out +, in -, supply +, ship in +, ship out -, unmet +, dispose -, = demand
    m = build_model(balance_instance())
    coefs, rhs = normalised(m.balance["ore", "a", 2021], "act[mine,a,2021]")
    assert coefs == {"act[mine,a,2021]": 1, "act[smelt,a,2021]": -2, "supply[ore,a,2021]": 1} and rhs == 0
    coefs, rhs = normalised(m.balance["metal", "a", 2021], "act[smelt,a,2021]")
    assert coefs == {"act[smelt,a,2021]": 1, "ship[metal,a,b,2021]": -1} and rhs == 0
    coefs, rhs = normalised(m.balance["slag", "a", 2021], "act[smelt,a,2021]", 0.5)
    assert coefs == {"act[smelt,a,2021]": 0.5, "dispose[slag,a,2021]": -1} and rhs == 0
    coefs, rhs = normalised(m.balance["metal", "b", 2021], "ship[metal,a,b,2021]")
    assert coefs == {"ship[metal,a,b,2021]": 1, "unmet[metal,b,2021,0]": 1} and rhs == 6


# ---- unmet demand: at most the demand -------------------------------------------------------


def test_unmet_at_most_the_demand():
    # x is demanded (1) at a low penalty (1); y (10, penalty 1000) is made from x. Unmet x may
    # only cover x's own demand, so no y can be made: 1 + 10000. Without the bound, 11 "unmet"
    # x would feed the process: 11.
    inst = make_instance(
        commodities={"x": {"unmet_penalty": 1}, "y": {}, "z": {}}, processes=["conv"],
        io=[("conv", "y", "out", 1), ("conv", "x", "in", 1)], capacity=[("conv", "r", 2021, 100)],
        demand=[("x", "r", 2021, 1), ("y", "r", 2021, 10), ("z", "r", 2021, 0)], **ONE_YEAR)
    r = solved(inst)
    assert r.objective == pytest.approx(1 + 10 * 1000, rel=1e-9)
    m = build_model(inst)
    assert set(m.unmet) == {("x", "r", 2021, 0), ("y", "r", 2021, 0)}  # none where demand is 0; step 0: no curve
    assert m.unmet["x", "r", 2021, 0].ub == 1
    for v in m.unmet.values():
        v.setub(None)
    assert solved(m).objective == pytest.approx(11, rel=1e-9)


# ---- outside supply and lanes --------------------------------------------------------------


def test_supply_limit():
    # at most 5 bought at 2; 8 demanded -> 10 + 3 unmet
    inst = make_instance(commodities=["ore"], supply=[("ore", "r", 2021, 5, 2)], demand=[("ore", "r", 2021, 8)], **ONE_YEAR)
    r = solved(inst)
    assert r.objective == pytest.approx(5 * 2 + 3 * 1000, rel=1e-9)
    assert without(inst, "supply_limit").objective == pytest.approx(16, rel=1e-9)
    assert flipped(inst, "supply_limit").objective == pytest.approx(16, rel=1e-9)


@pytest.mark.parametrize("order", [1, -1])
def test_supply_blank_max_is_unbounded_and_year_rows_override(order):
    # the blank-year row (price 2, unbounded) holds in 2021 and 2023; 2022 has its own row,
    # in whichever order the file lists them (listed first, it used to be overridden: 48)
    rows = [("ore", "r", None, None, 2), ("ore", "r", 2022, 3, 4)][::order]
    inst = make_instance(commodities=["ore"], supply=rows, demand=[("ore", "r", y, 8) for y in Y3])
    r = solved(inst)
    assert r.objective == pytest.approx(8 * 2 + (3 * 4 + 5 * 1000) + 8 * 2, rel=1e-9)
    assert len(build_model(inst).supply_limit) == 1


def test_trade_limit():
    # made in a (1 a tonne), 10 wanted in b, the lane carries at most 6 at 1: 6*1 + 6*1 + 4000
    inst = one_good(regions=["a", "b"], make=dict(variable_cost=1), capacity=[("make", "a", 2021, 100)],
                    trade=[("good", "a", "b", 1, 6)], demand=[("good", "b", 2021, 10)], **ONE_YEAR)
    r = solved(inst)
    assert r.objective == pytest.approx(6 + 6 + 4000, rel=1e-9)
    assert without(inst, "trade_limit").objective == pytest.approx(20, rel=1e-9)
    assert flipped(inst, "trade_limit").objective == pytest.approx(20, rel=1e-9)


# ---- co-production ---------------------------------------------------------------------------


def coproduction(disposal_cost=None):
    """Separation: 1 ore (bought at 1) -> 0.2 prnd + 0.8 lace; 2 prnd and 4 lace demanded."""
    lace = {} if disposal_cost is None else {"disposal_cost": disposal_cost}
    return make_instance(
        commodities={"ore": {}, "prnd": {}, "lace": lace}, processes=["separation"],
        io=[("separation", "ore", "in", 1), ("separation", "prnd", "out", 0.2), ("separation", "lace", "out", 0.8)],
        capacity=[("separation", "r", 2021, 100)], supply=[("ore", "r", None, None, 1)],
        demand=[("prnd", "r", 2021, 2), ("lace", "r", 2021, 4)], **ONE_YEAR)


def test_coproduct_without_disposal_limits_production():
    # lace cannot be disposed of: 0.8 x <= 4, so x = 5 -> 1 prnd, 1 prnd unmet: 5 + 1000
    r = solved(coproduction())
    assert column(r.activity, "activity") == pytest.approx(5)
    assert r.objective == pytest.approx(5 + 1000, rel=1e-9)
    assert r.disposal.empty


def test_coproduct_with_disposal_surplus_at_its_cost():
    # x = 10 -> 2 prnd, 8 lace of which 4 disposed of at 0.5: 10 + 2
    r = solved(coproduction(disposal_cost=0.5))
    assert column(r.activity, "activity") == pytest.approx(10)
    assert column(r.disposal, "quantity", commodity="lace") == pytest.approx(4)
    assert r.objective == pytest.approx(10 + 4 * 0.5, rel=1e-9)
    assert r.unmet["quantity"].abs().max() == 0


# ---- policies ---------------------------------------------------------------------------------


def market(policies, make_cost=1.0, supply_price=5.0, **kw):
    """8 of good a year: made (10 existing, ``make_cost`` a unit) or bought at ``supply_price``."""
    args = dict(make=dict(variable_cost=make_cost), capacity=[("make", "r", 2021, 10)],
                supply=[("good", "r", None, None, supply_price)], demand=[("good", "r", 2021, 8)],
                policies=policies, **ONE_YEAR)
    args.update(kw)
    return one_good(**args)


def pol(kind, value, penalty=None, **kw):
    return dict(policy="p", kind=kind, value=value, penalty=penalty, **kw)


def test_policy_family_binds_and_can_be_dropped_or_flipped():
    inst = market([pol("max_activity", 5, processes="make", regions="*")])
    r = solved(inst)
    assert r.objective == pytest.approx(5 * 1 + 3 * 5, rel=1e-9)  # 5 made, 3 bought
    assert without(inst, "policy").objective == pytest.approx(8, rel=1e-9)
    # reversed (act >= 5) the policy no longer binds: all 8 made
    assert flipped(inst, "policy").objective == pytest.approx(8, rel=1e-9)


@pytest.mark.parametrize("penalty, objective, violation", [
    (None, 5 * 1 + 3 * 5, 0),   # hard: binding
    (10, 5 * 1 + 3 * 5, 0),     # soft, dearer than buying: holds
    (2, 8 * 1 + 3 * 2, 3),      # soft, cheaper than buying (4 a unit more): 3 violated
])
def test_max_activity_hard_and_soft(penalty, objective, violation):
    r = solved(market([pol("max_activity", 5, penalty, processes="make", regions="r")]))
    assert r.objective == pytest.approx(objective, rel=1e-9)
    assert column(r.policies, "violation") == pytest.approx(violation, abs=1e-9)
    assert column(r.policies, "slack") == pytest.approx(0, abs=1e-9)
    costs = r.costs.set_index("component")["discounted"]
    assert costs["violation"] == pytest.approx(violation * (penalty or 0), abs=1e-9)
    assert r.costs["discounted"].sum() == pytest.approx(r.objective, rel=1e-9)


def test_slack_of_a_policy_that_does_not_bind():
    r = solved(market([pol("max_activity", 10, processes="make")]))
    assert r.objective == pytest.approx(8, rel=1e-9)
    assert column(r.policies, "slack") == pytest.approx(2)
    assert column(r.policies, "violation") == 0
    assert column(r.policies, "shadow_price") == 0


@pytest.mark.parametrize("penalty, objective, violation", [
    (None, 6 * 5 + 2 * 1, 0),   # making costs 5, buying 1: at least 6 made
    (5, 6 * 5 + 2 * 1, 0),      # violating costs 5 + 1 > 5
    (1, 8 * 1 + 6 * 1, 6),      # violating costs 1 + 1 < 5: nothing made
])
def test_min_activity_hard_and_soft(penalty, objective, violation):
    r = solved(market([pol("min_activity", 6, penalty, processes="make")], make_cost=5, supply_price=1))
    assert r.objective == pytest.approx(objective, rel=1e-9)
    assert column(r.policies, "violation") == pytest.approx(violation, abs=1e-9)
    assert column(r.policies, "slack") == pytest.approx(0, abs=1e-9)
    assert column(r.activity, "activity") == pytest.approx(0 if violation else 6)


def test_hard_policy_that_cannot_hold_is_infeasible_and_soft_is_violated():
    # at least 9 made, but only 8 can go anywhere (no disposal)
    assert solve(market([pol("min_activity", 9, processes="make")])).status == "infeasible"
    r = solved(market([pol("min_activity", 9, 3, processes="make")]))
    assert r.objective == pytest.approx(8 * 1 + 1 * 3, rel=1e-9)
    assert column(r.policies, "violation") == pytest.approx(1)
    assert column(r.policies, "slack") == pytest.approx(0, abs=1e-9)


def build_market(policies, **kw):
    """8 of good: a plant (capex 30 over 30 years: 1 a year, nothing existing) or bought at 5."""
    args = dict(make=dict(capex=30), build_limits=[("make", "r")], capacity=(), policies=policies)
    args.update(kw)
    return market(**args)


def test_max_capacity():
    assert solved(build_market([])).objective == pytest.approx(8, rel=1e-9)
    r = solved(build_market([pol("max_capacity", 5, processes="make", regions="r")]))
    assert r.objective == pytest.approx(5 + 3 * 5, rel=1e-9)
    assert column(r.capacity, "total") == pytest.approx(5)


def test_min_capacity():
    # buying at 0.5 beats building; at least 12 must stand: 12 built, 8 made at no variable cost
    base = build_market([], supply_price=0.5)
    assert solved(base).objective == pytest.approx(4, rel=1e-9)
    r = solved(build_market([pol("min_capacity", 12, processes="make")], supply_price=0.5))
    assert r.objective == pytest.approx(12, rel=1e-9)
    assert column(r.capacity, "total") == pytest.approx(12)
    soft = solved(build_market([pol("min_capacity", 12, 0.25, processes="make")], supply_price=0.5))
    assert soft.objective == pytest.approx(4 + 12 * 0.25, rel=1e-9)  # 0.25 a unit beats building
    assert column(soft.policies, "violation") == pytest.approx(12)


def test_max_new_capacity():
    # 2 existing, at most 3 new: 3 built, 3 bought -> 3 + 15
    r = solved(build_market([pol("max_new_capacity", 3, processes="make")], capacity=[("make", "r", 2021, 2)]))
    assert r.objective == pytest.approx(3 + 3 * 5, rel=1e-9)
    assert column(r.capacity, "new") == pytest.approx(3)


def two_region_market(policies):
    """good in a and b: 5 demanded in each, bought at 1 or made locally at 4 (10 existing)."""
    return one_good(regions=["a", "b"], make=dict(variable_cost=4), policies=policies,
                    capacity=[("make", g, 2021, 10) for g in "ab"], supply=[("good", g, None, None, 1) for g in "ab"],
                    demand=[("good", g, 2021, 5) for g in "ab"], **ONE_YEAR)


@pytest.mark.parametrize("regions, value, objective", [
    (None, None, 10),                 # no policy: everything bought
    ("a", 2, 2 + 3 * 4 + 5),          # a may buy 2
    ("a;b", 6, 6 + 4 * 4),            # a and b together may buy 6
    ("*", 6, 6 + 4 * 4),
])
def test_max_supply(regions, value, objective):
    policies = [] if regions is None else [pol("max_supply", value, commodities="good", regions=regions)]
    r = solved(two_region_market(policies))
    assert r.objective == pytest.approx(objective, rel=1e-9)


def trade_market(policies):
    """good made in a at 1 (100 existing), 5 wanted in b and in c; shipped a -> b and a -> c
    at 1; b and c can make it locally at 10 (10 existing each)."""
    return make_instance(
        regions=["a", "b", "c"], commodities=["good"],
        processes={"make": dict(variable_cost=1), "local": dict(variable_cost=10)},
        io=[("make", "good", "out", 1), ("local", "good", "out", 1)], policies=policies,
        capacity=[("make", "a", 2021, 100)] + [("local", g, 2021, 10) for g in "bc"],
        trade=[("good", "a", "b", 1), ("good", "a", "c", 1)],
        demand=[("good", g, 2021, 5) for g in "bc"], **ONE_YEAR)


@pytest.mark.parametrize("regions, destinations, value, objective", [
    (None, None, None, 10 * 2),
    ("a", "b", 2, 7 * 2 + 3 * 10),
    ("a", "b;c", 6, 6 * 2 + 4 * 10),
    ("*", "*", 6, 6 * 2 + 4 * 10),
    ("b", "*", 0, 10 * 2),              # nothing is shipped from b: no effect
])
def test_max_trade(regions, destinations, value, objective):
    policies = [] if regions is None else [pol("max_trade", value, commodities="good", regions=regions, destinations=destinations)]
    r = solved(trade_market(policies))
    assert r.objective == pytest.approx(objective, rel=1e-9)


def test_policy_rows_by_year_and_blank_year():
    # one policy stated for three years (6, 4, 6 made at most) and one for every year (blank
    # year: at most 7 bought a year, not binding)
    rows = [pol("max_activity", v, year=y, processes="make") for y, v in ((2021, 6), (2022, 4), (2023, 6))]
    rows.append(dict(policy="q", kind="max_supply", value=7, commodities="good"))
    inst = market(rows, years=(2021, 2023), demand=[("good", "r", y, 8) for y in Y3])
    r = solved(inst)
    made = {2021: 6, 2022: 4, 2023: 6}
    assert r.objective == pytest.approx(sum(m * 1 + (8 - m) * 5 for m in made.values()), rel=1e-9)
    pols = r.policies.set_index(["policy", "year"])
    assert sorted(pols.index) == [("p", y) for y in Y3] + [("q", y) for y in Y3]
    assert [pols.loc[("q", y), "slack"] for y in Y3] == pytest.approx([7 - (8 - made[y]) for y in Y3])


# ---- share policies ----------------------------------------------------------------------------


def shares(policies, **kw):
    """10 of good a year, made by ``primary`` (1 a unit) or ``recycled`` (2 a unit), 100 of each
    existing; no outside supply."""
    args = dict(commodities=["good"], processes={"primary": dict(variable_cost=1), "recycled": dict(variable_cost=2)},
                io=[("primary", "good", "out", 1), ("recycled", "good", "out", 1)],
                capacity=[("primary", "r", 2021, 100), ("recycled", "r", 2021, 100)],
                demand=[("good", "r", 2021, 10)], policies=policies, **ONE_YEAR)
    args.update(kw)
    return make_instance(**args)


def share(kind, value, penalty=None, processes="recycled", share_of="primary;recycled"):
    return dict(policy="s", kind=kind, value=value, penalty=penalty, processes=processes, share_of=share_of)


def test_min_share():
    # at least 30 % recycled: 3 recycled, 7 primary -> 7 + 6; the cost is 10 + 10 v, so a unit
    # more of share costs 10 (the shadow price, per unit of share)
    inst = shares([share("min_share", 0.3)])
    r = solved(inst)
    assert r.objective == pytest.approx(13, rel=1e-9)
    assert column(r.activity, "activity", process="recycled") == pytest.approx(3)
    assert column(r.policies, "shadow_price") == pytest.approx(10, rel=1e-7)
    assert column(r.policies, "slack") == pytest.approx(0, abs=1e-9)
    assert without(inst, "policy").objective == pytest.approx(10, rel=1e-9)
    assert flipped(inst, "policy").objective == pytest.approx(10, rel=1e-9)
    # the row: recycled - 0.3 (primary + recycled) >= 0 (the value sits in the coefficients)
    m = build_model(inst)
    coefs, rhs = normalised(m.policy["s", 2021], "act[recycled,r,2021]")
    assert coefs == pytest.approx({"act[recycled,r,2021]": 1.0, "act[primary,r,2021]": -0.3 / 0.7}) and rhs == 0


def test_max_share():
    # at most half primary: 5 and 5 -> 5 + 10; the cost is 20 - 10 v: shadow price -10
    inst = shares([share("max_share", 0.5, processes="primary")])
    r = solved(inst)
    assert r.objective == pytest.approx(15, rel=1e-9)
    assert column(r.policies, "shadow_price") == pytest.approx(-10, rel=1e-7)
    assert without(inst, "policy").objective == pytest.approx(10, rel=1e-9)
    assert flipped(inst, "policy").objective == pytest.approx(10, rel=1e-9)


def test_soft_share_and_its_violation():
    # violating costs 0.5 a unit, recycling 1 more than primary: 3 units violated -> 10 + 1.5
    r = solved(shares([share("min_share", 0.3, penalty=0.5)]))
    assert r.objective == pytest.approx(11.5, rel=1e-9)
    assert column(r.policies, "violation") == pytest.approx(3)
    assert column(r.policies, "slack") == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize("kind, value, processes", [("min_share", 0.3, "recycled"), ("max_share", 0.5, "primary"),
                                                    ("min_share", 0.6, "recycled")])
def test_share_shadow_price_is_the_finite_difference(kind, value, processes):
    h = 1e-4

    def obj(v):
        return solved(shares([share(kind, v, processes=processes)], discount_rate=0.05)).objective

    r = solved(shares([share(kind, value, processes=processes)], discount_rate=0.05))
    df = 1.05 ** -(2021 - 2020)
    fd = (obj(value + h) - obj(value - h)) / (2 * h) / df
    assert column(r.policies, "shadow_price") == pytest.approx(fd, rel=1e-6)


def test_share_value_changed_in_place_equals_a_fresh_solve():
    from rechain.model import update_parameters
    from rechain.solvers.direct import DirectModel

    inst = shares([share("min_share", 0.3)])
    more = inst.with_changes({"table": "policies", "column": "value", "set": 0.5})
    fresh = solved(more).objective
    assert fresh == pytest.approx(15, rel=1e-9)
    d = DirectModel(inst)
    d.solve()
    assert d.update(more).solve().objective == pytest.approx(fresh, rel=1e-12) and d.last_update == "mapped"
    m = build_model(inst)
    solved(m)
    update_parameters(m, more)
    assert solved(m).objective == pytest.approx(fresh, rel=1e-12)


def test_every_row_family_has_a_test_that_drops_it_and_flips_it():
    """A register: each row family is dropped (``without``) in a test, and each inequality
    family also flipped (``flipped``), so a missing family or a sign error fails."""
    import re
    from pathlib import Path

    from rechain.model.families import ROWS

    text = "\n".join(p.read_text(encoding="utf-8") for p in Path(__file__).parent.glob("test_*.py"))
    dropped = set(re.findall(r'without\(\w+, "(\w+)"\)', text))
    flipped_ = set(re.findall(r'flipped\(\w+, "(\w+)"\)', text))
    for f in ROWS:
        assert f.name in dropped, f"no test drops the family '{f.name}'"
        if f.sense != "==":
            assert f.name in flipped_, f"no test flips the family '{f.name}'"
