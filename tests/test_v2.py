"""The format v2 families (SPEC section 4), each on a tiny instance worked out by hand: stocks,
demand curves, costs by region and vintage, delayed outputs, processes without plant,
min_trade and the stock policies. Each test shows the answer moves when the family is dropped,
flipped or left out; prices are checked against finite differences. Money undiscounted
(discount rate 0) unless said otherwise."""

import math

import pytest

from lpkit import column, flipped, make_instance, normalised, solved, without
from rechain.model import InstanceError, build_model, prepare
from rechain.solvers import solve

Y2 = (2021, 2022)


def fd_price(make, commodity, region, year, h=1e-3, **kw):
    """(objective with h more demand - objective with h less) / 2h, undiscounted (rate 0)."""
    def obj(q):
        return solved(make(**{**kw, "extra": q})).objective

    return (obj(h) - obj(-h)) / (2 * h)


# ---- stocks -------------------------------------------------------------------------------


def store(storage=(("good", "r", 0, None, 0.5, None),), policies=(), extra=0.0, **kw):
    """good: bought at 1 in 2021 and at 5 in 2022 (unbounded), 10 demanded each year (plus
    ``extra`` in 2022); a store holds it at 0.5 a unit a year."""
    args = dict(commodities=["good"], years=Y2, supply=[("good", "r", 2021, None, 1), ("good", "r", 2022, None, 5)],
                demand=[("good", "r", 2021, 10), ("good", "r", 2022, 10 + extra)], storage=list(storage), policies=list(policies))
    args.update(kw)
    return make_instance(**args)


def test_stock_carries_cheap_supply_into_a_dear_year():
    # 20 bought in 2021, 10 held: 20 + 5; without a store 10 + 50
    r = solved(store())
    assert r.objective == pytest.approx(25, rel=1e-9)
    assert column(r.stock, "level", year=2021) == pytest.approx(10)
    assert column(r.stock, "level", year=2022) == pytest.approx(0)
    assert column(r.stock, "holding_cost", year=2021) == 0.5 and set(r.stock["unit"]) == {"t"}
    assert solved(store(storage=())).objective == pytest.approx(60, rel=1e-9)
    # the prices link across the years: the gap is the holding cost
    p = r.prices.set_index("year")["price"]
    assert p[2021] == pytest.approx(1) and p[2022] == pytest.approx(1.5)
    assert p[2022] == pytest.approx(fd_price(store, "good", "r", 2022), rel=1e-6)
    costs = r.costs.set_index(["year", "component"])["undiscounted"]
    assert costs[(2021, "holding")] == pytest.approx(5)


def test_balance_takes_last_years_stock_in_and_this_years_out():
    m = build_model(store(storage=(("good", "r", 4, None, 0.5, None),)))
    coefs, rhs = normalised(m.balance["good", "r", 2022], "supply[good,r,2022]")
    assert coefs == {"supply[good,r,2022]": 1, "unmet[good,r,2022,0]": 1, "stock[good,r,2021]": 1, "stock[good,r,2022]": -1}
    assert rhs == 10
    coefs, rhs = normalised(m.balance["good", "r", 2021], "supply[good,r,2021]")
    assert coefs == {"supply[good,r,2021]": 1, "unmet[good,r,2021,0]": 1, "stock[good,r,2021]": -1}
    assert rhs == 10 - 4  # the initial stock


def test_initial_stock_and_blank_final_hand_on_what_was_handed():
    # initial 4, final blank = 4: 20 bought in 2021 (10 + 10 - 4 + 4), held 14 then 4
    r = solved(store(storage=(("good", "r", 4, None, 0.5, None),)))
    assert r.objective == pytest.approx(20 + 0.5 * (14 + 4), rel=1e-9)
    assert column(r.stock, "level", year=2022) == pytest.approx(4)


def test_stock_final_binds_and_can_be_dropped_or_flipped():
    # at least 5 at the end: 25 bought in 2021, 15 then 5 held -> 25 + 10; a unit more of
    # final stock costs 1 + 2 x 0.5 = 2 (the dual of stock_final)
    inst = store(storage=(("good", "r", 0, None, 0.5, 5),))
    r = solved(inst)
    assert r.objective == pytest.approx(35, rel=1e-9)
    assert without(inst, "stock_final").objective == pytest.approx(25, rel=1e-9)
    assert flipped(inst, "stock_final").objective == pytest.approx(25, rel=1e-9)
    more = solved(store(storage=(("good", "r", 0, None, 0.5, 5.001),))).objective
    assert (more - r.objective) / 0.001 == pytest.approx(2, rel=1e-6)


