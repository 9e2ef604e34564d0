r"""The results of a report: each applicable lemma stated for a general schedule and then instantiated for
this one in compact form.

A lemma's derived result is a formula, a mapping of named parts, a bound piece, an envelope or a constant.
Each part that depends on the schedule is shown first in the placeholders :math:`a_t, \dot a_t, b_t,
\dot b_t` and then for this schedule in its own quantities (:class:`Forms`, :mod:`gifsym.symbolic.compact`);
parts are named by what they are (:data:`NAMES`: :math:`\dot r_t`, :math:`\tilde a_t`,
:math:`\operatorname{Lip}(X_{0,1})`, …), never by the library's internal keys; constants of cited results
(a precision ``c``, a radius ``R``) are left to the statement. Long formulas are split
(:mod:`gifsym.output.formula`).

Example:
    >>> from gifsym import GIF, schedule, target
    >>> entries, missing = applicable_lemmas(GIF(schedule("linear"), target("slc:kappa=2")))
    >>> entries[0].name, "bound-ball" in dict(missing)
    ('bounded-support-variance', True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy

from gifsym.errors import GifsymError
from gifsym.output.citations import reference
from gifsym.output.formula import align, display_rows, no_plus_minus
from gifsym.output.latex import (
    breakable,
    escape_text,
    escape_tt,
    interval_latex,
    label_key,
    latex_expr,
    number_latex,
)
from gifsym.symbolic.compact import compact, schedule_forms
from gifsym.symbolic.flow import DA, DB, A, B, instantiate
from gifsym.symbolic.schedule import t
from gifsym.theory import lemmas

# Theorem-like environment for each lemma kind (unknown kinds read as lemmas).
_ENVIRONMENTS = {
    "definition": "definition",
    "lemma": "lemma",
    "proposition": "proposition",
    "theorem": "theorem",
    "corollary": "corollary",
}

def _is_general(e: Any) -> bool:
    return isinstance(e, sympy.Basic) and bool(e.free_symbols & {A, DA, B, DB})


class Forms:
    """The compact forms of one report: the schedule's quantities are defined once (in the schedule
    section); abbreviations found for a custom schedule are defined next to the formula that uses them."""

    def __init__(self, schedule: Any) -> None:
        self.schedule = schedule
        self.base = schedule_forms(schedule)

    def rows(self, lhs: str, expr: Any, *, rel: str = "=", general: Any = None) -> list[tuple[str, str]]:
        r"""Rows of an ``align*`` block: ``lhs rel general`` (stated for any schedule, in ``a_t, \dot a_t, b_t,
        \dot b_t``; a SymPy expression or LaTeX) and then ``= compact`` for this schedule."""
        out: list[tuple[str, str]] = []
        if isinstance(general, str):
            out.append((lhs, f"{rel} {general}"))
        elif general is not None:
            out += display_rows(lhs, general, rel=rel, show=latex_expr)
        if expr is None:
            return out
        if _is_general(expr):
            expr = instantiate(expr, self.schedule)
        c = compact(expr, self.schedule)
        if out and c.expr == general:
            return out
        first = (lhs, rel) if not out else ("", "=")
        out += display_rows(first[0], c.expr, rel=first[1], show=c.expr_latex)
        known = {d.name for d in self.base.definitions} | declared(self.schedule)
        extra = [d for d in c.definitions if d.name not in known]
        if extra:
            names = dict(c.symbols)
            out[-1] = (out[-1][0], out[-1][1] + r", \quad \text{where}")
            for d in extra:
                out += display_rows(names.get(d.name, d.name), d.sympy, show=c.expr_latex)
        return out

    def where_rows(self) -> list[tuple[str, str]]:
        """The schedule's quantities, their definitions and meanings."""
        from gifsym.symbolic.compact import schedule_quantities

        rows = []
        names = {q.symbol: q.latex for q in schedule_quantities(self.schedule)}
        for q in schedule_quantities(self.schedule):
            d = latex_expr(q.definition, symbol_names=names)
            meaning = rf" \quad \text{{({escape_text(q.meaning)})}}" if q.meaning else ""
            rows.append((q.latex, f"= {d}{meaning}"))
        return rows


def declared(schedule: Any) -> set[str]:
    from gifsym.symbolic.compact import schedule_quantities

    return {q.name for q in schedule_quantities(schedule)}


def block(rows: list[tuple[str, str]]) -> str:
    return no_plus_minus(align(rows)) if rows else ""



# --------------------------------------------------------------------------------------------------------
# Lemmas


@dataclass(frozen=True)
class LemmaEntry:
    """One lemma as the report shows it."""

    name: str
    kind: str
    statement: str
    assumptions: tuple[str, ...]
    uses: tuple[str, ...]
    formula: Any = None  # the derived result: a SymPy object, a mapping of them, a result object, or None
    title: str | None = None
    reference: str = ""

    @property
    def label(self) -> str:
        return "lem:" + label_key(self.name)


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for n in names:
        if isinstance(obj, Mapping) and n in obj:
            return obj[n]
        if not isinstance(obj, Mapping) and hasattr(obj, n):
            return getattr(obj, n)
    return default


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


