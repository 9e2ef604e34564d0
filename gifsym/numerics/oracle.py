r"""Quadrature oracles: exact numerical fields for targets without a closed form (math.md §8).

A target class (``slc:kappa=1``, ``ball:R=1``, …) has no velocity field of its own; to test its bounds
on a real flow we pick a concrete *member* of the class whose conditional law can be integrated to
machine precision, and evaluate ``m(t,x)``, ``C(t,x)``, ``v`` and ``∇v`` from it.

Members are product laws ``ν = ν₁^{⊗d}`` of a one-dimensional law ν₁, so the conditional law of
``X₁`` given ``X_t = x`` factorises over coordinates and each factor is a 1-D integral:

.. math::

    q(y \mid x) \propto \exp\Big(-U(y) - \frac{(x - b_t y)^2}{2 a_t^2}\Big)
    = \exp\big(-\tfrac12 P y^2 + \eta y + \rho(y)\big),\qquad
    P = \alpha + b_t^2/a_t^2,\quad \eta = b_t x / a_t^2,

where ``α y²/2`` is the Gaussian part of ``U`` and ``ρ`` the rest. Two 1-D families cover every class:

* :class:`LogCoshLaw`: ``U(y) = α y²/2 + γ log cosh(ω y)``, full support, with
  ``U'' = α + γω² sech²(ωy) ∈ [min(α, α+γω²), max(α, α+γω²)]``, so it is κ-semi-log-concave and
  β-semi-log-convex with those two numbers. ``α = 1, γ = 1, ω = 1`` is math.md's
  ``U(y) = y²/2 + log cosh y`` (κ = 1, β = 2); ``α = 1/σ², γ = −1, ω = r/σ²`` is the Gaussian convolution
  ``N(0, σ²) * ½(δ_{−r} + δ_r)`` (a T-conv member).
* :class:`TruncatedGaussianLaw`: ``U(y) = p y²/2`` on ``[−h, h]`` (``p = 0``: uniform), whose
  conditional law is a truncated Gaussian; it is supported in ``[−h, h]`` and log-concave with κ = p.

The integrals use Gauss–Legendre nodes on a window that holds all but ``e^{-40}`` of the conditional
mass (centred at the Gaussian part's mean, widened by the largest shift the tilt ``ρ`` can cause, or
clipped to the support), so ``m`` and ``C`` are accurate to ~1e-13 relative at every ``(t, x)`` with
``a_t > 0``. ``∇v`` comes from the key identity ``∇v = (ȧ/a) I + [b(aḃ − ȧb)/a³] C`` (tests compare it
with ``jax.jacfwd`` of ``v``). The oracle is not evaluated at ``a_t = 0`` (t = 1): called from Python
there it raises :class:`~gifsym.errors.NumericError` (:mod:`gifsym.numerics.singular_end`), never NaN;
simulations stop at ``1 − ε`` (see :mod:`gifsym.numerics.simulate`).

Example:
    >>> from gifsym import schedule, target
    >>> flow = oracle_flow(schedule("linear"), target("slc:kappa=1"))
    >>> flow.oracle.law
    LogCoshLaw(alpha=1.0, gamma=1.0, omega=1.0)
    >>> import numpy as np
    >>> v = flow.field()
    >>> bool(abs(float(v(0.5, np.array([[0.0]]))[0, 0])) < 1e-12)  # odd law: v(t, 0) = 0
    True
"""

from __future__ import annotations

import functools
import importlib
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy

from gifsym.errors import NumericError
from gifsym.numerics.singular_end import guard_time
from gifsym.symbolic.classes import CLASS_BY_ID
from gifsym.symbolic.flow import Flow
from gifsym.symbolic.schedule import Schedule, t
from gifsym.symbolic.target import Target

# Gauss–Legendre nodes per integral. The window spans at most ~2·40 decay lengths of an integrand that
# is a Gaussian or exponential times a bounded analytic tilt; 192 nodes integrate such functions to
# round-off (checked against closed forms in tests/test_oracle.py).
N_NODES = 192
# Window half-width in decay lengths: the mass left outside is below e^{-40} ≈ 4e-18 (exponential
# decay) or e^{-800} (Gaussian decay), both below float64 round-off of the moments.
WINDOW = 40.0
# Gaussian-regime half-width in standard deviations: e^{-12²/2} ≈ 5e-32 of the mass is left out.
WINDOW_SD = 12.0


