"""The LP as a Pyomo ``ConcreteModel``, rendered from the family declarations.

Component names are the symbols of ``docs/formulation.md`` (both come from
:mod:`rechain.model.families`): a Pyomo ``Set`` per index table and per family that runs over
part of one (``m.CAP``, ``m.NEW``, ``m.NEW_LIM``, ``m.POL_SOFT``, ...), a mutable ``Param`` per
parameter (``m.demand``, ``m.availability``, ``m.io``, ``m.df``, ...), a ``Var`` per variable
family (``m.act``, ``m.new``, ...), a ``Constraint`` per row family (``m.capacity``,
``m.balance``, ``m.policy``, ...) and the objective ``m.cost``.

Every number is an expression of the mutable params, written in the order
:meth:`~rechain.model.description.Coef.evaluate` computes it, and rows, terms and variables come
in the order of the LP arrays of :mod:`rechain.model.matrix`: the two renderings hand a solver
the same LP, entry for entry, by construction. Users may add their own components to the built
model. :func:`update_parameters` sets the params of a changed instance of the same shape in
place (through the parameter map), so a persistent solver re-solves without a rebuild.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.param import ParamData
from pyomo.core.expr.relational_expr import EqualityExpression, InequalityExpression
from pyomo.core.expr.numeric_expr import (LinearExpression, MonomialTermExpression, NPV_ProductExpression,
                                          NPV_SumExpression)

from .data import ModelData, prepare
from .description import positions
from .errors import RebuildRequired
from . import families as F
from .instance import Instance

_SENSE = {-1: "<=", 0: "==", 1: ">="}


def _flat(keys: list[tuple]) -> list:
    """Keys as Pyomo indexes them: scalars for one-column tables."""
    return [k[0] for k in keys] if keys and len(keys[0]) == 1 else keys


class _Render:
    """Pyomo objects for the entries of parts: variables by table position, params by entry."""

    def __init__(self, m, d: ModelData):
        self.m, self.d = m, d
        self._keys: dict[str, list] = {}
        self._pdata: dict[str, list] = {}

    def keys(self, table: str) -> list:
        if table not in self._keys:
            self._keys[table] = _flat(self.d.keys(table))
        return self._keys[table]

    def param(self, name: str) -> list:
        if name not in self._pdata:
            comp = getattr(self.m, name)
            self._pdata[name] = [comp[k] for k in self.keys(F.PARAM[name].table)]
        return self._pdata[name]

    def coefs(self, part) -> list:
        """The number of each entry of ``part``: a float, or an expression of params."""
        c = part.coef
        n = part.size
        const = c.constant()
        if const is not None:
            return [const] * n
        factors = [self.param(name) for name in c.names]
        idx = [np.asarray(i, dtype=np.int64).tolist() for i in part.pick.index]
        # the expressions Pyomo's operators make (product left to right, then × b, then + a),
        # made directly: no operator dispatch per entry
        f0 = factors[0]
        out = [f0[i] for i in idx[0]]
        for f, ii in zip(factors[1:], idx[1:]):
            out = [NPV_ProductExpression((e, f[i])) for e, i in zip(out, ii)]
        if c.b != 1.0:
            b = float(c.b)
            out = [NPV_ProductExpression((b, e)) for e in out]
        if c.a != 0.0:
            a = float(c.a)
            out = [NPV_SumExpression([a, e]) for e in out]
        return out


def build_model(instance: Instance, data: ModelData | None = None) -> pyo.ConcreteModel:
    """Build the Pyomo model of ``instance``.

    The model carries ``m._rechain_data`` (the :class:`ModelData` it was built from) and
    ``m._rechain_instance`` for result extraction and parameter updates.
    """
    from pyomo.common.gc_manager import PauseGC

    # the model is hundreds of thousands of Python objects, none of them garbage: Python's cyclic
    # collector would walk all of them again and again as they are made (4x the build at 3e5
    # nonzeros)
    with PauseGC():
        return _build(instance, data)


def _build(instance: Instance, data: ModelData | None) -> pyo.ConcreteModel:
    d = data if data is not None else prepare(instance)
    m = pyo.ConcreteModel(name=instance.name)
    m._rechain_data = d
    m._rechain_instance = instance
    r = _Render(m, d)

    # ---- sets of the index tables ---------------------------------------------------------
    for t in F.INDEX_TABLES:
        if t.set:
            setattr(m, t.set, pyo.Set(initialize=r.keys(t.name), dimen=len(t.keys), ordered=True))
    # ---- params (mutable: what-if studies change them in place) ----------------------------
    for p in F.PARAMS:
        comp = pyo.Param(getattr(m, F.TABLE[p.table].set), mutable=True, within=pyo.Any)
        setattr(m, p.name, comp)
        # each entry made as Param's own setitem makes it (a float needs no check against Any),
        # without its index validation per entry: the keys are those of the set
        data = comp._data
        for k, v in zip(r.keys(p.table), d.params[p.name].tolist()):
            q = ParamData(comp)
            q._value = v
            q._index = k
            data[k] = q

    made: set[str] = set()

    def index_set(family, members, size):
        """The family's Pyomo set: the table's own, or a set of its members."""
        table_set = F.TABLE[family.table].set
        if family.set == table_set:
            return getattr(m, table_set)
        if family.set in made:  # a set shared by families of the same members (e.g. a variable and its rows)
            return getattr(m, family.set)
        made.add(family.set)
        keys = r.keys(family.table)
        setattr(m, family.set, pyo.Set(initialize=[keys[i] for i in members.tolist()], dimen=len(F.TABLE[family.table].keys),
                                       ordered=True))
        return getattr(m, family.set)

    # ---- variables (all >= 0) ----------------------------------------------------------------
    var_of = {}
    for name, ev in d.vars.items():
        domain = pyo.NonNegativeIntegers if ev.family.integer else pyo.NonNegativeReals
        comp = pyo.Var(index_set(ev.family, ev.members, ev.size), domain=domain)
        setattr(m, name, comp)
        table_pos = np.full(ev.size, None, dtype=object)
        for i, v in zip(ev.members.tolist(), comp.values()):  # the variables in the order of the members
            table_pos[i] = v
        var_of[name] = table_pos
        for part in ev.upper:
            for v, ub in zip(part.pick.vars.tolist(), r.coefs(part)):
                if table_pos[v] is not None:
                    table_pos[v].setub(ub)

    # ---- rows ----------------------------------------------------------------------------------
    built_rows: list[tuple] = []  # (constraint, its expression as built), in the order of the LP's rows
    built_cons: dict[str, list] = {}  # per row family, its constraints in the order of its members
    for name, er in d.rows.items():
        f = er.family
        at = positions(er.members, er.size)
        terms: list[list] = [[] for _ in range(len(er.members))]
        for part in er.terms:
            vars_ = var_of[part.decl.var][part.pick.vars].tolist()
            rows_ = at[part.pick.rows].tolist()
            if part.coef.constant() == 1.0:  # a coefficient of 1: the variable itself
                for k, v in zip(rows_, vars_):
                    terms[k].append(v)
            else:
                for k, coef, v in zip(rows_, r.coefs(part), vars_):
                    terms[k].append(MonomialTermExpression((coef, v)))
        rhs = [None] * len(er.members)
        for part in er.rhs:  # the parts of one row add up, in part order
            for k, e in zip(at[part.pick.rows].tolist(), r.coefs(part)):
                if k >= 0:  # a right-hand side picked for a row that does not exist is dropped
                    rhs[k] = e if rhs[k] is None else rhs[k] + e
        rhs = [0.0 if e is None else e for e in rhs]
        keys = r.keys(f.table)
        exprs = {}
        # the relations Pyomo's ==, <= and >= make of a body and a number, made directly
        for key, t, s, b in zip([keys[i] for i in er.members.tolist()], terms, er.sense.tolist(), rhs):
            body = LinearExpression(args=t)
            exprs[key] = EqualityExpression((body, b)) if s == 0 else (
                InequalityExpression((body, b), False) if s < 0 else InequalityExpression((b, body), False))
        idx = index_set(f, er.members, er.size)

        def rule(m, *k, exprs=exprs):
            return exprs.get(k[0] if len(k) == 1 else k, pyo.Constraint.Skip)

        setattr(m, name, pyo.Constraint(idx, rule=rule))
        built_cons[name] = list(getattr(m, name).values())
        built_rows.extend((c, c.expr) for c in built_cons[name])

    # ---- objective: discounted cost ---------------------------------------------------------
    df = r.param("df")
    args = []
    for name, ev in d.vars.items():
        for part in ev.costs:
            vars_ = var_of[name][part.pick.vars]
            coefs = r.coefs(part)
            if part.coef.constant() is None:  # expressions of params: df × coef as Pyomo's * makes it
                args.extend(MonomialTermExpression((NPV_ProductExpression((df[y], coef)), v))
                            for y, coef, v in zip(part.pick.years.tolist(), coefs, vars_))
            else:
                args.extend(MonomialTermExpression((df[y] * coef, v)) for y, coef, v in zip(part.pick.years.tolist(), coefs, vars_))
    m.cost = pyo.Objective(expr=LinearExpression(args=args), sense=pyo.minimize)
    # what the model was built as: while its rows and objective are still these, the persistent
    # HiGHS interface is handed the LP arrays (rechain.solvers.pyomo_highs), not each row
    m._rechain_built = {"rows": built_rows, "cost": m.cost.expr, "cons": built_cons,
                        "vars": {name: list(getattr(m, name).values()) for name in d.vars}}
    return m


def update_parameters(m: pyo.ConcreteModel, instance: Instance) -> pyo.ConcreteModel:
    """Set the mutable parameters of a built model to the values of ``instance``.

    ``instance`` must give the model the same structure (the same variables and rows: e.g. a
    different demand level, price, cost, finite limit or policy value). Where it does not, a
    :class:`~rechain.model.errors.RebuildRequired` says what differs, and the model is left as
    it was.
    """
    from .params import ParameterMap

    pm = getattr(m, "_rechain_map", None)
    if pm is None:
        pm = m._rechain_map = ParameterMap(m._rechain_instance, m._rechain_data)
    try:
        upd = pm.apply(instance)
    except RebuildRequired as e:
        raise RebuildRequired(f"cannot update the built model in place: {e}; rebuild it") from None
    r = _Render(m, upd.data)
    current = m._rechain_data.params
    for p in F.PARAMS:
        new = upd.params[p.name]
        old = current[p.name]
        moved = np.flatnonzero(~((old == new) | (np.isnan(old) & np.isnan(new))))
        if len(moved):
            comp = getattr(m, p.name)
            keys = r.keys(p.table)
            for i, v in zip(moved.tolist(), new[moved].tolist()):
                comp[keys[i]] = v
    m._rechain_data = upd.data
    m._rechain_instance = instance
    return m
