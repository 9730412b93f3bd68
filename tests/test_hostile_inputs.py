"""Hostile input files: what is read is exactly what is there, or a located problem.

A reader that guesses loses data quietly: a missing closing quote swallowed the rows after it,
a line separator the csv module does not know split a row in two, a FIFO or a directory in the
place of a file read as "absent", the last of two YAML keys won. Each case here is refused with
a problem naming the file, the row and the column (or loads exactly as written).
"""

from __future__ import annotations

import json
import os
import re
import time
import zipfile

import openpyxl
import pandas as pd
import pytest

from conftest import find_problem, problems_of, read_rows, set_cell, write_rows
from rechain import instances
from rechain.model import load_instance
from test_instance_io import workbook_from_folder

# --------------------------------------------------------------------------------------------
# CSV: quotes and line breaks
# --------------------------------------------------------------------------------------------

DEMAND = "commodity,region,year,quantity,note\n"
ROWS = ["ev,south,2021,10,", "ev,south,2022,12,", "ev,south,2023,15,"]


def _demand(folder, rows, end="\n"):
    (folder / "demand.csv").write_text(DEMAND + end.join(rows) + end, encoding="utf-8", newline="")


def test_an_unterminated_quote_is_located_not_swallowing_rows(toy_dir):
    _demand(toy_dir, ['ev,south,2021,10,"a 5 cm magnet', *ROWS[1:]])
    problems = problems_of(toy_dir)
    p = find_problem(problems, "demand.csv", 2, "note", says=("quoted cell is not closed", "closing quote is missing"))
    assert [q for q in problems if q.file == "demand.csv"] == [p]


def test_a_quote_closed_rows_later_is_located_at_its_row(toy_dir):
    # two stray quotes: the csv module would make rows 2-4 one row with a three-line note
    _demand(toy_dir, ['ev,south,2021,10,"5 cm', 'ev,south,2022,12,', 'ev,south,2023,15,3"'])
    find_problem(problems_of(toy_dir), "demand.csv", 2, "note", says=("runs over a line break", "to row 4"))


def test_text_after_a_closing_quote_is_located(toy_dir):
    _demand(toy_dir, [*ROWS[:2], 'ev,south,2023,"15"0,'])
    find_problem(problems_of(toy_dir), "demand.csv", 4, "quantity", says="after the closing quote")


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\x1e"])
def test_a_stray_line_separator_is_located_not_splitting_the_row(toy_dir, char):
    _demand(toy_dir, [ROWS[0], f"ev,south,2022,12{char}ev,south,2023,15,", ROWS[2].replace("2023", "2024")])
    problems = problems_of(toy_dir)
    p = find_problem(problems, "demand.csv", 3, "quantity", says=("line break in some programs", "remove it"))
    assert [q for q in problems if q.file == "demand.csv"] == [p]


def test_line_ends_of_every_kind_and_quoted_cells_read_exactly(toy_dir):
    ref = load_instance(toy_dir).demand
    for end in ("\r\n", "\r"):
        _demand(toy_dir, [r.replace(",south,", ',"south",') + '"a, ""b"""' for r in ROWS], end=end)
        inst = load_instance(toy_dir)
        assert list(inst.demand.index) == [2, 3, 4]
        assert list(inst.demand["quantity"]) == [10, 12, 15] and set(inst.demand["note"]) == {'a, "b"'}
        assert len(inst.demand) < len(ref)  # the other rows of the toy's demand are gone: it is this file that was read


def test_a_cell_past_the_csv_size_limit_is_located(toy_dir):
    _demand(toy_dir, [ROWS[0], "ev,south,2022,12," + "x" * 200_000, ROWS[2]])
    p = _only(problems_of(toy_dir), "demand.csv")
    assert p.row == 3 and "field larger than field limit" in p.message and "quote" not in p.message


# --------------------------------------------------------------------------------------------
# files that are not files, links that leave the instance
# --------------------------------------------------------------------------------------------


