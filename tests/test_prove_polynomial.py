"""The prover's exact route for products of powers of polynomials (gifsym.symbolic.prove.polynomial)."""

from __future__ import annotations

import random

import sympy

from gifsym.symbolic.prove import prove_relation
from gifsym.symbolic.prove.polynomial import polynomial_verdict, roots_inside
from gifsym.symbolic.prove.task import Task
from gifsym.symbolic.schedule import Schedule

t = sympy.Symbol("t", real=True)
Z, O = sympy.Integer(0), sympy.Integer(1)


def _task(f, relation=">=", lo_open=True, hi_open=True):
    return Task(f, f, t, relation, relation == ">", Z, O, lo_open, hi_open)


def test_signs_follow_root_counts():
    half = sympy.Rational(1, 2)
    assert polynomial_verdict(_task((t - half) ** 2)).holds
    # a double root inside: >= holds, > does not (returns None: left to the general prover, which refutes it)
    assert polynomial_verdict(_task((t - half) ** 2, ">")) is None
    assert prove_relation((t - half) ** 2, t, ">", lo_open=True, hi_open=True).violated
    # a simple root inside: no proof either way from this route
    assert polynomial_verdict(_task(t - half)) is None
    # a root at an open end is not inside; at a closed end it makes > fail
    assert polynomial_verdict(_task(1 - t**2, ">", lo_open=False, hi_open=True)).holds
    assert polynomial_verdict(_task(1 - t**2, ">", lo_open=False, hi_open=False)) is None
    # a negative square-root power needs a strictly positive base
    assert polynomial_verdict(_task((1 - t) ** -half * t, ">", hi_open=True)).holds
    assert polynomial_verdict(_task((t - half) ** -half)) is None
    # odd powers carry the sign: -(1-t)^3 <= 0 on (0,1)
    assert prove_relation(-(1 - t) ** 3 * (1 + t), t, "<=", lo_open=True, hi_open=True).holds
    assert roots_inside(t**2 - sympy.Rational(1, 4), t, Z, O) == 1
    assert roots_inside(sympy.sin(t), t, Z, O) is None


def test_a_monotone_polynomial_schedule_of_degree_20_is_proved():
    """a = sqrt(1 - q), b = sqrt(q) with q a monotone Bernstein polynomial of degree 20 (expanded): every
    assumption is proved (interval arithmetic alone does not finish on it: the expanded coefficients cancel)."""
    rng = random.Random(1)
    n = 20
    inc = [sympy.Rational(rng.randint(1, 1000), 1000) for _ in range(n)]
    c = [Z]
    for d in inc:
        c.append(c[-1] + d / sum(inc))
    q = sympy.expand(sum(c[k] * sympy.binomial(n, k) * t**k * (1 - t) ** (n - k) for k in range(n + 1)))
    report = Schedule("custom", sympy.sqrt(1 - q), sympy.sqrt(q)).check()
    assert report.all_hold, report.to_dict()
    assert report.status("wronskian") == "holds"
    # a non-monotone perturbation is not proved by this route (q' < 0 at t = 0.9)
    wiggle = sympy.expand(q + 120 * t * (1 - t) * (t - sympy.Rational(1, 2)) ** 3)
    slope = sympy.diff(wiggle, t)
    assert slope.subs(t, sympy.Rational(9, 10)) < 0
    assert polynomial_verdict(_task(slope)) is None
