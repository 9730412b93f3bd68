"""Hostile input files: what is read is exactly what is there, or a located problem.

A reader that guesses loses data quietly: a missing closing quote swallowed the rows after it,
a line separator the csv module does not know split a row in two, a FIFO or a directory in the
place of a file read as "absent", the last of two YAML keys won. Each case here is refused with
a problem naming the file, the row and the column (or loads exactly as written).
"""

from __future__ import annotations

import os

import pytest

from conftest import find_problem, problems_of
from rechain.model import load_instance

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
