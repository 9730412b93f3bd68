"""The one place that reads the private attributes of Pyomo's persistent HiGHS interface
(``pyomo.contrib.solver.solvers.highs.Highs``): its highspy object and its maps from Pyomo
variables and constraints to HiGHS columns and rows. Everything else asks here, so a change of
Pyomo's internals is fixed in one module."""

from __future__ import annotations

import numpy as np


def persistent(m):
    """The persistent HiGHS interface kept on model ``m`` (made on first use)."""
    from pyomo.contrib.solver.solvers.highs import Highs

    opt = getattr(m, "_rechain_highs", None)
    if opt is None:
        opt = Highs()
        if not opt.available():
            raise RuntimeError("HiGHS (highspy) is not installed: pip install highspy")
        m._rechain_highs = opt
    return opt


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


def _positions(families: dict, m, find) -> dict[str, np.ndarray]:
    """For every family, ``find(component data)`` (a HiGHS index or None) of each row of its
    index table; -1 where the family has no member or HiGHS has no such column or row."""
    out = {}
    for name, em in families.items():
        comp = getattr(m, name)
        idx = np.full(em.size, -1, dtype=np.int64)
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
    return _positions(d.vars, m, lambda v: vmap.get(id(v)))


def family_rows(opt, m, d) -> dict[str, np.ndarray]:
    """For every row family, the HiGHS row of each row of its index table (-1: no row, or a
    row that is deactivated)."""
    cmap = opt._pyomo_con_to_solver_con_map
    return _positions(d.rows, m, cmap.get)


def take(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    out = np.zeros(len(idx))
    ok = idx >= 0
    out[ok] = np.asarray(x, dtype=float)[idx[ok]]
    return out
