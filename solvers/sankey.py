"""The Sankey diagram of a year's material flows: laid out once here, in pixels, and drawn the
same way by plotly (report.html) and matplotlib (the PNG).

The layout, for a reader of the chain rather than for a generic graph:

- columns in chain order: every process stands right of its inputs, and the processes of a
  stage stand right of every process of the stages before it (mining, beneficiation,
  separation, metal, alloy, magnet, recycling, end use); the last stage (end uses) shares one
  column; a commodity stands right of every process that makes it (one column right of the
  last), a commodity that nothing in the chain makes stands just left of its first user;
- outside supply, disposal and stock are drawn next to their commodity (one small node each), so
  no band crosses the chart to reach them;
- a flow back up the chain (recycling's oxide going back to the metal stage) is a return band:
  it leaves its process to the right, runs under the diagram and enters its commodity from the
  left; it is never drawn as a loop through the other flows;
- labels beside, above or below their node, never over another label or node and never outside
  the chart; a label that finds no room is replaced by a number explained in a key.

Text is measured with matplotlib's metrics of DejaVu Sans (the font both renderings ask for,
with a margin for a browser that substitutes a wider one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import networkx as nx
import pandas as pd

#: separator of a node drawn once per commodity (``x:disposal`` + SEP + ``c:ce_oxide``)
SEP = "\x1f"
FONT_FAMILY = "DejaVu Sans, Verdana, Arial, sans-serif"
#: room left for a browser whose font is wider than DejaVu Sans
TEXT_MARGIN = 1.12
KAPPA = 0.5523  # cubic Bézier control length of a quarter circle


@dataclass
class Node:
    id: str
    label: str
    role: str  # "process", "commodity" or "end" (supply, disposal, stock, final demand)
    colour: str
    rank: float | None = None  # stage rank of a process
    value: float = 0.0
    col: int = 0
    x0: float = 0.0
    x1: float = 0.0
    y0: float = 0.0
    y1: float = 0.0


@dataclass
class Band:
    source: str
    target: str
    value: float
    colour: str
    returning: bool = False
    path: list = field(default_factory=list)  # ("M", x, y), ("L", x, y), ("C", x1, y1, x2, y2, x, y), ("Z",)
    mid: tuple[float, float] = (0.0, 0.0)  # a point on the band (hover)


@dataclass
class Label:
    """A label's text (lines joined by newlines) and its box in pixels; ``angle`` 90 reads
    bottom to top beside a tall node."""

    node: str
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    angle: int = 0


@dataclass
class Geometry:
    width: float
    height: float
    font_px: float
    nodes: dict[str, Node]
    bands: list[Band]
    labels: list[Label]
    key: list[str]

    def columns(self) -> dict[str, int]:
        return {n.id: n.col for n in self.nodes.values()}


@lru_cache(maxsize=4096)
def text_width(text: str, font_px: float) -> float:
    """Width in pixels of ``text`` at ``font_px`` (DejaVu Sans, with TEXT_MARGIN)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    w, _, _ = TextToPath().get_text_width_height_descent(text, FontProperties(family="DejaVu Sans", size=font_px), ismath=False)
    return w * TEXT_MARGIN + 2


def base_id(node: str) -> str:
    return node.split(SEP, 1)[0]


# --------------------------------------------------------------------------------------------
# Rare-earth content
# --------------------------------------------------------------------------------------------


