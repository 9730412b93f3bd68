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


def assert_equal_instances(a, b):
    """The same tables (values, dtypes, blanks, line numbers) and the same settings, sources and
    scenarios (a change compared as it acts: see :func:`_plain_change`); a text setting
    compared without the line end a YAML block leaves at its end."""
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
    for name in a.scenarios:  # each scenario changes the same rows the same way
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
    assert_equal_instances(inst, again)
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
    assert_equal_instances(inst, again)


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
    assert_equal_instances(load_instance(TOY), load_instance(folder))
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
    assert_equal_instances(load_instance(TOY), load_instance(shipped_book))
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
