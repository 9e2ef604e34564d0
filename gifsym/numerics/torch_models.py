r"""How a torch velocity model wants to be called, found by probing it with a small batch.

Peers write velocity networks with different signatures, and gifsym's own convention is ``model(t, x)``:

* facebookresearch/flow_matching: ``ModelWrapper.forward(x, t, **extras)``; training calls it with ``t`` of
  shape (n,), its ``ODESolver`` with a 0-d tensor;
* atong01/conditional-flow-matching (torchcfm): ``MLP(dim, time_varying=True)`` takes one tensor
  ``torch.cat([x, t[:, None]], -1)`` of shape (n, d + 1); its ``torch_wrapper.forward(t, x)`` takes a 0-d ``t``;
* many hand-written modules: ``forward(t, x)`` or ``forward(x, t)`` with ``t`` of shape (n,), (n, 1) or a
  Python float.

:func:`detect_call` tries each of these conventions (:data:`CONVENTIONS`) on ``n = d + 2`` fixed points (n is
neither d nor d + 1, so a ``t`` of shape (n,) can never broadcast silently against ``x``). A convention
*works* when the call returns a tensor of shape (n, d) with finite values. The conventions that work are
grouped by argument order; when the orders that work give different values the model's parameter names
decide (``forward(self, x, t)``), and otherwise the call is ambiguous and refused, naming what was tried.
Inputs are made with the model's dtype and on its device (those of its first floating parameter or buffer;
float64 on the CPU for a callable without parameters, float32 if only that works).

Example:
    >>> import torch
    >>> class V(torch.nn.Module):
    ...     def forward(self, x, t):
    ...         return -x * t[:, None]
    >>> call = detect_call(V(), dim=2)
    >>> call.describe()
    'model(x, t), t of shape (n,), float64 on cpu'
    >>> call.evaluate(V(), 0.5, torch.ones(3, 2, dtype=torch.float64)).tolist()[0]
    [-0.5, -0.5]
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gifsym.errors import NumericError

#: Argument orders: gifsym's ``model(t, x)``, flow_matching's ``model(x, t)``, torchcfm's one concatenated input.
ORDERS = ("t, x", "x, t", "concat")
#: How ``t`` is passed, in order of preference: shape (n,) (how peers train), a Python float (gifsym's own
#: convention), a 0-d tensor (how ODE solvers call), shape (n, 1).
T_FORMS = ("(n,)", "float", "0-d tensor", "(n, 1)")
#: Every convention tried, in order of preference (the first that works in the chosen order is used).
CONVENTIONS = tuple((o, f) for o in ("t, x", "x, t") for f in T_FORMS) + (("concat", "(n, 1)"),)
_T_TEXT = {"(n,)": "of shape (n,)", "float": "a Python float", "0-d tensor": "a 0-d tensor", "(n, 1)": "of shape (n, 1)"}
# Parameter names that say "time" or "state" (to break a tie between argument orders).
_TIME_NAMES = {"t", "time", "times", "timestep", "timesteps", "tau", "s", "sigma"}
_STATE_NAMES = {"x", "xt", "x_t", "y", "z", "sample", "state", "inputs", "input", "h"}
# Two conventions give "the same values" within this relative tolerance: float32 models round at 6e-8, and
# a different t shape may change the order of float32 operations (a few ulps of each layer).
_SAME_RTOL = 1e-4


def _torch():
    return sys.modules.get("torch")


@dataclass(frozen=True)
class TorchCall:
    """One calling convention of a torch model.

    Attributes:
        order: ``"t, x"``, ``"x, t"`` or ``"concat"`` (see :data:`ORDERS`).
        t_form: how t is passed (see :data:`T_FORMS`); ``"(n, 1)"`` for ``concat`` (the column appended to x).
        dtype: the input dtype (``"float32"``, ``"float64"``, …).
        device: the device the inputs are made on (``"cpu"``, ``"cuda:0"``, …).
        reason: how the convention was chosen (one line).
    """

    order: str
    t_form: str
    dtype: str
    device: str
    reason: str = ""

    def describe(self) -> str:
        """One line: how the model is called."""
        if self.order == "concat":
            head = "model(torch.cat([x, t], -1)), t a column of shape (n, 1)"
        else:
            head = f"model({self.order}), t {_T_TEXT[self.t_form]}"
        return f"{head}, {self.dtype} on {self.device}"

    def _torch_dtype(self):
        return getattr(_torch(), self.dtype)

    def arguments(self, t: float, x) -> tuple:
        """The positional arguments for time ``t`` and the batch ``x`` (a tensor of the model's dtype and device)."""
        torch = _torch()
        n = x.shape[0]
        if self.t_form == "float":
            tt = float(t)
        elif self.t_form == "0-d tensor":
            tt = torch.tensor(float(t), dtype=x.dtype, device=x.device)
        elif self.t_form == "(n,)":
            tt = torch.full((n,), float(t), dtype=x.dtype, device=x.device)
        else:
            tt = torch.full((n, 1), float(t), dtype=x.dtype, device=x.device)
        if self.order == "concat":
            return (torch.cat([x, tt], dim=-1),)
        return (tt, x) if self.order == "t, x" else (x, tt)

    def tensor(self, x: np.ndarray):
        """``x`` as a tensor of the model's dtype on its device."""
        torch = _torch()
        return torch.as_tensor(np.asarray(x), dtype=self._torch_dtype(), device=self.device)

    def evaluate(self, fn: Callable, t: float, x):
        """``fn`` at time t on the tensor x, without building an autograd graph (``torch.inference_mode``)."""
        with _torch().inference_mode():
            return fn(*self.arguments(t, x))


def device_and_dtype(fn) -> tuple[str, str] | None:
    """The device and dtype of a module's first floating parameter or buffer (None when it has none)."""
    torch = _torch()
    if torch is None or not isinstance(fn, torch.nn.Module):
        return None
    for p in (*fn.parameters(), *fn.buffers()):
        if p.is_floating_point():
            return str(p.device), str(p.dtype).removeprefix("torch.")
    return None


def _order_from_names(fn) -> str | None:
    """``"t, x"`` or ``"x, t"`` when the first two parameter names of the call say which, else None."""
    target = fn.forward if hasattr(fn, "forward") and _torch() and isinstance(fn, _torch().nn.Module) else fn
    try:
        params = [p.name for p in inspect.signature(target).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return None
    if len(params) < 2:
        return None
    a, b = params[0].lower(), params[1].lower()
    if a in _TIME_NAMES and b in _STATE_NAMES:
        return "t, x"
    if a in _STATE_NAMES and b in _TIME_NAMES:
        return "x, t"
    return None


def _probe_points(dim: int) -> np.ndarray:
    # n = d + 2 distinct rows: a t of shape (n,) cannot broadcast against x of shape (n, d) or (n, d + 1).
    n = dim + 2
    return np.linspace(-1.0, 1.0, n * dim).reshape(n, dim) + 0.1 * np.arange(n)[:, None]


_PROBE_T = 0.37  # not 0, ½ or 1, where a schedule may be symmetric or singular


def _try(fn, call: TorchCall, x: np.ndarray):
    """The model's output as float64 NumPy, or the reason it does not work."""
    torch = _torch()
    try:
        out = call.evaluate(fn, _PROBE_T, call.tensor(x))
    except Exception as e:  # the user's code: any failure means "not this convention"
        return f"raised {type(e).__name__}: {str(e).splitlines()[0][:100] if str(e) else ''}".rstrip(": ")
    if not isinstance(out, torch.Tensor):
        return f"returned {type(out).__name__}, not a tensor"
    if tuple(out.shape) != x.shape:
        return f"returned shape {tuple(out.shape)}, expected {x.shape}"
    arr = out.detach().to("cpu", torch.float64).numpy()
    if not np.all(np.isfinite(arr)):
        return "returned non-finite values"
    return arr


def detect_call(fn, *, dim: int, call: tuple[str, str] | str | None = None) -> TorchCall:
    """Find how to call the torch model ``fn`` (see the module docstring).

    Args:
        fn: a ``torch.nn.Module`` or any callable of torch tensors.
        dim: the state dimension d.
        call: force an argument order (``"t, x"``, ``"x, t"``, ``"concat"``) or an ``(order, t_form)`` pair;
            the probe still checks that it works.

    Raises:
        NumericError: no convention works (each one tried is named with what went wrong), or two argument
            orders work with different values and the parameter names do not say which is meant.
    """
    torch = _torch()
    if torch is None:
        raise NumericError("a torch model needs PyTorch installed")
    x = _probe_points(dim)
    wanted = CONVENTIONS
    if call is not None:
        pair = (call, None) if isinstance(call, str) else tuple(call)
        if pair[0] not in ORDERS or (pair[1] is not None and pair[1] not in T_FORMS):
            raise NumericError(f"call must be one of {', '.join(ORDERS)} (or an (order, t form) pair with t form one "
                               f"of {', '.join(T_FORMS)}), got {call!r}")
        wanted = tuple(c for c in CONVENTIONS if c[0] == pair[0] and (pair[1] is None or c[1] == pair[1]))
        if pair[0] == "concat" and pair[1] not in (None, "(n, 1)"):
            wanted = ()
    found = device_and_dtype(fn)
    placements = [found] if found else [("cpu", "float64"), ("cpu", "float32")]
    failures: dict[str, list[str]] = {}  # what went wrong -> the conventions it went wrong for
    for device, dtype in placements:
        works: dict[tuple[str, str], np.ndarray] = {}
        for order, form in wanted:
            c = TorchCall(order, form, dtype, device)
            got = _try(fn, c, x)
            if isinstance(got, str):
                label = c.describe().rsplit(",", 1)[0]
                if label not in failures.setdefault(got, []):
                    failures[got].append(label)
            else:
                works[(order, form)] = got
        if works:
            return _choose(fn, works, dtype, device, x.shape)
    tried = "; ".join(f"{' | '.join(labels)}: {why}" for why, labels in failures.items())
    where = " and ".join(f"{dt} on {dev}" for dev, dt in placements)
    raise NumericError(f"cannot call the torch model {_name(fn)} on a batch x of shape {x.shape} ({where}); tried "
                       f"{tried}. Wrap it as a function model(t, x) of a Python float t and a tensor x of shape "
                       "(n, d) returning (n, d)")


def _choose(fn, works: dict, dtype: str, device: str, shape) -> TorchCall:
    orders: dict[str, list[tuple[str, np.ndarray]]] = {}
    for (order, form), val in works.items():
        orders.setdefault(order, []).append((form, val))

    def same(a, b):
        return np.allclose(a, b, rtol=_SAME_RTOL, atol=_SAME_RTOL * max(1.0, float(np.max(np.abs(b)))))

    for order, forms in orders.items():
        ref_form, ref = forms[0]
        for form, val in forms[1:]:
            if not same(val, ref):
                raise NumericError(f"the torch model {_name(fn)} gives different values as model({order}) with t "
                                   f"{_T_TEXT[ref_form]} and with t {_T_TEXT[form]}: it reads t's shape in a way gifsym cannot "
                                   "tell; wrap it as model(t, x) with a Python float t")
    distinct = []
    for order, forms in orders.items():
        if not any(same(forms[0][1], orders[o][0][1]) for o in distinct):
            distinct.append(order)
    order, reason = distinct[0], "probed"
    if len(distinct) > 1:
        named = _order_from_names(fn)
        if named is None or named not in distinct:
            listing = ", ".join(f"model({o})" if o != "concat" else "model(torch.cat([x, t], -1))" for o in distinct)
            raise NumericError(f"the torch model {_name(fn)} accepts a batch of shape {shape} as {listing}, with "
                               "different values, and its parameter names do not say which is meant; wrap it "
                               "(e.g. lambda t, x: model(x, t)) or pass call= to gifsym.numerics.models.adapt")
        order, reason = named, "probed; argument order from the parameter names"
    form = orders[order][0][0]
    others = [f"t {_T_TEXT[f]}" for f, _ in orders[order][1:]]
    if others:
        reason += " (also works with " + ", ".join(others) + ", same values)"
    return TorchCall(order, form, dtype, device, reason)


def _name(fn) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__


__all__ = ["CONVENTIONS", "ORDERS", "T_FORMS", "TorchCall", "detect_call", "device_and_dtype"]