_LE, _GE = r"\le", r"\ge"

#: How a part of a lemma's result reads: (lemma, key) -> (left-hand side, relation). Parts not listed are
#: shown as "general formula = this schedule's form" when they depend on the schedule, and not at all when
#: they are constants of a cited result (never under their internal key).
NAMES: dict[tuple[str, str], tuple[str, str]] = {
    ("interpolation", "X_t"): ("X_t", "="),
    ("snr-monotone", "snr"): ("r_t", "="),
    ("snr-monotone", "dsnr"): (r"\dot r_t", "="),
    ("conditional-law", "log_kernel"): (r"\log k_t(x, y)", "="),
    ("velocity-identity", "x"): ("c_x(t)", "="),
    ("velocity-identity", "m"): ("c_m(t)", "="),
    ("jacobian-identity", "C"): ("c_C(t)", "="),
    ("probability-flow", "f"): ("f(1 - t)", "="),
    ("probability-flow", "g2_half"): (r"\tfrac{1}{2} g^2(1 - t)", "="),
    ("gaussian-convolution", "a_eff"): (r"\tilde a_t", "="),
    ("gaussian-convolution", "da_eff"): (r"\dot{\tilde a}_t", "="),
    ("gaussian-classes", "T-slc"): (r"\kappa", "="),
    ("gaussian-classes", "T-slcvx"): (r"\beta", "="),
    ("gaussian-classes", "T-conv"): (r"(\sigma, R)", "="),
    ("gmm-classes", "T-slcvx"): (r"\beta", "="),
    ("gmm-classes", "T-conv"): (r"(\sigma, R)", "="),
    ("lipschitz", "theta"): (r"\theta_t", _LE),
    ("source-stability", "lipschitz"): (r"\operatorname{Lip}(X_{0,1})", _LE),
    ("source-stability", "bound"): (r"W_2\big((X_{0,1})_\# \mu, (X_{0,1})_\# \tilde\mu\big)", _LE),
    ("source-stability", "b0"): ("b_0", "="),
    ("source-stability", "second_moment"): (r"\mathbb{E}|X_1|^2", "="),
    ("source-stability", "gaussian_start_cost"): (r"W_2\big(\mu, N(0, a_0^2 I)\big)", _LE),
    ("source-stability", "pushed_gaussian_start"): (r"W_2\big((X_{0,1})_\# N(0, a_0^2 I), \nu\big)", _LE),
    ("velocity-stability", "gronwall"): (r"W_2\big((Y_{0,1})_\# \mu, \nu\big)", _LE),
    ("velocity-stability", "cauchy_schwarz"): (r"W_2\big((Y_{0,1})_\# \mu, \nu\big)", _LE),
    ("velocity-stability", "factor"): (r"\int_0^1 e^{2C(1-t)}\,dt", "="),
    ("auto-encoding", "decoder"): (r"\operatorname{Lip}(X_{0,1})", _LE),
    ("auto-encoding", "encoder"): (r"\operatorname{Lip}(X_{1,0})", _LE),
    ("cycle-consistency", "lipschitz"): (r"\operatorname{Lip}(T)", _LE),
    ("cycle-consistency", "self"): (r"\operatorname{Lip}(X_{0,1} \circ X_{1,0})", _LE),
    ("gaussian-sharpness", "exact"): ("L_t", "="),
}
#: Parts never shown: restatements of another part, or internal bookkeeping.
_SKIP = {("gaussian-sharpness", "upper"), ("gaussian-sharpness", "lower"), ("lipschitz", "interval"),
         ("monotone-coefficient", "as_snr"), ("gaussian-convolution", "params"),
         ("gaussian-convolution", "implied_by")}


