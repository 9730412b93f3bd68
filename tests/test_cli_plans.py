"""`rechain stochastic` and `rechain alternatives`: outputs, files and exit codes."""

import pandas as pd
import pytest
from typer.testing import CliRunner

import rechain.instances as shipped
from rechain.model import load_instance
from rechain.solvers.alternatives import alternatives
from rechain.solvers.cli import app
from rechain.solvers.stochastic import stochastic

TOY = str(shipped.path("toy"))
runner = CliRunner()


def run(*args):
    res = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in (res.output or ""), res.output
    return res


def test_stochastic_prints_the_measures_and_writes_the_tables(tmp_path):
    out = tmp_path / "hedged"
    r = run("stochastic", TOY, "-s", "base", "-s", "ev_boom", "-p", "0.25", "-p", "0.75", "--decide-through", "2022",
            "--out", out, "-q")
    assert r.exit_code == 0, r.output
    lib = stochastic(load_instance(TOY), ["base", "ev_boom"], probabilities=[0.25, 0.75], decide_through=2022)
    assert f"EVPI {lib.evpi:,.6g}" in r.output and f"VSS {lib.vss:,.6g}" in r.output
    m = pd.read_csv(out / "measures.csv").set_index("measure")["value"]
    assert m["objective"] == pytest.approx(lib.objective) and m["evpi"] == pytest.approx(lib.evpi)
    fs = pd.read_csv(out / "first_stage.csv")
    assert set(fs["year"]) <= {2021, 2022} and fs["new"].sum() == pytest.approx(lib.first_stage["new"].sum())
    cap = pd.read_csv(out / "capacity.csv")
    assert set(cap["scenario"]) == {"base", "ev_boom"}
    # the folder is not replaced without --force
    r = run("stochastic", TOY, "-s", "base", "--out", out, "-q")
    assert r.exit_code == 2 and "--force" in r.output


@pytest.mark.parametrize("args, says", [
    ((), "--scenario"),
    (("-s", "nope"), "not a scenario"),
    (("-s", "base", "-p", "0.5", "-p", "0.5"), "2 given for 1"),
    (("-s", "base", "-s", "ev_boom", "-p", "0.5", "-p", "0.6"), "sum to 1"),
    (("-s", "base", "--cvar-alpha", "1.5"), "alpha"),
])
def test_stochastic_bad_options_exit_2(args, says):
    r = run("stochastic", TOY, *args, "-q")
    assert r.exit_code == 2, r.output
    assert says in r.output


def test_alternatives_prints_the_ranges_and_writes_them(tmp_path):
    out = tmp_path / "mga"
    r = run("alternatives", TOY, "--slack", "0.05", "--over", "process", "--out", out, "-q")
    assert r.exit_code == 0, r.output
    lib = alternatives(load_instance(TOY), slack=0.05, over="process")
    for line in lib.describe():
        assert line in r.output
    ranges = pd.read_csv(out / "ranges.csv")
    assert len(ranges) == len(lib.ranges)
    obj = pd.read_csv(out / "objectives.csv")
    assert (obj["objective"] <= 1.05 * lib.optimum + 1e-6).all()
    r = run("alternatives", TOY, "--over", "nation", "-q")
    assert r.exit_code == 2 and "--over" in r.output
