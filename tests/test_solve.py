"""Solving: statuses, other Pyomo solvers by name, timings, re-solving a built model."""

import pytest

from rechain import instances
from rechain.model import build_model, load_instance
from rechain.solvers import solve


@pytest.fixture(scope="module")
def toy():
    return load_instance(instances.path("toy"))


def test_status_optimal_and_timings(toy):
    r = solve(toy)
    assert r.status == "optimal" and r.ok
    assert r.objective > 0
    assert {"build", "solve", "extract", "total"} <= set(r.timings)
    assert r.instance_name == "toy" and r.scenario is None


def test_another_pyomo_solver_by_name_gives_the_same_answer(toy):
    a = solve(toy)
    b = solve(toy, solver="appsi_highs")  # Pyomo's other HiGHS interface, through SolverFactory
    assert b.status == "optimal"
    assert b.objective == pytest.approx(a.objective, rel=1e-9)
    assert (a.prices["price"] - b.prices["price"]).abs().max() < 1e-7
    assert (a.policies["shadow_price"] - b.policies["shadow_price"]).abs().max() < 1e-7


def test_unknown_solver_is_an_error_status_not_a_crash(toy):
    r = solve(toy, solver="no_such_solver")
    assert r.status == "error"
    assert "no_such_solver" in r.message and "not available" in r.message


def test_infeasible_status(toy):
    # a hard target above what may be built: 22 existing + nothing else allowed
    bad = toy.with_changes([{"table": "build_limits", "where": {"process": "magnet_making"}, "column": "max_new", "set": 1}])
    r = solve(bad)
    assert r.status == "infeasible"
    assert "infeasible" in r.message
    assert r.objective is None and r.capacity.empty


def test_solve_a_built_model_twice(toy):
    m = build_model(toy)
    a = solve(m)
    b = solve(m)  # the persistent solver is reused
    assert a.objective == pytest.approx(b.objective, rel=1e-12)


def test_a_refused_update_leaves_the_model_as_it_was(toy):
    from rechain.model import RebuildRequired, update_parameters

    m = build_model(toy)
    before = solve(m).objective
    bad = toy.with_changes([
        {"table": "demand", "where": {"commodity": "ev"}, "column": "quantity", "scale": 2},
        {"table": "build_limits", "where": {"process": "magnet_making"}, "column": "max_new", "set": 5},
    ])
    with pytest.raises(RebuildRequired, match="rebuild"):
        update_parameters(m, bad)
    assert m.demand["ev", "south", 2021].value == 10.0
    assert solve(m).objective == pytest.approx(before, rel=1e-12)


def test_a_users_own_constraint_on_the_built_model(toy):
    """A user extends the built model with a row of their own (here: no more than 25 t of
    magnets from the south in 2023), and the solve honours it; its results read as usual."""
    import pyomo.environ as pyo

    from rechain.model import build_model

    m = build_model(toy)
    free = solve(m)
    made = free.activity.query("process == 'magnet_making' and region == 'south' and year == 2023")["activity"].sum()
    assert made > 25
    m.my_cap = pyo.Constraint(expr=m.act["magnet_making", "south", 2023] <= 25)
    capped = solve(m)
    assert capped.status == "optimal" and capped.objective > free.objective
    got = capped.activity.query("process == 'magnet_making' and region == 'south' and year == 2023")["activity"].sum()
    assert got == pytest.approx(25, rel=1e-9)
