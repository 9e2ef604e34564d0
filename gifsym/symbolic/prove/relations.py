"""Signs of an expression on an interval: :func:`prove_relation` runs the steps of the package
docstring in order and caches verdicts."""

from __future__ import annotations

import sympy

from gifsym.budget import BudgetExceeded, allowance_left, exceeded_count, work_budget
from gifsym.symbolic.expr import as_expr
from gifsym.symbolic.prove.bisection import Prover
from gifsym.symbolic.prove.budget import MAX_DEPTH, PROOF_MEMORY, PROOF_SECONDS, RELATIONS, SYMPY_SECONDS
from gifsym.symbolic.prove.polynomial import polynomial_verdict
from gifsym.symbolic.prove.points import exact_sign, is_undefined, n50, value_at
from gifsym.symbolic.prove.program import compile_program, unsupported_reason
from gifsym.symbolic.prove.screening import screen_grid
from gifsym.symbolic.prove.symbolic_sign import sympy_only_verdict, sympy_verdict
from gifsym.symbolic.prove.task import TRUNCATIONS, Task
from gifsym.symbolic.prove.verdict import Verdict, fmt_expr, fmt_point

# ---------------------------------------------------------------------------------------------------
# The prover

_CACHE: dict = {}
CACHE_LIMIT = 4096  # verdicts kept before the cache is cleared

def prove_relation(
    expr: sympy.Expr,
    var: sympy.Symbol,
    relation: str,
    *,
    lo: object = 0,
    hi: object = 1,
    lo_open: bool = False,
    hi_open: bool = False,
) -> Verdict:
    r"""Decides whether ``expr relation 0`` for every ``var`` in an interval.

    The interval is :math:`[lo, hi]` with either end excluded on request. ``relation`` is one of ``>``,
    ``>=``, ``<``, ``<=`` (a sign) or ``"finite"`` (``expr`` is a finite real number at every point;
    what is proved is in fact continuity). See the module docstring for the methods.

    Args:
        expr: A SymPy expression in ``var`` (other symbols are parameters; then only SymPy's assumptions
            can prove anything).
        var: The variable.
        relation: ``">"``, ``">="``, ``"<"``, ``"<="`` or ``"finite"``.
        lo: Left end (a number; exact rationals keep the proof exact).
        hi: Right end, ``hi > lo``.
        lo_open: Exclude ``lo``.
        hi_open: Exclude ``hi``.

    Returns:
        A :class:`Verdict`; ``holds`` only when proved.

    Raises:
        ValueError: an unknown relation or an empty interval.
        TypeError: ``var`` is not a SymPy symbol.

    Example:
        >>> import sympy
        >>> t = sympy.Symbol("t")
        >>> prove_relation((t - sympy.Rational(1, 2))**2, t, ">").status
        'violated'
        >>> prove_relation(1 - t**2, t, ">", hi_open=True).status
        'holds'
    """
    if relation not in RELATIONS:
        raise ValueError(f"relation must be one of {RELATIONS}, not {relation!r}")
    if not isinstance(var, sympy.Symbol):
        raise TypeError(f"var must be a SymPy Symbol, not {var!r}")
    expr = as_expr(expr, names={var.name: var}, what="expr")
    lo, hi = sympy.nsimplify(as_expr(lo, what="lo")), sympy.nsimplify(as_expr(hi, what="hi"))
    if not (lo.is_number and hi.is_number) or (hi - lo).is_positive is not True:
        raise ValueError(f"the interval [{lo}, {hi}] must have numeric ends with lo < hi")
    try:
        with work_budget(PROOF_SECONDS, memory=PROOF_MEMORY, strict=False):
            return decide_relation(expr, var, relation, lo, hi, bool(lo_open), bool(hi_open), 0)
    except BudgetExceeded as e:
        claim = f"{fmt_expr(expr)} {relation} 0" if relation != "finite" else f"{fmt_expr(expr)} finite"
        if e.reason == "allowance":
            return Verdict("unknown", f"{claim}: not decided: the proof ran out of time ({allowance_note()})")
        what = f"{PROOF_SECONDS:g} s" if e.reason == "time" else f"{PROOF_MEMORY // 2**20} MB of memory"
        return Verdict("unknown", f"{claim}: not decided within the prover's budget ({what})")


def allowance_note() -> str:
    """What ran out when the active :class:`gifsym.budget.Allowance` did (for an 'unknown' verdict)."""
    pool = allowance_left()
    return f"the {pool[1].seconds:g} s of CPU time for {pool[1].what} are spent" if pool else "its allowance is spent"


def decide_relation(expr, var, relation, lo, hi, lo_open, hi_open, depth) -> Verdict:
    key = (expr, var, relation, lo, hi, lo_open, hi_open)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    if relation in ("<", "<="):
        f = -expr
    else:
        f = expr
    task = Task(expr, f, var, relation, relation in (">", "<"), lo, hi, lo_open, hi_open)
    before, cut = TRUNCATIONS[0], exceeded_count()
    verdict = _decide(task, depth)
    if TRUNCATIONS[0] == before and exceeded_count() == cut:  # a step cut short by a budget: not kept
        if len(_CACHE) >= CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = verdict
    return verdict


