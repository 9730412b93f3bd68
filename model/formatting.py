"""Numbers for people, written one way everywhere (terminal tables, explanations, reports)."""

from __future__ import annotations

import math


def fmt(x, digits: int = 4) -> str:
    """``x`` with thousands separators from 1,000 up (no decimals), ``digits`` significant
    figures below (trailing zeros dropped); ``-`` for a missing number, ``+inf``/``-inf``."""
    if x is None:
        return "-"
    x = float(x)
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return "+inf" if x > 0 else "-inf"
    if x == 0:
        return "0"
    ax = abs(x)
    if ax >= 1000:
        return f"{x:,.0f}"
    if ax >= 1:
        return f"{x:,.{max(0, digits - len(str(int(ax))))}f}".rstrip("0").rstrip(".")
    return f"{x:.{digits}g}"
