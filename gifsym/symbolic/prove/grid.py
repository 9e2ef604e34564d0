"""Floating-point evaluation of a program on a grid of the interval (screening only: never used to
prove anything; every value it flags is re-checked exactly or to 50 digits)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import sympy

from gifsym.symbolic.prove.budget import GRID
from gifsym.symbolic.prove.program import Program
from gifsym.symbolic.prove.task import Task


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


def eval_np(prog: Program, x: np.ndarray) -> np.ndarray:
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


def _grid_points(task: Task) -> list:
    lo, hi = task.lo, task.hi
    width = hi - lo
    points = {lo + width * sympy.Rational(k, GRID) for k in range(1, GRID)}
    for j in (12, 16, 20, 26, 32, 40):
        points.add(lo + width / 2**j)
        points.add(hi - width / 2**j)
    if not task.lo_open:
        points.add(lo)
    if not task.hi_open:
        points.add(hi)
    return sorted(points)


@lru_cache(maxsize=256)
def grid_cached(lo, hi, lo_open, hi_open) -> tuple:
    task = Task(sympy.S.Zero, sympy.S.Zero, sympy.Dummy(), ">", False, lo, hi, lo_open, hi_open)
    points = _grid_points(task)
    # Regular grid points (multiples of 1/GRID of the interval) make readable counterexamples.
    regular = np.array([((p - lo) / (hi - lo) * GRID).is_integer for p in points])
    return tuple(points), np.array([float(p) for p in points]), regular
