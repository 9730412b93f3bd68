"""Regenerate docs/instances.md, docs/img/*.png and each calibrated instance's SOURCES.md.

    python docs/make_instances_doc.py

Everything below is read from the shipped instance files and from their solutions, so the
documents follow the data. Only the market prices to compare with, and the reasons for gaps,
are written here (each with its source id).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from rechain import instances  # noqa: E402
from rechain.instances.build import (ALLOYS, DOC_SOURCES, EXISTING, FX, GBD_DY, GBD_SHARE, GBD_TB, MINING_KEPT, MYANMAR_REO,  # noqa: E402
                                     MYANMAR_REO_2023, MYANMAR_STEPS, SEPARATION_KEPT, STOCKS, USGS_OXIDE_PRICES, hc_work,
                                     myanmar_curve_closed, myanmar_step, myanmar_steps, scrap_oxides, write)
from rechain.model import load_instance  # noqa: E402
from rechain.instances.demand_paths import DEFAULT_QUOTAS  # noqa: E402
from rechain.solvers import price_drivers, solve  # noqa: E402

DOCS = Path(__file__).resolve().parent
IMG = DOCS / "img"
CALIBRATED = ("inner_mongolia_2021_2025", "china_2020_2035")
CHINA = ["inner_mongolia", "jiangxi", "other_china"]
STAGES = ["mining", "beneficiation", "separation", "metal", "alloy", "magnet", "recycling", "end_use"]
STAGE_COLOURS = dict(zip(STAGES, ["#8c564b", "#bcbd22", "#1f77b4", "#9467bd", "#e377c2", "#d62728", "#2ca02c", "#7f7f7f"]))

# Market prices to set beside the model's implied prices (CNY million per t): USGS Mineral
# Commodity Summaries 2025 (Argus) annual averages in USD/kg at the annual CNY/USD rate of
# fx_cny_usd; Nd oxide stands for PrNd oxide.
MARKET = {c: {y: v * FX[y] / 1000 for y, v in zip(FX, vals)} for c, vals in USGS_OXIDE_PRICES.items()}
MARKET_SOURCE = "usgs_mcs_2025; fx_cny_usd"
GAP_REASON = {
    "prnd_oxide": "Seen from 2020, China's ore meets PrNd demand below its quotas' reach: Sichuan's ore is the "
                  "marginal mine and PrNd is at the cost of getting it from there, with the Myanmar feed, bought "
                  "for its Dy and Tb, bringing PrNd with it. With demand as it turned out PrNd is dearer; with the "
                  "feed that did not come in 2021-22 (`myanmar_closures_2021_2022`) as well, the default meets "
                  "2021-24 within 35 % (docs/instances.md, 'Against what happened'). Where supply falls short (the "
                  "national view's 2020) magnets give way to the cheapest tiers of their alternatives "
                  "(`est_substitutes`), which set it.",
    "dy_oxide": "The Myanmar feed is the marginal source of Dy and Tb: it is bought up to 2020's volume at 2020's "
                "import price (`argus_myanmar_2020`) and beyond it in steps up to 2023's volume at rising prices "
                "(`est_myanmar_curve`, from China's customs, `giti_imports_2023`); where a year's purchase ends "
                "part-way up a step, that step's price is what the feed's oxides are worth less separation, and "
                "stocks carry Dy and Tb between years at the discount rate (docs/instances.md, 'What the heavy-RE "
                "prices rest on', moves each number). Diffusion (Tb or Dy) instead of bulk alloying where parts are "
                "thin enough and Dy-free grades where an end use allows them set how much heavy RE is needed; wind "
                "generators' thick segments take bulk-alloyed magnets only (`mainrich_gbd`). Within 35 % of 2020's "
                "average; with demand and Myanmar's feed as they turned out in 2021-22, within 35 % of 2021's. The "
                "model foresees every year, so its stocks carry the scarcity of 2021-22 into 2023-24, where the "
                "market's prices fell back.",
    "tb_oxide": "Tied to Dy by the two diffusion sources: a Dy source needs about twice the Tb mass (`herbst_1991`), "
                "and a Dy-diffused magnet, holding more heavy RE, does about 1 % less per t (`skomski_2016`), so Tb is "
                "2.2 to 2.5 times Dy in a year both are used below Dy's reach, and stocks carry that ratio to the other "
                "years; the market ratio was 2.6-5.4 in 2020-24 (Tb also carries the top grades a Dy source cannot "
                "reach). Known gap: with demand and Myanmar's feed as they turned out, Tb stays below the market "
                "in 2021-23, by half in 2022.",
    "la_oxide": "La and Ce are co-products in surplus: the mixed carbonate is stockpiled (`est_stocks`) and split "
                "only as far as catalysts, polishing, glass, steel, NiMH and exports use it; the implied price is "
                "the splitting cost less the stockpiling saved, near zero or slightly below where stocks hold it.",
    "ce_oxide": "As for La: surplus co-product, priced near the cost of splitting and holding it.",
}


# ------------------------------------------------------------------------------------------------
def solve_all():
    out = {}
    for name in CALIBRATED:
        inst = load_instance(instances.path(name))
        out[name] = (inst, solve(inst))
    default = out[CALIBRATED[0]][0]
    for scenario in SCENARIOS_SHOWN:  # the default's scenarios the document quotes, each solved once
        out[scenario] = (None, solve(default.with_scenario(scenario)))
    out[AS_IT_HAPPENED] = (None, solve(default.with_scenario(*AS_IT_HAPPENED)))
    return out


SCENARIOS_SHOWN = ("no_plan_target", "actual_demand_2021_2024", "heavy_re_shock", "myanmar_closure_2021")
AS_IT_HAPPENED = ("actual_demand_2021_2024", "myanmar_closures_2021_2022")  # 2021-22 as they happened: both applied, in order


def oxide_price(res, commodity: str, year: int = 2021, region: str = "other_china") -> float:
    """A commodity's implied price in one region and year."""
    p = res.prices
    return float(p[(p.commodity == commodity) & (p.region == region) & (p.year == year)].price.iloc[0])


def tb_per_dy(res, year: int = 2021) -> float:
    """Tb oxide's implied price over Dy oxide's."""
    return oxide_price(res, "tb_oxide", year) / oxide_price(res, "dy_oxide", year)


def settings(name: str) -> dict:
    return yaml.safe_load((instances.path(name) / "instance.yaml").read_text())


def md_table(df: pd.DataFrame, floatfmt: str = "{:,.0f}") -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for _, row in df.iterrows():
        cells = []
        for v in row:
            if isinstance(v, float):
                cells.append("" if pd.isna(v) else floatfmt.format(v))
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
LEVEL = {"raw": 0}


def chain_figure(inst, path: Path) -> None:
    """Commodity graph of the chain: an arrow for each process input -> output, coloured by stage."""
    io = inst.process_io.merge(inst.processes[["process", "stage"]], on="process")
    kinds = inst.commodities.set_index("commodity").kind.to_dict()
    aux = {"iron", "boron", "binder"}
    g = nx.DiGraph()
    for p, grp in io.groupby("process"):
        stage = grp.stage.iloc[0]
        ins = [c for c in grp[grp.direction == "in"].commodity if c not in aux] or [f"({p})"]
        outs = list(grp[grp.direction == "out"].commodity)
        for a in ins:
            for b in outs:
                g.add_edge(a, b, stage=stage)
    # layer = longest path from a raw commodity (recycling edges excluded to keep it acyclic)
    dag = nx.DiGraph([(a, b) for a, b, d in g.edges(data=True) if d["stage"] != "recycling"])
    dag.add_nodes_from(g.nodes)
    layer = {}
    for n in nx.topological_sort(dag):
        preds = list(dag.predecessors(n))
        layer[n] = 0 if not preds else max(layer[p] + 1 for p in preds)
    for n, d in g.nodes(data=True):
        d["layer"] = layer[n]
    pos = nx.multipartite_layout(g, subset_key="layer", align="vertical", scale=1.0)
    fig, ax = plt.subplots(figsize=(17, 11))
    for stage in STAGES:
        edges = [(a, b) for a, b, d in g.edges(data=True) if d["stage"] == stage]
        nx.draw_networkx_edges(g, pos, edgelist=edges, edge_color=STAGE_COLOURS[stage], ax=ax, arrows=True,
                               arrowsize=10, width=1.4, alpha=0.8, connectionstyle="arc3,rad=0.08",
                               label=stage)
    kind_colour = {"raw": "#d9c3a3", "material": "#cfe2f3", "product": "#f4cccc", "service": "#d9ead3", "waste": "#eeeeee"}
    kind_colour["deposit"] = "#ffffff"
    nx.draw_networkx_nodes(g, pos, node_color=[kind_colour[kinds.get(n, "deposit")] for n in g.nodes], node_size=900,
                           edgecolors="#555555", ax=ax)
    nx.draw_networkx_labels(g, pos, font_size=7.5, ax=ax)
    handles = [plt.Line2D([0], [0], color=STAGE_COLOURS[s], lw=2, label=s) for s in STAGES]
    handles += [plt.Line2D([0], [0], marker="o", ls="", markerfacecolor=c, markeredgecolor="#555555", markersize=10,
                           label=f"{k} commodity") for k, c in kind_colour.items()]
    ax.legend(handles=handles, loc="lower left", fontsize=8, ncol=2)
    ax.set_title(f"{inst.name}: commodities (nodes) and processes (arrows, coloured by stage)")
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------------------------------------
def capacity_by_stage(inst, res, years) -> pd.DataFrame:
    c = res.capacity.drop(columns="unit", errors="ignore").merge(inst.processes[["process", "stage"]], on="process")
    c = c[(c.stage != "end_use") & c.year.isin(years)]
    unit = inst.process_io[inst.process_io.reference.astype(bool)].merge(inst.commodities[["commodity", "unit"]], on="commodity")
    c = c.merge(unit[["process", "commodity", "unit"]], on="process")
    c["measured as"] = c.commodity + " (" + c.unit + ")"
    t = c.pivot_table(index=["stage", "process", "measured as", "region"], columns="year", values="total", aggfunc="sum")
    t = t[t.abs().sum(axis=1) > 0].reset_index()
    t["stage"] = pd.Categorical(t.stage, STAGES)
    return t.sort_values(["stage", "process", "region"])


