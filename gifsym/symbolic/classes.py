r"""The target classes of math.md §3, each one object in one place.

A :class:`TargetClass` holds everything gifsym knows about a class of targets:

* its **spec** name and **parameters** (``slc:kappa=2``; a parameter without a value stays a symbol with
  the parameter's SymPy assumptions), its assumption **id** (``T-slc``) and **title**;
* its **statement** in LaTeX (reports list a flow's assumptions with it);
* the **variance inequalities** it gives the conditional covariance ``C(t, x) = Cov(X₁ | X_t = x)``
  (:class:`CovarianceBound`: a cited :class:`Inequality` and what its argument is for the class), and
  the **bound lemma** that the key identity ``∇v = (ȧ/a) I + [b(aḃ − ȧb)/a³] C`` turns them into — the
  lemma library (:mod:`gifsym.theory.library`) builds that lemma from this object with one generic
  derivation, so a class needs no code in the theory layer;
* an **example** spec (the inventory tests every class through it) and a **member**: the
  ``"module:function"`` of the numerics layer that builds a concrete law of the class for numerical
  checks (:func:`gifsym.numerics.oracle.member` calls it; referenced by name so that this layer never
  imports the numerics).

Adding a class is adding one :class:`TargetClass` to :data:`CLASSES` (and, if no existing member builder
fits, one builder in :mod:`gifsym.numerics.oracle`), plus its tests.

Example:
    >>> CLASS_BY_SPEC["slc"].id, [p.name for p in CLASS_BY_SPEC["conv"].parameters]
    ('T-slc', ['sigma', 'R'])
    >>> [b.inequality.name for b in CLASS_BY_ID["T-conv"].bounds]
    ['bounded-support-variance', 'psd-covariance']
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from gifsym.symbolic.printing import symbol_name

#: The argument of a cited inequality: a bound ``c`` on the Hessian of a potential (a precision).
PRECISION = sympy.Symbol("c", positive=True)
#: The argument of a cited inequality: the radius of a ball holding the support.
RADIUS = sympy.Symbol("R", positive=True)


@dataclass(frozen=True)
class Parameter:
    """A class parameter: its spec name and the SymPy assumptions of its symbol when left symbolic."""

    name: str
    assumptions: tuple[tuple[str, bool], ...]

    @property
    def symbol(self) -> sympy.Symbol:
        return sympy.Symbol(symbol_name(self.name), **dict(self.assumptions))


@dataclass(frozen=True)
class Inequality:
    r"""A cited variance inequality, stated (its formula is data in a generic argument).

    Attributes:
        name: the lemma name it is registered under (``"brascamp-lieb"``).
        kind: ``"theorem"`` or ``"lemma"``.
        title: a short title.
        statement: LaTeX.
        side: ``"cov_upper"`` (``Cov ≼ f I``) or ``"cov_lower"`` (``Cov ≽ f I``).
        formula: ``f`` in the ``argument`` symbol.
        argument: :data:`PRECISION`, :data:`RADIUS`, or None (a formula with no argument).
        reference: where it comes from.
    """

    name: str
    kind: str
    title: str
    statement: str
    side: str
    formula: sympy.Expr
    argument: sympy.Symbol | None = None
    reference: str = ""


@dataclass(frozen=True)
class CovarianceBound:
    r"""A bound a class gives the conditional covariance, through a cited inequality.

    Attributes:
        inequality: the :class:`Inequality`.
        value: what the inequality's argument is, in the class parameters (``κ``, ``R``); None when the
            inequality has no argument.
        conditional: the argument bounds the Hessian of the target's potential, so the conditional law's
            potential adds the precision ``b_t²/a_t²`` of the Gaussian kernel (Brascamp–Lieb and Cramér–Rao
            are applied to the conditional law); the bound then holds where ``value + b²/a² > 0``.
    """

    inequality: Inequality
    value: sympy.Expr | None = None
    conditional: bool = False

    @property
    def side(self) -> str:
        """``"upper"`` or ``"lower"``: the coefficient of C in the key identity is ≥ 0 (S-mono), so a bound
        on C is a bound on ∇v on the same side."""
        return "upper" if self.inequality.side == "cov_upper" else "lower"


@dataclass(frozen=True)
class BoundLemma:
    """The proposition a class's covariance bounds give: its lemma name, title and LaTeX statement."""

    name: str
    title: str
    statement: str
    reference: str = ""


