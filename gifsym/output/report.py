r"""Standalone LaTeX reports of a flow: every result that applies, in dependency order, ready for a paper.

:func:`make_report` builds a document (``article`` with amsmath, amssymb, amsthm; nothing outside TeX
Live's base and recommended packages): the setting; the schedule in its own quantities with its
assumption report; the target and its classes; every applicable lemma in dependency order as a
theorem-like environment with a ``\label``, its assumptions, its references and a ``\uses{…}`` line
(``\uses`` is a no-op macro here, so the file compiles on its own and also feeds leanblueprint's
dependency graph); the bounds with a table at chosen times; the flow-map constants; stability; a
bibliography; and, when a verify run is given, a figure of bound against observed worst case.

Each result is stated first for a general schedule, in :math:`a_t, \dot a_t, b_t, \dot b_t`, and then
instantiated for this schedule in compact form (:mod:`gifsym.symbolic.compact`: VP in ``E = e^{-B(s)}``
and ``β(s)``, the trigonometric schedule in its angle, …), the quantities defined once in the schedule
section. Formulas too long for a line are split over lines or into named parts
(:mod:`gifsym.output.formula`), never shrunk. :func:`compile_pdf` runs pdflatex until the
cross-references settle and fails with a :class:`~gifsym.errors.LatexError` on any LaTeX error or
undefined reference; its log can be kept to check for overfull lines.

Every formula is printed by SymPy (:mod:`gifsym.output.latex`); nothing here imports JAX unless a verify run
is asked for.

Example:
    >>> from gifsym import GIF, schedule, target
    >>> tex = make_report(GIF(schedule("linear"), target("gaussian:sigma=0.5")), at=(0.5,)).tex
    >>> tex.startswith("\\documentclass") and "\\providecommand{\\uses}" in tex
    True
    >>> "\\begin{thebibliography}" in tex and "math.md" not in tex
    True
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy

from gifsym import theory
from gifsym.errors import AssumptionError, GifsymError, LatexError
from gifsym.io import atomic_path, scratch_folder, write_atomic
from gifsym.output.citations import bibliography, cite
from gifsym.output.formula import display_rows, latex_width
from gifsym.output.latex import (
    ASSUMPTION_STATEMENTS,
    STATUS_LATEX,
    breakable,
    escape_text,
    escape_tt,
    interval_latex,
    label_key,
    latex_expr,
    membership_latex,
    number_latex,
    schedule_params_latex,
    spec_tt,
)
from gifsym.output.results import Forms, LemmaEntry, applicable_lemmas, block, declared, section_lemmas
from gifsym.symbolic.compact import compact
from gifsym.symbolic.flow import LAM, component_coefficients, general_coefficients, instantiate, tidy
from gifsym.symbolic.schedule import t
from gifsym.version import __version__

#: Times of the bounds table when none are given.
DEFAULT_TIMES = (0.0, 0.25, 0.5, 0.75, 0.9, 0.99)

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
% Looser lines rather than lines into the margin where a statement has long inline formulas.
\setlength{\emergencystretch}{3em}

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

% gifsym 0.1's display macro, kept for documents built on this preamble (the derivations' tables); reports
% split long formulas instead (gifsym.output.formula).
\newsavebox{\gifsymbox}
\newcommand{\gifsymdisplay}[1]{\par\smallskip\noindent%
  \sbox{\gifsymbox}{$\displaystyle #1$}%
  \ifdim\wd\gifsymbox>\linewidth\resizebox{\linewidth}{!}{\usebox{\gifsymbox}}%
  \else\makebox[\linewidth]{\usebox{\gifsymbox}}\fi\par\smallskip}
"""


# --------------------------------------------------------------------------------------------------------
# Sections


