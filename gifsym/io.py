"""Files: atomic output (a temporary file in the destination folder, then ``os.replace``) and JSON input.

An interrupted run never leaves a half-written file: either the old file (or none) or the new one.

Example:
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "out.txt")
    >>> write_atomic(p, "hello")
    >>> open(p).read()
    'hello'
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

from gifsym.errors import GifsymError

#: Set when the user interrupts (Ctrl-C, see :func:`gifsym.cli.main`): from then on no output file is
#: published, even if the interrupt was swallowed by a library on its way up.
INTERRUPTED = threading.Event()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path next to ``path``; rename it over ``path`` when the block succeeds.

    Use it for writers that want a file name (matplotlib's ``savefig``, ``numpy.savez``, Graphviz). The
    temporary name keeps the extension, so writers that pick a format by extension still work.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise GifsymError(f"cannot write {path!r}: folder {folder!r} does not exist")
    base = os.path.basename(path)
    stem, ext = os.path.splitext(base)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".tmp{ext}", dir=folder)
    except OSError as e:
        raise GifsymError(f"cannot write {path!r}: {e.strerror or e}") from None
    os.close(fd)
    # mkstemp creates the file 0600; give the result the permissions a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        if INTERRUPTED.is_set():
            raise KeyboardInterrupt
        try:
            os.replace(tmp, path)
        except OSError as e:
            raise GifsymError(f"cannot write {path!r}: {e.strerror or e}") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_atomic(path: str | os.PathLike, data: str | bytes, *, durable: bool = True) -> None:
    """Write text or bytes to ``path`` atomically.

    Args:
        path: the file to (re)place.
        data: its whole content.
        durable: flush it to the disk before the rename (``fsync``), so that a crash leaves the old file or
            the new one. A cache entry need not be (it carries its own checksum and is derived again when
            it does not verify); skipping the sync took the cold pass of ``benchmarks/derive_all.py`` (72
            flows, 215 entries) from 11.9 s to 10.8–11.5 s on a 2-core machine.
    """
    with atomic_path(path) as tmp:
        mode = "wb" if isinstance(data, bytes) else "w"
        with open(tmp, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())


def read_json(path: str | os.PathLike, *, what: str, error: type[GifsymError] = GifsymError) -> Any:
    """Read a JSON file, or raise ``error`` naming ``what`` the file should hold (missing, unreadable,
    not JSON).

    Example:
        >>> read_json("/nonexistent.json", what="a mixture")
        Traceback (most recent call last):
        ...
        gifsym.errors.GifsymError: '/nonexistent.json' not found; expected a JSON file with a mixture
    """
    if not os.path.isfile(path):
        raise error(f"{os.fspath(path)!r} not found; expected a JSON file with {what}")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise error(f"{os.fspath(path)!r} is not valid JSON (expected {what}): {e}") from None
