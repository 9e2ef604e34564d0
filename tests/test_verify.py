"""gifsym.numerics.verify: the checks pass on correct flows, catch a wrong bound and a wrong field, and report
tightness.

Negative controls matter here: a verify that passes everything would pass these tests' positive cases too,
so each kind of check is also shown to fail when its ingredient is wrong (an understated Lipschitz lemma,
an understated upper bound, a field of the wrong target).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from types import SimpleNamespace

import pytest
import sympy

pytest.importorskip("diffrax")

from gifsym import GIF, lemmas, schedule, target
from gifsym.errors import NumericError
from gifsym.numerics.verify import CHECKS, CheckResult, VerifyReport, verify
from gifsym.symbolic.schedule import CATALOGUE
from gifsym.theory.lemmas import Lemma

GAUSS = "gaussian:sigma=0.5"
GMM = {"weights": [0.3, 0.7], "means": [[-1.0, 0.0], [1.0, 0.5]], "sigma": 0.4}


@pytest.fixture(scope="module")
def gaussian_report():
    return verify(GIF(schedule("linear"), target(GAUSS)), samples=300, seed=0)


def test_gaussian_passes_every_check(gaussian_report):
    rep = gaussian_report
    assert rep.passed and [c.name for c in rep.checks] == list(CHECKS)
    assert all(c.status == "passed" for c in rep.checks), str(rep)


def test_gaussian_bounds_are_sharp(gaussian_report):
    """For N(m, σ²I) the bounds are equalities (math.md §5): observed / bound = 1 at every time, to the
    round-off of the two routes (1e-9; a bound off by a constant factor would show at O(1))."""
    b = gaussian_report["bounds"]
    assert b.metrics["tightness_min"] == pytest.approx(1, abs=1e-9)
    assert b.metrics["tightness_max"] == pytest.approx(1, abs=1e-9)
    for row in b.rows:
        assert row["max_eig"] == pytest.approx(row["upper"], abs=1e-9)
        assert row["min_eig"] == pytest.approx(row["lower"], abs=1e-9)
    # The flow maps are affine, so the finite-difference Lipschitz ratios equal the bounds (up to the
    # solvers' 1e-8 tolerance amplified by 1/FD_STEP = 1e4).
    fm = gaussian_report["flow-map"].metrics
    assert fm["forward_tightness"] == pytest.approx(1, abs=1e-3)
    assert fm["reverse_tightness"] == pytest.approx(1, abs=1e-3)


def test_report_serialises(gaussian_report):
    d = json.loads(json.dumps(gaussian_report.to_dict()))
    assert d["passed"] is True and d["schedule"] == "linear" and len(d["checks"]) == len(CHECKS)
    rows = next(c for c in d["checks"] if c["name"] == "bounds")["rows"]
    assert {"t", "upper", "lower", "theta", "max_eig", "min_eig", "tightness"} <= set(rows[0])
    assert "all checks hold" in str(gaussian_report)
    assert r"\begin{tabular}" in gaussian_report.to_latex()


def test_progress_is_told_each_check_before_it_runs():
    """The CLI's progress bar is driven by this callback: each selected check, in CHECKS order, then the end."""
    calls = []
    rep = verify(GIF(schedule("linear"), target(GAUSS)), samples=40, checks=("bounds", "velocity"), times=2,
                 progress=lambda name, i, n: calls.append((name, i, n)))
    assert calls == [("velocity", 0, 2), ("bounds", 1, 2), ("", 2, 2)]
    assert [c.name for c in rep.checks] == ["velocity", "bounds"]


def _understated_lipschitz(ctx, deps):
    from gifsym.theory.library import LEMMAS

    true = next(lem for lem in LEMMAS if lem.name == "lipschitz").derive(ctx, deps)
    return {**true, "theta": sympy.Rational(9, 10) * true["theta"]}


def test_understated_lipschitz_lemma_is_caught():
    """Must-show: a test-only lemma that understates θ_t by 10% is caught by the bounds check."""
    reg = lemmas.registry().extend(
        Lemma("lipschitz", "proposition", "Understated Lipschitz constant (test only)", "wrong on purpose",
              uses=("jacobian-upper", "jacobian-lower"), derive=_understated_lipschitz),
        replace_existing=True)
    gif = GIF(schedule("linear"), target(GAUSS))
    rep = verify(gif, samples=100, checks=("bounds",), registry=reg)
    assert not rep.passed and rep["bounds"].status == "failed"
    assert "theta" in rep["bounds"].message
    # The same call with gifsym's own library passes (see test_gaussian_passes_every_check).


