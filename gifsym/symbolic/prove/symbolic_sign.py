"""Step 6 of a proof: SymPy's assumption system as a last resort (and the only route with symbolic
parameters)."""

from __future__ import annotations

import sympy

from gifsym.symbolic.prove.budget import MAX_SYMBOLIC_OPS
from gifsym.symbolic.prove.points import value_at
from gifsym.symbolic.prove.program import FUNCTIONS, Unsupported
from gifsym.symbolic.prove.task import Task
from gifsym.symbolic.prove.verdict import Verdict, fmt_expr, fmt_point

# -- 5. SymPy -----------------------------------------------------------------------------------------


def sympy_only_verdict(task: Task, names: str) -> Verdict:
    if task.relation == "finite":
        prog_free = _symbolic_finite(task)
        if prog_free is not None:
            return prog_free
    else:
        for end, is_open in ((task.lo, task.lo_open), (task.hi, task.hi_open)):
            if not is_open:
                value = value_at(task.f, task.var, end)
                sign = value.is_positive if task.strict else value.is_nonnegative
                if sign is False and (value.is_negative or (task.strict and value.is_zero)):
                    return Verdict(
                        "violated",
                        f"{task.claim}: at {task.var} = {fmt_point(end)} the value is {fmt_expr(value)} (exact, for all "
                        f"values of {names})",
                    )
        found = sympy_verdict(task)
        if found:
            return found
    return Verdict("unknown", f"{task.claim}: depends on the parameters {names}; SymPy could not decide it")


def _symbolic_finite(task: Task) -> Verdict | None:
    """Definedness conditions proved by SymPy alone (parameters present)."""
    # The conditions make sqrt/log/powers real only if everything else is: no I, real parameters.
    if task.f.has(sympy.I) or any(x.is_extended_real is not True for x in task.f.free_symbols - {task.var}):
        return None
    u = sympy.Dummy("u", positive=True)
    try:
        conditions = _symbolic_conditions(task.f)
    except Unsupported:
        return None
    for g, rel in conditions:
        sub = _substituted(g, task, u)
        if sub is None:
            return None
        ok = sub.is_positive if rel == ">" else sub.is_nonnegative if rel == ">=" else sub.is_nonzero
        if ok is not True:
            return None
        for end, is_open in ((task.lo, task.lo_open), (task.hi, task.hi_open)):
            if not is_open:
                value = g.subs(task.var, end)
                ok = (
                    value.is_positive
                    if rel == ">"
                    else value.is_nonnegative
                    if rel == ">="
                    else value.is_nonzero
                )
                if ok is not True:
                    return None
    return Verdict("holds", f"{task.claim}: proved by SymPy (every operation is applied inside its domain)")


def _symbolic_conditions(expr: sympy.Expr) -> list:
    found = []
    for e in sympy.preorder_traversal(expr):
        if isinstance(e, sympy.Pow) and e.exp.is_number:
            if e.exp.is_integer:
                if e.exp.is_negative:
                    found.append((e.base, "!="))
            elif e.exp.is_positive:
                found.append((e.base, ">="))
            else:
                found.append((e.base, ">"))
        elif isinstance(e, sympy.Pow):
            found.append((e.base, ">"))
        elif isinstance(e, sympy.log):
            found.append((e.args[0], ">"))
        elif isinstance(e, sympy.tan):
            found.append((sympy.cos(e.args[0]), "!="))
        elif isinstance(e, sympy.Function) and e.func not in FUNCTIONS:
            raise Unsupported(f"the function {e.func}")
    return found


def _substituted(expr: sympy.Expr, task: Task, u: sympy.Symbol) -> sympy.Expr | None:
    # t = lo + (hi - lo) u / (1 + u) maps u in (0, oo) onto the open interval (lo, hi).
    if sympy.count_ops(expr) > MAX_SYMBOLIC_OPS:
        return None
    try:
        return expr.subs(task.var, task.lo + (task.hi - task.lo) * u / (1 + u))
    except (ValueError, TypeError, ArithmeticError):
        return None


def sympy_verdict(task: Task) -> Verdict | None:
    """SymPy's sign reasoning on the open interval, plus exact values at closed ends."""
    if task.relation == "finite":
        return _symbolic_finite(task)
    u = sympy.Dummy("u", positive=True)
    g = _substituted(task.f, task, u)
    if g is None:
        return None
    try:
        proved = _sympy_sign(g, task.strict)
    except (ValueError, TypeError, ArithmeticError, RecursionError, NotImplementedError):
        return None
    if not proved:
        return None
    for end, is_open in ((task.lo, task.lo_open), (task.hi, task.hi_open)):
        if not is_open:
            value = value_at(task.f, task.var, end)
            ok = value.is_positive if task.strict else value.is_nonnegative
            if ok is not True:
                return None
    return Verdict(
        "holds", f"{task.claim}: proved by SymPy (sign with {task.var} = lo + (hi - lo) u/(1 + u), u > 0)"
    )


def _sympy_sign(g: sympy.Expr, strict: bool) -> bool:
    check = (lambda e: e.is_positive) if strict else (lambda e: e.is_nonnegative)
    if check(g):
        return True
    for rewrite in (sympy.together, sympy.factor):
        try:
            g = rewrite(g)
        except (sympy.PolynomialError, ValueError, TypeError):
            continue
        if check(g):
            return True
    return False
