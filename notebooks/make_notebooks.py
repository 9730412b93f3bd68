"""Build the notebooks under notebooks/: write each one's cells, execute it and store the outputs.

    python notebooks/make_notebooks.py            # every notebook
    python notebooks/make_notebooks.py 03 05      # the notebooks whose names start with 03, 05

Each notebook is defined here as a list of cells, so a change to a notebook is a change to this
file followed by a rebuild; the stored outputs are those of the last build.
"""

import sys
from pathlib import Path

import nbformat as nbf
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell as code
from nbformat.v4 import new_markdown_cell as md

HERE = Path(__file__).resolve().parent


MAGNETS = '''CHINA = ["inner_mongolia", "jiangxi", "other_china"]


def magnet_output(activity, by="scenario"):
    """Magnet output (t): sintered blanks made (activity of magnet_sintering) plus bonded magnets
    (magnet_bonded), in China's three regions; by year, and by `by` if given."""
    a = activity[activity["process"].isin(["magnet_sintering", "magnet_bonded"]) & activity["region"].isin(CHINA)]
    if by is None:
        return a.groupby("year")["activity"].sum()
    return a.pivot_table(index="year", columns=by, values="activity", aggfunc="sum")'''

NB01 = [
md("""# 01 · Quickstart: solve the default instance

The default instance, `inner_mongolia_2021_2025`, is the rare-earth permanent-magnet chain around
Bayan Obo and Baotou under China's 2021–25 plan, seen from 2020: four regions; ore, imported
concentrate and stocks to separated oxides, metals, alloys and magnets of several grades; end uses
that can switch to other grades or to technologies without rare-earth magnets, or give up demand
along demand curves; swarf and end-of-life recycling; China's mining and separation quotas and
Inner Mongolia's target of 100,000 t/y of magnet capacity by 2025. This notebook solves it, then
reads the plan: capacity and capital committed, magnet output, the flows of 2025 as a Sankey
diagram, commodity prices, what the magnet target costs, and the named what-ifs."""),
code("""%matplotlib inline
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Image, display

from rechain import instances
from rechain.model import load_instance
from rechain.solvers import solve, sensitivity, sweep

pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 12)
inst = load_instance(instances.path("inner_mongolia_2021_2025"))
""" + MAGNETS + """


inst"""),
md("## Solve"),
code("""res = solve(inst)
money = inst.units.get("money", "")
print(res.status, "-", res.message)
print(f"discounted total cost: {res.objective:,.0f} {money}")
print("timings (s):", {k: round(v, 2) for k, v in res.timings.items()})"""),
md("""## Capacity and capital committed

Total capacity by stage and year (units of each plant's reference commodity, mostly t/y; routes
without plant, such as the alloy recipes and the end uses, have no capacity), then
sintered-magnet capacity by region: existing plants plus what the plan builds, and the capital
the plan commits (`investment`: overnight capex of the new plants, undiscounted)."""),
code("""stage = inst.processes.set_index("process")["stage"]
cap = res.capacity.assign(stage=res.capacity["process"].map(stage))
by_stage = cap.pivot_table(index="stage", columns="year", values="total", aggfunc="sum").round(0)
by_stage"""),
code("""mag = cap[cap["process"] == "magnet_sintering"]
built = mag.groupby("region")["new"].sum().round(0)
pivot = mag.pivot_table(index="year", columns="region", values="total", aggfunc="sum")
ax = pivot.plot.bar(stacked=True, figsize=(8, 4), title="Sintered-magnet capacity by region (t/y)")
ax.set_ylabel("t/y")
plt.tight_layout()
plt.show()
print("new sintering capacity started over the horizon (t/y):")
print(built.to_string())
inv = res.investment[res.investment["new"] > 1e-6]
committed = inv.pivot_table(index="process", columns="region", values="overnight", aggfunc="sum").fillna(0.0)
committed["total"] = committed.sum(axis=1)
print(f"\\ncapital committed over {inst.first_year}-{inst.last_year} ({money}, undiscounted):")
committed.sort_values("total", ascending=False).round(1)"""),
md("""## Magnet output

Magnet output, here and in every notebook, is the activity of `magnet_sintering` (sintered
blanks) plus `magnet_bonded` (bonded magnets) in China's three regions, in t; below it is split
by grade (the sintering routes `sinter_std`, `sinter_ce`, `sinter_hc`, `sinter_gbd`, whose sum is
the plants' activity)."""),
code("""out = magnet_output(res.activity, by=None)
a = res.activity[res.activity["region"].isin(CHINA)]
grades = a[a["process"].str.startswith("sinter_") | (a["process"] == "magnet_bonded")]
grade_tab = grades.pivot_table(index="year", columns="process", values="activity", aggfunc="sum")
grade_tab["magnet output"] = out
grade_tab.round(0)"""),
md("""## Flows of 2025 as a Sankey diagram

The report module draws the flows of one year (summed over regions) from a results folder."""),
code("""from rechain.solvers.report import Data, png_sankey

tmp = Path(tempfile.mkdtemp())
res.to_folder(tmp / "results")
inst.to_folder(tmp / "results" / "instance", overwrite=True)
png_sankey(Data(tmp / "results"), 2025, tmp / "sankey_2025.png")
display(Image(filename=str(tmp / "sankey_2025.png"), width=900))"""),
md("""## Prices

`prices` are the duals of the commodity balances, undiscounted: the cost, in money of that year,
of one more tonne of the commodity in that region and year (CNY million per t). Shown for the
oxides, PrNd metal, the Dy-free and high-coercivity magnet grades and the mixed La/Ce carbonate
from Bayan Obo (`lace_bo`), in Inner Mongolia and in the rest of China."""),
code("""keep = ["prnd_oxide", "dy_oxide", "tb_oxide", "prnd_metal", "magnet_std", "magnet_hc", "la_oxide", "ce_oxide", "lace_bo"]
p = res.prices[res.prices["commodity"].isin(keep) & res.prices["region"].isin(["inner_mongolia", "other_china"])]
prices = p.pivot_table(index=["commodity", "region"], columns="year", values="price").reindex(keep, level=0).round(4)
prices"""),
md("""## What the magnet target costs

`sensitivity` reports each binding policy's shadow price and the range of its value over which
that price holds (HiGHS ranging). Below: the policies whose value is an amount (quotas, the
magnet target); the share limits that also bind (the tiers of each alternative, the depth of Dy
diffusion) are listed by name only, as their ranging is stated in the units of their row rather
than as a share."""),
code("""sens = sensitivity(inst)
kind = inst.policies.drop_duplicates("policy").set_index("policy")["kind"]
pol = sens.policies.assign(kind=sens.policies["policy"].map(kind))
amounts = pol[~pol["kind"].str.endswith("_share")]
amount_names = set(amounts["policy"])
print("\\n".join(line for line in sens.describe() if line.split(" ")[0] in amount_names) or "no quota or target binds")
shares_binding = sorted(pol[pol["binding"] & pol["kind"].str.endswith("_share")]["policy"].unique())
print(f"\\nbinding share limits ({len(shares_binding)}): {', '.join(shares_binding) or '-'}")
amounts[amounts["binding"]]"""),
md("""## Named what-ifs

The instance carries named scenarios; `sweep` solves them all on one built model, re-solved in
place with changed parameters (rebuilt where a change needs it)."""),
code("""names = ["base"] + list(inst.scenarios)
sw = sweep(inst, names, progress=False)
summary = sw.summary[["scenario", "status", "objective", "rebuilt", "seconds"]].copy()
summary["vs_base_%"] = (100 * (summary["objective"] / summary["objective"].iloc[0] - 1)).round(2)
summary[f"magnet output {inst.last_year} (t)"] = summary["scenario"].map(magnet_output(sw.activity).loc[inst.last_year]).round(0)
summary.round(2)"""),
md("## Conclusion"),
code("""target = pol[pol["policy"] == "im_magnet_target"]
top = summary.iloc[1:].sort_values("objective", ascending=False).iloc[0]
im_new = built.get("inner_mongolia", 0.0)
last = inst.last_year
lines = [f"- The plan costs {res.objective:,.0f} {money} (discounted to {inst.base_year}).",
         f"- It starts {im_new:,.0f} t/y of new sintering capacity in Inner Mongolia, {built.sum():,.0f} t/y in all regions, "
         f"and commits {committed['total'].sum():,.0f} {money} of capital, most of it in "
         f"{committed['total'].idxmax()} ({committed['total'].max():,.0f}).",
         f"- Magnet output (sintered blanks plus bonded magnets made in China) is {out.iloc[0]:,.0f} t in {out.index[0]} "
         f"and {out.iloc[-1]:,.0f} t in {out.index[-1]}."]
if len(target) and target["binding"].any():
    t = target[target["binding"]].iloc[0]
    span = (f"for any target above {t.value_low:,.0f} t/y" if t.value_high == float("inf")
            else f"while the target stays between {t.value_low:,.0f} and {t.value_high:,.0f} t/y")
    lines.append(f"- The {t.year} magnet target binds: each further t/y of required capacity costs {t.shadow_price:,.4g} {money}"
                 f" (money of {t.year}), a price that holds {span}.")
else:
    lines.append("- The magnet target does not bind: the plan meets it at no extra cost.")
lines.append(f"- Of the named what-ifs, '{top.scenario}' moves the cost most: {top['vs_base_%']:+.1f} % against the base.")
print("\\n".join(lines))"""),
]

SETUP = """%matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from rechain import instances
from rechain.model import load_instance
from rechain.solvers import solve, sweep

pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 14)
inst = load_instance(instances.path("inner_mongolia_2021_2025"))
money = inst.units.get("money", "")
stage = inst.processes.set_index("process")["stage"]
last = inst.last_year
years = list(range(inst.first_year, last + 1))
""" + MAGNETS

