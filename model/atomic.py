"""Writing a folder atomically: filled as a temporary sibling, then moved into place.

Writers to the folders of one parent take turns (an ``flock`` on the parent, held while one
writes): a second writer to ``X`` sees the first one's folder and, unless it may overwrite
it, stops with :class:`OutputRefused` instead of replacing it. Beside ``X`` the writer uses
two hidden siblings:

- ``.X.tmp-*``: the new folder while it is being filled;
- ``.X.old-*``: the previous folder for the instant between the two renames that swap the
  new folder in.

A process killed (SIGKILL, power loss) can leave them behind. The next write to ``X``
repairs that before anything else, and says so (a warning of the ``rechain`` logger): a
previous folder caught between the renames (``X`` is missing) is moved back to ``X``; a
temporary folder, or a previous folder already replaced, is removed. :func:`recover` does the
same on its own.
"""

from __future__ import annotations

import contextlib
import errno as errno_
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Callable, Optional

log = logging.getLogger("rechain")


class _Terminated(SystemExit):
    """SIGTERM received while a folder was being written."""


def _on_sigterm(signum, frame):
    raise _Terminated(128 + signum)


class OutputRefused(FileExistsError):
    """An output path that is not written: it exists, or replacing it would destroy something
    that is not a previous output (``fixable`` is true when overwriting would be allowed)."""

    def __init__(self, path, why: str, fixable: bool = False, replaced: bool = True):
        self.path, self.why, self.fixable, self.replaced = Path(path), why, fixable, replaced
        super().__init__(errno_.EEXIST, self.message())

    def message(self, flag: str = "overwrite=True") -> str:
        """The message, naming ``flag`` as the way to replace the output (``--force`` on the command line)."""
        if self.fixable:
            return f"{self.path} {self.why}: pass {flag} to replace it"
        never = f"; it is never replaced (with {flag} or not)" if self.replaced else ""
        return f"{self.path} {self.why}{never}: choose another folder"

    def __str__(self) -> str:
        return self.message()


class OutputError(OSError):
    """The operating system refused a write of an output folder (disk full, no permission,
    read-only file system...): the message names the folder; ``errno`` is the system's."""

    def __init__(self, code, path: Path, reason: str):
        self.path, self.reason = Path(path), reason
        super().__init__(code, f"cannot write {path}: {reason}")

    def __str__(self) -> str:
        return str(self.strerror)


#: errors of the system that say the output cannot be written there (others pass unchanged)
_WRITE_ERRNOS = {errno_.ENOSPC, errno_.EDQUOT, errno_.EACCES, errno_.EPERM, errno_.EROFS, errno_.EIO, errno_.EFBIG,
                 errno_.ENAMETOOLONG, errno_.ENOTDIR}


def blocking_parent(p: Path) -> Path | None:
    """For a path that does not exist: its nearest existing ancestor if that is not a folder
    (so ``p`` cannot be made), else None."""
    up = next((a for a in p.parents if os.path.lexists(a)), None)
    return up if up is not None and not up.is_dir() else None


@contextlib.contextmanager
def _naming(path: Path):
    """Raise an error of the system that stops a write as :class:`OutputError` naming ``path``."""
    try:
        yield
    except OutputRefused:
        raise
    except OutputError as e:
        if e.path == path:
            raise
        # a folder written inside this one's temporary folder (e.g. a results folder's instance/)
        raise OutputError(e.errno, path, e.reason) from e
    except OSError as e:
        if e.errno not in _WRITE_ERRNOS:
            raise
        where = f" ({e.filename})" if e.filename and str(e.filename) != str(path) else ""
        raise OutputError(e.errno, path, f"{e.strerror or e}{where}") from e


