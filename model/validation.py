"""Cross-table checks of an instance: names that exist, years in the horizon, one reference row
per process, policy rows that name what they limit, unmet penalties. Each problem names its
file, row and column. Which column names which table is declared in :mod:`rechain.model.schema`
(``Column.ref``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from .cells import LARGE, _is_blank
from .errors import Problem, did_you_mean
from .schema import POLICY_KINDS, TABLES

if TYPE_CHECKING:
    from .instance import Instance


def _check_references(inst: Instance, problems: list[Problem], incomplete: Mapping[str, set | None] | None = None) -> None:
    """Cross-table checks: names that exist, years in the horizon, process_io rules, sources.

    ``incomplete`` maps a table some of whose rows were refused to the names on those rows
    (None: the whole table was refused). Such names are not reported as unknown elsewhere, and
    the reference rows of a process are not counted when one of its process_io rows was refused.

    Runs every part below, in this order; :meth:`Instance.with_changes` runs only the parts a
    change of numbers can affect (see :func:`_value_checks`).
    """
    incomplete = dict(incomplete or {})
    _check_row_references(inst, problems, incomplete)
    _check_trade_lanes(inst, problems)
    unsure = incomplete.get("process_io", set()) if "process_io" in incomplete else set()
    _check_reference_rows(inst, problems, unsure)
    _check_io_directions(inst, problems)
    _check_policy_rows(inst, problems)
    _check_unmet_penalty(inst, problems)
    for check in VALUE_CHECKS.values():
        if check not in (_check_unmet_penalty,):
            check(inst, problems)


def _plantless(inst: Instance) -> set:
    pro = inst.tables["processes"]
    if "capacity" not in pro.columns:
        return set()
    return set(pro.loc[~pro["capacity"].astype(bool), "process"])


def _check_plantless_costs(inst: Instance, problems: list[Problem]) -> None:
    """A process without plant (``capacity`` false) has no capital or fixed costs."""
    none = _plantless(inst)
    if not none:
        return
    pro = inst.tables["processes"]
    for col in ("unit_size", "min_build"):
        if col in pro.columns:
            bad = pro["process"].isin(none) & (pro[col].astype("float64").fillna(0) > 0)
            for ln in pro.index[bad.to_numpy(dtype=bool)]:
                problems.append(Problem(inst.label("processes"), f"process '{pro.at[ln, 'process']}' has no plant (capacity false): "
                                        f"it is never built, so its {col} must be blank", row=int(ln), column=col,
                                        value=float(pro.at[ln, col])))
    for table in ("processes", "process_costs"):
        df = inst.tables[table]
        for col in ("capex", "fixed_om"):
            bad = df["process"].isin(none) & (df[col].astype("float64").fillna(0) > 0)
            for ln in df.index[bad.to_numpy(dtype=bool)]:
                problems.append(Problem(inst.label(table), f"process '{df.at[ln, 'process']}' has no plant (capacity false): "
                                        f"its {col} must be 0 or blank", row=int(ln), column=col, value=float(df.at[ln, col])))


def _check_plantless_rows(inst: Instance, problems: list[Problem]) -> None:
    """Nothing builds, lists or limits the capacity of a process without plant."""
    none = _plantless(inst)
    if not none:
        return
    for table in ("capacity", "build_limits"):
        df = inst.tables[table]
        for ln in df.index[df["process"].isin(none).to_numpy(dtype=bool)]:
            problems.append(Problem(inst.label(table), f"process '{df.at[ln, 'process']}' has no plant (capacity false in "
                                    f"{inst.label('processes')}): it has no {'existing capacity' if table == 'capacity' else 'build limits'}",
                                    row=int(ln), column="process", value=df.at[ln, "process"]))
    pol = inst.tables["policies"]
    for ln, kind, cell in zip(pol.index, pol["kind"], pol["processes"]):
        if POLICY_KINDS[kind].var in ("cap", "new") and not _is_blank(cell) and cell != "*":
            named = sorted(set(str(cell).split(";")) & none)
            if named:
                problems.append(Problem(inst.label("policies"), f"kind {kind} limits capacity, but {', '.join(named)} has no plant "
                                        "(capacity false)", row=int(ln), column="processes", value=cell))


def _check_io_delays(inst: Instance, problems: list[Problem]) -> None:
    """Only outputs may be delayed, and never the reference row."""
    io = inst.tables["process_io"]
    if "delay" not in io.columns:
        return
    delay = io["delay"].fillna(0).astype("int64")
    for ln in io.index[((delay > 0) & (io["direction"] == "in")).to_numpy(dtype=bool)]:
        problems.append(Problem(inst.label("process_io"), "only outputs may be delayed (an input is used when the activity runs)",
                                row=int(ln), column="delay", value=int(delay[ln])))
    for ln in io.index[((delay > 0) & io["reference"].astype(bool)).to_numpy(dtype=bool)]:
        problems.append(Problem(inst.label("process_io"), "the reference row measures the activity itself: its delay must be 0",
                                row=int(ln), column="delay", value=int(delay[ln])))


def _check_curve_shares(inst: Instance, problems: list[Problem]) -> None:
    """The steps of one demand curve (one commodity, region and year cell) let at most the
    whole demand go unserved: their shares sum to at most 1."""
    dr = inst.tables["demand_response"]
    if not len(dr):
        return
    key = [dr["commodity"].astype(str), dr["region"].astype(str), dr["year"].astype("float64").fillna(-1)]
    for _, grp in dr.groupby(key, sort=False):
        total = float(grp["share"].sum())
        if total > 1 + 1e-9:
            where = f"{grp['commodity'].iloc[0]} in {grp['region'].iloc[0]}" + (
                f" in {int(grp['year'].iloc[0])}" if not _is_blank(grp["year"].iloc[0]) else " (every year)")
            problems.append(Problem(inst.label("demand_response"), f"the shares of the demand curve of {where} sum to {total:g} "
                                    f"(rows {', '.join(str(int(x)) for x in grp.index)}): at most 1", row=int(grp.index[-1]),
                                    column="share", value=float(grp["share"].iloc[-1])))


def _check_storage_levels(inst: Instance, problems: list[Problem]) -> None:
    """A final stock a store cannot hold can never be handed on."""
    st = inst.tables["storage"]
    if not len(st):
        return
    final = st["final"].astype("float64").fillna(st["initial"].astype("float64"))
    bad = final > st["max_level"].astype("float64")
    for ln in st.index[bad.fillna(False).to_numpy(dtype=bool)]:
        problems.append(Problem(inst.label("storage"), f"the final stock ({final[ln]:g}; blank final: the initial stock) is "
                                f"above max_level ({float(st.at[ln, 'max_level']):g})", row=int(ln), column="final"))


def _check_row_references(inst: Instance, problems: list[Problem], incomplete: Mapping[str, set | None]) -> None:
    """Every table: the names a column declares it refers to (``Column.ref`` in the schema)
    exist, years lie in the horizon (``Column.horizon``), sources are listed in the settings.
    A name that may sit on a refused row of its table (``incomplete``) is not reported."""
    T = inst.tables
    first, last = inst.first_year, inst.last_year
    sources = {s["id"] for s in inst.sources}
    known = {}
    for name in {c.ref for t in TABLES.values() for c in t.columns if c.ref}:
        if name in incomplete and incomplete[name] is None:
            continue  # the whole table was refused: nothing can be checked against it
        known[name] = set(T[name][TABLES[name].key[0]]) | set(incomplete.get(name) or ())
    found = []  # (table order, row, column order, problem)
    for ti, (name, df) in enumerate(T.items()):
        label = inst.label(name)
        schema = TABLES[name]
        for ci, col in enumerate(schema.columns):
            if col.name not in df.columns or not len(df):
                continue
            cells = df[col.name]
            if col.ref and col.ref in known:
                universe = known[col.ref]
                what = TABLES[col.ref].key[0]
                listed = ", ".join(sorted(universe)) or "none"
                if len(listed) > 200:
                    listed = listed[:200] + ", ..."
                for ln, cell in zip(df.index, cells.tolist()):
                    if _is_blank(cell) or (col.star and cell == "*"):
                        continue
                    items = str(cell).split(";") if col.type == "list" else [cell]
                    for item in items:
                        if item not in universe and not (col.star and item == "*"):
                            found.append((ti, int(ln), ci, Problem(
                                label, f"unknown {what} '{item}' (expected a {what} of {inst.label(col.ref)}: {listed})"
                                       f"{did_you_mean(item, universe)}",
                                row=int(ln), column=col.name, value=item)))
            if col.horizon:
                y = cells.astype("float64")
                bad = (y > last) if col.horizon == "until" else ((y < first) | (y > last))
                for ln in df.index[bad.fillna(False).to_numpy(dtype=bool)]:
                    v = int(df.at[ln, col.name])
                    text = f"year after the horizon {first}-{last}" if col.horizon == "until" else f"year outside the horizon {first}-{last}"
                    found.append((ti, int(ln), ci, Problem(label, text, row=int(ln), column=col.name, value=v)))
        if "source" in df.columns and sources:
            for ln, cell in zip(df.index, df["source"].tolist()):
                if not _is_blank(cell) and str(cell).strip() and str(cell).strip() not in sources:
                    found.append((ti, int(ln), len(schema.columns), Problem(
                        label, f"unknown source '{cell}' (not in the sources of {inst.settings_label})"
                               f"{did_you_mean(str(cell).strip(), sources)}", row=int(ln), column="source")))
    problems.extend(p for *_, p in sorted(found, key=lambda t: t[:3]))


def _check_trade_lanes(inst: Instance, problems: list[Problem]) -> None:
    """A trade lane joins two different regions."""
    trade = inst.tables["trade"]
    for ln in trade.index[trade["origin"] == trade["destination"]]:
        problems.append(Problem(inst.label("trade"), "a lane's origin and destination must differ", row=int(ln), column="destination", value=trade.at[ln, "destination"]))


def _check_reference_rows(inst: Instance, problems: list[Problem], unsure: set | None = frozenset(),
                          counts: bool = True, coefficients: bool = True) -> None:
    """Each process has exactly one reference row in process_io (``counts``), whose coefficient
    is 1 (``coefficients``); problems are given process by process, in name order.

    ``unsure``: processes one of whose process_io rows was refused (not checked); None: the
    whole table was refused (nothing is checked).
    """
    if unsure is None:
        return
    T = inst.tables
    io = T["process_io"]
    label = inst.label("process_io")
    # the reference rows of each process, in file order: one pass over the table instead of
    # one filter a process
    ref = io[io["reference"].astype(bool)]
    ref_lines: dict[Any, list] = {}
    for ln, p in zip(ref.index, ref["process"]):
        ref_lines.setdefault(p, []).append(ln)
    coef = ref["coefficient"]
    off = set(ref.index[(coef != 1).to_numpy(dtype=bool)]) if coefficients else set()
    if not counts and not off:
        return
    for p in sorted(set(T["processes"]["process"])):
        if p in unsure:
            continue
        lines = ref_lines.get(p, [])
        if counts and len(lines) != 1:
            pline = int(T["processes"].index[T["processes"]["process"] == p][0])
            listed = ", ".join(str(int(x)) for x in lines) or "none"
            problems.append(Problem(inst.label("processes"), f"process '{p}' must have exactly one reference row in process_io.csv (found {len(lines)}: rows {listed})", row=pline, column="process"))
        for ln in lines:
            if ln in off:
                problems.append(Problem(label, "the reference row's coefficient must be 1", row=int(ln), column="coefficient", value=float(ref.at[ln, "coefficient"])))


def _check_io_directions(inst: Instance, problems: list[Problem]) -> None:
    """A process does not both consume and produce one commodity."""
    io = inst.tables["process_io"]
    label = inst.label("process_io")
    # one pass over the groups (a row-by-row search took minutes on a file of thousands of rows)
    both = []
    for (p, c), grp in io[io.duplicated(["process", "commodity"], keep=False)].groupby(["process", "commodity"], sort=False):
        if set(grp["direction"]) == {"in", "out"}:
            both.append((int(grp.index[-1]), p, c))
    for ln, p, c in sorted(both):
        problems.append(Problem(label, f"process '{p}' both consumes and produces '{c}'; state the net coefficient once", row=ln, column="commodity"))


def _check_policy_rows(inst: Instance, problems: list[Problem]) -> None:
    """Each policy row names what it limits; the rows of a policy share one kind and do not mix
    an every-year row with rows for single years."""
    pol = inst.tables["policies"]
    label = inst.label("policies")
    def given(row, column):
        return column in row and not _is_blank(row[column]) and row[column] not in ("", "*")

    for ln, row in zip(pol.index, pol.to_dict("records")):
        kind = POLICY_KINDS[row["kind"]]
        if _is_blank(row[kind.select]) or row[kind.select] == "":
            problems.append(Problem(label, f"kind {kind.name} needs the {kind.sums} it limits: name {kind.select} (or *)", row=int(ln), column=kind.select))
        if not kind.destinations and given(row, "destinations"):
            problems.append(Problem(label, f"destinations apply only to kind max_trade, not {kind.name}", row=int(ln), column="destinations"))
        if kind.share_of and (_is_blank(row.get("share_of")) or row.get("share_of") == ""):
            problems.append(Problem(label, f"kind {kind.name} needs the processes whose activity the share is of: name share_of (or *)",
                                    row=int(ln), column="share_of"))
        if not kind.share_of and given(row, "share_of"):
            problems.append(Problem(label, f"share_of applies only to kinds max_share and min_share, not {kind.name}", row=int(ln), column="share_of"))
    for policy, grp in pol.groupby("policy", sort=False):
        if grp["kind"].nunique() > 1:
            problems.append(Problem(label, f"rows of policy '{policy}' must share one kind (found {', '.join(grp['kind'].unique())})", row=int(grp.index[1]), column="kind"))
        if grp["year"].isna().any() and len(grp) > 1:
            problems.append(Problem(label, f"policy '{policy}' has a row for every year (blank year) and other rows too", row=int(grp.index[grp['year'].isna()][0]), column="year"))


def _check_large_values(inst: Instance, problems: list[Problem]) -> None:
    """A warning for each number column holding a figure above ``LARGE`` in magnitude (larger
    than :data:`~rechain.model.cells.INFINITE` is refused as its cell is read): such a figure
    swamps every other cost or limit in floating point. One warning a column, at its first."""
    for name, df in inst.tables.items():
        for col in TABLES[name].columns:
            if col.type not in ("int", "float") or col.name not in df.columns or not len(df):
                continue
            x = df[col.name].astype("float64").abs().to_numpy()
            big = np.flatnonzero(np.nan_to_num(x) > LARGE)
            if len(big):
                ln = df.index[big[0]]
                more = f" (and {len(big) - 1} more row{'s' if len(big) > 2 else ''})" if len(big) > 1 else ""
                problems.append(Problem(inst.label(name), f"above {LARGE:g} in magnitude{more}: a figure this large swamps every "
                                        "other cost or limit (the solver may stop without an answer)", row=int(ln),
                                        column=col.name, value=float(df.at[ln, col.name]), severity="warning"))


def _check_unmet_penalty(inst: Instance, problems: list[Problem]) -> None:
    """An instance-wide unmet penalty, or one for each demanded commodity."""
    if inst.unmet_penalty is None:
        T = inst.tables
        commodities = set(T["commodities"]["commodity"])
        dem = T["demand"]
        com = T["commodities"].set_index("commodity")
        dr = T["demand_response"]
        curves = {(c, r, None if _is_blank(y) else int(y)) for c, r, y in zip(dr["commodity"], dr["region"], dr["year"])}

        def on_a_curve(c, r, y):
            return any(k in curves for k in ((c, r, y), (c, r, None), (c, "*", y), (c, "*", None)))

        pos = dem[dem["quantity"] > 0]
        uncovered = {c for c, r, y in zip(pos["commodity"], pos["region"], pos["year"]) if not on_a_curve(c, r, int(y))}
        for c in sorted(uncovered & commodities):
            if _is_blank(com.at[c, "unmet_penalty"]) if "unmet_penalty" in com.columns else True:
                problems.append(Problem(inst.settings_label, f"commodity '{c}' is demanded but has no unmet_penalty: set unmet_penalty "
                                                             f"in {inst.settings_label} or in {inst.label('commodities')}", column="unmet_penalty"))


# the numeric columns (besides years) that a cross-table check reads, and the check reading them;
# every other int/float column is checked only for its range, which _apply_change does
_VALUE_CHECKS = {
    ("process_io", "coefficient"): "reference_coefficients",
    ("demand", "quantity"): "unmet_penalty",
    ("commodities", "unmet_penalty"): "unmet_penalty",
    ("instance", "unmet_penalty"): "unmet_penalty",
    ("processes", "capex"): "plantless_costs",
    ("processes", "fixed_om"): "plantless_costs",
    ("processes", "unit_size"): "plantless_costs",
    ("processes", "min_build"): "plantless_costs",
    ("process_costs", "capex"): "plantless_costs",
    ("process_costs", "fixed_om"): "plantless_costs",
    ("process_io", "delay"): "io_delays",
    ("demand_response", "share"): "curve_shares",
    ("storage", "final"): "storage_levels",
    ("storage", "max_level"): "storage_levels",
    ("storage", "initial"): "storage_levels",
}

#: the checks a change of numbers can make fail, by name (see :func:`_value_checks`)
VALUE_CHECKS = {
    "plantless_costs": _check_plantless_costs,
    "plantless_rows": _check_plantless_rows,
    "io_delays": _check_io_delays,
    "curve_shares": _check_curve_shares,
    "storage_levels": _check_storage_levels,
    "unmet_penalty": _check_unmet_penalty,
}


def _value_checks(changes: list) -> set[str] | None:
    """The cross-table checks that ``changes`` (already applied without problems) can make fail:
    a set of names from ``_VALUE_CHECKS`` when every change sets or scales numbers of an int or
    float column other than a year; None (run every check) for anything else: names, lists,
    text, booleans, years, and settings other than ``unmet_penalty``."""
    needed: set[str] = set()
    for ch in changes:
        if not isinstance(ch, Mapping):
            return None
        table, column = ch.get("table"), ch.get("column")
        if not isinstance(table, str) or not isinstance(column, str):
            return None
        if table == "instance":
            if (table, column) not in _VALUE_CHECKS:
                return None
        else:
            schema = TABLES.get(table)
            if schema is None or column not in schema.column_names or column == "year":
                return None
            if schema.column(column).type not in ("int", "float"):
                return None
        if (table, column) in _VALUE_CHECKS:
            needed.add(_VALUE_CHECKS[(table, column)])
    return needed


