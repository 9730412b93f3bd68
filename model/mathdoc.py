"""``docs/formulation.md``, written from the family declarations of :mod:`rechain.model.families`.

The sets, parameters, variables, rows (with the condition under which each exists), policy
kinds and the objective are all read from the declarations the LP is built from, so the
document cannot drift from the model: ``tests/test_mathdoc.py`` fails when the file and the
declarations disagree. Regenerate it with::

    python -m rechain.model.mathdoc docs/formulation.md
"""

from __future__ import annotations

import sys

from .description import Coef, Term, _sym
from . import families as F
from .schema import POLICY_KINDS

_REL = {"==": "=", "<=": "\\le", ">=": "\\ge"}


def _var(name: str, index: str) -> str:
    return f"\\text{{{name}}}_{{{index}}}"


def _set(table: str) -> str:
    return F.TABLE[table].symbol


def _term(t: Term, first: bool) -> str:
    c: Coef = t.coef
    neg = (c.b < 0 if c.params else (c.a + c.b) < 0) and c.a == 0
    sign = ("-" if neg else "") if first else (" - " if neg else " + ")
    coef = "" if c.constant() is not None and abs(c.a + c.b) == 1 else c.latex() + "\\,"
    body = f"{coef}{_var(t.var, t.index)}"
    return f"{sign}\\sum_{{{t.over}}} {body}" if t.over else f"{sign}{body}"


def _rhs(f) -> str:
    if not f.rhs:
        return "0"
    parts = []
    for r in f.rhs:
        parts.append(r.coef.latex())
    return " + ".join(parts)


def _sense(f) -> str:
    return "\\lesseqgtr" if callable(f.sense) else _REL[f.sense]


def _row(f) -> list[str]:
    table = F.TABLE[f.table]
    where = f", where {f.exists}" if f.exists and f.members is not None else ""
    head = f"**{f.name}** $({table.index}) \\in {table.symbol}${where} — {f.doc}"
    if any(t.when for t in f.terms):
        lines = [head + " (sense: " + (f.sense_doc or _sense(f)) + "):", ""]
        lines.append("| terms | for |")
        lines.append("|---|---|")
        for t in f.terms:
            lines.append(f"| ${_term(t, True)}$ | {t.when} |")
        rhs = "; ".join(f"${r.coef.latex()}$" + (f" ({r.when})" if r.when else "") for r in f.rhs) or "0"
        lines += ["", f"right-hand side: {rhs}; 0 where no part gives one"]
        return lines
    body = "".join(_term(t, i == 0) for i, t in enumerate(f.terms))
    return [head + ":", f"$${body} {_sense(f)} {_rhs(f)}$$"]


def _cost(f) -> list[str]:
    out = []
    for c in f.costs:
        when = f"paid in {c.over}" if c.over else "paid in its year"
        out.append(f"| `{c.component}` | $DF_y\\,{c.coef.latex()}\\,{_var(f.name, F.TABLE[f.table].index)}$ | "
                   f"${F.TABLE[f.table].symbol}$, {when} |")
    return out


