r"""Time and memory budgets for work on user input (SymPy can run for minutes or grow to gigabytes).

:func:`work_budget` bounds a block by seconds of CPU time and by growth of the process's resident memory,
and raises :class:`BudgetExceeded` in the block once either runs out. CPU time, not wall-clock time, so that
a loaded machine does not change which questions get an answer. The exception is a ``BaseException``, so
SymPy's ``except Exception`` blocks let it through. Budgets nest: an inner budget never outlives the outer
one (the tighter deadline and memory ceiling win).

How the block is interrupted depends on the thread that runs it:

* **the main thread**: a timer (``SIGALRM`` from ``setitimer(ITIMER_REAL)``) ticks every :data:`TICK`
  seconds; its handler compares the process's CPU time and resident set with the innermost budget and
  raises. The caller's own ``SIGALRM`` timer is kept: the outermost budget saves the previous handler and
  the time left on the previous timer, calls that handler itself when its time comes during the block
  (re-arming it if it is periodic), and afterwards restores the handler and the timer with the time it has
  left (one already due fires at once). ``SIGALRM`` is touched nowhere else in gifsym.
* **any other thread**: signals only reach the main thread, so one watchdog thread per process (started by
  the first such budget, gone when none is left) looks every :data:`TICK` seconds at the CPU clock of each
  thread in a budget (``pthread_getcpuclockid``: that thread's own time, not the main thread's or other
  workers') and at the resident set, and raises :class:`BudgetExceeded` in a thread that overran with
  CPython's ``PyThreadState_SetAsyncExc``. The exception arrives at that thread's next bytecode boundary,
  which is exactly where a signal handler would run on the main thread, so the two bound the same work
  equally well. The watchdog and the block's exit share a lock, and the exit cancels an exception not yet
  delivered, so none arrives after the block.

Neither can stop a single call that stays in C (a huge integer power in GMP): callers check the size of
such work before starting it. Where neither mechanism exists (no ``setitimer`` on the main thread, or an
interpreter other than CPython elsewhere) a budget cannot interrupt anything: :func:`work_budget` then raises
:class:`BudgetExceeded` at once (``strict=True``, the default: the caller takes its bounded fallback) or runs
the block unbounded (``strict=False``, for work known to terminate).

Example:
    >>> with work_budget(5.0):
    ...     sum(range(1000))
    499500
    >>> attempt(lambda: 2 + 2, 1.0)
    (True, 4)

    Off the main thread too (an endless generator, stopped after 0.2 s of its thread's CPU time):

    >>> import concurrent.futures, itertools
    >>> with concurrent.futures.ThreadPoolExecutor(1) as pool:
    ...     pool.submit(attempt, lambda: all(i >= 0 for i in itertools.count()), 0.2).result()
    (False, None)
"""

from __future__ import annotations

import contextlib
import functools
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


class _Budget:
    """One active budget: its CPU-time deadline on ``clock``, its resident-set ceiling (0: none)."""

    __slots__ = ("ceiling", "clock", "deadline")

    def __init__(self, deadline: float, ceiling: float, clock: Callable[[], float]) -> None:
        self.deadline, self.ceiling, self.clock = deadline, ceiling, clock


#: The active budgets of each thread, innermost last.
_local = threading.local()


def _stack() -> list[_Budget]:
    try:
        return _local.stack
    except AttributeError:
        _local.stack = []
        return _local.stack


#: The main thread's caller timer while a budget holds ``SIGALRM``: [previous handler, monotonic time when
#: it is due (None: not armed), its interval]; None while no budget holds it.
_caller: list[Any] | None = None


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


def _over(budget: _Budget) -> str | None:
    """Why ``budget`` has run out ("time", "memory"), or None."""
    if budget.clock() >= budget.deadline:
        return "time"
    if budget.ceiling and resident_bytes() > budget.ceiling:
        return "memory"
    return None


