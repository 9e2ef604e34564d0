r"""Time and memory budgets for work on user input (SymPy can run for minutes or grow to gigabytes).

:func:`work_budget` bounds a block by seconds of the process's CPU time and by growth of its resident
memory: a timer (``SIGALRM``) fires every few milliseconds, and the handler raises :class:`BudgetExceeded`
once the CPU-time deadline has passed or the resident set has grown by more than the allowance. CPU time,
not wall-clock time, so that a loaded machine does not change which questions get an answer. The exception is a
``BaseException``, so SymPy's ``except Exception`` blocks let it through. Budgets nest: an inner budget
never outlives the outer one.

Signals only reach the main thread, so elsewhere a budget cannot interrupt anything: :func:`work_budget`
then raises :class:`BudgetExceeded` at once (``strict=True``, the default: the caller takes its bounded
fallback) or runs the block unbounded (``strict=False``, for work known to terminate).

Example:
    >>> with work_budget(5.0):
    ...     sum(range(1000))
    499500
    >>> attempt(lambda: 2 + 2, 1.0)
    (True, 4)
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from gifsym.errors import GifsymError

#: Default allowance of resident-memory growth for one budgeted block, in bytes.
DEFAULT_MEMORY = 500 * 2**20
#: How often the handler looks at the clock and the resident set, in seconds.
TICK = 0.01

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class BudgetExceeded(BaseException):
    """A time or memory budget ran out (``reason`` says which)."""

    def __init__(self, reason: str = "time") -> None:
        super().__init__(reason)
        self.reason = reason


class WorkLimitError(GifsymError):
    """User input needed more time or memory than gifsym allows for it (a clear refusal, not a hang)."""


# One entry per active budget: (deadline, resident-set ceiling in bytes).
_stack: list[tuple[float, float]] = []
_saved: list[Any] = []


def resident_bytes() -> int:
    """The process's current resident set size (``/proc/self/statm``; 0 where unavailable)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


#: After raising, stay quiet this long: an exception that lands in a finalizer (``__del__``, a weakref
#: callback) is lost as "unraisable", and raising again while that is being reported would break the report;
#: the next tick after the pause raises again, in ordinary code.
_PAUSE = 0.1
_last_raise = [0.0]
#: How many times a budget has run out in this process (see :func:`exceeded_count`).
_exceeded = [0]


def exceeded_count() -> int:
    """How many times a budget has run out (or could not be enforced) in this process so far: a caller
    compares it before and after some work to learn whether that work was cut short, and then keeps the
    weaker result out of its caches."""
    return _exceeded[0]


def _on_tick(signum, frame) -> None:
    if not _stack:
        return
    wall = time.monotonic()
    if wall - _last_raise[0] < _PAUSE:
        return
    deadline, ceiling = _stack[-1]
    if time.process_time() >= deadline:
        _last_raise[0] = wall
        _exceeded[0] += 1
        raise BudgetExceeded("time")
    if ceiling and resident_bytes() > ceiling:
        _last_raise[0] = wall
        _exceeded[0] += 1
        raise BudgetExceeded("memory")


def budgets_available() -> bool:
    """Whether a budget can interrupt work here (main thread, a platform with ``setitimer``)."""
    return threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")


@contextlib.contextmanager
def work_budget(seconds: float, *, memory: int = DEFAULT_MEMORY, strict: bool = True) -> Iterator[None]:
    """Raise :class:`BudgetExceeded` in the block once it has used ``seconds`` of CPU time or resident memory
    has grown by more than ``memory`` bytes (0: no memory bound). Nested budgets keep the tighter limits.

    Outside the main thread the block cannot be interrupted: with ``strict`` it raises
    :class:`BudgetExceeded` at once, otherwise it runs unbounded.
    """
    if not budgets_available():
        if strict:
            _exceeded[0] += 1
            raise BudgetExceeded("unavailable")
        yield
        return
    deadline = time.process_time() + seconds
    rss = resident_bytes()
    ceiling = float(rss + memory) if memory and rss else 0.0
    if _stack:
        outer_deadline, outer_ceiling = _stack[-1]
        deadline = min(deadline, outer_deadline)
        if outer_ceiling:
            ceiling = min(ceiling, outer_ceiling) if ceiling else outer_ceiling
    else:
        _saved.append(signal.signal(signal.SIGALRM, _on_tick))
        signal.setitimer(signal.ITIMER_REAL, TICK, TICK)
    _stack.append((deadline, ceiling))
    try:
        yield
    finally:
        _stack.pop()
        if not _stack:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, _saved.pop())


def attempt(fn: Callable[[], Any], seconds: float, *, terminates: bool = False,
            memory: int = DEFAULT_MEMORY) -> tuple[bool, Any]:
    """Run ``fn()`` under a budget: ``(True, value)``, or ``(False, None)`` if the budget ran out, no budget
    can be enforced here, or SymPy gave up with an exception. ``terminates=True`` marks work known to finish
    (rational-function algebra): it then also runs where no budget can be enforced."""
    try:
        with work_budget(seconds, memory=memory, strict=not terminates):
            return True, fn()
    except BudgetExceeded:
        return False, None
    except (ValueError, TypeError, NotImplementedError, ArithmeticError, AttributeError, RecursionError,
            IndexError, KeyError, MemoryError):
        return False, None
    except Exception as e:  # SymPy's PolynomialError and friends: never leak SymPy internals
        if type(e).__module__.startswith("sympy"):
            return False, None
        raise


def bounded(what: str, fn: Callable[[], Any], seconds: float, *, memory: int = DEFAULT_MEMORY) -> Any:
    """``fn()`` under a budget; a :class:`WorkLimitError` naming ``what`` when it runs out.

    Outside the main thread the work runs unbounded (nothing could interrupt it).
    """
    try:
        with work_budget(seconds, memory=memory, strict=False):
            return fn()
    except BudgetExceeded as e:
        limit = f"{seconds:g} s" if e.reason == "time" else f"{memory / 2**20:.0f} MB of memory"
        raise WorkLimitError(f"{what} needs more than {limit}; simplify the input") from None


def available_memory() -> int:
    """Bytes of memory available to a new allocation (``MemAvailable`` of /proc/meminfo; else physical memory)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * _PAGE
    except (ValueError, OSError, AttributeError):
        return 2**34


#: Fraction of the available memory one allocation may claim.
MEMORY_FRACTION = 0.5


def check_allocation(nbytes: float, what: str) -> None:
    """Refuse, before allocating, a computation that would need more than half of the available memory.

    Example:
        >>> check_allocation(1e3, "a small array")
        >>> check_allocation(1e30, "simulating 10^25 particles")
        Traceback (most recent call last):
        ...
        gifsym.budget.WorkLimitError: simulating 10^25 particles needs about 1e+30 bytes ...
    """
    limit = MEMORY_FRACTION * available_memory()
    if nbytes > limit:
        raise WorkLimitError(f"{what} needs about {nbytes:.3g} bytes of memory ({nbytes / 2**30:.3g} GiB), more "
                             f"than the {limit / 2**30:.3g} GiB gifsym allows itself here; use a smaller size")


__all__ = [
    "DEFAULT_MEMORY",
    "MEMORY_FRACTION",
    "BudgetExceeded",
    "WorkLimitError",
    "attempt",
    "available_memory",
    "bounded",
    "budgets_available",
    "check_allocation",
    "resident_bytes",
    "work_budget",
]
