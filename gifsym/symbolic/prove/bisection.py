"""Steps 2–4 of a proof: definedness conditions, interval arithmetic with adaptive bisection and
monotonicity at the ends."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import mpmath
import sympy

from gifsym.symbolic.prove.budget import MAX_BOXES, MAX_DEPTH, MAX_ORDER, MIN_WIDTH
from gifsym.symbolic.prove.grid import eval_np, grid_cached
from gifsym.symbolic.prove.intervals import iv_box, iv_ends, try_iv
from gifsym.symbolic.prove.points import exact_sign, is_undefined, n50, value_at
from gifsym.symbolic.prove.program import Program, compile_program, definedness_conditions
from gifsym.symbolic.prove.task import TRUNCATIONS, Task
from gifsym.symbolic.prove.verdict import Verdict, fmt_expr, fmt_interval, fmt_num, fmt_point

# -- 2.-4. definedness, interval arithmetic and monotonicity --------------------------------------------


class Prover:
    def __init__(self, task: Task, prog: Program, depth: int, *, subproof: Callable[..., Verdict]) -> None:
        # Sub-proofs (definedness conditions, continuity between grid points) go back through the
        # caller's cached decision procedure, passed in so that this module needs no import of it.
        self.subproof = subproof
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
        where = fmt_interval(lo, hi, lo_open, hi_open)
        conditions = definedness_conditions(prog)
        if not conditions:
            return Verdict("holds", "no operation with a restricted domain"), {}
        if self.depth >= MAX_DEPTH:
            TRUNCATIONS[0] += 1
            return Verdict("unknown", "definedness conditions nested too deeply"), {}
        proved, signs = [], {}
        for g, rel in conditions:
            verdict, sign, shown = self._condition(g, rel, lo, hi, lo_open, hi_open)
            if not verdict.holds:
                return Verdict(
                    "unknown", f"could not prove {fmt_expr(g)} {rel} 0 on {where} ({verdict.reason})"
                ), {}
            proved.append(f"{fmt_expr(g, 40)} {shown} 0")
            signs[g] = sign
        return Verdict("holds", f"defined on {where}: " + ", ".join(proved)), signs

    def _condition(self, g, rel, lo, hi, lo_open, hi_open) -> tuple[Verdict, int, str]:
        """Proves one definedness condition; returns the verdict, the sign of g and the relation shown."""
        var = self.task.var
        if var not in g.free_symbols:
            sign = exact_sign(g)
            ok = sign is not None and (sign > 0 or (sign == 0 and rel == ">=") or (sign < 0 and rel == "!="))
            shown = rel if rel != "!=" else ("<" if sign is not None and sign < 0 else ">")
            return Verdict("holds" if ok else "unknown", f"constant {fmt_expr(g)}"), sign or 1, shown
        if rel != "!=":
            return self.subproof(g, var, rel, lo, hi, lo_open, hi_open, self.depth + 1), 1, rel
        # g != 0: prove the sign g has in the middle of the interval.
        middle = n50(g, var, (lo + hi) / 2)
        first = "<" if middle is not None and middle < 0 else ">"
        verdict = self.subproof(g, var, first, lo, hi, lo_open, hi_open, self.depth + 1)
        return verdict, -1 if first == "<" else 1, first

    def derivative(self, k: int) -> tuple:
        if k not in self._derivatives:
            previous, _ = self.derivative(k - 1)
            expr = sympy.diff(previous, self.task.var)
            self._derivatives[k] = (expr, compile_program(expr, self.task.var))
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
                enclosure, singular = try_iv(self.prog, iv_box(x, y))
                if enclosure is not None and not singular:
                    a, b = iv_ends(enclosure)
                    if mpmath.isfinite(a) and mpmath.isfinite(b):
                        continue
                if self.boxes > MAX_BOXES or y - x < MIN_WIDTH * (self.hi - self.lo):
                    break
                mid = (x + y) / 2
                stack += [(mid, y), (x, mid)]
            else:
                return Verdict("holds", f"{t.claim}: proved by interval arithmetic ({self.boxes} boxes)")
        self.failure = domain.reason
        return None

    # signs --------------------------------------------------------------------------------------

    def good(self, enclosure, sign: int, strict: bool) -> bool:
        a, b = iv_ends(enclosure)
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
            if self.boxes > MAX_BOXES:
                self.failure = f"gave up after {MAX_BOXES} boxes near [{fmt_num(float(x))}, {fmt_num(float(y))}]"
                return self.stalled(x, y)
            box = iv_box(x, y)
            enclosure, singular = try_iv(self.prog, box)
            if (enclosure is None or singular) and self.known(0, whole=True) is not None:
                # Defined on the interval (proved): clip enclosures to the proved signs, which removes
                # rounding overshoot below 0 under square roots and the like.
                enclosure, singular = try_iv(self.prog, box, self.known(0, whole=True))
                if enclosure is not None and self.good(enclosure, 1, t.strict):
                    used_singular = True
                    continue
            if enclosure is not None and not singular and self.good(enclosure, 1, t.strict):
                continue
            if enclosure is not None and not singular and self.good(enclosure, -1, not t.strict):
                # The whole box violates the relation: any point of it is a counterexample.
                p = sympy.Rational((x + y) / 2)
                value = n50(t.expr, t.var, p)
                return Verdict(
                    "violated",
                    f"{t.claim}: counterexample: {fmt_expr(t.expr)} = {fmt_num(value)} at {t.var} = {fmt_point(p)} "
                    f"(interval arithmetic: the relation fails on all of [{fmt_num(float(x))}, {fmt_num(float(y))}])",
                )
            if y - x <= width / 8:
                side = "lo" if x == self.lo else "hi" if y == self.hi else None
                if side is not None and self.at_end(x, y, side):
                    continue
            if y - x < MIN_WIDTH * width:
                self.failure = f"interval arithmetic inconclusive on [{fmt_num(float(x))}, {fmt_num(float(y))}]"
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
            value = value_at(t.f, t.var, candidate)
            sign = None if is_undefined(value) else exact_sign(value)
            if sign is not None and (sign < 0 or (sign == 0 and t.strict)):
                shown = value_at(t.expr, t.var, candidate)
                return Verdict(
                    "violated",
                    f"{t.claim}: counterexample: {fmt_expr(t.expr)} = {fmt_expr(shown)} at {t.var} = {fmt_point(candidate)} "
                    f"(exact), not {t.relation} 0",
                )
        if not self.domain(0, whole=True).holds:
            return self.undefined_point()
        return None

    def undefined_point(self) -> Verdict | None:
        """A point where a divisor (or the cosine under a tan) vanishes, found by a proved sign change."""
        import numpy as np
        t = self.task
        points, xs, _ = grid_cached(t.lo, t.hi, t.lo_open, t.hi_open)
        for g, rel in definedness_conditions(self.prog):
            if rel != "!=" or t.var not in g.free_symbols:
                continue
            prog = compile_program(g, t.var)
            if prog is None:
                continue
            values = eval_np(prog, xs)
            changes = np.flatnonzero(
                np.isfinite(values[:-1]) & np.isfinite(values[1:]) & (values[:-1] * values[1:] < 0)
            )
            for i in changes[:3]:
                p1, p2 = points[i], points[i + 1]
                v1, v2 = n50(g, t.var, p1), n50(g, t.var, p2)
                if v1 is None or v2 is None or v1 * v2 >= 0:
                    continue
                continuous = self.subproof(g, t.var, "finite", p1, p2, False, False, self.depth + 1)
                if continuous.holds:
                    return Verdict(
                        "violated",
                        f"{t.claim}: {fmt_expr(t.expr)} is undefined at some {t.var} in ({fmt_point(p1)}, {fmt_point(p2)}): "
                        f"{fmt_expr(g)} is continuous there and changes sign ({fmt_num(v1)} to {fmt_num(v2)}), so it "
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
        box = iv_box(x, y)
        if self.claim(0, 1, t.strict, box, end, side):
            e = sympy.Rational(end)
            self.notes.append(
                f"near {t.var} = {fmt_point(e)}: by the mean value theorem from the value at {fmt_point(e)} and the sign "
                f"of the derivatives on [{fmt_num(float(x))}, {fmt_num(float(y))}]"
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
        enclosure, singular = try_iv(prog, box)
        defined = False
        if enclosure is None or singular:
            known = self.known(k, whole)
            if known is not None:
                defined = True
                enclosure, singular = try_iv(prog, box, known)
        if enclosure is not None and self.good(enclosure, sign, strict) and (not singular or defined):
            return True
        if k >= MAX_ORDER or enclosure is None or singular:
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
            value = value_at(expr, self.task.var, sympy.Rational(end))
            self._end_signs[key] = None if is_undefined(value) else exact_sign(value)
        return self._end_signs[key]
