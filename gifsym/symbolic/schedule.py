r"""Noise schedules ``(a_t, b_t)`` of the interpolation ``X_t = a_t Z + b_t X_1``.

A schedule is a pair of SymPy expressions in the time symbol :data:`t`. The catalogue of math.md §2 is
built from small builder functions of the parameters; a custom schedule is two user expressions parsed
safely (:func:`gifsym.symbolic.expr.parse_expression`). Derivatives come from ``sympy.diff``; the assumptions
S-end, S-mono, S-pos and S-smooth are checked tri-state by :mod:`gifsym.symbolic.prove`.

Example:
    >>> from gifsym import schedule, t
    >>> s = schedule("linear")
    >>> s.a, s.b, s.da, s.db
    (1 - t, t, -1, 1)
    >>> s.check().status("S-mono")
    'holds'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

import sympy

from gifsym.errors import ScheduleError, SpecError

if TYPE_CHECKING:
    from gifsym.symbolic.prove import Verdict
from gifsym.symbolic.spec import split_spec

#: The time symbol: noise at t = 0, data at t = 1.
t = sympy.Symbol("t", real=True)

#: The assumption ids a schedule is checked against (math.md §2).
SCHEDULE_ASSUMPTIONS = ("S-end", "S-mono", "S-pos", "S-smooth")

#: What each checked statement says, in one line of text (summaries of an assumption report).
SUMMARIES = {
    "S-end": "a_0 > 0, b_0 >= 0, a_1 = 0, b_1 = 1",
    "S-mono": "da/dt <= 0 and db/dt >= 0 on (0, 1)",
    "S-pos": "a > 0 on [0, 1) and b > 0 on (0, 1]",
    "S-smooth": "a, b continuous on [0, 1] and C^2 on (0, 1)",
    "wronskian": "a b' - a' b >= 0 on (0, 1)",
    "snr-monotone": "the SNR b/a is non-decreasing",
}

_s = 1 - t  # score-SDE time, for the VP/VE family


@dataclass(frozen=True)
class Parameter:
    """A schedule parameter: its name, default, and the condition a value must satisfy."""

    name: str
    default: sympy.Expr
    condition: str  # shown in errors, e.g. "> 0"
    check: Callable[[sympy.Expr], bool | None]  # None when undecidable (symbolic value)


def _positive(v: sympy.Expr) -> bool | None:
    return v.is_positive


def _nonneg(v: sympy.Expr) -> bool | None:
    return v.is_nonnegative


def _vp_B(p: Mapping[str, sympy.Expr]) -> sympy.Expr:
    # Integrated noise rate of the VP SDE, in score-SDE time s = 1 - t.
    return p["beta_min"] * _s + (p["beta_max"] - p["beta_min"]) * _s**2 / 2


def _ve_sigma(p: Mapping[str, sympy.Expr]) -> sympy.Expr:
    return p["sigma_min"] * (p["sigma_max"] / p["sigma_min"]) ** _s


@dataclass(frozen=True)
class Quantity:
    r"""A named quantity of a schedule, used to print results compactly (:mod:`gifsym.symbolic.compact`).

    Attributes:
        name: an identifier (the SymPy symbol's name), e.g. ``"E"``.
        latex: how it reads in formulas, e.g. ``r"\beta(s)"``.
        definition: its definition in the safe expression grammar, in ``t``, the schedule's parameters and
            the quantities declared before it, e.g. ``"exp(-B)"``.
        meaning: a few words for the "where" list.
    """

    name: str
    latex: str
    definition: str
    meaning: str = ""


@dataclass(frozen=True)
class CatalogueEntry:
    """One named schedule: its builder ``params -> (a, b)``, parameters, a one-line description and the
    natural quantities its results are written in (compact forms)."""

    name: str
    description: str
    build: Callable[[Mapping[str, sympy.Expr]], tuple[sympy.Expr, sympy.Expr]]
    parameters: tuple[Parameter, ...] = ()
    relations: tuple[tuple[str, Callable[[Mapping[str, sympy.Expr]], bool | None]], ...] = ()
    quantities: tuple[Quantity, ...] = ()


_BETA = (
    Parameter("beta_min", sympy.Rational(1, 10), ">= 0", _nonneg),
    Parameter("beta_max", sympy.Integer(20), "> 0", _positive),
)
_BETA_REL = (("beta_max > beta_min", lambda p: (p["beta_max"] - p["beta_min"]).is_positive),)
_SIGMA = (
    Parameter("sigma_min", sympy.Rational(1, 100), "> 0", _positive),
    Parameter("sigma_max", sympy.Integer(50), "> 0", _positive),
)
_SIGMA_REL = (("sigma_max > sigma_min", lambda p: (p["sigma_max"] - p["sigma_min"]).is_positive),)

# The natural quantities of each family (issue 10): results are rewritten in them. Names avoid the target
# parameters (beta, sigma, kappa, R), which may appear in the same formula.
_VP_QUANTITIES = (
    Quantity("s", "s", "1 - t", "score-SDE time"),
    Quantity("B", "B(s)", "beta_min*s + (beta_max - beta_min)*s**2/2", "integrated noise rate"),
    Quantity("beta_s", r"\beta(s)", "beta_min + (beta_max - beta_min)*s", "noise rate, B'(s)"),
    Quantity("E", "E", "exp(-B)", "signal power"),
)
_VE_QUANTITIES = (
    Quantity("s", "s", "1 - t", "score-SDE time"),
    Quantity("sigma_s", r"\sigma(s)", "sigma_min*(sigma_max/sigma_min)**s", "noise scale"),
)
_TRIG_QUANTITIES = (Quantity("phi", r"\varphi", "pi*t/2", "angle"),)

#: The catalogue of math.md §2, keyed by spec name.
CATALOGUE: dict[str, CatalogueEntry] = {
    e.name: e
    for e in (
        CatalogueEntry("linear", "rectified flow / OT-CFM", lambda p: (1 - t, t)),
        CatalogueEntry(
            "trigonometric", "cosine schedule", lambda p: (sympy.cos(sympy.pi * t / 2), sympy.sin(sympy.pi * t / 2)),
            quantities=_TRIG_QUANTITIES,
        ),
        CatalogueEntry("follmer", "Föllmer flow", lambda p: (sympy.sqrt(1 - t**2), t)),
        CatalogueEntry(
            "vp",
            "variance preserving (DDPM / VP-SDE probability flow)",
            lambda p: (sympy.sqrt(1 - sympy.exp(-_vp_B(p))), sympy.exp(-_vp_B(p) / 2)),
            _BETA,
            _BETA_REL,
            _VP_QUANTITIES,
        ),
        CatalogueEntry(
            "subvp",
            "sub-variance preserving",
            lambda p: (1 - sympy.exp(-_vp_B(p)), sympy.exp(-_vp_B(p) / 2)),
            _BETA,
            _BETA_REL,
            _VP_QUANTITIES,
        ),
        CatalogueEntry(
            "ve",
            "variance exploding (VE-SDE probability flow)",
            lambda p: (sympy.sqrt(_ve_sigma(p) ** 2 - p["sigma_min"] ** 2), sympy.Integer(1)),
            _SIGMA,
            _SIGMA_REL,
            _VE_QUANTITIES,
        ),
    )
}


@dataclass(frozen=True)
class AssumptionReport:
    """The tri-state status of each schedule assumption, with reasons.

    Attributes:
        items: ``(id, Verdict)`` pairs for S-end, S-mono, S-pos, S-smooth, in that order.
        consequences: derived facts (``a ḃ − ȧ b ≥ 0``, SNR non-decreasing) with their verdicts.
    """

    items: tuple[tuple[str, Verdict], ...]
    consequences: tuple[tuple[str, Verdict], ...] = ()
    #: For each id, the verdict of each part of the statement: ``(id, ((label, Verdict), ...))``.
    parts: tuple[tuple[str, tuple[tuple[str, Verdict], ...]], ...] = ()

    def parts_of(self, key: str) -> tuple[tuple[str, Verdict], ...]:
        """The parts of assumption ``key`` with their own verdicts (e.g. ``a_0 > 0`` of S-end)."""
        return dict(self.parts).get(key, ())

    def summary(self, key: str, limit: int = 110) -> str:
        """One line: what was proved, or which part failed and why (shortened to ``limit`` characters).

        Example:
            >>> schedule(a="1 - t", b="t**2 - t/2").check().summary("S-end")[:25]
            'b_1 = 1 violated: limit o'
        """
        v = self[key]
        if v.status == "holds":
            return f"proved: {SUMMARIES.get(key, key)}"
        bad = [(label, p) for label, p in self.parts_of(key) if p.status != "holds"]
        label, p = bad[0] if bad else (key, v)
        more = f" (+{len(bad) - 1} more)" if len(bad) > 1 else ""
        text = " ".join(f"{label} {p.status}: {p.reason}".split())
        if len(text) > limit - len(more):
            text = text[: limit - len(more) - 1] + "…"
        return text + more

    def __getitem__(self, key: str) -> Verdict:
        for k, v in self.items + self.consequences:
            if k == key:
                return v
        raise KeyError(key)

    def status(self, key: str) -> str:
        """The status string of assumption ``key``."""
        return self[key].status

    @property
    def all_hold(self) -> bool:
        """Whether every assumption was proved."""
        return all(v.status == "holds" for _, v in self.items)

    def holding(self) -> frozenset[str]:
        """The ids of the assumptions that were proved."""
        return frozenset(k for k, v in self.items if v.status == "holds")

    def to_dict(self) -> dict[str, dict[str, str]]:
        """``{id: {"status": ..., "reason": ...}}`` as in interface.md's JSON."""
        return {k: {"status": v.status, "reason": v.reason} for k, v in self.items}


@dataclass(frozen=True)
class Schedule:
    r"""A noise schedule: ``a`` multiplies the noise, ``b`` the data.

    Attributes:
        name: catalogue name, or ``"custom"``.
        a: :math:`a_t` as a SymPy expression in :data:`t`.
        b: :math:`b_t`.
        params: ``(name, value)`` pairs; a value may be a SymPy symbol (symbolic parameter).
        source: the expressions as the user wrote them, for a custom schedule.
    """

    name: str
    a: sympy.Expr
    b: sympy.Expr
    params: tuple[tuple[str, sympy.Expr], ...] = ()
    source: tuple[str, str] | None = field(default=None, compare=False)

    @cached_property
    def da(self) -> sympy.Expr:
        r""":math:`\dot a_t`."""
        return sympy.diff(self.a, t)

    @cached_property
    def db(self) -> sympy.Expr:
        r""":math:`\dot b_t`."""
        return sympy.diff(self.b, t)

    @cached_property
    def d2a(self) -> sympy.Expr:
        r""":math:`\ddot a_t`."""
        return sympy.diff(self.da, t)

    @cached_property
    def d2b(self) -> sympy.Expr:
        r""":math:`\ddot b_t`."""
        return sympy.diff(self.db, t)

    @cached_property
    def snr(self) -> sympy.Expr:
        r"""Signal-to-noise ratio :math:`r_t = b_t / a_t`."""
        return self.b / self.a

    @cached_property
    def wronskian(self) -> sympy.Expr:
        r""":math:`a_t \dot b_t - \dot a_t b_t` (≥ 0 under S-mono; the SNR grows where it is > 0)."""
        return sympy.simplify(self.a * self.db - self.da * self.b)

    @property
    def spec(self) -> str:
        """The spec string that rebuilds this schedule (custom: ``custom:a=...;b=...``)."""
        if self.name == "custom":
            a, b = self.source or (str(self.a), str(self.b))
            return f"custom(a={a}, b={b})"
        if not self.params:
            return self.name
        return self.name + ":" + ",".join(f"{k}={v}" for k, v in self.params)

    @property
    def free_parameters(self) -> frozenset[sympy.Symbol]:
        """The symbolic parameters the schedule still depends on."""
        return frozenset((self.a.free_symbols | self.b.free_symbols) - {t})

    def check(self) -> AssumptionReport:
        """Check S-end, S-mono, S-pos and S-smooth (tri-state, with reasons); cached per schedule."""
        return _check(self)


@lru_cache(maxsize=256)
def _check(s: Schedule) -> AssumptionReport:
    # Also kept on disk (gifsym.store): a new process (each CLI call) reads the proofs back.
    from gifsym import store
    from gifsym.symbolic.prove import Verdict

    return store.cached("schedule-check", {"schedule": s},
                        {"AssumptionReport": AssumptionReport, "Verdict": Verdict}, lambda: _derive_check(s))


def _derive_check(s: Schedule) -> AssumptionReport:
    from gifsym.symbolic import prove
    from gifsym.symbolic.prove import Verdict

    a, b, da, db, d2a, d2b = s.a, s.b, s.da, s.db, s.d2a, s.d2b

    parts: dict[str, list[tuple[str, Verdict]]] = {}
    current: list[list[tuple[str, Verdict]]] = []

    def named(v, label: str) -> Verdict:
        current[-1].append((label, v))
        return Verdict(v.status, f"{label}: {v.reason}")

    def join(*verdicts: Verdict) -> Verdict:
        return prove.combine(*verdicts)

    def part(key: str):
        current.append([])
        parts[key] = current[-1]

    part("S-end")
    end = join(
        named(prove.prove_value(a, t, 0, ">", 0), "a_0 > 0"),
        named(prove.prove_value(b, t, 0, ">=", 0), "b_0 >= 0"),
        named(prove.prove_value(a, t, 1, "==", 0, side="-"), "a_1 = 0"),
        named(prove.prove_value(b, t, 1, "==", 1, side="-"), "b_1 = 1"),
    )
    part("S-mono")
    mono = join(
        named(prove.prove_relation(da, t, "<=", lo_open=True, hi_open=True), "da/dt <= 0 on (0,1)"),
        named(prove.prove_relation(db, t, ">=", lo_open=True, hi_open=True), "db/dt >= 0 on (0,1)"),
    )
    part("S-pos")
    pos = join(
        named(prove.prove_relation(a, t, ">", hi_open=True), "a > 0 on [0,1)"),
        named(prove.prove_relation(b, t, ">", lo_open=True), "b > 0 on (0,1]"),
    )
    part("S-smooth")
    smooth = join(
        named(prove.prove_relation(a, t, "finite"), "a finite (continuous) on [0,1]"),
        named(prove.prove_relation(b, t, "finite"), "b finite (continuous) on [0,1]"),
        *(
            named(prove.prove_relation(e, t, "finite", lo_open=True, hi_open=True), f"{lab} finite on (0,1)")
            for e, lab in ((da, "a'"), (db, "b'"), (d2a, "a''"), (d2b, "b''"))
        ),
    )
    part("wronskian")
    wv = named(prove.prove_relation(s.wronskian, t, ">=", lo_open=True, hi_open=True), "a b' - a' b >= 0 on (0,1)")
    snr = Verdict(wv.status, "d/dt (b/a) = (a b' - a' b)/a^2, so it is non-decreasing where " + wv.reason)
    return AssumptionReport(
        items=(("S-end", end), ("S-mono", mono), ("S-pos", pos), ("S-smooth", smooth)),
        consequences=(("wronskian", wv), ("snr-monotone", snr)),
        parts=tuple((k, tuple(v)) for k, v in parts.items()),
    )


def _value(name: str, value: object, *, real_only: bool = False) -> sympy.Expr:
    """A parameter value: a number, an exact-number string, None (symbolic) or a SymPy expression."""
    if value is None:
        return sympy.Symbol(name, real=True) if real_only else sympy.Symbol(name, positive=True)
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, bool):
        raise SpecError(f"parameter {name}={value!r} is not a number")
    if isinstance(value, int):
        return sympy.Integer(value)
    if isinstance(value, float):
        # repr gives the shortest decimal that round-trips, so 0.1 becomes exactly 1/10
        return sympy.Rational(repr(value))
    if isinstance(value, str):
        from gifsym.symbolic.expr import parse_number

        return parse_number(value)
    raise SpecError(f"parameter {name}={value!r} is not a number; give an int, float, or a string like '0.1'")


