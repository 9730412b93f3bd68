"""The report of a results folder: one self-contained ``report.html`` (plotly.js embedded, so it
opens offline) and the same charts as PNG files (matplotlib) for documents.

Charts: material flows (a Sankey a year, chosen with a slider), capacity by stage and region
(existing vs new), utilisation, prices (balance shadow prices) by commodity over time, unmet
demand, binding policies with their shadow prices, and the cost breakdown. The chain graph
drawn by ``rechain graph`` lives here too, laid out by the same stages.

The report reads only the results folder (see :mod:`rechain.solvers.export`): the result
tables, ``summary.json`` and the solved instance in ``instance/`` (stages, units, kinds).
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from rechain.model import Problem

from .export import ResultsError, read_instance_tables, read_results

STAGES = ["mining", "beneficiation", "separation", "metal", "alloy", "magnet", "recycling", "end_use"]
STAGE_COLOURS = {
    "mining": "#8c564b", "beneficiation": "#bcbd22", "separation": "#1f77b4", "metal": "#7f7f7f",
    "alloy": "#9467bd", "magnet": "#d62728", "recycling": "#2ca02c", "end_use": "#ff7f0e",
}
KIND_COLOURS = {"raw": "#a67c52", "material": "#6baed6", "product": "#fb6a4a", "service": "#fdae6b", "waste": "#74c476"}
OTHER = "#999999"
#: the columns of the solved instance (``instance/`` of a results folder) the report reads
INSTANCE_COLUMNS = {"processes": ("process", "stage"), "commodities": ("commodity", "unit", "kind"),
                    "process_io": ("process", "commodity", "reference")}
CHARTS = ["sankey", "capacity", "utilisation", "prices", "unmet", "policies", "costs"]
#: charts of the format v2 results, shown where the plan has something to show
OPTIONAL_CHARTS = ["investment", "stocks", "demand_response"]
TITLES = {
    "sankey": "Material flows",
    "capacity": "Capacity by process and region (existing vs new)",
    "utilisation": "Utilisation of capacity",
    "prices": "Prices (shadow prices of the commodity balances)",
    "unmet": "Unmet demand",
    "policies": "Binding policies and their shadow prices",
    "costs": "Cost breakdown",
    "investment": "Capital committed to new plant",
    "stocks": "Stocks at the end of each year",
    "demand_response": "Demand given up on the demand curves",
}


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


class Data:
    """What the charts need from a results folder."""

    def __init__(self, results_dir: str | Path):
        self.dir = Path(results_dir)
        self.summary, self.t = read_results(self.dir)
        inst = read_instance_tables(self.dir)
        problems = [Problem(str(self.dir / "instance" / f"{name}.csv"), "missing column", column=c)
                    for name, cols in INSTANCE_COLUMNS.items() if name in inst for c in cols if c not in inst[name].columns]
        self.processes = inst.get("processes", pd.DataFrame(columns=["process", "name", "stage"]))
        self.commodities = inst.get("commodities", pd.DataFrame(columns=["commodity", "unit", "kind"]))
        self.demand = inst.get("demand", pd.DataFrame(columns=["commodity", "region", "year", "quantity"]))
        self.storage = inst.get("storage", pd.DataFrame(columns=["commodity", "region", "initial"]))
        self.money = ""
        yml = self.dir / "instance" / "instance.yaml"
        self.title = ""
        self.base_year = None  # the year money is discounted to (instance.yaml's base_year)
        if yml.is_file():
            import yaml

            try:
                s = yaml.safe_load(yml.read_text(encoding="utf-8")) or {}
            except (yaml.YAMLError, UnicodeDecodeError) as e:
                mark = getattr(e, "problem_mark", None)
                problems.append(Problem(str(yml), f"not valid YAML: {getattr(e, 'problem', None) or e}",
                                        row=mark.line + 1 if mark else None))
                s = {}
            if not isinstance(s, dict):
                problems.append(Problem(str(yml), f"expected a mapping of settings, found a {type(s).__name__}"))
                s = {}
            units = s.get("units") if isinstance(s.get("units"), dict) else {}
            self.money = str(units.get("money") or "")
            self.title = str(s.get("title") or "")
            by = s.get("base_year")
            self.base_year = by if isinstance(by, int) and not isinstance(by, bool) else None
        if problems:
            raise ResultsError(problems)
        self.stage = dict(zip(self.processes["process"], self.processes["stage"]))
        self.unit = dict(zip(self.commodities["commodity"], self.commodities["unit"].fillna("")))
        self.kind = dict(zip(self.commodities["commodity"], self.commodities["kind"]))
        cap = self.t["capacity"]
        self.years = sorted(int(y) for y in pd.unique(self.t["costs"]["year"])) if len(self.t["costs"]) else sorted(int(y) for y in pd.unique(cap["year"]))

        self.process_io = inst.get("process_io", pd.DataFrame(columns=["process", "commodity", "direction", "coefficient", "reference"]))
        plant = self.processes["capacity"] if "capacity" in self.processes.columns else pd.Series(True, index=self.processes.index)
        self.plant = {p: str(v).strip().lower() not in ("false", "0", "no", "0.0")
                      for p, v in zip(self.processes["process"], plant)}
        units = cap[["process", "unit"]].dropna() if "unit" in cap.columns else pd.DataFrame(columns=["process", "unit"])
        self._cap_unit = dict(zip(units["process"], units["unit"].astype(str)))
        self.policy_unit, self.share_policies = self._policy_units(inst.get("policies"))

    def _policy_units(self, policies) -> tuple[dict[str, str], set[str]]:
        """The unit of what each policy sums (the policies table's ``unit`` column where the
        results have one, else from the instance as solved: :func:`rechain.model.units.policy_units`)
        and the policies whose value is a share."""
        from rechain.model.units import policy_units, share_policies

        need = {"policy", "kind", "processes", "commodities"}
        known = policies is not None and need <= set(policies.columns)
        shares = share_policies(policies) if known else set()
        res = self.t["policies"]
        if "unit" in res.columns:
            return dict(zip(res["policy"], res["unit"].fillna("").astype(str))), shares
        if not known:
            return {}, shares
        io = self.process_io
        ref = io[io["reference"].astype(str).str.lower().isin(["true", "1", "yes"])]
        process_unit = {p: self.unit.get(c, "") for p, c in zip(ref["process"], ref["commodity"])}
        return policy_units(policies, self.unit, process_unit), shares

    def policy_value_unit(self, policy: str) -> str:
        """The unit of what the policy sums (its slack's)."""
        return self.policy_unit.get(policy, "") or "the policy's unit"

    def policy_price_unit(self, policy: str) -> str:
        """The unit of the policy's shadow price: money per unit more of its value."""
        from rechain.model.units import shadow_price_unit

        return shadow_price_unit(self.money, self.policy_unit.get(policy, ""), policy in self.share_policies)

    @property
    def reo(self) -> dict[str, float]:
        """t of rare-earth oxide per unit of each commodity (:func:`rechain.solvers.sankey.re_content`)."""
        if not hasattr(self, "_reo"):
            from .sankey import re_content

            self._reo = re_content(self.process_io, self.unit, self.kind, self.stage, stage_rank)
        return self._reo

    @property
    def basis(self) -> str:
        """The Sankey's first basis: t REO where the chain holds rare earths, else t."""
        return "reo" if any(v > 0 for v in self.reo.values()) else "t"

    def has_plant(self, p: str) -> bool:
        """False for a process without plant (``capacity`` false in processes.csv)."""
        return self.plant.get(p, True)

    def capacity_unit(self, p: str) -> str:
        """The unit of a process's capacity (its reference commodity's unit; a year implied)."""
        if self._cap_unit.get(p):
            return self._cap_unit[p]
        io = self.process_io
        ref = io[(io["process"] == p) & io["reference"].astype(str).str.lower().isin(["true", "1", "yes"])]
        return self.unit.get(ref["commodity"].iloc[0], "") if len(ref) else ""

    def stage_of(self, p: str) -> str:
        return self.stage.get(p, "other")

    def stages(self) -> list[str]:
        used = list(dict.fromkeys(self.stage_of(p) for p in self.t["capacity"]["process"]))
        return [s for s in STAGES if s in used] + [s for s in used if s not in STAGES]


def stage_rank(stage: str) -> float:
    if stage in STAGES:
        i = STAGES.index(stage)
        return i if stage != "end_use" else len(STAGES)
    return STAGES.index("recycling") - 0.5  # a stage rechain does not know: between magnets and recycling


# --------------------------------------------------------------------------------------------
# Sankey links
# --------------------------------------------------------------------------------------------

SUPPLY_NODE, DEMAND_NODE, DISPOSAL_NODE, STOCK_NODE = "outside supply", "final demand", "disposal", "stock"
#: the bases a Sankey can be drawn in: every tonne, or the tonnes of rare-earth oxide they hold
BASES = {"reo": "t REO (rare-earth content)", "t": "t (all material)"}


def sankey_links(d: Data, year: int, basis: str = "t") -> pd.DataFrame:
    """Links (source, target, value, unit) of the material flows of ``year``, summed over
    regions: commodity → process for inputs, process → commodity for outputs, outside supply →
    commodity, commodity → disposal, commodity → stock (stock built) or stock → commodity
    (stock drawn), and commodity → final demand for what is left (a commodity's make + buy −
    use − disposal − stock built). Services (kind ``service``, e.g. vehicles) are not material:
    the end-use processes are the sinks of the chain.

    ``basis`` ``"t"``: each flow in its commodity's unit; ``"reo"``: in t of rare-earth oxide
    (each flow times its commodity's :attr:`Data.reo`; iron, boron, binder weigh nothing and
    their links are dropped)."""
    if basis not in BASES:
        raise ValueError(f"unknown Sankey basis {basis!r} (expected one of {', '.join(BASES)})")
    f = d.t["flows"]
    f = f[(f["year"] == year) & (f["quantity"] > 1e-9)]
    f = f[f["commodity"].map(lambda c: d.kind.get(c) != "service").astype(bool)]  # bool even when empty
    g = f.groupby(["process", "commodity", "direction"], as_index=False)["quantity"].sum()
    links = []
    for p, c, dr, q in g.itertuples(index=False, name=None):
        links.append(("c:" + c, "p:" + p, q) if dr == "in" else ("p:" + p, "c:" + c, q))
    net: dict[str, float] = {}
    for p, c, dr, q in g.itertuples(index=False, name=None):
        net[c] = net.get(c, 0.0) + (q if dr == "out" else -q)
    s = d.t["supply"]
    s = s[(s["year"] == year) & (s["quantity"] > 1e-9)].groupby("commodity")["quantity"].sum()
    for c, q in s.items():
        if d.kind.get(c) == "service":
            continue
        links.append(("x:" + SUPPLY_NODE, "c:" + c, q))
        net[c] = net.get(c, 0.0) + q
    disp = d.t["disposal"]
    disp = disp[(disp["year"] == year) & (disp["quantity"] > 1e-9)].groupby("commodity")["quantity"].sum()
    for c, q in disp.items():
        links.append(("c:" + c, "x:" + DISPOSAL_NODE, q))
        net[c] = net.get(c, 0.0) - q
    for c, q in stock_change(d, year).items():
        if d.kind.get(c) == "service" or abs(q) <= 1e-9:
            continue
        links.append(("c:" + c, "x:" + STOCK_NODE, q) if q > 0 else ("x:" + STOCK_NODE, "c:" + c, -q))
        net[c] = net.get(c, 0.0) - q
    for c, q in net.items():
        if q > 1e-6 * max(1.0, abs(q)) and d.kind.get(c) != "service":
            links.append(("c:" + c, "x:" + DEMAND_NODE, q))
    out = pd.DataFrame(links, columns=["source", "target", "value"])
    com = [s[2:] if s.startswith("c:") else t[2:] for s, t in zip(out["source"], out["target"])]
    if basis == "reo":
        out["value"] = out["value"] * [d.reo.get(c, 0.0) for c in com]
        keep = (out["value"] > 1e-9).to_numpy()
        out = out[keep].reset_index(drop=True)
        out["unit"] = "t REO"
    else:
        out["unit"] = [d.unit.get(c, "") for c in com]
    return out


def stock_change(d: Data, year: int) -> dict[str, float]:
    """Stock built (> 0) or drawn (< 0) in ``year`` by commodity, summed over regions: the
    end-of-year level less the level a year before (the ``initial`` of storage.csv before the
    first year)."""
    st = d.t.get("stock")
    if st is None or not len(st):
        return {}
    now = st[st["year"] == year].groupby("commodity")["level"].sum()
    if d.years and year == d.years[0]:
        ini = d.storage[["commodity", "initial"]].copy() if "initial" in d.storage.columns else pd.DataFrame(columns=["commodity", "initial"])
        before = pd.to_numeric(ini["initial"], errors="coerce").fillna(0.0).groupby(ini["commodity"]).sum()
    else:
        before = st[st["year"] == year - 1].groupby("commodity")["level"].sum()
    return {c: float(now.get(c, 0.0) - before.get(c, 0.0)) for c in sorted(set(now.index) | set(before.index))}


def node_colour(d: Data, node: str) -> str:
    kind, name = node[:1], node[2:]
    if kind == "p":
        return STAGE_COLOURS.get(d.stage_of(name), OTHER)
    if kind == "c":
        return KIND_COLOURS.get(d.kind.get(name, ""), OTHER)
    return "#444444"


def node_info(d: Data, node: str):
    """(label, colour, role, stage rank) of a Sankey node."""
    kind, name = node[:1], node[2:]
    role = {"p": "process", "c": "commodity"}.get(kind, "end")
    return name, node_colour(d, node), role, stage_rank(d.stage_of(name)) if kind == "p" else None


SANKEY_WIDTH, SANKEY_HEIGHT, SANKEY_FONT = 1280, 900, 10.5  # 1,296 px with its margins: fits a 1,366 px screen with a scrollbar


def sankey_geometry(d: Data, year: int, basis: str, width: float = SANKEY_WIDTH, height: float = SANKEY_HEIGHT,
                    font_px: float = SANKEY_FONT):
    from .sankey import layout

    L = sankey_links(d, year, basis)
    return layout(L, lambda n: node_info(d, n), width=width, height=height, font_px=font_px,
                  local_ends=("x:" + SUPPLY_NODE, "x:" + DISPOSAL_NODE, "x:" + STOCK_NODE))


def sankey_title(d: Data, year: int, basis: str) -> str:
    return f"Material flows in {year}, in {BASES[basis]}, summed over regions"


def fmt_num(v) -> str:
    """One number format for tables: four significant digits, thousands separated, never an
    exponent (6,000 and 19,850 and -0.06843, not 1.985e+04); blank for a missing value."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(v):
        return "" if math.isnan(v) else str(v)
    if v == 0:
        return "0"
    decimals = min(8, max(0, 3 - math.floor(math.log10(abs(v)))))
    out = f"{v:,.{decimals}f}"
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return "0" if out in ("-0", "") else out


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    return f"rgba({int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha})"


# --------------------------------------------------------------------------------------------
# Plotly figures (for report.html)
# --------------------------------------------------------------------------------------------


def sankey_figure(d: Data, year: int, basis: str):
    """The plotly figure (a plain dict, as plotly.js reads it) of one year's Sankey in one basis:
    bands and nodes as shapes, labels as annotations, hover points on nodes and bands (their
    value and unit)."""
    from .sankey import FONT_FAMILY, SEP, svg_path

    g = sankey_geometry(d, year, basis)
    unit = "t REO" if basis == "reo" else None
    top, side = 60, 8
    shapes, hx, hy, ht = [], [], [], []
    for b in g.bands:
        shapes.append(dict(type="path", path=svg_path(b.path), fillcolor=_rgba(b.colour, 0.45 if b.returning else 0.35),
                           line=dict(width=0), layer="below"))
        u = unit or d.unit.get((b.source if b.source.startswith("c:") else b.target)[2:], "")
        hx.append(b.mid[0])
        hy.append(b.mid[1])
        ht.append(html.escape(f"{g.nodes[b.source].label} → {g.nodes[b.target].label}: {fmt_num(b.value)} {u}", quote=False)
                  + (" (returned up the chain)" if b.returning else ""))
    for n in g.nodes.values():
        shapes.append(dict(type="rect", x0=n.x0, x1=n.x1, y0=n.y0, y1=max(n.y1, n.y0 + 1), fillcolor=n.colour, line=dict(width=0)))
        beside = n.id.split(SEP)[1][2:] if SEP in n.id else n.label  # supply, disposal, stock: their commodity's unit
        u = unit or (d.unit.get(beside, "") if n.role != "process" else "")
        hx.append((n.x0 + n.x1) / 2)
        hy.append((n.y0 + n.y1) / 2)
        name = f"{n.label} of {beside}" if SEP in n.id else n.label  # six nodes may read "stock": say whose
        ht.append(html.escape(f"{name}: {fmt_num(n.value)} {u}".rstrip() + (f" ({d.stage_of(n.label)})" if n.role == "process" else ""), quote=False))
    notes = [dict(x=(lab.x0 + lab.x1) / 2, y=(lab.y0 + lab.y1) / 2, xref="x", yref="y", text=html.escape(lab.text, quote=False).replace("\n", "<br>"),
                  showarrow=False, xanchor="center", yanchor="middle", textangle=-lab.angle, align="left",
                  font=dict(size=g.font_px, family=FONT_FAMILY, color="#222"), bgcolor="rgba(255,255,255,0.7)", borderpad=0)
             for lab in g.labels]
    trace = dict(type="scatter", x=hx, y=hy, mode="markers", marker=dict(size=9, opacity=0), hovertext=ht, hoverinfo="text",
                 showlegend=False, name="flows")
    layout = dict(
        title=dict(text=html.escape(sankey_title(d, year, basis), quote=False), x=0, xanchor="left", y=0.99, yanchor="top"),
        width=g.width + 2 * side, height=g.height + top + 10, autosize=False, margin=dict(l=side, r=side, t=top, b=10),
        xaxis=dict(range=[0, g.width], visible=False, fixedrange=True),
        yaxis=dict(range=[g.height, 0], visible=False, fixedrange=True),
        plot_bgcolor="white", paper_bgcolor="white", shapes=shapes, annotations=notes, hovermode="closest",
        meta=dict(key=g.key, basis=basis, year=year),
    )
    return dict(data=[trace], layout=layout)


def _fig_sankey(d: Data):
    """The Sankey of the last year in t REO; the others (each year, each basis) are in
    :func:`sankey_variants`, which the page switches between."""
    if not d.years:
        return dict(data=[], layout=dict(title=dict(text="Material flows (no year to show)")))
    return sankey_variants(d)[d.basis][str(d.years[-1])]


def sankey_variants(d: Data) -> dict:
    """The Sankey figure of every year in every basis (``{basis: {year: figure}}``)."""
    if not hasattr(d, "_sankeys"):
        d._sankeys = {basis: {str(y): sankey_figure(d, y, basis) for y in d.years} for basis in BASES}
    return d._sankeys


def capacity_by_process(d: Data) -> pd.DataFrame:
    """Capacity of each process with plant (existing and new online) by region and year, in the
    unit of its reference commodity a year; processes without plant (``capacity`` false) and
    processes with no capacity anywhere are left out, so no two units are ever added up."""
    cap = d.t["capacity"].copy()
    cap = cap[cap["process"].map(d.has_plant)]
    used = cap.groupby("process")["total"].apply(lambda v: (v.abs() > 1e-9).any())
    cap = cap[cap["process"].map(used).fillna(False).astype(bool)]
    cap["existing"] = cap["residual"]
    cap["new_online"] = (cap["total"] - cap["residual"]).clip(lower=0)
    return cap[["process", "region", "year", "existing", "new_online"]]


def capacity_processes(d: Data) -> list[str]:
    """The processes of the capacity chart in chain order (by stage, then by name)."""
    procs = set(capacity_by_process(d)["process"])
    return sorted(procs, key=lambda p: (stage_rank(d.stage_of(p)), p))


def capacity_title(d: Data, p: str) -> str:
    return f"{p} ({d.stage_of(p)}; {d.capacity_unit(p)}/y)"


def _fig_capacity(d: Data):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    cs = capacity_by_process(d)
    procs = capacity_processes(d)
    regions = list(dict.fromkeys(cs["region"]))
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    ncols = 3
    nrows = max(1, math.ceil(len(procs) / ncols))
    fig = make_subplots(rows=nrows, cols=ncols, subplot_titles=[capacity_title(d, p) for p in procs] or None,
                        vertical_spacing=min(0.12, 0.5 / max(nrows, 1)), horizontal_spacing=0.07)
    shown: set[str] = set()
    for i, p in enumerate(procs):
        r, c = i // ncols + 1, i % ncols + 1
        sub = cs[cs["process"] == p]
        unit = d.capacity_unit(p)
        for k, reg in enumerate(regions):
            g = sub[sub["region"] == reg].sort_values("year")
            if not len(g) or not (g[["existing", "new_online"]].to_numpy() > 1e-9).any():
                continue
            col = palette[k % len(palette)]
            x = [str(int(y)) for y in g["year"]]
            fig.add_trace(go.Bar(x=x, y=g["existing"], name=f"{reg} existing", legendgroup=f"{reg} existing",
                                 marker_color=col, showlegend=reg not in shown,
                                 hovertemplate=f"{p} in {reg} %{{x}}: %{{y:,.4~g}} {unit}/y existing<extra></extra>"), row=r, col=c)
            fig.add_trace(go.Bar(x=x, y=g["new_online"], name=f"{reg} new", legendgroup=f"{reg} new",
                                 marker=dict(color=col, opacity=0.45, pattern_shape="/"), showlegend=reg not in shown,
                                 hovertemplate=f"{p} in {reg} %{{x}}: %{{y:,.4~g}} {unit}/y new<extra></extra>"), row=r, col=c)
            shown.add(reg)
        fig.update_yaxes(title_text=f"{unit}/y", title_font_size=10, row=r, col=c)
    fig.update_annotations(font_size=11)
    fig.update_layout(barmode="stack", height=max(320, 250 * nrows + 80), margin=dict(l=10, r=10, t=80, b=10),
                      title="Capacity of each process by region: existing and new online (unit of the process a year)")
    return fig


def utilisation(d: Data) -> pd.DataFrame:
    cap = d.t["capacity"]
    cap = cap[cap["process"].map(d.has_plant).astype(bool)]  # a process without plant has no capacity to use
    g = cap.groupby(["process", "year"], as_index=False)[["total"]].sum()
    act = d.t["activity"].groupby(["process", "year"], as_index=False)["activity"].sum()
    g = g.merge(act, on=["process", "year"], how="left").fillna({"activity": 0.0})
    g["utilisation"] = np.where(g["total"] > 1e-12, g["activity"] / g["total"].where(g["total"] > 1e-12, 1.0), np.nan)
    g["stage"] = g["process"].map(d.stage_of)
    g["rank"] = g["stage"].map(stage_rank)
    order = g.drop_duplicates("process").sort_values(["rank", "process"])["process"].tolist()
    m = g.pivot(index="process", columns="year", values="utilisation").reindex(order)
    return m


def _fig_utilisation(d: Data):
    import plotly.graph_objects as go

    m = utilisation(d)
    fig = go.Figure(go.Heatmap(z=m.values * 100, x=[str(c) for c in m.columns], y=list(m.index), zmin=0, zmax=100, colorscale="Viridis",
                               colorbar=dict(title="%", ticksuffix=" %"),
                               hovertemplate="%{y} %{x}: %{z:.0f} %<extra></extra>"))
    fig.update_layout(height=max(300, 22 * len(m) + 140), margin=dict(l=10, r=10, t=50, b=10), yaxis=dict(autorange="reversed"),
                      title="Utilisation: activity ÷ capacity (%)", xaxis=dict(type="category", title="year"))
    return fig


def _price_commodities(d: Data) -> list[str]:
    p = d.t["prices"]
    order = p.groupby("commodity")["price"].apply(lambda s: s.abs().max()).sort_values(ascending=False)
    kinds = {"raw": 0, "material": 1, "product": 2, "waste": 3, "service": 4}
    coms = sorted(order.index, key=lambda c: (kinds.get(d.kind.get(c, ""), 5), c))
    first = first_price_commodity(coms)
    return [first] + [c for c in coms if c != first] if first else coms


def first_price_commodity(coms: list[str]) -> str | None:
    """The price the report shows first: PrNd oxide where the chain has it (the price the
    magnet chain turns on), else the first oxide, else the first commodity."""
    for pick in (lambda c: c == "prnd_oxide", lambda c: c.endswith("_oxide"), lambda c: True):
        for c in coms:
            if pick(c):
                return c
    return None


def _fig_prices(d: Data):
    import plotly.graph_objects as go

    p = d.t["prices"]
    coms = _price_commodities(d)
    fig = go.Figure()
    owner = []
    for i, c in enumerate(coms):
        for reg, g in p[p["commodity"] == c].groupby("region"):
            g = g.sort_values("year")
            fig.add_trace(go.Scatter(x=g["year"], y=g["price"], mode="lines+markers", name=reg, visible=(i == 0),
                                     hovertemplate=f"{c} in {reg} %{{x}}: %{{y:,.4~g}} {d.money}/{d.unit.get(c, 'unit')}<extra></extra>"))
            owner.append(i)
    buttons = []
    for i, c in enumerate(coms):
        buttons.append(dict(method="update", label=c, args=[{"visible": [o == i for o in owner]},
                                                            {"yaxis.title.text": f"{d.money} per {d.unit.get(c, 'unit')}",
                                                             "title.text": f"Price of {c} ({d.money} per {d.unit.get(c, 'unit')})"}]))
    fig.update_layout(
        title=f"Price of {coms[0]} ({d.money} per {d.unit.get(coms[0], 'unit')})" if coms else "Prices",
        updatemenus=[dict(buttons=buttons, direction="down", x=1.0, xanchor="right", y=1.15, yanchor="top")] if coms else [],
        yaxis_title=f"{d.money} per {d.unit.get(coms[0], 'unit')}" if coms else "", xaxis=dict(dtick=1, title="year"),
        height=420, margin=dict(l=10, r=10, t=60, b=10),
    )
    return fig


def _fig_unmet(d: Data):
    import plotly.graph_objects as go

    u = d.t["unmet"]
    u = u[u["quantity"] > 1e-9]
    fig = go.Figure()
    for (c, r), g in u.groupby(["commodity", "region"]):
        fig.add_trace(go.Bar(x=[str(int(y)) for y in g["year"]], y=g["quantity"], name=f"{c} in {r} ({d.unit.get(c, '')})",
                             hovertemplate=f"{c} in {r} %{{x}}: %{{y:,.4~g}} {d.unit.get(c, '')}<extra></extra>"))
    if not len(u):
        what = units_of(d, d.demand["commodity"])
        fig.add_annotation(text=f"all demand is met in every year<br><span style='font-size:11px'>(demand in {html.escape(what, quote=False)})</span>",
                           showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font=dict(size=16))
        fig.add_trace(go.Bar(x=[str(y) for y in d.years], y=[0] * len(d.years), name="unmet", showlegend=False, hoverinfo="skip"))
        title, axis = "Unmet demand: none", dict(title="unmet", showticklabels=False)
    else:
        what = units_of(d, u["commodity"])
        title, axis = f"Unmet demand ({what})", dict(title=f"unmet ({what})" if len(what) < 40 else "unmet (unit in the legend)", rangemode="tozero")
    fig.update_layout(barmode="group", height=360, margin=dict(l=10, r=10, t=50, b=10), title=title, yaxis=axis,
                      xaxis=dict(type="category", categoryorder="array", categoryarray=[str(y) for y in d.years], title="year"))
    return fig


def units_of(d: Data, commodities) -> str:
    """The unit of a chart of these commodities' quantities: the one unit they share, else
    each of them (a chart never adds them up)."""
    units = sorted({d.unit.get(c, "") for c in commodities} - {""})
    if len(units) == 1:
        return units[0]
    return "each in its own unit: " + "; ".join(units) if units else "no unit"


def binding_policies(d: Data) -> pd.DataFrame:
    pol = d.t["policies"]
    return pol[(pol["shadow_price"].abs() > 1e-9) | (pol["violation"] > 1e-9) | (pol["slack"].abs() <= 1e-7)].copy()


def policy_groups(d: Data, b: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Binding policy rows grouped by the unit of their shadow price (money per unit of the
    policy's value), largest group first: one chart axis a unit, never unlike units on one."""
    unit = b["policy"].map(d.policy_price_unit)
    groups = [(u, b[unit == u]) for u in pd.unique(unit)]
    return sorted(groups, key=lambda g: -len(g[1]))


#: rows of the policy table shown at once; the rest scroll (the shipped instances have hundreds of share tiers)
TABLE_ROWS = 30


def _fig_policies(d: Data):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    pol = d.t["policies"]
    b = binding_policies(d)
    groups = policy_groups(d, b) if len(b) else []
    bar_hs = [max(120, 22 * len(g) + 50) for _, g in groups] or [160]
    table_h = 28 * (min(len(pol), TABLE_ROWS) + 1) + 20  # a longer table scrolls within its box
    gap = 100  # px between charts: room for the tick labels, the axis title and the next title
    heights = bar_hs + [table_h]
    titles = [f"binding policies: shadow price ({u})" for u, _ in groups] or ["binding policies"]
    fig = make_subplots(rows=len(heights), cols=1, row_heights=heights, vertical_spacing=gap / (sum(heights) + gap * (len(heights) - 1)),
                        specs=[[{"type": "xy"}]] * len(bar_hs) + [[{"type": "table"}]],
                        subplot_titles=titles + ["every policy row (slack and violation in the policy's unit)"])
    for i, (unit, g) in enumerate(groups, start=1):
        lab = [f"{p} {int(y)}" for p, y in zip(g["policy"], g["year"])]
        fig.add_trace(go.Bar(y=lab, x=g["shadow_price"], orientation="h", marker_color="#d62728", name="shadow price",
                             hovertemplate=f"%{{y}}: %{{x:,.4~g}} {unit}<extra></extra>"), row=i, col=1)
        fig.update_xaxes(title_text=unit, row=i, col=1)
        fig.update_yaxes(autorange="reversed", automargin=True, row=i, col=1)
    fig.add_trace(go.Table(
        columnwidth=[4, 1, 2, 2, 2, 2],
        header=dict(values=["policy", "year", f"shadow price ({d.money} per unit of the value)", "slack", "violation",
                            "unit (slack, violation)"], align="left"),
        cells=dict(values=[pol["policy"], pol["year"].astype(int), [fmt_num(v) for v in pol["shadow_price"]],
                           [fmt_num(v) for v in pol["slack"]], [fmt_num(v) for v in pol["violation"]],
                           [d.policy_value_unit(p) for p in pol["policy"]]],
                   align=["left", "left", "right", "right", "right", "left"], height=26),
    ), row=len(heights), col=1)
    if not len(b):
        fig.add_annotation(text="no policy binds", showarrow=False, x=0.5, y=1 - 0.5 * bar_hs[0] / sum(heights), xref="paper", yref="paper")
    fig.update_layout(height=sum(heights) + gap * (len(heights) - 1) + 80, showlegend=False, margin=dict(l=10, r=10, t=70, b=10),
                      title=f"Binding policies and their shadow prices ({d.money} per unit of each policy's value)")
    return fig


def _fig_costs(d: Data):
    import plotly.graph_objects as go

    c = d.t["costs"]
    fig = go.Figure()
    for comp, g in c.groupby("component", sort=False):
        if g["undiscounted"].abs().sum() <= 1e-12:
            continue
        fig.add_trace(go.Bar(x=g["year"], y=g["undiscounted"], name=comp, hovertemplate=f"{comp} %{{x}}: %{{y:,.4~g}} {d.money}<extra></extra>"))
    fig.update_layout(barmode="relative", height=380, yaxis_title=f"{d.money} (undiscounted)", xaxis=dict(dtick=1, title="year"),
                      margin=dict(l=10, r=10, t=50, b=10), title=f"Cost by component and year ({d.money}, undiscounted)")
    return fig


def _fig_investment(d: Data):
    import plotly.graph_objects as go

    inv = d.t["investment"]
    inv = inv[inv["overnight"] > 1e-9]
    fig = go.Figure()
    for (p, r), g in inv.groupby(["process", "region"]):
        fig.add_trace(go.Bar(x=g["year"], y=g["overnight"], name=f"{p} in {r}",
                             hovertemplate=f"{p} in {r} %{{x}}: %{{y:,.4~g}} {d.money}<extra></extra>"))
    fig.update_layout(barmode="relative", height=360, yaxis_title=f"{d.money} (overnight capex, undiscounted)",
                      xaxis=dict(dtick=1, title="year"), margin=dict(l=10, r=10, t=50, b=10),
                      title=f"Capital committed to new plant ({d.money}, overnight, undiscounted)")
    return fig


def _fig_stocks(d: Data):
    import plotly.graph_objects as go

    st = d.t["stock"]
    fig = go.Figure()
    for (c, r), g in st.groupby(["commodity", "region"]):
        fig.add_trace(go.Scatter(x=g["year"], y=g["level"], mode="lines+markers", name=f"{c} in {r} ({d.unit.get(c, '')})"))
    what = units_of(d, st["commodity"])
    fig.update_layout(height=340, xaxis=dict(dtick=1, title="year"), margin=dict(l=10, r=10, t=50, b=10),
                      yaxis=dict(rangemode="tozero", title=f"stock ({what})"), title=f"Stocks at the end of each year ({what})")
    return fig


def _fig_demand_response(d: Data):
    import plotly.graph_objects as go

    dr = d.t["demand_response"]
    dr = dr[dr["unmet"] > 1e-9]
    fig = go.Figure()
    for (c, r, step), g in dr.groupby(["commodity", "region", "step"]):
        price = g["price"].iloc[0]
        fig.add_trace(go.Bar(x=g["year"], y=g["unmet"], name=f"{c} in {r}, step {int(step)} (at {price:,.4g} {d.money})"))
    what = units_of(d, dr["commodity"])
    fig.update_layout(barmode="stack", height=340, xaxis=dict(dtick=1, title="year"), margin=dict(l=10, r=10, t=50, b=10),
                      yaxis=dict(title=f"demand given up ({what})"), title=f"Demand given up on the demand curves ({what})")
    return fig


def optional_charts(d: Data) -> list[str]:
    """The v2 charts this plan has something to show in."""
    t = d.t
    out = []
    if "investment" in t and len(t["investment"]) and (t["investment"]["overnight"] > 1e-9).any():
        out.append("investment")
    if "stock" in t and len(t["stock"]):
        out.append("stocks")
    if "demand_response" in t and len(t["demand_response"]) and (t["demand_response"]["unmet"] > 1e-9).any():
        out.append("demand_response")
    return out


FIGURES = {"investment": _fig_investment, "stocks": _fig_stocks, "demand_response": _fig_demand_response,
           "sankey": _fig_sankey, "capacity": _fig_capacity, "utilisation": _fig_utilisation, "prices": _fig_prices,
           "unmet": _fig_unmet, "policies": _fig_policies, "costs": _fig_costs}


# --------------------------------------------------------------------------------------------
# Matplotlib (PNG)
# --------------------------------------------------------------------------------------------


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _names_as_text():
    """Chart text drawn as written: a name holding ``$`` is not read as mathtext (which would
    fail to parse, or typeset it)."""
    import matplotlib

    return matplotlib.rc_context({"text.parse_math": False})


def _thousands():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: fmt_num(v))


