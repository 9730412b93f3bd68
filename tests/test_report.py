"""The report: Sankey links that conserve the flows, PNG charts that are not blank, and the
HTML page opened in a real headless browser (Debian's chromium): it loads without script
errors, every chart renders, and a screenshot is not blank."""

import re
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

import rechain.instances as shipped
from rechain.model import load_instance
from rechain.solvers import solve
from rechain.solvers.export import write_results
from rechain.solvers.report import CHARTS, Data, build_report, optional_charts, sankey_links

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    inst = load_instance(shipped.path("toy"))
    res = solve(inst)
    folder = tmp_path_factory.mktemp("report") / "toy"
    write_results(res, folder, instance=inst)
    build_report(folder, folder / "report")
    return folder


def test_sankey_links_conserve_the_flows(results):
    d = Data(results)
    flows = d.t["flows"]
    for y in d.years:
        L = sankey_links(d, y)
        f = flows[flows["year"] == y]
        # every process: its links carry exactly its material inputs and outputs
        for p in ["mine", "separation", "metal_making", "magnet_making", "recycling"]:
            ins = f[(f["process"] == p) & (f["direction"] == "in")]["quantity"].sum()
            outs = f[(f["process"] == p) & (f["direction"] == "out")]["quantity"].sum()
            assert L[L["target"] == "p:" + p]["value"].sum() == pytest.approx(ins, abs=1e-9)
            assert L[L["source"] == "p:" + p]["value"].sum() == pytest.approx(outs, abs=1e-9)
        # the EV plant is a sink: magnets go in, no vehicles (a service) come out
        assert not (L["source"] == "p:ev_assembly").any() and (L["target"] == "p:ev_assembly").any()
        # La/Ce oxide: 20 t of demand in the north is met every year; the rest is disposed of
        dem = L[(L["source"] == "c:lace_oxide") & (L["target"] == "x:final demand")]["value"].sum()
        assert dem == pytest.approx(20.0, abs=1e-6)
        made = f[(f["commodity"] == "lace_oxide") & (f["direction"] == "out")]["quantity"].sum()
        disposed = L[(L["source"] == "c:lace_oxide") & (L["target"] == "x:disposal")]["value"].sum()
        assert made == pytest.approx(dem + disposed, abs=1e-6)
        # every commodity node balances (in = out) except where material leaves the chain
        for node in set(L["source"]) | set(L["target"]):
            if node.startswith("c:"):
                assert L[L["target"] == node]["value"].sum() == pytest.approx(L[L["source"] == node]["value"].sum(), abs=1e-6), node


def _non_blank(path: Path, min_colours: int = 20) -> None:
    img = mpimg.imread(path)
    px = img[..., :3].reshape(-1, 3)
    q = (px * 255).astype(np.uint32)
    colours = len(np.unique((q[:, 0] << 16) | (q[:, 1] << 8) | q[:, 2]))
    white = np.all(px > 0.97, axis=1).mean()
    assert colours >= min_colours, f"{path.name}: only {colours} colours"
    assert white < 0.98, f"{path.name}: {white:.1%} white"


def test_png_charts(results):
    rep = results / "report"
    names = [f"sankey_{y}.png" for y in (2021, 2022, 2023)] + ["capacity.png", "utilisation.png", "prices.png", "unmet.png", "policies.png", "costs.png"]
    for n in names:
        assert (rep / n).is_file(), n
        _non_blank(rep / n)


def test_html_is_self_contained(results):
    page = (results / "report" / "report.html").read_text(encoding="utf-8")
    assert len(page) > 1_000_000  # plotly.js is embedded
    assert not re.search(r"<script[^>]+src=", page), "a script is loaded from elsewhere"
    assert not re.search(r"<link[^>]+href=\"?https?:", page)
    for k in CHARTS:
        assert f"id='chart-{k}'" in page


def _chromium(args, tmp: Path, timeout=180):
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp}", "--virtual-time-budget=20000"]
    return subprocess.run(base + args, capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium); .ci/run installs it")
