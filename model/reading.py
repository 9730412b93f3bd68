"""Reading an instance's files: a folder of CSV files with ``instance.yaml``, or one ``.xlsx``
workbook, as raw text tables and a settings mapping, then typed tables (cells parsed, keys
unique) and typed settings. Every problem is collected with its file, row and column."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .cells import YEARS, _Bad, _cell_text, _is_blank, _typed_frame, parse_cell
from .changes import SETTING_RANGES, LocatedChange, _shown, discount_problems, setting_problems
from .errors import InstanceError, Problem
from .schema import FORMAT_VERSIONS, FREE_COLUMNS, SETTINGS, TABLE_ORDER, Table


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
    (_, header), body = kept[0], kept[1:]
    return _Raw(label, [h.strip() for h in header], [r for _, r in body], [ln for ln, _ in body])


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
            ch = LocatedChange(table=rec.get("table", "").strip(), where=where, column=rec.get("column", "").strip())
            ch.located = (raw.label, ln)
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


