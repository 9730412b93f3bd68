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

NB01 = [
md("""# 01 · Quickstart: solve the default instance

The default instance, `inner_mongolia_2021_2025`, is the rare-earth permanent-magnet chain around
Bayan Obo and Baotou under China's 2021–25 plan: four regions, ore to end uses, swarf recycling,
the national mining and separation quotas and Inner Mongolia's target of 100,000 t/y of magnet
capacity by 2025. This notebook solves it, then reads the plan: capacity, the flows of 2025 as a
Sankey diagram, commodity prices, what the magnet target costs, and a few named what-ifs."""),
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
inst"""),
md("## Solve"),
code("""res = solve(inst)
money = inst.units.get("money", "")
print(res.status, "-", res.message)
print(f"discounted total cost: {res.objective:,.0f} {money}")
print("timings (s):", {k: round(v, 2) for k, v in res.timings.items()})"""),
md("""## Capacity

Total capacity by stage and year (units of each process's reference commodity, mostly t/y),
then magnet-making capacity by region: existing plants plus what the plan builds."""),
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
print(built.to_string())"""),
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
of one more tonne of the commodity in that region and year."""),
code("""keep = ["prnd_oxide", "dy_oxide", "tb_oxide", "prnd_metal", "finished_magnet", "ce_oxide", "la_oxide"]
p = res.prices[res.prices["commodity"].isin(keep)]
prices = p.pivot_table(index=["commodity", "region"], columns="year", values="price").round(3)
prices"""),
md("""## What the magnet target costs

`sensitivity` reports each binding policy's shadow price and the range of its value over which
that price holds (HiGHS ranging)."""),
code("""sens = sensitivity(inst)
pol = sens.policies
print("\\n".join(sens.describe()) or "no policy binds")
pol[pol["binding"]]"""),
md("""## Named what-ifs

The instance carries named scenarios; `sweep` solves them all on one built model, re-solved in
place with changed parameters."""),
code("""names = ["base"] + list(inst.scenarios)
sw = sweep(inst, names, progress=False)
summary = sw.summary[["scenario", "status", "objective", "rebuilt", "seconds"]].copy()
summary["vs_base_%"] = (100 * (summary["objective"] / summary["objective"].iloc[0] - 1)).round(2)
summary.round(2)"""),
md("## Conclusion"),
code("""target = pol[pol["policy"] == "im_magnet_target"]
top = summary.iloc[1:].sort_values("objective", ascending=False).iloc[0]
im_new = built.get("inner_mongolia", 0.0)
lines = [f"- The plan costs {res.objective:,.0f} {money} (discounted to {inst.base_year}).",
         f"- It starts {im_new:,.0f} t/y of new sintering capacity in Inner Mongolia, {built.sum():,.0f} t/y in all regions."]
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

from rechain import instances
from rechain.model import load_instance
from rechain.solvers import solve, sweep

pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 14)
inst = load_instance(instances.path("inner_mongolia_2021_2025"))
money = inst.units.get("money", "")
stage = inst.processes.set_index("process")["stage"]
last = inst.last_year
years = list(range(inst.first_year, last + 1))"""

NB02 = [
md("""# 02 · NEV boom vs wind slowdown

Two named demand scenarios of the default instance against the base plan:

- `nev_boom`: NEV demand 30 % above the view from 2020 in every year;
- `wind_slowdown`: wind additions (direct-drive and medium-speed) at half the view from 2020.

Both change only demand, so `sweep` re-solves one built model in place. We compare the capacity
built by stage and region, magnet output, the prices of PrNd oxide and finished magnets, and the
total cost."""),
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

Total capacity in the last year (t/y of each stage's reference commodity), and the change
against the base."""),
code("""cap = sw.capacity.assign(stage=sw.capacity["process"].map(stage))
cap_last = cap[(cap["year"] == last) & (cap["stage"] != "end_use")]
by_stage = cap_last.pivot_table(index="stage", columns="scenario", values="total", aggfunc="sum")[names]
by_stage["nev_boom Δ"] = by_stage["nev_boom"] - by_stage["base"]
by_stage["wind_slowdown Δ"] = by_stage["wind_slowdown"] - by_stage["base"]
by_stage.round(0)"""),
code("""mag_region = (cap_last[cap_last["process"] == "magnet_sintering"]
              .pivot_table(index="region", columns="scenario", values="total", aggfunc="sum")[names])
new_region = (cap[cap["process"] == "magnet_sintering"]
              .pivot_table(index="region", columns="scenario", values="new", aggfunc="sum")[names])
print(f"sintering capacity in {last} by region (t/y):")
display(mag_region.round(0))
print("new sintering capacity started over the horizon (t/y):")
new_region.round(0)"""),
md("""## Magnet output

Finished sintered magnets plus bonded magnets made each year (t), summed over regions."""),
code("""act = sw.activity
magnets = act[act["process"].isin(["magnet_finishing", "magnet_bonded"])]
output = magnets.pivot_table(index="year", columns="scenario", values="activity", aggfunc="sum")[names]
ax = output.plot(marker="o", figsize=(8, 4), title="Magnet output (finished sintered + bonded), t")
ax.set_xticks(years)
ax.set_ylabel("t")
plt.tight_layout()
plt.show()
output.round(0)"""),
md("""## Prices

Balance duals in money of each year (CNY million per t): PrNd oxide and finished magnets in
Inner Mongolia and in the rest of China."""),
code("""pr = sw.prices[sw.prices["commodity"].isin(["prnd_oxide", "finished_magnet"])
               & sw.prices["region"].isin(["inner_mongolia", "other_china"])]
prices = pr.pivot_table(index=["commodity", "region", "scenario"], columns="year", values="price").round(4)
prices"""),
code("""fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for ax, com in zip(axes, ["prnd_oxide", "finished_magnet"]):
    p = pr[(pr["commodity"] == com) & (pr["region"] == "inner_mongolia")]
    p.pivot_table(index="year", columns="scenario", values="price")[names].plot(ax=ax, marker="o")
    ax.set_xticks(years)
    ax.set_title(f"{com}, Inner Mongolia")
    ax.set_ylabel(f"{money} per t")
plt.tight_layout()
plt.show()"""),
md("## Cost"),
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
pm = pr[(pr["commodity"] == "prnd_oxide") & (pr["region"] == "inner_mongolia") & (pr["year"] == last)].set_index("scenario")["price"]
fm = pr[(pr["commodity"] == "finished_magnet") & (pr["region"] == "inner_mongolia") & (pr["year"] == last)].set_index("scenario")["price"]
mag_tot = mag_region.sum()
lines = []
for name in ["nev_boom", "wind_slowdown"]:
    lines.append(
        f"- {name}: total cost {obj[name]:,.0f} {money} ({pct(obj[name], obj['base']):+.1f} % against the base); "
        f"{last} magnet output {out[name]:,.0f} t ({out[name] - out['base']:+,.0f} t); "
        f"sintering capacity {mag_tot[name]:,.0f} t/y ({mag_tot[name] - mag_tot['base']:+,.0f}); "
        f"PrNd oxide in Inner Mongolia {pm[name]:.3f} {money}/t (base {pm['base']:.3f}); "
        f"finished magnets {fm[name]:.3f} (base {fm['base']:.3f}).")
