"""Figures with matplotlib (Agg backend): bounds against time, bound against observed worst case, sample
paths, and the lemma graph.

Every function writes one file whose format follows its extension (``.png``, ``.svg``, ``.pdf``),
atomically (:func:`gifsym.io.atomic_path`), and returns the path. Expressions are evaluated with NumPy
(``sympy.lambdify``); only :func:`plot_trajectories` (which simulates) and :func:`plot_verify` when given
a flow rather than a report touch JAX.

Example:
    >>> import os, tempfile
    >>> from gifsym import schedule, target
    >>> path = os.path.join(tempfile.mkdtemp(), "theta.png")
    >>> plot_bounds([schedule("linear")], target("gaussian:sigma=0.5"), path, points=20) == path
    True
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from gifsym import theory
from gifsym.errors import GifsymError
from gifsym.io import atomic_path
from gifsym.symbolic.flow import Flow
from gifsym.symbolic.schedule import schedule as make_schedule
from gifsym.symbolic.schedule import t
from gifsym.symbolic.target import target as make_target
from gifsym.theory import lemmas

#: Extensions matplotlib writes for us, and the format each means.
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}

# Values beyond this are drawn as "blown up": a_t -> 0 makes some bounds grow like 1/(1 - t)^k.
_HUGE = 1e12


def check_format(path: str | os.PathLike, *, formats: Sequence[str] = tuple(FORMATS)) -> str:
    """The output format of ``path`` from its extension, or a :class:`GifsymError` naming the accepted ones.

    Example:
        >>> check_format("fig.svg")
        'svg'
    """
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in formats:
        raise GifsymError(
            f"cannot write {os.fspath(path)!r}: unknown extension {ext or '(none)'!r}; "
            f"accepted: {', '.join(formats)}"
        )
    return ext[1:]


def _pyplot():
    # Import (and pick the non-interactive backend) on first use, never at gifsym import time.
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | os.PathLike) -> str:
    """Save a matplotlib figure atomically in the format of ``path``'s extension, and close it."""
    fmt = check_format(path)
    plt = _pyplot()
    import matplotlib

    try:
        with atomic_path(path) as tmp:
            # Fixed metadata so that the same figure gives the same bytes (reproducible derivations).
            meta = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
            # A fixed SVG hash salt: otherwise element ids are random and every run differs.
            with matplotlib.rc_context({"svg.hashsalt": "gifsym"}):
                fig.savefig(
                    tmp, format=fmt, bbox_inches="tight", metadata=meta, dpi=150 if fmt == "png" else None
                )
    finally:
        plt.close(fig)
    return os.fspath(path)


def numeric_function(expr: Any, *, name: str = "expression") -> Callable[[np.ndarray], np.ndarray]:
    """A NumPy function of t for a SymPy expression in t (constants broadcast; ``None`` gives NaN).

    Values that are not finite reals come out as NaN, so a curve simply stops where its expression does.

    Raises:
        GifsymError: the expression has free symbols other than t (give numeric parameters to plot).

    Example:
        >>> from gifsym import t
        >>> numeric_function(1 / (1 - t))(np.array([0.0, 0.5]))
        array([1., 2.])
    """
    if expr is None:
        return lambda ts: np.full_like(np.asarray(ts, dtype=float), np.nan)
    if not isinstance(expr, sympy.Basic):
        value = float(expr)
        return lambda ts: np.full_like(np.asarray(ts, dtype=float), value)
    extra = expr.free_symbols - {t}
    if extra:
        names = ", ".join(sorted(str(s) for s in extra))
        raise GifsymError(
            f"cannot plot the {name}: it depends on the symbolic parameter(s) {names}; "
            "give them values (e.g. slc:kappa=2)"
        )
    f = sympy.lambdify(t, expr, modules=["numpy"])

    def evaluate(ts: np.ndarray) -> np.ndarray:
        ts = np.asarray(ts, dtype=float)
        with np.errstate(all="ignore"):
            try:
                out = np.asarray(f(ts), dtype=complex)
            except (TypeError, ValueError, ZeroDivisionError, OverflowError):
                # Piecewise / Min / Max of mixed branches can refuse arrays: go point by point.
                out = np.array([_point(f, x) for x in ts], dtype=complex)
        out = np.broadcast_to(out, ts.shape).copy()
        real = np.where(np.abs(out.imag) <= 1e-12 * np.maximum(1.0, np.abs(out.real)), out.real, np.nan)
        return np.where(np.isfinite(real), real, np.nan)

    return evaluate


