"""The report as an analyst reads it, on the default instance (the dense chain) and the toy:

- the Sankey: columns in chain order (a process never left of its input), recycling as return
  bands under the diagram, every band ending on its nodes, labels that overlap nothing and stay
  inside the chart (checked on the layout and, in headless chromium, on the page's own text
  boxes for every year and basis), a basis of t of rare-earth oxide derived from the recipes;
- capacity one panel per process with plant, in its own unit; prices opening on PrNd oxide with
  a note on negative prices; one number format in the policy table; run date, version and
  objective in the header; a unit in every chart's title or axis."""

import html
import json
import re
import subprocess
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pytest

import rechain.instances as shipped
from rechain.model import load_instance
from rechain.solvers import solve
from rechain.solvers.export import write_results
from rechain.solvers.report import (BASES, Data, _fig_capacity, _fig_policies, _fig_prices, build_report, capacity_processes,
                                    fmt_num, sankey_figure, sankey_geometry, sankey_links, utilisation)
from rechain.solvers.sankey import SEP, re_content

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def default(tmp_path_factory):
    inst = load_instance(shipped.path())
    folder = tmp_path_factory.mktemp("read") / "base"
    write_results(solve(inst), folder, instance=inst)
    return folder


@pytest.fixture(scope="module")
def default_page(default):
    return build_report(default, default / "report", png=False)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    inst = load_instance(shipped.path("toy"))
    folder = tmp_path_factory.mktemp("read") / "toy"
    write_results(solve(inst), folder, instance=inst)
    return folder


def _content(name):
    inst = load_instance(shipped.path(name))
    com = inst.commodities
    from rechain.solvers.report import stage_rank

    return re_content(inst.process_io, dict(zip(com["commodity"], com["unit"])), dict(zip(com["commodity"], com["kind"])),
                      dict(zip(inst.processes["process"], inst.processes["stage"])), stage_rank)


def test_rare_earth_content_follows_the_recipes():
    toy = _content("toy")
    assert toy["ore"] == 1 and toy["prnd_oxide"] == 1 and toy["lace_oxide"] == 1
    assert toy["prnd_metal"] == pytest.approx(1.2)  # 1.2 t oxide per t metal
    assert toy["magnet"] == pytest.approx(0.36 / 1.1) and toy["swarf"] == pytest.approx(0.36 / 1.1)  # 0.3 t metal into 1 t magnet + 0.1 t swarf
    assert toy["ev"] == 0
    im = _content("inner_mongolia_2021_2025")
    assert im["iron"] == im["boron"] == im["binder"] == 0 and im["nev"] == 0
    assert im["bayan_obo_ore"] == 1 and im["lace_bo"] == 1 and im["ce_oxide"] == 1
    assert im["prnd_metal"] == pytest.approx(1.23854)
    assert im["alloy_std"] == pytest.approx(0.31 * 1.23854)  # 31 % PrNd metal, the rest iron and boron
    for c in ("blank_std", "magnet_std", "swarf_std"):  # sintering and finishing keep the alloy's content
        assert im[c] == pytest.approx(im["alloy_std"], rel=1e-5), c
    assert im["bonded_magnet"] == pytest.approx(0.95 * im["alloy_std"], rel=1e-5)
    assert 0.3 < im["eol_scrap"] < 0.4  # what its recycling recovers a tonne


def test_sankey_links_in_rare_earth_content(default):
    d = Data(default)
    t, reo = sankey_links(d, 2025, "t"), sankey_links(d, 2025, "reo")
    assert not reo["source"].eq("c:iron").any() and t["source"].eq("c:iron").any()
    assert set(reo["unit"]) == {"t REO"}
    row = t[(t["source"] == "c:prnd_metal") & (t["target"] == "p:make_alloy_std")]["value"].item()
    assert reo[(reo["source"] == "c:prnd_metal") & (reo["target"] == "p:make_alloy_std")]["value"].item() == pytest.approx(row * d.reo["prnd_metal"])
    # with stocks drawn and built, every commodity still balances
    for node in {n for n in set(t["source"]) | set(t["target"]) if n.startswith("c:")}:
        assert t[t["target"] == node]["value"].sum() == pytest.approx(t[t["source"] == node]["value"].sum(), rel=1e-6, abs=1e-6), node
    assert t["target"].eq("x:stock").any() or t["source"].eq("x:stock").any()


