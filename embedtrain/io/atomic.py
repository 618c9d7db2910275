"""Write files under a temporary name and rename them when complete.

Every output of embedtrain goes through :func:`atomic_output`, so an error or a
Ctrl-C never leaves half a file behind under the final name.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from ..errors import EmbedtrainError


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, mode: str = "wb", **kwargs) -> Iterator:
    """Open a temporary file beside ``path``; on success rename it to ``path``.

    On any exception (including KeyboardInterrupt) the temporary file is removed
    and ``path`` is left as it was.
    """
    final = Path(path)
    directory = final.parent if str(final.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise EmbedtrainError(f"cannot write {final}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise


def check_writable(path: str | os.PathLike) -> None:
    """Fail now, before any work, if ``path`` could not be written later."""
    final = Path(path)
    directory = final.parent if str(final.parent) else Path(".")
    if not directory.is_dir():
        raise EmbedtrainError(f"output directory {directory} does not exist")
    if final.is_dir():
        raise EmbedtrainError(f"output path {final} is a directory")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".probe", dir=directory)
    except OSError as exc:
        raise EmbedtrainError(f"output directory {directory} is not writable: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(tmp_name)