util = cap_last[cap_last["process"] == "magnet_sintering"].groupby("scenario").apply(
    lambda g: (g["utilisation"] * g["total"]).sum() / g["total"].sum())
lines.append(f"- Sintering capacity is the same in all three runs: Inner Mongolia's 100,000 t/y target sets it, and in {last} "
             f"the plants run at {100 * util['base']:.0f} % (base), {100 * util['nev_boom']:.0f} % (nev_boom) and "
             f"{100 * util['wind_slowdown']:.0f} % (wind_slowdown) of capacity on average.")
bigger = "nev_boom" if abs(obj["nev_boom"] - obj["base"]) > abs(obj["wind_slowdown"] - obj["base"]) else "wind_slowdown"
lines.append(f"- The larger swing in cost comes from {bigger}: "
             f"{abs(obj['nev_boom'] - obj['base']):,.0f} against {abs(obj['wind_slowdown'] - obj['base']):,.0f} {money}.")
print("\\n".join(lines))"""),
]


NB03 = [
md("""# 03 · Heavy rare-earth shock: Dy and Tb

Dysprosium and terbium, the heavy rare earths that keep NdFeB magnets coercive at motor
temperatures, come mostly from ion-adsorption clays, and a large share of China's feed was
mixed carbonate imported from Myanmar. The named scenario `heavy_re_shock` cuts those imports
to zero. This notebook follows the shock through the chain: the prices of Dy and Tb oxide, which
end uses go unmet, and the shift between the two alloy routes — the Dy-alloyed grade
(`alloy_ndfeb_dy`) and the grade made for Tb grain-boundary diffusion (`alloy_ndfeb_gbd`, less Dy
per tonne, more Tb). A small sweep then cuts the imports step by step."""),
code(SETUP),
code("""print("heavy_re_shock:", inst.scenarios["heavy_re_shock"]["description"])
myanmar = inst.supply[inst.supply["commodity"] == "myanmar_ionic_concentrate"]
cap_myanmar = float(myanmar["max_quantity"].max())
print(f"Myanmar mixed carbonate available in the base: up to {cap_myanmar:,.0f} t REO per year")
io = inst.process_io
io[io["process"].isin(["alloy_ndfeb_dy", "alloy_ndfeb_gbd"]) & io["commodity"].str.endswith("_metal")].pivot_table(
    index="process", columns="commodity", values="coefficient")"""),
code("""names = ["base", "heavy_re_shock"]
sw = sweep(inst, names, progress=False)
obj = sw.objectives
sw.summary[["scenario", "status", "objective", "rebuilt", "seconds"]].round(2)"""),
md("""## Dy and Tb oxide prices

Balance duals (money of each year, CNY million per t) where the oxides are separated and used."""),
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
md("""## Which end uses go unmet

