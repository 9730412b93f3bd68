"""Synthetic rechain instances in the SPEC format, for benchmarks.

The structure follows the real instances: mines produce ore; a chain of ``depth`` stages turns
it into a final product (each stage has ``per_stage`` competing processes, some with a
co-product that has its own small demand or a disposal cost); the last two stages produce
scrap that recycling plants turn back into first-stage material; regions trade every
intermediate material along lanes to their neighbours; outside supply of first-stage material
is capped; policies set mining quotas (per region and in total), capacity targets, an export
quota and an import quota, some hard and some soft.

Sizes scale with ``regions`` mostly (the LP grows linearly in them), and with ``years``,
``depth`` and ``per_stage``::

    python benchmarks/generate.py M /tmp/bench_M          # a named size
    python benchmarks/generate.py --regions 8 --years 10 /tmp/custom

Named sizes aim at these numbers of nonzeros of the constraint matrix: S ~1e4, M ~1e5,
L ~1e6, XL ~1e7.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Shape:
    regions: int
    years: int
    depth: int
    per_stage: int
    neighbours: int = 1  # trade lanes from each region to this many next regions (ring)
    cluster: int = 2  # regions trade, and share quotas, within clusters of this many


SIZES = {
    "S": Shape(regions=4, years=10, depth=4, per_stage=4),
    "M": Shape(regions=20, years=12, depth=5, per_stage=5),
    "M3": Shape(regions=50, years=15, depth=5, per_stage=5),  # ~3e5 nonzeros: the scaling at the top (--scaling)
    "L": Shape(regions=150, years=15, depth=5, per_stage=5),
    "L3": Shape(regions=450, years=15, depth=5, per_stage=5),  # ~3e6 nonzeros
    "XL": Shape(regions=600, years=20, depth=6, per_stage=6),
}


def _write(path: Path, name: str, header: list[str], rows: list[list]) -> None:
    with open(path / name, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else (f"{v:.6g}" if isinstance(v, float) else v) for v in r])


def generate(shape: Shape | str, path: str | Path, seed: int = 1) -> Path:
    """Write a synthetic instance of ``shape`` (a :class:`Shape` or a name in ``SIZES``) to the
    folder ``path``; the same shape and seed give the same files."""
    if isinstance(shape, str):
        shape = SIZES[shape]
    rng = np.random.default_rng(seed)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    R = [f"r{i:03d}" for i in range(shape.regions)]
    first = 2025
    Y = list(range(first, first + shape.years))
    K, n = shape.depth, shape.per_stage

    # ---- commodities: ore, one material per stage (the last is the product), co-products, scrap
    mats = [f"m{k}" for k in range(1, K + 1)]
    product = mats[-1]
    coprods = [f"m{k}_co" for k in range(1, K)]
    commodities = [["ore", "t", "raw", "ore (content)", None, None]]
    for k, m in enumerate(mats, 1):
        kind = "product" if m == product else "material"
        commodities.append([m, "t", kind, f"stage {k} material", None, None])
    for c in coprods:
        commodities.append([c, "t", "material", "co-product", None, round(float(rng.uniform(0.2, 1.0)), 3)])
    commodities.append(["scrap", "t", "waste", "process scrap and end-of-life material", None, 0.3])

    # ---- processes and their inputs/outputs --------------------------------------------------
    processes, io = [], []

    def proc(name, stage, capex, life, lead, var):
        processes.append([name, name, stage, life, lead, round(float(rng.uniform(0.85, 1.0)), 3),
                          round(capex, 3), round(capex * 0.03, 4), round(var, 4)])

    for i in range(n):
        p = f"mine_{i}"
        proc(p, "mining", float(rng.uniform(50, 150)), int(rng.integers(20, 31)), int(rng.integers(1, 4)), float(rng.uniform(0.5, 2)))
        io.append([p, "ore", "out", 1, "true"])
    prev = "ore"
    for k, m in enumerate(mats, 1):
        for i in range(n):
            p = f"s{k}_{i}"
            proc(p, f"stage{k}", float(rng.uniform(20, 200)), int(rng.integers(8, 26)), int(rng.integers(0, 3)), float(rng.uniform(1, 6) * k))
            io.append([p, m, "out", 1, "true"])
            io.append([p, prev, "in", round(float(rng.uniform(1.05, 1.6)), 4), "false"])
            if k < K and i % 2 == 0:
                io.append([p, coprods[k - 1], "out", round(float(rng.uniform(0.1, 0.8)), 4), "false"])
            if k >= K - 1:
                io.append([p, "scrap", "out", round(float(rng.uniform(0.02, 0.15)), 4), "false"])
        prev = m
    for i in range(max(1, n // 2)):
        p = f"recycle_{i}"
        proc(p, "recycling", float(rng.uniform(20, 60)), int(rng.integers(8, 16)), 1, float(rng.uniform(0.2, 1)))
        io.append([p, "scrap", "in", 1, "true"])
        io.append([p, mats[0], "out", round(float(rng.uniform(0.2, 0.6)), 4), "false"])
    names = [p[0] for p in processes]

    # ---- existing capacity, build limits ---------------------------------------------------
    # the chain is sized to the product demand of its region, with stages scattered so that
    # regions must trade
    base = rng.uniform(50, 150, size=len(R))
    capacity, limits = [], []
    for ri, r in enumerate(R):
        for p in names:
            if rng.random() < 0.35:
                capacity.append([p, r, first, round(float(base[ri] * rng.uniform(0.3, 2.0)), 2)])
    for p in names:
        limits.append([p, "*", None, round(float(np.mean(base) * rng.uniform(0.5, 1.5)), 2), None])
    for r in R[:: max(1, len(R) // 5)]:
        for p in names[:: 3]:
            limits.append([p, r, None, None, round(float(base[0] * 6), 2)])

    # ---- demand -----------------------------------------------------------------------------
    demand = []
    for ri, r in enumerate(R):
        g = rng.uniform(0.02, 0.12)
        for t, y in enumerate(Y):
            demand.append([product, r, y, round(float(base[ri] * (1 + g) ** t), 3)])
            if ri % 3 == 0 and coprods:
                demand.append([coprods[0], r, y, round(float(base[ri] * 0.05), 3)])

    # ---- outside supply, trade lanes --------------------------------------------------------
    supply = []
    for r in R[:: 4]:
        supply.append([mats[0], r, None, round(float(base.mean() * 0.5), 2), round(float(rng.uniform(300, 600)), 2)])
        supply.append(["ore", r, Y[0], round(float(base.mean() * 0.3), 2), round(float(rng.uniform(80, 160)), 2)])
    trade = []
    for ri, r in enumerate(R):
        for j in range(1, shape.neighbours + 1):
            # lanes stay within a cluster of regions (a ring of ``cluster``), as real trade does
            # within a country or a trading bloc
            c0 = ri - ri % shape.cluster
            size = min(shape.cluster, len(R) - c0)
            if size < 2:
                continue
            d = R[c0 + (ri - c0 + j) % size]
            if d == r:
                continue
            for c in (mats[0], product):  # separated material and the product travel
                cap = None if rng.random() < 0.5 else round(float(base.mean() * rng.uniform(0.5, 2)), 2)
                trade.append([c, r, d, round(float(rng.uniform(0.5, 5)), 3), cap])

    # ---- policies ---------------------------------------------------------------------------
    # policies bind within a cluster of regions (a province's quotas, a bloc's trade rules):
    # rows that sum over every region would couple the whole LP, which real instances do not
    mines = ";".join(f"mine_{i}" for i in range(n))
    final = ";".join(f"s{K}_{i}" for i in range(n))
    policies = []
    for ri, r in enumerate(R[:: 2]):
        policies.append([f"quota_{r}", "max_activity", None, round(float(base[ri * 2] * 2.5), 2), mines, None, r, None, None])
    for ri, r in enumerate(R[:: 3]):
        policies.append([f"target_{r}", "min_capacity", Y[-1], round(float(base[ri * 3] * 0.8), 2), final, None, r, None, None])
    for c0 in range(0, len(R), shape.cluster):
        members = R[c0: c0 + shape.cluster]
        regs, tag, total = ";".join(members), f"c{c0 // shape.cluster:03d}", float(base[c0: c0 + shape.cluster].sum())
        policies.append([f"cluster_quota_{tag}", "max_activity", None, round(total * 2.2, 2), mines, None, regs, None, 500.0])
        if len(members) > 1:
            policies.append([f"export_quota_{tag}", "max_trade", None, round(total * 0.4, 2), None, mats[0], members[0], regs, 50.0])
        policies.append([f"import_quota_{tag}", "max_supply", None, round(total * 0.5, 2), None, mats[0], regs, None, None])

    _write(path, "regions.csv", ["region", "name"], [[r, f"Region {r}"] for r in R])
    _write(path, "commodities.csv", ["commodity", "unit", "kind", "description", "unmet_penalty", "disposal_cost"], commodities)
    _write(path, "processes.csv", ["process", "name", "stage", "lifetime", "lead_time", "availability", "capex", "fixed_om", "variable_cost"], processes)
    _write(path, "process_io.csv", ["process", "commodity", "direction", "coefficient", "reference"], io)
    _write(path, "capacity.csv", ["process", "region", "year", "capacity"], capacity)
    _write(path, "build_limits.csv", ["process", "region", "year", "max_new", "max_total"], limits)
    _write(path, "demand.csv", ["commodity", "region", "year", "quantity"], demand)
    _write(path, "supply.csv", ["commodity", "region", "year", "max_quantity", "price"], supply)
    _write(path, "trade.csv", ["commodity", "origin", "destination", "cost", "max_quantity"], trade)
    _write(path, "policies.csv", ["policy", "kind", "year", "value", "processes", "commodities", "regions", "destinations", "penalty"], policies)
    (path / "instance.yaml").write_text(
        "format_version: 1\n"
        f"name: synthetic_{shape.regions}r_{shape.years}y_{K}d_{n}p\n"
        f"title: Synthetic chain, {shape.regions} regions, {shape.years} years, {K} stages of {n} processes\n"
        f"years: {{first: {Y[0]}, last: {Y[-1]}}}\n"
        f"base_year: {first - 1}\n"
        "discount_rate: 0.05\n"
        "unmet_penalty: 5000.0\n"
        "scenarios:\n"
        "  high_demand:\n"
        "    description: product demand 20 % higher\n"
        "    changes:\n"
        f"      - {{table: demand, where: {{commodity: {product}}}, column: quantity, scale: 1.2}}\n",
        encoding="utf-8",
    )
    return path


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("size", nargs="?", default=None, help="S, M, L or XL (else give the shape)")
    ap.add_argument("path")
    ap.add_argument("--regions", type=int)
    ap.add_argument("--years", type=int)
    ap.add_argument("--depth", type=int)
    ap.add_argument("--per-stage", type=int)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    shape = SIZES[a.size] if a.size else SIZES["S"]
    kw = {k: v for k, v in dict(regions=a.regions, years=a.years, depth=a.depth, per_stage=a.per_stage).items() if v}
    if kw:
        shape = Shape(**{**shape.__dict__, **kw})
    print(generate(shape, a.path, seed=a.seed))


if __name__ == "__main__":
    main()
