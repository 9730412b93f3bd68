"""Instance.with_changes shares the tables it does not change and re-runs only the cross-table
checks changed numbers can affect, yet reports every problem the full validation reports."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from rechain import instances
from rechain.model import InstanceError, Problem, load_instance
from rechain.model.changes import _apply_change
from rechain.model.validation import _check_references, _value_checks
from rechain.model.schema import TABLES

EV = {"commodity": "ev"}
UNMET = "is demanded but has no unmet_penalty: set unmet_penalty in instance.yaml or in commodities.csv"


@pytest.fixture(scope="module")
def toy():
    return load_instance(instances.path("toy"))


@pytest.fixture(scope="module")
def default():
    return load_instance(instances.path())


@pytest.fixture(scope="module")
def no_penalty(toy):
    """The toy without an instance-wide unmet penalty: ev has a penalty of its own, and the
    demand for lace_oxide (which has none) is 0, so the instance is valid as it stands."""
    inst = toy.copy()
    inst.unmet_penalty = None
    com = inst.tables["commodities"]
    com.loc[com["commodity"] == "ev", "unmet_penalty"] = 50.0
    dem = inst.tables["demand"]
    dem.loc[dem["commodity"] == "lace_oxide", "quantity"] = 0.0
    found: list[Problem] = []
    _check_references(inst, found)
    assert found == []
    return inst


def snapshot(inst):
    return {k: (v, v.copy()) for k, v in inst.tables.items()}


def assert_untouched(inst, snap):
    assert set(inst.tables) == set(snap)
    for k, (obj, values) in snap.items():
        assert inst.tables[k] is obj, k
        assert_frame_equal(inst.tables[k], values)


def reference(inst, changes, where_from=None):
    """with_changes the way it was first written: a deep copy, every change applied, then every
    cross-table check. Returns (instance, []) or (None, problems)."""
    trial = inst.copy()
    found: list[Problem] = []
    for i, ch in enumerate(changes, 1):
        _apply_change(trial, ch, f"{where_from}, change {i}" if where_from else f"change {i}", found,
                      file="instance.yaml" if where_from else "with_changes")
    if found:
        return None, found
    _check_references(trial, found)
    return (None, found) if found else (trial, [])


def problems_of(inst, changes, where_from=None):
    with pytest.raises(InstanceError) as e:
        inst.with_changes(changes, where_from=where_from)
    return e.value.problems


# -- sharing and isolation ------------------------------------------------------------------


def test_the_base_instance_is_never_modified(toy):
    snap = snapshot(toy)
    settings = (toy.unmet_penalty, toy.discount_rate, toy.base_year, list(toy.applied))
    out = toy.with_changes([
        {"table": "demand", "where": EV, "column": "quantity", "scale": 2},
        {"table": "processes", "where": {"process": "mine"}, "column": "lifetime", "set": 7},
        {"table": "process_io", "where": {"process": "separation", "commodity": "prnd_oxide"}, "column": "coefficient", "set": 0.3},
        {"table": "instance", "column": "unmet_penalty", "set": 9},
        {"table": "policies", "where": {"policy": "south_magnet_target"}, "column": "regions", "set": "north"},
    ])
    scen = toy.with_scenario("ev_boom", "no_target")
    # a call that fails after its first change was applied
    with pytest.raises(InstanceError):
        toy.with_changes([{"table": "demand", "where": EV, "column": "quantity", "set": 99},
                          {"table": "policies", "where": {}, "column": "value", "scale": -1}])
    assert_untouched(toy, snap)
    assert (toy.unmet_penalty, toy.discount_rate, toy.base_year, list(toy.applied)) == settings
    # the changes did land in the results
    assert out.demand.loc[out.demand["commodity"] == "ev", "quantity"].tolist() == [20, 24, 30]
    assert out.processes.loc[out.processes["process"] == "mine", "lifetime"].tolist() == [7]
    assert out.unmet_penalty == 9
    assert scen.demand.loc[scen.demand["commodity"] == "ev", "quantity"].tolist() == pytest.approx([12, 14.4, 18])
    assert scen.policies.loc[scen.policies["policy"] == "south_magnet_target", "value"].tolist() == [0]
    # the tables no change touched are shared, the changed ones are new objects
    for name in ("regions", "commodities", "capacity", "trade", "build_limits"):
        assert out.tables[name] is toy.tables[name]
    for name in ("demand", "processes", "process_io", "policies"):
        assert out.tables[name] is not toy.tables[name]


def test_a_second_change_does_not_modify_the_first_result(toy):
    first = toy.with_changes({"table": "demand", "where": EV, "column": "quantity", "scale": 2})
    snap = snapshot(first)
    second = first.with_changes([
        {"table": "demand", "where": {}, "column": "quantity", "scale": 3},
        {"table": "processes", "where": {}, "column": "capex", "scale": 0.5},
        {"table": "commodities", "where": {"commodity": "ev"}, "column": "unmet_penalty", "set": 4},
    ])
    assert_untouched(first, snap)
    assert first.applied == ["changes1"] and second.applied == ["changes1", "changes2"]
    assert second.demand["quantity"].tolist() == [60, 72, 90, 60, 60, 60]
    assert second.processes["capex"].tolist() == [50, 40, 15, 25, 10, 0]
    # the settings containers are copies too
    second.units["money"] = "EUR"
    second.scenarios["ev_boom"]["changes"][0]["scale"] = 5
    second.sources[0]["title"] = "changed"
    assert first.units["money"] == "CNY million" and toy.units["money"] == "CNY million"
    assert first.scenarios["ev_boom"]["changes"][0]["scale"] == 1.2
    assert toy.sources[0]["title"] != "changed"


def test_loading_applies_the_scenarios_to_trial_copies_only(toy):
    # every named scenario is tried at load: the loaded tables keep the values of the files
    assert toy.demand.loc[toy.demand["commodity"] == "ev", "quantity"].tolist() == [10, 12, 15]
    assert toy.policies.loc[toy.policies["policy"] == "south_magnet_target", "value"].tolist() == [32]


def test_copy_stays_a_deep_copy(toy):
    c = toy.copy()
    for name, df in toy.tables.items():
        assert c.tables[name] is not df
    c.tables["demand"].loc[c.tables["demand"].index[0], "quantity"] = 1234.0
    assert toy.demand["quantity"].iloc[0] == 10


# -- which checks run -----------------------------------------------------------------------


@pytest.mark.parametrize("change, expected", [
    ({"table": "processes", "column": "capex"}, {"plantless_costs"}),  # a process without plant has none
    ({"table": "process_costs", "column": "variable_cost"}, set()),
    ({"table": "demand_response", "column": "share"}, {"curve_shares"}),
    ({"table": "storage", "column": "final"}, {"storage_levels"}),
    ({"table": "process_io", "column": "delay"}, {"io_delays"}),
    ({"table": "processes", "column": "lifetime"}, set()),
    ({"table": "policies", "column": "value"}, set()),
    ({"table": "process_io", "column": "coefficient"}, {"reference_coefficients"}),
    ({"table": "demand", "column": "quantity"}, {"unmet_penalty"}),
    ({"table": "commodities", "column": "unmet_penalty"}, {"unmet_penalty"}),
    ({"table": "instance", "column": "unmet_penalty"}, {"unmet_penalty"}),
    ({"table": "instance", "column": "discount_rate"}, None),
    ({"table": "instance", "column": "base_year"}, None),
    ({"table": "demand", "column": "year"}, None),
    ({"table": "policies", "column": "year"}, None),
    ({"table": "demand", "column": "region"}, None),
    ({"table": "process_io", "column": "reference"}, None),
    ({"table": "policies", "column": "processes"}, None),
    ({"table": "commodities", "column": "description"}, None),
    ({"table": "nowhere", "column": "x"}, None),
])
def test_value_checks_follow_the_changed_columns(change, expected):
    assert _value_checks([change]) == expected
    # one change outside the numbers means every check
    assert _value_checks([change, {"table": "demand", "column": "region"}]) is None


# -- every problem of the full validation is still reported ---------------------------------


def same_as_reference(inst, changes, where_from=None):
    got = problems_of(inst, changes, where_from)
    _, want = reference(inst, changes, where_from)
    assert got == want
    return got


def test_demand_set_from_zero_without_a_penalty(no_penalty):
    ch = {"table": "demand", "where": {"commodity": "lace_oxide", "year": 2022}, "column": "quantity", "set": 5}
    assert same_as_reference(no_penalty, [ch]) == [Problem("instance.yaml", f"commodity 'lace_oxide' {UNMET}", column="unmet_penalty")]
    # scaling a zero demand keeps it zero: nothing to report
    out = no_penalty.with_changes({"table": "demand", "where": {"commodity": "lace_oxide"}, "column": "quantity", "scale": 3})
    assert out.demand.loc[out.demand["commodity"] == "lace_oxide", "quantity"].tolist() == [0, 0, 0]
    # an instance-wide penalty set in the same call covers it
    no_penalty.with_changes([ch, {"table": "instance", "column": "unmet_penalty", "set": 10}])
    # as does a penalty of the commodity's own
    no_penalty.with_changes([ch, {"table": "commodities", "where": {"commodity": "lace_oxide"}, "column": "unmet_penalty", "set": 3}])


def test_a_penalty_blanked_for_a_demanded_commodity(no_penalty):
    ch = {"table": "commodities", "where": EV, "column": "unmet_penalty", "set": None}
    assert same_as_reference(no_penalty, [ch]) == [Problem("instance.yaml", f"commodity 'ev' {UNMET}", column="unmet_penalty")]


def test_a_key_column_cannot_be_changed(no_penalty):
    # a new demanded commodity (or region, or year) would come from renaming a demand row: refused
    for column, value in (("commodity", "magnet"), ("region", "north"), ("year", 2022)):
        ch = {"table": "demand", "where": {"commodity": "ev", "year": 2021}, "column": column, "set": value}
        got = problems_of(no_penalty, [ch])
        assert [(p.file, p.column, p.value) for p in got] == [("with_changes", "column", column)]
        assert f"'{column}' is part of the key of 'demand'" in got[0].message


def test_a_reference_coefficient_changed_away_from_one(toy):
    ch = {"table": "process_io", "where": {"process": "mine", "commodity": "ore"}, "column": "coefficient", "set": 2}
    assert same_as_reference(toy, [ch]) == [
        Problem("process_io.csv", "the reference row's coefficient must be 1", row=2, column="coefficient", value=2.0)]
    # every row scaled: every reference row is reported, process by process in name order
    got = same_as_reference(toy, [{"table": "process_io", "where": {}, "column": "coefficient", "scale": 0.5}])
    assert [p.row for p in got] == [14, 9, 7, 2, 11, 3]
    assert {p.value for p in got} == {0.5}
    # a row that is not a reference row may take any positive coefficient
    toy.with_changes({"table": "process_io", "where": {"process": "separation", "commodity": "prnd_oxide"}, "column": "coefficient", "scale": 2})
    # set back to 1 by a later change of the same call: nothing to report
    toy.with_changes([ch, {"table": "process_io", "where": {"process": "mine"}, "column": "coefficient", "set": 1}])


def test_a_name_set_to_an_unknown_name(toy):
    ch = {"table": "policies", "where": {"policy": "south_magnet_target"}, "column": "regions", "set": "east"}
    assert same_as_reference(toy, [ch]) == [
        Problem("policies.csv", "unknown region 'east' (expected a region of regions.csv: north, south)", row=2, column="regions", value="east")]
    # after a numeric change in the same call, every check still runs
    assert same_as_reference(toy, [{"table": "processes", "where": {}, "column": "capex", "scale": 2}, ch])[0].column == "regions"


def test_a_year_set_outside_the_horizon(toy):
    # build_limits has no key: its year says which years a limit holds in
    ch = {"table": "build_limits", "where": {}, "column": "year", "set": 2030}
    assert same_as_reference(toy, [ch]) == [Problem("build_limits.csv", "year outside the horizon 2021-2023", row=2, column="year", value=2030)]
    ch = {"table": "build_limits", "where": {}, "column": "year", "set": 2022}
    assert toy.with_changes(ch).build_limits["year"].tolist() == [2022]


def test_a_negative_value_by_scale(toy):
    ch = {"table": "demand", "where": EV, "column": "quantity", "scale": -1}
    assert same_as_reference(toy, [ch]) == [
        Problem("with_changes", "change 1: the result for column 'quantity' is invalid: expected a number >= 0", value=-10.0)]
    got = same_as_reference(toy, [{"table": "demand", "where": {}, "column": "quantity", "scale": 2}, ch], where_from="scenario 'x'")
    assert got == [Problem("instance.yaml", "scenario 'x', change 2: the result for column 'quantity' is invalid: expected a number >= 0", value=-20.0)]


@pytest.mark.parametrize("column, scale, message, value", [
    ("availability", 0, "expected a number > 0", 0.0),
    ("availability", 1.5, "expected a number <= 1", 1.5),
    ("capex", 1e308, "expected a finite number", math.inf),
    ("lifetime", 0.01, "expected a number >= 1", 0.0),
])
def test_the_first_out_of_range_result_is_reported(toy, column, scale, message, value):
    ch = {"table": "processes", "where": {}, "column": column, "scale": scale}
    assert same_as_reference(toy, [ch]) == [
        Problem("with_changes", f"change 1: the result for column '{column}' is invalid: {message}", value=value)]


def test_blank_results_are_not_range_checked(toy):
    # build_limits' max_new is blank in the toy: scaling it by a negative number leaves it blank
    out = toy.with_changes({"table": "build_limits", "where": {}, "column": "max_new", "scale": -1})
    assert out.build_limits["max_new"].isna().all()


def expected_range_problem(inst, table, column, scale):
    """The first scaled value out of its column's range, found row by row."""
    col = TABLES[table].column(column)
    for x in inst.tables[table][column].tolist():
        if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)):
            continue
        v = float(x) * scale
        if col.type == "int" and math.isfinite(v):
            v = float(round(v))
        msg = None
        if math.isinf(v) or math.isnan(v):
            msg = None if math.isnan(v) else "expected a finite number"
        elif abs(v) >= 1e20:  # HiGHS's infinity
            msg = "expected a number below 1e+20 in magnitude (the solver reads larger ones as infinite)"
        elif col.min is not None and v < col.min:
            msg = f"expected a number >= {col.min:g}"
        elif col.gt is not None and v <= col.gt:
            msg = f"expected a number > {col.gt:g}"
        elif col.max is not None and v > col.max:
            msg = f"expected a number <= {col.max:g}"
        if msg:
            return Problem("with_changes", f"change 1: the result for column '{column}' is invalid: {msg}", value=v)
    return None


