r"""Tri-state sign proofs for expressions of one variable on an interval.

The schedule checker (math.md §2: S-end, S-mono, S-pos, S-smooth) asks questions such as "is
:math:`\dot a_t \le 0` for all :math:`t \in (0, 1)`?" or "is :math:`\lim_{t\to 1^-} a_t = 0`?". Each answer
is a :class:`Verdict`: ``holds`` only when *proved*, ``violated`` only with a counterexample checked to 50
digits, and ``unknown`` otherwise, always with a human-readable reason.

How a relation :math:`f \mathrel{R} 0` on an interval :math:`I` is decided, in this order:

1. **Counterexamples first.** Closed ends are checked exactly; then :math:`f` is evaluated on a grid
   (1001 points plus points clustered at the ends). A point that seems to violate the relation is
   re-evaluated with SymPy to 50 digits after exact substitution (and exactly where it must be exactly
   zero), so round-off cannot fake a violation: the violation must exceed :math:`10^{-30}` times the
   largest :math:`|f|` on the grid.
2. **Definedness.** Every operation with a restricted domain contributes a condition: a division by
   :math:`g` needs :math:`g \ne 0`, :math:`\sqrt g` needs :math:`g \ge 0`, :math:`g^{-1/2}` and
   :math:`\log g` need :math:`g > 0`, :math:`\tan g` needs :math:`\cos g \ne 0`. Each condition is itself
   proved on :math:`I` (recursively; the conditions are strictly smaller expressions). When all hold,
   :math:`f` is a composition of functions continuous on their domains, so it is continuous — hence finite
   — at every point of :math:`I`: this is how ``"finite"`` is proved. A divisor that provably changes sign
   between two grid points while continuous vanishes in between: :math:`f` is undefined there (violated).
3. **Interval arithmetic** (:mod:`mpmath.iv`, outward rounding) over closed boxes with adaptive bisection.
   Once step 2 has proved :math:`f` defined on :math:`I`, enclosures may be clipped to the proved signs
   of the conditions (removing rounding overshoot below 0 under a square root) and may be unbounded at a
   singular end (e.g. :math:`\dot a = -t/\sqrt{1-t^2}` near :math:`t = 1` gives :math:`[-\infty, -c]`):
   either way they bound every value :math:`f` takes on :math:`I`.
4. **Monotonicity at the ends.** Near an end :math:`e` where :math:`f(e) = 0` (tight relations such as
   :math:`1 - t^2 > 0` on :math:`[0, 1)`), interval arithmetic alone cannot separate :math:`f` from 0. If
   :math:`f` is continuous on the box :math:`[x, e]` (a bounded enclosure with no singular operation),
   :math:`f(e) \ge 0` exactly and :math:`f' < 0` on :math:`[x, e)`, the mean value theorem gives
   :math:`f > 0` on :math:`[x, e)` (symmetrically at the left end); the derivative's sign is proved the
   same way, up to third order.
5. **Products** are signed factor by factor when the enclosure of the product is too loose.
6. **SymPy** as a last resort (and the only route when :math:`f` has symbolic parameters): substitute
   :math:`t = lo + (hi - lo)\,u/(1 + u)` with :math:`u > 0` and ask SymPy's assumption system for the sign.

Anything not proved is ``unknown``, with the smallest grid value as evidence.

Example:
    >>> import sympy
    >>> t = sympy.Symbol("t", real=True)
    >>> prove_relation(-t / sympy.sqrt(1 - t**2), t, "<=", lo_open=True, hi_open=True).status
    'holds'
    >>> prove_relation(2*t - sympy.Rational(1, 2), t, ">=", lo_open=True, hi_open=True).status
    'violated'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import mpmath
import numpy as np
import sympy
from mpmath import iv

__all__ = ["RELATIONS", "STATUSES", "VALUE_RELATIONS", "Verdict", "combine", "prove_relation", "prove_value"]

#: The three possible answers.
STATUSES = ("holds", "violated", "unknown")
#: Relations :func:`prove_relation` understands (``expr R 0`` on the interval).
RELATIONS = (">", ">=", "<", "<=", "finite")
#: Relations :func:`prove_value` understands (``value_of_expr R value``).
VALUE_RELATIONS = ("==", ">", ">=", "<", "<=")

_GRID = 1000  # the screening grid has _GRID + 1 points (ends included where closed)
_DIGITS = 50  # digits used to confirm a counterexample
_VIOLATION_RTOL = mpmath.mpf("1e-30")  # a violation must exceed this, relative to the expression's scale
_MAX_BOXES = 1000  # interval-arithmetic boxes per proof
_MIN_WIDTH = Fraction(1, 2**32)  # relative to the interval length
_MAX_ORDER = 3  # highest derivative used by the monotonicity argument at an end
_MAX_DEPTH = 6  # nesting of definedness conditions (conditions of conditions ...)
_MAX_SYMBOLIC_OPS = 150  # larger expressions are not handed to SymPy's (slow) sign reasoning


@dataclass(frozen=True)
class Verdict:
    """The answer to one question: proved, refuted, or undecided — with the argument.

    Attributes:
        status: ``"holds"`` (proved), ``"violated"`` (a counterexample or an exact refutation) or
            ``"unknown"`` (neither; the reason gives the numeric evidence).
        reason: How it was proved, the counterexample, or what was and was not established.

    Example:
        >>> Verdict("holds", "proved by SymPy").holds
        True
    """

    status: str
    reason: str

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"Verdict status must be one of {STATUSES}, not {self.status!r}")

    @property
    def holds(self) -> bool:
        """True when the statement is proved."""
        return self.status == "holds"

    @property
    def violated(self) -> bool:
        """True when the statement is refuted."""
        return self.status == "violated"

    @property
    def unknown(self) -> bool:
        """True when neither proved nor refuted."""
        return self.status == "unknown"


def combine(*verdicts: Verdict) -> Verdict:
    """The verdict of a conjunction.

    All hold → ``holds``; any violated → ``violated``; otherwise ``unknown``. The reasons are joined with
    ``"; "`` in the order given (an empty conjunction holds vacuously).

    Example:
        >>> combine(Verdict("holds", "a"), Verdict("unknown", "b")).status
        'unknown'
    """
    if not verdicts:
        return Verdict("holds", "nothing to check")
    statuses = {v.status for v in verdicts}
    status = "violated" if "violated" in statuses else "unknown" if "unknown" in statuses else "holds"
    return Verdict(status, "; ".join(v.reason for v in verdicts))


# ---------------------------------------------------------------------------------------------------
# Formatting


def _short(expr: sympy.Basic, limit: int = 60) -> str:
    text = str(expr)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _num(value) -> str:
    """A number in reasons: 6 significant digits."""
    try:
        return mpmath.nstr(mpmath.mpf(value) if not isinstance(value, mpmath.mpf) else value, 6)
    except (TypeError, ValueError):
        return str(value)


def _point(p: sympy.Expr) -> str:
    """A point in reasons: exact and short when possible (0.001, 1/3 ≈ 0.333333)."""
    if isinstance(p, sympy.Rational):
        q = p.q
        while q % 2 == 0:
            q //= 2
        while q % 5 == 0:
            q //= 5
        if p.q == 1:
            return str(p)
        if q == 1 and p.q <= 10**8:
            return mpmath.nstr(mpmath.mpf(p.p) / p.q, 12)
        if p.q <= 1000:
            return f"{p} ≈ {_num(float(p))}"
        return _num(float(p))
    return f"{p} ≈ {_num(sympy.N(p, 15))}"


def _interval(lo, hi, lo_open: bool, hi_open: bool) -> str:
    return f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"


# ---------------------------------------------------------------------------------------------------
# Compiling a SymPy expression into a straight-line program (shared subexpressions evaluated once)


class _Unsupported(Exception):
    """The expression uses something the numeric evaluators do not know."""


class _Undefined(Exception):
    """An operation was applied outside its domain on (part of) a box."""


_FUNCTIONS = {
    sympy.exp: "exp",
    sympy.log: "log",
    sympy.sin: "sin",
    sympy.cos: "cos",
    sympy.tan: "tan",
    sympy.sinh: "sinh",
    sympy.cosh: "cosh",
    sympy.tanh: "tanh",
    sympy.erf: "erf",
    sympy.Abs: "abs",
}


@dataclass(frozen=True)
class _Program:
    nodes: tuple  # the SymPy subexpression computed by each instruction
    ops: tuple  # ("var",) | ("const", c) | ("add", idx) | ("mul", idx) | ("powi", i, n)
    #            | ("powr", i, Rational) | ("powg", i, j) | ("fn", name, i)


def _children(e: sympy.Basic, var: sympy.Symbol) -> tuple:
    if e == var:
        return ()
    if e.is_Number or e.is_NumberSymbol:
        if e.is_extended_real is not True or not e.is_finite:
            raise _Unsupported(f"the constant {e}")
        if e.is_NumberSymbol and e not in (sympy.pi, sympy.E):
            raise _Unsupported(f"the constant {e}")
        return ()
    if isinstance(e, sympy.Symbol):
        raise _Unsupported(f"the symbol {e}")
    if e.is_Atom:
        raise _Unsupported(f"the constant {e}")
    if isinstance(e, (sympy.Add, sympy.Mul)):
        return e.args
    if isinstance(e, sympy.Pow):
        return (e.base,) if isinstance(e.exp, sympy.Rational) else e.args
    if e.func in _FUNCTIONS and len(e.args) == 1:
        return e.args
    raise _Unsupported(f"the function {e.func.__name__}")


@lru_cache(maxsize=1024)
def _compile(expr: sympy.Expr, var: sympy.Symbol) -> _Program:
    index: dict = {}
    nodes: list = []
    ops: list = []
    stack = [(expr, False)]
    while stack:  # iterative post-order: deep expressions cannot exhaust the Python stack
        e, ready = stack.pop()
        if e in index:
            continue
        if not ready:
            stack.append((e, True))
            stack.extend((c, False) for c in _children(e, var) if c not in index)
            continue
        if e == var:
            op: tuple = ("var",)
        elif e.is_Number or e.is_NumberSymbol:
            op = ("const", e)
        elif isinstance(e, sympy.Add):
            op = ("add", tuple(index[a] for a in e.args))
        elif isinstance(e, sympy.Mul):
            op = ("mul", tuple(index[a] for a in e.args))
        elif isinstance(e, sympy.Pow):
            if isinstance(e.exp, sympy.Integer):
                op = ("powi", index[e.base], int(e.exp))
            elif isinstance(e.exp, sympy.Rational):
                op = ("powr", index[e.base], e.exp)
            else:
                op = ("powg", index[e.base], index[e.exp])
        else:
            op = ("fn", _FUNCTIONS[e.func], index[e.args[0]])
        index[e] = len(ops)
        ops.append(op)
        nodes.append(e)
    return _Program(tuple(nodes), tuple(ops))


def _program(expr: sympy.Expr, var: sympy.Symbol) -> _Program | None:
    try:
        return _compile(expr, var)
    except _Unsupported:
        return None


def _unsupported_reason(expr: sympy.Expr, var: sympy.Symbol) -> str:
    try:
        _compile(expr, var)
    except _Unsupported as error:
        return f"interval arithmetic does not support {error}"
    return ""


def _conditions(prog: _Program) -> tuple[tuple[sympy.Expr, str], ...]:
    """The definedness conditions ``(g, rel)`` meaning ``g rel 0`` (rel in ">", ">=", "!=")."""
    found: dict = {}
    for op in prog.ops:
        kind = op[0]
        if kind == "powi" and op[2] < 0:
            cond = (prog.nodes[op[1]], "!=")
        elif kind == "powr":
            cond = (prog.nodes[op[1]], ">=" if op[2] > 0 else ">")
        elif kind == "powg":
            cond = (prog.nodes[op[1]], ">")
        elif kind == "fn" and op[1] == "log":
            cond = (prog.nodes[op[2]], ">")
        elif kind == "fn" and op[1] == "tan":
            cond = (sympy.cos(prog.nodes[op[2]]), "!=")
        else:
            continue
        previous = found.get(cond[0])
        if previous is None or previous == cond[1]:
            found[cond[0]] = cond[1]
        else:  # g > 0 implies the others; g >= 0 together with g != 0 is g > 0
            found[cond[0]] = ">"
    return tuple(found.items())


# ---------------------------------------------------------------------------------------------------
# Floating-point evaluation on a grid (screening only: never used to prove anything)


def _erf_np(x):
    # math.erf per point: screening needs no special-function library.
    return np.vectorize(math.erf, otypes=[float])(x)


_NP_FUNCS = {
    "exp": np.exp,
    "log": lambda x: np.log(np.where(x >= 0, x, np.nan)),
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "erf": _erf_np,
    "abs": np.abs,
}


def _eval_np(prog: _Program, x: np.ndarray) -> np.ndarray:
    vals: list = []
    with np.errstate(all="ignore"):
        for op in prog.ops:
            kind = op[0]
            if kind == "var":
                v = x
            elif kind == "const":
                try:
                    c = float(op[1])
                except (OverflowError, TypeError):
                    c = math.nan
                v = np.full_like(x, c)
            elif kind == "add":
                v = sum(vals[i] for i in op[1])
            elif kind == "mul":
                v = vals[op[1][0]]
                for i in op[1][1:]:
                    v = v * vals[i]
            elif kind == "powi":
                v = np.power(vals[op[1]], float(op[2]))
            elif kind == "powr":
                base = vals[op[1]]
                v = np.where(base >= 0, np.power(np.abs(base), float(op[2])), np.nan)
            elif kind == "powg":
                base = vals[op[1]]
                v = np.where(base > 0, np.exp(vals[op[2]] * np.log(np.abs(base))), np.nan)
            else:
                v = _NP_FUNCS[op[1]](vals[op[2]])
            vals.append(np.asarray(v, dtype=float) * np.ones_like(x))
    return vals[-1]


# ---------------------------------------------------------------------------------------------------
# Interval evaluation (mpmath.iv, outward rounding)

_INF = mpmath.inf


def _ends(x) -> tuple:
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
    raise _Unsupported(f"the constant {c}")


def _iv_recip(y) -> tuple:
    """1/y, allowing a denominator that touches 0 at one end (then the result is half-unbounded)."""
    a, b = _ends(y)
    if a > 0 or b < 0:
        return 1 / y, False
    if a == 0 and b > 0:
        return iv.mpf([(1 / iv.mpf(b)).a, _INF]), True
    if b == 0 and a < 0:
        return iv.mpf([-_INF, (1 / iv.mpf(a)).b]), True
    raise _Undefined("division by an interval containing 0")


def _iv_pow_rational(x, r: sympy.Rational) -> tuple:
    a, b = _ends(x)
    if a < 0:
        raise _Undefined("fractional power of a negative number")
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
        raise _Undefined("negative power of 0")
    top = iv.exp(exponent * iv.log(iv.mpf(b)))
    if r > 0:
        return iv.mpf([0, top.b]), False
    return iv.mpf([top.a, _INF]), True


def _monotone(x, point_fn, limits) -> object:
    """An increasing function on an interval: evaluate at the ends (``limits`` gives f(±inf))."""
    a, b = _ends(x)
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
        a, b = _ends(x)
        if a > 0:
            return iv.log(x), False
        if a == 0 and b > 0:
            return iv.mpf([-_INF, iv.log(iv.mpf(b)).b]), True
        raise _Undefined("logarithm of a non-positive number")
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
        a, b = _ends(x)
        low = 1 if a <= 0 <= b else _iv_cosh_point(min(abs(a), abs(b))).a
        high = _INF if max(abs(a), abs(b)) == _INF else _iv_cosh_point(max(abs(a), abs(b))).b
        return iv.mpf([low, high]), False
    if name == "abs":
        return abs(x), False
    raise _Unsupported(f"the function {name}")  # pragma: no cover


def _iv_cosh_point(v):
    p = iv.mpf(v)
    return (iv.exp(p) + iv.exp(-p)) / 2


def _clamp(v, sign: int):
    """Intersects an enclosure with the half-line a proved sign allows (outward rounding can leave it)."""
    a, b = _ends(v)
    if sign > 0:
        if b < 0:
            raise _Undefined("enclosure contradicts a proved sign")
        return iv.mpf([0, b]) if a < 0 else v
    if a > 0:
        raise _Undefined("enclosure contradicts a proved sign")
    return iv.mpf([a, 0]) if b > 0 else v


def _eval_iv(prog: _Program, x, known: dict | None = None) -> tuple:
    """An enclosure of the program over the interval ``x`` and whether a singular end was touched.

    ``known`` maps instruction indices to signs (+1: >= 0, -1: <= 0) proved for every point of the set
    the caller cares about; those enclosures are clipped accordingly, which is sound for that set (the
    result then only bounds the values at its points, which is all the caller uses it for).

    Raises:
        _Undefined: an operation's argument left its domain somewhere on the box (the box must be split,
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
            low = _ends(base)[0]
            if low > 0:
                v = iv.exp(vals[op[2]] * iv.log(base))
            elif low == 0 and _ends(base)[1] > 0:
                logs, _ = _iv_fn("log", base)
                v = iv.exp(vals[op[2]] * logs)
                singular = True
            else:
                raise _Undefined("power with a non-positive base")
        else:
            v, s = _iv_fn(op[1], vals[op[2]])
            singular |= s
        a, b = _ends(v)
        if mpmath.isnan(a) or mpmath.isnan(b):
            raise _Undefined("undefined interval operation")
        if known and len(vals) in known:
            v = _clamp(v, known[len(vals)])
        vals.append(v)
    return vals[-1], singular


