"""The checks of what a caller passes to :mod:`gifsym.convert`: a wrong type or value is a
:class:`~gifsym.errors.ConvertError` naming the argument, never a TypeError or AttributeError from deep
inside, and never silently rounded (``num_train_timesteps=2.7`` is not read as 2, ``timesteps=True`` is not 1).

Example:
    >>> count(1000, where="to_peer(timesteps=...)")
    1000
    >>> count(2.7, where="to_peer(timesteps=...)")
    Traceback (most recent call last):
    ...
    gifsym.errors.ConvertError: to_peer(timesteps=...) must be a whole number >= 1, not 2.7 (float)
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import sympy

from gifsym.errors import ConvertError, GifsymError, shown

F = TypeVar("F", bound=Callable[..., Any])


def _shown(value: Any) -> str:
    return f"{shown(value)} ({type(value).__name__})"


def schedule(value: Any, *, where: str) -> Any:
    """``value`` if it is a gifsym schedule."""
    from gifsym.symbolic.schedule import Schedule

    if not isinstance(value, Schedule):
        raise ConvertError(f"{where} must be a gifsym schedule (gifsym.schedule(...)), not {_shown(value)}")
    return value


def target(value: Any, *, where: str) -> Any:
    """``value`` if it is a gifsym target."""
    from gifsym.symbolic.target import Target

    if not isinstance(value, Target):
        raise ConvertError(f"{where} must be a gifsym target (gifsym.target(...)), not {_shown(value)}")
    return value


def choice(value: Any, accepted: Iterable[str], *, where: str) -> str:
    """``value`` if it is one of the ``accepted`` names."""
    accepted = tuple(accepted)
    if not isinstance(value, str) or value not in accepted:
        raise ConvertError(f"{where}: unknown {_shown(value)}; accepted: {', '.join(accepted)}")
    return value


def count(value: Any, *, where: str, minimum: int = 1) -> int:
    """A whole number ``>= minimum`` (int or NumPy integer; a float, bool or string is refused, not rounded)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum:
        raise ConvertError(f"{where} must be a whole number >= {minimum}, not {_shown(value)}")
    return int(value)


def real(value: Any, *, where: str) -> float:
    """A finite real number as a float (int, float, NumPy or SymPy number; a bool or string is refused)."""
    if isinstance(value, sympy.Basic) and value.is_number and value.is_extended_real:
        try:
            value = float(value)
        except (TypeError, ValueError, OverflowError):
            pass
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConvertError(f"{where} must be a real number, not {_shown(value)}")
    try:
        x = float(value)
    except OverflowError:
        raise ConvertError(f"{where} = {_shown(value)} is too large for a float") from None
    if not math.isfinite(x):
        raise ConvertError(f"{where} must be finite, not {_shown(value)}")
    return x


def flag(value: Any, *, where: str) -> bool:
    """``True`` or ``False`` (NumPy booleans too); 0, 1 and strings are refused."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    raise ConvertError(f"{where} must be True or False, not {_shown(value)}")


def clean_errors(fn: F) -> F:
    """Turn the arithmetic failures of a public function on extreme input (OverflowError, MemoryError,
    RecursionError, Python's 4300-digit limit of int/str conversion) into a :class:`ConvertError` naming the
    function; a :class:`~gifsym.errors.GifsymError` passes unchanged."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GifsymError:
            raise
        except (OverflowError, RecursionError) as e:
            raise ConvertError(f"{fn.__name__}(): the input is too large or too deeply nested to convert ({e})") \
                from None
        except MemoryError:
            raise ConvertError(f"{fn.__name__}(): out of memory; the input is too large") from None
        except ValueError as e:
            if "integer string conversion" in str(e) or "Exceeds the limit" in str(e):
                raise ConvertError(f"{fn.__name__}(): a number with too many digits ({e})") from None
            raise

    return wrapper  # type: ignore[return-value]


__all__ = ["choice", "clean_errors", "count", "flag", "real", "schedule", "target"]
