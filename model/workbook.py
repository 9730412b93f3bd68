"""Reading an instance from one ``.xlsx`` workbook (SPEC section 1): a sheet per table, plus the
sheets ``instance`` (``key,value``), ``sources`` and ``scenarios``.

A workbook is a zip of XML; it is inspected before it is opened, so one that would unpack to
gigabytes (a zip bomb) is refused at once instead of running for minutes. Sheets are read to
their last row whatever their ``<dimension>`` tag says, sheet names and headers are matched
exactly as the file names and headers of a folder, and the settings of the ``instance`` sheet
mean what they mean in ``instance.yaml``: text is text, a number or a mapping is read as YAML.
Formulas are never evaluated (their cached values are read) and macros are not loaded.

Imported only when a workbook is read, so reading a folder does not import openpyxl.
"""

from __future__ import annotations

import posixpath
import re
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
