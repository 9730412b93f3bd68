"""Changes of an instance's numbers mapped straight onto its LP, without preparing it again.

A what-if usually changes numbers, not structure: a demand scaled, a price or a quota set. For
such a change the LP keeps its rows, columns and non-zeros; only some costs, bounds and
coefficients move. A :class:`ParameterMap` compares a changed instance with the one a model
was built from, column by column:

- a column listed in :data:`~rechain.model.families.SHAPES` whose *shape* is unchanged (the
  part of its values that decides which rows and columns exist: a demand still positive, a
  limit still blank or finite) is mapped: every param that declares it reads it is derived
  again, by the very function :func:`~rechain.model.data.prepare` uses, and the LP's numbers
  are evaluated from the params by the very function :func:`~rechain.model.matrix.assemble`
  uses;
- anything else (another column, a changed shape, other years, a new name) raises
  :class:`~rechain.model.errors.RebuildRequired`.

It fails closed by construction: index tables are built from a view of the instance that
sees a mapped column only through its shape, and a param is derived from a view that holds only
the columns it declares, so a mapped change can reach the LP only through the params that read
it, and those are derived again. ``tests/test_params.py`` checks every column of every table
on instances with every kind of family.

A mapped number the solver cannot take (infinite, or 1e20 or more in magnitude: HiGHS reads it
as infinite) or a mapped setting out of its range raises
:class:`~rechain.model.errors.InstanceError` naming the rows, before anything reaches the LP.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import ModelData, derive
from .description import numbers
from .cells import INFINITE
from .changes import discount_problems, setting_problems
from .errors import InstanceError, Problem, RebuildRequired
from . import families as F
from .instance import Instance
from .matrix import LinearProgram
from .schema import FREE_COLUMNS, TABLES

#: the (table, column) pairs whose changes map onto the LP in place (when their shape holds)
MAPPED = frozenset(F.SHAPES)
#: settings that decide the structure: a change of any is a rebuild
STRUCTURAL_SETTINGS = ("first_year", "last_year")
#: rows named when numbers mapped in place are out of the solver's range
MAX_REPORTED = 20

ShapeChange = RebuildRequired  # the name of earlier releases


@dataclass
class Update:
    """The params (and LP arrays) of a changed instance (see :meth:`ParameterMap.apply`)."""

    data: ModelData
    lp: LinearProgram | None
    changed: list[tuple[str, str]]

    @property
    def params(self) -> dict[str, np.ndarray]:
        return self.data.params


class ParameterMap:
    """Maps instances of the shape of ``instance`` onto its prepared ``data`` (and its LP
    ``lp``, when given)."""

    def __init__(self, instance: Instance, data: ModelData, lp: LinearProgram | None = None):
        self.base, self.data, self.lp = instance, data, lp

    def changes(self, instance: Instance) -> list[tuple[str, str]]:
        """The mapped columns and settings whose values differ from the base instance, as
        (table, column) and ("instance", setting); raises :class:`RebuildRequired` for any
        other difference."""
        b = self.base
        out = []
        for s in STRUCTURAL_SETTINGS:
            if getattr(instance, s) != getattr(b, s):
                raise RebuildRequired(f"the setting {s} differs")
        for s in F.MAPPED_SETTINGS:
            x, y = getattr(b, s), getattr(instance, s)
            if not (x == y or (x is None and y is None)):
                _gate_setting(instance, s)
                out.append(("instance", s))
        for name in TABLES:
            A, B = b.tables[name], instance.tables[name]
            if A is B:
                continue
            if len(A) != len(B) or list(A.columns) != list(B.columns) or not A.index.equals(B.index):
                raise RebuildRequired(f"the rows of {name} differ")
            for col in A.columns:
                if A[col] is B[col] or col in FREE_COLUMNS:
                    continue
                if (name, col) in F.SHAPES:
                    old, new = numbers(A[col]), numbers(B[col])
                    if np.array_equal(old, new, equal_nan=True):
                        continue
                    _gate_column(instance, name, col, new)
                    shape = F.SHAPES[(name, col)]
                    so, sn = shape(old), shape(new)
                    if any(not np.array_equal(so[k], sn[k]) for k in so):
                        raise RebuildRequired(f"{name}.{col}: a change of shape ({', '.join(so)} differs)")
                    out.append((name, col))
                elif not A[col].equals(B[col]):
                    raise RebuildRequired(f"{name}.{col} differs and decides the LP's structure")
        return out

    def apply(self, instance: Instance) -> Update:
        """The params (and LP, when the map has one) of ``instance``, which differs from the
        base instance only in mapped numbers of unchanged shape; else :class:`RebuildRequired`."""
        changed = self.changes(instance)
        touched = set(changed)
        params = dict(self.data.params)
        names = set()
        for p in F.PARAMS:
            if touched & set(p.reads):
                params[p.name] = derive(p, instance, self.data)
                names.add(p.name)
        data = self.data.with_params(params)
        lp = None
        if self.lp is not None:
            lp = self.lp if not names else self.lp.with_numbers(self.lp.layout.evaluate(params, only=names, base=self.lp))
        return Update(data, lp, sorted(changed))


def _gate_column(instance: Instance, table: str, column: str, arr: np.ndarray) -> None:
    """The values ``arr`` of a number column mapped in place are numbers the solver can take
    (finite, below :data:`~rechain.model.cells.INFINITE` in magnitude), or raise
    :class:`InstanceError` naming the rows: the instance may have been changed by writing into
    its tables, past :meth:`Instance.with_changes` and its checks, and HiGHS would read such a
    number as infinite or refuse it. (A column's own range, e.g. a share at most 1, is checked
    where a change is made; the map keeps to what it needs to map correctly.)"""
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(np.isinf(arr) | (np.abs(np.nan_to_num(arr)) >= INFINITE))
    if not len(bad):
        return
    cells = instance.tables[table][column]
    raise InstanceError([Problem(instance.label(table), f"expected a finite number below {INFINITE:g} in magnitude "
                                 "(the solver reads larger ones as infinite)", row=int(cells.index[i]), column=column,
                                 value=float(arr[i])) for i in bad[:MAX_REPORTED].tolist()])


def _gate_setting(instance: Instance, name: str) -> None:
    """A setting changed in place passes the range check of ``instance.yaml``."""
    v = getattr(instance, name)
    if v is None:
        return
    try:
        x = float(v)
    except (TypeError, ValueError, OverflowError):
        raise InstanceError([Problem("instance.yaml", f"setting '{name}' must be a number", column=name, value=repr(v))]) from None
    problems = [p for p in setting_problems(name, x, "instance.yaml") if p.severity == "error"]
    if not problems and name in ("discount_rate", "base_year"):
        problems = discount_problems(instance.first_year, instance.last_year, instance.base_year, instance.discount_rate,
                                     "instance.yaml")
    if problems:
        raise InstanceError(problems)

