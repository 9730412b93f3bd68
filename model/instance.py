"""Instances: reading a folder or workbook (SPEC section 1), validating it, applying scenarios.

An :class:`Instance` holds typed tables (pandas DataFrames whose index is the line number of
each row in its file, so every later message can point at the row) and the scalar settings.
Every problem found is collected and raised together as one :class:`InstanceError`.
"""

from __future__ import annotations

import copy
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd
import yaml

from .errors import InstanceError, Problem
from .schema import FREE_COLUMNS, POLICY_KINDS, SETTINGS, TABLE_ORDER, TABLES, Column, Table

TRUE = {"true", "yes", "y", "1", "x", "t"}
FALSE = {"false", "no", "n", "0", "f", ""}
SCENARIO_TABLES = tuple(TABLES) + ("instance",)
SCALAR_CHANGES = {"discount_rate": float, "unmet_penalty": float, "base_year": int}
#: the range of each numeric setting: (test, what the message says when it fails)
SETTING_RANGES = {"discount_rate": (lambda x: -1 < x <= 1, "must lie in (-1, 1]"),
                  "unmet_penalty": (lambda x: x >= 0, "must be >= 0"),
                  "base_year": (lambda x: x == int(x), "must be a whole number")}


# --------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------


class _Bad(Exception):
    """A cell that cannot be read as its column's type; the message says what was expected."""


def parse_cell(col: Column, text: str) -> Any:
    """Turn the text of one cell into a typed value (None for a blank), or raise _Bad."""
    s = text.strip()
    if s == "":
        if col.blank or col.type == "bool":
            return None
        raise _Bad("a value is required here")
    if col.type in ("name", "text"):
        if col.choices is not None and s not in col.choices:
            raise _Bad(f"expected one of {', '.join(col.choices)}")
        return s
    if col.type == "list":
        return normalise_list(s)
    if col.type == "bool":
        low = s.lower()
        if low in TRUE:
            return True
        if low in FALSE:
            return False
        raise _Bad("expected true or false")
    try:
        x = float(s)
    except ValueError:
        raise _Bad("expected a number") from None
    if math.isnan(x) or math.isinf(x):
        raise _Bad("expected a finite number")
    if col.type == "int":
        if x != int(x) or abs(x) > 1e9:
            raise _Bad("expected a whole number")
        x = int(x)
    check_range(col, x)
    return x


def check_range(col: Column, x: float) -> None:
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        raise _Bad("expected a finite number")
    if col.min is not None and x < col.min:
        raise _Bad(f"expected a number >= {col.min:g}")
    if col.gt is not None and x <= col.gt:
        raise _Bad(f"expected a number > {col.gt:g}")
    if col.max is not None and x > col.max:
        raise _Bad(f"expected a number <= {col.max:g}")


def normalise_list(s: str) -> str:
    parts = [p.strip() for p in str(s).split(";")]
    parts = [p for p in parts if p]
    if "*" in parts:
        return "*"
    return ";".join(parts)


def expand(cell: Any, universe: Iterable[str]) -> list[str]:
    """Names a `;`-separated cell selects from ``universe``; blank or ``*`` selects all."""
    universe = list(universe)
    if cell is None or (isinstance(cell, float) and math.isnan(cell)) or str(cell) in ("", "*"):
        return universe
    return [p for p in str(cell).split(";") if p]


def _is_blank(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _dtype(col: Column):
    return {"int": "Int64", "float": "float64", "bool": "bool"}.get(col.type, "object")


def _typed_frame(table: Table, records: list[dict], index: list[int], extra: list[str]) -> pd.DataFrame:
    # built column by column from plain lists, in one DataFrame call: a frame is made for every
    # table of every load, and assigning typed columns one at a time costs more than the parse
    idx = pd.Index(index, name="line", dtype="int64")
    data: dict[str, Any] = {}
    for col in table.columns:
        vals = [r.get(col.name) for r in records]
        if col.type == "bool":
            data[col.name] = pd.Series([False if _is_blank(v) else bool(v) for v in vals], index=idx, dtype=bool)
        elif col.type == "float":
            data[col.name] = pd.Series([float("nan") if _is_blank(v) else float(v) for v in vals], index=idx, dtype="float64")
        elif col.type == "int":
            data[col.name] = pd.Series(pd.array([None if _is_blank(v) else int(v) for v in vals], dtype="Int64"), index=idx)
        else:
            data[col.name] = pd.Series(vals, index=idx, dtype=object)
    for c in extra:
        data[c] = pd.Series([r.get(c) for r in records], index=idx, dtype=object)
    return pd.DataFrame(data, index=idx, columns=table.column_names + extra)


def empty_table(name: str) -> pd.DataFrame:
    table = TABLES[name]
    return _typed_frame(table, [], [], [])


# --------------------------------------------------------------------------------------------
# Raw reading: folder of CSV files or one workbook
# --------------------------------------------------------------------------------------------


@dataclass
class _Raw:
    """One table as text: header, rows, line numbers, and the label used in messages."""

    label: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]


def _read_csv(path: Path, label: str, problems: list[Problem]) -> _Raw | None:
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            data = f.read()
    except UnicodeDecodeError as e:
        problems.append(Problem(label, f"not UTF-8 text ({e.reason} at byte {e.start})"))
        return None
    except OSError as e:
        problems.append(Problem(label, f"cannot be read: {e.strerror or e}"))
        return None
    if "\x00" in data:
        problems.append(Problem(label, "contains NUL bytes: not a text CSV file"))
        return None
    try:
        reader = csv.reader(data.splitlines())
        rows = list(reader)
    except csv.Error as e:
        problems.append(Problem(label, f"not a readable CSV file: {e}"))
        return None
    lines = list(range(1, len(rows) + 1))
    # drop blank lines
    kept = [(ln, r) for ln, r in zip(lines, rows) if any(c.strip() for c in r)]
    if not kept:
        problems.append(Problem(label, "is empty: expected a header row"))
        return None
    (hline, header), body = kept[0], kept[1:]
    return _Raw(label, [h.strip() for h in header], [r for _, r in body], [ln for ln, _ in body])


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