@dataclass(frozen=True)
class LogCoshLaw:
    r"""The 1-D law with density ∝ ``exp(−α y²/2 − γ log cosh(ω y))`` (α > 0).

    Attributes:
        alpha: precision of the Gaussian part (> 0).
        gamma: weight of the log-cosh term (any sign).
        omega: frequency of the log-cosh term (> 0).
    """

    alpha: float
    gamma: float = 0.0
    omega: float = 1.0

    def __post_init__(self) -> None:
        if not (self.alpha > 0 and self.omega > 0 and math.isfinite(self.gamma)):
            raise NumericError(f"LogCoshLaw needs alpha > 0, omega > 0 and a finite gamma, got {self}")

    @property
    def kappa(self) -> float:
        """Largest κ with ``U'' ≥ κ``."""
        return min(self.alpha, self.alpha + self.gamma * self.omega**2)

    @property
    def beta(self) -> float:
        """Smallest β with ``U'' ≤ β``."""
        return max(self.alpha, self.alpha + self.gamma * self.omega**2)

    @property
    def radius(self) -> float:
        """Half-width of the support (``inf``: full support)."""
        return math.inf

    def potential_np(self, y: np.ndarray) -> np.ndarray:
        """``U(y)`` in NumPy (log cosh written stably as ``|z| + log1p(e^{−2|z|}) − log 2``)."""
        z = np.abs(self.omega * y)
        return 0.5 * self.alpha * y**2 + self.gamma * (z + np.log1p(np.exp(-2 * z)) - math.log(2))

    def describe(self) -> str:
        return f"U(y) = {self.alpha:g} y^2/2 + ({self.gamma:g}) log cosh({self.omega:g} y)"


@dataclass(frozen=True)
class TruncatedGaussianLaw:
    r"""The 1-D law with density ∝ ``exp(−p y²/2)`` on ``[−h, h]`` (``p = 0``: uniform).

    Attributes:
        half_width: h > 0.
        prec: p ≥ 0.
    """

    half_width: float
    prec: float = 0.0

    def __post_init__(self) -> None:
        if not (self.half_width > 0 and self.prec >= 0 and math.isfinite(self.half_width)):
            raise NumericError(f"TruncatedGaussianLaw needs half_width > 0 and prec >= 0, got {self}")

    @property
    def kappa(self) -> float:
        return self.prec

    @property
    def beta(self) -> float:
        return math.inf

    @property
    def radius(self) -> float:
        return self.half_width

    def potential_np(self, y: np.ndarray) -> np.ndarray:
        return np.where(np.abs(y) <= self.half_width, 0.5 * self.prec * y**2, np.inf)

    def describe(self) -> str:
        h = self.half_width
        if self.prec == 0:
            return f"uniform on [-{h:g}, {h:g}]"
        return f"N(0, {1 / self.prec:g}) truncated to [-{h:g}, {h:g}]"


Law1D = LogCoshLaw | TruncatedGaussianLaw