def _point(f: Callable, x: float) -> complex:
    try:
        return complex(f(x))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return complex(np.nan)


def time_grid(*, points: int = 400, t_min: float = 0.0, t_max: float = 1.0, eps: float = 1e-3) -> np.ndarray:
    """Times for a bound plot: uniform, denser near t = 1 (where a_t -> 0), stopping ``eps`` short of 1.

    Example:
        >>> g = time_grid(points=5)
        >>> float(g[0]), bool(g[-1] < 1)
        (0.0, True)
    """
    hi = min(t_max, 1 - eps)
    u = np.linspace(0.0, 1.0, points)
    # 1 - (1 - u)^2 puts half of the points in the last quarter of the interval.
    return t_min + (hi - t_min) * (1 - (1 - u) ** 2)


@dataclass(frozen=True)
class BoundCurves:
    """Bound curves of one flow on a time grid (NaN where a bound does not hold or is not finite)."""

    label: str
    t: np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    lipschitz: np.ndarray


def _within(ts: np.ndarray, interval: Any) -> np.ndarray:
    """Mask of the times inside ``interval`` (a SymPy set, a pair, or None for everywhere)."""
    if interval is None:
        return np.ones_like(ts, dtype=bool)
    if isinstance(interval, sympy.Set):
        if interval == sympy.S.EmptySet:
            return np.zeros_like(ts, dtype=bool)
        if isinstance(interval, sympy.Interval) and interval.start.is_number and interval.end.is_number:
            lo, hi = float(interval.start), float(interval.end)
            mask = (ts > lo) if interval.left_open else (ts >= lo)
            return mask & ((ts < hi) if interval.right_open else (ts <= hi))
        # Unions and the like: ask SymPy, point by point (a few hundred points).
        return np.array([bool(interval.contains(sympy.Float(float(x))) == sympy.true) for x in ts])
    if isinstance(interval, (tuple, list)) and len(interval) == 2:
        lo = -math.inf if interval[0] is None else float(interval[0])
        hi = math.inf if interval[1] is None else float(interval[1])
        return (ts >= lo) & (ts <= hi)
    return np.ones_like(ts, dtype=bool)


def bound_curves(gif: Any, ts: np.ndarray, *, label: str | None = None) -> BoundCurves:
    """Evaluate ``gif.bounds()`` (upper, lower, θ_t) on the times ``ts``, NaN outside the interval."""
    b = theory.bounds(gif)
    for name in ("upper", "lower", "lipschitz"):
        expr = getattr(b, name, None)
        if isinstance(expr, sympy.Basic) and expr.free_symbols - {t}:
            numeric_function(expr, name=f"{name} bound")  # raises, naming the symbolic parameters
    out = {}
    # Each side where it holds; θ_t where both do.
    for name, where in (("upper", "upper_interval"), ("lower", "lower_interval"), ("lipschitz", "interval")):
        mask = _within(ts, getattr(b, where, getattr(b, "interval", None)))
        expr = getattr(b, name, None)
        values = numeric_function(expr, name=f"{name} bound")(ts) if mask.any() else np.full_like(ts, np.nan)
        values = np.where(np.abs(values) > _HUGE, np.nan, values)
        out[name] = np.where(mask, values, np.nan)
    return BoundCurves(label or gif.schedule.spec, ts, out["upper"], out["lower"], out["lipschitz"])


