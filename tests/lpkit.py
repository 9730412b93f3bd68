"""Tiny instances stated in code, for tests of the LP.

``make_instance`` writes the CSV files and ``instance.yaml`` of SPEC section 1 into a temporary
folder and loads them with :func:`rechain.model.load_instance`, so each test states its instance
in a few lines and goes through the same reading and validation as a user's folder.

Rows are tuples in the column order of the file (missing trailing cells are blank) or dicts;
``None`` is a blank cell. Defaults keep the tiny instances short:

- ``regions``: names, default ``["r"]``
- ``commodities``: names, or ``{name: {kind, unmet_penalty, disposal_cost}}`` (kind defaults
  to ``material``)
- ``processes``: names, or ``{name: {lifetime, lead_time, availability, capex, fixed_om,
  variable_cost}}``: lifetime 30, lead time 0, availability 1, costs 0 unless given
- ``io``: ``(process, commodity, direction, coefficient[, reference[, delay]])``; without a
  fifth cell the first undelayed row of a process with coefficient 1 is its reference
- ``storage``, ``demand_response``, ``process_costs``: rows of the v2 tables (SPEC section 4)
"""

from __future__ import annotations

import csv
import math
import tempfile
from pathlib import Path

import yaml

import pyomo.environ as pyo
from pyomo.repn import generate_standard_repn

from rechain.model import build_model, load_instance
from rechain.solvers import solve
from instance_gen import _cell  # one way to write a cell, shared with the random instances

PROCESS_DEFAULTS = dict(stage="metal", lifetime=30, lead_time=0, availability=1.0, capex=0.0, fixed_om=0.0, variable_cost=0.0,
                        capacity=True, unit_size=None, min_build=None)

COLUMNS = {
    "capacity": ["process", "region", "year", "capacity"],
    "build_limits": ["process", "region", "year", "max_new", "max_total"],
    "demand": ["commodity", "region", "year", "quantity"],
    "supply": ["commodity", "region", "year", "max_quantity", "price"],
    "trade": ["commodity", "origin", "destination", "cost", "max_quantity"],
    "policies": ["policy", "kind", "year", "value", "processes", "commodities", "regions", "destinations", "penalty", "share_of"],
    "storage": ["commodity", "region", "initial", "max_level", "holding_cost", "final"],
    "demand_response": ["commodity", "region", "year", "step", "share", "price"],
    "process_costs": ["process", "region", "year", "capex", "fixed_om", "variable_cost"],
}


def _write(path: Path, columns: list[str], rows: list) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            if isinstance(r, dict):
                unknown = set(r) - set(columns)
                assert not unknown, f"{path.name}: unknown columns {unknown}"
                cells = [r.get(c) for c in columns]
            else:
                assert len(r) <= len(columns), f"{path.name}: too many cells in {r}"
                cells = list(r) + [None] * (len(columns) - len(r))
            w.writerow([_cell(c) for c in cells])


def _io_rows(io) -> list[list]:
    """Rows ``(process, commodity, direction, coefficient[, reference[, delay]])``."""
    rows, has_ref = [], set()
    for r in io:
        if len(r) >= 5 and r[4]:
            has_ref.add(r[0])
    for r in io:
        p, c, direction, coef = r[:4]
        if len(r) >= 5 and r[4] is not None:
            ref = bool(r[4])
        else:
            ref = p not in has_ref and coef == 1 and (len(r) < 6 or not r[5])
            if ref:
                has_ref.add(p)
        rows.append([p, c, direction, coef, ref, r[5] if len(r) >= 6 else None])
    return rows


