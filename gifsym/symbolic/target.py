r"""Targets: exact laws (Gaussian, Gaussian mixture) and the classes of math.md §3.

A :class:`Target` holds an exact law when one is known (``law``: a :class:`Mixture`, a Gaussian being a
one-component mixture) and the class memberships the user declared (``declared``). ``classes()`` adds the
memberships the law implies, each with its parameters:

* ``N(m, Σ)`` is κ-semi-log-concave with κ = 1/λ_max(Σ) and β-semi-log-convex with β = 1/λ_min(Σ); an
  isotropic ``N(m, σ²I)`` is also the Gaussian convolution ``N(0, σ²I) * δ_m`` (T-conv with R = 0: δ_m is
  supported in the ball of radius 0 about m; the bounds of math.md §5 only need *some* ball, see
  :mod:`gifsym.symbolic.ball`).
* A mixture is β-semi-log-convex with β = max_k 1/λ_min(Σ_k), because
  ``−∇² log p = Σ_k r_k Σ_k⁻¹ − Cov_r(Σ_k⁻¹(x − m_k)) ≼ Σ_k r_k Σ_k⁻¹``; with a common isotropic σ it is
  T-conv with R the radius of the smallest ball enclosing the means (about its centre, not the origin:
  shifting a target does not change ∇v).
* Data (``empirical:FILE``, :mod:`gifsym.symbolic.empirical`): T-emp, with classes derived from the data.

Example:
    >>> from gifsym import target
    >>> g = target("gaussian:sigma=0.5")
    >>> [(c.id, dict(c.params)) for c in g.classes()]  # doctest: +NORMALIZE_WHITESPACE
    [('T-gauss', {'sigma': 1/2}), ('T-slc', {'kappa': 4}), ('T-slcvx', {'beta': 4}),
     ('T-conv', {'sigma': 1/2, 'R': 0})]
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import sympy

from gifsym.errors import RoundoffWarning, SpecError, TargetError, shown
from gifsym.io import parse_json, read_json
from gifsym.symbolic.ball import enclosing_radius
from gifsym.symbolic.classes import CLASS_BY_SPEC
from gifsym.symbolic.empirical import EmpiricalLaw, empirical_law, implied_classes
from gifsym.symbolic.printing import symbol_name
from gifsym.symbolic.spec import split_plus, split_spec

if TYPE_CHECKING:  # imported where used: a run answered from the cache never needs numpy
    import numpy as np

EXACT_SPECS = ("gaussian", "gmm", "empirical")
SPEC_NAMES = set(CLASS_BY_SPEC) | set(EXACT_SPECS)

#: Largest dimension of an exact target, largest dimension of a full covariance (d² exact entries), most
#: mixture components, and most exact numbers (means and covariances) in one mixture: checked before any
#: allocation, so a typo like dim=100000000 is an error, not a MemoryError.
MAX_DIM = 100_000
MAX_COV_DIM = 256
MAX_COMPONENTS = 10_000
MAX_ENTRIES = 1_000_000

# Relative tolerance for "weights sum to 1" and "covariance is symmetric": JSON floats carry ~1e-16
# relative error each, so sums of a few hundred of them stay far inside 1e-9.
_ROUNDOFF = 1e-9


def eigenvalue_bounds(cov: sympy.MatrixBase) -> tuple[sympy.Expr, sympy.Expr]:
    """``(lo, hi)`` with ``lo ≤ λ_min(Σ)`` and ``hi ≥ λ_max(Σ)`` for a symmetric matrix of exact rationals:
    the exact eigenvalues where the characteristic polynomial factors over Q into pieces of degree ≤ 2
    (rationals and square roots), otherwise Arb enclosures of its roots rounded outward (``lo`` down, ``hi``
    up), so the class parameters built from them (κ = 1/λ_max, β = 1/λ_min) stay valid bounds.

    Example:
        >>> eigenvalue_bounds(sympy.Matrix([[2, 0], [0, sympy.Rational(1, 2)]]))
        (1/2, 2)
    """
    from flint import fmpq, fmpq_mat

    n = cov.shape[0]
    entries = [sympy.Rational(x) for x in cov]
    if any(not isinstance(x, sympy.Rational) for x in entries):
        raise TargetError("the covariance must have exact rational entries")
    m = fmpq_mat(n, n, [fmpq(int(x.p), int(x.q)) for x in entries])
    _, factors = m.charpoly().factor()
    x = sympy.Symbol("x")
    exact: list[sympy.Expr] = []
    balls_: list[tuple[sympy.Rational, sympy.Rational]] = []
    from gifsym.symbolic.balls import ends

    for f, _ in factors:
        coeffs = [sympy.Rational(int(c.p), int(c.q)) for c in f.coeffs()]
        if f.degree() <= 2:
            poly = sum(c * x**k for k, c in enumerate(coeffs))
            exact.extend(sympy.roots(sympy.Poly(poly, x), multiple=True))
        else:
            for r, _ in f.complex_roots():
                balls_.append(ends(r.real))
    lows = [sympy.Min(*exact)] if exact else []
    highs = [sympy.Max(*exact)] if exact else []
    lows += [lo for lo, _ in balls_]
    highs += [hi for _, hi in balls_]
    lo = lows[0] if len(lows) == 1 else min(lows, key=lambda v: sympy.N(v, 40))
    hi = highs[0] if len(highs) == 1 else max(highs, key=lambda v: sympy.N(v, 40))
    return sympy.nsimplify(lo) if lo.is_Rational else sympy.radsimp(lo), (
        sympy.nsimplify(hi) if hi.is_Rational else sympy.radsimp(hi))


def class_parameters(c: Component) -> tuple[sympy.Expr, sympy.Expr]:
    """``(κ, β)`` of ``N(m, Σ)``: ``κ = 1/λ_max(Σ)``, ``β = 1/λ_min(Σ)``, exact where the eigenvalues are
    (see :func:`eigenvalue_bounds`), else rounded outward: κ down, β up.

    Example:
        >>> class_parameters(Component(sympy.Integer(1), (0,), sigma=sympy.Rational(1, 2)))
        (4, 4)
    """
    if c.sigma is not None:
        return 1 / c.sigma**2, 1 / c.sigma**2
    lo, hi = eigenvalue_bounds(c.covariance)
    kappa, beta = 1 / hi, 1 / lo
    if not hi.is_Rational:
        kappa = sympy.radsimp(kappa)
    elif len(str(kappa)) > 40:  # an outward-rounded enclosure: 20 significant digits, still rounded down
        kappa = _decimal(kappa, up=False)
    if not lo.is_Rational:
        beta = sympy.radsimp(beta)
    elif len(str(beta)) > 40:
        beta = _decimal(beta, up=True)
    return kappa, beta


def _decimal(r: sympy.Rational, *, up: bool, digits: int = 20) -> sympy.Rational:
    """r rounded to ``digits`` significant decimal digits, up or down (exactly, in integers)."""
    k = digits - 1 - int(math.floor(math.log10(abs(float(r)))))
    scale = sympy.Integer(10) ** k if k >= 0 else sympy.Rational(1, 10 ** (-k))
    n = r * scale
    m = sympy.ceiling(n) if up else sympy.floor(n)
    return sympy.Rational(m) / scale


@dataclass(frozen=True)
class Membership:
    """Membership of a target in a class of math.md §3, e.g. ``Membership("T-slc", (("kappa", 2),))``."""

    id: str
    params: tuple[tuple[str, sympy.Expr], ...] = ()
    implied_by: str | None = None  # None: declared by the user

    def __getitem__(self, name: str) -> sympy.Expr:
        return dict(self.params)[name]


@dataclass(frozen=True)
class Component:
    """One Gaussian component ``w N(mean, cov)``; ``sigma`` is set when ``cov = σ² I``."""

    weight: sympy.Expr
    mean: tuple[sympy.Expr, ...]
    sigma: sympy.Expr | None = None
    cov: sympy.ImmutableMatrix | None = None

    @property
    def dim(self) -> int:
        return len(self.mean)

    @cached_property
    def covariance(self) -> sympy.ImmutableMatrix:
        """Σ as an exact SymPy matrix."""
        if self.cov is not None:
            return self.cov
        return sympy.ImmutableMatrix(sympy.eye(self.dim) * self.sigma**2)

    @cached_property
    def eigenvalues(self) -> tuple[float, ...]:
        """Eigenvalues of Σ (floats, ascending)."""
        import numpy as np
        if self.cov is None:
            return (float(self.sigma) ** 2,) * self.dim
        return tuple(float(x) for x in np.linalg.eigvalsh(np.array(self.cov.tolist(), dtype=float)))


@dataclass(frozen=True)
class Mixture:
    """An exact law ``Σ_k w_k N(m_k, Σ_k)`` (one component: a Gaussian)."""

    components: tuple[Component, ...]

    @property
    def dim(self) -> int:
        return self.components[0].dim

    @property
    def K(self) -> int:
        return len(self.components)

    @property
    def isotropic(self) -> bool:
        """Every component has ``Σ_k = σ_k² I``."""
        return all(c.sigma is not None for c in self.components)

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        """Float64 arrays: ``weights`` (K,), ``means`` (K, d), ``covs`` (K, d, d), ``sigmas`` (K,) if isotropic."""
        import numpy as np
        out = {
            "weights": np.array([float(c.weight) for c in self.components]),
            "means": np.array([[float(v) for v in c.mean] for c in self.components]).reshape(self.K, self.dim),
        }
        if self.isotropic:
            out["sigmas"] = np.array([float(c.sigma) for c in self.components])
            out["covs"] = out["sigmas"][:, None, None] ** 2 * np.eye(self.dim)
        else:
            out["covs"] = np.array([np.array(c.covariance.tolist(), dtype=float) for c in self.components])
        return out

    @cached_property
    def exact_second_moment(self) -> sympy.Expr:
        """``E|X|² = Σ_k w_k (|m_k|² + tr Σ_k)``, exactly (the parameters are exact numbers)."""
        return sympy.Add(*(c.weight * (sum(v**2 for v in c.mean) + c.covariance.trace()) for c in self.components))

    @cached_property
    def second_moment(self) -> float:
        """``E|X|²`` (used by source stability)."""
        import numpy as np
        a = self.arrays
        return float(np.sum(a["weights"] * (np.sum(a["means"] ** 2, 1) + np.trace(a["covs"], axis1=1, axis2=2))))


@dataclass(frozen=True)
class Target:
    """A target law ν, or a class of them.

    Attributes:
        spec: the spec string (or a description for targets built in Python).
        law: the exact law, for Gaussian and GMM targets; ``None`` for a class of targets.
        declared: the class memberships as given by the user.
    """

    spec: str
    law: Mixture | None
    declared: tuple[Membership, ...]

    @property
    def is_exact(self) -> bool:
        return self.law is not None

    @property
    def dim(self) -> int | None:
        """The dimension of an exact law; ``None`` for a class (its bounds hold in every dimension)."""
        return self.law.dim if self.law is not None else None

    @cached_property
    def _classes(self) -> tuple[Membership, ...]:
        out = list(self.declared)
        law = self.law
        if isinstance(law, EmpiricalLaw):  # classes derived from the data (gifsym.symbolic.empirical)
            return tuple(out) + tuple(Membership(cid, params, out[0].id) for cid, params in implied_classes(law))
        if law is not None:
            by = out[0].id
            if law.K == 1:
                c = law.components[0]
                kappa, beta = class_parameters(c)
                out.append(Membership("T-slc", (("kappa", kappa),), by))
                out.append(Membership("T-slcvx", (("beta", beta),), by))
            else:
                beta = max((class_parameters(c)[1] for c in law.components), key=lambda v: sympy.N(v, 40))
                out.append(Membership("T-slcvx", (("beta", beta),), by))
            sigmas = {c.sigma for c in law.components}
            if law.isotropic and len(sigmas) == 1:
                R = enclosing_radius([c.mean for c in law.components])  # about the means' centre, not 0
                out.append(Membership("T-conv", (("sigma", sigmas.pop()), ("R", sympy.nsimplify(R))), by))
        return tuple(out)

    def classes(self) -> tuple[Membership, ...]:
        """Declared and implied memberships (implied ones carry ``implied_by``)."""
        return self._classes

    def class_ids(self) -> frozenset[str]:
        """The ids of every class the target belongs to."""
        return frozenset(c.id for c in self._classes)

    def memberships(self, class_id: str) -> tuple[Membership, ...]:
        """Every membership in ``class_id`` (a target may be in a class with several parameters)."""
        return tuple(c for c in self._classes if c.id == class_id)

    @property
    def free_parameters(self) -> frozenset[sympy.Symbol]:
        """Symbolic parameters of the declared classes."""
        out: set = set()
        for c in self.declared:
            for _, v in c.params:
                out |= v.free_symbols
        return frozenset(out)


# ---------------------------------------------------------------------------------------------------------
# Construction and validation


def _number(name: str, value: object, assumptions: Mapping[str, bool] | None = None) -> sympy.Expr:
    from gifsym.symbolic.schedule import _value

    v = _value(name, value, real_only=True)
    if value is None and assumptions:
        v = sympy.Symbol(symbol_name(name), **assumptions)
    return v


def _check_param(cls: str, name: str, v: sympy.Expr, assumptions: Mapping[str, bool]) -> None:
    if assumptions.get("positive") and v.is_positive is False:
        raise TargetError(f"{cls}: parameter {name}={v} must be > 0")
    if assumptions.get("nonnegative") and v.is_nonnegative is False:
        raise TargetError(f"{cls}: parameter {name}={v} must be >= 0")
    if v.is_real is False:
        raise TargetError(f"{cls}: parameter {name}={v} must be a real number")


def _parse_list(name: str, text: str) -> object:
    """A bracketed list of numbers from a spec (JSON syntax)."""
    try:
        return parse_json(text, what=f"parameter {name}", error=TargetError)
    except TargetError as e:
        if "nested" in str(e):
            raise
        raise TargetError(f"parameter {name}={text!r} is not a number or a JSON list like [1, 2]") from None


def _roundoff_zero(x: object, what: str) -> object:
    """0 for a float mean or covariance entry with 0 < |x| < 1e-12 (what ``4*cos(pi/2)`` = 2.4e-16 gives);
    the value itself otherwise. Such numbers are below the range exact parameters accept
    (:func:`gifsym.symbolic.schedule.real_number`); in a mean or a covariance they are round-off of 0, so
    they are read as 0, with a :class:`RoundoffWarning` that says so."""
    import numpy as np
    from gifsym.symbolic.expr import MIN_MAGNITUDE

    if isinstance(x, (np.floating,)):
        x = x.item()
    if isinstance(x, float) and x != 0 and abs(x) < float(MIN_MAGNITUDE):
        import warnings

        warnings.warn(f"{what}: {x!r} read as 0 (|x| < {float(MIN_MAGNITUDE):.0e} is float round-off of 0)",
                      RoundoffWarning, stacklevel=4)
        return 0
    return x


def _exact(x: object, what: str) -> sympy.Expr:
    import numpy as np
    if isinstance(x, bool) or not isinstance(x, (int, float, str, sympy.Basic, np.floating, np.integer)):
        raise TargetError(f"{what}={x!r} must be a number")
    if isinstance(x, (np.floating, np.integer)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        raise TargetError(f"{what}={x!r} must be finite")
    v = _number(what, x)
    if v.free_symbols or not v.is_real:
        raise TargetError(f"{what}={x!r} must be a real number (exact laws take numeric parameters)")
    return v


def _vector(x: object, dim: int | None, what: str) -> tuple[sympy.Expr, ...]:
    import numpy as np
    if isinstance(x, np.ndarray):
        x = x.tolist()
    if isinstance(x, (list, tuple)):
        if dim is not None and len(x) != dim:
            raise TargetError(f"{what} has length {len(x)}, expected {dim} (the dimension)")
        if not x:
            raise TargetError(f"{what} is empty")
        return tuple(_exact(_roundoff_zero(v, what), what) for v in x)
    v = _exact(_roundoff_zero(x, what), what)
    return (v,) * (dim or 1)


def _square_rows(x: object, what: str) -> list:
    """The rows of a square matrix given as nested lists (or an array / SymPy matrix), or a clear error."""
    import numpy as np
    if isinstance(x, sympy.MatrixBase):
        x = x.tolist()
    if isinstance(x, np.ndarray):
        x = x.tolist()
    if not isinstance(x, (list, tuple)) or not x or not all(isinstance(r, (list, tuple)) for r in x):
        raise TargetError(f"{what}={x!r:.80} must be a square matrix given as a list of rows, e.g. [[1, 0], [0, 2]]")
    n = len(x)
    if n > MAX_COV_DIM:
        raise TargetError(f"{what} is {n}x{n}; full covariances are limited to {MAX_COV_DIM}x{MAX_COV_DIM} "
                          "(use an isotropic sigma for larger dimensions)")
    if any(len(r) != n for r in x):
        raise TargetError(f"{what} is not square: rows of lengths {[len(r) for r in x]} (expected {n} each)")
    return [list(r) for r in x]


def _covariance(x: object, dim: int, what: str) -> sympy.ImmutableMatrix:
    import numpy as np
    x = [[_roundoff_zero(v, what) for v in row] for row in _square_rows(x, what)]
    try:
        arr = np.array([[_exact(v, what) for v in row] for row in x], dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise TargetError(f"{what} must hold real numbers") from None
    if arr.shape != (dim, dim):
        raise TargetError(f"{what} has shape {arr.shape}, expected ({dim}, {dim})")
    if not np.all(np.isfinite(arr)):
        raise TargetError(f"{what} has non-finite entries")
    scale = max(float(np.max(np.abs(arr))), 1e-300)
    if np.max(np.abs(arr - arr.T)) > _ROUNDOFF * scale:
        raise TargetError(f"{what} is not symmetric")
    ev = np.linalg.eigvalsh((arr + arr.T) / 2)
    if ev[0] <= 0:
        raise TargetError(f"{what} is not positive definite (smallest eigenvalue {ev[0]:.3g}); it must be SPD")
    M = sympy.ImmutableMatrix([[_exact(v, what) for v in row] for row in x])
    # Symmetrize exactly so that round-off in a JSON file cannot make the exact law asymmetric.
    return sympy.ImmutableMatrix((M + M.T) / 2)


def gaussian(*, mean: object = 0, sigma: object = None, cov: object = None, dim: int | None = None) -> Target:
    """The Gaussian target ``N(mean, σ² I)`` or ``N(mean, cov)``.

    Example:
        >>> gaussian(sigma=0.5, mean=[1, 2]).law.components[0].mean
        (1, 2)
    """
    import numpy as np
    if (sigma is None) == (cov is None):
        raise TargetError("gaussian target needs exactly one of sigma= (isotropic) or cov= (full covariance)")
    if dim is not None:
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
            raise TargetError(f"gaussian: dim={dim!r} must be a positive integer")
        dim = int(dim)
        if dim > MAX_DIM:
            raise TargetError(f"gaussian: dim={dim} is larger than {MAX_DIM}, the largest exact target gifsym builds")
    if cov is not None:
        d = len(_square_rows(cov, "gaussian cov"))
        if dim is not None and dim != d:
            raise TargetError(f"gaussian: dim={dim} but cov is {d}x{d}")
        dim = d
    if dim is None and isinstance(mean, (list, tuple, np.ndarray)):
        dim = len(mean)
    dim = dim or 1
    if dim > MAX_DIM:
        raise TargetError(f"gaussian: dimension {dim} is larger than {MAX_DIM}, the largest exact target gifsym builds")
    m = _vector(mean, dim, "gaussian mean")
    if sigma is not None:
        s = _exact(sigma, "sigma")
        if not s.is_positive:
            raise TargetError(f"gaussian: sigma={sigma} must be > 0")
        comp = Component(sympy.Integer(1), m, sigma=s)
    else:
        comp = Component(sympy.Integer(1), m, cov=_covariance(cov, dim, "gaussian cov"))
    spec = f"gaussian:sigma={comp.sigma}" if comp.sigma is not None else "gaussian:cov=..."
    if any(m) or dim != 1:
        spec += f",dim={dim}" + (f",mean=[{','.join(str(v) for v in m)}]" if any(m) else "")
    return Target(spec, Mixture((comp,)), (Membership("T-gauss", (("sigma", comp.sigma),) if comp.sigma else ()),))


def gmm(
    *,
    weights: Sequence[object],
    means: Sequence[object],
    sigma: object = None,
    sigmas: Sequence[object] | None = None,
    covariances: Sequence[object] | None = None,
    spec: str | None = None,
) -> Target:
    """A Gaussian mixture ``Σ_k w_k N(m_k, Σ_k)``.

    Give exactly one of ``sigma`` (common isotropic), ``sigmas`` (per component isotropic) or
    ``covariances`` (per component, SPD).

    Example:
        >>> g = gmm(weights=[0.5, 0.5], means=[[-1.0], [1.0]], sigma=0.5)
        >>> sorted(g.class_ids())
        ['T-conv', 'T-gmm', 'T-slcvx']
    """
    import numpy as np
    given = [x is not None for x in (sigma, sigmas, covariances)]
    if sum(given) != 1:
        raise TargetError("gmm needs exactly one of 'sigma', 'sigmas' or 'covariances'")
    if isinstance(weights, np.ndarray):
        weights = weights.tolist()
    if isinstance(means, np.ndarray):
        means = means.tolist()
    if not isinstance(weights, (list, tuple)) or not weights:
        raise TargetError("gmm 'weights' must be a non-empty list of positive numbers")
    if not isinstance(means, (list, tuple)) or len(means) != len(weights):
        raise TargetError(f"gmm 'means' must be a list of {len(weights)} vectors (one per weight)")
    K = len(weights)
    if K > MAX_COMPONENTS:
        raise TargetError(f"gmm has {K} components; at most {MAX_COMPONENTS} are accepted")
    w = [_exact(x, "gmm weight") for x in weights]
    if any(not x.is_positive for x in w):
        raise TargetError(f"gmm weights must be positive, got {[float(x) for x in w]}")
    total = float(sum(w))
    if abs(total - 1) > _ROUNDOFF:
        raise TargetError(f"gmm weights must sum to 1 (to round-off), they sum to {total!r}")
    # Renormalize exactly: the exact law must be a probability measure.
    w = [x / sum(w) for x in w]
    first = means[0]
    d = len(first) if isinstance(first, (list, tuple)) else 1
    if K * d > MAX_ENTRIES or (covariances is not None and K * d * d > MAX_ENTRIES):
        raise TargetError(f"gmm with {K} components in dimension {d} has more than {MAX_ENTRIES} exact numbers; "
                          "gifsym builds exact laws up to that size")
    ms = [_vector(m if isinstance(m, (list, tuple)) else [m], d, f"gmm mean {k}") for k, m in enumerate(means)]
    comps = []
    for k in range(K):
        if sigma is not None or sigmas is not None:
            if sigmas is not None:
                if len(sigmas) != K:
                    raise TargetError(f"gmm 'sigmas' has {len(sigmas)} entries, expected {K}")
                s = _exact(sigmas[k], f"gmm sigma {k}")
            else:
                s = _exact(sigma, "gmm sigma")
            if not s.is_positive:
                raise TargetError(f"gmm sigma {k} = {s} must be > 0")
            comps.append(Component(w[k], ms[k], sigma=s))
        else:
            if len(covariances) != K:
                raise TargetError(f"gmm 'covariances' has {len(covariances)} entries, expected {K}")
            comps.append(Component(w[k], ms[k], cov=_covariance(covariances[k], d, f"gmm covariance {k}")))
    return Target(spec or f"gmm(K={K}, d={d})", Mixture(tuple(comps)), (Membership("T-gmm", (("K", sympy.Integer(K)),)),))


def gmm_from_file(path: str) -> Target:
    """Read a mixture from JSON ``{"weights", "means", "sigma" | "sigmas" | "covariances"}`` (the format is
    documented in docs/mathematics.md, "The gmm: file"): ``weights`` K positive numbers summing to 1 (to
    1e-9; renormalised exactly), ``means`` K vectors of length d, and exactly one of ``sigma`` (one number:
    every component ``N(m_k, σ² I)``), ``sigmas`` (K numbers) or ``covariances`` (K symmetric positive
    definite d×d matrices). Floats are read by their shortest decimal (0.1 is 1/10); a mean or covariance
    entry with |x| < 1e-12 is round-off of 0 and read as 0 (:class:`RoundoffWarning`)."""
    data = read_json(path, what="a gmm file: weights, means and sigma", error=TargetError)
    if not isinstance(data, dict):
        raise TargetError(f"gmm file {path!r} must hold a JSON object with weights, means and sigma")
    allowed = {"weights", "means", "sigma", "sigmas", "covariances"}
    extra = set(data) - allowed
    if extra:
        raise TargetError(f"gmm file {path!r}: unknown key {sorted(extra)[0]!r}; accepted: {', '.join(sorted(allowed))}")
    missing = {"weights", "means"} - set(data)
    if missing:
        raise TargetError(f"gmm file {path!r}: missing {sorted(missing)[0]!r}")
    return gmm(**{k: data[k] for k in data}, spec=f"gmm:{path}")


def empirical(data: object, *, sigma: object = None, spec: str | None = None) -> Target:
    """The empirical law of ``data`` (an (N, d) array or a ``.npy``/``.npz``/``.csv`` path), smoothed by
    ``N(0, σ² I)`` when ``sigma`` > 0 (see :mod:`gifsym.symbolic.empirical`).

    Example:
        >>> sorted(empirical([[0.0], [1.0]], sigma=0.5).class_ids())
        ['T-conv', 'T-emp', 'T-slcvx']
    """
    law = empirical_law(data, sigma=sigma)
    if spec is None:
        spec = f"empirical:{law.source}" + (f",sigma={law.sigma}" if law.smoothed else "")
    params = (("N", sympy.Integer(law.N)), ("sigma", law.sigma))
    return Target(spec, law, (Membership("T-emp", params),))


def _class_target(name: str, items: Mapping[str, object]) -> Membership:
    cls = CLASS_BY_SPEC[name]
    known = [p.name for p in cls.parameters]
    unknown = set(items) - set(known)
    if unknown:
        raise TargetError(f"unknown parameter {sorted(unknown)[0]!r} for target class {name!r}; accepted: {', '.join(known)}")
    missing = [p for p in known if p not in items]
    if missing:
        raise TargetError(f"target class {name!r} needs parameter {missing[0]!r} (e.g. {name}:{missing[0]}=1, "
                          f"or {name}:{missing[0]} to keep it symbolic)")
    vals = []
    for p in cls.parameters:
        assumptions = dict(p.assumptions)
        v = _number(p.name, items[p.name], assumptions)
        _check_param(name, p.name, v, assumptions)
        vals.append((p.name, v))
    return Membership(cls.id, tuple(vals))


def target(spec: str | Target, **params: object) -> Target:
    """Build a target from a spec string (interface.md) and/or keyword parameters.

    Args:
        spec: ``gaussian:sigma=0.5[,dim=2][,mean=[1,2]]``, ``gmm:FILE.json``, ``slc:kappa=2``,
            ``slcvx:beta=4``, ``ball:R=1``, ``conv:sigma=0.5,R=2``, ``empirical:FILE[,sigma=0.1]`` (data:
            ``.npy``, ``.npz`` or ``.csv``, one point per row); classes combine with ``+``. A parameter
            without a value (``slc:kappa``) stays a SymPy symbol.
        **params: parameters for a single-name spec, e.g. ``target("gmm", weights=..., means=..., sigma=1)``.

    Raises:
        TargetError: unknown class, bad or missing parameter, bad file, inconsistent dimensions.

    Example:
        >>> target("slc:kappa=2+slcvx:beta=4").class_ids() == {"T-slc", "T-slcvx"}
        True
        >>> target("slc:kappa").declared[0]["kappa"]
        kappa
    """
    if isinstance(spec, Target):
        return spec
    if not isinstance(spec, str):
        raise TargetError(f"target spec must be a string, got {shown(spec)}")
    parts = split_plus(spec, SPEC_NAMES)
    if len(parts) > 1 and params:
        raise TargetError("keyword parameters only go with a single-class spec")
    parsed = []
    for part in parts:
        try:
            parsed.append(split_spec(part))
        except SpecError as e:
            raise TargetError(str(e)) from None
    names = [p[0] for p in parsed]
    for n in names:
        if n not in SPEC_NAMES:
            raise TargetError(f"unknown target {n!r}; accepted: {', '.join((*EXACT_SPECS, *CLASS_BY_SPEC))}")
    if any(n in EXACT_SPECS for n in names) and len(names) > 1:
        raise TargetError(f"{spec!r}: a gaussian, gmm or empirical target is an exact law and is not combined with '+'; "
                          "its classes (T-slc, T-slcvx, T-conv) are implied")
    if len(set(names)) != len(names):
        raise TargetError(f"{spec!r} names a class twice")
    name, items, bare = parsed[0]
    if name in ("empirical", "gmm") and bare is None:
        # A file whose name has no extension reads like a symbolic parameter (`gmm:mixture`): it is the file
        # when one of that name exists (then a folder or a FIFO is refused as such, not as an unknown name).
        named = [k for k, v in items.items() if v is None and os.path.lexists(k)]
        if named:
            bare = named[0]
            items = {k: v for k, v in items.items() if k != bare}
    if name == "empirical":
        merged = {**items, **params}
        data = merged.pop("data", None) if bare is None else bare
        unknown = set(merged) - {"sigma"}
        if unknown or data is None:
            raise TargetError(f"empirical: {'unknown parameter ' + repr(sorted(unknown)[0]) if unknown else 'no data'}"
                              "; write empirical:FILE or empirical:FILE,sigma=0.1 (FILE .npy, .npz or .csv)")
        if "sigma" in merged and merged["sigma"] is None:
            raise TargetError("empirical: sigma needs a value (a number >= 0); data are numbers, not symbols")
        return empirical(data, sigma=merged.get("sigma"), spec=spec if isinstance(data, str) else None)
    if name == "gmm":
        if bare is not None:
            if items or params:
                raise TargetError("gmm:FILE.json takes no other parameters")
            return gmm_from_file(bare)
        merged = {**items, **params}
        if not merged:
            raise TargetError("gmm needs a JSON file (gmm:FILE.json) or weights=, means= and sigma= in Python")
        for k, v in list(merged.items()):
            if isinstance(v, str):
                merged[k] = _parse_list(k, v)
        try:
            return gmm(**merged)
        except TypeError:
            raise TargetError(f"gmm: unknown parameter among {sorted(merged)}; accepted: weights, means, sigma, "
                              "sigmas, covariances") from None
    if bare is not None:
        raise TargetError(f"unexpected {bare!r} in target spec {spec!r}; parameters are key=value")
    if name == "gaussian":
        merged = {**items, **params}
        unknown = set(merged) - {"sigma", "mean", "cov", "dim"}
        if unknown:
            raise TargetError(f"unknown parameter {sorted(unknown)[0]!r} for target 'gaussian'; "
                              "accepted: sigma, mean, dim, cov")
        kw: dict[str, object] = {}
        for k, v in merged.items():
            if v is None:
                raise TargetError(f"gaussian: parameter {k!r} needs a value (exact laws take numbers)")
            if k == "dim":
                try:
                    kw[k] = int(v) if isinstance(v, str) else v
                except ValueError:
                    raise TargetError(f"gaussian: dim={v!r} must be a positive integer") from None
            elif isinstance(v, str) and v.lstrip().startswith("["):
                kw[k] = _parse_list(k, v)
            else:
                kw[k] = v
        return gaussian(**kw)
    declared = []
    for i, (n, it, b) in enumerate(parsed):
        if b is not None:
            raise TargetError(f"unexpected {b!r} in target spec {parts[i]!r}; parameters are key=value")
        declared.append(_class_target(n, {**it, **params}))
    return Target(spec, None, tuple(declared))


__all__ = [
    "Component",
    "Membership",
    "Mixture",
    "Target",
    "empirical",
    "gaussian",
    "gmm",
    "gmm_from_file",
    "target",
]
