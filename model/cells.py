"""Cells of an instance's tables: typed values from text and back (SPEC section 1)."""

from __future__ import annotations

import math
import re
from typing import Any, Iterable

import numpy as np
import pandas as pd

from .schema import RESERVED_NAMES, TABLES, Column, Table

TRUE = {"true", "yes", "y", "1", "x", "t"}
#: above this magnitude a figure swamps every other cost or limit in floating point: a warning
LARGE = 1e15
#: HiGHS reads a number of this magnitude or more as infinite: an error wherever it comes from
INFINITE = 1e20
#: the years a year column or setting may name
YEARS = (1900, 2200)
FALSE = {"false", "no", "n", "0", "f", ""}


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
        if col.type == "name" and not (col.star and s == "*") and (why := reserved_name(s)):
            raise _Bad(why)
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
        raise _Bad("expected a number" + decimal_comma_hint(s)) from None
    if math.isnan(x) or math.isinf(x):
        raise _Bad("expected a finite number")
    if col.type == "int":
        if x != int(x) or abs(x) > 1e9:
            raise _Bad("expected a whole number")
        x = int(x)
    check_range(col, x)
    return x


_DECIMAL_COMMA = re.compile(r"[-+]?(\d{1,3}(\.\d{3})+|\d+),\d+")


def decimal_comma_hint(text: str) -> str:
    """`` (decimal comma? write 1234.5)`` for a number written the European way (``1,5``,
    ``1.234,5``), else ``""``."""
    s = text.strip()
    if not _DECIMAL_COMMA.fullmatch(s):
        return ""
    return f" (decimal comma? write {s.replace('.', '').replace(',', '.')}, with a point)"


def reserved_name(name: str) -> str | None:
    """Why ``name`` (stripped) cannot name a region, commodity, process, policy or scenario;
    None when it can."""
    if name == "*":
        return "'*' stands for every name and cannot be one"
    if name in RESERVED_NAMES:
        return f"'{name}' is read as a missing value by pandas and spreadsheets and cannot be a name"
    if not name:
        return "a name cannot be blank"
    return None


def check_range(col: Column, x: float) -> None:
    """Raise _Bad when ``x`` is outside the range of ``col`` (or any number's: finite, below
    :data:`INFINITE`; a year in :data:`YEARS`)."""
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        raise _Bad("expected a finite number")
    if abs(x) >= INFINITE:
        raise _Bad(f"expected a number below {INFINITE:g} in magnitude (the solver reads larger ones as infinite)")
    if col.type == "int" and abs(x) > 1e9:
        raise _Bad("expected a whole number of at most 1e9 in magnitude")
    if col.horizon and not YEARS[0] <= x <= YEARS[1]:
        raise _Bad(f"expected a year in {YEARS[0]}-{YEARS[1]}")
    if col.min is not None and x < col.min:
        raise _Bad(f"expected a number >= {col.min:g}")
    if col.gt is not None and x <= col.gt:
        raise _Bad(f"expected a number > {col.gt:g}")
    if col.max is not None and x > col.max:
        raise _Bad(f"expected a number <= {col.max:g}")


def out_of_range(col: Column, arr: np.ndarray) -> np.ndarray:
    """Where the numbers ``arr`` of column ``col`` fail :func:`check_range` (a blank, NaN, is
    never out of range): one vectorised test instead of a call a value."""
    arr = np.asarray(arr, dtype="float64")
    with np.errstate(invalid="ignore"):
        out = ~np.isnan(arr) & (np.isinf(arr) | (np.abs(arr) >= INFINITE))
        if col.min is not None:
            out |= arr < col.min
        if col.gt is not None:
            out |= arr <= col.gt
        if col.max is not None:
            out |= arr > col.max
        if col.horizon:
            out |= (arr < YEARS[0]) | (arr > YEARS[1])
        if col.type == "int":
            out |= (np.abs(arr) > 1e9) | (arr != np.round(arr))
    return out & ~np.isnan(arr)


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
        if col.default is not None:
            vals = [col.default if _is_blank(v) else v for v in vals]
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



def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)



def table_to_text(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """A typed table as text cells: blanks empty, floats exact, booleans true/false."""
    out = pd.DataFrame(index=range(len(df)))
    for c in df.columns:
        col = TABLES[name].column(c) if c in TABLES[name].column_names else None
        vals = df[c].tolist()
        if col is not None and not col.required and all(_is_blank(v) or v == col.default for v in vals):
            continue  # an optional column holding only its default: a v1 file stays as it was
        if col is not None and col.type == "bool":
            out[c] = ["true" if v else "false" for v in vals]
        elif col is not None and col.type == "float":
            out[c] = ["" if _is_blank(v) else repr(float(v)) for v in vals]
        elif col is not None and col.type == "int":
            out[c] = ["" if _is_blank(v) else str(int(v)) for v in vals]
        else:
            out[c] = ["" if _is_blank(v) else str(v) for v in vals]
    return out


