"""LaTeX reports: structure, leanblueprint lines, compilation with pdflatex, the key results in the PDF."""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
import unicodedata

import pytest

from gifsym import GIF, lemmas, schedule, target
from gifsym.errors import LatexError
from gifsym.output import report as R
from gifsym.symbolic import inventory

HAVE_PDFLATEX = shutil.which("pdflatex") is not None
needs_latex = pytest.mark.skipif(not HAVE_PDFLATEX, reason="pdflatex not installed")

#: (schedule kwargs, target spec): an exact law, a class with a schedule that has b_0 > 0, a two-sided
#: class, and a custom schedule with a class whose bound stops short of t = 1.
PAIRS = [
    ({"spec": "linear"}, "gaussian:sigma=0.5"),
    ({"spec": "vp"}, "slc:kappa=2"),
    ({"spec": "trigonometric"}, "conv:sigma=0.5,R=2"),
    ({"a": "cos(pi*t/2)**2", "b": "sin(pi*t/2)"}, "ball:R=1+slc:kappa=-0.5"),
]
TIMES = (0.25, 0.5, 0.9)


def _flow(kw, spec):
    return GIF(schedule(**kw), target(spec))


def _norm(text: str) -> str:
    """Text compared across LaTeX's typesetting: no whitespace, dashes or ligature differences."""
    text = (
        unicodedata.normalize("NFKD", text)
        .replace("\u2212", "-")
        .replace("\u2019", "'")
        .replace("\u2018", "'")
    )
    # OT1 fonts set accents as separate glyphs (pdftotext reads "Gr¨onwall"): drop accents on both sides.
    text = "".join(c for c in text if unicodedata.category(c) not in ("Mn", "Sk"))
    return re.sub(r"[\s\-\u2010-\u2015]+", "", text)


def test_module_doctests():
    result = doctest.testmod(R, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("kw, spec", PAIRS[:2], ids=["linear-gauss", "vp-slc"])
def test_document_structure(kw, spec):
    flow = _flow(kw, spec)
    rep = R.make_report(flow, at=TIMES)
    tex = rep.tex
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
    assert r"\providecommand{\uses}[1]{}" in tex  # standalone, and leanblueprint's \uses wins if defined
    applicable = lemmas.applicable(flow)
    assert list(rep.lemmas) == applicable  # every applicable lemma, in dependency order
    labels = re.findall(r"\\label\{(lem:[^}]+)\}", tex)
    assert labels == [f"lem:{n}" for n in applicable]
    # One \uses line per lemma, naming only lemmas present in the document (leanblueprint's graph).
    uses = re.findall(r"\\uses\{([^}]*)\}", tex)
    assert len(uses) == len(applicable)
    present = set(labels)
    for line, name in zip(uses, applicable):
        used = {u for u in line.split(",") if u}
        assert used <= present
        lem = lemmas.get(name)
        assert used == {f"lem:{u}" for u in (*lem.uses, *lem.any_of) if f"lem:{u}" in present}
    # The environment of each lemma follows its kind.
    for name in applicable:
        kind = lemmas.get(name).kind
        assert re.search(rf"\\begin\{{{kind}\}}\[[^\]]*\]\\label\{{lem:{name}\}}", tex), name
    assert r"\label{tab:bounds}" in tex and r"\ref{tab:bounds}" in tex


def test_same_inputs_same_document():
    flow = _flow(*PAIRS[0])
    assert R.make_report(flow, at=TIMES).tex == R.make_report(flow, at=TIMES).tex


def test_bound_values_are_the_bounds_objects_values():
    flow = _flow(*PAIRS[1])
    rows = R.bound_values(flow.bounds(), TIMES)
    expected = flow.bounds().values(list(TIMES))
    for mine, theirs in zip(rows, expected):
        for k in ("upper", "lower", "lipschitz"):
            assert mine[k] == pytest.approx(float(theirs[k]), rel=1e-15)


def test_display_splits_long_formulas_and_never_shrinks():
    import sympy

    from gifsym import t
    from gifsym.output.formula import LINE, display, latex_width

    long_max = sympy.Max(*[sympy.exp(k * t) / (1 + t**k) + sympy.sin(k * t) ** 3 for k in range(2, 14)])
    out = display(r"\theta_t", long_max)
    assert r"\max\left(" in out and out.count("A_{") == 2 * len(long_max.args)  # named, then defined
    long_sum = sum(sympy.exp(k * t) / (k + t) for k in range(1, 30))
    out = display("u_t", long_sum)
    rows = out.split(r"\\")
    assert len(rows) > 3 and all(latex_width(r.replace("&", "")) <= LINE + 8 for r in rows)
    for text in (display(r"\theta_t", long_max), out):
        assert "resizebox" not in text and "gifsymdisplay" not in text and "+ -" not in text
    assert display("u_t", 1 / (1 - t)) == "\\begin{align*}\n  u_t &= \\frac{1}{1 - t}\n\\end{align*}"
    # A root of a long sum (a nested radical in an exact constant) is named and its base split over lines,
    # and the placeholder used to print the outer function never leaks into the output.
    radical = sympy.sqrt(sum(k * sympy.sqrt(2 + sympy.sqrt(k)) ** k for k in range(2, 30)))
    out = display(r"\mathcal{D}", radical)
    rows = out.split(r"\\")
    assert r"\sqrt{\mathcal{U}_{1}}" in out and "QQgifsym" not in out
    assert len(rows) > 2 and all(latex_width(r.replace("&", "")) <= LINE + 8 for r in rows)
    assert "QQgifsym" not in display("u_t", sympy.exp(long_sum))


def test_write_report_rejects_bad_paths(tmp_path):
    from gifsym.errors import GifsymError

    flow = _flow(*PAIRS[0])
    with pytest.raises(GifsymError, match=r"\.tex"):
        R.write_report(flow, tmp_path / "r.txt")
    with pytest.raises(GifsymError, match="does not exist"):
        R.write_report(flow, tmp_path / "nope" / "r.tex")
    assert os.listdir(tmp_path) == []


def test_missing_pdflatex_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "x.tex").write_text(r"\documentclass{article}\begin{document}x\end{document}")
    monkeypatch.setattr(R.shutil, "which", lambda name: None)
    with pytest.raises(LatexError, match="pdflatex not found"):
        R.compile_pdf(tmp_path / "x.tex")


