"""Random valid small instances (SPEC section 1), one per seed, for property and fuzz tests.

``generate(seed)`` draws an instance as plain rows and settings; ``write_instance(folder, seed)``
writes it as a folder that :func:`rechain.model.load_instance` accepts. Every draw has:

- 1-3 regions, a horizon of 2-4 years, a positive discount rate;
- a chain of 2-4 stages: a mine makes ``c0``; stage i turns ``c{i-1}`` into ``c{i}`` (the
  reference output) and, on some stages, a co-product ``co{i}`` that is demanded or disposed of;
- a recycling loop: the last stage leaves ``scrap`` (yield s <= 0.3) that recycling turns back
  into ``c1`` (yield r <= 0.9); each stage consumes >= 1 unit of its input per unit of output,
  so a unit going round the loop returns s*r < 1 of itself and no loop creates mass;
- outside supply of ``c0`` (and sometimes of ``c1``), trade lanes, existing capacity, build limits
  with ``*`` regions and blank years, demand for the final product;
- policies of several kinds, hard and soft.

Why the draws are always feasible: demand can go unmet (every demanded commodity has an unmet
penalty), scrap and co-products can be disposed of, min-kind policies are soft, and a hard
``max_capacity`` is never below the existing capacity it covers. Why optima are (almost surely)
unique: every money figure is drawn from a continuous range strictly above 0 and the discount
rate is > 0, so two different plans cost the same only on a set of probability zero.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import yaml

COLUMNS = {
    "regions": ["region", "name"],
    "commodities": ["commodity", "unit", "kind", "description", "unmet_penalty", "disposal_cost"],
    "processes": ["process", "name", "stage", "lifetime", "lead_time", "availability", "capex", "fixed_om", "variable_cost", "capacity"],
    "process_io": ["process", "commodity", "direction", "coefficient", "reference", "delay"],
    "capacity": ["process", "region", "year", "capacity"],
    "build_limits": ["process", "region", "year", "max_new", "max_total"],
    "demand": ["commodity", "region", "year", "quantity"],
    "supply": ["commodity", "region", "year", "max_quantity", "price"],
    "trade": ["commodity", "origin", "destination", "cost", "max_quantity"],
    "policies": ["policy", "kind", "year", "value", "processes", "commodities", "regions", "destinations", "penalty", "share_of"],
    "storage": ["commodity", "region", "initial", "max_level", "holding_cost", "final"],
    "demand_response": ["commodity", "region", "year", "step", "share", "price"],
    "process_costs": ["process", "region", "year", "capex", "fixed_om", "variable_cost"],
}
#: columns a v1 instance does not write
V2_COLUMNS = {"processes": ["capacity"], "process_io": ["delay"]}
STAGES = ["separation", "metal", "alloy", "magnet"]

# Money columns of each table (SPEC section 2's objective); the instance-wide unmet_penalty too.
MONEY = {
    "processes": ["capex", "fixed_om", "variable_cost"],
    "supply": ["price"],
    "trade": ["cost"],
    "commodities": ["unmet_penalty", "disposal_cost"],
    "policies": ["penalty"],
    "storage": ["holding_cost"],
    "demand_response": ["price"],
    "process_costs": ["capex", "fixed_om", "variable_cost"],
}


def _r(rng: random.Random, lo: float, hi: float, digits: int = 4) -> float:
    return round(rng.uniform(lo, hi), digits)


def generate(seed: int, regions: int | None = None, years: int | None = None, every_kind: bool = False, v2: bool | None = None) -> dict:
    """Settings and table rows (dicts keyed by column) of one random valid instance.

    ``regions`` and ``years`` override the drawn counts (1-3, 2-4) to make larger instances,
    e.g. for time-limit tests; the draw is otherwise the same for a seed. ``every_kind``: one
    policy of every kind of ``rechain.model.schema.POLICY_KINDS`` (after the drawn ones).
    ``v2`` (default: with ``every_kind``): the format v2 additions too (a store, a demand curve,
    regional and vintage costs, a delayed scrap output, an end use without plant), drawn after
    everything else, so the v1 part of the draw is the same."""
    v2 = every_kind if v2 is None else v2
    rng = random.Random(seed)
    n_regions, n_years = rng.randint(1, 3), rng.randint(2, 4)
    regions = [f"r{i}" for i in range(regions or n_regions)]
    first = 2030
    years = list(range(first, first + (years or n_years)))
    n = rng.randint(2, 4)  # stages after the mine
    final = f"c{n}"

    tables: dict[str, list[dict]] = {k: [] for k in COLUMNS}
    tables["regions"] = [{"region": r, "name": f"Region {r}"} for r in regions]

    # -- commodities -------------------------------------------------------------------
    com = tables["commodities"]
    com.append({"commodity": "c0", "unit": "t", "kind": "raw", "description": "ore"})
    for i in range(1, n + 1):
        com.append({"commodity": f"c{i}", "unit": "t", "kind": "product" if i == n else "material",
                    "description": f"stage {i} output", "unmet_penalty": _r(rng, 200, 600) if i == n else None})
    com.append({"commodity": "scrap", "unit": "t", "kind": "waste", "description": "scrap", "disposal_cost": _r(rng, 0.05, 2)})

    # -- processes and their io ------------------------------------------------------------
    pro, io = tables["processes"], tables["process_io"]

    def process(name, stage):
        pro.append({"process": name, "name": name, "stage": stage, "lifetime": rng.randint(1, 6),
                    "lead_time": rng.randint(0, 1), "availability": _r(rng, 0.5, 1.0),
                    "capex": _r(rng, 1, 50), "fixed_om": _r(rng, 0.01, 3), "variable_cost": _r(rng, 0.1, 5)})

    process("mine", "mining")
    io.append({"process": "mine", "commodity": "c0", "direction": "out", "coefficient": 1, "reference": True})
    coproducts = []
    for i in range(1, n + 1):
        p = f"s{i}"
        process(p, STAGES[min(i - 1, len(STAGES) - 1)])
        io.append({"process": p, "commodity": f"c{i - 1}", "direction": "in", "coefficient": _r(rng, 1.0, 2.0), "reference": False})
        io.append({"process": p, "commodity": f"c{i}", "direction": "out", "coefficient": 1, "reference": True})
        if rng.random() < 0.5:
            co = f"co{i}"
            coproducts.append(co)
            demanded = rng.random() < 0.5
            com.append({"commodity": co, "unit": "t", "kind": "material", "description": f"co-product of stage {i}",
                        "unmet_penalty": _r(rng, 5, 50) if demanded else None, "disposal_cost": _r(rng, 0.01, 1)})
            io.append({"process": p, "commodity": co, "direction": "out", "coefficient": _r(rng, 0.1, 1.5), "reference": False})
            if demanded:
                for r in regions:
                    if rng.random() < 0.6:
                        for y in years:
                            tables["demand"].append({"commodity": co, "region": r, "year": y, "quantity": _r(rng, 0.5, 5)})
    last = f"s{n}"
    scrap_yield, recycle_yield = _r(rng, 0.05, 0.3), _r(rng, 0.3, 0.9)
    io.append({"process": last, "commodity": "scrap", "direction": "out", "coefficient": scrap_yield, "reference": False})
    process("recycling", "recycling")
    io.append({"process": "recycling", "commodity": "scrap", "direction": "in", "coefficient": 1, "reference": True})
    io.append({"process": "recycling", "commodity": "c1", "direction": "out", "coefficient": recycle_yield, "reference": False})
    processes = [p["process"] for p in pro]

    # -- existing capacity -------------------------------------------------------------------
    for p in processes:
        for r in regions:
            if rng.random() < 0.4:
                y0 = rng.choice([first - 1, first])
                tables["capacity"].append({"process": p, "region": r, "year": y0, "capacity": _r(rng, 0, 20, 2)})
                if len(years) > 2 and rng.random() < 0.5:
                    tables["capacity"].append({"process": p, "region": r, "year": years[-1], "capacity": _r(rng, 0, 10, 2)})

    # -- build limits: * regions, blank years, blank or finite limits ------------------------
    for p in processes:
        if rng.random() < 0.5:
            tables["build_limits"].append({"process": p, "region": "*", "year": None,
                                           "max_new": None if rng.random() < 0.5 else _r(rng, 5, 40, 2),
                                           "max_total": None if rng.random() < 0.6 else _r(rng, 20, 80, 2)})
        else:
            for r in regions:
                if rng.random() < 0.7:
                    tables["build_limits"].append({"process": p, "region": r, "year": None,
                                                   "max_new": None if rng.random() < 0.4 else _r(rng, 5, 40, 2), "max_total": None})
        if rng.random() < 0.3:
            tables["build_limits"].append({"process": p, "region": rng.choice(regions), "year": rng.choice(years),
                                           "max_new": _r(rng, 0, 10, 2), "max_total": None})

    # -- demand for the final product ---------------------------------------------------------
    for r in regions:
        if r == regions[0] or rng.random() < 0.5:
            base = _r(rng, 2, 20, 2)
            for k, y in enumerate(years):
                tables["demand"].append({"commodity": final, "region": r, "year": y, "quantity": round(base * (1 + 0.1 * k), 4)})

    # -- outside supply -----------------------------------------------------------------------
    for r in regions:
        if rng.random() < 0.7:
            tables["supply"].append({"commodity": "c0", "region": r, "year": None,
                                     "max_quantity": None if rng.random() < 0.5 else _r(rng, 5, 60, 2), "price": _r(rng, 0.5, 5)})
    if rng.random() < 0.5:
        r = rng.choice(regions)
        for y in years:
            tables["supply"].append({"commodity": "c1", "region": r, "year": y,
                                     "max_quantity": _r(rng, 1, 10, 2), "price": _r(rng, 10, 60)})

    # -- trade lanes ----------------------------------------------------------------------------
    for c in ["c0", "c1", final, "scrap"]:
        for o in regions:
            for d in regions:
                if o != d and rng.random() < 0.4:
                    tables["trade"].append({"commodity": c, "origin": o, "destination": d, "cost": _r(rng, 0.01, 2),
                                            "max_quantity": None if rng.random() < 0.5 else _r(rng, 1, 30, 2)})

    # -- policies --------------------------------------------------------------------------------
    pol = tables["policies"]
    total_residual = {p: sum(c["capacity"] for c in tables["capacity"] if c["process"] == p) for p in processes}
    kinds = ["max_activity", "min_activity", "max_capacity", "min_capacity", "max_new_capacity", "max_supply", "max_trade"]
    drawn = [rng.choice(kinds) for _ in range(rng.randint(1, 4))]
    if every_kind:
        from rechain.model.schema import POLICY_KINDS

        drawn += sorted(POLICY_KINDS)
    for k, kind in enumerate(drawn):
        spec = _kind(kind)
        name = f"pol{k}_{kind}"
        soft = kind.startswith("min") or rng.random() < 0.5
        penalty = _r(rng, 1, 100) if soft else None
        procs = rng.sample(processes, rng.randint(1, 2))
        regs = "*" if rng.random() < 0.5 else ";".join(rng.sample(regions, rng.randint(1, len(regions))))
        row = {"policy": name, "kind": kind, "processes": None, "commodities": None, "regions": regs,
               "destinations": None, "penalty": penalty}
        if spec.select == "commodities":
            row["commodities"] = rng.choice(["c0", "c1", f"c0;{final}", "*"])
            if spec.destinations:
                row["destinations"] = "*" if rng.random() < 0.5 else rng.choice(regions)
        else:
            row["processes"] = ";".join(procs)
        if spec.share_of:
            row["share_of"] = ";".join(rng.sample(processes, rng.randint(1, 2)))
        floor = sum(total_residual[p] for p in procs) if kind == "max_capacity" else 0.0
        if rng.random() < 0.5:
            pol.append({**row, "year": None, "value": round(floor + _r(rng, 1, 30, 2), 4)})
        else:
            for y in rng.sample(years, rng.randint(1, len(years))):
                pol.append({**row, "year": y, "value": round(floor + _r(rng, 1, 30, 2), 4)})

    if v2:
        _v2(random.Random(seed + 7919), tables, regions, years, final, processes)
    settings = {
        "format_version": 2 if v2 else 1,
        "name": f"gen{seed}",
        "title": f"random instance {seed}",
        "years": {"first": years[0], "last": years[-1]},
        "base_year": first - 1,
        "discount_rate": _r(rng, 0.01, 0.1),
        "units": {"money": "M"},
        "unmet_penalty": _r(rng, 100, 400),
    }
    return {"settings": settings, "tables": tables}


def _v2(rng: random.Random, tables: dict, regions: list, years: list, final: str, processes: list) -> None:
    """The format v2 additions (SPEC section 4), on a drawn v1 instance."""
    # a store of the first-stage material, and of the final product in some draws
    for c in ["c1"] + ([final] if rng.random() < 0.5 else []):
        r = rng.choice(regions)
        initial = _r(rng, 0, 5, 2)
        tables["storage"].append({"commodity": c, "region": r, "initial": initial,
                                  "max_level": None if rng.random() < 0.5 else round(initial + _r(rng, 5, 30, 2), 4),
                                  "holding_cost": _r(rng, 0.05, 1), "final": None if rng.random() < 0.5 else round(initial * rng.random(), 4)})
    # a demand curve of the final product: every region, every year; and one for one region and year
    # (the steps cover the whole demand, so any draw stays feasible)
    first = _r(rng, 0.1, 0.3)
    tables["demand_response"].append({"commodity": final, "region": "*", "year": None, "step": 1, "share": first,
                                      "price": _r(rng, 20, 80)})
    tables["demand_response"].append({"commodity": final, "region": "*", "year": None, "step": 2, "share": round(1 - first, 4),
                                      "price": _r(rng, 100, 300)})
    tables["demand_response"].append({"commodity": final, "region": regions[0], "year": years[-1], "step": 1, "share": 1.0,
                                      "price": _r(rng, 150, 400)})
    # costs by region and vintage: a region cheaper, a vintage dearer, a cell left blank
    p = rng.choice([q for q in processes if q != "mine"])
    tables["process_costs"].append({"process": p, "region": rng.choice(regions), "year": None,
                                    "capex": _r(rng, 1, 20), "fixed_om": None, "variable_cost": _r(rng, 0.1, 3)})
    tables["process_costs"].append({"process": p, "region": "*", "year": years[-1], "capex": _r(rng, 20, 60),
                                    "fixed_om": _r(rng, 0.01, 2), "variable_cost": None})
    # end-of-life scrap of the final stage, a year after the activity
    last = [q["process"] for q in tables["processes"] if q["stage"] != "recycling" and q["process"] != "mine"][-1]
    tables["process_io"].append({"process": last, "commodity": "scrap", "direction": "out", "coefficient": _r(rng, 0.05, 0.2),
                                 "reference": False, "delay": 1})
    # an end use without plant: the final product becomes a service, some of it demanded
    tables["commodities"].append({"commodity": "service", "unit": "units", "kind": "service", "description": "end use",
                                  "unmet_penalty": _r(rng, 300, 900)})
    tables["processes"].append({"process": "use", "name": "use", "stage": "end_use", "lifetime": 1, "lead_time": 0,
                                "availability": 1.0, "capex": 0.0, "fixed_om": 0.0, "variable_cost": _r(rng, 0.01, 0.5),
                                "capacity": False})
    tables["process_io"].append({"process": "use", "commodity": "service", "direction": "out", "coefficient": 1, "reference": True})
    tables["process_io"].append({"process": "use", "commodity": final, "direction": "in", "coefficient": _r(rng, 1.0, 1.5),
                                 "reference": False})
    for y in years:
        tables["demand"].append({"commodity": "service", "region": regions[0], "year": y, "quantity": _r(rng, 0.5, 3)})


def _kind(name: str):
    from rechain.model.schema import POLICY_KINDS

    return POLICY_KINDS[name]


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def write_tables(folder, data: dict) -> Path:
    """Write ``data`` (as from :func:`generate`) as an instance folder; empty optional tables are left out."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "instance.yaml", "w", encoding="utf-8") as f:
        yaml.safe_dump(data["settings"], f, sort_keys=False)
    v2 = data["settings"].get("format_version", 1) >= 2
    for name, cols in COLUMNS.items():
        rows = data["tables"][name]
        if not rows and name not in ("regions", "commodities", "processes", "process_io"):
            continue
        if not v2:
            cols = [c for c in cols if c not in V2_COLUMNS.get(name, ())]
        with open(folder / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(cols)
            for row in rows:
                w.writerow([_cell(row.get(c)) for c in cols])
    return folder


def write_instance(folder, seed: int, **kw) -> Path:
    """Write the random instance of ``seed`` into ``folder`` and return the folder."""
    return write_tables(folder, generate(seed, **kw))


def money_changes(inst, k: float) -> list[dict]:
    """Scenario-style changes multiplying every money figure of ``inst`` by ``k``."""
    out = [{"table": "instance", "column": "unmet_penalty", "scale": k}] if inst.unmet_penalty is not None else []
    for table, cols in MONEY.items():
        df = inst.tables[table]
        for c in cols:
            if c in df.columns and df[c].notna().any():
                out.append({"table": table, "where": {}, "column": c, "scale": k})
    return out
