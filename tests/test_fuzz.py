"""Damaged instances end in a located InstanceError or load unchanged — never another exception.

The mutator and the judge live in ``tests/fuzz.py``; ``benchmarks/fuzz.py`` runs 10,000 cases.
Here a few hundred random cases run in the suite (fixed seeds, so a failure repeats), plus
targeted cases for each kind of damage and a regression test for each bug the fuzzer found.
"""

from __future__ import annotations

import random
import shutil

import pytest

import fuzz
from instance_gen import write_instance
from rechain.model import InstanceError, load_instance

CHUNKS = 8
PER_CHUNK = 30  # 240 random mutants


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return write_instance(tmp_path_factory.mktemp("base") / "inst", 11)


def _copy(base, tmp_path, name="case"):
    dst = tmp_path / name
    shutil.copytree(base, dst)
    return dst


def _problems(path):
    with pytest.raises(InstanceError) as e:
        load_instance(path)
    return e.value.problems


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_random_mutants_end_cleanly(chunk, tmp_path):
    rng = random.Random(1000 + chunk)
    unclean = []
    outcomes = {"loaded": 0, "clean": 0}
    for _ in range(PER_CHUNK):
        c = fuzz.case(rng, tmp_path)
        out, detail = fuzz.judge(c, timeout=30)
        if out == "unclean":
            unclean.append(f"{c.mutations}: {detail}")
        else:
            outcomes[out] += 1
    assert not unclean, "\n\n".join(unclean)
    assert outcomes["clean"] > 0  # the mutator does damage


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e309", "abc", "1,5", "=1+1", "🙂"])
def test_text_in_a_number_column_is_located(base, tmp_path, text):
    folder = _copy(base, tmp_path)
    rows = fuzz._read_rows(folder / "processes.csv")
    j = rows[0].index("capex")
    rows[2][j] = text
    fuzz._write_rows(folder / "processes.csv", rows)
    probs = _problems(folder)
    assert any(p.file == "processes.csv" and p.row == 3 and p.column == "capex" for p in probs), probs


@pytest.mark.parametrize("text,located", [("-5", True), ("1e308", False), ("", True)])
def test_out_of_range_numbers(base, tmp_path, text, located):
    # availability must lie in (0, 1]: -5 and blank are refused where they stand; 1e308 too
    folder = _copy(base, tmp_path)
    rows = fuzz._read_rows(folder / "processes.csv")
    j = rows[0].index("availability")
    rows[1][j] = text
    fuzz._write_rows(folder / "processes.csv", rows)
    probs = _problems(folder)
    assert any(p.file == "processes.csv" and p.row == 2 and p.column == "availability" for p in probs), probs


def test_huge_money_figure_loads(base, tmp_path):
    # 1e19 is a finite number >= 0 below the solver's infinity (1e20): a valid (if absurd) cost,
    # loaded with a warning (numerics.report warns about it too); 1e308 the solver would read as
    # infinite: a located error
    folder = _copy(base, tmp_path)
    rows = fuzz._read_rows(folder / "processes.csv")
    rows[1][rows[0].index("capex")] = "1e19"
    fuzz._write_rows(folder / "processes.csv", rows)
    inst = load_instance(folder)
    assert inst.processes["capex"].max() == 1e19
    assert any(w.file == "processes.csv" and w.row == 2 and w.column == "capex" for w in inst.warnings)
    rows[1][rows[0].index("capex")] = "1e308"
    fuzz._write_rows(folder / "processes.csv", rows)
    with pytest.raises(InstanceError) as info:
        load_instance(folder)
    assert any(p.file == "processes.csv" and p.row == 2 and p.column == "capex" for p in info.value.problems)


def test_bom_and_crlf_everywhere_change_nothing(base, tmp_path):
    folder = _copy(base, tmp_path)
    for f in list(folder.glob("*.csv")) + [folder / "instance.yaml"]:
        f.write_bytes(b"\xef\xbb\xbf" + f.read_bytes().replace(b"\n", b"\r\n"))
    c = fuzz.Case(folder, ["bom+crlf"], harmless=True, original=base)
    assert fuzz.judge(c) == ("loaded", "")


