r"""Schedule transfer: the time change and scale that turn one schedule's flow into another's.

Two schedules ``(a, b)`` (time t) and ``(ā, b̄)`` (time r) with the same target give paths related by
``X̄_r = s(r) X_{t(r)}`` whenever their signal-to-noise ratios agree, ``ρ(t(r)) = ρ̄(r)``: then
``s a(t) = ā`` and ``s b(t) = b̄`` for the same ``(Z, X_1)``, with

    t(r) = ρ⁻¹(ρ̄(r)),     s(r) = b̄(r) / b(t(r)) = ā(r) / a(t(r)).

Differentiating ``X̄_r = s X_{t(r)}`` gives the transferred velocity

    v̄(r, x) = (ṡ/s) x + s ṫ v(t(r), x/s),

and implicit differentiation of ``ρ(t(r)) = ρ̄(r)`` gives ``ṫ = W̄(r) / (s² W(t))`` with the Wronskians
``W = a ḃ − ȧ b``. These three formulas are derived once by SymPy (:func:`transfer_formulas`) in
placeholders and evaluated for each pair of schedules. ``t(r)`` is exact when the source's SNR inverse is
(:mod:`gifsym.symbolic.convert.snr`), otherwise certified by interval bisection; the transfer exists for
the ``r`` whose SNR the source reaches (all of [0, 1] unless one schedule has ``b_0 > 0`` or
``a_1 > 0``). An end of that interval is closed only where ``t, s, ṫ, ṡ`` are finite there: e.g. ddpm ->
fm-condot is ``[r_0, 1)``, since at r = 1 both SNRs are infinite and ṫ is a 0·∞ limit.

Example:
    >>> from gifsym import schedule
    >>> tr = transfer(schedule("linear"), schedule("trigonometric"))
    >>> tr.kind, tr.time
    ('exact', sqrt(2)*sin(pi*r/2)/(2*sin(pi*(r/2 + 1/4))))
    >>> round(tr.time_at(0.5), 12), round(tr.scale_at(0.5), 12)
    (0.5, 1.414213562373)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import Any

import sympy

from gifsym.errors import ConvertError
from gifsym.symbolic.convert import arguments
from gifsym.symbolic.convert.snr import SNRInverse, snr_inverse, y
from gifsym.symbolic.schedule import Schedule, t

#: The target schedule's time.
r = sympy.Symbol("r", real=True)

# Placeholders: the source's a, ȧ, b, ḃ at t(r), the target's at r, the scale s and the velocity value.
_A, _DA, _B, _DB = sympy.symbols("a_t \\dot{a}_t b_t \\dot{b}_t", real=True)
_TA, _TDA, _TB, _TDB = sympy.symbols("\\bar{a}_r \\dot{\\bar{a}}_r \\bar{b}_r \\dot{\\bar{b}}_r", real=True)


@dataclass(frozen=True)
class TransferFormulas:
    """The transfer's formulas in placeholders (see the module docstring): ``dt`` (ṫ), ``ds_a`` / ``ds_b``
    (ṡ from ``s = ā/a`` and from ``s = b̄/b``), each in the source's ``a, ȧ, b, ḃ`` at t(r), the target's
    ``ā, dā, b̄, db̄`` at r, and ``s``."""

    s: sympy.Symbol
    dt: sympy.Expr
    ds_a: sympy.Expr
    ds_b: sympy.Expr


@lru_cache(maxsize=1)
def transfer_formulas() -> TransferFormulas:
    """Derive ṫ and ṡ by implicit differentiation of ``b(T(r))/a(T(r)) = b̄(r)/ā(r)`` and of
    ``s = ā(r)/a(T(r))`` (equivalently ``b̄(r)/b(T(r))``)."""
    T = sympy.Function("T")(r)
    fa, fb = sympy.Function("a"), sympy.Function("b")
    ga, gb = sympy.Function("abar"), sympy.Function("bbar")
    snr_eq = fb(T) / fa(T) - gb(r) / ga(r)
    dT = sympy.Symbol("dT")
    d = sympy.diff(snr_eq, r).subs(sympy.Derivative(T, r), dT)
    s = sympy.Symbol("s", positive=True)

    def place(e: sympy.Expr) -> sympy.Expr:
        # Replace the functions by placeholders; derivatives first.
        e = e.subs({sympy.Derivative(fa(T), T): _DA, sympy.Derivative(fb(T), T): _DB,
                    sympy.Derivative(ga(r), r): _TDA, sympy.Derivative(gb(r), r): _TDB})
        e = e.replace(lambda x: isinstance(x, sympy.Subs), lambda x: x.doit())
        e = e.subs({sympy.Derivative(fa(T), T): _DA, sympy.Derivative(fb(T), T): _DB})
        return e.subs({fa(T): _A, fb(T): _B, ga(r): _TA, gb(r): _TB})

    dt = sympy.solve(place(d), dT)[0]
    # On the transfer, ā = s a and b̄ = s b: write ṫ in s (it stays finite as a, ā → 0 together).
    dt = sympy.factor(sympy.simplify(dt.subs({_TA: s * _A, _TB: s * _B})))
    ds_a = place(sympy.diff(ga(r) / fa(T), r).subs(sympy.Derivative(T, r), dT)).subs(dT, dt)
    ds_b = place(sympy.diff(gb(r) / fb(T), r).subs(sympy.Derivative(T, r), dT)).subs(dT, dt)
    ds_a = sympy.simplify(ds_a.subs(_TA, s * _A))
    ds_b = sympy.simplify(ds_b.subs(_TB, s * _B))
    return TransferFormulas(s, dt, ds_a, ds_b)


@dataclass(frozen=True)
class Transfer:
    r"""The SNR-matching time change ``t(r)`` and scale ``s(r)`` from ``source`` (time t) to ``target``
    (time r): ``X^target_r = s(r) X^source_{t(r)}``.

    Attributes:
        source, target: the schedules.
        time: ``t(r)`` in :data:`r` (SymPy) when ``kind == "exact"``, else ``None``.
        scale: ``s(r) = b̄(r)/b(t(r))`` in r when exact, else ``None``.
        kind: ``"exact"``, ``"certified"`` (t(r) enclosed by interval bisection; see :meth:`time_enclosure`)
            or ``"estimate"``.
        interval: the r where the transfer exists (the target's SNR lies in the source's range).
        inverse: the source's SNR inverse.
        method: how ``t(r)`` is obtained, in words.
    """

    source: Schedule
    target: Schedule
    time: sympy.Expr | None
    scale: sympy.Expr | None
    kind: str
    interval: sympy.Interval
    inverse: SNRInverse
    method: str

    @cached_property
    def _fns(self) -> dict[str, Callable]:
        mods = ["numpy", "scipy"]
        src, tgt = self.source, self.target
        f = transfer_formulas()
        place = (_A, _DA, _B, _DB, _TA, _TDA, _TB, _TDB, f.s)
        return {
            "rho_target": sympy.lambdify(t, tgt.snr, modules=mods),
            "source": sympy.lambdify(t, (src.a, src.da, src.b, src.db), modules=mods),
            "target": sympy.lambdify(t, (tgt.a, tgt.da, tgt.b, tgt.db), modules=mods),
            "dt": sympy.lambdify(place, f.dt, modules=mods),
            "ds_a": sympy.lambdify(place, f.ds_a, modules=mods),
            "ds_b": sympy.lambdify(place, f.ds_b, modules=mods),
        }

    def _check(self, r0: float) -> float:
        r0 = arguments.real(r0, where="the time r")
        lo, hi = float(self.interval.start), float(self.interval.end)
        if not (lo <= r0 <= hi) or (r0 == lo and self.interval.left_open) or (r0 == hi and self.interval.right_open):
            raise ConvertError(f"r = {r0!r} is outside {self.interval}, where the transfer from "
                               f"{self.source.spec} to {self.target.spec} exists")
        return r0

    def components(self, r0: float) -> dict[str, float]:
        """``{"t", "s", "dt", "ds"}`` at one r (float64): the time change, the scale and their derivatives.

        Raises:
            ConvertError: r is outside :attr:`interval`, or the formulas are singular there (0/0 or ∞ at an
                end that :func:`transfer` therefore leaves open).
        """
        import numpy as np
        r0 = self._check(r0)
        c = _components(self._fns, self.inverse, r0)
        if not all(np.isfinite(v) for v in c.values()) or not c["s"] > 0:
            raise ConvertError(f"the transfer from {self.source.spec} to {self.target.spec} is singular at r = "
                               f"{r0!r} ({', '.join(f'{k} = {v!r}' for k, v in c.items())})")
        return c

    def time_scale(self, r0: float) -> tuple[float, float]:
        """``(t(r), s(r))`` at one r in the closed interval, ends included where t and s are finite.

        A grid needs only the time change and the scale, not their derivatives: an end that :attr:`interval`
        leaves open because ``ṫ`` or ``ṡ`` is infinite there (e.g. ``b ~ √t`` at t = 0) still has its time
        and scale.

        Raises:
            ConvertError: r is outside the closed interval, or t or s is not finite (or s ≤ 0) there.
        """
        import numpy as np
        r0 = float(r0)
        lo, hi = float(self.interval.start), float(self.interval.end)
        if not lo <= r0 <= hi:
            raise ConvertError(f"r = {r0!r} is outside {self.interval}, where the transfer from "
                               f"{self.source.spec} to {self.target.spec} exists")
        with np.errstate(all="ignore"):  # infinite derivatives at an end are expected and unused here
            try:
                c = _components(self._fns, self.inverse, r0)
            except (ArithmeticError, ValueError) as e:
                raise ConvertError(f"the transfer from {self.source.spec} to {self.target.spec} is singular at "
                                   f"r = {r0!r} ({e})") from None
        if not (np.isfinite(c["t"]) and np.isfinite(c["s"]) and c["s"] > 0):
            raise ConvertError(f"the transfer from {self.source.spec} to {self.target.spec} is singular at r = "
                               f"{r0!r} (t = {c['t']!r}, s = {c['s']!r})")
        return c["t"], c["s"]

    def time_at(self, r0: float) -> float:
        """``t(r)`` in float64."""
        return self.components(r0)["t"]

    def scale_at(self, r0: float) -> float:
        """``s(r)`` in float64."""
        return self.components(r0)["s"]

    def time_enclosure(self, r0: float) -> tuple[float, float]:
        """A certified bracket of ``t(r)``: ``ρ̄(r)`` is enclosed in interval arithmetic, and each end of that
        enclosure is inverted by certified bisection (ρ increasing, so the bracket of t is their hull)."""
        import numpy as np
        from gifsym.symbolic.convert.enclosure import enclose, endpoints

        r0 = self._check(r0)
        if r0 == 1.0 and np.isinf(self.inverse.range[1]) and np.isinf(snr_inverse(self.target).range[1]):
            return (1.0, 1.0)  # both SNRs are infinite exactly at the data end: t(1) = 1
        lo, hi = endpoints(enclose(self.target.snr, t, r0))
        return (self.inverse.enclosure(lo)[0], self.inverse.enclosure(hi)[1])

    def velocity(self, v_source: Callable[[float, Any], Any]) -> Callable[[float, Any], Any]:
        r"""Wrap a velocity ``v_source(t, x)`` of the source schedule into the target schedule's
        ``v̄(r, x) = (ṡ/s) x + s ṫ v_source(t(r), x/s)``.

        ``x`` may be a NumPy, JAX or torch array (only scalar arithmetic is applied to it); ``r`` is a number
        (the time change is computed in float64 outside any tracing).
        """
        if not callable(v_source):
            raise ConvertError(f"velocity() needs a callable v(t, x), got {type(v_source).__name__}")

        def v_target(r0: float, x: Any) -> Any:
            c = self.components(float(r0))
            return (c["ds"] / c["s"]) * x + (c["s"] * c["dt"]) * v_source(c["t"], x / c["s"])

        v_target.__doc__ = f"velocity of {self.target.spec}, transferred from {self.source.spec}"
        return v_target


def _components(fns: dict[str, Callable], inverse: SNRInverse, r0: float) -> dict[str, float]:
    """t(r), s(r), ṫ, ṡ in float64 numpy arithmetic (a division by zero gives ±inf or nan, not an exception)."""
    import numpy as np
    r0 = np.float64(r0)
    with np.errstate(all="ignore"):
        ta, tda, tb, tdb = (np.float64(v) for v in fns["target"](r0))
        rho = np.float64(fns["rho_target"](r0))
        # ρ̄ = ∞ only at r = 1 with ā_1 = 0; the transfer then exists there only if ρ reaches ∞ too (t = 1).
        t0 = 1.0 if np.isinf(rho) else float(inverse.at(rho))
        a, da, b, db = (np.float64(v) for v in fns["source"](np.float64(t0)))
        # s = ā/a and s = b̄/b are equal; take the ratio of the larger coefficients (no 0/0 at either end).
        use_b = tb >= ta
        s = tb / b if use_b else ta / a
        args = (a, da, b, db, ta, tda, tb, tdb, s)
        dt = float(fns["dt"](*args))
        ds = float(fns["ds_b" if use_b else "ds_a"](*args))
    return {"t": float(t0), "s": float(s), "dt": dt, "ds": ds}


def _regular(fns: dict[str, Callable], inverse: SNRInverse, r0: float) -> bool:
    """Whether the transfer's formulas give finite t, s > 0, ṫ, ṡ at r0 (an end of the interval)."""
    import numpy as np
    try:
        c = _components(fns, inverse, r0)
    except (ArithmeticError, ValueError, ConvertError):
        return False
    return all(np.isfinite(v) for v in c.values()) and c["s"] > 0