Unmet demand by end use and year (units of each service; empty when every demand is met), and
the share of each end use's demand left unmet over the horizon."""),
code("""un = sw.unmet[sw.unmet["quantity"] > 1e-3]
if un.empty:
    print("no demand goes unmet in either scenario")
unmet_tab = un.pivot_table(index=["scenario", "commodity"], columns="year", values="quantity", aggfunc="sum").round(2)
dem_total = inst.demand.groupby("commodity")["quantity"].sum()
tot = un.groupby(["scenario", "commodity"])["quantity"].sum()
share = (tot / tot.index.get_level_values("commodity").map(dem_total).to_numpy()).rename("share unmet")
display(unmet_tab)
(100 * share).round(2).rename("% of demand unmet, whole horizon").to_frame()"""),
md("""## Alloy route shift

Alloy made by each route (t of alloy, summed over regions) and the heavy rare-earth metal it
consumed."""),
code("""routes = ["alloy_ndfeb_dy", "alloy_ndfeb_gbd"]
a = sw.activity[sw.activity["process"].isin(routes)]
route_tab = a.pivot_table(index=["scenario", "process"], columns="year", values="activity", aggfunc="sum").round(0)
display(route_tab)
fl = sw.flows[sw.flows["process"].isin(routes) & sw.flows["commodity"].isin(["dy_metal", "tb_metal"])]
fl.pivot_table(index=["scenario", "commodity"], columns="year", values="quantity", aggfunc="sum").round(1)"""),
md("""## Cutting imports step by step

The base plan imports less than its limit, so a small sweep caps Myanmar imports at 100 %, 75 %,
50 %, 25 % and 0 % of the most the base plan imports in any one year."""),
code("""import math

from rechain.model.scenarios import grid, setter

imports = setter("supply", "max_quantity", where={"commodity": "myanmar_ionic_concentrate"})
base_imports = sw.supply[(sw.supply["scenario"] == "base") & (sw.supply["commodity"] == "myanmar_ionic_concentrate")]
peak = float(base_imports.groupby("year")["quantity"].sum().max())
print(f"the base plan imports at most {peak:,.0f} t REO in a year")
steps = [1.0, 0.75, 0.5, 0.25, 0.0]
runs = grid(imports=(imports, [math.ceil(f * peak) for f in steps]))  # whole tonnes, rounded up
cut = sweep(inst, runs, progress=False, tables=["prices", "unmet", "activity", "supply"])
label_share = dict(zip([r.label for r in runs], steps))
rows = []
for sc in cut.summary.itertuples():
    f = label_share[sc.scenario]
    pp = cut.prices[(cut.prices["scenario"] == sc.scenario) & (cut.prices["year"] == last)]
    aa = cut.activity[(cut.activity["scenario"] == sc.scenario) & cut.activity["process"].isin(routes)]
    uu = cut.unmet[(cut.unmet["scenario"] == sc.scenario)]
    ss = cut.supply[(cut.supply["scenario"] == sc.scenario) & (cut.supply["commodity"] == "myanmar_ionic_concentrate")]
    gbd = aa[aa["process"] == "alloy_ndfeb_gbd"]["activity"].sum()
    rows.append({"imports_%": 100 * f, "status": sc.status, "objective": sc.objective,
                 "imported_t_REO": ss["quantity"].sum(),
                 f"dy_oxide_{last}": pp[pp["commodity"] == "dy_oxide"]["price"].max(),
                 f"tb_oxide_{last}": pp[pp["commodity"] == "tb_oxide"]["price"].max(),
                 "gbd_share_%": 100 * gbd / aa["activity"].sum() if aa["activity"].sum() else float("nan"),
                 "end_uses_short": ", ".join(sorted(uu[uu["quantity"] > 1e-3]["commodity"].unique())) or "-"})
steps_tab = pd.DataFrame(rows)
steps_tab.round(3)"""),
md("## Conclusion"),
code("""def heavy_price(scn, com):
    return p[(p["scenario"] == scn) & (p["commodity"] == com) & (p["year"] == last)]["price"].max()
lines = [f"- Cutting Myanmar imports raises the total cost from {obj['base']:,.0f} to {obj['heavy_re_shock']:,.0f} {money} "
         f"({100 * (obj['heavy_re_shock'] / obj['base'] - 1):+.1f} %)."]
for com in heavy:
    b, s = heavy_price("base", com), heavy_price("heavy_re_shock", com)
    lines.append(f"- {com} in {last}: {b:.3f} -> {s:.3f} {money}/t (highest regional price).")
shock_unmet = un[un["scenario"] == "heavy_re_shock"].groupby("commodity")["quantity"].sum()
base_unmet = un[un["scenario"] == "base"].groupby("commodity")["quantity"].sum()
if shock_unmet.empty:
    lines.append("- Every end use is still served: the chain absorbs the shock through prices and routes.")
else:
    worst = share.loc["heavy_re_shock"].sort_values(ascending=False)
    lines.append("- Unmet under the shock (whole horizon): " + "; ".join(
        f"{c} {shock_unmet[c]:,.1f} ({100 * worst.get(c, float('nan')):.1f} % of demand)" for c in worst.index[:5])
        + (f" (base: {', '.join(base_unmet.index)})" if len(base_unmet) else " (none in the base)") + ".")
r = a.groupby(["scenario", "process"])["activity"].sum().unstack("process").reindex(columns=routes).fillna(0.0)
gshare = 100 * r["alloy_ndfeb_gbd"] / r.sum(axis=1)
lines.append(f"- The grain-boundary-diffusion route makes {gshare['base']:.1f} % of the alloy in the base and "
             f"{gshare['heavy_re_shock']:.1f} % under the shock.")
ok = steps_tab[steps_tab["status"] == "optimal"]
first_short = ok[ok["end_uses_short"] != "-"]
lines.append(f"- Capping imports step by step, the {last} Dy oxide price goes "
             + " -> ".join(f"{x:.3f}" for x in ok[f"dy_oxide_{last}"]) + f" {money}/t at "
             + ", ".join(f"{x:.0f}" for x in ok["imports_%"]) + " % of the base's peak imports; "
             + (f"end uses first go short at {first_short['imports_%'].iloc[0]:.0f} % ({first_short['end_uses_short'].iloc[0]})."
                if len(first_short) else "no end use goes short at any step."))
pen = inst.commodities.set_index("commodity")["unmet_penalty"]
if len(shock_unmet):
    lines.append(f"- Such prices are not market quotes: once end uses go unserved, the oxide price is set by the value of the "
                 f"unserved service (e.g. {pen.get(worst.index[0], float('nan')):,.0f} {money} per unit of {worst.index[0]}) "
                 f"spread over the few kilograms of Dy and Tb it needs.")
print("\\n".join(lines))"""),
]


