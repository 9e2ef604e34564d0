r"""LaTeX of gifsym's results, from SymPy's own printer.

Every formula is printed by ``sympy.latex``; this module only adds readable names for gifsym's symbols
(``\kappa``, ``\beta_{\min}``, ``\sigma_{\max}``, the placeholders ``\dot a_t``, …) and the text around
them: a schedule with its derivatives, an assumption report, a target, a velocity field, bounds and
flow-map constants. :func:`to_latex` accepts a SymPy object or any gifsym result, and prefers a result's
own ``to_latex()`` method when it has one (Bounds, lemmas, reports).

The functions return LaTeX *fragments* (math without ``$…$`` from :func:`latex_expr`; text-mode blocks
from the others) that need only ``amsmath``; :mod:`gifsym.output.report` wraps them into a document.

Example:
    >>> import sympy
    >>> latex_expr(sympy.Symbol("beta_min") * sympy.Symbol("kappa"))
    '\\beta_{\\min} \\kappa'
    >>> from gifsym import schedule
    >>> print(to_latex(schedule("linear").da))
    -1
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import sympy

from gifsym.errors import GifsymError
from gifsym.symbolic.classes import CLASSES

# _symbol_names: the names latex_expr gives, for callers comparing with plain sympy.latex.
from gifsym.symbolic.printing import SYMBOL_NAMES, _symbol_names, latex_expr  # noqa: F401

#: The status words of an assumption report, typeset.
STATUS_LATEX = {
    "holds": r"\textbf{holds}",
    "violated": r"\textbf{violated}",
    "unknown": r"\textit{unknown}",
}

#: How each assumption / class id of math.md reads, as LaTeX (used in reports and lemma lists).
ASSUMPTION_STATEMENTS: dict[str, str] = {
    "S-end": r"$a_0 > 0$, $b_0 \ge 0$, $a_1 = 0$, $b_1 = 1$",
    "S-mono": r"$\dot a_t \le 0$ and $\dot b_t \ge 0$ on $(0,1)$",
    "S-pos": r"$a_t > 0$ on $[0,1)$ and $b_t > 0$ on $(0,1]$",
    "S-smooth": r"$a, b$ continuous on $[0,1]$ and $C^2$ on $(0,1)$",
    "T-gauss": r"$\nu = N(m, \Sigma)$",
    "T-gmm": r"$\nu = \sum_k w_k N(m_k, \Sigma_k)$",
    **{c.id: c.statement for c in CLASSES},
    "T-emp": r"$\nu = \frac1N \sum_i \delta_{y_i} * N(0, \sigma^2 I)$, the (smoothed, if $\sigma > 0$) empirical law of data",
}

# Text-mode escapes for pdflatex (which rejects most Unicode); reasons and specs come from users and
# from the prover, so any character may appear. Symbols missing from the default OT1 text fonts go through
# math mode.
_TEXT_ESCAPES = {
    "\\": r"$\backslash$",
    "{": r"$\{$",
    "}": r"$\}$",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "^": r"\^{}",
    "~": r"\~{}",
    "<": r"$<$",
    ">": r"$>$",
    "|": r"$|$",
}
_UNICODE = {
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "≠": r"$\ne$",
    "≈": r"$\approx$",
    "∞": r"$\infty$",
    "∫": r"$\int$",
    "∑": r"$\sum$",
    "√": r"$\surd$",
    "∇": r"$\nabla$",
    "∂": r"$\partial$",
    "≼": r"$\preceq$",
    "≽": r"$\succeq$",
    "→": r"$\to$",
    "←": r"$\leftarrow$",
    "⇒": r"$\Rightarrow$",
    "∈": r"$\in$",
    "∪": r"$\cup$",
    "∅": r"$\emptyset$",
    "✓": r"$\checkmark$",
    "±": r"$\pm$",
    "×": r"$\times$",
    "·": r"$\cdot$",
    "∘": r"$\circ$",
    "−": "-",
    "–": "--",
    "—": "---",
    "…": r"\dots{}",
    "‖": r"$\|$",
    "’": "'",
    "‘": "`",
    "“": "``",
    "”": "''",
    "²": r"$^2$",
    "³": r"$^3$",
    "¹": r"$^1$",
    "⁻": r"$^-$",
    "ȧ": r"$\dot a$",
    "ḃ": r"$\dot b$",
    "ö": r"\"o",
    "é": r"\'e",
    "ä": r"\"a",
    "ü": r"\"u",
    "ø": r"{\o}",
    "γ": r"$\gamma$",
    "κ": r"$\kappa$",
    "β": r"$\beta$",
    "σ": r"$\sigma$",
    "λ": r"$\lambda$",
    "θ": r"$\theta$",
    "μ": r"$\mu$",
    "ν": r"$\nu$",
    "ρ": r"$\rho$",
    "τ": r"$\tau$",
    "ε": r"$\varepsilon$",
    "Σ": r"$\Sigma$",
    "§": r"\S{}",
    "α": r"$\alpha$",
    "δ": r"$\delta$",
    "π": r"$\pi$",
    "Δ": r"$\Delta$",
    "ξ": r"$\xi$",
    "η": r"$\eta$",
}


_SUBSCRIPTED = re.compile(r"(?<![\w\\])([A-Za-z\u03b1-\u03c9\u0391-\u03a9]_[0-9A-Za-z])(?!\w)")


def _math_symbol(token: str) -> str:
    letter, sub = token.split("_")
    name = _UNICODE.get(letter, letter).strip("$")
    return f"${name}_{sub}$"


def escape_text(text: str) -> str:
    r"""Escape a plain string (a reason, a spec, a file name) for LaTeX text mode, pdflatex-safe.

    Example:
        >>> escape_text("a_0 > 0: proved ≥ 0 (50%), beta_min = 1")
        '$a_0$ $>$ 0: proved $\\ge$ 0 (50\\%), beta\\_min = 1'
    """
    # A one-letter symbol with a one-character subscript (a_0, θ_t, b_1) is typeset as maths, not as
    # "a\_0": reasons and notes name quantities this way.
    parts = _SUBSCRIPTED.split(str(text))
    if len(parts) > 1:
        return "".join(_math_symbol(p) if i % 2 else escape_text(p) for i, p in enumerate(parts))
    out = []
    for ch in str(text):
        if ch in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[ch])
        elif ord(ch) < 128:
            out.append(ch)
        elif ch in _UNICODE:
            out.append(_UNICODE[ch])
        else:
            # Strip accents (NFKD) where that gives ASCII; otherwise name the code point rather than let
            # pdflatex fail on a character it has no glyph for.
            plain = "".join(c for c in unicodedata.normalize("NFKD", ch) if ord(c) < 128)
            out.append(plain if plain else rf"\texttt{{U+{ord(ch):04X}}}")
    return "".join(out)


def escape_tt(text: str) -> str:
    r"""Escape a string for ``\texttt{…}`` / ``\ttfamily``: the typewriter font has every ASCII character
    in its slot, so special characters become ``\char<code>`` and copy out of the PDF unchanged (an
    underscore stays an underscore, unlike ``\_`` in the OT1 text fonts).

    Example:
        >>> escape_tt("vp:beta_min=0.1")
        'vp:beta\\char95{}min=0.1'
    """
    out = []
    for ch in str(text):
        if ch in "#$%&~_^\\{}<>|\"'`":
            out.append(rf"\char{ord(ch)}{{}}")
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append(escape_text(ch))
    return "".join(out)


def number_latex(x: Any, *, digits: int = 6) -> str:
    r"""A number for a table: exact SymPy numbers as SymPy prints them, floats to ``digits`` significant
    digits, ``None`` / ``+∞`` as ``\infty``.

    Example:
        >>> number_latex(None), number_latex(0.123456789), number_latex(sympy.Rational(1, 2))
        ('\\infty', '0.123457', '\\frac{1}{2}')
    """
    if x is None:
        return r"\infty"
    if isinstance(x, sympy.Basic):
        if x.is_number and not x.is_Rational and x.is_finite is not False:
            try:
                return number_latex(float(x), digits=digits)
            except (TypeError, ValueError):
                pass
        if x.atoms(sympy.Float):  # a symbolic value with float coefficients: round them for a table
            x = x.xreplace({f: sympy.Float(f, digits) for f in x.atoms(sympy.Float)})
        return latex_expr(x)
    try:
        v = float(x)
    except (TypeError, ValueError):
        return escape_text(str(x))
    if math.isnan(v):
        return r"\mathrm{NaN}"
    if math.isinf(v):
        return r"\infty" if v > 0 else r"-\infty"
    s = f"{v:.{digits}g}"
    if "e" in s:
        mant, exp = s.split("e")
        return rf"{mant} \cdot 10^{{{int(exp)}}}"
    return s


def label_key(text: str) -> str:
    """A string usable inside ``\\label{}`` / ``\\ref{}`` (letters, digits, ``-``, ``:``, ``.``).

    Example:
        >>> label_key("flow-map lipschitz (κ)")
        'flow-map-lipschitz-'
    """
    return re.sub(r"[^A-Za-z0-9:.\-]+", "-", text)


def _align(rows: Iterable[tuple[str, str]], *, rel: str = "=") -> str:
    body = " \\\\\n".join(f"  {lhs} &{rel} {rhs}" for lhs, rhs in rows)
    return "\\begin{align*}\n" + body + "\n\\end{align*}"


def schedule_latex(schedule: Any) -> str:
    r"""The schedule as an ``align*`` block: :math:`a_t, b_t, \dot a_t, \dot b_t` and the SNR.

    Example:
        >>> from gifsym import schedule
        >>> print(schedule_latex(schedule("linear")))
        \begin{align*}
          a_t &= 1 - t \\
          b_t &= t \\
          \dot a_t &= -1 \\
          \dot b_t &= 1 \\
          r_t = b_t / a_t &= \frac{t}{1 - t}
        \end{align*}
    """
    return _align(
        [
            ("a_t", latex_expr(schedule.a)),
            ("b_t", latex_expr(schedule.b)),
            (r"\dot a_t", latex_expr(schedule.da)),
            (r"\dot b_t", latex_expr(schedule.db)),
            ("r_t = b_t / a_t", latex_expr(schedule.snr)),
        ]
    )


def schedule_params_latex(schedule: Any) -> str:
    r"""The schedule's parameters as inline math, e.g. ``$\beta_{\min} = \frac{1}{10}$, …`` (``""`` if none).

    Example:
        >>> from gifsym import schedule
        >>> schedule_params_latex(schedule("ve"))
        '$\\sigma_{\\min} = \\frac{1}{100}$, $\\sigma_{\\max} = 50$'
    """
    parts = []
    for name, value in schedule.params:
        sym = latex_expr(sympy.Symbol(name))
        parts.append(f"${sym} = {latex_expr(value)}$")
    return ", ".join(parts)


def verdict_latex(verdict: Any) -> str:
    """One verdict (``status``, ``reason``) as text: the status in bold, then the reason."""
    status = getattr(verdict, "status", str(verdict))
    reason = getattr(verdict, "reason", "")
    head = STATUS_LATEX.get(status, escape_text(status))
    return f"{head}: {{\\small {escape_text(reason)}}}" if reason else head


def assumption_report_latex(report: Any) -> str:
    r"""An assumption report as a ``description`` list: each id, what it states, its status and reason.

    Accepts a :class:`gifsym.symbolic.schedule.AssumptionReport` (``items`` and ``consequences`` of ``(id,
    Verdict)`` pairs) or a mapping ``{id: {"status", "reason"}}`` as in the JSON output.

    Example:
        >>> print(assumption_report_latex({"S-end": {"status": "holds", "reason": "proved"}}))
        \begin{description}
          \item[S-end] $a_0 > 0$, $b_0 \ge 0$, $a_1 = 0$, $b_1 = 1$ --- \textbf{holds}: {\small proved}
        \end{description}
    """
    if isinstance(report, Mapping):
        items = [
            (k, _DictVerdict(v.get("status", "unknown"), v.get("reason", ""))) for k, v in report.items()
        ]
    else:
        items = list(getattr(report, "items", ())) + list(getattr(report, "consequences", ()))
    consequence = {
        "wronskian": r"$a_t \dot b_t - \dot a_t b_t \ge 0$ on $(0,1)$",
        "snr-monotone": r"$r_t = b_t / a_t$ non-decreasing",
    }
    lines = []
    for key, verdict in items:
        what = ASSUMPTION_STATEMENTS.get(key) or consequence.get(key)
        lead = f"{what} --- " if what else ""
        lines.append(f"  \\item[{escape_text(key)}] {lead}{verdict_latex(verdict)}")
    return "\\begin{description}\n" + "\n".join(lines) + "\n\\end{description}"


class _DictVerdict:
    __slots__ = ("reason", "status")

    def __init__(self, status: str, reason: str) -> None:
        self.status, self.reason = status, reason


def membership_latex(membership: Any) -> str:
    r"""One class membership, e.g. ``T-slc ($\kappa = 2$)``, noting what implies it.

    Example:
        >>> from gifsym import target
        >>> membership_latex(target("slc:kappa=2").classes()[0])
        'T-slc ($\\kappa = 2$)'
    """
    params = ", ".join(f"{latex_expr(sympy.Symbol(k))} = {latex_expr(v)}" for k, v in membership.params)
    text = escape_text(membership.id) + (f" (${params}$)" if params else "")
    if getattr(membership, "implied_by", None):
        text += f", implied by {escape_text(membership.implied_by)}"
    return text


def target_latex(target: Any) -> str:
    r"""The target: its spec, whether it is an exact law, and every class it belongs to (an ``itemize``).

    Example:
        >>> from gifsym import target
        >>> print(target_latex(target("ball:R=1")))
        Target \texttt{ball:R=1}: a class of targets.
        \begin{itemize}
          \item T-ball ($R = 1$): $\operatorname{supp}\nu \subseteq B(c, R)$ for some centre $c$
        \end{itemize}
    """
    kind = "an exact law" if target.is_exact else "a class of targets"
    if target.is_exact:
        kind += f" in dimension {target.dim}"
    lines = [f"Target \\texttt{{{escape_tt(target.spec)}}}: {kind}.", "\\begin{itemize}"]
    for m in target.classes():
        what = ASSUMPTION_STATEMENTS.get(m.id)
        lines.append(f"  \\item {membership_latex(m)}" + (f": {what}" if what else ""))
    lines.append("\\end{itemize}")
    return "\n".join(lines)


def velocity_latex(gif: Any) -> str:
    r"""The velocity field and its Jacobian as displayed equations.

    For an exact target: ``v(t, x)`` in the coordinates; for a class: the denoiser form in ``x`` and the
    posterior mean ``m``, and the key identity in the posterior covariance ``C``.

    Example:
        >>> from gifsym import GIF, schedule, target
        >>> print(velocity_latex(GIF(schedule("linear"), target("slc:kappa=2"))).splitlines()[1])
          v(t, x) &= - \frac{1}{t - 1} m + \frac{1}{t - 1} x \\
    """
    rows = [("v(t, x)", latex_expr(gif.velocity()))]
    rows.append((r"\nabla_x v(t, x)", latex_expr(gif.jacobian())))
    return _align(rows)


def _field(obj: Any, *names: str, default: Any = None) -> Any:
    for n in names:
        if hasattr(obj, n):
            return getattr(obj, n)
    return default


def interval_latex(interval: Any) -> str:
    r"""A time interval as LaTeX: a SymPy ``Interval`` as SymPy prints it, a pair ``(lo, hi)`` as ``[lo, hi)``
    (``hi`` = 1 open unless stated), a string as text.

    Example:
        >>> interval_latex(sympy.Interval.Ropen(0, 1))
        '\\left[0, 1\\right)'
        >>> interval_latex((0, 1))
        '\\left[0, 1\\right]'
    """
    if interval is None:
        return r"\text{--}"
    if isinstance(interval, sympy.Basic):
        return latex_expr(interval)
    if isinstance(interval, str):
        return rf"\text{{{escape_text(interval)}}}"
    if isinstance(interval, Mapping):
        lo, hi = interval.get("lo", interval.get("start", 0)), interval.get("hi", interval.get("end", 1))
        open_hi = interval.get("open_hi", interval.get("right_open", False))
        open_lo = interval.get("open_lo", interval.get("left_open", False))
        return latex_expr(sympy.Interval(_sym(lo), _sym(hi), bool(open_lo), bool(open_hi)))
    if isinstance(interval, (tuple, list)) and len(interval) == 2:
        return latex_expr(sympy.Interval(_sym(interval[0]), _sym(interval[1])))
    return escape_text(str(interval))


def _sym(x: Any) -> sympy.Expr:
    if x is None:
        return sympy.oo
    return x if isinstance(x, sympy.Basic) else sympy.nsimplify(x)


def bounds_latex(bounds: Any) -> str:
    r"""Two-sided bounds on :math:`\nabla_x v` and the Lipschitz constant :math:`\theta_t` (an ``align*``
    block with the interval and the lemmas as text).

    Uses the ``Bounds`` fields of interface.md: ``upper``, ``lower``, ``lipschitz``, ``interval``, ``lemmas``.
    """
    upper = _field(bounds, "upper")
    lower = _field(bounds, "lower")
    theta = _field(bounds, "lipschitz", "theta")
    rows = []
    if lower is not None:
        rows.append((r"\lambda_{\min}(\nabla_x v) \ge \ell_t", latex_expr(lower)))
    if upper is not None:
        rows.append((r"\lambda_{\max}(\nabla_x v) \le u_t", latex_expr(upper)))
    if theta is not None:
        rows.append((r"\theta_t", latex_expr(theta)))
    out = [_align(rows)] if rows else []
    interval = _field(bounds, "interval")
    if interval is not None:
        out.append(f"valid for $t \\in {interval_latex(interval)}$.")
    lemmas = _field(bounds, "lemmas")
    if lemmas:
        out.append("Lemmas: " + ", ".join(f"\\texttt{{{escape_tt(str(n))}}}" for n in lemmas) + ".")
    return "\n".join(out)


def constant_latex(value: Any) -> str:
    r"""A flow-map constant: an exact SymPy value, a float, or ``None`` / ``oo`` for unbounded.

    Example:
        >>> constant_latex(sympy.sqrt(2)/2), constant_latex(None)
        ('\\frac{\\sqrt{2}}{2}', '\\infty')
    """
    if value is None:
        return r"\infty"
    if isinstance(value, sympy.Basic):
        return latex_expr(value)
    return number_latex(value)


def flow_map_latex(fm: Any) -> str:
    r"""Forward and reverse flow-map Lipschitz constants (a ``FlowMapBounds``): exact values as SymPy prints
    them, others marked certified or estimate, and constants of a flow not shown well posed marked so.
    """
    rows = []
    for attr, lhs in (
        ("forward", r"\operatorname{Lip}(X_{0,1})"),
        ("reverse", r"\operatorname{Lip}(X_{1,0})"),
    ):
        value = _field(fm, attr)
        if value is None and not hasattr(fm, attr):
            continue
        rhs = constant_latex(_value_of(value))
        if _is_numeric(fm, attr, value):
            kind = getattr(value, "kind", "estimate")
            rhs += r" \quad \text{(" + ("certified" if kind == "certified" else "estimate") + ")}"
        if getattr(value, "conditional_on", None):
            rhs += r" \quad \text{(if well posed)}"
        rows.append((lhs, rhs))
    return _align(rows, rel=r"\le")


def _value_of(value: Any) -> Any:
    """The value inside a constant object (``.value`` / ``.exact`` / ``.numeric``) or the value itself."""
    for name in ("value", "exact", "expr"):
        if hasattr(value, name) and not isinstance(value, sympy.Basic):
            v = getattr(value, name)
            if v is not None:
                return v
    if hasattr(value, "numeric") and not isinstance(value, sympy.Basic):
        return value.numeric
    return value


def _is_numeric(fm: Any, attr: str, value: Any) -> bool:
    for name in ("numeric", "is_numeric", "certified_by_quadrature"):
        flag = getattr(value, name, None) if not isinstance(value, sympy.Basic) else None
        if isinstance(flag, bool):
            return flag
    flags = getattr(fm, "numeric", None)
    if isinstance(flags, Mapping):
        return bool(flags.get(attr))
    if isinstance(flags, (set, frozenset, tuple, list)):
        return attr in flags
    flag = getattr(fm, f"{attr}_numeric", None)
    if isinstance(flag, bool):
        return flag
    return isinstance(value, float)


def to_latex(obj: Any) -> str:
    r"""LaTeX for a SymPy result, or for any gifsym result.

    A result with its own ``to_latex()`` method (Bounds, lemmas, reports) is asked for it; schedules,
    assumption reports, targets and flows are typeset here; SymPy objects and numbers go through
    :func:`latex_expr`.

    Raises:
        GifsymError: for an object gifsym does not know how to typeset.

    Example:
        >>> from gifsym import schedule
        >>> to_latex(schedule("trigonometric").b)
        '\\sin{\\left(\\frac{\\pi t}{2} \\right)}'
    """
    if hasattr(obj, "to_latex") and not isinstance(obj, sympy.Basic):
        return obj.to_latex()
    if isinstance(obj, (sympy.Basic, sympy.MatrixBase, int, float)):
        return latex_expr(obj)
    from gifsym.symbolic.flow import Flow
    from gifsym.symbolic.schedule import AssumptionReport, Schedule
    from gifsym.symbolic.target import Membership, Target

    if isinstance(obj, Schedule):
        return schedule_latex(obj)
    if isinstance(obj, AssumptionReport):
        return assumption_report_latex(obj)
    if isinstance(obj, Target):
        return target_latex(obj)
    if isinstance(obj, Membership):
        return membership_latex(obj)
    if isinstance(obj, Flow):
        return velocity_latex(obj)
    if hasattr(obj, "status") and hasattr(obj, "reason"):
        return verdict_latex(obj)
    if hasattr(obj, "upper") and hasattr(obj, "lower"):
        return bounds_latex(obj)
    if hasattr(obj, "forward") and hasattr(obj, "reverse"):
        return flow_map_latex(obj)
    raise GifsymError(f"to_latex does not know {type(obj).__name__}; give a SymPy object or a gifsym result")


def breakable(text: str) -> str:
    r"""Plain text (a reason, a note) escaped for LaTeX, with break points after ``,*+=(`` so that long
    formulas written as text wrap instead of running into the margin.

    Example:
        >>> breakable("a*b+c")
        'a*\\allowbreak{}b+\\allowbreak{}c'
    """
    out = escape_text(text)
    return re.sub(r"([,*+=(/])(?!\\allowbreak)", r"\1\\allowbreak{}", out)


def spec_tt(text: str) -> str:
    r"""A spec or a command line in typewriter type that may break after ``, : + =`` (a long spec such as
    ``vp:beta_min=1/10,beta_max=20`` has no spaces to break at).

    Example:
        >>> spec_tt("vp:beta_min=1")
        '\\texttt{vp:\\allowbreak{}beta\\char95{}min=\\allowbreak{}1}'
    """
    body = re.sub(r"([,:+=])", r"\1\\allowbreak{}", escape_tt(text))
    return rf"\texttt{{{body}}}"


__all__ = [
    "SYMBOL_NAMES",
    "assumption_report_latex",
    "bounds_latex",
    "breakable",
    "constant_latex",
    "escape_text",
    "escape_tt",
    "flow_map_latex",
    "interval_latex",
    "label_key",
    "latex_expr",
    "membership_latex",
    "number_latex",
    "schedule_latex",
    "schedule_params_latex",
    "spec_tt",
    "target_latex",
    "to_latex",
    "velocity_latex",
]
