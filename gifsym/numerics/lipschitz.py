r"""The Lipschitz constant ``C_t`` of a velocity model in x, and the Grönwall weights it gives.

Three ways to know ``C_t`` (the :attr:`LipschitzProfile.how`):

* ``"given"``: a number or a function of t from the user (taken as stated);
* ``"certified"``: a model given by its weights (:class:`~gifsym.numerics.mlp.MLPVelocity`): the product of
  the layers' spectral norms, enclosed with ball arithmetic — a rigorous bound, the same for every t;
* ``"estimate"``: at each grid time, the largest ``‖∇_x ṽ(t, x_i)‖₂`` over samples ``x_i`` of ``p_t``, from
  the exact Jacobians (d Jacobian–vector products, then the singular values;
  :meth:`gifsym.numerics.models.Model.jacobians`). A maximum over samples is a lower estimate of the
  supremum the theorem needs: it is labelled ``estimate`` and so is every bound built on it.

With ``one_sided=True`` the estimate is the largest eigenvalue of the symmetric part of ``∇_x ṽ`` (the
logarithmic norm ``μ_t ≤ C_t``). Grönwall holds with it as well: for the gap ``D_t = Y_t − X_t``,
``½ d|D|²/dt = ⟨D, ṽ(Y) − ṽ(X)⟩ + ⟨D, ṽ(X) − v(X)⟩ ≤ μ_t |D|² + |D| |δ(X_t)|``, and Cauchy–Schwarz in L²
gives ``d‖D‖/dt ≤ μ_t ‖D‖ + ε(t)``, so ``μ_t`` may replace ``C_t`` in the weights below.

The weights are ``W(t) = exp(∫_t^1 C_s ds)``: in closed form for a constant, by ``scipy.integrate.quad``
for a given function, and for values on a grid by the upper step function ``max(C_i, C_{i+1})`` on each
interval (exact when C is monotone between grid points; :attr:`LipschitzProfile.weights_central` uses the
trapezoid instead).

Example:
    >>> p = given_lipschitz(1.0, (0.0, 0.5, 1.0))
    >>> p.how, [round(float(w), 6) for w in p.weights()]  # e^{C(1−t)}
    ('given', [2.718282, 1.648721, 1.0])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from gifsym.errors import NumericError
from gifsym.numerics.mlp import MLPVelocity
from gifsym.numerics.models import Model, op_norms

HOWS = ("given", "certified", "estimate")


@dataclass(frozen=True)
class LipschitzProfile:
    """``C_t`` on the certificate's time grid and how it was obtained.

    Attributes:
        times: the grid.
        values: ``C_t`` at the grid times.
        how: ``"given"``, ``"certified"`` or ``"estimate"``.
        method: one line on how the values were obtained.
        one_sided: whether the values are one-sided constants (largest eigenvalue of the symmetric part).
        constant: the value when C does not depend on t, else None.
        enclosure: ``[lo, hi]`` of a certified constant.
        samples: points per time of an estimate.
    """

    times: tuple[float, ...]
    values: tuple[float, ...]
    how: str
    method: str
    one_sided: bool = False
    constant: float | None = None
    enclosure: tuple[float, float] | None = None
    samples: int = 0
    function: Callable | None = field(default=None, repr=False, compare=False)

    def integrals(self, *, central: bool = False) -> np.ndarray:
        """``∫_{t_i}^1 C_s ds`` for every grid time (upper step function on a grid unless ``central``)."""
        ts = np.asarray(self.times)
        if self.constant is not None:
            return self.constant * (1.0 - ts)
        if self.function is not None:
            from scipy.integrate import quad

            pieces = [quad(lambda s: float(self.function(s)), a, b, epsabs=1e-13, epsrel=1e-11, limit=200)[0]
                      for a, b in zip(ts[:-1], ts[1:])]
        else:
            c = np.asarray(self.values)
            step = 0.5 * (c[:-1] + c[1:]) if central else np.maximum(c[:-1], c[1:])
            pieces = step * np.diff(ts)
        return np.concatenate([np.cumsum(np.asarray(pieces)[::-1])[::-1], [0.0]])

    def weights(self) -> np.ndarray:
        """``W(t_i) = exp(∫_{t_i}^1 C_s ds)`` (inf where it overflows)."""
        with np.errstate(over="ignore"):
            return np.exp(self.integrals())

    def weights_central(self) -> np.ndarray:
        """The weights with the trapezoid rule for C on a grid (the central estimate)."""
        with np.errstate(over="ignore"):
            return np.exp(self.integrals(central=True))

    def to_dict(self) -> dict:
        d = {"times": list(self.times), "values": [_num(v) for v in self.values], "how": self.how,
             "method": self.method, "one_sided": self.one_sided, "constant": _num(self.constant)}
        if self.enclosure is not None:
            d["enclosure"] = list(self.enclosure)
        if self.samples:
            d["samples"] = self.samples
        return d


def _num(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def given_lipschitz(value, times: Sequence[float], *, one_sided: bool = False) -> LipschitzProfile:
    """A user's constant or function of t.

    Raises:
        NumericError: not a finite number (≥ 0 unless one-sided) at every grid time, or the function raises.
    """
    ts = tuple(float(x) for x in times)
    if callable(value):
        vals = []
        for tt in ts:
            try:
                c = float(value(tt))
            except Exception as e:  # the user's function
                raise NumericError(f"the Lipschitz function raised {type(e).__name__} at t = {tt:g}: {e}") from e
            _check_value(c, one_sided, f"the Lipschitz function at t = {tt:g}")
            vals.append(c)
        return LipschitzProfile(ts, tuple(vals), "given", "a function of t given by the user", one_sided,
                                function=value)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise NumericError(f"lipschitz must be a number, a function of t, 'certified' or 'estimate'; got {value!r}")
    c = float(value)
    _check_value(c, one_sided, "the Lipschitz constant")
    return LipschitzProfile(ts, (c,) * len(ts), "given", "a constant given by the user", one_sided, constant=c)


def _check_value(c: float, one_sided: bool, what: str) -> None:
    if not math.isfinite(c) or (c < 0 and not one_sided):
        need = "a finite number" if one_sided else "a finite number >= 0"
        raise NumericError(f"{what} must be {need}, got {c!r}")


def certified_lipschitz(model: Model, times: Sequence[float], *, one_sided: bool = False) -> LipschitzProfile:
    """The layer-norm bound of an :class:`~gifsym.numerics.mlp.MLPVelocity` (raises for other models)."""
    if not isinstance(model.fn, MLPVelocity):
        raise NumericError(f"a certified Lipschitz constant needs a model given by its weights "
                           f"(gifsym.numerics.mlp.MLPVelocity), not {type(model.fn).__name__}; "
                           "use lipschitz='estimate' or give the constant")
    b = model.fn.lipschitz_bound()
    ts = tuple(float(x) for x in times)
    method = b.method + ("; an upper bound on the one-sided constant too" if one_sided else "")
    return LipschitzProfile(ts, (b.value,) * len(ts), "certified", method, one_sided, constant=b.value,
                            enclosure=b.enclosure)


def estimate_lipschitz(model: Model, times: Sequence[float], points: Callable[[int], np.ndarray], *,
                       one_sided: bool = False) -> LipschitzProfile:
    """Largest ``‖∇_x ṽ‖₂`` (or its one-sided version) over ``points(i)``, samples of ``p_{t_i}``."""
    ts = tuple(float(x) for x in times)
    vals = []
    n = 0
    for i, tt in enumerate(ts):
        x = points(i)
        n = len(x)
        vals.append(float(np.max(op_norms(model.jacobians(tt, x), one_sided=one_sided))))
    what = "largest eigenvalue of the symmetric part" if one_sided else "largest singular value"
    method = (f"max over {n} samples of p_t of the {what} of the model's Jacobian ({model.jacobian_method()}); "
              "a lower estimate of the supremum")
    return LipschitzProfile(ts, tuple(vals), "estimate", method, one_sided, samples=n)


def resolve_lipschitz(lipschitz, model: Model, times: Sequence[float], points: Callable[[int], np.ndarray], *,
                      one_sided: bool = False) -> LipschitzProfile:
    """``lipschitz`` as given to :func:`gifsym.certify`: None (certified where the model allows, else
    estimated), ``"certified"``, ``"estimate"``, a number or a function of t."""
    if lipschitz is None:
        if isinstance(model.fn, MLPVelocity):
            return certified_lipschitz(model, times, one_sided=one_sided)
        return estimate_lipschitz(model, times, points, one_sided=one_sided)
    if isinstance(lipschitz, str):
        if lipschitz == "certified":
            return certified_lipschitz(model, times, one_sided=one_sided)
        if lipschitz == "estimate":
            return estimate_lipschitz(model, times, points, one_sided=one_sided)
        raise NumericError(f"lipschitz={lipschitz!r}: accepted strings are 'certified' and 'estimate' "
                           "(or give a number or a function of t)")
    return given_lipschitz(lipschitz, times, one_sided=one_sided)


__all__ = ["HOWS", "LipschitzProfile", "certified_lipschitz", "estimate_lipschitz", "given_lipschitz",
           "resolve_lipschitz"]