@pytest.mark.parametrize("how", ["duplicate", "rename", "blank", "drop_column", "drop_header", "extra_column", "case"])
def test_header_damage_is_located_in_the_header(base, tmp_path, how):
    folder = _copy(base, tmp_path)
    f = folder / "demand.csv"
    rows = fuzz._read_rows(f)
    h = rows[0]
    if how == "duplicate":
        h[1] = h[0]
    elif how == "rename":
        h[3] = "qty"
    elif how == "blank":
        h[3] = ""
    elif how == "drop_column":
        rows = [r[:3] for r in rows]
    elif how == "drop_header":
        rows = rows[1:]
    elif how == "extra_column":
        rows = [r + ["x"] for r in rows]
    elif how == "case":
        h[0] = "Commodity"
    fuzz._write_rows(f, rows)
    probs = _problems(folder)
    assert any(p.file == "demand.csv" and p.row == 1 for p in probs), probs


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "~\n", "name: [x\n", "\tname: x\n", ""])
def test_yaml_that_is_not_a_mapping(base, tmp_path, text):
    folder = _copy(base, tmp_path)
    (folder / "instance.yaml").write_text(text, encoding="utf-8")
    probs = _problems(folder)
    assert all(p.file == "instance.yaml" for p in probs if "instance.yaml" in p.file)
    assert any(p.file == "instance.yaml" for p in probs)


def test_yaml_unknown_key_is_named(base, tmp_path):
    folder = _copy(base, tmp_path)
    y = folder / "instance.yaml"
    y.write_text(y.read_text(encoding="utf-8") + "colour: blue\n", encoding="utf-8")
    probs = _problems(folder)
    assert any(p.file == "instance.yaml" and p.column == "colour" for p in probs), probs


