"""Outputs never destroy what rechain did not write, and survive kills, races and hostile names.

- ``--out`` of every command that writes a folder refuses (exit 2) the instance folder, a folder
  containing it or inside it, the current directory, and any existing path that is not a
  previous output of that command, with ``--force`` or not;
- the atomic write recovers from a kill between its two renames, cleans its leftovers, lets
  two writers to one folder take turns (the second never silently replaces the first) and
  names the folder in an error of the system;
- an instance's name is never a path; names are inert in report.html and results.xlsx, and
  read back as text (``NA`` stays ``NA``); damaged results folders give located errors.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import rechain.instances as shipped
from rechain.model import load_instance
from rechain.model.atomic import OutputError, OutputRefused, atomic_write_folder, recover
from rechain.solvers import solve
from rechain.solvers.cli import default_target, safe_name
from rechain.solvers.export import WORKBOOK, read_results, write_results
from rechain.solvers.report import build_report

from test_cli import run

TOY = shipped.path("toy")

def snapshot(folder: Path) -> dict[str, bytes]:
    folder = Path(folder)
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def toy_result():
    inst = load_instance(TOY)
    return inst, solve(inst)


@pytest.fixture
def results_dir(tmp_path, toy_result):
    inst, res = toy_result
    return write_results(res, tmp_path / "base", instance=inst)


@pytest.fixture
def my_instance(tmp_path):
    """A user's instance folder, with a note of theirs, inside a project folder."""
    d = tmp_path / "project" / "mine"
    shutil.copytree(TOY, d)
    (d / "notes.txt").write_text("my notes")
    return d


# -- --out never replaces what the user made ---------------------------------------------------


@pytest.mark.parametrize("where", ["itself", "parent", "inside"])
def test_solve_out_refuses_the_instance_folder_its_parent_and_inside_it(my_instance, where):
    target = {"itself": my_instance, "parent": my_instance.parent, "inside": my_instance / "results"}[where]
    before = snapshot(my_instance.parent)
    r = run("solve", my_instance, "--out", target, "--force", "-q")
    assert r.exit_code == 2, r.output
    assert "the instance folder" in r.output and "never replaced" in r.output
    assert snapshot(my_instance.parent) == before
    assert sorted(p.name for p in my_instance.parent.iterdir()) == ["mine"]


def test_solve_out_refuses_an_existing_file_and_a_folder_that_is_not_results(tmp_path):
    f = tmp_path / "thesis.docx"
    f.write_bytes(b"years of work")
    r = run("solve", TOY, "--out", f, "--force", "-q")
    assert r.exit_code == 2 and "is not a folder" in r.output, r.output
    assert f.read_bytes() == b"years of work"
    r = run("solve", TOY, "--out", f / "sub", "-q")
    assert r.exit_code == 2 and f"{f} is not a folder" in r.output, r.output
    d = tmp_path / "photos"
    d.mkdir()
    (d / "cat.jpg").write_bytes(b"cat")
    r = run("solve", TOY, "--out", d, "--force", "-q")
    assert r.exit_code == 2 and "is not a results folder (no summary.json)" in r.output, r.output
    assert snapshot(d) == {"cat.jpg": b"cat"}


def test_solve_out_refuses_the_current_directory_and_what_contains_it(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "summary.json").write_text("{}")  # even a folder that looks like results
    monkeypatch.chdir(work)
    for target in (".", str(work), ".."):
        r = run("solve", TOY, "--out", target, "--force", "-q")
        assert r.exit_code == 2 and "current directory" in r.output, (target, r.output)
    assert sorted(p.name for p in work.iterdir()) == ["summary.json"]


def test_solve_out_replaces_a_previous_results_folder_with_force_only(tmp_path, results_dir):
    r = run("solve", TOY, "--out", results_dir, "-q")
    assert r.exit_code == 2 and "pass --force" in r.output and "overwrite=True" not in r.output
    (results_dir / "stale.txt").write_text("x")
    assert run("solve", TOY, "--out", results_dir, "-q", "--force").exit_code == 0
    assert not (results_dir / "stale.txt").exists() and (results_dir / "summary.json").is_file()


