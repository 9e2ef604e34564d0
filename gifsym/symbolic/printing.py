r"""gifsym's LaTeX printer for SymPy objects: SymPy's own ``latex`` with readable names for gifsym's symbols.

Every layer that prints a formula (result ``to_latex`` methods, reports, the CLI) goes through
:func:`latex_expr`, so ``beta_min`` reads ``\beta_{\min}`` and the placeholders ``\dot a_t`` everywhere.

Example:
    >>> import sympy
    >>> latex_expr(sympy.Symbol("beta_min") * sympy.Symbol("kappa"))
    '\\beta_{\\min} \\kappa'
"""

from __future__ import annotations

import math
from typing import Any

import sympy
from sympy.printing.str import StrPrinter

#: Symbol name -> LaTeX. SymPy already prints Greek names (``kappa`` -> ``\kappa``); these add what it
#: would garble (``beta_min`` -> ``\beta_{min}``, an italic "min") or print unreadably.
SYMBOL_NAMES: dict[str, str] = {
    "beta_min": r"\beta_{\min}",
    "beta_max": r"\beta_{\max}",
    "sigma_min": r"\sigma_{\min}",
    "sigma_max": r"\sigma_{\max}",
    # The placeholders of gifsym.velocity (formulas derived once in a_t, ȧ_t, b_t, ḃ_t).
    "a_t": "a_t",
    "b_t": "b_t",
    r"\dot{a}_t": r"\dot a_t",
    r"\dot{b}_t": r"\dot b_t",
    "da": r"\dot a_t",
    "db": r"\dot b_t",
    "theta": r"\theta",
    "theta_t": r"\theta_t",
    # Parameters whose spec name is a SymPy built-in (see symbol_name): slcvx's beta is the symbol beta_.
    "beta_": r"\beta",
    "gamma_": r"\gamma",
}


def symbol_name(name: str) -> str:
    """The name of the SymPy symbol of a parameter called ``name``: ``name`` itself unless ``sympy.sympify``
    reads it as one of SymPy's own objects (``beta``, ``gamma``, ``E``, ``I``, ``N``, ``S``, ``O``, ``Q``, …;
    everything ``from sympy import *`` binds), then ``name + "_"``. So every ``"sympy"`` string gifsym writes
    reads back to the same expression (interface.md, "Reading JSON back").

    Example:
        >>> symbol_name("kappa"), symbol_name("beta")
        ('kappa', 'beta_')
    """
    return name + "_" if name in _BUILTIN_NAMES else name


_BUILTIN_NAMES = frozenset(sympy.__all__)


def _symbol_names(expr: Any) -> dict[sympy.Symbol, str]:
    names: dict[sympy.Symbol, str] = {}
    free = getattr(expr, "free_symbols", set())
    for s in free:
        if isinstance(s, sympy.Symbol) and s.name in SYMBOL_NAMES and SYMBOL_NAMES[s.name] != s.name:
            names[s] = SYMBOL_NAMES[s.name]
    return names


def latex_expr(expr: Any, **settings: Any) -> str:
    r"""LaTeX of a SymPy expression (or anything ``sympy.latex`` accepts) with gifsym's symbol names.

    Args:
        expr: a SymPy expression or matrix, or a number.
        **settings: extra ``sympy.latex`` settings (e.g. ``mode="inline"``).

    Example:
        >>> from gifsym.symbolic.flow import A, DA
        >>> latex_expr(DA / A)
        '\\frac{\\dot a_t}{a_{t}}'
    """
    if isinstance(expr, float) and not math.isfinite(expr):
        return r"\infty" if expr > 0 else (r"-\infty" if expr < 0 else r"\mathrm{NaN}")
    names = _symbol_names(expr)
    if "symbol_names" in settings:
        names.update(settings.pop("symbol_names"))
    return sympy.latex(expr, symbol_names=names, **settings)


def sympy_string(expr: Any) -> str:
    """``str(expr)``, except for the objects whose ``str`` ``sympy.sympify`` reads as something else: a
    matrix symbol prints as ``MatrixSymbol('m', d, 1)`` (its bare name reads back as a scalar) and an
    identity matrix as ``Identity(d)`` (``I`` reads back as the imaginary unit). Together with
    :func:`symbol_name`, every string it gives reads back with ``sympy.sympify`` to the same expression.

    Example:
        >>> d = sympy.Symbol("d")
        >>> sympy_string(sympy.MatrixSymbol("C", d, d) + sympy.Identity(d))
        "Identity(d) + MatrixSymbol('C', d, d)"
    """
    return _ReadablePrinter().doprint(expr)


class _ReadablePrinter(StrPrinter):
    def _print_MatrixSymbol(self, e: Any) -> str:
        return f"MatrixSymbol({e.name!r}, {self._print(e.rows)}, {self._print(e.cols)})"

    def _print_Identity(self, e: Any) -> str:
        return f"Identity({self._print(e.rows)})"

    def _print_Float(self, e: Any) -> str:
        # A Float above double precision (a located crossing point, 30 digits): its binary precision too, so
        # sympify rounds the printed digits back to the very same number (not to a wider one).
        if e._prec == 53:
            return super()._print_Float(e)
        from mpmath.libmp import prec_to_dps, to_str

        return f"Float('{to_str(e._mpf_, prec_to_dps(e._prec) + 3)}', precision={e._prec})"

    def _print_Interval(self, i: Any) -> str:
        # StrPrinter formats the ends with str(), which would bypass _print_Float.
        a, b, left_open, right_open = i.args
        m = "" if not (left_open or right_open) else ".open" if left_open and right_open else (
            ".Lopen" if left_open else ".Ropen")
        if (a.is_infinite and not right_open) or (b.is_infinite and not left_open) or (a.is_infinite and
                                                                                       b.is_infinite):
            m = ""
        return f"Interval{m}({self._print(a)}, {self._print(b)})"

    def _print_ZeroMatrix(self, e: Any) -> str:
        return f"ZeroMatrix({self._print(e.rows)}, {self._print(e.cols)})"
