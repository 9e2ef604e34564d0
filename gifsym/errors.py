"""The one error hierarchy of gifsym.

Every mistake a user can make (an unknown schedule, a bad parameter, an unparseable expression, a
violated assumption, a bad file) raises a subclass of :class:`GifsymError`. The CLI turns any of them
into one ``Error: ...`` line on stderr and exit code 2; library callers can catch ``GifsymError``.
"""

from __future__ import annotations


class GifsymError(Exception):
    """Base class of every error gifsym raises on purpose."""


class ExpressionError(GifsymError, ValueError):
    """A user-written expression is not in the accepted grammar (names the offending token)."""


class SpecError(GifsymError, ValueError):
    """A schedule or target spec string, or one of its parameters, is not understood."""


class ScheduleError(SpecError):
    """An unknown schedule or a bad schedule parameter."""


class TargetError(SpecError):
    """An unknown target class, a bad target parameter or a bad target file."""


class AssumptionError(GifsymError):
    """An assumption a result needs is violated (or could not be established) for this flow."""


class GraphError(GifsymError):
    """The lemma graph is malformed: unknown names, cycles, unknown assumption ids."""


class LemmaError(GifsymError, KeyError):
    """An unknown lemma name, or a derive function that used an undeclared dependency."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class NumericError(GifsymError):
    """A numerical computation cannot be carried out as asked (non-finite field, bad solver option)."""


class LatexError(GifsymError):
    """pdflatex failed or is missing."""


class ConvertError(GifsymError, ValueError):
    """A peer library's object or convention that gifsym cannot translate (says what it can)."""


class GifsymWarning(UserWarning):
    """Base class of gifsym's warnings: something was read or done differently from how it was written, on
    purpose (the CLI prints each as one ``Note: ...`` line on stderr)."""


class RoundoffWarning(GifsymWarning):
    """A float in a target's data was read as exactly 0 (its magnitude is that of round-off)."""


def shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` for an error message, cut to ``limit`` characters; safe for any value (an int beyond
    Python's 4300-digit limit of int -> str conversion has no repr).

    Example:
        >>> shown(10**5000)
        'an integer of more than 4300 digits'
        >>> shown("x" * 100)[-4:]
        'x...'
    """
    try:
        text = repr(value)
    except ValueError:
        import sys

        return f"an integer of more than {sys.get_int_max_str_digits()} digits"
    except Exception:  # noqa: BLE001 — a caller's object whose __repr__ fails
        return f"a {type(value).__name__} object"
    return text if len(text) <= limit else text[:limit - 3] + "..."
