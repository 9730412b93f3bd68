"""What sets a price: the routes at the margin behind a commodity's shadow price.

A commodity's price in a region and year is the dual of its ``balance`` row. In an optimal
basis every basic column has zero reduced cost, ``c_j - sum_k a_kj y_k = 0``, so each basic
column that touches the balance row ``i`` pins the price::

    y_i = (c_j - sum_{k != i} a_kj y_k) / a_ij

Such a column is a *driver* of the price: a process run, a purchase, a shipment, a stock
carried, a demand left unmet. Its *terms* are its own cost and, for every other row it
touches, the coefficient times that row's dual: the prices of what it makes or uses with the
commodity, the rent of the capacity or limit it fills, the shadow price of a policy that
holds it. The terms of each driver add up to the price (tested), in money of the price's
year; a term of another year (the next year's price of a stock carried, an output that comes
years later, such as end-of-life scrap) comes in at the discount rate.

Where several columns are basic, each gives the price through its own route, and the routes
agree: that is what makes the basis optimal. Columns at zero level that are basic only by
degeneracy are left out unless nothing else touches the row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rechain.model import Instance

TOL = 1e-7

ROLE = {"act": ("made by", "used by"), "supply": ("bought", "bought"), "ship": ("shipped in", "shipped out"),
        "stock": ("drawn from stock", "put into stock"), "unmet": ("left unmet", "left unmet"),
        "dispose": ("disposed of", "disposed of")}


class NotOptimal(ValueError):
    """The instance has no optimal LP solution whose prices could be explained."""


@dataclass
class PriceDrivers:
    """The drivers of one price. ``drivers``: a row per driver (``driver``, ``role``, ``level``);
    ``terms``: a row per term of each driver (``driver``, ``term``, ``coefficient``, ``value``,
    ``contribution``), whose ``contribution`` adds up to ``price`` for each driver. ``value`` is
    the driver's cost or the other row's dual, undiscounted to that row's year, per unit of the
    row as the LP writes it; ``coefficient`` turns it into money of the price's year per unit of
    the commodity."""

    commodity: str
    region: str
    year: int
    price: float
    drivers: pd.DataFrame
    terms: pd.DataFrame
    #: what ``step`` units less of the commodity would save and ``step`` more would cost, per unit, in
    #: money of the year (:meth:`PriceExplainer.marginal_costs`); None where not asked for
    one_less: float | None = None
    one_more: float | None = None
    step: float = 1.0

    def at_kink(self, rel: float = 1e-3) -> bool:
        """Whether ``step`` units less save less a unit than ``step`` more cost, by more than ``rel``
        of the larger (0.1 %): the optimum sits where a capacity, cap or quota is just filled, or the
        step crosses one, and the price is one of the values between the two."""
        if self.one_less is None or self.one_more is None:
            return False
        if not (math.isfinite(self.one_less) and math.isfinite(self.one_more)):
            return True  # no more to be had, or no less: a bound holds either way
        return self.one_more - self.one_less > rel * max(1.0, abs(self.one_less), abs(self.one_more))

    def __str__(self) -> str:
        from rechain.model.formatting import fmt

        lines = [f"price of {self.commodity} in {self.region} in {self.year}: {fmt(self.price)}"]
        if self.one_less is not None and self.one_more is not None:
            unit = "one unit" if self.step == 1 else f"{fmt(self.step)} units"
            less = (f"{unit} less would save {fmt(self.one_less)} a unit" if math.isfinite(self.one_less)
                    else f"there cannot be {unit} less")
            more = (f"{unit} more would cost {fmt(self.one_more)} a unit" if math.isfinite(self.one_more)
                    else f"{unit} more cannot be had")
            lines.append(f"  {less}, {more} (each found by solving again)"
                         + (": not the same either way, so a capacity, cap or quota fills or frees within the step "
                            "and the price moves in a step there; the one reported is a value between the two"
                            if self.at_kink() else ""))
        if self.drivers.empty:
            lines.append("  no route is at the margin: nothing scarce touches it" if abs(self.price) <= 1e-9 else
                         "  no route in the basis touches it: the price is one of several the optimum allows (degenerate)")
        for d in self.drivers.itertuples():
            lines.append(f"  {d.role} {d.driver} (level {fmt(d.level)}):")
            for t in self.terms[self.terms.driver == d.driver].itertuples():
                lines.append(f"    {fmt(t.contribution):>12}  {t.term}")
        return "\n".join(lines)


def _row_years(d, family_tables, lp_rows, num_row) -> np.ndarray:
    """The year of each LP row (-1 where its family has no year)."""
    out = np.full(num_row, -1, dtype=np.int64)
    for fam, idx in lp_rows.items():
        table = d.tables[family_tables[fam]]
        if "year" not in table.columns:
            continue
        idx = np.asarray(idx, dtype=np.int64)
        ok = idx >= 0
        yr = pd.to_numeric(table["year"], errors="coerce").to_numpy()
        out[idx[ok]] = np.where(np.isnan(yr[ok]), -1, yr[ok]).astype(np.int64)
    return out


def price_drivers(instance: Instance, commodity: str, region: str, year: int, tol: float = TOL, margins: bool = False,
                  step: float = 1.0) -> PriceDrivers:
    """Solve ``instance`` and say what sets the price of ``commodity`` in ``region`` in
    ``year`` (see the module's text); with ``margins``, also what ``step`` units less would save
    and more would cost, each found by solving again (:meth:`PriceExplainer.marginal_costs`).
    Raises ``ValueError`` when the instance has no balance of that commodity there,
    :class:`NotOptimal` when it does not solve to optimality. To explain many prices of one
    instance, solve once with :class:`PriceExplainer`."""
    return PriceExplainer(instance, tol).explain(commodity, region, year, margins=margins, step=step)


class PriceExplainer:
    """One instance solved once, whose prices :meth:`explain` takes apart one at a time."""

    def __init__(self, instance: Instance, tol: float = TOL):
        from rechain.model.numerics import _Namer

        from .direct import DirectModel

        self.tol = tol
        model = DirectModel(instance)
        res = model.solve()
        if res.status != "optimal":
            raise NotOptimal(f"the instance did not solve to optimality ({res.status}): {res.message}")
        if model.lp.integer is not None:
            raise ValueError("prices are those of an LP: this instance has whole-number choices (modules)")
        self.d, self.lp, h = model.data, model.lp, model.highs
        self.highs = h
        self.objective = float(h.getInfo().objective_function_value)
        d, lp = self.d, self.lp
        sol = h.getSolution()
        self.y = np.asarray(sol.row_dual, dtype=float)
        self.x = np.asarray(sol.col_value, dtype=float)
        self.basic = np.array([str(s).endswith("kBasic") for s in h.getBasis().col_status])
        self.df = d.df
        family_tables = {f: (d.rows[f].family.table) for f in lp.rows}
        self.row_year = _row_years(d, family_tables, lp.rows, lp.num_row)
        self.rname = _Namer(d, lp.rows, lp.num_row)
        self.cname = _Namer(d, lp.cols, lp.num_col)
        self.col_family = np.full(lp.num_col, "", dtype=object)
        for fam, idx in lp.cols.items():
            idx = np.asarray(idx)
            self.col_family[idx[idx >= 0]] = fam
        self.col_of = np.repeat(np.arange(lp.num_col, dtype=np.int64), np.diff(lp.matrix.indptr))
        bal = d.tables["balance"]
        self.balance = bal
        self.balance_key = {(str(c), str(r), int(yr)): int(row) for c, r, yr, row in
                            zip(bal["commodity"], bal["region"], pd.to_numeric(bal["year"]), lp.rows["balance"]) if row >= 0}

    def _unknown(self, commodity, region, year) -> ValueError:
        bal = self.balance
        known = sorted(set(bal["commodity"].astype(str)))
        regions = sorted(set(bal["region"].astype(str)))
        if str(commodity) not in known:
            hint = f"; commodities: {', '.join(known[:20])}{' ...' if len(known) > 20 else ''}"
        elif str(region) not in regions:
            hint = f"; regions: {', '.join(regions)}"
        else:
            hint = f"; {commodity} is balanced in " + ", ".join(sorted(set(bal.loc[bal["commodity"].astype(str) == str(commodity),
                                                                                    "region"].astype(str))))
        return ValueError(f"no balance of '{commodity}' in '{region}' in {year} in this instance{hint}")

    def _balance_row(self, commodity, region, year) -> int:
        """The LP row of the commodity's balance in that region and year (ValueError if none)."""
        i = self.balance_key.get((str(commodity), str(region), int(year)))
        if i is None:
            raise self._unknown(commodity, region, year)
        return i

    def marginal_costs(self, commodity: str, region: str, year: int, step: float = 1.0) -> tuple[float, float]:
        """What ``step`` units less of ``commodity`` in ``region`` in ``year`` would save and ``step``
        units more would cost, each per unit and in money of the year: the instance solved again with
        that much less and more demanded there (from the optimal basis, so each takes a few simplex
        iterations), then put back as it was.

        The price (the balance row's dual) lies between the two. Where they are equal it is the
        one price the optimum allows; where the saving is below the cost the optimum sits at a kink,
        where a capacity, cap or quota is just filled, and any value between them is a price of the
        same optimum: the solver reports one. The cost is ``inf`` where that much more cannot be had at
        all, the saving ``-inf`` where there cannot be that much less (the LP becomes infeasible)."""
        import highspy

        i = self._balance_row(commodity, region, year)
        if not step > 0:
            raise ValueError(f"step must be above 0, not {step}")
        h, lo, up = self.highs, float(self.lp.row_lower[i]), float(self.lp.row_upper[i])

        def objective_with(d: float) -> float | None:
            h.changeRowBounds(i, lo + d, up + d)
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
            return float(h.getInfo().objective_function_value)

        try:
            more, less = objective_with(step), objective_with(-step)
        finally:
            h.changeRowBounds(i, lo, up)
            h.run()
        dfy = self.df[int(year)]
        saving = -math.inf if less is None else (self.objective - less) / step / dfy
        cost = math.inf if more is None else (more - self.objective) / step / dfy
        return saving, cost

    def explain(self, commodity: str, region: str, year: int, margins: bool = False, step: float = 1.0) -> PriceDrivers:
        """The drivers of the price of ``commodity`` in ``region`` in ``year``; with ``margins``, also
        what a unit less saves and a unit more costs (:meth:`marginal_costs`)."""
        i = self._balance_row(commodity, region, year)
        lp, a, y, x, df, tol = self.lp, self.lp.matrix, self.y, self.x, self.df, self.tol
        in_row = np.flatnonzero(a.indices == i)
        dfy = df[int(year)]
        price = float(y[i] / dfy)
        candidates = [(int(self.col_of[k]), float(a.data[k])) for k in in_row if a.data[k] != 0 and self.basic[self.col_of[k]]]
        live = [(j, aij) for j, aij in candidates if abs(x[j]) > tol]
        drivers, terms = [], []
        for j, aij in live or candidates:
            fam = self.col_family[j]
            name = self.cname(j)
            role = ROLE.get(fam, ("", ""))[0 if aij > 0 else 1] or fam
            drivers.append({"driver": name, "role": role, "level": float(x[j])})
            cost = float(lp.col_cost[j])
            if abs(cost) > 0:
                terms.append({"driver": name, "term": "its own cost", "coefficient": 1.0 / aij,
                              "value": cost / dfy, "contribution": cost / aij / dfy})
            for k in range(a.indptr[j], a.indptr[j + 1]):
                r = int(a.indices[k])
                if r == i or a.data[k] == 0 or abs(y[r]) <= 0:
                    continue
                dfr = df.get(int(self.row_year[r]), dfy)  # a row of no year: in money of the price's year
                dual = float(y[r] / dfr)
                coef = -float(a.data[k]) / aij * dfr / dfy
                terms.append({"driver": name, "term": _term(self.rname(r), dual), "coefficient": coef, "value": dual,
                              "contribution": coef * dual})
        drivers_df = pd.DataFrame(drivers, columns=["driver", "role", "level"])
        terms_df = pd.DataFrame(terms, columns=["driver", "term", "coefficient", "value", "contribution"])
        if not terms_df.empty:
            order = terms_df.contribution.abs().groupby(terms_df.driver).rank(ascending=False, method="first")
            terms_df = terms_df.assign(_o=order).sort_values(["driver", "_o"]).drop(columns="_o").reset_index(drop=True)
        less, more = self.marginal_costs(commodity, region, year, step) if margins else (None, None)
        return PriceDrivers(str(commodity), str(region), int(year), price,
                            drivers_df.sort_values("level", ascending=False, ignore_index=True), terms_df,
                            one_less=less, one_more=more, step=step)


def _term(row: str, dual: float) -> str:
    """A row's name said as the term it brings into a driver's equation."""
    from rechain.model.formatting import fmt

    family, _, key = row.partition("[")
    if family == "balance":
        c, r, y = key.rstrip("]").split(",")
        return f"price of {c} in {r} in {y} ({fmt(dual)})"
    if family == "policy":
        name, _, y = key.rstrip("]").rpartition(",")
        # no figure: the policies table states a policy's shadow price per unit of its value (for a
        # share, per unit of share), not per unit of the row as the LP writes it
        return f"shadow price of the policy {name or y}{' in ' + y if name else ''}"
    what = {"capacity": "rent of the capacity", "use": "rent of the capacity",
            "supply_limit": "rent of the supply limit", "trade_limit": "rent of the lane's limit",
            "stock_final": "value of the stock handed on",
            "build_new_limit": "rent of the build limit", "build_total_limit": "rent of the build limit"}.get(family, family)
    return f"{what} {row} ({fmt(dual)})"
