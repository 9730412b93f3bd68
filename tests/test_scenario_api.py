"""Scenarios as values: application, composition, grids and seeded samples."""

import pytest

from rechain import instances
from rechain.model import InstanceError, load_instance
from rechain.model.scenarios import (
    Scenario, as_scenario, choice, grid, normal, sample, scale, scenario_table, setter, triangular, uniform,
)

EV = {"commodity": "ev"}


@pytest.fixture(scope="module")
def toy():
    return load_instance(instances.path("toy"))


def ev_demand(inst):
    return inst.demand[inst.demand["commodity"] == "ev"]["quantity"].tolist()


def test_scenario_applies_changes_and_named_scenarios_in_order(toy):
    s = Scenario("boom_then_double", ["ev_boom", {"table": "demand", "where": EV, "column": "quantity", "scale": 2}])
    out = s.apply(toy)
    assert ev_demand(out) == pytest.approx([x * 1.2 * 2 for x in ev_demand(toy)])
    assert out.applied == ["ev_boom", "boom_then_double"]
    assert ev_demand(toy) == [10, 12, 15]  # the base instance is untouched
    # set after scale: the later change wins
    s2 = Scenario("x", [{"table": "demand", "where": EV, "column": "quantity", "scale": 3},
                        {"table": "demand", "where": EV, "column": "quantity", "set": 7}])
    assert ev_demand(s2.apply(toy)) == [7, 7, 7]


def test_base_and_conversions(toy):
    assert Scenario.base().apply(toy).demand.equals(toy.demand)
    assert as_scenario(None).is_base and as_scenario("base").is_base
    assert as_scenario("ev_boom").changes == ("ev_boom",)
    ch = {"table": "demand", "where": EV, "column": "quantity", "scale": 2}
    s = as_scenario(ch)
    assert s.changes == (ch,) and "demand" in s.label
    assert as_scenario(["ev_boom", ch]).changes == ("ev_boom", ch)


def test_composition_concatenates_steps_and_labels(toy):
    a = Scenario.named("ev_boom")
    b = Scenario("half", [{"table": "demand", "where": EV, "column": "quantity", "scale": 0.5}], {"k": 1})
    c = a + b
    assert c.label == "ev_boom+half" and c.params == {"k": 1}
    assert ev_demand(c.apply(toy)) == pytest.approx([x * 0.6 for x in ev_demand(toy)])
    assert (Scenario.base() + a).label == "ev_boom"
    assert sum([a, b]).label == "ev_boom+half"
    # the change mappings are copied: mutating the source does not alter the scenario
    ch = {"table": "demand", "where": EV, "column": "quantity", "scale": 2}
    s = Scenario("s", [ch])
    ch["scale"] = 5
    assert s.changes[0]["scale"] == 2


def test_a_change_that_does_not_fit_is_an_instance_error(toy):
    with pytest.raises(InstanceError, match="no row of 'demand'"):
        Scenario("bad", [{"table": "demand", "where": {"commodity": "nothing"}, "column": "quantity", "scale": 2}]).apply(toy)
    with pytest.raises(InstanceError, match="no scenario named"):
        Scenario.named("nope").apply(toy)


def test_grid_is_the_product_of_its_axes(toy):
    ev = scale("demand", "quantity", EV)
    quota = {"table": "policies", "where": {"policy": "mining_quota"}, "column": "value", "set": [50, 70]}
    g = grid(ev=(ev, [0.8, 1.2]), target=[None, "no_target"], quota=quota)
    assert len(g) == 8
    assert [s.label for s in g[:3]] == ["ev=0.8,target=base,quota=50", "ev=0.8,target=base,quota=70",
                                       "ev=0.8,target=no_target,quota=50"]
    assert g[3].params == {"ev": 0.8, "target": "no_target", "quota": 70}
    inst = g[7].apply(toy)  # ev 1.2, no target, quota 70
    assert ev_demand(inst) == pytest.approx([12, 14.4, 18])
    pol = inst.policies.set_index("policy")["value"]
    assert pol["mining_quota"] == 70 and pol["south_magnet_target"] == 0
    assert len({s.label for s in g}) == 8
    assert grid() == [Scenario.base()]


def test_sample_is_reproducible_from_its_seed(toy):
    ev = scale("demand", "quantity", EV)
    quota = setter("policies", "value", {"policy": "mining_quota"})
    a = sample(50, seed=7, ev=(ev, uniform(0.8, 1.3)), quota=(quota, choice([50, 60, 70])))
    b = sample(50, seed=7, ev=(ev, uniform(0.8, 1.3)), quota=(quota, choice([50, 60, 70])))
    c = sample(50, seed=8, ev=(ev, uniform(0.8, 1.3)), quota=(quota, choice([50, 60, 70])))
    assert [s.params for s in a] == [s.params for s in b]
    assert [s.params for s in a] != [s.params for s in c]
    evs = [s.params["ev"] for s in a]
    assert all(0.8 <= x <= 1.3 for x in evs) and len(set(evs)) == 50
    assert {s.params["quota"] for s in a} == {50, 60, 70}
    assert a[0].label == "sample0001" and a[-1].label == "sample0050"
    # adding an axis at the end leaves the draws of the others unchanged
    d = sample(50, seed=7, ev=(ev, uniform(0.8, 1.3)), quota=(quota, choice([50, 60, 70])),
               extra=(ev, ("normal", 1.0, 0.1, 0.5, 1.5)))
    assert [s.params["ev"] for s in d] == evs
    # the drawn value is what the changes carry
    inst = a[3].apply(toy)
    assert ev_demand(inst) == pytest.approx([x * a[3].params["ev"] for x in ev_demand(toy)])
    assert inst.policies.set_index("policy")["value"]["mining_quota"] == a[3].params["quota"]


def test_distributions_and_templates():
    t = {"table": "demand", "where": EV, "column": "quantity", "scale": triangular(0.5, 1.0, 2.0)}
    s = sample(200, seed=1, ev=t, n=({"table": "demand", "where": EV, "column": "quantity", "scale": normal(1, 5, 0.9, 1.1)}))
    xs = [x.params["ev"] for x in s]
    assert 0.5 <= min(xs) and max(xs) <= 2.0
    ns = [x.params["n"] for x in s]
    assert min(ns) == 0.9 and max(ns) == 1.1  # clipped
    assert s[0].changes[0]["scale"] == xs[0]
    with pytest.raises(ValueError, match="unknown distribution"):
        sample(2, seed=1, ev=(scale("demand", "quantity"), ("zipf", 2)))


def test_scenario_table():
    g = grid(a=(scale("demand", "quantity"), [1, 2]), b=[None, "ev_boom"])
    t = scenario_table(g)
    assert list(t.columns) == ["scenario", "a", "b"]
    assert t["a"].tolist() == [1, 1, 2, 2] and t["b"].tolist() == ["base", "ev_boom", "base", "ev_boom"]