NB02 = [
md("""# 02 · NEV boom vs wind slowdown

Two named demand scenarios of the default instance against the base plan:

- `nev_boom`: NEV demand 30 % above the view from 2020 in every year;
- `wind_slowdown`: wind additions (direct-drive and medium-speed) at half the view from 2020.

Both change only demand, so `sweep` re-solves one built model in place. We compare the capacity
built by stage and region and the capital committed, magnet output and its grades, the prices of
PrNd oxide and of high-coercivity and Dy-free magnets, and the total cost."""),
code(SETUP),
code("""for name in ["nev_boom", "wind_slowdown"]:
    print(f"{name}: {inst.scenarios[name]['description']}")
names = ["base", "nev_boom", "wind_slowdown"]
sw = sweep(inst, names, progress=False)
sw.summary[["scenario", "status", "objective", "rebuilt", "seconds"]].round(2)"""),
md("""## What changes in demand

Magnet-using end uses whose demand the scenarios touch (summed over regions, units of each
service)."""),
code("""touched = ["nev", "wind_direct_drive", "wind_medium_speed"]
dem = {}
for name in names:
    d = inst if name == "base" else inst.with_scenario(name)
    t = d.demand[d.demand["commodity"].isin(touched)]
    dem[name] = t.groupby(["commodity", "year"])["quantity"].sum()
pd.DataFrame(dem).unstack("commodity").round(1)"""),
md("""## Capacity by stage and region in the last year

Total capacity in the last year (each plant's reference commodity, mostly t/y), and the change
against the base; then sintering capacity by region, the new capacity started and the capital
committed (overnight capex of all new plants, undiscounted)."""),
code("""cap = sw.capacity.assign(stage=sw.capacity["process"].map(stage))
cap_last = cap[cap["year"] == last]
by_stage = cap_last.pivot_table(index="stage", columns="scenario", values="total", aggfunc="sum")[names]
by_stage["nev_boom Δ"] = by_stage["nev_boom"] - by_stage["base"]
by_stage["wind_slowdown Δ"] = by_stage["wind_slowdown"] - by_stage["base"]
by_stage.round(0)"""),
code("""mag_region = (cap_last[cap_last["process"] == "magnet_sintering"]
              .pivot_table(index="region", columns="scenario", values="total", aggfunc="sum")[names])
new_region = (cap[cap["process"] == "magnet_sintering"]
              .pivot_table(index="region", columns="scenario", values="new", aggfunc="sum")[names])
capital = sw.investment.pivot_table(index="process", columns="scenario", values="overnight", aggfunc="sum")[names]
capital = capital[(capital.abs() > 0.05).any(axis=1)]
capital.loc["total"] = capital.sum()
print(f"sintering capacity in {last} by region (t/y):")
display(mag_region.round(0))
print("new sintering capacity started over the horizon (t/y):")
display(new_region.round(0))
print(f"capital committed over the horizon by plant ({money}, undiscounted):")
capital.round(1)"""),
md("""## Magnet output

Magnet output: sintered blanks (`magnet_sintering`) plus bonded magnets (`magnet_bonded`) made in
China's three regions each year (t), then the last year's output by grade (sintering routes and
bonded magnets)."""),
code("""output = magnet_output(sw.activity)[names]
ax = output.plot(marker="o", figsize=(8, 4), title="Magnet output in China (sintered blanks + bonded magnets), t")
ax.set_xticks(years)
ax.set_ylabel("t")
plt.tight_layout()
plt.show()
display(output.round(0))
a = sw.activity[sw.activity["region"].isin(CHINA) & (sw.activity["year"] == last)]
grades = a[a["process"].str.startswith("sinter_") | (a["process"] == "magnet_bonded")]
grade_tab = grades.pivot_table(index="process", columns="scenario", values="activity", aggfunc="sum")[names]
grade_tab["nev_boom Δ"] = grade_tab["nev_boom"] - grade_tab["base"]
grade_tab["wind_slowdown Δ"] = grade_tab["wind_slowdown"] - grade_tab["base"]
grade_tab.round(0)"""),
md("""## Prices

Balance duals in money of each year (CNY million per t): PrNd oxide, high-coercivity magnets
(`magnet_hc`) and Dy-free magnets (`magnet_std`) in Inner Mongolia and in the rest of China."""),
code("""shown = ["prnd_oxide", "magnet_hc", "magnet_std"]
pr = sw.prices[sw.prices["commodity"].isin(shown) & sw.prices["region"].isin(["inner_mongolia", "other_china"])]
prices = pr.pivot_table(index=["commodity", "region", "scenario"], columns="year", values="price").round(4)
prices"""),
code("""fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
for ax, com in zip(axes, shown):
    p = pr[(pr["commodity"] == com) & (pr["region"] == "inner_mongolia")]
    p.pivot_table(index="year", columns="scenario", values="price")[names].plot(ax=ax, marker="o")
    ax.set_xticks(years)
    ax.set_title(f"{com}, Inner Mongolia")
    ax.set_ylabel(f"{money} per t")
plt.tight_layout()
plt.show()"""),
md("""## Cost

Discounted cost by component; `unmet` is the cost of demand given up along the demand curves."""),
code("""costs = sw.costs.pivot_table(index="component", columns="scenario", values="discounted", aggfunc="sum")[names]
costs.loc["total"] = costs.sum()
costs["nev_boom Δ"] = costs["nev_boom"] - costs["base"]
costs["wind_slowdown Δ"] = costs["wind_slowdown"] - costs["base"]
costs.round(0)"""),
md("## Conclusion"),
code("""obj = sw.objectives
def pct(a, b):
    return 100 * (a / b - 1) if b else float("nan")
out = output.loc[last]
def price(com):
    return pr[(pr["commodity"] == com) & (pr["region"] == "inner_mongolia") & (pr["year"] == last)].set_index("scenario")["price"]
pm, hc = price("prnd_oxide"), price("magnet_hc")
cap_tot = mag_region.sum()
gt = grade_tab.reindex(["sinter_std", "sinter_ce", "sinter_hc", "sinter_gbd", "magnet_bonded"]).fillna(0.0)[names]
d_hc = gt.loc[["sinter_hc", "sinter_gbd"]].sum() - gt.loc[["sinter_hc", "sinter_gbd"]].sum()["base"]
d_free = gt.loc[["sinter_std", "sinter_ce", "magnet_bonded"]].sum() - gt.loc[["sinter_std", "sinter_ce", "magnet_bonded"]].sum()["base"]
lines = []
for name in ["nev_boom", "wind_slowdown"]:
    lines.append(
        f"- {name}: total cost {obj[name]:,.0f} {money} ({pct(obj[name], obj['base']):+.1f} % against the base); "
        f"{last} magnet output {out[name]:,.0f} t ({out[name] - out['base']:+,.0f} t: {d_hc[name]:+,.0f} t of blanks for "
        f"high-coercivity magnets, {d_free[name]:+,.0f} t of Dy-free ones and bonded magnets); "
        f"PrNd oxide in Inner Mongolia {pm[name]:.3f} {money}/t (base {pm['base']:.3f}); "
        f"high-coercivity magnets {hc[name]:.3f} (base {hc['base']:.3f}).")
util = cap_last[cap_last["process"] == "magnet_sintering"].groupby("scenario").apply(
    lambda g: (g["utilisation"] * g["total"]).sum() / g["total"].sum())
target = sw.policies[sw.policies["policy"] == "im_magnet_target"].groupby("scenario")["shadow_price"].max()
if (mag_region.sub(mag_region["base"], axis=0).abs() < 0.5).all().all():
    im_new = new_region.loc["inner_mongolia", "base"] if "inner_mongolia" in new_region.index else 0.0
    where_new = ("all of them" if abs(im_new - new_region["base"].sum()) < 0.5 else f"{im_new:,.0f} of them")
    bind = [s for s in names if abs(target.get(s, 0.0)) > 1e-9]
    binds = "all three" if len(bind) == len(names) else (", ".join(bind) or "none of the runs")
    im_util = cap_last[(cap_last["process"] == "magnet_sintering") & (cap_last["region"] == "inner_mongolia")].set_index("scenario")["utilisation"]
    lines.append(f"- Sintering capacity is the same in all three runs ({cap_tot['base']:,.0f} t/y in {last}); the new plants are "
                 f"{new_region['base'].sum():,.0f} t/y, {where_new} in Inner Mongolia, where the 100,000 t/y target "
                 f"binds in {binds}. Demand moves how hard the plants run: in {last} at "
                 f"{100 * util['base']:.0f} % (base), {100 * util['nev_boom']:.0f} % (nev_boom) and "
                 f"{100 * util['wind_slowdown']:.0f} % (wind_slowdown) of capacity on average over the regions, Inner Mongolia's at "
                 f"{100 * im_util['base']:.0f} %, {100 * im_util['nev_boom']:.0f} % and {100 * im_util['wind_slowdown']:.0f} %.")
else:
    lines.append(f"- Sintering capacity in {last}: " + ", ".join(f"{s} {cap_tot[s]:,.0f} t/y" for s in names) + ".")
given = sw.demand_response[sw.demand_response["unmet"] > 1e-6]
if given.empty:
    lines.append("- No demand is given up in any of the three runs (the `demand_response` table has no step in use).")
else:
    lines.append("- Demand given up: " + "; ".join(f"{s}: {', '.join(sorted(g['commodity'].unique()))}"
                                                   for s, g in given.groupby("scenario")) + ".")
swing = {n: abs(obj[n] - obj["base"]) for n in ["nev_boom", "wind_slowdown"]}
bigger, smaller = sorted(swing, key=swing.get, reverse=True)
lines.append(f"- The larger swing in cost comes from {bigger}: {swing[bigger]:,.0f} {money}, against {swing[smaller]:,.0f} for {smaller}.")
print("\\n".join(lines))"""),
]

