"""The calibrated shipped instances, written from the figures and the chain structure below.

    python -m rechain.instances.build          # rewrites both instance folders

Every number row names its source (an id of :data:`rechain.instances.sources.SOURCES`); ids
starting with ``est_`` are estimates and say so in their titles. The structure is the point:
prices and plans come from ore grades, quotas, plant costs and capacities by region, the
alternatives each end use has (another magnet grade, a heavy-RE-free design, a technology
without rare-earth magnets) and how much demand gives way at what price. No separated oxide or
metal is offered from outside the chain without a counterparty: PrNd comes from ore, imported
concentrate, recycling and stocks. ``docs/make_instances_doc.py`` then regenerates
``docs/instances.md`` and each instance's ``SOURCES.md`` from the written files.

Money: CNY million; quantities: t (ores and concentrates: t REO; end uses: their own units).
"""

from __future__ import annotations

import csv
from math import log
from pathlib import Path

import yaml

from .demand_paths import DEFAULT, DEFAULT_QUOTAS, NATIONAL, NATIONAL_QUOTAS
from .sources import SOURCES

HERE = Path(__file__).resolve().parent
IM, JX, OC, ROW = "inner_mongolia", "jiangxi", "other_china", "rest_of_world"
CHINA = (IM, JX, OC)
REGIONS = CHINA + (ROW,)
FX = {2020: 6.90, 2021: 6.45, 2022: 6.73, 2023: 7.08, 2024: 7.19}  # fx_cny_usd


def usd(x: float, year: int = 2020) -> float:
    """USD to CNY million."""
    return x * FX[year] / 1e6


def r6(x: float) -> float:
    return float(f"{x:.6g}")


# ---------------------------------------------------------------------------------------------
# Recoveries, ores and magnet grades
# ---------------------------------------------------------------------------------------------

SEP = 0.93  # treo_cnre_huamei (D): t oxides per t REO in concentrate
BEN = 0.85  # est_beneficiation: t REO in concentrate per t REO in ore
ELEC = 0.95  # est_electrolysis
OX = {"prnd": 0.8499, "dy": 0.8713, "tb": 0.8502, "ce": 0.8141}  # atomic_weights: t metal per t oxide
RECYCLE = 0.95 ** 2  # prommis_recycling: two hydrometallurgical stages at 0.95 (D)
YIELD = 0.71  # earthsbook_jlmag_yield: t finished per t blank

# La and Ce leave primary separation together, as a mixed La/Ce product (carbonate or chloride),
# and are split into La and Ce oxide only as far as they are used (lace_separation)
LACE = ("la_oxide", "ce_oxide")
ORES = {  # feed: ({oxide: share of REO}, source of the shares)
    "bayan_obo": ({"ce_oxide": 0.50, "la_oxide": 0.24, "prnd_oxide": 0.235, "dy_oxide": 0.001, "tb_oxide": 0.0005,
                   "y_oxide": 0.003, "seg_oxide": 0.0205}, "usgs_sir_2010_5220"),
    "bastnaesite": ({"ce_oxide": 0.502, "la_oxide": 0.323, "prnd_oxide": 0.157, "seg_oxide": 0.018}, "mp_10k_2021"),
    "ionic": ({"y_oxide": 0.36, "la_oxide": 0.20, "prnd_oxide": 0.208, "dy_oxide": 0.043, "tb_oxide": 0.007, "ce_oxide": 0.006,
               "seg_oxide": 0.176}, "est_ionic_profile"),
    # lynas_ar_2021: Lynas's products, FY2021: 15,761 t REO of which 5,461 t NdPr (D: 0.3465); SEG+ as
    # at Mountain Pass (mp_10k_2021), La and Ce the rest, split as in bastnaesite
    "mt_weld": ({"prnd_oxide": 0.3465, "seg_oxide": 0.018, **{x: r6((1 - 0.3465 - 0.018) * share / (0.323 + 0.502))
                                                                for x, share in (("la_oxide", 0.323), ("ce_oxide", 0.502))}},
                "lynas_ar_2021"),
    "myanmar": ({"y_oxide": 0.32, "prnd_oxide": 0.185, "la_oxide": 0.12, "ce_oxide": 0.02, "dy_oxide": 0.0374, "tb_oxide": 0.0057,
                 "seg_oxide": 0.3119}, "est_myanmar_profile"),
}
for _shares, _ in ORES.values():
    assert abs(sum(_shares.values()) - 1) < 1e-9, _shares

RE = 0.31  # courage_re_content: t RE metal per t alloy (Fe 0.679, B 0.011)
HC_HEAVY = 0.035  # est_grades: t heavy-RE metal per t of bulk-alloyed high-coercivity alloy (mainrich_gbd: 3 % or more)
# split between Dy and Tb as in China's magnet scrap of 2023, which holds the bulk-alloyed grades' heavy RE
# (argus_heavy_share: Dy2O3 2.8 % and Tb4O7 0.43 % of the PrNd oxide), in metal
_SCRAP_DY, _SCRAP_TB = 0.028 * OX["dy"], 0.0043 * OX["tb"]
HC_SPLIT = {"dy_metal": r6(HC_HEAVY * _SCRAP_DY / (_SCRAP_DY + _SCRAP_TB)),
            "tb_metal": r6(HC_HEAVY * _SCRAP_TB / (_SCRAP_DY + _SCRAP_TB))}
# A Tb-diffused magnet uses GBD_SHARE of the heavy RE a bulk-alloyed one uses, per t of finished magnet: its
# base alloy holds two thirds of its heavy RE as Dy (lost to swarf with the alloy, as the bulk grade's is), the
# Tb diffused into the finished part the other third (est_grades). ieee_gbd_2017 gives a half to a third,
# mainrich_gbd 40-70 % (diffusion uses 30-60 % less); 0.40 is the nearest to the first estimate (a third)
# that both allow. Per t of magnet it then holds GBD_CONTENT of the bulk grade's heavy RE.
GBD_SHARE = 0.40
GBD_CONTENT = GBD_SHARE / (2 / 3 + YIELD / 3)
GBD_BASE_DY = round(GBD_CONTENT * HC_HEAVY * 2 / 3, 5)
GBD_TB = round(GBD_CONTENT * HC_HEAVY / 3, 5)  # est_grades: t Tb metal per t finished magnet diffused
ALLOYS = {  # alloy: ({metal: t per t alloy}, source, what)
    "alloy_std": ({"prnd_metal": RE}, "courage_re_content", "Dy-free (N grades)"),
    "alloy_ce": ({"prnd_metal": RE * 0.75, "ce_metal": RE * 0.25}, "est_grades", "Ce-substituted, Dy-free"),
    "alloy_hc": ({"prnd_metal": RE - HC_HEAVY, **HC_SPLIT}, "est_grades",
                 "bulk-alloyed high-coercivity (H and above, 3.5 % heavy RE)"),
    "alloy_gbd": ({"prnd_metal": r6(RE - GBD_BASE_DY), "dy_metal": GBD_BASE_DY}, "est_grades", "diffusion-base"),
}
# bulk-alloyed high-coercivity magnets are a product of their own: they serve any high-coercivity
# use (bulk_as_hc), but thick blocks and large rotor segments (wind generators) take only them, as
# diffusion reaches 3-6 mm from each face (mainrich_gbd)
GRADES = {"std": ("alloy_std", "magnet_std"), "ce": ("alloy_ce", "magnet_ce"), "hc": ("alloy_hc", "magnet_hc_bulk"),
          "gbd": ("alloy_gbd", "magnet_gbd_base")}
# Dy does the same job at about twice the mass: a heavy-RE atom in the grain shell lifts the anisotropy
# field by (H_A(R2Fe14B) - H_A(Nd2Fe14B)), 22 - 7.3 T for Tb and 15 - 7.3 T for Dy (herbst_1991), and Dy
# and Tb atoms weigh about the same (158.9 and 162.5)
GBD_DY = round(GBD_TB * (22 - 7.3) / (15 - 7.3) * 162.5 / 158.9, 4)
DY_DIFFUSION_SHARE = 0.5  # est_dy_diffusion: share of diffused parts thin enough for a Dy source
# how far a Dy source reaches: steps of (Dy needed as a multiple of GBD_DY, share of the parts diffused);
# the parts beyond the last step need Tb. The base has one step (est_dy_diffusion); the instance doc
# builds a variant in several steps to show what the heavy-RE prices rest on
DY_REACH = ((1.0, DY_DIFFUSION_SHARE),)


def _dy_step(k: int) -> str:
    """The suffix of the k-th step of a Dy source's reach: none for the first (``diffuse_dy``), then
    ``2``, ``3``, ..."""
    return "" if k == 1 else str(k)


def gbd_sources(dy_reach=DY_REACH, gbd_scale: float = 1.0) -> dict[str, tuple[str, float]]:
    """Diffusion sources: {name: (metal, t per t of finished magnet diffused)}, Tb first, then a Dy
    source a step of ``dy_reach`` (``dy``, ``dy2``, ...); ``gbd_scale`` multiplies them (a variant)."""
    return {"tb": ("tb_metal", GBD_TB * gbd_scale), **{f"dy{_dy_step(k)}": ("dy_metal", round(GBD_DY * m * gbd_scale, 4))
                                                       for k, (m, _) in enumerate(dy_reach, 1)}}


def alloys(gbd_scale: float = 1.0, hc_split: dict[str, float] | None = None) -> dict:
    """The alloy recipes (:data:`ALLOYS`); ``gbd_scale`` multiplies the diffusion-base alloy's Dy, its
    PrNd making up the rest of its RE (a variant: diffused magnets holding more or less heavy RE);
    ``hc_split`` gives the bulk-alloyed grade's Dy and Tb metal per t of alloy in place of
    :data:`HC_SPLIT`, its PrNd making up the rest of its RE (a variant: another split)."""
    out = dict(ALLOYS)
    if gbd_scale != 1.0:
        metals, src, what = ALLOYS["alloy_gbd"]
        dy = r6(metals["dy_metal"] * gbd_scale)
        out["alloy_gbd"] = ({"prnd_metal": r6(RE - dy), "dy_metal": dy}, src, what)
    if hc_split is not None:
        _, src, what = ALLOYS["alloy_hc"]
        out["alloy_hc"] = ({"prnd_metal": r6(RE - sum(hc_split.values())), **hc_split}, src, what)
    return out


