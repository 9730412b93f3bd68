"""docs/formulation.md is written from the family declarations, so it states the LP that is
built: this test fails when the file and the declarations disagree."""

from pathlib import Path

from rechain.model import mathdoc
from rechain.model.families import INDEX_TABLES, PARAMS, ROWS, VARS
from rechain.model.schema import POLICY_KINDS

DOC = Path(__file__).resolve().parents[1] / "docs" / "formulation.md"


def test_the_document_is_the_one_the_declarations_write():
    assert DOC.read_text(encoding="utf-8") == mathdoc.markdown(), (
        "docs/formulation.md is out of date: run `python -m rechain.model.mathdoc docs/formulation.md`")


def test_every_declaration_is_in_the_document():
    text = mathdoc.markdown()
    for f in ROWS:
        assert f"**{f.name}**" in text
    for f in VARS:
        assert f"\\text{{{f.name}}}_" in text
    for p in PARAMS:
        assert f"`m.{p.name}`" in text
    for t in INDEX_TABLES:
        if t.set:
            assert f"`m.{t.set}`" in text
    for k in POLICY_KINDS:
        assert f"`{k}`" in text
