"""Progressive hedging (rechain.solvers.hedging) through mpi-sppy under ``mpiexec -n 2``: it
reaches the optimum of the extensive form (rechain.solvers.stochastic) within its tolerance.

The newsvendor of test_stochastic: capacity x at 1 a unit before the demand (10 or 20, 1/2
each) is known, unmet demand at 1.5: x* = 10, expected cost 17.5, scenario costs 10 and 25.
PH with only the primal test (every x_s equal to xbar) would stop at x = 14 on its second
iteration (x_s meet while the prices W still move): the dual residual keeps it going.

These need the ``stochastic`` extra and an MPI (.ci/run installs both).
"""

import importlib.util
import shutil

import pytest

from rechain import instances
from rechain.model import load_instance
from rechain.solvers.hedging import progressive_hedging
from rechain.solvers.stochastic import stochastic
from test_stochastic import HIGH, LOW, newsvendor

ENGINE = all(importlib.util.find_spec(m) is not None for m in ("mpisppy", "mpi4py")) and shutil.which("mpiexec")
needs_mpi = pytest.mark.skipif(not ENGINE, reason="needs mpi-sppy, mpi4py and mpiexec (pip install '.[stochastic]', "
                                                  "apt-get install openmpi-bin libopenmpi-dev; .ci/run installs them)")
TOL = 1e-4


@needs_mpi
def test_two_processes_reach_the_hand_worked_newsvendor_plan():
    inst = newsvendor()
    ef = stochastic(inst, [LOW, HIGH], measures=False)
    assert ef.objective == pytest.approx(17.5, rel=1e-9)
    r = progressive_hedging(inst, [LOW, HIGH], workers=2, tolerance=TOL)
    assert r.converged and r.status == "converged" and r.workers == 2
    assert [c for c, *_ in r.processes] == [1, 1]  # one scenario on each of the two processes
    assert 2 < r.iterations < 500
    assert max(r.convergence) <= TOL
    assert r.objective == pytest.approx(ef.objective, rel=10 * TOL)
    assert r.bound <= ef.objective + 1e-6 <= r.objective + 2e-6
    assert r.gap < 10 * TOL
    fs = r.first_stage.set_index(["process", "region", "year"])["new"]
    assert fs[("plant", "r", 2021)] == pytest.approx(10, rel=10 * TOL)
    # each scenario's cost of the consensus plan, and their expectation the objective
    s = r.scenarios
    assert s["cost"].tolist() == pytest.approx([10, 25], rel=10 * TOL)
    assert (s["cost"] * s["probability"]).sum() == pytest.approx(r.objective, rel=1e-9)
    assert "converged" in "\n".join(r.describe())


@needs_mpi
def test_toy_with_three_scenarios_matches_the_extensive_form():
    toy = load_instance(instances.path("toy"))
    d = {"table": "demand", "column": "quantity"}
    sc = [{**d, "scale": 0.7}, None, {**d, "scale": 1.3}]
    ef = stochastic(toy, sc, probabilities=[0.25, 0.5, 0.25], measures=False)
    r = progressive_hedging(toy, sc, probabilities=[0.25, 0.5, 0.25], workers=2, tolerance=TOL)
    assert r.converged
    assert sorted(c for c, *_ in r.processes) == [1, 2]
    assert r.objective == pytest.approx(ef.objective, rel=10 * TOL)
    assert r.bound <= ef.objective * (1 + 1e-7)
    both = ef.first_stage.merge(r.first_stage, on=["process", "region", "year"], suffixes=("_ef", "_ph"))
    assert len(both) == len(ef.first_stage) == len(r.first_stage)
    # the plan itself: equal to the extensive form's where the optimum is unique; where it is
    # not, at least as cheap (checked above); the first-stage cost differs by little
    scale = max(1.0, both["new_ef"].abs().sum())
    assert (both["new_ph"] - both["new_ef"]).abs().sum() / scale < 0.05


def test_bad_options_and_a_missing_launcher_are_clear_errors():
    inst = newsvendor()
    with pytest.raises(ValueError, match="workers"):
        progressive_hedging(inst, [LOW, HIGH], workers=0)
    with pytest.raises(ValueError, match="rho"):
        progressive_hedging(inst, [LOW, HIGH], rho=-1)
    with pytest.raises(ValueError, match="sum to 1"):
        progressive_hedging(inst, [LOW, HIGH], probabilities=[0.3, 0.3])
    with pytest.raises(RuntimeError, match=r"openmpi-bin.*no mpiexec found at /nonexistent/mpiexec"):
        progressive_hedging(inst, [LOW, HIGH], mpiexec="/nonexistent/mpiexec")


def test_blocks_mapped_in_place_are_the_lps_built_afresh():
    # the extensive form maps a scenario of the first one's shape onto its LP (no prepare):
    # every number equal to the LP prepared and assembled from scratch; a scenario of another
    # shape (every build limit 0: no new capacity columns) is built
    import numpy as np

    from rechain.solvers.stochastic import _block, _blocks
    from rechain.model.scenarios import as_scenario

    toy = load_instance(instances.path("toy"))
    d = {"table": "demand", "column": "quantity"}
    limit = {"table": "build_limits", "column": "max_new", "set": 0}
    sc = [as_scenario(x) for x in ({**d, "scale": 0.7}, None, {**d, "scale": 1.3}, "ev_boom", "no_target", limit)]
    blocks = _blocks(toy, sc, toy.first_year)
    assert [b.first is blocks[0].first for b in blocks] == [True] * 5 + [False]
    assert blocks[-1].keys != blocks[0].keys  # no new capacity at all there
    for s, b in zip(sc, blocks):
        fresh = _block(s.label, s.apply(toy), toy.first_year).lp
        for name in ("col_cost", "col_lower", "col_upper", "row_lower", "row_upper"):
            assert np.array_equal(getattr(b.lp, name), getattr(fresh, name)), (s.label, name)
        assert np.array_equal(b.lp.matrix.indices, fresh.matrix.indices) and np.allclose(b.lp.matrix.data, fresh.matrix.data, rtol=1e-15, atol=0)
        assert b.lp.offset == pytest.approx(fresh.offset, rel=1e-15)
