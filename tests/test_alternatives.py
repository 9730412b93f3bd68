"""Near-optimal alternatives (rechain.solvers.alternatives) on a two-region choice worked out by
hand.

One good demanded in region a (10 a year, one year); a plant in a (capex 1 a unit, lifetime 1,
discount rate 0) or in b (capex 1.04) shipped to a at no cost. Least cost: 10 in a, cost 10.
Within a slack s the budget is 10 (1 + s); building y in b costs 10 + 0.04 y, so b can take up
to y = 250 s (all 10 from s = 4 %), and a falls to 10 - y.
"""

import pytest

from lpkit import make_instance
from rechain.solvers.alternatives import alternatives


@pytest.fixture(scope="module")
def inst():
    return make_instance(
        regions=["a", "b"], commodities=["good"],
        processes={"plant_a": {"capex": 1.0, "lifetime": 1}, "plant_b": {"capex": 1.04, "lifetime": 1}},
        io=[("plant_a", "good", "out", 1), ("plant_b", "good", "out", 1)],
        build_limits=[("plant_a", "a"), ("plant_b", "b")], demand=[("good", "a", 2021, 10)],
        trade=[("good", "b", "a", 0.0)], years=(2021, 2021))


@pytest.mark.parametrize("slack, moved", [(0.02, 5.0), (0.01, 2.5), (0.05, 10.5 / 1.04), (0.0, 0.0)])
def test_each_group_moves_as_far_as_the_budget_allows(inst, slack, moved):
    r = alternatives(inst, slack=slack, over="process")
    assert r.optimum == pytest.approx(10, rel=1e-9)
    rg = r.ranges.set_index("process")
    assert rg.loc["plant_a", "optimum"] == pytest.approx(10) and rg.loc["plant_b", "optimum"] == pytest.approx(0)
    assert rg.loc["plant_b", "high"] == pytest.approx(moved, abs=1e-7)
    # (at 5 %: all 10 in b costs 10.4, and the last 0.1 of budget buys 0.1 / 1.04 of idle plant)
    assert rg.loc["plant_a", "low"] == pytest.approx(max(0.0, 10 - moved), abs=1e-7)
    # every alternative within the slack, the optimum first
    assert r.objectives.index[0] == "optimum"
    assert (r.objectives <= 10 * (1 + slack) + 1e-9).all()


def test_each_alternative_moves_its_group_in_its_direction(inst):
    r = alternatives(inst, slack=0.02, over="process")
    p = r.plans.set_index(["plan", "process"])["value"]
    assert p[("max plant_b b", "plant_b")] == pytest.approx(5)
    assert p[("min plant_a a", "plant_a")] == pytest.approx(5)
    # the slack may also buy idle plant: 0.2 more in a
    assert p[("max plant_a a", "plant_a")] == pytest.approx(10.2)
    assert r.objectives["max plant_b b"] == pytest.approx(10.2, rel=1e-9)
    assert "plant_b b: between 0 and 5 t (optimum 0) at <= 2 % extra cost" in r.describe()


def test_groups_by_stage_and_by_hand(inst):
    r = alternatives(inst, slack=0.02)  # by stage and region: both plants are stage 'metal'
    assert set(r.ranges["group"]) == {"metal a", "metal b"}
    r = alternatives(inst, slack=0.02, over={"outside a": ["plant_b"]})
    assert list(r.ranges["group"]) == ["outside a"]
    assert r.ranges["high"].iloc[0] == pytest.approx(5)


def test_activity_and_random_directions(inst):
    r = alternatives(inst, slack=0.02, quantity="activity")
    assert r.ranges.set_index("process").loc["plant_b", "high"] == pytest.approx(5)
    r = alternatives(inst, slack=0.02, over="process", directions="random", n=6, seed=1)
    assert len(r.objectives) == 7 and (r.objectives <= 10.2 + 1e-9).all()
    assert r.ranges.set_index("process").loc["plant_b", "high"] <= 5 + 1e-9


@pytest.mark.parametrize("bad, says", [(dict(slack=-0.1), "slack"), (dict(over="nation"), "over"),
                                       (dict(quantity="cost"), "quantity"), (dict(over={"x": ["nothing"]}), "selects no"),
                                       (dict(directions="up"), "directions")])
def test_bad_options_are_clear_errors(inst, bad, says):
    with pytest.raises(ValueError, match=says):
        alternatives(inst, **bad)
