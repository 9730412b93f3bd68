"""The sources of the shipped instances' figures: id -> (title, url). An id starting with
``est_`` is an estimate (no public figure): its title says so and why the number is what it is."""

SOURCES: dict[str, tuple[str, str]] = {
    'seed_argus': ("Argus via atechmagnet.cn: China's Inner Mongolia increases production of rare earth magnets (IM capacity 45 kt/y to 100 kt/y by 2025; China output 190 kt in 2020, +3-5 % in 2021)",
        'https://atechmagnet.cn/news/chinas-inner-mongolia-increases-production-of-rare-earth-magnets'),
    'smm_quota_2021': ('SMM: China 2021 rare-earth quotas (mining 168,000 t: rock 148,850 t, ionic 19,150 t; separation 162,000 t)',
        'https://news.metal.com/newscontent/101718461/'),
    'giti_quota_2022': ('GITI: China 2022 rare-earth quotas (mining 210,000 t, separation 202,000 t; quotas cap domestic ore only)',
        'https://giti.sg/markets/markets_files/6cb2fa3d98a5e03c9f87c28461fc0e55-148.html'),
    'horizon_quota_2023': ('Horizon Magnets: China rare-earth quotas 2023 (mining 255,000 t, separation 243,850 t)',
        'https://www.horizonmagnets.com/news/china-issue-rare-earth-quota-1st-batch-of-2023/'),
    'projectblue_quota_2024': ('Project Blue: China 2024 rare-earth quotas (mining 270,000 t, separation 254,000 t)',
        'https://projectblue.com/blue/news-analysis/757/'),
    'soolun_ore': ('Rare-earth ore compositions: Bayan Obo CeO2 share, Longnan ion-adsorption clay Y2O3 share (soolun.net periodical)',
        'http://soolun.net/periodical/61b4dcdca317001c98d5eb1377365635.html'),
    'usgs_sir_2010_5220': ('USGS Scientific Investigations Report 2010-5220 (Castor & Hedrick ore composition ranges)',
        'https://pubs.usgs.gov/sir/2010/5220/'),
    'smm_concentrate_2021': ('SMM: Baotou Steel to China Northern Rare Earth concentrate contract price and grade (16,269 CNY/t at 50 % REO, 2021)',
        'https://news.metal.com/newscontent/103130256/'),
    'mp_10k_2021': ('MP Materials Form 10-K for FY2021 (Mountain Pass ore: Ce 50.2 %, La 32.3 %, NdPr 15.7 %, SEG+ 1.8 % of REO)',
        ''),
    'usgs_mcs_2021': ('USGS Mineral Commodity Summaries 2021: Rare earths (US concentrate output and exports 2020: 38,000 t REO)',
        'https://docslib.org/doc/10507567/rare-earths1'),
    'usgs_mcs_2025': ('USGS Mineral Commodity Summaries 2025: Rare earths (mine output by country; Argus oxide prices 2020-24)',
        ''),
    'atomic_weights': ('Oxide-to-metal mass factors from standard atomic weights (derived: Nd2O3 0.8574, Pr6O11 0.8277, PrNd 25:75 0.8499, Dy2O3 0.8713, Tb4O7 0.8502; atomic weights Pr 140.91, Nd 144.24, Dy 162.50, Tb 158.93)',
        ''),
    'treo_cnre_huamei': ('TREO substack: China Northern, lost in translation (CNRE Huamei separation plant: 198 kt concentrate at 58 % REO to 107 kt oxides; CNY 7.8 bn)',
        'https://treo.substack.com/p/china-northern-lost-in-translation'),
    'est_electrolysis': ('estimate: oxide-to-metal electrolysis recovery 0.95 (range 0.92-0.98, g-ant.cn) and operating cost 30,000 CNY/t metal (range 20k-40k)',
        'http://m.g-ant.cn/n3355/n3373/c201038/content.html'),
    'courage_re_content': ('Courage Magnet FAQ: sintered NdFeB composition (RE 0.31; Nd+Pr 0.29-0.325, Dy 0.006-0.012, Fe ~0.66, B ~0.011)',
        'http://www.couragemagnet.com/faq/324.html'),
    'argus_heavy_share': ('Argus: Dy2O3 2.8 % and Tb4O7 0.43 % of PrNd oxide in the recycled magnet stream (2023)',
        'https://www.argusmedia.com/metals-platform/newsandanalysis/article/2678157'),
    'earthsbook_jlmag_yield': ('JL Mag 2024 blanks to finished magnets (29,300 t to 20,900 t; yield 0.71) via earths-book.com',
        'http://www.earths-book.com/index-969.html'),
    'mademagnet_swarf': ('Progress in recycling of sintered NdFeB magnet wastes (swarf RE content 0.30)',
        'https://www.mademagnet.com/Progress-in-recycling-of-sintered-NdFeB-magnet-wastes-id44013377.html'),
    'prommis_recycling': ('DOE PrOMMiS evs_case_study.py: hydrometallurgical stage yields 0.925-0.985',
        'https://github.com/prommis/prommis'),
    'adamas_ndfeb_2019': ('Adamas Intelligence: China NdFeB production 2019 (170 kt sintered, 7.9 kt bonded)',
        'https://www.adamasintel.com/china-ndfeb-production-2019/'),
    'smm_nev_intensity': ('SMM: magnet blank per NEV in China, 3.55 kg including EPS and micromotors (2021)',
        'https://news.metal.com/newscontent/103553212/'),
    'heim_vanderwal_2023': ('Heim & Vander Wal 2023, Minerals 13:1274: magnet intensity of wind turbines (direct drive 0.65 t/MW, medium speed 0.16 t/MW)',
        ''),
    'horizon_ebike': ('Horizon Magnets: NdFeB magnets in Chinese e-bikes (0.3-0.5 kg per hub motor)',
        'https://www.horizonmagnets.com/blog/why-neodymium-magnet-promote-electric-bikes-popular-in-china/'),
    'steelorbis_nev_2021': ('SteelOrbis / CAAM: China NEV sales 2021 (3.521 M, 1.6-fold up on 2020)',
        'https://www.steelorbis.com/steel-news/latest-news/caam-chinas-auto-vehicle-output-up-34-in-2021-dec-data-also-up-1229490.htm'),
    'people_nev_2022': ("People's Daily: China NEV sales 2022 (6.887 M)",
        'http://en.people.cn/n3/2023/0112/c90000-10195326.html'),
    'ecns_nev_2023': ('ECNS: China NEV sales 2023 (9.495 M)',
        'http://ecns.cn/news/cns-wire/2024-01-12/detail-ihcwrpvv3812064.shtml'),
    'people_nev_2024': ("People's Daily: China NEV sales 2024 (12.866 M)",
        'http://en.people.cn/n3/2025/0114/c90000-20265719.html'),
    'iea_wind_cwea': ('IEA Wind TCP / CWEA: China wind additions 2020-2024 (GW)',
        'https://iea-wind.org/about-iea-wind-tcp/members/cwea/'),
    'people_ebike_2021': ("People's Daily: China e-bike production 2020 (41.26 M) and 2021 (45.51 M)",
        'http://en.people.cn/n3/2021/1203/c90000-9928215.html'),
    'ccmagnetics_global_2020': ('CC Magnetics: global NdFeB production 2020 (217 kt; China 196 kt)',
        'https://www.ccmagnetics.com/blog/'),
    'ree_jlmag_capex': ('Rare Earth Exchanges: JL Mag Baotou phase III, CNY 1.05 bn for 20 kt/y (2022); JL Mag Baotou 40 kt/y blanks after phase III',
        ''),
    'metaltorg_alloy': ('Metaltorg: CNRE / Earth-Panda NdFeB flake plant, CNY 90.36 M for 8 kt/y (2021)',
        ''),
    'gao_2010': ('US GAO 2010 (GAO-10-617): rare-earth mines take 7-15 years to bring into production',
        ''),
    'argus_recycling_capacity': ('Argus (Liu Weihua): China recycling capacity 80 kt/y magnet scrap (2024), Jiangxi 64 % of recycled output',
        ''),
    'icct_nev_plan': ("ICCT: China's NEV Industrial Development Plan 2021-2035 (about 20 % NEV share of new sales by 2025)",
        'https://theicct.org/publication/chinas-new-energy-vehicle-industrial-development-plan-for-2021-to-2035/'),
    'lynas_ar_2021': ('Lynas Rare Earths 2021 Annual Report (FY2021: 15,761 t REO produced, of which 5,461 t NdPr; FY2020: 14,562 t and 4,656 t)',
        'https://issuu.com/apmgraphics/docs/lyc_ar21_issuu'),
    'projectblue_lynas': ('Project Blue: Lynas Mt Weld capacity about 7,000 t/y NdPr equivalent, 12,000 t/y by 2024',
        'https://projectblue.com/blue/news-analysis/115/lynas-prepares-to-accelerate-rare-earth-production'),
    'est_beneficiation': ('estimate: beneficiation recovery of REO from mined ore 0.85 (Dalucao 0.55 per researcher_dalucao, modern Bayan Obo flotation higher); the rock mining quota counts REO in the concentrate',
        ''),
    'est_costs': ('estimate: operating and fixed costs of mining, beneficiation, metal, alloy, magnet and recycling plants (CNY million per t), set so the cost of concentrate and oxides sits near 2020 Chinese prices',
        ''),
    'est_capex': ('estimate: capital cost, lifetime and availability of plants without a public figure',
        ''),
    'est_capacity': ('estimate: existing plant capacity by region (China totals from output and utilisation; regional splits from the bases named in the sources)',
        ''),
    'est_demand': ('estimate: end-use demand as seen from 2020 (2020 activity from the sources, growth 3-5 %/y, NEVs toward the 2025 plan share), magnet intensity where no source is given',
        ''),
    'est_lace_demand': ('estimate: La/Ce end uses in China (FCC and automotive catalysts, polishing powder, glass, RE-treated steel) and their oxide intensities',
        ''),
    'est_trade': ('estimate: shipping costs between regions and lane limits',
        ''),
    'est_supply': ('estimate: outside supply prices (iron, boron, polymer binder, Myanmar mixed ionic concentrate) and Myanmar export volumes outside 2023',
        ''),
    'est_penalties': ('estimate: value of unserved end-use services (unmet-demand penalties) and stockpiling costs of surplus oxides',
        ''),
    'est_quota': ('estimate: quotas after the last published year (2024) held at the 2024 level (default) or grown with demand (2035 view)',
        ''),
    'mining_com_quota_2020': ('Mining.com: China 2020 rare-earth quotas (rock 120,850 t, ionic 19,150 t; separation 135,000 t)',
        'https://mining.com/?p=1029800'),
    'metalnomist_wind_2020': ('Metalnomist: wind-turbine magnet demand in China 2020 (12,880 t for 71.7 GW)',
        'https://www.metalnomist.com/2025/10/global-rare-earth-magnet-production-set.html'),
    'plantservices_mp10x': ('Plant Services: MP Materials 10X magnet plant, USD 1.25 bn for 10 kt/y (2026)',
        ''),
    'mineralprices_exports_2020': ('MineralPrices / Argus: China rare-earth permanent magnet exports 2020 (35,982 t, HS 85051110, at an average USD 47,389 per t)',
        'https://mineralprices.com/china-exports-more-rare-earth-magnet-materials-in-2020/'),
    'est_2035': ('estimate: demand, quota and capacity paths 2025-2035 for the national planning view',
        ''),
    'est_row_build': ('estimate: build limits and costs of new capacity outside China (US, Australia, Japan, EU) from announced projects',
        ''),
}