LACE_USES = """["fcc_catalyst", "auto_catalyst", "polishing_powder", "glass", "re_steel"]"""

NB04 = [
md("""# 04 · The balance problem: La and Ce surplus

Separation splits each concentrate into fixed shares of every oxide. Mining enough ore for the
PrNd that magnets need brings up far more lanthanum and cerium than their markets — catalysts,
polishing powder, glass, RE-treated steel — take. The rest is stockpiled or disposed of at a
cost. This notebook measures the surplus, shows where La and Ce go, and asks how much more La/Ce
demand it would take to absorb it, with a small sweep that scales every La/Ce end use."""),
code(SETUP),
md("""## Co-production shares

Oxide output per tonne of REO separated, by separation route (from `process_io.csv`)."""),
code("""io = inst.process_io
sep = io[io["process"].str.startswith("separation_") & (io["direction"] == "out")]
shares = sep.pivot_table(index="process", columns="commodity", values="coefficient").fillna(0.0)
shares = shares[["la_oxide", "ce_oxide", "prnd_oxide", "dy_oxide", "tb_oxide", "y_oxide", "seg_oxide"]]
shares["La+Ce per t PrNd"] = (shares["la_oxide"] + shares["ce_oxide"]) / shares["prnd_oxide"]
shares.round(4)"""),
md("""## Base plan: where La and Ce go

Oxide separated, taken up by each end use, and disposed of or stockpiled (t, summed over regions
and years)."""),
code("""res = solve(inst)
lace = ["la_oxide", "ce_oxide"]
fl = res.flows
made = fl[fl["commodity"].isin(lace) & (fl["direction"] == "out")].groupby("commodity")["quantity"].sum()
used = fl[fl["commodity"].isin(lace) & (fl["direction"] == "in")]
uptake = used.pivot_table(index="process", columns="commodity", values="quantity", aggfunc="sum").fillna(0.0)
disposed = res.disposal[res.disposal["commodity"].isin(lace)].groupby("commodity")["quantity"].sum()
balance = pd.DataFrame({"separated": made, "used": uptake.sum(), "disposed/stockpiled": disposed})
balance["share disposed %"] = 100 * balance["disposed/stockpiled"] / balance["separated"]
display(uptake.round(0))
balance.round(1)"""),
code("""yearly = res.disposal[res.disposal["commodity"].isin(lace)].pivot_table(
    index="year", columns="commodity", values="quantity", aggfunc="sum")
ax = yearly.plot.bar(figsize=(8, 3.8), title="La and Ce oxide disposed of or stockpiled (t)")
ax.set_ylabel("t")
plt.tight_layout()
plt.show()
lace_prices = res.prices[res.prices["commodity"].isin(lace)].pivot_table(
    index=["commodity", "region"], columns="year", values="price").round(4)
lace_prices"""),
md("""## How much La/Ce demand would absorb the surplus?

Scale every La/Ce end use (FCC and automotive catalysts, polishing powder, glass, RE steel) by
the same factor and watch disposal, prices and the cost."""),
code(f"""from rechain.model.scenarios import grid, scale

lace_uses = {LACE_USES}
def lace_demand(factor):
    return [scale("demand", "quantity", where={{"commodity": c}})(factor) for c in lace_uses]

factors = [1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0]
runs = grid(lace_demand=(lace_demand, factors))
sw = sweep(inst, runs, progress=False, tables=["disposal", "prices", "flows", "unmet", "activity"])
rows = []
for run, f in zip(runs, factors):
    s = run.label
    d = sw.disposal[(sw.disposal["scenario"] == s) & sw.disposal["commodity"].isin(lace)].groupby("commodity")["quantity"].sum()
    pr = sw.prices[(sw.prices["scenario"] == s) & sw.prices["commodity"].isin(lace + ["prnd_oxide"]) & (sw.prices["year"] == last)]
    u = sw.flows[(sw.flows["scenario"] == s) & sw.flows["commodity"].isin(lace) & (sw.flows["direction"] == "in")]
    un = sw.unmet[(sw.unmet["scenario"] == s) & sw.unmet["commodity"].isin(lace_uses)]["quantity"].sum()
    mined = sw.activity[(sw.activity["scenario"] == s) & sw.activity["process"].map(stage).eq("mining")]["activity"].sum()
    row = sw.summary.set_index("scenario").loc[s]
    rows.append({{"factor": f, "status": row["status"], "objective": row["objective"],
                 "la_used": u[u["commodity"] == "la_oxide"]["quantity"].sum(),
                 "ce_used": u[u["commodity"] == "ce_oxide"]["quantity"].sum(),
                 "la_disposed": d.get("la_oxide", 0.0), "ce_disposed": d.get("ce_oxide", 0.0),
                 f"la_price_{{last}}": pr[pr["commodity"] == "la_oxide"]["price"].max(),
                 f"ce_price_{{last}}": pr[pr["commodity"] == "ce_oxide"]["price"].max(),
                 f"prnd_price_{{last}}": pr[pr["commodity"] == "prnd_oxide"]["price"].max(),
                 "mined_t_REO": mined, "lace_unmet": un}})
absorb = pd.DataFrame(rows)
absorb.round(3)"""),
code("""fig, ax = plt.subplots(figsize=(8, 3.8))
ax.plot(absorb["factor"], absorb["la_disposed"], marker="o", label="La oxide disposed")
ax.plot(absorb["factor"], absorb["ce_disposed"], marker="o", label="Ce oxide disposed")
ax.set_xlabel("La/Ce end-use demand, multiple of the base")
ax.set_ylabel("t over the horizon")
ax.legend()
plt.tight_layout()
plt.show()"""),
md("## Conclusion"),
code("""b = balance
lines = [f"- Each tonne of PrNd oxide from Bayan Obo brings {shares.loc['separation_bayan_obo', 'La+Ce per t PrNd']:.2f} t of La and Ce oxide with it.",
         f"- In the base plan {b.loc['la_oxide', 'share disposed %']:.0f} % of the La oxide ({b.loc['la_oxide', 'disposed/stockpiled']:,.0f} t) "
         f"and {b.loc['ce_oxide', 'share disposed %']:.0f} % of the Ce oxide ({b.loc['ce_oxide', 'disposed/stockpiled']:,.0f} t) separated over "
         f"{inst.first_year}-{last} find no use."]
top = uptake.sum(axis=1).sort_values(ascending=False)
lines.append(f"- The largest La/Ce users are {top.index[0]} ({top.iloc[0]:,.0f} t) and {top.index[1]} ({top.iloc[1]:,.0f} t).")
p_base = res.prices[(res.prices["commodity"].isin(lace)) & (res.prices["year"] == last)]["price"]
lines.append(f"- Their {last} prices are between {p_base.min():.4f} and {p_base.max():.4f} {money}/t: at or below zero, the "
             f"cost of disposing of one more tonne.")
ok = absorb[absorb["status"] == "optimal"].copy()
ok["lace_disposed"] = ok["la_disposed"] + ok["ce_disposed"]
base_disposed = ok["lace_disposed"].iloc[0]
small = ok[ok["lace_disposed"] <= 0.1 * base_disposed]
if len(small):
    lines.append(f"- La/Ce demand {small['factor'].iloc[0]:g} times the base absorbs all but "
                 f"{100 * small['lace_disposed'].iloc[0] / base_disposed:.0f} % of the surplus "
                 f"({small['lace_disposed'].iloc[0]:,.0f} t left of {base_disposed:,.0f} t).")
else:
    lines.append(f"- Even {ok['factor'].max():g} times the base La/Ce demand leaves {ok['lace_disposed'].iloc[-1]:,.0f} t "
                 f"of {base_disposed:,.0f} t unused.")
short = ok[ok["lace_unmet"] > 1e-6]
if len(short):
    f0 = short["factor"].iloc[0]
    label = runs[factors.index(f0)].label
    users = set(inst.demand[inst.demand["commodity"].isin(lace_uses)]["region"])
    lanes = inst.trade[inst.trade["commodity"].isin(lace) & inst.trade["destination"].isin(users)]
    reach = users | set(lanes["origin"])
    res_d = sw.disposal[(sw.disposal["scenario"] == label) & sw.disposal["commodity"].isin(lace)]
    stranded = res_d[~res_d["region"].isin(reach)]
    lines.append(f"- From {f0:g} times the base, some La/Ce end uses go unserved while {res_d['quantity'].sum():,.0f} t of La/Ce "
                 f"oxide is still disposed of; {100 * stranded['quantity'].sum() / res_d['quantity'].sum():.0f} % of it in "
                 f"{', '.join(sorted(stranded['region'].unique())) or 'no region'}, which has no La/Ce end use and no trade lane "
                 f"to one (La/Ce demand is in {', '.join(sorted(users))} only).")
print("\\n".join(lines))"""),
]


