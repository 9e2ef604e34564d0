"""SymPy's normalisations, remembered.

The derivations work in the placeholders ``a_t, ȧ_t, b_t, ḃ_t``, so the same formulas recur for every
schedule and target of the inventory, and the same SNR and validity conditions for every bound of a schedule.
These normalisations are pure and run under no time budget, so a remembered answer is the answer (unlike a
result cut short by a budget, which must never be kept: see :func:`gifsym.theory.integrals.cache_decided`).

Example:
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> cancel((x**2 - 1) / (x - 1))
    x + 1
"""

from __future__ import annotations

from functools import lru_cache

import sympy

#: ``sympy.simplify``, remembered (the slowest normalisation SymPy has).
simplify = lru_cache(maxsize=512)(sympy.simplify)
#: ``sympy.factor``, remembered.
factor = lru_cache(maxsize=256)(sympy.factor)
#: ``sympy.cancel``, remembered.
cancel = lru_cache(maxsize=256)(sympy.cancel)

__all__ = ["cancel", "factor", "simplify"]