def bottlenecks(inst, res, years) -> tuple[pd.DataFrame, pd.DataFrame]:
    pol = res.policies[res.policies.year.isin(years)].copy()
    binds = (pol.slack <= 1e-3) & (pol.shadow_price.abs() > 1e-9)
    pol["state"] = [f"binds ({sp:.3g})" if b else f"slack {sl:,.0f}" for b, sp, sl in zip(binds, pol.shadow_price, pol.slack)]
    pol_b = pol.pivot_table(index="policy", columns="year", values="state", aggfunc="first").fillna("")
    c = res.capacity.merge(inst.processes[["process", "stage", "availability"]], on="process")
    c = c[(c.stage != "end_use") & c.year.isin(years) & (c.total > 0)]
    full = c[c.utilisation >= 0.999 * c.availability]
    full = full.pivot_table(index=["process", "region"], columns="year", values="total", aggfunc="sum")
    return pol_b.reset_index(), full.reset_index()


def price_table(res, years) -> pd.DataFrame:
    p = res.prices
    rows = []
    for c, reg in [("tb_oxide", "other_china"), ("dy_oxide", "other_china"), ("prnd_oxide", "other_china"),
                   ("prnd_metal", "other_china"), ("magnet_std", "other_china"), ("magnet_hc", "other_china"),
                   ("magnet_ce", "other_china"), ("la_oxide", "other_china"), ("ce_oxide", "other_china"),
                   ("bayan_obo_concentrate", "inner_mongolia"), ("myanmar_concentrate", "jiangxi")]:
        s = p[(p.commodity == c) & (p.region == reg) & p.year.isin(years)].set_index("year").price
        rows.append({"commodity": c, "region": reg, **{y: s.get(y, float("nan")) for y in years}})
    return pd.DataFrame(rows)


def magnet_output(res, years):
    a = res.activity
    a = a[a.process.isin(["magnet_sintering", "magnet_bonded"]) & a.region.isin(CHINA) & a.year.isin(years)]
    return a.groupby("year").activity.sum()


def im_capacity(res, year):
    c = res.capacity
    return float(c[(c.process == "magnet_sintering") & (c.region == "inner_mongolia") & (c.year == year)].total.sum())


# ------------------------------------------------------------------------------------------------
def assumptions(inst) -> list[tuple[str, str, str]]:
    """The main structural figures, read from the builder that wrote the instance."""
    from rechain.instances import build as b

    def shares(ore):
        sh, src = b.ORES[ore]
        return ", ".join(f"{k.replace('_oxide', '')} {v:g}" for k, v in sh.items()), src

    procs = inst.processes.set_index("process")
    A = [(f"Ore shares of REO: {ore}", *shares(ore)) for ore in b.ORES]
    A += [
        ("Beneficiation recovery (t REO in concentrate per t REO mined)", f"{b.BEN}", "est_beneficiation"),
        ("Separation recovery (t oxides per t REO in concentrate)", f"{b.SEP}", "treo_cnre_huamei"),
        ("Electrolysis recovery; t metal per t oxide", f"{b.ELEC}; " + ", ".join(f"{k} {v}" for k, v in b.OX.items()),
         "est_electrolysis; atomic_weights"),
        ("RE metal per t NdFeB alloy (rest Fe 0.679, B 0.011)", f"{b.RE}", "courage_re_content"),
    ]
    A += [(f"Alloy `{a}` ({what}): metal per t", ", ".join(f"{m} {q:g}" for m, q in metals.items()), src)
          for a, (metals, src, what) in b.ALLOYS.items()]
    A += [
        ("Grain-boundary diffusion into finished magnets: Tb, or Dy, per t", f"Tb {b.GBD_TB}, or Dy {b.GBD_DY}",
         "mainrich_gbd; ieee_gbd_2017; est_grades; herbst_1991"),
        ("Share of diffused parts that can take a Dy source (at most)", f"{b.DY_DIFFUSION_SHARE}", "est_dy_diffusion"),
        ("Work of a t of high-coercivity magnet by route, in t of a Tb-diffused magnet's (its remanence squared)",
         ", ".join(f"`{p}` {w:g}" for p, w in b.hc_work().items()), "herbst_1991; skomski_2016"),
        ("Thick sections (wind generators' magnets): bulk-alloyed only; any high-coercivity use may take them",
         "`magnet_hc_bulk` -> `magnet_hc`", "mainrich_gbd"),
        ("Finished magnet per t sintered blank (rest: swarf, recycled)", f"{b.YIELD}", "earthsbook_jlmag_yield"),
        ("Recycling recovery (two hydrometallurgical stages at 0.95)", f"{b.RECYCLE:.4f}", "prommis_recycling"),
    ]
    for service, routes in b.MAGNET_USES.items():
        text = "; ".join(f"`{r}`: " + (", ".join(f"{c} {q:g}" for c, q in inputs.items()) or "no magnets")
                         + (f", +{extra:g} per unit" if extra else "") for r, (inputs, extra, _) in routes.items())
        A.append((f"End use `{service}` ({b.SERVICES[service][0]}): routes, magnets per unit, extra cost", text,
                  "; ".join(sorted({src for _, _, src in routes.values()}))))
    A += [
        ("Tiers of each alternative (share of units, cost multiple)", ", ".join(f"{b.TIER_SHARE:.3g} at {m:g}x" for _, m in b.TIERS),
         "est_substitutes"),
        ("Demand curves: share giving way at CNY million per t of magnet held", f"0.1 at {b.THRIFT}, 0.9 at {b.FORGONE}",
         "est_demand_curves"),
        ("Stocks at the start (t) and holding cost (CNY million per t and year)",
         "; ".join(f"{c} in {r} {q:,.0f} at {h}" for (c, r), (q, h) in b.STOCKS.items()), "est_stocks"),
        ("Quotas kept: mined ore / separation, times the published quota", f"{b.MINING_KEPT} / {b.SEPARATION_KEPT}",
         "est_over_quota"),
        ("Myanmar feed: t REO a year at CNY million per t REO", f"{b.MYANMAR_REO:,.0f} at {b.MYANMAR_PRICE}",
         "argus_myanmar_2020; est_myanmar_profile"),
        ("Myanmar feed beyond 2020's volume, up to 2023's: steps of t REO a year at CNY million per t REO "
         f"(a curve of elasticity {b.MYANMAR_ELASTICITY:.2f} through 2020's and 2023's imports)",
         "; ".join(f"{q:,.0f} at {p}" for q, p in b.myanmar_steps()), "est_myanmar_curve; giti_imports_2023"),
        ("US (Mountain Pass) concentrate: CNY million per t REO", f"{b.US_PRICE}", "mp_results_2021; usgs_mcs_2025"),
        ("Power price by region (CNY per kWh)", ", ".join(f"{r} {v}" for r, v in b.POWER_PRICE.items()), "cru_power; est_regional_costs"),
        ("Magnet plant capex (CNY million per t/y), lead time (years)",
         f"{procs.loc['magnet_sintering', 'capex']}, {procs.loc['magnet_sintering', 'lead_time']}", "ree_jlmag_capex"),
        ("Separation capex per t/y REO feed", f"{procs.loc['separation_bayan_obo', 'capex']}", "treo_cnre_huamei"),
        ("Discount rate (a year)", f"{settings(inst.name)['discount_rate']}", "est_discount"),
    ]
    return A


# where the sources the builder declares for this document are used, beside the instance doc
DOC_USE = {"est_over_quota": "policies (the factor on the rock and separation quotas); the instance doc"}


