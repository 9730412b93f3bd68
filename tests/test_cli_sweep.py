"""`rechain sweep`: grids, seeded samples and named scenarios from the command line."""

import pandas as pd
import pytest
from typer.testing import CliRunner

from rechain import instances
from rechain.model import load_instance
from rechain.solvers import solve
from rechain.solvers.cli import app

TOY = instances.path("toy")
runner = CliRunner()


def run(*args):
    res = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in (res.output or ""), res.output
    return res


def test_grid_writes_one_row_per_scenario_with_the_objective_of_a_fresh_solve(tmp_path):
    out = tmp_path / "grid"
    r = run("sweep", TOY, "--grid", "demand.quantity[commodity=ev]*=0.8,1.3",
            "--grid", "policies.value[policy=south_magnet_target]=25,32", "--out", out, "-q")
    assert r.exit_code == 0, r.output
    summary = pd.read_csv(out / "summary.csv")
    params = pd.read_csv(out / "parameters.csv")
    assert list(summary["scenario"]) == ["base", "grid0001", "grid0002", "grid0003", "grid0004"]
    assert (summary["status"] == "optimal").all()
    row = params.set_index("scenario").loc["grid0004"]
    assert (row["demand.quantity[commodity=ev]*"], row["policies.value[policy=south_magnet_target]"]) == (1.3, 32)
    inst = load_instance(TOY).with_changes([
        {"table": "demand", "where": {"commodity": "ev"}, "column": "quantity", "scale": 1.3},
        {"table": "policies", "where": {"policy": "south_magnet_target"}, "column": "value", "set": 32},
    ])
    obj = summary.set_index("scenario")["objective"]
    assert obj["grid0004"] == pytest.approx(solve(inst).objective, rel=1e-7)
    assert obj["base"] == pytest.approx(solve(load_instance(TOY)).objective, rel=1e-7)
    assert set(pd.read_csv(out / "capacity.csv")["scenario"]) == set(summary["scenario"])


def test_sample_is_reproducible_from_its_seed(tmp_path):
    args = ["sweep", TOY, "--sample", "4", "--seed", "7", "--no-base", "--vary",
            "demand.quantity[commodity=ev]*=uniform(0.8,1.4)", "-q"]
    a, b = run(*args, "--out", tmp_path / "a"), run(*args, "--out", tmp_path / "b")
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    pa, pb = pd.read_csv(tmp_path / "a" / "parameters.csv"), pd.read_csv(tmp_path / "b" / "parameters.csv")
    assert len(pa) == 4 and pa.equals(pb)
    axis = pa["demand.quantity[commodity=ev]*"]
    assert axis.between(0.8, 1.4).all() and axis.nunique() == 4


def test_named_scenarios_and_failures(tmp_path):
    r = run("sweep", TOY, "--scenario", "ev_boom", "--scenario", "no_target", "-q")
    assert r.exit_code == 0 and "status optimal" in r.output and "3" in r.output
    bad = run("sweep", TOY, "--grid", "demand.quantity=abc", "-q")
    assert bad.exit_code == 4 and "grid0001: error" in bad.output and "expected a number" in bad.output


@pytest.mark.parametrize("args, says", [
    (["--sample", "3"], "--vary"),
    (["--vary", "demand.quantity*=uniform(1,2)"], "--sample"),
    (["--sample", "3", "--vary", "demand.quantity*=foo(1)"], "unknown distribution"),
    (["--grid", "demand.quantity"], "expected TABLE.COLUMN"),
    (["--backend", "cloud"], "expected local or dask"),
])
def test_bad_options_exit_2_with_a_message(args, says):
    r = run("sweep", TOY, *args)
    assert r.exit_code == 2 and says in r.output


def test_chunk_size_changes_the_chunks_not_the_objectives(tmp_path):
    args = ["sweep", TOY, "--sample", "6", "--seed", "3", "--vary", "demand.quantity[commodity=ev]*=uniform(0.8,1.4)", "-q"]
    a, b = run(*args, "--chunk-size", "2", "--out", tmp_path / "a"), run(*args, "--out", tmp_path / "b")
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    sa, sb = pd.read_csv(tmp_path / "a" / "summary.csv"), pd.read_csv(tmp_path / "b" / "summary.csv")
    assert list(sa["scenario"]) == list(sb["scenario"]) and len(sa) == 7
    assert sa["objective"].to_numpy() == pytest.approx(sb["objective"].to_numpy(), rel=1e-7)
    bad = run("sweep", TOY, "--chunk-size", "0")
    assert bad.exit_code == 2 and "chunk-size" in bad.output