def _section_setting(gif: Any, command: str | None) -> str:
    s = gif.schedule
    lines = [
        r"\section{Setting}",
        r"The Gaussian interpolation flow " + cite("gao2024") + r" interpolates between noise and data,",
        r"\[ X_t = a_t Z + b_t X_1, \qquad Z \sim N(0, I_d), \quad X_1 \sim \nu, \quad t \in [0, 1], \]",
        r"with noise at $t = 0$ and data at $t = 1$. The velocity field "
        r"$v(t, x) = E[\dot a_t Z + \dot b_t X_1 \mid X_t = x]$ transports $p_0$ to $p_1 = \nu$ along "
        r"the ODE "
        r"$\dot X_t = v(t, X_t)$. We write $m(t, x) = E[X_1 \mid X_t = x]$ and "
        r"$C(t, x) = \operatorname{Cov}(X_1 \mid X_t = x)$.",
        "",
        rf"This report is about the schedule {spec_tt(s.spec)} and the target {spec_tt(gif.target.spec)}. "
        r"Each result is stated for a general schedule $(a_t, b_t)$ and then instantiated for this one, in the "
        r"quantities of Section~\ref{sec:schedule}. Every formula was derived by gifsym with SymPy from these "
        r"two inputs and printed by SymPy's \LaTeX{} printer; the derivations are those of "
        + cite("gao2024") + r", as set out in gifsym's documentation " + cite("gifsym") + ".",
    ]
    if command:
        lines += [
            "",
            r"Reproduce it with",
            r"\begin{quote}\small " + spec_tt(command) + r"\end{quote}",
        ]
    return "\n".join(lines)


def _section_schedule(gif: Any, forms: Forms) -> str:
    from gifsym.symbolic.compact import SCHEDULE_ROWS

    s = gif.schedule
    params = schedule_params_latex(s)
    c = forms.base
    lines = [
        r"\section{Schedule}\label{sec:schedule}",
        rf"Schedule {spec_tt(s.spec)}" + (f" with {params}" if params else "") + ".",
    ]
    if s.origin:  # a designed schedule says how it was obtained
        lines.append(r"\par\noindent How this schedule was obtained: " + escape_text(s.origin) + r"\par")
    where = forms.where_rows()
    if where:
        lines.append("In its own quantities,")
    rows = []
    for (_, lhs, _), e in zip(SCHEDULE_ROWS, c.expr):
        rows += display_rows(lhs, e, show=c.expr_latex)
    lines.append(block(rows))
    extra = [d for d in c.definitions if d.name not in declared(s)]
    if extra:  # abbreviations of a custom schedule
        names = dict(c.symbols)
        lines += ["with", block([r for d in extra for r in display_rows(names.get(d.name, d.name), d.sympy)])]
    if where:
        lines += ["where", block(where),
                  "These quantities are used throughout the report."]
    lines += [
        r"\subsection{Assumptions}\label{sec:assumptions}",
        "Each assumption is checked by gifsym: holds = proved; violated = a counterexample was found; "
        r"unknown = neither (the proofs: \texttt{gifsym schedule --verbose}).",
        _assumptions(s.check()),
    ]
    return "\n".join(lines)


def _assumptions(report: Any) -> str:
    consequence = {
        "wronskian": r"$a_t \dot b_t - \dot a_t b_t \ge 0$ on $(0,1)$",
        "snr-monotone": r"$r_t = b_t / a_t$ non-decreasing",
    }
    lines = [r"\begin{description}"]
    for key, verdict in report.items + report.consequences:
        what = ASSUMPTION_STATEMENTS.get(key) or consequence.get(key, "")
        status = STATUS_LATEX.get(verdict.status, escape_text(verdict.status))
        why = "" if verdict.status == "holds" else ": " + breakable(report.summary(key, limit=400))
        lines.append(rf"  \item[{escape_text(key)}] {what} --- {status}{why}.")
    lines.append(r"\end{description}")
    return "\n".join(lines)


def _section_target(gif: Any) -> str:
    tg = gif.target
    kind = "an exact law" + (f" in dimension {tg.dim}" if tg.dim else "") if tg.is_exact else "a class of targets"
    lines = [r"\section{Target}\label{sec:target}",
             f"Target {spec_tt(tg.spec)}: {kind}.", r"\begin{itemize}"]
    for m in tg.classes():
        what = ASSUMPTION_STATEMENTS.get(m.id)
        lines.append(f"  \\item {membership_latex(m)}" + (f": {what}" if what else ""))
    lines.append(r"\end{itemize}")
    return "\n".join(lines)