def test_max_level_bounds_the_stock():
    # at most 8 held: 18 bought in 2021, 2 in 2022 -> 18 + 4 + 10
    r = solved(store(storage=(("good", "r", 0, 8, 0.5, None),)))
    assert r.objective == pytest.approx(32, rel=1e-9)
    assert column(r.stock, "level", year=2021) == pytest.approx(8)


def test_min_and_max_stock_policies():
    # at least 3 held at the end of 2022: 23 bought in 2021 -> 23 + 0.5 (13 + 3)
    lo = store(policies=[dict(policy="reserve", kind="min_stock", year=2022, value=3, commodities="good", regions="r")])
    r = solved(lo)
    assert r.objective == pytest.approx(31, rel=1e-9)
    # its shadow price: a unit more of reserve costs the unit (1) and its two years' holding (1)
    assert column(r.policies, "shadow_price", year=2022) == pytest.approx(2, rel=1e-7)
    # at most 6 held at the end of 2021: 16 bought in 2021, 4 in 2022 -> 16 + 3 + 20
    hi = store(policies=[dict(policy="ceiling", kind="max_stock", year=2021, value=6, commodities="good")])
    assert solved(hi).objective == pytest.approx(39, rel=1e-9)
    assert without(hi, "policy").objective == pytest.approx(25, rel=1e-9)


def test_storage_validation(tmp_path):
    with pytest.raises(InstanceError, match="above max_level"):
        store(storage=(("good", "r", 0, 4, 0.5, 6),))
    with pytest.raises(InstanceError, match="unknown commodity 'gold'"):
        store(storage=(("gold", "r", 0, None, 0.5, None),))


# ---- demand curves ----------------------------------------------------------------------------


def curve(steps=((1, 0.2, 20), (2, 0.5, 50)), cap=6, extra=0.0, **kw):
    """10 of good wanted, at most ``cap`` can be bought (at 1); a demand curve of ``steps``."""
    args = dict(commodities=["good"], years=(2021, 2021), supply=[("good", "r", None, cap, 1)],
                demand=[("good", "r", 2021, 10 + extra)],
                demand_response=[("good", "r", 2021, s, share, price) for s, share, price in steps])
    args.update(kw)
    return make_instance(**args)


def test_two_step_demand_curve_and_its_price():
    # 4 go unserved: 2 in step 1 (at 20), 2 in step 2 (at 50): 6 + 40 + 100
    r = solved(curve())
    assert r.objective == pytest.approx(146, rel=1e-9)
    dr = r.demand_response.set_index("step")
    assert list(dr["unmet"]) == pytest.approx([2, 2]) and list(dr["share"]) == [0.2, 0.5] and list(dr["price"]) == [20, 50]
    assert column(r.unmet, "quantity") == pytest.approx(4)  # summed over the steps
    # the price is the step's price that binds: one unit more goes unserved in step 2
    assert column(r.prices, "price") == pytest.approx(50, rel=1e-9)
    # against a finite difference of the supply it can buy (at 1): one unit more saves 50 - 1
    # (a change of the demand itself moves the steps too: 0.2 x 20 + 0.8 x 50 = 44 a unit)
    h = 1e-3
    saved = (solved(curve(cap=6 - h)).objective - solved(curve(cap=6 + h)).objective) / (2 * h)
    assert column(r.prices, "price") == pytest.approx(1 + saved, rel=1e-6)
    assert fd_price(curve, "good", "r", 2021) == pytest.approx(0.2 * 20 + 0.8 * 50, rel=1e-6)
    # without a curve: all-or-nothing at the unmet penalty (1000)
    assert solved(curve(steps=())).objective == pytest.approx(6 + 4 * 1000, rel=1e-9)


def test_the_rest_of_the_demand_must_be_served():
    # the steps let at most 70 % go unserved; with 2 to buy, 8 > 7 cannot be met
    assert solve(curve(cap=2)).status == "infeasible"