def _check_geometry(d, year, basis):
    g = sankey_geometry(d, year, basis)
    col = g.columns()
    L = sankey_links(d, year, basis)
    for s, t in zip(L["source"], L["target"]):
        if s.startswith("c:") and t.startswith("p:"):
            assert col[s] < col[t], f"{t} stands left of its input {s}"
    procs = [n for n in g.nodes.values() if n.role == "process"]
    for stage_before, stage_after in (("separation", "metal"), ("metal", "alloy"), ("alloy", "magnet"), ("magnet", "end_use")):
        a = [n.col for n in procs if d.stage_of(n.label) == stage_before]
        b = [n.col for n in procs if d.stage_of(n.label) == stage_after]
        if a and b:
            assert max(a) < min(b), (stage_before, stage_after)
    body = max(n.y1 for n in g.nodes.values())
    for b in g.bands:
        pts = [(seg[i], seg[i + 1]) for seg in b.path for i in range(1, len(seg), 2)]
        assert all(-1e-6 <= x <= g.width + 1e-6 and -1e-6 <= y <= g.height + 1e-6 for x, y in pts), (b.source, b.target)
        src, tgt = g.nodes[b.source], g.nodes[b.target]
        # a band starts on its source's right edge and ends on its target's left edge, inside both
        m, first = b.path[0], b.path[0][1:3]
        assert m[0] == "M" and first[0] == pytest.approx(src.x1) and src.y0 - 1e-6 <= first[1] <= src.y1 + 1e-6
        ends = [seg[-2:] for seg in b.path if seg[0] in ("L", "C")]
        assert any(x == pytest.approx(tgt.x0) and tgt.y0 - 1e-6 <= y <= tgt.y1 + 1e-6 for x, y in ends), (b.source, b.target)
        if b.returning:  # runs under the diagram, back to a column on the left
            assert tgt.col < src.col and max(y for *_, y in ends) > body
        else:
            assert tgt.col > src.col
    boxes = [(lab.x0, lab.y0, lab.x1, lab.y1) for lab in g.labels]
    for i, a in enumerate(boxes):
        assert 0 <= a[0] and 0 <= a[1] and a[2] <= g.width and a[3] <= g.height, g.labels[i]
        for j in range(i):
            c = boxes[j]
            assert not (a[0] < c[2] and c[0] < a[2] and a[1] < c[3] and c[1] < a[3]), (g.labels[i], g.labels[j])
        for n in g.nodes.values():
            assert not (a[0] < n.x1 and n.x0 < a[2] and a[1] < n.y1 and n.y0 < a[3]), (g.labels[i], n.id)
    labelled = {lab.node for lab in g.labels}
    assert all(n in labelled for n in g.nodes), "every node carries its name or a number of the key"
    return g


@pytest.mark.parametrize("basis", list(BASES))
def test_sankey_layout_reads_left_to_right(default, toy, basis):
    d = Data(default)
    for year in d.years:
        g = _check_geometry(d, year, basis)
        assert any(b.returning for b in g.bands), "recycled oxide goes back up the chain"
        assert sum(1 for lab in g.labels if not lab.text.isdigit()) >= 0.8 * len(g.nodes)
        # supply, disposal and stock stand beside their commodity
        for n in g.nodes.values():
            if SEP in n.id:
                assert abs(n.col - g.nodes[n.id.split(SEP)[1]].col) == 1
    dt = Data(toy)
    for year in dt.years:
        g = _check_geometry(dt, year, basis)
        assert not any(lab.text.isdigit() for lab in g.labels)  # the toy has room for every name
    # in t REO iron weighs nothing; in t it is a node
    assert ("c:iron" in sankey_geometry(d, 2025, basis).nodes) == (basis == "t")


def test_sankey_layout_of_generated_chains(tmp_path):
    """Chains rechain did not ship (instance_gen): recycling in the last column, stages it
    knows in any combination; every band stays inside the chart."""
    from instance_gen import write_instance

    for seed in (7, 42):
        inst = load_instance(write_instance(tmp_path / f"g{seed}", seed))
        write_results(solve(inst), tmp_path / f"r{seed}", instance=inst)
        d = Data(tmp_path / f"r{seed}")
        for basis in BASES:
            for year in d.years:
                _check_geometry(d, year, basis)