def markdown() -> str:
    """The text of ``docs/formulation.md``."""
    L = [
        "# The rechain linear program",
        "",
        "<!-- written by `python -m rechain.model.mathdoc docs/formulation.md` from rechain/model/families.py; "
        "do not edit by hand -->",
        "",
        "SPEC §2 as built by `rechain.model.matrix.assemble` and `rechain.model.formulation.build_model`, both",
        "rendered from the declarations of `rechain.model.families`. Every symbol below is the name of the Pyomo",
        "component (`m.act`, `m.capacity`, `m.demand`, …) and of the family in the code; every sparse index set is",
        "a table of `rechain.model.data.ModelData`, computed once, before any row is built. Money is in the",
        "instance's `units.money`; quantities in each commodity's `unit`.",
        "",
        "## Index sets (sparse)",
        "",
        "| set | code | rows exist where |",
        "|---|---|---|",
    ]
    for t in F.INDEX_TABLES:
        if t.set:
            L.append(f"| ${t.symbol}$ of $({t.index})$ | `m.{t.set}` (`data.{t.name}`) | {t.exists} |")
        elif t.symbol:
            L.append(f"| ${t.symbol}$ of $({t.index})$ | `data.{t.name}` | {t.exists} |")
    subsets = [(f, "variables") for f in F.VARS if f.set != F.TABLE[f.table].set] + \
              [(f, "rows") for f in F.ROWS if f.set != F.TABLE[f.table].set]
    for f, what in subsets:
        L.append(f"| {what} of `{f.name}` | `m.{f.set}` | rows of ${_set(f.table)}$ where {f.exists} |")
    L += ["", "## Parameters (mutable: a changed instance of the same shape updates them in place)", "",
          "| parameter | over | meaning | read from |", "|---|---|---|---|"]
    for p in F.PARAMS:
        reads = ", ".join(f"`{t}.{c}`" if t != "instance" else f"`{c}`" for t, c in p.reads)
        L.append(f"| ${_sym(p.name)}_{{{p.index}}}$ (`m.{p.name}`) | ${_set(p.table)}$ | {p.doc} | {reads} |")
    whole = [f"`{f.name}`" for f in F.VARS if f.integer]
    L += ["", "## Variables (all ≥ 0)", ""]
    if whole:
        L += [f"{', '.join(whole)} take whole numbers: where they have members the LP is a mixed-integer program, solved "
              "by HiGHS's MIP solver; its prices and shadow prices are those of the LP with the whole-number decisions "
              "fixed at their values, and the LP relaxation's objective is reported beside the MILP's.", ""]
    L += ["| variable | over | meaning | upper bound |", "|---|---|---|---|"]
    for f in F.VARS:
        over = f"${_set(f.table)}$" + (f" where {f.exists}" if f.members is not None else "")
        ub = "; ".join(f"${b.coef.latex()}$ ({b.when})" if b.when else f"${b.coef.latex()}$" for b in f.upper) or "—"
        kind = " (whole number)" if f.integer else ""
        L.append(f"| ${_var(f.name, F.TABLE[f.table].index)}$ | {over} | {f.doc}{kind} | {ub} |")
    L += ["", "## Rows", ""]
    for f in F.ROWS:
        L += _row(f)
        if f.dual:
            L.append(f"(dual: {f.dual})")
        L.append("")
    L += ["### Policy kinds", "",
          "Each `policies.csv` row sums one variable over the items its list column names, in the regions",
          "(and, for shipments, from the regions to the destinations), in the year.", "",
          "| kind | sums | variable | items from | sense |", "|---|---|---|---|---|"]
    for k in POLICY_KINDS.values():
        items = f"`{k.select}`" + (", `destinations`" if k.destinations else "")
        rel = "≤" if k.sense == "max" else "≥"
        if k.share_of:
            items += " (and `share_of`)"
            rel += " value × the same sum over `share_of`"
        else:
            rel += " value"
        L.append(f"| `{k.name}` | {k.sums} | `{k.var}` | {items} | {rel} |")
    L += ["", "## Objective `cost` (minimised)", "",
          "$\\sum$ of every cost below, each entry discounted by $DF_y$ of the year it is paid in:", "",
          "| component | cost | over |", "|---|---|---|"]
    for f in F.VARS:
        L += _cost(f)
    L += ["",
          "Capital is charged as the annuity in each year the capacity is online *within the horizon*, so a plant",
          "built near the end costs only the years it serves. The `costs` result table gives each component by",
          "year, undiscounted and discounted.",
          "",
          "## Results",
          "",
          "`prices[c,r,y]` = dual of **balance** ÷ $DF_y$: the change of the objective, in money of year $y$, for",
          "one more unit demanded. A policy's `shadow_price` is the change of the objective per unit more of the",
          "policy's value, ÷ $DF_y$ (for a kind whose value enters the row's coefficients, the envelope theorem's",
          "sum over the entries the value enters); `slack` is how far the row's left-hand side is from its",
          "right-hand side on the side that holds. Both are checked against finite differences in",
          "`tests/test_prices.py`.",
          ""]
    return "\n".join(L)


if __name__ == "__main__":  # pragma: no cover - a command for maintainers
    text = markdown()
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
