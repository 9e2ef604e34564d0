"""A proof task (the normalized claim ``f > 0``, ``f >= 0`` or ``f`` finite on an interval) and the
nesting state shared by sub-proofs."""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from gifsym.symbolic.prove.verdict import fmt_expr, fmt_interval

# Bumped whenever the nesting limit cuts a sub-proof short; a verdict computed while it moved is not
# cached, since a call from shallower nesting could decide it.
TRUNCATIONS = [0]


@dataclass(frozen=True)
class Task:
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
        return fmt_interval(self.lo, self.hi, self.lo_open, self.hi_open)

    @property
    def claim(self) -> str:
        if self.relation == "finite":
            return f"{fmt_expr(self.expr)} finite on {self.where}"
        return f"{fmt_expr(self.expr)} {self.relation} 0 on {self.where}"