def _only(problems, file):
    mine = [p for p in problems if p.file == file]
    assert len(mine) == 1, mine
    return mine[0]


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_directory_or_fifo_in_place_of_a_table_is_a_problem_not_absent(toy_dir, kind):
    (toy_dir / "demand.csv").unlink()
    if kind == "directory":
        (toy_dir / "demand.csv").mkdir()
    else:
        os.mkfifo(toy_dir / "demand.csv")  # opening it would block the reading forever
    p = _only(problems_of(toy_dir), "demand.csv")
    assert ("a directory" if kind == "directory" else "a FIFO") in p.message and "not a file" in p.message


def test_a_required_table_that_cannot_be_read_is_one_problem(toy_dir):
    (toy_dir / "processes.csv").unlink()
    (toy_dir / "processes.csv").mkdir()
    assert "a directory" in _only(problems_of(toy_dir), "processes.csv").message


@pytest.mark.parametrize("target", ["/etc/passwd", "/dev/zero", "../outside.csv"])
def test_a_link_out_of_the_instance_folder_is_never_read(toy_dir, target):
    outside = toy_dir.parent / "outside.csv"
    outside.write_text("commodity,region,year,quantity\nroot:x:0:0,south,2021,1\n", encoding="utf-8")
    (toy_dir / "demand.csv").unlink()
    (toy_dir / "demand.csv").symlink_to(target)
    problems = problems_of(toy_dir)
    p = _only(problems, "demand.csv")
    assert "outside the instance folder" in p.message
    assert not any("root" in str(q) for q in problems)


def test_a_dangling_link_is_a_problem_not_absent(toy_dir):
    (toy_dir / "demand.csv").unlink()
    (toy_dir / "demand.csv").symlink_to(toy_dir / "gone.csv")
    assert "symbolic link to nothing" in _only(problems_of(toy_dir), "demand.csv").message


def test_instance_yaml_that_is_a_link_out_or_a_directory(toy_dir):
    text = (toy_dir / "instance.yaml").read_text(encoding="utf-8")
    (toy_dir.parent / "settings.yaml").write_text(text, encoding="utf-8")
    (toy_dir / "instance.yaml").unlink()
    (toy_dir / "instance.yaml").symlink_to(toy_dir.parent / "settings.yaml")
    assert "outside the instance folder" in _only(problems_of(toy_dir), "instance.yaml").message
    (toy_dir / "instance.yaml").unlink()
    (toy_dir / "instance.yaml").mkdir()
    assert "a directory" in _only(problems_of(toy_dir), "instance.yaml").message


def test_a_link_within_the_instance_folder_is_read(toy_dir):
    (toy_dir / "data").mkdir()
    (toy_dir / "demand.csv").rename(toy_dir / "data" / "demand.csv")
    (toy_dir / "demand.csv").symlink_to("data/demand.csv")
    assert len(load_instance(toy_dir).demand) == 6


# --------------------------------------------------------------------------------------------
# duplicate keys in instance.yaml
# --------------------------------------------------------------------------------------------


def _append_yaml(folder, text):
    with open(folder / "instance.yaml", "a", encoding="utf-8") as f:
        f.write(text)


def _line_of(folder, text):
    lines = (folder / "instance.yaml").read_text(encoding="utf-8").splitlines()
    return [i for i, line in enumerate(lines, 1) if line.startswith(text)]


def test_a_setting_given_twice_is_located(toy_dir):
    _append_yaml(toy_dir, "discount_rate: 0.5\n")
    first, second = _line_of(toy_dir, "discount_rate:")
    p = _only(problems_of(toy_dir), "instance.yaml")
    assert (p.row, p.column) == (second, "discount_rate")
    assert f"duplicate key 'discount_rate' (first given on line {first})" in p.message


def test_two_scenarios_blocks_and_a_scenario_key_given_twice(toy_dir):
    _append_yaml(toy_dir, "scenarios:\n  late:\n    description: a\n    description: b\n    changes: []\n")
    first, second = _line_of(toy_dir, "scenarios:")
    problems = [p for p in problems_of(toy_dir) if p.file == "instance.yaml"]
    assert [(p.row, p.column) for p in problems] == [(second, "scenarios"), (second + 3, "scenarios.late.description")]
    assert "first given on line" in problems[1].message