@dataclass(frozen=True)
class ProductOracle:
    r"""The product law ``ν₁^{⊗d}`` with exact (quadrature) conditional moments.

    Its class parameters: κ-semi-log-concave and β-semi-log-convex with the factor's κ, β; support in the
    ball of radius ``h √d`` for a truncated factor.

    Example:
        >>> o = ProductOracle(TruncatedGaussianLaw(0.5), 4)
        >>> o.radius, o.kappa
        (1.0, 0.0)
    """

    law: Law1D
    dim: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.dim, bool) or not isinstance(self.dim, int) or self.dim < 1:
            raise NumericError(f"oracle dimension must be a positive integer, got {self.dim!r}")

    @property
    def kappa(self) -> float:
        return self.law.kappa

    @property
    def beta(self) -> float:
        return self.law.beta

    @property
    def radius(self) -> float:
        return self.law.radius * math.sqrt(self.dim)

    def describe(self) -> str:
        base = self.law.describe()
        return base if self.dim == 1 else f"product of {self.dim} copies of [{base}]"

    # -- the 1-D law, tabulated once (NumPy): moments and an inverse CDF for sampling ---------------------

    @cached_property
    def _table(self) -> tuple[np.ndarray, np.ndarray, float, float]:
        law = self.law
        if isinstance(law, TruncatedGaussianLaw):
            lo, hi = -law.half_width, law.half_width
        else:
            # The density is below e^{-U}; beyond this range U exceeds its minimum by > 750, so the tail mass
            # is far below float64 resolution of the CDF.
            shift = abs(law.gamma) * law.omega / law.alpha
            w = shift + math.sqrt(2 * 800 / law.alpha)
            lo, hi = -w, w
        y = np.linspace(lo, hi, 2**17 + 1)
        logp = -law.potential_np(y)
        p = np.exp(logp - logp.max())
        # Trapezoid CDF: the density is smooth on the grid (step h ≲ 1e-3 × its scale), so the CDF is
        # accurate to ~h² relative; sampling needs far less.
        cdf = np.concatenate([[0.0], np.cumsum((p[1:] + p[:-1]) / 2)])
        cdf /= cdf[-1]
        mean = float(np.trapezoid(y * p, y) / np.trapezoid(p, y))
        m2 = float(np.trapezoid(y * y * p, y) / np.trapezoid(p, y))
        return y, cdf, mean, m2

    @property
    def mean(self) -> np.ndarray:
        """``E[X₁]`` (zero: every factor is symmetric)."""
        return np.zeros(self.dim)

    @property
    def second_moment(self) -> float:
        """``E|X₁|²`` (d times the factor's second moment, by the trapezoid rule on a fine grid)."""
        return self.dim * self._table[3]

    def sample(self, n: int, *, key=None, seed: int = 0):
        """``n`` exact samples (inverse CDF of the tabulated factor), shape (n, d), float64 JAX array."""
        import jax
        import jax.numpy as jnp

        from gifsym.numerics.fields import enable_x64

        enable_x64()
        if key is None:
            key = jax.random.PRNGKey(seed)
        y, cdf, _, _ = self._table
        u = jax.random.uniform(key, (n, self.dim), dtype=jnp.float64)
        return jnp.interp(u, jnp.asarray(cdf), jnp.asarray(y))


# ---------------------------------------------------------------------------------------------------------
# JAX quadrature of the conditional law


def _n_nodes(law: Law1D) -> int:
    """Gauss–Legendre nodes for the widest window of ``law`` (at P = α, i.e. b_t = 0).

    GL converges like ``ρ^{-2N}`` for an integrand analytic in the Bernstein ellipse of parameter ρ. The
    tilt ``cosh(ωy)^{-γ}`` has singularities at distance ``π/(2ω)`` from the real line (none when −γ is a
    non-negative integer: then it is entire); with a window of half-width W, ``ρ ≈ 1 + π/(2ωW)``, so
    ``N ≥ 20 / log ρ`` leaves ``e^{-40}``.
    """
    if isinstance(law, TruncatedGaussianLaw) or law.gamma == 0 or (law.gamma < 0 and float(law.gamma).is_integer()):
        return N_NODES
    W = WINDOW_SD / math.sqrt(law.alpha) + abs(law.gamma) * law.omega / law.alpha
    rho = 1 + math.pi / (2 * law.omega * W)
    return int(min(4096, max(N_NODES, math.ceil(20 / math.log(rho)))))


