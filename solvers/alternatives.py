"""Near-optimal alternatives (modelling to generate alternatives, MGA): plans whose cost is
within ``slack`` of the optimum and that differ most in the quantities an analyst cares about.

A least-cost plan is one point of a usually wide near-optimal space: many plans cost at most a
few per cent more and build quite different things in quite different places. This module
maps that space by the usual objective-swap iterations (DeCarolis 2011; Neumann and Brown
2021):

1. solve the LP: optimum ``z*``;
2. add the budget row ``cost(x) <= z* + slack * |z*|``;
3. for each group of chosen quantities (default: new capacity started over the horizon, by
   stage, region and unit), minimise it and maximise it within the budget (``directions=
   "minmax"``), or minimise random weightings of all groups (``directions="random"``).

Each alternative is re-solved in place in one HiGHS model (only the objective changes), so it
warm-starts from the last basis. The LP is the one a deterministic solve assembles from the
single LP description (:func:`rechain.model.prepare`, :func:`rechain.model.matrix.assemble`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rechain.model import Instance, load_instance, prepare
from rechain.model.matrix import assemble
from rechain.model.formatting import fmt

from .direct import _check, _set_options, new_highs, status_of, to_highs

__all__ = ["AlternativesResult", "alternatives"]


@dataclass
class AlternativesResult:
    """Outcome of :func:`alternatives`.

    ``objectives``: the cost of each plan (the optimum first), a Series by plan name;
    ``plans``: the chosen quantities of every plan as one table (plan, group, the group's key
    columns, value, unit); ``ranges``: per group, its value in the optimum and the least and
    most any alternative reached (``low``, ``high``); ``slack``; ``optimum``."""

    status: str
    optimum: float | None
    slack: float
    objectives: pd.Series
    plans: pd.DataFrame
    ranges: pd.DataFrame
    message: str = ""
    timings: dict = field(default_factory=dict)

    def describe(self) -> list[str]:
        """One sentence per group: how far it can move at no more than ``slack`` extra cost."""
        if self.status != "optimal":
            return [f"status {self.status}: {self.message}"]
        pct = f"{100 * self.slack:g} %"
        out = [f"{len(self.objectives) - 1} alternatives within {pct} of the optimum ({fmt(self.optimum)})"]
        for r in self.ranges.itertuples():
            out.append(f"{r.group}: between {fmt(r.low)} and {fmt(r.high)} {r.unit} (optimum {fmt(r.optimum)}) "
                       f"at <= {pct} extra cost")
        return out


def _groups(d, lp, over, stage: dict, family: str = "new") -> tuple[pd.DataFrame, list[np.ndarray]]:
    """The groups of the columns of ``family`` (``new`` or ``act``): a table (group, key
    columns, unit) and, per group, its LP columns."""
    keys = d.keys(family)
    cols = lp.cols[family]
    new = pd.DataFrame(keys, columns=["process", "region", "year"])
    new["col"] = cols
    new = new[new["col"] >= 0]
    units = d.aux["units"]["process"]
    new["unit"] = [units.get(p, "") for p in new["process"]]
    if over is None or over == "stage":
        new["stage"] = [stage.get(p, "") for p in new["process"]]
        by = ["stage", "region", "unit"]
    elif over == "process":
        by = ["process", "region", "unit"]
    elif isinstance(over, dict):
        rows = []
        for name, members in over.items():
            members = [members] if isinstance(members, str) else list(members)
            sel = np.zeros(len(new), dtype=bool)
            for m in members:
                if isinstance(m, str):
                    sel |= (new["process"] == m).to_numpy()
                else:
                    p, r = m
                    sel |= ((new["process"] == p) & (new["region"] == r)).to_numpy()
            if not sel.any():
                raise ValueError(f"alternatives: group {name!r} selects no capacity that can be built")
            units_ = sorted(set(new.loc[sel, "unit"]))
            if len(units_) > 1:
                raise ValueError(f"alternatives: group {name!r} sums capacity of unlike units ({', '.join(units_)})")
            rows.append(({"group": name, "unit": units_[0]}, new.loc[sel, "col"].to_numpy()))
        return pd.DataFrame([r for r, _ in rows]), [c for _, c in rows]
    else:
        raise ValueError(f"alternatives: over is 'stage', 'process' or a dict of group name -> processes or "
                         f"(process, region) pairs, not {over!r}")
    table, members = [], []
    for key, g in new.groupby(by, sort=True):
        row = dict(zip(by, key))
        row["group"] = " ".join(str(row[k]) for k in by if k != "unit")
        table.append(row)
        members.append(g["col"].to_numpy())
    return pd.DataFrame(table), members


QUANTITIES = {"new": "new", "activity": "act"}


def _processes_of(group: pd.Series, stage: dict) -> list[str]:
    if "process" in group:
        return [group["process"]]
    if "stage" in group:
        return [p for p, s in stage.items() if s == group["stage"]]
    return list(stage)


def alternatives(instance: Instance | str, slack: float = 0.05, n: int | None = None, over: Any = None,
                 quantity: str = "new", directions: str = "minmax", seed: int = 0, time_limit: float | None = None, highs: dict | None = None,
                 **options) -> AlternativesResult:
    """Plans within ``slack`` (a share: 0.05 = 5 %) of the least cost that differ most in the
    chosen quantities.

    ``quantity``: ``"new"`` (new capacity started over the horizon, default) or ``"activity"``
    (output of the plants over the horizon; a maximum of new capacity may be plant left idle,
    a maximum of activity is plant used). ``over``: the groups of quantities: ``"stage"``
    (default for ``new``: by stage, region and unit), ``"process"`` (default for ``activity``) (by process, region and unit), or a dict
    ``{name: [process or (process, region), ...]}`` of groups of one unit. ``directions``:
    ``"minmax"`` (each group minimised and maximised) or ``"random"`` (random non-negative
    weightings of the groups, minimised and maximised, reproducible from ``seed``). ``n``: at
    most this many alternatives (default: two per group with minmax, 10 with random). HiGHS
    options as ``highs={...}`` or keyword arguments."""
    t0 = time.perf_counter()
    if not isinstance(instance, Instance):
        instance = load_instance(instance)
    if not (isinstance(slack, (int, float)) and 0 <= slack < 10 and math.isfinite(slack)):
        raise ValueError(f"alternatives: slack is a share of the optimum cost in [0, 10), e.g. 0.05, not {slack!r}")
    if directions not in ("minmax", "random"):
        raise ValueError(f"alternatives: directions is 'minmax' or 'random', not {directions!r}")
    if n is not None and (not isinstance(n, int) or n < 0):
        raise ValueError(f"alternatives: n is a whole number >= 0, not {n!r}")
    if quantity not in QUANTITIES:
        raise ValueError(f"alternatives: quantity is 'new' or 'activity', not {quantity!r}")
    d = prepare(instance)
    lp = assemble(d)
    stage = dict(zip(instance.processes["process"], instance.processes["stage"]))
    if over is None:  # stages of new capacity; processes of activity (a stage's processes make each other's inputs)
        over = "stage" if quantity == "new" else "process"
    groups, members = _groups(d, lp, over, stage, QUANTITIES[quantity])
    if quantity == "activity":  # plants only: an end use without plant is not a choice of where to build
        plant = dict(zip(d.tables["process"]["process"], d.tables["process"]["plant"]))
        keep = [i for i, g in groups.iterrows() if any(plant.get(p, False) for p in _processes_of(g, stage))]
        groups, members = groups.iloc[keep].reset_index(drop=True), [members[i] for i in keep]
    h = new_highs()
    h.setOptionValue("output_flag", False)
    _set_options(h, {**(highs or {}), **options})
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    to_highs(lp, h)
    h.run()
    status, name = status_of(h)
    empty = pd.DataFrame()
    if status != "optimal":
        return AlternativesResult(status, None, slack, pd.Series(dtype=float), empty, empty,
                                  message=f"HiGHS stopped with status '{name}'")
    zstar = float(h.getInfo().objective_function_value)
    budget = zstar + slack * abs(zstar) - lp.offset
    nz = np.flatnonzero(lp.col_cost)
    _check(h.addRow(-np.inf, budget, len(nz), nz.astype(np.int32), lp.col_cost[nz]), "addRow")

    def totals(x):
        t = np.array([x[m].sum() for m in members])
        return np.where(np.abs(t) < 1e-7, 0.0, t)  # solver noise around 0 is 0

    x0 = np.asarray(h.getSolution().col_value, dtype=float)
    plans = [("optimum", zstar, totals(x0))]
    runs = []
    if directions == "minmax":
        for i, g in enumerate(groups["group"]):
            runs += [(f"min {g}", {i: 1.0}), (f"max {g}", {i: -1.0})]
        if n is not None:
            runs = runs[:n]
    else:
        rng = np.random.default_rng(seed)
        k = 10 if n is None else n
        for j in range(k):
            w = rng.random(len(members))
            runs.append((f"random {j + 1} {'min' if j % 2 == 0 else 'max'}", {i: (wi if j % 2 == 0 else -wi) for i, wi in enumerate(w)}))
    all_cols = np.arange(lp.num_col, dtype=np.int32)
    skipped = []
    for label, weights in runs:
        cost = np.zeros(lp.num_col)
        for i, w in weights.items():
            cost[members[i]] += w
        _check(h.changeColsCost(len(all_cols), all_cols, cost), "changeColsCost")
        h.run()
        st, nm = status_of(h)
        if st != "optimal":
            skipped.append(f"{label}: {nm}")
            continue
        x = np.asarray(h.getSolution().col_value, dtype=float)
        plans.append((label, float(np.dot(lp.col_cost, x) + lp.offset), totals(x)))

    names = [p[0] for p in plans]
    objectives = pd.Series([p[1] for p in plans], index=pd.Index(names, name="plan"), name="objective")
    values = np.vstack([p[2] for p in plans])
    keycols = [c for c in groups.columns if c not in ("group", "unit")]
    long = []
    for j, (label, _, v) in enumerate(plans):
        t = groups.copy()
        t.insert(0, "plan", label)
        t["value"] = v
        long.append(t)
    plans_t = pd.concat(long, ignore_index=True)[["plan", "group"] + keycols + ["value", "unit"]]
    ranges = groups.copy()
    ranges["optimum"] = values[0]
    ranges["low"] = values.min(axis=0)
    ranges["high"] = values.max(axis=0)
    ranges = ranges[["group"] + keycols + ["optimum", "low", "high", "unit"]]
    msg = "optimal" + (f"; not optimal (left out): {'; '.join(skipped)}" if skipped else "")
    return AlternativesResult("optimal", zstar, float(slack), objectives, plans_t, ranges, message=msg,
                              timings={"total": time.perf_counter() - t0})


from . import callable_module  # noqa: E402

callable_module(__name__)