NB05 = [
md("""# 05 · Recycling: how much mining it saves

Finishing sintered blanks into magnets grinds away about 29 % of the blank as swarf, rich in
PrNd, Dy and Tb. The model recycles swarf hydrometallurgically back to oxides (`recycling_swarf`).
How much ore does that save, and what does it do to the PrNd price? Two small sweeps:

1. **recycling capacity**: the existing recycling plants scaled from 0 to 1.5 times, with no new
   recycling plants allowed, next to the base (where new plants may be built);
2. **swarf recovery**: the oxide yield of recycling scaled from 25 % to 100 % of its base value."""),
code(SETUP),
code("""rec_cap = inst.capacity[inst.capacity["process"] == "recycling_swarf"]
print("existing recycling capacity (t swarf/y):")
display(rec_cap)
inst.process_io[inst.process_io["process"].isin(["magnet_finishing", "recycling_swarf"])]"""),
md("""## Sweep 1: recycling capacity

`capacity` scales the existing plants; `build_limits.max_new = 0` stops new ones."""),
code("""from rechain.model.scenarios import Scenario, grid, scale, setter

where = {"process": "recycling_swarf"}
no_new = setter("build_limits", "max_new", where=where)(0)
def recycling_capacity(factor):
    return [scale("capacity", "capacity", where=where)(factor), no_new]

factors = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5]
runs = [Scenario.base().relabel("base (new plants allowed)")] + grid(capacity=(recycling_capacity, factors))
tables = ["activity", "prices", "supply", "unmet", "capacity", "disposal"]
sw = sweep(inst, runs, progress=False, tables=tables)
sw.summary[["scenario", "status", "objective", "rebuilt", "seconds"]].round(2)"""),
code("""def summarise(sw, labels):
    rows = []
    summ = sw.summary.set_index("scenario")
    for s in labels:
        a = sw.activity[sw.activity["scenario"] == s]
        mined = a[a["process"].map(stage) == "mining"]["activity"].sum()
        recycled = a[a["process"] == "recycling_swarf"]["activity"].sum()
        sup = sw.supply[sw.supply["scenario"] == s]
        pr = sw.prices[(sw.prices["scenario"] == s) & (sw.prices["commodity"] == "prnd_oxide") & (sw.prices["year"] == last)]
        un = sw.unmet[(sw.unmet["scenario"] == s)]["quantity"]
        rows.append({"scenario": s, "status": summ.loc[s, "status"], "objective": summ.loc[s, "objective"],
                     "swarf_recycled_t": recycled, "mined_t_REO": mined,
                     "myanmar_t_REO": sup[sup["commodity"] == "myanmar_ionic_concentrate"]["quantity"].sum(),
                     "prnd_stock_draw_t": sup[sup["commodity"] == "prnd_oxide"]["quantity"].sum(),
                     f"prnd_price_{last}": pr["price"].max(), "unmet_any": float(un.sum())})
    return pd.DataFrame(rows)

cap_tab = summarise(sw, [r.label for r in runs])
cap_tab.insert(1, "capacity_factor", [float("nan")] + factors)
cap_tab.round(3)"""),
code("""ok = cap_tab.iloc[1:]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
axes[0].plot(ok["capacity_factor"], ok["mined_t_REO"] / 1e3, marker="o")
axes[0].set_xlabel("existing recycling capacity, multiple")
axes[0].set_ylabel("kt REO mined, whole horizon")
axes[0].set_title("Mined REO")
axes[1].semilogy(ok["capacity_factor"], ok[f"prnd_price_{last}"], marker="o", color="C1")
axes[1].set_xlabel("existing recycling capacity, multiple")
axes[1].set_ylabel(f"{money} per t")
axes[1].set_title(f"PrNd oxide price {last} (highest region, log scale)")
plt.tight_layout()
plt.show()"""),
md("""## Sweep 2: swarf recovery

The oxide outputs of `recycling_swarf` (PrNd, Dy and Tb oxide per tonne of swarf) scaled
together; recycling plants may be built as in the base."""),
code("""def recovery(factor):
    return [scale("process_io", "coefficient", where={"process": "recycling_swarf", "commodity": c})(factor)
            for c in ["prnd_oxide", "dy_oxide", "tb_oxide"]]

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
    lines.append(f"- Recycling {base['swarf_recycled_t']:,.0f} t of swarf over {inst.first_year}-{last} saves only {saved:,.0f} t "
                 f"of mined REO ({100 * saved / none['mined_t_REO']:.1f} % of {none['mined_t_REO']:,.0f} t): mining runs at its "
                 f"quotas with or without recycling.")
    lines.append(f"- What recycling displaces is outside supply: Myanmar concentrate imports fall from {none['myanmar_t_REO']:,.0f} "
                 f"to {base['myanmar_t_REO']:,.0f} t REO and PrNd oxide from stocks and unrecorded production from "
                 f"{none['prnd_stock_draw_t']:,.0f} to {base['prnd_stock_draw_t']:,.0f} t.")
    lines.append(f"- The {last} PrNd oxide price is {none[f'prnd_price_{last}']:.3f} {money}/t with no recycling, "
                 f"{full[f'prnd_price_{last}']:.3f} with today's plants only and {base[f'prnd_price_{last}']:.3f} when new plants "
                 f"may be built; the total cost is {none['objective']:,.0f} against {base['objective']:,.0f} {money}"
                 + (f", and without recycling {none['unmet_any']:,.1f} units of end-use demand go unserved." if none["unmet_any"] > 1e-6 else "."))
enough = cap_tab.iloc[1:][cap_tab.iloc[1:]["unmet_any"] <= 1e-6]
if len(enough):
    lines.append(f"- {enough['capacity_factor'].iloc[0]:g} times today's recycling capacity is the least of the steps that serves "
                 f"every end use.")
lo, hi = rec_tab.iloc[0], rec_tab.iloc[-1]
lines.append(f"- Recovering {100 * rec_factors[0]:.0f} % instead of 100 % of the base yield raises the {last} PrNd price from "
             f"{hi[f'prnd_price_{last}']:.3f} to {lo[f'prnd_price_{last}']:.3f} {money}/t and the cost from "
             f"{hi['objective']:,.0f} to {lo['objective']:,.0f} {money}.")
print("\\n".join(lines))"""),
]