def re_content(process_io: pd.DataFrame, unit: dict, kind: dict, stage: dict, rank) -> dict[str, float]:
    """t of rare-earth oxide (REO) per unit of each commodity, derived from the chain's recipes:

    - a commodity measured in ``t REO`` (ores, concentrates) holds 1;
    - a material a separation process puts out (an oxide, a La/Ce carbonate) holds 1 per t;
    - anything else a process makes holds the REO of that process's inputs, spread over its
      outputs (services and the outputs already counted aside) by tonnage: a metal the oxide it
      took, an alloy the metal in it, a blank or magnet its alloy's, swarf the blank's;
    - a commodity bought from outside (scrap) holds the REO its users recover from a unit, when
      their other inputs hold none;
    - iron, boron, binder, services and everything else: 0.

    So a tonne of metal counts the oxide it took (electrolysis losses included) and recycling
    shows what it recovers; the totals are REO equivalents, not the weight of the elements."""
    io = process_io.copy()
    io["coefficient"] = pd.to_numeric(io["coefficient"], errors="coerce").fillna(0.0)
    io = io[io["commodity"].map(lambda c: kind.get(c) != "service")]
    ins = {p: list(zip(g["commodity"], g["coefficient"])) for p, g in io[io["direction"] == "in"].groupby("process")}
    outs = {p: list(zip(g["commodity"], g["coefficient"])) for p, g in io[io["direction"] == "out"].groupby("process")}
    content = {c: 1.0 for c, u in unit.items() if "REO" in str(u)}
    for p, o in outs.items():
        if stage.get(p) == "separation":
            for c, _ in o:
                if kind.get(c) not in ("waste", "service"):
                    content.setdefault(c, 1.0)
    anchored = set(content)
    links = [("c:" + c, "p:" + p) for p, lst in ins.items() for c, _ in lst] + [("p:" + p, "c:" + c) for p, lst in outs.items() for c, _ in lst]
    g = nx.DiGraph(links)
    returning = return_edges(g, {"p:" + p: rank(stage.get(p, "")) for p in set(ins) | set(outs)})
    g.remove_edges_from(returning)
    order = [n for n in nx.topological_sort(g)]

    def forward() -> None:
        candidates: dict[str, list[float]] = {}
        for n in order:
            if n.startswith("c:"):
                c = n[2:]
                if c not in anchored and c not in bought:
                    content[c] = sum(candidates[c]) / len(candidates[c]) if candidates.get(c) else 0.0
                continue
            p = n[2:]
            reo = sum(q * content.get(c, 0.0) for c, q in ins.get(p, []))
            known = [(c, q) for c, q in outs.get(p, []) if c in anchored or c in bought]
            rest = [(c, q) for c, q in outs.get(p, []) if c not in anchored and c not in bought]
            left = reo - sum(q * content.get(c, 0.0) for c, q in known)
            tonnes = sum(q for _, q in rest)
            for c, _ in rest:
                candidates.setdefault(c, []).append(max(0.0, left) / tonnes if tonnes > 0 else 0.0)

    bought: dict[str, float] = {}
    forward()
    for c in [n[2:] for n in order if n.startswith("c:") and not any(True for _ in g.predecessors(n))]:
        if c in anchored:
            continue
        per_unit = []
        for p in [s[2:] for s in g.successors("c:" + c)]:
            others = sum(q * content.get(x, 0.0) for x, q in ins.get(p, []) if x != c)
            q_in = sum(q for x, q in ins.get(p, []) if x == c)
            out_reo = sum(q * content.get(x, 0.0) for x, q in outs.get(p, []))
            if others <= 1e-12 and q_in > 0 and out_reo > 0:
                per_unit.append(out_reo / q_in)
        if per_unit:
            bought[c] = sum(per_unit) / len(per_unit)
    content.update(bought)
    forward()
    return {c: content.get(c, 0.0) for c in unit}


def return_edges(g: nx.DiGraph, rank: dict[str, float]) -> set[tuple[str, str]]:
    """Edges process → commodity that run back up the chain: the commodity is used by a process
    of an earlier stage (recycled oxide to the metal stage). Any cycle left after dropping them is
    broken at its edge out of the latest-stage process."""
    out = set()
    for p, c in g.edges:
        if p in rank and not c.startswith("p:"):
            users = [rank[u] for u in g.successors(c) if u in rank]
            if users and min(users) < rank[p]:
                out.add((p, c))
    h = g.copy()
    h.remove_edges_from(out)
    while True:
        try:
            cycle = nx.find_cycle(h)
        except nx.NetworkXNoCycle:
            return out
        e = max(((u, v) for u, v, *_ in cycle if u in rank), key=lambda e: (rank[e[0]], e), default=cycle[0][:2])
        out.add(e)
        h.remove_edge(*e)


# --------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------