NB03 = [
md("""# 03 · Heavy rare-earth shock: Dy and Tb

Dysprosium and terbium, the heavy rare earths that keep NdFeB magnets coercive at motor
temperatures, come mostly from ion-adsorption clays, and a large share of China's feed was
mixed carbonate imported from Myanmar (`myanmar_concentrate`, offered in Jiangxi: 2020's volume at
2020's price, and more along a rising supply curve, the processes `myanmar_feed_1` to `_4`, each
capped per year). The named scenario `heavy_re_shock` cuts those imports to zero. This notebook follows the
shock through the chain:

- the prices of Dy and Tb oxide;
- the two ways of making high-coercivity magnets (`magnet_hc`): bulk-alloyed (`alloy_hc`, sintered
  by `sinter_hc` and finished by `finish_hc`) or grain-boundary diffusion of a lean base
  (`alloy_gbd` via `sinter_gbd` and `finish_gbd`) with Tb (`diffuse_tb`) or Dy (`diffuse_dy`) as
  the diffusion source, Dy being limited to thin parts (`dy_diffusion_depth`);
- the switch to Dy-free grades (`magnet_std`, Ce-substituted `magnet_ce`, bonded magnets) and to
  alternatives without rare-earth magnets (induction motors, ferrite, excited generators, each in
  eight cost tiers);
- demand given up along the demand curves (`demand_response`).

A small sweep then deepens the shock by cutting China's own ion-adsorption mining quota too."""),
code(SETUP),
code("""print("heavy_re_shock:", inst.scenarios["heavy_re_shock"]["description"])
myanmar = inst.supply[inst.supply["commodity"] == "myanmar_concentrate"]
feed_steps = inst.policies[inst.policies["policy"].str.startswith("myanmar_feed_")]
cap_block = float(myanmar["max_quantity"].max())
cap_steps = float(feed_steps.groupby("year")["value"].sum().max())
print(f"Myanmar concentrate available in the base: {cap_block:,.0f} t REO per year at 2020's price, "
      f"and up to {cap_steps:,.0f} t more along its supply curve")
io = inst.process_io
coef = io.set_index(["process", "commodity", "direction"])["coefficient"]
heavy_metals = ["dy_metal", "tb_metal"]
def route_content(alloy, grade, source=None):
    per_magnet = coef[(f"sinter_{grade}", alloy, "in")] * coef[(f"finish_{grade}", f"blank_{grade}", "in")]
    out = {m: coef.get((f"make_{alloy}", m, "in"), 0.0) * per_magnet for m in heavy_metals}
    if source:
        for m in heavy_metals:
            out[m] = out[m] * coef[(source, "magnet_gbd_base", "in")] + coef.get((source, m, "in"), 0.0)
    return out
content = pd.DataFrame({"bulk-alloyed (finish_hc)": route_content("alloy_hc", "hc"),
                        "diffused, Tb source (diffuse_tb)": route_content("alloy_gbd", "gbd", "diffuse_tb"),
                        "diffused, Dy source (diffuse_dy)": route_content("alloy_gbd", "gbd", "diffuse_dy")}).T
print("kg of heavy-RE metal per t of finished high-coercivity magnet, by route (before swarf is recycled):")
(1000 * content).round(2)"""),
code("""names = ["base", "heavy_re_shock"]
sw = sweep(inst, names, progress=False)
obj = sw.objectives
sw.summary[["scenario", "status", "objective", "rebuilt", "seconds"]].round(2)"""),
md("""## Dy and Tb oxide prices

Balance duals (money of each year, CNY million per t) by region."""),
code("""heavy = ["dy_oxide", "tb_oxide"]
p = sw.prices[sw.prices["commodity"].isin(heavy)]
price_tab = p.pivot_table(index=["commodity", "region", "scenario"], columns="year", values="price").round(3)
price_tab"""),
code("""fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for ax, com in zip(axes, heavy):
    q = p[p["commodity"] == com].groupby(["scenario", "year"])["price"].max().unstack("scenario")[names]
    q.plot(ax=ax, marker="o", logy=True)
    ax.set_xticks(years)
    ax.set_title(f"{com}: highest regional price (log scale)")
    ax.set_ylabel(f"{money} per t")
plt.tight_layout()
plt.show()"""),
md("""## Bulk-alloyed or diffused, Tb or Dy

High-coercivity magnets made in China by route (t of finished `magnet_hc`), the share of the
diffused ones that take Dy rather than Tb, the years in which the Dy-diffusion limit binds, and
the heavy-RE metal each step consumed."""),
code("""hc_routes = ["finish_hc", "diffuse_tb", "diffuse_dy"]
act_cn = sw.activity[sw.activity["region"].isin(CHINA)]
a = act_cn[act_cn["process"].isin(hc_routes)]
route_tab = a.pivot_table(index=["scenario", "process"], columns="year", values="activity", aggfunc="sum").round(0)
display(route_tab)
r = a.groupby(["scenario", "process"])["activity"].sum().unstack("process").reindex(columns=hc_routes).fillna(0.0)
route_share = pd.DataFrame({"bulk-alloyed % of magnet_hc": 100 * r["finish_hc"] / r.sum(axis=1),
                            "Dy % of diffused": 100 * r["diffuse_dy"] / (r["diffuse_dy"] + r["diffuse_tb"])})
depth = sw.policies[sw.policies["policy"] == "dy_diffusion_depth"]
route_share["Dy limit binds in"] = depth[depth["shadow_price"].abs() > 1e-9].groupby("scenario")["year"].apply(
    lambda y: ", ".join(map(str, sorted(y))))
display(route_share.round(1).fillna("-"))
users = ["make_alloy_hc", "make_alloy_gbd", "diffuse_tb", "diffuse_dy"]
fl = sw.flows[sw.flows["process"].isin(users) & sw.flows["commodity"].isin(heavy_metals) & sw.flows["region"].isin(CHINA)]
fl.pivot_table(index=["scenario", "commodity"], columns="process", values="quantity", aggfunc="sum").fillna(0.0).round(1)"""),
md("""## Dy-free grades and alternatives

Magnet output in China by grade over the horizon (t; the sintering routes plus bonded magnets,
which use Dy-free alloy) and its Dy-free share; then, for each magnet-using service, the share
served by alternatives without rare-earth magnets (the end-use routes that carry an extra cost)."""),
code("""grade_routes = ["sinter_std", "sinter_ce", "sinter_hc", "sinter_gbd", "magnet_bonded"]
g = act_cn[act_cn["process"].isin(grade_routes)].pivot_table(index="process", columns="scenario", values="activity",
                                                               aggfunc="sum").reindex(grade_routes)[names]
dy_free = g.loc[["sinter_std", "sinter_ce", "magnet_bonded"]].sum()
g.loc["magnet output"] = g.loc[grade_routes].sum()
g.loc["Dy-free share %"] = 100 * dy_free / g.loc["magnet output"]
display(g.round(1))
eu = inst.processes[inst.processes["stage"] == "end_use"]
alternatives = set(eu[eu["variable_cost"] > 0]["process"])
service_of = io[io["reference"] & io["process"].isin(eu["process"])].set_index("process")["commodity"]
u = sw.activity[sw.activity["process"].isin(eu["process"])].assign(service=lambda d: d["process"].map(service_of))
u["alternative"] = u["process"].isin(alternatives)
served = u.groupby(["service", "scenario"])["activity"].sum()
by_alt = u[u["alternative"]].groupby(["service", "scenario"])["activity"].sum()
alt_share = (100 * by_alt / served).unstack("scenario").dropna(how="all")[names]
alt_share["Δ points"] = alt_share["heavy_re_shock"] - alt_share["base"]
alt_share.round(1).rename_axis(columns="% served by alternatives")"""),
md("""## Demand given up

Demand given up along the demand curves (`demand_response`: each step of a curve, units of each
commodity), summed over regions and years."""),
code("""dr = sw.demand_response
given = dr[dr["unmet"] > 1e-6]
if given.empty:
    print("no demand is given up in either run: every step of every demand curve stays unused")
    given_tab = None
else:
    given_tab = given.pivot_table(index=["scenario", "commodity", "step"], columns="year", values="unmet", aggfunc="sum").round(2)
given_tab"""),
md("""## Deepening the shock: ion-adsorption mining cut too

With Myanmar feed gone, heavy rare earths come from China's ion-adsorption mining
(`ionic_mining_quota`), the little Dy and Tb in Bayan Obo ore, recycling and stocks. The sweep
keeps Myanmar imports at zero and scales the ionic mining quota of every year from 100 % to 0 %."""),
code("""from rechain.model.scenarios import grid, scale

no_myanmar = inst.scenarios["heavy_re_shock"]["changes"]  # the block and every step of the supply curve
ionic = scale("policies", "value", where={"policy": "ionic_mining_quota"})
def ionic_quota(factor):
    return [*no_myanmar, ionic(factor)]

steps = [1.0, 0.75, 0.5, 0.25, 0.0]
runs = grid(ionic_quota=(ionic_quota, steps))
cut = sweep(inst, runs, progress=False, tables=["prices", "activity", "demand_response"])
rows = []
summ = cut.summary.set_index("scenario")
for run, f in zip(runs, steps):
    s = run.label
    pp = cut.prices[(cut.prices["scenario"] == s) & (cut.prices["year"] == last)]
    aa = cut.activity[(cut.activity["scenario"] == s) & cut.activity["region"].isin(CHINA)]
    hc = aa[aa["process"].isin(hc_routes)].groupby("process")["activity"].sum().reindex(hc_routes).fillna(0.0)
    gr = aa[aa["process"].isin(grade_routes)].groupby("process")["activity"].sum().reindex(grade_routes).fillna(0.0)
    dd = cut.demand_response[(cut.demand_response["scenario"] == s) & (cut.demand_response["unmet"] > 1e-6)]
    rows.append({"ionic_quota_%": 100 * f, "status": summ.loc[s, "status"], "objective": summ.loc[s, "objective"],
                 f"dy_oxide_{last}": pp[pp["commodity"] == "dy_oxide"]["price"].max(),
                 f"tb_oxide_{last}": pp[pp["commodity"] == "tb_oxide"]["price"].max(),
                 "magnet_hc_t": hc.sum(),
                 "bulk_%": 100 * hc["finish_hc"] / hc.sum() if hc.sum() else float("nan"),
                 "dy_diffused_%": 100 * hc["diffuse_dy"] / (hc["diffuse_dy"] + hc["diffuse_tb"]) if hc[["diffuse_dy", "diffuse_tb"]].sum() else float("nan"),
                 "dy_free_output_t": gr[["sinter_std", "sinter_ce", "magnet_bonded"]].sum(),
                 "dy_free_output_%": 100 * gr[["sinter_std", "sinter_ce", "magnet_bonded"]].sum() / gr.sum(),
                 "demand_given_up": ", ".join(sorted(dd["commodity"].unique())) or "-"})
steps_tab = pd.DataFrame(rows)
steps_tab.round(3)"""),
md("## Conclusion"),
code("""def heavy_price(scn, com):
    return p[(p["scenario"] == scn) & (p["commodity"] == com) & (p["year"] == last)]["price"].max()
lines = [f"- Cutting Myanmar imports raises the total cost from {obj['base']:,.0f} to {obj['heavy_re_shock']:,.0f} {money} "
         f"({100 * (obj['heavy_re_shock'] / obj['base'] - 1):+.1f} %)."]
for com in heavy:
    b, s = heavy_price("base", com), heavy_price("heavy_re_shock", com)
    lines.append(f"- {com} in {last}: {b:.3f} -> {s:.3f} {money}/t (highest regional price), {s / b:.1f} times the base.")
rs = route_share
lines.append(f"- Bulk-alloyed magnets make {rs.loc['base', 'bulk-alloyed % of magnet_hc']:.1f} % of China's high-coercivity magnets "
             f"in the base and {rs.loc['heavy_re_shock', 'bulk-alloyed % of magnet_hc']:.1f} % under the shock; the rest is diffused, "
             f"with Dy as the source for {rs.loc['base', 'Dy % of diffused']:.1f} % (base) and "
             f"{rs.loc['heavy_re_shock', 'Dy % of diffused']:.1f} % (shock) of it. A t of bulk-alloyed magnet takes "
             f"{1000 * content.iloc[0].sum():.0f} kg of Dy and Tb metal, a diffused one {1000 * content.iloc[1].sum():.0f}-"
             f"{1000 * content.iloc[2].sum():.0f} kg (before swarf is recycled).")
binds = route_share["Dy limit binds in"].fillna("-")
lines.append(f"- The limit on Dy diffusion binds in {binds['base'] if binds['base'] != '-' else 'no year'} (base) and "
             f"{binds['heavy_re_shock'] if binds['heavy_re_shock'] != '-' else 'no year'} (shock).")
out_b, out_s = g.loc["magnet output", "base"], g.loc["magnet output", "heavy_re_shock"]
def moves(a, b):
    return "rises" if b > a else "falls" if b < a else "stays"
share_b, share_s = g.loc["Dy-free share %", "base"], g.loc["Dy-free share %", "heavy_re_shock"]
lines.append(f"- Magnet output over the horizon {moves(out_b, out_s)} from {out_b:,.0f} to {out_s:,.0f} t; its Dy-free share "
             f"{moves(share_b, share_s)} from {share_b:.1f} % to {share_s:.1f} %, while Dy-free output itself "
             f"changes by {dy_free['heavy_re_shock'] - dy_free['base']:+,.0f} t: the share moves because high-coercivity output "
             f"changes by {(out_s - dy_free['heavy_re_shock']) - (out_b - dy_free['base']):+,.0f} t.")
moved = alt_share[alt_share["Δ points"] > 0.05].sort_values("Δ points", ascending=False)
if len(moved):
    lines.append("- More of these services switch to alternatives: " + "; ".join(
        f"{svc} {x['base']:.1f} % -> {x['heavy_re_shock']:.1f} %" for svc, x in moved.iterrows()) + ".")
else:
    lines.append("- No service switches more of its demand to alternatives.")
shock_given = given[given["scenario"] == "heavy_re_shock"] if not given.empty else given
if shock_given.empty:
    lines.append("- No demand is given up under heavy_re_shock: prices, routes, grades and alternatives absorb it.")
else:
    lines.append("- Demand given up under the shock: " + ", ".join(sorted(shock_given["commodity"].unique())) + ".")
ok = steps_tab[steps_tab["status"] == "optimal"]
first = ok[ok["demand_given_up"] != "-"]
lines.append(f"- Cutting the ionic mining quota too, with no Myanmar feed, the {last} Dy oxide price goes "
             + " -> ".join(f"{x:,.1f}" for x in ok[f"dy_oxide_{last}"]) + f" {money}/t at "
             + ", ".join(f"{x:.0f}" for x in ok["ionic_quota_%"]) + " % of the quota; Dy-free magnet output over the horizon goes "
             + " -> ".join(f"{x:,.0f}" for x in ok["dy_free_output_t"]) + " t ("
             + " -> ".join(f"{x:.0f}" for x in ok["dy_free_output_%"]) + " % of the output); "
             + (f"demand is first given up at {first['ionic_quota_%'].iloc[0]:.0f} % ({first['demand_given_up'].iloc[0]})."
                if len(first) else "no demand is given up at any step."))
if len(first):
    f0 = first.iloc[0]
    lines.append(f"- From there on, with demand already giving way, the Dy oxide price ({f0[f'dy_oxide_{last}']:,.1f} {money}/t at "
                 f"{f0['ionic_quota_%']:.0f} %) is a shadow price of extreme scarcity, not a market quote.")
surplus = ok[ok[f"tb_oxide_{last}"] <= 0]
if len(surplus):
    lines.append(f"- At {surplus['ionic_quota_%'].iloc[0]:.0f} % Tb oxide is worth {surplus[f'tb_oxide_{last}'].iloc[0]:.3f} {money}/t, "
                 f"in surplus while Dy is scarce: the diffusion base holds Dy too ({1000 * content.iloc[1]['dy_metal']:.1f} kg per t "
                 f"of finished magnet), so Tb cannot stand in for all of it.")
print("\\n".join(lines))"""),
]

