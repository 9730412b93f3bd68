"""Validation of the instance contract (SPEC section 1): each planted problem in a copy of the toy
is reported by one InstanceError, located at its file, row (header = line 1) and column, saying
what was expected; several planted problems are all reported at once; harmless variations
(BOM, CRLF, blank lines, note/source columns) load to the same instance.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from conftest import (
    add_row,
    copy_row,
    drop_column,
    find_problem,
    line_of,
    problems_of,
    read_rows,
    set_cell,
    write_rows,
)
from rechain import instances
from rechain.model import InstanceError, load_instance
from rechain.model.schema import TABLES

TOY_TABLES = ["regions", "commodities", "processes", "process_io", "capacity", "build_limits",
              "demand", "trade", "policies"]


def add_supply(folder) -> None:
    """The toy buys nothing from outside; give it a supply table of two rows (lines 2, 3)."""
    write_rows(folder, "supply", [
        ["commodity", "region", "year", "max_quantity", "price", "source"],
        ["ore", "north", "2021", "5", "3.5", "toy"],
        ["ore", "north", "", "", "4", "toy"],
    ])


def edit_yaml(folder, edit) -> None:
    path = folder / "instance.yaml"
    s = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(s)
    path.write_text(yaml.safe_dump(s, sort_keys=False), encoding="utf-8")


def add_scenario(folder, change: dict) -> None:
    edit_yaml(folder, lambda s: s["scenarios"].__setitem__("bad", {"description": "", "changes": [change]}))


def test_the_toy_itself_is_valid():
    inst = load_instance(instances.path("toy"))
    assert inst.years == [2021, 2022, 2023]
    assert len(inst.process_io) == 13


# --------------------------------------------------------------------------------------------
# missing files and columns
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", [t for t, spec in TABLES.items() if spec.required])
def test_missing_required_file(toy_dir, table):
    (toy_dir / f"{table}.csv").unlink()
    problems = problems_of(toy_dir)
    find_problem(problems, f"{table}.csv", says="missing required file")
    # the names that table defines are not known, but that is not reported row by row elsewhere
    assert len(problems) == 1, problems


def test_missing_instance_yaml(toy_dir):
    (toy_dir / "instance.yaml").unlink()
    find_problem(problems_of(toy_dir), "instance.yaml", says="missing required file")


def test_optional_files_may_be_absent(toy_dir):
    for t in ("capacity", "build_limits", "demand", "trade", "policies"):
        (toy_dir / f"{t}.csv").unlink()
    edit_yaml(toy_dir, lambda s: s.pop("scenarios"))  # they select rows of the removed tables
    inst = load_instance(toy_dir)
    assert len(inst.demand) == 0 and list(inst.demand.columns) == TABLES["demand"].column_names


@pytest.mark.parametrize(
    "table,column",
    [(t, c.name) for t in TOY_TABLES for c in TABLES[t].columns if c.required],
)
def test_missing_column(toy_dir, table, column):
    drop_column(toy_dir, table, column)
    find_problem(problems_of(toy_dir), f"{table}.csv", 1, column, says=f"missing column '{column}'")


def test_optional_columns_may_be_absent(toy_dir):
    drop_column(toy_dir, "commodities", "unmet_penalty")
    drop_column(toy_dir, "commodities", "disposal_cost")
    inst = load_instance(toy_dir)
    assert inst.commodities["disposal_cost"].isna().all()


def test_unknown_column(toy_dir):
    rows = read_rows(toy_dir, "demand")
    write_rows(toy_dir, "demand", [r + ["x"] for r in rows[:1]] + [r + ["1"] for r in rows[1:]])
    find_problem(problems_of(toy_dir), "demand.csv", 1, "x", says=("unknown column", "expected"))


# --------------------------------------------------------------------------------------------
# unknown names, in every table that names regions, commodities or processes
# --------------------------------------------------------------------------------------------

UNKNOWN_NAMES = [
    # table, line, column, planted value, the name reported unknown, what it is
    ("process_io", 2, "process", "quarry", "quarry", "process"),
    ("process_io", 3, "commodity", "rock", "rock", "commodity"),
    ("capacity", 2, "process", "quarry", "quarry", "process"),
    ("capacity", 2, "region", "east", "east", "region"),
    ("build_limits", 2, "process", "quarry", "quarry", "process"),
    ("build_limits", 2, "region", "east", "east", "region"),
    ("demand", 2, "commodity", "bike", "bike", "commodity"),
    ("demand", 2, "region", "east", "east", "region"),
    ("supply", 2, "commodity", "rock", "rock", "commodity"),
    ("supply", 3, "region", "east", "east", "region"),
    ("trade", 2, "commodity", "rock", "rock", "commodity"),
    ("trade", 2, "origin", "east", "east", "region"),
    ("trade", 2, "destination", "east", "east", "region"),
    ("policies", 2, "processes", "magnet_making;quarry", "quarry", "process"),
    ("policies", 3, "processes", " quarry ", "quarry", "process"),
    ("policies", 2, "regions", "south; east", "east", "region"),
]


@pytest.mark.parametrize("table,line,column,planted,name,what", UNKNOWN_NAMES,
                         ids=[f"{t}-{c}-{ln}" for t, ln, c, *_ in UNKNOWN_NAMES])
def test_unknown_name(toy_dir, table, line, column, planted, name, what):
    add_supply(toy_dir)
    set_cell(toy_dir, table, line, column, planted)
    p = find_problem(problems_of(toy_dir), f"{table}.csv", line, column, says=(f"unknown {what} '{name}'", "expected"))
    assert p.value == name


def test_unknown_commodity_in_a_policy_list(toy_dir):
    line = add_row(toy_dir, "policies", dict(policy="ore_cap", kind="max_supply", value="1",
                                             commodities="ore;rock", regions="*"))
    p = find_problem(problems_of(toy_dir), "policies.csv", line, "commodities", says=("unknown commodity 'rock'", "expected"))
    assert p.value == "rock"


def test_unknown_destination_in_a_policy_list(toy_dir):
    line = add_row(toy_dir, "policies", dict(policy="export_cap", kind="max_trade", value="1",
                                             commodities="prnd_oxide", regions="north", destinations="south;east"))
    find_problem(problems_of(toy_dir), "policies.csv", line, "destinations", says="unknown region 'east'")


def test_star_in_lists_and_build_limits_is_not_a_name(toy_dir):
    set_cell(toy_dir, "build_limits", 2, "region", "*")
    set_cell(toy_dir, "policies", 2, "processes", "*")
    inst = load_instance(toy_dir)
    assert inst.build_limits["region"].tolist() == ["*"]
    assert inst.policies["processes"].tolist()[0] == "*"


# --------------------------------------------------------------------------------------------
# duplicate keys
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["regions", "commodities", "processes", "process_io", "capacity",
                                   "demand", "supply", "trade", "policies"])
def test_duplicate_key(toy_dir, table):
    add_supply(toy_dir)
    line = copy_row(toy_dir, table, 2)
    key = TABLES[table].key
    p = find_problem(problems_of(toy_dir), f"{table}.csv", line, key[0], says=("duplicate row", "first given on row 2"))
    for col in key:
        assert f"{col}=" in p.message


def test_duplicate_key_differs_outside_the_key(toy_dir):
    # same (commodity, region, year), another quantity: still one demand stated twice
    line = add_row(toy_dir, "demand", dict(commodity="ev", region="south", year="2022", quantity="99"))
    find_problem(problems_of(toy_dir), "demand.csv", line, "commodity", says="duplicate row for (commodity=ev, region=south, year=2022)")


def test_policy_key_is_policy_and_year(toy_dir):
    # the same policy in another year is not a duplicate; in the same year it is
    ok = add_row(toy_dir, "policies", dict(policy="south_magnet_target", kind="min_capacity", year="2022",
                                           value="30", processes="magnet_making", regions="south"))
    assert load_instance(toy_dir).policies.loc[ok, "year"] == 2022
    dup = add_row(toy_dir, "policies", dict(policy="south_magnet_target", kind="min_capacity", year="2022",
                                            value="31", processes="magnet_making", regions="south"))
    find_problem(problems_of(toy_dir), "policies.csv", dup, "policy", says=f"first given on row {ok}")


def test_blank_year_policy_stated_twice(toy_dir):
    line = copy_row(toy_dir, "policies", line_of(toy_dir, "policies", policy="mining_quota"))
    find_problem(problems_of(toy_dir), "policies.csv", line, "policy", says="year=(blank)")


# --------------------------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------------------------

NOT_NUMBERS = [("abc", "expected a number"), ("1,5", "expected a number"), ("nan", "finite"),
               ("NaN", "finite"), ("inf", "finite"), ("-inf", "finite"), ("1e999", "finite")]


@pytest.mark.parametrize("text,says", NOT_NUMBERS)
def test_not_a_finite_number(toy_dir, text, says):
    set_cell(toy_dir, "demand", 3, "quantity", text)
    p = find_problem(problems_of(toy_dir), "demand.csv", 3, "quantity", says=says)
    assert p.value == text


NEGATIVE = [
    ("demand", 2, "quantity"), ("capacity", 2, "capacity"), ("processes", 2, "capex"),
    ("processes", 3, "fixed_om"), ("processes", 4, "variable_cost"), ("trade", 2, "cost"),
    ("trade", 2, "max_quantity"), ("supply", 2, "price"), ("supply", 2, "max_quantity"),
    ("build_limits", 2, "max_new"), ("build_limits", 2, "max_total"), ("policies", 2, "value"),
    ("policies", 2, "penalty"), ("commodities", 4, "disposal_cost"), ("commodities", 2, "unmet_penalty"),
]


@pytest.mark.parametrize("table,line,column", NEGATIVE, ids=[f"{t}-{c}" for t, _, c in NEGATIVE])
def test_negative_where_not_allowed(toy_dir, table, line, column):
    add_supply(toy_dir)
    set_cell(toy_dir, table, line, column, "-0.5")
    find_problem(problems_of(toy_dir), f"{table}.csv", line, column, says="expected a number >= 0")


def test_zero_is_allowed_where_only_negatives_are_refused(toy_dir):
    set_cell(toy_dir, "demand", 2, "quantity", "0")
    set_cell(toy_dir, "processes", 2, "capex", "0")
    set_cell(toy_dir, "trade", 2, "max_quantity", "0")
    inst = load_instance(toy_dir)
    assert inst.demand.loc[2, "quantity"] == 0 and inst.trade.loc[2, "max_quantity"] == 0


@pytest.mark.parametrize("text", ["", " "])
def test_blank_where_a_value_is_required(toy_dir, text):
    set_cell(toy_dir, "processes", 2, "lifetime", text)
    find_problem(problems_of(toy_dir), "processes.csv", 2, "lifetime", says="a value is required")


@pytest.mark.parametrize("text", ["0", "-0.5"])
def test_coefficient_must_be_positive(toy_dir, text):
    line = line_of(toy_dir, "process_io", process="separation", commodity="prnd_oxide")
    set_cell(toy_dir, "process_io", line, "coefficient", text)
    find_problem(problems_of(toy_dir), "process_io.csv", line, "coefficient", says="expected a number > 0")


def test_reference_must_be_true_or_false(toy_dir):
    set_cell(toy_dir, "process_io", 2, "reference", "maybe")
    find_problem(problems_of(toy_dir), "process_io.csv", 2, "reference", says="expected true or false")


# --------------------------------------------------------------------------------------------
# process rules
# --------------------------------------------------------------------------------------------


def test_process_without_reference_row(toy_dir):
    set_cell(toy_dir, "process_io", line_of(toy_dir, "process_io", process="mine"), "reference", "false")
    p = find_problem(problems_of(toy_dir), "processes.csv", line_of(toy_dir, "processes", process="mine"), "process",
                     says=("'mine'", "exactly one reference row", "found 0"))
    assert "process_io.csv" in p.message


def test_process_with_two_reference_rows(toy_dir):
    second = line_of(toy_dir, "process_io", process="separation", commodity="prnd_oxide")
    set_cell(toy_dir, "process_io", second, "reference", "true")
    set_cell(toy_dir, "process_io", second, "coefficient", "1")  # so only the count is wrong
    problems = problems_of(toy_dir)
    first = line_of(toy_dir, "process_io", process="separation", commodity="ore")
    find_problem(problems, "processes.csv", line_of(toy_dir, "processes", process="separation"), "process",
                 says=("exactly one reference row", "found 2", f"rows {first}, {second}"))
    assert len(problems) == 1, problems


@pytest.mark.parametrize("text", ["2", "0.999"])
def test_reference_coefficient_must_be_one(toy_dir, text):
    line = line_of(toy_dir, "process_io", process="metal_making", commodity="prnd_metal")
    set_cell(toy_dir, "process_io", line, "coefficient", text)
    p = find_problem(problems_of(toy_dir), "process_io.csv", line, "coefficient", says="coefficient must be 1")
    assert p.value == float(text)


@pytest.mark.parametrize("text,says", [("0", "> 0"), ("1.5", "<= 1"), ("-0.2", "> 0")])
def test_availability_outside_0_1(toy_dir, text, says):
    set_cell(toy_dir, "processes", 3, "availability", text)
    find_problem(problems_of(toy_dir), "processes.csv", 3, "availability", says=f"expected a number {says}")


def test_availability_one_and_small_are_fine(toy_dir):
    set_cell(toy_dir, "processes", 3, "availability", "0.01")
    assert load_instance(toy_dir).processes.loc[3, "availability"] == 0.01


@pytest.mark.parametrize("text,says", [("0", ">= 1"), ("-3", ">= 1"), ("2.5", "whole number")])
def test_lifetime(toy_dir, text, says):
    set_cell(toy_dir, "processes", 4, "lifetime", text)
    find_problem(problems_of(toy_dir), "processes.csv", 4, "lifetime", says=f"expected a {'number ' if '=' in says else ''}{says}")


@pytest.mark.parametrize("text,says", [("-1", "expected a number >= 0"), ("0.5", "expected a whole number")])
def test_lead_time(toy_dir, text, says):
    set_cell(toy_dir, "processes", 5, "lead_time", text)
    find_problem(problems_of(toy_dir), "processes.csv", 5, "lead_time", says=says)


def test_lead_time_zero_is_fine(toy_dir):
    set_cell(toy_dir, "processes", 5, "lead_time", "0")
    assert load_instance(toy_dir).processes.loc[5, "lead_time"] == 0


# --------------------------------------------------------------------------------------------
# years
# --------------------------------------------------------------------------------------------

OUTSIDE = [("demand", 2, "2030"), ("demand", 4, "2020"), ("supply", 2, "2024"), ("build_limits", 2, "2020"),
           ("build_limits", 2, "2024"), ("policies", 2, "2019"), ("policies", 3, "2025")]


@pytest.mark.parametrize("table,line,year", OUTSIDE, ids=[f"{t}-{y}" for t, _, y in OUTSIDE])
def test_year_outside_the_horizon(toy_dir, table, line, year):
    add_supply(toy_dir)
    set_cell(toy_dir, table, line, "year", year)
    p = find_problem(problems_of(toy_dir), f"{table}.csv", line, "year", says="outside the horizon 2021-2023")
    assert p.value == int(year)


def test_capacity_after_the_horizon(toy_dir):
    set_cell(toy_dir, "capacity", 3, "year", "2024")
    find_problem(problems_of(toy_dir), "capacity.csv", 3, "year", says="after the horizon 2021-2023")


def test_capacity_before_the_horizon_is_carried_forward(toy_dir):
    # existing capacity listed for an earlier year holds until a later row changes it
    set_cell(toy_dir, "capacity", 3, "year", "2015")
    assert load_instance(toy_dir).capacity.loc[3, "year"] == 2015


def test_year_must_be_whole(toy_dir):
    set_cell(toy_dir, "demand", 2, "year", "2021.5")
    find_problem(problems_of(toy_dir), "demand.csv", 2, "year", says="expected a whole number")


# --------------------------------------------------------------------------------------------
# choices: kinds and directions
# --------------------------------------------------------------------------------------------


def test_unknown_policy_kind(toy_dir):
    set_cell(toy_dir, "policies", 3, "kind", "max_fun")
    p = find_problem(problems_of(toy_dir), "policies.csv", 3, "kind", says=("expected one of", "max_activity", "max_trade"))
    assert p.value == "max_fun"


def test_unknown_commodity_kind(toy_dir):
    set_cell(toy_dir, "commodities", 2, "kind", "gas")
    find_problem(problems_of(toy_dir), "commodities.csv", 2, "kind", says="expected one of raw, material, product, service, waste")


def test_unknown_direction(toy_dir):
    set_cell(toy_dir, "process_io", 5, "direction", "sideways")
    find_problem(problems_of(toy_dir), "process_io.csv", 5, "direction", says="expected one of in, out")


def test_trade_lane_to_itself(toy_dir):
    set_cell(toy_dir, "trade", 2, "destination", "north")
    find_problem(problems_of(toy_dir), "trade.csv", 2, "destination", says="origin and destination must differ")


# --------------------------------------------------------------------------------------------
# instance.yaml and its scenarios
# --------------------------------------------------------------------------------------------


def test_yaml_that_is_a_list(toy_dir):
    (toy_dir / "instance.yaml").write_text("- name: toy\n- years: {first: 2021, last: 2023}\n")
    find_problem(problems_of(toy_dir), "instance.yaml", says=("expected a mapping", "list"))


def test_yaml_that_is_a_scalar(toy_dir):
    (toy_dir / "instance.yaml").write_text("just text\n")
    find_problem(problems_of(toy_dir), "instance.yaml", says="expected a mapping")


def test_yaml_that_is_not_valid(toy_dir):
    (toy_dir / "instance.yaml").write_text("name: toy\nyears: {first: 2021, last: 2023\nbase_year: 2020\n")
    p = find_problem(problems_of(toy_dir), "instance.yaml", says="not valid YAML")
    assert p.row is not None and p.row >= 2


def test_yaml_with_an_unknown_key(toy_dir):
    edit_yaml(toy_dir, lambda s: s.__setitem__("colour", "blue"))
    find_problem(problems_of(toy_dir), "instance.yaml", column="colour", says=("unknown setting 'colour'", "expected"))


def test_yaml_with_an_unknown_key_under_years(toy_dir):
    edit_yaml(toy_dir, lambda s: s["years"].__setitem__("middle", 2022))
    find_problem(problems_of(toy_dir), "instance.yaml", column="years", says=("unknown key 'middle'", "first, last"))


def test_yaml_without_a_horizon(toy_dir):
    edit_yaml(toy_dir, lambda s: s["years"].pop("last"))
    find_problem(problems_of(toy_dir), "instance.yaml", column="years.last", says="missing setting")


def test_scenario_naming_an_unknown_table(toy_dir):
    add_scenario(toy_dir, {"table": "demands", "where": {}, "column": "quantity", "scale": 2})
    find_problem(problems_of(toy_dir), "instance.yaml", column="table",
                 says=("scenario 'bad', change 1", "unknown table 'demands'", "expected one of"))


def test_scenario_naming_an_unknown_column(toy_dir):
    add_scenario(toy_dir, {"table": "demand", "where": {"commodity": "ev"}, "column": "qty", "scale": 2})
    find_problem(problems_of(toy_dir), "instance.yaml", column="column",
                 says=("scenario 'bad'", "no column 'qty'", "columns: commodity, region, year, quantity"))


def test_scenario_selecting_on_an_unknown_column(toy_dir):
    add_scenario(toy_dir, {"table": "demand", "where": {"product": "ev"}, "column": "quantity", "scale": 2})
    find_problem(problems_of(toy_dir), "instance.yaml", column="where", says=("scenario 'bad'", "no column 'product'"))


@pytest.mark.parametrize("where", [{"commodity": "bike"}, {"commodity": "ev", "year": 2030},
                                   {"commodity": "ev", "region": "north"}])
def test_scenario_where_matching_nothing(toy_dir, where):
    add_scenario(toy_dir, {"table": "demand", "where": where, "column": "quantity", "scale": 2})
    find_problem(problems_of(toy_dir), "instance.yaml", column="where", says=("scenario 'bad'", "no row of 'demand' matches"))


def test_scenario_with_scale_and_set(toy_dir):
    add_scenario(toy_dir, {"table": "demand", "where": {"commodity": "ev"}, "column": "quantity", "scale": 2, "set": 3})
    find_problem(problems_of(toy_dir), "instance.yaml", says=("scenario 'bad'", "exactly one of scale or set"))


def test_scenario_whose_result_is_invalid(toy_dir):
    add_scenario(toy_dir, {"table": "processes", "where": {"process": "mine"}, "column": "availability", "set": 1.5})
    find_problem(problems_of(toy_dir), "instance.yaml", column="set", says=("scenario 'bad'", "<= 1"))


def test_unknown_scenario_name():
    with pytest.raises(InstanceError) as info:
        load_instance(instances.path("toy"), scenario="moon_base")
    find_problem(info.value.problems, "instance.yaml", says=("no scenario named 'moon_base'", "ev_boom", "no_target"))


# --------------------------------------------------------------------------------------------
# several problems at once
# --------------------------------------------------------------------------------------------


def test_every_planted_problem_is_reported_at_once(toy_dir):
    set_cell(toy_dir, "demand", 3, "quantity", "lots")                      # not a number
    set_cell(toy_dir, "demand", 5, "region", "east")                        # unknown region, same file
    set_cell(toy_dir, "capacity", 2, "process", "quarry")                   # unknown process
    dup = copy_row(toy_dir, "commodities", 3)                              # duplicate key
    set_cell(toy_dir, "trade", 2, "destination", "north")                  # lane to itself
    set_cell(toy_dir, "processes", 4, "availability", "1.5")               # out of range
    set_cell(toy_dir, "processes", 7, "lifetime", "0")                     # out of range
    set_cell(toy_dir, "policies", 3, "kind", "max_fun")                     # unknown kind
    set_cell(toy_dir, "process_io", line_of(toy_dir, "process_io", process="recycling", commodity="swarf"),
             "reference", "false")                                         # no reference row
    set_cell(toy_dir, "process_io", 3, "coefficient", "0")                 # coefficient <= 0
    set_cell(toy_dir, "build_limits", 2, "year", "2031")                   # outside the horizon
    edit_yaml(toy_dir, lambda s: (s.__setitem__("colour", "blue"),
                                  s["scenarios"].__setitem__("bad", {"changes": [
                                      {"table": "trade", "where": {"commodity": "ore"}, "column": "cost", "scale": 2}]})))
    problems = problems_of(toy_dir)
    find_problem(problems, "demand.csv", 3, "quantity", says="expected a number")
    find_problem(problems, "demand.csv", 5, "region", says="unknown region 'east'")
    find_problem(problems, "capacity.csv", 2, "process", says="unknown process 'quarry'")
    find_problem(problems, "commodities.csv", dup, "commodity", says="duplicate row")
    find_problem(problems, "trade.csv", 2, "destination", says="must differ")
    find_problem(problems, "processes.csv", 4, "availability", says="<= 1")
    find_problem(problems, "processes.csv", 7, "lifetime", says=">= 1")
    find_problem(problems, "policies.csv", 3, "kind", says="expected one of")
    find_problem(problems, "processes.csv", line_of(toy_dir, "processes", process="recycling"), "process", says="found 0")
    find_problem(problems, "build_limits.csv", 2, "year", says="outside the horizon")
    find_problem(problems, "instance.yaml", column="colour", says="unknown setting")
    find_problem(problems, "instance.yaml", column="where", says="no row of 'trade' matches commodity=ore")
    find_problem(problems, "process_io.csv", 3, "coefficient", says="> 0")
    assert len(problems) == 13, "\n".join(map(str, problems))


def test_a_refused_row_does_not_make_its_names_unknown_elsewhere(toy_dir):
    # the 'mine' row of processes.csv is refused; process_io, capacity and policies still name
    # 'mine', which is not reported again as unknown
    set_cell(toy_dir, "processes", line_of(toy_dir, "processes", process="mine"), "capex", "x")
    problems = problems_of(toy_dir)
    assert [(p.file, p.column) for p in problems] == [("processes.csv", "capex")], problems


def test_a_refused_row_a_scenario_selects_is_not_reported_twice(toy_dir):
    # scenario no_target selects policy south_magnet_target, whose row is refused
    line = line_of(toy_dir, "policies", policy="south_magnet_target")
    set_cell(toy_dir, "policies", line, "value", "-32")
    problems = problems_of(toy_dir)
    assert [(p.file, p.row, p.column) for p in problems] == [("policies.csv", line, "value")], problems


def test_a_row_with_more_cells_than_the_header(toy_dir):
    rows = read_rows(toy_dir, "demand")
    rows[2] = rows[2] + ["surplus"]
    write_rows(toy_dir, "demand", rows)
    find_problem(problems_of(toy_dir), "demand.csv", 3, says="row has 6 cells but the header has 5")


def test_error_message_lists_every_problem(toy_dir):
    set_cell(toy_dir, "demand", 2, "quantity", "x")
    set_cell(toy_dir, "trade", 2, "cost", "-1")
    with pytest.raises(InstanceError) as info:
        load_instance(toy_dir)
    text = str(info.value)
    assert text.startswith("2 problems in the instance")
    assert "demand.csv, row 2, column 'quantity'" in text and "trade.csv, row 2, column 'cost'" in text


# --------------------------------------------------------------------------------------------
# harmless variations
# --------------------------------------------------------------------------------------------


def assert_same_tables(a, b):
    for name in TABLES:
        x, y = a.tables[name].reset_index(drop=True), b.tables[name].reset_index(drop=True)
        common = [c for c in x.columns if c in y.columns]
        pd.testing.assert_frame_equal(x[common], y[common], check_dtype=True, obj=name)


def test_bom_and_crlf_load_fine(toy_dir):
    base = load_instance(toy_dir)
    for f in toy_dir.glob("*.csv"):
        text = f.read_text(encoding="utf-8")
        f.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    (toy_dir / "instance.yaml").write_bytes(b"\xef\xbb\xbf" + (toy_dir / "instance.yaml").read_bytes().replace(b"\n", b"\r\n"))
    inst = load_instance(toy_dir)
    assert_same_tables(base, inst)
    assert list(inst.regions.columns)[0] == "region"  # the BOM is not part of the first header
    assert inst.demand.index.tolist() == base.demand.index.tolist()


def test_blank_lines_are_ignored_and_lines_still_count(toy_dir):
    base = load_instance(toy_dir)
    rows = read_rows(toy_dir, "demand")
    # a blank line and a line of empty cells after the header, and blank lines at the end
    write_rows(toy_dir, "demand", rows[:2] + [[], ["", "", "", "", ""]] + rows[2:] + [[], []])
    inst = load_instance(toy_dir)
    assert_same_tables(base, inst)
    assert inst.demand.index.tolist() == [2, 5, 6, 7, 8, 9]
    set_cell(toy_dir, "demand", 5, "quantity", "x")  # the second data row, on line 5 of the file
    find_problem(problems_of(toy_dir), "demand.csv", 5, "quantity")


def test_note_and_source_columns_are_allowed(toy_dir):
    rows = read_rows(toy_dir, "demand")
    write_rows(toy_dir, "demand", [rows[0] + ["note"]] + [r + ["from a plan, p. 3"] for r in rows[1:]])
    inst = load_instance(toy_dir)
    assert inst.demand["note"].tolist() == ["from a plan, p. 3"] * 6
    assert inst.demand["source"].tolist() == ["toy"] * 6


def test_unknown_source_id(toy_dir):
    set_cell(toy_dir, "demand", 2, "source", "hearsay")
    find_problem(problems_of(toy_dir), "demand.csv", 2, "source", says="unknown source 'hearsay'")


def test_whitespace_around_cells_is_ignored(toy_dir):
    set_cell(toy_dir, "demand", 2, "region", " south ")
    set_cell(toy_dir, "demand", 2, "quantity", " 10 ")
    inst = load_instance(toy_dir)
    assert inst.demand.loc[2, "region"] == "south" and inst.demand.loc[2, "quantity"] == 10.0


def _with_share_column(folder):
    rows = read_rows(folder, "policies")
    write_rows(folder, "policies", [rows[0] + ["share_of"]] + [r + [""] for r in rows[1:]])


def test_share_kinds_need_share_of_and_only_they_take_it(toy_dir):
    _with_share_column(toy_dir)
    missing = add_row(toy_dir, "policies", dict(policy="local_share", kind="min_share", value="0.5", processes="magnet_making"))
    stray = add_row(toy_dir, "policies", dict(policy="other", kind="max_activity", value="5", processes="mine", share_of="mine"))
    unknown = add_row(toy_dir, "policies", dict(policy="s2", kind="max_share", value="0.5", processes="mine", share_of="mine;quarry"))
    problems = problems_of(toy_dir)
    find_problem(problems, "policies.csv", missing, "share_of", says=("min_share needs", "share_of"))
    find_problem(problems, "policies.csv", stray, "share_of", says="only to kinds max_share and min_share")
    find_problem(problems, "policies.csv", unknown, "share_of", says="unknown process 'quarry'")


def test_a_share_policy_loads_and_solves(toy_dir):
    from rechain.solvers import solve

    _with_share_column(toy_dir)
    add_row(toy_dir, "policies", dict(policy="south_making", kind="min_share", value="0.2", processes="magnet_making",
                                      share_of="*", regions="south"))
    r = solve(load_instance(toy_dir))
    assert r.ok and "south_making" in set(r.policies["policy"])