def layout(links: pd.DataFrame, info, *, width: float, height: float, font_px: float = 11.0, node_w: float = 10.0,
           local_ends: tuple[str, ...] = ()) -> Geometry:
    """Lay out ``links`` (source, target, value; node ids ``p:``, ``c:``, ``x:``) in a box of
    ``width`` × ``height`` pixels. ``info(node_id)`` gives ``(label, colour, role, rank)``;
    ``local_ends`` are the ``x:`` nodes drawn once per commodity, next to it."""
    rows = []
    for s, t, v in links[["source", "target", "value"]].itertuples(index=False, name=None):
        if not v > 0:
            continue
        s2 = f"{s}{SEP}{t}" if s in local_ends else s
        t2 = f"{t}{SEP}{s}" if t in local_ends else t
        rows.append((s2, t2, float(v)))
    nodes: dict[str, Node] = {}
    for s, t, _ in rows:
        for n in (s, t):
            if n not in nodes:
                label, colour, role, rank = info(base_id(n))
                nodes[n] = Node(n, label, role, colour, rank)
    inflow: dict[str, float] = {}
    outflow: dict[str, float] = {}
    for s, t, v in rows:
        outflow[s] = outflow.get(s, 0.0) + v
        inflow[t] = inflow.get(t, 0.0) + v
    for n in nodes.values():
        n.value = max(inflow.get(n.id, 0.0), outflow.get(n.id, 0.0))
    core = [n for n in nodes.values() if n.role in ("process", "commodity")]
    g = nx.DiGraph()
    g.add_nodes_from(n.id for n in core)
    g.add_edges_from((s, t) for s, t, _ in rows if s in g and t in g)
    ranks = {n.id: n.rank for n in core if n.role == "process"}
    returning = return_edges(g, ranks)
    g.remove_edges_from(returning)
    _columns(g, nodes, ranks, rows)
    bands = [Band(s, t, v, nodes[s].colour, (s, t) in returning) for s, t, v in rows]
    return _place(nodes, bands, width, height, font_px, node_w)


def _columns(g: nx.DiGraph, nodes: dict[str, Node], ranks: dict[str, float], rows) -> None:
    topo = list(nx.topological_sort(g))
    stage_ranks = sorted(set(ranks.values()))
    last = stage_ranks[-1] if stage_ranks else None
    last_are_sinks = last is not None and all(g.out_degree(p) == 0 for p, r in ranks.items() if r == last)
    floors = {r: 0 for r in stage_ranks}
    col: dict[str, int] = {}
    for _ in range(len(stage_ranks) + 2):
        col = {}
        for n in topo:
            c = max((col[p] + 1 for p in g.predecessors(n)), default=0)
            if n in ranks:
                c = max(c, floors[ranks[n]])
            col[n] = c
        if last_are_sinks and len(stage_ranks) > 1:
            m = max(col[p] for p, r in ranks.items() if r == last)
            for p, r in ranks.items():
                if r == last:
                    col[p] = m
        new = {}
        for r in stage_ranks:
            before = [col[p] for p, q in ranks.items() if q < r]
            new[r] = max(before) + 2 if before else 0
        if new == floors:
            break
        floors = new
    # a commodity nothing in the chain makes stands just left of its first user
    for n in reversed(topo):
        if not n.startswith("p:") and g.in_degree(n) == 0 and g.out_degree(n) > 0:
            col[n] = min(col[s] for s in g.successors(n)) - 1
    last_col = max(col.values(), default=0)
    for n in nodes.values():
        if n.id in col:
            continue
        partners_in = [t for s, t, _ in rows if s == n.id]
        partners_out = [s for s, t, _ in rows if t == n.id]
        if SEP in n.id:  # a local end: beside its commodity
            other = n.id.split(SEP, 1)[1]
            col[n.id] = col.get(other, 0) + (1 if partners_out else -1)
        elif partners_out and not partners_in:  # a sink such as final demand: with the end uses, or after
            col[n.id] = max([last_col] + [col.get(s, 0) + 1 for s in partners_out])
        else:
            col[n.id] = min([col.get(t, 1) - 1 for t in partners_in] or [0])
    used = sorted(set(col.values()))  # empty columns closed up
    for n in nodes.values():
        n.col = used.index(col[n.id])


