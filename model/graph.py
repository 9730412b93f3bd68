"""The chain as a graph: commodities and processes as nodes, io coefficients on the edges.

Checks run before any model is built (reported as :class:`~rechain.model.errors.Problem`):
- a demanded commodity that no source (outside supply, or a process that needs nothing
  that cannot be had) can ever reach;
- a process that can never run, because one of its inputs can never be produced or bought;
- a cycle whose yields multiply above 1 (a loop that creates material).

Analytics: what lies upstream or downstream of a commodity, and the raw-material intensity of
one unit of an end use, computed from the coefficients.
"""

from __future__ import annotations

import math
from collections import defaultdict

import networkx as nx
import pandas as pd

from .errors import Problem
from .instance import Instance


def chain_graph(instance: Instance) -> nx.DiGraph:
    """A DiGraph with a node per commodity (``type='commodity'``, ``kind``, ``unit``) and per
    process (``type='process'``, ``stage``, ``name``). An input is an edge commodity → process,
    an output an edge process → commodity; each edge carries ``coefficient`` (> 0, units of the
    commodity per unit of activity) and ``reference`` (bool)."""
    g = nx.DiGraph(name=instance.name)
    for row in instance.commodities.to_dict("records"):
        g.add_node(row["commodity"], type="commodity", kind=row["kind"], unit=row.get("unit") or "", label=row["commodity"])
    for row in instance.processes.to_dict("records"):
        g.add_node(row["process"], type="process", stage=row["stage"], name=row.get("name") or row["process"], label=row["process"])
    for row in instance.process_io.to_dict("records"):
        p, c = row["process"], row["commodity"]
        edge = (c, p) if row["direction"] == "in" else (p, c)
        g.add_edge(*edge, coefficient=float(row["coefficient"]), reference=bool(row["reference"]))
    return g


def _inputs(g: nx.DiGraph, p: str) -> dict[str, float]:
    return {c: g.edges[c, p]["coefficient"] for c in g.predecessors(p)}


def _outputs(g: nx.DiGraph, p: str) -> dict[str, float]:
    return {c: g.edges[p, c]["coefficient"] for c in g.successors(p)}


def processes(g: nx.DiGraph) -> list[str]:
    return [n for n, a in g.nodes(data=True) if a.get("type") == "process"]


def available(instance: Instance, g: nx.DiGraph | None = None) -> tuple[set[str], set[str]]:
    """Commodities that can ever be had somewhere, and processes that can ever run, found as a
    fixpoint: a process runs when it has capacity or may be built and all its inputs can be had;
    a commodity can be had when it is bought from outside or made by a running process.
    (Regions are not distinguished: this is a necessary condition, cheap to check.)"""
    g = g or chain_graph(instance)
    buildable = set(instance.capacity.loc[instance.capacity["capacity"] > 0, "process"]) | set(instance.build_limits["process"])
    have = set(instance.supply["commodity"])
    runs: set[str] = set()
    changed = True
    while changed:
        changed = False
        for p in processes(g):
            if p in runs or p not in buildable:
                continue
            if all(c in have for c in g.predecessors(p)):
                runs.add(p)
                new = set(g.successors(p)) - have
                have |= new
                changed = True
    return have, runs


def yield_cycles(g: nx.DiGraph, tol: float = 1e-9) -> list[tuple[list[str], float]]:
    """Cycles of the commodity graph whose yields multiply above 1.

    The commodity graph has an edge c → c' for every process turning c into c', weighted by
    its best yield out[p, c'] / in[p, c]; a cycle with product > 1 creates material. Found with
    Bellman-Ford on weights −log(yield) (a negative cycle), so large graphs stay cheap."""
    best: dict[tuple[str, str], tuple[float, str]] = {}
    for p in processes(g):
        ins, outs = _inputs(g, p), _outputs(g, p)
        for c, a in ins.items():
            for c2, b in outs.items():
                y = b / a
                if (c, c2) not in best or y > best[c, c2][0]:
                    best[c, c2] = (y, p)
    h = nx.DiGraph()
    for (c, c2), (y, p) in best.items():
        h.add_edge(c, c2, weight=-math.log(y) - tol, yield_=y, process=p)
    found = []
    seen_edges: set[tuple[str, str]] = set()
    while True:
        try:
            cyc = nx.find_negative_cycle(h, next(iter(h.nodes))) if h.number_of_nodes() else None
        except nx.NetworkXError:
            cyc = None
        if not cyc:
            # find_negative_cycle needs a source that reaches the cycle; try every component
            cyc = None
            for comp in nx.strongly_connected_components(h):
                if len(comp) < 2 and not any(h.has_edge(n, n) for n in comp):
                    continue
                try:
                    cyc = nx.find_negative_cycle(h, next(iter(comp)))
                    break
                except nx.NetworkXError:
                    continue
        if not cyc:
            break
        edges = list(zip(cyc[:-1], cyc[1:]))
        prod = math.prod(h.edges[e]["yield_"] for e in edges)
        path = []
        for a, b in edges:
            path += [a, h.edges[a, b]["process"]]
        path.append(cyc[-1])
        found.append((path, prod))
        # break this cycle at its strongest edge and look for others
        e = max(edges, key=lambda e: h.edges[e]["yield_"])
        seen_edges.add(e)
        h.remove_edge(*e)
        if len(found) > 50:
            break
    return found


