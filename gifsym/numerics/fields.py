r"""Float64 JAX functions of the flow: the velocity field and its Jacobian.

The time dependence comes from the SymPy coefficients of :mod:`gifsym.symbolic.flow`, lambdified to JAX with
common subexpressions eliminated. For a Gaussian or Gaussian-mixture target the x dependence is
evaluated with matrix products and log-sum-exp (math.md §4):

* component k at time t is ``N(b m_k, S_k)``, ``S_k = a² I + b² Σ_k``, with log-density ``ℓ_k``;
  responsibilities ``r = softmax(log w + ℓ)``;
* per component the velocity is ``v_k = c_x(Σ_k) x + c_m(Σ_k) m_k`` with
  ``c_x(λ) = (aȧ + λbḃ)/(a² + λb²)``, ``c_m(λ) = a(aḃ − ȧb)/(a² + λb²)`` (finite at t = 1 when λ > 0);
* ``v = Σ_k r_k v_k`` and, from ``∇r_k = r_k (g_k − ḡ)`` with ``g_k = ∇ℓ_k = −S_k⁻¹(x − b m_k)``,
  ``∇v = Σ_k r_k ∇v_k + Σ_k r_k v_k g_kᵀ − v ḡᵀ``.

For isotropic components (``Σ_k = σ_k² I``) every step is an (n, K) or (n, d) array and two (n×d)·(d×K)
matrix products: no (n, K, d) intermediate. Full covariances go through each component's eigenbasis,
which needs an (n, K, d) array.

JAX is switched to float64 on first use (``jax_enable_x64``), never at import.

Example:
    >>> import numpy as np
    >>> from gifsym import GIF, schedule, target
    >>> v = GIF(schedule("linear"), target("gaussian:sigma=1")).field()
    >>> np.asarray(v(0.5, np.array([[1.0]])))  # L_t = (aȧ + σ²bḃ)/(a² + σ²b²) = 0 at t = 1/2
    array([[0.]])
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import sympy
from sympy.printing.numpy import JaxPrinter

from gifsym.errors import NumericError
from gifsym.numerics.empirical_field import EmpiricalField
from gifsym.symbolic.empirical import EmpiricalLaw
from gifsym.symbolic.flow import LAM, Flow, component_coefficients, instantiate
from gifsym.symbolic.schedule import t


def enable_x64() -> None:
    """Switch JAX to float64 (gifsym computes in float64; called on first use, documented in the README)."""
    if not jax.config.jax_enable_x64:
        jax.config.update("jax_enable_x64", True)


class _Printer(JaxPrinter):
    """SymPy's JAX printer, with erf from jax.scipy (SymPy would print math.erf, which cannot be traced)."""

    def _print_erf(self, expr: sympy.Expr) -> str:
        return f"jax.scipy.special.erf({self._print(expr.args[0])})"


def lambdify_jax(args: Sequence[sympy.Symbol], exprs: object) -> Callable:
    """``sympy.lambdify`` to JAX with common-subexpression elimination.

    Example:
        >>> f = lambdify_jax([t], [sympy.exp(t) * sympy.erf(t), sympy.exp(t)])
        >>> [round(float(v), 6) for v in f(0.5)]
        [0.858159, 1.648721]
    """
    enable_x64()
    import jax.scipy.special

    return sympy.lambdify(args, exprs, modules=[{"jax": jax, "functools": functools}], printer=_Printer, cse=True)


@dataclass(frozen=True)
class TimeCoefficients:
    """The lambdified time coefficients of a Gaussian component of variance λ.

    ``fn(t, lam)`` returns ``(c_x, c_m, s, b)`` broadcast over ``lam`` (``s = a² + λ b²``).
    """

    fn: Callable
    exprs: tuple[sympy.Expr, ...]


@functools.lru_cache(maxsize=128)
def time_coefficients(schedule) -> TimeCoefficients:
    """Lambdify ``c_x(λ), c_m(λ), s(λ), b`` of :func:`gifsym.symbolic.flow.component_coefficients` for a schedule."""
    cx, cm, s, _ = (instantiate(e, schedule) for e in component_coefficients())
    exprs = (cx, cm, s, schedule.b)
    free = set().union(*(e.free_symbols for e in exprs)) - {t, LAM}
    if free:
        raise NumericError(
            f"the schedule has symbolic parameters {sorted(map(str, free))}; give them numbers to evaluate the field"
        )
    raw = lambdify_jax([t, LAM], list(exprs))

    def fn(tt, lam):
        cx, cm, s, b = raw(tt, lam)
        # Constants come back as Python numbers: broadcast the λ-dependent ones to lam's shape; b is a scalar.
        shape = jnp.shape(lam)
        return (*(jnp.broadcast_to(jnp.asarray(o, dtype=jnp.float64), shape) for o in (cx, cm, s)),
                jnp.asarray(b, dtype=jnp.float64))

    return TimeCoefficients(fn, exprs)