@needs_latex
@pytest.mark.latex
def test_latex_error_names_the_line_and_leaves_no_pdf(tmp_path):
    (tmp_path / "bad.tex").write_text(
        "\\documentclass{article}\n\\begin{document}\nok\n\\undefinedmacro\n\\end{document}\n"
    )
    with pytest.raises(LatexError, match=r"line 4: Undefined control sequence"):
        R.compile_pdf(tmp_path / "bad.tex")
    assert sorted(os.listdir(tmp_path)) == ["bad.tex"]


@needs_latex
@pytest.mark.latex
def test_undefined_reference_fails(tmp_path):
    (tmp_path / "ref.tex").write_text(
        "\\documentclass{article}\n\\begin{document}\nsee \\ref{nowhere}\n\\end{document}\n"
    )
    with pytest.raises(LatexError, match="undefined reference.*nowhere"):
        R.compile_pdf(tmp_path / "ref.tex")
    assert not (tmp_path / "ref.pdf").exists()


@needs_latex
@pytest.mark.latex
@pytest.mark.parametrize("kw, spec", PAIRS, ids=["linear-gauss", "vp-slc", "trig-conv", "custom-ball-slc"])
def test_report_compiles_and_the_pdf_shows_the_results(kw, spec, tmp_path):
    flow = _flow(kw, spec)
    written = R.write_report(flow, tmp_path / "report.tex", at=TIMES, pdf=True)
    assert written.pdf and os.path.getsize(written.pdf) > 1000
    assert sorted(os.listdir(tmp_path)) == ["report.pdf", "report.tex"]  # no .aux/.log litter
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed")
    text = subprocess.run(
        ["pdftotext", "-layout", written.pdf, "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = _norm(text)
    assert "??" not in text  # no unresolved reference
    for heading in (
        "Setting",
        "Schedule",
        "Assumptions",
        "Target",
        "Results",
        "Bounds on the Jacobian",
        "Flow-map constants",
    ):
        assert _norm(heading) in flat, heading
    assert _norm(flow.schedule.spec) in flat and _norm(flow.target.spec) in flat
    # Every applicable lemma, by the start of its title (inline maths in a statement can interleave
    # pdftotext's reading of the rest of the line).
    for name in written.lemmas:
        title = lemmas.get(name).title
        assert _norm(title)[:14] in flat, title
    # The bounds table: each value at each time, as printed (6 significant digits).
    for row in flow.bounds().values(list(TIMES)):
        for key in ("lower", "upper", "lipschitz"):
            v = float(row[key])
            if abs(v) != float("inf"):
                assert (
                    _norm(f"{v:.6g}".replace("e", "")) in flat or _norm(f"{v:.6g}".split("e")[0]) in flat
                ), (key, v)
    # The assumption report's status words.
    assert "holds" in text


@needs_latex
@pytest.mark.latex
@pytest.mark.slow
def test_report_with_verify_includes_the_checks_and_the_figure(tmp_path):
    flow = GIF(schedule("trigonometric"), target("gaussian:sigma=0.5"))
    written = R.write_report(flow, tmp_path / "v.tex", at=(0.5,), pdf=True, verify=True, samples=200)
    assert written.figure and os.path.isfile(written.figure)
    tex = (tmp_path / "v.tex").read_text()
    assert r"\section{Numerical checks}" in tex and r"\includegraphics" in tex and r"\ref{fig:verify}" in tex
    assert sorted(os.listdir(tmp_path)) == ["v-verify.pdf", "v.pdf", "v.tex"]
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", written.pdf, "-"], capture_output=True, text=True).stdout
        assert "Numerical checks" in text and "passed" in text and "FAILED" not in text


# ------------------------------------------------------------------------------------------------------
# Paper-ready (issue 10): nothing runs into the margin, nothing is shrunk, no internal keys, real references


def _compiled_log(flow, tmp_path, name="r"):
    tex = tmp_path / f"{name}.tex"
    R.write_report(flow, tex, at=TIMES)
    R.compile_pdf(tex, log_path=tmp_path / f"{name}.log")
    return tex.read_text(), (tmp_path / f"{name}.log").read_text(encoding="latin-1")


def _check_paper_ready(tex: str, log: str) -> None:
    assert R.overfull_boxes(log) == [], R.overfull_boxes(log)
    assert "+ -" not in tex and "resizebox" not in tex.split(r"\begin{document}")[1]
    assert "math.md" not in tex
    for key in ("cov_upper", "cov_lower", "as_snr", "score_x", "grad_m", "log_kernel", "precision_shift",
                "a_eff", "g2_half", "gaussian_start_cost"):
        assert key not in tex and key.replace("_", r"\_") not in tex and key.replace("_", r"\char95{}") not in tex
    assert r"\begin{thebibliography}" in tex and r"\bibitem{gao2024}" in tex and "Gao" in tex
    assert r"\cite{gao2024" in tex and r"\bibitem{gifsym}" in tex


#: The worst cases of gifsym 0.1 (issue 10: 3, 2 and 4 overfull lines, up to 45 pt; the conv bound shrunk).
WORST = [("vp", "conv:sigma=0.5,R=1"), ("subvp", "conv:sigma=0.5,R=1"), ("ve", "conv:sigma=0.5,R=1")]


@needs_latex
@pytest.mark.latex
@pytest.mark.parametrize("sched, spec", WORST, ids=[w[0] for w in WORST])
def test_worst_cases_have_no_overfull_line(sched, spec, tmp_path):
    tex, log = _compiled_log(_flow({"spec": sched}, spec), tmp_path)
    _check_paper_ready(tex, log)
    # Each result is stated in general and then in compact form: VP's upper bound in E and β(s).
    if sched == "vp":
        assert r"E &= e^{- B(s)}" in tex and r"\frac{E \beta(s) \left(9 E + 4\right)}{2 \left(3 E - 4\right)^{2}}" in tex


@needs_latex
@pytest.mark.latex
@pytest.mark.slow
@pytest.mark.parametrize("tid", list(inventory.EXACT_TARGETS) + list(inventory.CLASS_TARGETS))
def test_no_report_of_the_inventory_has_an_overfull_line(any_schedule, tid, tmp_path):
    tg = {**inventory.exact_targets(), **inventory.class_targets()}[tid]
    tex, log = _compiled_log(GIF(any_schedule, tg), tmp_path)
    _check_paper_ready(tex, log)