def _on_tick(signum, frame) -> None:
    caller = _caller
    if caller is not None and caller[1] is not None and time.monotonic() >= caller[1]:
        # The caller's own timer came due while a budget holds SIGALRM: run its handler now.
        caller[1] = caller[1] + caller[2] if caller[2] > 0 else None
        while caller[1] is not None and caller[1] <= time.monotonic():
            caller[1] += caller[2]
        _call_handler(caller[0], signum, frame)
    stack = _stack()
    if not stack:
        return
    wall = time.monotonic()
    if wall - _last_raise[0] < _PAUSE:
        return
    reason = _over(stack[-1])
    if reason:
        _last_raise[0] = wall
        _exceeded[0] += 1
        raise BudgetExceeded(reason)


def _call_handler(handler: Any, signum: int, frame: Any) -> None:
    """Do what the caller's ``SIGALRM`` disposition would have done."""
    if callable(handler):
        handler(signum, frame)
    elif handler == signal.SIG_DFL:  # the default action ends the process: so it does
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGALRM)
    # SIG_IGN, or a handler not installed from Python (None): nothing to do


def _main_enter() -> None:
    """Take ``SIGALRM`` for the budgets, keeping the caller's handler and timer (see the module docstring)."""
    global _caller
    previous = signal.getsignal(signal.SIGALRM)
    _caller = [previous, None, 0.0]
    signal.signal(signal.SIGALRM, _on_tick)
    delay, interval = signal.setitimer(signal.ITIMER_REAL, TICK, TICK)
    if delay > 0:
        _caller[1:] = [time.monotonic() + delay, interval]


def _main_leave() -> None:
    """Give ``SIGALRM`` back: the caller's handler, and its timer with the time it has left."""
    global _caller
    caller = _caller
    if caller is None:
        return
    signal.setitimer(signal.ITIMER_REAL, 0)
    handler, due, interval = caller
    # The handler first: a tick still pending then goes where it would have gone without the budget.
    signal.signal(signal.SIGALRM, handler if handler is not None else signal.SIG_DFL)
    _caller = None
    if due is not None:  # a timer already due fires at once (setitimer needs a positive delay)
        signal.setitimer(signal.ITIMER_REAL, max(due - time.monotonic(), 1e-6), interval)


# Budgets of the other threads: the watchdog's view, guarded by _watch_lock.
_watch_lock = threading.Lock()
_watched: dict[int, list[_Budget]] = {}
_raised_at: dict[int, float] = {}
_watchdog: list[threading.Thread | None] = [None]


@functools.lru_cache(maxsize=1)
def _async_raise() -> Callable[..., int] | None:
    """CPython's ``PyThreadState_SetAsyncExc`` (None elsewhere)."""
    try:
        import ctypes

        return ctypes.pythonapi.PyThreadState_SetAsyncExc
    except (ImportError, AttributeError):
        return None


class _OutOfMemory(BudgetExceeded):
    """The memory budget of another thread ran out (raised as a class by the watchdog)."""

    def __init__(self) -> None:
        super().__init__("memory")


def _watch() -> None:
    """The watchdog's loop: raise in each thread whose innermost budget ran out; end when none is left."""
    import ctypes

    while True:
        time.sleep(TICK)
        with _watch_lock:
            if not _watched:
                _watchdog[0] = None
                return
            for ident, stack in _watched.items():
                wall = time.monotonic()
                if not stack or wall - _raised_at.get(ident, -_PAUSE) < _PAUSE:
                    continue
                try:
                    reason = _over(stack[-1])
                except OSError:  # the thread is gone (its clock with it)
                    continue
                if reason:
                    _raised_at[ident] = wall
                    _exceeded[0] += 1
                    exc = BudgetExceeded if reason == "time" else _OutOfMemory
                    _async_raise()(ctypes.c_ulong(ident), ctypes.py_object(exc))