# sources of the v2 recalibration (research of 2026-12; figures quoted in their titles)
SOURCES.update({
    "smm_prnd_supply_2021": ("SMM: Supply of PrNd oxide will increase by more than 10 % in 2022 (China 2021: PrNd oxide supply > 70,000 t, "
                             "45 % from domestic ore, 30 % from recycling, 19 % from imported ore; oxides > 300,000 t, 49 % from domestic "
                             "ore, 30 % imported ore, 16 % recycling, 5 % other ores; light ore imports 75,500 t from the US; "
                             "medium/heavy ores 27,000 t, 20,100 t from Myanmar; after 2022's first batch of quotas, 100,800 t: "
                             "200,000 t of oxides and 40,000 t of PrNd oxide a year from China's mining)",
                             "https://news.metal.com/newscontent/101781772/Supply-of-PrNd-Oxide-Will-Increase-by-More-Than-10-in-2022"),
    "smm_recycling_2021": ("SMM: Rare earth recycling development will accelerate in 2022 (China 2021: PrNd oxide output > 70,000 t, "
                           "23,000 t of it from recycling, 30 %; about 15,000 t from NdFeB scrap and 8,000 t from dismantled waste "
                           "motors, 6,000 t of that from two-wheeled EVs; 28,000 t expected from recycling in 2022)",
                           "https://news.metal.com/newscontent/101774777/Rare-Earth-Recycling-Development-Will-Accelerate-in-2022-"
                           "Through-the-Duet-of-Waste-Motor-Dismantling-and-Scrap-Recycling"),
    "mineco_illegal_2019": ("Mineral Economics (2019), China's rare-earth policies and the market: estimates of China's illegal "
                            "production differ, Adamas (2016) about 30 % of the total in 2005-2012 and below 20 % after 2014, "
                            "Kingsnorth (2016, 2019) about 23 % before 2013 and above 50 % after 2017",
                            "https://link.springer.com/article/10.1007/s13563-019-00214-2"),
    "est_over_quota": ("estimate: China's rock ore mined and separated at 1.28 and 1.33 times the published quotas of each year, "
                       "200,000 t of oxides a year from China's own ore against 2021's quotas (168,000 t mined, 162,000 t "
                       "separated; recovery 0.93). smm_prnd_supply_2021 gives the 200,000 t after 2022's first batch of quotas, "
                       "so it is that batch at a full year's rate, not 2021's output; its 2021 shares (49 % domestic ore and 5 % "
                       "other ores of > 300,000 t of oxides) give at least 1.04 and 1.08 for the output it records, and "
                       "unrecorded output was put below a fifth (Adamas) or above half (Kingsnorth) of the total "
                       "(mineco_illegal_2019)", ""),
    "argus_us_imports_2020": ("Argus: China raises US rare earth imports in 2020 (71,407 t of ores, average USD 1,648/t; almost all to Shenghe)",
                              "https://mineralprices.com/china-raises-us-rare-earth-imports-in-2020/"),
    "argus_myanmar_2020": ("Argus: China rare earth ore imports unaffected by Burma crisis (imports from Myanmar 35,539 t in 2020 at USD "
                           "10,933/t; more than 60 % of China's ion-adsorption RE consumption)",
                           "https://www.argusmedia.com/zh/news-and-insights/latest-market-news/2182498-china-rare-earth-ore-imports-unaffected-by-burma-crisis"),
    "giti_imports_2023": ("GITI: China rare earth raw material import 2023, from China's customs (mixed RE oxides 43,906 t for USD 1.32 bn, 95 % "
                          "from Myanmar; other RE compounds 43,960 t for USD 354 million, 69 % from Myanmar; mixed RE carbonate 15,125 t, "
                          "from Malaysia, Laos and the US)",
                          "https://giti.sg/markets/markets_files/48ebfa7453033ae0c38c564c09bf9de2-181.html"),
    "rawmaterials_myanmar_2023": ("Reuters via rawmaterials.net, 21 July 2023: China's imports of rare earths from Myanmar in the first half of "
                                  "2023 about nine times those of the first half of 2022, the transshipment hubs closed in the pandemic "
                                  "reopening gradually from May 2022", "https://rawmaterials.net/china-rare-earths-imports-from-myanmar-rise-sharply/"),
    "est_myanmar_curve": ("estimate: the Myanmar feed's supply curve. China's imports from Myanmar under the codes argus_myanmar_2020 sums "
                          "(35,539 t gross at USD 10,933/t in 2020) came to about 72,000 t gross at USD 20,800/t in 2023 (giti_imports_2023: "
                          "95 % of the mixed oxides and 69 % of the other compounds); read, at 70 % REO (est_myanmar_profile), as two "
                          "points of one curve of constant elasticity (about 1.06), the feed beyond 2020's volume comes in four equal "
                          "steps up to 2023's volume (50,400 t REO), each at the curve's price at its middle. The two points are two "
                          "years' markets, not a measured cost curve: Myanmar's mining also grew between them", ""),
    "reuters_myanmar_2021": ("Reuters: China's rare earth imports from Myanmar dry up after border closure (23 t of compounds in August 2021 "
                             "against 270 t in July)", "https://www.reuters.com/article/china-economy-trade-rareearths/"),
    "mp_results_2021": ("MP Materials fourth quarter and full year 2021 results (42,413 t REO produced in 2021; realized price USD 10,101/t "
                        "REO in Q4 2021 and USD 4,070/t in Q4 2020; production cost USD 1,525/t REO)",
                        "https://greenstocknews.com/news/nyse/mp/mp-materials-reports-fourth-quarter-and-full-year-2021-results"),
    "minmet_ionic_2021": ("Roskill via Min-Met: Myanmar crisis threatens rare earth market (all ion-adsorption clay mining in China asked to "
                          "suspend in late February 2021)", "https://min-met.com/blog/myanmar-crisis-threatens-rare-earth-market/"),
    "smm_quota_h1_2022": ("SMM: first batch of 2022 rare earth quotas (Northern Rare Earth 60,200 t, 67.41 % of the light-RE mining quota; "
                          "China Rare Earth Group 29,100 t light and 7,806 t ionic)",
                          "https://news.metal.com/newscontent/101743378/First-Batch-of-Rare-Earth-Mining-Quotas-Issued-Likely-to-Ease-the-Tight-Supply"),
    "smm_high_grade_2021": ("SMM: demand for high-grade NdFeB has been growing (China 2021: 207,100 t sintered blanks and 9,400 t bonded "
                            "(MIIT); magnet demand 167,800 t, of which high grade 95,000 t, 56.6 %; NEV output 3.55 M; magnet exports 49,000 t)",
                            "https://news.metal.com/newscontent/101755599/Demand-for-High-grade-NdFeB-Has-Been-Growing"),
    "mainrich_gbd": ("Mainrich International: GBD against bulk-alloyed NdFeB (grain-boundary diffusion uses 30-60 % less heavy RE at the same "
                     "coercivity and adds 5-15 % to processing cost; H-grade blanks need 3 % or more of heavy RE)",
                     "https://www.mainrichinternational.com/compare/gbd-vs-bulk-alloyed-ndfeb-magnet"),
    "herbst_1991": ("Herbst, R2Fe14B materials: intrinsic properties and technological aspects, Rev. Mod. Phys. 63 (1991) 819-898: "
                    "anisotropy field at room temperature about 7.3 T for Nd2Fe14B, 15 T for Dy2Fe14B and 22 T for Tb2Fe14B; "
                    "so a Dy diffusion source needs about twice the Tb mass for the same gain (derived); saturation polarisation "
                    "1.60 T for Nd2Fe14B, 1.56 T for Pr2Fe14B, 0.71 T for Dy2Fe14B and 0.70 T for Tb2Fe14B, so a magnet holding more "
                    "heavy RE has less remanence (derived: a Dy-diffused magnet 0.6 % less than a Tb-diffused one, a bulk-alloyed "
                    "one 3.8 %)",
                    "https://doi.org/10.1103/RevModPhys.63.819"),
    "skomski_2016": ("Skomski, Permanent magnets: history, current research, and outlook, in Novel Functional Magnetic Materials "
                     "(Springer, 2016), ch. 9: a magnet's performance is its energy product, the field energy it sets up in free "
                     "space per unit of its volume, which never exceeds mu0 Ms^2 / 4; so what a t of magnet does goes with the "
                     "square of its remanence (derived)",
                     "https://www.scribd.com/document/579743412/2016-Book-NovelFunctionalMagneticMateria-368-405"),
    "est_discount": ("estimate: discount rate 6 % a year (instance.yaml discount_rate). China's rules for appraising construction "
                     "projects recommend a social discount rate of 8 % (NDRC and MOHURD, Methods and Parameters for the Economic "
                     "Evaluation of Construction Projects, 3rd ed., 2006) and let long-lived public works also be appraised at "
                     "6 % (SL 72-2013, water projects); docs/instances.md shows the default at 8 %",
                     "https://m.qbook.qq.com/read/1037204902/18"),
    "est_dy_diffusion": ("estimate: Dy diffuses into NdFeB more slowly than Tb, so a Dy source reaches the needed coercivity only "
                         "in thinner parts and lower grades (mainrich_gbd: Tb penetrates 3-6 mm per face); at most half of the parts "
                         "diffused take a Dy source, the rest (thicker parts, UH grades and above) need Tb", ""),
    "ieee_gbd_2017": ("IEEE Electrification Magazine, March 2017: grain-boundary-diffused magnets use about one half, or one third, of the "
                      "Dy or Tb of conventionally made magnets with the same properties", ""),
    "idtechex_ev_motors": ("IDTechEx via E-Mobility Engineering: propulsion motors of BEVs and PHEVs in 2020 were 77 % permanent magnet, "
                           "17 % induction and 6 % wound-rotor (EESM)",
                           "https://www.emobility-engineering.com/reduced-rare-earth-and-magnet-free-motors/"),
    "adamas_elasticity_2022": ("Adamas Intelligence via Metal Tech News (2022): over 90 % of EVs keep rare-earth PM traction motors; magnet "
                               "demand from automotive and wind is substantially less elastic to the NdPr price",
                               "https://www.metaltechnews.com/story/2022/11/02/tech-metals/ev-magnet-rare-earth-price-set-to-sail/1140.html"),
    "adamas_ce_ndfeb": ("Adamas Intelligence: Cerium-NdFeB magnets, a gift or a curse? (Ce-substituted NdFeB in low-performance uses such as "
                        "speakers and e-bike motors; 18 % of cerium oxide demand went to magnets around 2020)",
                        "https://www.adamasintel.com/cerium-ndfeb-magnets-gift-or-a-curse/"),
    "hokudai_ferrite": ("Hokkaido University: ferrite magnet motors (ferrite magnets cost about one tenth of NdFeB)",
                        "http://www.ist.hokudai.ac.jp/eng/netjournal/net_09_ex.html"),
    "nea_wind_2021": ("NEA 2021 (via Zhongshang): 47.57 GW of wind added in 2021, 61 % in central, eastern and southern China, 39 % in the "
                      "three northern regions", "http://m.gzshangchuan.com/news/chanye/20220224/1710531745416_2.shtml"),
    "chinadaily_im_energy": ("China Daily: Inner Mongolia's new-energy capacity passed 50 GW in December 2020; the region holds 57 % of "
                             "China's wind resource", "http://innermongolia.chinadaily.com.cn/2022-12/22/c_841823.htm"),
    "caam_nev_2025": ("SteelOrbis / CAAM: China NEV sales 16.49 M in 2025 (production 16.626 M, exports 2.615 M; 47.9 % of new-vehicle sales)",
                      "https://www.steelorbis.com/steel-news/latest-news/caam-new-energy-vehicle-sales-in-china-up-282-percent-in-2025-1429628.htm"),
    "nea_wind_2025": ("NEA data of January 2026 (news report): 119 GW of wind added in 2025; 640 GW installed at the end of 2025 (Xinhua)",
                      "https://news.az/news/solar-drives-chinas-power-generation-capacity-growth"),
    "people_ebike_2023": ("People's Daily: China made 42.28 M electric bicycles in 2023 (MIIT)", "http://en.people.cn/n3/2024/0506/c90000-20165389.html"),
    "smm_lace_2021": ("SMM: how to break the problem of lanthanum and cerium overcapacity (China makes about 90,000 t of La/Ce products a year "
                      "of about 150,000 t of rare earths, uses about 40,000 t: a surplus of more than 50,000 t)",
                      "https://news.metal.com/newscontent/101475319/how-to-break-the-problem-of-lanthanum-and-cerium-overcapacity"),
    "smm_trade_2021": ("SMM: import and export statistics of rare earth products in 2021 (exports 48,900 t, of which compounds 39,500 t; "
                       "imports 45,700 t)", "https://news.metal.com/newscontent/101774023/Import-and-export-statistics-of-rare-earth-products-in-2021"),
    "metalnomist_baotou_2024": ("Metalnomist: China's Baotou city to expand rare earth magnet capacity (135,000 t/y in 2023, 159,000 t/y "
                                "expected by the end of 2024)", "https://metalnomist.com/2024/08/chinas-baotou-city-to-expand-rare.html"),
    "mining_prices_2021": ("Mining.com / Mysteel: rare earth prices up amid supply tightness (PrNd oxide 735,000 CNY/t in November 2021, "
                           "nearly doubled in the year; the price surge has deterred some demand)",
                           "https://mining.com/rare-earth-price-up-amid-supply-tightness/page/4"),
    "cru_power": ("CRU (2010): Inner Mongolia and Xinjiang offer power at about 0.3 CNY/kWh, the east coast at about 0.6 CNY/kWh",
                  "https://aluminiumtoday.com/news/chinese-smelters-to-move-northwest"),
    "mofcom_export_controls_2025": ("MOFCOM / GAC announcement No. 18 of 2025: export controls on Sm, Gd, Tb, Dy, Lu, Sc and Y "
                                    "(from 4 April 2025; exports need a licence), their metals, alloys, oxides and compounds "
                                    "and the NdFeB magnets that contain Tb or Dy (English translation as published by a magnet maker)",
                                    "https://osencmagnet.com/export-controls-on-rare-earth-elements/"),
    "bloomberg_magnet_controls_2025": ("Bloomberg News, 18 June 2025: China's exports of rare-earth products fell 61 % year on year "
                                       "in May 2025; the controls of 4 April cover not just the seven rare earths but also magnets "
                                       "that contain even tiny amounts of them",
                                       "https://www.business-standard.com/amp/world-news/china-s-rare-earth-exports-hit-five-year-low-as-magnet-sales-curbs-125061801486_1.html"),
    "reuters_magnet_exports_2025": ("Reuters, 20 October 2025: China's rare-earth magnet exports recovered from June 2025 after "
                                    "trade deals; 39,817 t in the first three quarters of 2025, 7.5 % less than a year earlier",
                                    "https://www.telegraphindia.com/business/chinas-rare-earth-magnet-exports-dip-6-1-in-september-amid-tighter-export-scrutiny-and-curbs/cid/2128671"),
    "fx_cny_usd": ("Annual average exchange rates, CNY per USD (IMF International Financial Statistics): 2020 6.90, 2021 6.45, 2022 6.73, "
                   "2023 7.08, 2024 7.19", ""),
    "est_myanmar_profile": ("estimate: Myanmar (Kachin) ion-adsorption feed as a medium-Y profile (no public assay found): Dy2O3 3.74 % and "
                            "Tb4O7 0.57 % of REO from Roskill's 2018 figures (roskill_myanmar_2018); Y2O3 32 %, Nd2O3 15 %, Pr6O11 3.5 %, "
                            "La2O3 12 %, CeO2 2 %, Sm/Gd/other 31.2 % chosen within the ranges of medium-Y ionic ores; REO content of "
                            "the imports 70 % of their gross weight (carbonate about 45 %, oxides about 90 %)", ""),
    "roskill_myanmar_2018": ("Roskill (forum repost): Myanmar exported about 23,000 t REO to China in 2018, containing 860 t Dy2O3 and 130 t Tb4O7", ""),
    "est_ionic_profile": ("estimate: China's ion-adsorption output as a mix of the high-Y (Longnan) and light-RE (Xunwu) types, half each "
                          "(textbook values, not found in a public source): Y2O3 36 %, La2O3 20 %, Nd2O3 16.5 %, Pr6O11 4.3 %, Dy2O3 4.3 %, "
                          "Tb4O7 0.7 %, CeO2 0.6 %, Sm/Gd/Er/other 17.6 %", ""),
    "est_ionic_2021": ("estimate: China's ion-adsorption mining in 2021 about 12,000 t REO (range 8,000-16,000) against the 19,150 t quota, "
                       "after the suspension of February 2021 (minmet_ionic_2021); no output figure found", ""),
    "est_grades": ("estimate: magnet grades. Standard (N) grades hold no heavy RE; bulk-alloyed high-coercivity (H and above) grades 3.5 % "
                   "heavy RE (mainrich_gbd: 3 % or more for H grades; SH and UH more), split between Dy and Tb as in China's magnet scrap (argus_heavy_share: 3.04 % Dy, 0.46 % Tb); grain-boundary-diffused "
                   "grades use 40 % of that per t of finished magnet, the nearest to a first estimate of a third that both ieee_gbd_2017 (one half to one third) and mainrich_gbd "
                   "(30-60 % less heavy RE, so 40-70 %) allow: base alloy 1.03 % Dy (two thirds, lost to swarf with the alloy) plus 0.52 % Tb per t "
                   "of finished magnet (or, herbst_1991, 1.01 % Dy) diffused into the finished part; Ce-substituted NdFeB replaces "
                   "a quarter of the PrNd by Ce (adamas_ce_ndfeb). Which end uses need which grade: traction motors, wind generators, "
                   "industrial and servo motors and inverter compressors take high-coercivity grades (56.6 % of demand, smm_high_grade_2021)", ""),
    "est_substitutes": ("estimate: cost of the end uses' alternatives to rare-earth magnets, per unit of service (no public per-unit figure "
                        "found): an induction or wound-rotor NEV traction motor 2,500 CNY per vehicle more (motor, and battery for the "
                        "2-4 % efficiency loss; idtechex_ev_motors, adamas_elasticity_2022); an electrically excited or geared DFIG wind "
                        "generator 8 % (direct drive) or 4 % (medium speed) more on a turbine of 3,500 CNY/kW; an IE3 induction motor "
                        "150 CNY million per GW more over its life (efficiency); ferrite motors 80 CNY per appliance and 120 CNY per "
                        "e-bike more (hokudai_ferrite: ferrite costs a tenth but needs more steel and copper for the same output). These are typical extra costs against a whole magnet motor or generator "
                        "with its magnets at 2020 prices (so the LP charges an alternative its extra plus the 2020 cost of the magnets it "
                        "does without, at China's 2020 export price of magnets, mineralprices_exports_2020); the extra differs from unit to "
                        "unit, so each alternative comes in eight tiers of an eighth of the units each, spread evenly between nothing and "
                        "twice the typical extra", ""),
    "est_demand_curves": ("estimate: demand curves of the end uses: 10 % of a demand gives way when the magnets it needs would cost more "
                          "than 1.5 CNY million per t (thrifting, delay), the rest at 15 CNY million per t (the service forgone); "
                          "La/Ce, Y and SEG uses and exports likewise at 0.05 and 0.5 CNY million per t of oxide", ""),
    "est_regional_costs": ("estimate: costs by region. Power for molten-salt electrolysis 9,000 kWh/t metal and for sintering and "
                           "finishing 8,000 kWh/t magnet (no sourced figure; ranges 8,000-11,000 and 6,000-10,000), at 0.40 CNY/kWh in "
                           "Inner Mongolia and 0.65 elsewhere in China (cru_power: 0.3 against 0.6); magnet-plant capex 52,500 CNY per "
                           "t/y in Baotou (ree_jlmag_capex) and 80,000 elsewhere in China (within the 40,000-170,000 range of "
                           "capex_magnet_plant_cn); plants outside China at western costs (plantservices_mp10x, Iluka Eneabba)", ""),
    "est_stocks": ("estimate: stocks at the start of 2021 (no 2020-21 figure found; latest: a 10,000 t state purchase in 2014): PrNd oxide "
                   "held by producers and the state 8,000 t (about 6 weeks of 2021 output, smm_prnd_supply_2021), Dy 1,500 t, Tb 300 t; "
                   "La/Ce stockpiles 100,000 t (two years of the > 50,000 t surplus, smm_lace_2021), Y and SEG 20,000 t; holding "
                   "costs 2 % of value a year (PrNd, Dy and Tb oxide: of their 2020 averages, usgs_mcs_2025); a plan hands on at least the stock it was given", ""),
    "est_lace_uses": ("estimate: La/Ce uses in China 2021 within the sourced 40,000 t total (smm_lace_2021): FCC catalysts 6,000 t, auto "
                      "catalysts 3,000 t, SCR denitration catalysts for cement and thermal power 1,000 t, polishing powder 10,000 t, glass "
                      "3,000 t, steel and RE ferrosilicon 10,000 t, NiMH and hydrogen-storage alloys 6,500 t; exports of La/Ce compounds "
                      "25,000 t of the 39,500 t of RE compounds exported (smm_trade_2021)", ""),
    "est_eol": ("estimate: end-of-life magnet scrap: 10 % of the magnets in consumer electronics collected 4 years after sale; scrap from "
                "products sold before 2021 3,000 t a year (China recycles mostly swarf: argus_recycling_capacity)", ""),
    "est_end_use_regions": ("estimate: where the end uses are: NEV assembly 1 % in Inner Mongolia and 2 % in Jiangxi (no top-tier NEV hub "
                            "there), the rest elsewhere in China; wind 13 % in Inner Mongolia (its new-energy capacity, chinadaily_im_energy); "
                            "other end uses elsewhere in China", ""),
    "est_lace_split": ("estimate: splitting mixed La/Ce carbonate into La and Ce oxide, 8,000 CNY/t (about the 2020 La/Ce oxide "
                       "price of 2 USD/kg less the carbonate's value; usgs_mcs_2025); capacity Baotou 60,000 t/y, elsewhere in China "
                       "30,000 t/y", ""),
    "est_northern_quota": ("estimate: Northern Rare Earth's share of the rock mining quota after 2021 held at its first-batch share of "
                           "2022, 67.41 % (smm_quota_h1_2022); the rest to the other groups (Sichuan, Shandong)", ""),
})