def _try_iv(prog: _Program, x, known: dict | None = None) -> tuple:
    try:
        return _eval_iv(prog, x, known)
    except (_Undefined, ZeroDivisionError, ValueError, OverflowError):
        return None, False


def _box(x: Fraction, y: Fraction):
    return iv.mpf([_iv_rational(x).a, _iv_rational(y).b])


# ---------------------------------------------------------------------------------------------------
# Exact and 50-digit point values


def _is_undefined(value: sympy.Basic) -> bool:
    return bool(value.has(sympy.nan, sympy.zoo)) or value.is_extended_real is False


def _value_at(expr: sympy.Expr, var: sympy.Symbol, point: sympy.Expr) -> sympy.Expr:
    try:
        return expr.subs(var, point)
    except (ValueError, TypeError, ZeroDivisionError, ArithmeticError):
        return sympy.nan


def _n50(expr: sympy.Expr, var: sympy.Symbol, point: sympy.Expr):
    """The value at ``point`` to 50 digits as an mpf, or None when not a finite real number.

    The point is substituted exactly first (evalf's own ``subs`` would round it, which turns a pole
    into a huge finite number); SymPy's evalf then works to 50 correct digits.
    """
    exact = _value_at(expr, var, point) if var in expr.free_symbols else expr
    if exact.free_symbols or _is_undefined(exact) or exact.has(sympy.oo, -sympy.oo):
        return None
    try:
        value = exact.evalf(_DIGITS)
    except (ValueError, TypeError, ZeroDivisionError, ArithmeticError, RecursionError):
        return None
    if not (value.is_Number and value.is_finite and value.is_extended_real):
        return None
    with mpmath.workdps(_DIGITS):
        return mpmath.mpf(value)


