"""Write files under a temporary name and rename them when complete.

Every output of embedtrain goes through :func:`atomic_output`, so an error, a
Ctrl-C or a SIGTERM never leaves half a file behind under the final name; files
that belong together (``PREFIX.vec`` and ``PREFIX.etm``, ``OUT.npy`` and
``OUT.vocab.txt``) are written inside one :func:`atomic_group` and appear
together or not at all.

Temporary files are named ``.NAME.PID.XXXXXXXX.tmp`` and hold an ``flock`` for as
long as their writer lives. A writer killed with SIGKILL leaves its temporary file
behind; the next writer of the same NAME in that directory removes it, but only
when its PID is no longer running *and* nobody holds its lock, so a live run's
file (even one in another PID namespace) is never touched.

Outputs get the permissions a plain ``open`` would give (0666 minus the umask)
and are fsynced before the rename, so a crash of the machine cannot leave an
empty or partial file under the final name.
"""
from __future__ import annotations

import contextlib
import contextvars
import errno
import fcntl
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Iterator

from ..errors import EmbedtrainError

TMP_SUFFIX = ".tmp"
PROBE_SUFFIX = ".probe"
# Permissions of a new file before the umask (what open(path, "w") asks for).
NEW_FILE_MODE = 0o666
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)

# The group being written, if any: atomic_output hands its finished file to it
# instead of renaming it at once.
_GROUP: contextvars.ContextVar["_Group | None"] = contextvars.ContextVar("embedtrain_atomic_group",
                                                                        default=None)


# ---------------------------------------------------------------------- helpers
def current_umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: the classic set-and-restore
    os.umask(mask)
    return mask


def describe_os_error(exc: OSError) -> str:
    """A short reason for an OSError, the same wording for every write path."""
    if exc.errno in (errno.ENOSPC, errno.EFBIG):
        return "no space left on the device"
    if exc.errno == errno.EDQUOT:
        return "disk quota exceeded"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    if exc.errno is None and "requested and" in str(exc):  # numpy's tofile on a short write
        return f"no space left on the device? (a short write: {exc})"
    return exc.strerror or str(exc)


def is_disk_full(exc: OSError) -> bool:
    return exc.errno in _NO_SPACE