def _place(nodes: dict[str, Node], bands: list[Band], width: float, height: float, font_px: float, node_w: float) -> Geometry:
    ncols = max((n.col for n in nodes.values()), default=0) + 1
    cols: dict[int, list[Node]] = {}
    for n in nodes.values():
        cols.setdefault(n.col, []).append(n)
    ret = [b for b in bands if b.returning]
    most = max((len(c) for c in cols.values()), default=1)
    gap = min(font_px * 1.6, 0.45 * height / max(most, 1))  # room for a line of text between two nodes
    lane_gap, r_in = 3.0, 4.0
    ret_fixed = (len(ret) * lane_gap + 2 * r_in + 8) if ret else 0.0
    ret_sum = sum(b.value for b in ret)
    min_h = 1.5
    ky = min((height - ret_fixed - gap * (len(c) - 1) - min_h * len(c)) / max(sum(n.value for n in c) + ret_sum, 1e-12)
             for c in cols.values()) if cols else 1.0
    ky = max(ky, 1e-12)
    body = height - ret_fixed - ret_sum * ky  # the height the nodes stand in; the return lanes below
    # room at either edge for the turns of the return bands: those leaving a column turn down
    # side by side to its right, those entering a column come up side by side to its left
    need_out: dict[int, float] = {}
    need_in: dict[int, float] = {}
    for b in ret:
        need_out[nodes[b.source].col] = need_out.get(nodes[b.source].col, r_in + 4) + b.value * ky + 2
        need_in[nodes[b.target].col] = need_in.get(nodes[b.target].col, r_in + 4) + b.value * ky + 2
    left = right = 0.0
    for _ in range(3):
        colw = (width - left - right - node_w - 2) / max(ncols - 1, 1)
        right = max([0.0] + [v - (ncols - 1 - c) * colw for c, v in need_out.items()])
        left = max([0.0] + [v - c * colw for c, v in need_in.items()])
    colw = (width - left - right - node_w - 2) / max(ncols - 1, 1)
    for n in nodes.values():
        n.x0 = 1 + left + n.col * colw
        n.x1 = n.x0 + node_w

    def h(n: Node) -> float:
        return max(n.value * ky, min_h)

    returns_from = {b.source for b in ret}

    def stack(col: list[Node]) -> None:
        total = sum(h(n) for n in col) + gap * (len(col) - 1)
        # a column whose every node sends flow back up the chain (recycling) stands at the bottom,
        # next to the return lanes; the others are centred
        low = all(n.id in returns_from for n in col)
        y = max(0.0, body - total if low else (body - total) / 2)
        for n in col:
            n.y0, n.y1 = y, y + h(n)
            y = n.y1 + gap

    order = {"process": 0, "commodity": 0, "end": 1}
    for c in cols.values():
        c.sort(key=lambda n: (order[n.role], n.rank if n.rank is not None else 0, n.label))
        stack(c)
    fwd = [b for b in bands if not b.returning]
    into: dict[str, list[Band]] = {}
    outof: dict[str, list[Band]] = {}
    for b in fwd:
        into.setdefault(b.target, []).append(b)
        outof.setdefault(b.source, []).append(b)

    def centre(n: Node) -> float:
        return (n.y0 + n.y1) / 2

    for _ in range(6):  # barycentre sweeps: each node towards the flows it exchanges
        for sweep, neighbours in ((sorted(cols), lambda n: [(nodes[b.source], b.value) for b in into.get(n.id, [])]),
                                  (sorted(cols, reverse=True), lambda n: [(nodes[b.target], b.value) for b in outof.get(n.id, [])])):
            for k in sweep:
                col = cols[k]
                pos = {}
                for n in col:
                    nb = neighbours(n)
                    w = sum(v for _, v in nb)
                    pos[n.id] = sum(centre(m) * v for m, v in nb) / w if w > 0 else centre(n)
                col.sort(key=lambda n: (pos[n.id], n.label))
                stack(col)
    # band slots: forward bands by the other end's height, return bands at the bottom
    out_used = {n: 0.0 for n in nodes}
    in_used = {n: 0.0 for n in nodes}
    top_out: dict[int, float] = {}  # the top of each band (by id) where it leaves its source
    top_in: dict[int, float] = {}  # and where it enters its target
    for b in sorted(bands, key=lambda b: (b.returning, centre(nodes[b.target]))):
        top_out[id(b)] = nodes[b.source].y0 + out_used[b.source]
        out_used[b.source] += b.value * ky
    for b in sorted(bands, key=lambda b: (b.returning, centre(nodes[b.source]))):
        top_in[id(b)] = nodes[b.target].y0 + in_used[b.target]
        in_used[b.target] += b.value * ky
    for b in fwd:
        th = b.value * ky
        xs, xt = nodes[b.source].x1, nodes[b.target].x0
        xm = (xs + xt) / 2
        ya, yb = top_out[id(b)], top_in[id(b)]
        b.path = [("M", xs, ya), ("C", xm, ya, xm, yb, xt, yb), ("L", xt, yb + th), ("C", xm, yb + th, xm, ya + th, xs, ya + th), ("Z",)]
        b.mid = (xm, (ya + yb + th) / 2)
    # return bands: nested lanes under the diagram, the lowest entries innermost
    ret.sort(key=lambda b: -(top_out[id(b)] + top_in[id(b)]))
    lane = body + r_in + 6
    side_s: dict[float, float] = {}
    side_t: dict[float, float] = {}
    for b in ret:
        th = b.value * ky
        xs, xt = nodes[b.source].x1, nodes[b.target].x0
        xc = xs + 2 + side_s.get(xs, 0.0)
        xd = xt - 2 - side_t.get(xt, 0.0)
        side_s[xs] = side_s.get(xs, 0.0) + th + 2
        side_t[xt] = side_t.get(xt, 0.0) + th + 2
        b.path = _return_path(xs, top_out[id(b)], xt, top_in[id(b)], th, lane, xc, xd, r_in)
        b.mid = ((xc + xd) / 2, lane + th / 2)
        lane += th + lane_gap
    geom = Geometry(width, height, font_px, nodes, bands, [], [])
    _label(geom, body)
    return geom