def _decide(task: Task, depth: int) -> Verdict:
    f, var = task.f, task.var
    others = f.free_symbols - {var}
    if others:
        return sympy_only_verdict(task, ", ".join(sorted(map(str, others))))
    if not (isinstance(task.lo, sympy.Rational) and isinstance(task.hi, sympy.Rational)):
        found = _bounded_sympy(task)
        if found:
            return found
        return Verdict("unknown", f"{task.claim}: interval ends must be rational for interval arithmetic")

    # 1. Closed ends: exact values.
    for end, is_open in ((task.lo, task.lo_open), (task.hi, task.hi_open)):
        if not is_open:
            verdict = _check_end(task, end)
            if verdict is not None:
                return verdict

    # 2. Products of powers of polynomials with rational coefficients: exact (Sturm), before interval
    # arithmetic, which cancellation defeats on an expanded polynomial of high degree.
    found = polynomial_verdict(task)
    if found is not None:
        return found

    prog = compile_program(f, var)
    screen = screen_grid(task, prog)
    if screen.violation is not None:
        return screen.violation

    if prog is None:
        found = _bounded_sympy(task)
        if found:
            return found
        return Verdict(
            "unknown", f"{task.claim}: not proved; {unsupported_reason(f, var)}; {screen.evidence}"
        )

    prover = Prover(task, prog, depth, subproof=decide_relation)
    verdict = prover.finite() if task.relation == "finite" else prover.sign()
    if verdict is not None:
        return verdict
    found = _factorwise(task, depth) if task.relation != "finite" else None
    if found:
        return found
    found = _bounded_sympy(task)
    if found:
        return found
    detail = prover.failure or "interval arithmetic inconclusive"
    return Verdict("unknown", f"{task.claim}: not proved ({detail}); {screen.evidence}")


def _bounded_sympy(task: Task) -> Verdict | None:
    """SymPy's sign reasoning under its own budget (it can run for minutes or grow to gigabytes on
    expressions with huge exponents, such as a narrow dip exp(-1e8 (t - 0.3)^2))."""
    try:
        with work_budget(SYMPY_SECONDS, memory=PROOF_MEMORY // 2):
            return sympy_verdict(task)
    except BudgetExceeded:
        return None


def _factorwise(task: Task, depth: int) -> Verdict | None:
    """The sign of a product from the signs of its factors (interval arithmetic loses it in products
    such as sqrt(1 - t) * sin(pi t), where one factor vanishes as the other's enclosure blows up)."""
    if not isinstance(task.f, sympy.Mul) or depth >= MAX_DEPTH:
        if depth >= MAX_DEPTH:
            TRUNCATIONS[0] += 1
        return None
    sign, strict, shown = 1, True, []
    for g in task.f.args:
        if task.var not in g.free_symbols:
            constant = exact_sign(g)
            if not constant:
                return None
            sign *= constant
            continue
        middle = n50(g, task.var, (task.lo + task.hi) / 2)
        guesses = [1 if middle > 0 else -1] if middle else [1, -1]
        for guess in guesses:
            relations = (">", ">=") if guess > 0 else ("<", "<=")
            found = None
            for relation in relations[:1] if task.strict else relations[1:]:
                verdict = decide_relation(
                    g, task.var, relation, task.lo, task.hi, task.lo_open, task.hi_open, depth + 1
                )
                if verdict.holds:
                    found = relation
                    break
            if found:
                sign *= guess
                strict = strict and found in (">", "<")
                shown.append(f"{fmt_expr(g, 40)} {found} 0")
                break
        else:
            return None
    if sign < 0 or (task.strict and not strict):
        return None
    return Verdict("holds", f"{task.claim}: proved factor by factor ({', '.join(shown)} on {task.where})")


def _check_end(task: Task, end: sympy.Expr) -> Verdict | None:
    """The exact value at a closed end: refutes the relation there, or None when it is fine."""
    value = value_at(task.expr, task.var, end)
    at = f"{task.var} = {fmt_point(end)}"
    if is_undefined(value) or value.has(sympy.oo, -sympy.oo):
        if task.relation == "finite" or is_undefined(value):
            return Verdict(
                "violated",
                f"{task.claim}: {fmt_expr(task.expr)} is {fmt_expr(value)} (not a finite real number) at {at}",
            )
        return None
    if task.relation == "finite":
        return None
    sign = exact_sign(task.f.subs(task.var, end))
    if sign is None:
        return None
    if sign < 0 or (task.strict and sign == 0):
        return Verdict(
            "violated", f"{task.claim}: at {at} the value is {fmt_expr(value)}, not {task.relation} 0 (exact)"
        )
    return None