# A heavy-RE atom takes the place of a Pr or Nd atom in the R2Fe14B grains and lowers their polarisation:
# 1.60 T with Nd, 1.56 T with Pr, 0.71 T with Dy and 0.70 T with Tb (herbst_1991). What a magnet does in
# a motor or generator, per t, goes with its energy product, which grows as the square of its remanence
# (skomski_2016: the energy product is the field energy a unit of magnet volume sets up outside it, at
# most mu0 Ms^2 / 4). So a magnet that holds more heavy RE for the same coercivity does less per t: one
# with Dy diffused in less than one with the half as much Tb that gives the same coercivity, and a
# bulk-alloyed magnet less than a diffused one (mainrich_gbd: diffused magnets keep 1-3 % more remanence).
POLARISATION = {"prnd_metal": 0.25 * 1.56 + 0.75 * 1.60, "dy_metal": 0.71, "tb_metal": 0.70}  # herbst_1991, PrNd 25:75
ATOMIC_WEIGHT = {"prnd_metal": 0.25 * 140.91 + 0.75 * 144.24, "dy_metal": 162.50, "tb_metal": 158.93}  # atomic_weights


def remanence(metals: dict[str, float]) -> float:
    """Remanence of a sintered magnet with these RE metals (t per t), against one with PrNd alone: the
    mean polarisation of its R2Fe14B phase, each RE metal holding rare-earth sites in proportion to its
    atoms (herbst_1991)."""
    atoms = {m: q / ATOMIC_WEIGHT[m] for m, q in metals.items()}
    return sum(POLARISATION[m] * a for m, a in atoms.items()) / sum(atoms.values()) / POLARISATION["prnd_metal"]


def hc_work(dy_reach=DY_REACH, gbd_scale: float = 1.0, hc_split: dict[str, float] | None = None) -> dict[str, float]:
    """What a t of finished high-coercivity magnet does on each route that makes ``magnet_hc``, in t of a
    Tb-diffused magnet's work: its energy product (remanence squared, skomski_2016) against that of a
    Tb-diffused magnet."""
    recipes = alloys(gbd_scale, hc_split)
    base = recipes["alloy_gbd"][0]
    br = {f"diffuse_{h}": remanence({**base, metal: base.get(metal, 0.0) + q})
          for h, (metal, q) in gbd_sources(dy_reach, gbd_scale).items()}
    br["bulk_as_hc"] = remanence(recipes["alloy_hc"][0])
    return {p: r6((b / br["diffuse_tb"]) ** 2) for p, b in br.items()}


METAL_OXIDE = {"prnd_metal": ("prnd_oxide", "prnd"), "dy_metal": ("dy_oxide", "dy"), "tb_metal": ("tb_oxide", "tb"),
               "ce_metal": ("ce_oxide", "ce")}


LACE_KIND = {"bayan_obo": "bo", "bastnaesite": "bast", "mt_weld": "bast"}


def scrap_oxides(metals: dict[str, float]) -> dict[str, float]:
    """Oxides recovered from a t of scrap of an alloy: its RE metals as oxides, after recycling."""
    return {METAL_OXIDE[m][0]: r6(q / OX[METAL_OXIDE[m][1]] * RECYCLE) for m, q in metals.items()}


# ---------------------------------------------------------------------------------------------
# Commodities and end uses
# ---------------------------------------------------------------------------------------------

MATERIALS = [
    ("bayan_obo_ore", "t REO", "raw", "Bayan Obo ore (bastnaesite-monazite), REO content"),
    ("bayan_obo_concentrate", "t REO", "material", "Bayan Obo flotation concentrate (50 % REO), REO content"),
    ("sichuan_ore", "t REO", "raw", "Sichuan and Shandong bastnaesite ore, REO content"),
    ("sichuan_concentrate", "t REO", "material", "Sichuan and Shandong bastnaesite concentrate, REO content"),
    ("ionic_concentrate", "t REO", "material", "mixed RE carbonate from China's ion-adsorption clays, REO content"),
    ("myanmar_concentrate", "t REO", "raw", "mixed RE carbonate and oxides from Myanmar's ion-adsorption clays (imported), REO content"),
    ("us_concentrate", "t REO", "raw", "Mountain Pass bastnaesite concentrate (imported by Shenghe), REO content"),
    ("row_ore", "t REO", "raw", "light-RE ore outside China and the US (Mt Weld and others), REO content"),
    ("bastnaesite_concentrate", "t REO", "material", "light-RE concentrate made outside China, REO content"),
    ("lace_bo", "t", "material", "mixed La/Ce carbonate from Bayan Obo ore (La 32 %, Ce 68 %), REO content"),
    ("lace_bast", "t", "material", "mixed La/Ce carbonate from bastnaesite ore (La 39 %, Ce 61 %), REO content"),
    ("la_oxide", "t", "material", "lanthanum oxide La2O3"),
    ("ce_oxide", "t", "material", "cerium oxide CeO2"),
    ("prnd_oxide", "t", "material", "praseodymium-neodymium oxide (PrNd 25:75)"),
    ("dy_oxide", "t", "material", "dysprosium oxide Dy2O3"),
    ("tb_oxide", "t", "material", "terbium oxide Tb4O7"),
    ("y_oxide", "t", "material", "yttrium oxide Y2O3"),
    ("seg_oxide", "t", "material", "samarium-europium-gadolinium and other minor oxides (SEG concentrate)"),
    ("prnd_metal", "t", "material", "PrNd metal"),
    ("dy_metal", "t", "material", "dysprosium metal (as Dy-Fe)"),
    ("tb_metal", "t", "material", "terbium metal"),
    ("ce_metal", "t", "material", "cerium metal (for Ce-substituted NdFeB)"),
    ("iron", "t", "raw", "pure iron for NdFeB alloy"),
    ("boron", "t", "raw", "boron (as ferroboron, B content)"),
    ("binder", "t", "raw", "polymer binder (epoxy, nylon) for bonded magnets"),
    ("casting", "t", "service", "strip-casting capacity used (t of alloy)"),
    ("alloy_std", "t", "material", "NdFeB strip-cast alloy, Dy-free"),
    ("alloy_ce", "t", "material", "Ce-substituted NdFeB strip-cast alloy, Dy-free"),
    ("alloy_hc", "t", "material", "NdFeB strip-cast alloy, high-coercivity (bulk Dy/Tb)"),
    ("alloy_gbd", "t", "material", "NdFeB strip-cast alloy, base for grain-boundary diffusion"),
    ("sintering", "t", "service", "sintering capacity used (t of blanks)"),
    ("blank_std", "t", "product", "sintered NdFeB blanks, Dy-free grades"),
    ("blank_ce", "t", "product", "sintered Ce-NdFeB blanks, Dy-free"),
    ("blank_hc", "t", "product", "sintered NdFeB blanks, high-coercivity grades"),
    ("blank_gbd", "t", "product", "sintered NdFeB blanks, base for grain-boundary diffusion"),
    ("diffusion", "t", "service", "grain-boundary diffusion capacity used (t of finished magnets)"),
    ("finishing", "t", "service", "machining and coating capacity used (t of finished magnets)"),
    ("magnet_std", "t", "product", "finished sintered NdFeB magnets, Dy-free grades"),
    ("magnet_ce", "t", "product", "finished Ce-substituted NdFeB magnets (low-performance uses)"),
    ("magnet_gbd_base", "t", "product", "finished magnets awaiting grain-boundary diffusion"),
    ("magnet_hc", "t", "product", "finished sintered NdFeB magnets, high-coercivity grades"),
    ("magnet_hc_bulk", "t", "product", "finished sintered NdFeB magnets, high-coercivity, bulk-alloyed (thick sections need them)"),
    ("bonded_magnet", "t", "product", "bonded NdFeB magnets"),
    ("swarf_std", "t", "waste", "machining swarf and grinding sludge of Dy-free grades (RE 0.31)"),
    ("swarf_ce", "t", "waste", "machining swarf of Ce-substituted grades"),
    ("swarf_hc", "t", "waste", "machining swarf of high-coercivity grades"),
    ("swarf_gbd", "t", "waste", "machining swarf of diffusion-base grades"),
    ("eol_scrap", "t", "waste", "end-of-life NdFeB magnets collected from products (Dy-free grades)"),
    ("eol_scrap_ce", "t", "waste", "end-of-life Ce-substituted NdFeB magnets collected from products"),
    ("recycling", "t", "service", "recycling capacity used (t of scrap)"),
]

SERVICES = {  # service: (unit, description)
    "nev": ("thousand vehicles", "new-energy vehicles (traction motor, EPS, micromotors)"),
    "ice_vehicle": ("thousand vehicles", "conventional vehicles (EPS and micromotors)"),
    "ebike": ("thousand e-bikes", "electric bicycles (hub motor)"),
    "wind_direct_drive": ("GW", "wind capacity added with direct-drive generators"),
    "wind_medium_speed": ("GW", "wind capacity added with medium-speed (geared) generators"),
    "industrial_motors": ("GW", "industrial high-efficiency motors and robots, rated power added"),
    "cnc_machines": ("thousand machines", "CNC machine tools (servo and spindle motors)"),
    "appliances": ("million units", "inverter air conditioners and other appliances (compressor and fan motors)"),
    "consumer_electronics": ("million devices", "phones, computers, drives, acoustics and other consumer electronics"),
    "fcc_catalyst": ("kt", "fluid catalytic cracking catalyst (La)"),
    "auto_catalyst": ("million vehicles", "automotive three-way catalysts (Ce oxygen storage)"),
    "scr_catalyst": ("kt", "SCR denitration catalysts for cement kilns and thermal power (Ce)"),
    "polishing_powder": ("kt", "Ce/La polishing powder for glass and displays"),
    "glass": ("Mt", "glass decolourising and UV-absorbing additions (Ce)"),
    "re_steel": ("Mt", "steel and ferrosilicon treated with La/Ce"),
    "nimh": ("kt", "NiMH batteries and hydrogen-storage alloys (La, Ce)"),
}