def sources_md(name, inst, res) -> str:
    s = settings(name)
    used: dict[str, list[str]] = {}
    folder = instances.path(name)
    for f in sorted(folder.glob("*.csv")):
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        if "source" in df.columns:
            for sid, n in df.source.value_counts().items():
                used.setdefault(sid, []).append(f"{f.stem} ({n})")
    lines = [f"# Sources and assumptions: `{name}`", "",
             f"{s['title']}. Generated by `docs/make_instances_doc.py` from the instance files and their "
             "solution; edit the data, then rerun the script.", "",
             "Every number row of the instance names one of these sources in its `source` column. Ids starting "
             "with `est_` are estimates (**E**): figures without a public source, chosen to fit the sourced ones.", "",
             "## Sources", "", "| id | kind | title | url | used in (rows) |", "|---|---|---|---|---|"]
    for src in s["sources"]:
        kind = "**E** estimate" if src["id"].startswith("est") else ("derived" if "derived" in src["title"] else "sourced")
        url = f"<{src['url']}>" if src.get("url") else "(print / no public URL recorded)"
        where = used.get(src["id"], [DOC_USE.get(src["id"], "the instance doc") if src["id"] in DOC_SOURCES else "scenarios"])
        lines.append(f"| `{src['id']}` | {kind} | {src['title']} | {url} | {', '.join(where)} |")
    lines += ["", "## Main assumptions", "", "| assumption | value | source |", "|---|---|---|"]
    lines += [f"| {a} | {v} | {src} |" for a, v, src in assumptions(inst)]
    # implied prices
    y = 2021 if 2021 in inst.years else inst.years[0]
    p = res.prices
    lines += ["", f"## Implied prices ({y}) beside market prices", "",
              "Model prices are the duals of the commodity balances (CNY million per t, undiscounted), in "
              "`other_china`. Market: annual averages of USGS Mineral Commodity Summaries 2025 (Argus), USD/kg "
              "at the year's CNY/USD rate (`usgs_mcs_2025`, `fx_cny_usd`).", "",
              "| commodity | model | market 2020 | market 2021 | reason for the gap |", "|---|---|---|---|---|"]
    for c, m in MARKET.items():
        v = p[(p.commodity == c) & (p.region == "other_china") & (p.year == y)].price
        mv = f"{float(v.iloc[0]):.4g}" if len(v) else "n/a"
        lines.append(f"| {c} | {mv} | {m[2020]:.3g} | {m[2021]:.3g} | {GAP_REASON[c]} |")
    lines.append("")
    return "\n".join(lines)


def placeholders_replaced(inst, res, shock) -> list[str]:
    """How each hand-set number of the first calibration gave way to sourced structure."""
    f = res.flows
    lynas = f[(f.process == "separation_row") & (f.commodity == "prnd_oxide") & (f.year == 2021)].quantity.sum()
    out = [
        ("An invented PrNd offer (30 kt/y at 0.5 CNY million/t) set the PrNd price",
         "No outside offer of any separated oxide or metal: PrNd comes from ore under the quotas by group, imported "
         "concentrate (Mountain Pass, Myanmar; Laos's ion-adsorption clays are not modelled: Chinese firms formed a "
         "joint venture to explore them in 2022 and Laos's one refinery had never run by 2024, "
         "https://rawmaterials.net/canada-rare-earth-announces-acquisition-of-a-refinery-in-laos/, and no figure "
         "for what Laos sent China in 2020-25 was found), Lynas's own separation outside China "
         f"({lynas:,.0f} t NdPr in 2021; `lynas_ar_2021`: 5,461 t in FY2021), swarf and end-of-life recycling, and "
         "stocks (`tests/test_calibration.py::test_no_price_equals_a_hand_set_offer`)."),
        ("Every ionic feed had the Longnan profile; diffusion applied in the alloy",
         "Chinese ionic and Myanmar feeds by source (`est_ionic_profile`; Myanmar's Dy2O3 3.74 % and Tb4O7 0.57 % "
         "from `roskill_myanmar_2018`), the Myanmar feed on a supply curve from China's customs of 2020 and 2023 "
         "(`est_myanmar_curve`); diffusion is a step on finished magnets (`diffuse_tb`, `diffuse_dy`) using "
         f"{GBD_SHARE:.0%} of bulk alloying's heavy RE per t finished, within both sources' ranges; wind generators' "
         "thick segments take bulk-alloyed magnets only. "
         "Bulk-alloyed grades split their heavy RE between Dy and Tb as China's magnet scrap does "
         "(`argus_heavy_share`), and each route's magnet counts by the work it does, less where it holds more heavy "
         "RE (`herbst_1991`, `skomski_2016`)."),
        ("Shocks met by rationing at arbitrary penalties",
         "Grades without heavy RE, Ce-substituted, bulk high-coercivity and diffused; every magnet end use has its "
         "alternative (ferrite, induction, electrically excited or DFIG generators) in eight cost tiers, priced "
         "against a whole magnet motor with magnets at 2020 prices, so that the 2020 mix is the least-cost choice "
         "at 2020 prices; demand curves; stocks of PrNd, Dy and Tb. Under `heavy_re_shock` Dy is "
         f"{oxide_price(shock, 'dy_oxide') / oxide_price(res, 'dy_oxide'):.0f} times the base in 2021 (2010-11: 20 times, "
         "Jan 2010 to Jul 2011, https://www.raremetalblog.com/dysprosium-continues-easing-big-question-mark-over-future-dy-output/) and "
         "every end use is served."),
        ("The plan target built idle plant and looked cheap",
         "The target's utilisation and the capital it commits are reported (above); costs differ by region (power, "
         "Baotou's capex) and NEV and wind assembly sit in their regions; the degeneracy left is measured."),
        ("One rock quota pooled Bayan Obo and Sichuan; mines grew for free",
         "Quotas by group as allocated (Northern Rare Earth, the others, ionic); mine expansion is built, with its "
         f"lead time, where it was. Rock ore may be mined at {MINING_KEPT:.2f} times its quota, an estimate "
         "(`est_over_quota`; the range the sources allow and what it moves: 'How far China's rock ore runs past its "
         "quotas', above); "
         "China's ion-adsorption mines give their whole quota, as no output figure was found (what-ifs above; "
         "`myanmar_closure_2021` takes `est_ionic_2021` for 2021)."),
        ("La/Ce, Y and SEG were thrown away",
         "Stockpiles of La/Ce carbonate, Y and SEG, here and outside China (Lynas's co-products); La and Ce go to "
         "catalysts (FCC, autos, SCR), polishing, glass, steel, NiMH and exports."),
        ("Demand fell back to the 2020 view in 2025",
         "`actual_demand_2021_2024` sets 2025 from the latest data."),
        ("SOURCES.md cited undeclared ids", "Every cited id is declared (`tests/test_provenance.py`)."),
        ("End-use 'plants' among the top additions; magnet output defined two ways",
         "The CLI lists plant only; magnet output is sintered blanks plus bonded magnets everywhere."),
    ]
    return ["#### How each placeholder was replaced", "", "| before | now |", "|---|---|",
            *[f"| {a} | {b} |" for a, b in out], ""]


# ------------------------------------------------------------------------------------------------
def instance_section(name, inst, res, years_show, extra=None) -> list[str]:
    s = settings(name)
    L = [f"## `{name}`", "", f"**{s['title']}** ({inst.years[0]}-{inst.years[-1]}, base year {s['base_year']}, "
         f"discount rate {s['discount_rate']}, money in {s['units']['money']}).", "", s.get("description", ""), ""]
    L += ["### Regions", "", md_table(inst.regions[["region", "name"]]), ""]
    L += ["### Chain", "", f"![chain of {name}](img/{name}_chain.png)", "",
          f"{len(inst.processes)} processes, {len(inst.commodities)} commodities. Processes by stage:", ""]
    for stage in STAGES:
        ps = inst.processes[inst.processes.stage == stage].process.tolist()
        L.append(f"- **{stage}**: " + ", ".join(f"`{p}`" for p in ps))
    L += ["", f"Main assumptions and every source: [`instances/{name}/SOURCES.md`](../instances/{name}/SOURCES.md).", ""]
    L += ["### Scenarios", ""]
    for sc, d in (s.get("scenarios") or {}).items():
        L.append(f"- `{sc}`: {d.get('description', '')}")
    L += ["", f"### What the solution says (status {res.status}, objective {res.objective:,.0f} CNY million discounted)", ""]
    out = magnet_output(res, years_show)
    L += ["Magnet output in China (sintered blanks + bonded, t):", "",
          md_table(pd.DataFrame([{**{"": "output"}, **{y: float(out.get(y, 0)) for y in years_show}}])), ""]
    if extra:
        L += extra
    L += ["#### Capacity by stage and region (t/y of each process's reference commodity)", "",
          md_table(capacity_by_stage(inst, res, years_show)), ""]
    pol, full = bottlenecks(inst, res, years_show)
    L += ["#### Bottlenecks", "", "Policies (binds: no slack and a non-zero shadow price, shown in brackets in CNY million per unit; slack in the policy's unit):", "", md_table(pol), "",
          "Plants running at full availability (capacity, t/y):", "", md_table(full) if len(full) else "(none)", ""]
    L += ["#### Implied prices (CNY million per t)", "", md_table(price_table(res, years_show), "{:.4g}"), ""]
    return L