def test_curve_rows_for_every_region_and_year_and_the_most_specific_wins():
    inst = make_instance(commodities=["good"], regions=["a", "b"], years=Y2, supply=[("good", g, None, 6, 1) for g in "ab"],
                         demand=[("good", g, y, 10) for g in "ab" for y in Y2],
                         demand_response=[("good", "*", None, 1, 0.5, 30), ("good", "b", 2022, 1, 0.5, 80)])
    r = solved(inst)
    price = r.prices.set_index(["region", "year"])["price"]
    assert price[("a", 2021)] == pytest.approx(30) and price[("b", 2021)] == pytest.approx(30)
    assert price[("b", 2022)] == pytest.approx(80)
    assert len(prepare(inst).unmet) == 4  # one step each


def test_curve_validation():
    with pytest.raises(InstanceError, match="sum to 1.2"):
        curve(steps=((1, 0.7, 20), (2, 0.5, 50)))


# ---- costs by region and vintage -------------------------------------------------------------


def sites(process_costs=(), **kw):
    """10 of good wanted in a; a plant (capex 30 over 30 years: 1 a year) may be built in a or
    b; shipping b -> a costs 0.1."""
    args = dict(commodities=["good"], regions=["a", "b"], years=(2021, 2021), processes={"make": dict(capex=30)},
                io=[("make", "good", "out", 1)], build_limits=[("make", "*")], trade=[("good", "b", "a", 0.1)],
                demand=[("good", "a", 2021, 10)], process_costs=list(process_costs))
    args.update(kw)
    return make_instance(**args)


def test_a_regional_capex_moves_where_the_plant_is_built():
    assert column(solved(sites()).capacity, "new", region="a") == pytest.approx(10)
    r = solved(sites(process_costs=[("make", "b", None, 15)]))
    assert r.objective == pytest.approx(10 * 0.5 + 10 * 0.1, rel=1e-9)
    assert column(r.capacity, "new", region="b") == pytest.approx(10)
    inv = r.investment.set_index("region")
    assert inv.loc["b", "capex"] == 15 and inv.loc["b", "overnight"] == pytest.approx(150)


@pytest.mark.parametrize("capex_2022, built_in", [(45, 2022), (90, 2021)])
def test_the_vintage_capex_decides_when_to_build(capex_2022, built_in):
    # demand in 2022 only: a 2021 plant pays 2 annuities of 1, a 2022 one 1 of capex/30
    inst = make_instance(commodities=["good"], years=Y2, processes={"make": dict(capex=30)}, io=[("make", "good", "out", 1)],
                         build_limits=[("make", "r")], demand=[("good", "r", 2022, 10)],
                         process_costs=[("make", "*", 2022, capex_2022)])
    r = solved(inst)
    assert column(r.capacity, "new", year=built_in) == pytest.approx(10)
    assert r.objective == pytest.approx(10 * min(2.0, capex_2022 / 30), rel=1e-9)


def test_the_most_specific_row_wins_cell_by_cell():
    inst = sites(regions=["a", "b"], years=Y2, demand=[("good", "a", y, 10) for y in Y2],
                 process_costs=[("make", "*", None, 20, None, 2), ("make", "b", None, 15),
                                ("make", "b", 2022, None, None, 4), ("make", "*", 2022, 25)])
    d = prepare(inst)
    capex = dict(zip(zip(d.new["region"], d.new["year"]), d.params["capex"]))
    assert capex == {("a", 2021): 20, ("a", 2022): 25, ("b", 2021): 15, ("b", 2022): 15}  # (b) beats (*, 2022)
    var = dict(zip(zip(d.act["region"], d.act["year"]), d.params["variable_cost"]))
    assert var[("b", 2022)] == 4 and var[("b", 2021)] == 2 and var[("a", 2022)] == 2


# ---- delayed outputs ---------------------------------------------------------------------------


def scrap(delays=((0.5, 1),), years=Y2, extra=0.0):
    """10 of good a year, made at 1 (100 existing) with scrap that returns after its delays;
    recycling (0.1 a unit) turns scrap into 0.8 good; scrap can be disposed of at 0.01."""
    io = [("make", "good", "out", 1)] + [("make", "scrap", "out", c, False, dl) for c, dl in delays]
    io += [("recycle", "scrap", "in", 1), ("recycle", "good", "out", 0.8, False)]
    return make_instance(commodities={"good": {}, "scrap": {"disposal_cost": 0.01}}, years=years,
                         processes={"make": dict(variable_cost=1), "recycle": dict(variable_cost=0.1)}, io=io,
                         capacity=[("make", "r", years[0], 100), ("recycle", "r", years[0], 100)],
                         demand=[("good", "r", y, 10 + (extra if y == years[-1] else 0)) for y in range(years[0], years[1] + 1)])