NB06 = [
md("""# 06 · The 2021–25 plan vs what happened

The default instance sees the chain from 2020, with demand as expected then. Three questions:

1. **What happened instead?** The named scenario `actual_demand_2021_2024` replaces the NEV,
   wind and e-bike demand of 2021–24 by the outcomes (NEV sales 3.5 M in 2021 to 12.9 M in
   2024, far above the view from 2020).
2. **What does the 100,000 t/y target cost?** Inner Mongolia's target of 100,000 t/y of magnet
   capacity by 2025 (`im_magnet_target`): the plan with and without it (`no_plan_target`), and
   the target's shadow price with the range over which it holds (`sensitivity`).
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
md("""## Four runs

Plan-view demand or actual demand, each with and without the magnet target."""),
code("""runs = [Scenario.base().relabel("plan"), Scenario.named("actual_demand_2021_2024").relabel("actual"),
        Scenario.named("no_plan_target").relabel("plan, no target"),
        Scenario.named("actual_demand_2021_2024", "no_plan_target").relabel("actual, no target")]
labels = [r.label for r in runs]
sw = sweep(inst, runs, progress=False)
obj = sw.objectives
sw.summary[["scenario", "status", "objective", "rebuilt", "seconds"]].round(2)"""),
code("""cap = sw.capacity
mag = cap[cap["process"] == "magnet_sintering"]
sinter = mag.pivot_table(index=["scenario", "region"], columns="year", values="total", aggfunc="sum").round(0)
display(sinter.loc[labels])
act = sw.activity
output = (act[act["process"].isin(["magnet_finishing", "magnet_bonded"])]
          .pivot_table(index="year", columns="scenario", values="activity", aggfunc="sum")[labels])
un = sw.unmet[sw.unmet["quantity"] > 1e-6].pivot_table(index=["scenario", "commodity"], columns="year",
                                                        values="quantity", aggfunc="sum")
print("magnet output (t):")
display(output.round(0))
print("unmet demand (units of each service):" if len(un) else "no demand unmet in any run")
un.round(2) if len(un) else None"""),
code("""pr = sw.prices[sw.prices["commodity"].isin(["prnd_oxide", "finished_magnet"]) & (sw.prices["region"] == "inner_mongolia")]
ptab = pr.pivot_table(index=["commodity", "scenario"], columns="year", values="price").round(4)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for ax, com in zip(axes, ["prnd_oxide", "finished_magnet"]):
    pr[pr["commodity"] == com].pivot_table(index="year", columns="scenario", values="price")[labels].plot(ax=ax, marker="o")
    ax.set_xticks(years)
    ax.set_title(f"{com}, Inner Mongolia")
    ax.set_ylabel(f"{money} per t")
plt.tight_layout()
plt.show()
ptab"""),
md("""## The cost of the 100,000 t/y target

The difference in total cost with and without the target, by cost component, then the target's
shadow price and its validity range from HiGHS ranging."""),
code("""costs = sw.costs.pivot_table(index="component", columns="scenario", values="discounted", aggfunc="sum")[labels]
costs.loc["total"] = costs.sum()
costs["target cost, plan"] = costs["plan"] - costs["plan, no target"]
costs["target cost, actual"] = costs["actual"] - costs["actual, no target"]
costs.round(1)"""),
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

`myopic(window=w, step=1)` plans `w` years ahead (here one and two) and commits one year at a time. With a one-year
window the planner of 2024 cannot see the 2025 target, yet sintering plants take a year to
build: if the 2025 window then finds the target out of reach, the run reports it. The same
with the target removed shows the cost of short sight alone."""),
code("""base_res = solve(inst)
no_target = inst.with_scenario("no_plan_target")
no_target_res = solve(no_target)
rows = []
for name, i, p in [("plan", inst, base_res), ("plan, no target", no_target, no_target_res)]:
    for w in [1, 2]:
        m = myopic(i, window=w, step=1, perfect=p)
        rows.append({"run": name, "window": w, "status": m.status, "myopic": m.objective if m.status == "optimal" else float("nan"),
                     "perfect": m.perfect_objective, "cost_of_myopia": m.cost_of_myopia if m.status == "optimal" else float("nan"),
                     "failed_window": "" if m.status == "optimal" else
                     "-".join(map(str, m.windows[m.windows["status"] != "optimal"][["start", "end"]].iloc[0]))})
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
lines.append(f"- The scenario changes demand in {int(changed.min())}-{yr} only. Magnet output in {yr}: {out_yr['plan']:,.0f} t in the "
             f"plan view, {out_yr['actual']:,.0f} t with actual demand ({100 * (out_yr['actual'] / out_yr['plan'] - 1):+.1f} %).")
im = sinter.xs("inner_mongolia", level="region")
lines.append(f"- Inner Mongolia's sintering capacity in {yr}: {im.loc['plan', yr]:,.0f} t/y (plan view) and {im.loc['actual', yr]:,.0f} t/y "
             f"(actual demand); without the target {im.loc['plan, no target', last]:,.0f} and {im.loc['actual, no target', last]:,.0f} t/y in {last}.")
for v in ["plan", "actual"]:
    c = obj[v] - obj[f"{v}, no target"]
    lines.append(f"- The 100,000 t/y target costs {c:,.0f} {money} ({100 * c / obj[f'{v}, no target']:.2f} % of the total) "
                 f"with {v} demand.")
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
    parts = [(f"window {int(x.window)}: {x.cost_of_myopia:,.0f} {money} ({x['myopia_%']:+.1f} %)" if x.status == "optimal"
              else f"window {int(x.window)}: no plan, the {x.failed_window} window is {x.status} with what earlier windows built")
             for _, x in sub.iterrows()]
    lines.append(f"- Cost of myopia ({name}): " + "; ".join(parts) + ".")
print("\\n".join(lines))"""),
]


