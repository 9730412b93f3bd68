"""The one place that reads the private attributes of Pyomo's persistent HiGHS interface
(``pyomo.contrib.solver.solvers.highs.Highs``): its highspy object and its maps from Pyomo
variables and constraints to HiGHS columns and rows. Everything else asks here, so a change of
Pyomo's internals is fixed in one module.

A model as :func:`~rechain.model.formulation.build_model` made it is handed to HiGHS as the LP
arrays of :func:`~rechain.model.matrix.assemble` (the same LP, entry for entry: ``tests/test_direct.py``),
with the interface's maps and bookkeeping filled in as its own ``set_instance`` fills them, so
that every later change (params updated in place, a row deactivated, a constraint, bound or
fixed variable of the user's) goes through the interface's own update; a model changed before
its first solve is read row by row by Pyomo, as before (:func:`read_by_pyomo` asks for that)."""

from __future__ import annotations

import numpy as np


class Checked:
    """A ``highspy.Highs`` whose every call that answers with a status is checked: HiGHS
    refuses a value it reads as infinite, or a change it cannot make, with a status, not an
    error, and Pyomo's interface does not look at it (the model in HiGHS would silently stay
    as it was). A refusal raises RuntimeError naming the call."""

    def __init__(self, highs):
        object.__setattr__(self, "_highs", highs)

    def __getattr__(self, name):
        attr = getattr(self._highs, name)
        if not callable(attr) or name == "run":  # run's status is read as the model status
            return attr
        import highspy

        status, error = highspy.HighsStatus, highspy.HighsStatus.kError

        def checked(*args, **kw):
            out = attr(*args, **kw)
            if isinstance(out, status) and out == error:
                raise RuntimeError(f"HiGHS refused {name} (a number it treats as infinite or invalid?)")
            return out

        # made once per method: Pyomo's interface calls some of them once per column or row
        object.__setattr__(self, name, checked)
        return checked

    def __setattr__(self, name, value):
        setattr(self._highs, name, value)


def _checked_interface():
    """Pyomo's persistent HiGHS interface, its highspy object wrapped in :class:`Checked` from
    the moment it is made (the model's rows and mutable parameters keep a reference to it)."""
    from pyomo.contrib.solver.solvers.highs import Highs

    class CheckedHighs(Highs):
        @property
        def _solver_model(self):
            return self.__dict__.get("_rechain_solver_model")

        @_solver_model.setter
        def _solver_model(self, h):
            self.__dict__["_rechain_solver_model"] = h if h is None or isinstance(h, Checked) else Checked(h)

        def set_instance(self, model):
            from pyomo.common.gc_manager import PauseGC

            self.__dict__["_rechain_arrays"] = None
            with PauseGC():  # as in build_model: many objects made, none of them garbage
                if not _hand_over_arrays(self, model):
                    super().set_instance(model)

        def _remove_constraints(self, cons):
            super()._remove_constraints(cons)
            bulk = self.__dict__.get("_rechain_arrays")
            if bulk is not None:  # a row taken out (and maybe added again) is Pyomo's to update
                bulk.rows.difference_update(cons)

        def _set_objective(self, obj):
            bulk = self.__dict__.get("_rechain_arrays")
            if bulk is not None:  # a new objective is Pyomo's to update
                bulk.costs = False
            super()._set_objective(obj)

    return CheckedHighs()


# ---------------------------------------------------------------------------------------------
# the hand-over of an unmodified rechain model: the LP arrays, not Pyomo's row-by-row reading
# ---------------------------------------------------------------------------------------------

def _model_params(model) -> dict[str, np.ndarray] | None:
    """The current values of the model's parameters, by name, in index-table order (None: one
    is not a number, e.g. a user made it an expression)."""
    from rechain.model import families as F

    out = {}
    for p in F.PARAMS:
        try:
            comp = getattr(model, p.name)
            if len(comp._data) != len(model._rechain_data.params[p.name]):  # entries added or taken out
                return None
            # in the order the build filled them: the order of the index table
            out[p.name] = np.fromiter((q._value for q in comp._data.values()), dtype=float, count=len(comp._data))
        except (TypeError, ValueError, AttributeError):
            return None
    return out


