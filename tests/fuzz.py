"""A mutator of valid instances, and the judge of what loading a mutant may do.

Loading a damaged instance may end in exactly two ways: it loads (the damage was harmless, e.g.
a byte-order mark or CRLF line ends), or it raises :class:`rechain.model.InstanceError` whose
problems each name a file (and a row and column where one is meant). Anything else — another
exception, a problem without a file, a hang — is an *unclean* ending, a bug.

``case(rng, workdir)`` builds one mutant (a folder or a workbook) from a random valid instance
of :mod:`instance_gen` and returns a :class:`Case`; ``judge(case)`` loads it and returns the
outcome. The mutations (``MUTATIONS``) cover empty cells, NaN, inf, 1e308, negative numbers,
text in number columns, unicode and BOMs, CRLF and CR line ends, duplicate, missing or extra
headers and columns, extra cells, truncated, binary, huge and deleted files, YAML that is a
list, a scalar, unsafe (``!!python/object``), mistyped or has unknown keys, broken scenarios,
and, for workbooks, wrong or missing sheets, formulas, dates, booleans and broken zip files.
"""

from __future__ import annotations

import csv
import io
import math
import os
import random
import shutil
import signal
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from instance_gen import write_instance
from rechain.model import InstanceError, load_instance
from rechain.model.schema import TABLES

# cell texts that are never a valid number
NOT_NUMBERS = ["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "abc", "1,5", "0x10", "--1",
               "1e", "二", "\u200b", "🙂", "=1+1", "=SUM(A1:A2)", "true", "N/A", "#DIV/0!", "1 000", "'3"]
# cell texts that are numbers, maybe out of range
ODD_NUMBERS = ["1e308", "-1e308", "-5", "-0", "0", "-1e-300", "1e-320", "5e-324", "2.5", "1e9", "1e10", "-0.0", " 7 ",
               "١٢", "１２", "1_000"]  # Python reads Unicode digits and underscores as numbers; so does rechain
# any text at all
ODD_TEXT = ["", " ", "*", ";", ";;", "a;b", "名字", "Ünïcödé", "\ufeffx", "x\u0301", "\t", "../../etc/passwd",
            "\"", "'", "\\", "x" * 5000, "NULL", "None", "~", "- a", "{a: 1}", "!!python/object:os.system"]


@dataclass
class Case:
    path: Path  # the instance folder or workbook to load
    mutations: list[str] = field(default_factory=list)
    # where a single sure-error mutation must be reported: (file, row, column)
    expect: tuple[str, int, str] | None = None
    # a harmless mutation: the instance must load and equal the original
    harmless: bool = False
    original: Path | None = None


# --------------------------------------------------------------------------------------------
# CSV helpers
# --------------------------------------------------------------------------------------------


def _read_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _write_rows(path: Path, rows: list[list[str]], newline: str = "\n") -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")


def _csvs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.csv"))


def _type_of(path: Path, column: str) -> str | None:
    t = TABLES.get(path.stem)
    if t is None or column not in t.column_names:
        return None
    return t.column(column).type


# --------------------------------------------------------------------------------------------
# Folder mutations: each takes (rng, folder) and returns a description; some set expectations
# --------------------------------------------------------------------------------------------


def m_cell(rng, folder, case):
    """Replace one cell by odd text; located when the text cannot be the column's number."""
    f = rng.choice(_csvs(folder))
    rows = _read_rows(f)
    if len(rows) < 2:
        return f"cell: {f.name} has no data rows"
    i = rng.randrange(1, len(rows))
    j = rng.randrange(len(rows[0]))
    col = rows[0][j]
    typ = _type_of(f, col)
    pool = rng.choice([NOT_NUMBERS, ODD_NUMBERS, ODD_TEXT])
    v = rng.choice(pool)
    rows[i][j] = v
    _write_rows(f, rows)
    if typ in ("int", "float") and pool is NOT_NUMBERS and v.strip():
        case.expect = (f.name, i + 1, col)
    return f"cell {f.name}[{i + 1}, {col}] = {v[:20]!r}"