def transfer(source: Schedule, target: Schedule) -> Transfer:
    """The SNR-matching transfer from ``source`` to ``target`` (see the module docstring).

    Raises:
        ConvertError: a schedule has symbolic parameters or a decreasing SNR, or their SNR ranges do not
            overlap.
    """
    arguments.schedule(source, where="transfer(source, ...)")
    arguments.schedule(target, where="transfer(..., target)")
    inv = snr_inverse(source)
    inv_target = snr_inverse(target)
    lo_src, hi_src = inv.range
    lo_tgt, hi_tgt = inv_target.range
    # The transfer exists for r with ρ̄(r) in the source's range [ρ(0), ρ(1)).
    r_lo = sympy.Integer(0) if lo_tgt >= lo_src else sympy.Float(inv_target.at(lo_src), 17)
    r_hi = sympy.Integer(1) if hi_tgt <= hi_src else sympy.Float(inv_target.at(hi_src), 17)
    if not r_lo < r_hi:
        raise ConvertError(f"the SNR ranges of {source.spec} {inv.range} and {target.spec} {inv_target.range} "
                           "do not overlap: no transfer")
    # At r_lo the source is at t = 0, at r_hi at t = 1 (or the target at r = 1). An end is closed only where
    # the formulas are finite there: e.g. ddpm -> fm-condot at r = 1 has ρ̄ = ∞ and ȧ_1 = ∞ (ṫ is a 0·∞
    # limit), so the interval is printed open at 1 and r = 1 is refused like any r outside it.
    interval = sympy.Interval(r_lo, r_hi)
    if inv.expr is not None:
        time = inv.expr.subs(y, target.snr.subs(t, r))
        time = sympy.simplify(time) if sympy.count_ops(time) < 40 else time
        scale = target.b.subs(t, r) / source.b.subs(t, time)
        kind, method = "exact", "t(r) = rho^-1(rho_target(r)) with the exact SNR inverse (" + inv.method + ")"
    else:
        time = scale = None
        kind, method = inv.kind, "t(r) by the SNR inverse: " + inv.method
    tr = Transfer(source, target, time, scale, kind, interval, inv, method)
    left_open, right_open = (not _regular(tr._fns, inv, float(end)) for end in (r_lo, r_hi))
    if left_open or right_open:
        tr = replace(tr, interval=sympy.Interval(r_lo, r_hi, left_open, right_open))
    return tr