def write_instance(
    folder,
    *,
    regions=("r",),
    commodities=(),
    processes=(),
    io=(),
    capacity=(),
    build_limits=(),
    demand=(),
    supply=(),
    trade=(),
    policies=(),
    storage=(),
    demand_response=(),
    process_costs=(),
    years=(2021, 2023),
    base_year=2020,
    discount_rate=0.0,
    unmet_penalty=1000.0,
    scenarios=None,
) -> Path:
    """Write an instance folder (SPEC section 1) and return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    settings = {
        "format_version": 2,
        "name": "tiny",
        "title": "tiny test instance",
        "years": {"first": int(years[0]), "last": int(years[1])},
        "base_year": int(base_year),
        "discount_rate": float(discount_rate),
        "unmet_penalty": None if unmet_penalty is None else float(unmet_penalty),
    }
    if scenarios:
        settings["scenarios"] = scenarios
    with open(folder / "instance.yaml", "w", encoding="utf-8") as f:
        yaml.safe_dump(settings, f, sort_keys=False)
    _write(folder / "regions.csv", ["region", "name"], [[r, r] for r in regions])

    com = commodities if isinstance(commodities, dict) else {c: {} for c in commodities}
    _write(
        folder / "commodities.csv",
        ["commodity", "unit", "kind", "description", "unmet_penalty", "disposal_cost"],
        [[c, "t", a.get("kind", "material"), c, a.get("unmet_penalty"), a.get("disposal_cost")] for c, a in com.items()],
    )
    pro = processes if isinstance(processes, dict) else {p: {} for p in processes}
    pcols = ["process", "name", "stage", "lifetime", "lead_time", "availability", "capex", "fixed_om", "variable_cost", "capacity"]
    lumpy = [c for c in ("unit_size", "min_build") if any(c in a for a in pro.values())]
    pcols += lumpy  # written only where a test gives them (plant modules, a MILP)
    prow = []
    for p, a in pro.items():
        unknown = set(a) - set(PROCESS_DEFAULTS)
        assert not unknown, f"processes: unknown attributes {unknown}"
        v = {**PROCESS_DEFAULTS, **a}
        prow.append([p, p] + [v[c] for c in pcols[2:]])
    _write(folder / "processes.csv", pcols, prow)
    _write(folder / "process_io.csv", ["process", "commodity", "direction", "coefficient", "reference", "delay"], _io_rows(io))
    for name, rows in (("capacity", capacity), ("build_limits", build_limits), ("demand", demand),
                       ("supply", supply), ("trade", trade), ("policies", policies), ("storage", storage),
                       ("demand_response", demand_response), ("process_costs", process_costs)):
        if rows:
            _write(folder / f"{name}.csv", COLUMNS[name], list(rows))
    return folder


def make_instance(folder=None, **kw):
    """Write a tiny instance (see :func:`write_instance`) and load it with ``load_instance``."""
    if folder is not None:
        return load_instance(write_instance(folder, **kw))
    with tempfile.TemporaryDirectory(prefix="rechain-lpkit-") as tmp:
        return load_instance(write_instance(Path(tmp) / "tiny", **kw))


def solved(inst_or_model, **kw):
    """Solve and insist on an optimum (the message says why not)."""
    r = solve(inst_or_model, **kw)
    assert r.status == "optimal", f"{r.status}: {r.message}"
    return r


def without(inst, family: str):
    """Solve ``inst`` with one constraint family of the built model deactivated."""
    m = build_model(inst)
    comp = getattr(m, family)
    assert len(comp) > 0, f"'{family}' has no rows in this instance: dropping it would prove nothing"
    comp.deactivate()
    return solve(m)


def value(table, **where) -> float:
    """The single value column of the one row of a results table matching ``where``."""
    t = table
    for k, v in where.items():
        t = t[t[k] == v]
    assert len(t) == 1, f"{len(t)} rows match {where}"
    col = [c for c in t.columns if c not in ("process", "commodity", "region", "origin", "destination",
                                              "year", "direction", "policy", "component")]
    assert len(col) == 1, f"several value columns {col}: pick one"
    return float(t[col[0]].iloc[0])


def column(table, col: str, **where) -> float:
    """``col`` of the one row of a results table matching ``where``."""
    t = table
    for k, v in where.items():
        t = t[t[k] == v]
    assert len(t) == 1, f"{len(t)} rows match {where}"
    return float(t[col].iloc[0])


def rel_close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel)


def flipped(inst, family):
    """Solve with every row of an inequality family replaced by the reverse inequality."""
    m = build_model(inst)
    comp = getattr(m, family)
    rows = [(c.body, c.lower, c.upper) for c in comp.values()]
    assert rows, f"'{family}' has no rows in this instance"
    assert not any(c.equality for c in comp.values())
    comp.deactivate()
    m.flipped_family = pyo.ConstraintList()
    for body, lo, up in rows:
        if up is not None:
            m.flipped_family.add(body >= up)
        if lo is not None:
            m.flipped_family.add(body <= lo)
    return solve(m)


def linear(con):
    """{variable name: coefficient} of a row's body, and the body's constant."""
    repn = generate_standard_repn(con.body, compute_values=True)
    coefs = {v.name: c for v, c in zip(repn.linear_vars, repn.linear_coefs)}
    assert repn.nonlinear_expr is None
    return coefs, repn.constant


def normalised(con, lead, lead_coef=1.0):
    """{variable name: coefficient} and right-hand side of a row, scaled so that the
    coefficient of ``lead`` is ``lead_coef`` (Pyomo may move terms across the relation)."""
    coefs, const = linear(con)
    s = coefs[lead] / lead_coef
    bound = pyo.value(con.upper if con.upper is not None else con.lower)
    return {k: v / s for k, v in coefs.items()}, (bound - const) / s
