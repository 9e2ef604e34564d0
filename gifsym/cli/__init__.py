"""The ``gifsym`` command line (click). Each command lives in a module of this package and loads on first use.

A :class:`~gifsym.errors.GifsymError` becomes one ``Error: ...`` line on stderr and exit code 2 (no
traceback unless ``--debug``); a failed numerical check exits 1; Ctrl-C exits 130 and SIGTERM 143, with no
traceback and no file left behind.

Importing this package imports nothing heavy (not even click): :func:`main` installs the signal handling
first, so that an interrupt during the imports is as clean as one during the work.
"""

from __future__ import annotations

import os
import signal
import sys


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``gifsym`` console script and of ``python cli.py``.

    SIGINT and SIGTERM end the process at once (:func:`_exit_on_signal`), from the first line on: before the
    imports, during the work and during the interpreter's shutdown. A caller that passes ``argv`` (a test,
    a program embedding the CLI) gets its own handlers back when the command returns. Every user mistake
    is one ``Error: ...`` line on stderr and exit 2 (:func:`gifsym.cli._app.run`).
    """
    previous = _install(_exit_on_signal)
    if argv is not None:
        try:
            _run(list(argv))
        finally:
            _install(previous)
        return
    # The process's own run: leave with os._exit, not through the interpreter's shutdown, which puts the
    # default handlers back (a signal then kills the process, exit -2 or -15) and joins XLA's threads.
    try:
        _run(sys.argv[1:])
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 0 if e.code is None else 1
        if not isinstance(e.code, (int, type(None))):
            print(e.code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (gifsym ... | head): the output was not wanted
            pass
    os._exit(code)


def _run(args: list[str]) -> None:
    from gifsym import io

    io.INTERRUPTED.clear()
    from gifsym.cli._app import run

    run(args)


def _install(handlers) -> dict:
    """Set the SIGINT and SIGTERM handlers (one for both, or a dict by signal); return the previous ones.
    Off the main thread signals are left alone."""
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, handlers[sig] if isinstance(handlers, dict) else handlers)
        except (ValueError, KeyError):  # not the main thread
            pass
    return previous


def _exit_on_signal(signum: int, frame) -> None:
    """Remove the registered temporaries (:func:`gifsym.io.remove_temporaries`), flush the output, print
    ``Interrupted.`` and ``os._exit(128 + signum)``: 130 for SIGINT, 143 for SIGTERM.

    No exception unwinds through the stack: a KeyboardInterrupt raised while XLA's threads run ended in
    SIGABRT ("FATAL: exception not rethrown") or SIGSEGV at interpreter shutdown in 13 of 30 runs.
    """
    io = sys.modules.get("gifsym.io")  # not imported yet, or half imported: nothing to clean yet
    if hasattr(io, "remove_temporaries"):
        io.INTERRUPTED.set()
        io.remove_temporaries()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 — a stream in the middle of a write, a closed pipe: exit anyway
            pass
    try:
        os.write(2, b"Interrupted.\n")
    except OSError:
        pass
    os._exit(128 + signum)


def __getattr__(name: str):
    # `app`, `COMMANDS` and `LazyGroup` live in gifsym.cli._app (which imports click): load it on first use.
    if name in ("app", "COMMANDS", "LazyGroup"):
        from gifsym.cli import _app

        return getattr(_app, name)
    raise AttributeError(f"module 'gifsym.cli' has no attribute {name!r}")
