"""Writing results folders (CSV, Parquet or one Excel workbook) and reading them back.

A results folder holds:

- the tables of SPEC section 3: ``<table>.csv`` (format ``csv``, as ``Result.to_folder``
  writes them), ``<table>.parquet`` (``parquet``), or one workbook ``results.xlsx`` with a
  sheet per table (``xlsx``);
- ``summary.json``: status, objective, solver, timings, instance name, scenario, and the
  ``version`` of rechain that wrote it with the ``run_date`` (UTC, ISO 8601);
- ``instance/``: the instance exactly as solved (scenarios and ``--set``/``--scale`` changes
  applied), written by ``Instance.to_folder``; reports read process stages, commodity kinds and
  units, and demand from it, and ``rechain solve results/x/instance`` re-solves it.

Every folder is written atomically (a temporary sibling folder, then a rename), so an
interrupted write never leaves partial results.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from rechain.model import Instance, InstanceError, Problem, Result
from rechain.model.atomic import atomic_write_folder
from rechain.model.results import _NAME_COLUMNS as NAME_COLUMNS
from rechain.model.results import TABLE_COLUMNS, VALUE_COLUMNS
from rechain.model.workbook import FORMULA_START, WORKBOOK_DATE, fix_zip_dates  # noqa: F401  (shared with instance workbooks)

FORMATS = ("csv", "parquet", "xlsx")
WORKBOOK = "results.xlsx"


def write_tables(tables: dict[str, pd.DataFrame], folder: Path, fmt: str) -> None:
    """Write ``tables`` into an existing ``folder`` in format ``fmt``."""
    folder = Path(folder)
    if fmt == "csv":
        for name, df in tables.items():
            df.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n", float_format="%.10g")
    elif fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError as e:  # pragma: no cover - pyarrow is a dependency
            raise RuntimeError("writing Parquet needs pyarrow: pip install pyarrow") from e
        for name, df in tables.items():
            df.to_parquet(folder / f"{name}.parquet", index=False)
    elif fmt == "xlsx":
        write_workbook(tables, folder / WORKBOOK)
    else:
        raise ValueError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")


def write_workbook(tables: dict[str, pd.DataFrame], path: Path) -> None:
    """One sheet a table. A text cell starting with ``=``, ``+``, ``-`` or ``@`` is stored as
    text (a name is never a live formula); numbers stay numbers. The workbook's dates and its
    zip entries' times are fixed, so identical tables give a byte-identical file."""
    import datetime

    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        for name, df in tables.items():
            df.to_excel(xl, sheet_name=name[:31], index=False)
            ws = xl.book[name[:31]]
            for row in ws.iter_rows(min_row=1):
                for cell in row:
                    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                        cell.data_type = "s"
                        cell.quotePrefix = True
        when = datetime.datetime(*WORKBOOK_DATE)
        xl.book.properties.created = when
        xl.book.properties.modified = when
    fix_zip_dates(path, when)


def result_units(instance: Instance | None = None) -> pd.DataFrame:
    """What the numbers of each result table are in: one row a (table, column). A quantity's
    unit is on its row, in the table's ``unit`` column (the commodity's, or the reference
    commodity's for a process); money is the instance's ``units.money``."""
    money = (instance.units.get("money") if instance is not None else None) or "money"
    base = f" discounted to {instance.base_year}" if instance is not None else " discounted to the base year"
    per_unit = "the row's unit (per year)"
    said = {
        ("capacity", "residual"): f"{per_unit}: capacity built before the horizon",
        ("capacity", "new"): f"{per_unit}: capacity started in the year",
        ("capacity", "total"): per_unit,
        ("capacity", "utilisation"): "share of the available capacity used (0-1)",
        ("activity", "activity"): per_unit,
        ("prices", "price"): f"{money} per unit of the commodity (the row's unit), money of the year (undiscounted)",
        ("policies", "shadow_price"): f"{money} per unit more of the policy's value: per the row's unit, or per unit of share "
                                      "(0-1) for max_share and min_share; money of the year (undiscounted)",
        ("policies", "slack"): "the row's unit: what the policy's kind sums, in its items' unit",
        ("policies", "violation"): "the row's unit: what the policy's kind sums, in its items' unit",
        ("costs", "undiscounted"): f"{money}, money of the year",
        ("costs", "discounted"): f"{money}{base}",
        ("stock", "holding_cost"): f"{money} per unit held at the end of the year",
        ("demand_response", "share"): "share of the demand the step may leave unserved (0-1)",
        ("demand_response", "price"): f"{money} per unit left unserved in the step",
        ("investment", "capex"): f"{money} per unit of annual capacity",
        ("investment", "overnight"): f"{money} committed (capex x new; undiscounted, not annualised)",
    }
    rows = []
    for table, columns in TABLE_COLUMNS.items():
        if "year" in columns:
            rows.append((table, "year", "calendar year"))
        for c in VALUE_COLUMNS[table]:
            rows.append((table, c, said.get((table, c), per_unit)))
    return pd.DataFrame(rows, columns=["table", "column", "unit"])