NB04 = [
md("""# 04 · The balance problem: La and Ce

Separation splits each concentrate into fixed shares of every oxide. Mining enough ore for the
PrNd that magnets need brings up far more lanthanum and cerium than their markets (catalysts,
polishing powder, glass, RE-treated steel, NiMH batteries, exports) take. In the model La and Ce
leave the separation of the light-RE ores together, as mixed carbonate (`lace_bo` from Bayan
Obo, `lace_bast` from bastnaesite); `lace_separation_bo` and `lace_separation_bast` split it into
La and Ce oxide only as far as they are used, and what is not used goes to stockpiles (`storage`:
an initial stock, a holding cost per t and year, and a final stock no lower than the initial one).
This notebook measures how much of the La/Ce is used and how much piles up, what La and Ce are
worth, and asks how much more La/Ce demand it would take to absorb the surplus, with a small
sweep that scales every La/Ce demand."""),
code(SETUP),
md("""## Co-production shares

Output per tonne of REO separated, by separation route (from `process_io.csv`): the mixed La/Ce
carbonate of the light-RE ores, La and Ce oxide of the ion-adsorption feeds, and the other oxides;
then how the two splitting routes divide a tonne of mixed carbonate."""),
code("""io = inst.process_io
lace_mixed = ["lace_bo", "lace_bast"]
lace = ["la_oxide", "ce_oxide"]
out = io[io["direction"] == "out"]
sep = out[out["process"].str.startswith("separation_")]
shares = sep.pivot_table(index="process", columns="commodity", values="coefficient").fillna(0.0)
shares = shares.reindex(columns=lace_mixed + lace + ["prnd_oxide", "dy_oxide", "tb_oxide", "y_oxide", "seg_oxide"], fill_value=0.0)
shares["La+Ce per t PrNd"] = shares[lace_mixed + lace].sum(axis=1) / shares["prnd_oxide"]
display(shares.round(4))
split = out[out["process"].str.startswith("lace_separation_")].pivot_table(index="process", columns="commodity", values="coefficient")
split.round(4)"""),
md("""## Base plan: where La and Ce go

Mixed carbonate made, split and stockpiled (t, summed over regions and years), then who takes up
the La and Ce oxide: the end uses, Ce metal for Ce-substituted magnets, and exports (demand in
the rest of the world)."""),
code("""res = solve(inst)
fl = res.flows
init = inst.storage.set_index(["commodity", "region"])["initial"]
st = res.stock.assign(initial=lambda d: [init.get((c, r), 0.0) for c, r in zip(d["commodity"], d["region"])])
end = st[st["year"] == last].groupby("commodity")[["initial", "level"]].sum()
made = fl[fl["commodity"].isin(lace_mixed) & (fl["direction"] == "out")].groupby("commodity")["quantity"].sum()
split_in = fl[fl["commodity"].isin(lace_mixed) & (fl["direction"] == "in")].groupby("commodity")["quantity"].sum()
mixed = pd.DataFrame({"made": made, "split": split_in, f"stock {inst.first_year - 1}": end["initial"],
                      f"stock {last}": end["level"]}).reindex(lace_mixed).fillna(0.0)
mixed["stockpiled"] = mixed[f"stock {last}"] - mixed[f"stock {inst.first_year - 1}"]
mixed["share stockpiled %"] = 100 * mixed["stockpiled"] / mixed["made"]
display(mixed.round(1))
used = fl[fl["commodity"].isin(lace) & (fl["direction"] == "in")]
uptake = used.pivot_table(index="process", columns="commodity", values="quantity", aggfunc="sum").fillna(0.0)
exports = inst.demand[inst.demand["commodity"].isin(lace)].groupby("commodity")["quantity"].sum()
given_up = res.demand_response[res.demand_response["commodity"].isin(lace)].groupby("commodity")["unmet"].sum()
uptake.loc["exports"] = (exports - given_up.reindex(exports.index, fill_value=0.0)).reindex(uptake.columns, fill_value=0.0)
uptake.sort_values("la_oxide", ascending=False).round(0)"""),
code("""levels = st[st["commodity"].isin(lace_mixed)].pivot_table(index="year", columns="commodity", values="level", aggfunc="sum")
start = mixed[f"stock {inst.first_year - 1}"].rename(inst.first_year - 1)
levels = pd.concat([start.to_frame().T, levels])
ax = levels.plot.bar(figsize=(8, 3.8), title="Stockpiles of mixed La/Ce carbonate at the end of each year (t)")
ax.set_ylabel("t")
plt.tight_layout()
plt.show()
lace_prices = res.prices[res.prices["commodity"].isin(lace_mixed + lace)].pivot_table(
    index=["commodity", "region"], columns="year", values="price").round(4)
lace_prices"""),
md("""## How much La/Ce demand would absorb the surplus?

Scale every La/Ce demand (FCC, automotive and SCR catalysts, polishing powder, glass, RE steel,
NiMH batteries and the exports of La and Ce oxide) by the same factor and watch the stockpiles,
the splitting, prices, mining, and the demand given up along the demand curves."""),
code("""from rechain.model.scenarios import grid, scale

lace_uses = ["fcc_catalyst", "auto_catalyst", "scr_catalyst", "polishing_powder", "glass", "re_steel", "nimh"]
lace_demand_commodities = lace_uses + lace
def lace_demand(factor):
    return [scale("demand", "quantity", where={"commodity": c})(factor) for c in lace_demand_commodities]

factors = [1.0, 1.5, 2.0, 3.0, 4.0, 6.0]
runs = grid(lace_demand=(lace_demand, factors))
sw = sweep(inst, runs, progress=False, tables=["stock", "prices", "flows", "activity", "capacity", "demand_response"])
start_mixed = mixed[f"stock {inst.first_year - 1}"].sum()
rows = []
summ = sw.summary.set_index("scenario")
for run, f in zip(runs, factors):
    s = run.label
    stk = sw.stock[(sw.stock["scenario"] == s) & sw.stock["commodity"].isin(lace_mixed) & (sw.stock["year"] == last)]["level"].sum()
    pr = sw.prices[(sw.prices["scenario"] == s) & sw.prices["commodity"].isin(lace + ["prnd_oxide"]) & (sw.prices["year"] == last)]
    u = sw.flows[(sw.flows["scenario"] == s) & sw.flows["commodity"].isin(lace_mixed) & (sw.flows["direction"] == "in")]
    act = sw.activity[sw.activity["scenario"] == s]
    mined = act[act["process"].map(stage).eq("mining")]["activity"].sum()
    new_split = sw.capacity[(sw.capacity["scenario"] == s) & sw.capacity["process"].str.startswith("lace_separation_")]["new"].sum()
    dd = sw.demand_response[(sw.demand_response["scenario"] == s) & (sw.demand_response["unmet"] > 1e-6)]
    rows.append({"factor": f, "status": summ.loc[s, "status"], "objective": summ.loc[s, "objective"],
                 "mixed_split_t": u["quantity"].sum(), "stockpiled_t": stk - start_mixed, "new_split_capacity": new_split,
                 f"la_price_{last}": pr[pr["commodity"] == "la_oxide"]["price"].max(),
                 f"ce_price_{last}": pr[pr["commodity"] == "ce_oxide"]["price"].max(),
                 f"prnd_price_{last}": pr[pr["commodity"] == "prnd_oxide"]["price"].max(),
                 "mined_t_REO": mined,
                 "given_up_years": ", ".join(map(str, sorted(dd["year"].unique()))) or "-",
                 "given_up": ", ".join(sorted(dd["commodity"].unique())) or "-"})
absorb = pd.DataFrame(rows)
absorb.round(3)"""),
code("""fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
axes[0].plot(absorb["factor"], absorb["stockpiled_t"] / 1e3, marker="o")
axes[0].set_xlabel("La/Ce demand, multiple of the base")
axes[0].set_ylabel(f"kt added to stockpiles, {inst.first_year}-{last}")
axes[0].set_title("Mixed La/Ce carbonate stockpiled")
axes[1].plot(absorb["factor"], absorb[f"la_price_{last}"], marker="o", label="La oxide")
axes[1].plot(absorb["factor"], absorb[f"ce_price_{last}"], marker="o", label="Ce oxide")
axes[1].set_xlabel("La/Ce demand, multiple of the base")
axes[1].set_ylabel(f"{money} per t")
axes[1].set_title(f"Highest regional price, {last}")
axes[1].legend()
plt.tight_layout()
plt.show()"""),
md("## Conclusion"),
code("""b = mixed
lines = [f"- Each tonne of PrNd oxide from Bayan Obo brings {shares.loc['separation_bayan_obo', 'La+Ce per t PrNd']:.2f} t of La and Ce "
         f"with it (as mixed carbonate); each tonne from bastnaesite brings {shares.loc['separation_sichuan', 'La+Ce per t PrNd']:.2f} t."]
for c in lace_mixed:
    lines.append(f"- {c}: {b.loc[c, 'made']:,.0f} t made over {inst.first_year}-{last}, {b.loc[c, 'split']:,.0f} t split into oxides; "
                 f"the stockpile grows from {b.loc[c, f'stock {inst.first_year - 1}']:,.0f} to {b.loc[c, f'stock {last}']:,.0f} t "
                 f"({b.loc[c, 'share stockpiled %']:.0f} % of what is made).")
top = uptake.sum(axis=1).sort_values(ascending=False)
lines.append(f"- The largest takers of La and Ce oxide are {top.index[0]} ({top.iloc[0]:,.0f} t) and {top.index[1]} ({top.iloc[1]:,.0f} t).")
pl = res.prices[(res.prices["year"] == last) & res.prices["region"].isin(CHINA)]
def span(c):
    x = pl[pl["commodity"] == c]["price"]
    return f"{x.min():.4f} to {x.max():.4f}"
pm = res.prices[res.prices["commodity"].isin(lace_mixed) & res.prices["region"].isin(CHINA)]
piling = (levels.diff().dropna() > 0).all().all()
negative = (pm.groupby(["commodity", "year"])["price"].max() < 0).all() and piling
lines.append(f"- In {last}, La oxide is worth {span('la_oxide')} and Ce oxide {span('ce_oxide')} {money}/t in China's regions; "
             f"mixed carbonate {span('lace_bo')} (Bayan Obo) and {span('lace_bast')} (bastnaesite)"
             + (": its price is below zero in every year and region of China, as the stockpiles grow every year and one more tonne "
                "only adds to them, at a holding cost."
                if negative else "."))
ok = absorb[absorb["status"] == "optimal"]
base_pile = ok["stockpiled_t"].iloc[0]
small = ok[ok["stockpiled_t"] <= 0.05 * base_pile]
if len(small):
    lines.append(f"- La/Ce demand {small['factor'].iloc[0]:g} times the base stops the stockpiles growing "
                 f"({max(small['stockpiled_t'].iloc[0], 0.0):,.0f} t added, against {base_pile:,.0f} t in the base).")
else:
    lines.append(f"- Even {ok['factor'].max():g} times the base La/Ce demand leaves {ok['stockpiled_t'].iloc[-1]:,.0f} t "
                 f"added to the stockpiles (base {base_pile:,.0f} t).")
short = ok[ok["given_up"] != "-"]
lead = int(inst.processes.set_index("process").loc["lace_separation_bo", "lead_time"])
if len(short):
    s0 = short.iloc[0]
    lines.append(f"- From {s0['factor']:g} times the base some La/Ce demand is given up (in {s0['given_up_years']}: {s0['given_up']})"
                 + (f", while {s0['stockpiled_t']:,.0f} t of mixed carbonate is still stockpiled" if s0["stockpiled_t"] > 0.05 * base_pile else "")
                 + f"; splitting plants take {lead} year{'s' if lead != 1 else ''} to build, and {s0['new_split_capacity']:,.0f} t/y of new splitting "
                 f"capacity is started in that run.")
m0 = ok["mined_t_REO"].iloc[0]
dr_in = inst.demand_response
curve_top = dr_in[dr_in["commodity"].isin(lace)]["price"].max()
more = ok[ok["mined_t_REO"] > m0 * 1.001]
if len(more):
    lines.append(f"- From {more['factor'].iloc[0]:g} times the base more ore is mined for La and Ce: {more['mined_t_REO'].iloc[0]:,.0f} t REO "
                 f"against {m0:,.0f} t; at {ok['factor'].iloc[-1]:g} times La oxide reaches {ok[f'la_price_{last}'].iloc[-1]:.3f} and "
                 f"Ce oxide {ok[f'ce_price_{last}'].iloc[-1]:.3f} {money}/t, and PrNd oxide {ok[f'prnd_price_{last}'].iloc[-1]:.3f} "
                 f"(base {ok[f'prnd_price_{last}'].iloc[0]:.3f}); the last step of the exports' demand curves is at "
                 f"{curve_top:.3f} {money}/t of oxide.")
print("\\n".join(lines))"""),
]

