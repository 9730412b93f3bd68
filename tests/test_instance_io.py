"""Writing and reading instances and results: Instance.to_folder round trips exactly, the same
instance as an .xlsx workbook loads to the same tables and optimum, workbook problems name the
sheet and row, and both writers are atomic.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

import rechain.model.instance as instance_module
from conftest import add_row, find_problem, problems_of, read_rows, set_cell, write_rows
from rechain import instances
from rechain.model import load_instance
from rechain.model.results import TABLE_COLUMNS
from rechain.model.schema import TABLES
from rechain.solvers import solve

# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def assert_same_instance(a, b, *, index: bool = True, book: bool = False):
    """Equal tables (values, dtypes, blanks, free columns) and equal settings. A workbook cell
    holds no trailing line end, which the toy's folded YAML description has (``book``)."""
    assert set(a.tables) == set(b.tables) == set(TABLES)
    for name in TABLES:
        x, y = a.tables[name], b.tables[name]
        if not index:
            x, y = x.reset_index(drop=True), y.reset_index(drop=True)
        pd.testing.assert_frame_equal(x, y, check_exact=True, obj=name)
    sa, sb = a.settings(), b.settings()
    if book:
        sa["description"], sb["description"] = sa["description"].strip(), sb["description"].strip()
    assert sa == sb


def folder_snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir())}


def leftovers(parent: Path, name: str) -> list[str]:
    """Temporary folders a writer of ``parent/name`` might leave behind."""
    return [p.name for p in Path(parent).iterdir() if p.name.startswith(f".{name}.")]


def _number(text: str):
    """A CSV cell as a spreadsheet would hold it: numbers as numbers, the rest as text."""
    try:
        x = float(text)
    except ValueError:
        return text
    return int(x) if x.is_integer() and "." not in text and "e" not in text.lower() else x


def workbook_from_folder(folder: Path, book: Path) -> Path:
    """The instance of ``folder`` as one workbook (SPEC section 1): a sheet per table with the
    same columns, ``instance`` (key,value; nested keys dotted), ``sources`` and ``scenarios``
    (one change a row, where as column=value;column=value)."""
    folder = Path(folder)
    s = yaml.safe_load((folder / "instance.yaml").read_text(encoding="utf-8"))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "instance"
    ws.append(["key", "value"])
    for k, v in s.items():
        if k in ("sources", "scenarios"):
            continue
        if isinstance(v, dict):
            for kk, vv in v.items():
                ws.append([f"{k}.{kk}", vv])
        else:
            ws.append([k, v.strip() if isinstance(v, str) else v])
    for f in sorted(folder.glob("*.csv")):
        sheet = wb.create_sheet(f.stem)
        with open(f, newline="", encoding="utf-8-sig") as fh:
            for r in csv.reader(fh):
                sheet.append([_number(c) for c in r])
    if s.get("sources"):
        sheet = wb.create_sheet("sources")
        sheet.append(["id", "title", "url"])
        for src in s["sources"]:
            sheet.append([src["id"], src.get("title", ""), src.get("url", "")])
    if s.get("scenarios"):
        sheet = wb.create_sheet("scenarios")
        sheet.append(["scenario", "description", "table", "where", "column", "scale", "set"])
        for name, body in s["scenarios"].items():
            for ch in body["changes"]:
                where = ";".join(f"{k}={v}" for k, v in (ch.get("where") or {}).items())
                sheet.append([name, body.get("description", ""), ch["table"], where, ch["column"],
                              ch.get("scale"), ch.get("set")])
    wb.save(book)
    return book


def set_sheet_cell(book: Path, sheet: str, row: int, column: str, value) -> None:
    wb = openpyxl.load_workbook(book)
    ws = wb[sheet]
    header = [c.value for c in ws[1]]
    ws.cell(row=row, column=header.index(column) + 1, value=value)
    wb.save(book)


@pytest.fixture(scope="module")
def toy():
    return load_instance(instances.path("toy"))


@pytest.fixture(scope="module")
def toy_objective(toy):
    r = solve(toy)
    assert r.status == "optimal"
    return r.objective


