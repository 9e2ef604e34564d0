"""Values and one-sided limits at a point: :func:`prove_value`."""

from __future__ import annotations

from functools import lru_cache

import mpmath
import sympy

from gifsym.symbolic.expr import as_expr
from gifsym.symbolic.prove.budget import DIGITS, VALUE_RELATIONS, VIOLATION_RTOL
from gifsym.symbolic.prove.points import exact_sign, is_undefined, n50, value_at
from gifsym.symbolic.prove.relations import decide_relation
from gifsym.symbolic.prove.verdict import Verdict, fmt_expr, fmt_num

# ---------------------------------------------------------------------------------------------------
# Values and one-sided limits


def prove_value(
    expr: sympy.Expr,
    var: sympy.Symbol,
    point: object,
    relation: str,
    value: object,
    *,
    side: str | None = None,
    extend: str | None = None,
) -> Verdict:
    r"""Compares the value of ``expr`` at ``point`` (or a one-sided limit there) with ``value``.

    With ``side=None`` the value is ``expr.subs(var, point)``; with ``side="+"`` or ``"-"`` it is
    :math:`\lim_{var \to point^\pm} expr`. The limit is taken as the value where ``expr`` is proved
    continuous on a one-sided neighbourhood (see :func:`prove_relation` with ``"finite"``), otherwise by
    :func:`sympy.limit`. The comparison is exact when SymPy decides it, rigorous by interval arithmetic
    for constants SymPy cannot sign; a violation found only to 50 digits is reported as such, and
    equality that SymPy cannot establish stays ``unknown``.

    Args:
        expr: A SymPy expression.
        var: Its variable.
        point: Where to evaluate (a number).
        relation: ``"=="``, ``">"``, ``">="``, ``"<"`` or ``"<="``.
        value: What to compare with.
        side: ``None`` (the value), ``"+"`` (limit from the right) or ``"-"`` (from the left).
        extend: with ``side=None``, where the formula is undefined at ``point`` (``0/0``, as ``(t - t²)/t``
            at 0), the value of its continuous extension: the finite one-sided limit from this side
            (``"+"`` or ``"-"``), reported as a removable singularity. An infinite limit is no extension.

    Returns:
        A :class:`Verdict`.

    Raises:
        ValueError: an unknown relation or side.

    Example:
        >>> import sympy
        >>> t = sympy.Symbol("t")
        >>> prove_value(sympy.sqrt(1 - t**2), t, 1, "==", 0, side="-").status
        'holds'
        >>> prove_value(t**2 - t/2, t, 1, "==", 1, side="-").status
        'violated'
    """
    if relation not in VALUE_RELATIONS:
        raise ValueError(f"relation must be one of {VALUE_RELATIONS}, not {relation!r}")
    if side not in (None, "+", "-"):
        raise ValueError(f"side must be None, '+' or '-', not {side!r}")
    if extend not in (None, "+", "-"):
        raise ValueError(f"extend must be None, '+' or '-', not {extend!r}")
    if not isinstance(var, sympy.Symbol):
        raise TypeError(f"var must be a SymPy Symbol, not {var!r}")
    expr = as_expr(expr, names={var.name: var}, what="expr")
    point = sympy.nsimplify(as_expr(point, what="point"))
    value = as_expr(value, what="value")
    return _prove_value(expr, var, point, relation, value, side, extend)


@lru_cache(maxsize=1024)
def _prove_value(expr, var, point, relation, value, side, extend=None) -> Verdict:
    where = f"{var} = {point}" if side is None else f"{var} -> {point}{side}"
    what = "value" if side is None else "limit"
    claim = f"{what} of {fmt_expr(expr)} at {where} {relation} {value}"
    if side is None:
        result = value_at(expr, var, point)
        how = "exact value"
    else:
        result, how = _limit(expr, var, point, side)
        if result is None:
            return Verdict("unknown", f"{claim}: not proved; {how}")
    if is_undefined(result) and side is None and extend is not None:
        limit, how = _limit(expr, var, point, extend)
        if limit is None:
            return Verdict("unknown", f"{claim}: the formula is undefined there ({result}) and its limit from "
                                      f"the {'right' if extend == '+' else 'left'} is not known; {how}")
        if limit.is_finite:
            how = (f"the formula is undefined there ({result}): a removable singularity, the value of its "
                   f"continuous extension is the limit from the {'right' if extend == '+' else 'left'}, {how}")
            return _compare(claim, what, limit, relation, value, how)
        return Verdict("violated", f"{claim}: the value is undefined ({result}) and the limit from the "
                                   f"{'right' if extend == '+' else 'left'} is {limit}, so no continuous "
                                   "extension")
    if is_undefined(result):
        return Verdict("violated", f"{claim}: the {what} is undefined ({result})")
    return _compare(claim, what, result, relation, value, how)