def test_a_key_given_twice_in_a_change_and_in_a_flow_mapping(toy_dir):
    text = (toy_dir / "instance.yaml").read_text(encoding="utf-8")
    text = text.replace("{table: demand, where: {commodity: ev}, column: quantity, scale: 1.2}",
                        "{table: demand, where: {commodity: ev, commodity: car}, column: quantity, scale: 1.2, scale: 2}")
    (toy_dir / "instance.yaml").write_text(text, encoding="utf-8")
    line = _line_of(toy_dir, "      - {table: demand")[0]
    problems = [p for p in problems_of(toy_dir) if p.file == "instance.yaml"]
    assert {(p.row, p.column) for p in problems} == {(line, "scenarios.ev_boom.changes[1].where.commodity"),
                                                     (line, "scenarios.ev_boom.changes[1].scale")}


def test_merged_keys_may_be_overridden(toy_dir):
    text = (toy_dir / "instance.yaml").read_text(encoding="utf-8")
    text = text.replace("units: {money: CNY million, material: t}", "units: {<<: {money: USD, material: t}, money: CNY million}")
    (toy_dir / "instance.yaml").write_text(text, encoding="utf-8")
    assert load_instance(toy_dir).units == {"money": "CNY million", "material": "t"}


# --------------------------------------------------------------------------------------------
# workbooks
# --------------------------------------------------------------------------------------------


@pytest.fixture
def toy_book(tmp_path):
    return workbook_from_folder(instances.path("toy"), tmp_path / "toy.xlsx")


def _rewrite(book, change):
    """Rewrite the parts of the workbook's zip: ``change(name, data)`` returns new bytes, or a
    function writing them to an open part (for parts too big to hold), or None to keep them."""
    with zipfile.ZipFile(book) as z:
        parts = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts:
            new = change(name, data)
            if callable(new):
                with z.open(name, "w", force_zip64=True) as f:
                    new(f)
            else:
                z.writestr(name, data if new is None else new)


def _sheet_part(book, sheet):
    wb = openpyxl.load_workbook(book)
    return f"xl/worksheets/sheet{wb.sheetnames.index(sheet) + 1}.xml"


def test_a_stale_dimension_tag_loses_no_rows(toy_book, tmp_path):
    part = _sheet_part(toy_book, "demand")
    _rewrite(toy_book, lambda name, data: re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:E4"/>', data)
             if name == part else None)
    with zipfile.ZipFile(toy_book) as z:
        assert b'<dimension ref="A1:E4"/>' in z.read(part)
    book = load_instance(toy_book)
    pd.testing.assert_frame_equal(book.demand, load_instance(instances.path("toy")).demand)
    assert list(book.demand.index) == [2, 3, 4, 5, 6, 7]


def test_a_scenarios_header_is_matched_exactly_as_a_table_header(toy_book, toy_dir):
    wb = openpyxl.load_workbook(toy_book)
    wb["scenarios"]["D1"].value = "Where"  # the change would apply to every row
    wb.save(toy_book)
    problems = problems_of(toy_book)
    p = find_problem(problems, "toy.xlsx[scenarios]", 1, "Where", says=("unknown column 'Where'", "expected: scenario"))
    assert p in problems
    # a table header is matched the same way, in a folder and in a workbook
    rows = read_rows(toy_dir, "demand")
    rows[0][0] = "Commodity"
    write_rows(toy_dir, "demand", rows)
    find_problem(problems_of(toy_dir), "demand.csv", 1, "Commodity", says="unknown column 'Commodity'")


def test_settings_and_sources_sheets_take_only_their_columns(toy_book):
    wb = openpyxl.load_workbook(toy_book)
    wb["instance"]["C1"].value = "Value"
    wb["sources"]["B1"].value = "Title"
    wb.save(toy_book)
    problems = problems_of(toy_book)
    find_problem(problems, "toy.xlsx[instance]", 1, "Value", says="unknown column 'Value'")
    find_problem(problems, "toy.xlsx[sources]", 1, "Title", says="unknown column 'Title'")


