"""Shared fixtures: a writable copy of the toy instance and helpers that break one thing in it.

Line numbers follow the contract: the header is line 1, the first data row line 2.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from rechain import instances
from rechain.model import InstanceError, load_instance


@pytest.fixture
def toy_dir(tmp_path) -> Path:
    """A fresh copy of instances/toy in a temporary folder."""
    dst = tmp_path / "toy"
    shutil.copytree(instances.path("toy"), dst)
    return dst


def read_rows(folder: Path, table: str) -> list[list[str]]:
    """Every line of ``table``.csv as a list of cells (header first)."""
    with open(Path(folder) / f"{table}.csv", newline="", encoding="utf-8-sig") as f:
        return list(csv.reader(f))


def write_rows(folder: Path, table: str, rows: list[list[str]]) -> None:
    with open(Path(folder) / f"{table}.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def set_cell(folder: Path, table: str, line: int, column: str, value: str) -> None:
    """Replace the cell of ``column`` on ``line`` (header = 1) of ``table``.csv with ``value``."""
    rows = read_rows(folder, table)
    j = rows[0].index(column)
    assert 2 <= line <= len(rows), f"{table}.csv has no line {line}"
    rows[line - 1][j] = value
    write_rows(folder, table, rows)


def add_row(folder: Path, table: str, values: dict[str, str]) -> int:
    """Append a row (unnamed columns blank; the file is created with those columns if absent);
    returns its line number."""
    path = Path(folder) / f"{table}.csv"
    rows = read_rows(folder, table) if path.exists() else [list(values)]
    header = rows[0]
    unknown = set(values) - set(header)
    assert not unknown, f"{table}.csv has no column(s) {unknown}"
    rows.append([str(values.get(h, "")) for h in header])
    write_rows(folder, table, rows)
    return len(rows)


def copy_row(folder: Path, table: str, line: int) -> int:
    """Append an exact copy of ``line``; returns the line number of the copy."""
    rows = read_rows(folder, table)
    rows.append(list(rows[line - 1]))
    write_rows(folder, table, rows)
    return len(rows)


def drop_column(folder: Path, table: str, column: str) -> None:
    rows = read_rows(folder, table)
    j = rows[0].index(column)
    write_rows(folder, table, [r[:j] + r[j + 1:] for r in rows])


def line_of(folder: Path, table: str, **match: str) -> int:
    """Line number of the one row whose cells equal ``match``."""
    rows = read_rows(folder, table)
    header = rows[0]
    hits = [i + 1 for i, r in enumerate(rows[1:], 1) if all(r[header.index(k)] == v for k, v in match.items())]
    assert len(hits) == 1, f"{table}.csv: {len(hits)} rows match {match}"
    return hits[0]


def problems_of(path, **kw) -> list:
    """The problems of the InstanceError that loading ``path`` must raise."""
    with pytest.raises(InstanceError) as info:
        load_instance(path, **kw)
    problems = info.value.problems
    assert problems, "an InstanceError must list at least one problem"
    return problems


def find_problem(problems, file: str, row: int | None = None, column: str | None = None, says: str | tuple = ()):
    """The problem located at (file, row, column) whose message contains every text of
    ``says`` (case-insensitive); fails with the whole list when none matches."""
    says = (says,) if isinstance(says, str) else tuple(says)
    for p in problems:
        if p.file != file:
            continue
        if row is not None and p.row != row:
            continue
        if column is not None and p.column != column:
            continue
        if all(s.lower() in p.message.lower() for s in says):
            return p
    listing = "\n".join(f"  {p.file} row={p.row} column={p.column!r}: {p.message}" for p in problems)
    raise AssertionError(f"no problem at {file} row={row} column={column!r} saying {says}; got:\n{listing}")
