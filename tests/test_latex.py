"""LaTeX printing: readable symbol names, schedules, assumption reports, targets, escaping, dispatch."""

from __future__ import annotations

import doctest
import shutil
import subprocess

import pytest
import sympy

import gifsym
from gifsym import GIF, schedule, t, target
from gifsym.errors import GifsymError
from gifsym.output import latex as L
from gifsym.symbolic.flow import DA, DB, A, B


def test_module_doctests():
    result = doctest.testmod(L, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 10 and result.failed == 0


@pytest.mark.parametrize(
    "name, expected",
    [
        ("beta_min", r"\beta_{\min}"),
        ("beta_max", r"\beta_{\max}"),
        ("sigma_min", r"\sigma_{\min}"),
        ("sigma_max", r"\sigma_{\max}"),
        ("kappa", r"\kappa"),
        ("beta", r"\beta"),
        ("theta_t", r"\theta_t"),
    ],
)
def test_readable_symbol_names(name, expected):
    assert L.latex_expr(sympy.Symbol(name)) == expected


def test_placeholders_print_as_dotted_names():
    tex = L.latex_expr(B * (A * DB - DA * B) / A**3)
    assert r"\dot a_t" in tex and r"\dot b_t" in tex and "a_{t}" in tex


def test_latex_expr_is_sympys_printer_up_to_names(any_schedule):
    # The only difference from sympy.latex is the symbol names: with none of ours it is identical.
    assert L.latex_expr(any_schedule.a) == sympy.latex(
        any_schedule.a, symbol_names=L._symbol_names(any_schedule.a)
    )
    assert L.latex_expr(any_schedule.a).replace(r"\min", "min").replace(r"\max", "max") == sympy.latex(
        any_schedule.a
    ).replace(r"\min", "min").replace(r"\max", "max")


def test_symbolic_parameters_are_named_in_schedules():
    s = schedule("vp:beta_min,beta_max")
    tex = L.latex_expr(s.a)
    assert r"\beta_{\min}" in tex and r"\beta_{\max}" in tex and "beta_{min}" not in tex


def test_schedule_block_has_all_five_rows(any_schedule):
    tex = L.schedule_latex(any_schedule)
    assert tex.startswith(r"\begin{align*}") and tex.endswith(r"\end{align*}")
    for lhs in ("a_t &=", "b_t &=", r"\dot a_t &=", r"\dot b_t &=", "r_t = b_t / a_t &="):
        assert lhs in tex
    assert L.latex_expr(any_schedule.da) in tex


def test_assumption_report_lists_every_assumption_and_status():
    report = schedule(a="1 - t", b="t**2 - t/2").check()
    tex = L.assumption_report_latex(report)
    for key in ("S-end", "S-mono", "S-pos", "S-smooth"):
        assert rf"\item[{key}]" in tex
    assert r"\textbf{violated}" in tex
    # The reasons come from the prover as plain text: they appear escaped for text mode.
    for _, verdict in report.items + report.consequences:
        assert L.escape_text(verdict.reason) in tex


def test_assumption_report_from_json_dict():
    d = schedule("linear").check().to_dict()
    tex = L.assumption_report_latex(d)
    assert tex.count(r"\item[") == 4 and r"\textbf{holds}" in tex


@pytest.mark.parametrize(
    "text",
    [
        "a_0 > 0 & b < 1 # 100% {x} ~ ^ \\ |y|",
        "≤ ≥ ∞ ∫ ȧ ḃ κ Föllmer — −",
        "日本",
        "\x7f",
    ],
)
def test_escape_text_is_ascii_and_balanced(text):
    out = L.escape_text(text)
    assert out.isascii()
    assert out.count("{") - out.count(r"\{") == out.count("}") - out.count(r"\}")
    for ch in "&#%":
        assert ch not in out.replace("\\" + ch, "")


def test_number_latex():
    assert L.number_latex(None) == r"\infty"
    assert L.number_latex(float("inf")) == r"\infty"
    assert L.number_latex(1.5e-20) == r"1.5 \cdot 10^{-20}"
    assert L.number_latex(sympy.sqrt(2)) == "1.41421"
    assert L.number_latex(sympy.Rational(3, 4)) == r"\frac{3}{4}"


def test_target_and_membership():
    tex = L.target_latex(target("gaussian:sigma=0.5"))
    assert "exact law" in tex and r"\kappa = 4" in tex and "implied by T-gauss" in tex
    tex = L.target_latex(target("slc:kappa+ball:R=1"))
    assert r"$\kappa$" in tex and "T-ball" in tex


def test_velocity_block_for_class_and_exact():
    tex = L.velocity_latex(GIF(schedule("linear"), target("slc:kappa=2")))
    assert "v(t, x) &=" in tex and r"\nabla_x v(t, x) &=" in tex and " C" in tex
    tex = L.velocity_latex(GIF(schedule("linear"), target("gaussian:sigma=1")))
    assert "x_{1}" in tex


def test_interval_latex_forms():
    assert L.interval_latex(sympy.Interval.Ropen(0, 1)) == r"\left[0, 1\right)"
    assert L.interval_latex({"lo": 0, "hi": 1, "open_hi": True}) == r"\left[0, 1\right)"
    assert L.interval_latex(None) == r"\text{--}"


def test_bounds_and_flow_map_from_duck_typed_objects():
    class FakeBounds:
        upper = (2 * t - 1) / (2 * t**2 - 2 * t + 1)
        lower = -1 / (1 - t)
        lipschitz = sympy.Max(sympy.Abs(upper), sympy.Abs(lower))
        interval = sympy.Interval.Ropen(0, 1)
        lemmas = ("bound-slc", "lipschitz")

    tex = L.bounds_latex(FakeBounds())
    assert r"\theta_t" in tex and r"\texttt{bound-slc}" in tex and r"\left[0, 1\right)" in tex

    class FakeFlowMap:
        forward = sympy.sqrt(2) / 2
        reverse = None

    tex = L.flow_map_latex(FakeFlowMap())
    assert r"\frac{\sqrt{2}}{2}" in tex and r"\infty" in tex and r"&\le" in tex


def test_to_latex_dispatch():
    s = schedule("trigonometric")
    assert gifsym.to_latex(s.b) == r"\sin{\left(\frac{\pi t}{2} \right)}"
    assert gifsym.to_latex(s).startswith(r"\begin{align*}")
    assert gifsym.to_latex(s.check()).startswith(r"\begin{description}")
    assert "Target" in gifsym.to_latex(target("ball:R=1"))
    assert gifsym.to_latex(sympy.Matrix([[1, t]])) == sympy.latex(sympy.Matrix([[1, t]]))

    class HasOwn:
        def to_latex(self):
            return "own"

    assert gifsym.to_latex(HasOwn()) == "own"
    with pytest.raises(GifsymError):
        gifsym.to_latex(object())


@pytest.mark.latex
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_fragments_compile(tmp_path, any_schedule):
    """Every fragment this module writes for a catalogue schedule compiles with amsmath alone."""
    body = "\n".join(
        [
            L.schedule_latex(any_schedule),
            L.assumption_report_latex(any_schedule.check()),
            L.target_latex(target("conv:sigma=0.5,R=2")),
            L.escape_text("≤ ∞ Föllmer ~ 50% a_b"),
        ]
    )
    doc = (
        "\\documentclass{article}\\usepackage{amsmath,amssymb}\\begin{document}\n"
        + body
        + "\n\\end{document}\n"
    )
    (tmp_path / "f.tex").write_text(doc, encoding="utf-8")
    proc = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "f.tex"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout.decode("latin-1")[-2000:]
