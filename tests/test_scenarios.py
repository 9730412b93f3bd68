"""Scenarios (SPEC section 1): changes pick rows by column equality and scale or set one column,
in the order given; named scenarios compose; Instance.with_changes applies the same changes in
code; with_years restricts the horizon. Expected values are worked out by hand from the toy.
"""

from __future__ import annotations

import pytest
import yaml

from conftest import find_problem, line_of, problems_of, set_cell
from rechain import instances
from rechain.model import InstanceError, load_instance
from rechain.solvers import solve

TOY = instances.path("toy")
EV = [10.0, 12.0, 15.0]  # toy demand for ev in the south, 2021-2023


def ev(inst) -> list[float]:
    d = inst.demand
    return d.loc[d["commodity"] == "ev"].sort_values("year")["quantity"].tolist()


def lace(inst) -> list[float]:
    d = inst.demand
    return d.loc[d["commodity"] == "lace_oxide"].sort_values("year")["quantity"].tolist()


@pytest.fixture(scope="module")
def toy():
    return load_instance(TOY)


@pytest.fixture(scope="module")
def base_objective(toy):
    r = solve(toy)
    assert r.status == "optimal"
    return r.objective


SCALE_EV = {"table": "demand", "where": {"commodity": "ev"}, "column": "quantity", "scale": 2}
SET_EV_2022 = {"table": "demand", "where": {"commodity": "ev", "year": 2022}, "column": "quantity", "set": 5}


# --------------------------------------------------------------------------------------------
# scale and set, in order
# --------------------------------------------------------------------------------------------


def test_scale_and_set(toy):
    assert ev(toy.with_changes(SCALE_EV)) == [20.0, 24.0, 30.0]
    assert ev(toy.with_changes(SET_EV_2022)) == [10.0, 5.0, 15.0]
    assert lace(toy.with_changes(SCALE_EV)) == [20.0] * 3  # rows not selected are untouched


def test_changes_apply_in_the_order_given(toy):
    # scale all ev by 2, then set 2022 to 5: 20, 5, 30
    assert ev(toy.with_changes([SCALE_EV, SET_EV_2022])) == [20.0, 5.0, 30.0]
    # set 2022 to 5, then scale all ev by 2: 20, 10, 30
    assert ev(toy.with_changes([SET_EV_2022, SCALE_EV])) == [20.0, 10.0, 30.0]


def test_with_changes_leaves_the_original_alone(toy):
    changed = toy.with_changes([SCALE_EV, {"table": "instance", "column": "discount_rate", "set": 0.2}])
    assert ev(toy) == EV and toy.discount_rate == 0.05 and toy.scenario is None
    assert changed.discount_rate == 0.2


def test_where_on_several_columns_and_numbers(toy):
    # year given as a number or as text (as a workbook cell or the command line gives it)
    for year in (2023, "2023", 2023.0):
        inst = toy.with_changes({"table": "demand", "where": {"commodity": "ev", "region": "south", "year": year},
                                 "column": "quantity", "scale": 0.5})
        assert ev(inst) == [10.0, 12.0, 7.5]
    # a float column: the processes whose capex is 50 (magnet_making)
    inst = toy.with_changes({"table": "processes", "where": {"capex": 50}, "column": "fixed_om", "set": 4})
    assert inst.processes.set_index("process")["fixed_om"].to_dict() == {
        "mine": 0.0, "separation": 0.0, "metal_making": 0.0, "magnet_making": 4.0, "recycling": 0.0, "ev_assembly": 0.0}
    # a boolean column
    inst = toy.with_changes({"table": "process_io", "where": {"reference": False, "direction": "out"},
                             "column": "coefficient", "scale": 0.5})
    io = inst.process_io.set_index(["process", "commodity"])["coefficient"]
    assert io[("separation", "prnd_oxide")] == 0.1 and io[("recycling", "prnd_oxide")] == 0.125
    assert io[("separation", "ore")] == 1.0 and io[("metal_making", "prnd_oxide")] == 1.2