def test_understated_upper_bound_is_caught():
    """An upper bound 1% too small (given directly) is exceeded by the observed largest eigenvalue: the
    Gaussian's bounds are sharp, so any understatement beyond round-off shows."""
    gif = GIF(schedule("linear"), target(GAUSS))
    true = gif.bounds()
    wrong = SimpleNamespace(upper=true.upper - sympy.Rational(1, 100) * abs(true.upper), lower=true.lower,
                            lipschitz=true.lipschitz)
    rep = verify(gif, samples=100, checks=("bounds",), bounds=wrong)
    assert rep["bounds"].status == "failed" and "upper" in rep["bounds"].message
    assert "theta" not in rep["bounds"].message and "lower" not in rep["bounds"].message


@dataclass(frozen=True)
class WrongField(GIF):
    """A flow whose numerical field belongs to another target (σ = 1 instead of the declared σ = 0.5)."""

    def field(self):
        return GIF(self.schedule, target("gaussian:sigma=1")).field()


def test_wrong_field_is_caught():
    rep = verify(WrongField(schedule("linear"), target(GAUSS)), samples=300, checks=("velocity", "transport"))
    assert {c.name for c in rep.failures()} == {"velocity", "transport"}


def test_oracle_member_passes_and_reports_tightness():
    rep = verify(GIF(schedule("trigonometric"), target("ball:R=1")), samples=200,
                 checks=("jacobian", "bounds", "transport"))
    assert rep.passed, str(rep)
    assert rep.member == "uniform on [-1, 1]"
    # Support in a ball gives C ≼ R² I: the upper bound is far from tight early (Var ν = 1/3 < R² = 1)
    # and the lower bound ȧ/a is approached near t = 1 (C → 0 at the support's edge).
    t = rep["bounds"].metrics
    assert 0 < t["tightness_min"] <= t["tightness_max"] <= 1


def test_skipped_checks_do_not_fail():
    r = VerifyReport("linear", "x", None, 1, 20, 0, (CheckResult("bounds", "skipped", "no bounds"),))
    assert r.passed and not r.failures()
    bad = replace(r, checks=(CheckResult("bounds", "failed", "boom"),))
    assert not bad.passed


@pytest.mark.parametrize("kwargs, message", [
    ({"checks": ("nope",)}, "unknown check"),
    ({"samples": 5}, "samples"),
    ({"eps": 0.7}, "eps"),
])
def test_option_errors(kwargs, message):
    with pytest.raises(NumericError, match=message):
        verify(GIF(schedule("linear"), target(GAUSS)), **kwargs)


def test_class_without_member_is_an_error():
    with pytest.raises(NumericError, match="full support"):
        verify(GIF(schedule("linear"), target("ball:R=1+slcvx:beta=4")), checks=("velocity",))


# ---------------------------------------------------------------------------------------------------------
# Must-show: every catalogue schedule on a Gaussian, a GMM and a quadrature-oracle target (slow: ~20 s each)

TARGETS = {"gaussian": lambda: target(GAUSS), "gmm": lambda: target("gmm", **GMM),
           "oracle-logcosh": lambda: target("slc:kappa=1"), "oracle-ball": lambda: target("ball:R=1")}


@pytest.mark.slow
@pytest.mark.parametrize("tname", list(TARGETS))
@pytest.mark.parametrize("name", list(CATALOGUE))
def test_verify_passes_on_the_catalogue(name, tname):
    rep = verify(GIF(schedule(name), TARGETS[tname]()), samples=400, seed=1)
    assert rep.passed, str(rep)
    statuses = {c.name: c.status for c in rep.checks}
    # Bounds and tightness are always checked; flow-map and stability may be skipped only where the
    # bound integrals are infinite.
    assert statuses["bounds"] == "passed" and statuses["transport"] == "passed"
    assert rep["bounds"].metrics["tightness_median"] is not None


def test_module_doctests():
    import doctest

    import gifsym.numerics.verify

    result = doctest.testmod(gifsym.numerics.verify, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


def test_verify_in_a_high_dimension_under_an_address_space_cap_is_a_clean_error(tmp_path):
    """Issue 22: ``verify --dim 10000`` under ``ulimit -v 4 GiB`` aborted inside XLA (SIGABRT, "Check failed").
    Its dense Jacobians (n·d² floats, ~300 GiB here) are estimated first and refused against the address space
    the process may still take; a small dimension under the same cap still runs."""
    import resource
    import subprocess
    import sys
    from pathlib import Path

    cli = str(Path(__file__).resolve().parents[1] / "cli.py")

    def capped():
        resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, 4 * 2**30))

    def run(dim):
        return subprocess.run([sys.executable, cli, "verify", "--schedule", "linear", "--target", "slc:kappa=2",
                               "--dim", str(dim), "--samples", "100", "--check", "velocity"],
                              capture_output=True, text=True, timeout=600, preexec_fn=capped, cwd=tmp_path,
                              env={**os.environ, "GIFSYM_CACHE": "off"})

    big = run(10_000)
    assert big.returncode == 2, big.stderr[-2000:]
    lines = big.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and "memory" in lines[0], big.stderr[-2000:]
    small = run(2)
    assert small.returncode == 0, small.stderr[-2000:]
