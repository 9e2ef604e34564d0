r"""Standalone LaTeX reports of a flow: every result that applies, in dependency order, with its assumptions.

:func:`make_report` builds a document (``article`` with amsmath, amssymb, amsthm; nothing
outside TeX Live's base and recommended packages): the setting; the schedule with its assumption report;
the target and its classes; every applicable lemma in dependency order as a theorem-like environment with
a ``\label``, its assumptions, the formula instantiated for this flow and a ``\uses{…}`` line (``\uses`` is
a no-op macro here, so the file compiles on its own and also feeds leanblueprint's dependency graph); a
table of the bounds at chosen times; the flow-map constants; and, when a verify run is given, a figure of
bound against observed worst case. :func:`compile_pdf` runs pdflatex until the cross-references settle
and fails with a :class:`~gifsym.errors.LatexError` on any LaTeX error or undefined reference.

Every formula is printed by SymPy (:mod:`gifsym.output.latex`); nothing here imports JAX unless a verify run
is asked for.

Example:
    >>> from gifsym import GIF, schedule, target
    >>> tex = make_report(GIF(schedule("linear"), target("gaussian:sigma=0.5")), at=(0.5,)).tex
    >>> tex.startswith("\\documentclass") and "\\providecommand{\\uses}" in tex
    True
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy

from gifsym import theory
from gifsym.errors import AssumptionError, GifsymError, LatexError
from gifsym.io import atomic_path, write_atomic
from gifsym.output.latex import (
    assumption_report_latex,
    constant_latex,
    escape_text,
    escape_tt,
    interval_latex,
    label_key,
    latex_expr,
    number_latex,
    schedule_params_latex,
    target_latex,
)
from gifsym.symbolic.flow import LAM, component_coefficients, general_coefficients, instantiate, tidy
from gifsym.symbolic.schedule import t
from gifsym.theory import lemmas
from gifsym.theory.stability import source_stability
from gifsym.version import __version__

#: Times of the bounds table when none are given.
DEFAULT_TIMES = (0.0, 0.25, 0.5, 0.75, 0.9, 0.99)

# Formulas longer than this (in LaTeX characters) are broken at a top-level max/min/sum before being
# shrunk to the line width; shorter ones are only shrunk if they do not fit.
_SPLIT_CHARS = 600

# OT1 (the default) rather than T1: with TeX Live's base packages T1 falls back to bitmap fonts whose
# ligatures pdftotext cannot read back; OT1 uses the Type 1 Computer Modern fonts.
PREAMBLE = r"""\documentclass[11pt]{article}
\usepackage[utf8]{inputenc}
\usepackage{amsmath,amssymb,amsthm}
\usepackage{graphicx}
\usepackage{booktabs}
\usepackage[margin=2.3cm]{geometry}
\usepackage[hidelinks]{hyperref}
\allowdisplaybreaks

% leanblueprint's dependency macros; no-ops when the file is compiled on its own.
\providecommand{\uses}[1]{}
\providecommand{\lean}[1]{}
\providecommand{\leanok}{}
\providecommand{\notready}{}

\theoremstyle{plain}
\newtheorem{theorem}{Theorem}[section]
\newtheorem{lemma}[theorem]{Lemma}
\newtheorem{proposition}[theorem]{Proposition}
\newtheorem{corollary}[theorem]{Corollary}
\theoremstyle{definition}
\newtheorem{definition}[theorem]{Definition}
\newtheorem{assumption}[theorem]{Assumption}
\theoremstyle{remark}
\newtheorem*{remark}{Remark}

