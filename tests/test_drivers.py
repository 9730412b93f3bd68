"""What sets a price (rechain.solvers.drivers, `rechain price`): the toy's prices by hand, and
on the default instance every driver's terms add up to the price the solve reports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rechain import instances
from rechain.model import load_instance
from rechain.solvers import solve
from rechain.solvers.drivers import PriceExplainer, price_drivers


@pytest.fixture(scope="module")
def toy():
    return load_instance(instances.path("toy"))


def terms_of(drivers, driver: str) -> dict[str, float]:
    t = drivers.terms[drivers.terms.driver == driver]
    return {term.split(" (")[0]: c for term, c in zip(t.term, t.contribution)}


def test_the_toy_prnd_oxide_price_is_separation_cost_ore_and_la_ce_by_hand(toy):
    # tests/test_toy.py: PrNd oxide in the north = (ore 1 + separation 2 + La/Ce disposal 0.8 x 0.5) / 0.2
    # = 5 + 10 + 2 = 17, set by separation, which makes 0.2 t PrNd oxide per t of ore
    d = price_drivers(toy, "prnd_oxide", "north", 2021)
    assert d.price == pytest.approx(17.0)
    sep = terms_of(d, "act[separation,north,2021]")
    assert sep == pytest.approx({"its own cost": 10.0, "price of ore in north in 2021": 5.0,
                                 "price of lace_oxide in north in 2021": 2.0})
    assert d.drivers.set_index("driver").loc["act[separation,north,2021]", "role"] == "made by"


def test_a_price_carried_by_a_lane_is_the_other_end_plus_its_cost(toy):
    # tests/test_toy.py: PrNd oxide in the south = the north's price + 0.1 on the lane
    d = price_drivers(toy, "prnd_oxide", "south", 2021)
    assert d.price == pytest.approx(17.1)
    lane = terms_of(d, "ship[prnd_oxide,north,south,2021]")
    assert lane == pytest.approx({"price of prnd_oxide in north in 2021": 17.0, "its own cost": 0.1})
    assert d.drivers.set_index("driver").loc["ship[prnd_oxide,north,south,2021]", "role"] == "shipped in"


@pytest.mark.parametrize("commodity,region,year", [("prnd_oxide", "other_china", 2021), ("dy_oxide", "jiangxi", 2021),
                                                   ("tb_oxide", "other_china", 2024), ("magnet_hc", "rest_of_world", 2025),
                                                   ("la_oxide", "jiangxi", 2022)])
def test_every_driver_adds_up_to_the_price_the_solve_reports(commodity, region, year):
    inst = load_instance(instances.path("inner_mongolia_2021_2025"))
    p = solve(inst).prices.set_index(["commodity", "region", "year"]).price[(commodity, region, year)]
    d = price_drivers(inst, commodity, region, year)
    assert d.price == pytest.approx(p, rel=1e-6, abs=1e-9)
    assert len(d.drivers) >= 1
    sums = d.terms.groupby("driver").contribution.sum()
    for driver in d.drivers.driver:
        assert sums.get(driver, 0.0) == pytest.approx(p, rel=1e-5, abs=1e-7), driver


def test_a_stock_carried_to_next_year_brings_next_years_price_in_at_the_discount_rate():
    # the default holds PrNd oxide in the rest of China at the end of 2021 (est_stocks): its price
    # in 2021 is 2022's, discounted one year, less the holding cost
    inst = load_instance(instances.path("inner_mongolia_2021_2025"))
    d = price_drivers(inst, "prnd_oxide", "other_china", 2021)
    t = terms_of(d, "stock[prnd_oxide,other_china,2021]")
    nxt = solve(inst).prices.set_index(["commodity", "region", "year"]).price[("prnd_oxide", "other_china", 2022)]
    rate = inst.discount_rate  # instance.yaml
    holding = inst.storage.set_index(["commodity", "region"]).holding_cost[("prnd_oxide", "other_china")]  # storage.csv
    assert rate > 0 and holding > 0
    assert t["price of prnd_oxide in other_china in 2022"] == pytest.approx(nxt / (1 + rate), rel=1e-9)
    assert t["its own cost"] == pytest.approx(-holding)


def test_a_commodity_or_region_the_instance_does_not_balance_is_refused(toy):
    with pytest.raises(ValueError, match="no balance of 'neodymium' in 'north' in 2021.*commodities: ev"):
        price_drivers(toy, "neodymium", "north", 2021)
    with pytest.raises(ValueError, match="no balance of 'prnd_oxide' in 'east' in 2021.*regions: north, south"):
        price_drivers(toy, "prnd_oxide", "east", 2021)
    with pytest.raises(ValueError, match="no balance of 'ore' in 'south' in 2021.*ore is balanced in north"):
        price_drivers(toy, "ore", "south", 2021)


def test_rechain_price_prints_the_drivers_and_refuses_bad_input_with_exit_2():
    run = [sys.executable, "-c", "from rechain.solvers.cli import main; main()", "price", "toy"]
    ok = subprocess.run(run + ["--commodity", "prnd_oxide", "--region", "north"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "price of prnd_oxide in north in 2021: 17" in ok.stdout and "made by act[separation,north,2021]" in ok.stdout
    for extra, said in ((["--commodity", "prnd", "--region", "north"], "no balance of 'prnd'"),
                        (["--commodity", "prnd_oxide", "--region", "north", "--year", "1999"], "not a year of toy")):
        bad = subprocess.run(run + extra, capture_output=True, text=True, timeout=120)
        assert bad.returncode == 2 and said in bad.stderr and "Traceback" not in bad.stderr
    # docs/cli.md: at most 25 t/y of magnet making may stand in the south, against a target of 32
    none = subprocess.run(run + ["--commodity", "magnet", "--region", "south", "--set",
                                 "build_limits.max_total[process=magnet_making]=25"], capture_output=True, text=True, timeout=120)
    assert none.returncode == 3 and "did not solve to optimality (infeasible)" in none.stderr
    assert "Traceback" not in none.stderr


def test_a_binding_quota_adds_its_shadow_price_to_the_concentrate_it_holds_back():
    # the default: the northern group's rock quota (smm_quota_2021) holds Bayan Obo's flotation in
    # 2021, so the concentrate's price is the ore, the flotation and the quota's rent
    inst = load_instance(instances.path("inner_mongolia_2021_2025"))
    pol = solve(inst).policies.set_index(["policy", "year"]).shadow_price[("northern_rock_quota", 2021)]
    assert pol < 0  # binding
    d = price_drivers(inst, "bayan_obo_concentrate", "inner_mongolia", 2021)
    t = terms_of(d, "act[beneficiation_bayan_obo,inner_mongolia,2021]")
    assert t["shadow price of the policy northern_rock_quota in 2021"] == pytest.approx(-pol, rel=1e-9)
    assert t["its own cost"] == pytest.approx(0.0184)  # processes.csv: flotation's variable cost
    assert sum(t.values()) == pytest.approx(d.price)


@pytest.mark.parametrize("name", ["toy", "inner_mongolia_2021_2025"])
def test_every_price_of_an_instance_is_the_sum_of_each_of_its_drivers_terms(name):
    # the identity behind the drivers (zero reduced cost of every basic column), for every
    # commodity, region and year: a price no basic column touches is 0 (nothing scarce touches it)
    inst = load_instance(instances.path(name))
    explainer = PriceExplainer(inst)
    prices = solve(inst).prices.set_index(["commodity", "region", "year"]).price
    explained = 0
    for (c, r, y), p in prices.items():
        d = explainer.explain(c, r, y)
        assert d.price == pytest.approx(p, rel=1e-9, abs=1e-12), (c, r, y)
        if d.drivers.empty:
            assert abs(p) <= 1e-9, (c, r, y)
            continue
        sums = d.terms.groupby("driver").contribution.sum().reindex(d.drivers.driver, fill_value=0.0)
        assert sums.to_numpy() == pytest.approx([p] * len(sums), rel=1e-9, abs=1e-12), (c, r, y)
        explained += 1
    assert explained >= 0.75 * len(prices)  # most prices have a route at the margin


# ---- what a unit less saves and a unit more costs ----------------------------------------------


def two_blocks(demand: float):
    """x bought up to 10 a year at 1, or made without limit at 3; ``demand`` wanted in 2021 (no
    discounting, so prices are money of the year as they stand)."""
    from lpkit import make_instance

    return make_instance(
        commodities=["x"], processes={"make": {"capacity": False, "variable_cost": 3.0}},
        io=[("make", "x", "out", 1)], supply=[("x", "r", None, 10, 1.0)],
        demand=[("x", "r", 2021, demand)], years=(2021, 2021))


@pytest.mark.parametrize("demand, less, more", [
    (4, 1.0, 1.0),    # the cheap block has room either way: one price, 1
    (10, 1.0, 3.0),   # the cheap block just filled: one less saves 1, one more is made at 3
    (20, 3.0, 3.0),   # made at the margin either way: 3
])
def test_a_unit_less_saves_and_a_unit_more_costs_by_hand(demand, less, more):
    d = price_drivers(two_blocks(demand), "x", "r", 2021, margins=True)
    assert (d.one_less, d.one_more) == (pytest.approx(less), pytest.approx(more))
    assert less - 1e-9 <= d.price <= more + 1e-9  # the dual lies between them
    assert d.at_kink() == (less != more)
    assert ("not the same either way" in str(d)) == (less != more)


def test_a_step_past_the_kink_averages_over_it():
    # 5 units more from 10: all made at 3; 15 units less from 20: 10 at 3 and 5 at 1
    d = price_drivers(two_blocks(20), "x", "r", 2021, margins=True, step=15)
    assert d.one_less == pytest.approx((10 * 3 + 5 * 1) / 15)
    assert d.one_more == pytest.approx(3.0)


def test_margins_bracket_the_default_prices_and_leave_the_solve_as_it_was():
    inst = load_instance(instances.path("inner_mongolia_2021_2025")).with_scenario("actual_demand_2021_2024")
    ex = PriceExplainer(inst)
    for c, y in (("prnd_oxide", 2021), ("dy_oxide", 2021), ("tb_oxide", 2022)):
        d = ex.explain(c, "other_china", y)
        for step in (1.0, 100.0):
            less, more = ex.marginal_costs(c, "other_china", y, step=step)
            assert less <= d.price * (1 + 1e-6) + 1e-9 and d.price <= more * (1 + 1e-6) + 1e-9, (c, y, step, less, d.price, more)
        # the bounds put back: the same answer again, and the same objective as a fresh solve
        assert ex.marginal_costs(c, "other_china", y, step=100.0) == pytest.approx((less, more), rel=1e-6)
    assert ex.highs.getInfo().objective_function_value == pytest.approx(ex.objective, rel=1e-9)
    with pytest.raises(ValueError, match="step"):
        ex.marginal_costs("prnd_oxide", "other_china", 2021, step=0)


def test_rechain_price_says_what_a_unit_less_saves_and_more_costs(tmp_path):
    out = subprocess.run([sys.executable, "-m", "rechain.solvers.cli", "price", str(instances.path("toy")),
                          "-c", "prnd_oxide", "-r", "north", "-y", "2021"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "one unit less would save 17 a unit, one unit more would cost 17 a unit" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "rechain.solvers.cli", "price", str(instances.path("toy")),
                          "-c", "prnd_oxide", "-r", "north", "--step", "-1"], capture_output=True, text=True)
    assert bad.returncode != 0 and "--step" in bad.stderr and "Traceback" not in bad.stderr


def test_a_unit_more_that_cannot_be_had_costs_without_bound():
    # x is made only by a plant of 0.5 a year that cannot grow, and nothing uses it: its balance holds
    # at 0, so there can be neither a unit more of it (the plant makes 0.5 at most) nor a unit less
    from lpkit import make_instance

    inst = make_instance(commodities=["x", "z"], processes={"make": {"variable_cost": 2.0}}, io=[("make", "x", "out", 1)],
                         capacity=[("make", "r", 2021, 0.5)], build_limits=[("make", "r", 2021, 0, None)],
                         supply=[("z", "r", None, None, 1.0)], demand=[("z", "r", 2021, 5)],
                         years=(2021, 2021))  # z: something else for the LP to do
    half = price_drivers(inst, "x", "r", 2021, margins=True, step=0.5)  # half a unit more can be had, at 2
    assert half.one_more == pytest.approx(2.0) and half.one_less == float("-inf")
    d = price_drivers(inst, "x", "r", 2021, margins=True)
    assert d.one_more == float("inf") and d.one_less == float("-inf")
    assert "one unit more cannot be had" in str(d) and "there cannot be one unit less" in str(d)
    assert d.at_kink()
