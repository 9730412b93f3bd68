"""Two-stage stochastic plans (rechain.solvers.stochastic), on a newsvendor-like capacity choice
worked out by hand.

One good, one year (2021), a plant whose capacity costs 1 a unit (lifetime 1, discount rate 0,
so the whole capex falls in 2021) and makes the good 1:1; demand 10 or 20 with probability 1/2
each; unmet demand costs 1.5 a unit. Capacity x is decided before the demand is known:

    cost(x) = x + 1/2 * 1.5 * max(0, 10 - x) + 1/2 * 1.5 * max(0, 20 - x)

falls (slope 1 - 1.5 = -0.5) up to 10 and rises (slope 1 - 0.75 = 0.25) after: x* = 10, RP = 17.5.
Wait-and-see: 10 and 20, WS = 15, EVPI = 2.5. The expected-value problem (demand 15) builds 15;
fixed and evaluated: 15 and 15 + 1.5 * 5 = 22.5, EEV = 18.75, VSS = 1.25. The worst case
(CVaR with alpha near 1): min over x of max(x + 1.5 max(0, 10 - x), x + 1.5 max(0, 20 - x)) = 20
at x = 20.
"""

import math

import pytest

from lpkit import make_instance, solved
from rechain.solvers.stochastic import cvar, stochastic

LOW = {"table": "demand", "where": {"commodity": "good"}, "column": "quantity", "set": 10}
HIGH = {"table": "demand", "where": {"commodity": "good"}, "column": "quantity", "set": 20}


def newsvendor(years=(2021, 2021), **kw):
    return make_instance(
        commodities={"good": {"unmet_penalty": 1.5}}, processes={"plant": {"capex": 1.0, "lifetime": 1}},
        io=[("plant", "good", "out", 1)], build_limits=[("plant", "r")], demand=[("good", "r", y, 15) for y in range(years[0], years[1] + 1)],
        years=years, **kw)


@pytest.fixture(scope="module")
def inst():
    return newsvendor()


def scen():
    return [{**LOW}, {**HIGH}]


def test_the_hedged_plan_evpi_and_vss_are_the_hand_worked_ones(inst):
    r = stochastic(inst, scen())
    assert r.status == "optimal"
    assert r.objective == pytest.approx(17.5, rel=1e-9)
    assert r.expected_cost == pytest.approx(17.5, rel=1e-9)
    fs = r.first_stage.set_index(["process", "region", "year"])["new"]
    assert fs[("plant", "r", 2021)] == pytest.approx(10, rel=1e-9)
    assert r.wait_and_see == pytest.approx(15, rel=1e-9)
    assert r.evpi == pytest.approx(2.5, rel=1e-9)
    assert r.eev == pytest.approx(18.75, rel=1e-9)
    assert r.vss == pytest.approx(1.25, rel=1e-9)
    assert r.ev_first_stage["new"].sum() == pytest.approx(15, rel=1e-9)
    s = r.scenarios.summary.set_index("scenario")
    assert list(s["cost"]) == pytest.approx([10, 25])
    # recourse: each scenario serves what the shared plant can make, the rest is unmet
    act = r.scenarios.activity
    assert set(act["scenario"]) == set(s.index)
    assert act.groupby("scenario")["activity"].sum().tolist() == pytest.approx([10, 10])
    unmet = r.scenarios.unmet.groupby("scenario")["quantity"].sum()
    assert unmet.sum() == pytest.approx(10)
    assert "EVPI 2.5" in "\n".join(r.describe())


def test_prices_of_a_scenario_are_finite_differences_of_the_expected_cost(inst):
    # price of scenario s = d RP / d demand_s / prob_s. High: one more unit is unmet (1.5). Low:
    # by hand, one more unit is best served by one more unit of the shared plant (cost 1), which
    # also saves 1/2 * 1.5 in the high scenario: d RP = 0.25, over prob 1/2: 0.5
    r = stochastic(inst, scen())
    p = r.scenarios.prices.set_index("scenario")["price"]
    lo_label, hi_label = r.scenarios.summary["scenario"]
    assert p[hi_label] == pytest.approx(1.5, rel=1e-9)
    assert p[lo_label] == pytest.approx(0.5, rel=1e-9)
    h = 1e-3
    for label, base in ((lo_label, LOW), (hi_label, HIGH)):
        def rp(q):
            sc = [{**LOW}, {**HIGH}]
            sc[0 if base is LOW else 1] = {**base, "set": base["set"] + q}
            return stochastic(inst, sc, measures=False).objective
        assert p[label] == pytest.approx((rp(h) - rp(-h)) / (2 * h) / 0.5, rel=1e-6)


def test_probabilities_move_the_plan(inst):
    # with the high demand likely (0.8), unmet costs 0.8 * 1.5 = 1.2 > 1 a unit: build 20
    r = stochastic(inst, scen(), probabilities=[0.2, 0.8])
    assert r.first_stage["new"].sum() == pytest.approx(20, rel=1e-9)
    assert r.objective == pytest.approx(20 + 0.2 * 0, rel=1e-9)