def test_delayed_scrap_returns_after_its_delay_and_drops_past_the_horizon():
    # 2021: 10 made, its 5 scrap arrive in 2022 and are recycled into 4; 6 made in 2022 (its
    # scrap would arrive in 2023: beyond the horizon) -> 10 + 0.5 + 6
    r = solved(scrap())
    assert r.objective == pytest.approx(16.5, rel=1e-9)
    act = r.activity.set_index(["process", "year"])["activity"]
    assert act[("make", 2021)] == pytest.approx(10) and act[("make", 2022)] == pytest.approx(6)
    assert act[("recycle", 2021)] == pytest.approx(0) and act[("recycle", 2022)] == pytest.approx(5)
    fl = r.flows.set_index(["process", "commodity", "year"])["quantity"]
    assert fl[("make", "scrap", 2022)] == pytest.approx(5)  # from the activity of 2021
    assert ("make", "scrap", 2021) not in fl.index or fl[("make", "scrap", 2021)] == 0
    # undelayed, scrap is recycled the same year: 10 / 1.4 made a year
    assert solved(scrap(delays=((0.5, 0),))).objective == pytest.approx(2 * (10 / 1.4 + 0.1 * 5 / 1.4), rel=1e-9)
    # the row: scrap of 2022 holds 0.5 of the activity of 2021
    m = build_model(scrap())
    coefs, rhs = normalised(m.balance["scrap", "r", 2022], "act[make,r,2021]", 0.5)
    assert coefs == {"act[make,r,2021]": 0.5, "act[recycle,r,2022]": -1, "dispose[scrap,r,2022]": -1} and rhs == 0
    # the price of scrap in 2022 (what recycling makes of it) against a finite difference
    p = column(r.prices, "price", commodity="good", year=2022)
    assert p == pytest.approx(fd_price(lambda extra: scrap(extra=extra), "good", "r", 2022), rel=1e-6)


def test_a_retirement_profile_of_several_delays():
    # 3 years; scrap 0.3 after 1 year, 0.2 after 2: 2021's 10 return 3 in 2022 and 2 in 2023
    r = solved(scrap(delays=((0.3, 1), (0.2, 2)), years=(2021, 2023)))
    fl = r.flows.set_index(["process", "commodity", "year"])["quantity"]
    act = r.activity.set_index(["process", "year"])["activity"]
    assert fl[("make", "scrap", 2023)] == pytest.approx(0.3 * act[("make", 2022)] + 0.2 * act[("make", 2021)])
    assert fl[("make", "scrap", 2022)] == pytest.approx(0.3 * act[("make", 2021)])


def test_delay_validation():
    with pytest.raises(InstanceError, match="only outputs may be delayed"):
        make_instance(commodities=["good", "ore"], processes=["make"],
                      io=[("make", "good", "out", 1), ("make", "ore", "in", 1, False, 1)])
    with pytest.raises(InstanceError, match="its delay must be 0"):
        make_instance(commodities=["good"], processes=["make"], io=[("make", "good", "out", 1, True, 1)])


# ---- processes without plant ------------------------------------------------------------------


def end_use(**kw):
    """10 thousand EVs wanted; an EV takes 2 t of magnet; magnets made at 3 (100 existing);
    the end use has no plant."""
    args = dict(commodities=["ev", "magnet"], processes={"magnet_making": dict(variable_cost=3),
                                                         "use_ev": dict(capacity=False, variable_cost=0.5)},
                io=[("magnet_making", "magnet", "out", 1), ("use_ev", "ev", "out", 1), ("use_ev", "magnet", "in", 2)],
                capacity=[("magnet_making", "r", 2021, 100)], demand=[("ev", "r", 2021, 10)], years=(2021, 2021))
    args.update(kw)
    return make_instance(**args)


