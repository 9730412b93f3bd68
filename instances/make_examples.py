"""Write the example workbooks shipped beside the instances: ``instances/examples/toy.xlsx``,
the toy instance as one workbook (SPEC section 1), written by :meth:`Instance.to_xlsx`.

Run after changing the toy instance (a test checks the workbook is its current image)::

    python -m rechain.instances.make_examples
"""

from __future__ import annotations

from pathlib import Path

from rechain import instances
from rechain.model import load_instance

EXAMPLES = {"toy": "toy.xlsx"}  # shipped instance -> workbook in examples/


def write_examples(folder: Path | None = None) -> list[Path]:
    """Write every example workbook into ``folder`` (default: ``instances/examples``)."""
    folder = Path(folder) if folder is not None else Path(__file__).parent / "examples"
    return [load_instance(instances.path(name)).to_xlsx(folder / book, overwrite=True) for name, book in EXAMPLES.items()]


if __name__ == "__main__":
    for p in write_examples():
        print(f"written {p}")
