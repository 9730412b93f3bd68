"""One gate for every value, and every HiGHS call checked.

A number or name that comes in through any door (a file, instance.yaml, a named scenario,
``with_changes``, ``--set``/``--scale``, a sweep, the in-place parameter map) passes the same
type and range checks and gets a located error, never an exception; a change HiGHS refuses
leaves the model it was made on as it was, so no later solve returns a stale optimum."""

from __future__ import annotations

import math

import highspy
import pytest

from conftest import find_problem
from rechain import instances
from rechain.model import InstanceError, load_instance
from rechain.solvers.direct import DirectModel, solve_direct
from rechain.solvers import sweep
from rechain.model.scenarios import Scenario


@pytest.fixture(scope="module")
def toy():
    return load_instance(instances.path("toy"))


EV = {"commodity": "ev"}
DEARER = {"table": "processes", "where": {}, "column": "variable_cost", "scale": 3}


# --------------------------------------------------------------------------------------------
# HiGHS's statuses
# --------------------------------------------------------------------------------------------


class _Refusing:
    """A HiGHS object that takes the row bounds it is given, then answers kError: what HiGHS
    does when one value of a call is refused after others were taken."""

    def __init__(self, real):
        self.real = real

    def __getattr__(self, name):
        return getattr(self.real, name)

    def changeRowsBounds(self, *args):
        self.real.changeRowsBounds(*args)
        return highspy.HighsStatus.kError


def test_a_refused_update_leaves_the_model_of_the_instance_it_was(toy):
    m = DirectModel(toy, check_numerics=False)
    base = m.solve().objective
    changed = toy.with_changes([DEARER, {"table": "demand", "where": EV, "column": "quantity", "scale": 2}])
    real = m.highs
    m.highs = _Refusing(real)
    with pytest.raises(RuntimeError, match="HiGHS refused changeRowsBounds"):
        m.update(changed)
    m.highs = real
    assert m.instance is toy
    again = m.solve()  # the costs HiGHS took before the refusal must not linger
    assert again.status == "optimal" and again.objective == pytest.approx(base, rel=1e-9)
    # the same change, taken, gives the optimum of a fresh solve
    assert m.solve(changed).objective == pytest.approx(solve_direct(changed).objective, rel=1e-9)


@pytest.mark.parametrize("factor", [1e25, 1e300])
def test_a_sweep_never_returns_the_base_optimum_for_a_refused_value(toy, factor):
    big = {"table": "demand", "where": EV, "column": "quantity", "scale": factor}
    runs = [Scenario.base(), Scenario("big", (DEARER, big)), Scenario("base_again")]
    res = sweep(toy, runs, workers=1, progress=False)
    s = res.summary.set_index("scenario")
    assert s.at["big", "status"] == "error"
    assert "change 2" in s.at["big", "message"] and "1e+20" in s.at["big", "message"]
    assert s.at["base_again", "status"] == "optimal"
    assert s.at["base_again", "objective"] == pytest.approx(s.at["base", "objective"], rel=1e-9)


def test_an_in_place_update_by_1e25_is_refused_by_the_gate(toy):
    m = DirectModel(toy, check_numerics=False)
    base = m.solve().objective
    changed = toy.copy()  # written into directly: past with_changes and its checks
    dem = changed.tables["demand"]
    dem.loc[dem["commodity"] == "ev", "quantity"] *= 1e25
    with pytest.raises(InstanceError) as info:
        m.update(changed)
    find_problem(info.value.problems, "demand.csv", 2, "quantity", says="1e+20")
    assert m.solve().objective == pytest.approx(base, rel=1e-9)


