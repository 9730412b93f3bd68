"""Two-stage stochastic capacity plans: which plant to start now, before knowing which future
comes.

The scenarios (named scenarios of the instance, change mappings or
:class:`~rechain.model.scenarios.Scenario` values, as :func:`rechain.solvers.sweep` takes them)
each give an LP, assembled from the single LP description exactly as a deterministic solve
assembles it (:func:`rechain.model.prepare`, :func:`rechain.model.matrix.assemble`). The
**extensive form** puts them side by side: one block of rows and columns per scenario, except
the *first-stage* columns — new capacity ``new[p, r, v]`` whose building starts in a year
``v <= decide_through`` — which all scenarios share (non-anticipativity by shared columns).
Everything else (later builds, activity, trade, stocks, unmet demand) is recourse, chosen per
scenario. The objective is the expected cost ``sum_s prob_s * cost_s`` or, with ``risk``, a
mix of it with the conditional value at risk of the scenario costs, written as an LP
(Rockafellar and Uryasev 2000)::

    (1 - w) * sum_s prob_s cost_s  +  w * (eta + 1 / (1 - alpha) * sum_s prob_s u_s)
    u_s >= cost_s - eta,  u_s >= 0,  eta free

The standard measures of the value of stochastic modelling are computed, not stated:

- **wait-and-see** (WS): every scenario solved alone, as if it were known in advance; the same
  measure (expectation or risk mix) of those costs;
- **EVPI** = RP - WS: what perfect foresight would be worth (RP: the stochastic optimum);
- **EV plan**: the plan of the expected-value problem (every number of the LP averaged over
  the scenarios, weighted by probability); **EEV**: its first-stage decisions fixed and
  evaluated on every scenario; **VSS** = EEV - RP: what planning for the average loses.

Prices and shadow prices of a scenario are its rows' duals divided by its probability: the
change of that scenario's cost per unit more demand, as in a deterministic solve (with a risk
measure, of the scenario's weight in the risk objective, per unit of probability).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from rechain.model import Instance, load_instance, prepare
from rechain.model.matrix import CSC, LinearProgram, assemble
from rechain.model.results import ResultLayout
from rechain.model.scenarios import as_scenario

from .direct import _set_options, new_highs, status_of, to_highs

__all__ = ["StochasticResult", "stochastic", "cvar"]


def cvar(costs: Sequence[float], probabilities: Sequence[float], alpha: float) -> float:
    """Conditional value at risk at level ``alpha`` of a discrete distribution: the expected
    cost in the worst ``1 - alpha`` of probability (``alpha = 0``: the expectation; ``alpha``
    near 1: the worst case)."""
    c = np.asarray(costs, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    order = np.argsort(-c, kind="stable")
    tail = 1.0 - alpha
    left, total = tail, 0.0
    for k in order:
        take = min(p[k], left)
        total += take * c[k]
        left -= take
        if left <= 1e-15:
            break
    return total / tail


@dataclass
class Risk:
    """The risk mix of the objective: ``(1 - weight) * E[cost] + weight * CVaR_alpha[cost]``."""

    alpha: float
    weight: float = 1.0

    @classmethod
    def of(cls, risk: Any) -> "Risk | None":
        if risk is None:
            return None
        if isinstance(risk, Risk):
            r = risk
        elif isinstance(risk, (int, float)):
            r = cls(float(risk))
        elif isinstance(risk, dict):
            unknown = set(risk) - {"alpha", "weight"}
            if unknown or "alpha" not in risk:
                raise ValueError(f"risk is {{'alpha': A, 'weight': W}} (weight optional, default 1), not {risk!r}")
            r = cls(float(risk["alpha"]), float(risk.get("weight", 1.0)))
        else:
            raise ValueError(f"risk is a CVaR level alpha in [0, 1) or {{'alpha': A, 'weight': W}}, not {risk!r}")
        if not 0.0 <= r.alpha < 1.0:
            raise ValueError(f"risk: the CVaR level alpha must be in [0, 1), not {r.alpha}")
        if not 0.0 <= r.weight <= 1.0:
            raise ValueError(f"risk: the weight of CVaR must be in [0, 1], not {r.weight}")
        return r

    def measure(self, costs, probabilities) -> float:
        e = float(np.dot(costs, probabilities))
        return (1.0 - self.weight) * e + self.weight * cvar(costs, probabilities, self.alpha)


def _measure(risk: Risk | None, costs, probabilities) -> float:
    if any(not math.isfinite(c) for c in costs):
        return math.inf
    return float(np.dot(costs, probabilities)) if risk is None else risk.measure(costs, probabilities)


@dataclass
class StochasticResult:
    """Outcome of :func:`stochastic`.

    ``objective``: the optimum of the stochastic program (RP): the expected cost of the hedged
    plan, or its risk mix when a risk measure was given; ``expected_cost``: the expected cost of
    the hedged plan either way. ``first_stage``: the shared decisions (process, region, year,
    new, unit). ``scenarios``: per-scenario result tables with a ``scenario`` column
    (``scenarios.capacity``, ``scenarios.prices``, ...) and ``scenarios.summary`` (scenario,
    probability, cost of the hedged plan, wait-and-see cost, cost of the EV plan).
    ``wait_and_see``, ``eev``, ``evpi`` = RP - WS, ``vss`` = EEV - RP (None where the EV problem
    could not be formed), ``ev_first_stage``: the first-stage decisions of the EV plan. Money in the instance's units,
    discounted as the objective of a deterministic solve."""

    status: str
    objective: float | None
    expected_cost: float | None
    first_stage: pd.DataFrame
    scenarios: Any
    probabilities: dict[str, float]
    decide_through: int
    risk: Risk | None = None
    wait_and_see: float | None = None
    eev: float | None = None
    evpi: float | None = None
    vss: float | None = None
    ev_first_stage: pd.DataFrame | None = None
    message: str = ""
    timings: dict = field(default_factory=dict)

    def describe(self) -> list[str]:
        """The result in a few sentences."""
        if self.status != "optimal":
            return [f"status {self.status}: {self.message}"]
        what = "expected cost" if self.risk is None else (
            f"{1 - self.risk.weight:g} x expected cost + {self.risk.weight:g} x CVaR at alpha {self.risk.alpha:g}")
        out = [f"hedged plan over {len(self.probabilities)} scenarios, decisions shared up to {self.decide_through}: "
               f"{what} {self.objective:,.6g}" + ("" if self.risk is None else f" (expected cost {self.expected_cost:,.6g})")]
        if self.evpi is not None:
            out.append(f"wait-and-see {self.wait_and_see:,.6g}: EVPI {self.evpi:,.6g} (what knowing the scenario in advance is worth)")
        if self.vss is not None:
            out.append(f"expected-value plan evaluated on the scenarios {self.eev:,.6g}: VSS {self.vss:,.6g} "
                       "(what planning for the average would lose)")
        return out + plan_lines(self.first_stage)


def plan_lines(first_stage: pd.DataFrame) -> list[str]:
    """The first-stage decisions in words, one line a decision started."""
    fs = first_stage[first_stage["new"] > 1e-6]
    out = [f"start {r.new:,.6g} {r.unit}/y of {r.process} in {r.region} in {r.year}" for r in fs.itertuples()]
    return out or ["no capacity to start in the first stage"]


@dataclass
class _Block:
    label: str
    instance: Instance
    data: Any
    lp: LinearProgram
    first: np.ndarray  # columns of the block that are first-stage, in key order of ``keys``
    keys: list  # (process, region, year) of those columns


def _scenario_list(instance: Instance, scenarios, probabilities):
    scs = [as_scenario(s) for s in scenarios]
    if not scs:
        raise ValueError("stochastic: give at least one scenario")
    labels = [s.label for s in scs]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise ValueError(f"stochastic: scenario labels must be unique; repeated: {', '.join(dup)}")
    if probabilities is None:
        p = np.full(len(scs), 1.0 / len(scs))
    else:
        if isinstance(probabilities, dict):
            missing = [x for x in labels if x not in probabilities]
            if missing:
                raise ValueError(f"stochastic: no probability for scenario(s) {', '.join(missing)}")
            p = np.array([float(probabilities[x]) for x in labels])
        else:
            p = np.asarray(list(probabilities), dtype=float)
            if len(p) != len(scs):
                raise ValueError(f"stochastic: {len(p)} probabilities for {len(scs)} scenarios")
        if (~np.isfinite(p)).any() or (p < 0).any() or p.sum() <= 0:
            raise ValueError(f"stochastic: probabilities must be finite, >= 0 and not all 0, not {list(p)}")
        if abs(p.sum() - 1.0) > 1e-6:
            raise ValueError(f"stochastic: probabilities must sum to 1 (they sum to {p.sum():.6g})")
    return scs, p


def _block(label: str, inst: Instance, decide_through: int) -> _Block:
    d = prepare(inst)
    lp = assemble(d)
    cols = lp.cols["new"]
    keys = d.keys("new")
    pick = [i for i, k in enumerate(keys) if int(k[2]) <= decide_through and cols[i] >= 0]
    return _Block(label, inst, d, lp, np.asarray([cols[i] for i in pick], dtype=np.int64), [tuple(keys[i]) for i in pick])


def _blocks(instance: Instance, scs, through: int) -> list[_Block]:
    """The scenarios' blocks. A scenario that changes only numbers of the first one's LP (of
    the same shape) has them mapped onto that LP in place (:class:`ParameterMap`, as a sweep
    re-solve does: the same LP as preparing and assembling it again); any other is built."""
    from rechain.model.errors import RebuildRequired
    from rechain.model.params import ParameterMap

    out: list[_Block] = []
    first = pmap = None
    for s in scs:
        inst = s.apply(instance)
        if pmap is not None:
            try:
                up = pmap.apply(inst)
            except RebuildRequired:
                pass
            else:
                out.append(_Block(s.label, inst, up.data, up.lp, first.first, first.keys))
                continue
        b = _block(s.label, inst, through)
        if pmap is None:
            first, pmap = b, ParameterMap(inst, b.data, b.lp)
        out.append(b)
    return out


def _solve_lp(lp: LinearProgram, options: dict, time_limit):
    h = new_highs()
    h.setOptionValue("output_flag", False)
    _set_options(h, dict(options))
    to_highs(lp, h)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    h.run()
    status, name = status_of(h)
    return h, status, name


def _stack(blocks: Sequence[_Block], weights: np.ndarray, shared: list, risk: Risk | None):
    """The extensive form: per block, its columns (the first-stage ones mapped onto the shared
    columns, which come first) and rows; with a risk measure, eta and u_s columns and one row
    per scenario. Returns the LP and, per block, (column map, row offset)."""
    nshare = len(shared)
    where = {k: i for i, k in enumerate(shared)}
    ncol = nshare
    maps = []
    for b in blocks:
        m = np.full(b.lp.num_col, -1, dtype=np.int64)
        m[b.first] = [where[k] for k in b.keys]
        own = np.flatnonzero(m < 0)
        m[own] = ncol + np.arange(len(own))
        ncol += len(own)
        maps.append(m)
    extra = 0 if risk is None else 1 + len(blocks)
    eta = ncol
    ncol += extra

    cost = np.zeros(ncol)
    lower = np.zeros(ncol)
    upper = np.full(ncol, np.inf)
    R, C, V = [], [], []
    row_lower, row_upper, offsets = [], [], []
    nrow = 0
    offset = 0.0
    e_weight = 1.0 if risk is None else 1.0 - risk.weight
    for s, (b, m) in enumerate(zip(blocks, maps)):
        lp = b.lp
        np.add.at(cost, m, e_weight * weights[s] * lp.col_cost)
        # bounds: a shared column takes the tightest bounds any scenario gives it
        lower[m] = np.maximum(lower[m], lp.col_lower)
        upper[m] = np.minimum(upper[m], lp.col_upper)
        a = lp.matrix
        col = np.repeat(np.arange(lp.num_col, dtype=np.int64), np.diff(a.indptr))
        R.append(a.indices.astype(np.int64) + nrow)
        C.append(m[col])
        V.append(a.data)
        row_lower.append(lp.row_lower)
        row_upper.append(lp.row_upper)
        offsets.append(nrow)
        nrow += lp.num_row
        offset += e_weight * weights[s] * lp.offset
    if risk is not None:
        # u_s + eta - cost_s . x_s >= offset_s
        lower[eta] = -np.inf
        cost[eta] = risk.weight
        for s, (b, m) in enumerate(zip(blocks, maps)):
            u = eta + 1 + s
            cost[u] = risk.weight * weights[s] / (1.0 - risk.alpha)
            nz = np.flatnonzero(b.lp.col_cost)
            R.append(np.full(len(nz) + 2, nrow, dtype=np.int64))
            C.append(np.concatenate([m[nz], [eta, u]]))
            V.append(np.concatenate([-b.lp.col_cost[nz], [1.0, 1.0]]))
            row_lower.append(np.array([b.lp.offset]))
            row_upper.append(np.array([np.inf]))
            nrow += 1
    R, C, V = np.concatenate(R), np.concatenate(C), np.concatenate(V)
    # one entry per (row, column): a shared column can meet the same row only within one block
    order = np.lexsort((R, C))
    R, C, V = R[order], C[order], V[order]
    indptr = np.zeros(ncol + 1, dtype=np.int64)
    np.cumsum(np.bincount(C, minlength=ncol), out=indptr[1:])
    lp = LinearProgram(col_cost=cost, col_lower=lower, col_upper=upper, row_lower=np.concatenate(row_lower),
                       row_upper=np.concatenate(row_upper), matrix=CSC(indptr, R, V, (nrow, ncol)), offset=offset)
    return lp, maps, offsets


def _block_cost(b: _Block, x: np.ndarray) -> float:
    return float(np.dot(b.lp.col_cost, x) + b.lp.offset)


def _tables(b: _Block, x: np.ndarray, y: np.ndarray, scale: float) -> dict[str, pd.DataFrame]:
    layout = ResultLayout(b.data)
    columns = layout.columns(b.lp.values(x), b.lp.duals(y / scale))
    return layout.frames(columns)


def _fixed(b: _Block, values: np.ndarray) -> LinearProgram:
    """The block's LP with its first-stage columns fixed at ``values``."""
    from dataclasses import replace

    lo, up = b.lp.col_lower.copy(), b.lp.col_upper.copy()
    lo[b.first] = values
    up[b.first] = values
    return replace(b.lp, col_lower=lo, col_upper=up)


