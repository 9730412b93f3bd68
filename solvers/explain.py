"""Why is an instance infeasible? An elastic re-solve, said in words, plus HiGHS's IIS.

The elastic copy is the model of SPEC section 2 with a penalised slack on every row a user can
loosen: each hard policy, each build limit (``build_new_limit``, ``build_total_limit``), each
outside-supply and lane limit (``supply_limit``, ``trade_limit``) and each commodity
``balance`` (a shortage: material from nowhere; a surplus: material that can go nowhere). The
definitions of capacity and its use stay hard: they are physics, not choices. The elastic
copy minimises the weighted total relaxation (an L1 norm, whose optimum sits on a vertex, so
few slacks are non-zero), and each non-zero slack becomes one sentence with its number:

    policy `mining_quota` 2023 (max_activity, value 55) must allow 12.4 more (at least 67.4)

Weights make relaxations comparable across units: a slack costs its amount divided by the
size of the row's limit (max(|limit|, 1)), so the explanation prefers relaxing a limit by a
small share; a balance slack costs 100 times more, so material from nowhere is named only
when no policy or limit could explain the infeasibility.

Where the installed HiGHS offers an IIS (``Highs.getIis``), :func:`explain` also returns an
irreducible infeasible subset of the original rows: remove any one and the rest is feasible.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyomo.environ as pyo

from rechain.model import Instance, build_model
from rechain.model.formatting import fmt

from . import pyomo_highs

BALANCE_WEIGHT = 100.0
TOL = 1e-6


@dataclass
class Relaxation:
    """One row loosened by the elastic re-solve: ``amount`` more (or less) than it allows."""

    family: str          # constraint family: policy, build_new_limit, ..., balance
    key: tuple           # its index in the model
    amount: float        # size of the relaxation, in the row's units
    direction: str       # 'more' (raise a max / more material) or 'less' (lower a min / absorb a surplus)
    limit: float | None  # the row's current limit
    text: str            # the sentence for people

    def __str__(self) -> str:
        return self.text


@dataclass
class Explanation:
    """What the elastic re-solve and the IIS found. ``status`` is the elastic solve's status
    ('optimal' when a set of relaxations was found)."""

    status: str
    relaxations: list[Relaxation] = field(default_factory=list)
    total: float | None = None           # the weighted total relaxation (objective of the elastic copy)
    iis: list[str] | None = None         # rows (and bounds) of an IIS, in words; None: not available
    iis_note: str = ""
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = []
        if self.status != "optimal":
            out.append(f"the elastic re-solve did not find relaxations (status {self.status})")
        elif not self.relaxations:
            out.append("the elastic re-solve needed no relaxation: the infeasibility is numerical or comes from a constraint outside the relaxed families")
        else:
            out.append("The smallest set of relaxations that makes the instance feasible:")
            out += [f"  - {r.text}" for r in self.relaxations]
        if self.iis:
            out.append("An irreducible infeasible subset of the constraints (HiGHS IIS; drop any one and the rest can be met):")
            out += [f"  - {s}" for s in self.iis]
        elif self.iis_note:
            out.append(self.iis_note)
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _units(instance: Instance) -> tuple[dict, dict]:
    """Unit of each commodity, and of each process's activity (its reference commodity)."""
    com = dict(zip(instance.commodities["commodity"], instance.commodities["unit"].fillna("")))
    io = instance.process_io
    ref = io[io["reference"]]
    proc = {p: com.get(c, "") for p, c in zip(ref["process"], ref["commodity"])}
    return com, proc


def _u(unit: str) -> str:
    return f" {unit}" if unit else ""