def _section_velocity(gif: Any, forms: Forms) -> str:
    """The velocity field: the general denoiser form and key identity with this schedule's coefficients;
    exact for an isotropic Gaussian; the per-component coefficients for other exact laws."""
    g = general_coefficients()
    lines = [
        r"\section{Velocity field}\label{sec:velocity}",
        r"For every target, $v(t, x) = c_x(t)\, x + c_m(t)\, m(t, x)$ and $\nabla_x v(t, x) = c_x(t)\, I + "
        r"c_C(t)\, C(t, x)$ (denoiser form and key identity), with, for this schedule,",
        block(forms.rows("c_x(t)", g.x, general=g.x) + forms.rows("c_m(t)", g.m, general=g.m)
               + forms.rows("c_C(t)", g.C, general=g.C)),
    ]
    law = gif.target.law
    if law is not None and hasattr(law, "points"):  # data (gifsym.symbolic.empirical): the softmax over points
        general = [e.subs(LAM, law.sigma**2) for e in component_coefficients()[:2]]
        cx, cm = (tidy(instantiate(e, gif.schedule)) for e in general)
        smooth = rf" smoothed by $N(0, \sigma^2 I)$, $\sigma = {latex_expr(law.sigma)}$" if law.smoothed else ""
        lines += [
            rf"The target is the empirical law of $N = {law.N}$ points $y_i \in \mathbb{{R}}^{{{law.dim}}}$"
            rf"{smooth}. With $s_t = a_t^2 + \sigma^2 b_t^2$ and the responsibilities $r_i(t, x) \propto "
            r"\exp(-|x - b_t y_i|^2 / (2 s_t))$, $v(t, x) = c_x x + c_m \sum_i r_i(t, x)\, y_i$ with",
            block(forms.rows("c_x", cx, general=general[0]) + forms.rows("c_m", cm, general=general[1])),
        ]
    elif law is not None and law.K == 1 and law.components[0].sigma is not None:
        comp = law.components[0]
        L = gif.jacobian()[0, 0]
        lam = comp.sigma**2
        general = component_coefficients()[0].subs({LAM: lam})
        lines += [
            r"The target is an isotropic Gaussian $N(m, \sigma^2 I)$, so the velocity field is exact and affine "
            r"in $x$: $v(t, x) = L_t\, (x - b_t m) + \dot b_t m$ and $\nabla_x v = L_t I$ with",
            block(forms.rows("L_t", L, general=general)),
        ]
        v = gif.velocity()
        if v.shape[0] <= 3:
            c = compact(v, gif.schedule)
            lines += ["that is,", block(display_rows("v(t, x)", c.expr, show=c.expr_latex))]
    elif law is not None:
        cx, cm, _, _ = component_coefficients()
        lines += [
            rf"The target is {'a Gaussian' if law.K == 1 else f'a mixture of {law.K} Gaussians'} "
            r"$\sum_k w_k N(m_k, \Sigma_k)$. Given component $k$, $X_t \sim N(b_t m_k, a_t^2 I + b_t^2 "
            r"\Sigma_k)$, and the component's velocity is $v_k(t, x) = c_x(\Sigma_k)\, x + c_m(\Sigma_k)\, "
            r"m_k$, where, along an eigendirection of $\Sigma_k$ with eigenvalue $\lambda$,",
            block(forms.rows(r"c_x(\lambda)", cx, general=cx) + forms.rows(r"c_m(\lambda)", cm, general=cm)),
        ]
        if law.K > 1:
            lines.append(
                r"The velocity field is $v(t, x) = \sum_k r_k(t, x)\, v_k(t, x)$ with the responsibilities"
                r"\[ r_k(t, x) \propto w_k\, N\big(x;\, b_t m_k,\, a_t^2 I + b_t^2 \Sigma_k\big). \]"
            )
    return "\n".join(lines)


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for n in names:
        if isinstance(obj, Mapping) and n in obj:
            return obj[n]
        if not isinstance(obj, Mapping) and hasattr(obj, n):
            return getattr(obj, n)
    return default


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