@dataclass(frozen=True)
class TargetClass:
    r"""A class of targets (math.md §3).

    Attributes:
        id: the assumption id, ``"T-…"``.
        spec: the spec name (``"slc"`` in ``slc:kappa=2``).
        title: a short description.
        parameters: the class parameters, in spec order.
        statement: LaTeX statement of membership (reports).
        bounds: the covariance bounds the class gives.
        lemma: the bound lemma built from ``bounds``.
        smoothing: for classes of Gaussian convolutions ``N(0, σ² I) * ρ``: the parameter name of σ. The
            bounds are then those of ρ under the schedule ``(√(a² + σ² b²), b)`` (lemma
            ``gaussian-convolution``).
        example: a concrete spec of the class (the inventory's entry).
        member: ``"module:function"`` building a concrete member for numerical checks.
        member_rank: when a target declares several classes, the builder of the highest rank makes the
            member (it must satisfy the other classes too, or refuse).
    """

    id: str
    spec: str
    title: str
    parameters: tuple[Parameter, ...]
    statement: str
    bounds: tuple[CovarianceBound, ...]
    lemma: BoundLemma
    example: str
    member: str
    member_rank: int = 0
    smoothing: str | None = None

    @property
    def sides(self) -> frozenset[str]:
        """Which sides of ∇v the class bounds (``"upper"``, ``"lower"``)."""
        return frozenset(b.side for b in self.bounds)


# ---------------------------------------------------------------------------------------------------------
# The cited inequalities

BRASCAMP_LIEB = Inequality(
    "brascamp-lieb", "theorem", "Brascamp--Lieb inequality",
    r"If $-\nabla^2 \log \pi \succeq c\, I$ with $c > 0$, then $\mathrm{Cov}_\pi \preceq c^{-1} I$.",
    "cov_upper", 1 / PRECISION, PRECISION, "Brascamp and Lieb (1976)",
)
CRAMER_RAO = Inequality(
    "cramer-rao", "theorem", "Cramér--Rao inequality",
    r"If $\pi$ has full support and $-\nabla^2 \log \pi \preceq c\, I$, then $\mathrm{Cov}_\pi \succeq c^{-1} I$.",
    "cov_lower", 1 / PRECISION, PRECISION, "Cramér (1946), Rao (1945)",
)
BOUNDED_SUPPORT = Inequality(
    "bounded-support-variance", "lemma", "Variance of a law on a ball",
    r"If $\pi$ is supported in a ball of radius $R$, then $\mathrm{Cov}_\pi \preceq R^2 I$.",
    "cov_upper", RADIUS**2, RADIUS,
)
PSD = Inequality(
    "psd-covariance", "lemma", "Covariances are positive semi-definite", r"$C(t,x) \succeq 0$.",
    "cov_lower", sympy.Integer(0),
)

# ---------------------------------------------------------------------------------------------------------
# The classes

_KAPPA = sympy.Symbol("kappa", real=True)
_BETA = sympy.Symbol(symbol_name("beta"), positive=True)  # beta_: sympify reads "beta" as a function
_R = sympy.Symbol("R", positive=True)
_R0 = sympy.Symbol("R", nonnegative=True)
_ORACLE = "gifsym.numerics.oracle"

