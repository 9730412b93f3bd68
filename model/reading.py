"""Reading an instance's files: a folder of CSV files with ``instance.yaml``, or one ``.xlsx``
workbook, as raw text tables and a settings mapping, then typed tables (cells parsed, keys
unique) and typed settings. Every problem is collected with its file, row and column."""

from __future__ import annotations

import io
import math
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .cells import YEARS, _Bad, _is_blank, _typed_frame, decimal_comma_hint, parse_cell, reserved_name
from .changes import SETTING_RANGES, _shown, discount_problems, setting_problems
from .errors import InstanceError, Problem, did_you_mean
from .schema import FORMAT_VERSIONS, FREE_COLUMNS, SETTINGS, TABLE_ORDER, Table


@dataclass
class _Raw:
    """One table as text: header, rows, line numbers, and the label used in messages."""

    label: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]


# characters some programs take for a line break inside a row, which CSV (the csv module, Excel,
# pandas) does not: a row holding one is refused rather than read two ways
STRAY_BREAKS = {
    "\x0b": "a vertical tab", "\x0c": "a form feed", "\x1c": "a file separator (U+001C)",
    "\x1d": "a group separator (U+001D)", "\x1e": "a record separator (U+001E)",
    "\x85": "U+0085 NEXT LINE", "\u2028": "U+2028 LINE SEPARATOR", "\u2029": "U+2029 PARAGRAPH SEPARATOR",
}
_STRAY = re.compile("[" + "".join(STRAY_BREAKS) + "]")


def _quote_cell(line: str) -> int:
    """The index of the first cell of one CSV line whose quotes are broken (a quoted cell not
    closed on the line, or text after its closing quote); the last cell when none is."""
    cell, state = 0, "start"  # start of a cell, in a quoted cell, after its closing quote, plain
    i = 0
    while i < len(line):
        ch = line[i]
        if state == "quoted":
            if ch == '"':
                if line[i + 1:i + 2] == '"':
                    i += 1
                else:
                    state = "closed"
        elif ch == ",":
            cell, state = cell + 1, "start"
        elif state == "start":
            state = "quoted" if ch == '"' else "plain"
        elif state == "closed":
            return cell
        i += 1
    return cell


def _cell_name(header: list[str] | None, i: int) -> str | None:
    return header[i].strip() or None if header is not None and i < len(header) else None


def not_utf8(label: str, e: UnicodeDecodeError) -> Problem:
    """A file that is not UTF-8, located at the row (line) of its first bad byte, with the
    byte and how to save the file as UTF-8."""
    data = bytes(e.object)
    row = data[:e.start].count(b"\n") + 1
    return Problem(label, f"not UTF-8 text: byte 0x{data[e.start:e.start + 1].hex()} cannot be read ({e.reason}); the file "
                          "was probably saved as Latin-1 or Windows-1252: save it as UTF-8 (Excel: 'CSV UTF-8 (comma delimited)')",
                   row=row)