# magnet end uses: {service: {route: (inputs per unit of service, extra cost per unit, source)}},
# the rare-earth-magnet route first. Contents: smm_nev_intensity (3.55 kg blank = 2.52 kg finished
# per NEV, 1.8 kg of it in the traction motor: est_grades), heim_vanderwal_2023, horizon_ebike,
# est_demand; alternatives: est_substitutes
MAGNET_USES = {
    "nev": {"nev_pm": ({"magnet_hc": 1.8, "magnet_std": 0.7205}, 0.0, "smm_nev_intensity"),
            "nev_induction": ({"magnet_std": 0.7205}, 2.5, "est_substitutes")},
    "ice_vehicle": {"ice_pm": ({"magnet_std": 0.4}, 0.0, "est_demand")},
    "ebike": {"ebike_pm": ({"magnet_std": 0.34}, 0.0, "horizon_ebike"),
              "ebike_ce": ({"magnet_ce": 0.34}, 0.0, "adamas_ce_ndfeb"),
              "ebike_ferrite": ({}, 0.12, "est_substitutes")},
    "wind_direct_drive": {"wind_dd_pm": ({"magnet_hc_bulk": 650.0}, 0.0, "heim_vanderwal_2023"),
                          "wind_dd_excited": ({}, 280.0, "est_substitutes")},
    "wind_medium_speed": {"wind_ms_pm": ({"magnet_hc_bulk": 160.0}, 0.0, "heim_vanderwal_2023"),
                          "wind_ms_dfig": ({}, 140.0, "est_substitutes")},
    "industrial_motors": {"industrial_pm": ({"magnet_hc": 200.0}, 0.0, "est_demand"),
                          "industrial_induction": ({}, 150.0, "est_substitutes")},
    "cnc_machines": {"cnc_pm": ({"magnet_hc": 1.5}, 0.0, "est_demand")},
    "appliances": {"appliances_pm": ({"magnet_hc": 200.0, "bonded_magnet": 35.0}, 0.0, "est_demand"),
                   "appliances_ferrite": ({"bonded_magnet": 35.0}, 80.0, "est_substitutes")},
    "consumer_electronics": {"electronics_pm": ({"magnet_std": 10.0, "bonded_magnet": 2.5}, 0.0, "est_demand"),
                             "electronics_ce": ({"magnet_ce": 10.0, "bonded_magnet": 2.5}, 0.0, "adamas_ce_ndfeb")},
}
# The cost of an alternative differs from unit to unit (small against large appliances, short
# against long motor duty): each alternative comes in eight tiers, an eighth of the units each, their
# extra costs spread evenly between nothing and twice the typical extra (est_substitutes), so the
# price of magnets climbs as more of a use gives way rather than jumping from one alternative to the
# next.
# The extra cost of an alternative is measured against a whole magnet motor or generator, magnets
# bought at 2020 prices; in the LP the magnet route pays for its magnets apart, so an alternative's
# cost is its extra plus the 2020 cost of the magnets it does without. At 2020 prices the magnet
# routes are then the cheaper choice, as they were in 2020's mix. 2020 magnet price: China's average
# export price (mineralprices_exports_2020: USD 47,389 per t).
MAGNET_PRICE_2020 = usd(47_389)
N_TIERS = 8
TIERS = tuple((k, (2 * k - 1) / N_TIERS) for k in range(1, N_TIERS + 1))
TIER_SHARE = r6(1 / N_TIERS)
SUBSTITUTES = {}  # route: its tiers
for _service, _routes in MAGNET_USES.items():
    _tiered = {}
    _magnets = next(iter(_routes.values()))[0]  # the rare-earth-magnet route's inputs
    for _r, (_inputs, _extra, _src) in _routes.items():
        if _extra > 0:
            _saved = MAGNET_PRICE_2020 * sum(max(0.0, q - _inputs.get(m, 0.0)) for m, q in _magnets.items())
            SUBSTITUTES[_r] = [f"{_r}_{k}" for k, _ in TIERS]
            _tiered.update({f"{_r}_{k}": (_inputs, round(_extra * m + _saved, 6), _src) for k, m in TIERS})
        else:
            _tiered[_r] = (_inputs, _extra, _src)
    MAGNET_USES[_service] = _tiered
EOL = {"electronics_pm": ("eol_scrap", 1.0, 4, "est_eol"), "electronics_ce": ("eol_scrap_ce", 1.0, 4, "est_eol")}  # route: (scrap, t per unit (10 % of 10 t), delay, source)

LACE_USES = {  # service: ({oxide: t per unit}, source), within the 40,000 t of 2021 (est_lace_uses)
    "fcc_catalyst": {"la_oxide": 23.3}, "auto_catalyst": {"ce_oxide": 117.6}, "scr_catalyst": {"ce_oxide": 20.0},
    "polishing_powder": {"ce_oxide": 226.0, "la_oxide": 97.0}, "glass": {"ce_oxide": 58.8},
    "re_steel": {"la_oxide": 68.0, "ce_oxide": 126.0}, "nimh": {"la_oxide": 200.0, "ce_oxide": 125.0},
}
LACE_NEW = {"scr_catalyst": 50.0, "nimh": 20.0}  # kt in 2021 (est_lace_uses), growing 3 %/y
END_USE_REGIONS = {"nev": {IM: 0.01, JX: 0.02, OC: 0.97}, "wind_direct_drive": {IM: 0.13, OC: 0.87},
                   "wind_medium_speed": {IM: 0.13, OC: 0.87}}  # est_end_use_regions
THRIFT, FORGONE = 1.5, 15.0  # est_demand_curves: CNY million per t of magnet a demand holds
LACE_THRIFT, LACE_FORGONE = 0.05, 0.5  # est_demand_curves: CNY million per t of oxide
EXPORTS_2021 = {"la_oxide": 10_000.0, "ce_oxide": 15_000.0}  # est_lace_uses
ROW_MAGNETS = {"magnet_hc": 0.5, "magnet_std": 0.5}  # est_grades: grade split of magnets used outside China

# oxide prices, annual averages 2020-24 in USD per kg (usgs_mcs_2025, Argus; Nd oxide stands for PrNd oxide)
USGS_OXIDE_PRICES = {"prnd_oxide": (49, 98, 134, 78, 56), "dy_oxide": (261, 410, 382, 330, 260),
                     "tb_oxide": (670, 1346, 2051, 1298, 810), "la_oxide": (2, 2, 1, 1, 1), "ce_oxide": (2, 2, 1, 1, 1)}
OXIDE_PRICE_2020 = {c: usd(USGS_OXIDE_PRICES[c][0] * 1000) for c in ("prnd_oxide", "dy_oxide", "tb_oxide")}
HOLDING = 0.02  # est_stocks: holding cost, share of the 2020 value a year


def holding(oxide: str) -> float:
    """Holding cost of a t of ``oxide`` a year (CNY million): HOLDING of its 2020 value."""
    return r6(HOLDING * OXIDE_PRICE_2020[oxide])


STOCKS = {  # (commodity, region): (initial t, holding cost CNY million per t per year); est_stocks
    ("prnd_oxide", OC): (8_000, holding("prnd_oxide")), ("dy_oxide", JX): (1_500, holding("dy_oxide")),
    ("tb_oxide", JX): (300, holding("tb_oxide")),
    ("lace_bo", IM): (75_000, 0.0002), ("lace_bast", OC): (25_000, 0.0002), ("la_oxide", JX): (0, 0.0003),
    ("ce_oxide", JX): (0, 0.0003), ("y_oxide", JX): (10_000, 0.0005), ("seg_oxide", JX): (10_000, 0.0005),
    ("y_oxide", IM): (0, 0.0005), ("seg_oxide", IM): (0, 0.0005), ("y_oxide", OC): (0, 0.0005), ("seg_oxide", OC): (0, 0.0005),
    # Lynas's co-products outside China: its SEG concentrate and La/Ce beyond what the region's La/Ce plant splits
    ("seg_oxide", ROW): (0, 0.0005), ("lace_bast", ROW): (0, 0.0002),
}


def magnet_content(service: str) -> float:
    """t of magnet a unit of the service holds on its rare-earth-magnet route."""
    return sum(next(iter(MAGNET_USES[service].values()))[0].values())


# ---------------------------------------------------------------------------------------------
# Plants, their costs and capacities
# ---------------------------------------------------------------------------------------------

