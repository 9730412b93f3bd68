"""HiGHS options through every door: `highs={...}` in the library (solve, myopic, stochastic,
alternatives, sweep on every worker), `--highs-option KEY=VALUE` and `--threads` on the command
line; HiGHS's own option `solver` never clashes with rechain's `solver`; an unknown option is a
clear error before the solve."""

import pytest
from typer.testing import CliRunner

import rechain.instances as shipped
from rechain.model import load_instance
from rechain.solvers import solve
from rechain.solvers.alternatives import alternatives
from rechain.solvers.cli import app
from rechain.solvers.myopic import myopic
from rechain.solvers.stochastic import stochastic
from rechain.solvers.sweep import SweepOptionError, sweep

TOY = shipped.path("toy")
runner = CliRunner()
# an option that makes every solve stop before an optimum: proof that the option reached HiGHS
STOP = {"simplex_iteration_limit": 0}


@pytest.fixture(scope="module")
def toy():
    return load_instance(TOY)


def test_the_highs_solver_option_is_named_plainly(toy):
    base = solve(toy).objective
    for method in ("auto", "pyomo"):
        r = solve(toy, highs={"solver": "ipm", "run_crossover": "on"}, method=method)
        assert r.status == "optimal" and r.objective == pytest.approx(base, rel=1e-7), method
    with pytest.raises(ValueError, match="highs=\\{'solver': 'ipm'\\}"):
        solve(toy, solver="ipm")


def test_options_reach_highs_through_every_door(toy):
    assert solve(toy, highs=STOP).status != "optimal"
    assert solve(toy, highs=STOP, method="pyomo").status != "optimal"
    assert stochastic(toy, ["base", "ev_boom"], highs=STOP, measures=False).status != "optimal"
    assert alternatives(toy, highs=STOP).status != "optimal"
    assert myopic(toy, window=2, highs=STOP).status != "optimal"


def test_an_unknown_option_is_an_error_of_the_solve_not_a_crash(toy):
    r = solve(toy, highs={"no_such_option": 1})
    assert r.status == "error" and "no_such_option" in r.message


def run(*args):
    res = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in (res.output or ""), res.output
    return res


def test_the_command_line_takes_highs_options_and_threads():
    r = run("solve", TOY, "--highs-option", "solver=ipm", "--highs-option", "run_crossover=on", "--threads", "1", "-q")
    assert r.exit_code == 0 and "optimal" in r.output
    r = run("solve", TOY, "--highs-option", "simplex_iteration_limit=0", "-q")
    assert r.exit_code == 4, r.output  # the option reached HiGHS: it stopped before an optimum
    r = run("stochastic", TOY, "-s", "base", "--highs-option", "simplex_iteration_limit=0", "-q")
    assert r.exit_code == 4, r.output
    r = run("alternatives", TOY, "--highs-option", "simplex_iteration_limit=0", "-q")
    assert r.exit_code == 4, r.output
    # every scenario of a sweep: the option stops each solve (exit 4: the first status not optimal)
    r = run("sweep", TOY, "--grid", "demand.quantity[commodity=ev]*=0.9,1.1", "--highs-option", "simplex_iteration_limit=0", "-q")
    assert r.exit_code == 4, r.output
    r = run("sweep", TOY, "--grid", "demand.quantity[commodity=ev]*=0.9,1.1", "--highs-option", "solver=ipm", "--threads", "1", "-q")
    assert r.exit_code == 0, r.output
    r = run("sweep", TOY, "--grid", "demand.quantity[commodity=ev]*=0.9", "--highs-option", "solverr=ipm", "-q")
    assert r.exit_code == 2 and "did you mean 'solver'" in r.output, r.output


@pytest.mark.parametrize("args, says", [
    (("--highs-option", "solverr=ipm"), "did you mean 'solver'"),
    (("--highs-option", "solver=banana"), "out of its range"),
    (("--highs-option", "solver"), "expected KEY=VALUE"),
    (("--threads", "0"), "--threads 0"),
    (("--solver", "ipm"), "--highs-option solver=ipm"),
])
def test_bad_highs_options_exit_2_before_the_solve(args, says):
    r = run("solve", TOY, *args, "-q")
    assert r.exit_code == 2, r.output
    assert says in r.output


def test_the_thread_count_may_change_between_solves_in_one_process(toy):
    # HiGHS starts one task scheduler a process; a solve asking for another thread count restarts it
    for threads in (None, 1, 2, None, 1):
        r = solve(toy, highs={} if threads is None else {"threads": threads})
        assert r.status == "optimal", (threads, r.message)


def test_the_time_limit_may_be_given_as_a_highs_option(toy):
    for method in ("auto", "pyomo"):
        assert solve(toy, highs={"time_limit": 0}, method=method).status == "time_limit", method
    assert solve(toy, highs={"time_limit": 60}, time_limit=60).status == "optimal"
    with pytest.raises(ValueError, match="differ"):
        solve(toy, highs={"time_limit": 60}, time_limit=5)


EV_SCALED = [None] + [[{"table": "demand", "where": {"commodity": "ev"}, "column": "quantity", "scale": s}]
                      for s in (0.9, 1.1, 1.2)]


@pytest.mark.parametrize("workers, method", [(1, "auto"), (2, "auto"), (1, "pyomo")])
def test_sweep_options_reach_every_scenario_on_every_worker(toy, workers, method):
    # one scenario a chunk: each worker solves some, and each chunk starts afresh
    kw = dict(workers=workers, method=method, chunk_size=1, progress=False)
    for highs in (STOP, {"time_limit": 0}):
        s = sweep(toy, EV_SCALED, highs=highs, **kw).summary
        assert (s["status"] == "time_limit").all(), (highs, s[["status", "message"]])
    s = sweep(toy, EV_SCALED, **kw, simplex_iteration_limit=0).summary  # a HiGHS option by keyword, as in solve
    assert (s["status"] == "time_limit").all(), s[["status", "message"]]
    # HiGHS's own option 'solver' is HiGHS's, not rechain's: the same optima by interior point
    base = sweep(toy, EV_SCALED, **kw).summary["objective"]
    ipm = sweep(toy, EV_SCALED, highs={"solver": "ipm", "run_crossover": "on"}, **kw).summary
    assert (ipm["status"] == "optimal").all(), ipm[["status", "message"]]
    assert ipm["objective"].to_numpy() == pytest.approx(base.to_numpy(), rel=1e-7)


@pytest.mark.parametrize("kw, says", [
    ({"highs": {"no_such_option": 1}}, "HiGHS refused the option no_such_option=1"),
    ({"highs": {"solver": "banana"}}, "HiGHS refused the option solver='banana'"),
    ({"highs": {"threads": {"a": 1}}}, "HiGHS refused the option threads="),
    ({"highs": "ipm"}, "highs= is a dict"),
    ({"solver": "ipm"}, "highs=\\{'solver': 'ipm'\\}"),
    ({"method": "fast"}, "expected auto, direct or pyomo"),
    ({"solver": "cbc", "method": "direct"}, "needs solver 'highs'"),
    ({"time_limit": 5, "highs": {"time_limit": 60}}, "differ"),
    ({"highs": {"time_limit": -1}}, "time_limit must be"),
])
def test_bad_sweep_solver_options_are_refused_before_any_solve(toy, kw, says):
    with pytest.raises(SweepOptionError, match=says):
        sweep(toy, EV_SCALED, workers=2, progress=False, **kw)
