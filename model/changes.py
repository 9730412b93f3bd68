"""Scenario changes: ``{table, where, column, scale | set}`` applied to an instance's tables
(``instance.yaml``'s scenarios, :meth:`Instance.with_changes`), each checked as it is applied."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import numpy as np
import pandas as pd

from .cells import INFINITE, LARGE, TRUE, YEARS, _Bad, _cell_text, _is_blank, check_range, out_of_range, parse_cell
from .errors import Problem, did_you_mean
from .schema import TABLES

SCENARIO_TABLES = tuple(TABLES) + ("instance",)
SCALAR_CHANGES = {"discount_rate": float, "unmet_penalty": float, "base_year": int}
#: the range of each numeric setting: (test, what the message says when it fails)
SETTING_RANGES = {"discount_rate": (lambda x: -0.5 < x < 1, "must lie in (-0.5, 1)"),
                  "unmet_penalty": (lambda x: 0 <= x < INFINITE, f"must be >= 0 and below {INFINITE:g}"),
                  "base_year": (lambda x: x == int(x) and YEARS[0] <= x <= YEARS[1],
                                f"must be a whole number, a year in {YEARS[0]}-{YEARS[1]}")}
#: settings whose value is allowed but worth a word: (test of a value to warn about, the word)
SETTING_WARNINGS = {"discount_rate": (lambda x: x < 0, "is negative: a cost weighs more the later it falls")}
#: the discount factors (1 + rate)^-(year - base_year) of the horizon stay within these: beyond,
#: costs of some years vanish against those of others (and the solver stops without an answer)
DISCOUNT_FACTORS = (1e-12, 1e12)


def setting_problems(name: str, value: float, file: str, column: str | None = None, shown: Any = None) -> list[Problem]:
    """The range problem (an error) or remark (a warning) of value ``value`` of setting ``name``."""
    test, says = SETTING_RANGES[name]
    if not test(value):
        return [Problem(file, f"setting '{name}' {says}", column=column or name, value=value if shown is None else shown)]
    if name in SETTING_WARNINGS and SETTING_WARNINGS[name][0](value):
        return [Problem(file, f"setting '{name}' {SETTING_WARNINGS[name][1]}", column=column or name, value=value,
                        severity="warning")]
    return []


def discount_problems(first: int, last: int, base: int, rate: float, file: str, where_from: str = "") -> list[Problem]:
    """A located error when a discount factor of the horizon leaves :data:`DISCOUNT_FACTORS`."""
    if not -1 < rate or not rate:
        return []  # the rate's own range is reported
    # log10 of the factors of the first and last years: the largest in magnitude is at one end
    worst = max((-(y - base) * math.log10(1.0 + rate) for y in (first, last)), key=abs)
    if abs(worst) <= -math.log10(DISCOUNT_FACTORS[0]):
        return []
    head = f"{where_from}: " if where_from else ""
    return [Problem(file, f"{head}base_year {base} with discount_rate {rate:g} discounts a year of the horizon {first}-{last} "
                          f"by a factor of about 1e{worst:+.0f} (expected {DISCOUNT_FACTORS[0]:g} to {DISCOUNT_FACTORS[1]:g}): "
                          "bring base_year nearer the horizon or lower the rate", column="base_year", value=base)]


if TYPE_CHECKING:
    from .instance import Instance




#: characters that separate scenario names where several are selected ("a+b", "a,b")
NAME_SEPARATORS = "+,"


class LocatedChange(dict):
    """A change read from a row of a workbook's ``scenarios`` sheet: a plain change mapping that
    also knows where it was read (``located``: sheet label, line), so its problems point there.
    The place is an attribute, not a key: every key of a change is one a user may write."""

    located: tuple[str, int] | None = None


def scenario_name_problem(name: Any, file: str = "instance.yaml") -> Problem | None:
    """A scenario name that cannot be selected (``--scenario a+b`` splits on ``+``)."""
    text = str(name)
    bad = sorted({c for c in text if c in NAME_SEPARATORS})
    if bad or not text.strip() or text != text.strip():
        why = f"holds {' and '.join(repr(c) for c in bad)}, which separate{'s' if len(bad) == 1 else ''} scenario names where several are selected" \
            if bad else "is blank or starts or ends with a space"
        return Problem(file, f"scenario name '{text}' {why}: it could not be selected; rename it", column="scenarios", value=text)
    return None


def _check_scenarios(inst: Instance, problems: list[Problem], incomplete: Iterable[str] = ()) -> None:
    """Apply every named scenario to a copy. A ``where`` that matches nothing in a table with
    refused rows is not reported: the row it names may be one of those.

    Each trial shares the instance's tables and scenarios (a change replaces a table, never
    writes into it, and never touches the scenarios), so the work grows with the number of
    changes, not with the square of the number of scenarios."""
    incomplete = set(incomplete)
    for name, body in inst.scenarios.items():
        changes = body.get("changes") or []
        if (p := scenario_name_problem(name)) is not None:
            # read from a workbook: the sheet and row of the scenario's first change
            where = next((c.located for c in changes if getattr(c, "located", None)), None)
            problems.append(p if where is None else replace(p, file=where[0], row=where[1], column="scenario"))
        trial = inst._shallow_copy(scenarios=False)
        for i, ch in enumerate(changes, 1):
            found: list[Problem] = []
            _apply_change(trial, ch, f"scenario '{name}', change {i}", found)
            if isinstance(ch, Mapping) and ch.get("table") in incomplete:
                found = [p for p in found if not (p.column == "where" and "matches" in p.message)]
            problems.extend(found)
        if any(isinstance(ch, Mapping) and ch.get("table") == "instance" for ch in changes):
            problems.extend(discount_problems(trial.first_year, trial.last_year, trial.base_year, trial.discount_rate,
                                              "instance.yaml", f"scenario '{name}'"))


CHANGE_KEYS = ("table", "where", "column", "scale", "set")


def _apply_change(inst: Instance, ch: Any, where_from: str, problems: list[Problem], file: str = "instance.yaml") -> None:
    """Apply one change to ``inst``; problems go to the list, located in ``file`` (or the
    workbook sheet and row the change was read from, :class:`LocatedChange`).

    Every value passes the checks a value read from a file passes (its column's type and
    range, a setting's range) and gets a located error, never an exception; a value above
    :data:`~rechain.model.cells.LARGE` is a warning. A key column (the columns that say which
    row is which, e.g. a demand row's commodity, region and year) cannot be changed: that
    would rename or merge rows.

    The changed table is replaced in ``inst.tables`` by a changed copy: the DataFrame it held
    is never written into, so instances sharing it (see :meth:`Instance._shallow_copy`) keep
    their values."""
    label, row = getattr(ch, "located", None) or (file, None)

    def bad(msg, column=None, value=None, severity="error"):
        problems.append(Problem(label, f"{where_from}: {msg}" if where_from else msg, row=row, column=column,
                                value=_shown(value), severity=severity))

    if not isinstance(ch, Mapping):
        return bad("expected a mapping {table, where, column, scale | set}", value=ch)
    unknown = [k for k in ch if k not in CHANGE_KEYS]
    if unknown:
        return bad(f"unknown key(s) {', '.join(sorted(map(str, unknown)))} (expected table, where, column, scale, set)")
    table = ch.get("table")
    if not isinstance(table, str) or table not in SCENARIO_TABLES:
        return bad(f"unknown table '{table}' (expected one of {', '.join(SCENARIO_TABLES)}){did_you_mean(table, SCENARIO_TABLES)}",
                   column="table", value=None)
    column = ch.get("column")
    has_scale, has_set = "scale" in ch, "set" in ch
    if has_scale == has_set:
        return bad("give exactly one of scale or set")
    how = "set" if has_set else "scale"
    if table == "instance":
        if not isinstance(column, str) or column not in SCALAR_CHANGES:
            return bad(f"unknown setting '{column}' (changeable: {', '.join(SCALAR_CHANGES)}){did_you_mean(column, SCALAR_CHANGES)}",
                       column="column")
        cur = getattr(inst, column)
        try:
            given = ch[how]
            if isinstance(given, bool):
                raise ValueError
            v = float(given) if has_set else float(given) * float(cur if cur is not None else float("nan"))
            if math.isnan(v) or math.isinf(v):
                raise ValueError
        except (TypeError, ValueError, OverflowError):
            return bad("expected a finite number", column=how, value=ch.get("set", ch.get("scale")))
        test, says = SETTING_RANGES[column]  # every changeable setting has its range
        if not test(v):
            return bad(f"setting '{column}' {says} (the change gives {v:g})", column=how, value=ch[how])
        if column in SETTING_WARNINGS and SETTING_WARNINGS[column][0](v):
            bad(f"setting '{column}' {SETTING_WARNINGS[column][1]} (the change gives {v:g})", column=how, value=ch[how],
                severity="warning")
        setattr(inst, column, SCALAR_CHANGES[column](v))
        return
    schema = TABLES[table]
    df = inst.tables[table]
    if not isinstance(column, str) or column not in schema.column_names:
        return bad(f"table '{table}' has no column '{column}' (columns: {', '.join(schema.column_names)})"
                   f"{did_you_mean(column, schema.column_names)}", column="column", value=None)
    if column in schema.key:
        return bad(f"column '{column}' is part of the key of '{table}' ({', '.join(schema.key)}): a scenario changes "
                   f"values, not which row is which (select rows with 'where'; add or remove rows in {table}.csv)",
                   column="column", value=column)
    col = schema.column(column)
    where = ch.get("where") or {}
    if not isinstance(where, Mapping):
        return bad("'where' must be a mapping column: value", column="where", value=where)
    mask = pd.Series(True, index=df.index)
    for wc, wv in where.items():
        if wc not in schema.column_names and wc not in df.columns:
            return bad(f"table '{table}' has no column '{wc}' to select on{did_you_mean(wc, schema.column_names)}",
                       column="where", value=None)
        cells = df[wc]
        if wc in schema.column_names and schema.column(wc).type in ("int", "float"):
            try:
                target = float(wv)
            except (TypeError, ValueError, OverflowError):
                return bad(f"'{wc}' is numeric; cannot select on {_shown(wv)!r}", column="where")
            m = cells.astype("float64") == target
        elif wc in schema.column_names and schema.column(wc).type == "bool":
            m = cells == (str(_shown(wv)).strip().lower() in TRUE)
        else:
            m = cells.astype(str) == str(_shown(wv))
        mask &= m.fillna(False).astype(bool)
    if not mask.any():
        sel = ", ".join(f"{k}={_shown(v)}" for k, v in where.items())
        hint = ""
        for wc, wv in where.items():  # the first name no row holds: the names it may be a misspelling of
            names = set(df[wc].dropna().astype(str))
            if wc in schema.column_names and schema.column(wc).type == "name" and str(wv) not in names:
                hint = did_you_mean(wv, names, prefix=f"{wc}=")
                break
        empty = f" (the table '{table}' has no rows)" if not len(df) else ""
        return bad(f"no row of '{table}' matches {sel or 'anything'}{empty}{hint}", column="where", value=None)
    if has_scale:
        if col.type not in ("int", "float"):
            return bad(f"cannot scale column '{column}' (not numeric)", column="scale")
        try:
            k = float(ch["scale"])
            if math.isnan(k) or math.isinf(k) or isinstance(ch["scale"], bool):
                raise ValueError
        except (TypeError, ValueError, OverflowError):
            return bad("scale must be a finite number", column="scale", value=ch["scale"])
        with np.errstate(over="ignore", invalid="ignore"):
            new = df.loc[mask, column].astype("float64") * k
        if col.type == "int":
            new = new.round()
        values = new.tolist()
        # the first out-of-range result, found without a Python call a row; a blank (NaN)
        # result is not checked
        arr = new.to_numpy(dtype="float64")
        out = out_of_range(col, arr)
        suspects = [values[int(np.argmax(out))]] if out.any() else []
        big = np.abs(np.nan_to_num(arr)) > LARGE
        large = values[int(np.argmax(big))] if big.any() else None
    else:
        try:
            text = "" if ch["set"] is None else _cell_text(ch["set"])
            v = parse_cell(col, text)
        except _Bad as e:
            return bad(f"set: {e}", column="set", value=ch["set"])
        except (ValueError, OverflowError):  # e.g. an integer of thousands of digits
            return bad("set: expected a finite number", column="set", value=ch["set"])
        values = [v] * int(mask.sum())
        suspects = [v]
        large = v if col.type in ("int", "float") and not _is_blank(v) and abs(v) > LARGE else None
    for v in suspects:
        if _is_blank(v):
            continue
        try:
            if col.type in ("int", "float"):
                check_range(col, v)
        except _Bad as e:
            return bad(f"the result for column '{column}' is invalid: {e}", value=v)
    if large is not None:
        bad(f"the result for column '{column}' of '{table}' is above {LARGE:g} in magnitude: a figure this large swamps "
            "every other cost or limit (the solver may stop without an answer)", value=large, severity="warning")
    if col.default is not None:  # a blank means the column's default, as when the file is read
        values = [col.default if _is_blank(v) else v for v in values]
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


def _shown(value: Any) -> Any:
    """A value as a message shows it: an integer too long to read (or to print: Python refuses
    to turn one of thousands of digits into text) by its number of digits."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** 20:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    return value
