r"""Parameterisations of a model: velocity, data prediction, noise prediction, score (and v-prediction).

A network trained on ``X_t = a_t Z + b_t X_1`` predicts one conditional expectation given ``X_t = x``.
Each is affine in x and in the posterior mean ``m = E[X_1 | X_t = x]`` (conditional expectation is linear):

* ``x1`` (data prediction, "sample"):     ``E[X_1 | x] = m``;
* ``epsilon`` (noise prediction):        ``E[Z | x]``, with ``Z = (X_t − b X_1)/a``;
* ``velocity``:                          ``E[ȧ Z + ḃ X_1 | x]``;
* ``score``:                             ``∇ log p_t(x)`` by Tweedie, from the Gaussian kernel
  ``exp(−|x − b y|²/(2a²))``;
* ``v-prediction`` (Salimans & Ho; diffusers' ``v_prediction``): ``E[b Z − a X_1 | x]``.

:func:`parameterization` derives the coefficients of each in ``(x, m)`` with SymPy from these
definitions, eliminates m, and returns ``(c_x, c_given)`` with ``want = c_x x + c_given given``, for any
schedule. The ends of [0, 1] where a coefficient blows up (``a → 0`` at t = 1 for the noise and the score,
``b → 0`` at t = 0 for the data) are found as exact limits.

Example:
    >>> from gifsym import schedule
    >>> p = parameterization(schedule("linear"), "velocity", "x1")
    >>> p.c_x, p.c_given
    (1, 1 - t)
    >>> p.singular
    ()
    >>> parameterization(schedule("linear"), "epsilon", "x1").singular[0]  # x1 = (x - a eps)/b, b_0 = 0
    Endpoint(end=0, coefficient='c_x', limit=oo)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import sympy

from gifsym.errors import ConvertError
from gifsym.symbolic.convert import arguments
from gifsym.symbolic.schedule import Schedule, t

#: The parameterisations and what each predicts.
PARAMETERIZATIONS: dict[str, str] = {
    "velocity": "E[da Z + db X_1 | X_t = x], the velocity field v(t, x)",
    "x1": "E[X_1 | X_t = x], data prediction (diffusers 'sample', flow_matching 'x_1 prediction')",
    "epsilon": "E[Z | X_t = x], noise prediction (diffusers 'epsilon')",
    "score": "grad log p_t(x), the score (Tweedie)",
    "v-prediction": "E[b Z - a X_1 | X_t = x] (Salimans & Ho; diffusers 'v_prediction')",
}

# Placeholders for a, ȧ, b, ḃ: the algebra is done once in these and then instantiated.
_A, _DA, _B, _DB = sympy.symbols("a_t \\dot{a}_t b_t \\dot{b}_t", real=True)


@lru_cache(maxsize=1)
def basis() -> dict[str, tuple[sympy.Expr, sympy.Expr]]:
    """Each parameterisation as ``(coefficient of x, coefficient of m)``, derived in placeholders."""
    x, x1, z = sympy.symbols("x x_1 z")
    # X_t = a Z + b X_1 solved for Z; a quantity linear in (Z, X_1) becomes linear in (x, X_1), and its
    # conditional expectation given X_t = x replaces X_1 by m.
    zsol = sympy.solve(sympy.Eq(x, _A * z + _B * x1), z)[0]
    definitions = {
        "x1": x1,
        "epsilon": z,
        "velocity": _DA * z + _DB * x1,
        "v-prediction": _B * z - _A * x1,
    }
    out = {}
    for name, q in definitions.items():
        e = sympy.expand(q.subs(z, zsol))
        out[name] = (sympy.simplify(e.coeff(x)), sympy.simplify(e.coeff(x1)))
    # Tweedie: ∇_x log p_t(x) = E[∇_x log k(x | X_1) | X_t = x] with the Gaussian kernel k.
    score = sympy.expand(sympy.diff(-((x - _B * x1) ** 2) / (2 * _A**2), x))
    out["score"] = (score.coeff(x), score.coeff(x1))
    return out


@lru_cache(maxsize=32)
def _conversion(given: str, want: str) -> tuple[sympy.Expr, sympy.Expr]:
    """``(c_x, c_given)`` in placeholders: ``G = g_x x + g_m m`` solved for m and put into ``W``."""
    g_x, g_m = basis()[given]
    w_x, w_m = basis()[want]
    G, x, m = sympy.symbols("G x m")
    msol = sympy.solve(sympy.Eq(G, g_x * x + g_m * m), m)[0]
    e = sympy.expand(w_x * x + w_m * msol)
    return sympy.factor(sympy.simplify(e.coeff(x))), sympy.factor(sympy.simplify(e.coeff(G)))


@dataclass(frozen=True)
class Endpoint:
    """An end of [0, 1] where a coefficient of a conversion is unbounded.

    Attributes:
        end: 0 or 1.
        coefficient: ``"c_x"`` or ``"c_given"``.
        limit: its exact one-sided limit (``oo``, ``-oo`` or ``zoo``).
    """

    end: int
    coefficient: str
    limit: sympy.Expr


@dataclass(frozen=True)
class Parameterization:
    r"""``want = c_x x + c_given given`` for one schedule.

    Attributes:
        schedule: the schedule.
        given, want: parameterisation names (keys of :data:`PARAMETERIZATIONS`).
        c_x, c_given: SymPy expressions in t.
        general: ``(c_x, c_given)`` in the placeholders ``a_t, ȧ_t, b_t, ḃ_t`` (valid for every schedule).
    """

    schedule: Schedule
    given: str
    want: str
    c_x: sympy.Expr
    c_given: sympy.Expr
    general: tuple[sympy.Expr, sympy.Expr]

    @cached_property
    def singular(self) -> tuple[Endpoint, ...]:
        """The ends where ``c_x`` or ``c_given`` is unbounded, with the exact one-sided limits (SymPy)."""
        out = []
        for end, side in ((0, "+"), (1, "-")):
            for name, c in (("c_x", self.c_x), ("c_given", self.c_given)):
                if not c.has(t):
                    continue
                value = c.subs(t, end)
                if value.is_finite:
                    continue  # continuous at the end: the limit is the value
                lim = sympy.limit(c, t, end, side)
                if not lim.is_finite:
                    out.append(Endpoint(end, name, lim))
        return tuple(out)

    def callable(self, backend: str = "numpy") -> Callable[[Any, Any, Any], Any]:
        """``f(t, x, given) -> want`` evaluated with NumPy, JAX or torch (``backend``).

        ``t`` may be a plain number (int or float), a 0-d or batched array/tensor of the backend, broadcastable
        against ``x``: it is first made an array of the backend in floating point (torch: the dtype of ``x``
        when that is a floating tensor, else float64), since torch's functions refuse Python numbers. JAX and
        torch are imported only when asked for; JAX computes in the precision of its inputs (enable
        ``jax_enable_x64`` for float64).

        Raises:
            ConvertError: an unknown backend, or the schedule has symbolic parameters.
        """
        if self.schedule.free_parameters:
            raise ConvertError(f"{self.schedule.spec} has symbolic parameters "
                               f"{sorted(map(str, self.schedule.free_parameters))}; give them values first")
        coeffs = _lambdify((self.c_x, self.c_given), backend)
        as_array = _as_array(backend)

        def convert(t_value: Any, x: Any, given: Any) -> Any:
            c_x, c_given = coeffs(as_array(t_value, x))
            return c_x * x + c_given * given

        convert.__doc__ = f"{self.want} from {self.given} for schedule {self.schedule.spec} ({backend})"
        return convert


def _as_array(backend: str) -> Callable[[Any, Any], Any]:
    """``(t, x) -> t`` as a floating array of the backend (a plain number included)."""
    if backend == "torch":
        import torch

        def to_tensor(t_value: Any, x: Any) -> Any:
            like = x if isinstance(x, torch.Tensor) and x.is_floating_point() else None
            if isinstance(t_value, torch.Tensor) and t_value.is_floating_point():
                return t_value
            dtype = like.dtype if like is not None else torch.float64
            return torch.as_tensor(t_value, dtype=dtype, device=None if like is None else like.device)

        return to_tensor
    if backend == "jax":
        jnp = importlib.import_module("jax.numpy")
        return lambda t_value, x: t_value if getattr(t_value, "dtype", None) is not None and jnp.issubdtype(
            t_value.dtype, jnp.floating) else jnp.asarray(t_value, dtype=jnp.result_type(float))
    import numpy as np

    return lambda t_value, x: (t_value if isinstance(t_value, np.ndarray) and t_value.dtype.kind == "f"
                               else np.asarray(t_value, dtype=float))


def _lambdify(exprs: tuple[sympy.Expr, ...], backend: str) -> Callable:
    """A function of t returning the expressions, for one backend (JAX/torch imported here, on demand)."""
    if backend == "numpy":
        return sympy.lambdify(t, exprs, modules=["numpy", "scipy"])
    if backend == "jax":
        # Loaded at call time, by name: the symbolic layer never imports JAX itself (import-linter's
        # "jax" contract); only a caller who asks for a JAX function pays for it.
        jnp = importlib.import_module("jax.numpy")
        jsp = importlib.import_module("jax.scipy.special")
        return sympy.lambdify(t, exprs, modules=[{"erf": jsp.erf}, jnp])
    if backend == "torch":
        import torch

        return sympy.lambdify(t, exprs, modules=[{"erf": torch.erf}, "torch"])
    raise ConvertError(f"unknown backend {backend!r}; accepted: numpy, jax, torch")


def parameterization(schedule: Schedule, given: str, want: str) -> Parameterization:
    """The coefficients ``(c_x, c_given)`` with ``want = c_x x + c_given given`` for ``schedule``.

    Args:
        schedule: a gifsym schedule.
        given, want: ``"velocity"``, ``"x1"``, ``"epsilon"``, ``"score"`` or ``"v-prediction"``.

    Raises:
        ConvertError: an unknown parameterisation name.
    """
    arguments.schedule(schedule, where="parameterization(schedule, ...)")
    for label, name in (("given", given), ("want", want)):
        arguments.choice(name, PARAMETERIZATIONS, where=f"parameterization({label}=...)")
    cx, cg = _conversion(given, want)
    sub = {_A: schedule.a, _DA: schedule.da, _B: schedule.b, _DB: schedule.db}

    def inst(e: sympy.Expr) -> sympy.Expr:
        e = e.subs(sub, simultaneous=True)
        return sympy.cancel(e) if e.is_rational_function(t) else e

    return Parameterization(schedule, given, want, inst(cx), inst(cg), (cx, cg))
