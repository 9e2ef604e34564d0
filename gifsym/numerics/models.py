r"""A user's velocity model ``ṽ(t, x)`` (NumPy, JAX or torch callable), evaluated safely.

:func:`adapt` finds the model's backend by calling it once (a ``torch.nn.Module`` is torch; otherwise the
model is called with a NumPy array and its output says which: a JAX array, a torch tensor, or anything
NumPy turns into an array; a model that only accepts torch tensors is retried with one when torch is
loaded). The :class:`Model` it returns

* evaluates ``ṽ(t, x)`` for ``x`` of shape (n, d) in chunks, as a float64 NumPy array, and turns
  every way a model can fail (it raises, returns the wrong shape, returns NaN or ∞) into a
  :class:`~gifsym.errors.NumericError` naming the time and what was wrong;
* gives the Jacobians ``∇_x ṽ(t, x_i)`` at a batch of points from d Jacobian–vector products of the batch
  function with the tangent ``e_j`` on every row (``jax.jvp``; ``torch.func.jvp``; central differences for
  NumPy) — exact for JAX and torch, O(h²) for NumPy. Rows are assumed independent (a per-sample
  model; true for MLPs and for batch normalisation in evaluation mode);
* gives a JAX function of ``(t, x)`` for diffrax: the model itself when JAX can trace it, otherwise the
  model behind ``jax.pure_callback``.

Example:
    >>> import numpy as np
    >>> m = adapt(lambda t, x: -x * t, dim=2)
    >>> m.backend, m(0.5, np.ones((3, 2))).tolist()[0]
    ('numpy', [-0.5, -0.5])
    >>> bool(np.allclose(m.jacobians(0.5, np.ones((1, 2)))[0], -0.5 * np.eye(2)))  # −t I, central differences
    True
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from gifsym.errors import NumericError
from gifsym.numerics.fields import enable_x64
from gifsym.numerics.torch_models import TorchCall, detect_call

BACKENDS = ("numpy", "jax", "torch")
#: Rows per model call (bounds the memory of one call; a model may be a large network).
CHUNK = 65_536
#: Most Jacobian entries held at once (n·d² float64: 400 MB).
MAX_JACOBIAN_ENTRIES = 50_000_000
# Central differences: the step h = ε^{1/3}·max(1, |x_j|) balances truncation O(h²·|f'''|) against
# round-off O(ε|f|/h), leaving ~ε^{2/3} ≈ 4e-11 relative error for smooth models.
_FD_REL = float(np.finfo(np.float64).eps) ** (1 / 3)


def _torch():
    return sys.modules.get("torch")


def _is_torch_module(model) -> bool:
    torch = _torch()
    return torch is not None and isinstance(model, torch.nn.Module)


def _describe(model) -> str:
    name = getattr(model, "__qualname__", None) or getattr(model, "__name__", None) or type(model).__name__
    return f"model {name}"


@dataclass(frozen=True, eq=False)
class Model:
    """A velocity model with its backend, evaluated with checks (see the module docstring).

    Attributes:
        fn: the user's callable ``model(t, x)``.
        backend: ``"numpy"``, ``"jax"`` or ``"torch"``.
        dim: the state dimension d.
        name: how errors name the model.
        call: for a torch model, how it is called (argument order, t's shape, dtype, device), found by
            :func:`~gifsym.numerics.torch_models.detect_call`.
    """

    fn: Callable
    backend: str
    dim: int
    name: str
    call: TorchCall | None = None

    @property
    def calling(self) -> str:
        """One line: how the model is called (e.g. ``model(x, t), t of shape (n,), float32 on cpu``)."""
        if self.call is not None:
            return self.call.describe()
        return {"numpy": "model(t, x), t a Python float, x a NumPy array (n, d)",
                "jax": "model(t, x), t a Python float, x a JAX array (n, d)",
                "torch": "model(t, x), t a Python float, x a float64 tensor (n, d)"}[self.backend]

    # -- evaluation ------------------------------------------------------------------------------------

    def _raw(self, t: float, x: np.ndarray):
        if self.backend == "torch":
            torch = _torch()
            # One call per batch, inputs in the model's dtype on its device, no autograd graph; float64 back.
            out = self.call.evaluate(self.fn, t, self.call.tensor(x))
            return out.detach().to("cpu", torch.float64).numpy() if isinstance(out, torch.Tensor) else out
        if self.backend == "jax":  # a JAX model may use methods NumPy arrays lack (x.at[...])
            return self.fn(float(t), jnp.asarray(x))
        return self.fn(float(t), x)

    def _call(self, t: float, x: np.ndarray) -> np.ndarray:
        try:
            out = self._raw(t, x)
        except NumericError:
            raise
        except Exception as e:  # the user's code: any failure becomes one clear error
            raise NumericError(f"the {self.name} raised {type(e).__name__} at t = {t:g}: {e}") from e
        try:
            arr = np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise NumericError(f"the {self.name} returned {type(out).__name__}, not an array of numbers "
                               f"(at t = {t:g}): {e}") from None
        if arr.shape != x.shape:
            raise NumericError(f"the {self.name} returned shape {arr.shape} for x of shape {x.shape} at t = {t:g}; "
                               f"a velocity model maps (n, {self.dim}) to (n, {self.dim})")
        if not np.all(np.isfinite(arr)):
            bad = int(np.sum(~np.all(np.isfinite(arr), axis=1)))
            raise NumericError(f"the {self.name} returned non-finite values (NaN or inf) at t = {t:g} "
                               f"for {bad} of {len(arr)} points")
        return arr

    def __call__(self, t: float, x) -> np.ndarray:
        """``ṽ(t, x)``, (n, d) float64, checked (raises NumericError on any failure)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise NumericError(f"x must have shape (n, {self.dim}), got {x.shape}")
        if len(x) <= CHUNK:
            return self._call(t, x)
        return np.concatenate([self._call(t, x[i:i + CHUNK]) for i in range(0, len(x), CHUNK)])

    # -- Jacobians ---------------------------------------------------------------------------------------

    def jacobians(self, t: float, x) -> np.ndarray:
        """``∇_x ṽ(t, x_i)`` for every row, (n, d, d) (``[i, k, j] = ∂ṽ_k/∂x_j``).

        JAX and torch: d forward-mode Jacobian–vector products (a model their autodiff cannot trace falls
        back to central differences); NumPy: central differences.
        """
        x = np.asarray(x, dtype=np.float64)
        n, d = x.shape
        if n * d * d > MAX_JACOBIAN_ENTRIES:
            raise NumericError(f"{n} Jacobians of size {d}×{d} exceed {MAX_JACOBIAN_ENTRIES} entries; use fewer "
                               "Lipschitz samples")
        self(t, x)  # fails clearly (shape, NaN, raises) before any autodiff
        if self.backend == "jax":
            try:
                return self._jacobians_jax(t, x)
            except NumericError:
                raise
            except Exception:  # not traceable (e.g. calls NumPy on its input): differences below
                pass
        elif self.backend == "torch":
            try:
                return self._jacobians_torch(t, x)
            except NumericError:
                raise
            except Exception:
                pass
        return self._jacobians_fd(t, x)

    def jacobian_method(self) -> str:
        return {"jax": "jax.jvp", "torch": "torch.func.jvp", "numpy": "central differences"}[self.backend]

    def _jacobians_jax(self, t, x):
        f = lambda y: jnp.asarray(self.fn(float(t), y), dtype=jnp.float64)
        xj = jnp.asarray(x)
        cols = [np.asarray(jax.jvp(f, (xj,), (jnp.zeros_like(xj).at[:, j].set(1.0),))[1])
                for j in range(x.shape[1])]
        J = np.stack(cols, axis=2)
        if not np.all(np.isfinite(J)):
            raise NumericError(f"the {self.name}'s Jacobian is not finite at t = {t:g}")
        return J

    def _jacobians_torch(self, t, x):
        torch = _torch()
        from torch.func import jvp

        xt = self.call.tensor(x)
        cols = []
        for j in range(x.shape[1]):  # d batched products, one per input direction (not per sample)
            e = torch.zeros_like(xt)
            e[:, j] = 1.0
            _, col = jvp(lambda y: self.fn(*self.call.arguments(t, y)), (xt,), (e,))
            cols.append(col.detach().to("cpu", torch.float64).numpy())
        J = np.stack(cols, axis=2)
        if not np.all(np.isfinite(J)):
            raise NumericError(f"the {self.name}'s Jacobian is not finite at t = {t:g}")
        return J

    def _jacobians_fd(self, t, x):
        n, d = x.shape
        J = np.empty((n, d, d))
        for j in range(d):
            h = _FD_REL * np.maximum(1.0, np.abs(x[:, j]))
            xp, xm = x.copy(), x.copy()
            xp[:, j] += h
            xm[:, j] -= h
            J[:, :, j] = (self(t, xp) - self(t, xm)) / (2 * h)[:, None]
        return J

    # -- a JAX field for diffrax ---------------------------------------------------------------------------

    def jax_field(self) -> Callable:
        """A JAX function ``(t, x) -> ṽ(t, x)`` (float64) that diffrax can integrate."""
        if self.backend == "jax":
            f = lambda tt, y: jnp.asarray(self.fn(tt, y), dtype=jnp.float64)
            try:
                jax.eval_shape(f, jnp.float64(0.5), jax.ShapeDtypeStruct((2, self.dim), jnp.float64))
                return f
            except Exception:  # not traceable with a traced t: go through a callback
                pass

        def host(tt, y):
            return self(float(tt), np.asarray(y))

        def f(tt, y):
            return jax.pure_callback(host, jax.ShapeDtypeStruct(y.shape, jnp.float64), tt, y)

        return f


def _probe(dim: int) -> np.ndarray:
    # A few fixed, distinct points: enough to see a model's output type and shape.
    return np.linspace(-1.0, 1.0, 3 * dim).reshape(3, dim)


def _torch_model(model, dim: int, name: str, call) -> Model:
    """A torch model with its calling convention probed (raises NumericError naming what was tried)."""
    return Model(model, "torch", dim, name, detect_call(model, dim=dim, call=call))


def adapt(model, *, dim: int, backend: str | None = None, call: str | tuple[str, str] | None = None) -> Model:
    """Wrap a user's velocity model (see the module docstring for how the backend is found).

    NumPy and JAX models are called ``model(t, x)``. A torch model (an ``nn.Module``, or a callable that
    takes or returns tensors) may be called ``model(t, x)``, ``model(x, t)`` or ``model(torch.cat([x, t], -1))``
    with t a float, a 0-d tensor, or of shape (n,) or (n, 1): the convention is found by probing
    (:func:`~gifsym.numerics.torch_models.detect_call`) and stated in :attr:`Model.calling`. An ``nn.Module``
    in training mode is switched to evaluation mode (dropout off, batch normalisation from its running
    statistics), since a certificate is about the model as it samples.

    Args:
        model: the callable.
        dim: the flow's dimension d.
        backend: force ``"numpy"``, ``"jax"`` or ``"torch"`` instead of detecting it.
        call: a torch model's argument order (``"t, x"``, ``"x, t"``, ``"concat"``) or ``(order, t form)``,
            where probing cannot tell.

    Raises:
        NumericError: not callable, an unknown backend, torch asked but not installed, or the probe call
            fails (the model raises, or returns the wrong shape or non-finite values, or is ambiguous).
    """
    enable_x64()
    if isinstance(model, Model):
        return model
    if not callable(model):
        raise NumericError(f"the model must be a callable model(t, x), got {type(model).__name__}")
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise NumericError(f"dim must be a positive integer, got {dim!r}")
    name = _describe(model)
    x = _probe(dim)
    if backend is not None:
        if backend not in BACKENDS:
            raise NumericError(f"unknown backend {backend!r}; accepted: {', '.join(BACKENDS)}")
        if backend == "torch" and _torch() is None:
            try:
                importlib.import_module("torch")  # into sys.modules, where _torch() finds it
            except ImportError:
                raise NumericError("backend 'torch' needs PyTorch installed") from None
        m = _torch_model(model, dim, name, call) if backend == "torch" else Model(model, backend, dim, name)
        m(0.5, x)
        return m
    if _is_torch_module(model):
        if model.training:
            model.eval()
        m = _torch_model(model, dim, name, call)
        m(0.5, x)
        return m
    if call is not None:  # only torch models have conventions to choose from
        m = _torch_model(model, dim, name, call)
        m(0.5, x)
        return m
    try:
        out = model(0.5, x)
    except Exception as first:
        # Perhaps a function of JAX arrays or of torch tensors only: try those before reporting the failure.
        with contextlib.suppress(NumericError):
            m = Model(model, "jax", dim, name)
            m(0.5, x)
            return m
        if _torch() is not None:
            try:
                m = _torch_model(model, dim, name, None)
                m(0.5, x)
                return m
            except NumericError as e:
                if isinstance(first, TypeError):  # a signature problem: the torch probe says more
                    raise NumericError(f"the {name} raised {type(first).__name__} at t = 0.5 on a NumPy array: "
                                       f"{first}; as a torch model: {e}") from first
        raise NumericError(f"the {name} raised {type(first).__name__} at t = 0.5: {first}") from first
    torch = _torch()
    if isinstance(out, jax.Array):
        m = Model(model, "jax", dim, name)
    elif torch is not None and isinstance(out, torch.Tensor):
        m = _torch_model(model, dim, name, None)
    else:
        m = Model(model, "numpy", dim, name)
    m(0.5, x)
    return m


def op_norms(J: np.ndarray, *, one_sided: bool = False) -> np.ndarray:
    """Per point ``‖J‖₂`` (largest singular value), or with ``one_sided`` the largest eigenvalue of the
    symmetric part ``(J + Jᵀ)/2`` (the logarithmic norm).

    Example:
        >>> J = np.array([[[0.0, 2.0], [0.0, -1.0]]])
        >>> round(float(op_norms(J)[0]), 6), round(float(op_norms(J, one_sided=True)[0]), 6)
        (2.236068, 0.618034)
    """
    if one_sided:
        return np.linalg.eigvalsh(0.5 * (J + np.swapaxes(J, 1, 2)))[:, -1]
    return np.linalg.norm(J, ord=2, axis=(1, 2))


__all__ = ["BACKENDS", "Model", "adapt", "op_norms"]
