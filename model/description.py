"""The LP described as data: what a family of variables or rows is, stated once.

A family is a declaration (:class:`VarFamily`, :class:`RowFamily`) whose numbers are *parts*:
a row family's terms, its right-hand sides; a variable family's bounds and costs. Every number
of a part has the form

    a + b · Π params[name][index]

(:class:`Coef`), where ``params`` are named arrays computed from the instance
(:class:`Param`), each aligned with the rows of one index table. A part's builder picks the
positions: which row of the family's index table, which variable, which entry of each param.

From these declarations alone come the LP arrays (:mod:`rechain.model.matrix`), the Pyomo model
(:mod:`rechain.model.formulation`), the in-place parameter map (:mod:`rechain.model.params`),
the result tables (:mod:`rechain.model.results`) and ``docs/formulation.md``
(:mod:`rechain.model.mathdoc`); the declarations of SPEC section 2 (and the additions) are in
:mod:`rechain.model.families`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np

INF = np.inf


@dataclass(frozen=True)
class Coef:
    """A number ``a + b · Π params`` (``params``: (name, LaTeX index) pairs, in product order).

    Without params the number is the constant ``a + b``; ``Coef()`` is 1, ``Coef(b=-1)`` is -1.
    """

    a: float = 0.0
    b: float = 1.0
    params: tuple[tuple[str, str], ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p for p, _ in self.params)

    def constant(self) -> float | None:
        """The value when the number has no params, else None."""
        return None if self.params else float(self.a + self.b)

    def evaluate(self, params: dict[str, np.ndarray], index: tuple[np.ndarray, ...], n: int) -> np.ndarray:
        """The numbers of ``n`` entries; ``index[k]`` picks the entries of param k.

        The arithmetic order (product left to right, then × b, then + a) is the order the
        Pyomo rendering writes the expression in, so both give the same bits."""
        if not self.params:
            return np.full(n, self.a + self.b, dtype=float)
        v = None
        for (name, _), idx in zip(self.params, index):
            x = params[name][idx]
            v = x if v is None else v * x
        v = np.asarray(v, dtype=float)
        if self.b != 1.0:
            v = self.b * v
        if self.a != 0.0:
            v = self.a + v
        return v

    def derivative(self, name: str, params: dict[str, np.ndarray], index: tuple[np.ndarray, ...], n: int) -> np.ndarray:
        """∂(number)/∂params[name] of each entry (0 where the number does not use it)."""
        out = np.zeros(n)
        for k, (pname, _) in enumerate(self.params):
            if pname != name:
                continue
            v = np.full(n, self.b, dtype=float)
            for j, (other, _) in enumerate(self.params):
                if j != k:
                    v = v * params[other][index[j]]
            out = out + v
        return out

    def latex(self) -> str:
        """The number in the formulation document (without sign when b is ±1 and a is 0)."""
        factors = "\\,".join(f"{_sym(p)}_{{{i}}}" if i else _sym(p) for p, i in self.params)
        if not self.params:
            return _num(abs(self.a + self.b))
        b = abs(self.b)
        s = factors if b == 1 else f"{_num(b)}\\,{factors}"
        return s if self.a == 0 else f"({_num(self.a)} + {s})"

    @property
    def negative(self) -> bool:
        return (self.b if self.params else self.a + self.b) < 0 and self.a == 0


def _num(x: float) -> str:
    return f"{x:g}"


def _sym(name: str) -> str:
    return "\\text{" + name.replace("_", "\\_") + "}"


class Pick(NamedTuple):
    """Positions of a part's entries: ``rows`` in the row family's index table, ``vars`` in the
    variable family's index table, ``years`` (cost parts: the year each entry is paid in, as a
    position in the horizon) and ``index``: one array per param of the part's :class:`Coef`."""

    rows: np.ndarray | None = None
    vars: np.ndarray | None = None
    years: np.ndarray | None = None
    index: tuple[np.ndarray, ...] = ()


Builder = Callable[["object"], Pick]  # ModelData -> Pick


@dataclass(frozen=True)
class IndexTable:
    """A sparse index table of the LP (rows of :class:`~rechain.model.data.ModelData`).

    ``keys``: its key columns; ``set``: the Pyomo set over its keys (None: not a Pyomo set);
    ``exists``: where a row exists, in words (the formulation document's sparsity);
    ``build(view, d)``: the table (a DataFrame with the keys and integer position columns)."""

    name: str
    keys: tuple[str, ...]
    set: str | None
    symbol: str
    exists: str
    build: Callable
    doc: str = ""
    index: str = ""  # the LaTeX index of a row, e.g. "p,r,y"