def _section_bounds(gif: Any, times: Sequence[float], present: set[str], forms: Forms) -> tuple[str, Any]:
    try:
        b = theory.bounds(gif)
    except AssumptionError as e:
        return "\n".join(
            [
                r"\section{Bounds on the Jacobian of the velocity}\label{sec:bounds}",
                "No bound on the Jacobian applies to this flow: " + breakable(str(e)),
            ]
        ), None
    lines = [
        r"\section{Bounds on the Jacobian of the velocity}\label{sec:bounds}",
        r"Two-sided bounds $\ell_t I \preceq \nabla_x v(t, x) \preceq u_t I$ for all $x$, and the Lipschitz "
        r"constant $\theta_t = \sup_x \|\nabla_x v(t, x)\|_{\mathrm{op}} \le \max(u_t, -\ell_t)$"
        r" ($\pm\infty$ where no bound holds), in the quantities of Section~\ref{sec:schedule}:",
    ]
    rows = []
    for name, env, expr in (("u_t", b.upper_envelope, b.upper), (r"\ell_t", b.lower_envelope, b.lower)):
        general = env.pieces[0].general if len(env.pieces) == 1 else None
        rows += forms.rows(name, expr, general=general)
    rows += forms.rows(r"\theta_t", b.lipschitz, rel=r"\le", general=r"\max(u_t, -\ell_t)")
    lines.append(block(rows))
    for attr, what in (
        ("upper_interval", "upper bound"),
        ("lower_interval", "lower bound"),
        ("interval", "both"),
    ):
        interval = _get(b, attr)
        if interval is not None:
            lead = "Both hold" if what == "both" else f"The {what} holds"
            lines.append(rf"\par\noindent {lead} for $t \in {interval_latex(interval)}$.")
    lemma_names = _get(b, "lemmas")
    if lemma_names:
        # Ragged right: long unbreakable \texttt names would otherwise run into the margin.
        refs = ", ".join(_lemma_ref(n, present) for n in lemma_names)
        lines.append(r"\par\noindent{\raggedright They come from " + refs + ".\\par}")
    notes = _get(b, "notes") or ()
    if notes:
        lines += [r"\begin{itemize}"] + [rf"  \item {breakable(n)}" for n in notes] + [r"\end{itemize}"]
    values = bound_values(b, times)
    lines += [
        r"\begin{table}[ht]\centering",
        rf"\caption{{Bounds at chosen times (schedule {spec_tt(gif.schedule.spec)}, "
        rf"target {spec_tt(gif.target.spec)}).}}\label{{tab:bounds}}",
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


#: Constants wider than this (digit widths) are given below the table rather than in it.
_CELL = 24.0


def _section_flow_map(gif: Any, present: set[str], forms: Forms) -> str:
    try:
        fm = theory.flow_map_lipschitz(gif)
    except AssumptionError as e:
        return "\n".join([r"\section{Flow-map constants}\label{sec:flowmap}", breakable(str(e))])
    lines = [
        r"\section{Flow-map constants}\label{sec:flowmap}",
        r"Lipschitz constants of the flow map $X_{0,1}$ (noise $\to$ data) and of its inverse $X_{1,0}$ "
        r"(data $\to$ noise), from $\operatorname{Lip}(X_{0,1}) \le \exp\int_0^1 u_t\,dt$ and "
        r"$\operatorname{Lip}(X_{1,0}) \le \exp(-\int_0^1 \ell_t\,dt)$ (Gr\"onwall " + cite("gronwall1919")
        + r", $\nabla_x v$ symmetric).",
        r"\begin{center}\begin{tabular}{llp{6.5cm}}\toprule",
        r"map & constant & how \\ \midrule",
    ]
    constants = []
    below = []
    for attr, name in (
        ("forward", r"\operatorname{Lip}(X_{0,1})"),
        ("reverse", r"\operatorname{Lip}(X_{1,0})"),
    ):
        c = _get(fm, attr)
        constants.append((attr, c))
        cell = _constant(c, forms)
        if latex_width(cell) > _CELL:
            value = _get(c, "value")
            below += forms.rows(name, value, rel=r"\le")
            cell = number_latex(float(value)) if value.is_number else r"\text{see below}"
        lines.append(f"${name}$ & ${cell}$ & {_how(c)} \\\\")
    lines += [r"\bottomrule\end{tabular}\end{center}"]
    if below:
        lines += ["Exactly:", block(below)]
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
        if isinstance(f_T, sympy.Basic):
            # g(T) with g written as a function of t in the schedule's quantities (E, β(s), φ, …).
            g = "g" if attr == "forward" else "h"
            horizon = _get(fm, "T")
            lines += [
                rf"\par\noindent As a function of the horizon $T$ ({attr}): ${lhs} \le {g}(T)$ for $T < 1$, where",
                block(forms.rows(f"{g}(t)", _tidy_T(f_T.xreplace({horizon: t})))),
            ]
        end = _get(c, "endpoint_formula")
        if isinstance(end, sympy.Basic):
            lines += [
                rf"\par\noindent Schedule-free form ({attr}; it depends on the schedule only through "
                r"$a_0, b_0$):",
                block(display_rows(lhs.replace("T", "1"), end, rel=r"\le")),
            ]
        reason = _get(c, "reason")
        if reason:
            lines.append(rf"\par\noindent {attr.capitalize()}: {breakable(reason)}.")
    # The schedule-free forms are displayed above; the other notes as text.
    notes = [n for n in (_get(fm, "notes") or ()) if "depends on the schedule only through" not in n]
    if notes:
        lines += [r"\begin{itemize}"] + [rf"  \item {breakable(n)}" for n in notes] + [r"\end{itemize}"]
    lemma_names = _get(fm, "lemmas")
    if lemma_names:
        refs = ", ".join(_lemma_ref(n, present) for n in lemma_names)
        lines.append(r"\par\noindent{\raggedright From " + refs + ".\\par}")
    return "\n".join(lines)


def _tidy_T(e: sympy.Expr) -> sympy.Expr:
    """A flow-map constant as a function of T: ``sin² + cos²`` and similar removed where SymPy sees it
    cheaply (the trigonometric schedule's constants carry ``sqrt(sin(πT/2)² + cos(πT/2)²)``)."""
    if e.has(sympy.sin, sympy.cos) and sympy.count_ops(e) < 200:
        return e.replace(lambda f: isinstance(f, sympy.Add) and f.has(sympy.sin, sympy.cos),
                         lambda f: sympy.trigsimp(f))
    return e


def _section_stability(gif: Any, present: set[str], forms: Forms) -> str:
    """Source stability: the flow map's Lipschitz constant times W₂ of the sources, and the cost of starting
    from the Gaussian N(0, a₀² I) when b₀ > 0 (VP, sub-VP, VE)."""
    try:
        st = theory.source_stability(gif)
    except GifsymError:  # the forward constant is not known for this flow
        return ""
    lines = [
        r"\section{Stability in the source}\label{sec:stability}",
        r"For two sources $\mu, \tilde\mu$, $W_2\big((X_{0,1})_\# \mu, (X_{0,1})_\# \tilde\mu\big) \le "
        r"\operatorname{Lip}(X_{0,1})\, W_2(\mu, \tilde\mu)$; here, with $W = W_2(\mu, \tilde\mu)$:",
        block(forms.rows(r"W_2\big((X_{0,1})_\# \mu, (X_{0,1})_\# \tilde\mu\big)", st.bound, rel=r"\le")),
        r"The true source is $\mu = \operatorname{Law}(a_0 Z + b_0 X_1)$, which is the Gaussian "
        r"$N(0, a_0^2 I)$ one samples in practice only when $b_0 = 0$. Coupling the two through the "
        r"same $Z$:",
        block(forms.rows(r"W_2\big(\mu, N(0, a_0^2 I)\big)", st.gaussian_start_cost, rel=r"\le")
              + forms.rows(r"W_2\big((X_{0,1})_\# N(0, a_0^2 I), \nu\big)", st.pushed_gaussian_start,
                           rel=r"\le")),
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


def _constant(c: Any, forms: Forms | None = None) -> str:
    if c is None:
        return r"\infty"
    value = c if isinstance(c, (sympy.Basic, float, int)) else _get(c, "value", default=None)
    if isinstance(value, sympy.Float):
        return number_latex(float(value), digits=10)
    if value is None:
        return r"\infty"
    if isinstance(value, sympy.Basic):
        if forms is not None and value.is_finite is not False:
            cc = compact(value, forms.schedule)
            return cc.expr_latex()
        return latex_expr(value)
    return number_latex(value)


def _outward(x: Any, direction: str, digits: int = 12) -> str:
    r"""LaTeX of ``x`` to ``digits`` significant digits, rounded ``"down"`` or ``"up"`` exactly (on the
    rational value), so that a printed enclosure still contains the number.

    Example:
        >>> _outward(sympy.Rational(2, 3), "down", 4), _outward(sympy.Rational(2, 3), "up", 4)
        ('0.6666', '0.6667')
        >>> _outward(sympy.Rational(-1, 3 * 10**8), "down", 3)
        '-3.34 \\times 10^{-9}'
    """
    from decimal import Decimal

    v = sympy.Rational(x)
    if v == 0:
        return "0"
    e = int(sympy.floor(sympy.log(abs(v), 10)))
    k = digits - 1 - e
    scaled = v * sympy.Integer(10) ** k
    n = int(sympy.floor(scaled) if direction == "down" else sympy.ceiling(scaled))
    if -4 <= e < 6:
        return format(Decimal(n).scaleb(-k), "f")
    return rf"{format(Decimal(n).scaleb(-(digits - 1)), 'f')} \times 10^{{{e}}}"


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
            # Rounded outward (the printed interval still contains the value); a break may fall after the comma.
            return f"certified, in $[{_outward(enc[0], 'down')}$, ${_outward(enc[1], 'up')}]$" + cond
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
    forms = Forms(gif.schedule)
    # A σ_min path is stated in its own schedule, then every result for the GIF it is equivalent to.
    stated = forms if sigma_path is None else Forms(s)
    head = (
        escape_text(title)
        if title
        else (
            rf"gifsym report\\[0.4em]\large schedule {spec_tt(s.spec)}, "
            rf"target {spec_tt(tg.spec)}"
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
        _section_schedule(original, stated),
    ]
    if sigma_path is not None:
        parts += [r"\section{A $\sigma_{\min}$ path}",
                  escape_text(sigma_path.describe() + ".") + " Reparametrised schedule:",
                  block(forms.rows(r"\tilde a_t", sigma_path.schedule.a) + forms.rows("b_t", sigma_path.schedule.b)),
                  f"smoothed target: {spec_tt(gif.target.spec)}. "
                  + escape_text(f"Velocity identity: {sigma_path.identity.reason}. Everything below is for that GIF.")]
    parts += [
        _section_target(gif),
        _section_velocity(original, stated),
    ]
    if entries or missing:
        parts.append(section_lemmas(entries, missing, forms))
    bounds_tex, bounds = _section_bounds(gif, at, {e.name for e in entries}, forms)
    if bounds_tex:
        parts.append(bounds_tex)
        parts.append(_section_flow_map(gif, {e.name for e in entries}, forms))
        parts.append(_section_stability(gif, {e.name for e in entries}, forms))
    if verify_report is not None or figure:
        parts.append(_section_verify(verify_report, figure))
    parts.append(bibliography("\n".join(parts)))
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
    log_path: str | os.PathLike | None = None,
) -> str:
    """Compile a .tex file with pdflatex into ``pdf_path`` (default: next to it), atomically.

    pdflatex runs in a scratch folder (so no .aux/.log litter and no half-written PDF) at least twice and
    until the cross-references settle. Figures named by ``\\includegraphics`` are taken from the folder of
    the .tex file.

    Args:
        log_path: where to keep pdflatex's log of the last run (e.g. to look for overfull lines with
            :func:`overfull_boxes`), or None.

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
    with scratch_folder("gifsym-latex-") as work:
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
        if log_path is not None:
            write_atomic(os.fspath(log_path), log)
    return pdf_path


_OVERFULL = re.compile(r"^Overfull \\[hv]box \(([\d.]+)pt too (?:wide|high)\)(.*)$", re.MULTILINE)


def overfull_boxes(log: str) -> list[tuple[float, str]]:
    r"""``(points, where)`` of every overfull box pdflatex reported in ``log``.

    Example:
        >>> overfull_boxes(r"Overfull \hbox (12.5pt too wide) in paragraph at lines 3--4")
        [(12.5, ' in paragraph at lines 3--4')]
    """
    return [(float(p), where) for p, where in _OVERFULL.findall(log)]


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
    "Forms",
    "LemmaEntry",
    "Report",
    "WrittenReport",
    "applicable_lemmas",
    "bound_values",
    "breakable",
    "compile_pdf",
    "latex_error_message",
    "make_report",
    "overfull_boxes",
    "pdflatex_path",
    "spec_tt",
    "write_report",
]
