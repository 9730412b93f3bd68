"""The chain graph: structure, the three chain checks, and the analytics."""

import shutil

import pytest

from rechain import instances
from rechain.model import chain_graph, check_chain, downstream, intensity, load_instance, upstream
from rechain.model.graph import yield_cycles


@pytest.fixture
def toy():
    return load_instance(instances.path("toy"))


def _copy(tmp_path):
    d = tmp_path / "toy"
    shutil.copytree(instances.path("toy"), d)
    return d


def test_graph_nodes_and_edges(toy):
    g = chain_graph(toy)
    assert g.nodes["separation"]["type"] == "process" and g.nodes["separation"]["stage"] == "separation"
    assert g.nodes["ore"]["type"] == "commodity" and g.nodes["ore"]["kind"] == "raw"
    assert g.edges["ore", "separation"]["coefficient"] == 1.0  # an input: commodity -> process
    assert g.edges["separation", "lace_oxide"]["coefficient"] == 0.8  # an output: process -> commodity
    assert g.number_of_edges() == len(toy.process_io)


def test_toy_chain_is_clean(toy):
    assert check_chain(toy) == []


def test_upstream_and_downstream(toy):
    g = chain_graph(toy)
    assert {"ore", "mine", "separation", "prnd_oxide", "prnd_metal"} <= upstream(g, "magnet")
    assert "ev" not in upstream(g, "magnet")
    assert {"magnet", "ev", "swarf"} <= downstream(g, "prnd_metal")
    assert "ore" not in downstream(g, "prnd_metal")


def test_intensity_of_an_end_use(toy):
    g = chain_graph(toy)
    k = intensity(g, "ev")
    # one thousand EVs take 2 t magnet; 0.3 t metal per t magnet; 1.2 t oxide per t metal;
    # separation yields 0.2 t PrNd oxide per t ore (all ore charged to PrNd)
    assert k["magnet"] == pytest.approx(2.0)
    assert k["prnd_metal"] == pytest.approx(2.0 * 0.3)
    assert k["prnd_oxide"] == pytest.approx(2.0 * 0.3 * 1.2)
    assert k["ore"] == pytest.approx(2.0 * 0.3 * 1.2 / 0.2)
    # the recycling route is used only when named
    k2 = intensity(g, "prnd_oxide", via={"prnd_oxide": "recycling", "swarf": None})
    assert k2["swarf"] == pytest.approx(1 / 0.25)


def test_unreachable_demand_and_dead_process_are_reported(tmp_path):
    d = _copy(tmp_path)
    # nothing can make ore any more: the mine has no capacity and may not be built
    (d / "capacity.csv").write_text((d / "capacity.csv").read_text().replace("mine,north,2021,60,toy\n", ""))
    inst = load_instance(d)
    probs = check_chain(inst)
    text = "\n".join(map(str, probs))
    assert "process 'mine' can never run" in text
    assert "process 'separation' can never run" in text and "ore" in text
    # recycling cannot bootstrap the chain: swarf comes only from magnets made of mined oxide
    assert any("demand for 'lace_oxide' can never be met" in str(p) for p in probs)
    assert any("demand for 'ev' can never be met" in str(p) for p in probs)
    assert not any("process 'ev_assembly'" in str(p) and "input" not in str(p) for p in probs)
    assert all(p.severity == "warning" for p in probs)


def test_a_loop_that_creates_material_is_an_error(tmp_path):
    d = _copy(tmp_path)
    io = (d / "process_io.csv").read_text().replace("recycling,prnd_oxide,out,0.25,false,toy", "recycling,prnd_oxide,out,30,false,toy")
    (d / "process_io.csv").write_text(io)
    inst = load_instance(d)
    cycles = yield_cycles(chain_graph(inst))
    assert len(cycles) == 1
    path, prod = cycles[0]
    # prnd_oxide -> prnd_metal (1/1.2) -> swarf (0.1/0.3) -> prnd_oxide (30)
    assert prod == pytest.approx(1 / 1.2 * 0.1 / 0.3 * 30)
    errs = [p for p in check_chain(inst) if p.severity == "error"]
    assert len(errs) == 1 and "creates material" in str(errs[0]) and errs[0].file == "process_io.csv"


def test_intensity_names_an_ambiguous_or_looping_route(toy):
    g = chain_graph(toy)
    with pytest.raises(ValueError, match="loops through"):
        intensity(g, "prnd_oxide", via={"prnd_oxide": "recycling"})


def test_a_loop_below_one_is_fine(toy):
    assert yield_cycles(chain_graph(toy)) == []