def _set_scale(ax: Any, values: list[np.ndarray], *, positive: bool) -> None:
    """Log scale (symlog when signs mix or zeros occur) where the values blow up: beyond 50 in magnitude
    and over more than two decades; a linear axis otherwise."""
    finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.array([])
    if finite.size == 0:
        return
    mags = np.abs(finite)
    big = float(np.max(mags))
    typical = float(np.median(mags[mags > 0])) if np.any(mags > 0) else big
    if big <= 50 or big <= 100 * typical:
        return
    if positive and np.all(finite > 0):
        ax.set_yscale("log")
    else:
        ax.set_yscale("symlog", linthresh=max(1.0, min(typical, 10.0)))


def plot_bounds(
    schedules: Sequence[Any],
    target: Any,
    path: str | os.PathLike,
    *,
    points: int = 400,
    eps: float = 1e-3,
    title: str | None = None,
) -> str:
    r"""θ_t and the two-sided bounds on ∇ₓv against t, one colour per schedule, on one figure.

    Left: the Lipschitz bound θ_t (log scale where it blows up); right: the upper bound (solid) and
    lower bound (dashed) on the eigenvalues of ∇ₓv (symlog where they blow up). Curves stop where a
    bound does not hold (its time interval) or is not finite.

    Args:
        schedules: :class:`~gifsym.symbolic.schedule.Schedule` objects (or specs).
        target: a :class:`~gifsym.symbolic.target.Target` (or a spec) with numeric parameters.
        path: output file, ``.png``, ``.svg`` or ``.pdf``.
        points: time samples per curve.
        eps: the grid stops at ``1 - eps`` (most bounds blow up at t = 1).
        title: figure title (default: the target spec).

    Returns:
        ``path``.
    """
    check_format(path)
    if not schedules:
        raise GifsymError("plot bounds needs at least one schedule")
    tgt = make_target(target)
    ts = time_grid(points=points, eps=eps)
    curves = [bound_curves(Flow(make_schedule(s), tgt), ts) for s in schedules]

    plt = _pyplot()
    fig, (ax_theta, ax_bounds) = plt.subplots(1, 2, figsize=(10, 4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, c in enumerate(curves):
        col = colors[i % len(colors)]
        ax_theta.plot(c.t, c.lipschitz, color=col, label=c.label)
        ax_bounds.plot(c.t, c.upper, color=col, label=f"{c.label} upper")
        ax_bounds.plot(c.t, c.lower, color=col, linestyle="--", label=f"{c.label} lower")
    _set_scale(ax_theta, [c.lipschitz for c in curves], positive=True)
    _set_scale(ax_bounds, [c.upper for c in curves] + [c.lower for c in curves], positive=False)
    ax_theta.set(xlabel="$t$", ylabel=r"$\theta_t$ (Lipschitz bound)", title=r"Lipschitz constant $\theta_t$")
    ax_bounds.set(
        xlabel="$t$",
        ylabel=r"eigenvalues of $\nabla_x v$",
        title=r"lower (dashed) $\preceq \nabla_x v \preceq$ upper (solid)",
    )
    for ax in (ax_theta, ax_bounds):
        ax.set_xlim(0, 1)
        ax.grid(True, alpha=0.3)
    handles, labels = ax_theta.get_legend_handles_labels()
    ncol = min(len(labels), 4)
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=8, frameon=False)
    fig.suptitle(title if title is not None else f"target {tgt.spec}")
    rows = -(-len(labels) // ncol)
    fig.tight_layout(rect=(0, 0.015 + 0.04 * rows, 1, 1))
    return save_figure(fig, path)


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for n in names:
        if isinstance(obj, dict) and n in obj:
            return obj[n]
        if hasattr(obj, n):
            return getattr(obj, n)
    return default


def tightness_rows(report: Any) -> list[dict[str, float]]:
    """Per-time rows ``{t, upper, observed_max, lower, observed_min, theta, tightness}`` of a verify report.

    Accepts a :class:`gifsym.numerics.verify.VerifyReport` or its ``to_dict()`` / ``gifsym verify --json`` form: the
    rows of its ``bounds`` check (``t``, ``lower``, ``min_eig``, ``max_eig``, ``upper``, ``theta``,
    ``tightness``). Missing or non-finite values are NaN.

    Raises:
        GifsymError: the report has no per-time rows (the bounds check was skipped or not run).
    """
    data = report.to_dict() if hasattr(report, "to_dict") else report
    rows = None
    for c in _get(data, "checks", default=[]) or []:
        if _get(c, "name") == "bounds":
            rows = _get(c, "rows", default=None)
    if not rows:
        raise GifsymError(
            "the verify report has no per-time bound records to plot (its bounds check did not run)"
        )

    def num(x: Any) -> float:
        try:
            return float(x) if x is not None else math.nan
        except (TypeError, ValueError):
            return math.nan

    out = [
        {
            "t": num(_get(r, "t")),
            "upper": num(_get(r, "upper")),
            "observed_max": num(_get(r, "max_eig")),
            "lower": num(_get(r, "lower")),
            "observed_min": num(_get(r, "min_eig")),
            "theta": num(_get(r, "theta")),
            "tightness": num(_get(r, "tightness")),
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: r["t"])


def plot_verify(report: Any, path: str | os.PathLike, *, title: str | None = None) -> str:
    """Bound against observed worst case, per time, from a verify run.

    Left: the upper bound and the largest eigenvalue of ∇ₓv observed, the lower bound and the smallest;
    right: tightness, observed / bound for each side and max|λ|/θ_t (1 means the bound is attained; above 1
    it is violated).
    """
    check_format(path)
    rows = tightness_rows(report)
    ts = np.array([r["t"] for r in rows])
    col = {k: np.array([r[k] for r in rows]) for k in rows[0] if k != "t"}

    plt = _pyplot()
    fig, (ax, ax_ratio) = plt.subplots(1, 2, figsize=(10, 4))
    ax.plot(ts, col["upper"], "-", color="C0", label="upper bound $u_t$")
    ax.plot(ts, col["observed_max"], "o", color="C0", markersize=4, label=r"observed max eig $\nabla_x v$")
    ax.plot(ts, col["lower"], "--", color="C1", label=r"lower bound $\ell_t$")
    ax.plot(ts, col["observed_min"], "s", color="C1", markersize=4, label=r"observed min eig $\nabla_x v$")
    _set_scale(ax, [col[k] for k in ("upper", "observed_max", "lower", "observed_min")], positive=False)
    ax.set(xlabel="$t$", ylabel="eigenvalue", title="bound vs observed worst case")
    ax.legend(fontsize=8)
    with np.errstate(all="ignore"):
        # Each side's ratio where it is a constraint with a sign to compare: observed/bound for a positive
        # upper bound, observed/bound for a negative lower bound.
        r_up = np.where(
            (col["upper"] > 0) & (col["observed_max"] > 0), col["observed_max"] / col["upper"], np.nan
        )
        r_lo = np.where(
            (col["lower"] < 0) & (col["observed_min"] < 0), col["observed_min"] / col["lower"], np.nan
        )
    ax_ratio.plot(ts, r_up, "o-", color="C0", markersize=4, label="upper: max eig / $u_t$")
    ax_ratio.plot(ts, r_lo, "s--", color="C1", markersize=4, label=r"lower: min eig / $\ell_t$")
    if np.any(np.isfinite(col["tightness"])):
        ax_ratio.plot(
            ts, col["tightness"], "^:", color="C2", markersize=4, label=r"max$|\lambda|$ / $\theta_t$"
        )
    ax_ratio.axhline(1.0, color="k", linewidth=0.8)
    # A sharp bound gives ratios of 1 to round-off: keep 0 and 1 in view rather than zooming into 1e-12.
    ratios = np.concatenate([r_up, r_lo, col["tightness"]])
    top = float(np.nanmax(ratios)) if np.any(np.isfinite(ratios)) else 1.0
    ax_ratio.set_ylim(0, max(1.1, 1.05 * top))
    ax_ratio.ticklabel_format(axis="y", useOffset=False)
    ax_ratio.set(xlabel="$t$", ylabel="observed / bound", title="tightness (1 = attained)")
    ax_ratio.legend(fontsize=8)
    for a in (ax, ax_ratio):
        a.grid(True, alpha=0.3)
    spec = ", ".join(str(x) for x in (_get(report, "schedule"), _get(report, "target")) if x is not None)
    fig.suptitle(title if title is not None else (spec or "verify"))
    fig.tight_layout()
    return save_figure(fig, path)


def plot_trajectories(
    gif: Any,
    path: str | os.PathLike,
    *,
    n: int = 64,
    seed: int = 0,
    reverse: bool = False,
    points: int = 101,
    title: str | None = None,
) -> str:
    """Sample paths of the flow: x against t in 1-D; the paths in the plane (start ○, end ●) in 2-D.

    Args:
        gif: the :class:`~gifsym.symbolic.flow.GIF`. A class target (``slc:kappa=1``, ``ball:R=1``, …) is
            drawn on its concrete one-dimensional member from :mod:`gifsym.numerics.oracle`.
        path: output file, ``.png``, ``.svg`` or ``.pdf``.
        n: number of paths.
        seed: PRNG seed of the start samples (source, or target when ``reverse``).
        reverse: integrate data -> noise instead.
        points: saved times along each path.
        title: figure title.
    """
    check_format(path)
    ts, xs, flow = sample_paths(gif, n=n, seed=seed, reverse=reverse, points=points)
    dim = xs.shape[2]
    if dim not in (1, 2):
        raise GifsymError(
            f"plot trajectories draws 1-D or 2-D flows; target {gif.target.spec!r} has dimension {dim}"
        )
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    if dim == 1:
        ax.plot(ts, xs[:, :, 0].T, color="C0", alpha=0.5, linewidth=0.8)
        ax.set(xlabel="$t$", ylabel="$x$")
    else:
        for k in range(xs.shape[0]):
            ax.plot(xs[k, :, 0], xs[k, :, 1], color="C0", alpha=0.4, linewidth=0.7)
        ax.plot(xs[:, 0, 0], xs[:, 0, 1], "o", mfc="none", color="C1", markersize=3, label="start")
        ax.plot(xs[:, -1, 0], xs[:, -1, 1], "o", color="C3", markersize=3, label="end")
        ax.set(xlabel="$x_1$", ylabel="$x_2$")
        ax.set_aspect("equal", adjustable="datalim")
        ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    direction = "data -> noise" if reverse else "noise -> data"
    member = "" if flow is gif else " (oracle member)"
    ax.set_title(
        title if title is not None else f"{gif.schedule.spec}, {gif.target.spec}{member}: {direction}",
        fontsize=10,
    )
    fig.tight_layout()
    return save_figure(fig, path)


def sample_paths(gif: Any, *, n: int, seed: int, reverse: bool = False, points: int = 101):
    """Simulate ``n`` paths; returns ``(ts, xs, flow)`` with ``xs`` of shape (n, len(ts), d) and ``flow``
    the flow that was integrated (``gif`` itself, or the oracle member of a class target)."""
    from gifsym.numerics import simulate as sim

    flow = gif
    if not gif.target.is_exact:
        from gifsym.numerics.oracle import oracle_flow

        flow = oracle_flow(gif.schedule, gif.target)
    start = sim.sample_target(flow, n, seed=seed) if reverse else sim.sample_source(flow, n, seed=seed)
    res = sim.simulate(flow, start, reverse=reverse, save_path=points)
    ts = np.asarray(res.ts, dtype=float)
    xs = np.transpose(np.asarray(res.path, dtype=float), (1, 0, 2))
    order = np.argsort(ts)  # a reverse run saves times from 1 down to 0
    return ts[order], xs[:, order, :], flow


def plot_lemmas(path: str | os.PathLike, *, gif: Any = None) -> str:
    """The lemma graph as a picture (``.png``, ``.svg``, ``.pdf``, or ``.dot``), drawn by the lemma module's
    own renderer (Graphviz), coloured by status; ``gif`` restricts the colouring to one flow."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in (*FORMATS, ".dot"):
        raise GifsymError(
            f"cannot write {os.fspath(path)!r}: unknown extension {ext or '(none)'!r}; "
            "accepted: .png, .svg, .pdf, .dot"
        )
    return os.fspath(lemmas.draw(path, gif=gif))


def plot_certificate(cert: Any, path: str | os.PathLike, *, title: str | None = None) -> str:
    """The parts of a certificate (:func:`gifsym.certify`): left, the model's error ε(t) (estimate and upper
    confidence bound) with the Lipschitz constant C_t on a second axis; right, the weighted integrand
    ``W(t)·ε(t)`` whose integral is the bound, with the bound (and the realised W₂) in the title.

    Example:
        >>> import os, tempfile, numpy as np
        >>> from gifsym import GIF, certify, schedule, target
        >>> flow = GIF(schedule("linear"), target("gaussian:sigma=1"))
        >>> v = flow.field()
        >>> cert = certify(flow, lambda t, x: np.asarray(v(t, x)) + 0.01, lipschitz=1.0, n=64, times=5)
        >>> p = os.path.join(tempfile.mkdtemp(), "cert.png")
        >>> plot_certificate(cert, p) == p
        True
    """
    check_format(path)
    ts = np.asarray(cert.times, dtype=float)
    err = cert.error
    plt = _pyplot()
    fig, (ax, ax_g) = plt.subplots(1, 2, figsize=(10, 4))
    ax.plot(ts, err.estimate, "o-", color="C0", markersize=3, label=r"$\hat\varepsilon(t)$ (estimate)")
    ax.plot(ts, err.upper, "--", color="C0", label=f"upper bound (joint {cert.confidence:g})")
    ax.set(xlabel="$t$", ylabel=r"$\|v - \tilde v\|_{L^2(p_t)}$", title="model error")
    ax.set_ylim(bottom=0)
    ax_c = ax.twinx()
    ax_c.plot(ts, cert.lipschitz.values, ":", color="C3", label=f"$C_t$ ({cert.lipschitz.how})")
    ax_c.set_ylabel("$C_t$", color="C3")
    lines = ax.get_legend_handles_labels()
    more = ax_c.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="best", framealpha=0.6)
    g = np.asarray([np.nan if x is None else x for x in cert.integrand], dtype=float)
    ax_g.fill_between(ts, 0, g, step=None, alpha=0.25, color="C2")
    ax_g.plot(ts, g, "o-", color="C2", markersize=3, label=r"$e^{\int_t^1 C_s ds}\,\varepsilon^+(t)$")
    ax_g.set(xlabel="$t$", ylabel="integrand", title="weighted error (its integral bounds $W_2$)")
    ax_g.set_ylim(bottom=0)
    ax_g.legend(fontsize=8)
    for a in (ax, ax_g):
        a.grid(True, alpha=0.3)
    head = f"{cert.schedule} -> {cert.target}: $W_2 \\leq$ {cert.w2_bound:.4g} ({cert.kind})"
    if cert.realised_w2 is not None:
        head += f"; realised {cert.realised_w2.w2:.4g} (noise {cert.realised_w2.noise:.3g})"
    fig.suptitle(title if title is not None else head, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


__all__ = [
    "BoundCurves",
    "bound_curves",
    "check_format",
    "numeric_function",
    "plot_bounds",
    "plot_certificate",
    "plot_lemmas",
    "plot_trajectories",
    "plot_verify",
    "save_figure",
    "tightness_rows",
    "time_grid",
]