@pytest.mark.parametrize("which", ["toy", "default"])
def test_range_problems_match_a_row_by_row_search(which, request):
    inst = request.getfixturevalue(which)
    rng = random.Random(7)
    numeric = [(t, c.name) for t in TABLES for c in TABLES[t].columns
               if c.type in ("int", "float") and c.name != "year" and c.name not in TABLES[t].key and len(inst.tables[t])
               and inst.tables[t][c.name].notna().any()  # scaling a column of blanks changes nothing
               and (t, c.name) != ("process_io", "coefficient")]  # its reference rows must stay 1: not a range
    for _ in range(60):
        table, column = rng.choice(numeric)
        scale = rng.choice([-2.5, -1, -1e-3, 0, 1e-4, 0.3, 0.5, 1, 1.7, 2, 40, 1e306, 1e308])
        want = expected_range_problem(inst, table, column, scale)
        ch = {"table": table, "where": {}, "column": column, "scale": scale}
        if want is None:
            inst.with_changes(ch)
        else:
            assert problems_of(inst, [ch]) == [want], (table, column, scale)


# -- equivalence with the full copy and the full validation ---------------------------------


def random_change(rng, inst):
    if rng.random() < 0.05:
        return {"table": "instance", "column": "unmet_penalty", "set": rng.choice([0, 1, 250.5])}
    def changeable(schema):  # numbers other than years and key columns (a scenario cannot change a key)
        return [c.name for c in schema.columns if c.type in ("int", "float") and c.name != "year" and c.name not in schema.key]
    tables = [t for t in TABLES if len(inst.tables[t]) and changeable(TABLES[t])]
    table = rng.choice(tables)
    schema = TABLES[table]
    column = rng.choice(changeable(schema))
    df = inst.tables[table]
    row = df.iloc[rng.randrange(len(df))]
    names = [c.name for c in schema.columns if c.type == "name" and isinstance(row[c.name], str)]
    where = {c: row[c] for c in rng.sample(names, rng.randint(0, len(names)))}
    if "year" in df.columns and not pd.isna(row["year"]) and rng.random() < 0.3:
        where["year"] = int(row["year"])
    if rng.random() < 0.7:
        return {"table": table, "where": where, "column": column,
                "scale": rng.choice([0, 0.25, 0.5, 0.9, 1, 1.1, 2, 3.7, 10, -1])}
    return {"table": table, "where": where, "column": column, "set": rng.choice([0, 0.5, 1, 3, 7, 250.0, None])}


