"""Instances: a validated planning instance (SPEC section 1), loaded from a folder or workbook.

An :class:`Instance` holds typed tables (pandas DataFrames whose index is the line number of
each row in its file, so every later message can point at the row) and the scalar settings.
Every problem found is collected and raised together as one :class:`InstanceError`. Reading is
in :mod:`rechain.model.reading`, the checks in :mod:`rechain.model.validation`, scenario
changes in :mod:`rechain.model.changes` and the atomic folder writer in
:mod:`rechain.model.atomic`.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd
import yaml

from .atomic import atomic_write_folder
from .cells import _is_blank, empty_table, expand, normalise_list, parse_cell, table_to_text  # noqa: F401  (public here too)
from .changes import SCALAR_CHANGES, SCENARIO_TABLES, SETTING_RANGES, _apply_change, _check_scenarios, discount_problems  # noqa: F401
from .errors import InstanceError, Problem, did_you_mean
from .reading import _parse_settings, _parse_table, _read_source
from .schema import TABLE_ORDER, TABLES
from .validation import VALUE_CHECKS, _check_large_values, _check_reference_rows, _check_references, _check_unmet_penalty, _value_checks  # noqa: F401


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
    format_version: int = 1  # as the settings say (1 or 2); a v1 instance means the same in v2
    warnings: list = field(default_factory=list)  # problems found that do not block solving

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

    def _shallow_copy(self, scenarios: bool = True) -> "Instance":
        """A copy that shares the table DataFrames of ``self`` (the settings, lists and mappings
        are copied; with ``scenarios`` False the scenarios are shared, for a trial copy that
        never changes them). A shared table must never be written into: code that changes a
        table puts a changed copy in its place (as :func:`_apply_change` does)."""
        return replace(
            self,
            tables=dict(self.tables),
            units=dict(self.units),
            sources=[dict(s) for s in self.sources],
            scenarios=copy.deepcopy(self.scenarios) if scenarios else self.scenarios,
            applied=list(self.applied),
            labels=dict(self.labels),
            warnings=list(self.warnings),
        )

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.tables.items() if len(v))
        scen = f", scenario={self.scenario!r}" if self.applied else ""
        return f"Instance({self.name!r}, years={self.first_year}-{self.last_year}{scen}, {sizes})"

    # -- scenarios and changes -------------------------------------------------------------
    def with_scenario(self, *names: str, source: str | None = None) -> "Instance":
        """A copy with the named scenarios of ``instance.yaml`` applied, in the order given.

        An unknown name is a problem located at ``source`` (what asked for it: ``--scenario``
        on the command line; default: the settings, where scenarios are named); a change of a
        scenario that does not fit, at the scenario in the settings (``instance.yaml``, or the
        workbook's ``scenarios`` sheet)."""
        inst = self
        for name in names:
            if name not in self.scenarios:
                known = ", ".join(sorted(self.scenarios)) or "none"
                raise InstanceError([Problem(source or self.settings_label, f"no scenario named '{name}' in {self.settings_label} (known: {known})"
                                                     f"{did_you_mean(name, self.scenarios)}", column=None if source else "scenarios")])
            inst = inst.with_changes(self.scenarios[name].get("changes") or [], label=name, where_from=f"scenario '{name}'",
                                     file=self.settings_label)
        return inst

    @property
    def settings_label(self) -> str:
        """Where the settings were read: ``instance.yaml``, or ``book.xlsx[instance]``."""
        return self.labels.get("instance", "instance.yaml")

    def with_changes(self, changes: Iterable[Mapping] | Mapping, label: str | None = None, where_from: str | None = None,
                     file: str | None = None) -> "Instance":
        """A copy with scenario-style changes applied, in order.

        Each change is a mapping ``{table, where, column, scale | set}`` as in ``instance.yaml``:
        ``where`` selects rows by column equality (``{}`` or absent: every row), then ``column``
        is multiplied by ``scale`` or replaced by ``set``. ``table: instance`` changes a scalar
        setting (``discount_rate``, ``unmet_penalty``, ``base_year``).

        A change that does not fit raises :class:`InstanceError` naming it (``change 2``, after
        ``where_from`` when given; ``where_from=""`` names no change, for a single change
        whose ``file`` says what it is), located at ``file``: by default ``with_changes`` for
        changes made in code and ``instance.yaml`` for those given a ``where_from`` (a named
        scenario); an option such as ``--set '...'`` on the command line.

        The copy shares with ``self`` the DataFrames of the tables no change touches: to write
        into a table of the result in place, take :meth:`copy` of it first.
        """
        changes = [changes] if isinstance(changes, Mapping) else list(changes)
        # the copy shares every table no change touches (a changed table is replaced by a
        # changed copy), so a sweep of thousands of changes does not copy the whole instance
        inst = self._shallow_copy()
        problems: list[Problem] = []
        file = file or ("instance.yaml" if where_from else "with_changes")
        for i, ch in enumerate(changes, 1):
            _apply_change(inst, ch, f"{where_from}, change {i}" if where_from else "" if where_from == "" else f"change {i}",
                          problems, file=file)
        if any(isinstance(ch, Mapping) and ch.get("table") == "instance" for ch in changes):
            problems.extend(discount_problems(inst.first_year, inst.last_year, inst.base_year, inst.discount_rate, file,
                                              where_from or "with_changes"))
        remarks = [p for p in problems if p.severity != "error"]
        problems = [p for p in problems if p.severity == "error"]
        if problems:
            raise InstanceError(problems)
        inst.warnings.extend(p for p in remarks if p not in inst.warnings)
        # numbers (not names, years or flags) changed: only the checks reading those numbers can
        # newly fail; the ranges of the new values were checked as they were applied
        needed = _value_checks(changes)
        if needed is None:
            _check_references(inst, problems)
        else:
            if "reference_coefficients" in needed:
                _check_reference_rows(inst, problems, counts=False)
            for name in sorted(needed - {"reference_coefficients"}):
                VALUE_CHECKS[name](inst, problems)
        if problems:
            raise InstanceError(problems)
        inst.applied.append(label or f"changes{len(inst.applied) + 1}")
        return inst

    def with_years(self, first: int | None = None, last: int | None = None, source: str | None = None) -> "Instance":
        """A copy restricted to a sub-horizon; rows of years outside it are dropped. Years
        outside the horizon are a problem located at ``source`` (``--years`` on the command
        line; default: the settings' ``years``)."""
        first = self.first_year if first is None else int(first)
        last = self.last_year if last is None else int(last)
        if not (self.first_year <= first <= last <= self.last_year):
            raise InstanceError([Problem(source or self.settings_label, f"years {first}:{last} are not within the instance's horizon "
                                                                        f"{self.first_year}:{self.last_year}" +
                                         (f" ({self.settings_label}, years)" if source else ""), column=None if source else "years")])
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
        version = max(self.format_version, 2 if v2_additions(self) else 1)
        out: dict[str, Any] = {"format_version": version, "name": self.name, "title": self.title}
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
                    "changes": [{kk: vv for kk, vv in c.items() if not str(kk).startswith("_")} for c in v.get("changes", [])]}
                for k, v in self.scenarios.items()
            }
        return out

    def to_folder(self, path: str | os.PathLike, overwrite: bool = False, replaceable=None) -> Path:
        """Write the instance as a folder (instance.yaml plus one CSV a table), atomically
        (``replaceable`` as in :func:`rechain.model.atomic.atomic_write_folder`)."""
        path = Path(path)

        def write(tmp: Path) -> None:
            with open(tmp / "instance.yaml", "w", encoding="utf-8") as f:
                yaml.safe_dump(self.settings(), f, sort_keys=False, allow_unicode=True)
            for name in TABLE_ORDER:
                df = self.tables.get(name)
                if df is None or (len(df) == 0 and not TABLES[name].required):
                    continue
                table_to_text(name, df).to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")

        atomic_write_folder(path, write, overwrite=overwrite, replaceable=replaceable)
        return path

    def to_xlsx(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write the instance as one ``.xlsx`` workbook, atomically (SPEC section 1): the sheet
        ``instance`` (``key,value``, nested settings under dotted keys such as ``years.first``),
        a sheet per table with the columns of its CSV file, and ``sources`` and ``scenarios``
        when there are any. Loading the workbook gives this instance back. An existing
        workbook is replaced only with ``overwrite``; a file that is not a workbook never."""
        from .workbook import write_workbook  # imports openpyxl: only for a workbook

        return write_workbook(self, path, overwrite=overwrite)



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
    lines: dict[str, int] = {}  # the line of each setting, by its path (years.first)
    raws, settings, default_name, problems = _read_source(Path(path), lines)
    is_book = Path(path).suffix.lower() in (".xlsx", ".xlsm")
    tables: dict[str, pd.DataFrame] = {}
    labels: dict[str, str] = {}
    # tables that lack rows of their file: None when the whole table is unusable (missing, bad
    # header), else the names (first column) on its refused rows; checks against those skip them
    incomplete: dict[str, set[str] | None] = {}
    for name, table in TABLES.items():
        there = name in raws  # a file that is there but could not be read is None: its problems are listed
        raw = raws.pop(name, None)
        label = raw.label if raw else (f"{Path(path).name}[{name}]" if is_book else table.file)
        labels[name] = label
        if raw is None:
            if there:
                incomplete[name] = None
            elif table.required:
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
            if raw is None:  # there, but not read: its problems are listed
                continue
            sheets = list(TABLES) + ["instance", "sources", "scenarios"]
            problems.append(Problem(raw.label, f"unknown sheet '{name}' (expected: {', '.join(sheets)}){did_you_mean(name, sheets)}"))
    settings_label = "instance.yaml" if not is_book else f"{Path(path).name}[instance]"
    n = len(problems)
    s = _parse_settings(settings or {}, default_name, problems, settings_label) if settings is not None else None
    problems[n:] = [_at_line(p, lines) for p in problems[n:]]
    if s is None:
        raise InstanceError(problems or [Problem(settings_label, "no settings")])
    labels["instance"] = settings_label
    inst = Instance(tables=tables, labels=labels, origin=str(path), **s)
    # cross-table checks run even when cells were refused, so one load reports every problem
    _check_references(inst, problems, incomplete)
    _check_large_values(inst, problems)
    _check_scenarios(inst, problems, incomplete)
    if inst.format_version < 2 and (used := v2_additions(inst)):
        problems.append(Problem(settings_label,
                                f"uses format v2 additions ({', '.join(used)}) but says format_version {inst.format_version}: "
                                "say format_version: 2", column="format_version", severity="warning"))
    if any(p.severity == "error" for p in problems):
        raise InstanceError(problems)
    inst.warnings = [p for p in problems if p.severity != "error"] + demand_warnings(inst)
    return inst


def demand_warnings(inst: Instance) -> list[Problem]:
    """A warning when the instance demands nothing (no demand row, or every quantity 0): its
    least-cost plan builds and runs nothing, which is rarely what was meant (a missing or
    misnamed demand file or sheet)."""
    dem = inst.tables["demand"]
    if (dem["quantity"] > 0).any():
        return []
    what = "sheet" if inst.label("demand").endswith("]") else "file"
    return [Problem(inst.label("demand"), f"the instance demands nothing (no {what}, or no row with a quantity above 0): "
                                          "its least-cost plan builds and runs nothing", severity="warning")]


def _at_line(p: Problem, lines: dict[str, int]) -> Problem:
    """A problem with a setting, located at the line of the setting it names (its column)."""
    if p.row is None and p.column is not None and p.column in lines:
        return replace(p, row=lines[p.column])
    return p


def v2_additions(inst: Instance) -> list[str]:
    """The format v2 additions (SPEC section 4) an instance uses, in words."""
    T = inst.tables
    out = [f"{name}.csv" for name in ("storage", "demand_response", "process_costs") if len(T[name])]
    io, pro, pol = T["process_io"], T["processes"], T["policies"]
    if "delay" in io.columns and (io["delay"].fillna(0) > 0).any():
        out.append("delayed outputs")
    if "capacity" in pro.columns and (~pro["capacity"].astype(bool)).any():
        out.append("processes without plant")
    new_kinds = sorted(set(pol["kind"]) & {"max_share", "min_share", "min_trade", "min_stock", "max_stock"})
    out += [f"policy kind {k}" for k in new_kinds]
    return out