@pytest.mark.parametrize("how", ["truncate", "binary", "nul", "latin1", "utf16", "folder", "empty", "huge_cell"])
def test_broken_files(base, tmp_path, how):
    folder = _copy(base, tmp_path)
    f = folder / "process_io.csv"
    data = f.read_bytes()
    if how == "truncate":
        f.write_bytes(data[: len(data) // 2])
    elif how == "binary":
        f.write_bytes(bytes(range(256)) * 4)
    elif how == "nul":
        f.write_bytes(data[:20] + b"\x00" + data[20:])
    elif how == "latin1":
        f.write_bytes(data + "é,ü,in,1,false\n".encode("latin-1"))
    elif how == "utf16":
        f.write_bytes(data.decode("utf-8").encode("utf-16"))
    elif how == "folder":
        f.unlink()
        f.mkdir()
    elif how == "empty":
        f.write_bytes(b"")
    elif how == "huge_cell":
        f.write_bytes(data + b"s1," + b"x" * 300_000 + b",in,1,false\n")
    probs = _problems(folder)
    # a file cut at a line end is a valid but shorter table: then the missing rows are named
    assert any(p.file == "process_io.csv" or "process_io.csv" in p.message for p in probs), probs


def test_a_long_file_is_refused_in_reasonable_time(base, tmp_path):
    import time

    folder = _copy(base, tmp_path)
    f = folder / "demand.csv"
    rows = fuzz._read_rows(f)
    fuzz._write_rows(f, [rows[0]] + rows[1:] * (20_000 // max(1, len(rows) - 1)))
    t = time.perf_counter()
    probs = _problems(folder)
    assert time.perf_counter() - t < 20
    assert all(p.file == "demand.csv" and p.row is not None for p in probs)


# -- regressions: bugs the fuzzer found ----------------------------------------------------------


def test_duplicate_row_with_a_blank_key_cell_is_a_located_problem(base, tmp_path):
    # policies are keyed by (policy, year) and year may be blank: comparing the blank (NA) cells
    # raised TypeError("boolean value of NA is ambiguous") instead of naming the duplicate
    folder = _copy(base, tmp_path)
    f = folder / "policies.csv"
    rows = fuzz._read_rows(f)
    rows[1][rows[0].index("year")] = ""
    rows.append(list(rows[1]))
    fuzz._write_rows(f, rows)
    probs = [p for p in _problems(folder) if "duplicate row" in p.message]
    assert probs and probs[0].file == "policies.csv" and probs[0].row == len(rows)
    assert "first given on row 2" in probs[0].message and "(blank)" in probs[0].message


@pytest.mark.parametrize("key,value", [("discount_rate", "a: b: c"), ("base_year", "[unclosed"),
                                       ("unmet_penalty", "!!python/object/apply:os.system ['echo x']")])
def test_workbook_setting_that_is_not_valid_yaml_is_a_located_problem(base, tmp_path, key, value):
    # the instance sheet's values other than text are read as YAML scalars; a malformed one
    # raised yaml's own ScannerError / ConstructorError out of load_instance (a text setting
    # such as title is text, as in instance.yaml: test_hostile_inputs)
    import openpyxl

    book = fuzz.folder_to_workbook(base, tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(book)
    ws = wb["instance"]
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, 1).value == key:
            ws.cell(r, 2).value = value
            line = r
            break
    else:
        ws.append([key, value])
        line = ws.max_row
    wb.save(book)
    probs = _problems(book)
    assert any(p.file == "book.xlsx[instance]" and p.row == line and p.column == "value" for p in probs), probs


def test_workbook_roundtrip_of_a_generated_instance_loads(base, tmp_path):
    book = fuzz.folder_to_workbook(base, tmp_path / "book.xlsx")
    a, b = load_instance(base), load_instance(book)
    assert fuzz._same_as_original(b, base) is True
    assert a.years == b.years


@pytest.mark.parametrize("key", ["description", "title", "units", "sources", "scenarios"])
def test_yaml_aliases_that_expand_to_billions_are_refused_quickly(base, tmp_path, key):
    # "billion laughs": nine levels of aliases; turning the settings into text never finished
    import time

    import yaml

    folder = _copy(base, tmp_path)
    y = folder / "instance.yaml"
    s = yaml.safe_load(y.read_text(encoding="utf-8"))
    s.pop(key, None)
    y.write_text(fuzz.billion_laughs(key) + yaml.safe_dump(s), encoding="utf-8")
    t = time.perf_counter()
    probs = _problems(folder)
    assert time.perf_counter() - t < 10
    assert any(p.file == "instance.yaml" and "aliases" in p.message for p in probs), probs


@pytest.mark.parametrize("text", ["description: " + "[" * 5000 + "]" * 5000, "colour: " + "{a: " * 3000 + "1" + "}" * 3000,
                                  "description: " + "[" * 400 + "]" * 400], ids=["list5000", "map3000", "list400"])
def test_deeply_nested_yaml_is_refused(base, tmp_path, text):
    # the YAML parser (or a later copy) raised RecursionError out of load_instance
    folder = _copy(base, tmp_path)
    y = folder / "instance.yaml"
    y.write_text(y.read_text(encoding="utf-8") + text + "\n", encoding="utf-8")
    probs = _problems(folder)
    assert any(p.file == "instance.yaml" and ("deep" in p.message or "deeper" in p.message) for p in probs), probs


@pytest.mark.parametrize("value", ["[" * 3000 + "]" * 3000, fuzz.laughs_flow(8)], ids=["nested", "aliased"])
def test_workbook_setting_nested_or_aliased_beyond_reason_is_located(base, tmp_path, value):
    import openpyxl

    book = fuzz.folder_to_workbook(base, tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(book)
    wb["instance"].append(["discount_rate", value])
    line = wb["instance"].max_row
    wb.save(book)
    probs = _problems(book)
    assert any(p.file == "book.xlsx[instance]" and p.row == line for p in probs), probs


def test_a_long_process_io_is_refused_in_reasonable_time(base, tmp_path):
    # duplicated (process, commodity) rows were compared row by row against the whole table:
    # 9000 rows took minutes; now one pass over the groups
    import time

    folder = _copy(base, tmp_path)
    f = folder / "process_io.csv"
    rows = fuzz._read_rows(f)
    fuzz._write_rows(f, [rows[0]] + [rows[1:][k % (len(rows) - 1)] for k in range(9000)])
    t = time.perf_counter()
    probs = _problems(folder)
    assert time.perf_counter() - t < 20
    assert sum("duplicate row" in p.message for p in probs) == 9000 - (len(rows) - 1)