def expected_column(before: pd.Series, df: pd.DataFrame, ch) -> np.ndarray:
    """The values of the changed column, computed directly from the selected rows."""
    mask = np.ones(len(df), dtype=bool)
    for k, v in (ch.get("where") or {}).items():
        if k == "year":
            mask &= (df[k].to_numpy(dtype="float64", na_value=np.nan) == float(v))
        else:
            mask &= (df[k].astype(str) == str(v)).to_numpy()
    out = before.to_numpy(dtype="float64", na_value=np.nan).copy()
    if "scale" in ch:
        new = out[mask] * float(ch["scale"])
        out[mask] = np.round(new) if TABLES[ch["table"]].column(ch["column"]).type == "int" else new
    else:
        default = TABLES[ch["table"]].column(ch["column"]).default  # a blank means the column's default
        out[mask] = (np.nan if default is None else float(default)) if ch["set"] is None else float(ch["set"])
    return out


@pytest.mark.parametrize("which", ["toy", "no_penalty", "default"])
def test_random_numeric_changes_match_the_full_path(which, request):
    base = request.getfixturevalue(which)
    snap = snapshot(base)
    rng = random.Random(2024)
    outcomes = {"ok": 0, "refused": 0}
    for _ in range(120):
        changes = [random_change(rng, base) for _ in range(rng.randint(1, 3))]
        want, want_problems = reference(base, changes)
        try:
            got = base.with_changes(changes)
        except InstanceError as e:
            assert want is None, changes
            assert e.problems == want_problems, changes
            outcomes["refused"] += 1
            continue
        assert want is not None, (changes, want_problems)
        outcomes["ok"] += 1
        assert got.unmet_penalty == want.unmet_penalty
        assert set(got.tables) == set(want.tables)
        for name in got.tables:
            assert_frame_equal(got.tables[name], want.tables[name], obj=name)
        # the changed column, computed apart from _apply_change
        touched = {ch["table"] for ch in changes}
        values = {}
        for ch in changes:
            if ch["table"] == "instance":
                continue
            key = (ch["table"], ch["column"])
            before = values.get(key, base.tables[ch["table"]][ch["column"]])
            values[key] = pd.Series(expected_column(before, base.tables[ch["table"]], ch))
        for (table, column), exp in values.items():
            np.testing.assert_array_equal(got.tables[table][column].to_numpy(dtype="float64", na_value=np.nan), exp.to_numpy())
        for name in got.tables:
            if name not in touched:
                assert got.tables[name] is base.tables[name]
    assert_untouched(base, snap)
    # the random changes exercise both outcomes
    assert outcomes["ok"] > 20 and outcomes["refused"] > 5, outcomes