def test_report_out_refuses_the_results_folder_its_parent_and_other_folders(tmp_path, results_dir):
    before = snapshot(tmp_path)
    for target in (results_dir, tmp_path):
        r = run("report", results_dir, "--out", target, "--force", "-q")
        assert r.exit_code == 2 and "the results folder read" in r.output, r.output
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("keep")
    r = run("report", results_dir, "--out", other, "--force", "-q")
    assert r.exit_code == 2 and "is not a report folder (no report.html)" in r.output, r.output
    assert snapshot(tmp_path) == {**before, "other/keep.txt": b"keep"}


def test_sweep_and_init_out_refuse_folders_that_are_not_theirs(tmp_path, my_instance, monkeypatch):
    before = snapshot(my_instance)
    r = run("sweep", my_instance, "--out", my_instance, "--force", "-q")
    assert r.exit_code == 2 and "the instance folder" in r.output, r.output
    r = run("sweep", my_instance, "--out", my_instance.parent, "--force", "-q")
    assert r.exit_code == 2, r.output
    r = run("init", my_instance / "notes.txt", "--force", "-q")
    assert r.exit_code == 2 and "is not a folder" in r.output, r.output
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "cat.jpg").write_bytes(b"cat")
    r = run("init", photos, "--force", "-q")
    assert r.exit_code == 2 and "is not an instance folder (no instance.yaml)" in r.output, r.output
    monkeypatch.chdir(photos)
    r = run("init", ".", "--force", "-q")
    assert r.exit_code == 2 and "current directory" in r.output, r.output
    assert snapshot(my_instance) == before and snapshot(photos) == {"cat.jpg": b"cat"}
    # an instance folder is replaced by a starter with --force (documented)
    assert run("init", my_instance, "--force", "-q").exit_code == 0
    assert not (my_instance / "notes.txt").exists()


@pytest.mark.parametrize("command", [["stochastic", "-s", "base"], ["alternatives", "--slack", "0.05"]])
def test_stochastic_and_alternatives_out_refuse_folders_that_are_not_theirs(tmp_path, my_instance, command):
    before = snapshot(my_instance.parent)
    for target in (my_instance, my_instance.parent):
        r = run(command[0], my_instance, *command[1:], "--out", target, "--force", "-q")
        assert r.exit_code == 2 and "the instance folder" in r.output, r.output
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("keep")
    r = run(command[0], my_instance, *command[1:], "--out", other, "--force", "-q")
    assert r.exit_code == 2 and "is not a" in r.output and "never replaced" in r.output, r.output
    assert snapshot(other) == {"keep.txt": b"keep"} and snapshot(my_instance.parent) == before
    out = tmp_path / "mine"
    assert run(command[0], my_instance, *command[1:], "--out", out, "-q").exit_code == 0
    assert run(command[0], my_instance, *command[1:], "--out", out, "--force", "-q").exit_code == 0


def test_lp_file_must_be_lp_or_mps(my_instance):
    before = snapshot(my_instance)
    r = run("solve", my_instance, "--lp", my_instance / "demand.csv", "-q")
    assert r.exit_code == 2 and "expected a .lp or .mps file" in r.output, r.output
    assert snapshot(my_instance) == before


# -- the instance name is never a path --------------------------------------------------------


def test_safe_name_and_default_target():
    assert safe_name("../../x") == "____x"
    assert safe_name("/etc/passwd") == "_etc_passwd"
    assert safe_name(".hidden") == "_hidden" and safe_name("") == "_"
    assert safe_name("ok-name_1.2") == "ok-name_1.2"
    assert default_target("toy", ["ev_boom"]) == Path("results") / "toy+ev_boom"
    for name in ("../../x", "/abs/path", "..", "a/../../b", "C:\\x", "ü<>|*?"):
        t = default_target(name, ["../up"])
        assert t.parent == Path("results") and re.fullmatch(r"[A-Za-z0-9_.+-]+", t.name) and ".." not in t.name, t


