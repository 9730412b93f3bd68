"""docs/cli.md is written by docs/make_cli_doc.py from docs/cli.md.in, the commands' own help
and real runs on the toy instance: these tests fail when the checked-in file is stale, and
show that the document does not depend on the machine that writes it."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "docs" / "make_cli_doc.py"
DOC = ROOT / "docs" / "cli.md"


def _make(out: Path, cwd: Path, template: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    """Run the script as a user would, from ``cwd``, with a terminal and locale of its own."""
    e = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TERM", "NO_COLOR", "FORCE_COLOR")}
    e.update(env)
    args = [sys.executable, str(SCRIPT), "--out", str(out)] + (["--template", str(template)] if template else [])
    return subprocess.run(args, cwd=cwd, env=e, capture_output=True, text=True, timeout=300)


def test_docs_cli_md_is_what_the_script_writes(tmp_path):
    # a narrow colour terminal, another locale and time zone, another working folder: none of
    # it may show in the document
    out = tmp_path / "cli.md"
    r = _make(out, tmp_path, COLUMNS="57", LINES="20", TERM="xterm-256color", FORCE_COLOR="1", TZ="Asia/Shanghai",
              LANG="de_DE.UTF-8")
    assert r.returncode == 0, r.stderr[-3000:]
    written, checked_in = out.read_text(encoding="utf-8"), DOC.read_text(encoding="utf-8")
    if written != checked_in:
        diff = "".join(list(difflib.unified_diff(checked_in.splitlines(True), written.splitlines(True),
                                                 "docs/cli.md (checked in)", "docs/cli.md (as the program writes it)"))[:60])
        raise AssertionError(f"docs/cli.md is out of date: run `python docs/make_cli_doc.py` and commit the result\n{diff}")


def test_every_command_of_the_app_is_documented_without_being_named(tmp_path):
    """A command the template does not show gets a section of its own, with its help; the
    commands table lists every command ``rechain --help`` lists."""
    template = tmp_path / "t.md.in"
    template.write_text("# x\n\n<!-- commands -->\n\n<!-- help: solve -->\n\n<!-- other commands -->\n", encoding="utf-8")
    out = tmp_path / "t.md"
    r = _make(out, tmp_path, template)
    assert r.returncode == 0, r.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    listed = subprocess.run([sys.executable, "-c", "from rechain.solvers.cli import main; main()", "--help"],
                            capture_output=True, text=True, timeout=120).stdout
    commands = [line.split()[0] for line in listed.split("Commands:")[1].splitlines() if line.strip()]
    assert len(commands) >= 11 and "sweep" in commands
    for c in commands:
        assert f"| [`rechain {c}`](#rechain-{c}) |" in text
        assert f"$ rechain {c} --help\nUsage: rechain {c} " in text
        if c != "solve":
            assert f"### `rechain {c}`" in text
    assert text.count("$ rechain solve --help") == 1


def test_a_template_that_names_no_such_command_is_refused(tmp_path):
    template = tmp_path / "t.md.in"
    template.write_text("<!-- help: solv -->\n", encoding="utf-8")
    r = _make(tmp_path / "t.md", tmp_path, template)
    assert r.returncode == 2 and "solv: no such command" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "t.md").exists()
