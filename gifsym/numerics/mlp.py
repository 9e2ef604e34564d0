r"""A velocity model given by its weights: a multilayer perceptron, and a certified bound on its
Lipschitz constant in x.

The model is ``ṽ(t, x) = W_L σ(⋯ σ(W_1 [x; φ(t)] + b_1) ⋯) + b_L`` with input the state ``x`` (d
coordinates) followed by time features ``φ(t) = (t, sin 2πkt, cos 2πkt for k = 1..K)`` (``K =
time_features``). For a fixed t the time features only shift the first bias, so

.. math::

    \operatorname{Lip}_x \tilde v(t, \cdot) \le \|W_1[:, :d]\|_2 \prod_{l \ge 2} \|W_l\|_2
    \cdot \operatorname{Lip}(\sigma)^{L-1},

the same for every t. Each spectral norm ``‖W‖₂ = λ_max(W Wᵀ)^{1/2}`` is enclosed rigorously with
python-flint: the Gram matrix is formed in ball arithmetic from the exact float64 weights, and its
eigenvalues are enclosed by ``acb_mat.eig`` (Arb's verified eigenvalue enclosures); should the eigenvalues
not be isolated, the Gershgorin bound ``λ_max ≤ max_i Σ_j |G_ij|`` (in ball arithmetic) is used. The product
is taken in ball arithmetic too, and the upper end of its enclosure is returned: a ``certified`` constant.
The activation constants are exact: 1 for tanh, ReLU, softplus and the identity, 1/4 for the logistic
sigmoid (their derivatives are bounded by these and attain them or tend to them).

Example:
    >>> import numpy as np
    >>> m = MLPVelocity((np.array([[2.0, 0.0, 1.0], [0.0, 1.0, 0.0]]),), (np.zeros(2),))
    >>> np.asarray(m(0.5, np.array([[1.0, 1.0]])))  # W [x; t] = (2·1 + 0.5, 1)
    array([[2.5, 1. ]])
    >>> b = m.lipschitz_bound()
    >>> b.kind, round(b.value, 12)  # ‖diag(2, 1)‖₂ = 2 (the t column does not count)
    ('certified', 2.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from gifsym.errors import NumericError
from gifsym.numerics.fields import enable_x64

#: Activations with their (exact) Lipschitz constants.
ACTIVATIONS = {
    "tanh": (jnp.tanh, 1.0),
    "relu": (jax.nn.relu, 1.0),
    "softplus": (jax.nn.softplus, 1.0),
    "sigmoid": (jax.nn.sigmoid, 0.25),
    "identity": (lambda z: z, 1.0),
}
# Working precision of the ball arithmetic (bits): the enclosures come out ~1e-18 relative, far below
# anything that matters, at no measurable cost for matrices of a few hundred rows.
_PREC = 64


@dataclass(frozen=True)
class LayerNormBound:
    """A certified Lipschitz constant of an MLP in x.

    Attributes:
        value: the upper end of the enclosure of ``Π ‖W_l‖₂ · Lip(σ)^{L−1}`` (a float ≥ the true product).
        enclosure: ``[lo, hi]`` enclosing that product (``hi == value``).
        layer_norms: upper bounds on each layer's spectral norm (the first restricted to the x columns).
        activation: the activation's name; ``activation_lipschitz`` its constant.
        method: how each norm was enclosed.
        kind: ``"certified"``.
    """

    value: float
    enclosure: tuple[float, float]
    layer_norms: tuple[float, ...]
    activation: str
    activation_lipschitz: float
    method: str
    kind: str = "certified"

    def to_dict(self) -> dict:
        return {"value": self.value, "kind": self.kind, "enclosure": list(self.enclosure),
                "layer_norms": list(self.layer_norms), "activation": self.activation,
                "activation_lipschitz": self.activation_lipschitz, "method": self.method}


def _upper(x) -> float:
    """A float ≥ every real in the ball ``x``: mid + rad rounded to floats (each rounding at most half an
    ulp low) and widened by 1e-15 relative, more than the two roundings can lose (2.2e-16 each)."""
    v = float(x.mid()) + float(x.rad())
    return v + abs(v) * 1e-15 + 1e-300


def _lower(x) -> float:
    v = float(x.mid()) - float(x.rad())
    return v - abs(v) * 1e-15 - 1e-300


def spectral_norm_ball(w: np.ndarray):
    """An Arb ball enclosing ``‖w‖₂`` and the method used (``eig`` or ``gershgorin``).

    Example:
        >>> import numpy as np
        >>> ball, how = spectral_norm_ball(np.array([[3.0, 0.0], [0.0, -4.0]]))
        >>> how, _lower(ball) <= 4.0 <= _upper(ball)
        ('eig', True)
    """
    import flint

    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 2 or w.size == 0 or not np.all(np.isfinite(w)):
        raise NumericError(f"a layer's weight must be a finite non-empty matrix, got shape {w.shape}")
    if w.shape[0] > w.shape[1]:  # the smaller Gram matrix has the same largest eigenvalue
        w = w.T
    old = flint.ctx.prec
    flint.ctx.prec = _PREC
    try:
        a = flint.arb_mat(w.tolist())  # float64 → arb is exact
        g = a * a.transpose()
        try:
            eig = g.eig(multiple=True)
            lam = eig[0].real
            for e in eig[1:]:
                lam = lam.max(e.real)  # ball enclosing the max of the enclosed values
            how = "eig"
        except ValueError:  # eigenvalues not isolated at this precision: Gershgorin in ball arithmetic
            rows = [sum((abs(g[i, j]) for j in range(g.ncols())), flint.arb(0)) for i in range(g.nrows())]
            lam = rows[0]
            for r in rows[1:]:
                lam = lam.max(r)
            lam = flint.arb(0).union(lam)  # Gershgorin gives an upper bound only: [0, bound]
            how = "gershgorin"
        lam = lam.nonnegative_part()
        return lam.sqrt(), how
    finally:
        flint.ctx.prec = old


@dataclass(frozen=True, eq=False)
class MLPVelocity:
    """A velocity model ``ṽ(t, x)`` given as MLP weights (see the module docstring for the input layout).

    Args:
        weights: per layer an (out, in) matrix (the layout of ``equinox.nn.Linear``); the first has
            ``d + 1 + 2K`` columns, the last ``d`` rows.
        biases: per layer a vector of length out.
        activation: one of :data:`ACTIVATIONS`, applied after every layer but the last.
        time_features: K, the number of Fourier frequencies in φ(t) (0: the input is ``[x, t]``).
    """

    weights: tuple
    biases: tuple
    activation: str = "tanh"
    time_features: int = 0

    def __post_init__(self) -> None:
        enable_x64()
        if self.activation not in ACTIVATIONS:
            raise NumericError(f"unknown activation {self.activation!r}; accepted: {', '.join(ACTIVATIONS)}")
        if isinstance(self.time_features, bool) or not isinstance(self.time_features, int) or self.time_features < 0:
            raise NumericError(f"time_features must be a non-negative integer, got {self.time_features!r}")
        ws = tuple(np.asarray(w, dtype=np.float64) for w in self.weights)
        bs = tuple(np.asarray(b, dtype=np.float64) for b in self.biases)
        if not ws or len(ws) != len(bs):
            raise NumericError(f"need as many bias vectors as weight matrices (≥ 1), got {len(ws)} and {len(bs)}")
        for i, (w, b) in enumerate(zip(ws, bs)):
            if w.ndim != 2 or b.shape != (w.shape[0],):
                raise NumericError(f"layer {i}: weight {w.shape} and bias {b.shape} do not fit (want (out, in), (out,))")
            if i and w.shape[1] != ws[i - 1].shape[0]:
                raise NumericError(f"layer {i} takes {w.shape[1]} inputs but layer {i - 1} gives {ws[i - 1].shape[0]}")
            if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
                raise NumericError(f"layer {i} has non-finite weights")
        d = ws[0].shape[1] - self.n_time_inputs
        if d < 1 or ws[-1].shape[0] != d:
            raise NumericError(f"the MLP maps {ws[0].shape[1]} inputs to {ws[-1].shape[0]} outputs; a velocity "
                               f"model with {self.n_time_inputs} time inputs needs d + {self.n_time_inputs} → d")
        object.__setattr__(self, "weights", ws)
        object.__setattr__(self, "biases", bs)

    @property
    def n_time_inputs(self) -> int:
        return 1 + 2 * self.time_features

    @property
    def dim(self) -> int:
        """The state dimension d."""
        return self.weights[-1].shape[0]

    def features(self, t, n: int):
        """φ(t) repeated for n rows, (n, 1 + 2K)."""
        t = jnp.asarray(t, dtype=jnp.float64)
        k = jnp.arange(1, self.time_features + 1, dtype=jnp.float64)
        phi = jnp.concatenate([t[None], jnp.sin(2 * jnp.pi * k * t), jnp.cos(2 * jnp.pi * k * t)])
        return jnp.broadcast_to(phi, (n, phi.shape[0]))

    def __call__(self, t, x):
        """ṽ(t, x) for x of shape (n, d): a JAX array (traceable: jit, jvp and diffrax work on it)."""
        x = jnp.asarray(x, dtype=jnp.float64)
        act = ACTIVATIONS[self.activation][0]
        h = jnp.concatenate([x, self.features(t, x.shape[0])], axis=1)
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = h @ w.T + b
            if i < len(self.weights) - 1:
                h = act(h)
        return h

    def lipschitz_bound(self) -> LayerNormBound:
        """The certified bound ``‖W_1[:, :d]‖₂ Π_{l≥2} ‖W_l‖₂ Lip(σ)^{L−1}`` on ``Lip_x ṽ(t, ·)`` (every t)."""
        import flint

        old = flint.ctx.prec
        flint.ctx.prec = _PREC
        try:
            balls, hows = [], set()
            for i, w in enumerate(self.weights):
                ball, how = spectral_norm_ball(w[:, : self.dim] if i == 0 else w)
                balls.append(ball)
                hows.add(how)
            lip_act = ACTIVATIONS[self.activation][1]
            prod = flint.arb(lip_act) ** (len(self.weights) - 1)  # 1 or 1/4: exact in binary
            for b in balls:
                prod = prod * b
        finally:
            flint.ctx.prec = old
        method = ("product of layer spectral norms, each enclosed by "
                  + ("Arb's verified eigenvalues of W Wᵀ" if hows == {"eig"} else "Arb eigenvalues / Gershgorin")
                  + f", times Lip({self.activation})^{len(self.weights) - 1}")
        hi = _upper(prod)
        return LayerNormBound(hi, (max(_lower(prod), 0.0), hi), tuple(_upper(b) for b in balls), self.activation,
                              lip_act, method)

    @classmethod
    def from_equinox(cls, mlp, *, time_features: int = 0) -> MLPVelocity:
        """Read an ``equinox.nn.MLP`` (input ``[x, φ(t)]``, identity final activation).

        Raises:
            NumericError: an activation outside :data:`ACTIVATIONS` or a non-identity final activation.
        """
        layers = getattr(mlp, "layers", None)
        if layers is None:
            raise NumericError(f"expected an equinox.nn.MLP, got {type(mlp).__name__}")
        name = next((k for k, (f, _) in ACTIVATIONS.items() if mlp.activation is f or mlp.activation == f), None)
        if name is None:
            raise NumericError(f"the MLP's activation {mlp.activation!r} has no certified constant here; accepted: "
                               f"{', '.join(ACTIVATIONS)} (or certify with lipschitz='estimate')")
        probe = jnp.array([-3.0, -0.5, 0.0, 0.7, 5.0])
        if not np.array_equal(np.asarray(mlp.final_activation(probe)), np.asarray(probe)):
            raise NumericError("the MLP's final activation is not the identity; a velocity model outputs W_L h + b_L")
        ws = [np.asarray(layer.weight) for layer in layers]
        bs = [np.zeros(w.shape[0]) if layer.bias is None else np.asarray(layer.bias) for w, layer in zip(ws, layers)]
        return cls(tuple(ws), tuple(bs), activation=name, time_features=time_features)


__all__ = ["ACTIVATIONS", "LayerNormBound", "MLPVelocity", "spectral_norm_ball"]