def test_equal_scenarios_give_the_deterministic_solve(inst):
    det = solved(inst)
    r = stochastic(inst, [None, {**LOW, "set": 15}, {"table": "demand", "where": {"commodity": "good"}, "column": "quantity", "scale": 1.0}])
    assert r.objective == pytest.approx(det.objective, rel=1e-9)
    assert r.evpi == pytest.approx(0, abs=1e-9) and r.vss == pytest.approx(0, abs=1e-9)
    # and on a shipped instance of several years and regions
    from rechain import instances
    from rechain.model import load_instance

    toy = load_instance(instances.path("toy"))
    r = stochastic(toy, [None, {"table": "demand", "column": "quantity", "scale": 1.0}], measures=False)
    assert r.objective == pytest.approx(solved(toy).objective, rel=1e-8)


def test_cvar_runs_from_the_expectation_to_the_worst_case(inst):
    assert stochastic(inst, scen(), risk=0.0, measures=False).objective == pytest.approx(17.5, rel=1e-9)
    worst = stochastic(inst, scen(), risk=0.999, measures=False)
    assert worst.objective == pytest.approx(20, rel=1e-6)
    assert worst.first_stage["new"].sum() == pytest.approx(20, rel=1e-6)
    # half expectation, half worst case: x + 0.75 ... the mix is convex; check it against a scan
    mix = stochastic(inst, scen(), risk={"alpha": 0.5, "weight": 0.5}, measures=False)

    def f(x):
        c = [x + 1.5 * max(0, 10 - x), x + 1.5 * max(0, 20 - x)]
        return 0.5 * (0.5 * c[0] + 0.5 * c[1]) + 0.5 * cvar(c, [0.5, 0.5], 0.5)

    best = min(f(x / 100) for x in range(0, 3001))
    assert mix.objective == pytest.approx(best, rel=1e-6)


def test_cvar_of_a_discrete_distribution():
    assert cvar([1, 2, 3, 4], [0.25] * 4, 0.0) == pytest.approx(2.5)
    assert cvar([1, 2, 3, 4], [0.25] * 4, 0.5) == pytest.approx(3.5)
    assert cvar([1, 2, 3, 4], [0.25] * 4, 0.8) == pytest.approx(4)


def test_later_builds_are_recourse():
    # two years: capacity started in 2022 (lifetime 1) is decided after the scenario is known
    inst = newsvendor(years=(2021, 2022))
    both = [{**LOW}, {**HIGH}]
    r1 = stochastic(inst, both, decide_through=2021)
    r2 = stochastic(inst, both, decide_through=2022)
    assert set(r1.first_stage["year"]) == {2021}
    assert set(r2.first_stage["year"]) == {2021, 2022}
    # deciding more in advance can only cost more
    # 2021 as the one-year case (17.5); in 2022 the demand is known: build it, 15 expected
    assert r1.objective == pytest.approx(17.5 + 15, rel=1e-9)
    # deciding 2022 in advance too: the one-year case twice
    assert r2.objective == pytest.approx(17.5 * 2, rel=1e-9)
    b = r1.scenarios.capacity
    new22 = b[(b.year == 2022)].set_index("scenario")["new"]
    assert sorted(new22.tolist()) == pytest.approx([10, 20])


@pytest.mark.parametrize("bad, says", [
    (dict(probabilities=[0.3, 0.3]), "sum to 1"),
    (dict(probabilities=[1.5, -0.5]), ">= 0"),
    (dict(probabilities=[1.0]), "2 scenarios"),
    (dict(risk=1.0), "alpha"),
    (dict(decide_through=2030), "outside"),
])
def test_bad_options_are_clear_errors(inst, bad, says):
    with pytest.raises(ValueError, match=says):
        stochastic(inst, scen(), **bad)


def test_vss_of_scenarios_of_other_shapes_uses_the_mean_instance():
    # a scenario that removes the unmet option's row shape (a zero demand is no balance row)
    # still has an expected-value plan: the mean instance (demand 10 and 20 -> 15 ... here 0 and
    # 20 -> 10), its plan (build 10) fixed and evaluated: 10 + 0 and 10 + 1.5 * 10 -> EEV 17.5;
    # RP: x in [0, 20] costs x + 0.5 * 1.5 * (20 - x) = 15 + 0.25 x -> x = 0, RP 15; VSS 2.5
    inst = newsvendor()
    r = stochastic(inst, [{**LOW, "set": 0}, {**HIGH}])
    assert r.objective == pytest.approx(15, rel=1e-9)
    assert r.eev == pytest.approx(17.5, rel=1e-9)
    assert r.vss == pytest.approx(2.5, rel=1e-9)


def test_the_library_name_is_callable_however_it_was_imported(inst):
    import importlib

    import rechain.solvers as solvers

    importlib.import_module("rechain.solvers.stochastic")
    assert solvers.stochastic(inst, scen(), measures=False).objective == pytest.approx(17.5, rel=1e-9)
