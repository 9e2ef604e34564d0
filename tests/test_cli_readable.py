"""Terminal output people read (issue 10): one-screen schedules table, compact formulas with their
definitions, values tables, one-line reasons, proofs behind --verbose; --json stays plain JSON."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gifsym.cli import app


def run(args: list[str], **env) -> str:
    out = CliRunner(env=env or None).invoke(app, args, catch_exceptions=False)
    assert out.exit_code == 0, out.output
    return out.output


def test_schedules_fits_one_screen():
    text = run(["schedules"])
    lines = text.splitlines()
    assert len(lines) <= 40 and max(len(ln) for ln in lines) <= 140, (len(lines), max(map(len, lines)))
    for name in ("linear", "trigonometric", "follmer", "vp", "subvp", "ve"):
        assert any(ln.lstrip("│ ").startswith(name) for ln in lines), name
    # one mark per assumption: 4 marks on each schedule's row, all proved for the catalogue
    rows = [ln for ln in lines if ln.lstrip("│ ").split(" ")[0] in ("linear", "vp", "ve")]
    assert all(ln.count("✓") == 4 for ln in rows)
    # compact forms with their definitions (VP: a_t = sqrt(1 - E), E defined below the table)
    assert "sqrt(1 - E)" in text and "E = exp(-B(s))" in text
    # no proof steps without --verbose
    assert "interval arithmetic" not in text


def test_schedules_fit_even_on_a_wide_terminal():
    text = run(["schedules"], COLUMNS="140")
    assert max(len(ln) for ln in text.splitlines()) <= 140


def test_schedule_shows_compact_forms_values_and_one_line_reasons():
    text = run(["schedule", "vp"])
    assert "a_t" in text and "sqrt(1 - E)" in text and "where" in text and "β(s)" in text
    assert "values" in text and "SNR" in text
    reasons = [ln for ln in text.splitlines() if ln.strip().startswith(("S-end", "S-mono", "S-pos", "S-smooth"))]
    assert len(reasons) == 4 and all(len(ln) <= 140 for ln in reasons)
    verbose = run(["schedule", "vp", "--verbose"])
    assert "interval arithmetic" in verbose and "exp(t/10" in verbose  # proofs and the formulas in t


def test_schedule_reason_names_the_failing_part():
    text = run(["schedule", "--a", "1 - t", "--b", "t**2 - t/2"])
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("S-end"))
    assert "violated" in line and "b_1 = 1" in line and len(line) <= 140


def test_bounds_text_is_compact_with_a_values_table():
    text = run(["bounds", "--schedule", "vp", "--target", "conv:sigma=0.5,R=1"])
    upper = next(ln for ln in text.splitlines() if "u_t" in ln)
    assert "E*β(s)*(9*E + 4)" in upper and len(upper) < 80
    assert "where" in text and "E    = exp(-B(s))" in text
    assert "values" in text and "theta" in text and "0.99" in text  # default times
    assert "exp(t/10" not in text  # the formulas in t only with --verbose
    assert "exp(t/10" in run(["bounds", "--schedule", "vp", "--target", "conv:sigma=0.5,R=1", "--verbose"])


def test_velocity_text_is_compact():
    text = run(["velocity", "--schedule", "trigonometric", "--target", "gaussian:sigma=0.5"])
    assert "φ" in text and "where" in text and "φ = pi*t/2" in text and "c_x" in text


@pytest.mark.parametrize("args", [
    ["schedules", "--json"],
    ["schedule", "vp", "--json"],
    ["bounds", "--schedule", "vp", "--target", "slc:kappa=2", "--json"],
    ["velocity", "--schedule", "vp", "--target", "slc:kappa=2", "--json"],
])
def test_json_stays_machine_readable(args):
    text = run(args, FORCE_COLOR="1", TERM="xterm-256color")
    json.loads(text)  # one JSON document, nothing around it
    assert "\x1b[" not in text and "✓" not in text


def test_errors_keep_their_exit_code_and_one_line(capsys):
    from gifsym.cli import main

    for argv in (["schedule", "cosine"], ["bounds", "-s", "vp", "-T", "nosuch:x=1"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("Error: ") and err.count("\n") == 1