def test_empty_where_selects_every_row(toy):
    inst = toy.with_changes({"table": "demand", "where": {}, "column": "quantity", "scale": 0.1})
    assert ev(inst) == pytest.approx([1.0, 1.2, 1.5], rel=1e-15) and lace(inst) == pytest.approx([2.0] * 3)
    assert ev(toy.with_changes({"table": "demand", "column": "quantity", "set": 3})) == [3.0] * 3


def test_set_a_blank_and_a_whole_number_column(toy):
    inst = toy.with_changes([
        {"table": "trade", "where": {"commodity": "prnd_oxide"}, "column": "max_quantity", "set": 4},
        {"table": "build_limits", "where": {"process": "magnet_making"}, "column": "max_new", "set": 3},
        {"table": "processes", "where": {"process": "mine"}, "column": "lead_time", "set": 0},
        {"table": "processes", "where": {"process": "separation"}, "column": "lifetime", "scale": 0.5},
    ])
    assert inst.trade["max_quantity"].tolist() == [4.0]
    assert inst.build_limits["max_new"].tolist() == [3.0]
    p = inst.processes.set_index("process")
    assert p.at["mine", "lead_time"] == 0 and p.at["separation", "lifetime"] == 10
    assert str(inst.processes["lifetime"].dtype) == "Int64"
    # and back to blank: unbounded again
    again = inst.with_changes({"table": "trade", "where": {}, "column": "max_quantity", "set": None})
    assert again.trade["max_quantity"].isna().all()


def test_instance_settings_change(toy, tmp_path, base_objective):
    inst = toy.with_changes({"table": "instance", "column": "discount_rate", "set": 0.1})
    assert inst.discount_rate == 0.1
    assert toy.with_changes({"table": "instance", "column": "discount_rate", "scale": 3}).discount_rate == pytest.approx(0.15)
    assert toy.with_changes({"table": "instance", "column": "unmet_penalty", "set": 7}).unmet_penalty == 7.0
    # the same as writing the new rate into instance.yaml
    folder = toy.to_folder(tmp_path / "toy")
    s = yaml.safe_load((folder / "instance.yaml").read_text())
    s["discount_rate"] = 0.1
    (folder / "instance.yaml").write_text(yaml.safe_dump(s, sort_keys=False))
    changed = solve(inst).objective
    assert changed == pytest.approx(solve(load_instance(folder)).objective, rel=1e-12)
    assert changed != pytest.approx(base_objective, rel=1e-6)


def test_an_instance_yaml_scenario_may_change_a_setting(toy_dir):
    s = yaml.safe_load((toy_dir / "instance.yaml").read_text())
    s["scenarios"]["patient"] = {"description": "lower rate", "changes": [
        {"table": "instance", "column": "discount_rate", "set": 0.01}]}
    (toy_dir / "instance.yaml").write_text(yaml.safe_dump(s, sort_keys=False))
    assert load_instance(toy_dir, scenario="patient").discount_rate == 0.01


# --------------------------------------------------------------------------------------------
# named scenarios and composition
# --------------------------------------------------------------------------------------------


@pytest.fixture
def ab_dir(toy_dir):
    """The toy with scenarios a (double ev demand) and b (ev demand of 2022 set to 5)."""
    s = yaml.safe_load((toy_dir / "instance.yaml").read_text())
    s["scenarios"]["a"] = {"description": "double ev", "changes": [SCALE_EV]}
    s["scenarios"]["b"] = {"description": "2022 at 5", "changes": [SET_EV_2022]}
    (toy_dir / "instance.yaml").write_text(yaml.safe_dump(s, sort_keys=False))
    return toy_dir


def test_composing_named_scenarios(ab_dir):
    for spec in (["a", "b"], "a+b", ["a+b"]):
        inst = load_instance(ab_dir, scenario=spec)
        assert ev(inst) == [20.0, 5.0, 30.0], spec
        assert inst.scenario == "a+b"
    for spec in (["b", "a"], "b+a"):
        inst = load_instance(ab_dir, scenario=spec)
        assert ev(inst) == [20.0, 10.0, 30.0], spec
        assert inst.scenario == "b+a"
    # the same through with_scenario, and a scenario applied twice applies twice
    base = load_instance(ab_dir)
    assert ev(base.with_scenario("a", "b")) == [20.0, 5.0, 30.0]
    assert ev(load_instance(ab_dir, scenario="a+a")) == [40.0, 48.0, 60.0]
    assert base.scenario is None