def _mean_lp(blocks: Sequence[_Block], p: np.ndarray, through: int) -> tuple[LinearProgram, np.ndarray, list] | None:
    """The expected-value LP with its first-stage columns and their keys. Where all scenarios
    give an LP of one shape, every number of it averaged (weights ``p``); otherwise the LP of
    the mean instance (every number of every table averaged, where the scenarios' tables have
    the same rows and settings); None where neither can be formed."""
    from dataclasses import replace

    first = blocks[0].lp
    same = all(lp.num_col == first.num_col and lp.num_row == first.num_row and lp.num_nz == first.num_nz
               and np.array_equal(lp.matrix.indptr, first.matrix.indptr)
               and np.array_equal(lp.matrix.indices, first.matrix.indices)
               and all(np.array_equal(lp.cols[k], first.cols[k]) for k in first.cols)
               for lp in (b.lp for b in blocks[1:]))
    if same:
        def avg(get):
            return sum(w * get(b.lp) for w, b in zip(p, blocks))

        lp = replace(first, col_cost=avg(lambda lp: lp.col_cost), col_lower=avg(lambda lp: lp.col_lower),
                     col_upper=_avg_bound([b.lp.col_upper for b in blocks], p),
                     row_lower=_avg_bound([b.lp.row_lower for b in blocks], p),
                     row_upper=_avg_bound([b.lp.row_upper for b in blocks], p),
                     matrix=CSC(first.matrix.indptr, first.matrix.indices, avg(lambda lp: lp.matrix.data), first.matrix.shape),
                     offset=float(avg(lambda lp: lp.offset)))
        return lp, blocks[0].first, blocks[0].keys
    inst = _mean_instance([b.instance for b in blocks], p)
    if inst is None:
        return None
    b = _block("expected value", inst, through)
    return b.lp, b.first, b.keys


