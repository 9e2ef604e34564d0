"""Verdicts of the prover (holds / violated / unknown, with a reason) and how claims are worded."""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import sympy

from gifsym.symbolic.prove.budget import STATUSES


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


def fmt_expr(expr: sympy.Basic, limit: int = 60) -> str:
    text = str(expr)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def fmt_num(value) -> str:
    """A number in reasons: 6 significant digits."""
    try:
        return mpmath.nstr(mpmath.mpf(value) if not isinstance(value, mpmath.mpf) else value, 6)
    except (TypeError, ValueError):
        return str(value)


def fmt_point(p: sympy.Expr) -> str:
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
            return f"{p} ≈ {fmt_num(float(p))}"
        return fmt_num(float(p))
    return f"{p} ≈ {fmt_num(sympy.N(p, 15))}"


def fmt_interval(lo, hi, lo_open: bool, hi_open: bool) -> str:
    return f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