# ---------------------------------------------------------------------------------------------------
# The prover

_CACHE: dict = {}
_CACHE_LIMIT = 4096
# Bumped whenever the nesting limit cuts a sub-proof short; a verdict computed while it moved is not
# cached, since a call from shallower nesting could decide it.
_TRUNCATIONS = [0]


@dataclass(frozen=True)
class _Task:
    expr: sympy.Expr  # the expression as asked
    f: sympy.Expr  # normalized: the question is "f > 0" / "f >= 0" (or "finite")
    var: sympy.Symbol
    relation: str  # as asked
    strict: bool
    lo: sympy.Rational
    hi: sympy.Rational
    lo_open: bool
    hi_open: bool

    @property
    def where(self) -> str:
        return _interval(self.lo, self.hi, self.lo_open, self.hi_open)

    @property
    def claim(self) -> str:
        if self.relation == "finite":
            return f"{_short(self.expr)} finite on {self.where}"
        return f"{_short(self.expr)} {self.relation} 0 on {self.where}"


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
    expr = sympy.sympify(expr, strict=True)
    var = sympy.sympify(var, strict=True)
    if not isinstance(var, sympy.Symbol):
        raise TypeError(f"var must be a SymPy Symbol, not {var!r}")
    lo, hi = sympy.nsimplify(sympy.sympify(lo, strict=True)), sympy.nsimplify(sympy.sympify(hi, strict=True))
    if not (lo.is_number and hi.is_number) or (hi - lo).is_positive is not True:
        raise ValueError(f"the interval [{lo}, {hi}] must have numeric ends with lo < hi")
    return _relation(expr, var, relation, lo, hi, bool(lo_open), bool(hi_open), 0)


