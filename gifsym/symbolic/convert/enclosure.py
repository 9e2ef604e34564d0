r"""Rigorous interval enclosures of SymPy expressions (:mod:`mpmath.iv`, outward rounding).

:func:`enclose` evaluates an expression of one variable over an interval and returns an interval that
contains every value the expression takes there: each operation is mpmath's interval version, exact
constants enter as enclosures of their values. It is what makes a numerical inverse *certified* (see
:mod:`gifsym.symbolic.convert.snr`): a sign of ``f(t) − y`` read off an enclosure is a proof.

Example:
    >>> import sympy
    >>> t = sympy.Symbol("t")
    >>> box = enclose(sympy.exp(-t) / 10, t, 0, 1)
    >>> lo, hi = endpoints(box)
    >>> lo <= 0.1 * 2.718281828 ** -1 and hi >= 0.1
    True
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import sympy
from mpmath import iv

from gifsym.errors import ConvertError

#: Working precision of the enclosures, in bits (double precision has 53).
PRECISION = 113


def _number(x: sympy.Expr):
    if x.is_Integer:
        return iv.mpf(int(x))
    if x.is_Rational:
        return iv.mpf(int(x.p)) / iv.mpf(int(x.q))
    if x is sympy.pi:
        return iv.pi
    if x is sympy.E:
        return iv.e
    if x.is_Float:
        return iv.mpf(str(x))  # the decimal the Float prints, enclosed
    raise ConvertError(f"no interval enclosure for the number {x}")


def _pow(base, exp_expr: sympy.Expr, exponent):
    if exp_expr.is_Integer:
        n = int(exp_expr)
        return base**n if n >= 0 else 1 / base ** (-n)
    if exp_expr == sympy.Rational(1, 2):
        return iv.sqrt(base)
    if exp_expr == sympy.Rational(-1, 2):
        return 1 / iv.sqrt(base)
    # x**y = exp(y log x), defined for x > 0 (the schedules' bases are positive where they are powers).
    return iv.exp(exponent * iv.log(base))


_FUNCTIONS = {
    sympy.exp: iv.exp,
    sympy.log: iv.log,
    sympy.sin: iv.sin,
    sympy.cos: iv.cos,
    sympy.tan: iv.tan,
    sympy.erf: iv.erf,
    sympy.sinh: lambda v: (iv.exp(v) - iv.exp(-v)) / 2,
    sympy.cosh: lambda v: (iv.exp(v) + iv.exp(-v)) / 2,
    sympy.tanh: lambda v: 1 - 2 / (iv.exp(2 * v) + 1),
}


def _eval(expr: sympy.Expr, var: sympy.Symbol, box):
    if expr == var:
        return box
    if expr.is_Number or expr in (sympy.pi, sympy.E):
        return _number(expr)
    if expr.is_Add:
        total = iv.mpf(0)
        for arg in expr.args:
            total = total + _eval(arg, var, box)
        return total
    if expr.is_Mul:
        total = iv.mpf(1)
        for arg in expr.args:
            total = total * _eval(arg, var, box)
        return total
    if expr.is_Pow:
        base = _eval(expr.base, var, box)
        exponent = None if expr.exp.is_Integer else _eval(expr.exp, var, box)
        return _pow(base, expr.exp, exponent)
    fn = _FUNCTIONS.get(expr.func)
    if fn is not None and len(expr.args) == 1:
        return fn(_eval(expr.args[0], var, box))
    raise ConvertError(f"no interval enclosure for {expr.func.__name__} in {sympy.sstr(expr)[:80]}")


def _fraction(raw) -> Fraction | float:
    """An mpmath raw mpf (sign, mantissa, exponent, bits) as an exact Fraction (±inf as a float)."""
    value = mpmath.mpf(raw)
    if mpmath.isinf(value):
        return float(value)
    if mpmath.isnan(value):
        raise ConvertError("interval enclosure is not a number (an operation left its domain)")
    man, exp = value.man_exp
    return Fraction(int(man)) * (Fraction(2) ** int(exp))


def endpoints(box) -> tuple[Fraction | float, Fraction | float]:
    """The ends of an interval from :func:`enclose`, exactly (Fractions; ±inf as floats)."""
    lo, hi = box._mpi_
    return _fraction(lo), _fraction(hi)


def enclose(expr: sympy.Expr, var: sympy.Symbol, lo: float | Fraction | sympy.Rational,
            hi: float | Fraction | sympy.Rational | None = None):
    """An :class:`mpmath.iv.mpf` interval containing ``expr`` for every ``var`` in ``[lo, hi]``.

    ``hi`` defaults to ``lo`` (a point, itself enclosed exactly: floats and rationals are exact binary or
    rational inputs).

    Raises:
        ConvertError: ``expr`` uses an operation without an interval version here, or has other symbols.
    """
    extra = expr.free_symbols - {var}
    if extra:
        raise ConvertError(f"cannot enclose an expression with symbolic parameters {sorted(map(str, extra))}")
    def point(v):
        if isinstance(v, (Fraction, sympy.Rational)):
            return iv.mpf(int(v.numerator if isinstance(v, Fraction) else v.p)) / iv.mpf(
                int(v.denominator if isinstance(v, Fraction) else v.q))
        return iv.mpf(v)

    saved = iv.prec  # mpmath's interval context has one global precision: set it for this call only
    iv.prec = PRECISION
    try:
        a = point(lo)
        box = a if hi is None else iv.mpf([a.a, point(hi).b])
        return _eval(expr, var, box)
    finally:
        iv.prec = saved