def _thread_clock() -> Callable[[], float]:
    """A reader of the current thread's CPU clock that works from any thread (the watchdog's)."""
    try:
        clock_id = time.pthread_getcpuclockid(threading.get_ident())
    except (AttributeError, OSError):  # no per-thread clocks here: the process's CPU time
        return time.process_time
    return lambda: time.clock_gettime(clock_id)


def _enter(seconds: float, memory: int) -> _Budget:
    main = threading.current_thread() is threading.main_thread()
    clock = time.process_time if main else _thread_clock()
    stack = _stack()
    rss = resident_bytes()
    budget = _Budget(clock() + seconds, float(rss + memory) if memory and rss else 0.0, clock)
    if stack:
        outer = stack[-1]
        budget.deadline = min(budget.deadline, clock() + (outer.deadline - outer.clock()))
        if outer.ceiling:
            budget.ceiling = min(budget.ceiling, outer.ceiling) if budget.ceiling else outer.ceiling
    if main:
        if not stack:
            _main_enter()
        stack.append(budget)
        return budget
    with _watch_lock:
        stack.append(budget)
        _watched[threading.get_ident()] = stack
        if _watchdog[0] is None:
            _watchdog[0] = threading.Thread(target=_watch, name="gifsym-budget-watchdog", daemon=True)
            _watchdog[0].start()
    return budget


def _leave(budget: _Budget) -> None:
    """End ``budget`` (and any left above it); safe to call again if an exception interrupted it."""
    stack = _stack()
    if threading.current_thread() is threading.main_thread():
        if budget in stack:
            del stack[stack.index(budget):]
        if not stack:
            _main_leave()
        return
    import ctypes

    ident = threading.get_ident()
    with _watch_lock:
        if budget in stack:
            del stack[stack.index(budget):]
        if not stack:
            _watched.pop(ident, None)
            _raised_at.pop(ident, None)
        # An exception the watchdog raised that has not arrived yet must not arrive after the block.
        _async_raise()(ctypes.c_ulong(ident), None)


def budgets_available() -> bool:
    """Whether a budget can interrupt work here: on the main thread with ``setitimer``, elsewhere on CPython."""
    if threading.current_thread() is threading.main_thread():
        return hasattr(signal, "setitimer")
    return _async_raise() is not None


class Allowance:
    """A pool of CPU seconds that every budget opened inside :func:`drawing_on` it shares: the total work of
    many budgeted steps about one input (all the proofs about a caller's schedule), where each step has its
    own, larger, budget. Once the pool is spent, each budget inside it runs out at once, with the reason
    ``"allowance"``.

    Example:
        >>> pool = Allowance(0.0, "the proofs about this input")
        >>> with drawing_on(pool):
        ...     attempt(lambda: 2 + 2, 5.0)
        (False, None)
        >>> attempt(lambda: 2 + 2, 5.0)
        (True, 4)
    """

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds, self.what, self.spent = float(seconds), what, 0.0

    def __repr__(self) -> str:
        return f"Allowance({self.seconds:g} s for {self.what}, {self.spent:.3g} s spent)"


def _pools() -> list[list]:
    """This thread's active allowances as ``[allowance, thread CPU time on entry]``, innermost last."""
    try:
        return _local.pools
    except AttributeError:
        _local.pools = []
        return _local.pools


@contextlib.contextmanager
def drawing_on(pool: Allowance) -> Iterator[Allowance]:
    """Budgets opened in the block draw on ``pool``: none lasts beyond the seconds it has left. The CPU time
    of the block (this thread's) is charged to it. Re-entering a pool already active is a no-op."""
    pools = _pools()
    if any(p is pool for p, _ in pools):
        yield pool
        return
    pools.append([pool, time.thread_time()])
    try:
        yield pool
    finally:
        entry = pools.pop()
        pool.spent += time.thread_time() - entry[1]