def _read_workbook(path: Path, problems: list[Problem]) -> tuple[dict[str, _Raw], dict | None]:
    """Sheets of a workbook as raw tables, plus the settings mapping built from its
    ``instance``, ``sources`` and ``scenarios`` sheets. Formulas are never evaluated: cached
    values are read, and macros are not loaded."""
    import openpyxl

    book_label = path.name
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_vba=False)
    except Exception as e:  # openpyxl raises many kinds for a damaged or foreign file
        problems.append(Problem(book_label, f"not a readable .xlsx workbook: {e}"))
        return {}, None
    raws: dict[str, _Raw] = {}
    try:
        for ws in wb.worksheets:
            label = f"{book_label}[{ws.title}]"
            rows = []
            for r in ws.iter_rows(values_only=True):
                rows.append([_cell_text(v) for v in r])
            kept = [(i + 1, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]
            if not kept:
                continue
            (_, header), body = kept[0], kept[1:]
            # trailing empty header cells come from formatted but empty columns
            while header and not header[-1].strip():
                header = header[:-1]
            n = len(header)
            raws[ws.title.strip()] = _Raw(label, [h.strip() for h in header], [r[:n] for _, r in body], [ln for ln, _ in body])
    finally:
        wb.close()
    settings = _settings_from_sheets(raws, problems)
    return raws, settings


MAX_YAML_VALUES = 100_000  # settings hold hundreds; a mapping past this is an alias bomb
MAX_YAML_DEPTH = 50  # settings nest about 5 deep


def _too_many_values(obj: Any, limit: int = MAX_YAML_VALUES, depth: int = MAX_YAML_DEPTH) -> bool:
    """True when ``obj`` holds more than ``limit`` values, counting a shared (aliased) node each
    time it is reached, or nests deeper than ``depth``: YAML aliases nested a few levels deep
    ("billion laughs") expand to billions of values, and turning them into text would never
    finish; deep nesting makes copying or printing exceed Python's recursion limit."""
    stack, n = [(obj, 0)], 0
    while stack:
        x, d = stack.pop()
        n += 1
        if n > limit or d > depth:
            return True
        if isinstance(x, dict):
            stack.extend((k, d + 1) for k in x.keys())
            stack.extend((v, d + 1) for v in x.values())
        elif isinstance(x, (list, tuple, set)):
            stack.extend((v, d + 1) for v in x)
    return False


def _yaml_cell(text: str, label: str, line: int, column: str, problems: list[Problem]) -> Any:
    """A workbook cell read as a YAML scalar (safely); a cell that is not valid YAML is a
    located problem, and its text is kept so later checks can still name it."""
    try:
        value = yaml.safe_load(text)
    except RecursionError:
        problems.append(Problem(label, "nests too deeply to be read", row=line, column=column))
        return None
    except yaml.YAMLError as e:
        problems.append(Problem(label, f"not a valid value: {getattr(e, 'problem', None) or e}", row=line, column=column, value=text))
        return text
    if _too_many_values(value):
        problems.append(Problem(label, f"holds more than {MAX_YAML_VALUES} values once its aliases are expanded, or nests deeper than {MAX_YAML_DEPTH} levels", row=line, column=column))
        return None
    return value


def _settings_from_sheets(raws: dict[str, _Raw], problems: list[Problem]) -> dict | None:
    if "instance" not in raws:
        problems.append(Problem("workbook", "missing sheet 'instance' (key,value rows of the settings)"))
        return None
    raw = raws.pop("instance")
    settings: dict[str, Any] = {}
    try:
        ki, vi = raw.header.index("key"), raw.header.index("value")
    except ValueError:
        problems.append(Problem(raw.label, "expected columns key,value", row=1, value=",".join(raw.header)))
        return None
    for ln, r in zip(raw.lines, raw.rows):
        key = r[ki].strip() if ki < len(r) else ""
        val = r[vi].strip() if vi < len(r) else ""
        if not key:
            continue
        parts = key.split(".")
        node = settings
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                problems.append(Problem(raw.label, f"key '{key}' clashes with another key", row=ln, column="key"))
                break
        else:
            # text settings keep their cell as written: read as YAML, a title such as
            # "Toy: two regions" became a mapping, "yes" became true and "Toy #2" lost "#2".
            # A cell YAML cannot read at all is still reported, as for every other setting.
            if SETTINGS.get(parts[0]) == "text" or parts[0] == "units":
                if val:
                    _yaml_cell(val, raw.label, ln, "value", problems)
                node[parts[-1]] = val or None
            else:
                node[parts[-1]] = _yaml_cell(val, raw.label, ln, "value", problems) if val else None
    if key_alias := {"first_year": "first", "last_year": "last"}:
        for old, new in key_alias.items():
            if old in settings:
                settings.setdefault("years", {})[new] = settings.pop(old)
    if "sources" in raws:
        raw = raws.pop("sources")
        settings["sources"] = [dict(zip(raw.header, r)) for r in raw.rows]
    if "scenarios" in raws:
        raw = raws.pop("scenarios")
        scen: dict[str, Any] = {}
        h = raw.header
        for ln, r in zip(raw.lines, raw.rows):
            rec = dict(zip(h, r + [""] * (len(h) - len(r))))
            name = rec.get("scenario", "").strip()
            if not name:
                problems.append(Problem(raw.label, "a value is required here", row=ln, column="scenario"))
                continue
            s = scen.setdefault(name, {"description": "", "changes": []})
            if rec.get("description", "").strip():
                s["description"] = rec["description"].strip()
            where = {}
            for part in rec.get("where", "").split(";"):
                if part.strip():
                    if "=" not in part:
                        problems.append(Problem(raw.label, "expected column=value;column=value", row=ln, column="where", value=rec["where"]))
                        continue
                    k, v = part.split("=", 1)
                    where[k.strip()] = v.strip()
            ch = {"table": rec.get("table", "").strip(), "where": where, "column": rec.get("column", "").strip(), "_line": ln, "_label": raw.label}
            if rec.get("scale", "").strip():
                ch["scale"] = _yaml_cell(rec["scale"], raw.label, ln, "scale", problems)
            if rec.get("set", "").strip():
                ch["set"] = _yaml_cell(rec["set"], raw.label, ln, "set", problems)
            s["changes"].append(ch)
        settings["scenarios"] = scen
    return settings


def _read_source(path: Path) -> tuple[dict[str, _Raw], dict | None, str, list[Problem]]:
    problems: list[Problem] = []
    path = Path(path)
    if path.is_file() and path.suffix.lower() in (".xlsx", ".xlsm"):
        raws, settings = _read_workbook(path, problems)
        return raws, settings, path.name, problems
    if path.is_file() and path.name == "instance.yaml":
        path = path.parent
    if not path.exists():
        raise InstanceError([Problem(str(path), "no such instance folder or workbook")])
    if not path.is_dir():
        raise InstanceError([Problem(str(path), "expected an instance folder or an .xlsx workbook")])
    settings = None
    ypath = path / "instance.yaml"
    if not ypath.is_file():
        problems.append(Problem("instance.yaml", "missing required file"))
    else:
        try:
            text = ypath.read_text(encoding="utf-8-sig")
            settings = yaml.safe_load(text)
            if _too_many_values(settings):
                problems.append(Problem("instance.yaml", f"holds more than {MAX_YAML_VALUES} values once its aliases (*name) are expanded, "
                                                         f"or nests deeper than {MAX_YAML_DEPTH} levels: not a settings file"))
                settings = None
        except RecursionError:
            problems.append(Problem("instance.yaml", "nests too deeply to be read: not a settings file"))
        except UnicodeDecodeError as e:
            problems.append(Problem("instance.yaml", f"not UTF-8 text ({e.reason})"))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            problems.append(Problem("instance.yaml", f"not valid YAML: {getattr(e, 'problem', None) or e}",
                                    row=(mark.line + 1) if mark else None))
        if settings is not None and not isinstance(settings, dict):
            problems.append(Problem("instance.yaml", f"expected a mapping of settings (key: value), found a {type(settings).__name__}"))
            settings = None
        elif settings is None and not problems:
            problems.append(Problem("instance.yaml", "is empty: expected a mapping of settings"))
    raws: dict[str, _Raw] = {}
    for name in TABLE_ORDER:
        f = path / f"{name}.csv"
        if f.is_file():
            raw = _read_csv(f, f.name, problems)
            if raw is not None:
                raws[name] = raw
    return raws, settings, path.name, problems


# --------------------------------------------------------------------------------------------
# The instance
# --------------------------------------------------------------------------------------------


@dataclass
class Instance:
    """A validated planning instance: scalar settings plus typed tables (SPEC section 1).

    Each table is a DataFrame whose index is the row's line number in its file (header = 1).
    Money is in ``units['money']`` (the model itself is unit-agnostic).
    """

    name: str
    title: str
    first_year: int
    last_year: int
    base_year: int
    discount_rate: float
    unmet_penalty: float | None
    tables: dict[str, pd.DataFrame]
    units: dict = field(default_factory=dict)
    sources: list[dict] = field(default_factory=list)
    scenarios: dict = field(default_factory=dict)
    description: str = ""
    origin: str | None = None
    applied: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # table -> file label for messages

    # -- convenient access ----------------------------------------------------------------
    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))

    def __getattr__(self, item: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables")
        if tables is not None and item in TABLES:
            return tables[item]
        raise AttributeError(item)

    def label(self, table: str) -> str:
        return self.labels.get(table, f"{table}.csv")

    @property
    def scenario(self) -> str | None:
        """The applied scenarios, joined by '+', or None for the base instance."""
        return "+".join(self.applied) if self.applied else None

    def copy(self) -> "Instance":
        """A deep copy: its tables can be changed in place without touching ``self``."""
        return replace(
            self,
            tables={k: v.copy() for k, v in self.tables.items()},
            units=dict(self.units),
            sources=copy.deepcopy(self.sources),
            scenarios=copy.deepcopy(self.scenarios),
            applied=list(self.applied),
            labels=dict(self.labels),
        )

    def _shallow_copy(self) -> "Instance":
        """A copy that shares the table DataFrames of ``self`` (the settings, lists and mappings
        are copied). A shared table must never be written into: code that changes a table puts
        a changed copy in its place (as :func:`_apply_change` does)."""
        return replace(
            self,
            tables=dict(self.tables),
            units=dict(self.units),
            sources=[dict(s) for s in self.sources],
            scenarios=copy.deepcopy(self.scenarios),
            applied=list(self.applied),
            labels=dict(self.labels),
        )

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.tables.items() if len(v))
        scen = f", scenario={self.scenario!r}" if self.applied else ""
        return f"Instance({self.name!r}, years={self.first_year}-{self.last_year}{scen}, {sizes})"

    # -- scenarios and changes -------------------------------------------------------------
    def with_scenario(self, *names: str) -> "Instance":
        """A copy with the named scenarios of ``instance.yaml`` applied, in the order given."""
        inst = self
        for name in names:
            if name not in self.scenarios:
                known = ", ".join(sorted(self.scenarios)) or "none"
                raise InstanceError([Problem("instance.yaml", f"no scenario named '{name}' (known: {known})", column="scenarios")])
            inst = inst.with_changes(self.scenarios[name].get("changes") or [], label=name, where_from=f"scenario '{name}'")
        return inst

    def with_changes(self, changes: Iterable[Mapping] | Mapping, label: str | None = None, where_from: str | None = None) -> "Instance":
        """A copy with scenario-style changes applied, in order.

        Each change is a mapping ``{table, where, column, scale | set}`` as in ``instance.yaml``:
        ``where`` selects rows by column equality (``{}`` or absent: every row), then ``column``
        is multiplied by ``scale`` or replaced by ``set``. ``table: instance`` changes a scalar
        setting (``discount_rate``, ``unmet_penalty``, ``base_year``).

        A change that does not fit raises :class:`InstanceError` naming it (``change 2``, after
        ``where_from`` when given); changes made in code are reported under ``with_changes``,
        those of a named scenario under ``instance.yaml``.

        The copy shares with ``self`` the DataFrames of the tables no change touches: to write
        into a table of the result in place, take :meth:`copy` of it first.
        """
        changes = [changes] if isinstance(changes, Mapping) else list(changes)
        # the copy shares every table no change touches (a changed table is replaced by a
        # changed copy), so a sweep of thousands of changes does not copy the whole instance
        inst = self._shallow_copy()
        problems: list[Problem] = []
        for i, ch in enumerate(changes, 1):
            _apply_change(inst, ch, f"{where_from}, change {i}" if where_from else f"change {i}", problems,
                          file="instance.yaml" if where_from else "with_changes")
        if problems:
            raise InstanceError(problems)
        # numbers (not names, years or flags) changed: only the checks reading those numbers can
        # newly fail; the ranges of the new values were checked as they were applied
        needed = _value_checks(changes)
        if needed is None:
            _check_references(inst, problems)
        else:
            if "reference_coefficients" in needed:
                _check_reference_rows(inst, problems, counts=False)
            if "unmet_penalty" in needed:
                _check_unmet_penalty(inst, problems)
        if problems:
            raise InstanceError(problems)
        inst.applied.append(label or f"changes{len(inst.applied) + 1}")
        return inst

    def with_years(self, first: int | None = None, last: int | None = None) -> "Instance":
        """A copy restricted to a sub-horizon; rows of years outside it are dropped."""
        first = self.first_year if first is None else int(first)
        last = self.last_year if last is None else int(last)
        if not (self.first_year <= first <= last <= self.last_year):
            raise InstanceError([Problem("instance.yaml", f"years {first}:{last} are not within the instance's horizon {self.first_year}:{self.last_year}", column="years")])
        inst = self.copy()
        inst.first_year, inst.last_year = first, last
        for name, df in inst.tables.items():
            if "year" in df.columns and name != "capacity":
                y = df["year"]
                keep = y.isna() | ((y >= first) & (y <= last))
                inst.tables[name] = df[keep.fillna(True).astype(bool)]
            elif name == "capacity":
                inst.tables[name] = df[df["year"] <= last]
        return inst

    # -- writing ---------------------------------------------------------------------------
    def settings(self) -> dict:
        out: dict[str, Any] = {"format_version": 1, "name": self.name, "title": self.title}
        if self.description:
            out["description"] = self.description
        out["years"] = {"first": self.first_year, "last": self.last_year}
        out["base_year"] = self.base_year
        out["discount_rate"] = self.discount_rate
        if self.units:
            out["units"] = dict(self.units)
        if self.unmet_penalty is not None:
            out["unmet_penalty"] = self.unmet_penalty
        if self.sources:
            out["sources"] = [dict(s) for s in self.sources]
        if self.scenarios:
            out["scenarios"] = {
                k: {"description": v.get("description", ""),
                    "changes": [{kk: vv for kk, vv in c.items() if not kk.startswith("_")} for c in v.get("changes", [])]}
                for k, v in self.scenarios.items()
            }
        return out

    def to_folder(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write the instance as a folder (instance.yaml plus one CSV a table), atomically."""
        path = Path(path)

        def write(tmp: Path) -> None:
            with open(tmp / "instance.yaml", "w", encoding="utf-8") as f:
                yaml.safe_dump(self.settings(), f, sort_keys=False, allow_unicode=True)
            for name in TABLE_ORDER:
                df = self.tables.get(name)
                if df is None or (len(df) == 0 and not TABLES[name].required):
                    continue
                table_to_text(name, df).to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")

        atomic_write_folder(path, write, overwrite=overwrite)
        return path


def table_to_text(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """A typed table as text cells: blanks empty, floats exact, booleans true/false."""
    out = pd.DataFrame(index=range(len(df)))
    for c in df.columns:
        col = TABLES[name].column(c) if c in TABLES[name].column_names else None
        vals = df[c].tolist()
        if col is not None and col.type == "bool":
            out[c] = ["true" if v else "false" for v in vals]
        elif col is not None and col.type == "float":
            out[c] = ["" if _is_blank(v) else repr(float(v)) for v in vals]
        elif col is not None and col.type == "int":
            out[c] = ["" if _is_blank(v) else str(int(v)) for v in vals]
        else:
            out[c] = ["" if _is_blank(v) else str(v) for v in vals]
    return out


class _Terminated(SystemExit):
    """SIGTERM received while a folder was being written."""


def _on_sigterm(signum, frame):
    raise _Terminated(128 + signum)


def atomic_write_folder(path: Path, write, overwrite: bool = True) -> None:
    """Fill a temporary sibling folder with ``write(tmp)``, then move it into place.

    An interrupted or failed write leaves ``path`` as it was and removes the temporary folder.
    SIGTERM, whose default action ends the process without any clean-up, is turned into an
    exit (status 143) for the duration, so a terminated write cleans up too.
    """
    import signal
    import threading

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists (pass overwrite=True to replace it)")
    parent = path.parent if str(path.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    previous = None
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=parent))
        try:
            write(tmp)
            if path.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=parent))
                os.replace(path, old / "x")
                try:
                    os.replace(tmp, path)
                except BaseException:
                    os.replace(old / "x", path)
                    raise
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


# --------------------------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------------------------


def load_instance(path: str | os.PathLike, scenario: str | Iterable[str] | None = None) -> Instance:
    """Read and validate an instance folder or ``.xlsx`` workbook; apply named scenarios.

    ``scenario`` is a name, a list of names (applied in order), or ``'a+b'``.
    Raises :class:`InstanceError` listing every problem found.
    """
    inst = parse_instance(path)
    if scenario:
        names = [scenario] if isinstance(scenario, str) else list(scenario)
        names = [n for s in names for n in str(s).split("+") if n]
        inst = inst.with_scenario(*names)
    return inst


def parse_instance(path: str | os.PathLike) -> Instance:
    raws, settings, default_name, problems = _read_source(Path(path))
    is_book = Path(path).suffix.lower() in (".xlsx", ".xlsm")
    tables: dict[str, pd.DataFrame] = {}
    labels: dict[str, str] = {}
    # tables that lack rows of their file: None when the whole table is unusable (missing, bad
    # header), else the names (first column) on its refused rows; checks against those skip them
    incomplete: dict[str, set[str] | None] = {}
    for name, table in TABLES.items():
        raw = raws.pop(name, None)
        label = raw.label if raw else (f"{Path(path).name}[{name}]" if is_book else table.file)
        labels[name] = label
        if raw is None:
            if table.required:
                problems.append(Problem(label, "missing required " + ("sheet" if is_book else "file")))
                incomplete[name] = None
            tables[name] = empty_table(name)
            continue
        refused: list[dict | None] = []
        tables[name] = _parse_table(table, raw, problems, refused)
        if refused:
            first = table.columns[0].name
            incomplete[name] = None if None in refused else {str(r.get(first) or "").strip() for r in refused}
    if is_book:
        for name, raw in raws.items():
            problems.append(Problem(raw.label, f"unknown sheet '{name}' (expected: {', '.join(list(TABLES) + ['instance', 'sources', 'scenarios'])})"))
    s = _parse_settings(settings or {}, default_name, problems, "instance.yaml" if not is_book else f"{Path(path).name}[instance]") if settings is not None else None
    if s is None:
        raise InstanceError(problems or [Problem("instance.yaml", "no settings")])
    inst = Instance(tables=tables, labels=labels, origin=str(path), **s)
    # cross-table checks run even when cells were refused, so one load reports every problem
    _check_references(inst, problems, incomplete)
    _check_scenarios(inst, problems, incomplete)
    if any(p.severity == "error" for p in problems):
        raise InstanceError(problems)
    return inst


def _parse_table(table: Table, raw: _Raw, problems: list[Problem], refused: list | None = None) -> pd.DataFrame:
    """The typed table; problems go to the list. ``refused`` (if given) gets None when the
    whole table is unusable, else the cell texts ({column: text}) of each refused row."""
    refused = [] if refused is None else refused
    header = raw.header
    ok = True
    seen = set()
    for i, h in enumerate(header):
        if h == "":
            problems.append(Problem(raw.label, f"column {i + 1} has no name", row=1))
            ok = False
        elif h in seen:
            problems.append(Problem(raw.label, f"duplicate column '{h}'", row=1, column=h))
            ok = False
        seen.add(h)
    known = set(table.column_names)
    extra = [h for h in header if h and h not in known and h in FREE_COLUMNS]
    for h in header:
        if h and h not in known and h not in FREE_COLUMNS:
            problems.append(Problem(raw.label, f"unknown column '{h}' (expected: {', '.join(table.column_names)}; free: {', '.join(FREE_COLUMNS)})", row=1, column=h))
            ok = False
    for col in table.columns:
        if col.required and col.name not in header:
            problems.append(Problem(raw.label, f"missing column '{col.name}'", row=1, column=col.name))
            ok = False
    if not ok:
        if raw.rows:
            refused.append(None)
        return _typed_frame(table, [], [], [])
    pos = {h: i for i, h in enumerate(header)}
    records, index = [], []
    for ln, r in zip(raw.lines, raw.rows):
        if len(r) > len(header) and any(c.strip() for c in r[len(header):]):
            problems.append(Problem(raw.label, f"row has {len(r)} cells but the header has {len(header)}", row=ln))
            refused.append(dict(zip(header, r)))
            continue
        rec: dict[str, Any] = {}
        good = True
        for col in table.columns:
            text = r[pos[col.name]] if col.name in pos and pos[col.name] < len(r) else ""
            if col.name not in pos:
                rec[col.name] = None
                continue
            try:
                rec[col.name] = parse_cell(col, text)
            except _Bad as e:
                problems.append(Problem(raw.label, str(e), row=ln, column=col.name, value=text))
                good = False
        for h in extra:
            rec[h] = r[pos[h]].strip() if pos[h] < len(r) else ""
        if good:
            records.append(rec)
            index.append(ln)
        else:
            refused.append(dict(zip(header, r)))
    df = _typed_frame(table, records, index, extra)
    if table.key and len(df):
        # keys as plain tuples: a blank (NA) key cell cannot be compared with ==
        keys = [tuple(None if _is_blank(v) else v for v in k) for k in df[list(table.key)].itertuples(index=False, name=None)]
        first_line: dict[tuple, int] = {}
        for ln, k in zip(df.index, keys):
            first = first_line.setdefault(k, ln)
            if first == ln:
                continue
            key = ", ".join(f"{c}={'(blank)' if v is None else v}" for c, v in zip(table.key, k))
            problems.append(Problem(raw.label, f"duplicate row for ({key}); first given on row {first}", row=int(ln), column=table.key[0]))
    return df


def _parse_settings(s: dict, default_name: str, problems: list[Problem], label: str) -> dict | None:
    for k in s:
        if k not in SETTINGS:
            problems.append(Problem(label, f"unknown setting '{k}' (expected: {', '.join(SETTINGS)})", column=str(k)))

    def num(key, cast, default=None, required=False, check=None, node=s, name=None):
        name = name or key
        v = node.get(key, None) if isinstance(node, dict) else None
        if v is None:
            if required:
                problems.append(Problem(label, f"missing setting '{name}'", column=name))
            return default
        try:
            if isinstance(v, bool):
                raise ValueError
            x = float(v)
            if math.isnan(x) or math.isinf(x):
                raise ValueError
            if cast is int:
                if x != int(x):
                    raise ValueError
                x = int(x)
        except (TypeError, ValueError):
            problems.append(Problem(label, f"setting '{name}' must be a {'whole ' if cast is int else ''}number", column=name, value=v))
            return default
        if check and not check[0](x):
            problems.append(Problem(label, f"setting '{name}' {check[1]}", column=name, value=v))
            return default
        return x

    years = s.get("years")
    first = last = None
    if not isinstance(years, dict):
        problems.append(Problem(label, "setting 'years' must be a mapping {first: YEAR, last: YEAR}", column="years", value=years))
    else:
        for k in years:
            if k not in ("first", "last"):
                problems.append(Problem(label, f"unknown key '{k}' in 'years' (expected first, last)", column="years"))
        first = num("first", int, required=True, node=years, name="years.first")
        last = num("last", int, required=True, node=years, name="years.last")
        if first is not None and last is not None and last < first:
            problems.append(Problem(label, f"years.last ({last}) is before years.first ({first})", column="years"))
            first = last = None
        if first is not None and last is not None and last - first > 200:
            problems.append(Problem(label, "the horizon is longer than 200 years", column="years"))
            first = last = None
    base = num("base_year", int, default=first)
    rate = num("discount_rate", float, default=0.0, check=SETTING_RANGES["discount_rate"])
    pen = num("unmet_penalty", float, default=None, check=SETTING_RANGES["unmet_penalty"])
    units = s.get("units") or {}
    if not isinstance(units, dict):
        problems.append(Problem(label, "setting 'units' must be a mapping", column="units", value=units))
        units = {}
    sources = s.get("sources") or []
    if not isinstance(sources, list):
        problems.append(Problem(label, "setting 'sources' must be a list of {id, title, url}", column="sources"))
        sources = []
    clean_sources = []
    ids = set()
    for i, src in enumerate(sources, 1):
        if not isinstance(src, dict) or not str(src.get("id") or "").strip():
            problems.append(Problem(label, f"source {i} must be a mapping with an 'id'", column="sources", value=src))
            continue
        sid = str(src["id"]).strip()
        if sid in ids:
            problems.append(Problem(label, f"duplicate source id '{sid}'", column="sources"))
        ids.add(sid)
        clean_sources.append({"id": sid, "title": str(src.get("title") or ""), "url": str(src.get("url") or "")})
    scen = s.get("scenarios") or {}
    if not isinstance(scen, dict):
        problems.append(Problem(label, "setting 'scenarios' must be a mapping of name: {description, changes}", column="scenarios"))
        scen = {}
    clean_scen = {}
    for name, body in scen.items():
        if isinstance(body, list):
            body = {"changes": body}
        if not isinstance(body, dict) or not isinstance(body.get("changes", []), list):
            problems.append(Problem(label, f"scenario '{name}' must be a mapping with a list 'changes'", column="scenarios"))
            continue
        for k in body:
            if k not in ("description", "changes"):
                problems.append(Problem(label, f"scenario '{name}': unknown key '{k}' (expected description, changes)", column="scenarios"))
        clean_scen[str(name)] = {"description": str(body.get("description") or ""), "changes": list(body.get("changes") or [])}
    for key in ("name", "title", "description"):
        if key in s and s[key] is not None and not isinstance(s[key], (str, int, float)):
            problems.append(Problem(label, f"setting '{key}' must be text", column=key))
    if first is None or last is None:
        return None
    name = str(s.get("name") or default_name)
    return dict(
        name=name,
        title=str(s.get("title") or name),
        description=str(s.get("description") or ""),
        first_year=first,
        last_year=last,
        base_year=base if base is not None else first,
        discount_rate=rate if rate is not None else 0.0,
        unmet_penalty=pen,
        units={str(k): str(v) for k, v in units.items()},
        sources=clean_sources,
        scenarios=clean_scen,
    )


def _check_references(inst: Instance, problems: list[Problem], incomplete: Mapping[str, set | None] | None = None) -> None:
    """Cross-table checks: names that exist, years in the horizon, process_io rules, sources.

    ``incomplete`` maps a table some of whose rows were refused to the names on those rows
    (None: the whole table was refused). Such names are not reported as unknown elsewhere, and
    the reference rows of a process are not counted when one of its process_io rows was refused.

    Runs every part below, in this order; :meth:`Instance.with_changes` runs only the parts a
    change of numbers can affect (see :func:`_value_checks`).
    """
    incomplete = dict(incomplete or {})
    _check_row_references(inst, problems, incomplete)
    _check_trade_lanes(inst, problems)
    unsure = incomplete.get("process_io", set()) if "process_io" in incomplete else set()
    _check_reference_rows(inst, problems, unsure)
    _check_io_directions(inst, problems)
    _check_policy_rows(inst, problems)
    _check_unmet_penalty(inst, problems)


def _check_row_references(inst: Instance, problems: list[Problem], incomplete: Mapping[str, set | None]) -> None:
    """Row by row in every table: names of regions, commodities and processes that exist,
    years in the horizon, sources listed in the settings."""
    T = inst.tables
    regions = set(T["regions"]["region"])
    commodities = set(T["commodities"]["commodity"])
    processes = set(T["processes"]["process"])
    years = (inst.first_year, inst.last_year)
    sources = {s["id"] for s in inst.sources}
    universe = {"region": regions, "origin": regions, "destination": regions, "commodity": commodities, "process": processes}
    list_universe = {"processes": processes, "commodities": commodities, "regions": regions, "destinations": regions}
    defined_in = {"region": "regions", "origin": "regions", "destination": "regions", "commodity": "commodities",
                  "process": "processes", "processes": "processes", "commodities": "commodities",
                  "regions": "regions", "destinations": "regions"}
    singular = {"origin": "region", "destination": "region", "processes": "process", "commodities": "commodity",
                "regions": "region", "destinations": "region"}

    def trusted(u: dict) -> dict:
        out = {}
        for c, known in u.items():
            t = defined_in[c]
            if t not in incomplete:
                out[c] = known
            elif incomplete[t] is not None:
                out[c] = known | incomplete[t]
        return out

    universe, list_universe = trusted(universe), trusted(list_universe)

    def unknown(label, ln, col, name, known):
        what = singular.get(col, col)
        listed = ", ".join(sorted(known)) or "none"
        if len(listed) > 200:
            listed = listed[:200] + ", ..."
        problems.append(Problem(label, f"unknown {what} '{name}' (expected a {what} of {inst.label(defined_in[col])}: {listed})",
                                row=int(ln), column=col, value=name))

    for name, df in T.items():
        label = inst.label(name)
        for ln, row in zip(df.index, df.to_dict("records")):
            for col, known in universe.items():
                if col in row and not (name == "build_limits" and col == "region" and row[col] == "*"):
                    if col in df.columns and row[col] not in known and not (name in ("regions", "commodities", "processes")):
                        unknown(label, ln, col, row[col], known)
            for col, known in list_universe.items():
                if name == "policies" and col in row and not _is_blank(row[col]) and row[col] not in ("", "*"):
                    for item in str(row[col]).split(";"):
                        if item not in known:
                            unknown(label, ln, col, item, known)
            if "year" in row and not _is_blank(row["year"]):
                y = int(row["year"])
                if name == "capacity":
                    if y > years[1]:
                        problems.append(Problem(label, f"year after the horizon {years[0]}-{years[1]}", row=int(ln), column="year", value=y))
                elif not (years[0] <= y <= years[1]):
                    problems.append(Problem(label, f"year outside the horizon {years[0]}-{years[1]}", row=int(ln), column="year", value=y))
            if "source" in row and sources and not _is_blank(row["source"]) and str(row["source"]).strip() and str(row["source"]).strip() not in sources:
                problems.append(Problem(label, f"unknown source '{row['source']}' (not in instance.yaml's sources)", row=int(ln), column="source"))


def _check_trade_lanes(inst: Instance, problems: list[Problem]) -> None:
    """A trade lane joins two different regions."""
    trade = inst.tables["trade"]
    for ln in trade.index[trade["origin"] == trade["destination"]]:
        problems.append(Problem(inst.label("trade"), "a lane's origin and destination must differ", row=int(ln), column="destination", value=trade.at[ln, "destination"]))


def _check_reference_rows(inst: Instance, problems: list[Problem], unsure: set | None = frozenset(),
                          counts: bool = True, coefficients: bool = True) -> None:
    """Each process has exactly one reference row in process_io (``counts``), whose coefficient
    is 1 (``coefficients``); problems are given process by process, in name order.

    ``unsure``: processes one of whose process_io rows was refused (not checked); None: the
    whole table was refused (nothing is checked).
    """
    if unsure is None:
        return
    T = inst.tables
    io = T["process_io"]
    label = inst.label("process_io")
    # the reference rows of each process, in file order: one pass over the table instead of
    # one filter a process
    ref = io[io["reference"].astype(bool)]
    ref_lines: dict[Any, list] = {}
    for ln, p in zip(ref.index, ref["process"]):
        ref_lines.setdefault(p, []).append(ln)
    coef = ref["coefficient"]
    off = set(ref.index[(coef != 1).to_numpy(dtype=bool)]) if coefficients else set()
    if not counts and not off:
        return
    for p in sorted(set(T["processes"]["process"])):
        if p in unsure:
            continue
        lines = ref_lines.get(p, [])
        if counts and len(lines) != 1:
            pline = int(T["processes"].index[T["processes"]["process"] == p][0])
            listed = ", ".join(str(int(x)) for x in lines) or "none"
            problems.append(Problem(inst.label("processes"), f"process '{p}' must have exactly one reference row in process_io.csv (found {len(lines)}: rows {listed})", row=pline, column="process"))
        for ln in lines:
            if ln in off:
                problems.append(Problem(label, "the reference row's coefficient must be 1", row=int(ln), column="coefficient", value=float(ref.at[ln, "coefficient"])))


def _check_io_directions(inst: Instance, problems: list[Problem]) -> None:
    """A process does not both consume and produce one commodity."""
    io = inst.tables["process_io"]
    label = inst.label("process_io")
    # one pass over the groups (a row-by-row search took minutes on a file of thousands of rows)
    both = []
    for (p, c), grp in io[io.duplicated(["process", "commodity"], keep=False)].groupby(["process", "commodity"], sort=False):
        if set(grp["direction"]) == {"in", "out"}:
            both.append((int(grp.index[-1]), p, c))
    for ln, p, c in sorted(both):
        problems.append(Problem(label, f"process '{p}' both consumes and produces '{c}'; state the net coefficient once", row=ln, column="commodity"))


def _check_policy_rows(inst: Instance, problems: list[Problem]) -> None:
    """Each policy row names what it limits; the rows of a policy share one kind and do not mix
    an every-year row with rows for single years."""
    pol = inst.tables["policies"]
    label = inst.label("policies")
    for ln, row in zip(pol.index, pol.to_dict("records")):
        sums, selector, _ = POLICY_KINDS[row["kind"]]
        if _is_blank(row[selector]) or row[selector] == "":
            problems.append(Problem(label, f"kind {row['kind']} needs the {sums} it limits: name {selector} (or *)", row=int(ln), column=selector))
        if row["kind"] != "max_trade" and not _is_blank(row["destinations"]) and row["destinations"] not in ("", "*"):
            problems.append(Problem(label, f"destinations apply only to kind max_trade, not {row['kind']}", row=int(ln), column="destinations"))
    for policy, grp in pol.groupby("policy", sort=False):
        if grp["kind"].nunique() > 1:
            problems.append(Problem(label, f"rows of policy '{policy}' must share one kind (found {', '.join(grp['kind'].unique())})", row=int(grp.index[1]), column="kind"))
        if grp["year"].isna().any() and len(grp) > 1:
            problems.append(Problem(label, f"policy '{policy}' has a row for every year (blank year) and other rows too", row=int(grp.index[grp['year'].isna()][0]), column="year"))


def _check_unmet_penalty(inst: Instance, problems: list[Problem]) -> None:
    """An instance-wide unmet penalty, or one for each demanded commodity."""
    if inst.unmet_penalty is None:
        T = inst.tables
        commodities = set(T["commodities"]["commodity"])
        dem = T["demand"]
        com = T["commodities"].set_index("commodity")
        for c in sorted(set(dem.loc[dem["quantity"] > 0, "commodity"]) & commodities):
            if _is_blank(com.at[c, "unmet_penalty"]) if "unmet_penalty" in com.columns else True:
                problems.append(Problem("instance.yaml", f"commodity '{c}' is demanded but has no unmet_penalty: set unmet_penalty in instance.yaml or in commodities.csv", column="unmet_penalty"))


# the numeric columns (besides years) that a cross-table check reads, and the check reading them;
# every other int/float column is checked only for its range, which _apply_change does
_VALUE_CHECKS = {
    ("process_io", "coefficient"): "reference_coefficients",
    ("demand", "quantity"): "unmet_penalty",
    ("commodities", "unmet_penalty"): "unmet_penalty",
    ("instance", "unmet_penalty"): "unmet_penalty",
}


def _value_checks(changes: list) -> set[str] | None:
    """The cross-table checks that ``changes`` (already applied without problems) can make fail:
    a set of names from ``_VALUE_CHECKS`` when every change sets or scales numbers of an int or
    float column other than a year; None (run every check) for anything else: names, lists,
    text, booleans, years, and settings other than ``unmet_penalty``."""
    needed: set[str] = set()
    for ch in changes:
        if not isinstance(ch, Mapping):
            return None
        table, column = ch.get("table"), ch.get("column")
        if not isinstance(table, str) or not isinstance(column, str):
            return None
        if table == "instance":
            if (table, column) not in _VALUE_CHECKS:
                return None
        else:
            schema = TABLES.get(table)
            if schema is None or column not in schema.column_names or column == "year":
                return None
            if schema.column(column).type not in ("int", "float"):
                return None
        if (table, column) in _VALUE_CHECKS:
            needed.add(_VALUE_CHECKS[(table, column)])
    return needed


def _check_scenarios(inst: Instance, problems: list[Problem], incomplete: Iterable[str] = ()) -> None:
    """Apply every named scenario to a copy. A ``where`` that matches nothing in a table with
    refused rows is not reported: the row it names may be one of those."""
    incomplete = set(incomplete)
    for name, body in inst.scenarios.items():
        trial = inst._shallow_copy()
        for i, ch in enumerate(body.get("changes") or [], 1):
            found: list[Problem] = []
            _apply_change(trial, ch, f"scenario '{name}', change {i}", found)
            if isinstance(ch, Mapping) and ch.get("table") in incomplete:
                found = [p for p in found if not (p.column == "where" and "matches" in p.message)]
            problems.extend(found)


def _apply_change(inst: Instance, ch: Any, where_from: str, problems: list[Problem], file: str = "instance.yaml") -> None:
    """Apply one change to ``inst``; problems go to the list, located in ``file`` (or the
    workbook sheet and row the change was read from).

    The changed table is replaced in ``inst.tables`` by a changed copy: the DataFrame it held
    is never written into, so instances sharing it (see :meth:`Instance._shallow_copy`) keep
    their values."""
    label = ch.get("_label", file) if isinstance(ch, Mapping) else file
    row = ch.get("_line") if isinstance(ch, Mapping) else None

    def bad(msg, column=None, value=None):
        problems.append(Problem(label, f"{where_from}: {msg}", row=row, column=column, value=value))

    if not isinstance(ch, Mapping):
        return bad("expected a mapping {table, where, column, scale | set}", value=ch)
    keys = {k for k in ch if not str(k).startswith("_")}
    unknown = keys - {"table", "where", "column", "scale", "set"}
    if unknown:
        return bad(f"unknown key(s) {', '.join(sorted(map(str, unknown)))} (expected table, where, column, scale, set)")
    table = ch.get("table")
    if table not in SCENARIO_TABLES:
        return bad(f"unknown table '{table}' (expected one of {', '.join(SCENARIO_TABLES)})", column="table", value=None)
    column = ch.get("column")
    has_scale, has_set = "scale" in ch, "set" in ch
    if has_scale == has_set:
        return bad("give exactly one of scale or set")
    if table == "instance":
        if column not in SCALAR_CHANGES:
            return bad(f"unknown setting '{column}' (changeable: {', '.join(SCALAR_CHANGES)})", column="column")
        cur = getattr(inst, column)
        try:
            v = float(ch["set"]) if has_set else float(ch["scale"]) * float(cur if cur is not None else float("nan"))
            if math.isnan(v) or math.isinf(v):
                raise ValueError
        except (TypeError, ValueError):
            return bad("expected a finite number", column="set" if has_set else "scale", value=ch.get("set", ch.get("scale")))
        test, says = SETTING_RANGES[column]  # every changeable setting has its range
        if not test(v):
            return bad(f"setting '{column}' {says} (the change gives {v:g})", column="set" if has_set else "scale",
                       value=ch.get("set", ch.get("scale")))
        setattr(inst, column, SCALAR_CHANGES[column](v))
        return
    schema = TABLES[table]
    df = inst.tables[table]
    if column not in schema.column_names:
        return bad(f"table '{table}' has no column '{column}' (columns: {', '.join(schema.column_names)})", column="column", value=None)
    col = schema.column(column)
    where = ch.get("where") or {}
    if not isinstance(where, Mapping):
        return bad("'where' must be a mapping column: value", column="where", value=where)
    mask = pd.Series(True, index=df.index)
    for wc, wv in where.items():
        if wc not in schema.column_names and wc not in df.columns:
            return bad(f"table '{table}' has no column '{wc}' to select on", column="where", value=None)
        cells = df[wc]
        if wc in schema.column_names and schema.column(wc).type in ("int", "float"):
            try:
                target = float(wv)
            except (TypeError, ValueError):
                return bad(f"'{wc}' is numeric; cannot select on {wv!r}", column="where")
            m = cells.astype("float64") == target
        elif wc in schema.column_names and schema.column(wc).type == "bool":
            m = cells == (str(wv).strip().lower() in TRUE)
        else:
            m = cells.astype(str) == str(wv)
        mask &= m.fillna(False).astype(bool)
    if not mask.any():
        sel = ", ".join(f"{k}={v}" for k, v in where.items())
        return bad(f"no row of '{table}' matches {sel or 'anything'}", column="where", value=None)
    if has_scale:
        if col.type not in ("int", "float"):
            return bad(f"cannot scale column '{column}' (not numeric)", column="scale")
        try:
            k = float(ch["scale"])
            if math.isnan(k) or math.isinf(k) or isinstance(ch["scale"], bool):
                raise ValueError
        except (TypeError, ValueError):
            return bad("scale must be a finite number", column="scale", value=ch["scale"])
        new = df.loc[mask, column].astype("float64") * k
        if col.type == "int":
            new = new.round()
        values = new.tolist()
        # the first out-of-range result, found without a Python call a row; a blank (NaN)
        # result is not checked
        arr = new.to_numpy(dtype="float64")
        out = ~np.isnan(arr) & (
            np.isinf(arr)
            | (arr < col.min if col.min is not None else False)
            | (arr <= col.gt if col.gt is not None else False)
            | (arr > col.max if col.max is not None else False)
        )
        suspects = [values[int(np.argmax(out))]] if out.any() else []
    else:
        text = "" if ch["set"] is None else _cell_text(ch["set"])
        try:
            v = parse_cell(col, text)
        except _Bad as e:
            return bad(f"set: {e}", column="set", value=ch["set"])
        values = [v] * int(mask.sum())
        suspects = [v]
    for v in suspects:
        if _is_blank(v):
            continue
        try:
            if col.type in ("int", "float"):
                check_range(col, v)
        except _Bad as e:
            return bad(f"the result for column '{column}' is invalid: {e}", value=v)
    # write into a copy: the table held now may be shared with other instances
    df = df.copy()
    if col.type == "int":
        df[column] = df[column].astype("Int64")
        df.loc[mask, column] = pd.array([None if _is_blank(v) else int(v) for v in values], dtype="Int64")
    elif col.type == "float":
        df.loc[mask, column] = [float("nan") if _is_blank(v) else float(v) for v in values]
    else:
        df.loc[mask, column] = values
    inst.tables[table] = df
