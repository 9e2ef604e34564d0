"""Budgets (gifsym.budget) compose with the caller's own SIGALRM timer, nest, and bound work in any thread."""

from __future__ import annotations

import signal
import threading
import time

import pytest
import sympy

from gifsym import budget
from gifsym.budget import BudgetExceeded, attempt, work_budget


def _spin(seconds: float) -> int:
    """Python work (interruptible between bytecodes) using ``seconds`` of this thread's CPU time."""
    end = time.thread_time() + seconds
    n = 0
    while time.thread_time() < end:
        n += 1
    return n


def _slow_sympy():
    # Factoring a 400-bit number: far longer than the budgets below (minutes), and all in Python.
    return sympy.factorint(2**400 + 1)


@pytest.fixture
def caller_timer():
    """A SIGALRM handler of the caller's that records when it runs; restored afterwards."""
    fired: list[float] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(time.monotonic()))
    yield fired
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def _wait(fired, count, limit=10.0):
    end = time.monotonic() + limit
    while len(fired) < count and time.monotonic() < end:
        time.sleep(0.01)


def test_the_callers_timer_survives_a_budgeted_call(caller_timer):
    fired = caller_timer
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    assert attempt(lambda: 2 + 2, 1.0) == (True, 4)
    remaining, interval = signal.getitimer(signal.ITIMER_REAL)
    # Still armed with what was left of its 0.5 s (the budgeted call took well under 0.5 s).
    assert 0 < remaining <= 0.5 and interval == 0
    assert signal.getsignal(signal.SIGALRM) is not budget._on_tick
    _wait(fired, 1)
    # It fired once, and not early (1 ms for the clocks' resolution); lateness is the machine's load.
    assert len(fired) == 1 and fired[0] - start >= 0.5 - 1e-3


def test_the_callers_timer_fires_during_a_budgeted_call(caller_timer):
    fired = caller_timer
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, 0.2, 0.2)  # periodic
    assert attempt(lambda: _spin(0.7), 5.0)[0]
    # 0.7 s of CPU takes at least 0.7 s: the 0.2 s timer came due at least 3 times within the call.
    assert len(fired) >= 3 and fired[0] - start >= 0.2 - 1e-3
    assert signal.getitimer(signal.ITIMER_REAL)[1] == pytest.approx(0.2)  # still periodic afterwards
    n = len(fired)
    _wait(fired, n + 1)
    assert len(fired) > n


def test_a_caller_timer_that_raises_interrupts_the_budgeted_call():
    class CallerTimeout(Exception):
        pass

    def handler(signum, frame):
        raise CallerTimeout

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(CallerTimeout):
            with work_budget(30.0):
                _spin(10.0)
        assert signal.getsignal(signal.SIGALRM) is handler
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _nested(results: dict) -> None:
    """Nested budgets: the tighter one wins whichever is inside. CPU used is measured to tell which budget
    ended the work: 0.3 s budgets against 10 s ones, so "< 5 s" cannot be met by the loose one."""
    for outer, inner in ((10.0, 0.3), (0.3, 10.0)):
        used = time.thread_time()
        try:
            with work_budget(outer):
                with work_budget(inner):
                    _spin(10.0)
            results[(outer, inner)] = "ran out nowhere"
        except BudgetExceeded as e:
            results[(outer, inner)] = (e.reason, time.thread_time() - used < 5.0)
    # The outer budget goes on after an inner one ran out, and ends cleanly.
    with work_budget(10.0):
        assert attempt(lambda: _spin(10.0), 0.3) == (False, None)
        results["after"] = attempt(lambda: 5, 1.0)
    time.sleep(0.3)  # no exception arrives after the budgets have ended
    results["clean"] = True


@pytest.mark.parametrize("where", ["main", "thread"])
def test_nested_budgets_take_the_tighter_limit(where):
    results: dict = {}
    if where == "main":
        _nested(results)
    else:
        th = threading.Thread(target=_nested, args=(results,), daemon=True)
        th.start()
        th.join(60)
        assert not th.is_alive()
    assert results == {(10.0, 0.3): ("time", True), (0.3, 10.0): ("time", True), "after": (True, 5), "clean": True}


def test_a_budget_off_the_main_thread_bounds_a_slow_sympy_call():
    out: dict = {}

    def work():
        used = time.thread_time()
        out["available"] = budget.budgets_available()
        out["slow"] = attempt(_slow_sympy, 0.5)
        out["used"] = time.thread_time() - used
        out["fast"] = attempt(lambda: sympy.factorint(2**20 + 1), 5.0)
        try:
            with work_budget(0.5, strict=False):
                _slow_sympy()
        except BudgetExceeded as e:
            out["unstrict"] = e.reason

    th = threading.Thread(target=work, daemon=True)
    th.start()
    th.join(120)
    assert not th.is_alive()
    # Interrupted (the factorisation runs for minutes): well within 10 s of the thread's CPU for a 0.5 s
    # budget (the watchdog ticks every 10 ms; SymPy may sit in C for a while before it sees the exception).
    assert out["available"] and out["slow"] == (False, None) and out["used"] < 10
    assert out["fast"] == (True, {17: 1, 61681: 1}) and out["unstrict"] == "time"


def test_another_threads_cpu_does_not_count():
    # A budget of a worker thread counts that thread's CPU time: a main thread busy meanwhile (here 1 s of
    # spinning against the worker's 0.5 s budget) does not end it.
    out: dict = {}
    th = threading.Thread(target=lambda: out.setdefault("r", attempt(lambda: (time.sleep(1.5), 7)[1], 0.5)),
                          daemon=True)
    th.start()
    _spin(1.0)
    th.join(30)
    assert out["r"] == (True, 7)


def test_derivations_in_a_worker_thread_are_not_cut_short():
    """What ``gifsym verify`` does (its work runs in a worker thread, gifsym.cli._common.interruptible): the
    flow-map constants' integrals ran out of budget at once there (8 budgets for this flow), so the results
    were marked as cut short and never kept. Now the thread derives as the main thread does."""
    from gifsym import GIF, schedule, target, theory
    from gifsym.cli._common import interruptible

    flow = GIF(schedule("vp"), target("slc:kappa=2"))
    theory._derived.clear()
    before = budget.exceeded_count()
    in_thread = interruptible(theory.flow_map_lipschitz, flow)
    assert budget.exceeded_count() == before
    assert theory._derived  # kept, as on the main thread
    theory._derived.clear()
    assert in_thread == theory.flow_map_lipschitz(flow)


@pytest.mark.slow
def test_verify_in_its_worker_thread_runs_within_its_budgets():
    from gifsym import GIF, schedule, target, theory
    from gifsym.cli._common import interruptible
    from gifsym.numerics.verify import verify

    flow = GIF(schedule("vp"), target("slc:kappa=2"))
    theory._derived.clear()
    before = budget.exceeded_count()
    report = interruptible(verify, flow, samples=20, checks=["flow-map"], times=3)
    assert budget.exceeded_count() == before and report.passed
