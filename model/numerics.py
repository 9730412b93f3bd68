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
import pandas as pd

from .data import ModelData, prepare

MATRIX_RANGE = 1e9  # warn above this max|a| / min|a|
ROW_RELATIVE = 1e-9  # warn for |a| below this fraction of its row's largest |a|
VALUE_RANGE = 1e9  # warn above this range of objective, bound or rhs magnitudes
HUGE = 1e15  # warn for any figure above this
MAX_NAMED = 10  # rows named in one warning

P3 = ["process", "region", "year"]
C3 = ["commodity", "region", "year"]
S4 = ["commodity", "origin", "destination", "year"]


def _names(family: str, df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    if not len(df):
        return np.array([], dtype=object)
    parts = [df[c].astype(str).to_numpy(dtype=object) for c in cols]
    out = parts[0]
    for p in parts[1:]:
        out = out + "," + p
    return (family + "[" + out + "]").astype(object)


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


def _range(values: np.ndarray, names: np.ndarray) -> Range:
    v = np.abs(np.asarray(values, dtype=float))
    keep = np.isfinite(v) & (v > 0)
    v, n = v[keep], np.asarray(names, dtype=object)[keep]
    if not len(v):
        return Range(0, 0.0, 0.0, "", "")
    i, j = int(np.argmin(v)), int(np.argmax(v))
    return Range(len(v), float(v[i]), float(v[j]), str(n[i]), str(n[j]))


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


def _entries(d: ModelData) -> pd.DataFrame:
    """Every non-zero of the constraint matrix: columns family, row, col, coef."""
    parts = []

    def add(family, rows, cols, coef):
        n = len(rows)
        if n:
            parts.append(pd.DataFrame({"family": family, "row": rows, "col": cols,
                                       "coef": np.broadcast_to(np.asarray(coef, dtype=float), (n,)).copy()}))

    # capacity: cap - sum(new online) = residual
    add("capacity", _names("capacity", d.cap, P3), _names("cap", d.cap, P3), 1.0)
    on = d.online.rename(columns={"year": "y"}).rename(columns={"vintage": "year"})
    if len(on):
        add("capacity", _names("capacity", on.rename(columns={"year": "v", "y": "year"}), P3), _names("new", on, P3), -1.0)
    # use: act - availability * cap <= 0
    avail = d.process["availability"].reindex(d.cap["process"]).to_numpy(dtype=float)
    add("use", _names("use", d.cap, P3), _names("act", d.cap, P3), 1.0)
    add("use", _names("use", d.cap, P3), _names("cap", d.cap, P3), -avail)
    # limits, rows of one coefficient each in the model (their right-hand sides count as bounds)
    for family, table, col, var, cols in (("build_new_limit", d.new, "max_new", "new", P3), ("build_total_limit", d.cap, "max_total", "cap", P3),
                                          ("supply_limit", d.supply, "max_quantity", "supply", C3), ("trade_limit", d.ship, "max_quantity", "ship", S4)):
        lim = table[table[col] < np.inf]
        add(family, _names(family, lim, cols), _names(var, lim, cols), 1.0)
    # balance: io coefficients of activity, supply, shipments, unmet, disposal
    acts = d.cap[P3].merge(d.io, on="process")
    add("balance", _names("balance", acts, C3), _names("act", acts, P3), acts["coefficient"].to_numpy(dtype=float))
    add("balance", _names("balance", d.supply, C3), _names("supply", d.supply, C3), 1.0)
    add("balance", _names("balance", d.ship.rename(columns={"destination": "region"}), C3), _names("ship", d.ship, S4), 1.0)
    add("balance", _names("balance", d.ship.rename(columns={"origin": "region"}), C3), _names("ship", d.ship, S4), -1.0)
    add("balance", _names("balance", d.unmet, C3), _names("unmet", d.unmet, C3), 1.0)
    add("balance", _names("balance", d.dispose, C3), _names("dispose", d.dispose, C3), -1.0)
    # policies: sums of variables (coefficient 1), soft ones with their violation
    t = d.policy_terms
    if len(t):
        rows = ("policy[" + t["policy"].astype(str) + "," + t["year"].astype(str) + "]").to_numpy(dtype=object)
        cols = (t["var"].astype(str) + "[" + t["key"].map(lambda k: ",".join(map(str, k))) + "]").to_numpy(dtype=object)
        add("policy", rows, cols, 1.0)
    soft = d.policy[d.policy["penalty"].notna()]
    add("policy", _names("policy", soft, ["policy", "year"]), _names("violation", soft, ["policy", "year"]), 1.0)
    if not parts:
        return pd.DataFrame(columns=["family", "row", "col", "coef"])
    return pd.concat(parts, ignore_index=True)


def _objective(d: ModelData) -> tuple[np.ndarray, np.ndarray]:
    df = d.df
    vals, names = [], []

    def add(v, n):
        vals.append(np.asarray(v, dtype=float))
        names.append(np.asarray(n, dtype=object))

    proc = d.process
    add(proc["annuity"].reindex(d.new["process"]).to_numpy(dtype=float) * d.new["online_weight"].to_numpy(dtype=float), _names("new", d.new, P3))
    dfy = d.cap["year"].map(df).to_numpy(dtype=float)
    add(dfy * proc["fixed_om"].reindex(d.cap["process"]).to_numpy(dtype=float), _names("cap", d.cap, P3))
    add(dfy * proc["variable_cost"].reindex(d.cap["process"]).to_numpy(dtype=float), _names("act", d.cap, P3))
    for table, col, var, cols in (("supply", "price", "supply", C3), ("ship", "cost", "ship", S4),
                                  ("unmet", "penalty", "unmet", C3), ("dispose", "cost", "dispose", C3)):
        t = getattr(d, table)
        add(t["year"].map(df).to_numpy(dtype=float) * t[col].to_numpy(dtype=float), _names(var, t, cols))
    soft = d.policy[d.policy["penalty"].notna()]
    add(soft["year"].map(df).to_numpy(dtype=float) * soft["penalty"].to_numpy(dtype=float), _names("violation", soft, ["policy", "year"]))
    return np.concatenate(vals) if vals else np.array([]), np.concatenate(names) if names else np.array([], dtype=object)


def _bounds_and_rhs(d: ModelData):
    b_vals, b_names, r_vals, r_names = [], [], [], []
    for table, col, family, cols in (("new", "max_new", "build_new_limit", P3), ("cap", "max_total", "build_total_limit", P3),
                                     ("supply", "max_quantity", "supply_limit", C3), ("ship", "max_quantity", "trade_limit", S4),
                                     ("unmet", "demand", "unmet", C3)):
        t = getattr(d, table)
        b_vals.append(t[col].to_numpy(dtype=float))
        b_names.append(_names(family, t, cols))
    for table, col, family, cols in (("cap", "residual", "capacity", P3), ("balance", "demand", "balance", C3),
                                     ("policy", "value", "policy", ["policy", "year"])):
        t = getattr(d, table)
        r_vals.append(t[col].to_numpy(dtype=float))
        r_names.append(_names(family, t, cols))
    cat = lambda xs, dt: np.concatenate(xs) if xs else np.array([], dtype=dt)  # noqa: E731
    return cat(b_vals, float), cat(b_names, object), cat(r_vals, float), cat(r_names, object)


def _listing(names) -> str:
    names = list(dict.fromkeys(names))
    more = f" and {len(names) - MAX_NAMED} more" if len(names) > MAX_NAMED else ""
    return ", ".join(names[:MAX_NAMED]) + more


def report(source) -> NumericsReport:
    """The numerics report of an :class:`~rechain.model.Instance`, a
    :class:`~rechain.model.ModelData`, or a model from :func:`~rechain.model.build_model`."""
    if isinstance(source, ModelData):
        d = source
    elif hasattr(source, "_rechain_data"):
        d = source._rechain_data
    else:
        d = prepare(source)
    e = _entries(d)
    coef = e["coef"].abs().to_numpy(dtype=float)
    nz = coef > 0
    e, coef = e[nz], coef[nz]
    ranges = {"matrix": _range(coef, e["row"].to_numpy(dtype=object))}
    obj_v, obj_n = _objective(d)
    ranges["objective"] = _range(obj_v, obj_n)
    b_v, b_n, r_v, r_n = _bounds_and_rhs(d)
    ranges["bounds"] = _range(b_v, b_n)
    ranges["rhs"] = _range(r_v, r_n)
    families = {f: _range(np.abs(g["coef"].to_numpy(dtype=float)), g["row"].to_numpy(dtype=object)) for f, g in e.groupby("family", sort=False)}

    warnings = []
    m = ranges["matrix"]
    if m.count and m.ratio > MATRIX_RANGE:
        # the rows holding the extreme coefficients: within a factor 10 of the min or max
        lo = e.loc[coef <= m.min * 10, "row"]
        hi = e.loc[coef >= m.max / 10, "row"]
        warnings.append(f"the matrix coefficients span {m.ratio:.3g} (more than {MATRIX_RANGE:.0e}): smallest |a| = {m.min:.3g} "
                        f"in rows {_listing(lo)}; largest |a| = {m.max:.3g} in rows {_listing(hi)}")
    if len(e):
        rowmax = e.assign(a=coef).groupby("row")["a"].transform("max").to_numpy(dtype=float)
        tiny = coef < ROW_RELATIVE * rowmax
        if tiny.any():
            t = e[tiny]
            detail = [f"{r} ({c}: {a:.3g} against {mx:.3g})" for r, c, a, mx in zip(t["row"], t["col"], coef[tiny], rowmax[tiny])]
            warnings.append(f"{int(tiny.sum())} coefficient(s) below {ROW_RELATIVE:.0e} of the largest in their row, which the solver "
                            f"may treat as zero: {_listing(detail)}")
    for key, values, names in (("objective", obj_v, obj_n), ("bounds", b_v, b_n), ("rhs", r_v, r_n)):
        r = ranges[key]
        if r.count and r.ratio > VALUE_RANGE:
            warnings.append(f"the {key} figures span {r.ratio:.3g} (more than {VALUE_RANGE:.0e}): smallest {r.min:.3g} at {r.min_at}, "
                            f"largest {r.max:.3g} at {r.max_at}")
        v = np.abs(np.asarray(values, dtype=float))
        huge = np.isfinite(v) & (v > HUGE)
        if huge.any():
            warnings.append(f"{key} figures above {HUGE:.0e}: {_listing(np.asarray(names, dtype=object)[huge])}")
    if m.count and m.max > HUGE:
        warnings.append(f"matrix coefficients above {HUGE:.0e}: {_listing(e.loc[coef > HUGE, 'row'])}")

    # a policy row with no terms (and no violation) is no row of the LP
    policy_rows = e.loc[e["family"] == "policy", "row"].nunique()
    rows = len(d.cap) * 2 + int((d.new["max_new"] < np.inf).sum()) + int((d.cap["max_total"] < np.inf).sum()) + len(d.balance) \
        + int((d.supply["max_quantity"] < np.inf).sum()) + int((d.ship["max_quantity"] < np.inf).sum()) + policy_rows
    columns = 2 * len(d.cap) + len(d.new) + len(d.supply) + len(d.ship) + len(d.unmet) + len(d.dispose) + int(d.policy["penalty"].notna().sum())
    return NumericsReport(rows=rows, columns=columns, nonzeros=len(e), ranges=ranges, families=families, warnings=warnings)