def _read_csv(path: Path, label: str, problems: list[Problem]) -> _Raw | None:
    """A CSV file as text rows, read as the csv module, Excel and pandas read it (line breaks
    are \\n, \\r\\n or \\r), and strictly: a quoted cell never runs past the end of its line
    (a missing closing quote would swallow the rows after it), and no cell holds a character
    other programs take for a line break. Each such cell is a problem located at the row
    where it starts; the file is then not read at all."""
    import csv

    try:
        with open(path, "rb") as f:
            raw = f.read()
        data = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        problems.append(not_utf8(label, e))
        return None
    except OSError as e:
        problems.append(Problem(label, f"cannot be read: {e.strerror or e}"))
        return None
    if "\x00" in data:
        problems.append(Problem(label, "contains NUL bytes: not a text CSV file"))
        return None
    reader = csv.reader(io.StringIO(data, newline=""), strict=True)
    stray = _STRAY.search(data) is not None
    rows: list[tuple[int, list[str]]] = []  # (line where the row starts, cells)
    header: list[str] | None = None
    bad = False
    while True:
        start = reader.line_num + 1
        try:
            r = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            if "end of data" not in str(e) and "expected after" not in str(e):
                problems.append(Problem(label, f"not a readable CSV file: {e}", row=start))  # a cell past the csv module's size limit
                return None
            physical = io.StringIO(data, newline="").readlines()
            line = physical[start - 1] if start - 1 < len(physical) else ""
            i = _quote_cell(line.rstrip("\r\n"))
            what = ("a quoted cell is not closed: its closing quote is missing, and the rows after it would be swallowed"
                    if "end of data" in str(e) else 'text after the closing quote of a quoted cell (write a quote inside a quoted cell as "")')
            problems.append(Problem(label, f"{what} (cell {i + 1})", row=start, column=_cell_name(header, i)))
            return None
        if header is None and any(c.strip() for c in r):
            header = r
        if reader.line_num != start or stray:  # the cells are searched only in a row that may hold a break
            for i, c in enumerate(r):
                where = dict(row=start, column=None if r is header else _cell_name(header, i), value=c if len(c) <= 60 else c[:60] + "...")
                cell = f"header cell {i + 1}" if r is header else "cell" if where["column"] else f"cell {i + 1}"
                if "\n" in c or "\r" in c:
                    bad = True
                    problems.append(Problem(label, f"a quoted {cell} runs over a line break, to row {reader.line_num}: a cell "
                                                   "is one line (is a closing quote missing?)", **where))
                elif m := _STRAY.search(c):
                    bad = True
                    problems.append(Problem(label, f"the {cell} holds {STRAY_BREAKS[m.group()]}, a line break in some programs "
                                                   "but not in CSV: remove it", **where))
        rows.append((start, r))
    if bad:
        return None
    # drop blank lines
    kept = [(ln, r) for ln, r in rows if any(c.strip() for c in r)]
    if not kept:
        problems.append(Problem(label, "is empty: expected a header row"))
        return None
    (_, header), body = kept[0], kept[1:]
    return _Raw(label, [h.strip() for h in header], [r for _, r in body], [ln for ln, _ in body])


@dataclass(frozen=True)
class DuplicateKey:
    """A key a YAML mapping states twice: its path (``scenarios.nev_boom.description``) and
    the lines of both."""

    path: str
    key: Any
    line: int
    first: int

    def problem(self, label: str, row: int | None = None, column: str | None = None) -> Problem:
        """Located at its line and path in a YAML file, or at (``row``, ``column``) of a cell."""
        if row is None:
            return Problem(label, f"duplicate key '{self.key}' (first given on line {self.first}): one of the two would be lost",
                           row=self.line, column=self.path)
        return Problem(label, f"duplicate key '{self.path}' in the cell: one of the two would be lost", row=row, column=column)


class StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses a mapping stating one key twice, at any depth
    (PyYAML keeps the last value silently: of two ``discount_rate`` lines, or two
    ``scenarios:`` blocks, one would be lost). Keys merged in with ``<<: *anchor`` may be
    overridden, as YAML intends. ``lines`` maps the path of each key (``years.first``,
    ``scenarios.nev_boom``) to its line, so a problem with a setting can name its line."""

    def duplicate_keys(self, root: yaml.Node) -> list[DuplicateKey]:
        """The duplicate keys of the composed document ``root``, in document order (and the
        line of every key in ``self.lines``). Each node is visited once, so aliases nested to
        expand to billions of values cost nothing."""
        found: list[DuplicateKey] = []
        self.lines: dict[str, int] = {}
        stack, visited = [(root, "")], set()
        while stack:
            node, path = stack.pop()
            if id(node) in visited:
                continue
            visited.add(id(node))
            if isinstance(node, yaml.SequenceNode):
                stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(node.value, 1))))
            elif isinstance(node, yaml.MappingNode):
                seen: dict[Any, int] = {}
                below = []
                for k, v in node.value:
                    if k.tag == "tag:yaml.org,2002:merge" or not isinstance(k, yaml.ScalarNode):
                        below.append((v, path))
                        continue
                    key = self.construct_object(k)
                    line = k.start_mark.line + 1
                    try:
                        if key in seen:
                            found.append(DuplicateKey(f"{path}.{key}" if path else str(key), key, line, seen[key]))
                        else:
                            seen[key] = line
                    except TypeError:  # an unhashable key: constructing the document reports it
                        pass
                    below.append((v, f"{path}.{key}" if path else str(key)))
                    self.lines.setdefault(below[-1][1], line)
                stack.extend(reversed(below))
        return sorted(found, key=lambda d: d.line)


# libyaml's parser, where PyYAML was built with it, reads a settings file about eight times
# faster than the pure-Python one (a sizeable part of a CLI run's start-up); a document it
# refuses is read again by the pure-Python loader, so that every error is worded and located
# as PyYAML words and locates it
_FAST_STRICT = (type("FastStrictLoader", (yaml.CSafeLoader,), {"duplicate_keys": StrictLoader.duplicate_keys})
                if getattr(yaml, "__with_libyaml__", False) else None)


def _yaml_load(text: str, lines: dict[str, int] | None = None) -> tuple[Any, list[DuplicateKey]]:
    """The YAML document of ``text`` (safely), or None and the keys it states twice; the line
    of each key's path goes to ``lines`` (if given)."""
    if _FAST_STRICT is not None:
        try:
            return _load_with(_FAST_STRICT(text), lines)
        except yaml.YAMLError:
            pass
    return _load_with(StrictLoader(text), lines)


def _load_with(loader, lines: dict[str, int] | None) -> tuple[Any, list[DuplicateKey]]:
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        dups = loader.duplicate_keys(node)
        if lines is not None:
            lines.update(loader.lines)
        if dups:
            return None, dups
        return loader.construct_document(node), []
    finally:
        loader.dispose()


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
        value, dups = _yaml_load(text)
    except RecursionError:
        problems.append(Problem(label, "nests too deeply to be read", row=line, column=column))
        return None
    except yaml.YAMLError as e:
        problems.append(Problem(label, f"not a valid value: {getattr(e, 'problem', None) or e}", row=line, column=column, value=text))
        return text
    if dups:
        problems.extend(d.problem(label, row=line, column=column) for d in dups)
        return text
    if _too_many_values(value):
        problems.append(Problem(label, f"holds more than {MAX_YAML_VALUES} values once its aliases are expanded, or nests deeper than {MAX_YAML_DEPTH} levels", row=line, column=column))
        return None
    return value


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _instance_file(folder: Path, name: str, problems: list[Problem]) -> Path | None:
    """The file ``name`` of an instance folder when it may be read: a regular file in the
    folder, or a symbolic link to one inside the folder. None when there is no such name, and
    None with a problem when it is something else (a directory, a FIFO, a device, a link that
    leads out of the folder or nowhere): such a file is never opened, so a FIFO cannot block
    the reading and a link cannot show what lies outside the instance."""
    f = folder / name
    try:
        st = f.lstat()
    except FileNotFoundError:
        return None
    except OSError as e:
        problems.append(Problem(name, f"cannot be read: {e.strerror or e}"))
        return None
    if stat.S_ISLNK(st.st_mode):
        try:
            target = f.resolve(strict=True)
            st = target.stat()
        except (OSError, RuntimeError):  # dangling, a loop, or a target that cannot be reached
            problems.append(Problem(name, "is a symbolic link to nothing that can be read: expected a file of the instance"))
            return None
        if not target.is_relative_to(folder.resolve()):
            problems.append(Problem(name, "is a symbolic link to a file outside the instance folder: an instance is read "
                                          "only from its own folder (copy the file in)"))
            return None
    for test, kind in _KINDS:
        if test(st.st_mode):
            problems.append(Problem(name, f"is {kind}, not a file: expected a text file"))
            return None
    return f