@dataclass(frozen=True)
class Param:
    """A named array of numbers aligned with the rows of index table ``table``.

    ``reads`` names every instance column it is computed from, as (table, column), and every
    setting as ("instance", name); ``derive(view, d)`` computes it from a view of the instance
    that holds those columns alone (reading any other raises), so a change of any other
    column can never leave it stale."""

    name: str
    table: str
    reads: tuple[tuple[str, str], ...]
    derive: Callable
    doc: str
    index: str = ""  # the LaTeX index of the param in the formulation document
    check: Callable | None = None  # check(values, d, view) raises InstanceError for values the structure cannot take


@dataclass(frozen=True)
class Term:
    """Terms of a row family: ``coef`` × variable ``var`` (index ``index``), summed over
    ``over``, for the rows and variables that ``build`` picks."""

    var: str
    coef: Coef
    index: str
    build: Builder
    over: str = ""
    when: str = ""  # the rows (or summed items) the terms exist for, in words


@dataclass(frozen=True)
class Rhs:
    """Right-hand sides of the rows ``build`` picks (rows no part picks have 0)."""

    coef: Coef
    build: Builder
    when: str = ""


@dataclass(frozen=True)
class Bound:
    """A bound of the variables ``build`` picks (the others keep the family's default)."""

    coef: Coef
    build: Builder
    when: str = ""


@dataclass(frozen=True)
class Cost:
    """Cost of the variables ``build`` picks: ``coef`` (money of the year paid) × DF of each
    entry's year, added up into the objective; ``component`` names its line of the cost table."""

    component: str
    coef: Coef
    build: Builder
    over: str = ""  # the years summed, in words, when a variable pays in several years


@dataclass(frozen=True)
class VarFamily:
    """Variables ``name[keys of table]``, ≥ 0, on the rows ``members`` picks (all by default)."""

    name: str
    table: str
    set: str
    doc: str
    members: Builder | None = None
    exists: str = ""
    upper: tuple[Bound, ...] = ()
    costs: tuple[Cost, ...] = ()
    unit: str = ""  # what the variable counts, in words, for the documents
    result: str = ""  # a result table of its own: the index table's keys and ``result_column``
    result_column: str = "quantity"
    integer: bool = False  # whole numbers (the LP becomes a MILP where the family has members)


@dataclass(frozen=True)
class RowFamily:
    """Rows ``name[keys of table]`` on the rows ``members`` picks (all by default), each
    Σ terms  (sense)  Σ rhs. ``sense`` is ``"=="``, ``"<="``, ``">="`` or a builder giving the
    sense of each member. ``limit``: a bound stated as a row (numerics counts its right-hand
    sides among the bounds); ``relax``: the elastic explanation of an infeasible instance may
    loosen it (capacity accounting is not relaxed: it is arithmetic, not a choice)."""

    name: str
    table: str
    set: str
    doc: str
    terms: tuple[Term, ...]
    rhs: tuple[Rhs, ...] = ()
    sense: str | Callable = "=="
    members: Builder | None = None
    exists: str = ""
    limit: bool = False
    relax: bool = False
    dual: str = ""  # what the dual means, in words, for the documents
    sense_doc: str = ""  # the sense in words, where it differs by row


# ------------------------------------------------------------------------------------------
# What ``prepare`` emits: each part's positions, evaluated once per instance
# ------------------------------------------------------------------------------------------


@dataclass
class EmittedPart:
    """A part with its positions: ``decl`` (:class:`Term`, :class:`Rhs`, :class:`Bound` or
    :class:`Cost`) and its :class:`Pick`."""

    decl: object
    pick: Pick

    @property
    def coef(self) -> Coef:
        return self.decl.coef

    @property
    def size(self) -> int:
        p = self.pick
        for a in (p.rows, p.vars):
            if a is not None:
                return len(a)
        return 0

    def values(self, params: dict[str, np.ndarray]) -> np.ndarray:
        return self.coef.evaluate(params, self.pick.index, self.size)


@dataclass
class EmittedVars:
    family: VarFamily
    members: np.ndarray  # positions in the index table
    size: int  # rows of the index table
    upper: list[EmittedPart] = field(default_factory=list)
    costs: list[EmittedPart] = field(default_factory=list)


@dataclass
class EmittedRows:
    family: RowFamily
    members: np.ndarray
    size: int
    sense: np.ndarray  # per member: -1 (<=), 0 (==), 1 (>=)
    rhs: list[EmittedPart] = field(default_factory=list)
    terms: list[EmittedPart] = field(default_factory=list)


SENSES = {"<=": -1, "==": 0, ">=": 1}


def positions(members: np.ndarray | None, size: int) -> np.ndarray:
    """A map from the rows of a table to positions among ``members`` (-1: not a member)."""
    out = np.full(size, -1, dtype=np.int64)
    if members is None:
        out[:] = np.arange(size)
    else:
        out[members] = np.arange(len(members))
    return out