def im_output(res, year):
    a = res.activity
    return float(a[(a.process == "magnet_sintering") & (a.region == "inner_mongolia") & (a.year == year)].activity.sum())


def plan_target_section(inst, res, nt) -> list[str]:
    y = inst.years[-1]
    cap, out = im_capacity(res, y), im_output(res, y)
    inv = res.investment
    inv_im = inv[(inv.process == "magnet_sintering") & (inv.region == "inner_mongolia")].overnight.sum()
    total = inv.overnight.sum()
    return [
        "#### The Inner Mongolia target", "",
        f"Inner Mongolia sintered-magnet capacity, {y}: **{cap:,.0f} t/y** with the plan target, "
        f"**{im_capacity(nt, y):,.0f} t/y** without it (`no_plan_target`). With the target the plants run "
        f"**{out:,.0f} t** in {y} ({100 * out / cap:.0f} % of capacity): China's existing plants elsewhere have room, so "
        "least cost builds what the target asks and runs it only as far as Baotou's cheaper power pays. "
        f"The target commits {inv_im:,.0f} CNY million of capital in Inner Mongolia (overnight, of {total:,.0f} committed "
        f"in all) and costs {res.objective - nt.objective:,.0f} CNY million (discounted) over the horizon; national "
        "output does not change, only where magnets are made.", ""]


def against_market(res, actual, happened) -> list[str]:
    years = [y for y in (2021, 2022, 2023, 2024) if y in set(res.prices.year)]
    rows = []
    for c in ("prnd_oxide", "dy_oxide", "tb_oxide"):
        for label, r in (("base", res), ("actual demand", actual), ("actual demand and Myanmar's feed of 2021-22", happened)):
            rows.append({"commodity": c, "": label, **{y: oxide_price(r, c, y) for y in years}})
        rows.append({"commodity": c, "": "market", **{y: MARKET[c][y] for y in years}})
    first = {row["commodity"]: row[2021] / MARKET[row["commodity"]][2020] - 1 for row in rows if row[""] == "base"}
    pct = lambda c: f"{100 * first[c]:+.1f} %"
    gap = lambda r, c, y: f"{100 * (oxide_price(r, c, y) / MARKET[c][y] - 1):+.0f} %"
    gaps = lambda r, c: ", ".join(gap(r, c, y) for y in years)
    return ["#### Against what happened", "",
            "Implied prices beside the annual market averages (CNY million per t; `usgs_mcs_2025` at `fx_cny_usd`): "
            "the base (demand as seen from 2020, quotas as allocated), `actual_demand_2021_2024` (NEV, wind and "
            "e-bike demand as it turned out) and, on top of it, `myanmar_closures_2021_2022` (Myanmar's feed as it "
            "came: the border closed from mid-July 2021 and reopened only from May 2022, China's ion-adsorption "
            "mining suspended from February 2021; `rechain solve -s actual_demand_2021_2024 -s "
            "myanmar_closures_2021_2022`). Seen from 2020, the base's 2021 prices against 2020's averages: PrNd "
            f"{pct('prnd_oxide')}, Dy {pct('dy_oxide')}, Tb {pct('tb_oxide')}. Demand as it turned out alone makes "
            f"every magnet oxide dearer than the base, but PrNd stays {gaps(actual, 'prnd_oxide')} against the "
            "market in 2021-24: the Myanmar feed, bought further up its curve for its Dy and Tb, brings PrNd with "
            "it. With the feed as it came in 2021-22 as well, PrNd is "
            f"{gaps(happened, 'prnd_oxide')} against the market, Dy {gaps(happened, 'dy_oxide')} and Tb "
            f"{gaps(happened, 'tb_oxide')}. The model foresees every year, so its stocks carry the scarcity of "
            "2021-22 into the later years at the discount rate, where the market's prices fell back; Tb stays "
            "tied to Dy by the diffusion sources (SOURCES.md).", "",
            md_table(pd.DataFrame(rows), "{:.3g}"), "",
            "One degeneracy is left: which of Jiangxi, the rest of China and the rest of the world runs a few tens of "
            "t of existing Dy, Tb and PrNd electrolysis (the same costs, oxide and metal shipped at the same rate). "
            "Dual simplex, primal simplex and interior point move at most 2 % of a metal's total between them "
            "(`tests/test_calibration.py`); every other plant's total by region is the same to within 1 t.", ""]


# the bulk-alloyed grade's heavy RE as first estimated (est_grades: 3.3 % Dy, 0.2 % Tb), against the base's
# split as in China's magnet scrap (argus_heavy_share): a variant of the builder, so its swarf's oxides and
# the work a t of it does follow the split
FIRST_SPLIT = {"hc_split": {"dy_metal": 0.033, "tb_metal": 0.002}}

# a Dy source's reach in steps, a variant of the builder: a quarter of the parts diffused each at 1, 1.5
# and 2 times the base's Dy per t (herbst_1991), the last quarter Tb only; the base has one step, half
# of the parts at 1 time (est_dy_diffusion)
DY_STEPS = {"dy_reach": ((1.0, 0.25), (1.5, 0.25), (2.0, 0.25))}  # a variant of the builder: its keywords
# diffused magnets using less or more heavy RE, variants of the builder: a Tb-diffused magnet's heavy RE per t
# finished (its base alloy's Dy, lost to swarf with the alloy, and the Tb diffused in) at a third and a half of
# the bulk-alloyed grade's, against the base's 40 % (ieee_gbd_2017: a half to a third; mainrich_gbd: diffusion
# uses 30-60 % less, 40-70 %)
GBD_MORE = {share: {"gbd_scale": share / GBD_SHARE} for share in (1 / 3, 0.5)}
# the Myanmar feed held at 2020's volume, as first estimated (no steps beyond it)
NO_CURVE = myanmar_curve_closed()
FEED_PRICE = {m: [{"table": "supply", "where": {"commodity": "myanmar_concentrate"}, "column": "price", "scale": m}]
              + [{"table": "processes", "where": {"process": myanmar_step(k)}, "column": "variable_cost", "scale": m}
                 for k in range(1, MYANMAR_STEPS + 1)] for m in (0.7, 1.5)}
DY_QUARTER = [{"table": "policies", "where": {"policy": "dy_diffusion_depth"}, "column": "value", "set": 0.25}]
NO_HEAVY_STOCK = [{"table": "storage", "where": {"commodity": c}, "column": "initial", "set": 0} for c in ("dy_oxide", "tb_oxide")]
# new diffusion lines a year in China, shared out as the lines of 2020 (the base has no limit)
LINES = {n: [{"table": "build_limits", "where": {"process": "gbd_diffusion", "region": r}, "column": "max_new", "set": round(n * s)}
             for r, s in (("inner_mongolia", 1 / 6), ("jiangxi", 1 / 6), ("other_china", 2 / 3))] for n in (25_000, 10_000)}
# China's own ion-adsorption output: the base mines the whole quota every year, the one sourced figure; what
# was mined is not published. Two lower figures: the most that leaves Myanmar's 2020 imports more than 60 % of
# China's ion-adsorption feed (argus_myanmar_2020, read as shares of REO), and est_ionic_2021's middle for 2021
# (about 12,000 t, range 8,000-16,000, after the suspension of February 2021)
IONIC_QUOTA = DEFAULT_QUOTAS["ionic_mining_quota"][2021][0]
IONIC_ARGUS = round(MYANMAR_REO * (1 / 0.6 - 1))
IONIC_WHY = {IONIC_ARGUS: "the most that leaves Myanmar's 2020 imports more than 60 % of China's ion-adsorption feed, "
                          "argus_myanmar_2020, read as shares of REO",
             12_000: "est_ionic_2021's middle for 2021"}
IONIC_MINED = {t: [{"table": "policies", "where": {"policy": "ionic_mining_quota"}, "column": "value", "set": t}] for t in IONIC_WHY}

