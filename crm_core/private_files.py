"""Files and folders that only their owner can read, private from the first byte.

Everything tongxin writes that holds personal data (the SQLite database and, through
it, its WAL and SHM files; backups and their manifests; PostgreSQL dumps; `person
export` files; exports of people, interactions and vCards; reports; import error
sheets; calendar files) is created with mode 0600, and every folder it creates for
them with 0700, whatever the process's umask (a umask can only take bits away, so
0600 stays 0600 even under a hostile umask of 0o000).

A file is never created readable and narrowed afterwards (between the two anyone
could open it and keep the descriptor): it is created 0600 with ``O_CREAT|O_EXCL``,
written under a temporary name beside the target, and renamed over the target only
once complete, so a reader sees the old file or the whole new one, never half of it.
A file that already exists and is not a regular file (``/dev/stdout``, a named pipe)
is written in place: tongxin did not create it and does not own its mode.

Existing folders and files keep their mode: an office that deliberately shares a
folder or a SQLite file with a group decided so itself (see docs/security.md).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
DIR_MODE = 0o700


def make_private_dirs(folder: Path | str) -> Path:
    """Create ``folder`` and any missing parents, each new one with mode 0700 (``mkdir
    -p`` would give the parents the umask's mode). Folders that exist are left as they
    are. Returns the folder."""
    folder = Path(folder).expanduser()
    missing: list[Path] = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made at this moment by another
            os.mkdir(path, DIR_MODE)
    return folder


def create_private_file(path: Path | str) -> bool:
    """Create the empty file ``path`` with mode 0600 if it does not exist (never
    following a symbolic link planted in its place). Returns whether it was created."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def _is_special(path: Path) -> bool:
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return False


@contextmanager
def private_path(path: Path | str) -> Iterator[Path]:
    """A new empty file (mode 0600) beside ``path`` for a writer that wants a file name
    (openpyxl's ``save``, python-docx, ``pg_dump --file``): it reopens the file, which
    keeps its mode. When the block ends without an error the file replaces ``path``;
    on an error it is removed and ``path`` is untouched. Folders are made as by
    :func:`make_private_dirs`."""
    target = Path(path).expanduser()
    if _is_special(target):
        yield target
        return
    make_private_dirs(target.parent)
    # mkstemp creates with O_EXCL and mode 0600 (whatever the umask).
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def private_open(path: Path | str, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """``open(path, mode, **kwargs)`` for writing (``"w"`` or ``"wb"``), but the file is
    private (0600) from its creation and appears whole at ``path`` when the block ends
    without an error (see :func:`private_path`)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"private_open writes whole files: mode 'w' or 'wb', not {mode!r}")
    with private_path(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


def write_private_text(path: Path | str, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` as a private file (see :func:`private_open`)."""
    with private_open(path, "w", encoding=encoding) as fh:
        fh.write(text)
    return Path(path)


def write_private_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` as a private file (see :func:`private_open`)."""
    with private_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)