NB05 = [
md("""# 05 · Recycling: how much mining it saves

Finishing sintered blanks into magnets grinds away about 29 % of the blank as swarf, rich in
PrNd and, for the high-coercivity grades, Dy and Tb. The recycling plants (`recycling_swarf`)
take swarf of every grade (routes `recycle_std`, `recycle_ce`, `recycle_hc`, `recycle_gbd`) and
end-of-life magnets (`recycle_eol`, `recycle_eol_ce`) back to oxides. How much ore and imported
concentrate does that save, and what does it do to the PrNd price? Two small sweeps:

1. **recycling capacity**: the existing recycling plants scaled from 0 to 1.5 times, with no new
   recycling plants allowed, next to the base (where new plants may be built);
2. **recovery**: the oxide yields of every recycling route scaled from 25 % to 100 % of their base
   values."""),
code(SETUP),
code("""rec_cap = inst.capacity[inst.capacity["process"] == "recycling_swarf"]
print("existing recycling capacity (t of scrap per year):")
display(rec_cap)
io = inst.process_io
recycle_routes = sorted(io[io["process"].str.startswith("recycle_")]["process"].unique())
swarf = io[io["process"].str.startswith("finish_") & io["commodity"].str.startswith(("blank_", "swarf_"))]
yield_tab = swarf.pivot_table(index="process", columns="direction", values="coefficient")
print("t of blank in and t of swarf out per t of finished magnet:")
display(yield_tab.round(4))
print("oxide recovered per t of scrap, by recycling route:")
io[io["process"].isin(recycle_routes) & (io["direction"] == "out")].pivot_table(
    index="process", columns="commodity", values="coefficient").fillna(0.0).round(4)"""),
md("""## Sweep 1: recycling capacity

`capacity` scales the existing plants; `build_limits.max_new = 0` stops new ones."""),
code("""from rechain.model.scenarios import Scenario, grid, scale, setter

where = {"process": "recycling_swarf"}
no_new = setter("build_limits", "max_new", where=where)(0)
def recycling_capacity(factor):
    return [scale("capacity", "capacity", where=where)(factor), no_new]

factors = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5]
runs = [Scenario.base().relabel("base (new plants allowed)")] + grid(capacity=(recycling_capacity, factors))
tables = ["activity", "prices", "supply", "disposal", "demand_response"]
sw = sweep(inst, runs, progress=False, tables=tables)
sw.summary[["scenario", "status", "objective", "rebuilt", "seconds"]].round(2)"""),
code("""mines = ["mining_bayan_obo", "mining_sichuan", "mining_ionic"]
def summarise(sw, labels):
    rows = []
    summ = sw.summary.set_index("scenario")
    for s in labels:
        a = sw.activity[sw.activity["scenario"] == s]
        sup = sw.supply[sw.supply["scenario"] == s]
        pr = sw.prices[(sw.prices["scenario"] == s) & (sw.prices["commodity"] == "prnd_oxide") & (sw.prices["year"] == last)]
        disp = sw.disposal[(sw.disposal["scenario"] == s) & sw.disposal["commodity"].str.startswith(("swarf_", "eol_scrap"))]
        dd = sw.demand_response[(sw.demand_response["scenario"] == s) & (sw.demand_response["unmet"] > 1e-6)]
        row = {"scenario": s, "status": summ.loc[s, "status"], "objective": summ.loc[s, "objective"],
               "scrap_recycled_t": a[a["process"] == "recycling_swarf"]["activity"].sum(),
               "scrap_disposed_t": disp["quantity"].sum(),
               "mined_t_REO": a[a["process"].map(stage) == "mining"]["activity"].sum()}
        for m in mines:
            row[m] = a[a["process"] == m]["activity"].sum()
        row["myanmar_t_REO"] = (sup[sup["commodity"] == "myanmar_concentrate"]["quantity"].sum()
                                + a[a["process"].str.startswith("myanmar_feed_")]["activity"].sum())
        row["us_t_REO"] = sup[sup["commodity"] == "us_concentrate"]["quantity"].sum()
        row[f"prnd_price_{last}"] = pr["price"].max()
        row["demand_given_up"] = ", ".join(sorted(dd["commodity"].unique())) or "-"
        rows.append(row)
    return pd.DataFrame(rows)

cap_tab = summarise(sw, [r.label for r in runs])
cap_tab.insert(1, "capacity_factor", [float("nan")] + factors)
cap_tab.round(3)"""),
code("""ok = cap_tab.iloc[1:]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
axes[0].plot(ok["capacity_factor"], ok["mined_t_REO"] / 1e3, marker="o", label="mined")
axes[0].plot(ok["capacity_factor"], ok["myanmar_t_REO"] / 1e3, marker="o", label="Myanmar imports")
axes[0].set_xlabel("existing recycling capacity, multiple")
axes[0].set_ylabel("kt REO, whole horizon")
axes[0].set_title("Mined REO and imported concentrate")
axes[0].legend()
axes[1].plot(ok["capacity_factor"], ok[f"prnd_price_{last}"], marker="o", color="C2")
axes[1].set_xlabel("existing recycling capacity, multiple")
axes[1].set_ylabel(f"{money} per t")
axes[1].set_title(f"PrNd oxide price {last} (highest region)")
plt.tight_layout()
plt.show()"""),
md("""## Sweep 2: recovery

The oxide outputs of every recycling route (PrNd, Dy, Tb and Ce oxide per tonne of scrap) scaled
together; recycling plants may be built as in the base."""),
code("""outputs = io[io["process"].isin(recycle_routes) & (io["direction"] == "out")][["process", "commodity"]]
def recovery(factor):
    return [scale("process_io", "coefficient", where={"process": p, "commodity": c})(factor)
            for p, c in outputs.itertuples(index=False)]

rec_factors = [0.25, 0.5, 0.75, 1.0]
runs2 = grid(recovery=(recovery, rec_factors))
sw2 = sweep(inst, runs2, progress=False, tables=tables)
rec_tab = summarise(sw2, [r.label for r in runs2])
rec_tab.insert(1, "recovery_factor", rec_factors)
rec_tab.round(3)"""),
md("## Conclusion"),
code("""none = cap_tab[cap_tab["capacity_factor"] == 0.0].iloc[0]
full = cap_tab[cap_tab["capacity_factor"] == 1.0].iloc[0]
base = cap_tab.iloc[0]
lines = []
if none["status"] != "optimal":
    lines.append(f"- Without recycling the plan has no solution ({none['status']}).")
else:
    saved = none["mined_t_REO"] - base["mined_t_REO"]
    lines.append(f"- Recycling {base['scrap_recycled_t']:,.0f} t of swarf and scrap over {inst.first_year}-{last} saves {saved:,.0f} t "
                 f"of mined REO ({100 * saved / none['mined_t_REO']:.1f} % of the {none['mined_t_REO']:,.0f} t mined without it).")
    by_feed = {m: none[m] - base[m] for m in mines + ["myanmar_t_REO", "us_t_REO"]}
    label = {"mining_bayan_obo": "Bayan Obo mining", "mining_sichuan": "Sichuan mining", "mining_ionic": "ion-adsorption mining",
             "myanmar_t_REO": "Myanmar concentrate", "us_t_REO": "US concentrate"}
    moved = [f"{label[k]} {v:+,.0f} t REO" for k, v in by_feed.items() if abs(v) > 1]
    same = [label[k] for k, v in by_feed.items() if abs(v) <= 1]
    lines.append("- Without recycling the feeds change by " + (", ".join(moved) or "nothing")
                 + (f"; {', '.join(same)} stay the same" if same else "") + ".")
    lines.append(f"- The {last} PrNd oxide price is {none[f'prnd_price_{last}']:.3f} {money}/t with no recycling, "
                 f"{full[f'prnd_price_{last}']:.3f} with today's plants only and {base[f'prnd_price_{last}']:.3f} when new plants "
                 f"may be built; the total cost is {none['objective']:,.0f} against {base['objective']:,.0f} {money}; "
                 f"without recycling {none['scrap_disposed_t']:,.0f} t of swarf and scrap are disposed of"
                 + (f", and demand is given up ({none['demand_given_up']})." if none["demand_given_up"] != "-" else "."))
steps = cap_tab.iloc[1:]
enough = steps[(steps["scrap_disposed_t"] <= 1.0) & (steps["status"] == "optimal")]
if len(enough):
    lines.append(f"- {enough['capacity_factor'].iloc[0]:g} times today's recycling capacity is the least of the steps that recycles "
                 f"all swarf and scrap without new plants.")
else:
    lines.append(f"- Even {steps['capacity_factor'].max():g} times today's capacity leaves {steps['scrap_disposed_t'].iloc[-1]:,.0f} t of "
                 f"swarf and scrap disposed of when no new plants may be built.")
lo, hi = rec_tab.iloc[0], rec_tab.iloc[-1]
lines.append(f"- Recovering {100 * rec_factors[0]:.0f} % instead of 100 % of the base yields raises the {last} PrNd price from "
             f"{hi[f'prnd_price_{last}']:.3f} to {lo[f'prnd_price_{last}']:.3f} {money}/t, mining from {hi['mined_t_REO']:,.0f} to "
             f"{lo['mined_t_REO']:,.0f} t REO and the cost from {hi['objective']:,.0f} to {lo['objective']:,.0f} {money}.")
print("\\n".join(lines))"""),
]

