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
import errno
import json
import os
import re
import secrets
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

from gifsym.errors import GifsymError

#: Set when the user interrupts (Ctrl-C or SIGTERM, see :func:`gifsym.cli.main`): from then on no output file
#: is published, even if the interrupt was swallowed by a library on its way up.
INTERRUPTED = threading.Event()

#: Temporary files and folders that exist only while a write or a compilation runs. A path is registered
#: *before* it is created, so a signal handler that removes them all (:func:`remove_temporaries`) leaves
#: nothing behind, whenever it arrives.
_TEMPORARIES: set[str] = set()


def _fresh_name(folder: str, prefix: str, suffix: str) -> str:
    return os.path.join(folder, f"{prefix}{secrets.token_hex(6)}{suffix}")


@contextlib.contextmanager
def _registered(make, folder: str, prefix: str, suffix: str, *, what: str) -> Iterator[str]:
    """Create a fresh path with ``make(path)`` (registered first), yield it, remove it at the end.

    Raises:
        GifsymError: the path cannot be created (``what`` says for what).
    """
    while True:
        path = _fresh_name(folder, prefix, suffix)
        _TEMPORARIES.add(path)
        try:
            make(path)
            break
        except FileExistsError:
            _TEMPORARIES.discard(path)
        except OSError as e:
            _TEMPORARIES.discard(path)
            raise GifsymError(f"{what}: {e.strerror or e}") from None
        except BaseException:
            _TEMPORARIES.discard(path)
            raise
    try:
        yield path
    finally:
        _remove(path)
        _TEMPORARIES.discard(path)


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)


def remove_temporaries() -> None:
    """Remove every registered temporary file and folder (what a signal handler calls before exiting)."""
    for path in list(_TEMPORARIES):
        _remove(path)


@contextlib.contextmanager
def scratch_folder(prefix: str) -> Iterator[str]:
    """A private (0700) temporary folder, removed at the end of the block or by :func:`remove_temporaries`.

    Example:
        >>> with scratch_folder("gifsym-doc-") as work:
        ...     os.path.isdir(work)
        True
        >>> os.path.exists(work)
        False
    """
    with _registered(lambda p: os.mkdir(p, 0o700), tempfile.gettempdir(), prefix, "",
                     what=f"cannot create a scratch folder in {tempfile.gettempdir()!r}") as path:
        yield path


def _create_file(path: str) -> None:
    # O_EXCL: never reuse an existing file; 0o666 less the umask: the permissions a plain open() gives.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))


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
    stem, ext = os.path.splitext(os.path.basename(path))
    with _registered(_create_file, folder, f".{stem}.", f".tmp{ext}", what=f"cannot write {path!r}") as tmp:
        yield tmp
        if INTERRUPTED.is_set():
            raise KeyboardInterrupt
        try:
            os.replace(tmp, path)
        except OSError as e:
            raise GifsymError(f"cannot write {path!r}: {e.strerror or e}") from None


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
    check_regular_file(path, expected=f"a JSON file with {what}", error=error)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise error(f"{os.fspath(path)!r} is not valid JSON (expected {what}): {e}") from None
    return parse_json(text, what=f"{os.fspath(path)!r} (expected {what})", error=error)


#: The deepest nesting of JSON arrays and objects accepted: a mixture needs 3 levels (components, mean,
#: covariance rows); Python's JSON decoder would raise RecursionError near 1000.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def json_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` in JSON text (brackets inside strings do not count).

    Example:
        >>> json_depth('[[1, 2], {"a": "[[["}]')
        2
    """
    import numpy as np  # not at import time: the CLI imports this module before installing its signal handling

    codes = np.frombuffer(_JSON_STRING.sub('""', text).encode("utf-8", "surrogatepass"), dtype=np.uint8)
    step = (np.isin(codes, (ord("["), ord("{")))).astype(np.int64) - np.isin(codes, (ord("]"), ord("}")))
    return int(np.cumsum(step).max(initial=0))


def parse_json(text: str, *, what: str, error: type[GifsymError] = GifsymError) -> Any:
    """``json.loads`` of caller input, with nesting at most :data:`MAX_JSON_DEPTH` deep.

    Raises:
        error: not JSON, or nested too deeply (``what`` names the input).

    Example:
        >>> parse_json("[" * 100 + "]" * 100, what="mean")
        Traceback (most recent call last):
        ...
        gifsym.errors.GifsymError: mean: JSON nested 100 levels deep; at most 32 are accepted
    """
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise error(f"{what}: JSON nested {depth} levels deep; at most {MAX_JSON_DEPTH} are accepted")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise error(f"{what} is not valid JSON: {e}") from None


def check_regular_file(path: str | os.PathLike, *, expected: str, error: type[GifsymError] = GifsymError) -> None:
    """Refuse a path that is not a regular file, saying what it is (missing, a folder, a FIFO, a device, a
    symlink loop): opening a FIFO would block and a folder is no data.

    Example:
        >>> check_regular_file("/", expected="data points")
        Traceback (most recent call last):
        ...
        gifsym.errors.GifsymError: '/' is a folder, not a file; expected data points
    """
    name = os.fspath(path)
    try:
        mode = os.stat(name).st_mode
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise error(f"{name!r} is a symbolic link loop, not a file; expected {expected}") from None
        if e.errno in (errno.ENOENT, errno.ENOTDIR):
            dangling = " (a symbolic link to a missing file)" if os.path.islink(name) else ""
            raise error(f"{name!r} not found{dangling}; expected {expected}") from None
        raise error(f"{name!r} cannot be read ({e.strerror or e}); expected {expected}") from None
    kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else None)
    if kind is not None:
        raise error(f"{name!r} is {kind}, not a file; expected {expected}")