# --------------------------------------------------------------------------------------------
# Instance.to_folder round trip
# --------------------------------------------------------------------------------------------


def test_round_trip_of_the_toy(tmp_path, toy):
    out = toy.to_folder(tmp_path / "copy")
    assert out == tmp_path / "copy"
    again = load_instance(out)
    assert_same_instance(toy, again)
    assert again.scenarios == toy.scenarios and again.sources == toy.sources
    assert again.name == "toy" and again.title == toy.title and again.description == toy.description
    # writing the reloaded instance gives the same bytes: the format is stable
    again.to_folder(tmp_path / "copy2")
    assert folder_snapshot(tmp_path / "copy") == folder_snapshot(tmp_path / "copy2")


AWKWARD = [0.1 + 0.2, 1 / 3, 1e-300, 123456789.12345679, 2.5e17, 5e-324]


def test_round_trip_keeps_floats_blanks_booleans_and_free_columns(toy_dir, tmp_path):
    for line, x in zip(range(2, 8), AWKWARD):
        set_cell(toy_dir, "processes", line, "capex", repr(x))
    set_cell(toy_dir, "processes", 2, "variable_cost", "0.000001")
    write_rows(toy_dir, "supply", [
        ["commodity", "region", "year", "max_quantity", "price", "note"],
        ["ore", "north", "", "", "4.4", "any year, unbounded"],
        ["ore", "south", "2022", "7", "5", ""],
    ])
    set_cell(toy_dir, "process_io", 3, "reference", "Yes")
    set_cell(toy_dir, "process_io", 4, "reference", "")  # blank reads as false
    inst = load_instance(toy_dir)
    assert inst.processes["capex"].tolist() == AWKWARD
    assert inst.process_io.loc[3, "reference"] and not inst.process_io.loc[4, "reference"]
    inst.to_folder(tmp_path / "out")
    again = load_instance(tmp_path / "out")
    assert_same_instance(inst, again)
    assert again.processes["capex"].tolist() == AWKWARD  # bit for bit
    assert again.supply.loc[2, "year"] is pd.NA and math.isnan(again.supply.loc[2, "max_quantity"])
    assert again.supply["note"].tolist() == ["any year, unbounded", ""]
    assert again.trade["max_quantity"].isna().all() and again.build_limits["year"].isna().all()
    assert again.process_io["reference"].dtype == bool
    text = (tmp_path / "out" / "process_io.csv").read_text()
    assert "\nseparation,prnd_oxide,out,0.2,false,toy\n" in text


def test_round_trip_of_a_changed_instance(tmp_path, toy):
    changed = toy.with_changes([
        {"table": "demand", "where": {"commodity": "ev"}, "column": "quantity", "scale": 1.1},
        {"table": "instance", "column": "discount_rate", "set": 0.08},
    ])
    changed.to_folder(tmp_path / "changed")
    again = load_instance(tmp_path / "changed")
    assert_same_instance(changed, again)
    assert again.discount_rate == 0.08
    assert again.demand.loc[again.demand["commodity"] == "ev", "quantity"].tolist() == [10 * 1.1, 12 * 1.1, 15 * 1.1]
    # the named scenarios travel with it and still apply
    assert again.with_scenario("ev_boom").demand.loc[2, "quantity"] == 10 * 1.1 * 1.2


def test_round_trip_writes_only_tables_with_rows(tmp_path, toy):
    toy.to_folder(tmp_path / "out")
    files = {p.name for p in (tmp_path / "out").iterdir()}
    assert "supply.csv" not in files  # the toy has no outside supply
    assert {f"{t}.csv" for t, spec in TABLES.items() if spec.required} <= files
    assert "instance.yaml" in files
    # every written header is the contract's columns (an optional one only where it holds more
    # than its default), then the free columns
    for f in (tmp_path / "out").glob("*.csv"):
        header = read_rows(tmp_path / "out", f.stem)[0]
        spec = TABLES[f.stem]
        names = [c for c in spec.column_names if c in header]
        assert header[:len(names)] == names
        assert {c.name for c in spec.columns if c.required} <= set(names)


# --------------------------------------------------------------------------------------------
# workbooks
# --------------------------------------------------------------------------------------------