NB06 = [
md("""# 06 · The 2021–25 plan vs what happened

The default instance sees the chain from 2020, with demand as expected then. Three questions:

1. **What happened instead?** The named scenario `actual_demand_2021_2024` replaces the NEV,
   wind and e-bike demand of 2021–24 by the outcomes, and that of 2025 by the latest data, so
   demand does not fall back to the view from 2020 in the last year (NEV sales 3.5 M in 2021 to
   16.5 M in 2025, far above that view).
2. **What do the capacity targets cost?** Inner Mongolia's target of 100,000 t/y of magnet
   capacity by 2025 (`im_magnet_target`): the plan with and without it (`no_plan_target`), and
   the target's shadow price with the range over which it holds (`sensitivity`). And the
   region's revised plan of November 2021 (`plan_revision_2021`): 150,000 t/y by 2025 and PrNd
   metal made locally from at least 80 % of the PrNd its separation makes.
3. **What does short sight cost?** A planner who sees only a few years ahead (`myopic`) against
   the perfect-foresight plan."""),
code(SETUP + """
from rechain.model.scenarios import Scenario
from rechain.solvers import myopic, sensitivity"""),
md("## What changed in demand"),
code("""actual = inst.with_scenario("actual_demand_2021_2024")
touched = ["nev", "wind_direct_drive", "wind_medium_speed", "ebike"]
def demand_of(i):
    d = i.demand[i.demand["commodity"].isin(touched)]
    return d.groupby(["commodity", "year"])["quantity"].sum()
dem = pd.DataFrame({"plan view": demand_of(inst), "actual": demand_of(actual)})
dem["ratio"] = dem["actual"] / dem["plan view"]
dem.round(2)"""),
md("""## Six runs

Plan-view demand or actual demand, each with the 100,000 t/y target, without it, and with the
revised plan of November 2021."""),
code("""for name in ["no_plan_target", "plan_revision_2021"]:
    print(f"{name}: {inst.scenarios[name]['description']}")
runs = [Scenario.base().relabel("plan"), Scenario.named("actual_demand_2021_2024").relabel("actual"),
        Scenario.named("no_plan_target").relabel("plan, no target"),
        Scenario.named("actual_demand_2021_2024", "no_plan_target").relabel("actual, no target"),
        Scenario.named("plan_revision_2021").relabel("plan, revised"),
        Scenario.named("actual_demand_2021_2024", "plan_revision_2021").relabel("actual, revised")]
labels = [r.label for r in runs]
sw = sweep(inst, runs, progress=False)
obj = sw.objectives
sw.summary[["scenario", "status", "objective", "rebuilt", "seconds"]].round(2)"""),
md("""Sintering capacity by region, magnet output (sintered blanks plus bonded magnets made in
China, t), and the demand given up along the demand curves."""),
code("""cap = sw.capacity
mag = cap[cap["process"] == "magnet_sintering"]
sinter = mag.pivot_table(index=["scenario", "region"], columns="year", values="total", aggfunc="sum").round(0)
display(sinter.loc[labels])
output = magnet_output(sw.activity)[labels]
print("magnet output (t):")
display(output.round(0))
given = sw.demand_response[sw.demand_response["unmet"] > 1e-6]
if given.empty:
    print("no demand is given up in any run")
else:
    display(given.pivot_table(index=["scenario", "commodity"], columns="year", values="unmet", aggfunc="sum").round(2))"""),
code("""shown = ["prnd_oxide", "magnet_hc"]
pr = sw.prices[sw.prices["commodity"].isin(shown) & (sw.prices["region"] == "inner_mongolia")]
ptab = pr.pivot_table(index=["commodity", "scenario"], columns="year", values="price").round(4)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for ax, com in zip(axes, shown):
    pr[pr["commodity"] == com].pivot_table(index="year", columns="scenario", values="price")[labels].plot(ax=ax, marker="o")
    ax.set_xticks(years)
    ax.set_title(f"{com}, Inner Mongolia")
    ax.set_ylabel(f"{money} per t")
plt.tight_layout()
plt.show()
ptab"""),
md("""## The cost of the targets

The difference in total cost with and without the target, and with the revised plan, by cost
component; the capital each run commits; then the target's shadow price and its validity range
from HiGHS ranging."""),
code("""costs = sw.costs.pivot_table(index="component", columns="scenario", values="discounted", aggfunc="sum")[labels]
costs.loc["total"] = costs.sum()
for v in ["plan", "actual"]:
    costs[f"100k target, {v}"] = costs[v] - costs[f"{v}, no target"]
    costs[f"revision, {v}"] = costs[f"{v}, revised"] - costs[v]
display(costs.round(1))
capital = sw.investment.groupby("scenario")["overnight"].sum()[labels]
print(f"capital committed over the horizon ({money}, undiscounted):")
capital.round(0).to_frame("capital committed")"""),
code("""revised = inst.with_scenario("plan_revision_2021")
rule = revised.policies[revised.policies["policy"] == "im_local_conversion"].iloc[0]
act = sw.activity[(sw.activity["region"] == "inner_mongolia") & (sw.activity["year"] == int(rule["year"]))]
conv = act.pivot_table(index="scenario", columns="process", values="activity", aggfunc="sum")[["metal_prnd", "separation_bayan_obo"]]
conv["required_metal_prnd"] = float(rule["value"]) * conv["separation_bayan_obo"]
local = sw.policies[sw.policies["policy"] == "im_local_conversion"].set_index("scenario")["shadow_price"]
conv["rule binds"] = local.reindex(conv.index).abs() > 1e-9
print(f"local conversion in Inner Mongolia, {int(rule['year'])} (t): PrNd metal made against what the revised plan requires")
conv.loc[["plan, revised", "actual, revised"]].round(0)"""),
code("""sens = sensitivity(inst)
sens_actual = sensitivity(actual)
def target_row(s):
    t = s.policies[s.policies["policy"] == "im_magnet_target"]
    return t.iloc[0]
tgt = pd.DataFrame({"plan": target_row(sens), "actual": target_row(sens_actual)}).T[
    ["year", "value", "binding", "shadow_price", "value_low", "value_high", "objective_low", "objective_high"]]
print("\\n".join(sens.describe("im_magnet_target")) or "im_magnet_target does not bind in the plan")
tgt"""),
md("""## Myopic vs perfect foresight

`myopic(window=w, step=1)` plans `w` years ahead (here one and two) and commits one year at a
time. With a one-year window the planner of 2024 cannot see the 2025 target, yet sintering plants
take a year to build: if the 2025 window then finds the target out of reach, the run reports it.
The same with the target removed shows the cost of short sight alone, and which plants the
short-sighted planner builds less of."""),
code("""import logging


class _SameNameNotice(logging.Filter):
    # the Pyomo model that `myopic` builds names a parameter and a row `stock_final` alike, and
    # Pyomo reports the second replacing the first at every build; this drops that notice only
    def filter(self, record):
        return "Implicitly replacing the Component attribute stock_final" not in record.getMessage()


logging.getLogger("pyomo.core").addFilter(_SameNameNotice())
base_res = solve(inst)
no_target = inst.with_scenario("no_plan_target")
no_target_res = solve(no_target)
rows = []
for name, i, p in [("plan", inst, base_res), ("plan, no target", no_target, no_target_res)]:
    for w in [1, 2]:
        m = myopic(i, window=w, step=1, perfect=p)
        short = ""
        if m.status == "optimal":
            gap = (m.capacity.groupby("process")[["new_perfect", "new_myopic"]].sum()
                   .assign(less=lambda d: d["new_perfect"] - d["new_myopic"]).sort_values("less", ascending=False))
            short = ", ".join(f"{k} {v:,.0f}" for k, v in gap["less"].head(3).items() if v > 1)
        rows.append({"run": name, "window": w, "status": m.status, "myopic": m.objective if m.status == "optimal" else float("nan"),
                     "perfect": m.perfect_objective, "cost_of_myopia": m.cost_of_myopia if m.status == "optimal" else float("nan"),
                     "failed_window": "" if m.status == "optimal" else
                     "-".join(map(str, m.windows[m.windows["status"] != "optimal"][["start", "end"]].iloc[0])),
                     "built_less_t_per_y": short})
myo = pd.DataFrame(rows)
myo["cost_of_myopia"] = myo["cost_of_myopia"].mask(myo["cost_of_myopia"].abs() <= 1e-6 * myo["perfect"], 0.0)  # -0.0 noise
myo["myopia_%"] = 100 * myo["cost_of_myopia"] / myo["perfect"]
myo.round(2)"""),
md("## Conclusion"),
code("""lines = []
r = dem["ratio"].unstack("commodity")
nev_year = r["nev"].idxmax()
lines.append(f"- Actual NEV sales ran up to {r['nev'].max():.2f} times the plan view (in {nev_year}); "
             f"with actual demand the chain costs {obj['actual']:,.0f} {money} against {obj['plan']:,.0f} "
             f"({100 * (obj['actual'] / obj['plan'] - 1):+.1f} %).")
changed = r[(r - 1).abs().max(axis=1) > 1e-9].index
yr = int(changed.max())
out_yr = output.loc[yr]
lines.append(f"- The scenario changes demand in {int(changed.min())}-{yr}. Magnet output in {yr}: {out_yr['plan']:,.0f} t in the "
             f"plan view, {out_yr['actual']:,.0f} t with actual demand ({100 * (out_yr['actual'] / out_yr['plan'] - 1):+.1f} %).")
im = sinter.xs("inner_mongolia", level="region")
lines.append(f"- Inner Mongolia's sintering capacity in {last}: {im.loc['plan', last]:,.0f} t/y (plan view) and {im.loc['actual', last]:,.0f} t/y "
             f"(actual demand) with the target; without it {im.loc['plan, no target', last]:,.0f} and {im.loc['actual, no target', last]:,.0f} t/y; "
             f"with the revised plan {im.loc['plan, revised', last]:,.0f} and {im.loc['actual, revised', last]:,.0f} t/y.")
for v in ["plan", "actual"]:
    c = obj[v] - obj[f"{v}, no target"]
    rv = obj[f"{v}, revised"] - obj[v]
    o = output.loc[last, [f"{v}, no target", v, f"{v}, revised"]]
    said = (f"the same in all three, {o.iloc[0]:,.0f} t" if o.max() - o.min() < 0.5 else
            f"{o.iloc[0]:,.0f} t without the target, {o.iloc[1]:,.0f} t with it and {o.iloc[2]:,.0f} t with the revision")
    lines.append(f"- With {v} demand the 100,000 t/y target costs {c:,.0f} {money} ({100 * c / obj[f'{v}, no target']:.2f} % of the total) "
                 f"and the revised plan {rv:,.0f} more; magnet output in {last} is {said}.")
cv = conv.loc["plan, revised"]
lines.append(f"- The local-conversion rule of the revision " + ("binds" if cv["rule binds"] else "does not bind") +
             f" in the plan view: Inner Mongolia makes {cv['metal_prnd']:,.0f} t of PrNd metal in {int(rule['year'])} against the "
             f"{cv['required_metal_prnd']:,.0f} t it requires.")
t = tgt.loc["plan"]
if bool(t["binding"]):
    hi = "no upper limit" if t["value_high"] == float("inf") else f"{t['value_high']:,.0f} t/y"
    lines.append(f"- In the plan the target binds with a shadow price of {t['shadow_price']:,.4g} {money} per t/y "
                 f"(money of {int(t['year'])}), valid for targets from {t['value_low']:,.0f} t/y to {hi}; lowering the target to "
                 f"{t['value_low']:,.0f} t/y would save {obj['plan'] - t['objective_low']:,.0f} {money}, removing it "
                 f"{obj['plan'] - obj['plan, no target']:,.0f}.")
else:
    lines.append("- In the plan the target does not bind.")
for name in ["plan", "plan, no target"]:
    sub = myo[myo["run"] == name]
    parts = [(f"window {int(x.window)}: {x.cost_of_myopia:,.0f} {money} ({x['myopia_%']:+.1f} %)"
              + (f", building less new capacity (t/y) of {x.built_less_t_per_y}" if x.built_less_t_per_y else "") if x.status == "optimal"
              else f"window {int(x.window)}: no plan, the {x.failed_window} window is {x.status} with what earlier windows built")
             for _, x in sub.iterrows()]
    lines.append(f"- Cost of myopia ({name}): " + "; ".join(parts) + ".")
print("\\n".join(lines))"""),
]

