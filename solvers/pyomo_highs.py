"""The one place that reads the private attributes of Pyomo's persistent HiGHS interface
(``pyomo.contrib.solver.solvers.highs.Highs``): its highspy object and its maps from Pyomo
variables and constraints to HiGHS columns and rows. Everything else asks here, so a change of
Pyomo's internals is fixed in one module."""

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

        def checked(*args, **kw):
            import highspy

            out = attr(*args, **kw)
            if isinstance(out, highspy.HighsStatus) and out == highspy.HighsStatus.kError:
                raise RuntimeError(f"HiGHS refused {name} (a number it treats as infinite or invalid?)")
            return out

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

    return CheckedHighs()


def persistent(m):
    """The persistent HiGHS interface kept on model ``m`` (made on first use)."""
    opt = getattr(m, "_rechain_highs", None)
    if opt is None:
        opt = _checked_interface()
        if not opt.available():
            raise RuntimeError("HiGHS (highspy) is not installed: pip install highspy")
        m._rechain_highs = opt
    return opt


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