SLC = TargetClass(
    "T-slc", "slc", "κ-semi-log-concave",
    (Parameter("kappa", (("real", True),)),),
    r"$-\nabla^2 \log p \succeq \kappa I$ ($\kappa$-semi-log-concave)",
    (CovarianceBound(BRASCAMP_LIEB, _KAPPA, conditional=True),),
    BoundLemma(
        "bound-slc", "Upper bound for semi-log-concave targets",
        r"If $\nu$ is $\kappa$-semi-log-concave, then $\nabla_x v \preceq U^\kappa_t I$ with "
        r"$U^\kappa_t = \frac{\kappa a_t \dot a_t + b_t \dot b_t}{\kappa a_t^2 + b_t^2}$ wherever "
        r"$\kappa a_t^2 + b_t^2 > 0$ (all of $[0,1]$ when $\kappa > 0$; for $\kappa \le 0$ only a final part).",
        "math.md §5",
    ),
    "slc:kappa=2", f"{_ORACLE}:log_concave_member", member_rank=1,
)
SLCVX = TargetClass(
    "T-slcvx", "slcvx", "β-semi-log-convex",
    (Parameter("beta", (("positive", True),)),),
    r"$-\nabla^2 \log p \preceq \beta I$ ($\beta$-semi-log-convex, full support)",
    (CovarianceBound(CRAMER_RAO, _BETA, conditional=True),),
    BoundLemma(
        "bound-slcvx", "Lower bound for semi-log-convex targets",
        r"If $\nu$ is $\beta$-semi-log-convex, then $\nabla_x v \succeq L^\beta_t I$ with "
        r"$L^\beta_t = \frac{\beta a_t \dot a_t + b_t \dot b_t}{\beta a_t^2 + b_t^2}$ on $[0,1]$.",
        "math.md §5",
    ),
    "slcvx:beta=4", f"{_ORACLE}:log_concave_member", member_rank=1,
)
BALL = TargetClass(
    "T-ball", "ball", "support in a ball",
    (Parameter("R", (("positive", True),)),),
    r"$\operatorname{supp}\nu \subseteq B(c, R)$ for some centre $c$",
    (CovarianceBound(BOUNDED_SUPPORT, _R),),
    BoundLemma(
        "bound-ball", "Upper bound for targets with bounded support",
        r"If $\nu$ is supported in a ball of radius $R$, then $\nabla_x v \preceq \big(\frac{\dot a_t}{a_t} + "
        r"\frac{b_t(a_t \dot b_t - \dot a_t b_t) R^2}{a_t^3}\big) I$ on $[0, 1)$ (it diverges at $t = 1$).",
        "math.md §5",
    ),
    "ball:R=1", f"{_ORACLE}:ball_member", member_rank=2,
)
CONV = TargetClass(
    "T-conv", "conv", "Gaussian convolution of a law on a ball",
    (Parameter("sigma", (("positive", True),)), Parameter("R", (("nonnegative", True),))),
    r"$\nu = N(0, \sigma^2 I) * \rho$, $\operatorname{supp}\rho \subseteq B(c, R)$ for some centre $c$",
    (CovarianceBound(BOUNDED_SUPPORT, _R0), CovarianceBound(PSD)),
    BoundLemma(
        "bound-conv", "Two-sided bounds for Gaussian convolutions",
        r"If $\nu = N(0, \sigma^2 I) * \rho$ with $\rho$ supported in a ball of radius $R$, then for all "
        r"$t \in [0,1]$: $L^\sigma_t I \preceq \nabla_x v \preceq \big(L^\sigma_t + \frac{a_t b_t (a_t \dot b_t - "
        r"\dot a_t b_t) R^2}{(a_t^2 + \sigma^2 b_t^2)^2}\big) I$, $L^\sigma_t = \frac{a_t \dot a_t + \sigma^2 b_t "
        r"\dot b_t}{a_t^2 + \sigma^2 b_t^2}$.",
        "math.md §5",
    ),
    "conv:sigma=0.5,R=2", f"{_ORACLE}:convolution_member", member_rank=3, smoothing="sigma",
)

#: Every target class, in the order reports and the lemma graph list them.
CLASSES: tuple[TargetClass, ...] = (SLC, SLCVX, BALL, CONV)
CLASS_BY_ID: dict[str, TargetClass] = {c.id: c for c in CLASSES}
CLASS_BY_SPEC: dict[str, TargetClass] = {c.spec: c for c in CLASSES}

#: The exact laws' ids (a Gaussian, mixture or data target is its own class; its class memberships are implied).
EXACT_LAW_IDS = ("T-gauss", "T-gmm", "T-emp")
#: Every target assumption id of math.md §3.
TARGET_CLASSES = EXACT_LAW_IDS + tuple(c.id for c in CLASSES)

__all__ = [
    "BOUNDED_SUPPORT",
    "BRASCAMP_LIEB",
    "CLASSES",
    "CLASS_BY_ID",
    "CLASS_BY_SPEC",
    "CRAMER_RAO",
    "PRECISION",
    "PSD",
    "RADIUS",
    "TARGET_CLASSES",
    "BoundLemma",
    "CovarianceBound",
    "Inequality",
    "Parameter",
    "TargetClass",
]