def test_capacity_one_panel_per_process_with_plant(default):
    d = Data(default)
    procs = capacity_processes(d)
    assert "magnet_sintering" in procs and "magnet_finishing" in procs
    assert not [p for p in procs if not d.has_plant(p)] and "nev_pm" not in procs and "sinter_std" not in procs
    fig = _fig_capacity(d)
    titles = [a.text for a in fig.layout.annotations]
    assert titles == [f"{p} ({d.stage_of(p)}; {d.capacity_unit(p)}/y)" for p in procs]
    assert "magnet_sintering (magnet; t/y)" in titles and "mining_bayan_obo (mining; t REO/y)" in titles
    # the sintering panel holds sintering alone: Inner Mongolia's bars are its capacity, nothing added
    cap = d.t["capacity"]
    want = cap[(cap["process"] == "magnet_sintering") & (cap["region"] == "inner_mongolia") & (cap["year"] == 2025)]["total"].item()
    k = procs.index("magnet_sintering") + 1
    axis = "x" if k == 1 else f"x{k}"
    got = sum(tr.y[list(tr.x).index("2025")] for tr in fig.data if tr.xaxis == axis and tr.name.startswith("inner_mongolia"))
    assert got == pytest.approx(want)
    # a plant-less process never shows as capacity, even where a results table carries a row for it
    extra = cap[cap["process"] == "magnet_sintering"].assign(process="nev_pm")
    d.t["capacity"] = pd.concat([cap, extra], ignore_index=True)
    assert not d.has_plant("nev_pm") and "nev_pm" not in capacity_processes(d)
    assert "nev_pm" not in utilisation(d).index
    assert not [a.text for a in _fig_capacity(d).layout.annotations if a.text.startswith("nev_pm")]


def test_prices_open_on_prnd_oxide_and_policy_numbers_in_one_format(default):
    d = Data(default)
    fig = _fig_prices(d)
    assert fig.layout.title.text.startswith("Price of prnd_oxide (")
    assert fig.layout.updatemenus[0].buttons[0].label == "prnd_oxide"
    table = [t for t in _fig_policies(d).data if t.type == "table"][0]
    cells = [v for col in table.cells.values[2:5] for v in col]  # shadow price, slack, violation
    assert cells and not [v for v in cells if "e+" in v or "e-" in v]
    assert fmt_num(19850.4) == "19,850" and fmt_num(6000) == "6,000" and fmt_num(-0.0684270) == "-0.06843"
    assert max(len(p) for p in table.cells.values[0]) == max(len(p) for p in d.t["policies"]["policy"])


def test_prices_png_a_few_panels_with_zero_on_each_axis(default):
    from rechain.solvers.report import _fig_unmet, price_group, prices_figure

    d = Data(default)
    assert (price_group(d, "prnd_oxide"), price_group(d, "prnd_metal"), price_group(d, "bayan_obo_ore"), price_group(d, "nev")) == \
        ("separated oxides", "metals", "ores and concentrates", None)
    fig = prices_figure(d)
    axes = [ax for ax in fig.axes if ax.lines]
    assert 3 <= len(axes) <= 6 and sum(len(ax.lines) for ax in axes) > 30  # every material price, in a few panels
    for ax in axes:
        lo, hi = ax.get_ylim()
        assert lo <= 0 <= hi, ax.get_title()  # a price of 0.5 never fills its panel from 0.498 to 0.502
    assert any("CNY million per t" in ax.get_title() for ax in axes)
    import matplotlib.pyplot as plt

    plt.close(fig)
    x = _fig_unmet(d).layout.xaxis
    assert x.type == "category" and list(x.categoryarray) == [str(y) for y in d.years]


def test_header_run_date_version_objective(default, default_page):
    s = json.loads((default / "summary.json").read_text())
    assert s["version"] == version("rechain")
    assert datetime.fromisoformat(s["run_date"]).utcoffset().total_seconds() == 0
    page = default_page.read_text(encoding="utf-8")
    head = page[page.index("<table class='summary'>"):page.index("</table>")]
    stamp = datetime.fromisoformat(s["run_date"]).strftime("%Y-%m-%d %H:%M UTC")
    assert stamp in head and f"rechain {s['version']}" in head and f"{s['objective']:,.6g}" in head
    assert "a negative price belongs to a surplus co-product" in page.lower()


def test_png_sankey_in_rare_earth_content(default, tmp_path):
    from rechain.solvers.report import png_sankey

    png_sankey(Data(default), 2025, tmp_path / "s.png")
    import matplotlib.image as mpimg

    img = mpimg.imread(tmp_path / "s.png")
    assert img.shape[1] > 1500 and (img[..., :3] < 0.9).any()