PLANTS = {  # process: (name, stage, lifetime, lead_time, availability, capex, fixed_om, variable_cost, source)
    "mining_bayan_obo": ("Bayan Obo open-pit mining (REO in ore)", "mining", 30, 2, 1.0, 0.05, 0.0, 0.012, "est_costs"),
    "beneficiation_bayan_obo": ("Bayan Obo flotation to 50 % REO concentrate", "beneficiation", 25, 2, 1.0, 0.02, 0.0005, 0.0184,
                                "smm_concentrate_2021"),
    "mining_sichuan": ("Sichuan and Shandong bastnaesite mining (REO in ore)", "mining", 30, 2, 1.0, 0.05, 0.0, 0.012, "est_costs"),
    "beneficiation_sichuan": ("Sichuan and Shandong bastnaesite flotation", "beneficiation", 25, 2, 1.0, 0.02, 0.0005, 0.0184,
                              "est_costs"),
    "mining_ionic": ("In-situ leaching of ion-adsorption clays to mixed RE carbonate", "mining", 15, 2, 1.0, 0.08, 0.001, 0.06,
                     "est_costs"),
    "mining_row": ("Light-RE mining outside China and the US (REO in ore)", "mining", 30, 8, 1.0, 0.15, 0.003, 0.015, "gao_2010"),
    "beneficiation_row": ("Flotation to light-RE concentrate outside China", "beneficiation", 25, 2, 1.0, 0.05, 0.001, 0.01,
                          "est_beneficiation"),
    "separation_bayan_obo": ("Solvent-extraction separation of Bayan Obo concentrate (domestic quota)", "separation", 20, 2, 0.95,
                             0.06789, 0.002, 0.02, "treo_cnre_huamei"),
    "separation_sichuan": ("Solvent-extraction separation of Sichuan and Shandong concentrate (domestic quota)", "separation", 20,
                           2, 0.95, 0.06789, 0.002, 0.02, "treo_cnre_huamei"),
    "separation_ionic": ("Separation of China's ion-adsorption mixed carbonate (domestic quota)", "separation", 20, 2, 0.95,
                         0.06789, 0.002, 0.03, "treo_cnre_huamei"),
    "separation_imported_ionic": ("Separation of Myanmar ion-adsorption feed (outside the quota)", "separation", 20, 2, 0.95,
                                  0.06789, 0.002, 0.03, "treo_cnre_huamei"),
    "separation_imported_light": ("Separation of Mountain Pass concentrate in China (outside the quota; Shenghe)", "separation", 20,
                                  2, 0.95, 0.06789, 0.002, 0.02, "treo_cnre_huamei"),
    "separation_row": ("Separation of light-RE concentrate outside China (Lynas Malaysia and others)", "separation", 20, 2, 0.95,
                       0.06789, 0.002, 0.02, "treo_cnre_huamei"),
    "metal_prnd": ("Molten-salt electrolysis of PrNd oxide to metal", "metal", 20, 1, 0.95, 0.02, 0.0005, 0.03, "est_electrolysis"),
    "metal_dy": ("Molten-salt electrolysis of Dy oxide to metal", "metal", 20, 1, 0.95, 0.02, 0.0005, 0.03, "est_electrolysis"),
    "metal_tb": ("Molten-salt electrolysis of Tb oxide to metal", "metal", 20, 1, 0.95, 0.02, 0.0005, 0.03, "est_electrolysis"),
    "metal_ce": ("Molten-salt electrolysis of Ce oxide to metal", "metal", 20, 1, 0.95, 0.02, 0.0005, 0.03, "est_electrolysis"),
    "alloy_casting": ("NdFeB strip casting (any grade)", "alloy", 20, 1, 0.95, 0.011, 0.0003, 0.005, "metaltorg_alloy"),
    "magnet_sintering": ("Sintered NdFeB blank making (jet milling, pressing, sintering; any grade)", "magnet", 20, 1, 0.9, 0.08,
                         0.002, 0.02, "est_regional_costs"),
    "magnet_finishing": ("Machining and coating of sintered blanks to finished magnets", "magnet", 20, 1, 0.95, 0.02, 0.001, 0.01,
                         "est_capex"),
    "gbd_diffusion": ("Grain-boundary diffusion of Tb or Dy into finished-size magnets", "magnet", 20, 1, 0.95, 0.01, 0.0005, 0.005,
                      "mainrich_gbd"),
    "magnet_bonded": ("Bonded NdFeB magnet making (melt-spun powder and resin)", "magnet", 20, 1, 0.9, 0.03, 0.001, 0.02,
                      "est_capex"),
    "recycling_swarf": ("Hydrometallurgical recycling of magnet swarf and scrap to oxides", "recycling", 15, 1, 0.9, 0.03, 0.001,
                        0.02, "argus_recycling_capacity"),
    "lace_separation_bo": ("Splitting Bayan Obo La/Ce carbonate into La and Ce oxide", "separation", 20, 1, 0.95, 0.02, 0.0005,
                           0.008, "est_lace_split"),
    "lace_separation_bast": ("Splitting bastnaesite La/Ce carbonate into La and Ce oxide", "separation", 20, 1, 0.95, 0.02, 0.0005,
                             0.008, "est_lace_split"),
}
# power use (est_regional_costs): kWh per t; variable costs in PLANTS are at 0.65 CNY/kWh
POWER = {"metal_prnd": 9000, "metal_dy": 9000, "metal_tb": 9000, "metal_ce": 9000, "magnet_sintering": 6000, "magnet_finishing": 2000}
POWER_PRICE = {IM: 0.40, JX: 0.65, OC: 0.65, ROW: 0.65}
CAPEX_BY_REGION = {  # process: {region: (capex, source)}
    "magnet_sintering": {IM: (0.0525, "ree_jlmag_capex"), ROW: (r6(usd(125_000)), "plantservices_mp10x")},
    "magnet_finishing": {ROW: (0.15, "est_regional_costs")},
    "separation_row": {ROW: (0.33, "est_regional_costs")},
    "metal_prnd": {ROW: (0.1, "est_regional_costs")},
    "alloy_casting": {ROW: (0.08, "est_regional_costs")},
    "gbd_diffusion": {ROW: (0.05, "est_regional_costs")},
}
LYNAS_FEED = round(7_000 / ORES["mt_weld"][0]["prnd_oxide"] / SEP, -2)  # projectblue_lynas: 7,000 t/y NdPr; lynas_ar_2021 NdPr share (D)
EXISTING = {  # process: {region: {year: t/y}} (est_capacity unless EXISTING_SOURCE says)
    "mining_bayan_obo": {IM: {2020: 150_000, 2021: 180_000, 2022: 220_000, 2023: 260_000, 2024: 280_000}},
    "beneficiation_bayan_obo": {IM: {2020: 130_000, 2021: 150_000, 2022: 185_000, 2023: 220_000, 2024: 235_000}},
    "mining_sichuan": {OC: {2020: 60_000}}, "beneficiation_sichuan": {OC: {2020: 55_000}},
    "mining_ionic": {JX: {2020: 30_000}},
    "mining_row": {ROW: {2020: 30_000}}, "beneficiation_row": {ROW: {2020: 25_000}},
    "separation_bayan_obo": {IM: {2020: 140_000}}, "separation_sichuan": {OC: {2020: 65_000}},
    "separation_ionic": {JX: {2020: 40_000}}, "separation_imported_ionic": {JX: {2020: 50_000}},
    "separation_imported_light": {OC: {2020: 60_000}}, "separation_row": {ROW: {2020: LYNAS_FEED}},
    "metal_prnd": {IM: {2020: 30_000}, JX: {2020: 30_000}, OC: {2020: 40_000}, ROW: {2020: 8_000}},
    "metal_dy": {JX: {2020: 3_000}, OC: {2020: 1_000}, ROW: {2020: 300}},
    "metal_tb": {JX: {2020: 600}, OC: {2020: 300}, ROW: {2020: 100}},
    "metal_ce": {IM: {2020: 10_000}, OC: {2020: 5_000}},
    "alloy_casting": {IM: {2020: 50_000}, JX: {2020: 50_000}, OC: {2020: 190_000}, ROW: {2020: 35_000}},
    "magnet_sintering": {IM: {2020: 45_000}, JX: {2020: 30_000}, OC: {2020: 180_000}, ROW: {2020: 25_000}},
    "magnet_finishing": {IM: {2020: 32_000}, JX: {2020: 21_000}, OC: {2020: 128_000}, ROW: {2020: 18_000}},
    "gbd_diffusion": {IM: {2020: 7_000}, JX: {2020: 7_000}, OC: {2020: 28_000}, ROW: {2020: 7_000}},
    "magnet_bonded": {OC: {2020: 12_000}},
    "recycling_swarf": {IM: {2020: 5_000}, JX: {2020: 45_000}, OC: {2020: 15_000}, ROW: {2020: 2_000}},
    "lace_separation_bo": {IM: {2020: 60_000}}, "lace_separation_bast": {OC: {2020: 30_000}, ROW: {2020: 10_000}},
}
EXISTING_SOURCE = {("magnet_sintering", IM): "seed_argus", ("magnet_bonded", OC): "adamas_ndfeb_2019",
                   ("recycling_swarf", JX): "argus_recycling_capacity", ("recycling_swarf", OC): "argus_recycling_capacity",
                   ("separation_row", ROW): "projectblue_lynas"}
BUILDABLE = {  # process: regions where new capacity may be built (est_capex); mines: brownfield expansion
    "mining_bayan_obo": [IM], "beneficiation_bayan_obo": [IM], "mining_sichuan": [OC], "beneficiation_sichuan": [OC],
    "separation_bayan_obo": [IM], "separation_sichuan": [OC], "separation_ionic": [JX], "separation_imported_ionic": [JX],
    "separation_imported_light": [OC], **{p: list(CHINA) for p in (
        "metal_prnd", "metal_dy", "metal_tb", "metal_ce", "alloy_casting", "magnet_sintering", "magnet_finishing", "gbd_diffusion",
        "magnet_bonded", "recycling_swarf")}, "lace_separation_bo": [IM], "lace_separation_bast": [OC],
}
ROW_BUILDS = {  # the national view: projects outside China, (max new a year, max total) (est_row_build)
    "mining_row": (20_000, 200_000), "beneficiation_row": (20_000, 180_000), "separation_row": (20_000, 150_000),
    "metal_prnd": (5_000, 40_000), "metal_dy": (300, 2_000), "metal_tb": (100, 500), "alloy_casting": (15_000, 150_000),
    "magnet_sintering": (10_000, 100_000), "magnet_finishing": (8_000, 80_000), "gbd_diffusion": (3_000, 30_000),
}

