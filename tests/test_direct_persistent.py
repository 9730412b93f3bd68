"""DirectModel: the LP kept in HiGHS and changed in place gives the optimum of a fresh solve."""

import pytest

from rechain import instances
from rechain.model import RebuildRequired, load_instance
from rechain.solvers import solve
from rechain.solvers.direct import DirectModel

CHANGES = [
    [{"table": "demand", "where": {"commodity": "ev"}, "column": "quantity", "scale": 1.25}],
    [{"table": "policies", "where": {"policy": "south_magnet_target"}, "column": "value", "set": 28}],
    [{"table": "processes", "where": {"process": "magnet_making"}, "column": "capex", "scale": 3}],
    [{"table": "trade", "where": {}, "column": "cost", "set": 2.5}],
    [{"table": "instance", "column": "discount_rate", "set": 0.1}],
    [{"table": "commodities", "where": {"commodity": "lace_oxide"}, "column": "disposal_cost", "set": 3}],
]


@pytest.fixture(scope="module")
def toy():
    return load_instance(instances.path("toy"))


def test_in_place_updates_equal_fresh_solves(toy):
    model = DirectModel(toy)
    base = model.solve()
    assert base.objective == pytest.approx(solve(toy).objective, rel=1e-12)
    for changes in CHANGES:
        inst = toy.with_changes(changes)
        warm = model.solve(inst)
        fresh = solve(inst)
        assert warm.status == fresh.status == "optimal"
        assert warm.objective == pytest.approx(fresh.objective, rel=1e-9), changes
        assert (warm.capacity["total"] - fresh.capacity["total"]).abs().max() < 1e-6
    # back to the base: the warm start ends at the base optimum again, in few iterations
    again = model.solve(toy)
    assert again.objective == pytest.approx(base.objective, rel=1e-12)


def test_warm_start_takes_fewer_iterations(toy):
    model = DirectModel(toy)
    model.solve()
    cold = model.iterations
    model.solve(toy.with_changes(CHANGES[0]))
    assert model.iterations < cold


def test_another_shape_is_refused_and_leaves_the_model_usable(toy):
    model = DirectModel(toy)
    before = model.solve().objective
    other = toy.with_changes([{"table": "build_limits", "where": {"process": "magnet_making"}, "column": "max_new", "set": 5}])
    with pytest.raises(RebuildRequired, match="build a new model"):
        model.update(other)
    assert model.solve().objective == pytest.approx(before, rel=1e-12)


def test_a_time_limit_does_not_stick(toy):
    model = DirectModel(toy)
    assert model.solve(time_limit=0.0).status == "time_limit"
    assert model.solve().status == "optimal"


@pytest.mark.parametrize("method", ["direct", "pyomo"])
def test_numerics_warnings_reach_the_result(toy, method):
    assert solve(toy, method=method).warnings == []
    # a coefficient 1e-12 of its row's largest: the numerics report names the row
    bad = toy.with_changes([{"table": "process_io", "where": {"process": "separation", "commodity": "lace_oxide"},
                             "column": "coefficient", "set": 0.8e-12}])
    res = solve(bad, method=method)
    assert res.status == "optimal"
    assert any("separation" in w or "lace_oxide" in w for w in res.warnings), res.warnings
    # without the check only the solver's own word remains (HiGHS drops the entry, direct path)
    assert not [w for w in solve(bad, method=method, check_numerics=False).warnings if not w.startswith("HiGHS:")]


def test_highs_warnings_reach_the_result(toy):
    # HiGHS drops a matrix entry below its tolerance (1e-9) and says so: that warning is kept
    bad = toy.with_changes([{"table": "process_io", "where": {"process": "separation", "commodity": "lace_oxide"},
                             "column": "coefficient", "set": 1e-10}])
    res = solve(bad)
    assert any(w.startswith("HiGHS: WARNING") and "tolerance" in w for w in res.warnings), res.warnings
    assert not any(w.startswith("HiGHS") for w in solve(toy).warnings)


def test_an_lp_handed_to_a_highs_that_holds_another_replaces_it(toy):
    # what DirectModel.update does when HiGHS refuses a change: the old LP handed over whole
    from rechain.model import prepare
    from rechain.model.matrix import assemble, differences
    from rechain.solvers.direct import to_highs

    d = prepare(toy)
    lp = assemble(d)
    h = to_highs(assemble(prepare(load_instance(instances.path("inner_mongolia_2021_2025")))))
    h.run()
    to_highs(lp, h)
    assert differences(h.getLp(), lp, d) == []
    h.run()
    assert h.getInfo().objective_function_value == pytest.approx(solve(toy).objective, rel=1e-9)