_MEASURE = """
<script>
(function () {
  function box(r) { return [r.left, r.top, r.right, r.bottom]; }
  function measure(div) {
    var svg = div.querySelector('.main-svg').getBoundingClientRect(), s = div._fullLayout._size;
    var area = [svg.left + s.l, svg.top + s.t, svg.left + s.l + s.w, svg.top + s.t + s.h];
    var labels = Array.prototype.map.call(div.querySelectorAll('g.annotation text.annotation-text'), function (t) {
      return {text: t.textContent, box: box(t.getBoundingClientRect())};
    });
    return {area: area, labels: labels, title: div.querySelector('.gtitle').textContent};
  }
  function texts(div) {
    var sel = '.gtitle, .g-xtitle, .g-ytitle, .annotation-text, .legendtext, .cbtitle';
    return Array.prototype.map.call(div.querySelectorAll(sel), function (t) { return t.textContent; });
  }
  function run() {
    var div = document.getElementById('chart-sankey'), v = window.__rechain.sankey, out = [], chain = Promise.resolve();
    var units = {};
    Array.prototype.forEach.call(document.querySelectorAll('div.chart'), function (c) { units[c.id] = texts(c); });
    Object.keys(v).forEach(function (basis) {
      Object.keys(v[basis]).forEach(function (year) {
        chain = chain.then(function () {
          return Plotly.react(div, v[basis][year].data, v[basis][year].layout).then(function () {
            var m = measure(div); m.variant = basis + ' ' + year; out.push(m);
          });
        });
      });
    });
    chain.then(function () {
      document.body.setAttribute('data-chart-texts', JSON.stringify(units));
      document.body.setAttribute('data-sankey-check', JSON.stringify(out));
    }, function (e) { document.body.setAttribute('data-sankey-check', 'error: ' + e); });
  }
  (function wait() {
    if (document.body && document.body.hasAttribute('data-charts-rendered')) { run(); } else { setTimeout(wait, 50); }
  })();
})();
</script>
"""


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium); .ci/run installs it")
def test_sankey_labels_and_units_in_headless_chromium(default, default_page, tmp_path):
    """Measured in the browser, through the page's DOM, for every year and basis of the default
    instance's Sankey: no two labels overlap and none leaves the chart's plotting area; every
    chart names a unit in its title, an axis, a subplot title or its legend."""
    probe = tmp_path / "probe.html"
    probe.write_text(default_page.read_text(encoding="utf-8").replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
                        "--disable-background-networking", "--disable-component-update", f"--user-data-dir={tmp_path / 'profile'}",
                        "--window-size=1400,2400", "--virtual-time-budget=60000", "--dump-dom", probe.resolve().as_uri()],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    dom = r.stdout
    assert 'data-script-errors="0"' in dom
    assert re.search(r'<p id="report-status"[^>]* hidden', dom), "the render status is not shown to readers"
    m = re.search(r'data-sankey-check="([^"]*)"', dom)
    assert m, "the measuring script did not finish"
    checks = json.loads(html.unescape(m.group(1)))
    d = Data(default)
    assert len(checks) == len(BASES) * len(d.years)
    for c in checks:
        assert len(c["labels"]) > 50, c["variant"]
        assert "t REO" in c["title"] if c["variant"].startswith("reo") else " in t (" in c["title"]
        a = c["area"]
        for lab in c["labels"]:
            x0, y0, x1, y1 = lab["box"]
            assert x0 >= a[0] - 0.5 and y0 >= a[1] - 0.5 and x1 <= a[2] + 0.5 and y1 <= a[3] + 0.5, (c["variant"], lab)
        boxes = c["labels"]
        for i, p in enumerate(boxes):
            for q in boxes[:i]:
                (a0, a1, a2, a3), (b0, b1, b2, b3) = p["box"], q["box"]
                overlap = min(a2, b2) - max(a0, b0), min(a3, b3) - max(a1, b1)
                assert not (overlap[0] > 0.5 and overlap[1] > 0.5), (c["variant"], p, q)
    texts = json.loads(html.unescape(re.search(r'data-chart-texts="([^"]*)"', dom).group(1)))
    units = {"t", "t REO", "%", d.money} | {u for u in d.unit.values() if u}
    pattern = re.compile(r"(?<![\w])(" + "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True)) + r")(?![\w])")
    assert len(texts) >= 7
    for chart, found in texts.items():
        assert any(pattern.search(t) for t in found), (chart, found[:10])