# outside supply: (commodity, region): {year: (max t, price, source)}
US_OUTPUT = {2020: 39_000, 2021: 42_400, 2022: 42_500, 2023: 41_600, 2024: 45_000}  # usgs_mcs_2025
MYANMAR_GRADE = 0.70  # est_myanmar_profile: t REO per t of the imports (carbonate about 45 %, oxides about 90 %)
MYANMAR_REO = r6(35_539 * MYANMAR_GRADE)  # argus_myanmar_2020 gross t
MYANMAR_PRICE = r6(usd(10_933) / MYANMAR_GRADE)  # argus_myanmar_2020: USD 10,933 per t gross
US_PRICE = r6(usd(4_070))  # mp_results_2021: realized USD 4,070 per t REO in Q4 2020
# The Myanmar feed answers its price (est_myanmar_curve): China's customs put 2023's imports from Myanmar, under the
# codes argus_myanmar_2020 sums for 2020, at about twice 2020's quantity and twice its price a t (giti_imports_2023:
# mixed RE oxides 43,906 t for USD 1.32 bn, 95 % from Myanmar; other RE compounds 43,960 t for USD 354 million, 69 %
# from Myanmar; the mixed carbonate came from Malaysia, Laos and the US). Read as two points of one supply curve of
# constant elasticity, the feed beyond 2020's volume comes in MYANMAR_STEPS equal steps up to 2023's volume, each at the
# curve's price at its middle; there is no more beyond 2023's volume.
MYANMAR_GROSS_2023 = 0.95 * 43_906 + 0.69 * 43_960  # giti_imports_2023: t gross
MYANMAR_USD_2023 = 0.95 * 1_320e6 + 0.69 * 354e6  # giti_imports_2023: USD
# 2022: 2023's imports less their growth (mixed oxides +208 %, other compounds +155 %), Myanmar's shares as in 2023
MYANMAR_GROSS_2022 = round(0.95 * 43_906 / 3.08 + 0.69 * 43_960 / 2.55, -2)
MYANMAR_REO_2023 = r6(MYANMAR_GROSS_2023 * MYANMAR_GRADE)
MYANMAR_PRICE_2023 = r6(usd(MYANMAR_USD_2023 / MYANMAR_GROSS_2023, 2023) / MYANMAR_GRADE)
MYANMAR_ELASTICITY = r6(log(MYANMAR_REO_2023 / MYANMAR_REO) / log(MYANMAR_PRICE_2023 / MYANMAR_PRICE))
MYANMAR_STEPS = 4


def myanmar_steps(n: int = MYANMAR_STEPS) -> list[tuple[float, float]]:
    """The Myanmar feed beyond 2020's volume: ``n`` steps of (t REO a year, CNY million per t REO) between
    2020's and 2023's volume, each priced on the constant-elasticity curve through 2020's and 2023's
    imports at its middle (est_myanmar_curve)."""
    width = (MYANMAR_REO_2023 - MYANMAR_REO) / n
    return [(r6(width), r6(MYANMAR_PRICE * ((MYANMAR_REO + (k + 0.5) * width) / MYANMAR_REO) ** (1 / MYANMAR_ELASTICITY)))
            for k in range(n)]


def myanmar_step(k: int) -> str:
    """The process (and policy) of the k-th step of the Myanmar feed beyond 2020's volume."""
    return f"myanmar_feed_{k}"


def myanmar_curve_closed(year: int | None = None) -> list[dict]:
    """Scenario changes that close every step of the Myanmar feed's curve beyond 2020's volume, in
    ``year`` or (None) in every year."""
    where = {} if year is None else {"year": year}
    return [{"table": "policies", "where": {"policy": myanmar_step(k), **where}, "column": "value", "set": 0}
            for k in range(1, MYANMAR_STEPS + 1)]


# ---------------------------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------------------------


class Tables:
    """The rows of an instance's tables; every number row names its source."""

    def __init__(self):
        self.t: dict[str, list[dict]] = {}

    def add(self, table: str, source: str | None, **row) -> None:
        if source is not None and source not in SOURCES:
            raise KeyError(f"unknown source {source!r}")
        self.t.setdefault(table, []).append({**row, "source": source or ""})


def _commodities(T: Tables) -> None:
    for c, unit, kind, desc in MATERIALS:
        if kind == "waste":
            T.add("commodities", "est_penalties", commodity=c, unit=unit, kind=kind, description=desc, disposal_cost=0.001)
        else:
            T.add("commodities", None, commodity=c, unit=unit, kind=kind, description=desc)
    for c, (unit, desc) in SERVICES.items():
        T.add("commodities", None, commodity=c, unit=unit, kind="service", description=desc)


def _processes(T: Tables, dy_reach=DY_REACH) -> None:
    for p, (name, stage, life, lead, avail, capex, fom, var, src) in PLANTS.items():
        T.add("processes", src, process=p, name=name, stage=stage, lifetime=life, lead_time=lead, availability=avail,
              capex=capex, fixed_om=fom, variable_cost=var)

    def route(p, name, stage, var, src):
        T.add("processes", src, process=p, name=name, stage=stage, lifetime=1, lead_time=0, availability=1.0, capex=0.0,
              fixed_om=0.0, variable_cost=var, capacity=False)

    for a, (_, src, what) in ALLOYS.items():
        route(f"make_{a}", f"strip-cast {what} alloy", "alloy", 0.0, src)
    for g in GRADES:
        route(f"sinter_{g}", f"sinter {g} blanks", "magnet", 0.0, "est_grades")
        route(f"finish_{g}", f"finish {g} blanks", "magnet", 0.0, "earthsbook_jlmag_yield")
        route(f"recycle_{g}", f"recycle {g} swarf to oxides", "recycling", 0.0, "prommis_recycling")
    for h in gbd_sources(dy_reach):
        route(f"diffuse_{h}", f"diffuse {h.capitalize()} into finished magnets", "magnet", 0.0, "mainrich_gbd")
    route("bulk_as_hc", "a bulk-alloyed magnet used where a diffused one would do", "magnet", 0.0, "mainrich_gbd")
    for k, (_, price) in enumerate(myanmar_steps(), 1):
        route(myanmar_step(k), f"Myanmar feed beyond 2020's volume, step {k} of {MYANMAR_STEPS}", "mining", price, "est_myanmar_curve")
    route("recycle_eol", "recycle end-of-life magnets to oxides", "recycling", 0.0, "prommis_recycling")
    route("recycle_eol_ce", "recycle end-of-life Ce-NdFeB magnets to oxides", "recycling", 0.0, "prommis_recycling")
    for service, routes in MAGNET_USES.items():
        for r, (_, extra, src) in routes.items():
            route(r, f"{SERVICES[service][1]}: {r.split('_', 1)[1].replace('_', ' ')}", "end_use", extra, src)
    for service in LACE_USES:
        route(f"use_{service}", SERVICES[service][1], "end_use", 0.0, "est_lace_uses")