NB07 = [
md("""# 07 · Monte Carlo: 1,000 futures of the 2021–25 plan

Four uncertain inputs of the default instance, drawn together 1,000 times from a fixed seed:
NEV demand (lognormal around the plan view), wind demand (both drive types, uniform), the cap on
Myanmar ionic-clay imports (uniform) and the capex of magnet sintering (triangular). Every draw
changes numbers only, so the sweep keeps one LP inside HiGHS and changes its bounds and costs in
place (`rechain.model.params`), warm-starting each re-solve. Out come distributions of the
capacity built and of the prices, and which input moves them most. The numbers are estimates of
ranges, not forecasts: the distributions below are assumptions chosen for illustration."""),
code("""%matplotlib inline
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from rechain import instances
from rechain.model import load_instance
from rechain.model.scenarios import lognormal, sample, scale, triangular, uniform
from rechain.solvers import sweep

pd.set_option("display.width", 160)
inst = load_instance(instances.path())
money = inst.units.get("money", "money")
last = inst.last_year

def wind(v):
    return [scale("demand", "quantity", where={"commodity": c})(v) for c in ("wind_direct_drive", "wind_medium_speed")]

runs = sample(
    1000, seed=7,
    nev=(scale("demand", "quantity", where={"commodity": "nev"}), lognormal(0.0, 0.15)),
    wind=(wind, uniform(0.5, 1.3)),
    myanmar=(scale("supply", "max_quantity", where={"commodity": "myanmar_ionic_concentrate"}), uniform(0.3, 1.2)),
    sinter_capex=(scale("processes", "capex", where={"process": "magnet_sintering"}), triangular(0.8, 1.0, 1.5)),
)
t = time.perf_counter()
sw = sweep(inst, runs, workers=1, progress=False, tables=["capacity", "prices", "policies", "costs"])
seconds = time.perf_counter() - t
print(f"{len(runs)} scenarios in {seconds:.1f} s ({len(runs) / seconds:.0f} per second); "
      f"{int(sw.summary['rebuilt'].sum())} rebuilt; statuses: {sw.summary['status'].value_counts().to_dict()}")
sw.parameters.describe().round(3)"""),
md("## Capacity built by 2025"),
code("""cap = sw.capacity.merge(inst.processes[["process", "stage"]], on="process")
sinter = cap[(cap["process"] == "magnet_sintering") & (cap["year"] == last)]
per = sinter.pivot_table(index="scenario", columns="region", values="total", aggfunc="sum")
per["all regions"] = per.sum(axis=1)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
per["inner_mongolia"].plot.hist(bins=40, ax=axes[0], title=f"Sintering capacity, Inner Mongolia, {last} (t/y)")
per["all regions"].plot.hist(bins=40, ax=axes[1], title=f"Sintering capacity, all regions, {last} (t/y)")
plt.tight_layout()
plt.show()
per.describe(percentiles=[0.05, 0.5, 0.95]).round(0)"""),
md("## Prices in 2025"),
code("""pr = sw.prices[(sw.prices["year"] == last) & (sw.prices["region"] == "inner_mongolia")]
pr = pr[pr["commodity"].isin(["prnd_oxide", "dy_oxide", "tb_oxide", "ndfeb_alloy"])]
ptab = pr.pivot_table(index="scenario", columns="commodity", values="price")
fig, axes = plt.subplots(1, len(ptab.columns), figsize=(3.6 * len(ptab.columns), 3.2))
for ax, com in zip(np.atleast_1d(axes), ptab.columns):
    ptab[com].plot.hist(bins=40, ax=ax, title=com)
    ax.set_xlabel(f"{money} per t")
plt.tight_layout()
plt.show()
ptab.describe(percentiles=[0.05, 0.5, 0.95]).round(4)"""),
md("""## Which input matters

Rank correlations (Spearman) between each drawn input and the outputs, over the 1,000 draws."""),
code("""par = sw.parameters.set_index("scenario")
target = sw.policies[(sw.policies["policy"] == "im_magnet_target") & (sw.policies["year"] == last)].set_index("scenario")["shadow_price"]
total = sw.costs.groupby("scenario")["discounted"].sum()
out = pd.DataFrame({"IM sintering": per["inner_mongolia"], "all sintering": per["all regions"],
                    "PrNd oxide price": ptab.get("prnd_oxide"), "Dy oxide price": ptab.get("dy_oxide"),
                    "target shadow price": target, "total cost": total})
corr = pd.concat([par, out], axis=1).corr(method="spearman").loc[par.columns, out.columns]
corr.round(2)"""),
md("## Conclusion"),
code("""lines = []
im, allr = per["inner_mongolia"], per["all regions"]
lines.append(f"- {len(runs)} draws solved in {seconds:.0f} s, all optimal: {bool(sw.ok)}.")
lines.append(f"- Inner Mongolia's sintering capacity in {last}: median {im.median():,.0f} t/y, 90 % of draws between "
             f"{im.quantile(0.05):,.0f} and {im.quantile(0.95):,.0f} t/y; all regions {allr.quantile(0.05):,.0f}-{allr.quantile(0.95):,.0f} t/y.")
binds = (target.abs() > 1e-9).mean()
lines.append(f"- The 100,000 t/y target binds in {100 * binds:.0f} % of the draws.")
def driver(col):
    c = corr[col].dropna()
    if not len(c):
        return f"it does not vary over the draws"
    k = c.abs().idxmax()
    return f"the input most correlated with it is '{k}' (Spearman {c[k]:+.2f})"
for com, col in [("prnd_oxide", "PrNd oxide price"), ("dy_oxide", "Dy oxide price")]:
    if com in ptab.columns:
        x = ptab[com]
        lines.append(f"- {com} price in {last}: median {x.median():,.4g} {money}/t, 90 % range {x.quantile(0.05):,.4g}-{x.quantile(0.95):,.4g}; "
                     f"{driver(col)}.")
lines.append(f"- Total cost: {driver('total cost')}.")
lines.append(f"- Inner Mongolia's sintering capacity: {driver('IM sintering')}.")
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