# what-ifs that show what the heavy-RE prices rest on: (label, changes)
HEAVY_RE_WHATIFS = [
    ("Myanmar feed's import prices x 0.7 (2020's and every step's)", FEED_PRICE[0.7]),
    ("Myanmar feed's import prices x 1.5 (2020's and every step's)", FEED_PRICE[1.5]),
    (f"Myanmar feed held at 2020's volume, {MYANMAR_REO:,.0f} t REO a year (the first estimate; base: steps up to 2023's "
     f"{MYANMAR_REO_2023:,.0f} t, est_myanmar_curve)", NO_CURVE),
    ("discount rate 8 %, China's recommended social rate (base: 6 %, est_discount)",
     [{"table": "instance", "column": "discount_rate", "set": 0.08}]),
    ("diffusion's running cost x 4", [{"table": "processes", "where": {"process": "gbd_diffusion"}, "column": "variable_cost", "scale": 4}]),
    ("Dy diffusion reaches a quarter of the parts diffused (base: half, est_dy_diffusion)", DY_QUARTER),
    *((f"new diffusion lines at most {n:,} t/y in China (base: no limit)", LINES[n]) for n in LINES),
    ("bulk-alloyed grades' Dy and Tb as first estimated: 3.3 % Dy, 0.2 % Tb (est_grades; base: 3.04 % and 0.46 %, split as in China's magnet scrap, argus_heavy_share)",
     FIRST_SPLIT),
    ("Dy diffusion's reach in steps: a quarter of the parts diffused each at 1, 1.5 and 2 times the base's Dy per t, "
     "the last quarter Tb only (base: half at 1 time)", DY_STEPS),
    *((f"a Tb-diffused magnet uses {share:.0%} of the bulk-alloyed grade's heavy RE (base: {GBD_SHARE:.0%}, est_grades; "
       "ieee_gbd_2017: a half to a third; mainrich_gbd: diffusion uses 30-60 % less)", GBD_MORE[share]) for share in GBD_MORE),
    *((f"China's ion-adsorption mines give {t:,} t REO a year ({IONIC_WHY[t]}; base: the whole quota, {IONIC_QUOTA:,.0f} t)",
       IONIC_MINED[t]) for t in IONIC_MINED),
    (f"no Dy or Tb stock at the start (base: {STOCKS[('dy_oxide', 'jiangxi')][0]:,} t and "
     f"{STOCKS[('tb_oxide', 'jiangxi')][0]:,} t, est_stocks)", NO_HEAVY_STOCK),
    ("no Myanmar feed (heavy_re_shock)", "heavy_re_shock"),  # a scenario: solved once, in solve_all
]


def market_pair(commodity: str, years=(2021, 2022)) -> str:
    return ", ".join(f"{MARKET[commodity][y]:.2f}" for y in years)


def heavy_per_prnd(res, year: int) -> float:
    """t of Dy and Tb oxide made into metal per t of PrNd oxide made into metal in a year."""
    f = res.flows
    used = f[(f.direction == "in") & (f.year == year)].groupby("commodity").quantity.sum()
    return float((used.get("dy_oxide", 0.0) + used.get("tb_oxide", 0.0)) / used["prnd_oxide"])


def feed_bought(res) -> pd.Series:
    """t REO of Myanmar feed bought each year of a solved default (all regions): 2020's volume and the
    steps beyond it."""
    s = res.supply
    block = s[s.commodity == "myanmar_concentrate"].groupby("year").quantity.sum()
    a = res.activity
    steps = a[a.process.str.startswith("myanmar_feed_")].groupby("year").activity.sum()
    return block.add(steps, fill_value=0.0)


VOLUME_2020 = "below 2020's volume"


def sichuan_marginal(res, year: int) -> bool:
    """Whether Sichuan's ore runs below its quota in a year of a solved default (the marginal mine)."""
    p = res.policies
    return bool(p[(p.policy == "other_rock_quota") & (p.year == year)].slack.iloc[0] > 1.0)


def feed_margin(inst, res) -> dict:
    """Where each year's purchase of the Myanmar feed ends in a solved default: {year: (step, price)}, step
    0 for below 2020's volume, k for part-way up the k-th step of the curve beyond it; a year whose purchase
    ends where a step does is left out (its price lies between two steps')."""
    steps = {myanmar_step(k): step for k, step in enumerate(myanmar_steps(), 1)}  # process: (width, price)
    a = res.activity[res.activity.process.isin(list(steps))].groupby(["process", "year"]).activity.sum()
    s = inst.supply[inst.supply.commodity == "myanmar_concentrate"].set_index("year")
    got = res.supply[res.supply.commodity == "myanmar_concentrate"].groupby("year").quantity.sum()
    out = {}
    for y in inst.years:
        if 1e-6 < got.get(y, 0.0) < s.max_quantity[y] - 1e-6:
            out[y] = (0, float(s.price[y]))
        for k, (step, (width, price)) in enumerate(steps.items(), 1):
            if 1e-6 < a.get((step, y), 0.0) < width - 1e-6:
                out[y] = (k, price)
    return out


def closure_dy(res, closure) -> float:
    """How much the closure in Myanmar of 2021 (``closure``, solved) moves 2021's Dy price against ``res``."""
    return oxide_price(closure, "dy_oxide") / oxide_price(res, "dy_oxide") - 1