def _io(T: Tables, dy_reach=DY_REACH, gbd_scale: float = 1.0, hc_split: dict[str, float] | None = None) -> None:
    def io(p, c, direction, coef, src, ref=False, delay=None):
        T.add("process_io", src, process=p, commodity=c, direction=direction, coefficient=r6(coef), reference=ref, delay=delay)

    # mining and beneficiation: ore REO -> concentrate REO
    for mine, ore in (("mining_bayan_obo", "bayan_obo_ore"), ("mining_sichuan", "sichuan_ore"), ("mining_row", "row_ore")):
        io(mine, ore, "out", 1, "est_costs", True)
    io("mining_ionic", "ionic_concentrate", "out", 1, "est_costs", True)
    for ben, ore, conc, src in (("beneficiation_bayan_obo", "bayan_obo_ore", "bayan_obo_concentrate", "smm_concentrate_2021"),
                                ("beneficiation_sichuan", "sichuan_ore", "sichuan_concentrate", "est_beneficiation"),
                                ("beneficiation_row", "row_ore", "bastnaesite_concentrate", "est_beneficiation")):
        io(ben, conc, "out", 1, src, True)
        io(ben, ore, "in", 1 / BEN, "est_beneficiation")
    # separation: t REO in -> oxides by the ore's shares x recovery
    for p, feed, ore in (("separation_bayan_obo", "bayan_obo_concentrate", "bayan_obo"),
                         ("separation_sichuan", "sichuan_concentrate", "bastnaesite"),
                         ("separation_ionic", "ionic_concentrate", "ionic"),
                         ("separation_imported_ionic", "myanmar_concentrate", "myanmar"),
                         ("separation_imported_light", "us_concentrate", "bastnaesite"),
                         ("separation_row", "bastnaesite_concentrate", "mt_weld")):
        io(p, feed, "in", 1, "treo_cnre_huamei", True)
        shares, src = ORES[ore]
        lace = sum(shares.get(x, 0.0) for x in LACE)
        for ox, share in shares.items():
            if ox not in LACE:
                io(p, ox, "out", share * SEP, src)
        if lace > 0.3:  # light-RE ores: La and Ce together, to be split as far as they are used
            io(p, f"lace_{LACE_KIND[ore]}", "out", lace * SEP, src)
        else:
            for ox in LACE:
                if shares.get(ox):
                    io(p, ox, "out", shares[ox] * SEP, src)
    for kind, ore in (("bo", "bayan_obo"), ("bast", "bastnaesite")):
        shares = ORES[ore][0]
        lace = sum(shares[x] for x in LACE)
        io(f"lace_separation_{kind}", f"lace_{kind}", "in", 1, "est_lace_split", True)
        for ox in LACE:
            io(f"lace_separation_{kind}", ox, "out", shares[ox] / lace, ORES[ore][1])
    # electrolysis
    for metal, (oxide, key) in METAL_OXIDE.items():
        p = f"metal_{key}"
        io(p, metal, "out", 1, "est_electrolysis", True)
        io(p, oxide, "in", 1 / OX[key] / ELEC, "atomic_weights")
    # alloys: one casting line, four recipes
    io("alloy_casting", "casting", "out", 1, "metaltorg_alloy", True)
    recipes = alloys(gbd_scale, hc_split)
    for a, (metals, src, _) in recipes.items():
        io(f"make_{a}", a, "out", 1, src, True)
        io(f"make_{a}", "casting", "in", 1, "metaltorg_alloy")
        for m, q in metals.items():
            io(f"make_{a}", m, "in", q, "argus_heavy_share" if a == "alloy_hc" and m in HC_SPLIT and hc_split is None else src)
        io(f"make_{a}", "iron", "in", 0.679, "courage_re_content")
        io(f"make_{a}", "boron", "in", 0.011, "courage_re_content")
    # sintering and finishing: one plant each, a route per grade; swarf of the grade's alloy
    io("magnet_sintering", "sintering", "out", 1, "est_grades", True)
    io("magnet_finishing", "finishing", "out", 1, "est_grades", True)
    for g, (alloy, magnet) in GRADES.items():
        io(f"sinter_{g}", f"blank_{g}", "out", 1, "est_grades", True)
        io(f"sinter_{g}", alloy, "in", 1, "courage_re_content")
        io(f"sinter_{g}", "sintering", "in", 1, "est_grades")
        io(f"finish_{g}", magnet, "out", 1, "earthsbook_jlmag_yield", True)
        io(f"finish_{g}", f"blank_{g}", "in", 1 / YIELD, "earthsbook_jlmag_yield")
        io(f"finish_{g}", f"swarf_{g}", "out", 1 / YIELD - 1, "earthsbook_jlmag_yield")
        io(f"finish_{g}", "finishing", "in", 1, "est_grades")
    # diffusion: one furnace line, Tb or Dy as the diffusion source (mainrich_gbd: "dysprosium or terbium")
    io("gbd_diffusion", "diffusion", "out", 1, "mainrich_gbd", True)
    # magnet_hc is counted in t of a Tb-diffused magnet's work (hc_work): a route whose magnets do less
    # per t takes more of them per t of magnet_hc
    work = hc_work(dy_reach, gbd_scale, hc_split)
    for h, (metal, q) in gbd_sources(dy_reach, gbd_scale).items():
        per = 1 / work[f"diffuse_{h}"]
        io(f"diffuse_{h}", "magnet_hc", "out", 1, "mainrich_gbd", True)
        io(f"diffuse_{h}", "magnet_gbd_base", "in", per, "herbst_1991")
        io(f"diffuse_{h}", "diffusion", "in", per, "mainrich_gbd")
        io(f"diffuse_{h}", metal, "in", q * per, "est_grades" if h == "tb" else "herbst_1991")
    io("bulk_as_hc", "magnet_hc_bulk", "in", 1, "mainrich_gbd", True)
    for k in range(1, MYANMAR_STEPS + 1):
        io(myanmar_step(k), "myanmar_concentrate", "out", 1, "est_myanmar_curve", True)
    io("bulk_as_hc", "magnet_hc", "out", work["bulk_as_hc"], "skomski_2016")
    io("magnet_bonded", "bonded_magnet", "out", 1, "adamas_ndfeb_2019", True)
    io("magnet_bonded", "alloy_std", "in", 0.95, "est_capex")
    io("magnet_bonded", "binder", "in", 0.05, "est_capex")
    # recycling: one plant, a route per scrap
    io("recycling_swarf", "recycling", "out", 1, "argus_recycling_capacity", True)
    for g, (alloy, _) in GRADES.items():
        io(f"recycle_{g}", f"swarf_{g}", "in", 1, "mademagnet_swarf", True)
        io(f"recycle_{g}", "recycling", "in", 1, "argus_recycling_capacity")
        for ox, q in scrap_oxides(recipes[alloy][0]).items():
            io(f"recycle_{g}", ox, "out", q, "prommis_recycling")
    for name, scrap, alloy in (("recycle_eol", "eol_scrap", "alloy_std"), ("recycle_eol_ce", "eol_scrap_ce", "alloy_ce")):
        io(name, scrap, "in", 1, "est_eol", True)
        io(name, "recycling", "in", 1, "argus_recycling_capacity")
        for ox, q in scrap_oxides(ALLOYS[alloy][0]).items():
            io(name, ox, "out", q, "prommis_recycling")
    # end uses: the service out, magnets (or nothing) in; end-of-life scrap after its delay
    for service, routes in MAGNET_USES.items():
        for r, (inputs, _, src) in routes.items():
            io(r, service, "out", 1, src, True)
            for c, q in inputs.items():
                io(r, c, "in", q, src)
            if r in EOL:
                scrap, q, delay, esrc = EOL[r]
                io(r, scrap, "out", q, esrc, delay=delay)
    for service, oxides in LACE_USES.items():
        io(f"use_{service}", service, "out", 1, "est_lace_uses", True)
        for ox, q in oxides.items():
            io(f"use_{service}", ox, "in", q, "est_lace_uses")


def _costs_by_region(T: Tables, regions) -> None:
    rows: dict[tuple, dict] = {}
    for p, kwh in POWER.items():
        base = PLANTS[p][7]
        for r in regions:
            if POWER_PRICE[r] != 0.65:
                rows.setdefault((p, r), {"source": "est_regional_costs"})["variable_cost"] = r6(base + kwh * (POWER_PRICE[r] - 0.65) / 1e6)
    for p, by in CAPEX_BY_REGION.items():
        for r, (capex, src) in by.items():
            if r in regions:
                rows.setdefault((p, r), {})["capex"] = capex
                rows[(p, r)]["source"] = src
    for (p, r), v in rows.items():
        T.add("process_costs", v["source"], process=p, region=r, year=None, capex=v.get("capex"), fixed_om=None,
              variable_cost=v.get("variable_cost"))


def _capacity(T: Tables, first: int, national: bool) -> None:
    for p, by in EXISTING.items():
        for r, path in by.items():
            src = EXISTING_SOURCE.get((p, r), "usgs_mcs_2021" if p.endswith("_row") and "mining" in p else "est_capacity")
            for y, cap in sorted(path.items()):
                if y < first and any(yy <= first for yy in path if yy > y):
                    continue  # a later listed year at or before the first replaces it
                T.add("capacity", src, process=p, region=r, year=max(y, first) if y < first else y, capacity=cap)


def _build_limits(T: Tables, national: bool) -> None:
    for p, regions in BUILDABLE.items():
        for r in regions:
            T.add("build_limits", "est_capex", process=p, region=r, year=None, max_new=None, max_total=None)
    if national:
        for p, (max_new, max_total) in ROW_BUILDS.items():
            src = "plantservices_mp10x" if p == "magnet_sintering" else "est_row_build"
            T.add("build_limits", src, process=p, region=ROW, year=None, max_new=max_new, max_total=max_total)


def _supply(T: Tables, years, national: bool) -> None:
    for r in REGIONS:
        for c, price in (("iron", 0.005), ("boron", 0.09), ("binder", 0.03)):
            T.add("supply", "est_supply", commodity=c, region=r, year=None, max_quantity=None, price=price)
    for y in years:  # a row a year, so that a scenario can change one year's imports
        T.add("supply", "argus_myanmar_2020", commodity="myanmar_concentrate", region=JX, year=y, max_quantity=MYANMAR_REO,
              price=MYANMAR_PRICE)
    for y in years:
        q = US_OUTPUT.get(y, US_OUTPUT[2024])
        src = "usgs_mcs_2025" if y in US_OUTPUT else "est_supply"
        T.add("supply", src, commodity="us_concentrate", region=OC, year=y, max_quantity=q, price=US_PRICE)
    T.add("supply", "est_eol", commodity="eol_scrap", region=JX, year=None, max_quantity=3_000, price=0.05)


def _storage(T: Tables) -> None:
    for (c, r), (initial, holding) in STOCKS.items():
        T.add("storage", "est_stocks", commodity=c, region=r, initial=initial, max_level=None, holding_cost=holding, final=None)


def _lanes(T: Tables) -> None:
    def lane(c, o, d, cost, src="est_trade"):
        T.add("trade", src, commodity=c, origin=o, destination=d, cost=cost, max_quantity=None)

    inland = ["la_oxide", "ce_oxide", "prnd_oxide", "dy_oxide", "tb_oxide", "y_oxide", "seg_oxide", "prnd_metal", "dy_metal",
              "tb_metal", "ce_metal", "alloy_std", "alloy_ce", "alloy_hc", "alloy_gbd", "blank_std", "blank_ce", "blank_hc",
              "blank_gbd", "magnet_std", "magnet_ce", "magnet_hc", "magnet_hc_bulk", "magnet_gbd_base", "bonded_magnet", "lace_bo", "lace_bast"]
    for c in inland:
        cost = 0.003 if c.startswith(("magnet", "blank", "bonded")) else 0.002
        for o in CHINA:
            for d in CHINA:
                if o != d:
                    lane(c, o, d, cost)
    for c in ("swarf_std", "swarf_ce", "swarf_hc", "swarf_gbd", "eol_scrap", "eol_scrap_ce"):
        for o in (IM, OC, ROW):
            lane(c, o, JX, 0.005)
    for c in ("prnd_oxide", "dy_oxide", "tb_oxide", "prnd_metal", "dy_metal", "tb_metal", "la_oxide", "ce_oxide", "y_oxide"):
        for o in CHINA:
            lane(c, o, ROW, 0.005)
    for c in ("prnd_oxide", "prnd_metal"):
        lane(c, ROW, OC, 0.005)
    for c in ("magnet_std", "magnet_hc", "bonded_magnet"):
        for o in CHINA:
            lane(c, o, ROW, 0.01)


def _grow(base: float, y0: int, y: int, rate: float = 0.03) -> float:
    return r6(base * (1 + rate) ** (y - y0))