class _Compact:
    """Picks with their positions as int32 where they fit: positions into tables, kept for as
    long as the model, in half the memory of int64. Only arrays of their own are made smaller
    (a view shares its memory with a table or another array), each once however many picks
    hold it."""

    def __init__(self):
        self.done: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def array(self, a):
        if not isinstance(a, np.ndarray) or a.dtype != np.int64 or a.base is not None:
            return a
        if id(a) not in self.done:
            fits = not len(a) or (a.min() >= -1 and a.max() < np.iinfo(np.int32).max)
            self.done[id(a)] = (a, a.astype(np.int32) if fits else a)
        return self.done[id(a)][1]

    def __call__(self, pick: Pick) -> Pick:
        return Pick(self.array(pick.rows), self.array(pick.vars), self.array(pick.years), tuple(self.array(i) for i in pick.index))


def emit(vars_: tuple[VarFamily, ...], rows_: tuple[RowFamily, ...], d) -> tuple[dict, dict]:
    """Evaluate the builders of every family on the index tables of ``d``."""
    _compact = _Compact()
    ev = {}
    for f in vars_:
        n = len(d.tables[f.table])
        members = np.arange(n, dtype=np.int64) if f.members is None else np.asarray(f.members(d).vars, dtype=np.int64)
        ev[f.name] = EmittedVars(f, members, n, [EmittedPart(b, _compact(b.build(d))) for b in f.upper],
                                 [EmittedPart(c, _compact(c.build(d))) for c in f.costs])
    er = {}
    for f in rows_:
        n = len(d.tables[f.table])
        members = np.arange(n, dtype=np.int64) if f.members is None else np.asarray(f.members(d).rows, dtype=np.int64)
        if callable(f.sense):
            sense = np.asarray(f.sense(d), dtype=np.int64)[members]
        else:
            sense = np.full(len(members), SENSES[f.sense], dtype=np.int64)
        er[f.name] = EmittedRows(f, members, n, sense, [EmittedPart(r, _compact(r.build(d))) for r in f.rhs],
                                 [EmittedPart(t, _compact(t.build(d))) for t in f.terms])
    return ev, er


# ------------------------------------------------------------------------------------------
# What builders may read of an instance
# ------------------------------------------------------------------------------------------


def positive(v: np.ndarray) -> dict[str, np.ndarray]:
    """Shape of a column where rows exist only for positive values."""
    return {"positive": v > 0}


def blank_or_positive(v: np.ndarray) -> dict[str, np.ndarray]:
    """Shape of a limit: a blank is unbounded (no row), zero allows nothing (no variable)."""
    return {"blank": np.isnan(v), "positive": v > 0}


def blank(v: np.ndarray) -> dict[str, np.ndarray]:
    """Shape of a column whose blanks (and only they) decide what exists."""
    return {"blank": np.isnan(v)}


def numbers(s) -> np.ndarray:
    return s.to_numpy(dtype="float64", na_value=np.nan)


class StructureView:
    """The instance as index tables are built from it: every column, except that a column a
    parameter map may change in place (``shapes``) is seen only through its shape — the part of
    its values that decides which rows and columns exist (e.g. whether a demand is positive).
    So a change that keeps every shape keeps the index tables, by construction."""

    def __init__(self, instance, shapes: dict):
        self.instance = instance
        self.shapes = shapes
        self._tables: dict = {}
        self.first_year, self.last_year = instance.first_year, instance.last_year
        self.years = instance.years
        self.label = instance.label

    def table(self, name: str):
        if name not in self._tables:
            t = self.instance.tables[name]
            hidden = [c for c in t.columns if (name, c) in self.shapes]
            self._tables[name] = t.drop(columns=hidden) if hidden else t
        return self._tables[name]

    def shape(self, table: str, column: str) -> dict[str, np.ndarray]:
        fn = self.shapes[(table, column)]
        return fn(numbers(self.instance.tables[table][column]))


class ParamView:
    """The columns and settings a :class:`Param` declares it reads, and nothing else."""

    def __init__(self, instance, reads: tuple[tuple[str, str], ...], name: str):
        self._instance, self._reads, self._name = instance, set(reads), name

    def column(self, table: str, column: str) -> np.ndarray:
        if (table, column) not in self._reads:
            raise KeyError(f"param '{self._name}' reads {table}.{column} without declaring it")
        from .schema import TABLES

        s = self._instance.tables[table][column]
        numeric = TABLES[table].column(column).type in ("int", "float")
        return numbers(s) if numeric else s.to_numpy(dtype=object)

    def setting(self, name: str):
        if ("instance", name) not in self._reads:
            raise KeyError(f"param '{self._name}' reads the setting {name} without declaring it")
        return getattr(self._instance, name)