NB07 = [
md("""# 07 · Monte Carlo: 1,000 futures of the 2021–25 plan

Four uncertain inputs of the default instance, drawn together 1,000 times from a fixed seed:
NEV demand (lognormal around the plan view), wind demand (both drive types, uniform), the cap on
the Myanmar ion-adsorption feed on offer (2020's block and every step of its supply curve
scaled together, uniform) and the capex of magnet sintering
(triangular). Every draw changes numbers only, so the sweep keeps one LP inside HiGHS and changes
its bounds and costs in place (`rechain.model.params`), warm-starting each re-solve. Out come
distributions of the sintering capacity, magnet output and the routes to high-coercivity magnets,
of the prices, and which input moves them most. The numbers are estimates of ranges, not
forecasts: the distributions below are assumptions chosen for illustration."""),
code("""%matplotlib inline
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from rechain import instances
from rechain.model import load_instance
from rechain.model.scenarios import lognormal, sample, scale, triangular, uniform
from rechain.solvers import sweep

pd.set_option("display.width", 160)
inst = load_instance(instances.path())
money = inst.units.get("money", "money")
last = inst.last_year
""" + MAGNETS + """


def wind(v):
    return [scale("demand", "quantity", where={"commodity": c})(v) for c in ("wind_direct_drive", "wind_medium_speed")]


feed_steps = sorted(p for p in inst.policies["policy"].unique() if p.startswith("myanmar_feed_"))


def myanmar_feed(v):
    return [scale("supply", "max_quantity", where={"commodity": "myanmar_concentrate"})(v),
            *[scale("policies", "value", where={"policy": p})(v) for p in feed_steps]]

runs = sample(
    1000, seed=7,
    nev=(scale("demand", "quantity", where={"commodity": "nev"}), lognormal(0.0, 0.15)),
    wind=(wind, uniform(0.5, 1.3)),
    myanmar=(myanmar_feed, uniform(0.3, 1.2)),
    sinter_capex=(scale("processes", "capex", where={"process": "magnet_sintering"}), triangular(0.8, 1.0, 1.5)),
)
t = time.perf_counter()
sw = sweep(inst, runs, workers=1, progress=False, tables=["capacity", "activity", "prices", "policies", "costs", "demand_response"])
seconds = time.perf_counter() - t
print(f"{len(runs)} scenarios in {seconds:.1f} s ({len(runs) / seconds:.0f} per second); "
      f"{int(sw.summary['rebuilt'].sum())} rebuilt; statuses: {sw.summary['status'].value_counts().to_dict()}")
sw.parameters.describe().round(3)"""),
md("""## Capacity, output and routes in 2025

Sintering capacity by region in the last year (t/y), magnet output (sintered blanks plus bonded
magnets made in China, t), the average use of Inner Mongolia's sintering plants, and the share of
the diffused high-coercivity magnets made in China that take Dy rather than Tb (the limit on Dy
diffusion applies to all regions together)."""),
code("""cap = sw.capacity
sinter = cap[(cap["process"] == "magnet_sintering") & (cap["year"] == last)]
per = sinter.pivot_table(index="scenario", columns="region", values="total", aggfunc="sum")
per["all regions"] = per.sum(axis=1)
im_sinter = sinter[sinter["region"] == "inner_mongolia"].set_index("scenario")["utilisation"]
act = sw.activity[sw.activity["year"] == last]
output = magnet_output(act, by="scenario").loc[last]
diff = act[act["process"].isin(["diffuse_dy", "diffuse_tb"]) & act["region"].isin(CHINA)].pivot_table(
    index="scenario", columns="process", values="activity", aggfunc="sum")
dy_share = 100 * diff["diffuse_dy"] / diff.sum(axis=1)
fig, axes = plt.subplots(1, 3, figsize=(14, 3.4))
output.plot.hist(bins=40, ax=axes[0], title=f"Magnet output in China, {last} (t)")
(100 * im_sinter).plot.hist(bins=40, ax=axes[1], title=f"Inner Mongolia sintering plants in use, {last} (%)")
dy_share.plot.hist(bins=40, ax=axes[2], title=f"Dy share of diffused magnets, China, {last} (%)")
plt.tight_layout()
plt.show()
display(per.describe(percentiles=[0.05, 0.5, 0.95]).round(0))
pd.DataFrame({"magnet output (t)": output, "IM sintering in use (%)": 100 * im_sinter,
              "Dy share of diffused (%)": dy_share}).describe(percentiles=[0.05, 0.5, 0.95]).round(1)"""),
md("## Prices in 2025"),
code("""pr = sw.prices[(sw.prices["year"] == last) & (sw.prices["region"] == "inner_mongolia")]
pr = pr[pr["commodity"].isin(["prnd_oxide", "dy_oxide", "tb_oxide", "magnet_hc"])]
ptab = pr.pivot_table(index="scenario", columns="commodity", values="price")
fig, axes = plt.subplots(1, len(ptab.columns), figsize=(3.6 * len(ptab.columns), 3.2))
for ax, com in zip(np.atleast_1d(axes), ptab.columns):
    ptab[com].plot.hist(bins=40, ax=ax, title=com)
    ax.set_xlabel(f"{money} per t")
plt.tight_layout()
plt.show()
ptab.describe(percentiles=[0.05, 0.5, 0.95]).round(4)"""),
md("""## Which input matters

Rank correlations (Spearman) between each drawn input and the outputs, over the 1,000 draws
(empty where an output does not vary)."""),
code("""par = sw.parameters.set_index("scenario")
target = sw.policies[(sw.policies["policy"] == "im_magnet_target") & (sw.policies["year"] == last)].set_index("scenario")["shadow_price"]
total = sw.costs.groupby("scenario")["discounted"].sum()
out = pd.DataFrame({"magnet output": output, "IM sintering in use": im_sinter, "Dy share of diffused": dy_share,
                    "PrNd oxide price": ptab.get("prnd_oxide"), "Dy oxide price": ptab.get("dy_oxide"),
                    "Tb oxide price": ptab.get("tb_oxide"), "target shadow price": target, "total cost": total})
corr = pd.concat([par, out], axis=1).corr(method="spearman").loc[par.columns, out.columns]
corr.round(2)"""),
md("## Conclusion"),
code("""lines = []
lines.append(f"- {len(runs)} draws solved in {seconds:.0f} s, all optimal: {bool(sw.ok)}.")
spread = per.max() - per.min()
if (spread < 0.5).all():
    lines.append(f"- Sintering capacity in {last} is the same in every draw: {per['inner_mongolia'].iloc[0]:,.0f} t/y in Inner Mongolia, "
                 f"{per['all regions'].iloc[0]:,.0f} t/y in all regions.")
else:
    im = per["inner_mongolia"]
    lines.append(f"- Inner Mongolia's sintering capacity in {last}: median {im.median():,.0f} t/y, 90 % of draws between "
                 f"{im.quantile(0.05):,.0f} and {im.quantile(0.95):,.0f} t/y.")
binds = (target.abs() > 1e-9).mean()
lines.append(f"- The 100,000 t/y target binds in {100 * binds:.0f} % of the draws"
             + (f", at a shadow price of {target.median():,.4g} {money} per t/y (median)." if binds else "."))
def driver(col):
    c = corr[col].dropna()
    if not len(c):
        return "it does not vary over the draws"
    k = c.abs().idxmax()
    return f"the input most correlated with it is '{k}' (Spearman {c[k]:+.2f})"
lines.append(f"- Magnet output in {last}: median {output.median():,.0f} t, 90 % of draws between {output.quantile(0.05):,.0f} and "
             f"{output.quantile(0.95):,.0f} t; {driver('magnet output')}. Inner Mongolia's plants run at "
             f"{100 * im_sinter.quantile(0.05):.0f}-{100 * im_sinter.quantile(0.95):.0f} % of capacity.")
lines.append(f"- Dy is the diffusion source of {dy_share.quantile(0.05):.1f}-{dy_share.quantile(0.95):.1f} % of the diffused "
             f"high-coercivity magnets made in China in {last} (90 % range); {driver('Dy share of diffused')}.")
for com, col in [("prnd_oxide", "PrNd oxide price"), ("dy_oxide", "Dy oxide price"), ("tb_oxide", "Tb oxide price")]:
    if com in ptab.columns:
        x = ptab[com]
        lines.append(f"- {com} price in {last}: median {x.median():,.4g} {money}/t, 90 % range {x.quantile(0.05):,.4g}-{x.quantile(0.95):,.4g}; "
                     f"{driver(col)}.")
given = sw.demand_response[sw.demand_response["unmet"] > 1e-6]
lines.append(f"- Demand is given up in {given['scenario'].nunique()} of the {len(runs)} draws.")
lines.append(f"- Total cost: {driver('total cost')}.")
print("\\n".join(lines))"""),
]