def _relation(expr, var, relation, lo, hi, lo_open, hi_open, depth) -> Verdict:
    key = (expr, var, relation, lo, hi, lo_open, hi_open)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    if relation in ("<", "<="):
        f = -expr
    else:
        f = expr
    task = _Task(expr, f, var, relation, relation in (">", "<"), lo, hi, lo_open, hi_open)
    before = _TRUNCATIONS[0]
    verdict = _decide(task, depth)
    if _TRUNCATIONS[0] == before:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = verdict
    return verdict


def _decide(task: _Task, depth: int) -> Verdict:
    f, var = task.f, task.var
    others = f.free_symbols - {var}
    if others:
        return _symbolic_only(task, ", ".join(sorted(map(str, others))))
    if not (isinstance(task.lo, sympy.Rational) and isinstance(task.hi, sympy.Rational)):
        found = _symbolic(task)
        if found:
            return found
        return Verdict("unknown", f"{task.claim}: interval ends must be rational for interval arithmetic")

    # 1. Closed ends: exact values.
    for end, is_open in ((task.lo, task.lo_open), (task.hi, task.hi_open)):
        if not is_open:
            verdict = _check_end(task, end)
            if verdict is not None:
                return verdict

    prog = _program(f, var)
    screen = _screen(task, prog)
    if screen.violation is not None:
        return screen.violation

    if prog is None:
        found = _symbolic(task)
        if found:
            return found
        return Verdict(
            "unknown", f"{task.claim}: not proved; {_unsupported_reason(f, var)}; {screen.evidence}"
        )

    prover = _Prover(task, prog, depth)
    verdict = prover.finite() if task.relation == "finite" else prover.sign()
    if verdict is not None:
        return verdict
    found = _factorwise(task, depth) if task.relation != "finite" else None
    if found:
        return found
    found = _symbolic(task)
    if found:
        return found
    detail = prover.failure or "interval arithmetic inconclusive"
    return Verdict("unknown", f"{task.claim}: not proved ({detail}); {screen.evidence}")


def _factorwise(task: _Task, depth: int) -> Verdict | None:
    """The sign of a product from the signs of its factors (interval arithmetic loses it in products
    such as sqrt(1 - t) * sin(pi t), where one factor vanishes as the other's enclosure blows up)."""
    if not isinstance(task.f, sympy.Mul) or depth >= _MAX_DEPTH:
        if depth >= _MAX_DEPTH:
            _TRUNCATIONS[0] += 1
        return None
    sign, strict, shown = 1, True, []
    for g in task.f.args:
        if task.var not in g.free_symbols:
            constant = _exact_sign(g)
            if not constant:
                return None
            sign *= constant
            continue
        middle = _n50(g, task.var, (task.lo + task.hi) / 2)
        guesses = [1 if middle > 0 else -1] if middle else [1, -1]
        for guess in guesses:
            relations = (">", ">=") if guess > 0 else ("<", "<=")
            found = None
            for relation in relations[:1] if task.strict else relations[1:]:
                verdict = _relation(
                    g, task.var, relation, task.lo, task.hi, task.lo_open, task.hi_open, depth + 1
                )
                if verdict.holds:
                    found = relation
                    break
            if found:
                sign *= guess
                strict = strict and found in (">", "<")
                shown.append(f"{_short(g, 40)} {found} 0")
                break
        else:
            return None
    if sign < 0 or (task.strict and not strict):
        return None
    return Verdict("holds", f"{task.claim}: proved factor by factor ({', '.join(shown)} on {task.where})")


def _check_end(task: _Task, end: sympy.Expr) -> Verdict | None:
    """The exact value at a closed end: refutes the relation there, or None when it is fine."""
    value = _value_at(task.expr, task.var, end)
    at = f"{task.var} = {_point(end)}"
    if _is_undefined(value) or value.has(sympy.oo, -sympy.oo):
        if task.relation == "finite" or _is_undefined(value):
            return Verdict(
                "violated",
                f"{task.claim}: {_short(task.expr)} is {_short(value)} (not a finite real number) at {at}",
            )
        return None
    if task.relation == "finite":
        return None
    sign = _exact_sign(task.f.subs(task.var, end))
    if sign is None:
        return None
    if sign < 0 or (task.strict and sign == 0):
        return Verdict(
            "violated", f"{task.claim}: at {at} the value is {_short(value)}, not {task.relation} 0 (exact)"
        )
    return None