def test_a_chain_without_rare_earths_opens_in_tonnes(tmp_path):
    """Where no commodity holds rare-earth oxide (no t REO, no separation stage) the Sankey opens
    in t, in the page and the PNG, instead of an empty diagram."""
    inst = load_instance(shipped.path("toy")).copy()
    inst.tables["commodities"].loc[inst.tables["commodities"]["commodity"] == "ore", "unit"] = "t"
    inst.tables["processes"].loc[inst.tables["processes"]["process"] == "separation", "stage"] = "refining"
    write_results(solve(inst), tmp_path / "r", instance=inst)
    d = Data(tmp_path / "r")
    assert not any(d.reo.values()) and d.basis == "t"
    page = build_report(tmp_path / "r", tmp_path / "rep", png=False).read_text(encoding="utf-8")
    assert "<option value='t' selected>" in page
    assert len(sankey_geometry(d, d.years[-1], d.basis).nodes) > 5
    from rechain.solvers.report import png_sankey

    png_sankey(d, d.years[-1], tmp_path / "s.png")
    import matplotlib.image as mpimg

    img = mpimg.imread(tmp_path / "s.png")[..., :3]
    assert (img.min(axis=2) < 0.95).mean() > 0.1  # bands and nodes, not a message on white


def test_the_header_says_what_year_the_objective_is_discounted_to(toy, tmp_path):
    """As `rechain solve` prints it: "(discounted to 2020)", the base year of the instance."""
    page = build_report(toy, tmp_path / "report", png=False).read_text(encoding="utf-8")
    assert re.search(r"<td>objective</td><td>[\d,.]+ CNY million \(discounted to 2020\)</td>", page)


def test_the_policy_table_stands_clear_of_the_bars_axis(toy):
    """The table's title sits under the bars' tick labels and axis title, not against them:
    at least 90 px between the bars' plotting area and the table."""
    fig = _fig_policies(Data(toy))
    lay = fig.layout
    plot_h = lay.height - lay.margin.t - lay.margin.b
    table = [t for t in fig.data if t.type == "table"][0]
    lowest = min(lay[k].domain[0] for k in lay if k.startswith("yaxis"))  # the last chart of bars
    gap_px = (lowest - table.domain.y[1]) * plot_h
    assert gap_px >= 90, gap_px


def test_policy_bars_put_one_unit_on_an_axis(default):
    """A quota binds at about -0.07 CNY million per t REO, the share of a use an alternative's tier
    may take at about -3,000 per unit of share: each unit gets its own chart and axis, titled with
    it; the table gives each row's unit (what its slack is in)."""
    d = Data(default)
    fig = _fig_policies(d)
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) >= 2
    seen = []
    for t in bars:
        units = {d.policy_price_unit(lab.rsplit(" ", 1)[0]) for lab in t.y}
        assert len(units) == 1, units
        unit = units.pop()
        axis = fig.layout["xaxis" + t.xaxis[1:]]
        assert axis.title.text == unit
        seen.append(unit)
    assert len(set(seen)) == len(seen)  # one chart a unit
    assert d.policy_price_unit("northern_rock_quota") == "CNY million per t REO"
    assert d.policy_price_unit("ebike_ferrite_1_units") == "CNY million per share (0-1)"  # max_share
    # a share policy's slack is activity: thousand e-bikes left under the share
    assert d.policy_value_unit("ebike_ferrite_1_units") == "thousand e-bikes"
    assert d.policy_value_unit("im_magnet_target") == "t"  # min_capacity of sintering, t of blanks a year
    table = [t for t in fig.data if t.type == "table"][0]
    assert table.header.values[-1].startswith("unit") and "t REO" in table.cells.values[-1]


def test_a_stock_node_says_whose_stock_it_is_on_hover(default):
    """Outside supply, disposal and stock stand beside their commodity and read "stock" on the
    chart; hovering one names the commodity (six stock nodes in 2025 would otherwise be alike)."""
    d = Data(default)
    hover = sankey_figure(d, 2025, "reo")["data"][0]["hovertext"]
    stocks = [h for h in hover if h.startswith("stock") and "→" not in h]  # nodes, not bands
    assert len(stocks) >= 2
    assert all(h.startswith("stock of ") for h in stocks), stocks
    assert any(h.startswith("stock of lace_bo:") for h in stocks), stocks


def test_a_long_policy_table_scrolls_within_a_bounded_box(default):
    """The default instance has hundreds of policy rows (eight tiers of each alternative a year):
    the table shows TABLE_ROWS of them at once and scrolls, all rows still in it."""
    from rechain.solvers.report import TABLE_ROWS

    d = Data(default)
    n = len(d.t["policies"])
    assert n > 2 * TABLE_ROWS
    fig = _fig_policies(d)
    table = [t for t in fig.data if t.type == "table"][0]
    assert len(table.cells.values[0]) == n
    lay = fig.layout
    box_px = (table.domain.y[1] - table.domain.y[0]) * (lay.height - lay.margin.t - lay.margin.b)
    assert box_px <= 28 * (TABLE_ROWS + 1) + 20 + 1, box_px