@pytest.fixture
def toy_book(tmp_path):
    return workbook_from_folder(instances.path("toy"), tmp_path / "toy.xlsx")


def test_workbook_loads_to_the_same_instance_and_optimum(toy_book, toy, toy_objective):
    book = load_instance(toy_book)
    assert_same_instance(toy, book, book=True)
    assert book.labels["demand"] == "toy.xlsx[demand]"
    result = solve(book)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(toy_objective, rel=1e-9)


def test_workbook_scenarios_apply_like_the_folder(toy_book):
    from_book = load_instance(toy_book, scenario="ev_boom")
    from_folder = load_instance(instances.path("toy"), scenario="ev_boom")
    pd.testing.assert_frame_equal(from_book.demand, from_folder.demand)
    assert solve(from_book).objective == pytest.approx(solve(from_folder).objective, rel=1e-9)
    assert load_instance(toy_book, scenario="no_target").policies.loc[2, "value"] == 0


def test_workbook_to_folder_round_trip(toy_book, tmp_path, toy):
    book = load_instance(toy_book)
    book.to_folder(tmp_path / "from_book")
    again = load_instance(tmp_path / "from_book")
    assert_same_instance(toy, again, book=True)
    text = (tmp_path / "from_book" / "instance.yaml").read_text()
    assert "_line" not in text and "_label" not in text


