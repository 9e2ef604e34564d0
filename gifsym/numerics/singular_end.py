r"""Refuse, with a clear error, a field evaluated from Python at a time where it is singular.

Where ``a_t = 0`` (t = 1 for every schedule with ``a₁ = 0``) the denoiser form
``v = (ȧ/a) x + (ḃ − ȧ b/a) m(t, x)`` divides by ``a_t``. For the empirical law (σ = 0) its limit is
infinite away from the data points (``m`` tends to the nearest point while ``ȧ/a`` blows up), and the
quadrature oracles divide by ``a_t`` too, so the compiled kernels would return NaN there. A kernel called
from Python is checked first; inside a trace (the solver's compiled program, which stops at ``1 − ε``,
see :mod:`gifsym.numerics.simulate`) ``t`` is a tracer and nothing is checked, so the kernel stays a
plain function that a :class:`jax.tree_util.Partial` can carry with its data.

Example:
    >>> guarded = guard_time(lambda t, x: x, lambda t: t == 1.0, "a test field")
    >>> guarded(0.5, 2.0)
    2.0
    >>> try:
    ...     guarded(1.0, 2.0)
    ... except NumericError as e:
    ...     print(str(e)[:40])
    a test field is singular at t = 1 (a_t =
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from gifsym.errors import NumericError


def concrete_time(tt) -> float | None:
    """``tt`` as a float when it is a concrete scalar (not a JAX tracer, not an array of times), else None."""
    import jax  # only gifsym.numerics imports JAX, and only when a field is called

    if isinstance(tt, jax.core.Tracer):
        return None
    a = np.asarray(tt)
    return float(a) if a.ndim == 0 and np.issubdtype(a.dtype, np.number) else None


def guard_time(fn: Callable, singular: Callable[[float], bool], what: str, *, lead: int = 0) -> Callable:
    """``fn`` that raises :class:`NumericError` when called from Python at a ``t`` where ``singular(t)``.

    Args:
        fn: the kernel, ``fn(*lead_args, t, x, ...)``.
        singular: ``singular(t) -> bool`` for a concrete float t.
        what: the field's name, for the message.
        lead: positional arguments before ``t`` (1 for a kernel bound to its data).
    """

    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        tt = concrete_time(args[lead]) if len(args) > lead else None
        if tt is not None and singular(tt):
            raise NumericError(
                f"{what} is singular at t = {tt:g} (a_t = 0): the velocity (ȧ/a) x + (ḃ − ȧ b/a) m(t, x) has no "
                "finite limit there (m tends to the data, ȧ/a blows up); evaluate it at t < 1, e.g. stop at "
                "t1 = 1 − eps (simulate does, with eps = 1e-3 by default)")
        return fn(*args, **kwargs)

    # A jitted kernel's ahead-of-time entry points (lower, trace, eval_shape) trace: nothing to check there.
    for name in ("lower", "trace", "eval_shape"):
        if hasattr(fn, name):
            setattr(guarded, name, getattr(fn, name))
    return guarded


__all__ = ["concrete_time", "guard_time"]
