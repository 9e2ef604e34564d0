"""CLI: schedules, schedule, velocity; errors are one line with exit code 2 and execute nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sympy
from click.testing import CliRunner

from gifsym.cli import app, main

ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str]) -> tuple[int, str, str]:
    """Run the real entry point (error handling included) in-process."""
    runner = CliRunner()
    result = runner.invoke(_entry, args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


import click


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                 "help_option_names": []})
@click.pass_context
def _entry(ctx):
    main(list(ctx.args))


def test_schedules_json_lists_catalogue():
    code, out, _ = run(["schedules", "--json"])
    assert code == 0
    data = json.loads(out)
    assert [d["name"] for d in data] == ["linear", "trigonometric", "follmer", "vp", "subvp", "ve"]
    for d in data:
        assert set(d) >= {"name", "a", "b", "da", "db", "assumptions"}
        assert set(d["a"]) == {"sympy", "latex"}
        assert {k: v["status"] for k, v in d["assumptions"].items()} == {
            "S-end": "holds", "S-mono": "holds", "S-pos": "holds", "S-smooth": "holds"}


def test_schedule_custom_violations_json():
    code, out, _ = run(["schedule", "--a", "1 - t", "--b", "t**2 - t/2", "--json"])
    assert code == 0
    data = json.loads(out)
    assert data["name"] == "custom"
    assert data["assumptions"]["S-end"]["status"] == "violated"
    assert data["assumptions"]["S-mono"]["status"] == "violated"


def test_velocity_json_and_latex():
    code, out, _ = run(["velocity", "--schedule", "linear", "--target", "gaussian:sigma=1", "--json"])
    assert code == 0
    data = json.loads(out)
    v = sympy.sympify(data["velocity"]["sympy"])  # our own output, not user input
    t, x = sympy.symbols("t x_1")
    assert sympy.simplify(v[0] - (2 * t - 1) * x / (t**2 + (1 - t) ** 2)) == 0
    assert data["velocity"]["latex"].startswith("\\left[") or "\\frac" in data["velocity"]["latex"]
    code, out, _ = run(["velocity", "-s", "vp", "-T", "slc:kappa", "--latex"])
    assert code == 0 and "\\frac" in out


@pytest.mark.parametrize(
    "args, needle",
    [
        (["schedule", "cosine"], "unknown schedule 'cosine'"),
        (["schedule", "--a", "__import__('os').system('touch PWNED')", "--b", "t"], "Error:"),
        (["schedule", "--a", "t.__class__", "--b", "t"], "attribute"),
        (["schedule", "--a", "9**9**9", "--b", "t"], "Error:"),
        (["velocity", "-s", "linear", "-T", "student:nu=3"], "unknown target 'student'"),
        (["velocity", "-s", "vp:beta=1", "-T", "gaussian:sigma=1"], "unknown parameter 'beta'"),
    ],
)
def test_user_errors_are_one_line_exit_2(args, needle, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(args)
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and needle in lines[0], err
    assert "Traceback" not in err
    assert not (tmp_path / "PWNED").exists()


def test_cli_py_runs_same_app():
    out = subprocess.run([sys.executable, str(ROOT / "cli.py"), "schedule", "linear", "--json"],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert json.loads(out)["name"] == "linear"
    bad = subprocess.run([sys.executable, str(ROOT / "cli.py"), "schedule", "--a", "foo(t)", "--b", "t"],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and bad.stderr.startswith("Error: ") and bad.stderr.count("\n") == 1


def test_help_lists_commands():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("schedules", "schedule", "velocity"):
        assert name in result.output
