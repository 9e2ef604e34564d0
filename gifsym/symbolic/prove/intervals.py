"""Interval evaluation of a program (mpmath.iv, outward rounding): enclosures of every value an
expression takes on a box, and rigorous signs of constants."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import sympy
from mpmath import iv

from gifsym.symbolic.prove.program import Program, Undefined, Unsupported, compile_program

# ---------------------------------------------------------------------------------------------------
# Interval evaluation (mpmath.iv, outward rounding)

_INF = mpmath.inf


def iv_ends(x) -> tuple:
    a, b = x._mpi_
    return mpmath.mpf(a), mpmath.mpf(b)


def _iv_rational(r: Fraction | sympy.Rational):
    p, q = (r.numerator, r.denominator) if isinstance(r, Fraction) else (r.p, r.q)
    return iv.mpf(p) if q == 1 else iv.mpf(p) / iv.mpf(q)


def _iv_const(c: sympy.Expr):
    if c is sympy.pi:
        return iv.pi
    if c is sympy.E:
        return iv.e
    if isinstance(c, sympy.Float):
        return _iv_rational(sympy.Rational(c))  # a Float is a binary fraction: exact
    if isinstance(c, sympy.Rational):
        return _iv_rational(c)
    raise Unsupported(f"the constant {c}")


def _iv_recip(y) -> tuple:
    """1/y, allowing a denominator that touches 0 at one end (then the result is half-unbounded)."""
    a, b = iv_ends(y)
    if a > 0 or b < 0:
        return 1 / y, False
    if a == 0 and b > 0:
        return iv.mpf([(1 / iv.mpf(b)).a, _INF]), True
    if b == 0 and a < 0:
        return iv.mpf([-_INF, (1 / iv.mpf(a)).b]), True
    raise Undefined("division by an interval containing 0")


def _iv_pow_rational(x, r: sympy.Rational) -> tuple:
    a, b = iv_ends(x)
    if a < 0:
        raise Undefined("fractional power of a negative number")
    if r.q == 2:
        root = iv.sqrt(x)
        if r.p == 1:
            return root, False
        if r.p > 0:
            return root**r.p, False
        return _iv_recip(root ** (-r.p))
    exponent = _iv_rational(r)
    if a > 0:
        return iv.exp(exponent * iv.log(x)), False
    # The base touches 0: x**r is monotone in x, so bound it by its value at the upper end.
    if b == 0:
        if r > 0:
            return iv.mpf(0), False
        raise Undefined("negative power of 0")
    top = iv.exp(exponent * iv.log(iv.mpf(b)))
    if r > 0:
        return iv.mpf([0, top.b]), False
    return iv.mpf([top.a, _INF]), True


def _monotone(x, point_fn, limits) -> object:
    """An increasing function on an interval: evaluate at the ends (``limits`` gives f(±inf))."""
    a, b = iv_ends(x)
    low = limits[0] if a == -_INF else point_fn(a).a
    high = limits[1] if b == _INF else point_fn(b).b
    return iv.mpf([low, high])


def _iv_sinh(v):
    p = iv.mpf(v)
    return (iv.exp(p) - iv.exp(-p)) / 2


def _iv_tanh(v):
    p = iv.mpf(v)
    if v >= 0:
        q = iv.exp(-2 * p)
        return (1 - q) / (1 + q)
    q = iv.exp(2 * p)
    return (q - 1) / (q + 1)


def _iv_erf(v):
    # mpmath.iv has no reliable erf; erf is increasing, so a 100-bit value widened by far more than its
    # error (2**-60 relative) is a rigorous enclosure.
    with mpmath.workprec(100):
        y = mpmath.erf(mpmath.mpf(v))
        pad = abs(y) * mpmath.mpf(2) ** -60 + mpmath.mpf(2) ** -1000
        return iv.mpf([y - pad, y + pad])


def _iv_fn(name: str, x) -> tuple:
    if name == "exp":
        return iv.exp(x), False
    if name == "log":
        a, b = iv_ends(x)
        if a > 0:
            return iv.log(x), False
        if a == 0 and b > 0:
            return iv.mpf([-_INF, iv.log(iv.mpf(b)).b]), True
        raise Undefined("logarithm of a non-positive number")
    if name == "sin":
        return iv.sin(x), False
    if name == "cos":
        return iv.cos(x), False
    if name == "tan":
        cos_recip, singular = _iv_recip(iv.cos(x))
        return iv.sin(x) * cos_recip, singular
    if name == "sinh":
        return _monotone(x, _iv_sinh, (-_INF, _INF)), False
    if name == "tanh":
        return _monotone(x, _iv_tanh, (-1, 1)), False
    if name == "erf":
        return _monotone(x, _iv_erf, (-1, 1)), False
    if name == "cosh":
        a, b = iv_ends(x)
        low = 1 if a <= 0 <= b else _iv_cosh_point(min(abs(a), abs(b))).a
        high = _INF if max(abs(a), abs(b)) == _INF else _iv_cosh_point(max(abs(a), abs(b))).b
        return iv.mpf([low, high]), False
    if name == "abs":
        return abs(x), False
    raise Unsupported(f"the function {name}")  # pragma: no cover


def _iv_cosh_point(v):
    p = iv.mpf(v)
    return (iv.exp(p) + iv.exp(-p)) / 2


def _clamp(v, sign: int):
    """Intersects an enclosure with the half-line a proved sign allows (outward rounding can leave it)."""
    a, b = iv_ends(v)
    if sign > 0:
        if b < 0:
            raise Undefined("enclosure contradicts a proved sign")
        return iv.mpf([0, b]) if a < 0 else v
    if a > 0:
        raise Undefined("enclosure contradicts a proved sign")
    return iv.mpf([a, 0]) if b > 0 else v


def _eval_iv(prog: Program, x, known: dict | None = None) -> tuple:
    """An enclosure of the program over the interval ``x`` and whether a singular end was touched.

    ``known`` maps instruction indices to signs (+1: >= 0, -1: <= 0) proved for every point of the set
    the caller cares about; those enclosures are clipped accordingly, which is sound for that set (the
    result then only bounds the values at its points, which is all the caller uses it for).

    Raises:
        Undefined: an operation's argument left its domain somewhere on the box (the box must be split,
            or the expression really is undefined there).
    """
    vals: list = []
    singular = False
    for op in prog.ops:
        kind = op[0]
        if kind == "var":
            v = x
        elif kind == "const":
            v = _iv_const(op[1])
        elif kind == "add":
            v = vals[op[1][0]]
            for i in op[1][1:]:
                v = v + vals[i]
        elif kind == "mul":
            v = vals[op[1][0]]
            for i in op[1][1:]:
                v = v * vals[i]
        elif kind == "powi":
            n = op[2]
            if n >= 0:
                v = vals[op[1]] ** n
            else:
                v, s = _iv_recip(vals[op[1]] ** (-n))
                singular |= s
        elif kind == "powr":
            v, s = _iv_pow_rational(vals[op[1]], op[2])
            singular |= s
        elif kind == "powg":
            base = vals[op[1]]
            low = iv_ends(base)[0]
            if low > 0:
                v = iv.exp(vals[op[2]] * iv.log(base))
            elif low == 0 and iv_ends(base)[1] > 0:
                logs, _ = _iv_fn("log", base)
                v = iv.exp(vals[op[2]] * logs)
                singular = True
            else:
                raise Undefined("power with a non-positive base")
        else:
            v, s = _iv_fn(op[1], vals[op[2]])
            singular |= s
        a, b = iv_ends(v)
        if mpmath.isnan(a) or mpmath.isnan(b):
            raise Undefined("undefined interval operation")
        if known and len(vals) in known:
            v = _clamp(v, known[len(vals)])
        vals.append(v)
    return vals[-1], singular


def try_iv(prog: Program, x, known: dict | None = None) -> tuple:
    try:
        return _eval_iv(prog, x, known)
    except (Undefined, ZeroDivisionError, ValueError, OverflowError):
        return None, False


def iv_box(x: Fraction, y: Fraction):
    return iv.mpf([_iv_rational(x).a, _iv_rational(y).b])

def constant_enclosure(value: sympy.Expr):
    if value.free_symbols:
        return None
    dummy = sympy.Dummy("x")
    prog = compile_program(value, dummy)
    if prog is None:
        return None
    enclosure, singular = try_iv(prog, iv.mpf(0))
    return None if singular else enclosure