@pytest.mark.parametrize("second", ["demand ", "Demand", "demand"])
def test_two_sheets_of_one_name_are_a_problem(toy_book, second):
    wb = openpyxl.load_workbook(toy_book)
    wb.create_sheet("spare").append(["commodity", "region", "year", "quantity"])
    wb.save(toy_book)
    # written into the file itself: openpyxl would rename a repeated name to demand1
    _rewrite(toy_book, lambda name, data: data.replace(b'name="spare"', f'name="{second}"'.encode())
             if name == "xl/workbook.xml" else None)
    problems = problems_of(toy_book)
    p = _only(problems, f"toy.xlsx[{second}]")
    assert "has the name of sheet 'demand'" in p.message and "ignoring case and surrounding spaces" in p.message
    assert not any("missing" in q.message or "unknown sheet" in q.message for q in problems)


@pytest.mark.parametrize("key,again", [("discount_rate", "discount_rate"), ("years.first", "first_year")])
def test_a_setting_given_twice_in_the_instance_sheet(toy_book, key, again):
    wb = openpyxl.load_workbook(toy_book)
    ws = wb["instance"]
    first = next(r[0].row for r in ws.iter_rows(min_row=2) if r[0].value == key)
    ws.append([again, 0.5 if key == "discount_rate" else 2021])
    wb.save(toy_book)
    p = _only(problems_of(toy_book), "toy.xlsx[instance]")
    assert (p.row, p.column) == (ws.max_row, "key")
    assert f"setting '{key}' is given twice (first on row {first})" in p.message


@pytest.mark.parametrize("title", ["Plan A: base: draft", "[draft] Plan A", "yes", "Toy #2", "{a: 1", "- a"])
def test_workbook_text_settings_are_text_as_in_instance_yaml(toy_book, toy_dir, title):
    wb = openpyxl.load_workbook(toy_book)
    for row in wb["instance"].iter_rows(min_row=2):
        if row[0].value in ("title", "units.money"):
            row[1].value = title
    wb.save(toy_book)
    book = load_instance(toy_book)
    text = (toy_dir / "instance.yaml").read_text(encoding="utf-8")
    text = re.sub(r"^title: .*$", lambda m: "title: " + json.dumps(title), text, flags=re.M)
    (toy_dir / "instance.yaml").write_text(text.replace("money: CNY million", "money: " + json.dumps(title)), encoding="utf-8")
    folder = load_instance(toy_dir)
    assert book.title == folder.title == title and book.units["money"] == folder.units["money"] == title


