"""Scenario changes: ``{table, where, column, scale | set}`` applied to an instance's tables
(``instance.yaml``'s scenarios, :meth:`Instance.with_changes`), each checked as it is applied."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import numpy as np
import pandas as pd

from .cells import TRUE, _Bad, _cell_text, _is_blank, check_range, parse_cell
from .errors import Problem, did_you_mean
from .schema import TABLES

SCENARIO_TABLES = tuple(TABLES) + ("instance",)
SCALAR_CHANGES = {"discount_rate": float, "unmet_penalty": float, "base_year": int}
#: the range of each numeric setting: (test, what the message says when it fails)
SETTING_RANGES = {"discount_rate": (lambda x: -1 < x <= 1, "must lie in (-1, 1]"),
                  "unmet_penalty": (lambda x: x >= 0, "must be >= 0"),
                  "base_year": (lambda x: x == int(x), "must be a whole number")}

if TYPE_CHECKING:
    from .instance import Instance




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
        problems.append(Problem(label, f"{where_from}: {msg}" if where_from else msg, row=row, column=column, value=value))

    if not isinstance(ch, Mapping):
        return bad("expected a mapping {table, where, column, scale | set}", value=ch)
    keys = {k for k in ch if not str(k).startswith("_")}
    unknown = keys - {"table", "where", "column", "scale", "set"}
    if unknown:
        return bad(f"unknown key(s) {', '.join(sorted(map(str, unknown)))} (expected table, where, column, scale, set)")
    table = ch.get("table")
    if table not in SCENARIO_TABLES:
        return bad(f"unknown table '{table}' (expected one of {', '.join(SCENARIO_TABLES)}){did_you_mean(table, SCENARIO_TABLES)}",
                   column="table", value=None)
    column = ch.get("column")
    has_scale, has_set = "scale" in ch, "set" in ch
    if has_scale == has_set:
        return bad("give exactly one of scale or set")
    if table == "instance":
        if column not in SCALAR_CHANGES:
            return bad(f"unknown setting '{column}' (changeable: {', '.join(SCALAR_CHANGES)}){did_you_mean(column, SCALAR_CHANGES)}",
                       column="column")
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
        return bad(f"table '{table}' has no column '{column}' (columns: {', '.join(schema.column_names)})"
                   f"{did_you_mean(column, schema.column_names)}", column="column", value=None)
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

