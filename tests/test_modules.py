"""Lumpy plant (a MILP): new capacity in whole modules (`processes.unit_size`) and a least build
(`processes.min_build`), worked out by hand on one good, one region, one year (lifetime 1,
discount rate 0: the whole capex falls in 2021), demand 25.

Modules of 10 at capex 1 a unit (10 a module), unmet demand at 1.5 a unit: 2 modules and 5 unmet
cost 20 + 7.5 = 27.5, 3 modules cost 30: two modules. The LP relaxation builds 25 (cost 25). With
the two modules fixed, one more unit of demand is unmet: the price is 1.5.

A least build of 30 (at most 100) at capex 1 with unmet at 1.5: 0 built costs 37.5, 30 built
costs 30: build 30 (5 idle). With unmet at 1.1: 0 built costs 27.5 < 30: build nothing.
"""

import pytest

from lpkit import flipped, make_instance, solved, without
from rechain.model import InstanceError, build_model
from rechain.solvers import solve


def plant(penalty=1.5, demand=25.0, **process):
    return make_instance(commodities={"good": {"unmet_penalty": penalty}},
                         processes={"plant": {"capex": 1.0, "lifetime": 1, **process}},
                         io=[("plant", "good", "out", 1)], build_limits=[("plant", "r", None, 100)],
                         demand=[("good", "r", 2021, demand)], years=(2021, 2021))


def new(r):
    return float(r.capacity["new"].sum())


def test_modules_are_whole_and_the_relaxation_is_reported():
    r = solved(plant(unit_size=10))
    assert new(r) == pytest.approx(20) and r.objective == pytest.approx(27.5)
    assert r.mip["relaxation_objective"] == pytest.approx(25) and r.mip["gap"] <= 1e-9
    assert "LP relaxation 25" in r.message and "whole-number decisions fixed" in r.message
    # the same through the Pyomo model
    m = solved(build_model(plant(unit_size=10)))
    assert m.objective == pytest.approx(27.5) and m.mip["relaxation_objective"] == pytest.approx(25)
    # without modules: an LP, no MILP information
    lp = solved(plant())
    assert new(lp) == pytest.approx(25) and lp.objective == pytest.approx(25) and not lp.mip


def test_prices_are_those_of_the_lp_with_the_modules_fixed():
    r = solved(plant(unit_size=10))
    assert float(r.prices["price"].iloc[0]) == pytest.approx(1.5)
    # the LP with the two modules fixed: 20 of existing capacity and nothing to build; its price
    # is a finite difference of its objective
    def fixed(q):
        return solved(make_instance(commodities={"good": {"unmet_penalty": 1.5}}, processes={"plant": {"lifetime": 1}},
                                    io=[("plant", "good", "out", 1)], capacity=[("plant", "r", 2021, 20)],
                                    demand=[("good", "r", 2021, q)], years=(2021, 2021))).objective
    assert (fixed(25.01) - fixed(24.99)) / 0.02 == pytest.approx(1.5, rel=1e-6)
    # a price in the module case moves with the modules: with demand 20, two modules are full and
    # the third is not worth it (10 > 1.5 x 1): still 1.5 (unmet at the margin)
    r20 = solved(plant(unit_size=10, demand=20.5))
    assert new(r20) == pytest.approx(20) and float(r20.prices["price"].iloc[0]) == pytest.approx(1.5)


def test_a_least_build_is_all_or_nothing():
    r = solved(plant(min_build=30))
    assert new(r) == pytest.approx(30) and r.objective == pytest.approx(30)
    assert r.mip["relaxation_objective"] == pytest.approx(25)
    r = solved(plant(penalty=1.1, min_build=30))
    assert new(r) == pytest.approx(0) and r.objective == pytest.approx(27.5)


def test_dropping_or_flipping_the_families_changes_the_answer():
    inst = plant(unit_size=10)
    assert without(inst, "module_size").objective == pytest.approx(25)  # modules no longer tie new capacity
    inst = plant(min_build=30)
    # without the least build: build 25 (the switch alone costs nothing)
    assert without(inst, "build_at_least").objective == pytest.approx(25)
    # without the switch nothing forces `built` up: build 25, built 0
    assert without(inst, "build_switch").objective == pytest.approx(25)
    # flipped, each lets the plan build 25 (against 30 with both rows as they are): new <= 30 built
    # with built = 1; new >= 100 built with built = 0
    assert flipped(inst, "build_at_least").objective == pytest.approx(25)
    assert flipped(inst, "build_switch").objective == pytest.approx(25)


def test_a_least_build_needs_a_finite_max_new():
    with pytest.raises(InstanceError) as e:
        solve(make_instance(commodities={"good": {}}, processes={"plant": {"capex": 1.0, "min_build": 5}},
                            io=[("plant", "good", "out", 1)], build_limits=[("plant", "r")],
                            demand=[("good", "r", 2021, 1)], years=(2021, 2021)))
    p = e.value.problems[0]
    assert p.file == "processes.csv" and p.column == "min_build" and p.row == 2 and "max_new" in p.message


@pytest.mark.parametrize("column", ["unit_size", "min_build"])
def test_a_process_without_plant_has_no_modules(column):
    with pytest.raises(InstanceError) as e:
        make_instance(commodities={"good": {}}, processes={"use": {"capacity": False, column: 5}},
                      io=[("use", "good", "out", 1)], demand=[("good", "r", 2021, 1)], years=(2021, 2021))
    assert any(p.column == column and p.row == 2 and "no plant" in p.message for p in e.value.problems)
