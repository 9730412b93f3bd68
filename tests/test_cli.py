"""The rechain command line: exit codes, outputs, changes on the command line, formats."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import rechain.instances as shipped
from rechain.model import load_instance
from rechain.solvers import solve
from rechain.solvers.cli import app, parse_change
from rechain.solvers.export import read_results

TOY = str(shipped.path("toy"))
runner = CliRunner()


def run(*args):
    res = runner.invoke(app, [str(a) for a in args])
    assert "Traceback" not in (res.output or ""), res.output
    return res


@pytest.fixture(scope="module")
def toy_objective():
    return solve(load_instance(TOY)).objective


def test_solve_toy_prints_summary_and_writes_folder(tmp_path, toy_objective):
    out = tmp_path / "base"
    r = run("solve", TOY, "--out", out, "-q")
    assert r.exit_code == 0, r.output
    assert "optimal" in r.output and f"{toy_objective:,.1f}" in r.output
    assert "south_magnet_target" in r.output  # the binding policy of the toy
    assert "magnet_making" in r.output  # its only capacity addition
    summary, tables = read_results(out)
    assert summary["status"] == "optimal" and summary["objective"] == pytest.approx(toy_objective, rel=1e-9)
    assert (out / "instance" / "processes.csv").is_file()
    assert tables["capacity"]["new"].sum() == pytest.approx(10.0, abs=1e-6)
    # an existing folder is not replaced without --force
    r = run("solve", TOY, "--out", out, "-q")
    assert r.exit_code == 2 and "exists" in r.output and "--force" in r.output
    r = run("solve", TOY, "--out", out, "-q", "--force")
    assert r.exit_code == 0


def test_solve_without_path_uses_the_shipped_default(tmp_path):
    out = tmp_path / "default"
    r = run("solve", "--out", out, "-q")
    assert r.exit_code == 0, r.output
    summary, _ = read_results(out)
    assert summary["instance"] == load_instance(shipped.path()).name
    assert Path(summary["source"]) == shipped.path(shipped.DEFAULT)


def test_set_scale_years_and_scenario_change_the_instance_solved(tmp_path):
    out = tmp_path / "changed"
    r = run("solve", TOY, "-q", "--out", out, "--scenario", "ev_boom",
            "--set", "demand.quantity[commodity=ev;region=south;year=2022]=20",
            "--scale", "demand.quantity[commodity=lace_oxide]=1.5", "--years", "2021:2022")
    assert r.exit_code == 0, r.output
    dem = pd.read_csv(out / "instance" / "demand.csv")
    q = dem.set_index(["commodity", "region", "year"])["quantity"]
    assert q[("ev", "south", 2022)] == 20  # --set after the scenario's x1.2
    assert q[("ev", "south", 2021)] == pytest.approx(12.0)  # 10 x 1.2 (ev_boom)
    assert q[("lace_oxide", "north", 2021)] == pytest.approx(30.0)
    assert 2023 not in set(dem["year"])
    summary, tables = read_results(out)
    assert sorted(set(tables["costs"]["year"])) == [2021, 2022]
    assert summary["scenario"].startswith("ev_boom+")
    # the same changes through the library give the same optimum
    inst = load_instance(TOY, scenario="ev_boom").with_changes([
        {"table": "demand", "where": {"commodity": "lace_oxide"}, "column": "quantity", "scale": 1.5},
        {"table": "demand", "where": {"commodity": "ev", "region": "south", "year": 2022}, "column": "quantity", "set": 20},
    ]).with_years(2021, 2022)
    assert summary["objective"] == pytest.approx(solve(inst).objective, rel=1e-9)


def test_parse_change():
    assert parse_change("demand.quantity[commodity=ev;region=south]=20", "set") == {
        "table": "demand", "column": "quantity", "where": {"commodity": "ev", "region": "south"}, "set": "20"}
    assert parse_change("instance.discount_rate=0.08", "set") == {"table": "instance", "column": "discount_rate", "set": "0.08"}
    assert parse_change("processes.capex[process=mine]=1.5", "scale")["scale"] == 1.5


@pytest.mark.parametrize("args, words", [
    (["--set", "demand.quantity[commodity=ev=20"], "expected TABLE.COLUMN"),
    (["--set", "demand.quantity[commodity=unobtainium]=20"], "no row of 'demand' matches"),
    (["--set", "demand.nonsense=3"], "has no column 'nonsense'"),
    (["--scale", "demand.quantity=lots"], "not a number"),
    (["--years", "2021-2023"], "expected FIRST:LAST"),
    (["--years", "2019:2022"], "not within the instance's horizon"),
    (["--scenario", "no_such_scenario"], "no scenario named 'no_such_scenario'"),
    (["--format", "docx"], "expected csv, parquet or xlsx"),
])
def test_bad_options_exit_2_without_traceback(args, words):
    r = run("solve", TOY, "-q", *args)
    assert r.exit_code == 2, r.output
    assert words in r.output


def test_validate(tmp_path):
    r = run("validate", TOY)
    assert r.exit_code == 0 and r.output.startswith("valid:")
    assert "regions" in r.output and "2: north, south" in r.output and "ev_boom" in r.output
    broken = tmp_path / "broken"
    shutil.copytree(TOY, broken)
    with open(broken / "capacity.csv", "a") as f:
        f.write("mine,north,2022,abc,toy\n")
    text = (broken / "processes.csv").read_text().replace("mine,Ore mining,mining,30,3,1,", "mine,Ore mining,mining,30,3,1.5,")
    (broken / "processes.csv").write_text(text)
    r = run("validate", broken)
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert lines[0].startswith("invalid input: 2 problems")
    assert "capacity.csv, row 8, column 'capacity': expected a number (found 'abc')" in lines
    assert any(line.startswith("processes.csv, row 2, column 'availability'") for line in lines)
    # solve of the same folder: exit 2 too
    assert run("solve", broken, "-q").exit_code == 2


def test_infeasible_exit_3_with_explanation():
    r = run("solve", TOY, "-q", "--set", "build_limits.max_total[process=magnet_making]=25")
    assert r.exit_code == 3, r.output
    assert "infeasible" in r.output
    assert "policy `south_magnet_target` 2023 (min_capacity, value 32) must ask for 7 less (at most 25)" in r.output
    assert "build_total_limit[magnet_making,south,2023]" in r.output  # from the IIS


def test_solver_error_exit_4():
    r = run("solve", TOY, "-q", "--solver", "no_such_solver")
    assert r.exit_code == 4
    assert "not available" in r.output


def test_lp_file_has_readable_names(tmp_path):
    lp = tmp_path / "toy.lp"
    r = run("solve", TOY, "-q", "--lp", lp)
    assert r.exit_code == 0
    text = lp.read_text()
    assert "act(magnet_making_south_2023)" in text and "balance(ev_south_2022)" in text


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
def test_formats_read_back_equal_to_csv(tmp_path, fmt):
    assert run("solve", TOY, "-q", "--out", tmp_path / "csv").exit_code == 0
    assert run("solve", TOY, "-q", "--out", tmp_path / fmt, "--format", fmt).exit_code == 0
    files = {p.name for p in (tmp_path / fmt).iterdir()}
    assert ("results.xlsx" in files) if fmt == "xlsx" else ("flows.parquet" in files)
    _, a = read_results(tmp_path / "csv")
    _, b = read_results(tmp_path / fmt)
    for name in a:
        x, y = a[name], b[name]
        assert list(x.columns) == list(y.columns)
        assert len(x) == len(y), name
        for c in x.columns:
            if pd.api.types.is_numeric_dtype(x[c]) and len(x):
                np.testing.assert_allclose(x[c].to_numpy(float), y[c].to_numpy(float), rtol=1e-9, err_msg=f"{name}.{c}")
            elif len(x):
                assert list(x[c].astype(str)) == list(y[c].astype(str))


def test_compare_shows_what_changed(tmp_path):
    assert run("solve", TOY, "-q", "--out", tmp_path / "a").exit_code == 0
    assert run("solve", TOY, "-q", "--out", tmp_path / "b", "-s", "ev_boom").exit_code == 0
    r = run("compare", tmp_path / "a", tmp_path / "b")
    assert r.exit_code == 0, r.output
    sa = json.loads((tmp_path / "a" / "summary.json").read_text())
    sb = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert f"{100 * (sb['objective'] - sa['objective']) / sa['objective']:+.2f} %" in r.output
    for title in ("Capacity (total)", "Activity summed", "Prices by commodity", "Unmet demand", "Discounted cost"):
        assert title in r.output
    assert run("compare", tmp_path / "a", tmp_path / "missing").exit_code == 2


def test_scenarios_lists_changes():
    r = run("scenarios", TOY)
    assert r.exit_code == 0
    assert "ev_boom: EV demand 20 % above the base path" in r.output
    assert "demand.quantity where commodity = ev: × 1.2" in r.output
    assert "policies.value where policy = south_magnet_target: set to 0" in r.output


def test_init_copies_a_starter_that_validates(tmp_path):
    d = tmp_path / "mine"
    r = run("init", d)
    assert r.exit_code == 0
    assert {p.name for p in d.iterdir()} == ({p.name for p in Path(TOY).iterdir() if p.suffix in (".csv", ".yaml", ".md")}
                                             | {f"{t}.csv.off" for t in ("storage", "demand_response", "process_costs")})
    assert run("validate", d).exit_code == 0
    r = run("init", d)
    assert r.exit_code == 2 and "exists" in r.output
    assert run("init", d, "--force").exit_code == 0


def test_graph(tmp_path):
    r = run("graph", TOY)
    assert r.exit_code == 0
    assert "separation: 1 ore -> 0.2 prnd_oxide, 0.8 lace_oxide" in r.output
    png = tmp_path / "chain.png"
    assert run("graph", TOY, "--out", png).exit_code == 0
    img = mpimg.imread(png)
    q = (img[..., :3].reshape(-1, 3) * 255).astype(np.uint32)
    assert img.shape[0] > 200 and len(np.unique((q[:, 0] << 16) | (q[:, 1] << 8) | q[:, 2])) > 20
    html = tmp_path / "chain.html"
    assert run("graph", TOY, "--out", html).exit_code == 0
    text = html.read_text()
    assert "magnet_making" in text and "plotly" in text.lower()
    assert run("graph", TOY, "--out", tmp_path / "chain.docx").exit_code == 2


def test_console_script_end_to_end(tmp_path):
    """The installed entry point: help with examples, and exit code 2 without a traceback."""
    exe = shutil.which("rechain")
    cmd = [exe] if exe else [sys.executable, "-c", "from rechain.solvers.cli import main; main()"]
    r = subprocess.run(cmd + ["--help"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "rechain solve" in r.stdout and "Exit codes" in r.stdout
    r = subprocess.run(cmd + ["validate", str(tmp_path / "nowhere")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "nowhere: no such instance folder" in r.stderr and "Traceback" not in r.stderr


def test_options_hold_for_one_call_only():
    """A ``--quiet`` call does not silence the next call in the same process."""
    loud = run("solve", TOY)
    assert "loading the instance" in loud.output
    assert "loading the instance" not in run("solve", TOY, "-q").output
    assert "loading the instance" in run("solve", TOY).output


def test_init_offers_the_v2_additions_switched_off(tmp_path):
    """The starter holds each v2 table as <table>.csv.off (not read) and says in instance.yaml
    how to switch it on; switched on, it validates and solves, and the summary shows stocks."""
    d = tmp_path / "mine"
    assert run("init", d, "-q").exit_code == 0
    for t in ("storage", "demand_response", "process_costs"):
        assert (d / f"{t}.csv.off").exists() and not (d / f"{t}.csv").exists()
    text = (d / "instance.yaml").read_text()
    assert "# Format v2 additions" in text and "storage.csv.off -> storage.csv" in text
    assert load_instance(d).format_version == 1  # the note is a comment: nothing changed
    for t in ("storage", "demand_response", "process_costs"):
        (d / f"{t}.csv.off").rename(d / f"{t}.csv")
    (d / "instance.yaml").write_text(text.replace("format_version: 1", "format_version: 2"))
    inst = load_instance(d)
    assert inst.format_version == 2 and not inst.warnings and len(inst.storage) and len(inst.demand_response)
    r = run("solve", d)
    assert r.exit_code == 0, r.output
    assert "Stocks at the end of each year" in r.output and "capital" in r.output
