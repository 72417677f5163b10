"""Atomic file writes, and the checks every loader runs on a zip archive before trusting it.

A crash never leaves a half-written file under the final name, and the
temporary files of writers that were killed are swept by the next write.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

# Temporary files are named ".{final name}.{writer's pid}.tmp{random}".
_TEMP_MARK = ".tmp"


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` in one step.

    If the block raises, the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep_abandoned(path)
    handle = tempfile.NamedTemporaryFile(
        mode, dir=path.parent, prefix=f".{path.name}.{os.getpid()}{_TEMP_MARK}", delete=False
    )
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o666 & ~_umask())  # temporary files are 0600; give the usual mode
        os.replace(handle.name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(handle.name)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sweep_abandoned(path: Path) -> None:
    """Remove temporary files beside ``path`` whose writer no longer runs (killed mid-save)."""
    prefix = f".{path.name}."
    for candidate in path.parent.glob(f"{glob.escape(prefix)}*{_TEMP_MARK}*"):
        pid_text = candidate.name[len(prefix) :].split(_TEMP_MARK, 1)[0]
        if pid_text.isdigit() and not _running(int(pid_text)):
            with contextlib.suppress(FileNotFoundError):
                candidate.unlink()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def check_zip(path: Path, what: str) -> zipfile.ZipFile:
    """Open ``path`` as a zip archive and verify it before anything reads it.

    Every member must be stored or deflated (no other method, no encryption)
    and match its CRC-32. The OS's own errors (missing file, no permission)
    pass through unchanged; anything else wrong raises ``ValueError`` saying
    what. Returns the open archive.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except Exception as error:  # zipfile raises many types for crafted headers: fail closed
        raise ValueError(
            f"{path} is not a readable {what} (not a zip archive): {error!r}"
        ) from None
    try:
        for member in archive.infolist():
            if member.flag_bits & 0x1:
                raise ValueError(f"{path} is not a {what}: member {member.filename!r} is encrypted")
            if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ValueError(
                    f"{path} is not a {what}: member {member.filename!r} uses zip compression "
                    f"method {member.compress_type}; only stored and deflated are read"
                )
        damaged = archive.testzip()  # reads every member in chunks and checks its CRC-32
    except ValueError:
        archive.close()
        raise
    except Exception as error:  # as above: whatever a crafted member makes zipfile raise
        archive.close()
        raise ValueError(f"{path} is a damaged {what}: {error!r}") from None
    if damaged is not None:
        archive.close()
        raise ValueError(
            f"{path} is a damaged {what}: member {damaged!r} does not match its CRC-32 checksum"
        )
    return archive
