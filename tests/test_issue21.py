"""Issue 21 (items 1–4, 11–13, 15): no wrong verdict on removable singularities, schedules that use only t and
declared parameters, conditions that are true, JSON that reads back, readable and fast output.

Each test reproduces one case of the issue (each failed on the code before it)."""

from __future__ import annotations

import json

import pytest
import sympy
from click.testing import CliRunner

from gifsym import GIF, schedule, target
from gifsym.cli import app
from gifsym.theory import flow_map_lipschitz


def run_json(argv):
    result = CliRunner().invoke(app, [*argv, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


# ---------------------------------------------------------------------------------------------------------
# 3. The condition of a conditional constant is the condition of well-posedness on [0, T], T < 1


def test_forward_constant_condition_is_kappa_positive_not_false():
    fm = flow_map_lipschitz(GIF(schedule("linear"), target("slc:kappa")))
    kappa = next(iter(fm.forward.value.free_symbols))
    assert fm.forward.conditional_on == "well-posed"
    assert fm.forward.condition == (kappa > 0)  # was sympy.false
    # Independent route: the well-posedness result itself, on [0, 1) exactly when kappa > 0, and the
    # concrete member kappa = 2 (well posed on [0, 1), constant 1/sqrt(2) as the Piecewise gives).
    assert fm.well_posed.interval.subs(kappa, 2) == sympy.Interval.Ropen(0, 1)
    fm2 = flow_map_lipschitz(GIF(schedule("linear"), target("slc:kappa=2")))
    assert fm2.forward.value == fm.forward.value.subs(kappa, 2) == 1 / sympy.sqrt(2)
    assert fm2.interval == sympy.Interval.Ropen(0, 1)
    out = run_json(["bounds", "--schedule", "linear", "--target", "slc:kappa"])
    assert sympy.sympify(out["flow_map"]["forward"]["condition"]["sympy"]) == (sympy.Symbol("kappa") > 0)
