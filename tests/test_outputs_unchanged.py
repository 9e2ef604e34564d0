"""The README's examples give exactly the output pinned in ``tests/golden/``: any change to what users see is
deliberate.

The files were first written by the 0.1 release (commit aff5818) with the same commands and showed that
re-layering the package (issue 8) changed no output. A change that alters the output on purpose regenerates
them: issue 9 (every number says how it is known) and issue 10 (compact forms with their definitions,
values tables and one-line reasons in the terminal; ``"compact"`` fields and ``"definitions"`` in the JSON;
the paper-ready report) and issue 18 (the early-stopping lemma applies to every flow, so the report lists
it), and issue 20 (the certificate lemmas: exact-field stability, step-by-step comparison, end to end). Only the wall-clock time in ``verify``'s header is masked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from gifsym.cli import app

GOLDEN = Path(__file__).with_name("golden")
_SECONDS = re.compile(r", \d+(\.\d+)? s$", re.MULTILINE)

CASES = [
    ("bounds_vp_slc.txt", ["bounds", "--schedule", "vp", "--target", "slc:kappa=2", "--at", "0.25,0.5,0.9"]),
    ("bounds_linear_ball_slc.json", ["bounds", "--schedule", "linear", "--target", "ball:R=1+slc:kappa=-0.5", "--json"]),
    ("velocity_follmer.tex", ["velocity", "--schedule", "follmer", "--target", "gaussian:sigma=0.5", "--latex"]),
]


@pytest.mark.parametrize(("golden", "args"), CASES, ids=[c[0] for c in CASES])
def test_cli_output_is_unchanged(golden, args):
    out = CliRunner().invoke(app, args, catch_exceptions=False)
    assert out.exit_code == 0
    assert out.output == (GOLDEN / golden).read_text()


def test_report_is_unchanged(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the document quotes its command line, output file included
    path = tmp_path / "report_vp_slc.tex"
    out = CliRunner().invoke(app, ["report", "--schedule", "vp", "--target", "slc:kappa=2", "-o", path.name],
                             catch_exceptions=False)
    assert out.exit_code == 0
    assert path.read_text() == (GOLDEN / "report_vp_slc.tex").read_text()


def test_verify_is_unchanged():
    pytest.importorskip("diffrax")
    out = CliRunner().invoke(app, ["verify", "--schedule", "trigonometric", "--target", "gaussian:sigma=0.5"],
                             catch_exceptions=False)
    assert out.exit_code == 0
    assert _SECONDS.sub(", _ s", out.output) == _SECONDS.sub(", _ s", (GOLDEN / "verify_trig.txt").read_text())
