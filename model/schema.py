"""The instance data contract (SPEC v1, section 1): tables, columns, types and allowed values.

One declaration serves loading, validation, writing back, and the documentation, so the
contract lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FORMAT_VERSION = 2  # the newest; an instance may say 1 or 2 (a v1 instance means the same in v2)
FORMAT_VERSIONS = (1, 2)

COMMODITY_KINDS = ("raw", "material", "product", "service", "waste")
DIRECTIONS = ("in", "out")
STAGES = ("mining", "beneficiation", "separation", "metal", "alloy", "magnet", "recycling", "end_use")

@dataclass(frozen=True)
class PolicyKind:
    """A kind of policy row: Σ of variable family ``var`` over the items its ``select`` column
    names (and the regions, and for shipments the destinations), at most (``sense`` max) or at
    least (min) the row's value. ``sums`` says what is summed, in words."""

    name: str
    sense: str
    sums: str
    var: str
    select: str
    destinations: bool = False
    share_of: bool = False  # the value is a share: Σ (select) <= / >= value × Σ over ``share_of``

    def __iter__(self):  # (sums, selector, sense), as the kinds were first stated
        return iter((self.sums, self.select, self.sense))


POLICY_KINDS = {
    k.name: k
    for k in (
        PolicyKind("max_activity", "max", "activity", "act", "processes"),
        PolicyKind("min_activity", "min", "activity", "act", "processes"),
        PolicyKind("max_capacity", "max", "capacity", "cap", "processes"),
        PolicyKind("min_capacity", "min", "capacity", "cap", "processes"),
        PolicyKind("max_new_capacity", "max", "new capacity", "new", "processes"),
        PolicyKind("max_supply", "max", "outside supply", "supply", "commodities"),
        PolicyKind("max_trade", "max", "shipments", "ship", "commodities", destinations=True),
        PolicyKind("min_trade", "min", "shipments", "ship", "commodities", destinations=True),
        PolicyKind("max_stock", "max", "stocks at the end of the year", "stock", "commodities"),
        PolicyKind("min_stock", "min", "stocks at the end of the year", "stock", "commodities"),
        PolicyKind("max_share", "max", "activity", "act", "processes", share_of=True),
        PolicyKind("min_share", "min", "activity", "act", "processes", share_of=True),
    )
}

# Texts that cannot be names: ``*`` stands for every name (a region named ``*`` would turn a
# build limit meant for it into one for every region), and the rest are what pandas (and so
# every notebook reading results) takes for a missing value, so a name among them would come
# back as NaN. Matched exactly, as pandas matches them.
RESERVED_NAMES = ("*", "NA", "N/A", "n/a", "#N/A", "#N/A N/A", "#NA", "<NA>", "nan", "NaN", "-nan", "-NaN",
                  "None", "null", "NULL", "1.#IND", "-1.#IND", "1.#QNAN", "-1.#QNAN")

