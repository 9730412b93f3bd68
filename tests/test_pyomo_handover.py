"""The Pyomo model handed to HiGHS as the LP arrays (``rechain.solvers.pyomo_highs``) behaves as
Pyomo's own row-by-row hand-over: the same LP in HiGHS at first and after every change a user
makes through Pyomo (parameters updated in place, a row deactivated, a constraint added, a
variable fixed, a bound set), and Pyomo's own hand-over whenever the model is not as built."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

import rechain.instances as ri
from rechain.model import build_model, load_instance, update_parameters
from rechain.model.matrix import arrays
from rechain.solvers import pyomo_highs
from rechain.solvers.solve import solve


@pytest.fixture(scope="module")
def toy():
    return load_instance(ri.path("toy"))


def _pair(inst):
    """The same model twice: handed over as arrays, and read by Pyomo row by row."""
    fast, own = build_model(inst), build_model(inst)
    pyomo_highs.read_by_pyomo(own)
    return fast, own


def _arrays_used(m) -> bool:
    return m._rechain_highs.__dict__["_rechain_arrays"] is not None


def _same(fast, own):
    """Both solved: the same status, objective, and LP in HiGHS, array for array."""
    a, b = solve(fast), solve(own)
    assert a.status == b.status == "optimal", (a.message, b.message)
    got = arrays(pyomo_highs.highs(fast._rechain_highs).getLp())
    want = arrays(pyomo_highs.highs(own._rechain_highs).getLp())
    for k in want:
        np.testing.assert_array_equal(np.asarray(got[k]), np.asarray(want[k]), err_msg=k)
    assert a.objective == pytest.approx(b.objective, rel=1e-12)
    return a


def test_the_arrays_are_handed_over_and_changed_as_pyomo_would(toy):
    fast, own = _pair(toy)
    first = _same(fast, own)
    assert _arrays_used(fast) and not _arrays_used(own)
    # params in place: demand, an io coefficient (twice), costs, a policy value (right-hand sides), discounting (objective)
    steps = [
        [{"table": "demand", "where": {"commodity": "ev"}, "column": "quantity", "scale": 1.7}],
        [{"table": "process_io", "where": {"process": "separation", "commodity": "lace_oxide"}, "column": "coefficient", "set": 0.5},
         {"table": "processes", "where": {"process": "magnet_making"}, "column": "capex", "scale": 3}],
        [{"table": "process_io", "where": {"process": "separation", "commodity": "lace_oxide"}, "column": "coefficient", "set": 0.25},
         {"table": "policies", "where": {"policy": "south_magnet_target"}, "column": "value", "set": 40}],
        [{"table": "instance", "column": "discount_rate", "set": 0.11}],
    ]
    objectives = []
    for changes in steps:
        inst = toy.with_changes(changes)
        update_parameters(fast, inst)
        update_parameters(own, inst)
        objectives.append(_same(fast, own).objective)
    assert len(set(objectives + [first.objective])) == len(steps) + 1  # every step moved the optimum
    # a row deactivated, then a change of the numbers (the row is no longer the arrays' to set)
    k = next(iter(fast.balance))
    fast.balance[k].deactivate()
    own.balance[k].deactivate()
    _same(fast, own)
    update_parameters(fast, toy)
    update_parameters(own, toy)
    _same(fast, own)
    # a constraint of the user's, a bound, a fixed variable
    for m in (fast, own):
        v = next(iter(m.new.values()))
        m.mine_cap = pyo.Constraint(expr=sum(m.new[k] for k in m.new) <= 1e6)
        v.setub(5.0)
        next(iter(m.act.values())).fix(1.0)
    _same(fast, own)


def test_a_model_not_as_built_is_read_by_pyomo(toy):
    # a constraint added before the first solve
    m = build_model(toy)
    m.extra = pyo.Constraint(expr=sum(m.new[k] for k in m.new) >= 0)
    r = solve(m)
    assert r.ok and not _arrays_used(m)
    # a variable fixed: Pyomo reads it as a number
    m = build_model(toy)
    next(iter(m.act.values())).fix(0.0)
    assert solve(m).ok and not _arrays_used(m)
    # a row's expression replaced
    m = build_model(toy)
    k = next(iter(m.balance))
    c = m.balance[k]
    c.set_value((c.lower, c.body, c.upper))  # the same relation, but not the expression built
    r = solve(m)
    assert r.ok and not _arrays_used(m) and r.objective == pytest.approx(solve(toy).objective, rel=1e-9)
    # a param changed before the first solve is read from the model: the arrays still used
    fast, own = _pair(toy)
    for m in (fast, own):
        k = next(iter(m.demand))
        m.demand[k] = pyo.value(m.demand[k]) * 3 + 10
    before = solve(load_instance(ri.path("toy"))).objective
    r = _same(fast, own)
    assert _arrays_used(fast) and r.objective != pytest.approx(before, rel=1e-9)