def test_a_change_highs_refuses_on_the_pyomo_path_is_an_error_and_not_kept():
    # a coefficient of 1e16 passes the gate (with a warning) but HiGHS refuses any above 1e15;
    # Pyomo's interface does not look at HiGHS's statuses: the run would solve the LP with the
    # tripled costs and the old coefficient and call it optimal
    from rechain.model import build_model, update_parameters
    from rechain.solvers import solve

    toy = load_instance(instances.path("toy"))
    m = build_model(toy)
    base = solve(m).objective
    big = toy.with_changes([DEARER, {"table": "process_io", "where": {"process": "separation", "commodity": "lace_oxide"},
                                     "column": "coefficient", "set": 1e16}])
    assert any("above 1e+15" in p.message for p in big.warnings)
    update_parameters(m, big)
    r = solve(m)
    assert r.status == "error" and "HiGHS refused changeCoeff" in r.message
    update_parameters(m, toy)
    again = solve(m)  # on a model built afresh inside HiGHS: nothing of the refused run lingers
    assert again.status == "optimal" and again.objective == pytest.approx(base, rel=1e-9)


# --------------------------------------------------------------------------------------------
# the gate: with_changes (and so --set, --scale, sweeps, Scenario values)
# --------------------------------------------------------------------------------------------

BIG = 10 ** 400
BAD_CHANGES = [
    ("base_year 99999", {"table": "instance", "column": "base_year", "set": 99999}, "set", "a year in 1900-2200"),
    ("base_year x1e10", {"table": "instance", "column": "base_year", "scale": 1e10}, "scale", "a year in 1900-2200"),
    ("base_year 5000", {"table": "instance", "column": "base_year", "set": 5000}, "set", "a year in 1900-2200"),
    ("rate 1", {"table": "instance", "column": "discount_rate", "set": 1}, "set", "must lie in (-0.5, 1)"),
    ("rate -0.5", {"table": "instance", "column": "discount_rate", "set": -0.5}, "set", "must lie in (-0.5, 1)"),
    ("rate huge int", {"table": "instance", "column": "discount_rate", "set": BIG}, "set", "expected a finite number"),
    ("lifetime 13000", {"table": "processes", "column": "lifetime", "set": 13000}, "set", "expected a number <= 1000"),
    ("lifetime x1000", {"table": "processes", "column": "lifetime", "scale": 1000}, None, "expected a number <= 1000"),
    ("set huge int", {"table": "demand", "column": "quantity", "set": BIG}, "set", "expected a finite number"),
    ("set huger int", {"table": "demand", "column": "quantity", "set": 10 ** 5000}, "set", "expected a finite number"),
    ("scale huge int", {"table": "demand", "column": "quantity", "scale": BIG}, "scale", "finite number"),
    ("where huge int", {"table": "demand", "where": {"year": BIG}, "column": "quantity", "set": 1}, "where", "is numeric"),
    ("set 1e300", {"table": "demand", "column": "quantity", "set": 1e300}, "set", "below 1e+20"),
    ("scale 1e308", {"table": "trade", "column": "cost", "scale": 1e308}, None, "below 1e+20"),
    ("year 1800", {"table": "build_limits", "column": "year", "set": 1800}, "set", "a year in 1900-2200"),
    ("rename a key", {"table": "capacity", "column": "process", "set": "mine"}, "column",
     "column 'process' is part of the key of 'capacity' (process, region, year)"),
    ("collapse years", {"table": "demand", "column": "year", "set": 2021}, "column", "column 'year' is part of the key of 'demand'"),
    ("move a year", {"table": "capacity", "where": {"process": "mine"}, "column": "year", "set": 2022}, "column",
     "column 'year' is part of the key of 'capacity'"),
    ("_label", {"table": "demand", "column": "quantity", "scale": 2, "_label": 5}, None, "unknown key(s) _label"),
    ("_line", {"table": "demand", "column": "quantity", "scale": 2, "_line": "x"}, None, "unknown key(s) _line"),
]


@pytest.mark.parametrize("change,column,says", [c[1:] for c in BAD_CHANGES], ids=[c[0] for c in BAD_CHANGES])
def test_every_value_of_a_change_is_gated_with_a_located_error(toy, change, column, says):
    with pytest.raises(InstanceError) as info:
        toy.with_changes(change)
    p = find_problem(info.value.problems, "with_changes", column=column, says=("change 1:", says))
    assert len(str(p)) < 1000  # an integer of hundreds of digits is shown by its length