def add_summary_sheets(book: Path, summary: dict, instance: Instance | None = None) -> None:
    """Add to a results workbook the sheet ``summary`` (``key,value``: status, objective, the
    instance, scenario, solver, the money unit and base year; a nested entry under a dotted
    key) and the sheet ``units`` (``table,column,unit``:
    what each number of the result tables is in), before the tables."""
    import openpyxl

    from rechain.model.workbook import put_rows, save_fixed

    def flat(prefix: str, v) -> list[list]:
        if isinstance(v, dict):
            return [r for k, x in v.items() for r in flat(f"{prefix}.{k}", x)]
        if isinstance(v, (list, tuple)):
            v = "; ".join(map(str, v))
        return [[prefix, v if isinstance(v, (int, float, str)) or v is None else str(v)]]

    wb = openpyxl.load_workbook(book)
    # timings and the run date stay in summary.json: the same results give the same workbook, byte for byte
    rows = [["key", "value"]] + [r for k, v in summary.items() if k not in ("timings", "run_date") for r in flat(k, v)]
    if instance is not None:
        rows += [["units.money", instance.units.get("money", "")], ["base_year", instance.base_year]]
    put_rows(wb.create_sheet("summary", 0), rows, exact=False)
    units = result_units(instance)
    put_rows(wb.create_sheet("units", 1), [list(units.columns)] + units.values.tolist(), exact=False)
    save_fixed(wb, book)


def provenance() -> dict:
    """``version`` of rechain and ``run_date`` (UTC, ISO 8601 to the second) for ``summary.json``,
    so a report says which code wrote its results and when."""
    from datetime import datetime, timezone
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("rechain")
    except PackageNotFoundError:  # run from a source tree that is not installed
        v = "unknown"
    return {"version": v, "run_date": datetime.now(timezone.utc).replace(microsecond=0).isoformat()}


def write_results(result: Result, path: str | Path, fmt: str = "csv", instance: Instance | None = None,
                  extra: dict | None = None, overwrite: bool = False, also=None, replaceable=None) -> Path:
    """Write ``result`` (and the ``instance`` solved) as a results folder at ``path``.

    ``extra`` is merged into ``summary.json``; ``also(tmp)`` may add files (e.g. a report)
    before the folder is moved into place. Raises FileExistsError if ``path`` exists and
    ``overwrite`` is false (``replaceable`` as in :func:`rechain.model.atomic.atomic_write_folder`).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    path = Path(path)

    def write(tmp: Path) -> None:
        tables = {name: getattr(result, name) for name in TABLE_COLUMNS}
        write_tables(tables, tmp, fmt)
        summary = result.summary()
        summary["format"] = fmt
        summary.update(provenance())
        if extra:
            summary.update(extra)
        with open(tmp / "summary.json", "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2, default=str)
            f.write("\n")
        if fmt == "xlsx":
            add_summary_sheets(tmp / WORKBOOK, summary, instance)
        if instance is not None:
            instance.to_folder(tmp / "instance")
        if also is not None:
            also(tmp)

    atomic_write_folder(path, write, overwrite=overwrite, replaceable=replaceable)
    return path


def is_results_folder(path: str | Path) -> bool:
    return (Path(path) / "summary.json").is_file()


class ResultsError(InstanceError):
    """A results folder that cannot be read back: each problem names its file (and row and
    column where it has one)."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems)
        self.args = ("\n".join([f"{len(self.problems)} problem(s) in the results folder:"] + [f"  - {p}" for p in self.problems]),)


#: result tables every results folder has (the tables added with format v2 are read as empty
#: tables from a folder written before them)
REQUIRED_TABLES = ("capacity", "activity", "flows", "trade", "supply", "unmet", "disposal", "prices", "policies", "costs")


def _text_columns(name: str) -> list[str]:
    """The columns of result table ``name`` that hold names (read as text, never as NaN)."""
    return [c for c in TABLE_COLUMNS[name] if c in NAME_COLUMNS]


def _read_kw(name: str) -> dict:
    numbers = [c for c in TABLE_COLUMNS[name] if c not in _text_columns(name)]
    return dict(dtype={c: str for c in _text_columns(name)}, keep_default_na=False,
                na_values={c: ["", "nan", "NaN"] for c in numbers})