def _exact_sign(value: sympy.Expr) -> int | None:
    """The sign of a constant, exactly (SymPy) or rigorously (interval arithmetic); None if unknown."""
    if value.has(sympy.nan, sympy.zoo):
        return None
    if value.is_zero:
        return 0
    if value.is_extended_positive:
        return 1
    if value.is_extended_negative:
        return -1
    enclosure = _constant_enclosure(value)
    if enclosure is not None:
        a, b = _ends(enclosure)
        if a > 0:
            return 1
        if b < 0:
            return -1
    return None


def _constant_enclosure(value: sympy.Expr):
    if value.free_symbols:
        return None
    dummy = sympy.Dummy("x")
    prog = _program(value, dummy)
    if prog is None:
        return None
    enclosure, singular = _try_iv(prog, iv.mpf(0))
    return None if singular else enclosure


# -- 1. screening -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Screen:
    violation: Verdict | None
    evidence: str


def _grid_points(task: _Task) -> list:
    lo, hi = task.lo, task.hi
    width = hi - lo
    points = {lo + width * sympy.Rational(k, _GRID) for k in range(1, _GRID)}
    for j in (12, 16, 20, 26, 32, 40):
        points.add(lo + width / 2**j)
        points.add(hi - width / 2**j)
    if not task.lo_open:
        points.add(lo)
    if not task.hi_open:
        points.add(hi)
    return sorted(points)


@lru_cache(maxsize=256)
def _grid_cached(lo, hi, lo_open, hi_open) -> tuple:
    task = _Task(sympy.S.Zero, sympy.S.Zero, sympy.Dummy(), ">", False, lo, hi, lo_open, hi_open)
    points = _grid_points(task)
    # Regular grid points (multiples of 1/_GRID of the interval) make readable counterexamples.
    regular = np.array([((p - lo) / (hi - lo) * _GRID).is_integer for p in points])
    return tuple(points), np.array([float(p) for p in points]), regular


def _screen(task: _Task, prog: _Program | None) -> _Screen:
    points, xs, regular = _grid_cached(task.lo, task.hi, task.lo_open, task.hi_open)
    if prog is None:
        # No fast evaluator: a coarse grid evaluated by SymPy (exact substitution, 15 digits).
        keep = [
            i
            for i, p in enumerate(points)
            if regular[i] and ((p - task.lo) / (task.hi - task.lo) * 40).is_integer
        ]
        points, regular = [points[i] for i in keep], regular[keep]
        values = np.array([_float_at(task.f, task.var, p) for p in points])
    else:
        values = _eval_np(prog, xs)
    finite = np.isfinite(values)
    scale = float(np.max(np.abs(values[finite]))) if finite.any() else 0.0
    if task.relation == "finite":
        order = sorted(np.flatnonzero(~finite), key=lambda i: not regular[i])
    else:
        bad = ~finite | (values <= 0 if task.strict else values < 0)
        candidates = np.flatnonzero(bad)
        # The most violating regular point first; then the end clusters; unevaluable points last.
        order = sorted(
            candidates, key=lambda i: (not finite[i], not regular[i], values[i] if finite[i] else 0.0)
        )
    for i in order[:6]:
        verdict = _confirm(task, points[i], scale)
        if verdict is not None:
            return _Screen(verdict, "")
    if finite.any():
        shown = np.where(finite, values, np.inf)
        k = int(np.argmin(shown))
        sign = -1 if task.relation in ("<", "<=") else 1
        what = "max" if sign < 0 else "min"
        evidence = (
            f"{what} of {_short(task.expr)} over {len(points)} points in {task.where} is "
            f"{_num(sign * values[k])} at {task.var} = {_point(points[k])}"
        )
        if not finite.all():
            evidence += f" ({int((~finite).sum())} points not evaluable in floating point)"
    else:
        evidence = "no grid point could be evaluated in floating point"
    return _Screen(None, evidence)


def _float_at(expr: sympy.Expr, var: sympy.Symbol, point: sympy.Expr) -> float:
    value = _value_at(expr, var, point)
    if _is_undefined(value) or value.free_symbols:
        return math.nan
    try:
        return float(value.evalf(15))
    except (TypeError, ValueError, OverflowError):
        return math.nan


def _imaginary_part(value: sympy.Expr):
    """The imaginary part of a constant when it is clearly nonzero at 50 digits, else None."""
    if value.free_symbols or not value.is_number:
        return None
    try:
        number = value.evalf(_DIGITS)
        real, imaginary = number.as_real_imag()
    except (ValueError, TypeError, ArithmeticError, RecursionError):
        return None
    if not (imaginary.is_Number and real.is_Number):
        return None
    size = max(abs(real), abs(imaginary), 1)
    return imaginary if mpmath.mpf(abs(imaginary)) > _VIOLATION_RTOL * mpmath.mpf(size) else None


def _confirm(task: _Task, p: sympy.Rational, scale: float) -> Verdict | None:
    """Re-checks a suspicious grid point exactly / to 50 digits; a Verdict only for a real violation."""
    var, at = task.var, f"{task.var} = {_point(p)}"
    value = _n50(task.f, var, p)
    if value is None:
        exact = _value_at(task.expr, var, p)
        if _is_undefined(exact) or (task.relation == "finite" and exact.has(sympy.oo, -sympy.oo)):
            return Verdict(
                "violated",
                f"{task.claim}: counterexample: {_short(task.expr)} is {_short(exact)} (not a finite real number) at {at}",
            )
        imaginary = _imaginary_part(exact)
        if imaginary is not None:
            return Verdict(
                "violated",
                f"{task.claim}: counterexample: {_short(task.expr)} is not real at {at} (imaginary part "
                f"{_num(imaginary)}, checked to {_DIGITS} digits)",
            )
        return None
    if task.relation == "finite":
        return None
    threshold = _VIOLATION_RTOL * mpmath.mpf(scale) if scale > 0 else mpmath.mpf(_VIOLATION_RTOL)
    shown = -value if task.relation in ("<", "<=") else value
    if value < -threshold:
        return Verdict(
            "violated",
            f"{task.claim}: counterexample: {_short(task.expr)} = {_num(shown)} at {at}, "
            f"not {task.relation} 0 (checked to {_DIGITS} digits)",
        )
    if task.strict and abs(value) <= threshold:
        exact = _value_at(task.f, var, p)
        if exact.is_zero or (
            exact.is_number and sympy.count_ops(exact) <= 200 and sympy.simplify(exact) == 0
        ):
            return Verdict(
                "violated",
                f"{task.claim}: counterexample: {_short(task.expr)} = 0 at {at} (exact), "
                f"not {task.relation} 0",
            )
    return None