def png_sankey(d: Data, year: int, path: Path, basis: str | None = None) -> None:
    """The Sankey of ``year`` as a PNG, laid out as in report.html (by default in t REO, or in t
    for a chain without rare-earth content)."""
    with _names_as_text():
        _png_sankey(d, year, path, basis or d.basis)


def _png_sankey(d: Data, year: int, path: Path, basis: str) -> None:
    plt = _plt()
    from matplotlib.patches import PathPatch, Rectangle

    from .sankey import mpl_path

    dpi = 100
    g = sankey_geometry(d, year, basis, width=1560, height=900, font_px=11)
    key_h = 18 * math.ceil(len(g.key) / 4) + (10 if g.key else 0)
    top, side, bottom = 50, 12, 12 + key_h
    W, H = g.width + 2 * side, g.height + top + bottom
    fig = plt.figure(figsize=(W / dpi, H / dpi), dpi=dpi)
    ax = fig.add_axes((side / W, bottom / H, g.width / W, g.height / H))
    ax.set_xlim(0, g.width)
    ax.set_ylim(g.height, 0)
    ax.axis("off")
    if not g.nodes:
        ax.text(g.width / 2, g.height / 2, f"no material flows in {year}", ha="center", fontsize=14)
    for b in g.bands:
        ax.add_patch(PathPatch(mpl_path(b.path), facecolor=b.colour, edgecolor="none", alpha=0.45 if b.returning else 0.35))
    for n in g.nodes.values():
        ax.add_patch(Rectangle((n.x0, n.y0), n.x1 - n.x0, max(n.y1 - n.y0, 1), color=n.colour))
    pt = g.font_px * 72 / dpi
    for lab in g.labels:
        ax.text((lab.x0 + lab.x1) / 2, (lab.y0 + lab.y1) / 2, lab.text, ha="center", va="center", fontsize=pt, family="DejaVu Sans",
                rotation=lab.angle, multialignment="left", linespacing=1.1,
                bbox=dict(boxstyle="square,pad=0", facecolor="white", alpha=0.7, edgecolor="none"))
    fig.text(side / W, 1 - 14 / H, sankey_title(d, year, basis), ha="left", va="top", fontsize=13)
    for i, line in enumerate(g.key):
        fig.text((side + (i % 4) * g.width / 4) / W, (bottom - 12 - 18 * (i // 4)) / H, line, ha="left", va="top", fontsize=pt)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def png_capacity(d: Data, path: Path) -> None:
    plt = _plt()
    cs = capacity_by_process(d)
    procs = capacity_processes(d)
    regions = list(dict.fromkeys(cs["region"]))
    ncols = 4
    nrows = max(1, math.ceil(len(procs) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(15, 2.6 * nrows + 1.2), squeeze=False)
    colours = plt.get_cmap("tab10")
    labelled: set[str] = set()
    for i, p in enumerate(procs):
        ax = axes[i // ncols][i % ncols]
        sub = cs[cs["process"] == p]
        bottom = np.zeros(len(d.years))
        for k, reg in enumerate(regions):
            g = sub[sub["region"] == reg].set_index("year")[["existing", "new_online"]].reindex(d.years).fillna(0.0)
            if not (g.to_numpy() > 1e-9).any():
                continue
            ax.bar(d.years, g["existing"], bottom=bottom, color=colours(k), label=None if reg in labelled else f"{reg} existing")
            bottom += g["existing"].to_numpy()
            ax.bar(d.years, g["new_online"], bottom=bottom, color=colours(k), alpha=0.45, hatch="//",
                   label=None if reg in labelled else f"{reg} new")
            bottom += g["new_online"].to_numpy()
            labelled.add(reg)
        ax.set_title(capacity_title(d, p), fontsize=8)
        ax.set_ylabel(f"{d.capacity_unit(p)}/y", fontsize=7)
        ax.set_xticks(d.years, [str(y) for y in d.years])
        ax.tick_params(labelsize=7)
    for j in range(len(procs), nrows * ncols):
        axes[j // ncols][j % ncols].axis("off")
    fig.legend(loc="lower center", ncol=min(8, 2 * max(1, len(regions))), fontsize=7)
    fig.suptitle("Capacity of each process by region: existing (solid) and new online (hatched), in the process's unit a year")
    for ax in axes.flat:
        ax.yaxis.set_major_formatter(_thousands())
    fig.subplots_adjust(left=0.05, right=0.99, top=1 - 1.0 / (2.6 * nrows + 1.2), bottom=0.8 / (2.6 * nrows + 1.2), hspace=0.55, wspace=0.3)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def png_utilisation(d: Data, path: Path) -> None:
    plt = _plt()
    m = utilisation(d)
    fig, ax = plt.subplots(figsize=(8, max(3, 0.28 * len(m) + 1.5)))
    im = ax.imshow(np.ma.masked_invalid(m.values.astype(float)), aspect="auto", vmin=0, vmax=1, cmap="viridis")
    ax.set_yticks(range(len(m)), m.index, fontsize=7)
    ax.set_xticks(range(len(m.columns)), [str(c) for c in m.columns], fontsize=8)
    fig.colorbar(im, ax=ax, label="activity / capacity")
    ax.set_title("Utilisation of capacity: activity ÷ capacity (summed over regions)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


PRICE_GROUPS = ["ores and concentrates", "separated oxides", "metals", "alloys, blanks and magnets", "scrap and swarf", "other inputs"]


def price_group(d: Data, c: str) -> str | None:
    """The panel of ``prices.png`` a commodity's price is drawn in, by the stage that makes it
    (None for services: each has its own unit, shown in report.html)."""
    kind = d.kind.get(c, "")
    if kind == "service":
        return None
    if "REO" in str(d.unit.get(c, "")):
        return "ores and concentrates"
    if kind == "waste":
        return "scrap and swarf"
    io = d.process_io
    made = {d.stage_of(p) for p in io.loc[(io["commodity"] == c) & (io["direction"] == "out"), "process"]}
    if made & {"separation", "recycling"}:
        return "separated oxides"
    if "metal" in made:
        return "metals"
    if made & {"alloy", "magnet"}:
        return "alloys, blanks and magnets"
    return "other inputs"


def png_prices(d: Data, path: Path) -> None:
    plt = _plt()
    fig = prices_figure(d)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def prices_figure(d: Data):
    """A few panels (ores and concentrates, oxides, metals, alloys and magnets, ...), each with a
    shared y-axis that includes zero, so a flat price looks flat; the median over regions."""
    plt = _plt()
    p = d.t["prices"]
    groups: dict[str, list[str]] = {}
    for c in _price_commodities(d):
        g = price_group(d, c)
        if g is not None:
            groups.setdefault(g, []).append(c)
    names = [g for g in PRICE_GROUPS if g in groups]
    ncols = 2
    nrows = max(1, math.ceil(len(names) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(14, 3.6 * nrows + 1.0), squeeze=False)
    for i, name in enumerate(names):
        ax = axes[i // ncols][i % ncols]
        peak = []
        for c in groups[name]:
            g = p[p["commodity"] == c].groupby("year")["price"].median().reindex(d.years)
            ax.plot(d.years, g.to_numpy(), marker="o", ms=3, label=c)
            peak.append(float(np.nanmax(np.abs(g.to_numpy()))) if g.notna().any() else 0.0)
        units = sorted({d.unit.get(c, "") for c in groups[name]})
        unit = f"{d.money} per {units[0]}" if len(units) == 1 else f"{d.money} per unit of each commodity"
        nonzero = [v for v in peak if v > 1e-12]
        if nonzero and max(nonzero) / min(nonzero) > 30:
            ax.set_yscale("symlog", linthresh=max(min(nonzero), max(nonzero) * 1e-3))
            ax.set_title(f"{name} ({unit}; symmetric log scale)", fontsize=9)
        else:
            ax.set_title(f"{name} ({unit})", fontsize=9)
            lo, hi = ax.get_ylim()
            ax.set_ylim(min(lo, 0.0), max(hi, 0.0))
        ax.axhline(0, color="k", lw=0.5)
        ax.yaxis.set_major_formatter(_thousands())  # names and numbers as text: no mathtext exponents
        ax.set_ylabel(unit, fontsize=8)
        ax.set_xticks(d.years, [str(y) for y in d.years])
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, ncol=2 if len(groups[name]) > 6 else 1, loc="best")
    for j in range(len(names), nrows * ncols):
        axes[j // ncols][j % ncols].axis("off")
    fig.suptitle("Prices by commodity (balance shadow prices, undiscounted, median over regions); "
                 "a negative price: what one more unit of a surplus costs to dispose of or hold")
    fig.subplots_adjust(left=0.07, right=0.99, top=1 - 0.8 / (3.6 * nrows + 1.0), bottom=0.3 / (3.6 * nrows + 1.0), hspace=0.35, wspace=0.2)
    return fig


def png_unmet(d: Data, path: Path) -> None:
    plt = _plt()
    u = d.t["unmet"]
    u = u[u["quantity"] > 1e-9]
    fig, ax = plt.subplots(figsize=(9, 4))
    if not len(u):
        ax.text(0.5, 0.5, "all demand is met in every year", ha="center", va="center", fontsize=14, transform=ax.transAxes)
        ax.set_yticks([])
    else:
        groups = list(u.groupby(["commodity", "region"]))
        w = 0.8 / len(groups)
        for k, ((c, r), g) in enumerate(groups):
            ax.bar(g["year"] - 0.4 + w * (k + 0.5), g["quantity"], width=w, label=f"{c} in {r} ({d.unit.get(c, '')})")
        ax.legend(fontsize=7)
        units = sorted({d.unit.get(c, "") for c in u["commodity"]})
        ax.set_ylabel(f"unmet ({units[0] if len(units) == 1 else 'each in its unit, see the legend'})")
    ax.set_xticks(d.years, [str(y) for y in d.years])
    if d.years:
        ax.set_xlim(d.years[0] - 0.6, d.years[-1] + 0.6)
    ax.set_xlabel("year")
    ax.set_title("Unmet demand")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def png_policies(d: Data, path: Path) -> None:
    plt = _plt()
    b = binding_policies(d)
    groups = policy_groups(d, b) if len(b) else []
    rows = [max(2.0, 0.35 * len(g) + 1.2) for _, g in groups] or [3.0]
    fig, axes = plt.subplots(len(rows), 1, figsize=(9, sum(rows) + 0.6), gridspec_kw=dict(height_ratios=rows), squeeze=False)
    if not groups:
        axes[0][0].text(0.5, 0.5, "no policy binds", ha="center", va="center", fontsize=14, transform=axes[0][0].transAxes)
        axes[0][0].set_title("Binding policies")
    for ax, (unit, g) in zip(axes[:, 0], groups):
        lab = [f"{p} {int(y)}" for p, y in zip(g["policy"], g["year"])]
        ax.barh(lab, g["shadow_price"], color="#d62728")
        ax.invert_yaxis()
        ax.axvline(0, color="k", lw=0.5)
        ax.tick_params(labelsize=7)
        ax.set_xlabel(f"shadow price ({unit})")
        ax.set_title(f"Binding policies: shadow price ({unit})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def png_costs(d: Data, path: Path) -> None:
    plt = _plt()
    c = d.t["costs"]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    pos = np.zeros(len(d.years))
    neg = np.zeros(len(d.years))
    for comp, g in c.groupby("component", sort=False):
        v = g.set_index("year")["undiscounted"].reindex(d.years).fillna(0.0).to_numpy()
        if np.abs(v).sum() <= 1e-12:
            continue
        base = np.where(v >= 0, pos, neg)
        ax.bar(d.years, v, bottom=base, label=comp)
        pos += np.where(v >= 0, v, 0)
        neg += np.where(v < 0, v, 0)
    ax.set_xticks(d.years, [str(y) for y in d.years])
    ax.set_ylabel(f"{d.money} (undiscounted)")
    ax.legend(fontsize=8)
    ax.set_title(f"Cost breakdown by year ({d.money}, undiscounted)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------

_HEAD_JS = """
window.__rechain = {errors: [], rendered: 0};
window.__rechain.fail = function (msg) {
  window.__rechain.errors.push(msg);
  if (document.body) { document.body.setAttribute('data-script-errors', String(window.__rechain.errors.length)); }
};
window.addEventListener('error', function (e) { window.__rechain.fail(String(e.message || e)); });
window.addEventListener('unhandledrejection', function (e) { window.__rechain.fail(String(e.reason)); });
"""

_RENDER_JS = """
(function () {
  var figs = %s;
  var pending = [];
  Object.keys(figs).forEach(function (id) {
    var f = figs[id];
    pending.push(Plotly.newPlot(id, f.data, f.layout, {responsive: id !== 'chart-sankey', displaylogo: false}).then(function () {
      window.__rechain.rendered += 1;
      document.getElementById(id).setAttribute('data-rendered', 'true');
    }));
  });
  var variants = %s;
  window.__rechain.sankey = variants;  // every year and basis of the Sankey, as the menus show them
  var basis = document.getElementById('sankey-basis'), year = document.getElementById('sankey-year');
  function showKey(fig) {
    var key = document.getElementById('sankey-key');
    var lines = (fig.layout.meta && fig.layout.meta.key) || [];
    key.textContent = lines.length ? 'Nodes marked by a number: ' + lines.join('; ') : '';
  }
  if (basis && year && figs['chart-sankey']) {
    showKey(figs['chart-sankey']);
    var choose = function () {
      var fig = variants[basis.value][year.value];
      Plotly.react('chart-sankey', fig.data, fig.layout).then(function () { showKey(fig); },
        function (e) { window.__rechain.fail(String(e)); });
    };
    basis.addEventListener('change', choose);
    year.addEventListener('change', choose);
  }
  Promise.all(pending).then(function () {
    document.body.setAttribute('data-charts-rendered', String(window.__rechain.rendered));
  }, function (e) { window.__rechain.fail(String(e)); }).then(function () {
    var box = document.getElementById('report-status');
    box.textContent = 'charts rendered: ' + window.__rechain.rendered + ' of ' + Object.keys(figs).length +
      (window.__rechain.errors.length ? '; script errors: ' + window.__rechain.errors.join(' | ') : '');
    box.hidden = !window.__rechain.errors.length && window.__rechain.rendered === Object.keys(figs).length;
    document.body.setAttribute('data-script-errors', String(window.__rechain.errors.length));
  });
})();
"""

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1400px; padding: 0 16px 40px; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table.summary td { padding: 2px 12px 2px 0; } .note { color: #555; font-size: 0.9em; } #report-status { color: #888; font-size: 0.8em; }
nav a { margin-right: 12px; } #report-status[hidden] { display: none; }
#chart-sankey { overflow-x: auto; } .controls { margin: 6px 0; } .controls label { margin-right: 16px; }
"""

NOTES = {
    "sankey": "Choose the year and the basis. In t REO each flow counts the rare-earth oxide it holds: 1 per t REO of ore "
              "or concentrate and per t of separated oxide; a metal, alloy, blank, magnet or swarf the oxide its inputs brought "
              "in; scrap bought from outside what its recycling recovers; iron, boron and binder nothing. In t every flow "
              "counts its tonnes. Flows are summed over regions (trade between regions does not show); service outputs "
              "(vehicles, GW) are left out, so end-use processes are where the material ends. Recycled oxide returns up the "
              "chain in the bands under the diagram; outside supply, disposal and stock stand beside their commodity.",
    "capacity": "Existing capacity (built before the horizon) and new capacity online, per process and region, each in "
                "the unit of its own reference commodity a year; processes without plant (end uses, recipe steps) have none.",
    "utilisation": "Activity divided by installed capacity, summed over regions; blank where there is no capacity.",
    "prices": "Choose the commodity in the menu. A price is the marginal cost of one more unit demanded in that region "
              "and year, in money of that year (balance dual ÷ discount factor). A negative price belongs to a surplus "
              "co-product (La and Ce oxides, carbonate held in stock): one more unit is worth minus what it costs to "
              "dispose of or hold it, so the chain would pay to have it taken away.",
    "unmet": "Demand left unmet at the commodity's unmet-demand penalty.",
    "policies": "Policies whose limit binds (shadow price ≠ 0 or no slack), and every policy row. A shadow price is the change "
                "of the objective, in money of that year, per unit more of the policy's value.",
    "costs": "Cost components by year, undiscounted; the objective is their discounted sum.",
    "investment": "The overnight capital of the plant each year's plan starts (capex × new capacity, undiscounted, not "
                  "annualised): what a plan commits, beside the annuities the objective charges.",
    "stocks": "Stock held at the end of each year: drawn when the next years are dearer, built when they are cheaper.",
    "demand_response": "Demand given up at the price of its step of the demand curve (demand_response.csv), by step.",
}


def run_date(stamp) -> str:
    """``summary.json``'s ``run_date`` as a reader writes it (2026-12-03 08:30 UTC)."""
    from datetime import datetime, timezone

    try:
        return datetime.fromisoformat(str(stamp)).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        return "date not recorded" if not stamp else str(stamp)


def script_json(obj) -> str:
    """``obj`` as JSON to embed in a ``<script>`` element: ``<``, ``>`` and ``&`` written as
    ``\\u003c``, ``\\u003e``, ``\\u0026`` (the same strings to JavaScript), so no name in the data
    (``</script>``, ``<!--``) can end the element or start markup."""
    return json.dumps(obj).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def build_report(results_dir: str | Path, out_dir: str | Path, png: bool = True) -> Path:
    """Write ``report.html`` (self-contained) and the PNG charts for ``results_dir`` into
    ``out_dir`` (created if needed). Returns the path of report.html."""
    from plotly.offline import get_plotlyjs

    d = Data(results_dir)
    if d.summary.get("status") != "optimal":
        raise ValueError(f"{results_dir}: status is {d.summary.get('status')!r}; a report needs an optimal solve")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = CHARTS + optional_charts(d)
    figs = {name: FIGURES[name](d) for name in charts}
    payload = {f"chart-{k}": f if isinstance(f, dict) else json.loads(f.to_json()) for k, f in figs.items()}
    s = d.summary
    esc = html.escape
    rows = [("instance", s.get("instance")), ("title", d.title), ("scenario", s.get("scenario") or "base"),
            ("years", f"{d.years[0]}–{d.years[-1]}" if d.years else ""), ("status", s.get("status")),
            ("objective", f"{s.get('objective'):,.6g} {d.money} (discounted{f' to {d.base_year}' if d.base_year is not None else ''})" if s.get("objective") is not None else "-"),
            ("solver", s.get("solver")),
            ("run", f"{run_date(s.get('run_date'))}, rechain {s.get('version') or 'version not recorded'}")]
    inv = d.t.get("investment")
    if inv is not None and len(inv):
        rows.append(("capital committed", f"{inv['overnight'].sum():,.6g} {d.money} (overnight, undiscounted)"))
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>rechain report: {esc(str(s.get('instance')))}</title>",
        f"<style>{_CSS}</style>",
        f"<script>{_HEAD_JS}</script>",
        f"<script>{get_plotlyjs()}</script>",
        "</head><body>",
        f"<h1>rechain report: {esc(str(s.get('instance')))}</h1>",
        "<table class='summary'>" + "".join(f"<tr><td>{esc(k)}</td><td>{esc(str(v))}</td></tr>" for k, v in rows) + "</table>",
        "<nav>" + "".join(f"<a href='#sec-{k}'>{esc(TITLES[k])}</a>" for k in charts) + "</nav>",
    ]
    for k in charts:
        parts.append(f"<h2 id='sec-{k}'>{esc(TITLES[k])}</h2><p class='note'>{esc(NOTES[k])}</p>")
        if k == "sankey" and d.years:
            parts.append("<div class='controls'><label>basis <select id='sankey-basis'>"
                         + "".join(f"<option value='{b}'{' selected' if b == d.basis else ''}>{esc(t)}</option>" for b, t in BASES.items())
                         + "</select></label> <label>year <select id='sankey-year'>"
                         + "".join(f"<option value='{y}'{' selected' if y == d.years[-1] else ''}>{y}</option>" for y in d.years)
                         + "</select></label></div>")
        parts.append(f"<div id='chart-{k}' class='chart'></div>")
        if k == "sankey":
            parts.append("<p id='sankey-key' class='note'></p>")
    # the page's own check (charts drawn, script errors): shown to readers only when something failed
    parts.append("<p id='report-status'>charts not rendered (JavaScript disabled?)</p>")
    variants = sankey_variants(d) if "sankey" in charts and d.years else {}
    parts.append(f"<script>{_RENDER_JS % (script_json(payload), script_json(variants))}</script>")
    parts.append("</body></html>")
    page = out_dir / "report.html"
    page.write_text("\n".join(parts), encoding="utf-8")
    if png:
        with _names_as_text():
            for y in d.years:
                png_sankey(d, y, out_dir / f"sankey_{y}.png")
            png_capacity(d, out_dir / "capacity.png")
            png_utilisation(d, out_dir / "utilisation.png")
            png_prices(d, out_dir / "prices.png")
            png_unmet(d, out_dir / "unmet.png")
            png_policies(d, out_dir / "policies.png")
            png_costs(d, out_dir / "costs.png")
    return page


# --------------------------------------------------------------------------------------------
# The chain graph (rechain graph)
# --------------------------------------------------------------------------------------------


def chain_layout(instance):
    """The chain graph and node positions laid out by stage (x) and spread evenly within a column (y)."""
    from rechain.model import chain_graph

    g = chain_graph(instance)
    stage = {n: a.get("stage", "") for n, a in g.nodes(data=True) if a.get("type") == "process"}
    x = {p: 2 * stage_rank(s) for p, s in stage.items()}
    for n, a in g.nodes(data=True):
        if a.get("type") != "commodity":
            continue
        prod = [x[p] for p in g.predecessors(n)]
        use = [x[p] for p in g.successors(n)]
        x[n] = (min(prod) + 1) if prod else ((min(use) - 1) if use else -1.0)
    cols: dict[float, list[str]] = {}
    for n in g.nodes:
        cols.setdefault(x[n], []).append(n)
    pos = {}
    for cx, col in cols.items():
        col.sort()
        for i, n in enumerate(col):
            pos[n] = (cx, -(i - (len(col) - 1) / 2))
    return g, pos


def stage_listing(instance) -> list[str]:
    g, _ = chain_layout(instance)
    lines = [f"{instance.name}: {sum(1 for _, a in g.nodes(data=True) if a.get('type') == 'process')} processes, "
             f"{sum(1 for _, a in g.nodes(data=True) if a.get('type') == 'commodity')} commodities"]
    procs = [(n, a) for n, a in g.nodes(data=True) if a.get("type") == "process"]
    for s in sorted({a.get("stage", "") for _, a in procs}, key=stage_rank):
        lines.append(f"{s}:")
        for n, a in sorted((p for p in procs if p[1].get("stage") == s), key=lambda t: t[0]):
            ins = ", ".join(f"{g.edges[c, n]['coefficient']:g} {c}" for c in g.predecessors(n)) or "-"
            outs = ", ".join(f"{g.edges[n, c]['coefficient']:g} {c}" for c in g.successors(n)) or "-"
            lines.append(f"  {n}: {ins} -> {outs}")
    return lines


def chain_figure_png(instance, path: Path) -> None:
    with _names_as_text():
        _chain_figure_png(instance, path)


def _chain_figure_png(instance, path: Path) -> None:
    plt = _plt()
    import networkx as nx

    g, pos = chain_layout(instance)
    ncol = len({x for x, _ in pos.values()})
    nrow = max(sum(1 for p in pos.values() if p[0] == x) for x in {x for x, _ in pos.values()})
    fig, ax = plt.subplots(figsize=(max(10, 1.9 * ncol), max(5, 0.55 * nrow + 1.5)))
    procs = [n for n, a in g.nodes(data=True) if a.get("type") == "process"]
    coms = [n for n, a in g.nodes(data=True) if a.get("type") == "commodity"]
    nx.draw_networkx_edges(g, pos, ax=ax, arrows=True, arrowsize=8, edge_color="#999999", width=0.7,
                           connectionstyle="arc3,rad=0.08", node_size=300)
    nx.draw_networkx_nodes(g, pos, nodelist=procs, node_shape="s", node_size=260, ax=ax,
                           node_color=[STAGE_COLOURS.get(g.nodes[n].get("stage"), OTHER) for n in procs])
    nx.draw_networkx_nodes(g, pos, nodelist=coms, node_shape="o", node_size=110, ax=ax,
                           node_color=[KIND_COLOURS.get(g.nodes[n].get("kind"), OTHER) for n in coms])
    for n, (x, y) in pos.items():
        ax.text(x, y - 0.28, n, fontsize=6, ha="center", va="top")
    stages = sorted({g.nodes[p].get("stage") for p in procs}, key=stage_rank)
    for s in stages:
        ax.text(2 * stage_rank(s), max(y for _, y in pos.values()) + 0.8, s, ha="center", fontsize=9, weight="bold",
                color=STAGE_COLOURS.get(s, OTHER))
    ys = [y for _, y in pos.values()]
    ax.set_ylim(min(ys) - 1.0, max(ys) + 1.3)
    ax.set_title(f"{instance.name}: the chain by stage (squares: processes, circles: commodities)")
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def chain_figure_html(instance, path: Path) -> None:
    import plotly.graph_objects as go

    g, pos = chain_layout(instance)
    ex, ey = [], []
    for a, b in g.edges:
        ex += [pos[a][0], pos[b][0], None]
        ey += [pos[a][1], pos[b][1], None]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=ex, y=ey, mode="lines", line=dict(color="#bbbbbb", width=1), hoverinfo="skip", showlegend=False))
    for typ, sym in (("process", "square"), ("commodity", "circle")):
        ns = [n for n, a in g.nodes(data=True) if a.get("type") == typ]
        col = [STAGE_COLOURS.get(g.nodes[n].get("stage"), OTHER) if typ == "process" else KIND_COLOURS.get(g.nodes[n].get("kind"), OTHER) for n in ns]
        hover = []
        for n in ns:
            a = g.nodes[n]
            if typ == "process":
                ins = ", ".join(f"{g.edges[c, n]['coefficient']:g} {c}" for c in g.predecessors(n))
                outs = ", ".join(f"{g.edges[n, c]['coefficient']:g} {c}" for c in g.successors(n))
                hover.append(f"<b>{n}</b> ({a.get('stage')})<br>{html.escape(str(a.get('name', '')))}<br>in: {ins}<br>out: {outs}")
            else:
                hover.append(f"<b>{n}</b> ({a.get('kind')}, {a.get('unit')})")
        fig.add_trace(go.Scatter(x=[pos[n][0] for n in ns], y=[pos[n][1] for n in ns], mode="markers+text", text=ns,
                                 textposition="bottom center", textfont=dict(size=9), name=typ + "es" if typ == "process" else "commodities",
                                 marker=dict(symbol=sym, size=16 if typ == "process" else 10, color=col, line=dict(width=0.5, color="#333")),
                                 hovertext=hover, hoverinfo="text"))
    top = max(y for _, y in pos.values()) + 1
    for s in sorted({a.get("stage") for _, a in g.nodes(data=True) if a.get("type") == "process"}, key=stage_rank):
        fig.add_annotation(x=2 * stage_rank(s), y=top, text=f"<b>{s}</b>", showarrow=False, font=dict(color=STAGE_COLOURS.get(s, OTHER)))
    fig.update_layout(title=f"{instance.name}: the chain by stage", xaxis=dict(visible=False), yaxis=dict(visible=False),
                      height=max(500, 40 * max(sum(1 for p in pos.values() if p[0] == x) for x in {x for x, _ in pos.values()})),
                      plot_bgcolor="white")
    fig.write_html(str(path), include_plotlyjs=True, full_html=True)
