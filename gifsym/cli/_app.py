"""The ``gifsym`` click application and its error handling (:func:`gifsym.cli.main` loads it after installing
the signal handling). Each command lives in a module of this package and loads on first use.

A :class:`~gifsym.errors.GifsymError` becomes one ``Error: ...`` line on stderr and exit code 2 (no
traceback unless ``--debug``); a failed numerical check exits 1.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings

import click

from gifsym.errors import GifsymError, GifsymWarning
from gifsym.version import __version__

# name -> "module:attribute"; loading lazily keeps `gifsym --help` fast and JAX out of symbolic commands.
COMMANDS = {
    "schedules": "gifsym.cli.schedule:schedules",
    "schedule": "gifsym.cli.schedule:schedule_cmd",
    "velocity": "gifsym.cli.schedule:velocity",
    "bounds": "gifsym.cli.bounds:bounds",
    "lemmas": "gifsym.cli.lemmas:lemmas",
    "simulate": "gifsym.cli.simulate:simulate",
    "verify": "gifsym.cli.verify:verify",
    "certify": "gifsym.cli.certify:certify",
    "report": "gifsym.cli.report:report",
    "plot": "gifsym.cli.plot:plot",
    "design": "gifsym.cli.design:design_cmd",
    "plan": "gifsym.cli.plan:plan",
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported when first listed or called."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self._load(name) is not None]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._load(name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name].split(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as e:
            if e.name == module:  # a command module that is not part of this build
                return None
            raise


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
@click.version_option(version=__version__, prog_name="gifsym")
@click.pass_context
def app(ctx: click.Context, debug: bool) -> None:
    """gifsym: exact velocity fields, Jacobian bounds and flow-map constants of Gaussian interpolation flows.

    X_t = a_t Z + b_t X_1 with noise at t = 0 and data at t = 1.
    """
    ctx.obj = {"debug": debug}


def run(args: list[str]) -> None:
    """Run the application on ``args`` (see :func:`gifsym.cli.main`).

    Every user mistake — a :class:`~gifsym.errors.GifsymError`, a click usage error (unknown option, bad
    value), a file-system fault — is one ``Error: ...`` line on stderr and exit 2.
    """
    from gifsym import io

    debug = "--debug" in args
    shown = warnings.showwarning
    warnings.showwarning = _note(shown)
    try:
        rc = app.main(args=args, prog_name="gifsym", standalone_mode=False)
        if io.INTERRUPTED.is_set():  # an interrupt something swallowed (e.g. inside a JAX callback)
            raise KeyboardInterrupt
        # Outside standalone mode click returns a command's exit code instead of exiting.
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except GifsymError as e:
        if debug:
            raise
        _error(str(e))
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except click.ClickException as e:
        if debug:
            raise
        if isinstance(e, click.UsageError):
            ctx = e.ctx
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            _error(e.format_message() + hint)
        _error(e.format_message())
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        from gifsym.cli._common import PENDING

        if any(w.is_alive() for w in PENDING):
            # A computation is still running inside XLA, which cannot be stopped from Python: leave at once
            # (nothing has been written: outputs are written after the computation, atomically).
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)
        sys.exit(130)
    except OSError as e:  # a file-system fault: permission denied, disk full, read-only folder ...
        if debug:
            raise
        where = f" ({e.filename!r})" if getattr(e, "filename", None) else ""
        _error(f"{e.strerror or e}{where}")
    except MemoryError:
        if debug:
            raise
        _error("out of memory; use smaller sizes (-n, --samples, dim)")
    finally:
        warnings.showwarning = shown


def _note(shown):
    """``warnings.showwarning`` that prints gifsym's own warnings as one ``Note: ...`` line on stderr."""

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, GifsymWarning):
            click.echo("Note: " + " ".join(str(message).split()), err=True)
        else:
            shown(message, category, filename, lineno, file, line)

    return show


def _error(message: str) -> None:
    """One ``Error:`` line (newlines folded) and exit 2."""
    click.echo("Error: " + " ".join(message.split()), err=True)
    sys.exit(2)