def test_report_without_out_stays_inside_results(tmp_path, monkeypatch):
    d = tmp_path / "deep" / "er"
    shutil.copytree(TOY, d / "inst")
    y = d / "inst" / "instance.yaml"
    y.write_text(y.read_text(encoding="utf-8").replace("name: toy", "name: ../../escaped"), encoding="utf-8")
    monkeypatch.chdir(d)
    r = run("solve", "inst", "--report", "-q")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (d / "results").iterdir()) == ["____escaped"]
    assert (d / "results" / "____escaped" / "report" / "report.html").is_file()
    assert sorted(p.name for p in d.iterdir()) == ["inst", "results"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep"]


# -- the atomic write: kills between the renames, leftovers, races, errors of the system ------

KILL_BETWEEN_RENAMES = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from rechain.model.atomic import atomic_write_folder

    real = os.replace

    def replace(src, dst):
        real(src, dst)
        if Path(dst).name == "x":  # the previous folder was moved aside: die before the new one moves in
            os.kill(os.getpid(), signal.SIGKILL)

    os.replace = replace
    atomic_write_folder(Path(sys.argv[1]), lambda tmp: (tmp / "new.txt").write_text("new"), overwrite=True)
    """
)


def test_a_kill_between_the_renames_is_repaired_by_the_next_write(tmp_path, caplog):
    out = tmp_path / "results"
    atomic_write_folder(out, lambda tmp: (tmp / "old.txt").write_text("previous"))
    p = subprocess.run([sys.executable, "-c", KILL_BETWEEN_RENAMES, str(out)], capture_output=True, text=True, timeout=60)
    assert p.returncode == -9, p.stderr
    # the kill left no results folder: the previous one waits in .results.old-*/x
    assert not out.exists()
    olds = [q for q in tmp_path.iterdir() if q.name.startswith(".results.old-")]
    assert len(olds) == 1 and (olds[0] / "x" / "old.txt").read_text() == "previous"
    with pytest.raises(FileNotFoundError, match=r"interrupted.*\.results\.old-"):
        read_results(out)
    # the next write restores it first, so a write that may not overwrite does not
    with pytest.raises(OutputRefused, match="pass overwrite=True"):
        atomic_write_folder(out, lambda tmp: (tmp / "new.txt").write_text("new"), overwrite=False)
    assert snapshot(out) == {"old.txt": b"previous"}
    assert sorted(q.name for q in tmp_path.iterdir()) == ["results"]
    assert f"{out}: restored the previous folder left in {olds[0].name} by an interrupted write" in caplog.messages


def test_leftover_temporary_and_old_folders_are_cleaned_by_the_next_write(tmp_path, caplog):
    out = tmp_path / "results"
    atomic_write_folder(out, lambda tmp: (tmp / "a.txt").write_text("a"))
    for name in (".results.tmp-abc123", ".results.old-def456"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "part.csv").write_text("partial")
    (tmp_path / ".other.tmp-zzz").mkdir()  # another folder's: not touched
    assert len(recover(tmp_path / "other")) == 1 and not (tmp_path / ".other.tmp-zzz").exists()
    (tmp_path / ".other.tmp-zzz").mkdir()
    atomic_write_folder(out, lambda tmp: (tmp / "b.txt").write_text("b"), overwrite=True)
    assert sorted(q.name for q in tmp_path.iterdir()) == [".other.tmp-zzz", "results"]
    assert snapshot(out) == {"b.txt": b"b"}
    assert any(".results.tmp-abc123, a partial folder" in m for m in caplog.messages)


def test_two_writers_to_one_folder_take_turns_and_the_second_does_not_replace(tmp_path):
    out = tmp_path / "results"
    second: dict = {}

    def write_second():
        try:
            atomic_write_folder(out, lambda tmp: (tmp / "who.txt").write_text("second"), overwrite=False)
            second["ok"] = True
        except BaseException as e:  # noqa: BLE001 - the test reads it
            second["error"] = e

    def write_first(tmp):
        (tmp / "who.txt").write_text("first")
        t = threading.Thread(target=write_second)
        t.start()
        time.sleep(0.3)  # the second writer starts while the first is writing
        second["thread"] = t

    atomic_write_folder(out, write_first, overwrite=False)
    second["thread"].join(10)
    assert isinstance(second.get("error"), OutputRefused), second
    assert (out / "who.txt").read_text() == "first"
    assert sorted(q.name for q in tmp_path.iterdir()) == ["results"]


def test_a_write_inside_a_write_to_the_same_parent_does_not_wait_for_itself(tmp_path):
    def outer(tmp):
        (tmp / "a.txt").write_text("a")
        atomic_write_folder(tmp_path / "sibling", lambda t: (t / "b.txt").write_text("b"))

    t = threading.Thread(target=atomic_write_folder, args=(tmp_path / "first", outer), daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive(), "the nested write waited for the lock its own thread holds"
    assert snapshot(tmp_path) == {"first/a.txt": b"a", "sibling/b.txt": b"b"}


def test_cli_a_folder_written_meanwhile_is_not_replaced_and_the_message_says_force(tmp_path, monkeypatch):
    import rechain.solvers as solvers

    out = tmp_path / "out"
    real = solvers.solve

    def solve_while_another_run_writes(*a, **k):
        r = real(*a, **k)
        out.mkdir()
        (out / "summary.json").write_text('{"status": "optimal", "by": "the other run"}')
        return r

    monkeypatch.setattr(solvers, "solve", solve_while_another_run_writes)
    r = run("solve", TOY, "--out", out, "-q")
    assert r.exit_code == 2 and f"{out} exists: pass --force to replace it" in r.output, r.output
    assert "overwrite=True" not in r.output
    assert json.loads((out / "summary.json").read_text())["by"] == "the other run"


def test_two_concurrent_solves_to_one_folder_one_wins_the_other_says_so(tmp_path):
    out = tmp_path / "same"
    cmd = [sys.executable, "-c", "from rechain.solvers.cli import main; main()", "solve", str(TOY), "--out", str(out), "-q"]
    procs = [subprocess.Popen(cmd + extra, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for extra in ([], ["--scenario", "ev_boom"])]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0, 2], outs
    winner = codes.index(0)
    assert f"{out} exists: pass --force to replace it" in outs[1 - winner]
    assert json.loads((out / "summary.json").read_text())["scenario"] == [None, "ev_boom"][winner]
    assert sorted(q.name for q in tmp_path.iterdir()) == ["same"]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.EROFS])
def test_an_error_of_the_system_names_the_folder(tmp_path, monkeypatch, toy_result, code):
    import tempfile

    inst, res = toy_result
    out = tmp_path / "out"

    def refuse(*a, **k):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    with pytest.raises(OutputError) as e:
        write_results(res, out, instance=inst)
    assert e.value.errno == code and str(out) in str(e.value) and os.strerror(code) in str(e.value)
    r = run("solve", TOY, "--out", out, "-q")
    assert r.exit_code == 2, r.output
    assert f"error: cannot write {out}: {os.strerror(code)}" in r.output
    assert not out.exists()


def test_an_error_of_the_system_inside_names_the_folder_asked_for(tmp_path, monkeypatch, toy_result):
    import rechain.model.instance as instance_module

    inst, res = toy_result

    def full(name, df):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(instance_module, "table_to_text", full)  # the disk fills on instance/
    with pytest.raises(OutputError) as e:
        write_results(res, tmp_path / "out", instance=inst)
    assert e.value.errno == errno.ENOSPC and str(e.value) == f"cannot write {tmp_path / 'out'}: {os.strerror(errno.ENOSPC)}"
    assert list(tmp_path.iterdir()) == []


def test_the_library_says_overwrite_true(tmp_path, toy_result):
    inst, res = toy_result
    res.to_folder(tmp_path / "r")
    with pytest.raises(FileExistsError) as e:
        res.to_folder(tmp_path / "r", overwrite=False)
    assert "pass overwrite=True" in str(e.value) and "--force" not in str(e.value)


# -- names in the workbook, read back as text ------------------------------------------------


def test_workbook_names_are_text_numbers_are_numbers_and_bytes_are_stable(tmp_path, toy_result, monkeypatch):
    inst, res = toy_result
    formulas = ['=HYPERLINK("http://example.com","x")', "+1+2", "-3", "@SUM(1)"]
    cap = res.tables["capacity"].copy()
    procs = list(dict.fromkeys(cap["process"]))
    cap["process"] = cap["process"].map(dict(zip(procs, formulas + procs[len(formulas):])))
    monkeypatch.setitem(res.tables, "capacity", cap)
    write_results(res, tmp_path / "a", fmt="xlsx")
    time.sleep(1.1)  # a later second: a clock in the workbook would show
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3 * 86400)
    write_results(res, tmp_path / "b", fmt="xlsx")
    monkeypatch.setattr(time, "time", real)
    a, b = (tmp_path / "a" / WORKBOOK).read_bytes(), (tmp_path / "b" / WORKBOOK).read_bytes()
    assert a == b
    with zipfile.ZipFile(tmp_path / "a" / WORKBOOK) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets and not any("<f>" in s or "<f " in s for s in sheets)
    _, tables = read_results(tmp_path / "a")
    assert set(formulas) <= set(tables["capacity"]["process"])
    import openpyxl

    ws = openpyxl.load_workbook(tmp_path / "a" / WORKBOOK)["capacity"]
    header = [c.value for c in ws[1]]
    kinds = {c: {row[header.index(c)].data_type for row in ws.iter_rows(min_row=2)} for c in ("process", "year", "total")}
    assert kinds == {"process": {"s"}, "year": {"n"}, "total": {"n"}}  # names text, numbers numbers
    assert tables["capacity"]["total"].to_numpy() == pytest.approx(cap["total"].to_numpy(), abs=1e-9)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_names_like_na_are_read_back_as_text(tmp_path, toy_result, monkeypatch, fmt):
    inst, res = toy_result
    cap = res.tables["capacity"].copy()
    procs = list(dict.fromkeys(cap["process"]))
    na = ["NA", "nan", "None", "null", "N/A"]
    cap["process"] = cap["process"].map(dict(zip(procs, na + procs[len(na):])))
    monkeypatch.setitem(res.tables, "capacity", cap)
    write_results(res, tmp_path / "r", fmt=fmt)
    _, tables = read_results(tmp_path / "r")
    got = tables["capacity"]["process"]
    assert got.notna().all() and set(na) <= set(got)
    assert tables["capacity"]["total"].to_numpy() == pytest.approx(cap["total"].to_numpy(), abs=1e-9)


# -- damaged results folders, zero demand ------------------------------------------------------


def _drop_column(path: Path, column: str) -> None:
    df = pd.read_csv(path, keep_default_na=False, dtype=str)
    df.drop(columns=[column]).to_csv(path, index=False)


@pytest.mark.parametrize("damage, located", [
    ("bad_json", r"summary.json, row 1: not valid JSON"),
    ("not_object", r"summary.json: expected a JSON object"),
    ("no_summary", r"not a results folder \(no summary.json"),
    ("no_table", r"missing table prices \(expected prices.csv"),
    ("no_column", r"prices.csv, column 'price': missing column"),
    ("not_number", r"capacity.csv, row 2, column 'total': expected a number \(found 'lots'\)"),
])
@pytest.mark.parametrize("command", ["compare", "report"])
def test_damaged_results_folders_give_a_located_error(results_dir, tmp_path, damage, located, command):
    bad = tmp_path / "bad"
    shutil.copytree(results_dir, bad)
    if damage == "bad_json":
        (bad / "summary.json").write_text('{"status": "optimal", objective: 1}')
    elif damage == "not_object":
        (bad / "summary.json").write_text("[1, 2]")
    elif damage == "no_summary":
        (bad / "summary.json").unlink()
    elif damage == "no_table":
        (bad / "prices.csv").unlink()
    elif damage == "no_column":
        _drop_column(bad / "prices.csv", "price")
    else:
        df = pd.read_csv(bad / "capacity.csv", keep_default_na=False, dtype=str)
        df.loc[0, "total"] = "lots"
        df.to_csv(bad / "capacity.csv", index=False)
    args = ("compare", results_dir, bad) if command == "compare" else ("report", bad)
    r = run(*args, "-q")
    assert r.exit_code == 2, r.output
    assert re.search(located, r.output), r.output
    assert "Error:" not in r.output and "KeyError" not in r.output and "JSONDecodeError" not in r.output


@pytest.mark.parametrize("damage, located", [
    ("no_stage", r"instance/processes.csv, column 'stage': missing column"),
    ("bad_yaml", r"instance/instance.yaml, row 2: not valid YAML"),
    ("bad_csv", r"instance/commodities.csv: cannot be read as CSV"),
])
def test_a_damaged_solved_instance_in_a_results_folder_gives_a_located_error(results_dir, damage, located):
    inst = results_dir / "instance"
    if damage == "no_stage":
        _drop_column(inst / "processes.csv", "stage")
    elif damage == "bad_yaml":
        (inst / "instance.yaml").write_text("name: toy\ntitle: a: b\n")
    else:
        (inst / "commodities.csv").write_text('commodity,unit,kind\n"unclosed,t,raw\n')
    r = run("report", results_dir, "-q")
    assert r.exit_code == 2, r.output
    assert re.search(located, r.output), r.output
    assert not (results_dir / "report").exists()


def test_report_with_zero_demand_everywhere(tmp_path, monkeypatch):
    d = tmp_path / "zero"
    shutil.copytree(TOY, d)
    dem = pd.read_csv(d / "demand.csv")
    dem["quantity"] = 0
    dem.to_csv(d / "demand.csv", index=False)
    monkeypatch.chdir(tmp_path)
    r = run("solve", d, "--out", "res", "--report", "-q")
    assert r.exit_code == 0, r.output
    page = (tmp_path / "res" / "report" / "report.html").read_text(encoding="utf-8")
    assert "id='chart-sankey'" in page


# -- names in the report ---------------------------------------------------------------------

SCRIPT_NAME = "</script><img src=x onerror=document.body.dataset.pwned=1>"
TAG_NAME = "<script>document.body.dataset.pwned=2</script>"
TITLE_NAME = "</title><script>document.body.dataset.pwned=3</script>"


def hostile_instance(folder: Path) -> Path:
    """The toy with a process, a commodity and the instance named to run script if unescaped."""
    shutil.copytree(TOY, folder)
    for f in folder.glob("*.csv"):
        f.write_text(f.read_text(encoding="utf-8").replace("magnet_making", SCRIPT_NAME).replace("prnd_oxide", TAG_NAME),
                     encoding="utf-8")
    y = folder / "instance.yaml"
    y.write_text(y.read_text(encoding="utf-8").replace("name: toy", f"name: {json.dumps(TITLE_NAME)}"), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    inst = load_instance(hostile_instance(base / "inst"))
    folder = write_results(solve(inst), base / "res", instance=inst)
    build_report(folder, folder / "report", png=False)
    return folder / "report" / "report.html"


def test_report_html_holds_names_as_text_only(hostile_report):
    page = hostile_report.read_text(encoding="utf-8")
    for name in (SCRIPT_NAME, TAG_NAME, TITLE_NAME):
        assert name not in page
    assert "<img" not in page
    # three script elements: the report's own, plotly.js and the charts' data
    assert len(re.findall(r"<script\b", page, flags=re.I)) == 3
    assert len(re.findall(r"</script", page, flags=re.I)) == 3
    assert "&lt;/title&gt;&lt;script&gt;document.body.dataset.pwned=3" in page  # the title, escaped
    assert "\\u003c/script\\u003e\\u003cimg src=x onerror=" in page  # the process, in the charts' data


def test_names_with_dollars_are_drawn_as_written_in_the_png_charts(tmp_path, monkeypatch):
    import rechain.solvers.report as report

    for chart in ("png_utilisation", "png_prices", "png_unmet", "png_policies", "png_costs"):  # names: in the other two
        monkeypatch.setattr(report, chart, lambda d, path: None)
    d = tmp_path / "inst"
    shutil.copytree(TOY, d)
    for f in d.glob("*.csv"):  # mathtext would fail to parse these
        f.write_text(f.read_text(encoding="utf-8").replace("magnet_making", "mag$\\frac{$x").replace("north", "n$o^{r}$th"),
                     encoding="utf-8")
    inst = load_instance(d)
    folder = write_results(solve(inst), tmp_path / "res", instance=inst)
    build_report(folder, folder / "report")
    assert (folder / "report" / "capacity.png").is_file() and (folder / "report" / "sankey_2023.png").is_file()
    report.chain_figure_png(inst, tmp_path / "chain.png")
    assert (tmp_path / "chain.png").is_file()


def test_names_with_console_markup_are_printed_as_written(tmp_path):
    d = tmp_path / "inst"
    shutil.copytree(TOY, d)
    for f in d.glob("*.csv"):
        f.write_text(f.read_text(encoding="utf-8").replace("magnet_making", "[/bold]mm"), encoding="utf-8")
    y = d / "instance.yaml"
    y.write_text(y.read_text(encoding="utf-8").replace("name: toy", 'name: "[red]x[/red] [/]"'), encoding="utf-8")
    a, b = tmp_path / "[a]", tmp_path / "b"
    for args in (("solve", d, "--out", a), ("solve", d, "-s", "ev_boom", "--out", b), ("compare", a, b), ("validate", d),
                 ("scenarios", d)):
        r = run(*args)
        assert r.exit_code == 0, (args, r.output)
        assert "[red]x[/red] [/]" in r.output, (args, r.output)
        if args[0] in ("solve", "compare"):
            assert "[/bold]mm" in r.output, (args, r.output)
    assert f"results written to {a}" in run("solve", d, "--out", a, "--force", "-q").output