def _result_latex(e: LemmaEntry, forms: Forms) -> str:
    """The lemma's result for this flow: each part stated in general and then in compact form."""
    f = e.formula
    if f is None:
        return ""
    rows: list[tuple[str, str]] = []
    text: list[str] = []
    items: list[tuple[str, Any]] = []
    if isinstance(f, Mapping):
        items = list(f.items())
    elif isinstance(f, (tuple, list)):
        for x in f:
            if isinstance(x, Mapping):
                items += list(x.items())
            else:
                items.append(("", x))
    else:
        items = [("", f)]
    seen: set = set()
    for key, value in items:
        if (e.name, key) in _SKIP or value is None:
            continue
        if hasattr(value, "side") and hasattr(value, "general") and hasattr(value, "interval"):  # a bound piece
            text.append(_piece_text(value))
            rows_ = forms.rows(_piece_name(value), value.formula, general=value.general)
            text.append(block(rows_))
            continue
        if hasattr(value, "pieces") and hasattr(value, "expr"):  # an envelope
            name = "u_t" if value.side == "upper" else r"\ell_t"
            general = value.pieces[0].general if len(value.pieces) == 1 else None
            text.append(rf"Here $t \in {interval_latex(value.interval)}$ and")
            text.append(block(forms.rows(name, value.expr, general=general)))
            continue
        if hasattr(value, "finite") and hasattr(value, "method"):  # a flow-map constant
            lhs = r"\operatorname{Lip}(X_{0,1})" if e.name == "flow-map-lipschitz" else r"\operatorname{Lip}(X_{1,0})"
            text.append(_constant_text(lhs, value, forms))
            continue
        if hasattr(value, "interval") and hasattr(value, "reason"):  # well-posedness
            text.append(rf"The flow is well posed for $t \in {interval_latex(value.interval)}$: "
                        rf"{breakable(value.reason)}.")
            continue
        if e.name == "gaussian-sharpness" and key == "exact":
            text.insert(0, r"The exact Jacobian is $\nabla_x v = L_t I$ with")
            text.insert(1, block(forms.rows("L_t", value)))
            continue
        if isinstance(value, bool) and key == "sharp":
            text.append("Here the combined bounds are equal to it: the bounds are sharp." if value else
                        "Here the combined bounds are not both equal to it.")
            continue
        if isinstance(value, str):
            if key == "reason":
                text.append(breakable(value) + ".")
            continue
        if not isinstance(value, (sympy.Basic, sympy.MatrixBase)):
            continue
        name, rel = NAMES.get((e.name, key), (None, "="))
        general = value if _is_general(value) else None
        if general is not None:
            if general in seen:
                continue
            seen.add(general)
            rows += forms.rows(name or latex_expr(general), value, rel=rel, general=general if name else None)
        elif isinstance(value, sympy.Basic) and value.has(t) and name:
            rows += forms.rows(name, value, rel=rel)
        elif name:  # a constant of this flow (a class parameter, a value at t = 0)
            rows += forms.rows(name, value, rel=rel) if isinstance(value, sympy.Expr) else \
                display_rows(name, value, rel=rel)
    out = []
    if rows:
        out.append(block(rows))
    out += text
    return "\n".join(out)


def _piece_name(p: Any) -> str:
    return "U_t" if p.side == "upper" else "L_t"


def _piece_text(p: Any) -> str:
    params = ", ".join(f"{latex_expr(sympy.Symbol(k))} = {latex_expr(v)}" for k, v in p.params)
    rel = r"\preceq" if p.side == "upper" else r"\succeq"
    name = _piece_name(p)
    lead = f"With ${params}$, for" if params else "For"
    return rf"{lead} $t \in {interval_latex(p.interval)}$: $\nabla_x v \;{rel}\; {name} I$ where"


def _constant_text(lhs: str, c: Any, forms: Forms) -> str:
    if not c.finite:
        return rf"Here ${lhs}$ is unbounded: {breakable(c.reason or c.method)}."
    value = _get(c, "value")
    rows = forms.rows(lhs, value, rel=r"\le") if not isinstance(value, sympy.Float) else \
        [(lhs, rf"\le {number_latex(float(value), digits=10)}")]
    if value.is_number and not isinstance(value, sympy.Float):
        rows[-1] = (rows[-1][0], rows[-1][1] + rf" \approx {number_latex(float(value))}")
    how = "exact" if not c.numeric else f"quadrature, error {number_latex(c.error, digits=2)}"
    return block(rows) + f"\n({escape_text(how)})."


def section_lemmas(entries: Sequence[LemmaEntry], missing: Sequence[tuple[str, tuple[str, ...]]],
                    forms: Forms) -> str:
    present = {e.name for e in entries}
    lines = [
        r"\section{Results}\label{sec:results}",
        "Every result that holds for this flow, in dependency order. Each is stated for a general schedule; "
        "where it involves the schedule, it is then instantiated for this one. Each names the assumptions it "
        "needs directly (schedule assumptions of Section~\\ref{sec:assumptions}, target classes of "
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
        lines.append(rf"\end{{{env}}}")
        result = _result_latex(e, forms)
        if result:
            lines += [r"\noindent For this flow:", result]
        ass = ", ".join(escape_text(a) for a in e.assumptions) or (
            "none beyond those of the results it uses" if e.uses else "none"
        )
        lines.append(rf"\par\noindent\textit{{Assumptions:}} {ass}.")
        lines.append(rf"\par\noindent\textit{{References:}} {reference(e.name, e.reference)}.")
        if e.uses:
            refs = [
                rf"\ref{{lem:{label_key(u)}}}"
                if u in present
                else rf"\texttt{{{escape_tt(u)}}} (does not apply)"
                for u in e.uses
            ]
            lines.append(r"\par\noindent{\raggedright\textit{Uses:} " + ", ".join(refs) + r".\par}")
        lines.append(r"\medskip")
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


__all__ = ["NAMES", "Forms", "LemmaEntry", "applicable_lemmas", "block", "declared", "section_lemmas"]
