"""Reading and writing an instance as one ``.xlsx`` workbook (SPEC section 1): a sheet per
table, plus the sheets ``instance`` (``key,value``), ``sources`` and ``scenarios``.

A workbook is a zip of XML; it is inspected before it is opened, so one that would unpack to
gigabytes (a zip bomb) is refused at once instead of running for minutes. Sheets are read to
their last row whatever their ``<dimension>`` tag says, sheet names and headers are matched
exactly as the file names and headers of a folder, and the settings of the ``instance`` sheet
mean what they mean in ``instance.yaml``: text is text, a number or a mapping is read as YAML.
Formulas are never evaluated (their cached values are read) and macros are not loaded.

Writing (:func:`write_workbook`, behind :meth:`Instance.to_xlsx`) gives the sheets and columns
the reader expects, so folder -> workbook -> load gives the same instance: numbers are numbers
(one that a spreadsheet cannot hold to its last digit is written as its exact text), a text
cell that a spreadsheet would take for a formula is stored as text, and the file is written
atomically with fixed dates (the same instance, the same bytes).

Imported only when a workbook is read or written, so reading a folder does not import openpyxl.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import posixpath
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from .cells import _cell_text, reserved_name
from .changes import LocatedChange
from .errors import Problem
from .reading import STRAY_BREAKS, _Raw, _yaml_cell
from .schema import FREE_COLUMNS, SETTINGS, TABLE_ORDER, TABLES

MAX_UNPACKED = 200 * 2**20  # bytes of XML a workbook may unpack to; instances are a few MB
MAX_RATIO = 100  # unpacked / packed bytes of a part: sheets compress about 5-20 fold, bombs 1000 fold
RATIO_FROM = 2**20  # parts smaller than this are never bombs, whatever their ratio
MAX_PARTS = 10_000
MAX_ROWS = 1_000_000  # rows of a sheet (Excel's own limit is 1,048,576)
MAX_COLUMNS = 1_000  # columns of a sheet; a table has about 10

SETTINGS_COLUMNS = ("key", "value")
SOURCES_COLUMNS = ("id", "title", "url")
SCENARIO_COLUMNS = ("scenario", "description", "table", "where", "column", "scale", "set")
SCENARIO_REQUIRED = ("scenario", "table", "column")


def _sheet_parts(book: zipfile.ZipFile) -> tuple[list[str], dict[str, str]]:
    """The sheet names as the workbook states them (openpyxl renames a repeated name, so
    ``demand`` twice would read as ``demand`` and ``demand1``), and the sheet name of each
    worksheet part (``xl/worksheets/sheet3.xml``)."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "p": "http://schemas.openxmlformats.org/package/2006/relationships"}
    try:
        wb = ElementTree.fromstring(book.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile, OSError, ValueError):
        return [], {}  # openpyxl says what is wrong with the file
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("p:Relationship", ns)}
    names, parts = [], {}
    for sheet in wb.findall("m:sheets/m:sheet", ns):
        name = sheet.get("name", "")
        names.append(name)
        target = targets.get(sheet.get(f"{{{ns['r']}}}id"), "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        parts[part] = name
    return names, parts


def _inspect(path: Path, problems: list[Problem]) -> list[str] | None:
    """The sheet names of the workbook at ``path`` as it states them, or None with a problem
    when unpacking it would cost more than an instance can need: above ``MAX_UNPACKED`` bytes in
    all, or a part above ``RATIO_FROM`` bytes packed more than ``MAX_RATIO`` fold. The sizes
    are the ones the zip declares; zipfile never unpacks more than declared (a part that
    would is refused as damaged)."""
    label = path.name
    try:
        with zipfile.ZipFile(path) as book:
            infos = book.infolist()
            if len(infos) > MAX_PARTS:
                problems.append(Problem(label, f"holds {len(infos)} parts, more than the {MAX_PARTS} a workbook of an instance "
                                               "can need: not read"))
                return None
            small = all(i.file_size <= RATIO_FROM for i in infos if i.filename in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"))
            names, parts = _sheet_parts(book) if small else ([], {})

            def where(info: zipfile.ZipInfo) -> str:
                return f"{label}[{parts[info.filename]}]" if info.filename in parts else f"{label} (part {info.filename})"

            for info in infos:
                if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                    problems.append(Problem(where(info), f"unpacks {info.compress_size} bytes to {info.file_size}, more than "
                                                         f"{MAX_RATIO} fold: a zip bomb, not a sheet of an instance; not read"))
                    return None
            total = sum(i.file_size for i in infos)
            if total > MAX_UNPACKED:
                big = max(infos, key=lambda i: i.file_size)
                problems.append(Problem(where(big), f"the workbook would unpack to {total / 2**20:.1f} MB of XML "
                                                    f"({big.file_size / 2**20:.1f} MB in this part), more than the "
                                                    f"{MAX_UNPACKED // 2**20} MB an instance can need: not read"))
                return None
            return names
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as e:
        problems.append(Problem(label, f"not a readable .xlsx workbook: {e}"))
        return None


def _sheet_rows(ws, label: str, problems: list[Problem]) -> list[list[str]] | None:
    """Every row of a sheet as text cells, to its last row: the ``<dimension>`` tag a
    program wrote may be stale, and read-only openpyxl would stop where it says. None (with a
    problem) for a sheet past ``MAX_ROWS`` rows or ``MAX_COLUMNS`` columns."""
    ws.reset_dimensions()
    rows = []
    for i, r in enumerate(ws.iter_rows(values_only=True), 1):
        if i > MAX_ROWS:
            problems.append(Problem(label, f"has more than {MAX_ROWS} rows: not a table of an instance; not read"))
            return None
        while r and r[-1] is None:
            r = r[:-1]
        if len(r) > MAX_COLUMNS:
            problems.append(Problem(label, f"has a cell in column {len(r)}, past the {MAX_COLUMNS} columns a table "
                                           "can need: not read", row=i))
            return None
        rows.append([_cell_text(v) for v in r])
    return rows


def _read_workbook(path: Path, problems: list[Problem], lines: dict[str, int]) -> tuple[dict[str, _Raw | None], dict | None]:
    """Sheets of a workbook as raw tables (None for a sheet that is there but could not be
    read), plus the settings mapping built from its ``instance``, ``sources`` and
    ``scenarios`` sheets; the row of each setting of the ``instance`` sheet goes to ``lines``."""
    book_label = path.name
    unread = dict.fromkeys(TABLE_ORDER)  # a workbook that cannot be read lacks no sheet: it is one problem
    stated = _inspect(path, problems)
    if stated is None:
        return unread, None
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_vba=False)
    except Exception as e:  # openpyxl raises many kinds for a damaged or foreign file
        problems.append(Problem(book_label, f"not a readable .xlsx workbook: {e}"))
        return unread, None
    raws: dict[str, _Raw | None] = {}
    # sheet names compare as a reader of the workbook sees them: ignoring case and the spaces
    # around them (openpyxl itself renames an exact repeat, so names come from the file)
    titles = stated if len(stated) == len(wb.worksheets) else [ws.title for ws in wb.worksheets]
    seen: dict[str, int] = {}
    try:
        for k, (title, ws) in enumerate(zip(titles, wb.worksheets)):
            label = f"{book_label}[{title}]"
            same = titles[seen.setdefault(title.strip().casefold(), k)]
            if seen[title.strip().casefold()] != k:
                problems.append(Problem(label, f"sheet '{title}' has the name of sheet '{same}' (names are compared ignoring "
                                               "case and surrounding spaces): one of them would be lost"))
                raws[same.strip()] = None
                continue
            rows = _sheet_rows(ws, label, problems)
            if rows is None:
                raws[title.strip()] = None
                continue
            kept = [(i + 1, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]
            if not kept:
                continue
            (_, header), body = kept[0], kept[1:]
            # trailing empty header cells come from formatted but empty columns
            while header and not header[-1].strip():
                header = header[:-1]
            n = len(header)
            raw = _Raw(label, [h.strip() for h in header], [r[:n] for _, r in body], [ln for ln, _ in body])
            raws[title.strip()] = None if title.strip() in TABLES and _line_breaks(raw, problems) else raw
    finally:
        wb.close()
    settings = _settings_from_sheets(raws, book_label, problems, lines)
    return raws, settings


_BREAKS = re.compile("[\r\n" + "".join(STRAY_BREAKS) + "]")


def _line_breaks(raw: _Raw, problems: list[Problem]) -> bool:
    """Whether a cell of a table sheet holds a line break (a problem for each): a cell of a
    table is one line, as in a CSV file, so an instance reads the same in both forms and a
    workbook written out as a folder reads back."""
    found = False
    for ln, r in zip(raw.lines, raw.rows):
        for h, c in zip(raw.header, r):
            if m := _BREAKS.search(c):
                problems.append(Problem(raw.label, f"holds {STRAY_BREAKS.get(m.group(), 'a line break')}: a cell of a table is one "
                                                   "line, as in a CSV file", row=ln, column=h or None, value=c if len(c) <= 60 else c[:60] + "..."))
                found = True
    return found


def _columns(raw: _Raw, expected: tuple[str, ...], required: tuple[str, ...], problems: list[Problem]) -> bool:
    """The header of a settings sheet holds the expected columns, matched exactly as the
    headers of a table (a free column such as ``note`` may be added); False after a problem."""
    ok = True
    for i, h in enumerate(raw.header):
        if h in raw.header[:i] and h:
            problems.append(Problem(raw.label, f"duplicate column '{h}'", row=1, column=h))
            ok = False
        elif h not in expected and h not in FREE_COLUMNS:
            what = f"unknown column '{h}'" if h else f"column {i + 1} has no name"
            problems.append(Problem(raw.label, f"{what} (expected: {', '.join(expected)}; free: {', '.join(FREE_COLUMNS)})",
                                    row=1, column=h or None))
            ok = False
    for c in required:
        if c not in raw.header:
            problems.append(Problem(raw.label, f"missing column '{c}'", row=1, column=c))
            ok = False
    return ok


def _records(raw: _Raw) -> list[tuple[int, dict[str, str]]]:
    h = raw.header
    return [(ln, dict(zip(h, r + [""] * (len(h) - len(r))))) for ln, r in zip(raw.lines, raw.rows)]


ALIASES = {"first_year": "years.first", "last_year": "years.last"}


def _settings_from_sheets(raws: dict[str, _Raw | None], book_label: str, problems: list[Problem], lines: dict[str, int]) -> dict | None:
    there = {name: name in raws for name in ("instance", "sources", "scenarios")}
    raw, sources, scenarios = (raws.pop(name, None) for name in there)
    if sources is not None and _columns(sources, SOURCES_COLUMNS, ("id",), problems):
        sources = [{k: v for k, v in rec.items() if k in SOURCES_COLUMNS} for _, rec in _records(sources)]
    else:
        sources = None
    if scenarios is not None and _columns(scenarios, SCENARIO_COLUMNS, SCENARIO_REQUIRED, problems):
        scenarios = _scenarios_from_sheet(scenarios, problems)
    else:
        scenarios = None
    if not there["instance"]:
        problems.append(Problem(f"{book_label}[instance]", "missing sheet 'instance' (key,value rows of the settings)"))
        return None
    if raw is None or not _columns(raw, SETTINGS_COLUMNS, SETTINGS_COLUMNS, problems):
        return None
    settings: dict[str, Any] = {}
    for ln, rec in _records(raw):
        key, val = rec["key"].strip(), rec["value"].strip()
        if not key:
            continue
        full = ALIASES.get(key, key)
        first = lines.setdefault(full, ln)
        if first != ln:
            problems.append(Problem(raw.label, f"setting '{full}' is given twice (first on row {first}): one of the two would be lost",
                                    row=ln, column="key", value=key))
            continue
        parts = full.split(".")
        node = settings
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                problems.append(Problem(raw.label, f"key '{key}' clashes with another key", row=ln, column="key"))
                break
        else:
            if isinstance(node.get(parts[-1]), dict):
                problems.append(Problem(raw.label, f"key '{key}' clashes with another key", row=ln, column="key"))
            elif SETTINGS.get(parts[0]) == "text" or parts[0] == "units":
                # text is text, as in instance.yaml: read as YAML, a title such as "Plan A: base"
                # became a mapping (or an error), "yes" became true and "Toy #2" lost "#2"
                node[parts[-1]] = val or None
            else:
                node[parts[-1]] = _yaml_cell(val, raw.label, ln, "value", problems) if val else None
    if sources is not None:
        settings["sources"] = sources
    if scenarios is not None:
        settings["scenarios"] = scenarios
    return settings


def _scenarios_from_sheet(raw: _Raw, problems: list[Problem]) -> dict:
    """The ``scenarios`` sheet, one change a row, as the ``scenarios`` mapping of instance.yaml."""
    scen: dict[str, Any] = {}
    for ln, rec in _records(raw):
        name = rec["scenario"].strip()
        if not name:
            problems.append(Problem(raw.label, "a value is required here", row=ln, column="scenario"))
            continue
        if why := reserved_name(name):
            problems.append(Problem(raw.label, why, row=ln, column="scenario", value=name))
            continue
        s = scen.setdefault(name, {"description": "", "changes": []})
        if rec.get("description", "").strip():
            s["description"] = rec["description"].strip()
        if not any(rec.get(k, "").strip() for k in ("table", "where", "column", "scale", "set")):
            continue  # a row naming only the scenario (and its description): a scenario without changes
        where: dict[str, str] = {}
        for part in rec.get("where", "").split(";"):
            if not part.strip():
                continue
            if "=" not in part:
                problems.append(Problem(raw.label, "expected column=value;column=value", row=ln, column="where", value=rec["where"]))
                continue
            k, v = (x.strip() for x in part.split("=", 1))
            if k in where:
                problems.append(Problem(raw.label, f"column '{k}' is given twice: one of the two would be lost", row=ln, column="where",
                                        value=rec["where"]))
            where[k] = v
        ch = LocatedChange(table=rec["table"].strip(), where=where, column=rec["column"].strip())
        ch.located = (raw.label, ln)  # its problems point at this sheet and row
        for key in ("scale", "set"):
            if rec.get(key, "").strip():
                ch[key] = _yaml_cell(rec[key], raw.label, ln, key, problems)
        s["changes"].append(ch)
    return scen


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

#: the first characters that make a spreadsheet read a text cell as a formula
FORMULA_START = ("=", "+", "-", "@")
#: the fixed date of every workbook written (its properties and its zip entries), so the same
#: tables give the same bytes
WORKBOOK_DATE = (2000, 1, 1, 0, 0, 0)


def put_cell(ws, row: int, column: int, value: Any, exact: bool = True) -> None:
    """Write ``value`` into a cell: a text starting with ``=``, ``+``, ``-`` or ``@`` is stored as
    text (never a live formula); with ``exact``, a float that a spreadsheet would round (more
    than 15 significant digits) is stored as its exact text (an instance's numbers must read
    back the same; a result's are numbers to compute with)."""
    if exact and isinstance(value, float) and not (math.isfinite(value) and float(f"{value:.15g}") == value):
        value = repr(value)
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell.data_type = "s"
        cell.quotePrefix = True


def put_rows(ws, rows: list[list[Any]], exact: bool = True) -> None:
    for i, r in enumerate(rows, 1):
        for j, v in enumerate(r, 1):
            if v is not None and v != "":
                put_cell(ws, i, j, v, exact)


def save_fixed(wb, path: Path) -> None:
    """Save ``wb`` at ``path`` with its dates and its zip entries' times fixed
    (``WORKBOOK_DATE``): identical sheets give a byte-identical file."""
    import datetime

    when = datetime.datetime(*WORKBOOK_DATE)
    wb.properties.created = when
    wb.properties.modified = when
    wb.save(path)
    fix_zip_dates(path, when)


def fix_zip_dates(path: Path, when) -> None:
    """Rewrite the workbook ``path`` with every zip entry dated ``WORKBOOK_DATE`` and the
    modified date (which openpyxl sets to the time of saving) set to ``when``."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path) as z:
        entries = [(i.filename, z.read(i)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            info = zipfile.ZipInfo(name, date_time=WORKBOOK_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            z.writestr(info, data)


def _yaml_value(v: Any) -> Any:
    """A value of a ``scale``/``set`` cell, which the reader takes as YAML: a number as a
    number, anything else as text that reads back as ``v`` (``null``, ``true``, a quoted
    ``'yes'`` for the text yes)."""
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    if isinstance(v, (int, float)):
        return v
    text = str(v)
    try:
        import yaml

        same = yaml.safe_load(text) == text
    except Exception:  # text YAML cannot read as a plain scalar
        same = False
    return text if same and text == text.strip() else json.dumps(text)


def _table_rows(name: str, df) -> list[list[Any]]:
    """A table as the rows of its sheet: the header, then typed cells (numbers as numbers,
    booleans as true/false, blanks empty), the columns a folder's CSV file would hold."""
    from .cells import table_to_text

    text = table_to_text(name, df)
    cols = list(text.columns)
    kinds = [TABLES[name].column(c).type if c in TABLES[name].column_names else "text" for c in cols]
    rows: list[list[Any]] = [cols]
    for r in text.itertuples(index=False, name=None):
        rows.append([("" if t == "" else int(t) if k == "int" else float(t) if k == "float" else t) for t, k in zip(r, kinds)])
    return rows


def _settings_rows(settings: dict) -> list[list[Any]]:
    """The ``instance`` sheet: ``key,value`` rows, a nested setting under its dotted key
    (``years.first``, ``units.money``)."""
    rows: list[list[Any]] = [list(SETTINGS_COLUMNS)]
    for k, v in settings.items():
        if k in ("sources", "scenarios"):
            continue
        for key, val in (((f"{k}.{kk}", vv) for kk, vv in v.items()) if isinstance(v, dict) else [(k, v)]):
            rows.append([key, val.strip() if isinstance(val, str) else val])
    return rows


def _scenario_rows(inst) -> list[list[Any]]:
    """The ``scenarios`` sheet: one change a row (a scenario without changes: one row with its
    name and description). A ``where`` the sheet cannot hold (a value with ``;`` or ``=``, a
    list) is an :class:`InstanceError` naming the scenario and change."""
    from .errors import InstanceError

    rows: list[list[Any]] = [list(SCENARIO_COLUMNS)]
    problems = []
    for name, body in inst.scenarios.items():
        desc = str(body.get("description") or "")
        changes = body.get("changes") or []
        if not changes:
            rows.append([name, desc, "", "", "", None, None])
        for i, ch in enumerate(changes, 1):
            parts = []
            for k, v in (ch.get("where") or {}).items():
                if isinstance(v, (list, dict)) or any(c in f"{k}{v}" for c in ";=") or v is None:
                    problems.append(Problem(inst.settings_label,
                                            f"scenario '{name}', change {i}: where {k}={v!r} cannot be written in a workbook's "
                                            "scenarios sheet (column=value;column=value)", column="where"))
                parts.append(f"{k}={_cell_text(v)}")
            rows.append([name, desc, ch.get("table", ""), ";".join(parts), ch.get("column", ""),
                         _yaml_value(ch["scale"]) if "scale" in ch else None, _yaml_value(ch["set"]) if "set" in ch else None])
    if problems:
        raise InstanceError(problems)
    return rows


def workbook_sheets(inst) -> dict[str, list[list[Any]]]:
    """The sheets of the workbook of ``inst``, in order: ``instance``, the tables a folder
    would hold, then ``sources`` and ``scenarios`` when there are any."""
    sheets = {"instance": _settings_rows(inst.settings())}
    for name in TABLE_ORDER:
        df = inst.tables.get(name)
        if df is None or (len(df) == 0 and not TABLES[name].required):
            continue
        sheets[name] = _table_rows(name, df)
    if inst.sources:
        sheets["sources"] = [list(SOURCES_COLUMNS)] + [[s.get(c, "") for c in SOURCES_COLUMNS] for s in inst.sources]
    if inst.scenarios:
        sheets["scenarios"] = _scenario_rows(inst)
    return sheets


def _refused(path, why: str, fixable: bool = False, replaced: bool = True):
    """An :class:`~rechain.model.atomic.OutputRefused` for a workbook: a file, not a folder."""
    from .atomic import OutputRefused

    class WorkbookRefused(OutputRefused):
        def message(self, flag: str = "overwrite=True") -> str:
            return super().message(flag).replace("choose another folder", "choose another file name")

    return WorkbookRefused(path, why, fixable=fixable, replaced=replaced)


def check_workbook_output(path, overwrite: bool, protect: tuple = ()) -> None:
    """Raise :class:`~rechain.model.atomic.OutputRefused` if a workbook may not be written at
    ``path``: not an ``.xlsx`` name; a folder; a protected path (``(path, label)`` pairs, e.g.
    the instance converted); an existing file unless ``overwrite``, and never a file that is
    not a workbook."""
    p = Path(os.path.abspath(path))
    if p.suffix.lower() != ".xlsx":
        raise _refused(path, "is not an .xlsx file name", replaced=False)
    for q, label, *_ in protect:
        if p.resolve() == Path(q).resolve():
            raise _refused(path, f"is {label}")
    if not os.path.lexists(p):
        from .atomic import blocking_parent

        if (up := blocking_parent(p)) is not None:
            raise _refused(path, f"cannot be made: {up} is not a folder", replaced=False)
        return
    if p.is_symlink() or not p.is_file():
        raise _refused(path, "exists and is not a file")
    if not zipfile.is_zipfile(p):
        raise _refused(path, "exists and is not a workbook")
    if not overwrite:
        raise _refused(path, "exists", fixable=True)


def write_workbook(inst, path, overwrite: bool = False, protect: tuple = ()) -> Path:
    """Write ``inst`` as one ``.xlsx`` workbook at ``path``, atomically: filled as a hidden
    temporary sibling, then renamed into place, so an interrupted write leaves ``path`` as it
    was (see :func:`check_workbook_output` for what is never replaced)."""
    import openpyxl

    from .atomic import _naming, folder_lock

    path = Path(path)
    sheets = workbook_sheets(inst)  # a scenario the sheet cannot hold fails before any file is touched
    with _naming(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        with folder_lock(path):
            check_workbook_output(path, overwrite, protect)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", suffix=".xlsx", dir=path.parent)
            os.close(fd)
            try:
                wb = openpyxl.Workbook()
                wb.remove(wb.active)
                for title, rows in sheets.items():
                    put_rows(wb.create_sheet(title), rows)
                save_fixed(wb, Path(tmp))
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)  # as a file the user made (a temporary file is private)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
    return path
