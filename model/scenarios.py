"""Scenarios as values: what-if studies written in code, labelled, composed and generated.

A :class:`Scenario` is a label plus an ordered list of steps, each either a scenario-style
change (``{table, where, column, scale | set}``, as in ``instance.yaml`` and
:meth:`Instance.with_changes`) or the name of a scenario of the instance (``instance.yaml``'s
``scenarios``). Scenarios compose with ``+`` (the steps of the left one first), and
:func:`grid` and :func:`sample` produce reproducible lists of them over parameters::

    nev = scale("demand", "quantity", where={"commodity": "nev"})
    quota = setter("policies", "value", where={"policy": "china_mining_quota"})
    runs = grid(nev=(nev, [0.8, 1.0, 1.3]), quota=(quota, [168000, 210000]))
    runs = sample(200, seed=1, nev=(nev, uniform(0.8, 1.4)), quota=(quota, choice([168000, 210000])))

Each axis is ``(factory, values)`` for :func:`grid` or ``(factory, distribution)`` for
:func:`sample`, where ``factory(value)`` returns the changes for that value (a change mapping,
a list of them, a scenario name, a :class:`Scenario`, or ``None`` for no change); or a change
mapping whose ``scale`` or ``set`` holds the values (grid) or a distribution (sample); or, for
:func:`grid` only, a list of alternatives (scenario names, :class:`Scenario` values, ``None``
for the base). Nothing here solves anything: :func:`rechain.solvers.sweep` does.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from .changes import SCALAR_CHANGES, SCENARIO_TABLES
from .instance import Instance
from .schema import FREE_COLUMNS, TABLES

BASE = "base"


def _freeze_change(ch: Any) -> Any:
    if isinstance(ch, str):
        return ch
    if isinstance(ch, Mapping):
        return copy.deepcopy(dict(ch))
    raise TypeError(f"a scenario step is a change mapping {{table, where, column, scale | set}} or a scenario name, not {ch!r}")


@dataclass(frozen=True, eq=True)
class Scenario:
    """A labelled what-if: ``changes`` is an ordered tuple of change mappings and/or names of
    scenarios of the instance; ``params`` records the parameter values a generator drew
    (axis name -> value), for tables and plots of a sweep."""

    label: str = BASE
    changes: tuple = ()
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.label, str) or not self.label:
            raise ValueError(f"a scenario label is a non-empty string, not {self.label!r}")
        steps = self.changes
        if isinstance(steps, (str, Mapping)):
            steps = [steps]
        object.__setattr__(self, "changes", tuple(_freeze_change(c) for c in steps))
        object.__setattr__(self, "params", dict(self.params))

    __hash__ = None  # the change mappings are mutable values

    # -- constructors -----------------------------------------------------------------------
    @classmethod
    def base(cls) -> "Scenario":
        """The instance as it is."""
        return cls(BASE)

    @classmethod
    def named(cls, *names: str) -> "Scenario":
        """The named scenarios of the instance, applied in the order given."""
        if not names:
            return cls.base()
        return cls("+".join(names), tuple(names))

    # -- composition ------------------------------------------------------------------------
    def __add__(self, other: Any) -> "Scenario":
        other = as_scenario(other)
        labels = [s.label for s in (self, other) if s.label != BASE or s.changes]
        label = "+".join(labels) if labels else BASE
        return Scenario(label, self.changes + other.changes, {**self.params, **other.params})

    def __radd__(self, other: Any) -> "Scenario":
        if other == 0:  # so sum([...]) works
            return self
        return as_scenario(other) + self

    def relabel(self, label: str) -> "Scenario":
        return Scenario(label, self.changes, self.params)

    @property
    def is_base(self) -> bool:
        return not self.changes

    # -- applying -----------------------------------------------------------------------------
    def apply(self, instance: Instance) -> Instance:
        """A copy of ``instance`` with the steps applied in order (``instance.applied`` ends
        with this scenario's label for the code changes). Raises :class:`InstanceError` where a
        change does not fit the instance (unknown table, no matching row, invalid result)."""
        inst = instance
        run: list[dict] = []

        def flush():
            nonlocal inst
            if run:
                inst = inst.with_changes(list(run), label=self.label, where_from=f"scenario '{self.label}'")
                run.clear()

        for step in self.changes:
            if isinstance(step, str):
                flush()
                inst = inst.with_scenario(step)
            else:
                run.append(step)
        flush()
        return inst

    def __repr__(self) -> str:
        p = f", params={self.params}" if self.params else ""
        return f"Scenario({self.label!r}, {len(self.changes)} change(s){p})"


def as_scenario(x: Any) -> Scenario:
    """A :class:`Scenario` from a Scenario, ``None`` (the base), a scenario name, a change
    mapping or a list of change mappings / names."""
    if isinstance(x, Scenario):
        return x
    if x is None:
        return Scenario.base()
    if isinstance(x, str):
        return Scenario.base() if x == BASE else Scenario.named(x)
    if isinstance(x, Mapping):
        return Scenario(_change_label(x), (x,))
    if isinstance(x, Iterable):
        parts = [as_scenario(p) for p in x]
        return sum(parts, Scenario.base())
    raise TypeError(f"cannot make a scenario of {x!r}")


def _change_label(ch: Mapping) -> str:
    where = ",".join(f"{k}={v}" for k, v in (ch.get("where") or {}).items())
    how = f"*{ch['scale']}" if "scale" in ch else f"={ch.get('set')}"
    return f"{ch.get('table')}[{where}].{ch.get('column')}{how}"


# --------------------------------------------------------------------------------------------
# Change factories: value -> change
# --------------------------------------------------------------------------------------------


def check_axis(table: str, column: str, where: Mapping | None = None, how: str = "scale") -> None:
    """Raise ValueError unless ``table.column`` is something a sweep axis can change: a table
    of the instance contract (or ``instance`` and one of its numeric settings), a column of
    it (numeric when ``how`` is ``scale`` or ``number``; ``set`` takes any column), and
    ``where`` naming columns of that table."""
    if table not in SCENARIO_TABLES:
        raise ValueError(f"unknown table '{table}' (expected one of {', '.join(SCENARIO_TABLES)})")
    if table == "instance":
        if column not in SCALAR_CHANGES:
            raise ValueError(f"unknown setting 'instance.{column}' (changeable: {', '.join(SCALAR_CHANGES)})")
        if where:
            raise ValueError(f"'instance.{column}' is a setting: it has no rows to select with {dict(where)}")
        return
    schema = TABLES[table]
    if column not in schema.column_names:
        raise ValueError(f"table '{table}' has no column '{column}' (columns: {', '.join(schema.column_names)})")
    if how in ("scale", "number") and schema.column(column).type not in ("int", "float"):
        what = "cannot scale" if how == "scale" else "a sweep axis varies a number, and"
        raise ValueError(f"{what} '{table}.{column}' is not a numeric column "
                         f"(numeric: {', '.join(c.name for c in schema.columns if c.type in ('int', 'float'))})")
    if where is not None and not isinstance(where, Mapping):
        raise ValueError(f"'where' of '{table}.{column}' is a mapping column: value, not {where!r}")
    unknown = [str(c) for c in (where or {}) if c not in schema.column_names and c not in FREE_COLUMNS]
    if unknown:
        raise ValueError(f"table '{table}' has no column {', '.join(repr(c) for c in unknown)} to select on "
                         f"(columns: {', '.join(schema.column_names)})")


def scale(table: str, column: str, where: Mapping | None = None) -> Callable[[float], dict]:
    """A factory of changes multiplying ``column`` (numeric) of the selected rows by the value."""
    check_axis(table, column, where, "scale")

    def make(value):
        return {"table": table, "where": dict(where or {}), "column": column, "scale": _plain(value)}
    make.__name__ = f"scale_{table}_{column}"
    make.axis = (table, column, "scale")
    return make


def setter(table: str, column: str, where: Mapping | None = None) -> Callable[[Any], dict]:
    """A factory of changes setting ``column`` of the selected rows to the value."""
    check_axis(table, column, where, "set")

    def make(value):
        return {"table": table, "where": dict(where or {}), "column": column, "set": _plain(value)}
    make.__name__ = f"set_{table}_{column}"
    make.axis = (table, column, "set")
    return make


def _plain(v: Any) -> Any:
    """numpy scalars to Python numbers, so changes and labels print and pickle plainly."""
    if isinstance(v, np.generic):
        return v.item()
    return v


def _steps(made: Any) -> tuple:
    if made is None:
        return ()
    if isinstance(made, Scenario):
        return made.changes
    if isinstance(made, (str, Mapping)):
        return (made,)
    return tuple(s for m in made for s in _steps(m))


def _fmt(v: Any) -> str:
    if isinstance(v, Scenario):
        return v.label
    if v is None:
        return BASE
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _template_axis(name: str, spec: Mapping) -> tuple[Callable, Any]:
    """A change mapping whose ``scale`` or ``set`` holds the values / distribution."""
    key = "scale" if "scale" in spec else "set" if "set" in spec else None
    if key is None:
        raise ValueError(f"axis '{name}': a change template needs 'scale' or 'set' holding the values")
    rest = {k: v for k, v in spec.items() if k != key}
    try:
        check_axis(rest.get("table"), rest.get("column"), rest.get("where"), key)
    except ValueError as e:
        raise ValueError(f"axis '{name}': {e}") from None

    def make(value):
        return {**copy.deepcopy(rest), key: _plain(value)}

    make.axis = (rest.get("table"), rest.get("column"), key)
    return make, spec[key]


def _axis(name: str, spec: Any, sampling: bool) -> tuple[Callable, Any]:
    if isinstance(spec, Mapping):
        return _template_axis(name, spec)
    if isinstance(spec, tuple) and len(spec) == 2 and callable(spec[0]):
        return spec
    if not sampling and isinstance(spec, Sequence) and not isinstance(spec, str):
        return (lambda v: v), list(spec)  # alternatives: names, Scenarios, None, mappings
    how = "(factory, distribution) or a change template" if sampling else "(factory, values), a change template or a list of alternatives"
    raise TypeError(f"axis '{name}': expected {how}, got {spec!r}")


def grid(**axes: Any) -> list[Scenario]:
    """Every combination of the axes' values, first axis slowest; labels ``a=1,b=x``.

    >>> grid(nev=(scale("demand", "quantity", {"commodity": "nev"}), [0.8, 1.2]),
    ...      policy=[None, "no_plan_target"])          # doctest: +SKIP
    """
    if not axes:
        return [Scenario.base()]
    names = list(axes)
    parsed = [_axis(n, axes[n], sampling=False) for n in names]
    parsed = [(make, list(vals)) for make, vals in parsed]
    for n, (_, vals) in zip(names, parsed):
        if not vals:
            raise ValueError(f"axis '{n}' has no values")
    out = []
    for combo in itertools.product(*[vals for _, vals in parsed]):
        steps: tuple = ()
        for (make, _), v in zip(parsed, combo):
            steps += _steps(make(v))
        label = ",".join(f"{n}={_fmt(v)}" for n, v in zip(names, combo))
        params = {n: (_fmt(v) if isinstance(v, Scenario) or v is None else _plain(v)) for n, v in zip(names, combo)}
        out.append(Scenario(label, steps, params))
    return out


# --------------------------------------------------------------------------------------------
# Distributions for sample()
# --------------------------------------------------------------------------------------------


#: the distributions and the names of their parameters, as numpy's Generator takes them
DISTRIBUTIONS = {"uniform": ("low", "high"), "normal": ("mean", "sd"), "lognormal": ("mean", "sigma"),
                 "triangular": ("low", "mode", "high"), "choice": ("values", "p")}


@dataclass(frozen=True)
class Distribution:
    """A distribution of one parameter: ``kind`` in uniform, normal, lognormal, triangular,
    choice; ``args`` as in numpy's Generator methods; normal values may be clipped to
    ``[low, high]`` (``clip``). Checked when made: a distribution numpy would refuse, or
    that could draw nothing, is a ValueError that says which parameter is wrong."""

    kind: str
    args: tuple
    clip: tuple | None = None

    def __post_init__(self):
        k, args = self.kind, tuple(self.args)
        if k not in DISTRIBUTIONS:
            raise ValueError(f"unknown distribution '{k}' (expected {', '.join(DISTRIBUTIONS)})")
        names = DISTRIBUTIONS[k]
        if len(args) != len(names):
            raise ValueError(f"{k} takes {len(names)} parameters ({', '.join(names)}), not {len(args)}: {args!r}")
        if k == "choice":
            values, p = args
            values = list(values)
            if not values:
                raise ValueError("choice() needs at least one value to choose from")
            if p is not None:
                p = [_finite(k, "p", x) for x in p]
                if len(p) != len(values) or min(p) < 0 or not math.isclose(sum(p), 1.0, abs_tol=1e-8):
                    raise ValueError(f"choice: p must give each of the {len(values)} value(s) a probability ≥ 0, "
                                     f"summing to 1; got {p}")
            object.__setattr__(self, "args", (values, p))
            return
        args = tuple(_finite(k, n, x) for n, x in zip(names, args))
        object.__setattr__(self, "args", args)
        call = f"{k}({', '.join(f'{x:g}' for x in args)})"
        if k == "uniform" and args[0] > args[1]:
            raise ValueError(f"{call}: low must be ≤ high")
        if k in ("normal", "lognormal") and args[1] < 0:
            raise ValueError(f"{call}: {names[1]} must be ≥ 0")
        if k == "triangular" and not (args[0] <= args[1] <= args[2] and args[0] < args[2]):
            raise ValueError(f"{call}: expected low ≤ mode ≤ high and low < high")
        if self.clip is not None:
            low, high = (float(x) for x in self.clip)
            if math.isnan(low) or math.isnan(high) or low > high:
                raise ValueError(f"{call}: the clip bounds must satisfy low ≤ high, not [{low:g}, {high:g}]")

    def draw(self, rng: np.random.Generator, n: int) -> list:
        k = self.kind
        if k == "uniform":
            x = rng.uniform(*self.args, size=n)
        elif k == "normal":
            x = rng.normal(*self.args, size=n)
        elif k == "lognormal":
            x = rng.lognormal(*self.args, size=n)
        elif k == "triangular":
            x = rng.triangular(*self.args, size=n)
        else:  # choice
            values, p = self.args
            idx = rng.choice(len(values), size=n, p=p)
            return [values[i] for i in idx]
        if self.clip is not None:
            x = np.clip(x, *self.clip)
        return [float(v) for v in x]


def _finite(kind: str, name: str, x: Any) -> float:
    """``x`` as a finite float, or a ValueError naming the distribution's parameter."""
    try:
        if isinstance(x, bool):
            raise ValueError
        v = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{kind}: {name} must be a number, not {x!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{kind}: {name} must be finite, not {x!r}")
    return v


def uniform(low: float, high: float) -> Distribution:
    return Distribution("uniform", (low, high))


def normal(mean: float, sd: float, low: float = -math.inf, high: float = math.inf) -> Distribution:
    """A normal distribution, clipped to ``[low, high]`` (e.g. a scale factor kept ≥ 0)."""
    return Distribution("normal", (mean, sd), (low, high))


def lognormal(mean: float, sigma: float) -> Distribution:
    """exp(N(mean, sigma)): ``lognormal(0, 0.2)`` is a scale factor around 1."""
    return Distribution("lognormal", (mean, sigma))


def triangular(low: float, mode: float, high: float) -> Distribution:
    return Distribution("triangular", (low, mode, high))


def choice(values: Sequence, p: Sequence[float] | None = None) -> Distribution:
    return Distribution("choice", (list(values), None if p is None else list(p)))


def _distribution(name: str, d: Any) -> Distribution:
    if isinstance(d, Distribution):
        return d
    makers = {"uniform": uniform, "normal": normal, "lognormal": lognormal, "triangular": triangular, "choice": choice}
    try:
        if isinstance(d, tuple) and d and isinstance(d[0], str):
            if d[0] not in makers:
                raise ValueError(f"unknown distribution '{d[0]}' (expected {', '.join(makers)})")
            try:
                return makers[d[0]](*d[1:])
            except TypeError as e:
                raise ValueError(f"{d[0]}: {e}") from None
        if isinstance(d, Sequence) and not isinstance(d, str):
            return choice(d)
    except ValueError as e:
        raise ValueError(f"axis '{name}': {e}") from None
    raise TypeError(f"axis '{name}': expected a distribution (uniform(a, b), ('normal', m, s), a list to choose from), got {d!r}")


def sample(n: int, /, seed: int = 0, **distributions: Any) -> list[Scenario]:
    """``n`` random scenarios, reproducible from ``seed``: each axis draws from its own
    stream (spawned from the seed in axis order), so adding an axis at the end leaves the
    draws of the others unchanged. Labels are ``sample0001``…; ``params`` hold the draws."""
    try:
        whole = not isinstance(n, bool) and float(n) == int(n) and n >= 1
    except (TypeError, ValueError, OverflowError):
        whole = False
    if not whole:
        raise ValueError(f"a sample needs a whole number n ≥ 1 of scenarios, not {n!r}")
    n = int(n)
    names = list(distributions)
    parsed = []
    for name in names:
        make, dist = _axis(name, distributions[name], sampling=True)
        dist = _distribution(name, dist)
        table, column, how = getattr(make, "axis", (None, None, None))
        if how == "set" and dist.kind != "choice" and table != "instance" and table in TABLES:
            if TABLES[table].column(column).type not in ("int", "float"):
                raise ValueError(f"axis '{name}': {dist.kind} draws numbers, but '{table}.{column}' is not a numeric column")
        parsed.append((make, dist))
    streams = np.random.SeedSequence(int(seed)).spawn(len(names))
    draws = [dist.draw(np.random.default_rng(s), n) for (_, dist), s in zip(parsed, streams)]
    width = max(4, len(str(n)))
    out = []
    for i in range(n):
        steps: tuple = ()
        params = {}
        for name, (make, _), col in zip(names, parsed, draws):
            v = _plain(col[i])
            steps += _steps(make(v))
            params[name] = _fmt(v) if isinstance(v, Scenario) or v is None else v
        out.append(Scenario(f"sample{i + 1:0{width}d}", steps, params))
    return out


def scenario_table(scenarios: Iterable[Any]):
    """A table of the scenarios: ``scenario`` (label) and one column per parameter."""
    import pandas as pd

    rows = []
    for s in scenarios:
        s = as_scenario(s)
        rows.append({"scenario": s.label, **s.params})
    return pd.DataFrame(rows, columns=None if rows else ["scenario"])


__all__ = [
    "Distribution", "Scenario", "as_scenario", "choice", "grid", "lognormal", "normal", "sample",
    "scale", "scenario_table", "setter", "triangular", "uniform",
]