def test_far_base_year_with_a_high_rate_is_an_error(toy):
    with pytest.raises(InstanceError) as info:
        toy.with_changes([{"table": "instance", "column": "base_year", "set": 1900},
                          {"table": "instance", "column": "discount_rate", "set": 0.9}])
    find_problem(info.value.problems, "with_changes", column="base_year", says="by a factor of about 1e-34")


def test_a_rate_near_zero_is_the_limit_of_the_annuity(toy):
    from rechain.model import crf

    assert crf(1e-17, 20) == crf(0.0, 20) == 1 / 20
    assert crf(-1e-12, 8) == 1 / 8
    assert crf(0.05, 20) == pytest.approx(0.0802425872, rel=1e-9)
    near = solve_direct(toy.with_changes({"table": "instance", "column": "discount_rate", "set": 1e-17}))
    zero = solve_direct(toy.with_changes({"table": "instance", "column": "discount_rate", "set": 0}))
    assert near.status == "optimal" and near.objective == pytest.approx(zero.objective, rel=1e-12)


def test_a_negative_rate_and_a_huge_figure_are_warnings(toy):
    neg = toy.with_changes({"table": "instance", "column": "discount_rate", "scale": -1})
    assert neg.discount_rate == -0.05
    assert [w.column for w in neg.warnings] == ["scale"] and "is negative" in neg.warnings[0].message
    huge = toy.with_changes({"table": "trade", "column": "cost", "set": 2e16})
    assert "above 1e+15" in huge.warnings[0].message and huge.warnings[0].severity == "warning"
    assert toy.warnings == []  # the base instance's list is not shared


# --------------------------------------------------------------------------------------------
# the gate: files (instance.yaml, CSV cells, workbook scenarios)
# --------------------------------------------------------------------------------------------


def _settings(folder, **changes):
    import yaml

    path = folder / "instance.yaml"
    s = yaml.safe_load(path.read_text())
    for k, v in changes.items():
        if k == "first":
            s["years"]["first"] = v
        else:
            s[k] = v
    path.write_text(yaml.safe_dump(s))


BAD_SETTINGS = [
    ({"base_year": 99999}, "base_year", "a year in 1900-2200"),
    ({"first": 99999}, "years.first", "a year in 1900-2200"),
    ({"discount_rate": -0.7}, "discount_rate", "must lie in (-0.5, 1)"),
    ({"discount_rate": BIG}, "discount_rate", "must be a number"),
    ({"base_year": 1900, "discount_rate": 0.9}, "base_year", "by a factor of about 1e-34"),
    ({"scenarios": {"a+b": {"changes": []}}}, "scenarios", "scenario name 'a+b' holds '+'"),
    ({"scenarios": {"a,b": {"changes": []}}}, "scenarios", "scenario name 'a,b' holds ','"),
    ({"scenarios": {"x": {"changes": [{"table": "demand", "column": "quantity", "scale": 2, "_label": 3, "_line": "q"}]}}},
     None, "scenario 'x', change 1: unknown key(s) _label, _line"),
    ({"scenarios": {"x": {"changes": [{"table": "demand", "column": "year", "set": 2021}]}}}, "column",
     "scenario 'x', change 1: column 'year' is part of the key of 'demand'"),
    ({"scenarios": {"x": {"changes": [{"table": "instance", "column": "base_year", "set": 1900},
                                      {"table": "instance", "column": "discount_rate", "set": 0.9}]}}},
     "base_year", "scenario 'x': base_year 1900 with discount_rate 0.9"),
]


@pytest.mark.parametrize("settings,column,says", BAD_SETTINGS, ids=[s for *_, s in BAD_SETTINGS])
def test_every_setting_of_instance_yaml_is_gated(toy_dir, settings, column, says):
    from conftest import problems_of

    _settings(toy_dir, **settings)
    p = find_problem(problems_of(toy_dir), "instance.yaml", column=column, says=says)
    assert len(str(p)) < 1000