@functools.lru_cache(maxsize=16)
def _gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights on [−1, 1] (SciPy's O(n²) routine; NumPy's is O(n³))."""
    from scipy.special import roots_legendre

    return roots_legendre(n)


def _moments_1d(law: Law1D, P, eta):
    """Mean and variance of ``q(y) ∝ exp(−P y²/2 + η y + ρ(y))`` (elementwise over P, η arrays)."""
    import jax
    import jax.numpy as jnp

    nodes, weights = (jnp.asarray(v) for v in _gauss_legendre(_n_nodes(law)))
    # Integrate in u = y − c around a centre c, with log q = −P u²/2 + g u + tilt(c + u) + const, g = η − P c:
    # written this way no large terms cancel when P is large (t near 1).
    if isinstance(law, LogCoshLaw):
        c = eta / P  # the Gaussian part's mean
        g = jnp.zeros_like(c)
        # ρ(y) = −γ log cosh(ωy) has slope at most |γ|ω, which moves the mode by at most |γ|ω/P.
        half = WINDOW_SD / jnp.sqrt(P) + abs(law.gamma) * law.omega / P
        lo, hi = -half, half
    else:
        h = law.half_width
        tiny = 1e-300
        c = jnp.clip(jnp.where(P > tiny, eta / jnp.maximum(P, tiny), 0.0), -h, h)  # the mode
        g = eta - P * c
        # Near the mode the log-density falls like −P u²/2 − |g| u: keep 12 standard deviations, or 40 decay
        # lengths of the linear part when the Gaussian part's mean lies outside the support. (P = 0, the
        # uniform law at b_t = 0, gives an infinite half-width: the whole support.)
        half = jnp.minimum(WINDOW_SD / jnp.sqrt(P), WINDOW / jnp.abs(g))
        lo = jnp.maximum(-h - c, -half)
        hi = jnp.minimum(h - c, half)
    mid, rad = (hi + lo) / 2, (hi - lo) / 2
    u = mid[..., None] + rad[..., None] * nodes  # (..., N)
    logq = -0.5 * P[..., None] * u * u + g[..., None] * u
    if isinstance(law, LogCoshLaw) and law.gamma != 0:
        z = jnp.abs(law.omega * (c[..., None] + u))
        logq = logq - law.gamma * (z + jnp.log1p(jnp.exp(-2 * z)))
    p = jax.nn.softmax(logq + jnp.log(weights), axis=-1)  # the common factor rad cancels
    mu = jnp.sum(p * u, axis=-1)
    du = u - mu[..., None]
    var = jnp.sum(p * du * du, axis=-1)  # centred second moment: no cancellation
    return c + mu, var


@functools.lru_cache(maxsize=64)
def _schedule_fn(schedule: Schedule):
    from gifsym.numerics.fields import lambdify_jax

    exprs = [schedule.a, schedule.da, schedule.b, schedule.db]
    free = set().union(*(e.free_symbols for e in exprs)) - {t}
    if free:
        raise NumericError(f"the schedule has symbolic parameters {sorted(map(str, free))}; give them numbers")
    raw = lambdify_jax([t], exprs)

    def fn(tt):
        import jax.numpy as jnp

        return tuple(jnp.asarray(v, dtype=jnp.float64) + 0.0 * tt for v in raw(tt))

    return fn


@functools.lru_cache(maxsize=64)
def _compiled(oracle: ProductOracle, schedule: Schedule):
    import jax
    import jax.numpy as jnp

    from gifsym.numerics.fields import enable_x64

    enable_x64()
    coef = _schedule_fn(schedule)
    law = oracle.law

    def posterior(tt, x):
        a, da, b, db = coef(tt)
        P = law.alpha if isinstance(law, LogCoshLaw) else law.prec
        P = P + (b / a) ** 2 + jnp.zeros_like(x)
        eta = b * x / (a * a)
        m, c = _moments_1d(law, P, eta)
        return a, da, b, db, m, c

    def mean(tt, x):
        return posterior(tt, x)[4]

    def cov(tt, x):
        c = posterior(tt, x)[5]
        return c[:, :, None] * jnp.eye(x.shape[1])

    def field(tt, x):
        a, da, b, db, m, _ = posterior(tt, x)
        # Denoiser form v = ȧ E[Z|x] + ḃ m with E[Z|x] = (x − b m)/a (math.md §4).
        return da * (x - b * m) / a + db * m

    def jac(tt, x):
        a, da, b, db, _, c = posterior(tt, x)
        # Key identity ∇v = (ȧ/a) I + [b(aḃ − ȧb)/a³] C, C diagonal for a product law.
        diag = da / a + b * (a * db - da * b) / a**3 * c
        return diag[:, :, None] * jnp.eye(x.shape[1])

    def singular(tt: float) -> bool:
        # The quadrature divides by a_t: at a_t = 0 (t = 1) the kernels would return NaN.
        with np.errstate(all="ignore"):
            a = float(coef(tt)[0])
        return not (math.isfinite(a) and a != 0)

    what = f"the oracle member's field ({law.describe()})"
    return tuple(guard_time(jax.jit(f), singular, what) for f in (field, jac, mean, cov))


# ---------------------------------------------------------------------------------------------------------
# A flow whose target is a class and whose numbers come from an oracle member


@dataclass(frozen=True)
class OracleFlow(Flow):
    """A flow of a class target, evaluated numerically on a concrete member (an oracle).

    Symbolic results (``velocity()``, ``jacobian()``, ``bounds()``) are those of the class target; the
    numerical ``field()`` and ``jacobian_field()`` are the member's. Build one with :func:`oracle_flow`.
    """

    oracle: ProductOracle | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.oracle, ProductOracle):
            raise NumericError("OracleFlow needs oracle=ProductOracle(...)")

    @property
    def dim(self) -> int:
        return self.oracle.dim

    def field(self):
        """A jitted float64 ``v(t, x)`` for ``t`` with ``a_t > 0`` (quadrature of the conditional law)."""
        return _compiled(self.oracle, self.schedule)[0]

    def jacobian_field(self):
        """A jitted float64 ``∇v(t, x)``, (n, d, d), from the key identity and the quadrature ``C``."""
        return _compiled(self.oracle, self.schedule)[1]

    def posterior_mean_field(self):
        """A jitted ``m(t, x) = E[X₁ | X_t = x]``, (n, d)."""
        return _compiled(self.oracle, self.schedule)[2]

    def posterior_cov_field(self):
        """A jitted ``C(t, x) = Cov(X₁ | X_t = x)``, (n, d, d) (diagonal)."""
        return _compiled(self.oracle, self.schedule)[3]


def _number(v: sympy.Expr, what: str) -> float:
    if getattr(v, "free_symbols", None):
        raise NumericError(f"{what} is symbolic ({v}); give it a number to pick a concrete member of the class")
    return float(v)


Constraints = dict[str, list[dict[str, float]]]


def _largest(constraints: Constraints, class_id: str, name: str) -> float | None:
    values = [m[name] for m in constraints.get(class_id, ())]
    return max(values) if values else None


def _smallest(constraints: Constraints, class_id: str, name: str) -> float | None:
    values = [m[name] for m in constraints.get(class_id, ())]
    return min(values) if values else None


def log_concave_member(constraints: Constraints, *, dim: int, spec: str) -> Law1D:
    """``slc:kappa=κ`` and/or ``slcvx:beta=β``: the log-cosh law with ``U'' ∈ [κ, β]`` (β = 2κ, resp.
    κ = β/2, when only one is given; ``U = y²/2 + log cosh y`` for κ = 1)."""
    kappa = _largest(constraints, "T-slc", "kappa")
    beta = _smallest(constraints, "T-slcvx", "beta")
    if kappa is not None and beta is not None and kappa > beta:
        raise NumericError(f"{spec!r}: kappa={kappa:g} > beta={beta:g}, so the class is empty")
    if beta is None:
        return LogCoshLaw(kappa, kappa) if kappa > 0 else LogCoshLaw(1.0, kappa - 1.0)
    if kappa is None:
        return LogCoshLaw(beta / 2, beta / 2)
    if kappa > 0:
        return LogCoshLaw(kappa, beta - kappa)
    return LogCoshLaw(beta, kappa - beta)


def ball_member(constraints: Constraints, *, dim: int, spec: str) -> Law1D:
    """``ball:R`` (with ``slc:kappa=κ``): ``N(0, 1/κ)`` (uniform when κ ≤ 0) truncated to
    ``[−R/√d, R/√d]`` per coordinate, so the product lies in the ball."""
    if "T-slcvx" in constraints:
        raise NumericError(f"{spec!r}: beta-semi-log-convexity needs full support, which no law in a ball has")
    radius = _smallest(constraints, "T-ball", "R")
    kappa = _largest(constraints, "T-slc", "kappa")
    return TruncatedGaussianLaw(radius / math.sqrt(dim), max(kappa, 0.0) if kappa is not None else 0.0)


def convolution_member(constraints: Constraints, *, dim: int, spec: str) -> Law1D:
    """``conv:sigma=σ,R=R``: ``N(0, σ²) * ½(δ_{−r} + δ_r)`` per coordinate with ``r = R/√d`` (so ρ lives on
    the sphere of radius R), made more log-concave (smaller r) if a κ is also required."""
    convs = constraints["T-conv"]
    if len(convs) > 1:
        raise NumericError(f"{spec!r}: no oracle member for two T-conv memberships")
    if "T-ball" in constraints:
        raise NumericError(f"{spec!r}: a Gaussian convolution has full support, so it lies in no ball")
    sigma, R = convs[0]["sigma"], convs[0]["R"]
    kappa = _largest(constraints, "T-slc", "kappa")
    beta = _smallest(constraints, "T-slcvx", "beta")
    if beta is not None and beta < 1 / sigma**2:
        raise NumericError(f"{spec!r}: members of conv:sigma={sigma:g} have -Hess log p -> 1/sigma^2 = "
                           f"{1 / sigma**2:g} far out, above beta={beta:g}")
    r = R / math.sqrt(dim)
    if kappa is not None:
        # U'' ≥ 1/σ² − r²/σ⁴ per coordinate: shrink r until this reaches κ.
        if kappa > 1 / sigma**2:
            raise NumericError(f"{spec!r}: a conv:sigma={sigma:g} member has kappa <= 1/sigma^2 = "
                               f"{1 / sigma**2:g} < {kappa:g}")
        r = min(r, math.sqrt(max(sigma**4 * (1 / sigma**2 - kappa), 0.0)))
    return LogCoshLaw(1 / sigma**2, -1.0 if r > 0 else 0.0, r / sigma**2 if r > 0 else 1.0)


def member(target: Target, *, dim: int = 1) -> ProductOracle:
    """A concrete member of a class target, as a product oracle in ``dim`` dimensions.

    Each class names the builder of its members (``TargetClass.member``, e.g. :func:`ball_member`); when a
    target declares several classes, the builder of the highest ``member_rank`` makes a law that satisfies
    every declared class, or refuses (the conditions are checked, not assumed).

    Raises:
        NumericError: symbolic parameters, or a combination with no member (e.g. a ball and β-semi-log-
            convexity, which needs full support).

    Example:
        >>> from gifsym import target
        >>> member(target("ball:R=1"), dim=1).law
        TruncatedGaussianLaw(half_width=1.0, prec=0.0)
    """
    if target.is_exact:
        raise NumericError(f"{target.spec!r} is an exact law; use its exact field (gifsym.GIF.field()), not an oracle")
    constraints: Constraints = {}
    for c in target.classes():
        constraints.setdefault(c.id, []).append({k: _number(v, k) for k, v in c.params})
    classes = [CLASS_BY_ID[i] for i in constraints if i in CLASS_BY_ID]
    if not classes:
        raise NumericError(f"{target.spec!r}: no oracle member for the classes {sorted(target.class_ids())}")
    top = max(classes, key=lambda c: c.member_rank)
    module, name = top.member.split(":")
    build = getattr(importlib.import_module(module), name)
    return ProductOracle(build(constraints, dim=dim, spec=target.spec), dim)


def oracle_flow(schedule: Schedule, target: Target, *, dim: int = 1, oracle: ProductOracle | None = None) -> OracleFlow:
    """The flow of ``schedule`` towards a concrete member of the class ``target`` (see :func:`member`)."""
    return OracleFlow(schedule, target, oracle if oracle is not None else member(target, dim=dim))


__all__ = ["LogCoshLaw", "OracleFlow", "ProductOracle", "TruncatedGaussianLaw", "ball_member", "convolution_member",
           "log_concave_member", "member", "oracle_flow"]
