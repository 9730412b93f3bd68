"""Determinism and safety.

Determinism: the same instance solved twice — in one process, or in two processes with
different hash seeds — gives byte-identical result files. ``summary.json`` carries the
timings of the run, which differ from run to run; it is compared with its ``timings`` removed
(and the timing keys must match), every CSV file byte for byte.

Safety: YAML is read with ``yaml.safe_load`` (a ``!!python/object`` tag is an InstanceError and
runs nothing); loading reads only the contract's files inside the instance folder, whatever
names or paths the instance's cells hold, and writing results or instances touches only the
target folder and its temporary sibling; a workbook's formulas are never evaluated (cached values
are read, a formula without one is a blank cell); model/ and solvers/ use no pickle, eval, exec.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tokenize
import zipfile
from pathlib import Path

import pytest
import yaml

from instance_gen import write_instance
from rechain import instances
from rechain.model import InstanceError, load_instance
from rechain.model.schema import TABLE_ORDER
from rechain.solvers import solve

ROOT = Path(__file__).resolve().parent.parent


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def assert_same_results(a: Path, b: Path) -> None:
    fa, fb = files_of(a), files_of(b)
    assert sorted(fa) == sorted(fb)
    for name in fa:
        if name == "summary.json":
            sa, sb = json.loads(fa[name]), json.loads(fb[name])
            assert sorted(sa.pop("timings")) == sorted(sb.pop("timings"))
            assert sa == sb
        else:
            assert fa[name] == fb[name], f"{name} differs"


# -- determinism ----------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["toy", "generated"])
def test_same_instance_twice_gives_identical_files(which, tmp_path):
    path = instances.path("toy") if which == "toy" else write_instance(tmp_path / "gen", 42)
    inst = load_instance(path)
    solve(inst).to_folder(tmp_path / "a")
    solve(load_instance(path)).to_folder(tmp_path / "b")
    assert_same_results(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "a" / "flows.csv").stat().st_size > 100


def test_identical_files_across_processes_and_hash_seeds(tmp_path):
    inst = write_instance(tmp_path / "gen", 7, regions=3, years=4)
    code = ("import sys\nfrom rechain.model import load_instance\nfrom rechain.solvers import solve\n"
            "solve(load_instance(sys.argv[1])).to_folder(sys.argv[2])\n")
    procs = []
    for seed, out in (("1", "a"), ("2", "b")):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        procs.append(subprocess.Popen([sys.executable, "-c", code, str(inst), str(tmp_path / out)], env=env,
                                      stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    assert_same_results(tmp_path / "a", tmp_path / "b")


# -- safe YAML ------------------------------------------------------------------------------------


def test_python_tags_in_yaml_are_refused_and_never_run(tmp_path):
    folder = write_instance(tmp_path / "inst", 3)
    flag = tmp_path / "ran.txt"
    y = folder / "instance.yaml"
    y.write_text(y.read_text(encoding="utf-8") + f"description: !!python/object/apply:os.system ['echo ran > {flag}']\n", encoding="utf-8")
    with pytest.raises(InstanceError) as e:
        load_instance(folder)
    assert any(p.file == "instance.yaml" for p in e.value.problems)
    assert not flag.exists()


def test_python_tags_in_scenario_values_are_refused(tmp_path):
    folder = write_instance(tmp_path / "inst", 3)
    y = folder / "instance.yaml"
    y.write_text(y.read_text(encoding="utf-8") + "scenarios:\n  s:\n    changes:\n"
                 "      - {table: demand, column: quantity, scale: !!python/name:os.getcwd }\n", encoding="utf-8")
    with pytest.raises(InstanceError):
        load_instance(folder)


# -- no reading or writing outside the folder -------------------------------------------------


class OpenLog:
    """Record every file opened (via the ``open`` audit event) while active."""

    def __init__(self):
        self.active = False
        self.opened: list[tuple[str, str]] = []
        sys.addaudithook(self.hook)  # audit hooks cannot be removed; this one is inert when inactive

    def hook(self, event, args):
        if self.active and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            self.opened.append((os.fsdecode(args[0]), str(args[1])))

    def __enter__(self):
        self.opened = []
        self.active = True
        return self

    def __exit__(self, *exc):
        self.active = False


_LOG = OpenLog()


def _under(path: str, folder: Path) -> bool:
    try:
        Path(os.path.abspath(path)).resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _library(path: str) -> bool:
    """Python's own files (modules, metadata) opened by lazy imports."""
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(ROOT)}
    return any(os.path.abspath(path).startswith(os.path.abspath(p)) for p in prefixes) and not path.endswith(".csv")