def schedule(spec: str | None = None, *, a: str | None = None, b: str | None = None, **params: object) -> Schedule:
    """Build a schedule from a catalogue spec or from two custom expressions.

    Args:
        spec: ``linear``, ``trigonometric``, ``follmer``, ``vp``, ``subvp``, ``ve``, with parameters after a
            colon (``vp:beta_min=0.1,beta_max=20``; ``vp:beta_min`` keeps ``beta_min`` symbolic).
        a: custom ``a_t`` (a string in the safe grammar of interface.md), together with ``b``.
        b: custom ``b_t``.
        **params: catalogue parameters, or the declared parameters of a custom schedule (``None``
            keeps one symbolic).

    Raises:
        ScheduleError: unknown name, unknown or bad parameter, or both/neither of spec and (a, b).

    Example:
        >>> schedule(a="cos(pi*t/2)", b="sin(pi*t/2)").db
        pi*cos(pi*t/2)/2
        >>> schedule("vp:beta_min=0.1,beta_max=20").params
        (('beta_min', 1/10), ('beta_max', 20))
    """
    if spec is not None and (a is not None or b is not None):
        raise ScheduleError("give either a schedule spec or custom a= and b=, not both")
    if spec is None:
        if a is None or b is None:
            raise ScheduleError(
                "a schedule needs a spec (one of " + ", ".join(CATALOGUE) + ") or both custom expressions a= and b="
            )
        return _custom(a, b, params)
    if isinstance(spec, Schedule):
        return spec
    try:
        name, items, bare = split_spec(spec)
    except SpecError as e:
        raise ScheduleError(str(e)) from None
    if bare is not None:
        raise ScheduleError(f"unexpected {bare!r} in schedule spec {spec!r}; parameters are key=value")
    if name == "custom":
        raise ScheduleError("a custom schedule is given by its expressions: --a EXPR --b EXPR (Python: a=..., b=...)")
    if name not in CATALOGUE:
        raise ScheduleError(f"unknown schedule {name!r}; accepted: {', '.join(CATALOGUE)}, or custom a=..., b=...")
    entry = CATALOGUE[name]
    known = {p.name for p in entry.parameters}
    given: dict[str, object] = dict(items)
    for k, v in params.items():
        if k in given:
            raise ScheduleError(f"parameter {k!r} given both in the spec and as a keyword")
        given[k] = v
    unknown = set(given) - known
    if unknown:
        acc = ", ".join(sorted(known)) or "none"
        raise ScheduleError(f"unknown parameter {sorted(unknown)[0]!r} for schedule {name!r}; accepted: {acc}")
    values: dict[str, sympy.Expr] = {}
    for p in entry.parameters:
        v = _value(p.name, given[p.name]) if p.name in given else p.default
        if p.check(v) is False:
            raise ScheduleError(f"schedule {name!r}: parameter {p.name}={v} must be {p.condition}")
        values[p.name] = v
    for label, rel in entry.relations:
        if rel(values) is False:
            raise ScheduleError(
                f"schedule {name!r}: needs {label}, got " + ", ".join(f"{k}={v}" for k, v in values.items())
            )
    a_expr, b_expr = entry.build(values)
    return Schedule(name, a_expr, b_expr, tuple(values.items()))


def _custom(a: str, b: str, params: Mapping[str, object]) -> Schedule:
    from gifsym.symbolic.expr import parse_expression

    names: dict[str, sympy.Basic] = {"t": t}
    values: dict[str, sympy.Expr] = {}
    for k, v in params.items():
        if k in ("t", "pi", "E"):
            raise ScheduleError(f"parameter name {k!r} is reserved; choose another name")
        values[k] = _value(k, v)
        names[k] = values[k]
    exprs = []
    for label, text in (("a", a), ("b", b)):
        if isinstance(text, sympy.Basic):
            exprs.append(text)
            continue
        if not isinstance(text, str):
            raise ScheduleError(f"custom {label}={text!r} must be a string expression in t")
        exprs.append(parse_expression(text, names=names))
    return Schedule("custom", exprs[0], exprs[1], tuple(values.items()), source=(str(a), str(b)))


def catalogue() -> list[Schedule]:
    """Every catalogue schedule with its default parameters, in catalogue order."""
    return [schedule(name) for name in CATALOGUE]