def test_report_in_headless_chromium(results, tmp_path):
    url = (results / "report" / "report.html").resolve().as_uri()
    r = _chromium(["--enable-logging=stderr", "--v=0", "--dump-dom", url], tmp_path / "profile1")
    assert r.returncode == 0, r.stderr[-2000:]
    dom = r.stdout
    # console errors of the page (uncaught exceptions are logged as CONSOLE ... Uncaught)
    console = [line for line in r.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not [line for line in console if "Uncaught" in line or "Error" in line], console
    assert 'data-script-errors="0"' in dom, re.findall(r"<p id=\"report-status\">[^<]*", dom)
    charts = CHARTS + optional_charts(Data(results))  # the toy's plan commits capital: its chart too
    assert f'data-charts-rendered="{len(charts)}"' in dom
    for k in charts:
        m = re.search(rf'<div id="chart-{k}"[^>]*>', dom)
        assert m and 'data-rendered="true"' in m.group(0), k
        # plotly drew an SVG inside the chart's div
        start = m.end()
        nxt = dom.find('<div id="chart-', start)
        assert "main-svg" in dom[start: nxt if nxt > 0 else None], f"chart {k} has no SVG"
    assert f"charts rendered: {len(charts)} of {len(charts)}" in dom
    # the Sankey of the last year names the chain's processes
    assert "magnet_making" in dom and "separation" in dom

    shot = tmp_path / "shot.png"
    r = _chromium([f"--screenshot={shot}", "--window-size=1280,2200", "--hide-scrollbars", url], tmp_path / "profile2")
    assert r.returncode == 0 and shot.is_file(), r.stderr[-2000:]
    _non_blank(shot, min_colours=100)


def test_the_report_shows_stocks_demand_steps_and_committed_capital(tmp_path):
    """A plan that holds stocks and gives demand up on a curve gets the v2 charts and the
    capital it commits; a plan without them does not get empty charts."""
    inst = load_instance(shipped.path("toy"))
    inst = inst.copy()
    import pandas as pd

    inst.tables["storage"] = pd.DataFrame([dict(commodity="prnd_oxide", region="north", initial=5.0, max_level=float("nan"),
                                                holding_cost=0.01, final=float("nan"))], index=[2])
    inst.tables["demand_response"] = pd.DataFrame([dict(commodity="ev", region="*", year=pd.NA, step=1, share=0.5, price=0.01),
                                                   dict(commodity="ev", region="*", year=pd.NA, step=2, share=0.5, price=500.0)],
                                                  index=[2, 3]).astype({"year": "Int64", "step": "Int64"})
    res = solve(inst)
    assert res.ok and (res.demand_response["unmet"] > 0).any()
    folder = tmp_path / "v2"
    write_results(res, folder, instance=inst)
    page = build_report(folder, folder / "report", png=False).read_text(encoding="utf-8")
    for k in ("investment", "stocks", "demand_response"):
        assert f"id='sec-{k}'" in page
    assert "capital committed" in page
    d = Data(folder)
    assert set(d.t["stock"]["commodity"]) == {"prnd_oxide"}


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium); .ci/run installs it")
def test_names_that_carry_script_run_nothing_in_headless_chromium(tmp_path):
    """A process named ``</script><img onerror=...>``, a commodity named ``<script>...`` and an
    instance named ``</title><script>...``: the page loads, every chart renders, and none of
    the names' script runs (each would mark the body with ``data-pwned``)."""
    from test_hostile_outputs import SCRIPT_NAME, hostile_instance

    inst = load_instance(hostile_instance(tmp_path / "inst"))
    folder = tmp_path / "res"
    write_results(solve(inst), folder, instance=inst)
    page = build_report(folder, folder / "report", png=False)
    charts = len(re.findall(r"<div id='chart-", page.read_text(encoding="utf-8")))
    r = _chromium(["--enable-logging=stderr", "--v=0", "--dump-dom", page.resolve().as_uri()], tmp_path / "profile")
    assert r.returncode == 0, r.stderr[-2000:]
    dom = r.stdout
    assert "data-pwned" not in dom and "<img" not in dom
    assert 'data-script-errors="0"' in dom, re.findall(r"<p id=\"report-status\">[^<]*", dom)
    assert f'data-charts-rendered="{charts}"' in dom
    # the names are shown, as text
    assert "<h1>rechain report: &lt;/title&gt;&lt;script&gt;document.body.dataset.pwned=3&lt;/script&gt;</h1>" in dom
    label = SCRIPT_NAME.replace("<", "&lt;").replace(">", "&gt;")
    assert re.search(rf"<text[^>]*>{re.escape(label)}</text>", dom), "the process's label in the charts"
