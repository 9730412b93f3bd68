"""What an analyst sees: instances as workbooks (written, converted, shipped as an example),
errors that name one place and never contradict each other, hints for the usual mistakes, and
the small things of the command line (--version, default folder names, init)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import rechain.instances as shipped
from conftest import problems_of
from rechain.model import load_instance
from rechain.model.schema import TABLES
from test_cli import TOY, run


# --------------------------------------------------------------------------------------------
# equal instances
# --------------------------------------------------------------------------------------------


def _plain_change(ch: dict) -> dict:
    """A change as it acts: a ``where`` value is compared as text (a workbook cell is text),
    a number of ``scale``/``set`` as a float."""
    out = {"table": ch["table"], "column": ch["column"], "where": {k: str(v) for k, v in (ch.get("where") or {}).items()}}
    for k in ("scale", "set"):
        if k in ch:
            v = ch[k]
            out[k] = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
    return out


def assert_equal_instances(a, b, apply_scenarios: bool = False):
    """The same tables (values, dtypes, blanks, line numbers) and the same settings, sources and
    scenarios (a change compared as it acts: see :func:`_plain_change`); a text setting
    compared without the line end a YAML block leaves at its end. With ``apply_scenarios``,
    each scenario also changes the same rows the same way."""
    for name in TABLES:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_exact=True, obj=name)
    sa, sb = a.settings(), b.settings()
    for s in (sa, sb):
        for k in ("title", "description"):
            if k in s:
                s[k] = s[k].strip()
        s["scenarios"] = {n: {"description": v["description"], "changes": [_plain_change(c) for c in v["changes"]]}
                          for n, v in s.get("scenarios", {}).items()}
    assert sa == sb
    for name in a.scenarios if apply_scenarios else ():
        for t in TABLES:
            pd.testing.assert_frame_equal(a.with_scenario(name).tables[t], b.with_scenario(name).tables[t], check_exact=True)


# --------------------------------------------------------------------------------------------
# Instance.to_xlsx, convert, init --xlsx, the example workbook
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", shipped.names())
def test_folder_to_workbook_to_load_gives_the_same_instance(tmp_path, name):
    inst = load_instance(shipped.path(name))
    book = inst.to_xlsx(tmp_path / f"{name}.xlsx")
    again = load_instance(book)
    assert again.labels["demand"] == f"{name}.xlsx[demand]" and not again.warnings
    assert_equal_instances(inst, again, apply_scenarios=name == "toy")
    # and back to a folder: the same again, and written twice the workbook has the same bytes
    again.to_folder(tmp_path / "folder")
    assert_equal_instances(inst, load_instance(tmp_path / "folder"))
    again.to_xlsx(tmp_path / "second.xlsx")
    assert (tmp_path / "second.xlsx").read_bytes() == book.read_bytes()


def test_workbook_layout_is_the_documented_one(tmp_path):
    book = load_instance(TOY).to_xlsx(tmp_path / "toy.xlsx")
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames[0] == "instance" and wb.sheetnames[-2:] == ["sources", "scenarios"]
    settings = {r[0]: r[1] for r in wb["instance"].iter_rows(min_row=2, values_only=True)}
    assert settings["years.first"] == 2021 and settings["years.last"] == 2023 and settings["units.money"] == "CNY million"
    assert [c.value for c in wb["scenarios"][1]] == ["scenario", "description", "table", "where", "column", "scale", "set"]
    assert [c.value for c in wb["scenarios"][2]][:6] == ["ev_boom", "EV demand 20 % above the base path", "demand",
                                                         "commodity=ev", "quantity", 1.2]
    assert [c.value for c in wb["demand"][1]][:4] == ["commodity", "region", "year", "quantity"]
    assert isinstance(wb["demand"]["D2"].value, (int, float))  # numbers are numbers, not text
    text = (Path(__file__).parent.parent / "docs" / "spec.md").read_text(encoding="utf-8")
    for key in ("years.first", "years.last", "units.money", "format_version", "scenarios", "sources"):
        assert f"`{key}`" in text, key


def test_workbook_keeps_what_a_spreadsheet_would_change(tmp_path):
    """A name starting with '=' stays text (never a formula), a float with 17 digits keeps
    every digit, a scenario without changes and a text set that YAML would read otherwise
    come back as they were."""
    inst = load_instance(TOY)
    inst.tables["regions"] = inst.regions.copy()
    inst.regions.loc[inst.regions.index[0], "name"] = "=SUM(A1:A9)"
    inst.tables["demand"] = inst.demand.copy()
    inst.demand.loc[inst.demand.index[0], "quantity"] = 0.1 + 0.2
    inst.scenarios["empty"] = {"description": "nothing changed yet", "changes": []}
    inst.scenarios["renamed"] = {"description": "", "changes": [{"table": "regions", "where": {"region": "north"},
                                                                   "column": "name", "set": "yes"}]}
    again = load_instance(inst.to_xlsx(tmp_path / "b.xlsx"))
    assert again.regions["name"].iloc[0] == "=SUM(A1:A9)"
    assert again.demand["quantity"].iloc[0] == 0.1 + 0.2
    assert again.scenarios["empty"]["changes"] == [] and again.scenarios["empty"]["description"] == "nothing changed yet"
    assert again.with_scenario("renamed").regions["name"].iloc[0] == "yes"
    assert_equal_instances(inst, again, apply_scenarios=True)


def test_a_scenario_a_sheet_cannot_hold_is_refused_before_writing(tmp_path):
    from rechain.model import InstanceError

    inst = load_instance(TOY)
    inst.scenarios["odd"] = {"description": "", "changes": [{"table": "demand", "where": {"commodity": "ev;magnet"},
                                                               "column": "quantity", "scale": 2}]}
    with pytest.raises(InstanceError) as info:
        inst.to_xlsx(tmp_path / "b.xlsx")
    (p,) = info.value.problems
    assert (p.file, p.column) == ("instance.yaml", "where") and "scenario 'odd', change 1" in p.message
    assert not list(tmp_path.iterdir())


def test_to_xlsx_is_atomic_and_never_replaces_what_is_not_a_workbook(tmp_path, monkeypatch):
    from rechain.model import workbook
    from rechain.model.atomic import OutputRefused

    inst = load_instance(TOY)
    book = inst.to_xlsx(tmp_path / "toy.xlsx")
    before = book.read_bytes()
    with pytest.raises(OutputRefused, match="exists"):
        inst.to_xlsx(book)
    other = tmp_path / "notes.xlsx"
    other.write_text("my notes")
    with pytest.raises(OutputRefused, match="not a workbook"):
        inst.to_xlsx(other, overwrite=True)
    assert other.read_text() == "my notes"

    def broken(wb, path):
        Path(path).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(workbook, "save_fixed", broken)
    with pytest.raises(OSError, match="No space left"):
        inst.to_xlsx(book, overwrite=True)
    assert book.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.xlsx", "toy.xlsx"]  # no temporary file left


def test_convert_both_ways_with_the_force_rules(tmp_path):
    book, folder = tmp_path / "toy.xlsx", tmp_path / "toy_folder"
    r = run("convert", TOY, book)
    assert r.exit_code == 0 and book.is_file(), r.output
    r = run("convert", book, folder)
    assert r.exit_code == 0 and (folder / "instance.yaml").is_file(), r.output
    assert_equal_instances(load_instance(TOY), load_instance(folder), apply_scenarios=True)
    r = run("convert", TOY, book)
    assert r.exit_code == 2 and "exists: pass --force" in r.output
    assert run("convert", TOY, book, "--force").exit_code == 0
    r = run("convert", book, book, "--force")
    assert r.exit_code == 2 and "is the instance workbook" in r.output
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("x")
    r = run("convert", book, tmp_path / "mine", "--force")
    assert r.exit_code == 2 and "is not an instance folder" in r.output
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "x"


def test_init_xlsx_writes_a_named_workbook(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = run("init", "my_chain", "--xlsx")
    assert r.exit_code == 0, r.output
    inst = load_instance(tmp_path / "my_chain.xlsx")
    assert inst.name == "my_chain" and "tests/" not in inst.title
    assert not (tmp_path / "my_chain").exists()
    r = run("init", "my_chain", "--xlsx")
    assert r.exit_code == 2 and "--force" in r.output


def test_init_names_the_starter_after_its_folder(tmp_path):
    r = run("init", tmp_path / "lanthanide_plan", "-q")
    assert r.exit_code == 0, r.output
    inst = load_instance(tmp_path / "lanthanide_plan")
    assert inst.name == "lanthanide_plan"
    assert "test" not in inst.title and "lanthanide_plan" in inst.title


def test_the_example_workbook_is_the_toy_instance(tmp_path):
    from rechain.instances.make_examples import write_examples

    shipped_book = Path(shipped.__file__).parent / "examples" / "toy.xlsx"
    assert_equal_instances(load_instance(TOY), load_instance(shipped_book), apply_scenarios=True)
    # the script writes exactly the shipped file: it is the current image of the toy folder
    (made,) = write_examples(tmp_path)
    assert made.read_bytes() == shipped_book.read_bytes()


# --------------------------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------------------------


def test_version():
    from importlib.metadata import version

    r = run("--version")
    assert r.exit_code == 0 and r.output.strip() == f"rechain {version('rechain')}"


def test_report_without_out_names_the_what_if_in_its_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run("solve", TOY, "--report", "-q").exit_code == 0
    r = run("solve", TOY, "--report", "-q", "--scale", "demand.quantity[commodity=ev]=1.2", "--years", "2021:2022")
    assert r.exit_code == 0, r.output
    folders = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert folders == ["toy", "toy+demand.quantity_commodity_ev__1.2+years2021-2022"]
    from rechain.solvers.cli import default_target

    long = default_target("toy", ["ev_boom"], ["policies.value[policy=" + "x" * 300 + "]=1", "policies.value[policy=" + "x" * 300 + "]=2"])
    parts = long.name.split("+")
    assert parts[:2] == ["toy", "ev_boom"] and all(len(p) <= 80 for p in parts) and parts[2] != parts[3]


# --------------------------------------------------------------------------------------------
# one location per error, no contradictions
# --------------------------------------------------------------------------------------------


def said(problems) -> set[tuple]:
    return {(p.file, p.row, p.column, p.message) for p in problems}


@pytest.fixture
def toy_book(tmp_path):
    return load_instance(TOY).to_xlsx(tmp_path / "toy.xlsx")


def _drop_sheets(book: Path, *names: str) -> Path:
    wb = openpyxl.load_workbook(book)
    for n in names:
        del wb[n]
    wb.save(book)
    return book


def test_a_workbook_without_its_instance_sheet_is_one_problem(toy_book):
    assert said(problems_of(_drop_sheets(toy_book, "instance"))) == {
        ("toy.xlsx[instance]", None, None, "missing sheet 'instance' (key,value rows of the settings)")}


def test_an_instance_that_demands_nothing_is_warned_about(toy_book):
    book = _drop_sheets(toy_book, "demand", "scenarios")
    inst = load_instance(book)
    assert [(p.file, p.severity) for p in inst.warnings] == [("toy.xlsx[demand]", "warning")]
    assert "demands nothing" in inst.warnings[0].message
    for command in ("validate", "solve"):
        r = run(command, book, "-q")
        assert r.exit_code == 0 and "toy.xlsx[demand]: warning: the instance demands nothing" in r.output, r.output
    assert not load_instance(TOY).warnings


def test_a_scenario_on_an_empty_table_says_the_table_is_empty(toy_book):
    # the demand sheet gone, the scenario that scales it is the one problem, and says why
    assert said(problems_of(_drop_sheets(toy_book, "demand"))) == {
        ("toy.xlsx[scenarios]", 2, "where", "scenario 'ev_boom', change 1: no row of 'demand' matches commodity=ev "
                                            "(the table 'demand' has no rows)")}


def test_an_empty_demand_file_is_one_problem(toy_dir):
    (toy_dir / "demand.csv").write_text("")
    assert said(problems_of(toy_dir)) == {("demand.csv", None, None, "is empty: expected a header row")}


def test_options_are_blamed_for_their_own_errors():
    r = run("validate", TOY, "--scenario", "ev_bom")
    assert r.exit_code == 2
    assert ("--scenario: no scenario named 'ev_bom' in instance.yaml (known: ev_boom, no_target) (did you mean 'ev_boom'?)"
            in r.output), r.output
    r = run("solve", TOY, "--set", "demand.quantity[commodity=evv]=3")
    assert r.exit_code == 2 and "invalid input: 1 problem" in r.output
    assert ("--set 'demand.quantity[commodity=evv]=3', column 'where': no row of 'demand' matches commodity=evv "
            "(did you mean 'commodity=ev'?)") in r.output, r.output
    r = run("solve", TOY, "--scale", "demand.quantiy=2")
    assert "--scale 'demand.quantiy=2', column 'column': table 'demand' has no column 'quantiy'" in r.output
    assert "(did you mean 'quantity'?)" in r.output
    r = run("solve", TOY, "--years", "2019:2022")
    assert ("--years '2019:2022': years 2019:2022 are not within the instance's horizon 2021:2023 (instance.yaml, years)"
            in r.output), r.output
    assert "instance.yaml, column" not in r.output


def test_a_workbook_never_blames_instance_yaml(toy_book):
    wb = openpyxl.load_workbook(toy_book)
    ws = wb["demand"]
    ws["E2"] = "tyo"  # a source no sources row names
    for row in wb["instance"].iter_rows(min_row=2):
        if row[0].value == "unmet_penalty":
            row[1].value = None
    wb.save(toy_book)
    problems = problems_of(toy_book)
    assert all("instance.yaml" not in str(p) for p in problems), problems
    assert said(problems) == {
        ("toy.xlsx[demand]", 2, "source", "unknown source 'tyo' (not in the sources of toy.xlsx[instance]) (did you mean 'toy'?)"),
        *{("toy.xlsx[instance]", None, "unmet_penalty", f"commodity '{c}' is demanded but has no unmet_penalty: set unmet_penalty "
                                                         "in toy.xlsx[instance] or in toy.xlsx[commodities]") for c in ("ev", "lace_oxide")}}
    with pytest.raises(Exception) as info:
        load_instance(load_instance(TOY).to_xlsx(toy_book.with_name("b.xlsx")), scenario="nope")
    assert [p.file for p in info.value.problems] == ["b.xlsx[instance]"]


# --------------------------------------------------------------------------------------------
# hints: European CSV files, did you mean, bytes that are not UTF-8
# --------------------------------------------------------------------------------------------


def test_a_semicolon_separated_file_is_one_problem_with_a_hint(toy_dir):
    (toy_dir / "demand.csv").write_text("commodity;region;year;quantity\nev;south;2021;1,5\n")
    assert said(problems_of(toy_dir)) == {
        ("demand.csv", 1, None, "the header 'commodity;region;year;quantity' names its columns between ';': separator ';'? "
                                "The CSV files of an instance are separated by commas (Excel: save as 'CSV UTF-8 (comma delimited)')")}


def test_decimal_commas_get_a_hint(toy_dir, tmp_path):
    (toy_dir / "demand.csv").write_text('commodity,region,year,quantity\nev,south,2021,"1,5"\nev,south,2022,1,5\n'
                                        'ev,south,2023,"1.234,5"\n')
    assert said(problems_of(toy_dir)) == {
        ("demand.csv", 2, "quantity", "expected a number (decimal comma? write 1.5, with a point)"),
        ("demand.csv", 3, None, "row has 5 cells but the header has 4 (decimal comma? a number such as 1,5 splits into two cells: "
                                "write 1.5)"),
        ("demand.csv", 4, "quantity", "expected a number (decimal comma? write 1234.5, with a point)")}


def test_unknown_names_get_did_you_mean(toy_dir):
    from conftest import set_cell

    set_cell(toy_dir, "capacity", 2, "region", "nroth")
    set_cell(toy_dir, "demand", 2, "commodity", "evs")
    set_cell(toy_dir, "process_io", 2, "process", "seperation")
    text = (toy_dir / "instance.yaml").read_text()
    (toy_dir / "instance.yaml").write_text(text.replace("where: {policy: south_magnet_target}", "where: {policy: south_magnet_trget}")
                                           .replace("unmet_penalty: 100.0", "unmet_penalty: 100.0\ndiscount_rat: 0.1"))
    got = {(p.file, p.column): p.message for p in problems_of(toy_dir)}
    assert "(did you mean 'north'?)" in got[("capacity.csv", "region")]
    assert "(did you mean 'ev'" in got[("demand.csv", "commodity")]
    assert "(did you mean 'separation'?)" in got[("process_io.csv", "process")]
    assert got[("instance.yaml", "where")].endswith("(did you mean 'policy=south_magnet_target'?)")
    assert got[("instance.yaml", "discount_rat")].endswith("(did you mean 'discount_rate'?)")


def test_unknown_tables_columns_and_sheets_get_did_you_mean(toy_dir, toy_book):
    from rechain.model import InstanceError

    toy = load_instance(toy_dir)
    for change, hint in (({"table": "demnd", "column": "quantity", "scale": 2}, "(did you mean 'demand'?)"),
                         ({"table": "demand", "column": "quantty", "scale": 2}, "(did you mean 'quantity'?)"),
                         ({"table": "demand", "where": {"comodity": "ev"}, "column": "quantity", "scale": 2},
                          "(did you mean 'commodity'?)")):
        with pytest.raises(InstanceError) as info:
            toy.with_changes(change)
        assert info.value.problems[0].message.endswith(hint), info.value.problems
    (toy_dir / "regions.csv").write_text("region,nme\nnorth,N\nsouth,S\n")
    (p,) = problems_of(toy_dir)
    assert p.message.endswith("(did you mean 'name'?)")
    wb = openpyxl.load_workbook(toy_book)
    wb["demand"].title = "demands"
    wb.save(toy_book)
    assert any(p.file == "toy.xlsx[demands]" and p.message.endswith("(did you mean 'demand'?)") for p in problems_of(toy_book))


def test_bytes_that_are_not_utf8_are_located_at_their_row(toy_dir):
    (toy_dir / "regions.csv").write_bytes("region,name\nnorth,Nord\nsouth,Süd\n".encode("latin-1"))
    (p,) = problems_of(toy_dir)
    assert (p.file, p.row) == ("regions.csv", 3)
    assert "byte 0xfc" in p.message and "save it as UTF-8" in p.message
    text = (toy_dir / "instance.yaml").read_text()
    (toy_dir / "regions.csv").write_text("region,name\nnorth,N\nsouth,S\n")
    (toy_dir / "instance.yaml").write_bytes(text.replace("Toy magnet chain", "Toy magnet chain é").encode("latin-1"))
    (p,) = problems_of(toy_dir)
    assert (p.file, p.row) == ("instance.yaml", 3) and "byte 0xe9" in p.message


# --------------------------------------------------------------------------------------------
# results.xlsx
# --------------------------------------------------------------------------------------------


def test_results_workbook_has_a_summary_and_a_units_sheet(tmp_path):
    from rechain.model.results import TABLE_COLUMNS, VALUE_COLUMNS
    from rechain.solvers import solve
    from rechain.solvers.export import read_results, write_results

    inst = load_instance(TOY, scenario="ev_boom")
    res = solve(inst)
    write_results(res, tmp_path / "r", fmt="xlsx", instance=inst)
    wb = openpyxl.load_workbook(tmp_path / "r" / "results.xlsx")
    assert wb.sheetnames[:2] == ["summary", "units"] and set(TABLE_COLUMNS) <= set(wb.sheetnames)
    summary = {k: v for k, v in wb["summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["status"] == "optimal" and summary["scenario"] == "ev_boom" and summary["instance"] == "toy"
    assert math.isclose(summary["objective"], res.objective, rel_tol=1e-12)
    assert summary["units.money"] == "CNY million" and summary["base_year"] == 2020
    units = {(t, c): u for t, c, u in wb["units"].iter_rows(min_row=2, values_only=True)}
    assert set(units) == {(t, c) for t, cols in VALUE_COLUMNS.items() for c in cols} | {
        (t, "year") for t, cols in TABLE_COLUMNS.items() if "year" in cols}
    assert units[("prices", "price")].startswith("CNY million per unit")
    assert units[("costs", "discounted")] == "CNY million discounted to 2020"
    s, tables = read_results(tmp_path / "r")  # the added sheets do not disturb reading back
    pd.testing.assert_frame_equal(tables["capacity"].reset_index(drop=True), res.capacity.reset_index(drop=True),
                                  check_dtype=False)
    # the same results, the same bytes (timings stay in summary.json)
    write_results(res, tmp_path / "r2", fmt="xlsx", instance=inst)
    assert (tmp_path / "r2" / "results.xlsx").read_bytes() == (tmp_path / "r" / "results.xlsx").read_bytes()


# --------------------------------------------------------------------------------------------
# the README's what-if examples
# --------------------------------------------------------------------------------------------


def test_myopic_says_why_there_is_no_plan_instead_of_none():
    from rechain.solvers.myopic import myopic

    toy = load_instance(TOY)
    r = myopic(toy, window=1)  # a planner a year ahead misses the south's magnet target
    assert r.cost_of_myopia is None
    text = r.describe()
    assert text.startswith("window 1, step 1: no myopic plan (infeasible): the window 2023-2023 did not solve")
    assert "looking 1 year ahead" in text and "a larger window" in text
    ok = myopic(toy, window=3)
    assert ok.describe() == (f"window 3, step 3: the myopic plan costs {ok.objective:,.6g} CNY million, "
                             f"{ok.cost_of_myopia:,.6g} CNY million ({100 * ok.cost_of_myopia / ok.perfect_objective:+.2f} %) more than the perfect-foresight plan "
                             f"({ok.perfect_objective:,.6g} CNY million)")


def test_sweep_parameter_columns_are_named_after_their_axes(tmp_path):
    from rechain.solvers.cli import axis_names

    assert axis_names(["demand.quantity[commodity=nev]*=0.8,1", "policies.value[policy=t]=1,2",
                       "demand.quantity[commodity=nev]*=uniform(0.8,1.2)"]) == [
        "demand.quantity[commodity=nev]*", "policies.value[policy=t]", "demand.quantity[commodity=nev]* (2)"]
    r = run("sweep", TOY, "--no-base", "--grid", "demand.quantity[commodity=ev]*=0.9,1.1", "--out", tmp_path / "g", "-q")
    assert r.exit_code == 0, r.output
    params = pd.read_csv(tmp_path / "g" / "parameters.csv")
    assert list(params["demand.quantity[commodity=ev]*"]) == [0.9, 1.1] and "axis1" not in params.columns
    assert "axes (columns of parameters.csv): demand.quantity[commodity=ev]* = 0.9,1.1" in r.output


def test_a_notebooks_extra_installs_jupyter():
    import re
    import tomllib

    meta = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    names = {re.split(r"[<>=\[ ;]", d, maxsplit=1)[0] for d in meta["project"]["optional-dependencies"]["notebooks"]}
    assert {"nbclient", "ipykernel"} <= names and names & {"jupyterlab", "notebook"}
