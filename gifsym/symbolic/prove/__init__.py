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

from gifsym.symbolic.prove.budget import RELATIONS, STATUSES, VALUE_RELATIONS
from gifsym.symbolic.prove.limits import prove_value
from gifsym.symbolic.prove.relations import prove_relation
from gifsym.symbolic.prove.removable import prove_extended, singular_points
from gifsym.symbolic.prove.verdict import Verdict, combine

__all__ = ["RELATIONS", "STATUSES", "VALUE_RELATIONS", "Verdict", "combine", "prove_extended", "prove_relation",
           "prove_value", "singular_points"]