% A displayed formula, shrunk to the line width when SymPy's expression is wider than the page.
\newsavebox{\gifsymbox}
\newcommand{\gifsymdisplay}[1]{\par\smallskip\noindent%
  \sbox{\gifsymbox}{$\displaystyle #1$}%
  \ifdim\wd\gifsymbox>\linewidth\resizebox{\linewidth}{!}{\usebox{\gifsymbox}}%
  \else\makebox[\linewidth]{\usebox{\gifsymbox}}\fi\par\smallskip}
"""

# Theorem-like environment for each lemma kind (unknown kinds read as lemmas).
_ENVIRONMENTS = {
    "definition": "definition",
    "lemma": "lemma",
    "proposition": "proposition",
    "theorem": "theorem",
    "corollary": "corollary",
}


# --------------------------------------------------------------------------------------------------------
# Formula display


def display(lhs: str, expr: Any, *, rel: str = "=") -> str:
    r"""A displayed formula ``lhs rel expr`` that fits the page.

    A long top-level ``Max``/``Min`` is shown as ``\max(A_1, …)`` followed by each ``A_i``; a long sum is
    broken into one line per group of terms; anything still wider than the line is scaled down by the
    ``\gifsymdisplay`` macro of the preamble.

    Example:
        >>> from gifsym import t
        >>> display("u_t", 1 / (1 - t))
        '\\gifsymdisplay{u_t = \\frac{1}{1 - t}}'
    """
    body = _expr_latex(expr)
    if len(body) <= _SPLIT_CHARS or not isinstance(expr, sympy.Basic):
        return rf"\gifsymdisplay{{{lhs} {rel} {body}}}"
    if isinstance(expr, (sympy.Max, sympy.Min)):
        op = r"\max" if isinstance(expr, sympy.Max) else r"\min"
        names = [rf"A^{{({i + 1})}}_t" for i in range(len(expr.args))]
        lines = [rf"\gifsymdisplay{{{lhs} {rel} {op}\left({', '.join(names)}\right), \quad\text{{where}}}}"]
        lines += [display(n, a) for n, a in zip(names, sorted(expr.args, key=sympy.default_sort_key))]
        return "\n".join(lines)
    if isinstance(expr, sympy.Piecewise):
        # One line per branch: a long `cases` block would only be shrunk to an unreadable size.
        out = []
        for value, cond in expr.args:
            when = r"\text{otherwise}" if cond == sympy.true else rf"\text{{for }} {latex_expr(cond)}"
            branch = _expr_latex(value)
            if len(branch) <= _SPLIT_CHARS:
                out.append(rf"\gifsymdisplay{{{lhs} {rel} {branch} \qquad {when}}}")
            else:
                out += [rf"\gifsymdisplay{{{when}:}}", display(lhs, value, rel=rel)]
        return "\n".join(out)
    if isinstance(expr, sympy.Add):
        terms = sympy.Add.make_args(expr)
        chunks, cur = [], []
        for term in terms:
            cur.append(term)
            if len(latex_expr(sympy.Add(*cur, evaluate=False))) > _SPLIT_CHARS // 2:
                chunks.append(cur)
                cur = []
        if cur:
            chunks.append(cur)
        if len(chunks) > 1:
            first = rf"\gifsymdisplay{{{lhs} {rel} {latex_expr(sympy.Add(*chunks[0], evaluate=False))}}}"
            rest = [
                rf"\gifsymdisplay{{\qquad + {latex_expr(sympy.Add(*c, evaluate=False))}}}" for c in chunks[1:]
            ]
            return "\n".join([first, *rest])
    return rf"\gifsymdisplay{{{lhs} {rel} {body}}}"


def _expr_latex(expr: Any) -> str:
    if expr is None:
        return r"\infty"
    if hasattr(expr, "to_latex") and not isinstance(expr, sympy.Basic):
        return expr.to_latex()
    if isinstance(expr, (sympy.Basic, sympy.MatrixBase, int, float)):
        return latex_expr(expr)
    return rf"\text{{{escape_text(str(expr))}}}"


# --------------------------------------------------------------------------------------------------------
# Pieces gathered from the engine


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for n in names:
        if isinstance(obj, Mapping) and n in obj:
            return obj[n]
        if not isinstance(obj, Mapping) and hasattr(obj, n):
            return getattr(obj, n)
    return default


@dataclass(frozen=True)
class LemmaEntry:
    """One lemma as the report shows it."""

    name: str
    kind: str
    statement: str
    assumptions: tuple[str, ...]
    uses: tuple[str, ...]
    formula: Any = None  # the instantiated result: a SymPy object, a mapping of them, or None
    title: str | None = None
    reference: str = ""

    @property
    def label(self) -> str:
        return "lem:" + label_key(self.name)


def applicable_lemmas(gif: Any) -> tuple[list[LemmaEntry], list[tuple[str, tuple[str, ...]]]]:
    """The lemmas that hold for ``gif`` in dependency order, and the others with the assumptions they miss."""
    names = list(lemmas.applicable(gif))  # already in dependency order
    entries = [_entry(lemmas, n, gif) for n in names]
    reg = lemmas.registry()
    missing = []
    for n in reg.names():
        if n in names:
            continue
        try:
            need = tuple(sorted(reg.missing(n, gif)))
        except GifsymError:
            need = ()
        missing.append((n, need))
    return entries, missing


def _entry(lemmas: Any, name: str, gif: Any) -> LemmaEntry:
    lem = lemmas.get(name)
    try:
        formula = lemmas.derive(name, gif)
    except GifsymError:  # e.g. an alternative that needs a proof the checker could not give
        formula = None
    return LemmaEntry(
        name,
        lem.kind,
        lem.statement,
        tuple(lem.assumptions),
        tuple(lem.uses) + tuple(getattr(lem, "any_of", ())),
        formula,
        lem.title or None,
        getattr(lem, "reference", "") or "",
    )


# --------------------------------------------------------------------------------------------------------
# Sections


def _section_setting(gif: Any, command: str | None) -> str:
    s = gif.schedule
    lines = [
        r"\section{Setting}",
        r"The Gaussian interpolation flow interpolates between noise and data,",
        r"\[ X_t = a_t Z + b_t X_1, \qquad Z \sim N(0, I_d), \quad X_1 \sim \nu, \quad t \in [0, 1], \]",
        r"with noise at $t = 0$ and data at $t = 1$. The velocity field "
        r"$v(t, x) = E[\dot a_t Z + \dot b_t X_1 \mid X_t = x]$ transports $p_0$ to $p_1 = \nu$ along "
        r"the ODE "
        r"$\dot X_t = v(t, X_t)$. We write $m(t, x) = E[X_1 \mid X_t = x]$ and "
        r"$C(t, x) = \operatorname{Cov}(X_1 \mid X_t = x)$.",
        "",
        rf"This report is about the schedule \texttt{{{escape_tt(s.spec)}}} and the target "
        rf"\texttt{{{escape_tt(gif.target.spec)}}}. Every formula below was derived by gifsym with SymPy "
        r"from "
        r"these two inputs and printed by SymPy's \LaTeX{} printer.",
    ]
    if command:
        lines += [
            "",
            r"Reproduce it with",
            r"\begin{quote}\ttfamily\small " + escape_tt(command) + r"\end{quote}",
        ]
    return "\n".join(lines)


def _section_schedule(gif: Any) -> str:
    s = gif.schedule
    params = schedule_params_latex(s)
    lines = [
        r"\section{Schedule}\label{sec:schedule}",
        rf"Schedule \texttt{{{escape_tt(s.spec)}}}" + (f" with {params}" if params else "") + ".",
    ]
    lines += [
        display("a_t", s.a),
        display("b_t", s.b),
        display(r"\dot a_t", s.da),
        display(r"\dot b_t", s.db),
        display(r"r_t = \frac{b_t}{a_t}", s.snr),
    ]
    lines += [
        r"\subsection{Assumptions}\label{sec:assumptions}",
        "Each assumption is checked by gifsym (holds = proved; violated = a counterexample was found; "
        "unknown = neither).",
        assumption_report_latex(s.check()),
    ]
    return "\n".join(lines)


def _section_target(gif: Any) -> str:
    return "\n".join([r"\section{Target}\label{sec:target}", target_latex(gif.target)])


def _section_velocity(gif: Any) -> str:
    """The velocity field and its Jacobian: exact for an isotropic Gaussian, the per-component form for
    other exact laws (the full expression of a mixture is pages long), the general form for a class."""
    lines = [r"\section{Velocity field}\label{sec:velocity}"]
    law = gif.target.law
    if law is not None and hasattr(law, "points"):  # data (gifsym.symbolic.empirical): the softmax over points
        cx, cm, _, _ = (tidy(instantiate(e, gif.schedule).subs(LAM, law.sigma**2)) for e in component_coefficients())
        smooth = rf" smoothed by $N(0, \sigma^2 I)$, $\sigma = {latex_expr(law.sigma)}$" if law.smoothed else ""
        lines.append(
            rf"The target is the empirical law of $N = {law.N}$ points $y_i \in \mathbb{{R}}^{{{law.dim}}}$"
            rf"{smooth}. With $s_t = a_t^2 + \sigma^2 b_t^2$ and the responsibilities $r_i(t, x) \propto "
            r"\exp(-|x - b_t y_i|^2 / (2 s_t))$, $v(t, x) = c_x x + c_m \sum_i r_i(t, x)\, y_i$ with"
        )
        lines.append(display(r"c_x", cx))
        lines.append(display(r"c_m", cm))
    elif law is not None and law.K == 1 and law.components[0].sigma is not None:
        lines.append("The target is an isotropic Gaussian, so the velocity field is exact and affine in $x$:")
        lines.append(display("v(t, x)", gif.velocity()))
        lines.append(display(r"\nabla_x v(t, x)", gif.jacobian()))
    elif law is not None:
        cx, cm, _, _ = (instantiate(e, gif.schedule) for e in component_coefficients())
        lines.append(
            rf"The target is {'a Gaussian' if law.K == 1 else f'a mixture of {law.K} Gaussians'} "
            r"$\sum_k w_k N(m_k, \Sigma_k)$. Given component $k$, $X_t \sim N(b_t m_k, a_t^2 I + b_t^2 "
            r"\Sigma_k)$, and the component's velocity is $v_k(t, x) = c_x(\Sigma_k)\, x + c_m(\Sigma_k)\, "
            r"m_k$, where, along an eigendirection of $\Sigma_k$ with eigenvalue $\lambda$,"
        )
        lines.append(display(r"c_x(\lambda)", cx))
        lines.append(display(r"c_m(\lambda)", cm))
        if law.K > 1:
            lines.append(
                r"The velocity field is $v(t, x) = \sum_k r_k(t, x)\, v_k(t, x)$ with the responsibilities "
                r"$r_k(t, x) \propto w_k\, N(x;\, b_t m_k,\, a_t^2 I + b_t^2 \Sigma_k)$."
            )
    else:
        # Instantiated without GIF.coefficients' simplify, which can run for minutes on exponential schedules.
        g = general_coefficients()
        cx_, cm_, cC = (instantiate(e, gif.schedule) for e in (g.x, g.m, g.C))
        lines.append(
            "For a class of targets the velocity field is known through the posterior mean and "
            "covariance (denoiser form and the key identity):"
        )
        lines.append(display("v(t, x)", sympy.Symbol("x") * cx_ + sympy.Symbol("m") * cm_))
        lines.append(display(r"\nabla_x v(t, x)", cx_ * sympy.Symbol("I") + cC * sympy.Symbol("C")))
    return "\n".join(lines)


def _formula_latex(formula: Any) -> str:
    if formula is None:
        return ""
    if hasattr(formula, "to_latex") and not isinstance(formula, sympy.Basic):
        # The engine's result objects (envelopes, bound pieces, constants) print maths, not text.
        return rf"\gifsymdisplay{{{formula.to_latex()}}}"
    if isinstance(formula, Mapping):
        parts = []
        for k, v in formula.items():
            if v is None or isinstance(v, (str, bool)):
                continue
            # The keys name parts of a result (a coefficient, a side, a constant), not equalities.
            parts.append(display(rf"\text{{\texttt{{{escape_tt(str(k))}}}:}}\quad", v, rel=""))
        return "\n".join(parts)
    if isinstance(formula, (tuple, list)):
        return "\n".join(_formula_latex(f) for f in formula)
    if isinstance(formula, (sympy.Basic, sympy.MatrixBase)):
        if isinstance(formula, sympy.Equality):
            return display(latex_expr(formula.lhs), formula.rhs)
        return rf"\gifsymdisplay{{{latex_expr(formula)}}}"
    return ""


def _section_lemmas(entries: Sequence[LemmaEntry], missing: Sequence[tuple[str, tuple[str, ...]]]) -> str:
    present = {e.name for e in entries}
    lines = [
        r"\section{Results}\label{sec:results}",
        "Every result that holds for this flow, in dependency order. Each names the assumptions it needs "
        "directly (schedule assumptions of Section~\\ref{sec:assumptions}, target classes of "
        "Section~\\ref{sec:target}) and the results it uses.",
    ]
    for e in entries:
        env = _ENVIRONMENTS.get(e.kind.lower(), "lemma")
        title = e.title or e.name
        lines.append(rf"\begin{{{env}}}[{escape_text(title)}]\label{{{e.label}}}")
        used = [u for u in e.uses if u in present]
        lines.append(r"\uses{" + ",".join("lem:" + label_key(u) for u in used) + "}")
        if e.statement:
            lines.append(e.statement)
        formula = _formula_latex(e.formula)
        if formula:
            lines += [r"\par\noindent For this flow:", formula]
        ass = ", ".join(escape_text(a) for a in e.assumptions) or (
            "none beyond those of the results it uses" if e.uses else "none"
        )
        lines.append(rf"\par\noindent\textit{{Assumptions:}} {ass}.")
        if e.reference:
            lines.append(rf"\par\noindent\textit{{Reference:}} {escape_text(e.reference)}.")
        if e.uses:
            refs = [
                rf"\ref{{lem:{label_key(u)}}}"
                if u in present
                else rf"\texttt{{{escape_tt(u)}}} (does not apply)"
                for u in e.uses
            ]
            lines.append(r"\par\noindent\textit{Uses:} " + ", ".join(refs) + ".")
        lines.append(rf"\end{{{env}}}")
        lines.append("")
    if missing:
        lines += [
            r"\subsection*{Results that do not apply}",
            "These lemmas need assumptions this flow does not satisfy (or that could not be proved):",
            r"\begin{itemize}",
        ]
        for name, need in missing:
            why = ", ".join(escape_text(n) for n in need) if need else "its premises"
            lines.append(rf"  \item \texttt{{{escape_tt(name)}}}: needs {why}")
        lines.append(r"\end{itemize}")
    return "\n".join(lines)


def bound_values(bounds: Any, times: Iterable[float]) -> list[dict[str, Any]]:
    """``[{t, upper, lower, lipschitz}]`` at the given times, from the Bounds object's own evaluator
    (``Bounds.values``), the same numbers as ``gifsym bounds --json``'s ``values``.

    Values are floats (``±inf`` where no bound holds) or SymPy expressions when symbolic parameters remain.
    """
    times = [float(x) for x in times]
    f = getattr(bounds, "values", None)
    if callable(f):
        rows = f(times)
    else:
        rows = [
            {"t": x, **{k: _eval(_get(bounds, k), x) for k in ("upper", "lower", "lipschitz")}} for x in times
        ]
    return [
        {
            "t": float(_get(r, "t", default=x)),
            **{k: _plain(_get(r, k)) for k in ("upper", "lower", "lipschitz")},
        }
        for r, x in zip(rows, times)
    ]


def _plain(v: Any) -> Any:
    """A float for any number (SymPy's included), ``nan`` for None; symbolic values stay SymPy."""
    if v is None:
        return float("nan")
    if isinstance(v, sympy.Basic) and v.free_symbols:
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def _eval(expr: Any, x: float) -> Any:
    if expr is None:
        return None
    if not isinstance(expr, sympy.Basic):
        return expr
    try:
        v = expr.subs(t, sympy.nsimplify(x)).evalf(30)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return v if v.is_real is not False else None


def _section_bounds(gif: Any, times: Sequence[float], present: set[str]) -> tuple[str, Any]:
    try:
        b = theory.bounds(gif)
    except AssumptionError as e:
        return "\n".join(
            [
                r"\section{Bounds on the Jacobian of the velocity}\label{sec:bounds}",
                "No bound on the Jacobian applies to this flow: " + escape_text(str(e)),
            ]
        ), None
    upper, lower, theta = _get(b, "upper"), _get(b, "lower"), _get(b, "lipschitz", "theta")
    lines = [
        r"\section{Bounds on the Jacobian of the velocity}\label{sec:bounds}",
        r"Two-sided bounds $\ell_t I \preceq \nabla_x v(t, x) \preceq u_t I$ for all $x$, and the Lipschitz "
        r"constant $\theta_t = \sup_x \|\nabla_x v(t, x)\|_{\mathrm{op}} \le \max(|u_t|, |\ell_t|)$"
        r" ($\pm\infty$ where no bound holds):",
    ]
    lines += [display(r"u_t", upper), display(r"\ell_t", lower), display(r"\theta_t", theta)]
    for attr, what in (
        ("upper_interval", "upper bound"),
        ("lower_interval", "lower bound"),
        ("interval", "both"),
    ):
        interval = _get(b, attr)
        if interval is not None:
            lines.append(
                rf"\par\noindent The {what} {'hold' if what == 'both' else 'holds'} for "
                rf"$t \in {interval_latex(interval)}$."
            )
    lemma_names = _get(b, "lemmas")
    if lemma_names:
        # Ragged right: long unbreakable \texttt names would otherwise run into the margin.
        refs = ", ".join(_lemma_ref(n, present) for n in lemma_names)
        lines.append(r"\par\noindent{\raggedright They come from " + refs + ".\\par}")
    notes = _get(b, "notes") or ()
    if notes:
        lines += [r"\begin{itemize}"] + [rf"  \item {escape_text(n)}" for n in notes] + [r"\end{itemize}"]
    values = bound_values(b, times)
    lines += [
        r"\begin{table}[ht]\centering",
        rf"\caption{{Bounds at chosen times (schedule \texttt{{{escape_tt(gif.schedule.spec)}}}, "
        rf"target \texttt{{{escape_tt(gif.target.spec)}}}).}}\label{{tab:bounds}}",
        r"\begin{tabular}{rrrr}\toprule",
        r"$t$ & $\ell_t$ & $u_t$ & $\theta_t$ \\ \midrule",
    ]
    for r in values:
        lines.append(
            " & ".join(f"${number_latex(r[k])}$" for k in ("t", "lower", "upper", "lipschitz")) + r" \\"
        )
    lines += [
        r"\bottomrule\end{tabular}",
        r"\end{table}",
        r"Table~\ref{tab:bounds} lists the bounds at the chosen times.",
    ]
    return "\n".join(lines), b


def _lemma_ref(name: Any, present: set[str]) -> str:
    name = str(name)
    if name in present:
        return rf"\ref{{lem:{label_key(name)}}} (\texttt{{{escape_tt(name)}}})"
    return rf"\texttt{{{escape_tt(name)}}}"


def _section_flow_map(gif: Any, present: set[str]) -> str:
    try:
        fm = theory.flow_map_lipschitz(gif)
    except AssumptionError as e:
        return "\n".join([r"\section{Flow-map constants}\label{sec:flowmap}", escape_text(str(e))])
    lines = [
        r"\section{Flow-map constants}\label{sec:flowmap}",
        r"Lipschitz constants of the flow map $X_{0,1}$ (noise $\to$ data) and of its inverse $X_{1,0}$ "
        r"(data $\to$ noise), from $\operatorname{Lip}(X_{0,1}) \le \exp\int_0^1 u_t\,dt$ and "
        r"$\operatorname{Lip}(X_{1,0}) \le \exp(-\int_0^1 \ell_t\,dt)$ (Gr\"onwall, $\nabla_x v$ symmetric).",
        r"\begin{center}\begin{tabular}{lll}\toprule",
        r"map & constant & how \\ \midrule",
    ]
    constants = []
    for attr, name in (
        ("forward", r"$\operatorname{Lip}(X_{0,1})$"),
        ("reverse", r"$\operatorname{Lip}(X_{1,0})$"),
    ):
        c = _get(fm, attr)
        constants.append((attr, c))
        lines.append(f"{name} & ${_constant(c)}$ & {_how(c)} \\\\")
    lines += [r"\bottomrule\end{tabular}\end{center}"]
    interval = _get(fm, "interval")
    if interval is not None:
        lines.append(
            rf"The flow is well posed for $t \in {interval_latex(interval)}$"
            + (" (on $[0, T]$ for every $T < 1$)" if _right_open_at_one(interval) else "")
            + "."
        )
    for attr, c in constants:
        lhs = r"\operatorname{Lip}(X_{0,T})" if attr == "forward" else r"\operatorname{Lip}(X_{T,0})"
        f_T = _get(c, "as_function_of_T")
        if (
            isinstance(f_T, sympy.Basic)
            and not isinstance(f_T, sympy.Piecewise)
            and f_T.has(sympy.Piecewise)
            and len(latex_expr(f_T)) > _SPLIT_CHARS
        ):
            # Piecewise in T inside exponentials: shrunk to the page it would be unreadable.
            lines.append(
                rf"\par\noindent As a function of the horizon $T$ ({attr}): a piecewise expression, "
                r"given in full by \texttt{gifsym bounds --json}."
            )
        elif isinstance(f_T, sympy.Basic):
            lines += [
                rf"\par\noindent As a function of the horizon $T$ ({attr}):",
                display(lhs, f_T, rel=r"\le"),
            ]
        end = _get(c, "endpoint_formula")
        if isinstance(end, sympy.Basic):
            lines += [
                rf"\par\noindent Schedule-free form ({attr}; it depends on the schedule only through "
                r"$a_0, b_0$):",
                display(lhs.replace("T", "1"), end, rel=r"\le"),
            ]
        reason = _get(c, "reason")
        if reason:
            lines.append(rf"\par\noindent {attr.capitalize()}: {escape_text(reason)}.")
    notes = _get(fm, "notes") or ()
    if notes:
        lines += [r"\begin{itemize}"] + [rf"  \item {escape_text(n)}" for n in notes] + [r"\end{itemize}"]
    lemma_names = _get(fm, "lemmas")
    if lemma_names:
        refs = ", ".join(_lemma_ref(n, present) for n in lemma_names)
        lines.append(r"\par\noindent{\raggedright From " + refs + ".\\par}")
    return "\n".join(lines)


def _section_stability(gif: Any, present: set[str]) -> str:
    """Source stability: the flow map's Lipschitz constant times W₂ of the sources, and the cost of starting
    from the Gaussian N(0, a₀² I) when b₀ > 0 (VP, sub-VP, VE)."""
    try:
        st = source_stability(gif)
    except GifsymError:  # the forward constant is not known for this flow
        return ""
    lines = [
        r"\section{Stability in the source}\label{sec:stability}",
        r"For two sources $\mu, \tilde\mu$, $W_2\big((X_{0,1})_\# \mu, (X_{0,1})_\# \tilde\mu\big) \le "
        r"\operatorname{Lip}(X_{0,1})\, W_2(\mu, \tilde\mu)$; here, with $W = W_2(\mu, \tilde\mu)$:",
        display(r"W_2\big((X_{0,1})_\# \mu, (X_{0,1})_\# \tilde\mu\big)", st.bound, rel=r"\le"),
        r"The true source is $\mu = \operatorname{Law}(a_0 Z + b_0 X_1)$, which is the Gaussian "
        r"$N(0, a_0^2 I)$ one samples in practice only when $b_0 = 0$. Coupling the two through the "
        r"same $Z$:",
        display(r"W_2\big(\mu, N(0, a_0^2 I)\big)", st.gaussian_start_cost, rel=r"\le"),
        display(r"W_2\big((X_{0,1})_\# N(0, a_0^2 I), \nu\big)", st.pushed_gaussian_start, rel=r"\le"),
    ]
    value = st.pushed_gaussian_start_value
    if value is not None and st.gaussian_start_cost_value:
        lines.append(
            rf"Numerically: the cost of starting from the Gaussian is at most "
            rf"${number_latex(st.gaussian_start_cost_value)}$ in $W_2$ at the source and "
            rf"${number_latex(value)}$ at the target."
        )
    elif st.gaussian_start_cost_value == 0:
        lines.append(
            r"Here $b_0 = 0$: the source is exactly Gaussian and starting from $N(0, a_0^2 I)$ costs nothing."
        )
    if "source-stability" in present:
        lines.append(r"\par\noindent From " + _lemma_ref("source-stability", present) + ".")
    return "\n".join(lines)


def _right_open_at_one(interval: Any) -> bool:
    return isinstance(interval, sympy.Interval) and interval.sup == 1 and bool(interval.right_open)


def _constant(c: Any) -> str:
    if c is None:
        return r"\infty"
    value = c if isinstance(c, (sympy.Basic, float, int)) else _get(c, "value", default=None)
    if isinstance(value, sympy.Float):
        return number_latex(float(value), digits=10)
    return constant_latex(value)


def _how(c: Any) -> str:
    if c is None:
        return "unbounded"
    value = c if isinstance(c, (sympy.Basic, float, int)) else _get(c, "value", default=None)
    if value is None or (isinstance(value, sympy.Basic) and value in (sympy.oo, sympy.zoo)):
        return "unbounded" + (" (not applicable)" if _get(c, "method") == "not applicable" else "")
    method = _get(c, "method", default=None)
    cond = " (if the flow is well posed)" if _get(c, "conditional_on", default=None) else ""
    if _get(c, "numeric", default=False):
        enc = _get(c, "enclosure", default=None)
        if _get(c, "kind", default="estimate") == "certified" and enc is not None:
            return (f"certified, in $[{number_latex(float(enc[0]), digits=15)}, "
                    f"{number_latex(float(enc[1]), digits=15)}]$" + cond)
        return "estimate (no guarantee)" + cond
    return (escape_text(str(method)) if method else "exact") + cond


def _section_verify(report: Any, figure: str | None) -> str:
    lines = [
        r"\section{Numerical checks}\label{sec:verify}",
        "gifsym checked the results above numerically on this flow (JAX, float64)",
    ]
    member = _get(report, "member")
    if member:
        lines[-1] += rf" on a concrete member of the class, {escape_text(str(member))}"
    samples = _get(report, "samples")
    lines[-1] += f", with {samples} samples." if samples else "."
    checks = _checks(report)
    if checks:
        lines += [
            r"\begin{center}\small\begin{tabular}{llp{10cm}}\toprule",
            r"check & result & what was compared \\ \midrule",
        ]
        for name, status, detail in checks:
            shown = {"passed": "passed", "failed": r"\textbf{FAILED}", "skipped": r"\textit{skipped}"}.get(
                status, escape_text(status)
            )
            lines.append(f"{escape_text(name)} & {shown} & {escape_text(detail)} \\\\")
        lines += [r"\bottomrule\end{tabular}\end{center}"]
    table = report.to_latex() if hasattr(report, "to_latex") else ""
    if table and r"\begin{tabular}" in table and table.count(r"\\") > 1:
        lines += [
            r"Per time, the bounds against the extreme eigenvalues of $\nabla_x v$ observed over samples of "
            r"$p_t$ and a search for the worst $x$ (tightness: $\max|\lambda| / \theta_t$):",
            r"\begin{center}\small",
            table,
            r"\end{center}",
        ]
    if figure:
        lines += [
            r"\begin{figure}[ht]\centering",
            rf"\includegraphics[width=\linewidth]{{{figure}}}",
            r"\caption{Bound against observed worst case: the extreme eigenvalues of $\nabla_x v$ over "
            r"samples and a search for the worst $x$, against $\ell_t$ and $u_t$.}\label{fig:verify}",
            r"\end{figure}",
            r"Figure~\ref{fig:verify} compares each bound with the worst case observed.",
        ]
    return "\n".join(lines)


def _checks(report: Any) -> list[tuple[str, str, str]]:
    """``(name, status, message)`` of each check of a verify report (object or its dict)."""
    data = report.to_dict() if hasattr(report, "to_dict") else report
    out = []
    for c in _get(data, "checks", default=None) or []:
        name = str(_get(c, "name", default="check"))
        status = str(_get(c, "status", default="")).lower()
        if status not in ("passed", "failed", "skipped"):
            status = "passed" if _get(c, "passed", default=False) else "failed"
        out.append((name, status, str(_get(c, "message", default=""))[:300]))
    return out


# --------------------------------------------------------------------------------------------------------
# The document


@dataclass(frozen=True)
class Report:
    """A built report: the LaTeX source and what it contains.

    Attributes:
        tex: the document source.
        lemmas: the names of the lemmas shown, in dependency order.
        figure: the file name of the verify figure the document includes, if any.
    """

    tex: str
    lemmas: tuple[str, ...] = ()
    figure: str | None = None
    values: tuple[dict, ...] = field(default=(), compare=False)

    def to_latex(self) -> str:
        return self.tex


def make_report(
    gif: Any,
    *,
    at: Sequence[float] = DEFAULT_TIMES,
    verify_report: Any = None,
    figure: str | None = None,
    command: str | None = None,
    title: str | None = None,
) -> Report:
    """A standalone LaTeX report on ``gif``: the source (``.tex``) and what it contains.

    Args:
        gif: the flow (a :class:`~gifsym.symbolic.flow.Flow`, e.g. a :class:`gifsym.GIF`).
        at: times of the bounds table.
        verify_report: a :class:`gifsym.numerics.verify.VerifyReport` (or its dict) to include, or None.
        figure: file name (relative to the .tex) of a figure of bound vs observed worst case, or None.
        command: the command line that reproduces the report (shown in the document).
        title: document title (default: schedule and target).

    Returns:
        A :class:`Report`; ``report.tex`` is the document source.
    """
    for x in at:
        if not 0 <= float(x) <= 1:
            raise GifsymError(f"report time {x} is outside [0, 1]")
    # A σ_min path (a_1 > 0) is reported as the GIF of the smoothed target it is (gifsym.convert).
    from gifsym.symbolic.convert.sigma_min import equivalent_flow

    original = gif
    gif, sigma_path = equivalent_flow(gif)
    entries, missing = applicable_lemmas(gif)
    s, tg = original.schedule, original.target
    head = (
        escape_text(title)
        if title
        else (
            rf"gifsym report\\[0.4em]\large schedule \texttt{{{escape_tt(s.spec)}}}, "
            rf"target \texttt{{{escape_tt(tg.spec)}}}"
        )
    )
    parts = [
        PREAMBLE,
        rf"\title{{{head}}}",
        rf"\author{{gifsym {escape_text(__version__)}}}",
        r"\date{}",  # no date: the same inputs give the same file
        r"\begin{document}",
        r"\maketitle",
        _section_setting(original, command),
        _section_schedule(original),
    ]
    if sigma_path is not None:
        parts += [r"\section{A $\sigma_{\min}$ path}",
                  escape_text(sigma_path.describe() + f". Reparametrised schedule: a~_t = {sigma_path.schedule.a}, "
                              f"b_t = {sigma_path.schedule.b}; smoothed target: {gif.target.spec}. "
                              f"Velocity identity: {sigma_path.identity.reason}. Everything below is for "
                              "that GIF.")]
    parts += [
        _section_target(gif),
        _section_velocity(original),
    ]
    if entries or missing:
        parts.append(_section_lemmas(entries, missing))
    bounds_tex, bounds = _section_bounds(gif, at, {e.name for e in entries})
    if bounds_tex:
        parts.append(bounds_tex)
        parts.append(_section_flow_map(gif, {e.name for e in entries}))
        parts.append(_section_stability(gif, {e.name for e in entries}))
    if verify_report is not None or figure:
        parts.append(_section_verify(verify_report, figure))
    parts.append(r"\end{document}")
    values = tuple(bound_values(bounds, at)) if bounds is not None else ()
    return Report("\n\n".join(p for p in parts if p) + "\n", tuple(e.name for e in entries), figure, values)


# --------------------------------------------------------------------------------------------------------
# Compiling


_INCLUDES = re.compile(r"\\includegraphics(?:\[[^\]]*\])?\{([^}]+)\}")
_UNDEFINED = re.compile(r"LaTeX Warning: (?:Reference|Citation) `([^']+)' on page \d+ undefined")


def pdflatex_path() -> str:
    """The ``pdflatex`` executable, or a :class:`LatexError` saying how to install it."""
    exe = shutil.which("pdflatex")
    if exe is None:
        raise LatexError(
            "pdflatex not found; install TeX Live (Debian: apt-get install texlive-latex-base "
            "texlive-latex-recommended texlive-latex-extra) or drop --pdf"
        )
    return exe


def compile_pdf(
    tex_path: str | os.PathLike,
    *,
    pdf_path: str | os.PathLike | None = None,
    max_runs: int = 4,
    timeout: float = 180.0,
) -> str:
    """Compile a .tex file with pdflatex into ``pdf_path`` (default: next to it), atomically.

    pdflatex runs in a scratch folder (so no .aux/.log litter and no half-written PDF) at least twice and
    until the cross-references settle. Figures named by ``\\includegraphics`` are taken from the folder of
    the .tex file.

    Raises:
        LatexError: pdflatex is missing, fails (the message quotes LaTeX's error and line), or leaves an
            undefined reference.

    Returns:
        The path of the PDF.
    """
    exe = pdflatex_path()
    tex_path = os.fspath(tex_path)
    if not os.path.isfile(tex_path):
        raise LatexError(f"no such LaTeX file: {tex_path!r}")
    pdf_path = os.fspath(pdf_path) if pdf_path is not None else os.path.splitext(tex_path)[0] + ".pdf"
    src_dir = os.path.dirname(os.path.abspath(tex_path))
    with open(tex_path, encoding="utf-8") as f:
        source = f.read()
    with tempfile.TemporaryDirectory(prefix="gifsym-latex-") as work:
        job = "report"
        with open(os.path.join(work, job + ".tex"), "w", encoding="utf-8") as f:
            f.write(source)
        for name in _INCLUDES.findall(source):
            src = os.path.join(src_dir, name)
            if not os.path.isfile(src):
                raise LatexError(f"{tex_path}: figure {name!r} not found next to the .tex file")
            dst = os.path.join(work, name)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(src, dst)
        log = ""
        for run in range(1, max_runs + 1):
            log = _run_pdflatex(exe, work, job, timeout, tex_path)
            if run >= 2 and "Rerun to get" not in log and "Label(s) may have changed" not in log:
                break
        undefined = sorted(set(_UNDEFINED.findall(log)))
        if undefined or "There were undefined references" in log:
            raise LatexError(
                f"{tex_path}: undefined reference(s) after {run} pdflatex runs: "
                + (", ".join(undefined) or "see the log")
            )
        with atomic_path(pdf_path) as tmp:
            shutil.copyfile(os.path.join(work, job + ".pdf"), tmp)
    return pdf_path


def _run_pdflatex(exe: str, work: str, job: str, timeout: float, shown: str) -> str:
    cmd = [
        exe,
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-file-line-error",
        "-no-shell-escape",
        job + ".tex",
    ]
    try:
        proc = subprocess.run(
            cmd,
            cwd=work,
            capture_output=True,
            timeout=timeout,
            env={**os.environ, "TEXINPUTS": ".:" + os.environ.get("TEXINPUTS", "")},
        )
    except subprocess.TimeoutExpired:
        raise LatexError(f"pdflatex on {shown} took longer than {timeout:.0f} s") from None
    log_path = os.path.join(work, job + ".log")
    log = ""
    if os.path.isfile(log_path):
        with open(log_path, encoding="latin-1") as f:
            log = f.read()
    if proc.returncode != 0 or not os.path.isfile(os.path.join(work, job + ".pdf")):
        raise LatexError(
            f"pdflatex failed on {shown}: {latex_error_message(log) or proc.stdout.decode('latin-1')[-500:]}"
        )
    return log


def latex_error_message(log: str) -> str:
    """The first error of a pdflatex log, with its line: ``file:line: message`` and the offending input.

    Example:
        >>> latex_error_message("./report.tex:12: Undefined control sequence.\\nl.12 \\\\foo\\n")
        'line 12: Undefined control sequence. (at: \\\\foo)'
    """
    m = re.search(r"^[^\n:]*\.tex:(\d+): (.*)$", log, re.MULTILINE)
    if m:
        line, msg = m.group(1), m.group(2).strip()
        ctx = re.search(rf"^l\.{line} (.*)$", log, re.MULTILINE)
        return f"line {line}: {msg}" + (f" (at: {ctx.group(1).strip()})" if ctx else "")
    m = re.search(r"^! (.*)$", log, re.MULTILINE)
    return m.group(1).strip() if m else ""


# --------------------------------------------------------------------------------------------------------
# Writing


@dataclass(frozen=True)
class WrittenReport:
    """Paths written by :func:`write_report`."""

    tex: str
    pdf: str | None = None
    figure: str | None = None
    lemmas: tuple[str, ...] = ()


def write_report(
    gif: Any,
    path: str | os.PathLike,
    *,
    at: Sequence[float] = DEFAULT_TIMES,
    pdf: bool = False,
    verify: bool = False,
    samples: int | None = None,
    seed: int = 0,
    command: str | None = None,
) -> WrittenReport:
    """Write the report of ``gif`` to ``path`` (a ``.tex`` file), and optionally compile it.

    Args:
        gif: the flow.
        path: the ``.tex`` file to write (atomically).
        at: times of the bounds table.
        pdf: also compile ``path`` with pdflatex into the ``.pdf`` next to it.
        verify: run :func:`gifsym.numerics.verify` (JAX) and include its checks and a figure of bound against
            observed worst case (written next to the .tex as ``<stem>-verify.pdf``).
        samples: samples for the verify run (its default when None).
        seed: seed of the verify run.
        command: the command line shown in the document.

    Returns:
        The paths written.
    """
    path = os.fspath(path)
    if not path.endswith(".tex"):
        raise GifsymError(f"report file {path!r} must end in .tex (use --pdf for a compiled PDF next to it)")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise GifsymError(f"cannot write {path!r}: folder {folder!r} does not exist")
    report = None
    figure_name = None
    if verify:
        from gifsym.numerics.verify import verify as run_verify
        from gifsym.output.plot import plot_verify

        kwargs: dict[str, Any] = {"seed": seed}
        if samples is not None:
            kwargs["samples"] = samples
        report = run_verify(gif, **kwargs)
        figure_name = os.path.splitext(os.path.basename(path))[0] + "-verify.pdf"
        try:
            plot_verify(report, os.path.join(folder, figure_name))
        except GifsymError:
            figure_name = None  # no per-time records to draw: the report still lists the checks
    rep = make_report(gif, at=at, verify_report=report, figure=figure_name, command=command)
    write_atomic(path, rep.tex)
    pdf_path = compile_pdf(path) if pdf else None
    return WrittenReport(
        path, pdf_path, os.path.join(folder, figure_name) if figure_name else None, rep.lemmas
    )


__all__ = [
    "DEFAULT_TIMES",
    "PREAMBLE",
    "LemmaEntry",
    "Report",
    "WrittenReport",
    "applicable_lemmas",
    "bound_values",
    "compile_pdf",
    "display",
    "latex_error_message",
    "make_report",
    "pdflatex_path",
    "write_report",
]
