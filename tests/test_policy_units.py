"""The unit of a policy's value (and so of its slack, and of its shadow price per unit): what its
kind sums, in the unit of the items it selects."""

import pandas as pd

from rechain.model.units import policy_units, shadow_price_unit, share_policies

COMMODITY = {"ore": "t REO", "oxide": "t", "ev": "thousand vehicles"}
PROCESS = {"mine": "t REO", "separation": "t REO", "assembly": "thousand vehicles"}


def units_of(*rows):
    cols = ["policy", "kind", "processes", "commodities"]
    return policy_units(pd.DataFrame([dict(zip(cols, r)) for r in rows]), COMMODITY, PROCESS)


def test_each_kind_takes_the_unit_of_what_it_sums():
    got = units_of(("quota", "max_activity", "mine;separation", None), ("target", "min_capacity", "assembly", None),
                   ("imports", "max_supply", None, "oxide"), ("lane", "min_trade", None, "ore"),
                   ("reserve", "min_stock", None, "oxide"), ("local", "min_share", "separation", None),
                   ("cap", "max_share", "mine", None), ("new", "max_new_capacity", "mine", None))
    # a share policy sums activity too (its slack is activity); only its value is a share
    assert got == {"quota": "t REO", "target": "thousand vehicles", "imports": "t", "lane": "t REO", "reserve": "t",
                   "local": "t REO", "cap": "t REO", "new": "t REO"}


def test_a_share_policys_shadow_price_is_per_unit_of_share():
    pol = pd.DataFrame({"policy": ["quota", "local"], "kind": ["max_activity", "min_share"]})
    assert share_policies(pol) == {"local"}
    assert shadow_price_unit("CNY million", "t REO", share=False) == "CNY million per t REO"
    assert shadow_price_unit("CNY million", "t REO", share=True) == "CNY million per share (0-1)"


def test_unlike_items_are_named_as_mixed_and_blank_selects_every_item():
    got = units_of(("all", "max_activity", None, None), ("both", "max_activity", "mine;assembly", None),
                   ("star", "max_supply", None, "*"))
    assert got["all"] == "mixed: t REO; thousand vehicles"
    assert got["both"] == "mixed: t REO; thousand vehicles"
    assert got["star"] == "mixed: t; t REO; thousand vehicles"


def test_a_policy_on_several_rows_has_one_unit_and_an_unknown_name_none():
    got = units_of(("quota", "max_activity", "mine", None), ("quota", "max_activity", "mine", None),
                   ("ghost", "max_activity", "nowhere", None))
    assert got == {"quota": "t REO", "ghost": ""}