def check_chain(instance: Instance, g: nx.DiGraph | None = None) -> list[Problem]:
    """Problems of the chain as a whole (see the module docstring); cycles that create
    material are errors, unreachable demand and processes that can never run are warnings."""
    g = g or chain_graph(instance)
    out: list[Problem] = []
    have, runs = available(instance, g)
    dem = instance.demand
    lines = {}
    for ln, c, q in zip(dem.index, dem["commodity"], dem["quantity"]):
        if q > 0:
            lines.setdefault(c, int(ln))
    for c, ln in sorted(lines.items()):
        if c not in have:
            out.append(Problem(instance.label("demand"), f"demand for '{c}' can never be met: no outside supply and no process that can run makes it (it will all be unmet)", row=ln, column="commodity", severity="warning"))
    plines = dict(zip(instance.processes["process"], instance.processes.index))
    for p in processes(g):
        if p in runs:
            continue
        missing = sorted(c for c in g.predecessors(p) if c not in have)
        if missing:
            why = f"its input(s) {', '.join(missing)} can never be produced or bought"
        else:
            why = "it has no existing capacity and no build_limits row allowing it to be built"
        out.append(Problem(instance.label("processes"), f"process '{p}' can never run: {why}", row=int(plines[p]), column="process", severity="warning"))
    for path, prod in yield_cycles(g):
        out.append(Problem(instance.label("process_io"), f"the loop {' -> '.join(path)} yields {prod:.4g} units per unit put in (> 1): it creates material"))
    return out


def upstream(g: nx.DiGraph, node: str) -> set[str]:
    """Every commodity and process the node can draw from (ancestors)."""
    return nx.ancestors(g, node)


def downstream(g: nx.DiGraph, node: str) -> set[str]:
    """Every commodity and process the node can feed (descendants)."""
    return nx.descendants(g, node)


def intensity(g: nx.DiGraph, product: str, via: dict[str, str] | None = None, max_depth: int = 100) -> pd.Series:
    """Units of every upstream commodity needed for one unit of ``product``.

    Each commodity is traced back through one producing process: the one named in
    ``via[commodity]``, else its only producer, else its only producer outside the
    ``recycling`` stage (the primary route); ``via[commodity] = None`` treats the commodity
    as a primary input (traced no further). Co-products are credited to nothing: the whole
    input of a co-producing process is charged to the commodity being traced, as when
    asking "how much ore must be mined to get one more tonne of PrNd oxide".
    Example: ``intensity(g, 'nev')['prnd_oxide']`` is t of PrNd oxide per NEV unit.
    """
    via = via or {}
    need: dict[str, float] = defaultdict(float)

    def producer(c: str) -> str | None:
        if c in via:
            return via[c]  # None: a primary input
        prods = [p for p in g.predecessors(c)]
        if not prods:
            return None
        if len(prods) == 1:
            return prods[0]
        primary = [p for p in prods if g.nodes[p].get("stage") != "recycling"]
        if len(primary) == 1:
            return primary[0]
        raise ValueError(f"'{c}' is made by several processes ({', '.join(sorted(prods))}): name one in via={{'{c}': ...}}")

    def walk(c: str, qty: float, depth: int, path: tuple[str, ...]):
        if depth > max_depth or c in path:
            raise ValueError(f"the route to '{product}' loops through '{c}': name a route with via=")
        p = producer(c)
        if p is None:
            return
        act = qty / g.edges[p, c]["coefficient"]
        for ci, a in _inputs(g, p).items():
            need[ci] += act * a
            walk(ci, act * a, depth + 1, path + (c,))

    walk(product, 1.0, 0, ())
    return pd.Series(dict(need), dtype=float).sort_index()