# Columns any table may carry that the model ignores.
FREE_COLUMNS = ("source", "note", "notes", "comment", "comments")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # "name", "text", "int", "float", "bool", "list"
    required: bool = True  # False: the column may be absent from the file
    blank: bool = False  # True: a cell may be empty (meaning documented per column)
    min: float | None = None  # value >= min
    gt: float | None = None  # value > gt
    max: float | None = None  # value <= max
    choices: tuple[str, ...] | None = None
    doc: str = ""
    default: object = None  # the value of a blank cell (and of a column the file leaves out)
    ref: str | None = None  # the table whose key the value names (each name of a list column)
    star: bool = False  # ``*`` stands for every name of ``ref``
    horizon: str | None = None  # years: "within" the horizon, or "until" its last year (existing capacity)


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # columns that identify a row (duplicates are an error)
    doc: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name, type, **kw) -> Column:
    return Column(name, type, **kw)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "regions",
            True,
            (_c("region", "name"), _c("name", "text", blank=True)),
            key=("region",),
            doc="one row a region",
        ),
        Table(
            "commodities",
            True,
            (
                _c("commodity", "name"),
                _c("unit", "text", blank=True),
                _c("kind", "name", choices=COMMODITY_KINDS),
                _c("description", "text", blank=True),
                _c("unmet_penalty", "float", required=False, blank=True, min=0,
                   doc="money per unit of unmet demand; blank: the instance's unmet_penalty"),
                _c("disposal_cost", "float", required=False, blank=True, min=0,
                   doc="money per unit disposed; blank: the commodity cannot be disposed of"),
            ),
            key=("commodity",),
        ),
        Table(
            "processes",
            True,
            (
                _c("process", "name"),
                _c("name", "text", blank=True),
                _c("stage", "name"),
                _c("lifetime", "int", min=1, max=1000, doc="years (at most 1000: beyond, the annuity is that of a perpetuity)"),
                _c("lead_time", "int", min=0, doc="years from start of building to use"),
                _c("availability", "float", gt=0, max=1),
                _c("capex", "float", min=0, blank=True, default=0.0, doc="money per unit of annual capacity; blank: 0"),
                _c("fixed_om", "float", min=0, blank=True, default=0.0, doc="money per unit of capacity per year; blank: 0"),
                _c("variable_cost", "float", min=0, doc="money per unit of activity"),
                _c("capacity", "bool", required=False, blank=True, default=True,
                   doc="false: a process without plant (no capacity, no build); blank: true"),
                _c("unit_size", "float", required=False, blank=True, gt=0,
                   doc="new capacity comes in whole plant modules of this size (a MILP); blank: any amount"),
                _c("min_build", "float", required=False, blank=True, min=0,
                   doc="new capacity of a vintage is 0 or at least this much (a MILP; needs a finite max_new); blank: none"),
            ),
            key=("process",),
        ),
        Table(
            "process_io",
            True,
            (
                _c("process", "name", ref="processes"),
                _c("commodity", "name", ref="commodities"),
                _c("direction", "name", choices=DIRECTIONS),
                _c("coefficient", "float", gt=0, doc="units of commodity per unit of activity"),
                _c("reference", "bool", blank=True, doc="true on exactly one row per process"),
                _c("delay", "int", required=False, blank=True, min=0, max=200, default=0,
                   doc="whole years from the activity to the output's arrival (outputs only); blank: 0"),
            ),
            key=("process", "commodity", "direction", "delay"),
        ),
        Table(
            "capacity",
            False,
            (
                _c("process", "name", ref="processes"),
                _c("region", "name", ref="regions"),
                _c("year", "int", horizon="until"),
                _c("capacity", "float", min=0),
            ),
            key=("process", "region", "year"),
            doc="existing capacity (built before the horizon) available in that year",
        ),
        Table(
            "build_limits",
            False,
            (
                _c("process", "name", ref="processes"),
                _c("region", "name", doc="a region or * (every region)", ref="regions", star=True),
                _c("year", "int", blank=True, doc="blank: every year", horizon="within"),
                _c("max_new", "float", blank=True, min=0, doc="blank: unbounded"),
                _c("max_total", "float", blank=True, min=0, doc="blank: unbounded"),
            ),
        ),
        Table(
            "demand",
            False,
            (
                _c("commodity", "name", ref="commodities"),
                _c("region", "name", ref="regions"),
                _c("year", "int", horizon="within"),
                _c("quantity", "float", min=0),
            ),
            key=("commodity", "region", "year"),
        ),
        Table(
            "supply",
            False,
            (
                _c("commodity", "name", ref="commodities"),
                _c("region", "name", ref="regions"),
                _c("year", "int", blank=True, doc="blank: every year", horizon="within"),
                _c("max_quantity", "float", blank=True, min=0, doc="blank: unbounded"),
                _c("price", "float", min=0),
            ),
            key=("commodity", "region", "year"),
        ),
        Table(
            "trade",
            False,
            (
                _c("commodity", "name", ref="commodities"),
                _c("origin", "name", ref="regions"),
                _c("destination", "name", ref="regions"),
                _c("cost", "float", min=0),
                _c("max_quantity", "float", blank=True, min=0, doc="blank: unbounded per year"),
            ),
            key=("commodity", "origin", "destination"),
        ),
        Table(
            "policies",
            False,
            (
                _c("policy", "name"),
                _c("kind", "name", choices=tuple(POLICY_KINDS)),
                _c("year", "int", blank=True, doc="blank: every year", horizon="within"),
                _c("value", "float", min=0),
                _c("processes", "list", blank=True, ref="processes", star=True),
                _c("commodities", "list", blank=True, ref="commodities", star=True),
                _c("regions", "list", blank=True, doc="blank or *: every region", ref="regions", star=True),
                _c("destinations", "list", blank=True, doc="max_trade only; blank or *: every region", ref="regions", star=True),
                _c("penalty", "float", blank=True, min=0, doc="blank: hard; a number: soft at that cost"),
                _c("share_of", "list", required=False, blank=True, ref="processes", star=True,
                   doc="max_share / min_share only: the processes whose activity the share is of"),
            ),
            key=("policy", "year"),
        ),
        Table(
            "storage",
            False,
            (
                _c("commodity", "name", ref="commodities"),
                _c("region", "name", ref="regions"),
                _c("initial", "float", blank=True, min=0, default=0.0, doc="stock before the first year; blank: 0"),
                _c("max_level", "float", blank=True, min=0, doc="most that can be held; blank: unbounded"),
                _c("holding_cost", "float", blank=True, min=0, default=0.0, doc="money per unit held at the end of a year; blank: 0"),
                _c("final", "float", blank=True, min=0, doc="least stock at the end of the last year; blank: the initial stock"),
            ),
            key=("commodity", "region"),
            doc="one row per stockable (commodity, region)",
        ),
        Table(
            "demand_response",
            False,
            (
                _c("commodity", "name", ref="commodities"),
                _c("region", "name", doc="a region or * (every region)", ref="regions", star=True),
                _c("year", "int", blank=True, doc="blank: every year", horizon="within"),
                _c("step", "int", min=1, doc="the step's number (1, 2, ...)"),
                _c("share", "float", gt=0, max=1, doc="share of the demand that may go unserved in this step"),
                _c("price", "float", min=0, doc="money per unit left unserved in this step"),
            ),
            key=("commodity", "region", "year", "step"),
            doc="a stepwise demand curve",
        ),
        Table(
            "process_costs",
            False,
            (
                _c("process", "name", ref="processes"),
                _c("region", "name", doc="a region or * (every region)", ref="regions", star=True),
                _c("year", "int", blank=True, doc="blank: every year (capex: the vintage year)", horizon="within"),
                _c("capex", "float", blank=True, min=0, doc="blank: the next less specific row's"),
                _c("fixed_om", "float", blank=True, min=0, doc="blank: the next less specific row's"),
                _c("variable_cost", "float", blank=True, min=0, doc="blank: the next less specific row's"),
            ),
            key=("process", "region", "year"),
            doc="costs by region and vintage, overriding processes.csv",
        ),
    )
}

# Order in which tables are written and reported.
TABLE_ORDER = tuple(TABLES)

# Scalar settings of instance.yaml and their types.
SETTINGS = {
    "name": "text",
    "title": "text",
    "years": "mapping",
    "base_year": "int",
    "discount_rate": "float",
    "units": "mapping",
    "unmet_penalty": "float",
    "sources": "list",
    "scenarios": "mapping",
    "format_version": "int",
    "description": "text",
}