def _read_source(path: Path, lines: dict[str, int] | None = None) -> tuple[dict[str, _Raw | None], dict | None, str, list[Problem]]:
    """The raw tables and settings of an instance. A table whose file is there but could not
    be read maps to None (its problems are in the list); an absent file has no entry. The
    line (or row of the ``instance`` sheet) of each setting, by its path, goes to ``lines``."""
    problems: list[Problem] = []
    lines = {} if lines is None else lines
    path = Path(path)
    if path.is_file() and path.suffix.lower() in (".xlsx", ".xlsm"):
        from .workbook import _read_workbook  # imports openpyxl: only for a workbook

        raws, settings = _read_workbook(path, problems, lines)
        return raws, settings, path.name, problems
    if path.is_file() and path.name == "instance.yaml":
        path = path.parent
    if not path.exists():
        raise InstanceError([Problem(str(path), "no such instance folder or workbook")])
    if not path.is_dir():
        raise InstanceError([Problem(str(path), "expected an instance folder or an .xlsx workbook")])
    settings = None
    ypath = _instance_file(path, "instance.yaml", problems)
    if ypath is None:
        if not problems:
            problems.append(Problem("instance.yaml", "missing required file"))
    else:
        try:
            text = ypath.read_text(encoding="utf-8-sig")
            settings, dups = _yaml_load(text, lines)
            problems.extend(d.problem("instance.yaml") for d in dups)
            if _too_many_values(settings):
                problems.append(Problem("instance.yaml", f"holds more than {MAX_YAML_VALUES} values once its aliases (*name) are expanded, "
                                                         f"or nests deeper than {MAX_YAML_DEPTH} levels: not a settings file"))
                settings = None
        except RecursionError:
            problems.append(Problem("instance.yaml", "nests too deeply to be read: not a settings file"))
        except UnicodeDecodeError as e:
            problems.append(not_utf8("instance.yaml", e))
        except OSError as e:
            problems.append(Problem("instance.yaml", f"cannot be read: {e.strerror or e}"))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            problems.append(Problem("instance.yaml", f"not valid YAML: {getattr(e, 'problem', None) or e}",
                                    row=(mark.line + 1) if mark else None))
        if settings is not None and not isinstance(settings, dict):
            problems.append(Problem("instance.yaml", f"expected a mapping of settings (key: value), found a {type(settings).__name__}"))
            settings = None
        elif settings is None and not problems:
            problems.append(Problem("instance.yaml", "is empty: expected a mapping of settings"))
    raws: dict[str, _Raw | None] = {}
    for name in TABLE_ORDER:
        n = len(problems)
        f = _instance_file(path, f"{name}.csv", problems)
        if f is not None:
            raws[name] = _read_csv(f, f.name, problems)
        elif len(problems) > n:
            raws[name] = None
    return raws, settings, path.name, problems


def _parse_table(table: Table, raw: _Raw, problems: list[Problem], refused: list | None = None) -> pd.DataFrame:
    """The typed table; problems go to the list. ``refused`` (if given) gets None when the
    whole table is unusable, else the cell texts ({column: text}) of each refused row."""
    refused = [] if refused is None else refused
    header = raw.header
    if (semi := _semicolon_header(table, header)) is not None:
        # one problem, not an unknown column and a missing column for every name in the cell
        problems.append(Problem(raw.label, f"the header {semi!r} names its columns between ';': separator ';'? "
                                           "The CSV files of an instance are separated by commas (Excel: save as "
                                           "'CSV UTF-8 (comma delimited)')", row=1))
        if raw.rows:
            refused.append(None)
        return _typed_frame(table, [], [], [])
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
    missing = [c.name for c in table.columns if c.required and c.name not in header]
    for h in header:
        if h and h not in known and h not in FREE_COLUMNS:
            # a misspelt column is one problem: its name, not also a missing column of the right name
            hint = did_you_mean(h, missing) or did_you_mean(h, table.column_names + list(FREE_COLUMNS))
            missing = [c for c in missing if f"'{c}'" not in hint]
            problems.append(Problem(raw.label, f"unknown column '{h}' (expected: {', '.join(table.column_names)}; free: {', '.join(FREE_COLUMNS)})"
                                               f"{hint}", row=1, column=h))
            ok = False
    for name in missing:
        problems.append(Problem(raw.label, f"missing column '{name}'", row=1, column=name))
        ok = False
    if not ok:
        if raw.rows:
            refused.append(None)
        return _typed_frame(table, [], [], [])
    pos = {h: i for i, h in enumerate(header)}
    records, index = [], []
    for ln, r in zip(raw.lines, raw.rows):
        if len(r) > len(header) and any(c.strip() for c in r[len(header):]):
            split = any(decimal_comma_hint(f"{a},{b}") for a, b in zip(r, r[1:]))
            hint = " (decimal comma? a number such as 1,5 splits into two cells: write 1.5)" if split else ""
            problems.append(Problem(raw.label, f"row has {len(r)} cells but the header has {len(header)}{hint}", row=ln))
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


