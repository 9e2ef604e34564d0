"""Every CLI command and sub-command: ``--help`` works, and one real invocation succeeds.

The command list comes from :data:`gifsym.cli.COMMANDS` and the groups' own sub-commands, so a new command
without an entry in ``INVOCATIONS`` fails :func:`test_every_command_has_an_invocation`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from gifsym.cli import COMMANDS, LazyGroup, app

ROOT = Path(__file__).resolve().parents[1]
LIN_GAUSS = ["--schedule", "linear", "--target", "gaussian:sigma=0.5"]

#: command path -> (argv after "gifsym", files it must write, marks). Kept small: each runs in seconds.
INVOCATIONS: dict[str, tuple[list[str], list[str], list]] = {
    "schedules": (["schedules", "--json"], [], []),
    "schedule": (["schedule", "vp:beta_min=0.1,beta_max=20", "--json"], [], []),
    "velocity": (["velocity", *LIN_GAUSS, "--json"], [], []),
    "bounds": (
        ["bounds", "--schedule", "linear", "--target", "slc:kappa=2", "--at", "0.5", "--json"],
        [],
        [],
    ),
    "lemmas list": (["lemmas", "list"], [], []),
    "lemmas show": (["lemmas", "show", "jacobian-identity"], [], []),
    "lemmas requires": (["lemmas", "requires", "flow-map-lipschitz"], [], []),
    "lemmas graph": (["lemmas", "graph", "-o", "lemmas.dot"], ["lemmas.dot"], []),
    "simulate": (
        ["simulate", *LIN_GAUSS, "-n", "32", "--seed", "1", "-o", "samples.npz"],
        ["samples.npz"],
        [pytest.mark.slow],
    ),
    "verify": (["verify", *LIN_GAUSS, "--samples", "64", "--json"], [], [pytest.mark.slow]),
    "report": (["report", *LIN_GAUSS, "-o", "r.tex", "--at", "0.5"], ["r.tex"], []),
    "plan": (["plan", *LIN_GAUSS, "--steps", "8", "--compare", "uniform,edm", "--json", "--export", "diffusers",
              "-o", "sigmas.json"], ["sigmas.json"], []),
    "certify": (["certify", *LIN_GAUSS, "--model", str(ROOT / "tests" / "models" / "shifted_velocity.py") + ":shifted",
                 "-n", "64", "--times", "5", "--lipschitz", "1", "--plot", "c.png", "--json"], ["c.png"], []),
    "plot bounds": (
        [
            "plot",
            "bounds",
            "--schedule",
            "linear,trigonometric",
            "--target",
            "slc:kappa=2",
            "-o",
            "b.png",
            "--points",
            "30",
        ],
        ["b.png"],
        [],
    ),
    "plot verify": (
        ["plot", "verify", *LIN_GAUSS, "--samples", "64", "-o", "v.png"],
        ["v.png"],
        [pytest.mark.slow],
    ),
    "plot trajectories": (
        ["plot", "trajectories", *LIN_GAUSS, "-n", "8", "-o", "p.svg"],
        ["p.svg"],
        [pytest.mark.slow],
    ),
    "plot lemmas": (["plot", "lemmas", "-o", "g.svg"], ["g.svg"], []),
    "design": (["design", "--target", "gaussian:sigma=0.5", "--plot", "d.png", "--json"], ["d.png"], []),
}

NEEDS_DOT = {"plot lemmas"}


def command_paths() -> list[str]:
    """Every command of this build and every sub-command of its groups, as ``"group sub"`` paths."""
    out = []
    ctx = click.Context(app)
    for name in COMMANDS:
        cmd = LazyGroup._load(name)
        if cmd is None:
            continue
        out.append(name)
        if isinstance(cmd, click.Group):
            out += [f"{name} {sub}" for sub in cmd.list_commands(click.Context(cmd, parent=ctx))]
    return out


def _leaf_paths() -> list[str]:
    paths = command_paths()
    return [p for p in paths if not any(q.startswith(p + " ") for q in paths)]


def test_every_command_has_an_invocation():
    missing = [p for p in _leaf_paths() if p not in INVOCATIONS]
    assert not missing, f"add a real invocation for: {missing}"


def test_top_level_help_lists_every_command():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        if LazyGroup._load(name) is not None:
            assert name in result.output


@pytest.mark.parametrize("path", command_paths())
def test_help(path):
    result = CliRunner().invoke(app, [*path.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output and "--help" in result.output
    # The first line of the docstring is the summary shown by `gifsym --help`: it must say something.
    body = result.output.split("\n\n", 2)[1].strip()
    assert len(body) > 10, f"gifsym {path} --help has no description"


def _invocation_cases():
    for path in _leaf_paths():
        if path in INVOCATIONS:
            argv, files, marks = INVOCATIONS[path]
            yield pytest.param(path, argv, files, id=path.replace(" ", "-"), marks=marks)


@pytest.mark.parametrize("path, argv, files", list(_invocation_cases()))
def test_real_invocation(path, argv, files, tmp_path, monkeypatch):
    if (
        path in NEEDS_DOT | {"lemmas graph"}
        and argv[-1].endswith((".svg", ".png", ".pdf"))
        and not shutil.which("dot")
    ):
        pytest.skip("Graphviz not installed")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, argv, catch_exceptions=True)
    assert result.exit_code == 0, f"gifsym {' '.join(argv)}\n{result.output}\n{result.exception!r}"
    if "--json" in argv:
        json.loads(result.output)
    for f in files:
        assert (tmp_path / f).is_file() and (tmp_path / f).stat().st_size > 0, f"{f} not written"
    # Atomic writes leave no temporary files behind.
    assert not [n for n in os.listdir(tmp_path) if ".tmp" in n]


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["report", "--schedule", "nosuch", "--target", "slc:kappa=2", "-o", "r.tex"], "nosuch"),
        (["report", *LIN_GAUSS, "-o", "r.tex", "--at", "1.5"], "1.5"),
        (["report", *LIN_GAUSS, "-o", "r.txt"], ".tex"),
        (["plot", "bounds", "--schedule", "linear", "--target", "slc:kappa=2", "-o", "b.jpg"], ".jpg"),
        (["plot", "bounds", "--schedule", "linear", "--target", "slc:kappa", "-o", "b.png"], "kappa"),
        (["design", "--target", "gaussian:sigma=0.5", "--tol", "0.1"], "tol"),
        (["plan", *LIN_GAUSS, "--steps", "4", "--tol", "0.1"], "exactly one of tol and steps"),
        (["plan", *LIN_GAUSS, "--steps", "4", "--grid", "cosine"], "cosine"),
        (["plan", *LIN_GAUSS, "--steps", "4", "--export", "diffusers"], "-o FILE"),
        (["plan", "--schedule", "linear", "--target", "slc:kappa=1", "--steps", "4"], "derives no such bound"),
    ],
)
def test_user_mistakes_are_one_error_line_exit_2(argv, needle, tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and needle in lines[0], proc.stderr
    assert os.listdir(tmp_path) == []