class _ArraysUpdate:
    """Pyomo's interface keeps one helper per coefficient that reads a mutable param and calls
    HiGHS once per coefficient when params change. For a model handed over as arrays, this one
    helper re-evaluates the LP's numbers from the params (:meth:`Layout.evaluate`) and hands
    HiGHS only those that changed, in bulk, for the rows and objective it still owns (a row
    removed or an objective replaced is Pyomo's to update from then on)."""

    def __init__(self, opt, model, lp, cons, colvars, numbers):
        self.opt, self.model, self.lp = opt, model, lp
        self.cons, self.colvars = cons, colvars
        self.rows = set(cons)
        self.costs = True
        self.last = numbers
        a = lp.matrix
        self.entry_col = np.repeat(np.arange(a.shape[1], dtype=np.int64), np.diff(a.indptr))

    def update(self):
        params = _model_params(self.model)
        if params is None:
            raise RuntimeError("a parameter of the model is not a number")
        num = self.lp.layout.evaluate(params)
        last, h = self.last, self.opt._solver_model
        cmap, vmap = self.opt._pyomo_con_to_solver_con_map, self.opt._pyomo_var_to_solver_var_map

        def moved(key):
            a, b = num[key], last[key]
            return np.flatnonzero(~((a == b) | (np.isnan(a) & np.isnan(b))))

        for k in moved("data").tolist():
            con = self.cons[int(self.lp.matrix.indices[k])]
            j = vmap.get(id(self.colvars[self.entry_col[k]]))
            if con in self.rows and j is not None:
                h.changeCoeff(cmap[con], j, float(num["data"][k]))
        rows = np.union1d(moved("row_lower"), moved("row_upper")).tolist()
        rows = [(cmap[self.cons[i]], i) for i in rows if self.cons[i] in self.rows]
        if rows:
            at, i = (np.array(x, dtype=np.int64) for x in zip(*rows))
            h.changeRowsBounds(len(at), at, num["row_lower"][i], num["row_upper"][i])
        if self.costs:
            cols = [(vmap[id(self.colvars[j])], j) for j in moved("col_cost").tolist() if id(self.colvars[j]) in vmap]
            if cols:
                at, j = (np.array(x, dtype=np.int64) for x in zip(*cols))
                h.changeColsCost(len(at), at, num["col_cost"][j])
        self.last = num