@dataclass(frozen=True)
class MixtureArrays:
    """A mixture as float64 arrays: log-weights (K,), means (K, d), and per component either σ² (K,) or an
    eigendecomposition of Σ_k (eigenvalues (K, d), eigenvectors (K, d, d))."""

    logw: np.ndarray
    means: np.ndarray
    lam: np.ndarray | None = None
    evals: np.ndarray | None = None
    evecs: np.ndarray | None = None


def mixture_arrays(gif: Flow) -> MixtureArrays:
    """The arrays of the target's exact law (raises NumericError for a class of targets)."""
    law = gif.target.law
    if law is None:
        raise NumericError(
            f"target {gif.target.spec!r} is a class of laws without a closed-form field; pick a member "
            "(gaussian, gmm) or a quadrature oracle from gifsym.oracle"
        )
    arr = law.arrays
    logw = np.log(arr["weights"])
    if law.isotropic:
        return MixtureArrays(logw, arr["means"], lam=arr["sigmas"] ** 2)
    evals, evecs = np.linalg.eigh(arr["covs"])
    return MixtureArrays(logw, arr["means"], evals=evals, evecs=evecs)


def _isotropic(coef: TimeCoefficients, mix: MixtureArrays):
    M = jnp.asarray(mix.means)
    logw = jnp.asarray(mix.logw)
    lam = jnp.asarray(mix.lam)
    msq = jnp.sum(M * M, axis=1)
    d = M.shape[1]
    MM = (M[:, :, None] * M[:, None, :]).reshape(M.shape[0], d * d)

    def weights(tt, x):
        cx, cm, s, b = coef.fn(tt, lam)
        inv_s = 1 / s
        # −|x − b m_k|²/(2 s_k) = (b x·m_k)/s_k − |x|²/(2 s_k) − b²|m_k|²/(2 s_k): one matmul x Mᵀ.
        xm = (x * b) @ (M.T * inv_s)  # (n, K)
        logits = xm - jnp.sum(x * x, axis=1)[:, None] * (0.5 * inv_s) + (logw - 0.5 * d * jnp.log(s)
                                                                          - 0.5 * (b * b) * msq * inv_s)
        E = jnp.exp(logits - jnp.max(logits, axis=1, keepdims=True))
        return E, jnp.sum(E, axis=1), cx, cm, s, b

    def parts(tt, x):
        E, Z, cx, cm, s, b = weights(tt, x)
        R = E / Z[:, None]
        v = (R @ cx)[:, None] * x + (R * cm) @ M
        return R, cx, cm, s, b, v

    def field(tt, x):
        # Normalize after the products: one division per output row instead of one per (row, component).
        E, Z, cx, cm, _, _ = weights(tt, x)
        return ((E @ cx)[:, None] * x + (E * cm) @ M) / Z[:, None]

    def jac(tt, x):
        R, cx, cm, s, b, v = parts(tt, x)
        n = x.shape[0]
        eye = jnp.eye(d)
        J = (R @ cx)[:, None, None] * eye
        # Σ_k r_k v_k g_kᵀ with v_k = cx_k x + cm_k m_k and g_k = (b m_k − x)/s_k, expanded into products.
        J = J - (R @ (cx / s))[:, None, None] * (x[:, :, None] * x[:, None, :])
        J = J + x[:, :, None] * ((R * (b * cx / s)) @ M)[:, None, :]
        J = J - ((R * (cm / s)) @ M)[:, :, None] * x[:, None, :]
        J = J + ((R * (b * cm / s)) @ MM).reshape(n, d, d)
        gbar = -(R @ (1 / s))[:, None] * x + (R * (b / s)) @ M
        return J - v[:, :, None] * gbar[:, None, :]

    return field, jac


def _full(coef: TimeCoefficients, mix: MixtureArrays):
    M = jnp.asarray(mix.means)
    logw = jnp.asarray(mix.logw)
    ev = jnp.asarray(mix.evals)  # (K, d)
    Q = jnp.asarray(mix.evecs)  # (K, d, d), columns are eigenvectors
    Mt = jnp.einsum("kij,ki->kj", Q, M)  # means in each eigenbasis

    def parts(tt, x):
        cx, cm, s, b = coef.fn(tt, ev)  # (K, d) each
        z = jnp.einsum("ni,kij->nkj", x, Q)  # (n, K, d)
        r = z - b * Mt[None]
        logits = logw - 0.5 * jnp.sum(jnp.log(s), axis=1) - 0.5 * jnp.sum(r * r / s[None], axis=2)
        R = jax.nn.softmax(logits, axis=1)
        vk_e = cx[None] * z + (cm * Mt)[None]  # component velocities in eigen-coordinates
        vk = jnp.einsum("nkj,kij->nki", vk_e, Q)
        v = jnp.einsum("nk,nki->ni", R, vk)
        gk = jnp.einsum("nkj,kij->nki", -r / s[None], Q)
        return R, cx, vk, gk, v

    def field(tt, x):
        return parts(tt, x)[-1]

    def jac(tt, x):
        R, cx, vk, gk, v = parts(tt, x)
        Jk = jnp.einsum("kij,kj,klj->kil", Q, cx, Q)
        gbar = jnp.einsum("nk,nki->ni", R, gk)
        J = jnp.einsum("nk,kil->nil", R, Jk) + jnp.einsum("nk,nki,nkl->nil", R, vk, gk)
        return J - v[:, :, None] * gbar[:, None, :]

    return field, jac