def m_empty_cell(rng, folder, case):
    f = rng.choice(_csvs(folder))
    rows = _read_rows(f)
    if len(rows) < 2:
        return f"empty cell: {f.name} has no data rows"
    i, j = rng.randrange(1, len(rows)), rng.randrange(len(rows[0]))
    rows[i][j] = ""
    _write_rows(f, rows)
    return f"empty cell {f.name}[{i + 1}, {rows[0][j]}]"


def m_negate(rng, folder, case):
    """Make every number of one column negative."""
    f = rng.choice(_csvs(folder))
    rows = _read_rows(f)
    j = rng.randrange(len(rows[0]))
    for r in rows[1:]:
        if j < len(r):
            try:
                r[j] = repr(-abs(float(r[j])) - 1)
            except ValueError:
                pass
    _write_rows(f, rows)
    return f"negative {f.name}:{rows[0][j]}"


def m_bom(rng, folder, case):
    f = rng.choice(_csvs(folder) + [folder / "instance.yaml"])
    f.write_bytes(b"\xef\xbb\xbf" + f.read_bytes())
    case.harmless = True
    return f"BOM {f.name}"


def m_crlf(rng, folder, case):
    nl = rng.choice(["\r\n", "\r"])
    f = rng.choice(_csvs(folder) + ([folder / "instance.yaml"] if nl == "\r\n" else []))
    text = f.read_bytes().decode("utf-8")
    f.write_bytes(text.replace("\n", nl).encode("utf-8"))
    case.harmless = True
    return f"line ends {nl!r} {f.name}"


def m_blank_lines(rng, folder, case):
    f = rng.choice(_csvs(folder))
    f.write_text(f.read_text(encoding="utf-8") + "\n\n,,\n", encoding="utf-8")
    case.harmless = True
    return f"trailing blank lines {f.name}"


def m_free_column(rng, folder, case):
    f = rng.choice(_csvs(folder))
    rows = _read_rows(f)
    name = rng.choice(["note", "source", "comment"])
    if name in rows[0] or name == "source":  # source names must be known ids: keep harmless
        name = "note"
        if name in rows[0]:
            return "free column: already there"
    rows[0].append(name)
    for r in rows[1:]:
        r.append(rng.choice(["", "x", "名字", "a,b"]))
    _write_rows(f, rows)
    case.harmless = True
    return f"free column {name} in {f.name}"


def m_header(rng, folder, case):
    """Duplicate, rename, blank, drop or add a header; drop a column; drop the header row."""
    f = rng.choice(_csvs(folder))
    rows = _read_rows(f)
    j = rng.randrange(len(rows[0]))
    how = rng.choice(["duplicate", "rename", "blank", "drop_column", "drop_header", "extra_column", "case", "space"])
    h = rows[0]
    if how == "duplicate" and len(h) > 1:
        h[j] = h[(j + 1) % len(h)]
    elif how == "rename":
        h[j] = h[j] + "_x"
    elif how == "blank":
        h[j] = ""
    elif how == "drop_column":
        for r in rows:
            if j < len(r):
                del r[j]
    elif how == "drop_header":
        rows = rows[1:] or [[]]
    elif how == "extra_column":
        h.append("unexpected")
        for r in rows[1:]:
            r.append("1")
    elif how == "case":
        h[j] = h[j].upper()
    elif how == "space":
        h[j] = f"  {h[j]} "
        case.harmless = True
    _write_rows(f, rows)
    return f"header {how} {f.name}[{j}]"


def m_row_shape(rng, folder, case):
    f = rng.choice(_csvs(folder))
    rows = _read_rows(f)
    if len(rows) < 2:
        return "row shape: no rows"
    i = rng.randrange(1, len(rows))
    if rng.random() < 0.5:
        rows[i] = rows[i] + ["extra", "cells"]
    else:
        rows[i] = rows[i][: rng.randrange(len(rows[i]))]
    _write_rows(f, rows)
    return f"row shape {f.name}[{i + 1}]"


def m_duplicate_row(rng, folder, case):
    f = rng.choice(_csvs(folder))
    rows = _read_rows(f)
    if len(rows) < 2:
        return "duplicate row: no rows"
    rows.append(list(rng.choice(rows[1:])))
    _write_rows(f, rows)
    return f"duplicate row {f.name}"