# -- 2.-4. definedness, interval arithmetic and monotonicity --------------------------------------------


class _Prover:
    def __init__(self, task: _Task, prog: _Program, depth: int) -> None:
        self.task = task
        self.prog = prog
        self.depth = depth
        self.failure: str | None = None
        self.boxes = 0
        self.notes: list[str] = []
        self._domains: dict = {}
        self._end_signs: dict = {}
        self._derivatives: dict = {0: (task.f, prog)}
        self.lo = Fraction(int(task.lo.p), int(task.lo.q))
        self.hi = Fraction(int(task.hi.p), int(task.hi.q))

    # definedness --------------------------------------------------------------------------------

    def domain(self, k: int, whole: bool) -> Verdict:
        """Definedness of the k-th derivative on the task's interval (``whole``) or its interior."""
        key = (k, whole)
        if key not in self._domains:
            _, prog = self.derivative(k)
            t = self.task
            lo_open, hi_open = (t.lo_open, t.hi_open) if whole else (True, True)
            verdict, signs = self._domain_of(prog, t.lo, t.hi, lo_open, hi_open)
            known = None
            if verdict.holds and prog is not None:
                position = {node: i for i, node in enumerate(prog.nodes)}
                known = {position[g]: sign for g, sign in signs.items() if g in position}
            self._domains[key] = (verdict, known)
        return self._domains[key][0]

    def known(self, k: int, whole: bool) -> dict | None:
        """Proved signs of the k-th derivative's domain-restricted subexpressions (None unless proved)."""
        self.domain(k, whole)
        return self._domains[(k, whole)][1]

    def _domain_of(self, prog, lo, hi, lo_open, hi_open) -> tuple[Verdict, dict]:
        if prog is None:
            return Verdict("unknown", "unsupported function"), {}
        where = _interval(lo, hi, lo_open, hi_open)
        conditions = _conditions(prog)
        if not conditions:
            return Verdict("holds", "no operation with a restricted domain"), {}
        if self.depth >= _MAX_DEPTH:
            _TRUNCATIONS[0] += 1
            return Verdict("unknown", "definedness conditions nested too deeply"), {}
        proved, signs = [], {}
        for g, rel in conditions:
            verdict, sign, shown = self._condition(g, rel, lo, hi, lo_open, hi_open)
            if not verdict.holds:
                return Verdict(
                    "unknown", f"could not prove {_short(g)} {rel} 0 on {where} ({verdict.reason})"
                ), {}
            proved.append(f"{_short(g, 40)} {shown} 0")
            signs[g] = sign
        return Verdict("holds", f"defined on {where}: " + ", ".join(proved)), signs

    def _condition(self, g, rel, lo, hi, lo_open, hi_open) -> tuple[Verdict, int, str]:
        """Proves one definedness condition; returns the verdict, the sign of g and the relation shown."""
        var = self.task.var
        if var not in g.free_symbols:
            sign = _exact_sign(g)
            ok = sign is not None and (sign > 0 or (sign == 0 and rel == ">=") or (sign < 0 and rel == "!="))
            shown = rel if rel != "!=" else ("<" if sign is not None and sign < 0 else ">")
            return Verdict("holds" if ok else "unknown", f"constant {_short(g)}"), sign or 1, shown
        if rel != "!=":
            return _relation(g, var, rel, lo, hi, lo_open, hi_open, self.depth + 1), 1, rel
        # g != 0: prove the sign g has in the middle of the interval.
        middle = _n50(g, var, (lo + hi) / 2)
        first = "<" if middle is not None and middle < 0 else ">"
        verdict = _relation(g, var, first, lo, hi, lo_open, hi_open, self.depth + 1)
        return verdict, -1 if first == "<" else 1, first

    def derivative(self, k: int) -> tuple:
        if k not in self._derivatives:
            previous, _ = self.derivative(k - 1)
            expr = sympy.diff(previous, self.task.var)
            self._derivatives[k] = (expr, _program(expr, self.task.var))
        return self._derivatives[k]

    # "finite" -----------------------------------------------------------------------------------

    def finite(self) -> Verdict | None:
        t = self.task
        domain = self.domain(0, whole=True)
        if domain.holds:
            return Verdict(
                "holds",
                f"{t.claim}: proved: continuous (every operation is applied inside its domain; {domain.reason})",
            )
        undefined = self.undefined_point()
        if undefined is not None:
            return undefined
        # Fallback for closed intervals: bounded, non-singular enclosures on boxes covering it.
        if not (t.lo_open or t.hi_open):
            stack = [(self.lo, self.hi)]
            while stack:
                x, y = stack.pop()
                self.boxes += 1
                enclosure, singular = _try_iv(self.prog, _box(x, y))
                if enclosure is not None and not singular:
                    a, b = _ends(enclosure)
                    if mpmath.isfinite(a) and mpmath.isfinite(b):
                        continue
                if self.boxes > _MAX_BOXES or y - x < _MIN_WIDTH * (self.hi - self.lo):
                    break
                mid = (x + y) / 2
                stack += [(mid, y), (x, mid)]
            else:
                return Verdict("holds", f"{t.claim}: proved by interval arithmetic ({self.boxes} boxes)")
        self.failure = domain.reason
        return None

    # signs --------------------------------------------------------------------------------------

    def good(self, enclosure, sign: int, strict: bool) -> bool:
        a, b = _ends(enclosure)
        if sign > 0:
            return a > 0 if strict else a >= 0
        return b < 0 if strict else b <= 0

    def sign(self) -> Verdict | None:
        t = self.task
        width = self.hi - self.lo
        stack = [(self.lo, self.hi)]
        used_singular = False
        while stack:
            x, y = stack.pop()
            self.boxes += 1
            if self.boxes > _MAX_BOXES:
                self.failure = f"gave up after {_MAX_BOXES} boxes near [{_num(float(x))}, {_num(float(y))}]"
                return self.stalled(x, y)
            box = _box(x, y)
            enclosure, singular = _try_iv(self.prog, box)
            if (enclosure is None or singular) and self.known(0, whole=True) is not None:
                # Defined on the interval (proved): clip enclosures to the proved signs, which removes
                # rounding overshoot below 0 under square roots and the like.
                enclosure, singular = _try_iv(self.prog, box, self.known(0, whole=True))
                if enclosure is not None and self.good(enclosure, 1, t.strict):
                    used_singular = True
                    continue
            if enclosure is not None and not singular and self.good(enclosure, 1, t.strict):
                continue
            if enclosure is not None and not singular and self.good(enclosure, -1, not t.strict):
                # The whole box violates the relation: any point of it is a counterexample.
                p = sympy.Rational((x + y) / 2)
                value = _n50(t.expr, t.var, p)
                return Verdict(
                    "violated",
                    f"{t.claim}: counterexample: {_short(t.expr)} = {_num(value)} at {t.var} = {_point(p)} "
                    f"(interval arithmetic: the relation fails on all of [{_num(float(x))}, {_num(float(y))}])",
                )
            if y - x <= width / 8:
                side = "lo" if x == self.lo else "hi" if y == self.hi else None
                if side is not None and self.at_end(x, y, side):
                    continue
            if y - x < _MIN_WIDTH * width:
                self.failure = f"interval arithmetic inconclusive on [{_num(float(x))}, {_num(float(y))}]"
                return self.stalled(x, y)
            mid = (x + y) / 2
            stack += [(mid, y), (x, mid)]
        reason = f"{t.claim}: proved by interval arithmetic ({self.boxes} boxes)"
        if used_singular:
            reason += f"; enclosures clipped to proved signs / unbounded at a singular end, valid since {self.domain(0, True).reason}"
        if self.notes:
            reason += "; " + "; ".join(dict.fromkeys(self.notes))
        return Verdict("holds", reason)

    def stalled(self, x: Fraction, y: Fraction) -> Verdict | None:
        """Bisection stalled on a tiny box: often a touching zero at a simple rational point; try it."""
        t = self.task
        candidate = sympy.Rational((x + y) / 2).limit_denominator(10**6)
        if (
            t.lo < candidate < t.hi
            or (candidate == t.lo and not t.lo_open)
            or (candidate == t.hi and not t.hi_open)
        ):
            value = _value_at(t.f, t.var, candidate)
            sign = None if _is_undefined(value) else _exact_sign(value)
            if sign is not None and (sign < 0 or (sign == 0 and t.strict)):
                shown = _value_at(t.expr, t.var, candidate)
                return Verdict(
                    "violated",
                    f"{t.claim}: counterexample: {_short(t.expr)} = {_short(shown)} at {t.var} = {_point(candidate)} "
                    f"(exact), not {t.relation} 0",
                )
        if not self.domain(0, whole=True).holds:
            return self.undefined_point()
        return None

    def undefined_point(self) -> Verdict | None:
        """A point where a divisor (or the cosine under a tan) vanishes, found by a proved sign change."""
        t = self.task
        points, xs, _ = _grid_cached(t.lo, t.hi, t.lo_open, t.hi_open)
        for g, rel in _conditions(self.prog):
            if rel != "!=" or t.var not in g.free_symbols:
                continue
            prog = _program(g, t.var)
            if prog is None:
                continue
            values = _eval_np(prog, xs)
            changes = np.flatnonzero(
                np.isfinite(values[:-1]) & np.isfinite(values[1:]) & (values[:-1] * values[1:] < 0)
            )
            for i in changes[:3]:
                p1, p2 = points[i], points[i + 1]
                v1, v2 = _n50(g, t.var, p1), _n50(g, t.var, p2)
                if v1 is None or v2 is None or v1 * v2 >= 0:
                    continue
                continuous = _relation(g, t.var, "finite", p1, p2, False, False, self.depth + 1)
                if continuous.holds:
                    return Verdict(
                        "violated",
                        f"{t.claim}: {_short(t.expr)} is undefined at some {t.var} in ({_point(p1)}, {_point(p2)}): "
                        f"{_short(g)} is continuous there and changes sign ({_num(v1)} to {_num(v2)}), so it "
                        f"vanishes, and the expression divides by it (or has a pole of tan) there",
                    )
        return None

    def at_end(self, x: Fraction, y: Fraction, side: str) -> bool:
        """Monotonicity argument on a box touching an end of the interval."""
        t = self.task
        end = self.lo if side == "lo" else self.hi
        if not (t.lo_open if side == "lo" else t.hi_open):
            # The claim below covers the box minus the end; a closed end needs its own value proved.
            end_sign = self.end_sign(0, end)
            if end_sign is None or end_sign < 0 or (t.strict and end_sign == 0):
                return False
        box = _box(x, y)
        if self.claim(0, 1, t.strict, box, end, side):
            e = sympy.Rational(end)
            self.notes.append(
                f"near {t.var} = {_point(e)}: by the mean value theorem from the value at {_point(e)} and the sign "
                f"of the derivatives on [{_num(float(x))}, {_num(float(y))}]"
            )
            return True
        return False

    def claim(self, k: int, sign: int, strict: bool, box, end: Fraction, side: str) -> bool:
        """Proves sign * f^(k) > 0 (or >= 0) on the box minus the end point."""
        _, prog = self.derivative(k)
        if prog is None:
            return False
        self.boxes += 1
        # The box lies inside the interval and away from its other end, so the box minus the end point
        # lies in the task's set (k = 0) and in the open interval (k >= 1): definedness proved there
        # licenses clipped or unbounded enclosures.
        whole = k == 0
        enclosure, singular = _try_iv(prog, box)
        defined = False
        if enclosure is None or singular:
            known = self.known(k, whole)
            if known is not None:
                defined = True
                enclosure, singular = _try_iv(prog, box, known)
        if enclosure is not None and self.good(enclosure, sign, strict) and (not singular or defined):
            return True
        if k >= _MAX_ORDER or enclosure is None or singular:
            return False
        # f^(k) is bounded with no singular operation on the box, so it is continuous up to the end and
        # its value there is the limit: compare with it and use the sign of f^(k+1) (mean value theorem).
        value_sign = self.end_sign(k, end)
        if value_sign is None or value_sign * sign < 0:
            return False
        strict_next = strict and value_sign == 0
        next_sign = sign if side == "lo" else -sign
        return self.claim(k + 1, next_sign, strict_next, box, end, side)

    def end_sign(self, k: int, end: Fraction) -> int | None:
        key = (k, end)
        if key not in self._end_signs:
            expr, _ = self.derivative(k)
            value = _value_at(expr, self.task.var, sympy.Rational(end))
            self._end_signs[key] = None if _is_undefined(value) else _exact_sign(value)
        return self._end_signs[key]