def _limit(expr, var, point, side) -> tuple:
    value = value_at(expr, var, point)
    if not is_undefined(value) and not value.has(sympy.oo, -sympy.oo) and isinstance(point, sympy.Rational):
        # Continuous on a one-sided neighbourhood => the limit is the value.
        delta = sympy.Rational(1, 1000)
        lo, hi = (point - delta, point) if side == "-" else (point, point + delta)
        verdict = decide_relation(expr, var, "finite", lo, hi, False, False, 0)
        if verdict.holds:
            return value, f"continuous on [{lo}, {hi}] (proved), so the limit is the value"
    try:
        limit = sympy.limit(expr, var, point, dir=side)
    except (NotImplementedError, ValueError, TypeError, ArithmeticError, RecursionError, AttributeError):
        limit = None
    if (
        limit is not None
        and (limit.is_number or limit in (sympy.oo, -sympy.oo))
        and not limit.has(sympy.AccumBounds, sympy.Limit)
    ):
        return limit, "computed by sympy.limit"
    samples = []
    for k in (4, 8, 16, 32):
        h = sympy.Rational(1, 10**k)
        p = point - h if side == "-" else point + h
        v = n50(expr, var, p)
        samples.append(f"{fmt_num(v) if v is not None else 'undefined'} at {var} = {point}{side}1e-{k}")
    return None, "SymPy could not compute the limit; values: " + ", ".join(samples)


def _compare(claim, what, result, relation, value, how) -> Verdict:
    stated = f"the {what} is {fmt_expr(result)} ({how})"
    difference = result - value
    if difference.has(sympy.nan, sympy.zoo):  # oo - oo and the like
        return Verdict("unknown", f"{claim}: {stated}; cannot compare it with {value}")
    params = ", ".join(sorted(map(str, difference.free_symbols)))
    if relation == "==":
        zero = difference.is_zero
        if zero is None and not difference.has(sympy.oo, -sympy.oo) and sympy.count_ops(difference) <= 200:
            try:
                zero = sympy.simplify(difference).is_zero
            except (ValueError, TypeError, ArithmeticError, RecursionError, NotImplementedError):
                zero = None
        if zero is True:
            return Verdict("holds", f"{claim}: {stated}, exactly {value}")
        if zero is False:
            return Verdict("violated", f"{claim}: {stated}, not {value} (exact)")
    else:
        sign = exact_sign(difference)
        if sign is not None:
            ok = {">": sign > 0, ">=": sign >= 0, "<": sign < 0, "<=": sign <= 0}[relation]
            verb = "so" if ok else "not"
            return Verdict("holds" if ok else "violated", f"{claim}: {stated}, {verb} {relation} {value}")
    if params:
        return Verdict(
            "unknown", f"{claim}: {stated}; depends on the parameters {params}, SymPy could not decide"
        )
    number = n50(difference, sympy.Dummy(), 0)
    if number is None:
        return Verdict("unknown", f"{claim}: {stated}; could not evaluate the comparison with {value}")
    reference = n50(value, sympy.Dummy(), 0) or mpmath.mpf(0)
    tolerance = VIOLATION_RTOL * max(abs(reference), mpmath.mpf(1))
    if relation == "==":
        if abs(number) > tolerance:
            return Verdict(
                "violated",
                f"{claim}: {stated} ≈ {fmt_num(number + reference)}, not {value} (to {DIGITS} digits)",
            )
        return Verdict("unknown", f"{claim}: {stated}; equal to {value} to {DIGITS} digits but not proved")
    bad = number < -tolerance if relation in (">", ">=") else number > tolerance
    if bad:
        return Verdict(
            "violated",
            f"{claim}: {stated} ≈ {fmt_num(number + reference)}, not {relation} {value} (to {DIGITS} digits)",
        )
    return Verdict(
        "unknown", f"{claim}: {stated} ≈ {fmt_num(number + reference)}; {relation} {value} is not proved"
    )