def _describe(family: str, key: tuple, amount: float, direction: str, limit: float | None, d, units) -> str:
    com_u, proc_u = units
    a = fmt(amount)
    if family == "policy":
        pol, y = key
        row = d.policy[(d.policy["policy"] == pol) & (d.policy["year"] == y)].iloc[0]
        if row["sense"] == "max":
            return f"policy `{pol}` {y} ({row['kind']}, value {fmt(limit)}) must allow {a} more (at least {fmt(limit + amount)})"
        return f"policy `{pol}` {y} ({row['kind']}, value {fmt(limit)}) must ask for {a} less (at most {fmt(limit - amount)})"
    if family == "build_new_limit":
        p, r, y = key
        return (f"build limit: new `{p}` capacity started in `{r}` {y} must be allowed {a}{_u(proc_u.get(p, ''))}/y more "
                f"than max_new {fmt(limit)} (at least {fmt(limit + amount)})")
    if family == "build_total_limit":
        p, r, y = key
        return (f"build limit: total `{p}` capacity in `{r}` {y} must be allowed {a}{_u(proc_u.get(p, ''))}/y more "
                f"than max_total {fmt(limit)} (at least {fmt(limit + amount)})")
    if family == "supply_limit":
        c, r, y = key
        return (f"outside supply of `{c}` into `{r}` {y} must allow {a}{_u(com_u.get(c, ''))} more "
                f"than max_quantity {fmt(limit)} (at least {fmt(limit + amount)})")
    if family == "trade_limit":
        c, o, dd, y = key
        return (f"lane `{c}` `{o}` → `{dd}` {y} must carry {a}{_u(com_u.get(c, ''))} more "
                f"than max_quantity {fmt(limit)} (at least {fmt(limit + amount)})")
    if family == "balance":
        c, r, y = key
        unit = _u(com_u.get(c, ""))
        if direction == "more":
            if limit and limit > 0:
                return f"demand for `{c}` in `{r}` {y} cannot be met by {a}{unit}, and no unmet demand is allowed for it (more must come from nowhere)"
            return f"`{c}` in `{r}` {y} is short by {a}{unit}: more is needed than can be made, bought or shipped in"
        return f"`{c}` in `{r}` {y} has {a}{unit} more than can be used, shipped out or disposed of (give it a disposal_cost or a use)"
    return f"{family}{list(key)} must be relaxed by {a}"


def _bounds(c):
    lo = None if c.lower is None else pyo.value(c.lower)
    up = None if c.upper is None else pyo.value(c.upper)
    return lo, up


def _relaxable() -> tuple[str, ...]:
    """The row families the elastic copy may loosen (declared ``relax`` in
    :mod:`rechain.model.families`), hard policies first, balances last."""
    from rechain.model.families import ROWS

    names = [f.name for f in ROWS if f.relax]
    return tuple(sorted(names, key=lambda n: (n != "policy", n == "balance")))


def elastic_model(instance: Instance, model=None):
    """A fresh model of ``instance`` with penalised slacks (see the module docstring).

    Returns ``(model, slacks)`` where ``slacks`` lists ``(family, key, direction, var, limit,
    weight)``; the model's objective is the weighted total relaxation.
    """
    m = model if model is not None else build_model(instance)
    slacks = []
    m.elastic = pyo.VarList(domain=pyo.NonNegativeReals)

    def slack(family, key, direction, limit, weight):
        v = m.elastic.add()
        slacks.append((family, key, direction, v, limit, weight))
        return v

    soft = set(m.POL_SOFT)
    for family in _relaxable():
        con = getattr(m, family)
        for key in list(con.keys()):
            c = con[key]
            if not c.active:
                continue
            if family == "policy" and key in soft:
                continue  # soft policies already have their violation
            k = key if isinstance(key, tuple) else (key,)
            lo, up = _bounds(c)
            body = c.body
            if c.equality:  # balance: lhs == demand
                w = BALANCE_WEIGHT / max(abs(lo), 1.0)
                short = slack(family, k, "more", lo, w)
                surplus = slack(family, k, "less", lo, w)
                c.set_value(body + short - surplus == lo)
            elif up is not None and lo is None:  # a max: body <= up
                s = slack(family, k, "more", up, 1.0 / max(abs(up), 1.0))
                c.set_value(body - s <= up)
            elif lo is not None and up is None:  # a min: body >= lo
                s = slack(family, k, "less", lo, 1.0 / max(abs(lo), 1.0))
                c.set_value(body + s >= lo)
    m.cost.deactivate()
    m.elastic_cost = pyo.Objective(expr=sum(w * v for *_, v, _l, w in slacks), sense=pyo.minimize)
    return m, slacks


def _highs():
    from pyomo.contrib.solver.solvers.highs import Highs

    return Highs()


