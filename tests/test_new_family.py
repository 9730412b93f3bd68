"""Adding a family takes its declaration alone: a variable family and a row family declared
here (and nowhere else) reach both renderings of the LP, bit for bit the same, the in-place
parameter map, the result tables and costs, the numerics report and the formulation document."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rechain import instances
from rechain.model import build_model, families as F, load_instance, mathdoc, prepare
from rechain.model.description import Coef, Cost, Rhs, RowFamily, Term, VarFamily
from rechain.model.matrix import assemble, differences
from rechain.model.numerics import report
from rechain.model.params import ParameterMap
from rechain.solvers import pyomo_highs, solve
from rechain.solvers.direct import solve_direct

# activity may run on existing capacity; beyond it, each unit pays its variable cost again
OVERRUN = VarFamily("overrun", "cap", "CAP", "activity beyond the existing capacity", result="overrun",
                    costs=(Cost("overrun", Coef(params=(("variable_cost", "p"),)), F._cost("cap", ("p",))),))
ON_EXISTING = RowFamily("on_existing", "cap", "CAP", "activity runs on existing capacity or pays for its overrun",
                        terms=(Term("act", Coef(), "p,r,y", F._self("cap")), Term("overrun", Coef(b=-1), "p,r,y", F._self("cap"))),
                        rhs=(Rhs(Coef(params=(("residual", "p,r,y"),)), F._all("cap")),), sense="<=", relax=True)


@pytest.fixture
def declared(monkeypatch):
    monkeypatch.setattr(F, "VARS", F.VARS + (OVERRUN,))
    monkeypatch.setattr(F, "VAR", {**F.VAR, OVERRUN.name: OVERRUN})
    monkeypatch.setattr(F, "ROWS", F.ROWS + (ON_EXISTING,))
    monkeypatch.setattr(F, "ROW", {**F.ROW, ON_EXISTING.name: ON_EXISTING})


@pytest.fixture(scope="module")
def toy():
    return load_instance(instances.path("toy"))


@pytest.fixture(scope="module")
def base(toy):
    """The objective of the instance's own LP (module scope: set up before the declaration)."""
    return solve_direct(toy).objective


def test_a_family_declared_alone_reaches_every_rendering(base, declared, toy):
    d = prepare(toy)
    assert len(d.rows["on_existing"].members) == len(d.cap) and len(d.vars["overrun"].members) == len(d.cap)
    m = build_model(toy)
    assert len(m.on_existing) == len(d.cap) and len(m.overrun) == len(d.cap)
    pyomo_highs.read_by_pyomo(m)  # the model as Pyomo's interface reads it, row by row
    rp = solve(m)
    lp = assemble(d)
    diff = differences(pyomo_highs.highs(m._rechain_highs).getLp(), lp, d)
    assert not diff, diff
    rd = solve_direct(toy)
    assert rp.ok and rd.ok and math.isclose(rp.objective, rd.objective, rel_tol=1e-9)
    # the family binds: building new capacity now costs its overruns too
    assert rd.objective > base + 1e-6
    over = rd.overrun
    assert list(over.columns) == ["process", "region", "year", "quantity"] and (over["quantity"] > 0).any()
    costs = rd.costs.set_index(["year", "component"])["discounted"]
    assert costs.xs("overrun", level="component").sum() > 0
    assert math.isclose(rd.costs["discounted"].sum(), rd.objective, rel_tol=1e-9)
    # its rows have duals, named in the numerics report
    assert "on_existing" in lp.duals(np.zeros(lp.num_row)) and "on_existing" in report(d, lp).families
    # and the document
    text = mathdoc.markdown()
    assert "**on_existing**" in text and "\\text{overrun}_{p,r,y}" in text and "`overrun`" in text


def test_the_in_place_map_covers_a_new_family(declared, toy):
    pm = ParameterMap(toy, prepare(toy), assemble(prepare(toy)))
    changed = toy.with_changes({"table": "capacity", "column": "capacity", "scale": 1.3})
    upd = pm.apply(changed)
    fresh = prepare(changed)
    assert not differences(upd.lp, assemble(fresh), fresh)