def heavy_re_drivers(inst, res, solved) -> list[str]:
    """The heavy-RE prices of 2021 and the Myanmar feed bought, in the base and in what-ifs that
    move one number each: what the prices rest on."""
    actual = inst.with_scenario("actual_demand_2021_2024")
    as_it_turned_out = f"Dy 2021, 2022 with demand as it turned out (market {market_pair('dy_oxide')})"

    def row(label, r, r_actual=None):
        bought = feed_bought(r)
        return {"what-if": label, **{f"{name} 2021": oxide_price(r, c) for name, c in
                                     (("PrNd", "prnd_oxide"), ("Dy", "dy_oxide"), ("Tb", "tb_oxide"))},
                "Tb / Dy 2021": tb_per_dy(r),
                "Myanmar feed bought 2021-25 (kt REO)": ", ".join(f"{bought.get(y, 0.0) / 1000:.1f}" for y in inst.years),
                "Dy + Tb per PrNd, 2023 (%)": f"{100 * heavy_per_prnd(r, 2023):.2f}",
                as_it_turned_out: "" if r_actual is None else
                ", ".join(f"{oxide_price(r_actual, 'dy_oxide', y):.2f}" for y in (2021, 2022))}
    rows, whatif, whatif_actual = [row("base", res, solved["actual_demand_2021_2024"][1])], {}, {}
    first_closure = None  # the first estimate's split under the closure in Myanmar of 2021
    for label, change in HEAVY_RE_WHATIFS:
        if isinstance(change, str):  # a scenario of its own
            rows.append(row(label, solved[change][1]))
        elif isinstance(change, dict):  # a variant of the builder
            with tempfile.TemporaryDirectory() as tmp:
                folder = write(CALIBRATED[0], Path(tmp) / CALIBRATED[0], **change)
                variant, variant_actual = (load_instance(folder, scenario=s) for s in (None, "actual_demand_2021_2024"))
                if change is FIRST_SPLIT:
                    first_closure = solve(load_instance(folder, scenario="myanmar_closure_2021"))
            whatif[label], whatif_actual[label] = solve(variant), solve(variant_actual)
            rows.append(row(label, whatif[label], whatif_actual[label]))
        else:
            whatif[label], whatif_actual[label] = solve(inst.with_changes(change)), solve(actual.with_changes(change))
            rows.append(row(label, whatif[label], whatif_actual[label]))
    label_of = {id(change): label for label, change in HEAVY_RE_WHATIFS}
    first, quarter, steps = (whatif[label_of[id(which)]] for which in (FIRST_SPLIT, DY_QUARTER, DY_STEPS))
    first_actual = whatif_actual[label_of[id(FIRST_SPLIT)]]
    slow, slow_actual = whatif[label_of[id(LINES[10_000])]], whatif_actual[label_of[id(LINES[10_000])]]
    flat, flat_actual = whatif[label_of[id(NO_CURVE)]], whatif_actual[label_of[id(NO_CURVE)]]
    gaps = lambda r: ", ".join(f"{oxide_price(r, c) / MARKET[c][2020] - 1:+.0%}" for c in ("prnd_oxide", "dy_oxide", "tb_oxide"))
    dearer = lambda a, b: "dearer" if oxide_price(a, "dy_oxide") > oxide_price(b, "dy_oxide") else "cheaper"
    ionic = {t: (whatif[label_of[id(IONIC_MINED[t])]], whatif_actual[label_of[id(IONIC_MINED[t])]]) for t in IONIC_MINED}
    more = {share: (whatif[label_of[id(GBD_MORE[share])]], whatif_actual[label_of[id(GBD_MORE[share])]]) for share in GBD_MORE}
    pinned = heavy_levels(inst, res)
    margin = feed_margin(inst, res)
    part_way = [y for y, (k, _) in margin.items() if k > 0]
    bought = feed_bought(res)
    feed = price_drivers(inst, "myanmar_concentrate", "jiangxi", 2021)
    sep = feed.terms[feed.terms.driver.str.startswith("act[separation_imported_ionic")]
    split = pd.DataFrame({"term": sep.term.str.replace(r" \(.*\)$", "", regex=True).replace(
                              "its own cost", "the separation's running cost"),
                          "CNY million per t REO": sep.contribution.round(4)})
    split = split[split["CNY million per t REO"].abs() >= 1e-4]
    scrap = 3.2
    return ["#### What the heavy-RE prices rest on", "",
            f"What the Myanmar feed's {feed.price:.4f} CNY million per t REO of 2021 is made of, as "
            "`rechain price -c myanmar_concentrate -r jiangxi -y 2021` gives it: its separation's terms, "
            "which add up to the feed's price.", "",
            md_table(split, "{:.4f}"), "",
            "The Myanmar feed is the marginal source of Dy and Tb. Up to 2020's volume "
            f"({MYANMAR_REO:,.0f} t REO) it comes at 2020's import price (`argus_myanmar_2020`); beyond it, in "
            f"{MYANMAR_STEPS} steps up to 2023's volume ({MYANMAR_REO_2023:,.0f} t REO) at "
            + ", ".join(f"{p:.3f}" for _, p in myanmar_steps())
            + " CNY million per t REO (`est_myanmar_curve`): China's customs put the imports from Myanmar of 2023 at "
            "about twice 2020's quantity for twice 2020's price a t (`giti_imports_2023`), read as two points of one "
            "supply curve. The base buys "
            + ", ".join(f"{bought.get(y, 0.0) / 1000:.1f}" for y in inst.years)
            + f" kt REO in {inst.years[0]}-{inst.years[-1]}. "
            + (f"The feed is bought part-way up a step of its curve in {', '.join(map(str, part_way))}, where the "
               "step's price is what a t REO of it gives in oxides less separation; "
               if part_way else "The feed is bought part-way up no step of its curve; ")
            + "stocks carry Dy and Tb between years at the discount rate, so that price sets the level of Dy and Tb "
            "in every year. "
            + (f"Seen from 2020, PrNd is at the cost of the marginal mine in 2021 ({oxide_price(res, 'prnd_oxide'):.3f}: "
               "Sichuan's ore, below its quota), so what the feed's oxides are worth falls on Dy and Tb. "
               if sichuan_marginal(res, 2021) else "")
            + "Held at 2020's volume, as first "
            f"estimated, the feed prices 2021's PrNd, Dy and Tb at {gaps(flat)} of 2020's averages (base: {gaps(res)}) "
            f"and 2021's Dy with demand as it turned out at {oxide_price(flat_actual, 'dy_oxide'):.2f} (base: "
            f"{oxide_price(solved['actual_demand_2021_2024'][1], 'dy_oxide'):.2f}; the market's "
            f"{MARKET['dy_oxide'][2021]:.2f}).", "",
            "Two numbers no source gives move the heavy-RE prices most: how many of the parts diffused a Dy "
            "source can reach (`est_dy_diffusion`), and how fast diffusion lines can be added (no limit in the "
            "base). Both set how much Dy and Tb a t of high-coercivity magnet needs. The column 'Dy + Tb per PrNd' "
            "is the quantity to check them against: Dy and Tb oxide made into metal per t of PrNd oxide, against 2.8 % "
            f"Dy2O3 and 0.43 % Tb4O7 ({scrap} % together) in China's magnet scrap of 2023 "
            "(`heavy_RE_share_of_PrNd_in_magnets`, Argus). Machining scrap holds the alloy's heavy RE but not what "
            "is diffused into the finished part afterwards, so the scrap's share is a floor for the column: the "
            + ("base uses less heavy RE than the chain's magnets hold" if 100 * heavy_per_prnd(res, 2023) < scrap
               else "base uses at least as much heavy RE as the chain's magnets hold")
            + f" ({100 * heavy_per_prnd(res, 2023):.2f} % in 2023). With demand as it turned out, Dy comes out "
            f"{dearer(solved['actual_demand_2021_2024'][1], res)} "
            "than in the base, as the market's rose (Dy by 47 % in 2021); with the first estimate's split "
            f"of the bulk-alloyed grades (the table below) it comes out {dearer(first_actual, first)}. "
            "Fewer Dy-diffused parts price 2021's Tb "
            f"at {oxide_price(quarter, 'tb_oxide'):.3g} and Dy at {oxide_price(quarter, 'dy_oxide'):.3g}"
            f"{' (below zero: Dy in surplus, its price what disposing of it costs)' if oxide_price(quarter, 'dy_oxide') < 0 else ''}"
            f"; new diffusion lines at most {10_000:,} t/y put 2021's PrNd, Dy and Tb at "
            f"{gaps(slow)} of 2020's averages (base: {gaps(res)}) and the heavy share at "
            f"{100 * heavy_per_prnd(slow, 2023):.2f} %, and 2021's Dy with demand as it turned out at "
            f"{oxide_price(slow_actual, 'dy_oxide'):.2f} against the market's {MARKET['dy_oxide'][2021]:.2f}. "
            "China's own ion-adsorption output is a third such number: the base mines the whole quota "
            f"({IONIC_QUOTA:,.0f} t REO a year), the one sourced figure, while most of these mines stood idle in "
            "2020 and all were asked to stop in February 2021 (`minmet_ionic_2021`); what they gave is not published. "
            + "; ".join(f"{'At' if i == 0 else 'at'} {t:,} t a year ({IONIC_WHY[t].replace(', ', ': ', 1)}) 2021's PrNd, Dy "
                        f"and Tb are {gaps(r)} of 2020's averages, and with demand as it turned out 2021's PrNd "
                        f"{oxide_price(ra, 'prnd_oxide'):.3f} and Dy {oxide_price(ra, 'dy_oxide'):.2f} (the market's "
                        f"{MARKET['prnd_oxide'][2021]:.3f} and {MARKET['dy_oxide'][2021]:.2f})"
                        for i, (t, (r, ra)) in enumerate(ionic.items()))
            + ". A number with sources moves them too: per t of finished magnet, a Tb-diffused magnet uses "
            f"{GBD_SHARE:.0%} of the heavy RE a bulk-alloyed one uses in the base (`est_grades`), the nearest to the "
            "first estimate's third that both `ieee_gbd_2017` (a half to a third) and `mainrich_gbd` (diffusion uses "
            "30-60 % less, so 40-70 %) allow. "
            + "; ".join(f"{'At' if i == 0 else 'at'} {share:.0%} 2021's PrNd, Dy and Tb are {gaps(r)} of 2020's averages "
                        f"and, with demand as it turned out, Dy {oxide_price(ra, 'dy_oxide'):.2f} against the market's "
                        f"{MARKET['dy_oxide'][2021]:.2f}; Dy + Tb per PrNd is then {100 * heavy_per_prnd(r, 2023):.2f} %"
                        for i, (share, (r, ra)) in enumerate(more.items()))
            + ". None of these is set from the market prices they would be checked against. The bulk-alloyed grades "
            "split their heavy RE between Dy and Tb as China's magnet scrap does, the one sourced split; the first "
            f"estimate (3.3 % Dy, 0.2 % Tb) put 2021's Tb at {oxide_price(first, 'tb_oxide'):.2f} against the base's "
            f"{oxide_price(res, 'tb_oxide'):.2f} (the table below). The closure in Myanmar of 2021 moves 2021's "
            f"Dy by {closure_dy(res, solved['myanmar_closure_2021'][1]):+.0%} in the base (the first estimate's split: "
            f"{closure_dy(first, first_closure):+.0%}; the market's rose 47 %). A sourced pace of diffusion lines and "
            "an assay of the Myanmar feed are what the model still needs to price Dy and Tb from structure alone.", "",
            md_table(pd.DataFrame(rows), "{:.3g}"), "",
            "**What fixes the levels of Dy and Tb, and the ratio between them.** Both are held in stock in every "
            "year of the base, so each price rises from one year to the next by the discount rate and its holding "
            f"cost (Dy {pinned['growth']['dy_oxide']}; Tb {pinned['growth']['tb_oxide']}). In {pinned['both']} parts "
            "take both diffusion sources while Dy's reach still has room, so there a t of Tb is worth the "
            f"{GBD_DY / GBD_TB:.2f} t of Dy it saves and the {100 * (1 / hc_work()['diffuse_dy'] - 1):.1f} % more "
            "diffused magnet a Dy-diffused part needs for the same work (`herbst_1991`, `skomski_2016`; Tb:Dy "
            f"{pinned['ratio']} in oxide prices), and the stocks carry that ratio to the other years "
            f"({tb_per_dy(res):.2f} in 2021; the market's "
            f"{MARKET['tb_oxide'][2020] / MARKET['dy_oxide'][2020]:.2f} in 2020 and "
            f"{MARKET['tb_oxide'][2021] / MARKET['dy_oxide'][2021]:.2f} in 2021). Their common level is fixed where the "
            "feed's price is that of a step it ends on: "
            + "; ".join(f"in {y} {VOLUME_2020 if k == 0 else 'step ' + str(k)} at {p:.4f} CNY million per t REO"
                        for y, (k, p) in margin.items())
            + ". "
            + (f"In {', '.join(map(str, pinned['none_years']))} none is bought: a t REO of it gives oxides worth less, "
               f"after separation, than its import price (CNY million per t REO, {pinned['none']})"
               + (", so Dy and Tb come from stock, built up again in the years after" if pinned["from_stock"] else "")
               + ". " if pinned["none_years"] else "")
            + "The ratio rests on the one margin where a part could take either "
            "source, which is why the rows above that move Dy's reach or the diffusion lines move Tb so far. With "
            "Dy's reach in steps, parts that need somewhat more Dy than the base's can still take it, at a cost, "
            "and the step at the margin sets the ratio: "
            f"{tb_per_dy(steps):.2f} in 2021, where the step at the margin takes 1.5 times the base's Dy per t. The steps are an estimate no source gives, so the base keeps the single step "
            "of `est_dy_diffusion`.", ""]


