"""Regenerate docs/instances.md, docs/img/*.png and each calibrated instance's SOURCES.md.

    python docs/make_instances_doc.py

Everything below is read from the shipped instance files and from their solutions, so the
documents follow the data. Only the market prices to compare with, and the reasons for gaps,
are written here (each with its source id).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from rechain import instances  # noqa: E402
from rechain.model import load_instance  # noqa: E402
from rechain.solvers import solve  # noqa: E402

DOCS = Path(__file__).resolve().parent
IMG = DOCS / "img"
CALIBRATED = ("inner_mongolia_2021_2025", "china_2020_2035")
CHINA = ["inner_mongolia", "jiangxi", "other_china"]
STAGES = ["mining", "beneficiation", "separation", "metal", "alloy", "magnet", "recycling", "end_use"]
STAGE_COLOURS = dict(zip(STAGES, ["#8c564b", "#bcbd22", "#1f77b4", "#9467bd", "#e377c2", "#d62728", "#2ca02c", "#7f7f7f"]))

# Market prices to set beside the model's implied prices (CNY million per t).
MARKET = {
    # commodity: (2020 price, 2021 price, source ids, note)
    "prnd_oxide": (0.28, 0.72, "smm_argus_prices_cn; smm_prices_oct_2021", "Jan 2020 277-281 k; Oct 2021 720-725 k CNY/t"),
    "dy_oxide": (1.70, 2.90, "smm_argus_prices_cn; smm_prices_oct_2021", "Jan 2020 1.68-1.72 M; Oct 2021 2.9 M CNY/t"),
    "tb_oxide": (3.50, 10.2, "smm_argus_prices_cn; smm_prices_oct_2021", "Jan 2020 3.44-3.55 M; Oct 2021 ~10.2 M CNY/t"),
    "la_oxide": (0.014, 0.014, "usgs_mcs_2025", "2 USD/kg in 2020 and 2021 (Argus), at 6.9 CNY/USD"),
    "ce_oxide": (0.014, 0.014, "usgs_mcs_2025", "2 USD/kg in 2020 and 2021 (Argus), at 6.9 CNY/USD"),
    "prnd_metal": (0.358, None, "smm_argus_prices_cn", "Jan 2020 355-361 k CNY/t"),
    "finished_magnet": (0.28, 0.55, "stockanalysis_jlmag", "sintered NdFeB 40-80 USD/kg 2020-24 (estimate); JL Mag 2024 revenue per finished t 0.324"),
    "bayan_obo_concentrate": (0.0325, 0.0325, "smm_concentrate_2021", "16,269 CNY per t of 50 % REO concentrate = 32,538 CNY/t REO (2021)"),
}
GAP_REASON = {
    "prnd_oxide": "The model's PrNd price is set by its marginal source, PrNd from stock drawdown and over-quota "
                  "production (`est_prnd_stock`, 0.5): published quotas and imports alone cannot make the "
                  "magnets China made in 2021. The market went from 0.28 (2020) to 0.72 (late 2021) through "
                  "that very shortage; 0.5 sits between.",
    "dy_oxide": "Set by imported Myanmar mixed carbonate (`est_supply`, 0.15 per t REO) separated in Jiangxi, "
                "the marginal heavy-RE source once the ionic quota binds; close to the 2020 market.",
    "tb_oxide": "Tied to Dy through the two alloy recipes (Tb grain-boundary diffusion replaces 2 t Dy by 1 t Tb, "
                "`est_gbd_recipe`): in metal terms Tb = 2 Dy - PrNd while both recipes run. The late-2021 Tb spike (10 M) "
                "reflects speculation and stock-building the model does not represent.",
    "la_oxide": "La and Ce are co-products in surplus: more is separated with PrNd than catalysts, polishing, "
                "glass and steel use, so the marginal tonne is stockpiled at a cost and the implied price is "
                "minus the stockpiling cost. The market price covers separation cost of the marginal producer.",
    "ce_oxide": "As for La: surplus co-product, implied price minus the stockpiling cost.",
    "prnd_metal": "Oxide price plus electrolysis (1.24 t oxide per t metal, 0.03 per t operating cost).",
    "finished_magnet": "Rare-earth content (0.31 t per t alloy, 1.41 t blank per t finished magnet) plus plant "
                       "costs, less the value of the recycled swarf; within the market range.",
    "bayan_obo_concentrate": "Mining plus beneficiation cost (`est_costs`) while separation, not ore, limits supply: the "
                             "contract price also carries the resource rent that the model leaves to the quota.",
}


def market_row(commodity: str) -> tuple:
    return MARKET[commodity]


# ------------------------------------------------------------------------------------------------
def solve_all():
    out = {}
    for name in CALIBRATED:
        inst = load_instance(instances.path(name))
        out[name] = (inst, solve(inst))
    out["no_plan_target"] = (None, solve(load_instance(instances.path(CALIBRATED[0]), scenario="no_plan_target")))
    return out


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
    c = res.capacity.merge(inst.processes[["process", "stage"]], on="process")
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
                   ("prnd_metal", "other_china"), ("finished_magnet", "other_china"), ("sintered_blank", "other_china"),
                   ("la_oxide", "inner_mongolia"), ("ce_oxide", "inner_mongolia"), ("bayan_obo_concentrate", "inner_mongolia")]:
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
        lines.append(f"| `{src['id']}` | {kind} | {src['title']} | {url} | {', '.join(used.get(src['id'], ['scenarios']))} |")
    io = inst.process_io.set_index(["process", "commodity", "direction"]).coefficient
    procs = inst.processes.set_index("process")
    A = [
        ("Bayan Obo ore shares of REO (Ce, La, PrNd, SEG/heavy)", "0.50, 0.24, 0.235, 0.025", "soolun_ore; usgs_sir_2010_5220; est_ore_shares", "S/L/E"),
        ("Mountain Pass-type (Sichuan, imported) shares (Ce, La, NdPr, SEG+)", "0.502, 0.323, 0.157, 0.018", "mp_10k_2021", "S"),
        ("Ion-adsorption clay shares (Y, Dy, Tb, PrNd, rest)", "0.648, 0.067, 0.012, 0.037, 0.236", "soolun_ore; usgs_sir_2010_5220; est_ore_shares", "S/L/E"),
        ("Beneficiation recovery (t REO in concentrate per t REO mined)", f"{1 / io[('beneficiation_bayan_obo', 'bayan_obo_ore', 'in')]:.2f}", "est_beneficiation", "E"),
        ("Separation recovery", "0.93", "treo_cnre_huamei", "D"),
        ("PrNd oxide per t PrNd metal (stoichiometry 0.8499, recovery 0.95)", f"{io[('metal_prnd', 'prnd_oxide', 'in')]:.4f}", "atomic_weights; est_electrolysis", "D/E"),
        ("RE content of NdFeB alloy (PrNd + Dy + Tb)", "0.31", "courage_re_content", "S"),
        ("Dy-alloyed recipe: PrNd, Dy, Tb metal per t alloy", f"{io[('alloy_ndfeb_dy', 'prnd_metal', 'in')]}, {io[('alloy_ndfeb_dy', 'dy_metal', 'in')]}, {io[('alloy_ndfeb_dy', 'tb_metal', 'in')]}", "courage_re_content; argus_heavy_share", "S/D"),
        ("Tb grain-boundary recipe: PrNd, Dy, Tb metal per t alloy", f"{io[('alloy_ndfeb_gbd', 'prnd_metal', 'in')]}, {io[('alloy_ndfeb_gbd', 'dy_metal', 'in')]}, {io[('alloy_ndfeb_gbd', 'tb_metal', 'in')]}", "est_gbd_recipe", "E"),
        ("Finished magnet per t sintered blank", "0.71", "earthsbook_jlmag_yield", "D"),
        ("Swarf RE content; recycling yield (two stages at 0.95)", "0.30; 0.9025", "mademagnet_swarf; prommis_recycling", "S"),
        ("Magnet per NEV (finished; 3.55 kg blank x 0.71)", f"{io[('use_nev', 'finished_magnet', 'in')]} t per thousand", "smm_nev_intensity", "D"),
        ("Magnet per GW wind, direct drive / medium speed", "650 / 160 t", "heim_vanderwal_2023", "S"),
        ("2020 wind split: direct drive / medium-speed PM GW of 71.7 GW", "15 / 19.6 (12,880 t magnets)", "metalnomist_wind_2020; est_demand", "D/E"),
        ("Magnet per e-bike", "0.34 kg", "horizon_ebike", "D"),
        ("Magnet per kW industrial motor; per CNC machine; per inverter AC", "0.2 kg; 1.5 kg; 0.2 kg", "est_demand", "E"),
        ("Rest-of-world magnet demand 2020 (China exports 36.0 kt + ROW output ~15 kt finished)", "51,000 t finished", "mineralprices_exports_2020; ccmagnetics_global_2020", "S/D"),
        ("Demand growth from 2020 (per year): NEVs to 5 M in 2025; others 1-5 %", "see demand.csv", "icct_nev_plan; est_demand", "S/E"),
        ("Wind additions as seen from 2020", "55 GW/y (2021-25)", "est_demand", "E"),
        ("Mining quota (rock; counted on REO in concentrate) 2021", "148,850 t", "smm_quota_2021", "S"),
        ("Ionic mining quota", "19,150 t/y", "mining_com_quota_2020", "S"),
        ("Separation quota (domestic ore only) 2021", "162,000 t", "smm_quota_2021; giti_quota_2022", "S"),
        ("Inner Mongolia magnet capacity 2020 / 2025 target", "45,000 / 100,000 t/y", "seed_argus", "S"),
        ("Myanmar ionic concentrate available to China", "43,000 t REO/y at 0.15", "usgs_mcs_2025; est_supply", "S/E"),
        ("PrNd from stocks and over-quota production", "up to 30,000 t/y at 0.5", "est_prnd_stock", "E"),
        ("Magnet plant capex (CNY million per t/y)", f"{procs.loc['magnet_sintering', 'capex']}", "ree_jlmag_capex", "S"),
        ("Separation capex per t/y REO feed (73 k per t/y oxide x 0.93)", f"{procs.loc['separation_bayan_obo', 'capex']}", "treo_cnre_huamei", "D"),
        ("Lead times: magnet plant / separation / mine (years)", f"{procs.loc['magnet_sintering', 'lead_time']} / {procs.loc['separation_bayan_obo', 'lead_time']} / {procs.loc['mining_bayan_obo', 'lead_time']}", "smm_lead_time; nikkei_lead_time; gao_2010", "S"),
        ("Discount rate", f"{s['discount_rate']}", "", "E"),
    ]
    lines += ["", "## Main assumptions", "", "| assumption | value | source | tag |", "|---|---|---|---|"]
    lines += [f"| {a} | {v} | {src} | {tag} |" for a, v, src, tag in A]
    # implied prices
    y = 2021 if 2021 in inst.years else inst.years[0]
    p = res.prices
    lines += ["", f"## Implied prices ({y}) beside market prices", "",
              "Model prices are the duals of the commodity balances (CNY million per t, undiscounted), in "
              "`other_china` for magnet materials and in `inner_mongolia` for La/Ce and concentrate (t REO).", "",
              "| commodity | model | market 2020 | market 2021 | market source | reason for the gap |", "|---|---|---|---|---|---|"]
    for c, (m20, m21, src, note) in MARKET.items():
        reg = "inner_mongolia" if c in ("la_oxide", "ce_oxide", "bayan_obo_concentrate") else "other_china"
        v = p[(p.commodity == c) & (p.region == reg) & (p.year == y)].price
        mv = f"{float(v.iloc[0]):.4g}" if len(v) else "n/a"
        lines.append(f"| {c} | {mv} | {m20:g} | {'' if m21 is None else f'{m21:g}'} | {src} ({note}) | {GAP_REASON[c]} |")
    lines.append("")
    return "\n".join(lines)


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
            nt = solved["no_plan_target"][1]
            extra = ["Inner Mongolia sintered-magnet capacity, 2025: "
                     f"**{im_capacity(res, 2025):,.0f} t/y** with the plan target, **{im_capacity(nt, 2025):,.0f} t/y** "
                     f"without it (`no_plan_target`); the target costs {res.objective - nt.objective:,.0f} CNY million "
                     "(discounted) and does not change national output, only where magnets are made.", ""]
            years = inst.years
        else:
            extra = None
            years = [y for y in inst.years if y in (2020, 2025, 2030, 2035)]
        doc += instance_section(name, inst, res, years, extra)
    (DOCS / "instances.md").write_text("\n".join(doc))
    print("wrote", DOCS / "instances.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
