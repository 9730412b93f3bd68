"""Calibration of the shipped instances against public figures.

Each instance and scenario is solved once (module-scoped cache). Every assertion names the
figure it checks and, in a comment, where the figure comes from (ids as in instance.yaml; the
figures themselves are in ../shared/data/calibration_facts.csv and the instances' SOURCES.md).
The expected values are written here, not read from the builder, so a change to the data that
moves an answer away from the public figure fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from rechain import instances
from rechain.model import load_instance
from rechain.solvers import solve

ROOT = Path(__file__).resolve().parents[1]

DEFAULT = "inner_mongolia_2021_2025"
NATIONAL = "china_2020_2035"
CHINA = ["inner_mongolia", "jiangxi", "other_china"]
# magnet output, one definition everywhere: sintered blanks (the sintering plant's activity) plus
# bonded magnets, made in China's three regions (as MIIT and seed_argus count it)
MAGNET_MAKING = ["magnet_sintering", "magnet_bonded"]
TOL = 1e-6

# USGS Mineral Commodity Summaries 2025 (Argus), oxide prices in USD/kg, 2020-2024, at the annual
# CNY/USD rates of fx_cny_usd; Nd oxide stands for PrNd oxide.
FX = {2020: 6.90, 2021: 6.45, 2022: 6.73, 2023: 7.08, 2024: 7.19}
USGS = {"prnd_oxide": (49, 98, 134, 78, 56), "dy_oxide": (261, 410, 382, 330, 260), "tb_oxide": (670, 1346, 2051, 1298, 810)}
MARKET = {c: {y: v * FX[y] / 1000 for y, v in zip(FX, vals)} for c, vals in USGS.items()}  # CNY million per t

_SOLVED: dict[tuple, object] = {}


def solved(name: str, scenario: str | tuple[str, ...] | None = None):
    """Solve a shipped instance (and scenario, or scenarios applied in order) once per test session."""
    key = (name, scenario)
    if key not in _SOLVED:
        if isinstance(scenario, tuple):
            _SOLVED[key] = solve(load_instance(instances.path(name)).with_scenario(*scenario))
        else:
            _SOLVED[key] = solve(load_instance(instances.path(name), scenario=scenario))
    return _SOLVED[key]


def scenario_names(name: str) -> list[str]:
    settings = yaml.safe_load((instances.path(name) / "instance.yaml").read_text())
    return list(settings.get("scenarios") or {})


@pytest.fixture(scope="module")
def base():
    res = solved(DEFAULT)
    assert res.status == "optimal"
    return res


@pytest.fixture(scope="module")
def base_instance():
    return load_instance(instances.path(DEFAULT))


@pytest.fixture(scope="module")
def no_target():
    res = solved(DEFAULT, "no_plan_target")
    assert res.status == "optimal"
    return res


def magnet_output(res, year: int) -> float:
    a = res.activity
    sel = a.process.isin(MAGNET_MAKING) & a.region.isin(CHINA) & (a.year == year)
    return float(a.loc[sel, "activity"].sum())


def activity(res, process: str, year: int, regions=None) -> float:
    a = res.activity
    sel = (a.process == process) & (a.year == year)
    if regions is not None:
        sel &= a.region.isin(regions)
    return float(a.loc[sel, "activity"].sum())


def sintering_capacity(res, region: str, year: int) -> float:
    c = res.capacity
    sel = (c.process == "magnet_sintering") & (c.region == region) & (c.year == year)
    return float(c.loc[sel, "total"].sum())


def price(res, commodity: str, region: str, year: int) -> float:
    p = res.prices
    row = p[(p.commodity == commodity) & (p.region == region) & (p.year == year)]
    assert len(row) == 1, (commodity, region, year)
    return float(row.price.iloc[0])


def policy(res, name: str, year: int) -> pd.Series:
    p = res.policies
    row = p[(p.policy == name) & (p.year == year)]
    assert len(row) == 1, (name, year)
    return row.iloc[0]


def binds(row) -> bool:
    return row.slack <= 1e-3 and abs(row.shadow_price) > 1e-9


# ------------------------------------------------------------------ magnet output


def test_2021_magnet_output_sits_between_the_2020_trend_and_the_reported_2021_figure(base):
    # seed_argus: China made ~190,000 t of magnets in 2020, +3-5 % expected in 2021 (the view from
    # 2020); smm_high_grade_2021 (MIIT): 207,100 t sintered blanks + 9,400 t bonded = 216,500 t
    # actually made in 2021, with demand above the 2020 view. The base (2020 view of demand) may
    # fall short of the trend by the 10 % the cheapest alternatives take, never exceed the report.
    out = magnet_output(base, 2021)
    low, high = 0.9 * 190_000 * 1.03, 216_500
    assert low <= out <= high, f"2021 magnet output {out:,.0f} t outside [{low:,.0f}, {high:,.0f}]"


def test_magnet_output_grows_every_year_of_the_plan(base):
    # seed_argus: demand for magnets (NEVs, e-bikes, wind) grows over 2021-25.
    outs = [magnet_output(base, y) for y in range(2021, 2026)]
    assert all(b > a for a, b in zip(outs, outs[1:])), outs


def test_actual_demand_lifts_output_to_the_reported_scale(base):
    # caam_nev_2025 / nea_wind_2025 and the 2021-24 sources: with demand as it turned out, 2024 output
    # is well above the 2020 view, and 2025 demand does not fall back (no cliff): NEV demand in 2025
    # is at least that of 2024.
    actual = solved(DEFAULT, "actual_demand_2021_2024")
    assert magnet_output(actual, 2024) > 1.1 * magnet_output(base, 2024)
    inst = load_instance(instances.path(DEFAULT), scenario="actual_demand_2021_2024")
    nev = inst.demand[inst.demand.commodity == "nev"].groupby("year").quantity.sum()
    assert nev[2025] >= nev[2024] >= nev[2023], nev.to_dict()
    assert magnet_output(actual, 2025) >= magnet_output(actual, 2024)


# ------------------------------------------------------------------ the Inner Mongolia target


def test_inner_mongolia_reaches_100000_t_magnet_capacity_by_2025(base):
    # seed_argus: Inner Mongolia plans 100,000 t/y magnet capacity by 2025, from 45,000 t/y in 2020.
    assert sintering_capacity(base, "inner_mongolia", 2021) == pytest.approx(45_000)
    assert sintering_capacity(base, "inner_mongolia", 2025) >= 100_000 - TOL
    row = policy(base, "im_magnet_target", 2025)
    assert binds(row)


def test_without_the_plan_target_inner_mongolia_builds_far_less(base, no_target):
    # seed_argus (45,000 t/y existing, 100,000 t/y target). Without the target, least cost keeps
    # Inner Mongolia close to its existing plants; China's total output is unchanged.
    chosen = sintering_capacity(no_target, "inner_mongolia", 2025)
    assert 45_000 - TOL <= chosen < 0.6 * 100_000, f"IM capacity chosen without the target: {chosen:,.0f} t/y"
    assert no_target.objective < base.objective
    for y in range(2021, 2026):
        assert magnet_output(no_target, y) == pytest.approx(magnet_output(base, y), rel=1e-3)


def test_the_capital_the_target_commits_is_reported(base, no_target):
    # the results carry the overnight capital of every build (investment table): the target's extra
    # sintering plant in Inner Mongolia costs its capacity times the regional capex (ree_jlmag_capex)
    inv = base.investment
    im = inv[(inv.process == "magnet_sintering") & (inv.region == "inner_mongolia")]
    assert im.new.sum() >= 100_000 - 45_000 - TOL
    assert im.overnight.sum() == pytest.approx((im.new * im.capex).sum(), rel=1e-9)
    assert im.overnight.sum() > 1_000  # CNY million: ~2.9 bn for 55 kt/y at 0.0525 per t/y
    nt = no_target.investment
    assert nt[(nt.process == "magnet_sintering") & (nt.region == "inner_mongolia")].overnight.sum() < im.overnight.sum()


# ------------------------------------------------------------------ separation and co-products

# Shares of REO in the feed: Bayan Obo (usgs_sir_2010_5220): Ce 0.50, La 0.24, PrNd 0.235, Dy 0.001,
# Tb 0.0005 (La and Ce leave together as mixed carbonate, lace_bo); Mountain Pass-type (mp_10k_2021):
# Ce 0.502, La 0.323, NdPr 0.157; Chinese ionic clay (est_ionic_profile): Y 0.36, PrNd 0.208, Dy 0.043,
# Tb 0.007; Myanmar feed (roskill_myanmar_2018: 860 t Dy2O3 and 130 t Tb4O7 in 23,000 t REO). Separation
# recovery 0.93 (treo_cnre_huamei).
ORE = {
    "separation_bayan_obo": {"lace_bo": 0.74, "prnd_oxide": 0.235, "dy_oxide": 0.001, "tb_oxide": 0.0005},
    "separation_sichuan": {"lace_bast": 0.825, "prnd_oxide": 0.157},
    "separation_imported_light": {"lace_bast": 0.825, "prnd_oxide": 0.157},
    "separation_ionic": {"y_oxide": 0.36, "prnd_oxide": 0.208, "dy_oxide": 0.043, "tb_oxide": 0.007},
    "separation_imported_ionic": {"dy_oxide": 0.0374, "tb_oxide": 0.0057},  # 860 and 130 t in 23,000 t, rounded
}


@pytest.mark.parametrize("process", sorted(ORE))
def test_separation_output_shares_equal_the_ore_composition(base, process):
    f = base.flows
    f = f[(f.process == process) & (f.quantity > TOL)]
    assert not f.empty, f"{process} does not run in the default solution"
    for (region, year), g in f.groupby(["region", "year"]):
        feed = g[g.direction == "in"].quantity.sum()
        out = g[g.direction == "out"].set_index("commodity").quantity
        assert out.sum() == pytest.approx(0.93 * feed, rel=1e-4)
        for c, share in ORE[process].items():
            assert out[c] / out.sum() == pytest.approx(share, rel=2e-3), (process, region, year, c)


def test_la_ce_are_stockpiled_while_prnd_is_scarce(base):
    # smm_lace_2021: China separated ~90 kt of La/Ce oxide in 2021 and used ~40 kt; the rest is
    # stockpiled as mixed carbonate. While PrNd is dear, the Bayan Obo La/Ce stockpile grows
    # every year, and Ce oxide is worth a hundredth of PrNd (usgs_mcs_2025: 2 USD/kg against 49-134).
    st = base.stock
    lace = st[(st.commodity == "lace_bo") & (st.region == "inner_mongolia")].set_index("year").level
    assert all(b > a for a, b in zip(lace, lace[1:])), lace.to_dict()
    for y in range(2021, 2026):
        prnd = price(base, "prnd_oxide", "other_china", y)
        assert prnd > 0.1
        assert abs(price(base, "ce_oxide", "other_china", y)) < 0.05 * prnd


# ------------------------------------------------------------------ quotas


def prnd_made_2021(res) -> dict[str, float]:
    """PrNd oxide made in China in 2021, t, by source."""
    f = res.flows
    out = f[(f.commodity == "prnd_oxide") & (f.direction == "out") & (f.year == 2021) & f.region.isin(CHINA)]
    return {"ore": out[out.process.isin(["separation_bayan_obo", "separation_sichuan", "separation_ionic"])].quantity.sum(),
            "recycled": out[out.process.str.startswith("recycle")].quantity.sum(),
            "motors": out[out.process == "recycle_eol"].quantity.sum()}


def test_smm_accounts_of_2021_give_smms_sources_of_prnd(base_instance):
    """The instance doc's what-if "SMM's accounts of 2021" (docs/instances.md, 'How far China's rock
    ore runs past its quotas') does what its label says: with rock ore at SMM's recorded 2021 output,
    waste-motor magnets as SMM counts them and recycling plant as Argus counts it, 2021's PrNd oxide
    from China's ore and from recycling are SMM's."""
    # smm_prnd_supply_2021: 49 % domestic and 5 % other ores of > 300,000 t of oxides, recovery 0.93;
    # rock quotas 168,000 t mined and 162,000 t separated in 2021; the base's factors 200,000 t of oxides
    mined, separated = 0.54 * 300_000 / 0.93 / 168_000, 0.54 * 300_000 / 0.93 / 162_000
    base_mined, base_separated = 200_000 / 0.93 / 168_000, 200_000 / 0.93 / 162_000
    # smm_recycling_2021: 23,000 t of PrNd oxide recycled in 2021 (30 %), 8,000 t from waste motors;
    # a t of Dy-free magnet (31 % PrNd metal, courage_re_content) gives 0.31 / 0.8499 x 0.95^2 t of oxide
    motors = 8_000 / (0.31 / 0.8499 * 0.95 ** 2)
    changes = ([{"table": "policies", "where": {"policy": p}, "column": "value", "scale": mined / base_mined}
                for p in ("northern_rock_quota", "other_rock_quota")]
               + [{"table": "policies", "where": {"policy": "separation_quota"}, "column": "value", "scale": separated / base_separated},
                  {"table": "supply", "where": {"commodity": "eol_scrap"}, "column": "max_quantity", "set": motors}]
               # argus_recycling_capacity: 80,000 t of scrap a year in China, 64 % of it in Jiangxi
               + [{"table": "capacity", "where": {"process": "recycling_swarf", "region": r}, "column": "capacity", "set": q}
                  for r, q in (("jiangxi", 51_200), ("other_china", 80_000 - 51_200 - 5_000))])
    res = solve(base_instance.with_changes(changes))
    assert res.status == "optimal"
    made = prnd_made_2021(res)
    total = 23_000 / 0.30
    # China's ore: at most SMM's 45 % (the recorded output caps it), and not far below it: seen from 2020,
    # Sichuan's ore is the marginal mine of 2021 and is not used up
    assert 0.8 * 0.45 * total <= made["ore"] <= 1.02 * 0.45 * total, made
    assert made["recycled"] == pytest.approx(23_000, rel=0.10), made
    assert made["motors"] > 0.25 * 8_000, made  # the recyclers' plant runs swarf first in 2021
    # and the base's own factor makes more PrNd from China's ore than that
    assert prnd_made_2021(solve(base_instance))["ore"] > 1.05 * made["ore"]


def test_quotas_hold_and_bind_where_they_should(base):
    # smm_quota_2021: rock quota 148,850 t, of which China Northern Rare Earth 100,350 t (67 %),
    # ionic 19,150 t; est_over_quota: rock ore mined at 200,000 t of oxides a year against 2021's
    # quota, 1.28 times it (an estimate: docs/instances.md shows the range the sources allow).
    for y in range(2021, 2026):
        assert binds(policy(base, "ionic_mining_quota", y)), y
        assert activity(base, "mining_ionic", y) == pytest.approx(19_150, rel=1e-6)
    row = policy(base, "northern_rock_quota", 2021)
    assert binds(row)
    bo = activity(base, "beneficiation_bayan_obo", 2021)
    assert bo == pytest.approx(100_350 * 200_000 / 0.93 / 168_000, rel=1e-4)
    sichuan = activity(base, "beneficiation_sichuan", 2021)
    # Northern's share of rock mining: its allocation, or above where Sichuan's mines run below their
    # quota: seen from 2020, Sichuan's ore is the marginal mine of 2021 (PrNd at the cost of its ore)
    assert 100_350 / 148_850 - 1e-3 <= bo / (bo + sichuan), bo / (bo + sichuan)
    assert sichuan <= (148_850 - 100_350) * 200_000 / 0.93 / 168_000 * (1 + 1e-6)
    # quota_scope (giti_quota_2022): imported concentrate and recycled swarf on top of the quotas;
    # smm_prnd_supply_2021: recycling gave ~30 % and imports ~19 % of China's 70 kt PrNd in 2021
    f = base.flows
    f21 = f[(f.commodity == "prnd_oxide") & (f.direction == "out") & (f.year == 2021) & f.region.isin(CHINA)]
    total = f21.quantity.sum()
    recycled = f21[f21.process.str.startswith("recycle")].quantity.sum()
    imported = f21[f21.process.str.startswith("separation_imported")].quantity.sum()
    assert 0.75 * 70_000 <= total <= 1.15 * 70_000, total
    assert 0.15 <= recycled / total <= 0.35 and 0.10 <= imported / total <= 0.25, (recycled / total, imported / total)


def test_no_quota_is_exceeded_in_any_scenario_of_the_default():
    for sc in [None] + scenario_names(DEFAULT):
        res = solved(DEFAULT, sc)
        assert (res.policies.violation.fillna(0) <= 1e-6).all(), sc


# ------------------------------------------------------------------ mass balance


def test_mass_balance_closes_for_every_commodity_region_and_year(base, base_instance):
    keys = ["commodity", "region", "year"]
    f = base.flows.copy()
    f["signed"] = f.quantity.where(f.direction == "out", -f.quantity)
    bal = f.groupby(keys).signed.sum().rename("process")
    sup = base.supply.groupby(keys).quantity.sum().rename("supply")
    t = base.trade
    imp = t.rename(columns={"destination": "region"}).groupby(keys).quantity.sum().rename("imports")
    exp = t.rename(columns={"origin": "region"}).groupby(keys).quantity.sum().rename("exports")
    unmet = base.unmet.groupby(keys).quantity.sum().rename("unmet")
    given_up = base.demand_response.groupby(keys).unmet.sum().rename("given_up")
    disp = base.disposal.groupby(keys).quantity.sum().rename("disposal")
    dem = base_instance.demand.groupby(keys).quantity.sum().rename("demand")
    st = base.stock.sort_values("year").copy()
    init = base_instance.storage.set_index(["commodity", "region"]).initial
    st["before"] = st.groupby(["commodity", "region"])["level"].shift(1)
    st["before"] = st.before.fillna(pd.Series([init[(c, r)] for c, r in zip(st.commodity, st.region)], index=st.index))
    draw = (st.before - st.level).groupby([st.commodity, st.region, st.year]).sum().rename("draw")
    draw.index.names = keys
    df = pd.concat([bal, sup, imp, exp, unmet, given_up, disp, dem, draw], axis=1).fillna(0.0)
    residual = df.process + df.supply + df.imports - df.exports + df.unmet + df.given_up - df.disposal - df.demand + df.draw
    worst = residual.abs().idxmax()
    assert residual.abs().max() <= 1e-4 * max(1.0, df.loc[worst].abs().max()), (worst, residual[worst], df.loc[worst].to_dict())


# t metal per t oxide (atomic_weights): PrNd 25:75 0.8499, Dy2O3 0.8713, Tb4O7 0.8502, CeO2 0.8141
OXIDE_OF = {"prnd_metal": ("prnd_oxide", 0.8499), "dy_metal": ("dy_oxide", 0.8713), "tb_metal": ("tb_oxide", 0.8502),
            "ce_metal": ("ce_oxide", 0.8141)}


def reo_content(inst) -> dict[str, float]:
    """t REO per t of each commodity: ores, concentrates, oxides and La/Ce carbonate count 1; a metal
    its oxide equivalent; an alloy, blank, magnet or scrap the oxide equivalent of the metals its
    alloy holds (from the alloy recipes); anything else 0."""
    com = inst.commodities.set_index("commodity")
    io = inst.process_io
    content = {c: 1.0 for c in com.index if com.unit[c] == "t REO" or c.endswith("_oxide") or c.startswith("lace_")}
    content.update({m: 1 / ox for m, (_, ox) in OXIDE_OF.items()})
    for p in io[io.process.str.startswith("make_alloy_")].process.unique():
        g = io[io.process == p]
        alloy = g[g.direction == "out"].commodity.iloc[0]
        content[alloy] = sum(q / OXIDE_OF[c][1] for c, q in zip(g.commodity, g.coefficient) if c in OXIDE_OF and g.direction[g.commodity == c].iloc[0] == "in")
    for grade in ("std", "ce", "hc", "gbd"):
        a = content[f"alloy_{grade}"]
        for c in (f"blank_{grade}", f"swarf_{grade}"):
            content[c] = a
        content["magnet_gbd_base" if grade == "gbd" else f"magnet_{grade}"] = a
    # the hc grade's finished magnets are bulk-alloyed; as magnet_hc they keep that content
    # (magnet_hc made by diffusion holds its base plus the Tb or Dy: checked at the diffusion step)
    content["magnet_hc_bulk"] = content["magnet_hc"]
    bonded = io[(io.process == "magnet_bonded") & (io.direction == "in")]  # alloy powder and binder
    content["bonded_magnet"] = sum(content.get(c, 0.0) * q for c, q in zip(bonded.commodity, bonded.coefficient))
    return content


def magnet_work(inst) -> dict[str, float]:
    """What a t of magnet does on each route to magnet_hc, against a Tb-diffused magnet: the square of
    its remanence (skomski_2016: the energy product is at most mu0 Ms^2 / 4), the remanence being the
    mean polarisation of the R2Fe14B grains, 1.60 T with Nd, 1.56 T with Pr, 0.71 T with Dy and 0.70 T
    with Tb (herbst_1991), each metal taking sites in proportion to its atoms."""
    js = {"prnd_metal": (0.25 * 1.56 + 0.75 * 1.60, 0.25 * 140.91 + 0.75 * 144.24), "dy_metal": (0.71, 162.50),
          "tb_metal": (0.70, 158.93)}
    io = inst.process_io

    def inputs(p):
        g = io[(io.process == p) & (io.direction == "in")]
        return dict(zip(g.commodity, g.coefficient))

    def br(metals):
        atoms = {m: q / js[m][1] for m, q in metals.items() if m in js}
        return sum(js[m][0] * a for m, a in atoms.items()) / sum(atoms.values())

    base = inputs("make_alloy_gbd")
    routes = {"bulk_as_hc": br(inputs("make_alloy_hc"))}
    for p in io[io.process.str.startswith("diffuse_")].process.unique():
        g = inputs(p)
        per_t = g["magnet_gbd_base"]  # t of magnet diffused per t of magnet_hc
        extra = {m: q / per_t for m, q in g.items() if m in js}
        routes[p] = br({m: base.get(m, 0.0) + extra.get(m, 0.0) for m in js})
    return {p: (b / routes["diffuse_tb"]) ** 2 for p, b in routes.items()}


@pytest.mark.parametrize("name", [DEFAULT, NATIONAL])
def test_rare_earth_content_closes_stage_by_stage_in_reo_equivalent(name):
    """Per unit of each process, REO in = REO out / its recovery: separation 0.93 (treo_cnre_huamei),
    electrolysis 0.95 (est_electrolysis), recycling 0.95 x 0.95 (prommis_recycling), no loss in
    alloying, sintering, finishing (swarf keeps the blank's content: earthsbook_jlmag_yield) and
    La/Ce splitting; diffusion adds the Tb or Dy it diffuses in (mainrich_gbd); a magnet that holds
    more heavy RE does less per t (magnet_work)."""
    check_reo_closes(load_instance(instances.path(name)), name)


def test_a_variant_whose_diffused_magnets_hold_more_heavy_re_closes_too(tmp_path):
    """The builder's variant with diffused magnets holding 1.5 times the heavy RE (the instance doc's
    what-ifs against the sourced range of diffusion's saving): the diffusion-base alloy's Dy and every
    diffusion dose are 1.5 times the shipped ones, the alloy still 31 % RE metal, and REO closes
    stage by stage with the work per t that content gives."""
    from rechain.instances.build import write

    shipped = load_instance(instances.path(DEFAULT))
    variant = load_instance(write(DEFAULT, tmp_path / DEFAULT, gbd_scale=1.5))

    def heavy(inst):
        io = inst.process_io
        g = io[(io.direction == "in") & io.commodity.isin(["dy_metal", "tb_metal", "prnd_metal", "magnet_gbd_base"])]
        per = g.set_index(["process", "commodity"]).coefficient
        doses = {p: per[(p, m)] / per[(p, "magnet_gbd_base")] for p, m in (("diffuse_tb", "tb_metal"), ("diffuse_dy", "dy_metal"))}
        return per[("make_alloy_gbd", "dy_metal")], per[("make_alloy_gbd", "prnd_metal")], doses

    (dy0, prnd0, doses0), (dy1, prnd1, doses1) = heavy(shipped), heavy(variant)
    assert dy1 == pytest.approx(1.5 * dy0, rel=1e-6)
    assert dy1 + prnd1 == pytest.approx(dy0 + prnd0) == pytest.approx(0.31)  # courage_re_content
    for p in doses0:
        assert doses1[p] == pytest.approx(1.5 * doses0[p], rel=5e-3), p  # Dy doses rounded to 0.1 kg per t (about 1 %)
    check_reo_closes(variant, "variant")


def test_a_variant_with_another_split_of_the_bulk_grade_closes_too(tmp_path):
    """The builder's variant with the bulk-alloyed grade's heavy RE split as first estimated
    (est_grades: 3.3 % Dy, 0.2 % Tb; the instance doc's what-if against the base's split from China's
    magnet scrap): the recipe holds that split with PrNd making up 31 % RE metal, its swarf gives back
    those oxides, and a t of it does the work its content allows (checked by check_reo_closes, which
    recomputes the work from the recipe)."""
    from rechain.instances.build import write

    split = {"dy_metal": 0.033, "tb_metal": 0.002}
    variant = load_instance(write(DEFAULT, tmp_path / DEFAULT, hc_split=split))
    io = variant.process_io.set_index(["process", "commodity", "direction"]).coefficient
    for m, q in split.items():
        assert io[("make_alloy_hc", m, "in")] == pytest.approx(q)
        assert io[("recycle_hc", OXIDE_OF[m][0], "out")] == pytest.approx(q / OXIDE_OF[m][1] * 0.95 ** 2, rel=1e-5)
    assert io[("make_alloy_hc", "prnd_metal", "in")] == pytest.approx(0.31 - 0.035)  # courage_re_content
    shipped = load_instance(instances.path(DEFAULT)).process_io.set_index(["process", "commodity", "direction"]).coefficient
    # less Tb and more Dy for the same heavy RE: the bulk grade's magnets do a little more per t
    assert io[("bulk_as_hc", "magnet_hc", "out")] > shipped[("bulk_as_hc", "magnet_hc", "out")]
    check_reo_closes(variant, "variant")


def check_reo_closes(inst, name):
    content = reo_content(inst)
    stage = inst.processes.set_index("process").stage
    recovery = {"separation": 0.93, "metal": 0.95, "recycling": 0.95 ** 2}
    checked = set()
    for p, g in inst.process_io.groupby("process"):
        if stage[p] in ("mining", "beneficiation", "end_use"):
            continue
        signed = g.coefficient.where(g.direction == "out", -g.coefficient)
        reo = signed * g.commodity.map(content).fillna(0.0)
        reo_in, reo_out = -reo[reo < 0].sum(), reo[reo > 0].sum()
        if reo_in == 0 and reo_out == 0:
            continue  # a plant's capacity service (casting, sintering, ...)
        if p.startswith("recycle_") and p != "recycling_swarf" and g.commodity.str.startswith("eol").any():
            continue  # end-of-life scrap is counted per unit of product, its content is that of the alloy
        if p.startswith("diffuse_") or p == "bulk_as_hc":
            # magnet_hc is counted in t of a Tb-diffused magnet's work: a t of magnet in is a t of magnet
            # out, nothing lost, and does the work its energy product allows (magnet_work)
            magnet_in = g[g.commodity.isin(["magnet_gbd_base", "magnet_hc_bulk"]) & (g.direction == "in")].coefficient.sum()
            out = g[(g.commodity == "magnet_hc") & (g.direction == "out")].coefficient.sum()
            hre = g[g.commodity.isin(["tb_metal", "dy_metal"]) & (g.direction == "in")].coefficient.sum()
            assert hre > 0 or p == "bulk_as_hc", p
            assert out / magnet_in == pytest.approx(magnet_work(inst)[p], rel=1e-5), p
            checked.add(stage[p])
            continue
        if p.startswith("lace_separation"):
            rec = 1.0
        else:
            rec = recovery.get(stage[p], 1.0)
        assert reo_out == pytest.approx(rec * reo_in, rel=2e-3), f"{name}: {p} ({stage[p]}) {reo_in:.5f} REO in, {reo_out:.5f} out"
        checked.add(stage[p])
    assert {"separation", "metal", "alloy", "magnet", "recycling"} <= checked


def test_alloy_recipes_hold_the_published_rare_earth_content(base_instance):
    # courage_re_content: sintered NdFeB is 31 % RE metal, 67.9 % Fe, 1.1 % B; est_grades: N grades
    # hold no heavy RE, bulk high-coercivity grades 3.5 % (mainrich_gbd: 3 % or more)
    io = base_instance.process_io.set_index(["process", "commodity", "direction"]).coefficient
    for alloy in ("alloy_std", "alloy_ce", "alloy_hc", "alloy_gbd"):
        p = f"make_{alloy}"
        re = sum(io.get((p, m, "in"), 0.0) for m in OXIDE_OF)
        assert re == pytest.approx(0.31, abs=1e-4), alloy
        assert re + io[(p, "iron", "in")] + io[(p, "boron", "in")] == pytest.approx(1.0, abs=1e-4)
    assert io.get(("make_alloy_std", "dy_metal", "in"), 0.0) == 0.0
    assert io[("make_alloy_hc", "dy_metal", "in")] + io[("make_alloy_hc", "tb_metal", "in")] >= 0.03
    # ieee_gbd_2017: diffused magnets use a half to a third of the heavy RE of bulk-alloyed ones;
    # mainrich_gbd: 30-60 % less. Per t of finished magnet, with the alloy's heavy RE lost to swarf with
    # it (earthsbook_jlmag_yield: 0.71 t finished per t of alloy) and the Tb diffused into the finished part
    bulk = (io[("make_alloy_hc", "dy_metal", "in")] + io[("make_alloy_hc", "tb_metal", "in")]) / 0.71
    gbd = io[("make_alloy_gbd", "dy_metal", "in")] / 0.71 + io[("diffuse_tb", "tb_metal", "in")]
    assert max(bulk / 3, 0.4 * bulk) - 1e-9 <= gbd <= bulk / 2 + 1e-9, (gbd, bulk)


# ------------------------------------------------------------------ implied prices


def test_implied_prices_are_positive_and_ordered_as_in_the_market(base):
    # usgs_mcs_2025 (Argus, 2020-24): Tb oxide > Dy oxide > PrNd oxide > La, Ce oxide in every year
    for y in range(2021, 2026):
        tb, dy, prnd = (price(base, c, "other_china", y) for c in ("tb_oxide", "dy_oxide", "prnd_oxide"))
        la, ce = price(base, "la_oxide", "other_china", y), price(base, "ce_oxide", "other_china", y)
        assert prnd > 0 and dy > 0, y
        assert tb > dy > prnd > max(la, ce), (y, tb, dy, prnd, la, ce)
        # magnets cost more than the PrNd metal they hold (courage_re_content: 0.31 t per t alloy)
        assert price(base, "magnet_std", "other_china", y) > 0.31 * price(base, "prnd_metal", "other_china", y)


def test_2021_prices_of_the_base_against_the_2020_market(base):
    # The view from 2020: with demand as seen from 2020 and quotas as allocated, the implied 2021 oxide
    # prices sit within 35 % of the 2020 annual averages (usgs_mcs_2025 x fx_cny_usd: Nd oxide 0.338, Dy
    # oxide 1.80, Tb oxide 4.62 CNY million/t). PrNd is set by the marginal mine (Sichuan's ore below its
    # quota); Dy and Tb by the Myanmar feed's supply curve (est_myanmar_curve) and the diffusion sources
    # that tie Tb to Dy (docs/instances.md, "What the heavy-RE prices rest on").
    dy, tb, prnd = (price(base, c, "other_china", 2021) for c in ("dy_oxide", "tb_oxide", "prnd_oxide"))
    for c, got in (("dy_oxide", dy), ("tb_oxide", tb), ("prnd_oxide", prnd)):
        assert 0.65 * MARKET[c][2020] <= got <= 1.35 * MARKET[c][2020], (c, got)
    # the Tb/Dy ratio of the market in 2020-24 is 2.5-5.4; the model's is set by diffusion, about 2.3
    assert 2.0 <= tb / dy <= 5.5


def test_2021_24_as_it_happened_gives_the_prnd_prices_of_2021_24(base):
    # usgs_mcs_2025 x fx_cny_usd: PrNd (Nd) oxide 0.63, 0.90, 0.55, 0.40 CNY million/t in 2021-24. With
    # NEV, wind and e-bike demand as it turned out (actual_demand_2021_2024) and Myanmar's feed as it came
    # in 2021-22 (myanmar_closures_2021_2022: smm_prnd_supply_2021, giti_imports_2023), the model meets
    # each year within 35 % and follows the turn (dearer in 2021-22 than in 2023-24, at least as steeply
    # as the market).
    happened = solved(DEFAULT, ("actual_demand_2021_2024", "myanmar_closures_2021_2022"))
    for y in range(2021, 2025):
        model = price(happened, "prnd_oxide", "other_china", y)
        assert 0.65 * MARKET["prnd_oxide"][y] <= model <= 1.35 * MARKET["prnd_oxide"][y], (y, model, MARKET["prnd_oxide"][y])
    early = min(price(happened, "prnd_oxide", "other_china", y) for y in (2021, 2022))
    late = max(price(happened, "prnd_oxide", "other_china", y) for y in (2023, 2024))
    market = MARKET["prnd_oxide"]
    assert early / late >= min(market[2021], market[2022]) / max(market[2023], market[2024])
    # demand alone makes PrNd dearer than the view from 2020 in every year, but not as dear as it was in
    # 2021-22: the Myanmar feed bought for its Dy and Tb brings PrNd with it. The feed that did not come
    # in 2021-22 is what lifts PrNd there.
    actual = solved(DEFAULT, "actual_demand_2021_2024")
    for y in range(2021, 2025):
        assert price(actual, "prnd_oxide", "other_china", y) > price(base, "prnd_oxide", "other_china", y) + 1e-3, y
    for y in (2021, 2022):
        assert price(actual, "prnd_oxide", "other_china", y) < 0.65 * MARKET["prnd_oxide"][y], y
        assert price(happened, "prnd_oxide", "other_china", y) > 1.5 * price(actual, "prnd_oxide", "other_china", y), y


def test_no_price_equals_a_hand_set_offer(base, base_instance):
    # No outside offer of a separated oxide or metal: PrNd, Dy and Tb come from ore, imported
    # concentrate, recycling and stocks only.
    offered = set(base_instance.supply.commodity)
    assert not {c for c in offered if c.endswith("_oxide") or c.endswith("_metal")}, offered
    # and no price of PrNd, Dy or Tb oxide in any year follows a number written in the instance as a
    # price for it or next to it: an offer, a demand-curve step or a holding cost of the commodity,
    # its metal or a magnet, or the running cost of a process that makes or uses it. A price within
    # 1 % of such a number must stay where it is when the number is raised by 10 %.
    near_of = {"prnd_oxide": ("prnd_oxide", "prnd_metal"), "dy_oxide": ("dy_oxide", "dy_metal"),
               "tb_oxide": ("tb_oxide", "tb_metal")}
    inst, io = base_instance, base_instance.process_io
    magnets = [c for c in inst.commodities.commodity if c.startswith(("magnet", "blank", "alloy", "bonded"))]
    checked = 0
    for c in ("prnd_oxide", "dy_oxide", "tb_oxide"):
        mine = list(near_of[c]) + magnets
        procs = set(io[io.commodity.isin(mine)].process)
        places = {("supply", "price"): inst.supply[inst.supply.commodity.isin(mine)].price,
                  ("demand_response", "price"): inst.demand_response[inst.demand_response.commodity.isin(mine)].price,
                  ("storage", "holding_cost"): inst.storage[inst.storage.commodity.isin(mine)].holding_cost,
                  ("processes", "variable_cost"): inst.processes[inst.processes.process.isin(procs)].variable_cost}
        numbers = {float(v) for col in places.values() for v in col.dropna() if float(v) > 0}
        assert numbers, c  # the check has something to compare with
        for y in range(2021, 2026):
            p = price(base, c, "other_china", y)
            for v in (v for v in numbers if abs(p - v) <= 0.01 * v):
                moved = solve(inst.with_changes([{"table": t, "where": {col: v}, "column": col, "scale": 1.1}
                                                 for (t, col), values in places.items() if (values == v).any()]))
                assert price(moved, c, "other_china", y) == pytest.approx(p, rel=0.01), (c, y, p, v)
                checked += 1
    assert checked <= 3  # a coincidence, not a habit


def nev_as_it_turned_out(inst) -> list[dict]:
    """The NEV rows of actual_demand_2021_2024 alone (CAAM sales, 2021-25)."""
    changes = inst.scenarios["actual_demand_2021_2024"]["changes"]
    nev = [c for c in changes if c["where"].get("commodity") == "nev"]
    assert nev
    return nev


def test_the_prnd_price_responds_to_nev_demand(base, base_instance):
    # icct_nev_plan / CAAM: NEV sales were 3.52 M in 2021 against 1.77 M in the view from 2020. With
    # NEV demand as it turned out (everything else as seen from 2020) PrNd is dearer in every year. With
    # NEV demand 30 % below the view it is never dearer: seen from 2020, PrNd is at the cost of the
    # marginal mine (Sichuan's ore, below its quota), which less demand leaves where it is.
    boom = solve(base_instance.with_changes(nev_as_it_turned_out(base_instance)))
    bust = solve(base_instance.with_changes(
        [{"table": "demand", "where": {"commodity": "nev"}, "column": "quantity", "scale": 0.7}]))
    for y in range(2021, 2026):
        p0 = price(base, "prnd_oxide", "other_china", y)
        assert price(boom, "prnd_oxide", "other_china", y) > 1.05 * p0, y
        assert price(bust, "prnd_oxide", "other_china", y) <= p0 + 1e-9, y
    quota = policy(base, "other_rock_quota", 2021)
    assert float(quota.slack) > 1.0  # Sichuan's ore is not used up: the marginal mine


def test_a_heavy_re_shock_raises_dy_by_a_plausible_multiple_and_spares_every_end_use(base, base_instance):
    # heavy_re_shock: no Myanmar feed in any year, about half of China's heavy-RE supply
    # (argus_myanmar_2020). Sourced episodes bound the answer: Myanmar's 2019 ban (a few months) raised
    # Dy about 1.7 times (heavy_re_price_shock_2019); China's export-quota cuts of 2010-11 raised the
    # Dy price 20-fold between January 2010 and July 2011 (Rare Metal Blog, November 2011:
    # https://www.raremetalblog.com/dysprosium-continues-easing-big-question-mark-over-future-dy-output/).
    # Losing the feed for five years lies between the two, not at the hundreds of times a model
    # without substitutes gives; and no end use loses more than 20 % of its demand (the rest is made
    # with less heavy RE, Dy-free grades or alternatives).
    shock = solved(DEFAULT, "heavy_re_shock")
    assert shock.status == "optimal"
    for y in range(2021, 2026):
        ratio = price(shock, "dy_oxide", "other_china", y) / price(base, "dy_oxide", "other_china", y)
        assert 1.7 <= ratio <= 20, (y, ratio)
    dem = base_instance.demand.groupby(["commodity", "year"]).quantity.sum()
    lost = shock.demand_response.groupby(["commodity", "year"]).unmet.sum().add(
        shock.unmet.groupby(["commodity", "year"]).quantity.sum(), fill_value=0.0)
    share = (lost / dem).dropna()
    assert (share <= 0.2 + 1e-9).all(), share[share > 0.2]
    # every end use is still served: direct-drive wind is built with magnets or its alternative
    a = shock.activity
    for y in range(2021, 2026):
        served = a[a.process.str.startswith("wind_dd") & (a.year == y)].activity.sum()
        assert served == pytest.approx(dem[("wind_direct_drive", y)], rel=1e-6)


def test_region_totals_do_not_depend_on_the_simplex_strategy(base_instance):
    # a planning answer is only worth reporting if it is the answer: dual simplex, primal simplex and
    # interior point (with crossover) give the same plant activity by process and region
    from rechain.solvers.direct import solve_direct

    totals = {}
    plants = set(base_instance.processes[base_instance.processes.capacity.astype(bool)].process)
    for name, opts in {"dual": dict(simplex_strategy=1), "primal": dict(simplex_strategy=4),
                       "ipm": dict(solver="ipm", run_crossover="on")}.items():
        r = solve_direct(base_instance, **opts)
        assert r.status == "optimal", name
        a = r.activity[r.activity.process.isin(plants)]
        totals[name] = a.groupby(["process", "region"]).activity.sum()
    df = pd.DataFrame(totals).fillna(0.0)
    spread = df.max(axis=1) - df.min(axis=1)
    moved = spread > 1.0 + 1e-6 * df.abs().max(axis=1)
    # the one degeneracy left (docs/instances.md): which of Jiangxi, the rest of China and the rest
    # of the world runs a few tens of t of its existing electrolysis (equal costs, oxide or metal
    # shipped at the same rate); it stays within 2 % of each metal's total
    stage = base_instance.processes.set_index("process").stage
    procs = df[moved].index.get_level_values("process")
    assert set(stage[procs]) <= {"metal"}, df[moved]
    total = df.groupby(level="process").sum().max(axis=1)
    assert (spread[moved] <= 0.02 * total[procs].to_numpy()).all(), df[moved]


# ------------------------------------------------------------------ scenarios and the national view


@pytest.mark.parametrize("scenario", scenario_names(DEFAULT))
def test_every_scenario_of_the_default_solves_optimally(scenario):
    assert solved(DEFAULT, scenario).status == "optimal"


@pytest.mark.parametrize("scenario", [None] + scenario_names(NATIONAL))
def test_the_national_instance_and_its_scenarios_solve_optimally(scenario):
    assert solved(NATIONAL, scenario).status == "optimal"


def test_required_scenarios_are_shipped():
    for name in (DEFAULT, NATIONAL):
        assert {"nev_boom", "wind_slowdown", "heavy_re_shock", "no_plan_target", "actual_demand_2021_2024",
                "plan_revision_2021", "myanmar_closure_2021", "export_controls_2025"} <= set(scenario_names(name))


def test_scenarios_move_the_answer_the_right_way(base):
    # nev_boom raises, wind_slowdown lowers magnet output; myanmar_closure_2021 (reuters_myanmar_2021,
    # smm_prnd_supply_2021) makes Dy dearer in 2021
    assert magnet_output(solved(DEFAULT, "nev_boom"), 2025) > magnet_output(base, 2025)
    assert magnet_output(solved(DEFAULT, "wind_slowdown"), 2025) < magnet_output(base, 2025)
    assert price(solved(DEFAULT, "myanmar_closure_2021"), "dy_oxide", "other_china", 2021) > price(base, "dy_oxide", "other_china", 2021)


def test_plan_revision_2021_converts_80_percent_locally_and_builds_150_kt(base):
    # Inner Mongolia's plan of November 2021 (seed_argus): 150,000 t/y magnetic materials capacity by
    # 2025 and more than 80 % of its rare-earth raw materials converted locally
    res = solved(DEFAULT, "plan_revision_2021")
    assert sintering_capacity(res, "inner_mongolia", 2025) >= 150_000 - TOL
    # (the share is of the PrNd the separation makes, as metal: 0.8499 t metal per t oxide at 0.95 recovery)
    metal = activity(res, "metal_prnd", 2025, ["inner_mongolia"])
    f = res.flows
    separated = f[(f.process == "separation_bayan_obo") & (f.commodity == "prnd_oxide") & (f.year == 2025)].quantity.sum()
    assert separated > 0
    assert metal >= 0.8 * separated * 0.8499 * 0.95 * (1 - 1e-6)
    base_metal = activity(base, "metal_prnd", 2025, ["inner_mongolia"])
    assert metal >= base_metal - TOL  # the base already converts most of it locally
    assert res.objective > base.objective


def test_the_rest_of_the_world_runs_its_plants_and_buys_the_rest_from_china():
    # smm_high_grade_2021: China exported 49,000 t of magnets in 2021; the rest of the world's own
    # plants (Japan, Europe, est_row_build) run full and Chinese magnets make up the rest; least cost
    # builds no new plant outside China in the national view (its build limits are open: it could)
    res = solved(NATIONAL)
    inst = load_instance(instances.path(NATIONAL))
    assert (inst.build_limits.region == "rest_of_world").any()
    t = res.trade
    exports = t[t.commodity.str.startswith("magnet") & t.origin.isin(CHINA) & (t.destination == "rest_of_world") & (t.year == 2021)]
    assert 0.6 * 49_000 <= exports.quantity.sum() <= 1.2 * 49_000, exports.quantity.sum()
    row_sintering = activity(res, "magnet_sintering", 2021, ["rest_of_world"])
    assert row_sintering == pytest.approx(sintering_capacity(res, "rest_of_world", 2021) * 0.9, rel=1e-6)
    # the two instances share the chain and the 2021 demand: their 2021 outputs agree within 5 %
    assert magnet_output(res, 2021) == pytest.approx(magnet_output(solved(DEFAULT), 2021), rel=0.05)


def test_lynas_separates_outside_china_at_its_reported_scale(base):
    # lynas_ar_2021: Lynas made 5,461 t NdPr in FY2021 (4,656 t in FY2020), 34.6 % of its 15,761 t REO;
    # projectblue_lynas: capacity about 7,000 t/y NdPr. Its co-products (La/Ce beyond the region's
    # splitting plant, SEG) are stocked, so they do not stop the plant.
    for res, years in ((base, range(2021, 2026)), (solved(NATIONAL), (2020, 2021))):  # the national view may build more
        f = res.flows
        for y in years:
            ndpr = f[(f.process == "separation_row") & (f.commodity == "prnd_oxide") & (f.year == y)].quantity.sum()
            assert 4_656 <= ndpr <= 7_000, (y, ndpr)


def test_the_2020_mix_is_the_least_cost_choice_at_2020_magnet_prices(base, base_instance):
    # est_substitutes: an alternative's extra cost is measured against a whole magnet motor with its
    # magnets at 2020 prices (mineralprices_exports_2020: USD 47,389 per t at fx_cny_usd 6.90), so in
    # the LP every tier of every alternative costs more than the magnets it does without, and seen from
    # 2020 no end use leaves its magnets in 2021 while supply meets demand.
    inst, io = base_instance, base_instance.process_io
    magnet_price = 47_389 * 6.90 / 1e6
    magnets = {"magnet_std", "magnet_hc", "magnet_hc_bulk", "magnet_ce", "bonded_magnet"}
    routes = io[(io.direction == "out") & io.process.isin(inst.processes[inst.processes.stage == "end_use"].process)]
    cost = inst.processes.set_index("process").variable_cost
    checked = 0
    for service, group in routes.groupby("commodity"):
        procs = list(group.process)
        need = {p: io[(io.process == p) & (io.direction == "in") & io.commodity.isin(magnets)].set_index("commodity").coefficient
                for p in procs}
        magnet_route = next((p for p in procs if cost[p] == 0 and len(need[p])), None)
        for p in procs:
            if cost[p] > 0 and magnet_route:
                saved = (need[magnet_route] - need[p].reindex(need[magnet_route].index).fillna(0)).clip(lower=0).sum()
                assert cost[p] > saved * magnet_price, (p, cost[p], saved * magnet_price)
                checked += 1
    assert checked >= 40
    a = base.activity
    tiers = a[a.process.str.match(r".*_\d$") & (a.year == 2021)]
    assert tiers.activity.sum() == pytest.approx(0, abs=1e-6), tiers[tiers.activity > 0]


def test_the_myanmar_closure_of_2021_changes_2021_only(base):
    # smm_prnd_supply_2021: 20,100 t gross from Myanmar in 2021; the years after keep the 2020 view
    closure = solved(DEFAULT, "myanmar_closure_2021")
    inst = load_instance(instances.path(DEFAULT), scenario="myanmar_closure_2021")
    cap = inst.supply[inst.supply.commodity == "myanmar_concentrate"].set_index("year").max_quantity
    assert cap[2021] == pytest.approx(20_100 * 0.70)
    assert all(cap[y] == pytest.approx(35_539 * 0.70) for y in range(2022, 2026))
    # and nothing beyond it along the supply curve (est_myanmar_curve) in 2021, the curve as in the base after
    steps, base_steps = policy_values(inst, "myanmar_feed_"), policy_values(load_instance(instances.path(DEFAULT)), "myanmar_feed_")
    assert steps and all(v == (0 if y == 2021 else base_steps[(p, y)]) for (p, y), v in steps.items()), steps
    # the closure makes 2021 dearer for PrNd and Dy than the view from 2020
    for c in ("prnd_oxide", "dy_oxide"):
        assert price(closure, c, "other_china", 2021) > 1.05 * price(base, c, "other_china", 2021), c


def test_export_controls_stop_heavy_re_leaving_china_from_2025():
    # mofcom_export_controls_2025: exports of Dy and Tb need a licence from April 2025
    for name in (DEFAULT, NATIONAL):
        res = solved(name, "export_controls_2025")
        t = res.trade
        heavy = t[t.commodity.isin(["dy_oxide", "tb_oxide", "dy_metal", "tb_metal"]) & t.origin.isin(CHINA)
                  & (t.destination == "rest_of_world") & (t.year >= 2025)]
        assert heavy.quantity.sum() <= 1e-6, (name, heavy[heavy.quantity > 0])


def feed_steps(inst, res) -> dict[int, tuple[int, float]]:
    """The years the Myanmar feed is bought part-way up a step of its curve beyond 2020's volume
    (est_myanmar_curve): {year: (step, the step's price)}."""
    width = policy_values(inst, "myanmar_feed_")
    cost = inst.processes.set_index("process").variable_cost
    a = res.activity[res.activity.process.str.startswith("myanmar_feed_")]
    out = {}
    for r in a.itertuples():
        if 1e-6 < r.activity < width[(r.process, r.year)] - 1e-6:
            out[r.year] = (int(r.process.rsplit("_", 1)[1]), float(cost[r.process]))
    return out


def policy_values(inst, prefix: str) -> dict[tuple[str, int], float]:
    p = inst.policies[inst.policies.policy.str.startswith(prefix)]
    return {(r.policy, r.year): r.value for r in p.itertuples()}


def test_what_the_docs_say_sets_the_heavy_re_prices_is_what_sets_them(base, base_instance):
    # SOURCES.md and docs/instances.md ("What the heavy-RE prices rest on") say that the Myanmar feed
    # is the marginal source of Dy and Tb and its separation ties PrNd, Dy and Tb together; that beyond
    # 2020's volume (argus_myanmar_2020) it comes in steps (est_myanmar_curve), and where a year's
    # purchase ends part-way up a step, that step's price is the feed's price; and that stocks carry Dy
    # from 2021 into the years after: each is a route at the margin of the price (rechain price), so a
    # change of the data that makes the text untrue fails here
    from rechain.solvers import PriceExplainer

    explain = PriceExplainer(base_instance).explain
    steps = feed_steps(base_instance, base)
    assert steps, "no year with the feed bought part-way up a step"
    said = re.search(r"bought part-way up a step of its curve in (\d{4})", (ROOT / "docs" / "instances.md").read_text())
    assert said and int(said.group(1)) == min(steps)  # as the docs say
    for y, (_, cost) in steps.items():
        assert explain("myanmar_concentrate", "jiangxi", y).price == pytest.approx(cost, rel=1e-6), y
    dy = set(explain("dy_oxide", "jiangxi", 2021).drivers.driver)
    assert {"act[separation_imported_ionic,jiangxi,2021]", "stock[dy_oxide,jiangxi,2021]"} <= dy
    tb = explain("tb_oxide", "jiangxi", 2021)
    assert "act[separation_imported_ionic,jiangxi,2021]" in set(tb.drivers.driver)


def test_the_tb_dy_ratio_is_set_where_the_docs_say(base, base_instance, tmp_path):
    # docs/instances.md ("What fixes the levels of Dy and Tb") and SOURCES.md say: Dy and Tb are held
    # in stock in every year, so each price rises by the discount rate and its holding cost
    # (est_stocks); in 2023 parts take both diffusion sources with room left in Dy's reach
    # (est_dy_diffusion), so a t of Tb is worth the GBD_DY / GBD_TB t of Dy it saves (herbst_1991)
    # and the more magnet a Dy-diffused part needs for the same work (magnet_work); and with Dy's
    # reach in steps the step at the margin sets the ratio
    from rechain.instances.build import GBD_DY, GBD_TB, write

    r = base_instance.discount_rate
    holding = base_instance.storage.set_index("commodity").holding_cost
    st = base.stock[base.stock.region == "jiangxi"].set_index(["commodity", "year"]).level
    for oxide in ("dy_oxide", "tb_oxide"):
        for y in base_instance.years[:-1]:
            assert st[(oxide, y)] > 1, (oxide, y)
            here, nxt = price(base, oxide, "jiangxi", y), price(base, oxide, "jiangxi", y + 1)
            assert here == pytest.approx(nxt / (1 + r) - holding[oxide], rel=1e-6), (oxide, y)

    def both(res, dy: str, policy: str, regions=tuple(base_instance.regions.region)) -> tuple[int, str]:
        """The first year parts take Tb and the Dy source ``dy`` with room left in that source's
        reach (``policy``), and a region where they do (both in one of ``regions``, or ``None``: in
        any region)."""
        a = res.activity[res.activity.activity > 1e-6]
        slack = res.policies.set_index(["policy", "year"]).slack
        where = a.groupby(["process", "year"]).region.apply(set)
        found = [(y, g) for y in base_instance.years for g in (regions or (None,))
                 if slack[(policy, y)] > 1 and all((p, y) in where.index and (g is None or g in where[(p, y)])
                                                   for p in (dy, "diffuse_tb"))]
        assert found, f"no year with Tb and {dy} both taken and room left in {policy}"
        return found[0]

    def cost(res, inst, process: str, region: str, year: int) -> float:
        """What a t of magnet_hc costs on a route, in the prices of the year: its inputs, nothing else."""
        g = inst.process_io[(inst.process_io.process == process) & (inst.process_io.direction == "in")]
        return sum(q * price(res, c, region, year) for c, q in zip(g.commodity, g.coefficient))

    def tb_per_dy(res, year: int) -> float:  # metal prices in one region (freight apart, the same in all)
        return price(res, "tb_metal", "jiangxi", year) / price(res, "dy_metal", "jiangxi", year)

    y, g = both(base, "diffuse_dy", "dy_diffusion_depth")
    said = re.search(r"In (\d{4})(?:, \d{4})* parts take both diffusion sources", (ROOT / "docs" / "instances.md").read_text())
    assert said and int(said.group(1)) == y  # as the docs say
    # both routes cost what a t of magnet_hc fetches: Tb is worth more than the Dy it saves by the
    # extra diffused magnet a Dy-diffused part needs
    for p in ("diffuse_tb", "diffuse_dy"):
        assert cost(base, base_instance, p, g, y) == pytest.approx(price(base, "magnet_hc", g, y), rel=1e-6), p
    assert 1.1 * GBD_DY / GBD_TB < tb_per_dy(base, y) < 1.3 * GBD_DY / GBD_TB
    # the variant in steps (docs/make_instances_doc.py, DY_STEPS): the second step is at the margin
    folder = write(DEFAULT, tmp_path / DEFAULT, dy_reach=((1.0, 0.25), (1.5, 0.25), (2.0, 0.25)))
    variant = load_instance(folder)
    steps = solve(variant)
    y, _ = both(steps, "diffuse_dy2", "dy_diffusion_depth_2", regions=None)
    assert tb_per_dy(steps, y) > 1.5 * GBD_DY / GBD_TB
    ratio = price(steps, "tb_oxide", "jiangxi", 2021) / price(steps, "dy_oxide", "jiangxi", 2021)
    assert 1.4 * GBD_DY / GBD_TB < ratio < 2.5 * GBD_DY / GBD_TB


def test_the_shipped_instances_are_what_the_builder_writes(tmp_path):
    # every number of the shipped instances is written by instances/build.py with its source: an
    # edit of the builder not followed by `python -m rechain.instances.build`, or a hand edit of a
    # shipped file, fails here
    from rechain.instances.build import write

    for name in (DEFAULT, NATIONAL):
        built = write(name, tmp_path / name)
        shipped = instances.path(name)
        names = sorted(p.name for p in built.iterdir())
        assert names == sorted(p.name for p in shipped.iterdir() if p.suffix in (".csv", ".yaml")), name
        for f in names:
            assert (built / f).read_bytes() == (shipped / f).read_bytes(), (name, f)


def test_2021_as_it_happened_against_the_2021_market():
    # 2021 as it happened: demand as it turned out (actual_demand_2021_2024: CAAM, NEA/CWEA, e-bike
    # output) and the Myanmar feed as it came (myanmar_closures_2021_2022: the border closed from
    # mid-July 2021 and reopened only from May 2022, smm_prnd_supply_2021, giti_imports_2023,
    # rawmaterials_myanmar_2023; China's ionic mining suspended from February 2021, minmet_ionic_2021),
    # against 2021's averages (usgs_mcs_2025 at fx_cny_usd): PrNd, Dy and Tb within 35 %
    res = solved(DEFAULT, ("actual_demand_2021_2024", "myanmar_closures_2021_2022"))
    assert res.status == "optimal"
    got = {c: price(res, c, "other_china", 2021) for c in MARKET}
    for c in MARKET:
        assert abs(got[c] / MARKET[c][2021] - 1) <= 0.35, (c, got[c], MARKET[c][2021])
    # the closures are what lift Dy and Tb: demand as it turned out alone leaves both below the market
    alone = solved(DEFAULT, "actual_demand_2021_2024")
    for c in ("dy_oxide", "tb_oxide"):
        demand_alone = price(alone, c, "other_china", 2021)
        assert demand_alone < MARKET[c][2021] and got[c] > 1.25 * demand_alone, (c, demand_alone, got[c])