def test_workbook_text_settings_are_kept_as_written(toy_book):
    wb = openpyxl.load_workbook(toy_book)
    ws = wb["instance"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == "title":
            row[1].value = "Toy: two regions, yes #2"
        if row[0].value == "name":
            row[1].value = "yes"
    wb.save(toy_book)
    inst = load_instance(toy_book)
    assert inst.title == "Toy: two regions, yes #2" and inst.name == "yes"


def test_workbook_cell_problems_name_the_sheet_and_row(toy_book):
    set_sheet_cell(toy_book, "demand", 3, "quantity", "lots")
    set_sheet_cell(toy_book, "capacity", 4, "region", "east")
    set_sheet_cell(toy_book, "processes", 2, "availability", 1.5)
    problems = problems_of(toy_book)
    find_problem(problems, "toy.xlsx[demand]", 3, "quantity", says="expected a number")
    p = find_problem(problems, "toy.xlsx[capacity]", 4, "region", says=("unknown region 'east'", "toy.xlsx[regions]"))
    assert p.value == "east"
    find_problem(problems, "toy.xlsx[processes]", 2, "availability", says="<= 1")
    assert len(problems) == 3


def test_workbook_scenario_problems_name_the_scenarios_sheet(toy_book):
    set_sheet_cell(toy_book, "scenarios", 2, "where", "commodity=bike")
    set_sheet_cell(toy_book, "scenarios", 3, "where", "policy")
    problems = problems_of(toy_book)
    find_problem(problems, "toy.xlsx[scenarios]", 2, "where", says="no row of 'demand' matches commodity=bike")
    find_problem(problems, "toy.xlsx[scenarios]", 3, "where", says="expected column=value;column=value")


def test_workbook_missing_sheet_and_settings(toy_book):
    wb = openpyxl.load_workbook(toy_book)
    del wb["process_io"]
    ws = wb["instance"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == "years.last":
            row[1].value = None
    wb.create_sheet("extras").append(["a", "b"])
    wb.save(toy_book)
    problems = problems_of(toy_book)
    find_problem(problems, "toy.xlsx[process_io]", says="missing required sheet")
    find_problem(problems, "toy.xlsx[instance]", column="years.last", says="missing setting")
    find_problem(problems, "toy.xlsx[extras]", says="unknown sheet 'extras'")


def test_workbook_without_instance_sheet(toy_book):
    wb = openpyxl.load_workbook(toy_book)
    del wb["instance"]
    wb.save(toy_book)
    find_problem(problems_of(toy_book), "toy.xlsx[instance]", says="missing sheet 'instance'")


def test_a_file_that_is_not_a_workbook(tmp_path):
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    find_problem(problems_of(bad), "broken.xlsx", says="not a readable .xlsx workbook")


# --------------------------------------------------------------------------------------------
# Instance.to_folder is atomic
# --------------------------------------------------------------------------------------------


def test_existing_folder_is_not_replaced_without_overwrite(tmp_path, toy):
    target = tmp_path / "out"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        toy.to_folder(target)
    assert folder_snapshot(target) == {"keep.txt": b"mine"}
    toy.to_folder(target, overwrite=True)
    names = set(folder_snapshot(target))
    assert "keep.txt" not in names and "instance.yaml" in names  # replaced whole, not merged
    assert_same_instance(toy, load_instance(target))
    assert leftovers(tmp_path, "out") == []


def _failing_table_writer(monkeypatch, fail_on: str):
    real = instance_module.table_to_text
    written = []

    def writer(name, df):
        if name == fail_on:
            raise OSError("disk full")
        written.append(name)
        return real(name, df)

    monkeypatch.setattr(instance_module, "table_to_text", writer)
    return written


def test_a_failed_write_leaves_the_old_folder_whole(tmp_path, toy, monkeypatch):
    target = tmp_path / "out"
    old = toy.with_changes({"table": "instance", "column": "discount_rate", "set": 0.01})
    old.to_folder(target)
    before = folder_snapshot(target)
    written = _failing_table_writer(monkeypatch, "demand")
    with pytest.raises(OSError, match="disk full"):
        toy.to_folder(target, overwrite=True)
    assert written[:3] == ["regions", "commodities", "processes"]  # it did fail part way
    assert folder_snapshot(target) == before
    assert leftovers(tmp_path, "out") == []
    assert load_instance(target).discount_rate == 0.01


def test_a_failed_first_write_leaves_nothing(tmp_path, toy, monkeypatch):
    _failing_table_writer(monkeypatch, "policies")
    with pytest.raises(OSError):
        toy.to_folder(tmp_path / "new")
    assert list(tmp_path.iterdir()) == []


def test_to_folder_creates_missing_parents(tmp_path, toy):
    toy.to_folder(tmp_path / "a" / "b" / "toy")
    assert_same_instance(toy, load_instance(tmp_path / "a" / "b" / "toy"))


# --------------------------------------------------------------------------------------------
# Result.to_folder
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def boom_result():
    r = solve(load_instance(instances.path("toy"), scenario="ev_boom"))
    assert r.status == "optimal"
    return r


def test_result_to_folder_writes_every_table_and_summary(tmp_path, boom_result):
    out = boom_result.to_folder(tmp_path / "res")
    files = set(folder_snapshot(out))
    assert files == {f"{t}.csv" for t in TABLE_COLUMNS} | {"summary.json"}
    for name, cols in TABLE_COLUMNS.items():
        df = pd.read_csv(out / f"{name}.csv")
        assert list(df.columns) == cols, name
        assert len(df) == len(getattr(boom_result, name)), name
    cap = pd.read_csv(out / "capacity.csv")
    for col in ("residual", "new", "total"):
        assert cap[col].to_numpy() == pytest.approx(boom_result.capacity[col].to_numpy(), rel=1e-9, abs=1e-9)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert summary["objective"] == pytest.approx(boom_result.objective, rel=1e-12)
    assert summary["solver"] == "highs"
    assert summary["instance"] == "toy"
    assert summary["scenario"] == "ev_boom"
    assert isinstance(summary["timings"], dict) and summary["timings"]
    assert all(isinstance(v, (int, float)) and v >= 0 for v in summary["timings"].values())


def test_result_to_folder_base_scenario_is_null(tmp_path, toy):
    r = solve(toy)
    summary = json.loads((r.to_folder(tmp_path / "res") / "summary.json").read_text())
    assert summary["scenario"] is None and summary["instance"] == "toy"


def test_result_to_folder_is_atomic(tmp_path, boom_result, monkeypatch):
    target = tmp_path / "res"
    boom_result.to_folder(target)
    before = folder_snapshot(target)
    real = pd.DataFrame.to_csv
    calls = []

    def to_csv(self, *a, **kw):
        calls.append(1)
        if len(calls) == 4:
            raise OSError("disk full")
        return real(self, *a, **kw)

    monkeypatch.setattr(pd.DataFrame, "to_csv", to_csv)
    with pytest.raises(OSError, match="disk full"):
        boom_result.to_folder(target, overwrite=True)
    assert folder_snapshot(target) == before
    assert leftovers(tmp_path, "res") == []
    with pytest.raises(OSError):
        calls.clear()
        boom_result.to_folder(tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists() and leftovers(tmp_path, "fresh") == []


def test_result_to_folder_replaces_an_older_result(tmp_path, boom_result, toy):
    target = tmp_path / "res"
    solve(toy).to_folder(target)
    (target / "stale.csv").write_text("x\n")
    boom_result.to_folder(target)
    assert "stale.csv" not in set(folder_snapshot(target))
    assert json.loads((target / "summary.json").read_text())["scenario"] == "ev_boom"


# --------------------------------------------------------------------------------------------
# format v2: the additions through every door
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 4])
def test_v2_instance_round_trips_through_folder_and_workbook(tmp_path, seed):
    """A generated instance with every v2 addition (storage, demand curves, process costs,
    delays, an end use without plant, every policy kind): written out with to_folder and read
    back, and as a workbook, it is the same LP, bit for bit."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from instance_gen import write_instance
    from v1_fingerprints import fingerprint

    from rechain.model import prepare
    from rechain.model.matrix import assemble

    src = write_instance(tmp_path / "gen", seed, every_kind=True)
    inst = load_instance(src)
    for t in ("storage", "demand_response", "process_costs"):
        assert len(inst.tables[t]), t
    want = fingerprint(assemble(prepare(inst)))
    back = load_instance(inst.to_folder(tmp_path / "out"))
    assert back.format_version == 2 and not back.warnings
    assert fingerprint(assemble(prepare(back))) == want
    book = load_instance(workbook_from_folder(tmp_path / "out", tmp_path / "v2.xlsx"))
    assert fingerprint(assemble(prepare(book))) == want


def test_v2_additions_under_format_version_1_are_a_warning(tmp_path, toy_dir):
    add_row(toy_dir, "storage", dict(commodity="ore", region="north", initial="1", max_level="", holding_cost="0.1", final=""))
    inst = load_instance(toy_dir)
    assert any("format_version: 2" in p.message and p.severity == "warning" for p in inst.warnings)
    text = (toy_dir / "instance.yaml").read_text().replace("format_version: 1", "format_version: 3")
    (toy_dir / "instance.yaml").write_text(text)
    find_problem(problems_of(toy_dir), "instance.yaml", column="format_version", says="must be one of 1, 2")


YAML_CASES = [
    "a: 1\nb: [1, 2.5, 1e3, 0x10, yes, ~, '07', 2021-01-01]\nc: {d: 'x', e: \"y\\tz\"}\n",
    "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n",  # a merge key may be overridden
    "a: 1\nb:\n  c: 2\n  c: 3\n",  # a key stated twice, at depth
    "a: [1, 2\nb: 3\n",  # not valid YAML
    "a: !!python/object:os.system x\n",  # an unsafe tag
    "",
    "# only a comment\n",
]


@pytest.mark.parametrize("text", YAML_CASES + [(instances.path(n) / "instance.yaml").read_text(encoding="utf-8")
                                               for n in ("inner_mongolia_2021_2025", "china_2020_2035")])
def test_settings_read_the_same_with_or_without_libyaml(text):
    # settings are read by libyaml where PyYAML has it, and by PyYAML's own loader when libyaml
    # refuses a document: values, duplicate keys, key lines and errors must be those of PyYAML's
    from rechain.model import reading

    assert reading._FAST_STRICT is None or issubclass(reading._FAST_STRICT, yaml.CSafeLoader)  # a safe loader

    def read(fast: bool):
        lines: dict = {}
        try:
            if fast:
                doc, dups = reading._yaml_load(text, lines)
            else:
                doc, dups = reading._load_with(reading.StrictLoader(text), lines)
        except yaml.YAMLError as e:
            return "error", str(e)
        return doc, [(d.path, d.line, d.first) for d in dups], lines

    assert read(True) == read(False)