def process_alive(pid: int) -> bool:
    """True when ``pid`` names a running process (or one we may not signal)."""
    if pid <= 0:
        return True  # not a pid we wrote: never treat it as dead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def take_lock_if_free(path: str | os.PathLike) -> int | None:
    """Open ``path`` and take its flock without waiting: the fd, or None when the
    lock is held (its owner lives) or the path is not a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return None
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _tmp_pattern(name: str, suffix: str) -> re.Pattern:
    return re.compile(re.escape(f".{name}.") + r"(\d+)\.[A-Za-z0-9_]+" + re.escape(suffix) + "$")


def sweep_stale(directory: str | os.PathLike, name: str) -> list[Path]:
    """Remove temporary files of ``name`` left in ``directory`` by killed embedtrain runs.

    A file is removed only when the PID in its name is not running and its lock is
    free (a live writer holds it). Returns the paths removed.
    """
    removed: list[Path] = []
    patterns = (_tmp_pattern(name, TMP_SUFFIX), _tmp_pattern(name, PROBE_SUFFIX))
    try:
        entries = os.listdir(directory)
    except OSError:
        return removed
    for entry in entries:
        match = next((m for m in (p.match(entry) for p in patterns) if m), None)
        if match is None or process_alive(int(match.group(1))):
            continue
        path = Path(directory) / entry
        fd = take_lock_if_free(path)
        if fd is None:
            continue
        try:
            # Unlink only the file we locked (not one created under the name since).
            if os.path.samestat(os.fstat(fd), os.lstat(path)):
                os.unlink(path)
                removed.append(path)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def _new_temp(final: Path, suffix: str) -> tuple[int, str]:
    directory = final.parent if str(final.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.{os.getpid()}.", suffix=suffix,
                                    dir=directory)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        pass  # a file system without flock: the PID in the name still protects it
    return fd, tmp_name


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _open_temp(fd: int, mode: str, final: Path, **kwargs):
    """The file object written to (the tests replace it to simulate a full disk)."""
    return os.fdopen(fd, mode, **kwargs)


class _Pending:
    """A finished temporary file waiting for its rename; ``lock_fd`` keeps its flock."""

    def __init__(self, tmp_name: str, final: Path, lock_fd: int):
        self.tmp_name, self.final, self.lock_fd = tmp_name, final, lock_fd

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.tmp_name)
        self.release()

    def release(self) -> None:
        if self.lock_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.lock_fd)
            self.lock_fd = -1


def _rename_all(pending: list[_Pending]) -> None:
    """Rename every pending file into place while holding an flock on each directory,
    so two runs finishing together cannot interleave their renames."""
    directories = sorted({p.final.parent if str(p.final.parent) else Path(".") for p in pending},
                         key=lambda d: str(d.resolve()))
    dir_fds = []
    done: list[_Pending] = []
    try:
        for d in directories:
            with contextlib.suppress(OSError):
                fd = os.open(d, os.O_RDONLY)
                dir_fds.append(fd)
                with contextlib.suppress(OSError):
                    fcntl.flock(fd, fcntl.LOCK_EX)
        for p in pending:
            try:
                os.replace(p.tmp_name, p.final)
            except OSError as exc:
                for q in done:  # the group appears whole or not at all
                    with contextlib.suppress(OSError):
                        os.unlink(q.final)
                raise EmbedtrainError(f"cannot write {p.final}: {describe_os_error(exc)}") from None
            done.append(p)
        for d in directories:
            _fsync_directory(d)
    finally:
        for fd in dir_fds:
            os.close(fd)
        for p in pending:
            if p not in done:
                p.discard()
            p.release()


class _Group:
    def __init__(self):
        self.pending: list[_Pending] = []


@contextlib.contextmanager
def atomic_group() -> Iterator[None]:
    """Files written with :func:`atomic_output` inside this block are renamed into
    place together at its end, or all removed if the block fails."""
    if _GROUP.get() is not None:  # nested: the outer group decides
        yield
        return
    group = _Group()
    token = _GROUP.set(group)
    try:
        yield
    except BaseException:
        for p in group.pending:
            p.discard()
        raise
    finally:
        _GROUP.reset(token)
    _rename_all(group.pending)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, mode: str = "wb", **kwargs) -> Iterator:
    """Open a temporary file beside ``path``; on success rename it to ``path``.

    On any exception (including KeyboardInterrupt) the temporary file is removed
    and ``path`` is left as it was. An OSError while writing (a full disk, an
    unwritable directory) becomes a one-line EmbedtrainError naming ``path``.
    """
    final = Path(path)
    directory = final.parent if str(final.parent) else Path(".")
    sweep_stale(directory, final.name)
    try:
        fd, tmp_name = _new_temp(final, TMP_SUFFIX)
    except OSError as exc:
        raise EmbedtrainError(f"cannot write {final}: {describe_os_error(exc)}") from None
    lock_fd = os.dup(fd)  # keeps the flock until the rename (a group may wait)
    pending = _Pending(tmp_name, final, lock_fd)
    try:
        os.fchmod(fd, NEW_FILE_MODE & ~current_umask())
        with _open_temp(fd, mode, final, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        pending.discard()
        raise EmbedtrainError(f"cannot write {final}: {describe_os_error(exc)}") from None
    except BaseException:
        pending.discard()
        raise
    group = _GROUP.get()
    if group is not None:
        group.pending.append(pending)
    else:
        _rename_all([pending])


def check_writable(path: str | os.PathLike) -> None:
    """Fail now, before any work, if ``path`` could not be written later."""
    final = Path(path)
    directory = final.parent if str(final.parent) else Path(".")
    if not directory.is_dir():
        raise EmbedtrainError(f"output directory {directory} does not exist")
    if final.is_dir():
        raise EmbedtrainError(f"output path {final} is a directory")
    sweep_stale(directory, final.name)
    try:
        fd, tmp_name = _new_temp(final, PROBE_SUFFIX)
    except OSError as exc:
        raise EmbedtrainError(f"output directory {directory} is not writable: "
                              f"{describe_os_error(exc)}") from None
    os.close(fd)
    os.unlink(tmp_name)
