"""``gifsym simulate`` and ``gifsym verify``: outputs, JSON, exit codes (0 ok, 1 failed check, 2 user error)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

pytest.importorskip("diffrax")

from gifsym.cli import main

LIN_GAUSS = ["--schedule", "linear", "--target", "gaussian:sigma=0.5"]


def run(argv, capsys) -> tuple[int, str, str]:
    """Run the real entry point (as the console script does) and return (exit code, stdout, stderr)."""
    try:
        main(argv)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_writes_npz_plot_and_json(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["simulate", *LIN_GAUSS, "-n", "64", "--seed", "3", "-o", "s.npz", "--plot", "s.png",
                          "--save-path", "5", "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["n"] == 64 and d["dim"] == 1 and d["eps"] == 0 and d["member"] is None and d["reverse"] is False
    with np.load(tmp_path / "s.npz") as z:
        assert z["x0"].shape == (64, 1) and z["x"].shape == (64, 1) and z["path"].shape == (5, 64, 1)
        # X_{0,1}(x) = 0.5 x for N(0, 0.25) under the linear schedule (math.md §4); default rtol 1e-6.
        assert np.max(np.abs(z["x"] - 0.5 * z["x0"])) < 1e-5
        assert float(z["t_end"]) == 1.0
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_simulate_class_target_reverse_text(capsys):
    code, out, err = run(["simulate", "--schedule", "linear", "--target", "ball:R=1", "-n", "64", "--reverse",
                          "--dim", "2"], capsys)
    assert code == 0, err
    assert "member: product of 2 copies of [uniform" in out
    assert "data -> noise" in out and "eps = 0.001" in out


@pytest.mark.parametrize("argv, message", [
    (["simulate", *LIN_GAUSS, "-n", "8", "--solver", "euler"], "--steps"),
    (["simulate", *LIN_GAUSS, "-n", "8", "-o", "x.txt"], ".npz"),
    (["simulate", *LIN_GAUSS, "-n", "8", "--plot", "x.bmp"], "extension"),
    (["simulate", *LIN_GAUSS, "-n", "8", "-o", "/no/such/folder/x.npz"], "does not exist"),
    (["simulate", "--schedule", "linear", "--target", "ball:R=1+slcvx:beta=2", "-n", "8"], "full support"),
    (["verify", *LIN_GAUSS, "--check", "nope"], "not a check"),
    (["simulate", "--schedule", "nope", "--target", "gaussian:sigma=1", "-n", "8"], "unknown schedule"),
])
def test_user_errors_exit_2(argv, message, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2 and err.startswith("Error:") and message in err, err
    assert "Traceback" not in err


def test_verify_json_exit_0(capsys):
    code, out, err = run(["verify", *LIN_GAUSS, "--samples", "64", "--check", "velocity", "--check", "bounds",
                          "--json"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["passed"] is True and [c["name"] for c in d["checks"]] == ["velocity", "bounds"]
    rows = d["checks"][1]["rows"]
    assert len(rows) == 11 and all(math.isclose(r["tightness"], 1, abs_tol=1e-9) for r in rows)


def test_verify_failure_exits_1(capsys, monkeypatch):
    """A failed check exits 1 through the real entry point (click's own Exit would be swallowed by the
    non-standalone mode gifsym.cli.main uses)."""
    import gifsym.numerics.verify as V

    def failing(gif, **kw):
        return V.VerifyReport(gif.schedule.spec, gif.target.spec, None, 1, kw["samples"], kw["seed"],
                              (V.CheckResult("bounds", "failed", "upper at t=0.5: observed 2 vs bound 1"),))

    monkeypatch.setattr(V, "verify", failing)
    code, out, err = run(["verify", *LIN_GAUSS, "--samples", "64"], capsys)
    assert code == 1
    assert "FAILED" in out and "1 check(s) failed: bounds" in err