# -- 5. SymPy -----------------------------------------------------------------------------------------


def _symbolic_only(task: _Task, names: str) -> Verdict:
    if task.relation == "finite":
        prog_free = _symbolic_finite(task)
        if prog_free is not None:
            return prog_free
    else:
        for end, is_open in ((task.lo, task.lo_open), (task.hi, task.hi_open)):
            if not is_open:
                value = _value_at(task.f, task.var, end)
                sign = value.is_positive if task.strict else value.is_nonnegative
                if sign is False and (value.is_negative or (task.strict and value.is_zero)):
                    return Verdict(
                        "violated",
                        f"{task.claim}: at {task.var} = {_point(end)} the value is {_short(value)} (exact, for all "
                        f"values of {names})",
                    )
        found = _symbolic(task)
        if found:
            return found
    return Verdict("unknown", f"{task.claim}: depends on the parameters {names}; SymPy could not decide it")


def _symbolic_finite(task: _Task) -> Verdict | None:
    """Definedness conditions proved by SymPy alone (parameters present)."""
    # The conditions make sqrt/log/powers real only if everything else is: no I, real parameters.
    if task.f.has(sympy.I) or any(x.is_extended_real is not True for x in task.f.free_symbols - {task.var}):
        return None
    u = sympy.Dummy("u", positive=True)
    try:
        conditions = _symbolic_conditions(task.f)
    except _Unsupported:
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
        elif isinstance(e, sympy.Function) and e.func not in _FUNCTIONS:
            raise _Unsupported(f"the function {e.func}")
    return found