def _arc(cx: float, cy: float, r: float, a0: float, a1: float) -> tuple:
    """A quarter circle from angle a0 to a1 (radians, y down) as one cubic segment."""
    sgn = 1 if a1 > a0 else -1
    p0 = (cx + r * math.cos(a0), cy + r * math.sin(a0))
    p1 = (cx + r * math.cos(a1), cy + r * math.sin(a1))
    c0 = (p0[0] - sgn * KAPPA * r * math.sin(a0), p0[1] + sgn * KAPPA * r * math.cos(a0))
    c1 = (p1[0] + sgn * KAPPA * r * math.sin(a1), p1[1] - sgn * KAPPA * r * math.cos(a1))
    return ("C", c0[0], c0[1], c1[0], c1[1], p1[0], p1[1])


def _return_path(xs, ya, xt, yb, th, lane, xc, xd, r_in) -> list:
    """A band that leaves (xs, ya..ya+th) to the right, turns down, runs left in the lane at
    ``lane`` and comes up to enter (xt, yb..yb+th) from the left."""
    ro, ri = r_in + th, r_in
    c1y, c2y = ya + ro, lane - ri
    c4y, c3y = yb + ro, lane - ri
    h, q = math.pi / 2, math.pi
    return [("M", xs, ya), ("L", xc, ya), _arc(xc, c1y, ro, -h, 0), ("L", xc + ro, c2y), _arc(xc, c2y, ro, 0, h),
            ("L", xd, lane + th), _arc(xd, c3y, ro, h, q), ("L", xd - ro, c4y), _arc(xd, c4y, ro, q, q + h), ("L", xt, yb),
            ("L", xt, yb + th), ("L", xd, yb + th), _arc(xd, c4y, ri, q + h, q), ("L", xd - ri, c3y), _arc(xd, c3y, ri, q, h),
            ("L", xc, lane), _arc(xc, c2y, ri, h, 0), ("L", xc + ri, c1y), _arc(xc, c1y, ri, 0, -h), ("L", xs, ya + th), ("Z",)]


def _overlaps(a, b, pad=1.0) -> bool:
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad


def _label(geom: Geometry, body: float) -> None:
    """Every node's label where it fits: right or left of the node (at its middle, or at its top
    or bottom when the node is tall), above or below it; else a number, explained in the key."""
    f = geom.font_px
    th = f * 1.3
    obstacles = [(n.x0, n.y0, n.x1, n.y1) for n in geom.nodes.values()]
    placed: list[tuple] = []

    def spots(n: Node, w: float, h: float, far: int):
        """(x, y, angle) of the label's top-left corner, in order of preference; ``far``: how
        many lines off the node's middle a label may still stand."""
        cy = (n.y0 + n.y1) / 2
        ys = [cy - h / 2]
        if n.y1 - n.y0 > 2.5 * h:
            ys += [n.y0 + 1, n.y1 - h - 1]
        for y in ys:
            yield (n.x1 + 3, y, 0)
            yield (n.x0 - 3 - w, y, 0)
        if n.y1 - n.y0 > 0.8 * w:  # a tall node: the label upright beside it
            yield (n.x1 + 2, cy - w / 2, 90)
            yield (n.x0 - 2 - h, cy - w / 2, 90)
        xc = (n.x0 + n.x1) / 2
        yield (xc - w / 2, n.y0 - 2 - h, 0)
        yield (xc - w / 2, n.y1 + 2, 0)
        for k in range(1, far + 1):  # beside, lines off the middle
            for y in (cy - h / 2 - k * th, cy - h / 2 + k * th):
                yield (n.x1 + 3, y, 0)
                yield (n.x0 - 3 - w, y, 0)

    def place(n: Node, text: str, far: int = 1) -> bool:
        for lines in ([text], wrap(text)):
            if lines is None:
                continue
            w = max(text_width(t, f) for t in lines)
            h = th * len(lines)
            for x, y, angle in spots(n, w, h, far):
                box = (x, y, x + w, y + h) if angle == 0 else (x, y, x + h, y + w)
                if box[0] < 0 or box[1] < 0 or box[2] > geom.width or box[3] > geom.height:
                    continue
                if any(_overlaps(box, o) for o in obstacles) or any(_overlaps(box, p) for p in placed):
                    continue
                placed.append(box)
                geom.labels.append(Label(n.id, "\n".join(lines), *box, angle=angle))
                return True
        return False

    order = sorted(geom.nodes.values(), key=lambda n: (n.role == "end", -n.value, n.label))
    missing = [n for n in order if not place(n, n.label)]
    for k, n in enumerate(missing, start=1):
        if place(n, str(k), far=4):
            geom.key.append(f"{k} {n.label}")
        else:
            geom.key.append(f"– {n.label} (too small to mark; hover over the chart)")
    ret = [b for b in geom.bands if b.returning]
    if ret:
        text = "returned up the chain (recycling)"
        w = text_width(text, f)
        top = body + 4.0 + 2
        x = min(b.mid[0] for b in ret) - w / 2
        box = (max(0.0, x), top, max(0.0, x) + w, top + th)
        if box[3] <= geom.height and not any(_overlaps(box, p) for p in placed) and not any(_overlaps(box, o) for o in obstacles):
            placed.append(box)
            geom.labels.append(Label("", text, *box))


def wrap(text: str) -> list[str] | None:
    """``text`` on two lines, split after the underscore (or space) nearest its middle; None
    when it has neither."""
    cuts = [i + 1 for i, ch in enumerate(text) if ch in "_ " and 0 < i < len(text) - 1]
    if not cuts:
        return None
    i = min(cuts, key=lambda i: abs(i - len(text) / 2))
    return [text[:i].rstrip(), text[i:]]


def svg_path(path: list) -> str:
    parts = []
    for seg in path:
        parts.append(seg[0] + " " + " ".join(f"{v:.2f}" for v in seg[1:]) if len(seg) > 1 else seg[0])
    return " ".join(parts)


def mpl_path(path: list):
    from matplotlib.path import Path as MPath

    verts, codes = [], []
    for seg in path:
        if seg[0] == "M":
            verts.append(seg[1:3])
            codes.append(MPath.MOVETO)
        elif seg[0] == "L":
            verts.append(seg[1:3])
            codes.append(MPath.LINETO)
        elif seg[0] == "C":
            verts += [seg[1:3], seg[3:5], seg[5:7]]
            codes += [MPath.CURVE4] * 3
        elif seg[0] == "Z":
            verts.append(verts[0])
            codes.append(MPath.CLOSEPOLY)
    return MPath(verts, codes)