def test_a_composition_naming_an_unknown_scenario(ab_dir):
    p = find_problem(problems_of(ab_dir, scenario="a+c"), "instance.yaml", column="scenarios",
                     says="no scenario named 'c'")
    assert "a, b, ev_boom, no_target" in p.message


def test_with_changes_labels_what_was_applied(toy):
    inst = toy.with_scenario("ev_boom").with_changes([SET_EV_2022], label="half_2022")
    assert inst.applied == ["ev_boom", "half_2022"] and inst.scenario == "ev_boom+half_2022"
    assert ev(inst) == [12.0, 5.0, 18.0]


def test_ev_boom_raises_ev_demand_and_the_objective(toy, base_objective):
    boom = load_instance(TOY, scenario="ev_boom")
    assert ev(boom) == pytest.approx([12.0, 14.4, 18.0], rel=1e-15)
    assert lace(boom) == lace(toy)
    r = solve(boom)
    assert r.status == "optimal" and r.objective > base_objective * 1.05
    assert r.scenario == "ev_boom"
    # the boom is served (cheaper than the unmet penalty of 100 a vehicle), not left unmet
    act = r.activity
    made = act.loc[act["process"] == "ev_assembly"].sort_values("year")["activity"].tolist()
    unmet = r.unmet.loc[r.unmet["commodity"] == "ev"]["quantity"].sum() if len(r.unmet) else 0.0
    assert sum(made) + unmet == pytest.approx(12.0 + 14.4 + 18.0, rel=1e-9)


def test_no_target_removes_the_magnet_capacity_floor(toy, base_objective):
    inst = load_instance(TOY, scenario="no_target")
    assert inst.policies.set_index("policy").at["south_magnet_target", "value"] == 0
    r = solve(inst)
    # dropping a binding floor can only lower the cost, and here it does
    assert r.status == "optimal" and r.objective < base_objective - 1e-6


# --------------------------------------------------------------------------------------------
# bad changes
# --------------------------------------------------------------------------------------------

BAD_CHANGES = [
    ({"table": "demands", "column": "quantity", "scale": 2}, "table", "unknown table 'demands'"),
    ({"table": "demand", "column": "qty", "scale": 2}, "column", "no column 'qty'"),
    ({"table": "demand", "where": {"commodity": "bike"}, "column": "quantity", "scale": 2}, "where",
     "no row of 'demand' matches commodity=bike"),
    ({"table": "demand", "where": {"year": "soon"}, "column": "quantity", "scale": 2}, "where", "'year' is numeric"),
    ({"table": "demand", "where": {"colour": "red"}, "column": "quantity", "scale": 2}, "where", "no column 'colour'"),
    ({"table": "demand", "column": "quantity"}, None, "exactly one of scale or set"),
    ({"table": "demand", "column": "quantity", "scale": 2, "set": 1}, None, "exactly one of scale or set"),
    ({"table": "demand", "column": "quantity", "scale": "lots"}, "scale", "finite number"),
    ({"table": "demand", "column": "quantity", "scale": float("inf")}, "scale", "finite number"),
    ({"table": "demand", "column": "quantity", "scale": -1}, None, "expected a number >= 0"),
    ({"table": "demand", "column": "quantity", "set": "many"}, "set", "expected a number"),
    ({"table": "demand", "column": "region", "scale": 2}, "column", "'region' is part of the key of 'demand'"),
    ({"table": "demand", "column": "year", "set": 2021}, "column", "'year' is part of the key of 'demand'"),
    ({"table": "capacity", "where": {"process": "mine"}, "column": "process", "set": "separation"}, "column",
     "'process' is part of the key of 'capacity'"),
    ({"table": "processes", "column": "capex", "scale": 2, "where": {"region": "north"}}, "where", "no column 'region'"),
    ({"table": "policies", "column": "kind", "set": "max_fun"}, "set", "expected one of"),
    ({"table": "processes", "column": "availability", "set": 0}, None, "> 0"),
    ({"table": "instance", "column": "title", "set": "x"}, "column", "unknown setting 'title'"),
    ({"table": "instance", "column": "discount_rate", "set": "high"}, "set", "finite number"),
    ({"table": "instance", "column": "discount_rate", "set": 1.5}, "set", "setting 'discount_rate' must lie in (-0.5, 1)"),
    ({"table": "instance", "column": "discount_rate", "scale": 40}, "scale", "setting 'discount_rate' must lie in (-0.5, 1)"),
    ({"table": "instance", "column": "unmet_penalty", "set": -5}, "set", "setting 'unmet_penalty' must be >= 0"),
    ({"table": "instance", "column": "base_year", "set": 2021.5}, "set", "setting 'base_year' must be a whole number"),
    ({"table": "demand", "column": "quantity", "scale": 2, "colour": "red"}, None, "unknown key(s) colour"),
    ("double the demand", None, "expected a mapping"),
]