def test_a_zip_bomb_workbook_is_refused_before_it_is_unpacked(toy_book):
    part = _sheet_part(toy_book, "demand")

    def bomb(f):  # 64 MB of sheet XML packed to about 100 kB
        for _ in range(64):
            f.write(b"<row/>" * (2**20 // 6))

    _rewrite(toy_book, lambda name, data: bomb if name == part else None)
    t = time.perf_counter()
    p = _only(problems_of(toy_book), "toy.xlsx[demand]")
    assert time.perf_counter() - t < 2
    assert "zip bomb" in p.message and "not read" in p.message


def test_a_workbook_past_the_size_and_row_limits(toy_book, monkeypatch):
    from rechain.model import workbook

    monkeypatch.setattr(workbook, "MAX_UNPACKED", 20_000)
    p = [q for q in problems_of(toy_book) if q.file.startswith("toy.xlsx")]
    assert len(p) == 1 and "would unpack to" in p[0].message and "MB an instance can need" in p[0].message
    monkeypatch.undo()
    monkeypatch.setattr(workbook, "MAX_ROWS", 5)  # demand has 7 rows
    problems = problems_of(toy_book)
    p = _only(problems, "toy.xlsx[demand]")
    assert "has more than 5 rows" in p.message
    monkeypatch.setattr(workbook, "MAX_ROWS", 1000)
    monkeypatch.setattr(workbook, "MAX_COLUMNS", 3)
    assert "past the 3 columns" in _only(problems_of(toy_book), "toy.xlsx[demand]").message


# --------------------------------------------------------------------------------------------
# names that are not names
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["*", "NA", "N/A", "nan", "NaN", "None", "null", "NULL", "<NA>"])
def test_a_reserved_name_is_located(toy_dir, name):
    set_cell(toy_dir, "regions", 2, "region", name)
    problems = problems_of(toy_dir)
    p = _only(problems, "regions.csv")
    assert (p.row, p.column, p.value) == (2, "region", name) and "cannot be" in p.message
    # a build_limits row may say * for every region: a region named * would make a row meant
    # for it apply to all of them
    assert ("'*' stands for every name" in p.message) == (name == "*")


@pytest.mark.parametrize("table,column", [("commodities", "commodity"), ("processes", "process"), ("policies", "policy"),
                                          ("demand", "region"), ("process_io", "commodity")])
def test_reserved_names_are_refused_in_every_name_column(toy_dir, table, column):
    set_cell(toy_dir, table, 2, column, "null")
    find_problem(problems_of(toy_dir), f"{table}.csv", 2, column, says="read as a missing value")


@pytest.mark.parametrize("key", ["NA", "None", "null", "'*'", "' x'"])
def test_a_reserved_scenario_name_is_a_problem(toy_dir, key):
    text = (toy_dir / "instance.yaml").read_text(encoding="utf-8").replace("  no_target:", f"  {key}:")
    (toy_dir / "instance.yaml").write_text(text, encoding="utf-8")
    p = _only(problems_of(toy_dir), "instance.yaml")
    assert p.row == _line_of(toy_dir, f"  {key}:")[0] and p.column.startswith("scenarios.")
    assert any(s in p.message for s in ("cannot be", "needs a name", "stands for every name", "no spaces around"))


def test_a_reserved_scenario_name_in_a_workbook_is_located(toy_book):
    wb = openpyxl.load_workbook(toy_book)
    wb["scenarios"]["A3"].value = "nan"
    wb.save(toy_book)
    p = _only(problems_of(toy_book), "toy.xlsx[scenarios]")
    assert (p.row, p.column, p.value) == (3, "scenario", "nan")


# --------------------------------------------------------------------------------------------
# one location per problem: settings are located at their line (or row of the instance sheet)
# --------------------------------------------------------------------------------------------


def test_a_problem_with_a_setting_names_its_line(toy_dir):
    text = (toy_dir / "instance.yaml").read_text(encoding="utf-8")
    text = text.replace("discount_rate: 0.05", "discount_rate: five").replace("first: 2021", "first: 2021.5")
    (toy_dir / "instance.yaml").write_text(text.replace("  no_target:", "  NA:"), encoding="utf-8")
    problems = problems_of(toy_dir)
    find_problem(problems, "instance.yaml", _line_of(toy_dir, "discount_rate:")[0], "discount_rate", says="must be a number")
    find_problem(problems, "instance.yaml", _line_of(toy_dir, "years:")[0], "years.first", says="whole number")
    find_problem(problems, "instance.yaml", _line_of(toy_dir, "  NA:")[0], "scenarios.NA", says="cannot be a name")


def test_a_problem_with_a_setting_names_its_row_in_the_instance_sheet(toy_book):
    wb = openpyxl.load_workbook(toy_book)
    ws = wb["instance"]
    row = next(r[0].row for r in ws.iter_rows(min_row=2) if r[0].value == "discount_rate")
    ws.cell(row, 2).value = "five"
    wb.save(toy_book)
    find_problem(problems_of(toy_book), "toy.xlsx[instance]", row, "discount_rate", says="must be a number")


@pytest.mark.parametrize("text", ["two\nlines", "a\u2028b"])
def test_a_table_cell_of_a_workbook_is_one_line_as_in_a_csv_file(toy_book, text):
    wb = openpyxl.load_workbook(toy_book)
    wb["commodities"]["D3"].value = text  # a description
    wb.save(toy_book)
    p = _only(problems_of(toy_book), "toy.xlsx[commodities]")
    assert (p.row, p.column) == (3, "description") and "a cell of a table is one line" in p.message