def heavy_levels(inst, res) -> dict:
    """What fixes the levels of Dy and Tb in a solved default: the growth of each price a year
    (held in stock every year), the years parts take both diffusion sources with room left in Dy's
    reach (the Tb:Dy ratio there), and the years no Myanmar feed is bought."""
    p = res.prices[res.prices.region == "jiangxi"].set_index(["commodity", "year"]).price
    years = inst.years
    growth = {c: ", ".join(f"{100 * (p[(c, y + 1)] / p[(c, y)] - 1):+.1f} %" for y in years[:-1]) for c in ("dy_oxide", "tb_oxide")}
    used = res.activity[res.activity.activity > 1e-6].groupby(["process", "year"]).activity.sum()
    pol = res.policies[res.policies.policy == "dy_diffusion_depth"].set_index("year").slack
    both = [y for y in years if ("diffuse_dy", y) in used and ("diffuse_tb", y) in used and pol[y] > 1e-6]
    s = inst.supply
    bought = feed_bought(res)
    none = [y for y in years if bought.get(y, 0.0) <= 1e-6]
    # what a t REO of the feed gives in oxides at the year's prices, less its separation's running cost
    io = inst.tables["process_io"]
    out = io[(io.process == "separation_imported_ionic") & (io.direction == "out")]
    costs = inst.tables["process_costs"]
    local = costs[(costs.process == "separation_imported_ionic") & costs.variable_cost.notna()]
    assert local.empty, "the Myanmar feed's separation has a cost by region: read it here"
    run = float(inst.tables["processes"].set_index("process").variable_cost["separation_imported_ionic"])
    worth = {y: sum(r.coefficient * p[(r.commodity, y)] for r in out.itertuples()) - run for y in none}
    price = s[s.commodity == "myanmar_concentrate"].set_index("year").price
    # in those years Dy and Tb stocks fall, and they are higher again at the end
    held = res.stock.groupby(["commodity", "year"])["level"].sum()
    from_stock = all(held[(c, y)] < held.get((c, y - 1), inst.storage[inst.storage.commodity == c].initial.sum()) - 1e-6
                     and held[(c, years[-1])] > held[(c, y)] + 1e-6 for c in ("dy_oxide", "tb_oxide") for y in none)
    return {"growth": growth, "both": ", ".join(map(str, both)) or "no year",
            "ratio": ", ".join(f"{p[('tb_oxide', y)] / p[('dy_oxide', y)]:.2f}" for y in both),
            "none": "; ".join(f"{y}: {worth[y]:.4f} against {price[y]:.4f}" for y in none), "none_years": none,
            "from_stock": from_stock}


EXCHANGE = [
    "#### The Baotou Rare Earth Products Exchange", "",
    "The exchange is not represented. In a least-cost plan, trade between regions already clears at the "
    "commodity prices; an exchange changes an answer only through a fee or a throughput obligation, and no "
    "public figure for either was found (its turnover is reported in CNY, not by product and lane). A "
    "`min_trade` policy on the lanes out of Inner Mongolia, or a per-tonne cost on them, is how an analyst "
    "would add it; on these instances either would only raise the cost of moving oxide and metal out of "
    "Inner Mongolia, which already converts most of its PrNd locally.", ""]


# How far China's rock ore runs past its published quotas (est_over_quota): the base's 1.28 (mined) and
# 1.33 (separated) against the range the sources allow, and SMM's accounts of 2021 taken together
SEP_PER_MINED = SEPARATION_KEPT / MINING_KEPT  # the base derives both from one oxide figure


def over_quota(mined: float) -> list[dict]:
    """Changes that let rock ore be mined at ``mined`` times the published quota, and separated at the same
    oxide figure against the separation quota."""
    return ([{"table": "policies", "where": {"policy": p}, "column": "value", "scale": round(mined / MINING_KEPT, 6)}
             for p in ("northern_rock_quota", "other_rock_quota")]
            + [{"table": "policies", "where": {"policy": "separation_quota"}, "column": "value",
                "scale": round(mined * SEP_PER_MINED / SEPARATION_KEPT, 6)}])


# smm_prnd_supply_2021: 49 % of China's > 300,000 t of oxides from domestic ore and 5 % from other ores in 2021
SMM_MINED = round(0.54 * 300_000 / 0.93 / 168_000, 4)
# smm_recycling_2021: 23,000 t of PrNd oxide recycled in 2021, 30 % of the PrNd oxide made; 8,000 t of it from
# dismantled waste motors, here as Dy-free magnets collected (base: 3,000 t of magnets a year, est_eol)
SMM_RECYCLED, SMM_MOTORS = 23_000, 8_000
SMM_PRND = {"China's ore": 0.45 * SMM_RECYCLED / 0.30, "imported ore": 0.19 * SMM_RECYCLED / 0.30, "recycling": SMM_RECYCLED}
EOL_MOTOR_MAGNETS = round(SMM_MOTORS / scrap_oxides(ALLOYS["alloy_std"][0])["prnd_oxide"], -2)
# argus_recycling_capacity: China's recyclers can take 80,000 t of magnet scrap a year, 64 % of it in Jiangxi
# (base: 65,000 t in 2020, est_capacity and argus_recycling_capacity); Inner Mongolia's as in the base
RECYCLING_80 = {"jiangxi": 0.64 * 80_000, "other_china": 80_000 * 0.36 - EXISTING["recycling_swarf"]["inner_mongolia"][2020]}
SMM_2021 = (over_quota(SMM_MINED)
            + [{"table": "supply", "where": {"commodity": "eol_scrap"}, "column": "max_quantity", "set": EOL_MOTOR_MAGNETS}]
            + [{"table": "capacity", "where": {"process": "recycling_swarf", "region": r}, "column": "capacity", "set": q}
               for r, q in RECYCLING_80.items()])
OVER_QUOTA_WHATIFS = [
    (f"base: rock ore mined at {MINING_KEPT:.2f} and separated at {SEPARATION_KEPT:.2f} times the quotas (est_over_quota)", []),
    *((f"mined at {k:.2f} times the quota" + (" (SMM's 2021 shares of the oxides: domestic and other ores)" if k == SMM_MINED else ""),
       over_quota(k)) for k in (SMM_MINED, 1.20, 1.25, 1.30)),
    (f"SMM's accounts of 2021: mined at {SMM_MINED:.2f} times the quota, {SMM_MOTORS:,} t of PrNd oxide a year from waste "
     f"motors ({EOL_MOTOR_MAGNETS:,.0f} t of magnets, smm_recycling_2021), recycling plant for 80,000 t of scrap "
     "(argus_recycling_capacity)", SMM_2021),
]


def prnd_sources(res, year: int = 2021) -> dict:
    """PrNd oxide made in China in a year, t: from China's own ore, imported ore and recycling."""
    f = res.flows
    out = f[(f.commodity == "prnd_oxide") & (f.direction == "out") & (f.year == year) & f.region.isin(CHINA)]
    return {"China's ore": out[out.process.isin(["separation_bayan_obo", "separation_sichuan", "separation_ionic"])].quantity.sum(),
            "imported ore": out[out.process.str.startswith("separation_imported")].quantity.sum(),
            "recycling": out[out.process.str.startswith("recycle")].quantity.sum()}