def elastic(instance: Instance, time_limit: float | None = None) -> Explanation:
    """Solve the elastic copy of ``instance`` and describe its non-zero slacks, largest first."""
    m, slacks = elastic_model(instance)
    opt = _highs()
    opt.solve(m, load_solutions=False, raise_exception_on_nonoptimal_result=False,
              time_limit=time_limit, solver_options={"output_flag": False})
    h = pyomo_highs.highs(opt)
    status = h.modelStatusToString(h.getModelStatus())
    if status != "Optimal":
        return Explanation(status=status.lower())
    col = h.getSolution().col_value
    d = m._rechain_data
    units = _units(instance)
    found = []
    for family, key, direction, v, limit, w in slacks:
        j = pyomo_highs.column(opt, v)
        x = col[j] if j is not None else 0.0
        # relative tolerance: a slack that is solver noise against its limit is no relaxation
        if x > TOL * max(1.0, abs(limit or 0.0)):
            found.append((w * x, Relaxation(family, key, x, direction, limit, _describe(family, key, x, direction, limit, d, units))))
    found.sort(key=lambda t: -t[0])
    total = float(h.getInfo().objective_function_value)
    return Explanation(status="optimal", relaxations=[r for _, r in found], total=total)


def iis(instance: Instance, model=None, time_limit: float | None = None) -> tuple[list[str] | None, str]:
    """An irreducible infeasible subset of the rows of ``instance``'s model, from HiGHS, in
    words (a row's name and its bound); ``(None, why)`` when it cannot be had."""
    import highspy

    if not hasattr(highspy.Highs, "getIis"):
        return None, "(this HiGHS has no IIS facility: upgrade highspy to 1.10 or later to see one)"
    m = model if model is not None else build_model(instance)
    opt = _highs()
    opt.solve(m, load_solutions=False, raise_exception_on_nonoptimal_result=False,
              time_limit=time_limit, solver_options={"output_flag": False})
    h = pyomo_highs.highs(opt)
    if h.modelStatusToString(h.getModelStatus()) != "Infeasible":
        return None, f"(no IIS: HiGHS reports '{h.modelStatusToString(h.getModelStatus())}', not infeasible)"
    strategy = int(highspy.IisStrategy.kIisStrategyFromLp) | int(highspy.IisStrategy.kIisStrategyIrreducible)
    h.setOptionValue("iis_strategy", strategy)
    try:
        st, found = h.getIis()
    except Exception as e:  # an IIS is a bonus: never let it hide the elastic explanation
        return None, f"(HiGHS could not compute an IIS: {e})"
    if st != highspy.HighsStatus.kOk or not found.valid_:
        return None, "(HiGHS could not compute an IIS)"
    rows = pyomo_highs.rows_to_constraints(opt)
    cols = {}
    for v in m.component_data_objects(pyo.Var, descend_into=True):
        j = pyomo_highs.column(opt, v)
        if j is not None:
            cols[j] = v
    out = []
    for i in found.row_index_:
        c = rows.get(i)
        if c is None:
            continue
        lo, up = _bounds(c)
        if c.equality:
            out.append(f"{c.name} (= {fmt(lo)})")
        elif up is not None and lo is None:
            out.append(f"{c.name} (≤ {fmt(up)})")
        elif lo is not None and up is None:
            out.append(f"{c.name} (≥ {fmt(lo)})")
        else:
            out.append(c.name)
    trivial = 0
    for j in found.col_index_:
        v = cols.get(j)
        if v is None:
            continue
        lb, ub = v.lb, v.ub
        bound = []
        if lb not in (None, 0):
            bound.append(f"≥ {fmt(lb)}")
        if ub is not None:
            bound.append(f"≤ {fmt(ub)}")
        if bound:
            out.append(f"bound of {v.name} ({', '.join(bound)})")
        else:
            trivial += 1
    if trivial:
        out.append(f"and {trivial} variable(s) being ≥ 0")
    return out, ""


def explain(instance: Instance, with_iis: bool = True, time_limit: float | None = None) -> Explanation:
    """Explain why ``instance`` is infeasible: the elastic relaxations, and an IIS if HiGHS
    offers one. Call it on an instance whose solve returned status ``infeasible``."""
    t0 = time.perf_counter()
    ex = elastic(instance, time_limit=time_limit)
    if with_iis:
        ex.iis, ex.iis_note = iis(instance, time_limit=time_limit)
    ex.seconds = time.perf_counter() - t0
    return ex
