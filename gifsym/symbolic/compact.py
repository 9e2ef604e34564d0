r"""Compact forms: a result rewritten in the schedule's own quantities, with a "where" list.

A VP bound instantiated in ``t`` repeats ``exp(t/10 - 199*(1 - t)**2/20 - 1/10)`` in every term; written in
``E = e^{-B(s)}`` and ``β(s) = B'(s)`` (``s = 1 − t``) it is a short rational function. Each catalogue
schedule declares its natural quantities (:class:`~gifsym.symbolic.schedule.Quantity`: VP and sub-VP
``s, B(s), β(s), E``; VE ``s, σ(s)``; trigonometric the angle ``φ``); a custom schedule gets abbreviations
found by common-subexpression search (``sympy.cse``). A result is rewritten in four steps:

1. **substitute**: every exponential atom ``exp(g(t))`` or ``c**g(t)`` whose logarithm is
   ``k · log Q + c₀`` for a declared exponential quantity ``Q`` (``k``, ``c₀`` free of t) becomes
   ``e^{c₀} Q^k``; then ``t`` is solved for a declared quantity that is linear in ``t`` (``β(s)``, ``s``,
   ``φ``), so what is left is a rational or algebraic function of the quantities;
2. **simplify** that function (``cancel`` / ``factor``; ``trigsimp`` for trigonometric ones) and
3. **collect** it, keeping the shortest readable candidate;
4. **substitute back only what is needed**: the definitions listed are those the result uses, with
   their own dependencies, in dependency order.

Each rewritten piece is checked against the original at seeded points before it is kept (a piece that
does not match is left as it was), and the test suite proves compact and full forms equal over the whole
inventory. Substituting the definitions back (:meth:`Compact.full`) gives the original expression.

Example:
    >>> from gifsym import schedule
    >>> c = compact(schedule("vp").b, schedule("vp"))
    >>> c.expr
    sqrt(E_s)
    >>> [d.name for d in c.definitions]
    ['s', 'B', 'E_s']
    >>> c.definitions[-1].sympy
    exp(-B)
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import mpmath
import sympy
from sympy.core.function import AppliedUndef

from gifsym.symbolic.expr import as_expr
from gifsym.symbolic.printing import latex_expr
from gifsym.symbolic.schedule import Schedule, catalogue_entry, t

#: Above this many operations a piece is only substituted and cancelled, not factored (factoring a
#: mixture's responsibilities costs seconds and does not shorten them).
MAX_FACTOR_OPS = 400

#: A candidate form is preferred over a shorter later one unless it is this much longer (factored forms
#: read better than expanded ones of about the same length).
_PREFERENCE = 1.25


class Definition(NamedTuple):
    """One entry of a "where" list: ``name = sympy``, with ``latex`` the LaTeX of the right-hand side."""

    name: str
    sympy: sympy.Expr
    latex: str


@dataclass(frozen=True)
class Compact:
    r"""A result written in named quantities.

    Attributes:
        expr: the compact expression (SymPy; a tuple of them for :func:`compact_many`).
        definitions: the quantities it uses, in dependency order: each ``(name, sympy, latex)`` with
            ``sympy`` in ``t``, numbers, the schedule's parameters and earlier definitions.
        symbols: ``(name, LaTeX of the name)`` for each definition (``("beta_s", r"\beta(s)")``).
        meanings: ``(name, a few words)`` for each definition.
    """

    expr: Any
    definitions: tuple[Definition, ...] = ()
    symbols: tuple[tuple[str, str], ...] = ()
    meanings: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def symbol_names(self) -> dict[sympy.Symbol, str]:
        """``{symbol: LaTeX}`` for the printer (``latex_expr(expr, symbol_names=...)``)."""
        latex = dict(self.symbols)
        return {s: latex[s.name] for s in _free(self.expr) if s.name in latex and latex[s.name] != s.name}

    def expr_latex(self, expr: Any = None) -> str:
        r"""LaTeX of the compact expression (or of ``expr``, a part of it) with the quantities' names;
        one-argument functions print without brackets (``\sin{\varphi}``)."""
        e = self.expr if expr is None else expr
        names = dict(self.symbols)
        symbol_names = {s: names[s.name] for s in _free(e) if s.name in names and names[s.name] != s.name}
        # SymPy folds an undefined function's brackets into its name (``\epsilont``): only fold known ones.
        fold = not (isinstance(e, sympy.Basic) and e.atoms(AppliedUndef))
        return latex_expr(e, symbol_names=symbol_names, fold_func_brackets=fold)

    def where(self) -> list[tuple[str, str]]:
        """``[(LaTeX of the name, LaTeX of its definition)]`` in dependency order."""
        names = dict(self.symbols)
        return [(names.get(d.name, d.name), d.latex) for d in self.definitions]

    def latex(self) -> str:
        r"""The compact expression followed by its "where" list, as one LaTeX math fragment.

        Example:
            >>> from gifsym import schedule
            >>> print(compact(schedule("trigonometric").a, schedule("trigonometric")).latex())
            \cos {\varphi} \quad \text{where } \varphi = \frac{\pi t}{2}
        """
        body = self.expr_latex()
        if not self.definitions:
            return body
        where = ", \\; ".join(f"{n} = {d}" for n, d in self.where())
        return rf"{body} \quad \text{{where }} {where}"

    def full(self) -> Any:
        """The expression with every definition substituted back (equal to the original)."""
        e = self.expr
        syms = {d.name: _symbol_of(d.name, e, self.definitions) for d in self.definitions}
        for d in reversed(self.definitions):
            s = syms[d.name]
            e = _subs(e, {s: d.sympy})
        return e


# ----------------------------------------------------------------------------------------------------------
# The quantities of a schedule


@dataclass(frozen=True)
class _Quantity:
    name: str
    symbol: sympy.Symbol
    latex: str
    definition: sympy.Expr  # in t, parameters and earlier quantities
    full: sympy.Expr  # in t and parameters only
    meaning: str


#: Assumptions of the quantity symbols: every declared quantity is real and >= 0 on [0, 1], most > 0
#: (s = 0 at t = 1). Simplification may use them; each rewritten piece is checked numerically anyway.
_NONNEG = {"s"}


@lru_cache(maxsize=256)
def schedule_quantities(schedule: Schedule) -> tuple[_Quantity, ...]:
    """The declared quantities of a catalogue schedule, parsed (safely) and resolved for its parameters."""
    from gifsym.symbolic.expr import parse_expression

    entry = catalogue_entry(schedule.name)
    if entry is None or not entry.quantities:
        return ()
    names: dict[str, sympy.Basic] = {"t": t, **dict(schedule.params)}
    full: dict[sympy.Symbol, sympy.Expr] = {}
    out = []
    for q in entry.quantities:
        sym = sympy.Symbol(q.name, nonnegative=True) if q.name in _NONNEG else sympy.Symbol(q.name, positive=True)
        definition = parse_expression(q.definition, names=names)
        resolved = definition.xreplace(full)
        full[sym] = resolved
        names[q.name] = sym
        out.append(_Quantity(q.name, sym, q.latex, definition, resolved, q.meaning))
    # The start value of an exponential quantity (VP: E_0 = e^{-B(1)}): flow-map constants and b_0 are
    # powers of it, e.g. b_0 = sqrt(E_0).
    for q in list(out):
        if isinstance(q.full, sympy.exp) and q.full.args[0].has(t):
            v0 = q.full.xreplace({t: sympy.Integer(0)})
            name0 = q.name.removesuffix("_s") + "_0"  # E_s -> E_0
            if v0.is_number and v0 != 1 and name0 not in names:
                sym = sympy.Symbol(name0, positive=True)
                out.append(_Quantity(name0, sym, f"{q.latex}_0", v0, v0, f"{q.latex} at t = 0"))
    return tuple(out)


@dataclass(frozen=True)
class _Plan:
    quantities: tuple[_Quantity, ...]
    exponentials: tuple[tuple[sympy.Symbol, sympy.Expr], ...]  # (Q, log Q in t)
    clocks: tuple[tuple[sympy.Symbol, sympy.Expr], ...]  # (Q, t in terms of Q)
    polynomials: tuple[tuple[sympy.Symbol, sympy.Poly], ...] = ()  # (Q, Q as a polynomial in t of degree >= 2)
    starts: tuple[tuple[sympy.Symbol, sympy.Expr], ...] = ()  # (Q_0, log Q_0): start values of exponentials


@lru_cache(maxsize=256)
def _plan(schedule: Schedule) -> _Plan:
    qs = schedule_quantities(schedule)
    exps, clocks, polys, starts = [], [], [], []
    for q in qs:
        if q.full.is_number:
            if isinstance(q.full, sympy.exp):
                starts.append((q.symbol, q.full.args[0]))
            continue
        log = _log_of(q.full)
        if log is not None:
            exps.append((q.symbol, log))
            continue
        poly = sympy.expand(q.full)
        if poly.is_polynomial(t) and sympy.degree(poly, t) == 1:
            c1, c0 = poly.coeff(t, 1), poly.coeff(t, 0)
            if c1 != 0:
                clocks.append((q.symbol, sympy.expand((q.symbol - c0) / c1)))
        elif poly.is_polynomial(t) and sympy.degree(poly, t) >= 2:
            polys.append((q.symbol, sympy.Poly(poly, t)))
    return _Plan(qs, tuple(exps), tuple(clocks), tuple(polys), tuple(starts))


def _log_of(e: sympy.Expr) -> sympy.Expr | None:
    """``log e`` for ``exp(g(t))`` or ``c * k**g(t)`` (c, k > 0 free of t); None otherwise."""
    if isinstance(e, sympy.exp) and e.args[0].has(t):
        return sympy.expand(e.args[0])
    if isinstance(e, sympy.Pow) and not e.base.has(t) and e.exp.has(t) and e.base.is_positive:
        return sympy.expand(e.exp * sympy.log(e.base))
    if isinstance(e, sympy.Mul):
        const, rest = e.as_independent(t, as_Add=False)
        if const.is_positive and rest != e:
            inner = _log_of(rest)
            return None if inner is None else inner + sympy.log(const)
    return None


# ----------------------------------------------------------------------------------------------------------
# Rewriting


def _free(e: Any) -> set[sympy.Symbol]:
    if isinstance(e, tuple):
        return set().union(*(_free(x) for x in e)) if e else set()
    return {s for s in getattr(e, "free_symbols", set()) if isinstance(s, sympy.Symbol)}


def _subs(e: Any, mapping: Mapping) -> Any:
    if isinstance(e, tuple):
        return tuple(_subs(x, mapping) for x in e)
    return e.xreplace(mapping) if hasattr(e, "xreplace") else e


def _symbol_of(name: str, e: Any, definitions: Iterable[Definition]) -> sympy.Symbol:
    for s in _free(e) | set().union(*(_free(d.sympy) for d in definitions)):
        if s.name == name:
            return s
    return sympy.Symbol(name)


def _length(e: sympy.Basic) -> int:
    # The printed length decides between candidate forms; str is ~5x cheaper than LaTeX and ranks alike.
    return len(sympy.sstr(e))


def _replace_exponentials(e: sympy.Expr, plan: _Plan) -> sympy.Expr:
    if not plan.exponentials:
        return e
    mapping = {}
    for f in e.atoms(sympy.exp):
        # A constant e^c that is a small rational power of a start value: e^{-201/40} = sqrt(E_0).
        if f.args[0].is_number:
            for Q0, L0 in plan.starts:
                k = sympy.nsimplify(f.args[0] / L0)
                if k.is_Rational and k.q <= 4 and abs(k) <= 8:
                    mapping[f] = Q0**k
                    break
    for f in e.atoms(sympy.exp, sympy.Pow):
        log = _log_of(f)
        # The declared exponential quantities have logarithms polynomial in t (VP: -B(s); VE: s log c);
        # other exponentials (a mixture's responsibilities) cannot match, and are not differentiated.
        if log is None or not log.is_polynomial(t):
            continue
        dlog = sympy.diff(log, t)
        for Q, logQ in plan.exponentials:
            k = sympy.cancel(dlog / sympy.diff(logQ, t))
            if k.has(t) or k == 0:
                continue
            c0 = sympy.expand(log - k * logQ)
            if c0.has(t):
                continue
            mapping[f] = sympy.exp(c0) * Q**k
            break
    return e.xreplace(mapping) if mapping else e


def _replace_polynomials(e: sympy.Expr, plan: _Plan) -> sympy.Expr:
    """The part of a sum polynomial in t written as ``k Q + c`` for a declared polynomial quantity Q
    (the log-SNR of VP is ``−B(s)/2 − log(1 − E)/2``, not a polynomial in β(s))."""
    if not plan.polynomials or not isinstance(e, sympy.Add):
        return e
    # Numeric polynomials in t only: a mixture's terms (polynomial in t with coefficients in x) never match
    # and would be expanded for nothing.
    poly_part = [a for a in e.args if a.free_symbols == {t} and a.is_polynomial(t)]
    if not poly_part:
        return e
    P = sympy.Poly(sympy.Add(*poly_part), t)
    for Q, QP in plan.polynomials:
        if P.degree() != QP.degree():
            continue
        k = P.LC() / QP.LC()
        c = P - QP * k
        if c.degree() <= 0:
            rest = sympy.Add(*[a for a in e.args if a not in poly_part])
            return rest + k * Q + c.as_expr()
    return e


def _transcendental(e: sympy.Expr) -> bool:
    """Whether an exponential (or a power with a symbolic exponent) is left after substitution."""
    return any(f.free_symbols and (isinstance(f, sympy.exp) or not f.exp.is_number)
               for f in e.atoms(sympy.exp, sympy.Pow))


def _tan_form(e: sympy.Expr) -> sympy.Expr:
    return e.xreplace({f: sympy.tan(f.args[0]) * sympy.cos(f.args[0]) for f in e.atoms(sympy.sin)})


def _forms(e: sympy.Expr) -> list[sympy.Expr]:
    """Simplified forms of the substituted expression, in order of preference: factored (collected) forms
    first, then cancelled ones, then the expression as it is."""
    out = []
    # sin = tan cos: a ratio homogeneous in (sin φ, cos φ) becomes a rational function of tan φ, the SNR of
    # the trigonometric schedule; kept only when no sin or cos is left. (trigsimp would find a little more,
    # at 50x the cost.)
    if e.has(sympy.sin) and e.has(sympy.cos):
        tan = sympy.factor(sympy.together(_tan_form(e)))
        if not tan.has(sympy.sin, sympy.cos):
            out.append(tan)
    return out + [sympy.factor(sympy.together(e)), sympy.cancel(e), e]


def _at(e: sympy.Expr, point: sympy.Expr, plan: _Plan) -> sympy.Expr:
    values = {q.symbol: q.full.xreplace({t: point}) for q in plan.quantities}
    return e.xreplace(values).xreplace({t: point})


def _finite(v: sympy.Basic) -> bool:
    # A number's value to 30 digits, not SymPy's assumption system: is_finite on EDM's bound at t = 0 asked
    # for signs through polynomial roots (16 s of a 36 s run); a choice between forms needs no proof.
    if not v.is_number or v.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        return False
    try:
        x = v.evalf(30)
    except (TypeError, ValueError, ArithmeticError, RecursionError):
        return False
    return not x.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo) and x.is_finite is True


def _no_new_poles(original: sympy.Expr, forms: list[sympy.Expr], plan: _Plan) -> list[sympy.Expr]:
    """The forms that are defined at t = 0 and t = 1 wherever the original is (``tan φ`` is not at t = 1)."""
    for point in (sympy.Integer(0), sympy.Integer(1)):
        if _finite(original.xreplace({t: point})):
            forms = [f for f in forms if _finite(_at(f, point, plan))]
    return forms


def _choose(forms: list[sympy.Expr]) -> sympy.Expr:
    """The first form at most :data:`_PREFERENCE` times as long as the shortest."""
    lengths = [_length(f) for f in forms]
    best = min(lengths)
    for f, n in zip(forms, lengths):
        if n <= _PREFERENCE * best:
            return f
    return forms[-1]


def _rewrite_leaf(e: sympy.Expr, plan: _Plan) -> tuple[sympy.Expr, bool]:
    """One piece without Piecewise/Min/Max: substitute, simplify, collect (see the module docstring).

    Returns the form and whether it must be checked numerically (False when it is the original, or only
    substituted: each substitution is an identity by construction)."""
    if not isinstance(e, sympy.Expr):
        return e, False
    e = merge_exponentials(e)
    if t not in e.free_symbols and not e.has(sympy.sin, sympy.cos):
        # A constant: only its exponentials are written in start values (a flow-map constant in E_0).
        if not plan.starts or not e.has(sympy.exp):
            return e, False
        sub = _replace_exponentials(e, plan)
        if sub == e:
            return e, False
        if _transcendental(sub) or sympy.count_ops(sub) > MAX_FACTOR_OPS:
            return sub, False  # e.g. a function of the horizon T: substitution only (exact by construction)
        forms = [sympy.factor(sympy.together(sub)), sympy.cancel(sub), sub]
        return _positive_denominators(_choose(forms), plan), True
    if e.has(sympy.Integral, sympy.Sum, sympy.Derivative, sympy.Subs):
        return e, False  # t may be bound there: an unevaluated integral is shown as it is
    sub = _replace_polynomials(_replace_exponentials(e, plan), plan)
    if sub.has(t) and plan.clocks:
        # The last declared clock: the most specific quantity (beta(s) rather than s).
        sub = sub.xreplace({t: plan.clocks[-1][1]})
    if sympy.count_ops(sub) > MAX_FACTOR_OPS or _transcendental(sub):
        # A mixture's responsibilities (exponentials of quadratics in x): substitution alone already
        # shortens them, while cancel/factor over so many generators can take minutes.
        return sub, False
    forms = _no_new_poles(e, _forms(sub), plan)
    if not forms:
        return e, False
    if sub == e:
        forms.append(e)
    return _positive_denominators(_choose(forms), plan), True


def merge_exponentials(e: sympy.Expr) -> sympy.Expr:
    """Products of exponentials as one exponential of the expanded sum of their arguments: DDPM's
    ``ε → v`` coefficient ``(10 - 199 t/20) e^{-t/20 + …} e^{t/20 - …}`` is ``10 - 199 t/20``. An identity
    (``e^a e^b = e^{a+b}`` for every a, b), so no numerical check is needed.

    Example:
        >>> merge_exponentials(t * sympy.exp(t / 20 - 1) * sympy.exp(1 - t / 20))
        t
    """
    if not e.has(sympy.exp):
        return e
    def merge(x: sympy.Expr) -> sympy.Expr:
        combined = sympy.powsimp(x, combine="exp", deep=True)
        if combined == x:
            return x  # no product of exponentials: left as written (e^{C(1 - t)} stays so)
        expanded = combined.replace(lambda y: isinstance(y, sympy.exp),
                                    lambda y: sympy.exp(sympy.expand(y.args[0])))
        return expanded if _length(expanded) < _length(combined) else combined

    merged = merge(e)
    # (A e^{-x} + B e^{y}) e^{x}: distributing first lets the exponentials meet (kept only if shorter).
    if any(isinstance(f, sympy.Add) and f.has(sympy.exp) for f in sympy.Mul.make_args(merged)):
        distributed = merge(sympy.expand_mul(merged))
        if _length(distributed) < _length(merged):
            merged = distributed
    return merged


def _positive_denominators(e: sympy.Expr, plan: _Plan) -> sympy.Expr:
    """``E β/(2(E − 2))`` as ``−E β/(2(2 − E))``: each factor of the denominator written positive on (0, 1)
    (checked at t = 1/2), the sign in front, as one would write it in a paper."""
    if not isinstance(e, sympy.Mul):
        return e
    flips = 0
    factors = []
    for f in e.args:
        base, k = (f.base, f.exp) if isinstance(f, sympy.Pow) else (f, sympy.Integer(1))
        if isinstance(base, sympy.Add) and k.is_integer and k.is_negative and k % 2 == 1:
            v = _at(base, sympy.Rational(1, 2), plan)
            if v.is_number and v.is_extended_negative:
                base, flips = -base, flips + 1
        factors.append(base**k if base is not f else f)
    return -sympy.Mul(*factors) if flips % 2 else sympy.Mul(*factors)


def _has_branches(e: sympy.Basic) -> bool:
    return e.has(sympy.Piecewise, sympy.Min, sympy.Max)


def _leaves(e: sympy.Basic) -> list[sympy.Basic]:
    """The branch-free pieces of a result (the arguments of Min/Max, the values of a Piecewise)."""
    if isinstance(e, (sympy.Min, sympy.Max)):
        return [x for a in e.args for x in _leaves(a)]
    if isinstance(e, sympy.Piecewise):
        return [x for v, _ in e.args for x in _leaves(v)]
    if isinstance(e, sympy.Mul) and e.args[0] == -1 and _has_branches(e):
        return _leaves(-e)
    return [e]


def _rewrite(e: Any, plan: _Plan) -> Any:
    if isinstance(e, sympy.MatrixBase):
        return sympy.ImmutableMatrix(e.shape[0], e.shape[1], [_rewrite(x, plan) for x in e])
    if not isinstance(e, sympy.Basic) or e.is_Atom:
        return e
    if isinstance(e, sympy.MatrixExpr) or isinstance(e, sympy.Set) or isinstance(e, sympy.logic.boolalg.Boolean):
        if isinstance(e, sympy.MatrixExpr) and e.args:
            return e.func(*[_rewrite(a, plan) for a in e.args])
        return e
    if isinstance(e, sympy.Piecewise):
        return sympy.Piecewise(*[(_rewrite(v, plan), c) for v, c in e.args], evaluate=False)
    if isinstance(e, (sympy.Min, sympy.Max)):
        return e.func(*[_rewrite(a, plan) for a in e.args], evaluate=False)
    if _has_branches(e):
        return e.func(*[_rewrite(a, plan) for a in e.args])
    return _leaf(e, plan)


@lru_cache(maxsize=4096)
def _leaf(e: sympy.Expr, plan: _Plan) -> sympy.Expr:
    # θ_t = max(u_t, −ℓ_t) repeats the bounds up to sign: rewrite −x as −(rewritten x), from the cache.
    if isinstance(e, sympy.Mul) and e.args[0] == -1:
        inner = _leaf(-e, plan)
        return -inner
    form, check = _rewrite_leaf(e, plan)
    return _checked(e, form, plan) if check else form


# ----------------------------------------------------------------------------------------------------------
# The numerical guard: a rewritten piece must agree with the original at seeded points


@lru_cache(maxsize=256)
def _quantity_functions(plan: _Plan) -> tuple:
    """Each quantity as an mpmath function of t (compiled once per schedule)."""
    return tuple(sympy.lambdify([t], q.full, modules="mpmath") for q in plan.quantities)


def _checked(original: sympy.Expr, rewritten: sympy.Expr, plan: _Plan) -> sympy.Expr:
    if rewritten is original or rewritten == original:
        return original
    others = sorted((_free(original) | _free(rewritten)) - {t} - {q.symbol for q in plan.quantities},
                    key=lambda s: s.name)
    rng = random.Random(20241)  # seeded: the same inputs give the same decision
    try:
        f = sympy.lambdify([t, *others], original, modules="mpmath")
        qs = [q.symbol for q in plan.quantities]
        g = sympy.lambdify([*qs, t, *others], rewritten, modules="mpmath")
        if any(q.full.free_symbols - {t} for q in plan.quantities):  # symbolic schedule parameters
            defs = tuple((lambda fn: (lambda *a: fn(*a)))(sympy.lambdify([t, *others], q.full, modules="mpmath"))
                         for q in plan.quantities)
        else:
            defs = tuple((lambda fn: (lambda *a: fn(a[0])))(fn) for fn in _quantity_functions(plan))
    except Exception:  # noqa: BLE001 — an expression lambdify cannot print: keep the original
        return original
    agreed = 0
    with mpmath.workdps(30):
        for _ in range(8):
            args = [mpmath.mpf(rng.randint(5, 95)) / 100] + [mpmath.mpf(rng.randint(30, 170)) / 100 for _ in others]
            try:
                x = mpmath.mpc(f(*args))
                y = mpmath.mpc(g(*[d(*args) for d in defs], *args))
            except (TypeError, ValueError, ZeroDivisionError, OverflowError, NameError):
                continue
            if not mpmath.isfinite(x):
                continue
            # 30-digit evaluation: agreement to 1e-12 relative leaves a wide margin over round-off.
            if abs(x - y) > mpmath.mpf(10) ** -12 * max(1, abs(x)):
                return original
            agreed += 1
            if agreed == 3:
                return rewritten
    return original if agreed == 0 else rewritten


# ----------------------------------------------------------------------------------------------------------
# Common subexpressions (custom schedules)


def _fingerprint(e: sympy.Expr) -> tuple[float, ...] | None:
    """Values at two fixed times, rounded: equal fingerprints mean the same function for our purpose
    (telling whether an abbreviation is a whole result, which would then be shown as a bare name)."""
    if not isinstance(e, sympy.Expr):
        return None
    try:
        return tuple(round(float(e.xreplace({t: sympy.Rational(p, 100)}).evalf(20)), 12) for p in (37, 71))
    except (TypeError, ValueError, AttributeError):
        return None


def _abbreviate(exprs: tuple[Any, ...], taken: set[str]) -> tuple[tuple[Any, ...], list[tuple[sympy.Symbol, sympy.Expr]]]:
    """Abbreviations of repeated subexpressions (``sympy.cse`` over all the expressions at once).

    An abbreviation is kept only if it occurs at least twice and is not trivial (a power of t, a single
    operation); the whole is kept only if it shortens the printed total by a fifth.
    """
    slots = [i for i, e in enumerate(exprs) if isinstance(e, sympy.Expr) and not isinstance(e, sympy.MatrixExpr)
             and e.has(t)]
    if not slots:
        return exprs, []
    counter = iter(range(1, 10**6))

    def names():
        while True:
            name = f"q_{next(counter)}"
            if name not in taken:
                yield sympy.Symbol(name, real=True)

    try:
        repl, reduced = sympy.cse([exprs[i] for i in slots], symbols=names())
    except Exception:  # noqa: BLE001 — abbreviations are a nicety; never fail a result over them
        return exprs, []
    repl, reduced = list(repl), list(reduced)
    # cse rewrites as it goes (2*(t - 1) becomes 2*t - 2), so a whole result is recognised by its values.
    wholes = [_fingerprint(leaf) for i in slots for leaf in _leaves(exprs[i])]
    changed = True
    while changed and repl:
        changed = False
        for k, (sym, value) in enumerate(repl):
            uses = sum(e.count(sym) for e in reduced) + sum(v.count(sym) for _, v in repl[k + 1:])
            full = value
            for earlier, v in reversed(repl[:k]):
                full = full.xreplace({earlier: v})
            whole = _fingerprint(full)
            is_whole = whole is not None and any(w is not None and (w == whole or w == tuple(-x for x in whole))
                                                 for w in wholes)
            if (uses >= 2 and isinstance(value, sympy.Expr) and sympy.count_ops(value) >= 3 and not is_whole
                    and not _has_branches(value)):
                continue
            # Inline it: too simple, or used once (it would only move text into the "where" list).
            repl = [(s, v.xreplace({sym: value})) for s, v in repl[:k] + repl[k + 1:]]
            reduced = [e.xreplace({sym: value}) for e in reduced]
            changed = True
            break
    if not repl:
        return exprs, []
    before = sum(_length(exprs[i]) for i in slots)
    after = sum(_length(e) for e in reduced) + sum(_length(v) + 4 for _, v in repl)
    if after > 0.8 * before:
        return exprs, []
    # Renumber q_1, q_2, ... in order.
    renamed = {}
    k = 0
    for sym, _ in repl:
        k += 1
        while f"q_{k}" in taken:
            k += 1
        renamed[sym] = sympy.Symbol(f"q_{k}", real=True)
    repl = [(renamed[s], v.xreplace(renamed)) for s, v in repl]
    reduced = [e.xreplace(renamed) for e in reduced]
    out = list(exprs)
    for i, e in zip(slots, reduced):
        out[i] = e
    return tuple(out), repl


# ----------------------------------------------------------------------------------------------------------
# Public entry points


def compact(expr: Any, schedule: Schedule) -> Compact:
    r"""``expr`` (a result for ``schedule``, in ``t``) written in the schedule's named quantities.

    Args:
        expr: a SymPy expression, matrix or matrix expression (Piecewise, Min and Max are rewritten
            branch by branch; their conditions stay in t).
        schedule: the schedule the result belongs to.

    Returns:
        A :class:`Compact`: ``.expr``, ``.definitions`` (in dependency order), ``.latex()``.

    Example:
        >>> from gifsym import GIF, schedule, target
        >>> vp = schedule("vp")
        >>> c = compact(GIF(vp, target("slc:kappa=2")).bounds().upper, vp)
        >>> c.expr
        -E_s*beta_s/(2*(2 - E_s))
        >>> c.full().equals(GIF(vp, target("slc:kappa=2")).bounds().upper)
        True
    """
    c = compact_many((expr,), schedule)
    return Compact(c.expr[0], c.definitions, c.symbols, c.meanings)


def compact_many(exprs: Iterable[Any], schedule: Schedule) -> Compact:
    """Several results of one schedule written in the same quantities, with one shared "where" list.

    Returns:
        A :class:`Compact` whose ``expr`` is the tuple of the compact expressions (``None`` stays ``None``).
    """
    from gifsym import store

    # As stored: a process that derived a bound holds it as derived, one that read it back holds it rebuilt
    # (flattened); both must make the same key, or every first warm run derives the compact forms again.
    exprs = tuple(store.as_stored(_hashable(e)) for e in exprs)
    return _compact_cached(exprs, schedule)


@lru_cache(maxsize=2048)
def _compact_cached(exprs: tuple[Any, ...], schedule: Schedule) -> Compact:
    # Also kept on disk (gifsym.store): a new process (each CLI call) reads the forms back.
    from gifsym import store

    return store.cached("compact", {"exprs": exprs, "schedule": schedule},
                        {"Compact": Compact, "Definition": Definition}, lambda: _compact_many(exprs, schedule))


def _hashable(e: Any) -> Any:
    if isinstance(e, sympy.MatrixBase) and not isinstance(e, sympy.ImmutableMatrix):
        return sympy.ImmutableMatrix(e)
    if e is None or isinstance(e, sympy.MatrixBase):
        return e
    return as_expr(e, names={"t": t}, what="expr")


@lru_cache(maxsize=2048)
def _compact_many(exprs: tuple[Any, ...], schedule: Schedule) -> Compact:
    plan = _plan(schedule)
    taken = {s.name for s in _free(exprs)}
    rewritten = tuple(_rewrite(e, plan) if e is not None else None for e in exprs)
    repl: list[tuple[sympy.Symbol, sympy.Expr]] = []
    if schedule.name == "custom":
        rewritten, repl = _abbreviate(rewritten, taken)
    # The definitions used, with their dependencies, in declaration order.
    used = {s.name for s in _free(rewritten)}
    needed: set[str] = set()
    for q in reversed(plan.quantities):
        if q.name in used or q.name in needed:
            needed.add(q.name)
            needed |= {s.name for s in _free(q.definition)}
    defs = []
    symbols = []
    meanings = []
    for q in plan.quantities:
        if q.name in needed:
            defs.append(Definition(q.name, q.definition, latex_expr(q.definition, symbol_names=_names(plan))))
            symbols.append((q.name, q.latex))
            meanings.append((q.name, q.meaning))
    for s, v in repl:
        defs.append(Definition(s.name, v, latex_expr(v)))
        symbols.append((s.name, f"q_{{{s.name[2:]}}}"))
        meanings.append((s.name, "abbreviation"))
    return Compact(rewritten, tuple(defs), tuple(symbols), tuple(meanings))


def _names(plan: _Plan) -> dict[sympy.Symbol, str]:
    return {q.symbol: q.latex for q in plan.quantities if q.latex != q.name}


#: The rows of :func:`schedule_forms`: key, LaTeX of the left-hand side, plain-text label.
SCHEDULE_ROWS = (
    ("a", "a_t", "a_t"),
    ("b", "b_t", "b_t"),
    ("da", r"\dot a_t", "da/dt"),
    ("db", r"\dot b_t", "db/dt"),
    ("snr", r"r_t = b_t / a_t", "SNR r_t = b/a"),
    ("log_snr", r"\lambda_t = \log r_t", "log-SNR"),
)


def schedule_forms(schedule: Schedule) -> Compact:
    r"""The schedule's own formulas in compact form: ``a_t, b_t, ȧ_t, ḃ_t``, the SNR ``r_t = b_t/a_t`` and
    the log-SNR ``λ_t = log r_t``, in the order of :data:`SCHEDULE_ROWS`, with one "where" list.

    Example:
        >>> from gifsym import schedule
        >>> schedule_forms(schedule("vp")).expr[:2]
        (sqrt(1 - E_s), sqrt(E_s))
    """
    log_snr = sympy.expand_log(sympy.log(schedule.snr), force=False)
    return compact_many((schedule.a, schedule.b, schedule.da, schedule.db, schedule.snr, log_snr), schedule)


__all__ = ["MAX_FACTOR_OPS", "SCHEDULE_ROWS", "Compact", "Definition", "compact", "compact_many",
           "merge_exponentials", "schedule_forms", "schedule_quantities"]