def _substituted(expr: sympy.Expr, task: _Task, u: sympy.Symbol) -> sympy.Expr | None:
    # t = lo + (hi - lo) u / (1 + u) maps u in (0, oo) onto the open interval (lo, hi).
    if sympy.count_ops(expr) > _MAX_SYMBOLIC_OPS:
        return None
    try:
        return expr.subs(task.var, task.lo + (task.hi - task.lo) * u / (1 + u))
    except (ValueError, TypeError, ArithmeticError):
        return None


def _symbolic(task: _Task) -> Verdict | None:
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
            value = _value_at(task.f, task.var, end)
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
    expr = sympy.sympify(expr, strict=True)
    var = sympy.sympify(var, strict=True)
    point = sympy.nsimplify(sympy.sympify(point, strict=True))
    value = sympy.sympify(value, strict=True)
    return _prove_value(expr, var, point, relation, value, side)


@lru_cache(maxsize=1024)
def _prove_value(expr, var, point, relation, value, side) -> Verdict:
    where = f"{var} = {point}" if side is None else f"{var} -> {point}{side}"
    what = "value" if side is None else "limit"
    claim = f"{what} of {_short(expr)} at {where} {relation} {value}"
    if side is None:
        result = _value_at(expr, var, point)
        how = "exact value"
    else:
        result, how = _limit(expr, var, point, side)
        if result is None:
            return Verdict("unknown", f"{claim}: not proved; {how}")
    if _is_undefined(result):
        return Verdict("violated", f"{claim}: the {what} is undefined ({result})")
    return _compare(claim, what, result, relation, value, how)


def _limit(expr, var, point, side) -> tuple:
    value = _value_at(expr, var, point)
    if not _is_undefined(value) and not value.has(sympy.oo, -sympy.oo) and isinstance(point, sympy.Rational):
        # Continuous on a one-sided neighbourhood => the limit is the value.
        delta = sympy.Rational(1, 1000)
        lo, hi = (point - delta, point) if side == "-" else (point, point + delta)
        verdict = _relation(expr, var, "finite", lo, hi, False, False, 0)
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
        v = _n50(expr, var, p)
        samples.append(f"{_num(v) if v is not None else 'undefined'} at {var} = {point}{side}1e-{k}")
    return None, "SymPy could not compute the limit; values: " + ", ".join(samples)


def _compare(claim, what, result, relation, value, how) -> Verdict:
    stated = f"the {what} is {_short(result)} ({how})"
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
        sign = _exact_sign(difference)
        if sign is not None:
            ok = {">": sign > 0, ">=": sign >= 0, "<": sign < 0, "<=": sign <= 0}[relation]
            verb = "so" if ok else "not"
            return Verdict("holds" if ok else "violated", f"{claim}: {stated}, {verb} {relation} {value}")
    if params:
        return Verdict(
            "unknown", f"{claim}: {stated}; depends on the parameters {params}, SymPy could not decide"
        )
    number = _n50(difference, sympy.Dummy(), 0)
    if number is None:
        return Verdict("unknown", f"{claim}: {stated}; could not evaluate the comparison with {value}")
    reference = _n50(value, sympy.Dummy(), 0) or mpmath.mpf(0)
    tolerance = _VIOLATION_RTOL * max(abs(reference), mpmath.mpf(1))
    if relation == "==":
        if abs(number) > tolerance:
            return Verdict(
                "violated",
                f"{claim}: {stated} ≈ {_num(number + reference)}, not {value} (to {_DIGITS} digits)",
            )
        return Verdict("unknown", f"{claim}: {stated}; equal to {value} to {_DIGITS} digits but not proved")
    bad = number < -tolerance if relation in (">", ">=") else number > tolerance
    if bad:
        return Verdict(
            "violated",
            f"{claim}: {stated} ≈ {_num(number + reference)}, not {relation} {value} (to {_DIGITS} digits)",
        )
    return Verdict(
        "unknown", f"{claim}: {stated} ≈ {_num(number + reference)}; {relation} {value} is not proved"
    )