BAD_CELLS = [("processes", 2, "lifetime", "13000", "expected a number <= 1000"),
             ("demand", 2, "quantity", "1" + "0" * 400, "expected a finite number"),
             ("demand", 2, "quantity", "1e300", "below 1e+20"),
             ("capacity", 2, "year", "1800", "a year in 1900-2200")]


@pytest.mark.parametrize("table,line,column,text,says", BAD_CELLS, ids=[c[3][:8] for c in BAD_CELLS])
def test_every_cell_is_gated(toy_dir, table, line, column, text, says):
    from conftest import problems_of, set_cell

    set_cell(toy_dir, table, line, column, text)
    find_problem(problems_of(toy_dir), f"{table}.csv", line, column, says=says)


def test_a_workbook_scenario_name_that_cannot_be_selected_names_its_row(tmp_path):
    from test_instance_io import set_sheet_cell, workbook_from_folder

    from conftest import problems_of

    book = workbook_from_folder(instances.path("toy"), tmp_path / "toy.xlsx")
    set_sheet_cell(book, "scenarios", 3, "scenario", "no+target")
    find_problem(problems_of(book), "toy.xlsx[scenarios]", 3, "scenario", says="scenario name 'no+target' holds '+'")


def test_file_rate_near_zero_solves_and_a_negative_rate_or_a_huge_figure_warns(toy_dir):
    from conftest import set_cell

    _settings(toy_dir, discount_rate=1e-17)
    assert solve_direct(load_instance(toy_dir)).status == "optimal"
    _settings(toy_dir, discount_rate=-0.1)
    set_cell(toy_dir, "trade", 2, "cost", "2e16")
    warned = load_instance(toy_dir).warnings
    find_problem(warned, "instance.yaml", column="discount_rate", says="is negative")
    find_problem(warned, "trade.csv", 2, "cost", says="above 1e+15")


# --------------------------------------------------------------------------------------------
# the command line and the library's time limit
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["--set", "capacity.process=mine"],
    ["--set", "demand.year=2021"],
    ["--set", "instance.base_year=5000"],
    ["--scale", "processes.lifetime=1000"],
    ["--time-limit", "-1"],
    ["--time-limit", "0"],
])
def test_the_command_line_refuses_with_exit_2(args):
    from typer.testing import CliRunner

    from rechain.solvers.cli import app

    res = CliRunner().invoke(app, ["solve", str(instances.path("toy")), "-q", *args])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize("limit", [-1, -1e-9, float("nan"), "soon", True])
def test_the_library_refuses_a_time_limit_below_zero(toy, limit):
    # (0 stops the solver at once: a time_limit status, which tests use)
    from rechain.solvers import solve

    for method in ("direct", "pyomo"):  # a solve's failure is its result's status
        r = solve(toy, time_limit=limit, method=method)
        assert r.status == "error" and "time_limit must be a number of seconds >= 0" in r.message
    with pytest.raises(ValueError, match="time_limit must be a number of seconds >= 0"):
        sweep(toy, [Scenario.base()], progress=False, time_limit=limit)


# --------------------------------------------------------------------------------------------
# scenario validation grows linearly with the number of scenarios
# --------------------------------------------------------------------------------------------


def test_validating_scenarios_is_linear_in_their_number(toy):
    import gc
    import time

    from rechain.model.changes import _check_scenarios

    def seconds(n):
        inst = toy._shallow_copy()
        inst.scenarios = {f"s{i}": {"description": "", "changes": [
            {"table": "instance", "column": "unmet_penalty", "set": 50 + i % 7}]} for i in range(n)}
        best = math.inf
        for _ in range(5):  # the best of five: a shared machine's noise only ever adds time
            problems = []
            gc.collect()
            gc.disable()
            try:
                t0 = time.perf_counter()
                _check_scenarios(inst, problems)
                best = min(best, time.perf_counter() - t0)
            finally:
                gc.enable()
            assert not problems
        return best

    # linear: about 10; each scenario copying all the others made it about 170
    assert seconds(2000) / seconds(200) < 30