def _check_table(df: pd.DataFrame, name: str, label: str, problems: list[Problem], first_row: int = 2) -> pd.DataFrame:
    """Every column of the table present, numbers readable as numbers."""
    missing = [c for c in TABLE_COLUMNS[name] if c not in df.columns]
    for c in missing:
        problems.append(Problem(label, f"missing column (expected the columns {', '.join(TABLE_COLUMNS[name])})", column=c))
    if missing:
        return df
    for c in TABLE_COLUMNS[name]:
        if c in _text_columns(name):
            df[c] = df[c].fillna("").astype(str)
            continue
        num = pd.to_numeric(df[c], errors="coerce")
        bad = num.isna() & df[c].notna() & (df[c].astype(str).str.strip() != "")
        for i in list(bad[bad].index)[:5]:
            problems.append(Problem(label, "expected a number", row=int(i) + first_row, column=c, value=df[c].loc[i]))
        df[c] = num
    return df


def read_results(path: str | Path) -> tuple[dict, dict[str, pd.DataFrame]]:
    """``(summary, tables)`` of a results folder in any of the three formats.

    Names are read as text (a process called ``NA`` or ``null`` stays that name). A damaged
    folder (``summary.json`` unreadable, a table or a column missing, a number that is not
    one) raises :class:`ResultsError` naming the file, row and column."""
    path = Path(path)
    if not path.is_dir():
        from rechain.model.atomic import leftover_folders

        olds = [o for o in leftover_folders(path, "old") if (o / "x").is_dir()]
        hint = (f" (the results a write was replacing when it was interrupted are in {olds[-1] / 'x'}; "
                "the next write to this folder restores them)") if olds else ""
        raise FileNotFoundError(f"{path}: no such results folder{hint}")
    if not (path / "summary.json").is_file():
        raise FileNotFoundError(f"{path}: not a results folder (no summary.json; write one with `rechain solve --out {path}`)")
    label = str(path / "summary.json")
    try:
        with open(path / "summary.json", encoding="utf-8") as f:
            summary = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        where = dict(row=e.lineno) if isinstance(e, json.JSONDecodeError) else {}
        raise ResultsError([Problem(label, f"not valid JSON: {getattr(e, 'msg', e)}", **where)]) from None
    if not isinstance(summary, dict):
        raise ResultsError([Problem(label, f"expected a JSON object (status, objective, ...), found a {type(summary).__name__}")])
    problems: list[Problem] = []
    if not isinstance(summary.get("status"), str):
        problems.append(Problem(label, "expected a \"status\" (e.g. \"optimal\")", column="status", value=summary.get("status")))
    obj = summary.get("objective")
    if obj is not None and (isinstance(obj, bool) or not isinstance(obj, (int, float))):
        problems.append(Problem(label, "expected a number or null", column="objective", value=obj))
    tables: dict[str, pd.DataFrame] = {}
    book = path / WORKBOOK
    xl = None
    if book.is_file():
        try:
            xl = pd.ExcelFile(book, engine="openpyxl")
        except Exception as e:  # a damaged zip or sheet: say which file
            raise ResultsError([Problem(str(book), f"cannot be read as a workbook: {e}")]) from None
    for name, cols in TABLE_COLUMNS.items():
        csv, parquet = path / f"{name}.csv", path / f"{name}.parquet"
        try:
            if csv.is_file():
                label = str(csv)
                df = _check_table(pd.read_csv(csv, **_read_kw(name)), name, label, problems)
            elif parquet.is_file():
                label = str(parquet)
                df = _check_table(pd.read_parquet(parquet), name, label, problems)
            elif xl is not None and name in xl.sheet_names:
                label = f"{book}[{name}]"
                df = _check_table(pd.read_excel(xl, sheet_name=name, **_read_kw(name)), name, label, problems)
            elif name in REQUIRED_TABLES and summary.get("status") == "optimal":
                problems.append(Problem(str(path), f"missing table {name} (expected {csv.name}, {parquet.name} or a sheet "
                                                   f"'{name}' in {WORKBOOK})"))
                continue
            else:
                df = pd.DataFrame(columns=cols)
        except ResultsError:
            raise
        except Exception as e:  # an unreadable file (bad bytes, a damaged Parquet file): say which
            problems.append(Problem(label, f"cannot be read: {e}"))
            continue
        tables[name] = df
    if problems:
        raise ResultsError(problems)
    return summary, tables


def read_instance_tables(path: str | Path) -> dict[str, pd.DataFrame]:
    """The instance tables a results folder carries (``instance/*.csv``), as plain frames:
    names as text (never NaN), the numbers of the format's number columns as numbers."""
    from rechain.model.schema import TABLES

    folder = Path(path) / "instance"
    out = {}
    if folder.is_dir():
        for f in sorted(folder.glob("*.csv")):
            try:
                df = pd.read_csv(f, dtype=str, keep_default_na=False)
            except (ValueError, UnicodeDecodeError) as e:  # pandas' ParserError is a ValueError
                raise ResultsError([Problem(str(f), f"cannot be read as CSV: {e}")]) from None
            table = TABLES.get(f.stem)
            for c in (table.columns if table else ()):
                if c.type in ("int", "float") and c.name in df.columns:
                    df[c.name] = pd.to_numeric(df[c.name], errors="coerce")
            out[f.stem] = df
    return out