def check_output(path, overwrite: bool, replaceable: Optional[Callable[[Path], Optional[str]]] = None,
                 protect: tuple = ()) -> None:
    """Raise :class:`OutputRefused` if a folder may not be written at ``path``.

    Never written: the current directory or a folder containing it; a path equal to,
    containing or inside a protected path (``protect`` holds ``(path, label)`` pairs, e.g. the
    instance being solved, or ``(path, label, True)`` where a folder inside the path may be
    written); an existing path that is not a folder, or a path under a file. An existing
    non-empty folder is replaced only with ``overwrite`` and only if ``replaceable(path)``
    returns None (else it returns why the folder is not an output to replace, e.g. ``"is not
    a results folder"``).
    """
    p = Path(os.path.abspath(path))
    real = p.resolve()
    cwd = Path.cwd().resolve()
    if real == cwd or real in cwd.parents:
        raise OutputRefused(path, "is the current directory" if real == cwd else "contains the current directory")
    for q, label, *inside_ok in protect:
        q = Path(q).resolve()
        if real == q:
            raise OutputRefused(path, f"is {label}")
        if real in q.parents:
            raise OutputRefused(path, f"contains {label} ({q})")
        if q in real.parents and not (inside_ok and inside_ok[0]):
            raise OutputRefused(path, f"is inside {label} ({q})")
    if not os.path.lexists(p):
        if (up := blocking_parent(p)) is not None:
            raise OutputRefused(path, f"cannot be made: {up} is not a folder", replaced=False)
        return
    if p.is_symlink() or not p.is_dir():
        raise OutputRefused(path, "exists and is not a folder")
    if not any(p.iterdir()):
        if not overwrite:
            raise OutputRefused(path, "exists (an empty folder)", fixable=True)
        return
    if replaceable is not None:
        why = replaceable(p)
        if why:
            raise OutputRefused(path, f"exists and {why}")
    if not overwrite:
        raise OutputRefused(path, "exists", fixable=True)


def leftover_folders(path: Path, kind: str) -> list[Path]:
    """The hidden ``.<name>.<kind>-*`` folders (``kind`` tmp or old) beside ``path``, oldest first."""
    parent = path.parent
    prefix = f".{path.name}.{kind}-"
    try:
        return sorted((p for p in parent.iterdir() if p.name.startswith(prefix) and p.is_dir() and not p.is_symlink()),
                      key=lambda p: p.stat().st_mtime)
    except FileNotFoundError:
        return []


def recover(path) -> list[str]:
    """Repair what a killed write to ``path`` left behind; returns what was done (one line
    each). Call with the folder's lock held (:func:`atomic_write_folder` does)."""
    path = Path(path)
    done = []
    olds = [o for o in leftover_folders(path, "old") if (o / "x").exists()]
    if olds and not os.path.lexists(path):
        newest = olds.pop()
        os.replace(newest / "x", path)
        done.append(f"{path}: restored the previous folder left in {newest.name} by an interrupted write")
        shutil.rmtree(newest, ignore_errors=True)
    for o in leftover_folders(path, "old"):
        shutil.rmtree(o, ignore_errors=True)
        done.append(f"{path}: removed {o.name}, left by an interrupted write")
    for t in leftover_folders(path, "tmp"):
        shutil.rmtree(t, ignore_errors=True)
        done.append(f"{path}: removed {t.name}, a partial folder left by an interrupted write")
    return done


_held = threading.local()  # the parent folders whose lock this thread holds


@contextlib.contextmanager
def folder_lock(path):
    """Hold the lock of writing folder ``path``: an exclusive ``flock`` on the folder that
    holds it, so writers there take turns (a second one waits until the first is done). A
    lock on the parent folder leaves no file behind, even when its holder is killed. A thread
    that holds the lock already (a write inside a write to the same folder) goes on. Without
    ``fcntl`` (Windows) there is no lock: the check before the write still stops a second
    writer that comes after the first one's folder is in place."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - POSIX has fcntl
        yield
        return

    parent = os.path.realpath(Path(path).parent if str(Path(path).parent) else ".")
    held = _held.__dict__.setdefault("parents", set())
    if parent in held:
        yield
        return
    fd = os.open(parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        held.add(parent)
        try:
            yield
        finally:
            held.discard(parent)
    finally:
        os.close(fd)


def atomic_write_folder(path: Path, write, overwrite: bool = True,
                        replaceable: Optional[Callable[[Path], Optional[str]]] = None) -> None:
    """Fill a temporary sibling folder with ``write(tmp)``, then move it into place.

    An interrupted or failed write leaves ``path`` as it was and removes the temporary folder.
    SIGTERM, whose default action ends the process without any clean-up, is turned into an
    exit (status 143) for the duration, so a terminated write cleans up too. Writers to one
    ``path`` take turns (:func:`folder_lock`); whether ``path`` may be replaced is decided with
    the lock held (:func:`check_output`; ``replaceable`` as there), so of two writers without
    ``overwrite`` the second fails with :class:`OutputRefused` instead of replacing the
    first one's folder. Leftovers of a killed earlier write are repaired first
    (:func:`recover`). An error of the operating system is raised as :class:`OutputError`
    naming ``path``, with the system's ``errno``.
    """
    import signal

    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    previous = None
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        with _naming(path):
            parent.mkdir(parents=True, exist_ok=True)
            with folder_lock(path):
                for line in recover(path):
                    log.warning(line)
                check_output(path, overwrite, replaceable)
                tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=parent))
                try:
                    write(tmp)
                    if os.path.lexists(path):
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