def _semicolon_header(table: Table, header: list[str]) -> str | None:
    """The header's text when its cells hold ';' and, split there, name columns of ``table``
    (a file saved with ';' as its separator, as European spreadsheets do); else None."""
    if not any(";" in h for h in header):
        return None
    parts = [x.strip() for h in header for x in h.split(";")]
    return ",".join(header) if sum(x in table.column_names for x in parts) >= 2 else None


def _parse_settings(s: dict, default_name: str, problems: list[Problem], label: str) -> dict | None:
    for k in s:
        if k not in SETTINGS:
            problems.append(Problem(label, f"unknown setting '{k}' (expected: {', '.join(SETTINGS)}){did_you_mean(k, SETTINGS)}", column=str(k)))

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
        except (TypeError, ValueError, OverflowError):
            problems.append(Problem(label, f"setting '{name}' must be a {'whole ' if cast is int else ''}number", column=name,
                                    value=_shown(v)))
            return default
        if check and not check[0](x):
            problems.append(Problem(label, f"setting '{name}' {check[1]}", column=name, value=v))
            return default
        return x

    in_years = (lambda x: YEARS[0] <= x <= YEARS[1], f"must be a year in {YEARS[0]}-{YEARS[1]}")

    years = s.get("years")
    first = last = None
    if not isinstance(years, dict):
        problems.append(Problem(label, "setting 'years' must be a mapping {first: YEAR, last: YEAR}", column="years", value=years))
    else:
        for k in years:
            if k not in ("first", "last"):
                problems.append(Problem(label, f"unknown key '{k}' in 'years' (expected first, last)", column="years"))
        first = num("first", int, required=True, node=years, name="years.first", check=in_years)
        last = num("last", int, required=True, node=years, name="years.last", check=in_years)
        if first is not None and last is not None and last < first:
            problems.append(Problem(label, f"years.last ({last}) is before years.first ({first})", column="years"))
            first = last = None
        if first is not None and last is not None and last - first > 200:
            problems.append(Problem(label, "the horizon is longer than 200 years", column="years"))
            first = last = None
    base = num("base_year", int, default=first, check=SETTING_RANGES["base_year"])
    rate = num("discount_rate", float, default=0.0, check=SETTING_RANGES["discount_rate"])
    if rate is not None:
        problems.extend(p for p in setting_problems("discount_rate", rate, label) if p.severity != "error")
    if first is not None and last is not None and rate is not None:
        problems.extend(discount_problems(first, last, base if base is not None else first, rate, label))
    pen = num("unmet_penalty", float, default=None, check=SETTING_RANGES["unmet_penalty"])
    version = num("format_version", int, default=1, check=(lambda x: x in FORMAT_VERSIONS,
                                                            f"must be one of {', '.join(map(str, FORMAT_VERSIONS))}"))
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
        text = None if name is None else str(name)
        why = ("a scenario needs a name (found null)" if text is None else
               reserved_name(text.strip()) or ("a name has no spaces around it" if text != text.strip() else None))
        if why:
            problems.append(Problem(label, f"scenario '{text}': {why}", column=f"scenarios.{text}", value=text))
            continue
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
        format_version=version if version is not None else 1,
        units={str(k): str(v) for k, v in units.items()},
        sources=clean_sources,
        scenarios=clean_scen,
    )


