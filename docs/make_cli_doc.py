"""Write docs/cli.md from docs/cli.md.in, the commands' own ``--help`` and real runs.

    python docs/make_cli_doc.py                # rewrite docs/cli.md
    python docs/make_cli_doc.py --out FILE     # write elsewhere (tests/test_cli_doc.py compares)

The template is markdown with these markers, each alone on its line(s):

``<!-- commands -->``
    a table of every command of the app with the first paragraph of its help;
``<!-- help -->``, ``<!-- help: NAME -->``
    the ``--help`` of ``rechain`` or of the command NAME;
``<!-- other commands -->``
    a section (heading and help) for each command whose help the template does not show,
    so a new command appears without touching the template;
``<!-- edit: FILE ROW COLUMN VALUE -->``
    set one cell of a CSV file in the working folder of the runs (ROW as the program counts:
    the header is row 1), said in a line of the document;
``<!-- run`` + command lines + ``-->``
    each line, a ``rechain`` command, is run in one working folder shared by every run of the
    document (in document order) and shown with its output (stdout and stderr as a terminal
    would interleave them) and its exit code.

The commands run in this process through typer's test runner, at a fixed width and without
colours; what varies between runs (timings, elapsed times, the version, the working folder
and where rechain is installed) is replaced by placeholders, so the same program writes the
same document on every machine.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shlex
import sys
import tempfile
from pathlib import Path

#: rich's console reads these when it is made (at import): fixed before rechain is imported
WIDTH = 100
HELP_WIDTH = 80  # click wraps help at 78 columns of an 80-column terminal (its default at most)
for _var in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "CLICOLOR_FORCE", "COLORTERM", "LINES",
             "JUPYTER_COLUMNS", "JUPYTER_LINES"):
    os.environ.pop(_var, None)
os.environ.update(COLUMNS=str(WIDTH), TERM="dumb", NO_COLOR="1", LC_ALL="C.UTF-8")

import click  # noqa: E402
import typer  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import rechain.instances as shipped  # noqa: E402
from rechain.solvers.cli import app, package_version  # noqa: E402

DOCS = Path(__file__).resolve().parent
TEMPLATE = DOCS / "cli.md.in"
TARGET = DOCS / "cli.md"

MARKER = re.compile(r"^<!--\s*(?P<kind>commands|help|other commands|edit|run)\s*(?::\s*(?P<arg>.*?))?\s*(?P<end>-->)?\s*$")


class TemplateError(Exception):
    pass


# ------------------------------------------------------------------------------------------------
# the app's commands and their help
# ------------------------------------------------------------------------------------------------

def command_group() -> click.Group:
    return typer.main.get_command(app)


def command_names() -> list[str]:
    """Every visible command of the app, in the order ``rechain --help`` lists them."""
    group = command_group()
    ctx = click.Context(group, info_name="rechain")
    return [n for n in group.list_commands(ctx) if not group.get_command(ctx, n).hidden]


def first_paragraph(name: str) -> str:
    group = command_group()
    cmd = group.get_command(click.Context(group, info_name="rechain"), name)
    return " ".join((cmd.help or "").split("\n\n")[0].split())


def help_text(name: str | None) -> str:
    args = ([name] if name else []) + ["--help"]
    r = CliRunner().invoke(app, args, terminal_width=HELP_WIDTH, color=False)
    if r.exit_code != 0:
        raise TemplateError(f"rechain {' '.join(args)} exited {r.exit_code}: {r.output}")
    return fence([f"$ rechain {' '.join(args)}", *normalise(r.output, None).splitlines()])


def commands_table() -> str:
    rows = ["| command | what it does |", "|---|---|"]
    for n in command_names():
        rows.append(f"| [`rechain {n}`](#rechain-{n}) | {first_paragraph(n).replace('|', '&#124;')} |")
    rows.append("| `rechain --version` | the installed version |")
    return "\n".join(rows)


# ------------------------------------------------------------------------------------------------
# captured runs
# ------------------------------------------------------------------------------------------------

ELAPSED = re.compile(r"\b\d+:\d\d:\d\d\b")
SECONDS = re.compile(r"(?<![\w.])\d+\.\d+ s\b")


def normalise(text: str, work: Path | None) -> str:
    """``text`` with what varies between runs replaced by placeholders; table lines keep their
    width (a placeholder is padded to the width of what it replaces)."""
    paths = []
    if work is not None:
        paths += [(str(work.resolve()), "<work>"), (str(work), "<work>")]
    inst_dir = Path(shipped.__file__).resolve().parent
    paths += [(str(inst_dir), "<rechain>/instances")]
    for p, placeholder in sorted(set(paths), key=lambda x: -len(x[0])):
        text = text.replace(p, placeholder)
    text = text.replace(f"rechain {package_version()}", "rechain <version>")
    lines = []
    for line in text.splitlines():
        in_table = any(c in line for c in "│┃")

        def sub(pattern, placeholder, s):
            return pattern.sub(lambda m: placeholder.rjust(len(m.group(0))) if in_table else placeholder, s)

        line = sub(ELAPSED, "-:--:--", line)
        line = sub(SECONDS, "<s>", line)
        lines.append(line.rstrip())
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def fence(lines: list[str]) -> str:
    return "\n".join(["```", *lines, "```"])


def run_block(command_lines: list[str], work: Path) -> str:
    shown = []
    runner = CliRunner()
    for text in command_lines:
        args = shlex.split(text, comments=True)
        if not args or args[0] != "rechain":
            raise TemplateError(f"a run is a rechain command (found {text!r})")
        here = Path.cwd()
        os.chdir(work)
        try:
            r = runner.invoke(app, args[1:], color=False, catch_exceptions=False)
        finally:
            os.chdir(here)
        shown.append(f"$ {text}")
        output = normalise(r.output, work)
        if output:
            shown.append(output)
        shown.append(f"[exit {r.exit_code}]")
    return fence(shown)


def edit_cell(spec: str, work: Path) -> str:
    parts = shlex.split(spec)
    if len(parts) != 4 or not parts[1].isdigit():
        raise TemplateError(f"edit: expected FILE ROW COLUMN VALUE (found {spec!r})")
    name, row, column, value = parts[0], int(parts[1]), parts[2], parts[3]
    path = work / name
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if column not in rows[0] or not 2 <= row <= len(rows):
        raise TemplateError(f"edit: {name} has no row {row} with a column {column!r}")
    rows[row - 1][rows[0].index(column)] = value
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return f"- edited by hand: `{name}`, row {row}, column `{column}` set to `{value}`"


# ------------------------------------------------------------------------------------------------
# the document
# ------------------------------------------------------------------------------------------------

def render(template: str, work: Path) -> str:
    lines = template.splitlines()
    names = command_names()
    shown = {m.group("arg") for line in lines if (m := MARKER.match(line)) and m.group("kind") == "help" and m.group("arg")}
    unknown = shown - set(names)
    if unknown:
        raise TemplateError(f"{TEMPLATE.name} shows the help of {', '.join(sorted(unknown))}: no such command "
                            f"(commands: {', '.join(names)})")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        kind, arg = m.group("kind"), m.group("arg")
        if kind == "run":
            if m.group("end"):
                raise TemplateError(f"{TEMPLATE.name}, line {i + 1}: a run lists its commands on the lines after '<!-- run'")
            block, i = [], i + 1
            while i < len(lines) and lines[i].strip() != "-->":
                if lines[i].strip():
                    block.append(lines[i].strip())
                i += 1
            if i == len(lines):
                raise TemplateError(f"{TEMPLATE.name}: a run is not closed with '-->'")
            out.append(run_block(block, work))
        elif not m.group("end"):
            raise TemplateError(f"{TEMPLATE.name}, line {i + 1}: the marker is not closed with '-->' on its line")
        elif kind == "commands":
            out.append(commands_table())
        elif kind == "help":
            out.append(help_text(arg or None))
        elif kind == "edit":
            out.append(edit_cell(arg or "", work))
        elif kind == "other commands":
            for n in names:
                if n not in shown:
                    out += [f"### `rechain {n}`", "", help_text(n), ""]
            if out and out[-1] == "":
                out.pop()
        i += 1
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=TARGET, help=f"where to write (default: {TARGET})")
    ap.add_argument("--template", type=Path, default=TEMPLATE, help=f"the template (default: {TEMPLATE})")
    a = ap.parse_args(argv)
    template = a.template.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="rechain-cli-doc-") as tmp:
        try:
            text = render(template, Path(tmp))
        except TemplateError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    a.out.write_text(text, encoding="utf-8")
    print("wrote", a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
