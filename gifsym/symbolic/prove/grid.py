"""Floating-point evaluation of a program on a grid of the interval (screening only: never used to
prove anything; every value it flags is re-checked exactly or to 50 digits)."""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING

import sympy

from gifsym.symbolic.prove.budget import GRID
from gifsym.symbolic.prove.program import Program

if TYPE_CHECKING:  # imported where used: a run answered from the cache never needs numpy
    import numpy as np


def _erf_np(x):
    import numpy as np

    # math.erf per point: screening needs no special-function library.
    return np.vectorize(math.erf, otypes=[float])(x)


@lru_cache(maxsize=1)
def _np_funcs() -> dict:
    """The NumPy function of each named unary operation (built at first use: importing NumPy costs a
    tenth of a second that a run answered from the cache does not need)."""
    import numpy as np

    return {
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


def eval_np(prog: Program, x: np.ndarray) -> np.ndarray:
    import numpy as np
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
                v = _np_funcs()[op[1]](vals[op[2]])
            vals.append(np.asarray(v, dtype=float) * np.ones_like(x))
    return vals[-1]


def _grid_points(lo, hi, lo_open: bool, hi_open: bool) -> tuple[list, list[bool]]:
    """The screening points, increasing: GRID − 1 regular ones, six pairs crowding each end, the closed ends;
    and whether each is regular (a multiple of 1/GRID of the interval, ends included). Computed in Python's
    exact ``Fraction`` when the ends are rational (sorting a thousand SymPy Rationals costs some 40,000 slow
    comparisons), in SymPy otherwise: the same rationals either way."""
    exact = lo.is_Rational and hi.is_Rational
    ratio = Fraction if exact else sympy.Rational
    a, b = (Fraction(int(lo.p), int(lo.q)), Fraction(int(hi.p), int(hi.q))) if exact else (lo, hi)
    width = b - a
    regular = {a + width * ratio(k, GRID) for k in range(GRID + 1)}
    points = {a + width * ratio(k, GRID) for k in range(1, GRID)}
    for j in (12, 16, 20, 26, 32, 40):
        points.add(a + width / 2**j)
        points.add(b - width / 2**j)
    if not lo_open:
        points.add(a)
    if not hi_open:
        points.add(b)
    ordered = sorted(points)
    flags = [p in regular for p in ordered]
    if exact:
        ordered = [sympy.Rational(p.numerator, p.denominator) for p in ordered]
    return ordered, flags


@lru_cache(maxsize=256)
def grid_cached(lo, hi, lo_open, hi_open) -> tuple:
    # Regular grid points (multiples of 1/GRID of the interval) make readable counterexamples.
    import numpy as np
    points, regular = _grid_points(lo, hi, lo_open, hi_open)
    return tuple(points), np.array([float(p) for p in points]), np.array(regular)