@functools.lru_cache(maxsize=4)  # each holds its data on the device: keep few
def _empirical_field(schedule, law: EmpiricalLaw, chunk, query_block, dtype: str) -> EmpiricalField:
    enable_x64()
    return EmpiricalField(law.points, lam=float(law.sigma) ** 2, coef=time_coefficients(schedule).fn, chunk=chunk,
                          query_block=query_block, dtype=dtype)


def empirical_field(gif: Flow, *, chunk: int | None = None, query_block: int | None = None,
                    dtype: str = "float64") -> EmpiricalField:
    """The streaming field of a data target (``empirical:FILE``): velocity, score, posterior mean and
    covariance, Jacobian–vector products, dense Jacobian, λ_max by power iteration, with memory bounded
    by the chunk and query-block sizes (see :mod:`gifsym.numerics.empirical_field`).

    Raises:
        NumericError: the target is not a data target.
    """
    law = gif.target.law
    if not isinstance(law, EmpiricalLaw):
        raise NumericError(f"target {gif.target.spec!r} is not a data target (empirical:FILE)")
    return _empirical_field(gif.schedule, law, chunk, query_block, dtype)


@functools.lru_cache(maxsize=64)
def _compiled(gif: Flow):
    enable_x64()
    if isinstance(gif.target.law, EmpiricalLaw):  # data: streamed over the points, memory bounded
        ef = empirical_field(gif)
        return ef.velocity, ef.jacobian
    coef = time_coefficients(gif.schedule)
    mix = mixture_arrays(gif)
    f, j = _isotropic(coef, mix) if mix.lam is not None else _full(coef, mix)
    return jax.jit(f), jax.jit(j)


def compile_field(gif: Flow) -> Callable:
    """A jitted float64 function ``v(t, x)`` compiled from the flow's exact law: t a scalar, x of shape
    (n, d), result (n, d).

    Finite on [0, 1] wherever the coefficients are (see :func:`endpoint_report`).
    """
    return _compiled(gif)[0]


def compile_jacobian_field(gif: Flow) -> Callable:
    """A jitted float64 function ``∇v(t, x)`` of shape (n, d, d) (exact, symmetric up to round-off)."""
    return _compiled(gif)[1]


def field(flow: Flow) -> Callable:
    """The flow's velocity as a JAX function ``v(t, x)``.

    A flow that evaluates itself (``flow.field()``: :class:`gifsym.GIF`, an oracle flow, a user's subclass)
    is asked; otherwise the field is compiled from the exact law (:func:`compile_field`).
    """
    own = getattr(flow, "field", None)
    return own() if callable(own) else compile_field(flow)


def jacobian_field(flow: Flow) -> Callable:
    """The flow's ``∇v(t, x)`` as a JAX function (``flow.jacobian_field()`` where the flow has one)."""
    own = getattr(flow, "jacobian_field", None)
    return own() if callable(own) else compile_jacobian_field(flow)


@dataclass(frozen=True)
class EndpointReport:
    """Whether the field's time coefficients are finite at t = 0 and t = 1, and the time interval on
    which :func:`field` may be evaluated (closed where finite, open where the mathematics blows up)."""

    finite_at_0: bool
    finite_at_1: bool

    @property
    def interval(self) -> sympy.Interval:
        return sympy.Interval(0, 1, left_open=not self.finite_at_0, right_open=not self.finite_at_1)

    def __str__(self) -> str:
        ends = [name for name, ok in (("t = 0", self.finite_at_0), ("t = 1", self.finite_at_1)) if not ok]
        if not ends:
            return "the field is finite on [0, 1]"
        return f"the field is not finite at {' and '.join(ends)}; evaluate it on {self.interval}"


def endpoint_report(gif: Flow) -> EndpointReport:
    """Evaluate the coefficients at t = 0 and t = 1 for the target's component variances.

    Example:
        >>> from gifsym import GIF, schedule, target
        >>> str(endpoint_report(GIF(schedule("follmer"), target("gaussian:sigma=1"))))
        'the field is finite on [0, 1]'
    """
    coef = time_coefficients(gif.schedule)
    mix = mixture_arrays(gif)
    lam = jnp.asarray(mix.lam if mix.lam is not None else mix.evals)
    with np.errstate(all="ignore"):
        ok = [bool(all(np.all(np.isfinite(np.asarray(c))) for c in coef.fn(float(tt), lam))) for tt in (0.0, 1.0)]
    return EndpointReport(*ok)
