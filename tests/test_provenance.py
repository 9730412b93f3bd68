"""Every number of a shipped instance names where it came from.

A number row is a row of capacity, build_limits, demand, supply, trade, policies, processes,
process_io, storage, demand_response or process_costs, or a row of commodities that carries an unmet_penalty or a disposal_cost. Each must
carry a `source` naming an id listed under `sources:` in instance.yaml, each source must have a
title, and an estimate must say so in its title.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from rechain import instances

NUMBER_TABLES = ("capacity", "build_limits", "demand", "supply", "trade", "policies", "processes", "process_io", "storage",
                 "demand_response", "process_costs")
CALIBRATED = ("inner_mongolia_2021_2025", "china_2020_2035")


def provenance_problems(folder: Path) -> list[str]:
    """Problems with the provenance of the instance in ``folder``, one string each (empty: all sourced)."""
    problems: list[str] = []
    settings = yaml.safe_load((folder / "instance.yaml").read_text())
    sources = settings.get("sources") or []
    ids: dict[str, dict] = {}
    for i, s in enumerate(sources):
        sid = str(s.get("id", "") or "").strip()
        if not sid:
            problems.append(f"instance.yaml: sources[{i}] has no id")
            continue
        if sid in ids:
            problems.append(f"instance.yaml: source id {sid!r} listed twice")
        ids[sid] = s
        if not str(s.get("title", "") or "").strip():
            problems.append(f"instance.yaml: source {sid!r} has no title")
        if "url" not in s:
            problems.append(f"instance.yaml: source {sid!r} has no url key (write url: \"\" for print references)")
        if sid.startswith("est") and "estimate" not in str(s.get("title", "")).lower():
            problems.append(f"instance.yaml: source {sid!r} is an estimate but its title does not say 'estimate'")

    def check(table: str, df: pd.DataFrame) -> None:
        if df.empty:
            return
        if "source" not in df.columns:
            problems.append(f"{table}.csv: no source column")
            return
        for n, value in df["source"].items():
            line = int(n) + 2  # header is line 1
            text = "" if pd.isna(value) else str(value).strip()
            if not text:
                problems.append(f"{table}.csv line {line}: no source")
            elif text not in ids:
                problems.append(f"{table}.csv line {line}: source {text!r} is not listed in instance.yaml")

    for table in NUMBER_TABLES:
        f = folder / f"{table}.csv"
        if f.is_file():
            check(table, pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""]))
    f = folder / "commodities.csv"
    df = pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""])
    priced = pd.Series(False, index=df.index)
    for col in ("unmet_penalty", "disposal_cost"):
        if col in df.columns:
            priced |= df[col].notna()
    check("commodities", df[priced])
    return problems


@pytest.mark.parametrize("name", instances.names())
def test_every_number_row_of_a_shipped_instance_has_a_valid_source(name):
    problems = provenance_problems(instances.path(name))
    assert not problems, f"{name}: " + "; ".join(problems[:20])


@pytest.mark.parametrize("name", CALIBRATED)
def test_calibrated_instances_are_shipped_and_carry_a_sources_table(name):
    folder = instances.path(name)
    assert name in instances.names()
    text = (folder / "SOURCES.md").read_text()
    settings = yaml.safe_load((folder / "instance.yaml").read_text())
    # every source listed in instance.yaml appears in the SOURCES.md table
    missing = [s["id"] for s in settings["sources"] if f"`{s['id']}`" not in text]
    assert not missing, f"{name}/SOURCES.md does not list {missing}"


def undeclared_ids(folder: Path) -> set[str]:
    """Source ids that SOURCES.md cites (backticked) but instance.yaml does not declare. A backticked
    token is taken for an id unless it names a column, commodity, process, region, policy or
    scenario of the instance (those are backticked too)."""
    settings = yaml.safe_load((folder / "instance.yaml").read_text())
    declared = {s["id"] for s in settings["sources"]}
    names = {folder.name, str(settings.get("name", ""))} | set(settings.get("scenarios") or {})
    for f in folder.glob("*.csv"):
        df = pd.read_csv(f, dtype=str)
        names |= set(df.columns)
        if f.stem in ("commodities", "processes", "regions", "policies"):
            names |= set(df.iloc[:, 0])
    cited = set(re.findall(r"`([a-z][a-z0-9]*_[a-z0-9_]+)`", (folder / "SOURCES.md").read_text()))
    return cited - names - declared


@pytest.mark.parametrize("name", CALIBRATED)
def test_every_id_cited_in_sources_md_is_declared_in_instance_yaml(name):
    missing = undeclared_ids(instances.path(name))
    assert not missing, f"{name}/SOURCES.md cites undeclared ids {sorted(missing)}"


def test_the_sources_md_check_catches_an_undeclared_id(tmp_path):
    dst = tmp_path / "broken"
    shutil.copytree(instances.path("inner_mongolia_2021_2025"), dst)
    with open(dst / "SOURCES.md", "a") as f:
        f.write("\n| PrNd from stock | 30,000 t | `est_prnd_stock` |\n")
    assert undeclared_ids(dst) == {"est_prnd_stock"}


@pytest.mark.parametrize(
    "table,column",
    [("demand", "source"), ("process_io", "source"), ("policies", "source")],
)
def test_the_provenance_check_catches_a_missing_or_unknown_source(tmp_path, table, column):
    """The check above would fail on a broken copy of the default instance."""
    src = instances.path("inner_mongolia_2021_2025")
    dst = tmp_path / "broken"
    shutil.copytree(src, dst)
    df = pd.read_csv(dst / f"{table}.csv", dtype=str, keep_default_na=False)
    df.loc[0, column] = ""
    df.loc[1, column] = "no_such_source"
    df.to_csv(dst / f"{table}.csv", index=False)
    problems = provenance_problems(dst)
    assert any(f"{table}.csv line 2: no source" in p for p in problems)
    assert any(f"{table}.csv line 3: source 'no_such_source'" in p for p in problems)


def test_the_provenance_check_catches_an_unmarked_estimate(tmp_path):
    src = instances.path("inner_mongolia_2021_2025")
    dst = tmp_path / "broken"
    shutil.copytree(src, dst)
    settings = yaml.safe_load((dst / "instance.yaml").read_text())
    for s in settings["sources"]:
        if s["id"].startswith("est"):
            s["title"] = "capacity by region"
            break
    (dst / "instance.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    assert any("does not say 'estimate'" in p for p in provenance_problems(dst))