def test_a_process_without_plant_has_no_capacity_rows():
    inst = end_use()
    r = solved(inst)
    assert r.objective == pytest.approx(10 * 0.5 + 20 * 3, rel=1e-9)
    assert column(r.activity, "activity", process="use_ev") == pytest.approx(10)
    assert "use_ev" not in set(r.capacity["process"])
    m = build_model(inst)
    assert not [k for k in m.capacity if k[0] == "use_ev"] and not [k for k in m.use if k[0] == "use_ev"]
    assert ("use_ev", "r", 2021) in m.act and ("use_ev", "r", 2021) not in m.cap


@pytest.mark.parametrize("bad, says", [
    (dict(processes={"magnet_making": dict(variable_cost=3), "use_ev": dict(capacity=False, capex=5)}), "its capex must be 0"),
    (dict(capacity=[("magnet_making", "r", 2021, 100), ("use_ev", "r", 2021, 5)]), "no existing capacity"),
    (dict(build_limits=[("use_ev", "r")]), "no build limits"),
    (dict(policies=[dict(policy="p", kind="max_capacity", value=5, processes="use_ev")]), "has no plant"),
])
def test_a_process_without_plant_validation(bad, says):
    with pytest.raises(InstanceError, match=says):
        end_use(**bad)


# ---- min_trade ----------------------------------------------------------------------------------


def test_min_trade():
    # b makes good locally at 0.5; a contract ships at least 3 from a (made at 1, shipped at 1)
    def inst(policies):
        return make_instance(regions=["a", "b"], commodities=["good"], processes={"make": dict(variable_cost=1),
                                                                                  "local": dict(variable_cost=0.5)},
                             io=[("make", "good", "out", 1), ("local", "good", "out", 1)], policies=policies,
                             capacity=[("make", "a", 2021, 100), ("local", "b", 2021, 100)], trade=[("good", "a", "b", 1)],
                             demand=[("good", "b", 2021, 5)], years=(2021, 2021))

    contract = inst([dict(policy="contract", kind="min_trade", value=3, commodities="good", regions="a", destinations="b")])
    r = solved(contract)
    assert r.objective == pytest.approx(3 * 2 + 2 * 0.5, rel=1e-9)
    assert column(r.policies, "shadow_price") == pytest.approx(1.5, rel=1e-9)  # a unit shipped costs 2 against 0.5
    assert without(contract, "policy").objective == pytest.approx(2.5, rel=1e-9)
    assert flipped(contract, "policy").objective == pytest.approx(2.5, rel=1e-9)


def test_v1_instances_say_nothing_of_v2():
    inst = make_instance(commodities=["good"], processes=["make"], io=[("make", "good", "out", 1)],
                         capacity=[("make", "r", 2021, 10)], demand=[("good", "r", 2021, 5)], years=(2021, 2021))
    d = prepare(inst)
    assert len(d.stock) == 0 and list(d.unmet["step"]) == [0] and math.isclose(d.params["unmet_share"][0], 1.0)


# ---- prices against finite differences, one per new family -------------------------------------


def test_prices_of_the_new_families_are_finite_differences():
    h = 1e-3
    # regional capex: one more unit in a is built in b (annuity 0.5) and shipped (0.1)
    r = solved(sites(process_costs=[("make", "b", None, 15)]))
    more = solved(sites(process_costs=[("make", "b", None, 15)], demand=[("good", "a", 2021, 10 + h)])).objective
    assert column(r.prices, "price", region="a") == pytest.approx((more - r.objective) / h, rel=1e-6) == pytest.approx(0.6)
    # an end use without plant: one more EV takes 2 t of magnet at 3, and its own 0.5
    r = solved(end_use())
    more = solved(end_use(demand=[("ev", "r", 2021, 10 + h)])).objective
    assert column(r.prices, "price", commodity="ev") == pytest.approx((more - r.objective) / h, rel=1e-6) == pytest.approx(6.5)


def test_shadow_prices_of_min_stock_and_min_trade_are_finite_differences():
    h = 1e-3

    def reserve(v):
        return solved(store(policies=[dict(policy="reserve", kind="min_stock", year=2022, value=v, commodities="good")]))

    assert column(reserve(3).policies, "shadow_price", year=2022) == pytest.approx(
        (reserve(3 + h).objective - reserve(3 - h).objective) / (2 * h), rel=1e-6)
