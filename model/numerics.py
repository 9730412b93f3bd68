"""Pre-solve numerics: coefficient, objective, bound and right-hand-side ranges of the LP.

An LP whose matrix spans many orders of magnitude is solved inaccurately or not at all (HiGHS
works to absolute tolerances near 1e-7). :func:`report` reads the sparse index tables of
:mod:`rechain.model.data` — the same rows the formulation builds, without building it — and
returns the ranges of every family with the entries at each end, plus warnings that name rows:

- the matrix range (largest |a| / smallest |a| over all non-zero coefficients) exceeds 1e9;
- a coefficient is below 1e-9 of the largest coefficient in its own row (the solver may treat
  it as zero);
- the objective or the bounds and right-hand sides span more than 1e9, or hold a number above
  1e15 (such figures swamp every other cost or limit in floating point).

Row names are the constraint's name and index as in the model, e.g.
``balance[prnd_oxide,south,2022]``; variables likewise, e.g. ``act[separation,north,2021]``.
Ranges count non-zero magnitudes only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .data import ModelData, prepare

MATRIX_RANGE = 1e9  # warn above this max|a| / min|a|
ROW_RELATIVE = 1e-9  # warn for |a| below this fraction of its row's largest |a|
VALUE_RANGE = 1e9  # warn above this range of objective, bound or rhs magnitudes
HUGE = 1e15  # warn for any figure above this
MAX_NAMED = 10  # rows named in one warning



@dataclass
class Range:
    """Non-zero magnitudes of one kind of figure: smallest and largest, and where they are."""

    count: int
    min: float
    max: float
    min_at: str
    max_at: str

    @property
    def ratio(self) -> float:
        return self.max / self.min if self.min > 0 else float("inf")

    def __str__(self) -> str:
        if not self.count:
            return "none"
        return f"[{self.min:.3g}, {self.max:.3g}] (ratio {self.ratio:.3g}; min at {self.min_at}, max at {self.max_at})"


@dataclass
class NumericsReport:
    """Ranges of the LP's figures and the warnings they raise (see the module docstring).

    ``ranges`` maps ``matrix``, ``objective``, ``bounds`` (variable bounds: build, supply, lane
    and unmet limits) and ``rhs`` (residual capacity, demand, policy values) to a :class:`Range`;
    ``families`` gives the matrix range of each constraint family. ``warnings`` are sentences
    for people, each naming the rows concerned; ``rows``/``columns``/``nonzeros`` size the LP.
    """

    rows: int
    columns: int
    nonzeros: int
    ranges: dict[str, Range]
    families: dict[str, Range]
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.warnings

    def __str__(self) -> str:
        lines = [f"LP: {self.rows} rows, {self.columns} columns, {self.nonzeros} non-zeros"]
        for k, r in self.ranges.items():
            lines.append(f"  {k:9s} {r}")
        for k, r in self.families.items():
            lines.append(f"    {k:17s} {r}")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


class _Namer:
    """Names of the rows (or columns) of the LP, made only for the few that a report shows:
    each LP index maps to its family and its row of the family's index table."""

    def __init__(self, d: ModelData, index: dict[str, np.ndarray], size: int):
        self.d = d
        self.families = list(index)
        self.family = np.full(size, -1, dtype=np.int64)
        self.pos = np.full(size, -1, dtype=np.int64)
        for k, f in enumerate(self.families):
            where = np.asarray(index[f], dtype=np.int64)
            ok = where >= 0
            self.family[where[ok]] = k
            self.pos[where[ok]] = np.flatnonzero(ok)

    def __call__(self, i: int) -> str:
        family = self.families[self.family[i]]
        table = (self.d.vars[family] if family in self.d.vars else self.d.rows[family]).family.table
        key = self.d.keys(table, [int(self.pos[i])])[0]
        return f"{family}[{','.join(str(k) for k in key)}]"


class _Figures:
    """Figures gathered from several sources, each named on demand (``name(i)``)."""

    def __init__(self):
        self.values, self.names = [], []

    def add(self, values, name) -> None:
        self.values.append(np.asarray(values, dtype=float))
        self.names.append(name)

    def array(self) -> np.ndarray:
        return np.concatenate(self.values) if self.values else np.zeros(0)

    def name(self, i: int) -> str:
        for v, name in zip(self.values, self.names):
            if i < len(v):
                return name(i)
            i -= len(v)
        raise IndexError(i)


def _range(values: np.ndarray, name) -> Range:
    """The range of the non-zero finite magnitudes of ``values``; ``name(i)`` names entry i."""
    v = np.abs(np.asarray(values, dtype=float))
    keep = np.flatnonzero(np.isfinite(v) & (v > 0))
    if not len(keep):
        return Range(0, 0.0, 0.0, "", "")
    i, j = keep[int(np.argmin(v[keep]))], keep[int(np.argmax(v[keep]))]
    return Range(len(keep), float(v[i]), float(v[j]), name(i), name(j))


def _bounds_and_rhs(d: ModelData, lp, rname, cname) -> tuple[_Figures, _Figures]:
    """Bounds (finite column bounds, and the right-hand sides of limit rows) and right-hand
    sides (of every other row), read from the LP and named by their families."""
    bounds, rhs = _Figures(), _Figures()
    up = np.flatnonzero(np.isfinite(lp.col_upper))
    bounds.add(lp.col_upper[up], lambda i: cname(int(up[i])))
    side = np.where(np.isfinite(lp.row_lower), lp.row_lower, lp.row_upper)
    for name, er in d.rows.items():
        rows = lp.rows[name][lp.rows[name] >= 0]
        (bounds if er.family.limit else rhs).add(side[rows], lambda i, rows=rows: rname(int(rows[i])))
    return bounds, rhs