def _hand_over_arrays(opt, model) -> bool:
    """Give ``opt`` (Pyomo's persistent HiGHS interface) the model as the LP arrays of
    :func:`rechain.model.matrix.assemble` and fill in its maps and bookkeeping as its own
    ``set_instance`` would, when the model is as :func:`build_model` made it: the same active
    rows with the same expressions, the one objective, no fixed variable of the LP (its
    numbers are read from the model's params, its bounds and domains from the variables).
    Anything else (a row added, changed or deactivated, a fixed variable, another objective)
    returns False: Pyomo's own hand-over then reads the model row by row. Later changes go
    through the interface's own update, which this keeps correct."""
    built = getattr(model, "_rechain_built", None)
    d = getattr(model, "_rechain_data", None)
    if built is None or d is None:
        return False
    import highspy
    from pyomo.common.tee import TeeStream, capture_output
    from pyomo.contrib.solver.solvers.highs import _MutableObjective, _MutableObjectiveOffset
    from pyomo.core.base.constraint import Constraint
    from pyomo.core.base.objective import Objective, minimize
    from pyomo.core.base.param import Param
    from pyomo.core.base.sos import SOSConstraint

    from rechain.model.matrix import assemble

    rows = built["rows"]
    cons = list(model.component_data_objects(Constraint, descend_into=True, active=True))
    if len(cons) != len(rows) or any(c is not r or c.expr is not e for c, (r, e) in zip(cons, rows)):
        return False
    if next(iter(model.component_data_objects(SOSConstraint, descend_into=True, active=True)), None) is not None:
        return False
    objs = list(model.component_data_objects(Objective, descend_into=True, active=True))
    obj = getattr(model, "cost", None)
    if len(objs) != 1 or objs[0] is not obj or obj.expr is not built["cost"] or obj.sense != minimize:
        return False
    params = _model_params(model)
    if params is None:
        return False
    lp = assemble(d)
    if lp.num_row != len(cons):
        return False
    colvars = np.empty(lp.num_col, dtype=object)
    for name, ev in d.vars.items():
        colvars[lp.cols[name][ev.members]] = built["vars"][name]
    colvars = colvars.tolist()
    if any(v.fixed for v in colvars):  # Pyomo reads a fixed variable as a number
        return False
    num = lp.layout.evaluate(params)
    lp = lp.with_numbers(num)

    config = opt._active_config
    if opt._last_results_object is not None:
        opt._last_results_object.solution_loader.invalidate()
    with capture_output(TeeStream(*config.tee), capture_fd=True):
        opt._reinit()
        opt._model = model
        opt._solver_model = highspy.Highs()
        h = opt._solver_model
        opt.add_parameters([q for p in model.component_objects(Param, descend_into=True) if p.mutable for q in p._data.values()])
        opt.add_variables(colvars)  # bounds, domains and their mutable bounds as Pyomo makes them

        # rows: every variable a row mentions (a coefficient that is 0 now too) is referenced
        a = lp.matrix
        ncol, nrow = lp.num_col, lp.num_row
        entry_col = np.repeat(np.arange(ncol, dtype=np.int64), np.diff(a.indptr))
        by_row = np.argsort(a.indices, kind="stable")
        starts = np.zeros(nrow + 1, dtype=np.int64)
        np.cumsum(np.bincount(a.indices, minlength=nrow), out=starts[1:])
        row_cols = entry_col[by_row]
        refs = opt._referenced_variables
        conlist = [c for c, _ in rows]
        opt._active_constraints.update(rows)
        opt._named_expressions.update((c, []) for c in conlist)
        opt._pyomo_con_to_solver_con_map.update(zip(conlist, range(nrow)))
        opt._solver_con_to_pyomo_con_map.update(enumerate(conlist))
        bounds, rc, var_at = starts.tolist(), row_cols.tolist(), colvars.__getitem__
        opt._vars_referenced_by_con.update((c, list(map(var_at, rc[bounds[i]:bounds[i + 1]]))) for i, c in enumerate(conlist))
        # per variable, its rows in row order (the rows of a column are ascending)
        col_rows, ip, con_at = a.indices.tolist(), a.indptr.tolist(), conlist.__getitem__
        for j, v in enumerate(colvars):  # add_variables made each entry [{}, {}, None]: the rows are the first
            refs[id(v)][0] = dict.fromkeys(map(con_at, col_rows[ip[j]:ip[j + 1]]))
        values = a.data[by_row]
        keep = values != 0  # a coefficient that is 0 now is left out, as Pyomo leaves it out
        kstarts = np.zeros(nrow + 1, dtype=np.int64)
        np.cumsum(np.bincount(a.indices[by_row][keep], minlength=nrow), out=kstarts[1:])
        h.addRows(nrow, lp.row_lower, lp.row_upper, int(keep.sum()), kstarts[:-1], row_cols[keep], values[keep])

        # the objective
        opt._objective, opt._objective_expr, opt._objective_sense = obj, obj.expr, obj.sense
        opt._obj_named_expressions = []
        in_obj = np.unique(np.concatenate([c for _, c in lp.layout.costs])) if lp.layout.costs else np.zeros(0, dtype=np.int64)
        opt._vars_referenced_by_obj = [colvars[j] for j in in_obj.tolist()]
        for v in opt._vars_referenced_by_obj:
            refs[id(v)][2] = obj
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
        h.changeColsCost(ncol, np.arange(ncol), lp.col_cost)
        opt._mutable_objective = _MutableObjective(h, _MutableObjectiveOffset(expr=0, highs=h), [], [],
                                                   opt._pyomo_var_to_solver_var_map)
        opt._mutable_objective.update()
        bulk = _ArraysUpdate(opt, model, lp, [c for c, _ in rows], colvars, num)
        opt.__dict__["_rechain_arrays"] = bulk
        opt._mutable_helpers[_ARRAYS] = [bulk]
    return True