def m_truncate(rng, folder, case):
    f = rng.choice(_csvs(folder) + [folder / "instance.yaml"])
    data = f.read_bytes()
    f.write_bytes(data[: rng.randrange(len(data) + 1)])
    return f"truncated {f.name}"


def m_bytes(rng, folder, case):
    f = rng.choice(_csvs(folder) + [folder / "instance.yaml"])
    data = bytearray(f.read_bytes())
    how = rng.choice(["nul", "latin1", "random", "quote", "utf16"])
    if how == "nul" and data:
        data[rng.randrange(len(data))] = 0
    elif how == "latin1":
        data += "é,ü\n".encode("latin-1")
    elif how == "random":
        data = bytearray(rng.randbytes(rng.randint(0, 400)))
    elif how == "quote" and data:
        data.insert(rng.randrange(len(data)), ord('"'))
    elif how == "utf16":
        data = bytearray(bytes(data).decode("utf-8", "replace").encode("utf-16"))
    f.write_bytes(bytes(data))
    return f"bytes {how} {f.name}"


def m_file(rng, folder, case):
    """Delete a file, empty it, or put a folder in its place."""
    f = rng.choice(_csvs(folder) + [folder / "instance.yaml"])
    how = rng.choice(["delete", "empty", "folder", "header_only"])
    if how == "delete":
        f.unlink()
    elif how == "empty":
        f.write_bytes(b"")
    elif how == "folder":
        f.unlink()
        f.mkdir()
    elif how == "header_only" and f.suffix == ".csv":
        f.write_text(f.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    return f"file {how} {f.name}"


def m_huge(rng, folder, case, scale: int = 1):
    """A long file (many copies of its rows) or one very long cell."""
    f = rng.choice(_csvs(folder))
    rows = _read_rows(f)
    if rng.random() < 0.5 and len(rows) > 1:
        body = rows[1:]
        n = 3000 * scale
        _write_rows(f, [rows[0]] + [body[k % len(body)] for k in range(n)])
        return f"huge {f.name} ({n} rows)"
    if len(rows) > 1:
        rows[1][0] = "x" * (200_000 * scale)
    _write_rows(f, rows)
    return f"huge cell {f.name}"


def m_yaml(rng, folder, case):
    """Settings of every wrong shape and type."""
    y = folder / "instance.yaml"
    try:
        s = yaml.safe_load(y.read_text(encoding="utf-8-sig"))
    except Exception:
        s = None
    if not isinstance(s, dict):
        s = {}
    how = rng.choice([
        "list", "scalar", "unknown_key", "years_text", "years_list", "years_reversed", "years_float", "years_huge",
        "years_bool", "years_unknown", "rate_text", "rate_nan", "rate_inf", "rate_big", "penalty_negative",
        "penalty_nan", "base_float", "python_tag", "name_mapping", "sources_bad", "units_list", "scenarios_list",
        "scenario_bad", "bad_syntax", "tabs", "key_int", "anchors", "null", "years_missing", "base_text",
        "laughs", "deep",
    ])
    text = None
    if how == "list":
        text = yaml.safe_dump([s])
    elif how == "scalar":
        text = "just text\n"
    elif how == "null":
        text = "~\n"
    elif how == "unknown_key":
        s["colour"] = "blue"
    elif how == "years_text":
        s["years"] = "2030-2033"
    elif how == "years_list":
        s["years"] = [2030, 2033]
    elif how == "years_reversed":
        s["years"] = {"first": 2033, "last": 2030}
    elif how == "years_float":
        s["years"] = {"first": 2030.5, "last": 2032}
    elif how == "years_huge":
        s["years"] = {"first": 2030, "last": 10**12}
    elif how == "years_bool":
        s["years"] = {"first": True, "last": 2032}
    elif how == "years_unknown":
        s["years"] = {"first": 2030, "last": 2031, "step": 1}
    elif how == "years_missing":
        s.pop("years", None)
    elif how == "rate_text":
        s["discount_rate"] = "five percent"
    elif how == "rate_nan":
        text = yaml.safe_dump(s) + "discount_rate: .nan\n"
        s = None
    elif how == "rate_inf":
        text = yaml.safe_dump(s) + "discount_rate: .inf\n"
        s = None
    elif how == "rate_big":
        s["discount_rate"] = 1e308
    elif how == "penalty_negative":
        s["unmet_penalty"] = -1
    elif how == "penalty_nan":
        text = yaml.safe_dump(s) + "unmet_penalty: .nan\n"
        s = None
    elif how == "base_float":
        s["base_year"] = 2029.5
    elif how == "base_text":
        s["base_year"] = "last year"
    elif how == "python_tag":
        text = yaml.safe_dump(s) + "title: !!python/object/apply:os.system ['echo fuzz > pwned.txt']\n"
        s = None
    elif how == "name_mapping":
        s["name"] = {"a": [1, 2]}
    elif how == "sources_bad":
        s["sources"] = rng.choice([{"id": "x"}, ["x", 1], [{"title": "no id"}], [{"id": "a"}, {"id": "a"}]])
    elif how == "units_list":
        s["units"] = ["M"]
    elif how == "scenarios_list":
        s["scenarios"] = ["a", "b"]
    elif how == "scenario_bad":
        s["scenarios"] = {"sc": {"changes": [rng.choice([
            {"table": "nope", "column": "x", "scale": 2},
            {"table": "demand", "where": "commodity=c1", "column": "quantity", "scale": 2},
            {"table": "demand", "where": {"year": "soon"}, "column": "quantity", "scale": 2},
            {"table": "demand", "where": {}, "column": "quantity", "scale": "double"},
            {"table": "demand", "where": {}, "column": "quantity", "scale": float("nan")},
            {"table": "demand", "where": {}, "column": "quantity", "scale": -1},
            {"table": "demand", "where": {}, "column": "quantity", "set": "lots"},
            {"table": "demand", "where": {}, "column": "quantity", "scale": 2, "set": 3},
            {"table": "demand", "where": {"nocol": 1}, "column": "quantity", "scale": 2},
            {"table": "processes", "where": {}, "column": "lifetime", "scale": 0.01},
            {"table": "processes", "where": {}, "column": "process", "scale": 2},
            {"table": "instance", "column": "discount_rate", "set": "high"},
            {"table": "instance", "column": "name", "set": "x"},
            {"table": "regions", "where": {}, "column": "region", "set": "../../x"},
            "not a mapping",
            [1, 2],
            {"table": "demand", "where": {}, "column": "quantity", "scale": 2, "extra": 1},
        ])]}}
    elif how == "bad_syntax":
        text = "name: [unclosed\nyears: {first: 2030\n"
    elif how == "tabs":
        text = "name:\tx\n\tyears: 1\n"
    elif how == "key_int":
        s[2030] = "year"
    elif how == "anchors":
        text = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n" \
               "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n" \
               "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ndescription: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n" + yaml.safe_dump({k: v for k, v in s.items() if k != "description"})
    elif how == "laughs":  # aliases nested 9 deep: 9**10 values once expanded
        text = billion_laughs(rng.choice(["description", "title", "units", "sources", "scenarios", "years"])) + \
            yaml.safe_dump({k: v for k, v in s.items() if k not in ("description", "title", "units", "sources", "scenarios", "years")})
    elif how == "deep":
        n = rng.choice([60, 900, 5000])
        text = yaml.safe_dump(s) + rng.choice(["description: " + "[" * n + "]" * n, "colour: " + "{a: " * n + "1" + "}" * n]) + "\n"
    if text is None:
        text = yaml.safe_dump(s, allow_unicode=True)
    y.write_text(text, encoding="utf-8")
    return f"yaml {how}"


def laughs_flow(levels: int = 8) -> str:
    """One line of YAML (a workbook cell) whose aliases expand to 9**levels values."""
    items = ["&l0 [x, x, x, x, x, x, x, x, x]"] + [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "[" + ", ".join(items) + "]"


def billion_laughs(key: str, levels: int = 9) -> str:
    """YAML whose ``key`` expands, through nested aliases, to 9**(levels+1) values."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    lines.append(f"{key}: [" + ", ".join([f"*l{levels - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


FOLDER_MUTATIONS = [m_cell, m_cell, m_cell, m_empty_cell, m_negate, m_bom, m_crlf, m_blank_lines, m_free_column,
                    m_header, m_header, m_row_shape, m_duplicate_row, m_truncate, m_bytes, m_file, m_huge, m_yaml, m_yaml]
HARMLESS = {m_bom, m_crlf, m_blank_lines, m_free_column}


# --------------------------------------------------------------------------------------------
# Workbooks
# --------------------------------------------------------------------------------------------


def folder_to_workbook(folder: Path, book: Path) -> Path:
    """Write an instance folder as one workbook (SPEC section 1): a sheet per table and a
    sheet ``instance`` of key,value rows. Numbers are written as numbers."""
    import openpyxl

    s = yaml.safe_load((folder / "instance.yaml").read_text(encoding="utf-8"))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "instance"
    ws.append(["key", "value"])
    for k, v in s.items():
        if isinstance(v, dict):
            for kk, vv in v.items():
                ws.append([f"{k}.{kk}", vv])
        elif not isinstance(v, list):
            ws.append([k, v])
    for f in _csvs(folder):
        sh = wb.create_sheet(f.stem)
        for r in _read_rows(f):
            cells = []
            for c in r:
                try:
                    x = float(c)
                    cells.append(int(x) if x.is_integer() and "." not in c and "e" not in c.lower() else x)
                except ValueError:
                    cells.append(c)
            sh.append(cells)
    wb.save(book)
    return book


def mutate_workbook(rng, book: Path, case) -> str:
    import openpyxl

    how = rng.choice(["rename_sheet", "drop_instance", "unknown_sheet", "formula", "date", "bool", "nan_text",
                      "yaml_value", "python_tag", "truncate", "not_zip", "empty_sheet", "cell", "header_dup"])
    if how in ("truncate", "not_zip"):
        data = book.read_bytes()
        book.write_bytes(data[: rng.randrange(len(data))] if how == "truncate" else b"PK\x03\x04garbage" + rng.randbytes(50))
        return f"workbook {how}"
    try:
        wb = openpyxl.load_workbook(book)
    except Exception:  # already broken by an earlier mutation
        return "workbook (already broken)"
    sheets = [ws for ws in wb.worksheets if ws.title != "instance"]
    ws = rng.choice(sheets)
    if how == "rename_sheet":
        ws.title = ws.title + "s"
    elif how == "drop_instance":
        del wb["instance"]
    elif how == "unknown_sheet":
        wb.create_sheet("notes").append(["anything"])
    elif how == "empty_sheet":
        wb.remove(ws)
        wb.create_sheet(ws.title)
    elif how in ("formula", "date", "bool", "nan_text", "cell") and ws.max_row >= 2:
        import datetime

        r, c = rng.randint(2, ws.max_row), rng.randint(1, ws.max_column)
        ws.cell(r, c).value = {"formula": "=1/0", "date": datetime.datetime(2030, 1, 1), "bool": True,
                               "nan_text": "nan", "cell": rng.choice(NOT_NUMBERS + ODD_TEXT)}[how]
    elif how == "header_dup" and ws.max_column >= 2:
        ws.cell(1, 2).value = ws.cell(1, 1).value
    elif how in ("yaml_value", "python_tag") and "instance" in wb.sheetnames:
        inst = wb["instance"]
        inst.append(["title" if how == "python_tag" else "discount_rate",
                     "!!python/object/apply:os.system ['echo fuzz > pwned.txt']" if how == "python_tag"
                     else rng.choice(["[unclosed", "a: b: c", "{x", ".nan", "- 1", "'", "[" * 3000 + "]" * 3000,
                                      laughs_flow(8)])])
    wb.save(book)
    return f"workbook {how}"


# --------------------------------------------------------------------------------------------
# Cases and judging
# --------------------------------------------------------------------------------------------


def case(rng: random.Random, workdir: Path, n_mutations: int | None = None, huge_scale: int = 1) -> Case:
    """One mutant in a fresh sub-folder of ``workdir``."""
    k = rng.randrange(10**9)
    base = workdir / f"base{k}"
    write_instance(base, rng.randrange(10**6))
    n = n_mutations if n_mutations is not None else rng.choice([1, 1, 1, 2, 3])
    if rng.random() < 0.15:
        book = workdir / f"book{k}.xlsx"
        folder_to_workbook(base, book)
        c = Case(book, original=base)
        for _ in range(n):
            try:
                c.mutations.append(mutate_workbook(rng, book, c))
            except (KeyError, IndexError, ValueError) as e:  # an earlier mutation removed what this one needs
                c.mutations.append(f"workbook mutation not applied ({type(e).__name__})")
        return c
    folder = workdir / f"case{k}"
    shutil.copytree(base, folder)
    c = Case(folder, original=base)
    for i in range(n):
        m = rng.choice(FOLDER_MUTATIONS)
        before = (c.expect, c.harmless)
        c.expect, c.harmless = None, False
        try:
            if m is m_huge:
                c.mutations.append(m_huge(rng, folder, c, scale=huge_scale))
            else:
                c.mutations.append(m(rng, folder, c))
        except (OSError, UnicodeError, csv.Error, IndexError, ValueError) as e:  # an earlier mutation broke the file
            c.mutations.append(f"{m.__name__} not applied ({type(e).__name__})")
        if i > 0:  # with several mutations only the judging of cleanliness holds
            c.expect, c.harmless = None, False
        del before
    return c


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def judge(c: Case, timeout: float | None = None) -> tuple[str, str]:
    """Load the case; return (outcome, detail), outcome one of loaded, clean, unclean."""
    use_alarm = timeout is not None and hasattr(signal, "SIGALRM")
    if use_alarm:
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    cwd = os.getcwd()
    try:
        os.chdir(c.path.parent)  # a YAML that ran code would leave pwned.txt here
        try:
            inst = load_instance(c.path)
        except InstanceError as e:
            return _judge_error(c, e)
        except Timeout:
            return "unclean", f"no answer within {timeout} s"
        except BaseException as e:  # noqa: BLE001 — the point is to catch anything
            return "unclean", f"{type(e).__name__}: {e}\n{traceback.format_exc()}"
        if c.harmless:
            same = _same_as_original(inst, c.original)
            if same is not True:
                return "unclean", f"a harmless mutation changed the instance: {same}"
        return "loaded", ""
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        os.chdir(cwd)
        if (c.path.parent / "pwned.txt").exists():
            raise AssertionError("loading an instance executed code from it")


def _judge_error(c: Case, e: InstanceError) -> tuple[str, str]:
    if not e.problems:
        return "unclean", "InstanceError without problems"
    for p in e.problems:
        if not isinstance(p.file, str) or not p.file.strip():
            return "unclean", f"a problem without a file: {p!r}"
        if not isinstance(p.message, str) or not p.message.strip():
            return "unclean", f"a problem without a message: {p!r}"
        if p.row is not None and (not isinstance(p.row, int) or p.row < 1):
            return "unclean", f"a problem with a bad row: {p!r}"
        if p.column is not None and not isinstance(p.column, str):
            return "unclean", f"a problem with a bad column: {p!r}"
        str(p)
    if c.harmless:
        return "unclean", f"a harmless mutation ({c.mutations}) was refused: {e}"
    if c.expect is not None:
        f, row, col = c.expect
        if not any(p.file == f and p.row == row and p.column == col for p in e.problems):
            return "unclean", f"expected a problem at {f}, row {row}, column {col}; got:\n{e}"
    return "clean", str(e).splitlines()[1] if len(str(e).splitlines()) > 1 else str(e)


def _same_as_original(inst, original: Path):
    ref = load_instance(original)
    for name, df in ref.tables.items():
        a = df.reset_index(drop=True)
        b = inst.tables[name].reset_index(drop=True)[[c for c in inst.tables[name].columns if c in a.columns]]
        if list(a.columns) != list(b.columns) or len(a) != len(b):
            return f"table {name}: columns or rows differ"
        for col in a.columns:
            for x, y in zip(a[col].tolist(), b[col].tolist()):
                if _nan(x) or _nan(y):
                    if not (_nan(x) and _nan(y)):
                        return f"table {name}, column {col}: {x!r} != {y!r}"
                elif x != y:
                    return f"table {name}, column {col}: {x!r} != {y!r}"
    for attr in ("first_year", "last_year", "base_year", "discount_rate", "unmet_penalty", "name"):
        if getattr(ref, attr) != getattr(inst, attr):
            return f"setting {attr} differs"
    return True


def _nan(x) -> bool:
    if x is None or str(x) == "<NA>":
        return True
    return isinstance(x, float) and math.isnan(x)
