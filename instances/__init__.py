"""Instances shipped with rechain, as package data (one folder each)."""

from importlib.resources import files
from pathlib import Path

DEFAULT = "inner_mongolia_2021_2025"


def path(name: str = DEFAULT) -> Path:
    """Folder of the shipped instance ``name``."""
    p = Path(str(files(__name__) / name))
    if not (p / "instance.yaml").is_file():
        raise FileNotFoundError(f"no shipped instance named {name!r} (looked in {p})")
    return p


def names() -> list[str]:
    """Names of the shipped instances."""
    root = Path(str(files(__name__)))
    return sorted(d.name for d in root.iterdir() if (d / "instance.yaml").is_file())
