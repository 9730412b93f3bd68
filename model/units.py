"""Units of what the result tables report, where a row's unit is not one commodity's.

A policy's slack and violation are in the unit of what its kind sums (docs/spec.md,
policies): a process's activity or capacity in its reference commodity's unit, outside supply,
shipments and stocks in the commodity's unit. So is its value, except for a share
(``max_share``/``min_share``), whose value is a number between 0 and 1 and whose shadow price is
per unit of that share (:func:`shadow_price_unit`). A policy over items of different units sums
unlike quantities; its unit then names them all (``mixed: a; b``) so that no chart or table puts
it beside a single unit.
"""

from __future__ import annotations

import pandas as pd

from .cells import _is_blank, expand
from .schema import POLICY_KINDS

SHARE = "share (0-1)"


def share_policies(policies: pd.DataFrame) -> set[str]:
    """The names of the policies whose value is a share (kinds ``max_share``, ``min_share``)."""
    return {p for p, k in zip(policies["policy"], policies["kind"]) if k in POLICY_KINDS and POLICY_KINDS[k].share_of}


def shadow_price_unit(money: str, unit: str, share: bool) -> str:
    """What a policy's shadow price is in: money per unit more of its value."""
    return f"{money} per {SHARE if share else (unit or 'unit of the policy')}"


def policy_units(policies: pd.DataFrame, commodity_unit: dict[str, str], process_unit: dict[str, str]) -> dict[str, str]:
    """The unit of what each policy sums (by policy name; its slack's and violation's, and its
    value's but for a share), from its kind and the items it selects.

    ``commodity_unit`` and ``process_unit`` map names to units (a process's is its reference
    commodity's). A policy named on several rows takes its first row's kind and selection
    (every row of one policy selects the same kind of items)."""
    out: dict[str, str] = {}
    for row in policies.itertuples(index=False):
        name = row.policy
        if name in out:
            continue
        kind = POLICY_KINDS.get(row.kind)
        if kind is None:
            out[name] = ""
            continue
        if kind.select == "processes":
            names, of = expand(None if _is_blank(row.processes) else row.processes, process_unit), process_unit
        else:
            names, of = expand(None if _is_blank(row.commodities) else row.commodities, commodity_unit), commodity_unit
        units = sorted({of.get(n, "") for n in names} - {""})
        out[name] = units[0] if len(units) == 1 else ("mixed: " + "; ".join(units) if units else "")
    return out