NB08 = [
md("""# 08 · A hedged plan: what to start before knowing which future comes

A sweep solves each future as if it were known in advance. A planner has to start plant before
knowing whether the NEV boom, a wind slowdown or the loss of the Myanmar heavy-RE feed comes. This
notebook solves the **two-stage stochastic** plan of the default instance (`rechain.solvers.stochastic`):
new capacity started up to a year (`decide_through`) is one decision shared by every future; the
rest (later builds, running the plants, trade, stocks, demand given up) is chosen in each future.

The futures are the instance's named scenarios, here without Inner Mongolia's capacity target
(`no_plan_target`), so that the region's capacity is a choice. Their probabilities are **an
assumption of this notebook**, not data: base 0.40, NEV boom 0.25, wind slowdown 0.20, heavy-RE
shock 0.15. EVPI (what knowing the future in advance is worth) and VSS (what planning for the
average future loses) are computed, not stated (`docs/stochastic.md`)."""),
code("""import pandas as pd
from rechain import instances
from rechain.model import load_instance
from rechain.solvers import solve, stochastic

pd.set_option("display.width", 160)
inst = load_instance(instances.path("inner_mongolia_2021_2025"))
futures = [["no_plan_target"], ["no_plan_target", "nev_boom"], ["no_plan_target", "wind_slowdown"],
           ["no_plan_target", "heavy_re_shock"]]
prob = [0.40, 0.25, 0.20, 0.15]
res = {dt: stochastic(inst, futures, probabilities=prob, decide_through=dt) for dt in (2022, 2024)}
for line in res[2022].describe()[:3]:
    print(line)
res[2022].scenarios.summary"""),
md("""## The shared decisions beside the plan for the average future

`first_stage` is the hedged plan; `ev_first_stage` the plan of the expected-value problem (every
number of the futures averaged). Where they differ, the hedge is."""),
code("""fs = res[2022].first_stage.assign(ev_plan=res[2022].ev_first_stage["new"].round(6))
fs["hedge"] = fs["new"] - fs["ev_plan"]
moved = fs[fs["hedge"].abs() > 1].sort_values("hedge")
moved.round(0)"""),
code("""by_process = moved.groupby(["process", "year"])[["new", "ev_plan", "hedge"]].sum().round(0)
by_process"""),
md("""## Deciding later or sooner

The later the shared decisions run (`decide_through` 2024: everything started up to 2024 is
committed now), the more the plan must hedge, and the more foresight is worth."""),
code("""rows = []
for dt, r in res.items():
    rows.append({"decide_through": dt, "expected cost": r.objective, "wait-and-see": r.wait_and_see,
                 "EVPI": r.evpi, "EEV": r.eev, "VSS": r.vss})
measures = pd.DataFrame(rows).set_index("decide_through")
measures.round(1)"""),
md("""## Protection in the bad future: CVaR

Minimising `0.5 · E[cost] + 0.5 · CVaR_0.8[cost]` (the expected cost of the worst 20 % of
probability, here the heavy-RE shock and part of the NEV boom) trades expected cost for a lower
cost in the bad futures."""),
code("""risky = stochastic(inst, futures, probabilities=prob, decide_through=2022, risk={"alpha": 0.8, "weight": 0.5},
                   measures=False)
neutral = res[2022]
cmp = pd.DataFrame({"risk-neutral": neutral.scenarios.summary.set_index("scenario")["cost"],
                    "with CVaR": risky.scenarios.summary.set_index("scenario")["cost"]})
cmp.loc["expected"] = [neutral.expected_cost, risky.expected_cost]
cmp.round(1)"""),
code("""hedge = moved.groupby("process")["hedge"].sum()
lines = ["Conclusions (computed above):"]
r = res[2022]
lines.append(f"- Deciding what to start in 2021-22 before the future is known: expected cost {r.objective:,.0f} CNY million; "
             f"EVPI {r.evpi:,.1f} and VSS {r.vss:,.1f} CNY million (decide_through 2024: EVPI {res[2024].evpi:,.1f}, "
             f"VSS {res[2024].vss:,.1f}).")
first = moved[moved["year"] == inst.first_year].groupby("process")["hedge"].sum()
if len(first):
    more, less = first[first > 0], first[first < 0]
    parts = [f"{more.max():,.0f} t/y more of {more.idxmax()}"] if len(more) else []
    parts += [f"{-less.min():,.0f} t/y less of {less.idxmin()}"] if len(less) else []
    shown = [k for k in (more.idxmax() if len(more) else None, less.idxmin() if len(less) else None) if k]
    lines.append(f"- The hedge: in {inst.first_year} the hedged plan starts {' and '.join(parts)} than the plan for the "
                 f"average future (over 2021-22: " + ", ".join(f"{k} {hedge.get(k, 0.0):+,.0f} t/y" for k in shown) + ").")
costs = r.scenarios.summary.set_index("scenario")
loss = costs["ev_plan_cost"] - costs["cost"]
lines.append(f"- The plan for the average future loses most in {loss.idxmax()}: {loss.max():,.1f} CNY million more than the "
             f"hedged plan there" + (f", and {-loss.min():,.1f} less in {loss.idxmin()}." if loss.min() < 0 else "."))
sint = r.first_stage[(r.first_stage["process"] == "magnet_sintering") & (r.first_stage["region"] == "inner_mongolia")]["new"].sum()
lines.append(f"- Inner Mongolia's sintering capacity started by 2022 without the plan target: {sint:,.0f} t/y in the hedged plan.")
worst = cmp.drop(index="expected").idxmax()["risk-neutral"]
lines.append(f"- With CVaR the cost of the worst future ({worst}) changes by {cmp.loc[worst, 'with CVaR'] - cmp.loc[worst, 'risk-neutral']:+,.1f} "
             f"and the expected cost by {cmp.loc['expected', 'with CVaR'] - cmp.loc['expected', 'risk-neutral']:+,.1f} CNY million.")
print("\\n".join(lines))"""),
]

NB09 = [
md("""# 09 · The near-optimal space of the plan

A least-cost plan is one point of a wide space of plans that cost almost as much. Within 2 % of the
least cost, how much could each plant make, and where? `rechain.solvers.alternatives` adds a budget
row (cost ≤ optimum + 2 %) and minimises and maximises each group in turn (modelling to generate
alternatives, `docs/stochastic.md`). Groups here: the output of each plant process by region over
2021-25 (`quantity="activity"`); new capacity by stage and region follows."""),
code("""import pandas as pd
import matplotlib.pyplot as plt
from rechain import instances
from rechain.model import load_instance
from rechain.solvers import alternatives

pd.set_option("display.width", 160)
inst = load_instance(instances.path("inner_mongolia_2021_2025"))
alt = alternatives(inst, slack=0.02, quantity="activity")
print(alt.describe()[0])
r = alt.ranges
r = r[r["high"] > 0].assign(span=lambda t: t["high"] - t["low"]).sort_values("span", ascending=False)
r.head(15).round(0)"""),
code("""%matplotlib inline
show = r[r["process"].isin(["magnet_sintering", "metal_prnd", "separation_bayan_obo", "gbd_diffusion", "alloy_casting"])]
fig, ax = plt.subplots(figsize=(9, 0.35 * len(show) + 1))
y = range(len(show))
ax.hlines(list(y), show["low"] / 1e3, show["high"] / 1e3, lw=6, color="#9ecae1", label="within 2 % of least cost")
ax.plot(show["optimum"] / 1e3, list(y), "o", color="#08519c", label="least-cost plan")
ax.set_yticks(list(y), [f"{p} · {g}" for p, g in zip(show["process"], show["region"])])
ax.set_xlabel("output over 2021-25 (kt of each process's reference commodity)")
ax.set_title("How far each plant's output can move at ≤ 2 % extra cost (kt)")
ax.legend(loc="lower right")
plt.tight_layout()"""),
code("""cap = alternatives(inst, slack=0.02)   # new capacity by stage and region
cap.ranges[cap.ranges["high"] > 0].round(0)"""),
code("""ims = r[(r["process"] == "magnet_sintering") & (r["region"] == "inner_mongolia")].iloc[0]
oc = r[(r["process"] == "magnet_sintering") & (r["region"] == "other_china")].iloc[0]
sep = r[(r["process"] == "separation_bayan_obo")].iloc[0]
lines = ["Conclusions (computed above):",
         f"- Within 2 % of the least cost, Inner Mongolia's sintering output over 2021-25 can be anything from {ims.low:,.0f} to "
         f"{ims.high:,.0f} t (least cost: {ims.optimum:,.0f} t), the rest of China's from {oc.low:,.0f} to {oc.high:,.0f} t: "
         "where magnets are sintered is nearly cost-neutral.",
         f"- Bayan Obo separation stays between {sep.low:,.0f} and {sep.high:,.0f} t REO: the ore side is pinned by the quotas.",
         f"- Inner Mongolia can leave its sintering plant idle over the whole horizon (least output {ims.low:,.0f} t) while "
         "its 100,000 t/y capacity target holds in every alternative: the target buys capacity, not output."]
print("\\n".join(lines))"""),
]

NB10 = [
md("""# 10 · Plants come in modules

The LP builds any amount of capacity. Real plants come in lines of a given size: a sintering line,
a separation train. `processes.unit_size` makes new capacity whole modules (a MILP, solved by
HiGHS); `processes.min_build` makes it all-or-nothing above a least size. Prices and shadow prices
are then those of the LP with the whole-number decisions fixed, and the LP relaxation's objective
is reported beside the MILP's (`docs/spec.md` 4.8).

The module sizes below are **assumptions of this notebook** (estimates, not sourced figures): a
sintering line of 5,000 t/y of blanks, a Bayan Obo separation train of 10,000 t REO/y, a PrNd
electrolysis block of 2,000 t/y."""),
code("""import pandas as pd
from rechain import instances
from rechain.model import load_instance
from rechain.solvers import solve

pd.set_option("display.width", 160)
inst = load_instance(instances.path("inner_mongolia_2021_2025"))
sizes = {"magnet_sintering": 5000, "separation_bayan_obo": 10000, "metal_prnd": 2000}
lumpy = inst.with_changes([{"table": "processes", "where": {"process": p}, "column": "unit_size", "set": v}
                           for p, v in sizes.items()], label="modules")
lp, mip = solve(inst), solve(lumpy)
print(mip.message)
pd.Series({"LP (any size)": lp.objective, "MILP (modules)": mip.objective,
           "LP relaxation of the MILP": mip.mip["relaxation_objective"]}).round(1)"""),
code("""def built(r):
    c = r.capacity
    c = c[c["process"].isin(list(sizes)) & (c["new"] > 1e-6)]
    return c.groupby(["process", "region", "year"])["new"].sum()

both = pd.DataFrame({"LP": built(lp), "modules": built(mip)}).fillna(0.0)
both["modules of"] = [sizes[p] for p in both.index.get_level_values("process")]
both.round(0)"""),
code("""def prices(r):
    p = r.prices
    return p[(p["region"] == "other_china") & p["commodity"].isin(["prnd_oxide", "prnd_metal", "magnet_std"])].pivot(
        index="commodity", columns="year", values="price")

pd.concat({"LP": prices(lp), "modules": prices(mip)}).round(3)"""),
code("""extra = mip.objective - lp.objective
whole = (both["modules"] / both["modules of"]).round(6)
lines = ["Conclusions (computed above):",
         f"- Building in modules costs {extra:,.1f} CNY million more than the LP's any-size plan (discounted), "
         f"{100 * extra / lp.objective:.3f} % of the total; the MILP's gap is {mip.mip['gap']:.2g}.",
         f"- Every new capacity of the three processes is a whole number of modules: {bool((whole == whole.round()).all())}.",
         f"- {int((both['modules'] > both['LP'] + 1e-6).sum())} builds round up and {int((both['modules'] < both['LP'] - 1e-6).sum())} "
         "round down (or move to another year) against the LP."]
print("\\n".join(lines))"""),
]


NOTEBOOKS = {
    "01_quickstart": NB01,
    "02_nev_boom_vs_wind_slowdown": NB02,
    "03_heavy_re_shock": NB03,
    "04_balance_problem": NB04,
    "05_recycling": NB05,
    "06_plan_vs_actual": NB06,
    "07_monte_carlo": NB07,
    "08_stochastic_plan": NB08,
    "09_near_optimal": NB09,
    "10_modular_plants": NB10,
}


def build(name: str) -> Path:
    """Execute notebook ``name`` from its cells and write it, outputs stored, to notebooks/."""
    nb = nbf.v4.new_notebook(cells=NOTEBOOKS[name],
                             metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
    path = HERE / f"{name}.ipynb"
    nbf.write(nb, path)
    return path


def main(argv: list[str]) -> int:
    prefixes = [Path(a).name.removesuffix(".ipynb") for a in argv]
    wanted = [n for n in NOTEBOOKS if not prefixes or any(n.startswith(p) for p in prefixes)]
    if not wanted:
        print(f"no notebook matches {' '.join(argv)}; known: {', '.join(NOTEBOOKS)}", file=sys.stderr)
        return 2
    for name in wanted:
        print("wrote", build(name).relative_to(HERE.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
