"""Writing results folders (CSV, Parquet or one Excel workbook) and reading them back.

A results folder holds:

- the tables of SPEC section 3: ``<table>.csv`` (format ``csv``, as ``Result.to_folder``
  writes them), ``<table>.parquet`` (``parquet``), or one workbook ``results.xlsx`` with a
  sheet per table (``xlsx``);
- ``summary.json``: status, objective, solver, timings, instance name, scenario;
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

from rechain.model import Instance, Result
from rechain.model.atomic import atomic_write_folder
from rechain.model.results import TABLE_COLUMNS

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
        with pd.ExcelWriter(folder / WORKBOOK, engine="openpyxl") as xl:
            for name, df in tables.items():
                df.to_excel(xl, sheet_name=name[:31], index=False)
    else:
        raise ValueError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")


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
        if extra:
            summary.update(extra)
        with open(tmp / "summary.json", "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2, default=str)
            f.write("\n")
        if instance is not None:
            instance.to_folder(tmp / "instance")
        if also is not None:
            also(tmp)

    atomic_write_folder(path, write, overwrite=overwrite, replaceable=replaceable)
    return path


def is_results_folder(path: str | Path) -> bool:
    return (Path(path) / "summary.json").is_file()


def read_results(path: str | Path) -> tuple[dict, dict[str, pd.DataFrame]]:
    """``(summary, tables)`` of a results folder in any of the three formats."""
    path = Path(path)
    if not path.is_dir():
        from rechain.model.atomic import leftover_folders

        olds = [o for o in leftover_folders(path, "old") if (o / "x").is_dir()]
        hint = (f" (the results a write was replacing when it was interrupted are in {olds[-1] / 'x'}; "
                "the next write to this folder restores them)") if olds else ""
        raise FileNotFoundError(f"{path}: no such results folder{hint}")
    if not (path / "summary.json").is_file():
        raise FileNotFoundError(f"{path}: not a results folder (no summary.json; write one with `rechain solve --out {path}`)")
    with open(path / "summary.json", encoding="utf-8") as f:
        summary = json.load(f)
    tables: dict[str, pd.DataFrame] = {}
    book = path / WORKBOOK
    sheets = pd.read_excel(book, sheet_name=None) if book.is_file() else {}
    for name, cols in TABLE_COLUMNS.items():
        if (path / f"{name}.csv").is_file():
            df = pd.read_csv(path / f"{name}.csv")
        elif (path / f"{name}.parquet").is_file():
            df = pd.read_parquet(path / f"{name}.parquet")
        elif name in sheets:
            df = sheets[name]
        else:
            df = pd.DataFrame(columns=cols)
        tables[name] = df
    return summary, tables


def read_instance_tables(path: str | Path) -> dict[str, pd.DataFrame]:
    """The instance tables a results folder carries (``instance/*.csv``), as plain frames."""
    folder = Path(path) / "instance"
    out = {}
    if folder.is_dir():
        for f in folder.glob("*.csv"):
            out[f.stem] = pd.read_csv(f)
    return out