def _row_listing(rows: np.ndarray, name) -> str:
    """The distinct rows of ``rows``, named in order of first appearance (the first
    MAX_NAMED of them), and how many more there are."""
    uniq, first = np.unique(rows, return_index=True)
    shown = rows[np.sort(first)][:MAX_NAMED]
    more = f" and {len(uniq) - MAX_NAMED} more" if len(uniq) > MAX_NAMED else ""
    return ", ".join(name(int(r)) for r in shown) + more


def report(source, lp=None) -> NumericsReport:
    """The numerics report of an :class:`~rechain.model.Instance`, a
    :class:`~rechain.model.ModelData`, or a model from :func:`~rechain.model.build_model`.
    ``lp``: the :class:`~rechain.model.matrix.LinearProgram` of that ModelData, when it is at
    hand (otherwise it is assembled). The figures are read as numbers; only the rows a range
    or a warning shows are named."""
    from .matrix import assemble

    if isinstance(source, ModelData):
        d = source
    elif hasattr(source, "_rechain_data"):
        d = source._rechain_data
    else:
        d = prepare(source)
    lp = assemble(d) if lp is None else lp
    a = lp.matrix
    col_of = np.repeat(np.arange(lp.num_col, dtype=np.int64), np.diff(a.indptr))
    row_of = np.asarray(a.indices, dtype=np.int64)
    coef = np.abs(np.asarray(a.data, dtype=float))
    nz = coef > 0
    row_of, col_of, coef = row_of[nz], col_of[nz], coef[nz]
    # the entries in the order of the rows (then columns), as the model lists its constraints
    order = np.lexsort((col_of, row_of))
    row_of, col_of, coef = row_of[order], col_of[order], coef[order]
    rname = _Namer(d, lp.rows, lp.num_row)
    cname = _Namer(d, lp.cols, lp.num_col)

    ranges = {"matrix": _range(coef, lambda i: rname(int(row_of[i])))}
    bounds, rhs = _bounds_and_rhs(d, lp, rname, cname)
    # the objective figures are the LP's costs, named by their columns
    values = {"objective": lp.col_cost, "bounds": bounds.array(), "rhs": rhs.array()}
    names = {"objective": cname, "bounds": bounds.name, "rhs": rhs.name}
    for k in values:
        ranges[k] = _range(values[k], names[k])
    fam = rname.family[row_of]
    families = {}
    for f in d.rows:
        if f in rname.families:
            sel = np.flatnonzero(fam == rname.families.index(f))
            if len(sel):
                families[f] = _range(coef[sel], lambda i, sel=sel: rname(int(row_of[sel[i]])))

    warnings = []
    m = ranges["matrix"]
    if m.count and m.ratio > MATRIX_RANGE:
        # the rows holding the extreme coefficients: within a factor 10 of the min or max
        lo = _row_listing(row_of[coef <= m.min * 10], rname)
        hi = _row_listing(row_of[coef >= m.max / 10], rname)
        warnings.append(f"the matrix coefficients span {m.ratio:.3g} (more than {MATRIX_RANGE:.0e}): smallest |a| = {m.min:.3g} "
                        f"in rows {lo}; largest |a| = {m.max:.3g} in rows {hi}")
    if len(coef):
        rowmax = np.zeros(lp.num_row)
        np.maximum.at(rowmax, row_of, coef)
        tiny = np.flatnonzero(coef < ROW_RELATIVE * rowmax[row_of])
        if len(tiny):
            detail = [f"{rname(int(row_of[i]))} ({cname(int(col_of[i]))}: {coef[i]:.3g} against {rowmax[row_of[i]]:.3g})"
                      for i in tiny[:MAX_NAMED]]
            more = f" and {len(tiny) - MAX_NAMED} more" if len(tiny) > MAX_NAMED else ""
            warnings.append(f"{len(tiny)} coefficient(s) below {ROW_RELATIVE:.0e} of the largest in their row, which the solver "
                            f"may treat as zero: {', '.join(detail)}{more}")
    for key in ("objective", "bounds", "rhs"):
        r, v = ranges[key], np.abs(values[key])
        if r.count and r.ratio > VALUE_RANGE:
            warnings.append(f"the {key} figures span {r.ratio:.3g} (more than {VALUE_RANGE:.0e}): smallest {r.min:.3g} at {r.min_at}, "
                            f"largest {r.max:.3g} at {r.max_at}")
        huge = np.flatnonzero(np.isfinite(v) & (v > HUGE))
        if len(huge):  # every figure has a name of its own
            more = f" and {len(huge) - MAX_NAMED} more" if len(huge) > MAX_NAMED else ""
            warnings.append(f"{key} figures above {HUGE:.0e}: {', '.join(names[key](int(i)) for i in huge[:MAX_NAMED])}{more}")
    if m.count and m.max > HUGE:
        warnings.append(f"matrix coefficients above {HUGE:.0e}: {_row_listing(row_of[coef > HUGE], rname)}")
    # rows with no non-zero (a policy with no terms that holds anyway) are no constraint
    rows = int(np.count_nonzero(row_of[1:] != row_of[:-1])) + 1 if len(row_of) else 0  # row_of is sorted (lexsort above)
    return NumericsReport(rows=rows, columns=lp.num_col, nonzeros=len(coef), ranges=ranges, families=families,
                          warnings=warnings)