_SETTINGS = ("first_year", "last_year", "base_year", "discount_rate", "unmet_penalty")


def _mean_instance(insts: Sequence[Instance], p: np.ndarray) -> Instance | None:
    """An instance whose numbers are the probability-weighted means of the scenarios' (a blank
    anywhere stays blank: unbounded in one scenario is unbounded on average); None where the
    scenarios' tables differ in rows or names, or their settings differ."""
    from dataclasses import replace

    base = insts[0]
    if any(getattr(i, k) != getattr(base, k) for i in insts[1:] for k in _SETTINGS):
        return None
    tables = {}
    for name, t in base.tables.items():
        others = [i.tables[name] for i in insts[1:]]
        if any(len(o) != len(t) or list(o.columns) != list(t.columns) for o in others):
            return None
        num = [c for c in t.columns if pd.api.types.is_float_dtype(t[c]) or pd.api.types.is_integer_dtype(t[c])]
        rest = [c for c in t.columns if c not in num]
        if any(not o[rest].reset_index(drop=True).equals(t[rest].reset_index(drop=True)) for o in others):
            return None
        out = t.copy()
        for c in num:
            if c in ("year", "step", "delay", "lifetime", "lead_time"):
                if any(not np.array_equal(o[c].to_numpy(), t[c].to_numpy(), equal_nan=True) for o in others):
                    return None
                continue
            a = np.vstack([i.tables[name][c].to_numpy(dtype=float) for i in insts])
            mean = np.where(np.isnan(a), 0.0, a).T @ p
            out[c] = np.where(np.isnan(a).any(axis=0), np.nan, mean)
        tables[name] = out
    return replace(base, tables=tables)


