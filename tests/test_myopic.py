"""Myopic (rolling-horizon) planning beside perfect foresight: never cheaper, equal with a
window covering the horizon, committed decisions really fixed."""


import pytest

from instance_gen import write_instance
from rechain import instances
from rechain.model import build_model, load_instance
from rechain.model.results import objective_from_costs
from rechain.solvers import solve
from rechain.solvers.myopic import myopic

SOFT = {"table": "policies", "column": "penalty", "set": 50}  # a missed target costs, not fails


@pytest.fixture(scope="module")
def toy():
    return load_instance(instances.path("toy"))


@pytest.fixture(scope="module")
def soft(toy):
    return toy.with_changes(SOFT)


@pytest.fixture(scope="module")
def yearly(soft):
    return myopic(soft, window=1)


def test_year_by_year_costs_more_than_foresight(yearly):
    r = yearly
    assert r.status == "optimal"
    assert r.objective >= r.perfect_objective * (1 - 1e-9)
    # the toy's magnet plant needs a year's lead time and the 2023 target is unseen until 2023
    assert r.cost_of_myopia > 1e-3 * r.perfect_objective
    assert r.windows["committed"].tolist() == ["2021-2021", "2022-2022", "2023-2023"]
    # the myopic objective is the full-horizon cost of its plan, term by term
    assert r.objective == pytest.approx(objective_from_costs(r.result), rel=1e-7)
    costs = r.costs.set_index("component")
    assert costs.loc["violation", "myopic"] > 0 and costs.loc["violation", "perfect"] == 0
    assert r.costs["difference"].sum() == pytest.approx(r.cost_of_myopia, rel=1e-7)


def test_committed_decisions_are_those_of_each_window(soft, yearly):
    r = yearly
    # the first window sees 2021 only: its plan is the 2021-only optimum
    first = solve(soft.with_years(2021, 2021))
    new_first = first.capacity.set_index(["process", "region", "year"])["new"]
    mine = r.result.capacity.set_index(["process", "region", "year"])["new"]
    for k, v in new_first.items():
        assert mine[k] == pytest.approx(v, abs=1e-7)
    # evaluating the committed plan again from scratch gives the same cost
    m = build_model(soft)
    for k in m.NEW:
        v = mine.get(k, 0.0)
        m.new[k].fix(v)
    again = solve(m)
    assert again.objective == pytest.approx(r.objective, rel=1e-7)


def test_full_window_equals_perfect_foresight(soft):
    r = myopic(soft, window=10)
    assert len(r.windows) == 1
    assert r.objective == pytest.approx(r.perfect_objective, rel=1e-7)
    cap = r.capacity
    assert (cap["new_myopic"] - cap["new_perfect"]).abs().max() < 1e-6


def test_overlapping_windows(soft, yearly):
    r = myopic(soft, window=2, step=1)
    assert r.status == "optimal" and r.objective >= r.perfect_objective * (1 - 1e-9)
    assert r.windows[["start", "end"]].values.tolist() == [[2021, 2022], [2022, 2023]]
    assert r.objective <= yearly.objective * (1 + 1e-9)  # looking a year further never hurts here


def test_missed_hard_target_is_reported(toy):
    r = myopic(toy, window=1)
    assert r.status == "infeasible"
    assert "2023-2023" in r.message and r.objective is None and r.cost_of_myopia is None
    assert r.perfect.ok
    with pytest.raises(ValueError):
        myopic(toy, window=2, step=3)


@pytest.mark.parametrize("seed", range(5))
def test_myopic_never_beats_foresight_on_random_instances(tmp_path, seed):
    inst = load_instance(write_instance(tmp_path / "i", seed))
    r = myopic(inst, window=1)
    if r.perfect.status != "optimal":
        pytest.fail(f"the generated instance {seed} did not solve: {r.perfect.message}")
    # the generator's instances always have a feasible operation (unmet demand, soft floors)
    assert r.status == "optimal", r.message
    assert r.objective >= r.perfect_objective - 1e-7 * max(1.0, abs(r.perfect_objective))