def allowance_left() -> tuple[float, Allowance] | None:
    """Seconds left in the tightest active allowance of this thread, and that allowance (None: none active)."""
    now = time.thread_time()
    left = [(p.seconds - p.spent - (now - start), p) for p, start in _pools()]
    return min(left, key=lambda x: x[0]) if left else None


@contextlib.contextmanager
def work_budget(seconds: float, *, memory: int = DEFAULT_MEMORY, strict: bool = True) -> Iterator[None]:
    """Raise :class:`BudgetExceeded` in the block once it has used ``seconds`` of CPU time or resident memory
    has grown by more than ``memory`` bytes (0: no memory bound). Nested budgets keep the tighter limits. Any
    thread may use it (see the module docstring for how each is interrupted).

    Inside :func:`drawing_on` an :class:`Allowance`, the budget is cut to the seconds the allowance has left,
    and runs out with the reason ``"allowance"`` when that is what stops it (at once when nothing is left).

    Where no budget can interrupt the block: with ``strict`` it raises :class:`BudgetExceeded` at once,
    otherwise it runs unbounded.
    """
    pool = allowance_left()
    if pool is not None and pool[0] < seconds:
        if pool[0] <= 0:
            _exceeded[0] += 1
            raise BudgetExceeded("allowance")
        try:
            with _budget(pool[0], memory=memory, strict=strict):
                yield
        except BudgetExceeded as e:
            raise (BudgetExceeded("allowance") if e.reason == "time" else e) from None
        return
    with _budget(seconds, memory=memory, strict=strict):
        yield


@contextlib.contextmanager
def _budget(seconds: float, *, memory: int, strict: bool) -> Iterator[None]:
    """:func:`work_budget` without allowances."""
    if not budgets_available():
        if strict:
            _exceeded[0] += 1
            raise BudgetExceeded("unavailable")
        yield
        return
    budget = _enter(seconds, memory)
    try:
        yield
    finally:
        while True:  # the budget running out just now may interrupt the exit itself: finish it regardless
            try:
                _leave(budget)
                break
            except BudgetExceeded:
                continue


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

    Where no budget can interrupt the work (see the module docstring) it runs unbounded.
    """
    try:
        with work_budget(seconds, memory=memory, strict=False):
            return fn()
    except BudgetExceeded as e:
        limit = f"{seconds:g} s" if e.reason == "time" else f"{memory / 2**20:.0f} MB of memory"
        raise WorkLimitError(f"{what} needs more than {limit}; simplify the input") from None


def _proc_kib(path: str, field: str) -> int | None:
    """Bytes of a ``field:  N kB`` line of a /proc file (``MemAvailable`` of /proc/meminfo, ``VmSize`` of
    /proc/self/status); None where the file or the line is missing."""
    try:
        with open(path, encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def available_memory() -> int:
    """Bytes of memory available to a new allocation: ``MemAvailable`` of /proc/meminfo (else physical
    memory), and no more than the address space the process may still take under its ``RLIMIT_AS``
    (``ulimit -v``) — beyond that XLA aborts the process instead of raising."""
    system = _proc_kib("/proc/meminfo", "MemAvailable")
    if system is None:
        try:
            system = os.sysconf("SC_PHYS_PAGES") * _PAGE
        except (ValueError, OSError, AttributeError):
            system = 2**34
    return min(system, _address_space_left())


def _address_space_left() -> float:
    """``RLIMIT_AS`` less the process's current virtual size (``VmSize``); +∞ without a limit."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return float("inf")
    if soft == resource.RLIM_INFINITY:
        return float("inf")
    return max(0, soft - (_proc_kib("/proc/self/status", "VmSize") or 0))


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
    "Allowance",
    "BudgetExceeded",
    "WorkLimitError",
    "allowance_left",
    "attempt",
    "available_memory",
    "bounded",
    "budgets_available",
    "check_allocation",
    "drawing_on",
    "resident_bytes",
    "work_budget",
]