def _avg_bound(arrays, p):
    """Weighted mean of bounds; infinite where any scenario's bound is infinite (of that sign)."""
    a = np.vstack(arrays)
    out = np.where(np.isfinite(a), a, 0.0).T @ p
    out = np.where(np.isposinf(a).any(axis=0), np.inf, out)
    return np.where(np.isneginf(a).any(axis=0), -np.inf, out)


class ScenarioTables:
    """Per-scenario result tables with a leading ``scenario`` column (``.capacity``, ``.prices``,
    ...), and ``summary``."""

    def __init__(self, summary: pd.DataFrame, tables: dict[str, pd.DataFrame]):
        self.summary = summary
        self.tables = tables

    def __getattr__(self, item: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables")
        if tables is not None and item in tables:
            return tables[item]
        raise AttributeError(item)

    def __repr__(self) -> str:
        return f"ScenarioTables({len(self.summary)} scenarios: {', '.join(self.tables)})"


def stochastic(instance: Instance | str, scenarios: Iterable[Any], probabilities=None, decide_through: int | None = None,
               risk=None, time_limit: float | None = None, measures: bool = True, highs: dict | None = None,
               **options) -> StochasticResult:
    """The two-stage stochastic capacity plan of ``instance`` over ``scenarios``.

    ``scenarios``: scenario names of the instance, change mappings, :class:`Scenario` values
    or lists of them (``None`` for the base), labels unique. ``probabilities``: a list aligned
    with ``scenarios`` or a dict by label (default: equal), summing to 1. ``decide_through``:
    the last vintage year whose new capacity is decided before the scenario is known (default:
    the first year). ``risk``: None (expected cost), a CVaR level ``alpha`` in [0, 1), or
    ``{"alpha": A, "weight": W}`` for ``(1 - W) E + W CVaR_A``. ``measures``: also compute
    wait-and-see, EVPI, the EV plan, EEV and VSS (one more solve per scenario, and two). HiGHS
    options as ``highs={...}`` or keyword arguments."""
    t0 = time.perf_counter()
    if not isinstance(instance, Instance):
        instance = load_instance(instance)
    opts = {**(highs or {}), **options}
    rk = Risk.of(risk)
    scs, p = _scenario_list(instance, scenarios, probabilities)
    through = instance.first_year if decide_through is None else int(decide_through)
    if not instance.first_year <= through <= instance.last_year:
        raise ValueError(f"decide_through {through} is outside the instance's years "
                         f"{instance.first_year}-{instance.last_year}")
    blocks = _blocks(instance, scs, through)
    shared = sorted({k for b in blocks for k in b.keys}, key=lambda k: (str(k[0]), str(k[1]), int(k[2])))
    t1 = time.perf_counter()
    ext, maps, offsets = _stack(blocks, p, shared, rk)
    # a decision some scenario cannot take (no build limit row for it there) is not taken at all
    missing = np.zeros(len(shared), dtype=bool)
    for b in blocks:
        have = set(b.keys)
        missing |= np.array([k not in have for k in shared])
    ext.col_upper[:len(shared)][missing] = 0.0
    t2 = time.perf_counter()
    h, status, name = _solve_lp(ext, opts, time_limit)
    t3 = time.perf_counter()
    timings = {"build": t1 - t0, "assemble": t2 - t1, "solve": t3 - t2}
    probs = dict(zip([b.label for b in blocks], p.tolist()))
    empty_fs = pd.DataFrame(columns=["process", "region", "year", "new", "unit"])
    if status != "optimal":
        return StochasticResult(status, None, None, empty_fs, ScenarioTables(pd.DataFrame(), {}), probs, through, rk,
                                message=f"HiGHS stopped with status '{name}' on the extensive form", timings=timings)
    sol = h.getSolution()
    x = np.asarray(sol.col_value, dtype=float)
    y = np.asarray(sol.row_dual, dtype=float)
    rp = float(h.getInfo().objective_function_value)
    z = x[:len(shared)]
    units = blocks[0].data.aux["units"]["process"]
    first_stage = pd.DataFrame({"process": [k[0] for k in shared], "region": [k[1] for k in shared],
                                "year": [int(k[2]) for k in shared], "new": z,
                                "unit": [units.get(k[0], "") for k in shared]})

    costs, tables = [], {}
    for s, (b, m, off) in enumerate(zip(blocks, maps, offsets)):
        xs = x[m]
        costs.append(_block_cost(b, xs))
        if p[s] > 0:
            for name_, t in _tables(b, xs, y[off:off + b.lp.num_row], p[s]).items():
                t.insert(0, "scenario", b.label)
                tables.setdefault(name_, []).append(t)
    tables = {k: pd.concat(v, ignore_index=True) for k, v in tables.items()}
    expected = float(np.dot(costs, p))
    summary = pd.DataFrame({"scenario": [b.label for b in blocks], "probability": p, "cost": costs})

    ws = eev = evpi = vss = ev_fs = None
    if measures:
        t4 = time.perf_counter()
        ws_costs = []
        for b in blocks:
            hb, st, nm = _solve_lp(b.lp, opts, time_limit)
            ws_costs.append(float(hb.getInfo().objective_function_value) if st == "optimal" else math.nan)
        summary["wait_and_see"] = ws_costs
        if all(math.isfinite(c) for c in ws_costs):
            ws = _measure(rk, ws_costs, p)
            evpi = rp - ws
        mean = _mean_lp(blocks, p, through)
        if mean is not None:
            mlp, mfirst, mkeys = mean
            hm, st, nm = _solve_lp(mlp, opts, time_limit)
            if st == "optimal":
                xm = np.asarray(hm.getSolution().col_value, dtype=float)
                ev = dict(zip(mkeys, xm[mfirst]))
                ev_fs = first_stage.assign(new=[ev.get(k, 0.0) for k in shared])
                eev_costs = []
                for b in blocks:
                    plan = np.array([ev.get(k, 0.0) for k in b.keys])
                    hb, st2, _ = _solve_lp(_fixed(b, plan), opts, time_limit)
                    eev_costs.append(float(hb.getInfo().objective_function_value) if st2 == "optimal" else math.inf)
                summary["ev_plan_cost"] = eev_costs
                eev = _measure(rk, eev_costs, p)
                vss = eev - rp
        timings["measures"] = time.perf_counter() - t4
    timings["total"] = time.perf_counter() - t0
    return StochasticResult("optimal", rp, expected, first_stage, ScenarioTables(summary, tables), probs, through, rk,
                            wait_and_see=ws, eev=eev, evpi=evpi, vss=vss, ev_first_stage=ev_fs, message="optimal", timings=timings)


from . import callable_module  # noqa: E402

callable_module(__name__)