def over_quota_section(inst) -> list[str]:
    """The base's answers across the range of rock output past the quotas the sources allow."""
    actual, closure = (inst.with_scenario(s) for s in ("actual_demand_2021_2024", "myanmar_closure_2021"))
    happened = inst.with_scenario(*AS_IT_HAPPENED)
    rows, kept = [], {}
    for label, changes in OVER_QUOTA_WHATIFS:
        r, ra, rc, rh = (solve(x.with_changes(changes)) for x in (inst, actual, closure, happened))
        kept[label] = (r, ra, rc, rh)
        src = prnd_sources(r)
        rows.append({
            "what-if": label,
            "PrNd, Dy, Tb 2021 against 2020's averages": ", ".join(
                f"{oxide_price(r, c) / MARKET[c][2020] - 1:+.0%}" for c in ("prnd_oxide", "dy_oxide", "tb_oxide")),
            "2021 PrNd oxide from China's ore, imported ore, recycling (kt; SMM " + ", ".join(
                f"{v / 1000:.1f}" for v in SMM_PRND.values()) + ")": ", ".join(f"{v / 1000:.1f}" for v in src.values()),
            "Myanmar feed bought 2021 (kt REO)": f"{feed_bought(r).get(2021, 0.0) / 1000:.1f}",
            "PrNd 2021-24 with demand as it turned out (market " + ", ".join(
                f"{MARKET['prnd_oxide'][y]:.2f}" for y in range(2021, 2025)) + ")": ", ".join(
                f"{oxide_price(ra, 'prnd_oxide', y):.2f}" for y in range(2021, 2025)),
            f"Dy 2021 with demand as it turned out (market {MARKET['dy_oxide'][2021]:.2f})": f"{oxide_price(ra, 'dy_oxide'):.2f}",
            "Myanmar's closure moves 2021's PrNd, Dy": f"{oxide_price(rc, 'prnd_oxide') / oxide_price(r, 'prnd_oxide') - 1:+.0%}, "
                                                       f"{closure_dy(r, rc):+.0%}",
            "2021 as it happened against 2021's market: PrNd, Dy, Tb": ", ".join(
                f"{oxide_price(rh, c) / MARKET[c][2021] - 1:+.0%}" for c in ("prnd_oxide", "dy_oxide", "tb_oxide")),
        })
    base, smm = kept[OVER_QUOTA_WHATIFS[0][0]], kept[OVER_QUOTA_WHATIFS[-1][0]]
    low = kept[OVER_QUOTA_WHATIFS[1][0]]  # the least rock ore: SMM's recorded output alone
    inside = lambda r: all(abs(oxide_price(r, c) / MARKET[c][2020] - 1) <= 0.35 for c in ("prnd_oxide", "dy_oxide", "tb_oxide"))
    # the regimes the paragraph names, read from the solves
    short = (oxide_price(low[0], "prnd_oxide") > 1.5 * oxide_price(base[0], "prnd_oxide")
             and oxide_price(low[0], "dy_oxide") < 0.5 * oxide_price(base[0], "dy_oxide"))
    smm_actual = [oxide_price(smm[1], "prnd_oxide", y) for y in range(2021, 2025)]
    gap = lambda r: sum(abs(v - SMM_PRND[k]) for k, v in prnd_sources(r).items())  # t, against SMM's 2021 sources
    floor = min(oxide_price(base[0], "prnd_oxide", y) for y in inst.years)
    dy_spread = [oxide_price(ra, "dy_oxide") for _, ra, _, _ in kept.values()]
    return ["#### How far China's rock ore runs past its quotas", "",
            f"The base mines rock ore at {MINING_KEPT:.2f} times the published quota and separates it at "
            f"{SEPARATION_KEPT:.2f} times (`est_over_quota`): 200,000 t of oxides a year from China's own ore against "
            "2021's quotas. SMM gives the 200,000 t right after 2022's first batch of quotas (100,800 t), as a year of "
            "mining at that batch's rate, not as 2021's output (`smm_prnd_supply_2021`). SMM's own shares of 2021's "
            "oxides (49 % domestic ore and 5 % other ores, of more than 300,000 t) give at least "
            f"{SMM_MINED:.2f} and {SMM_MINED * SEP_PER_MINED:.2f} times for the output they record; estimates of "
            "China's unrecorded output run from below a fifth of the total after 2014 (Adamas) to above half after "
            "2017 (Kingsnorth, `mineco_illegal_2019`). So the factor is an estimate, and the base's answers rest on "
            "it: the table below solves the base, demand as it turned out, Myanmar's closure of 2021 and 2021 as it "
            "happened (demand as it turned out and Myanmar's feed of 2021-22) across that range (CNY million per t, rest of China).", "",
            md_table(pd.DataFrame(rows)), "",
            "Across this range 2021's Dy with demand as it turned "
            f"out runs from {min(dy_spread):.2f} to {max(dy_spread):.2f} CNY million per t. "
            + ("With the least rock ore PrNd is short, the Myanmar feed is bought for its PrNd and its Dy and Tb go "
               "cheap; with more, PrNd falls to the cost of the marginal mine in the years it is not short "
               f"({floor:.3f} in the base). " if short else "")
            + "SMM's accounts of 2021 taken together (recorded ore "
            "output, the PrNd oxide recycled from waste motors and the recyclers' capacity) "
            + (f"match SMM's sources of 2021's PrNd oxide more closely than the base does ({gap(smm[0]) / 1000:.1f} kt off in all, "
               f"the base {gap(base[0]) / 1000:.1f} kt)" if gap(smm[0]) < gap(base[0]) else
               f"match SMM's sources of 2021's PrNd oxide no better than the base ({gap(smm[0]) / 1000:.1f} kt off in all, "
               f"the base {gap(base[0]) / 1000:.1f} kt)")
            + " and put 2021's prices seen from 2020 "
            + ("within 35 % of 2020's averages" if inside(smm[0]) else "outside 35 % of 2020's averages")
            + f" ({', '.join(f'{oxide_price(smm[0], c) / MARKET[c][2020] - 1:+.0%}' for c in ('prnd_oxide', 'dy_oxide', 'tb_oxide'))}; "
            f"base: {', '.join(f'{oxide_price(base[0], c) / MARKET[c][2020] - 1:+.0%}' for c in ('prnd_oxide', 'dy_oxide', 'tb_oxide'))}), "
            f"buy {feed_bought(smm[0]).get(2021, 0.0) / 1000:.1f} kt REO of Myanmar feed in 2021 (China imported "
            "14.1 kt REO, 20,100 t gross, with the border closed from July: `smm_prnd_supply_2021`), Myanmar's closure of 2021 moves 2021's Dy by "
            f"{closure_dy(smm[0], smm[2]):+.0%} (the market's rose 47 %), and with demand as it turned out PrNd "
            + ("rises every year" if all(b > a for a, b in zip(smm_actual, smm_actual[1:])) else "ends")
            + f" to {smm_actual[-1]:.2f} in 2024 (the market's fell to "
            f"{MARKET['prnd_oxide'][2024]:.2f}). The base keeps {MINING_KEPT:.2f}: no source narrows the range, and "
            "choosing another point in it by these outcomes would be calibrating to them. The Myanmar feed now gives "
            "way along a curve (`est_myanmar_curve`), but China's ore, recycling and stocks are still blocks at one "
            "cost up to a cap, so prices move in steps where one of them fills. How steep the steps are around the "
            "base's 2021 prices, as "
            "`rechain price -c COMMODITY -r other_china -y 2021 --step Q` gives them (what Q t less would save and "
            "Q t more would cost, a t, each found by solving again):", "",
            md_table(price_steps(inst)), ""]


def price_steps(inst, steps=(100, 1_000, 3_000)) -> pd.DataFrame:
    """What Q t less of each magnet oxide in 2021 would save and Q t more would cost, a t, in the base."""
    from rechain.solvers.drivers import PriceExplainer

    ex = PriceExplainer(inst)
    shown = lambda v: {float("inf"): "no more to be had", float("-inf"): "no less can be"}.get(v, f"{v:.3g}")
    rows = []
    for c in ("prnd_oxide", "dy_oxide", "tb_oxide"):
        row = {"2021, rest of China": c, "price": f"{ex.explain(c, 'other_china', 2021).price:.3g}"}
        for q in steps:
            less, more = ex.marginal_costs(c, "other_china", 2021, step=q)
            row[f"{q:,} t less saves, more costs"] = f"{shown(less)}, {shown(more)}"
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> int:
    IMG.mkdir(exist_ok=True)
    solved = solve_all()
    doc = ["# Shipped instances", "",
           "Generated by `docs/make_instances_doc.py` from the instance files and their solutions; do not edit by "
           "hand. Stage and commodity names are explained in [chain.md](chain.md).", ""]
    for name in CALIBRATED:
        inst, res = solved[name]
        chain_figure(inst, IMG / f"{name}_chain.png")
        (instances.path(name) / "SOURCES.md").write_text(sources_md(name, inst, res))
        if name == CALIBRATED[0]:
            nt, actual = solved["no_plan_target"][1], solved["actual_demand_2021_2024"][1]
            extra = (plan_target_section(inst, res, nt) + against_market(res, actual, solved[AS_IT_HAPPENED][1])
                     + heavy_re_drivers(inst, res, solved) + over_quota_section(inst))
            years = inst.years
        else:
            extra = None
            years = [y for y in inst.years if y in (2020, 2025, 2030, 2035)]
        doc += instance_section(name, inst, res, years, extra)
        if name == CALIBRATED[0]:
            doc += EXCHANGE + placeholders_replaced(inst, res, solved["heavy_re_shock"][1])
    (DOCS / "instances.md").write_text("\n".join(doc))
    print("wrote", DOCS / "instances.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