def _demand(T: Tables, paths: dict, years) -> None:
    first = years[0]
    for (c, r), path in paths.items():
        if c == "finished_magnet":  # magnets used outside China, by grade (est_grades)
            for m, share in ROW_MAGNETS.items():
                for y, (q, src) in path.items():
                    T.add("demand", src, commodity=m, region=ROW, year=y, quantity=r6(q * share))
            continue
        split = END_USE_REGIONS.get(c, {r: 1.0})
        for region, share in split.items():
            for y, (q, src) in path.items():
                T.add("demand", src if share == 1.0 else "est_end_use_regions", commodity=c, region=region, year=y,
                      quantity=r6(q * share))
    for c, q in LACE_NEW.items():
        for y in years:
            T.add("demand", "est_lace_uses", commodity=c, region=OC, year=y, quantity=_grow(q, 2021, y))
    for c, q in EXPORTS_2021.items():
        for y in years:
            T.add("demand", "est_lace_uses", commodity=c, region=ROW, year=y, quantity=_grow(q, 2021, y))
    del first


def _curves(T: Tables) -> None:
    """Demand curves: 10 % of each demand gives way at THRIFT, the rest at FORGONE (per t of the
    magnets or oxide it holds); est_demand_curves."""
    for service in MAGNET_USES:
        content = magnet_content(service)
        for step, share, price in ((1, 0.1, THRIFT), (2, 0.9, FORGONE)):
            T.add("demand_response", "est_demand_curves", commodity=service, region="*", year=None, step=step, share=share,
                  price=r6(content * price))
    for m in ROW_MAGNETS:
        for step, share, price in ((1, 0.1, THRIFT), (2, 0.9, FORGONE)):
            T.add("demand_response", "est_demand_curves", commodity=m, region="*", year=None, step=step, share=share, price=price)
    for service, oxides in LACE_USES.items():
        content = sum(oxides.values())
        for step, share, price in ((1, 0.1, LACE_THRIFT), (2, 0.9, LACE_FORGONE)):
            T.add("demand_response", "est_demand_curves", commodity=service, region="*", year=None, step=step, share=share,
                  price=r6(content * price))
    for ox in EXPORTS_2021:
        for step, share, price in ((1, 0.1, LACE_THRIFT), (2, 0.9, LACE_FORGONE)):
            T.add("demand_response", "est_demand_curves", commodity=ox, region="*", year=None, step=step, share=share, price=price)


# output against quota (est_over_quota, an estimate): rock ore mined and separated at 200,000 t of oxides a
# year against 2021's quotas, a mining quota of 168,000 t REO and a separation quota of 162,000 t:
# 200 / 0.93 / 168 = 1.28 times the mining quota and 200 / 0.93 / 162 = 1.33 times the separation quota.
# The 200,000 t is SMM's figure for a year of China's mining at the rate of 2022's first batch of quotas
# (smm_prnd_supply_2021), not 2021's output; SMM's shares of 2021's oxides give at least 1.04 and 1.08 for
# the output it records, and estimates of unrecorded output run from below a fifth to above half of the
# total (mineco_illegal_2019). The instance doc shows the answers across that range. The quotas below
# are the published ones times these.
MINING_KEPT = r6(200_000 / SEP / 168_000)
SEPARATION_KEPT = r6(200_000 / SEP / 162_000)


def _policies(T: Tables, quotas: dict, years, dy_reach=DY_REACH) -> None:
    rock, ionic, sep = quotas["rock_mining_quota"], quotas["ionic_mining_quota"], quotas["separation_quota"]
    for y in years:
        total, src = rock[y]
        if y == 2021:
            northern, nsrc = 100_350.0, "smm_quota_2021"
        else:
            northern, nsrc = r6(total * 0.6741), "est_northern_quota"
        T.add("policies", nsrc, policy="northern_rock_quota", kind="max_activity", year=y, value=r6(northern * MINING_KEPT),
              processes="beneficiation_bayan_obo", regions=IM)
        T.add("policies", nsrc if y != 2021 else src, policy="other_rock_quota", kind="max_activity", year=y,
              value=r6((total - northern) * MINING_KEPT), processes="beneficiation_sichuan", regions=OC)
        T.add("policies", ionic[y][1], policy="ionic_mining_quota", kind="max_activity", year=y, value=ionic[y][0],
              processes="mining_ionic", regions=JX)
        T.add("policies", sep[y][1], policy="separation_quota", kind="max_activity", year=y, value=r6(sep[y][0] * SEPARATION_KEPT),
              processes="separation_bayan_obo;separation_sichuan;separation_ionic", regions=";".join(CHINA))
    for k, (width, _) in enumerate(myanmar_steps(), 1):
        for y in years:
            T.add("policies", "est_myanmar_curve", policy=myanmar_step(k), kind="max_activity", year=y, value=width,
                  processes=myanmar_step(k), regions=JX)
    dy_steps = [_dy_step(k) for k in range(1, len(dy_reach) + 1)]
    diffused = ";".join([f"diffuse_dy{step}" for step in dy_steps] + ["diffuse_tb"])
    for step, (_, share) in zip(dy_steps, dy_reach):  # a technology limit, not a quota: Dy reaches only thin parts (est_dy_diffusion)
        for y in years:
            T.add("policies", "est_dy_diffusion", policy="_".join(filter(None, ("dy_diffusion_depth", step))), kind="max_share",
                  year=y, value=share, processes=f"diffuse_dy{step}", regions=";".join(REGIONS), share_of=diffused)
    for service, routes in MAGNET_USES.items():  # the tiers of each alternative (est_substitutes)
        for tiers in (SUBSTITUTES[r] for r in SUBSTITUTES if SUBSTITUTES[r][0] in routes):
            for tier in tiers[:-1]:
                for y in years:
                    T.add("policies", "est_substitutes", policy=f"{tier}_units", kind="max_share", year=y, value=TIER_SHARE,
                          processes=tier, regions=";".join(REGIONS), share_of=";".join(routes))
    for y, (v, src) in quotas["im_magnet_target"].items():
        T.add("policies", src, policy="im_magnet_target", kind="min_capacity", year=y, value=v, processes="magnet_sintering",
              regions=IM)


# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------

ACTUAL = {  # year: (NEV thousand vehicles, wind GW, e-bikes thousand, sources)
    2021: (3521, 47.57, 45_511, "steelorbis_nev_2021; iea_wind_cwea; people_ebike_2021"),
    2022: (6887, 37.6, 43_500, "people_nev_2022; iea_wind_cwea; est_demand"),
    2023: (9495, 75.9, 42_280, "ecns_nev_2023; iea_wind_cwea; people_ebike_2023"),
    2024: (12866, 79.8, 42_000, "people_nev_2024; iea_wind_cwea; est_demand"),
    2025: (16490, 119.0, 42_000, "caam_nev_2025; nea_wind_2025; est_demand"),
}
PM_WIND = {"wind_direct_drive": 9.95188 / 47.57, "wind_medium_speed": 13.0038 / 47.57}  # shares of additions, as in 2020


def _where(c, region=None, **kw):
    w = {"commodity": c, **kw}
    if region:
        w["region"] = region
    return w


def scenarios(years, national: bool) -> dict:
    S = {
        "nev_boom": {"description": "NEV demand 30 % above the view from 2020 in every year (estimate of an upside case)",
                     "changes": [{"table": "demand", "where": {"commodity": "nev"}, "column": "quantity", "scale": 1.3}]},
        "wind_slowdown": {"description": "wind additions half the view from 2020 (both generator types)",
                          "changes": [{"table": "demand", "where": {"commodity": c}, "column": "quantity", "scale": 0.5}
                                      for c in PM_WIND]},
        "heavy_re_shock": {"description": "Dy/Tb supply shock: imports of Myanmar ion-adsorption feed cut to zero in every year",
                           "changes": [{"table": "supply", "where": {"commodity": "myanmar_concentrate"}, "column": "max_quantity",
                                        "set": 0}] + myanmar_curve_closed()},
        "no_plan_target": {"description": "no Inner Mongolia magnet-capacity target: where would magnet plants go on cost alone?",
                           "changes": [{"table": "policies", "where": {"policy": "im_magnet_target"}, "column": "value", "set": 0}]},
    }
    changes = []
    for y, (nev, wind, ebike, _) in ACTUAL.items():
        if y not in years:
            continue
        for region, share in END_USE_REGIONS["nev"].items():
            changes.append({"table": "demand", "where": _where("nev", region, year=y), "column": "quantity", "set": r6(nev * share)})
        for c, pm in PM_WIND.items():
            for region, share in END_USE_REGIONS[c].items():
                changes.append({"table": "demand", "where": _where(c, region, year=y), "column": "quantity",
                                "set": r6(wind * pm * share)})
        changes.append({"table": "demand", "where": _where("ebike", year=y), "column": "quantity", "set": float(ebike)})
    S["actual_demand_2021_2024"] = {
        "description": "NEV sales (CAAM: 3.52, 6.89, 9.50, 12.87, 16.49 M in 2021-25), wind additions (NEA/CWEA: 47.6, 37.6, 75.9, "
                       "79.8, 119 GW, split between generator types as in 2020) and e-bike output (45.5 M in 2021, 42.3 M in 2023; "
                       "2022, 2024 and 2025 estimates) as they turned out; 2025 from the latest data, so demand does not fall back "
                       "to the 2020 view",
        "changes": changes}
    S["plan_revision_2021"] = {
        "description": "Inner Mongolia's plan of November 2021: 150,000 t/y of magnetic materials capacity by 2025 and more than "
                       "80 % of its rare-earth raw materials converted locally (PrNd metal made in Inner Mongolia at least 80 % of "
                       "the PrNd its separation makes)",
        "changes": [{"table": "policies", "where": {"policy": "im_magnet_target"}, "column": "value", "set": 150_000},
                    {"table": "policies", "where": {"policy": "im_local_conversion"}, "column": "value", "set": LOCAL_SHARE}]}
    if 2021 in years:
        S["myanmar_closure_2021"] = {
            "description": "the heavy-RE feed of 2021 as it happened: Myanmar's border closed from mid-July (imports 20,100 t gross "
                           "in 2021, smm_prnd_supply_2021) and China's ion-adsorption mining suspended from February (about 12,000 t "
                           "REO mined, an estimate)",
            "changes": [{"table": "supply", "where": {"commodity": "myanmar_concentrate", "year": 2021}, "column": "max_quantity",
                         "set": r6(20_100 * MYANMAR_GRADE)},
                        {"table": "policies", "where": {"policy": "ionic_mining_quota", "year": 2021}, "column": "value",
                         "set": 12_000}] + myanmar_curve_closed(2021)}
    if 2022 in years:
        closure = S["myanmar_closure_2021"]["changes"]
        S["myanmar_closures_2021_2022"] = {
            "description": "the heavy-RE feed of 2021 and 2022 as it happened: 2021 as in myanmar_closure_2021; in 2022, with the "
                           "border crossings reopening only from May (rawmaterials_myanmar_2023), imports from Myanmar of about "
                           f"{MYANMAR_GROSS_2022:,.0f} t gross (giti_imports_2023: 2023's imports less their growth over 2022, "
                           "Myanmar's shares as in 2023) and none beyond them",
            "changes": closure + [{"table": "supply", "where": {"commodity": "myanmar_concentrate", "year": 2022}, "column": "max_quantity",
                                   "set": r6(MYANMAR_GROSS_2022 * MYANMAR_GRADE)}] + myanmar_curve_closed(2022)}
    if 2025 in years:
        S["export_controls_2025"] = {
            "description": "China's export controls on medium and heavy rare earths from April 2025 (mofcom_export_controls_2025): "
                           "no Dy or Tb oxide or metal leaves China from 2025. The controls also cover magnets that hold Dy or "
                           "Tb (bloomberg_magnet_controls_2025), but these left under licence, China's magnet exports falling "
                           "7.5 % in the first three quarters of 2025 (reuters_magnet_exports_2025), so magnets are not capped",
            "changes": [{"table": "policies", "where": {"policy": "heavy_re_exports"}, "column": "value", "set": 0}]}
    return S


