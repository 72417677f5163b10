"""Atomic file writes, and the checks every loader runs on a zip archive before trusting it.

A crash never leaves a half-written file under the final name, and the
temporary files of writers that were killed are swept by the next write.
"""

from __future__ import annotations

import contextlib
import glob
import math
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import numpy as np

from gym_mecoffload.core.objective import Objective

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


def read_npz(
    path: str | os.PathLike, what: str, expected: Callable[[set[str]], set[str]]
) -> dict[str, np.ndarray]:
    """The arrays of a ``.npz`` written by one of our ``save`` methods, or a clear error.

    Fails closed: the OS's own ``FileNotFoundError`` / ``PermissionError``; a
    ``ValueError`` for a zip that :func:`check_zip` refuses, members other than
    ``expected(found members)``, or a ``.npy`` header that claims more than its
    member holds (checked before numpy allocates). No pickled object is read.
    """
    path = Path(path)
    if path.exists() and not path.is_file():
        raise IsADirectoryError(f"{path} is a directory, not a {what} file")
    with check_zip(path, f"{what} .npz") as archive:
        members = {_member_name(name): name for name in archive.namelist()}
        wanted = expected(set(members))
        unknown, missing = sorted(set(members) - wanted), sorted(wanted - set(members))
        if unknown or missing:
            wrong = [f"it lacks {missing}"] if missing else []
            wrong += [f"it has unexpected members {unknown}"] if unknown else []
            raise ValueError(f"{path} is not a gym_mecoffload {what}: {' and '.join(wrong)}")
        for name, member in members.items():
            _check_npy_header(path, archive, member, name)
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (FileNotFoundError, PermissionError):
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path} is a damaged {what} .npz: {error}") from None


def _member_name(filename: str) -> str:
    return filename[: -len(".npy")] if filename.endswith(".npy") else filename


def _check_npy_header(path: Path, archive: zipfile.ZipFile, member: str, name: str) -> None:
    """The member's .npy header, checked against what the member holds, before any allocation."""
    info = archive.getinfo(member)
    try:
        with archive.open(member) as handle:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
            header_bytes = handle.tell()
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as error:
        raise ValueError(f"{path}: member {name!r} is not a valid .npy array: {error}") from None
    if dtype.hasobject or dtype.kind not in "biufU":
        raise ValueError(f"{path}: member {name!r} has dtype {dtype}; numbers and strings only")
    claimed = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if header_bytes + claimed != info.file_size:
        raise ValueError(
            f"{path}: member {name!r} claims shape {shape} of {dtype} ({claimed:,} bytes) but "
            f"holds {info.file_size - header_bytes:,} bytes"
        )


def objective_members(objective: Objective) -> dict[str, np.ndarray]:
    """The two ``.npz`` members every dataset stores its objective in."""
    return {
        "objective": np.array(objective.name),
        "objective_constants": np.array(
            [objective.latency_weight, objective.kappa, objective.tx_power, objective.rx_power]
        ),
    }


def read_objective(arrays: dict[str, np.ndarray]) -> Objective:
    """The objective :func:`objective_members` stored, or a ValueError saying what is wrong."""
    constants = arrays["objective_constants"]
    if constants.shape != (4,) or constants.dtype.kind != "f":
        raise ValueError(
            "objective_constants must be 4 floats (latency_weight, kappa, tx_power, "
            f"rx_power); got dtype {constants.dtype} and shape {constants.shape}"
        )
    name = arrays["objective"]
    if name.shape != () or name.dtype.kind != "U":
        raise ValueError(
            f"objective must be a scalar of kind 'U'; got dtype {name.dtype} and shape {name.shape}"
        )
    return Objective(str(name), *constants.tolist())


def check_format_version(arrays: dict[str, np.ndarray], expected: int) -> None:
    """A ValueError unless the ``format_version`` member is the integer ``expected``."""
    version = arrays["format_version"]
    if version.shape != () or version.dtype.kind not in "iu" or version != expected:
        raise ValueError(f"format_version must be {expected}")