def test_cells_and_settings_naming_other_paths_do_not_make_the_loader_read_them(tmp_path):
    secret = tmp_path / "secret"
    write_instance(secret, 1)
    folder = write_instance(tmp_path / "inst", 3)
    y = folder / "instance.yaml"
    s = yaml.safe_load(y.read_text(encoding="utf-8"))
    s["name"] = "../secret/regions"
    s["sources"] = [{"id": "x", "title": "t", "url": f"file://{secret}/regions.csv"}]
    s["scenarios"] = {"../secret": {"changes": [{"table": "../secret/demand", "column": "quantity", "scale": 2}]},
                      "ok": {"changes": [{"table": "demand", "where": {"commodity": "../secret/demand.csv"}, "column": "quantity", "scale": 2}]}}
    y.write_text(yaml.safe_dump(s), encoding="utf-8")
    (folder / "regions.csv").write_text((folder / "regions.csv").read_text() + "../secret,/etc/passwd\n", encoding="utf-8")
    with _LOG as log:
        try:
            load_instance(folder)
        except InstanceError:
            pass
    data_files = [p for p, _ in log.opened if not _library(p)]
    assert data_files, "the audit hook sees the loader's opens"
    allowed = {"instance.yaml"} | {f"{t}.csv" for t in TABLE_ORDER}
    for p in data_files:
        assert _under(p, folder) and Path(p).name in allowed, f"read {p}"


def test_writing_results_and_instances_stays_in_the_target_folder(tmp_path):
    inst = load_instance(instances.path("toy"))
    r = solve(inst)
    r.instance_name = "../../escape"  # names never become paths
    inst.name = "../../escape"
    target = tmp_path / "out"
    with _LOG as log:
        r.to_folder(target / "results")
        inst.to_folder(target / "instance")
    writes = [p for p, mode in log.opened if any(c in mode for c in "wax+")]
    assert writes
    for p in writes:
        assert _under(p, target), f"wrote {p}"
    assert sorted(q.name for q in target.iterdir()) == ["instance", "results"]


# -- workbooks: formulas are never evaluated --------------------------------------------------------


def _book_with_formula(tmp_path: Path, cached: str | None) -> Path:
    import openpyxl

    from fuzz import folder_to_workbook

    book = folder_to_workbook(write_instance(tmp_path / "inst", 3), tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(book)
    ws = wb["demand"]
    col = [c.value for c in ws[1]].index("quantity") + 1
    ws.cell(2, col).value = "=1+1"
    wb.save(book)
    if cached is not None:  # give the formula a cached value, as a spreadsheet program would
        with zipfile.ZipFile(book) as z:
            parts = {n: z.read(n) for n in z.namelist()}
        name = next(n for n in parts if n.startswith("xl/worksheets/") and b"<f>1+1</f>" in parts[n])
        parts[name] = re.sub(rb"<f>1\+1</f>(<v\s*/>|<v></v>)?", b"<f>1+1</f><v>" + cached.encode() + b"</v>", parts[name])
        with zipfile.ZipFile(book, "w") as z:
            for n, data in parts.items():
                z.writestr(n, data)
    return book


def test_workbook_formula_gives_its_cached_value(tmp_path):
    book = _book_with_formula(tmp_path, cached="7")
    inst = load_instance(book)
    assert inst.demand["quantity"].iloc[0] == 7  # not 2: the formula is not evaluated


def test_workbook_formula_without_cached_value_is_a_blank_cell(tmp_path):
    book = _book_with_formula(tmp_path, cached=None)
    with pytest.raises(InstanceError) as e:
        load_instance(book)
    assert any(p.file == "book.xlsx[demand]" and p.row == 2 and p.column == "quantity" for p in e.value.problems), e.value


# -- no pickle, eval or exec in the code ---------------------------------------------------------------

FORBIDDEN_NAMES = {"pickle", "cPickle", "dill", "marshal", "shelve", "eval", "exec", "execfile", "__import__",
                   "unsafe_load", "full_load", "UnsafeLoader", "FullLoader", "system", "popen"}


def _code_names(path: Path) -> list[tuple[int, str, str]]:
    """(line, name, previous token) for every NAME token: code only, never strings or comments."""
    out, prev = [], ""
    for tok in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
        if tok.type == tokenize.NAME:
            out.append((tok.start[0], tok.string, prev))
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
            prev = tok.string
    return out


def _sources():
    return sorted(list((ROOT / "model").glob("*.py")) + list((ROOT / "solvers").glob("*.py")))


def test_no_pickle_eval_or_exec_in_model_and_solvers():
    found = []
    for f in _sources():
        names = _code_names(f)
        for line, name, prev in names:
            if name in FORBIDDEN_NAMES:
                found.append(f"{f.relative_to(ROOT)}:{line}: {name}")
            if name in ("query",) and prev == ".":  # DataFrame.query evaluates expressions
                found.append(f"{f.relative_to(ROOT)}:{line}: .{name}(")
        text = f.read_text(encoding="utf-8")
        for m in re.finditer(r"\byaml\.load\(|Loader\s*=", text):
            found.append(f"{f.relative_to(ROOT)}: {m.group(0)}")
    assert not found, "\n".join(found)


def test_the_scan_would_see_them(tmp_path):
    f = tmp_path / "bad.py"
    f.write_text("import pickle\nx = eval('1')  # eval in a comment is fine\ns = 'exec'\n", encoding="utf-8")
    names = [n for _, n, _ in _code_names(f) if n in FORBIDDEN_NAMES]
    assert names == ["pickle", "eval"]


def test_yaml_is_read_with_safe_load_only():
    calls = []
    for f in _sources():
        text = f.read_text(encoding="utf-8")
        calls += re.findall(r"yaml\.(\w+)\(", text)
    assert calls and set(calls) <= {"safe_load", "safe_dump"}, calls