# PrNd metal per t REO separated in Inner Mongolia, times 0.8 (plan_revision_2021)
LOCAL_SHARE = r6(0.8 * ORES["bayan_obo"][0]["prnd_oxide"] * SEP * OX["prnd"] * ELEC)


def _plan_policies(T: Tables, years) -> None:
    """Policies that scenarios switch on: stated with no effect (a share of 0, an unbounded export)."""
    if 2025 in years:
        T.add("policies", "seed_argus", policy="im_local_conversion", kind="min_share", year=2025, value=0.0, processes="metal_prnd",
              regions=IM, share_of="separation_bayan_obo")
        for y in (y for y in years if y >= 2025):
            T.add("policies", "mofcom_export_controls_2025", policy="heavy_re_exports", kind="max_trade", year=y, value=1e6,
                  commodities="dy_oxide;tb_oxide;dy_metal;tb_metal", regions=";".join(CHINA), destinations=ROW)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

COLUMNS = {
    "regions": ["region", "name", "source"],
    "commodities": ["commodity", "unit", "kind", "description", "unmet_penalty", "disposal_cost", "source"],
    "processes": ["process", "name", "stage", "lifetime", "lead_time", "availability", "capex", "fixed_om", "variable_cost",
                  "capacity", "source"],
    "process_io": ["process", "commodity", "direction", "coefficient", "reference", "delay", "source"],
    "capacity": ["process", "region", "year", "capacity", "source"],
    "build_limits": ["process", "region", "year", "max_new", "max_total", "source"],
    "demand": ["commodity", "region", "year", "quantity", "source"],
    "supply": ["commodity", "region", "year", "max_quantity", "price", "source"],
    "trade": ["commodity", "origin", "destination", "cost", "max_quantity", "source"],
    "policies": ["policy", "kind", "year", "value", "processes", "commodities", "regions", "destinations", "penalty", "share_of",
                 "source"],
    "storage": ["commodity", "region", "initial", "max_level", "holding_cost", "final", "source"],
    "demand_response": ["commodity", "region", "year", "step", "share", "price", "source"],
    "process_costs": ["process", "region", "year", "capex", "fixed_om", "variable_cost", "source"],
}
REGION_NAMES = {
    IM: ("Inner Mongolia (Bayan Obo mine, Baotou separation, metal and magnet plants)", "seed_argus"),
    JX: ("Jiangxi and the south (ion-adsorption clays, Ganzhou separation, metal, magnets and recycling)", "argus_recycling_capacity"),
    OC: ("Rest of China (Sichuan and Shandong mines; Ningbo, Beijing-Tianjin, Shandong, Shanxi magnet bases; end users)",
         "adamas_ndfeb_2019"),
    ROW: ("Rest of the world (US, Australia, Malaysia, Japan, EU, Myanmar exporters; magnet importers)", "ccmagnetics_global_2020"),
}


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


def build(name: str, dy_reach=DY_REACH, gbd_scale: float = 1.0, hc_split: dict[str, float] | None = None) -> tuple[dict, Tables]:
    """The settings and tables of a shipped instance; ``dy_reach`` (steps as :data:`DY_REACH`)
    builds a variant with another reach of Dy diffusion, ``gbd_scale`` one whose diffused magnets
    hold that many times the heavy RE (their base alloy's Dy and the Tb or Dy diffused in),
    ``hc_split`` one whose bulk-alloyed grade holds these t of Dy and Tb metal per t of alloy (its
    recipe, its swarf's oxides and the work a t of it does all follow)."""
    national = name == "china_2020_2035"
    paths, quotas = (NATIONAL, NATIONAL_QUOTAS) if national else (DEFAULT, DEFAULT_QUOTAS)
    first, last = (2020, 2035) if national else (2021, 2025)
    years = list(range(first, last + 1))
    T = Tables()
    for r in REGIONS:
        T.add("regions", REGION_NAMES[r][1], region=r, name=REGION_NAMES[r][0])
    _commodities(T)
    _processes(T, dy_reach)
    _io(T, dy_reach, gbd_scale, hc_split)
    _costs_by_region(T, REGIONS)
    _capacity(T, first, national)
    _build_limits(T, national)
    _supply(T, years, national)
    _storage(T)
    _lanes(T)
    _demand(T, paths, years)
    _curves(T)
    _policies(T, quotas, years, dy_reach)
    _plan_policies(T, years)
    used = {r["source"] for rows in T.t.values() for r in rows if r["source"]}
    settings = {
        "format_version": 2,
        "name": name,
        "title": ("China's rare-earth magnet chain 2020-2035, national planning view" if national
                  else "Inner Mongolia rare-earth magnet chain under the 2021-25 plan"),
        "description": (
            "National planning view of the rare-earth permanent-magnet chain 2020-2035: the chain and regions of the default "
            "instance, demand paths to 2035, quotas growing with demand after 2024, and a rest of the world that can build mines, "
            "separation, metal, alloy and magnet plants within announced-project limits." if national else
            "The rare-earth permanent-magnet chain around Bayan Obo and Baotou under China's 14th five-year plan (2021-2025), seen "
            "from 2020: four regions, ore to end uses with magnet grades, their alternatives and demand curves, stocks, imports of "
            "concentrate, swarf and end-of-life recycling, China's quotas by group and Inner Mongolia's target of 100,000 t/y of "
            "magnet capacity by 2025."),
        "years": {"first": first, "last": last},
        "base_year": 2020,
        "discount_rate": 0.06,
        "units": {"money": "CNY million", "material": "t (oxides, metals, alloys, magnets: t of product; ores and concentrates: t REO)"},
        "sources": [{"id": k, "title": SOURCES[k][0], "url": SOURCES[k][1]} for k in SOURCES
                    if k in used or k in SCENARIO_SOURCES or k in DOC_SOURCES],
        "scenarios": scenarios(years, national),
    }
    return settings, T


SCENARIO_SOURCES = {"steelorbis_nev_2021", "iea_wind_cwea", "people_ebike_2021", "people_nev_2022", "ecns_nev_2023", "people_ebike_2023",
                    "people_nev_2024", "caam_nev_2025", "nea_wind_2025", "smm_prnd_supply_2021", "est_ionic_2021", "minmet_ionic_2021",
                    "reuters_myanmar_2021", "rawmaterials_myanmar_2023", "giti_imports_2023", "mofcom_export_controls_2025", "fx_cny_usd", "roskill_myanmar_2018", "mp_results_2021",
                    "smm_high_grade_2021", "ieee_gbd_2017", "idtechex_ev_motors", "adamas_elasticity_2022", "adamas_ce_ndfeb",
                    "hokudai_ferrite", "smm_lace_2021", "smm_trade_2021", "cru_power", "metalnomist_baotou_2024", "mining_prices_2021",
                    "nea_wind_2021", "chinadaily_im_energy", "smm_quota_h1_2022", "argus_us_imports_2020",
                    "bloomberg_magnet_controls_2025", "reuters_magnet_exports_2025", "est_discount"}
# sources the instance doc cites for what-ifs and for the estimates above, beside those of rows and scenarios
DOC_SOURCES = {"est_over_quota", "mineco_illegal_2019", "smm_recycling_2021"}


def write(name: str, folder: Path | None = None, dy_reach=DY_REACH, gbd_scale: float = 1.0,
          hc_split: dict[str, float] | None = None) -> Path:
    settings, T = build(name, dy_reach, gbd_scale, hc_split)
    folder = HERE / name if folder is None else Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for f in folder.glob("*.csv"):
        f.unlink()
    with open(folder / "instance.yaml", "w", encoding="utf-8") as f:
        yaml.safe_dump(settings, f, sort_keys=False, allow_unicode=True, width=120)
    for table, rows in T.t.items():
        cols = COLUMNS[table]
        with open(folder / f"{table}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(cols)
            for row in rows:
                w.writerow([_cell(row.get(c)) for c in cols])
    return folder


if __name__ == "__main__":  # pragma: no cover - a command for maintainers
    for n in ("inner_mongolia_2021_2025", "china_2020_2035"):
        print("wrote", write(n))
