"""Writing a folder atomically: filled as a temporary sibling, then moved into place."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


class _Terminated(SystemExit):
    """SIGTERM received while a folder was being written."""


def _on_sigterm(signum, frame):
    raise _Terminated(128 + signum)


def atomic_write_folder(path: Path, write, overwrite: bool = True) -> None:
    """Fill a temporary sibling folder with ``write(tmp)``, then move it into place.

    An interrupted or failed write leaves ``path`` as it was and removes the temporary folder.
    SIGTERM, whose default action ends the process without any clean-up, is turned into an
    exit (status 143) for the duration, so a terminated write cleans up too.
    """
    import signal
    import threading

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists (pass overwrite=True to replace it)")
    parent = path.parent if str(path.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    previous = None
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=parent))
        try:
            write(tmp)
            if path.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=parent))
                os.replace(path, old / "x")
                try:
                    os.replace(tmp, path)
                except BaseException:
                    os.replace(old / "x", path)
                    raise
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