_ARRAYS = object()  # the key of the one helper in the interface's map of mutable helpers


def persistent(m):
    """The persistent HiGHS interface kept on model ``m`` (made on first use)."""
    opt = getattr(m, "_rechain_highs", None)
    if opt is None:
        opt = _checked_interface()
        if not opt.available():
            raise RuntimeError("HiGHS (highspy) is not installed: pip install highspy")
        m._rechain_highs = opt
    return opt


def read_by_pyomo(m) -> None:
    """Hand model ``m`` to HiGHS as Pyomo's interface reads it, row by row, instead of as the LP
    arrays (to compare the two, or if a change of Pyomo's interface ever needs it)."""
    m._rechain_built = None
    forget(m)


def forget(m) -> None:
    """Drop the persistent interface of ``m``: after a refused change its model in HiGHS is
    neither the old one nor the new one, so the next solve builds it afresh."""
    if getattr(m, "_rechain_highs", None) is not None:
        m._rechain_highs = None


def highs(opt):
    """The ``highspy.Highs`` object behind the interface ``opt`` (None before a solve)."""
    return getattr(opt, "_solver_model", None)


def column(opt, var) -> int | None:
    """The HiGHS column of a Pyomo variable (None: not in the solver model)."""
    return opt._pyomo_var_to_solver_var_map.get(id(var))


def row(opt, con) -> int | None:
    """The HiGHS row of a Pyomo constraint (None: not in the solver model, e.g. deactivated)."""
    return opt._pyomo_con_to_solver_con_map.get(con)


def rows_to_constraints(opt) -> dict:
    """HiGHS row -> Pyomo constraint."""
    return {j: c for c, j in opt._pyomo_con_to_solver_con_map.items()}


def _positions(families: dict, m, find, kind: str) -> dict[str, np.ndarray]:
    """For every family, ``find(component data)`` (a HiGHS index or None) of each row of its
    index table; -1 where the family has no member or HiGHS has no such column or row."""
    out = {}
    built = (getattr(m, "_rechain_built", None) or {}).get(kind, {})
    for name, em in families.items():
        comp = getattr(m, name)
        idx = np.full(em.size, -1, dtype=np.int64)
        made = built.get(name)
        if made is not None and len(comp) == len(made) and all(a is b for a, b in zip(comp.values(), made)):
            # as built: its data in the order of its members, no key looked up
            got = [find(c) for c in made]
            idx[em.members] = [-1 if j is None else j for j in got]
            out[name] = idx
            continue
        for i, k in zip(em.members.tolist(), _keys(m, em)):
            if k in comp:
                j = find(comp[k])
                if j is not None:
                    idx[i] = j
        out[name] = idx
    return out


def _keys(m, em) -> list:
    keys = m._rechain_data.keys(em.family.table, em.members)
    return [k[0] for k in keys] if keys and len(keys[0]) == 1 else keys


def family_columns(opt, m, d) -> dict[str, np.ndarray]:
    """For every variable family, the HiGHS column of each row of its index table (-1: no
    variable there, or one no active row or objective term mentions)."""
    vmap = opt._pyomo_var_to_solver_var_map
    return _positions(d.vars, m, lambda v: vmap.get(id(v)), "vars")


def family_rows(opt, m, d) -> dict[str, np.ndarray]:
    """For every row family, the HiGHS row of each row of its index table (-1: no row, or a
    row that is deactivated)."""
    cmap = opt._pyomo_con_to_solver_con_map
    return _positions(d.rows, m, cmap.get, "cons")


def take(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    out = np.zeros(len(idx))
    ok = idx >= 0
    out[ok] = np.asarray(x, dtype=float)[idx[ok]]
    return out
