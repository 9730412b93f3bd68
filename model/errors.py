"""Problems found in an instance, reported to people: file, row, column, value, expectation."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an instance.

    ``row`` is the line number in the file as a spreadsheet or editor shows it (the header is
    line 1, so the first data row is line 2); ``None`` when the problem is not tied to a row.
    """

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: object = None
    severity: str = "error"  # "error" blocks solving; "warning" is reported only

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        found = ""
        if self.value is not None and self.value != "":
            found = f" (found {self.value!r})"
        tag = "" if self.severity == "error" else f"{self.severity}: "
        return f"{where}: {tag}{self.message}{found}"


def did_you_mean(name: object, known: Iterable[object], prefix: str = "") -> str:
    """`` (did you mean 'x'?)`` naming the known names closest to ``name`` (up to three, by
    :func:`difflib.get_close_matches`), each written after ``prefix`` (``commodity=``), or
    ``""`` when none is close."""
    close = difflib.get_close_matches(str(name), sorted({str(k) for k in known}), n=3, cutoff=0.65)
    if not close:
        return ""
    return " (did you mean " + " or ".join(f"'{prefix}{c}'" for c in close) + "?)"


class InstanceError(ValueError):
    """An instance that cannot be used, with every problem found (not only the first)."""

    def __init__(self, problems: list[Problem] | Problem | str, file: str = "instance"):
        if isinstance(problems, str):
            problems = [Problem(file, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the instance:"
        super().__init__("\n".join([head] + [f"  - {p}" for p in self.problems]))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


class RebuildRequired(Exception):
    """A built model cannot take a changed instance in place (other rows, columns or
    non-zeros, or a change the parameter map does not cover): build a new model for it.

    Not an :class:`InstanceError`: the instance is valid, only the model built before is not
    its model."""