@pytest.mark.parametrize("change,column,says", BAD_CHANGES, ids=[s for *_, s in BAD_CHANGES])
def test_a_bad_change_names_itself(toy, change, column, says):
    with pytest.raises(InstanceError) as info:
        toy.with_changes([SCALE_EV, change])
    p = find_problem(info.value.problems, "with_changes", column=column, says=("change 2:", says))
    assert not p.message.startswith("change, ")


def test_every_bad_change_is_reported(toy):
    with pytest.raises(InstanceError) as info:
        toy.with_changes([{"table": "demands", "column": "quantity", "scale": 2}, SCALE_EV,
                          {"table": "demand", "column": "qty", "set": 1}])
    problems = info.value.problems
    find_problem(problems, "with_changes", says="change 1: unknown table")
    find_problem(problems, "with_changes", says="change 3: table 'demand' has no column 'qty'")
    assert len(problems) == 2


def test_a_change_to_an_unknown_name_is_refused(toy):
    # a name column outside the key: the policy's regions
    with pytest.raises(InstanceError) as info:
        toy.with_changes({"table": "policies", "where": {"policy": "south_magnet_target"}, "column": "regions", "set": "east"})
    find_problem(info.value.problems, "policies.csv", 2, "regions", says="east")


def test_a_bad_named_scenario_is_located_in_instance_yaml(toy):
    with pytest.raises(InstanceError) as info:
        toy.with_changes([SCALE_EV, {"table": "nope", "column": "x", "set": 1}], label="x", where_from="scenario 'x'")
    find_problem(info.value.problems, "instance.yaml", says="scenario 'x', change 2: unknown table 'nope'")


# --------------------------------------------------------------------------------------------
# with_years
# --------------------------------------------------------------------------------------------


def test_with_years_restricts_the_horizon(toy):
    late = toy.with_years(2022, 2023)
    assert late.years == [2022, 2023] and (late.first_year, late.last_year) == (2022, 2023)
    assert sorted(set(late.demand["year"])) == [2022, 2023]
    assert ev(late) == [12.0, 15.0]
    # existing capacity listed for 2021 still carries into 2022; blank-year rows stay
    assert len(late.capacity) == len(toy.capacity)
    assert late.policies["policy"].tolist() == ["south_magnet_target", "mining_quota"]
    assert late.build_limits["year"].isna().all()
    early = toy.with_years(last=2021)
    assert early.years == [2021] and ev(early) == [10.0]
    assert early.policies["policy"].tolist() == ["mining_quota"]  # the 2023 target is outside
    assert toy.years == [2021, 2022, 2023]  # the original is untouched
    r = solve(early)
    assert r.status == "optimal" and set(r.activity["year"]) == {2021}


def test_with_years_drops_capacity_after_the_new_horizon(toy_dir):
    set_cell(toy_dir, "capacity", line_of(toy_dir, "capacity", process="mine"), "year", "2023")
    inst = load_instance(toy_dir)
    assert 2023 in set(inst.with_years(2021, 2023).capacity["year"])
    assert 2023 not in set(inst.with_years(2021, 2022).capacity["year"])


@pytest.mark.parametrize("first,last", [(2020, 2022), (2022, 2024), (2023, 2022)])
def test_with_years_outside_the_horizon(toy, first, last):
    with pytest.raises(InstanceError) as info:
        toy.with_years(first, last)
    find_problem(info.value.problems, "instance.yaml", column="years", says="not within the instance's horizon 2021:2023")
