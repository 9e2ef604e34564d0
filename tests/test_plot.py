"""Figures: formats by extension, atomic writes, curves evaluated from the engine's expressions."""

from __future__ import annotations

import doctest
import math
import os
import shutil

import numpy as np
import pytest
import sympy

from gifsym import GIF, schedule, t, target
from gifsym.errors import GifsymError
from gifsym.output import plot as P

MAGIC = {"png": b"\x89PNG", "pdf": b"%PDF", "svg": b"<?xml"}


def _kind(path) -> str:
    head = open(path, "rb").read(8)
    return next(k for k, m in MAGIC.items() if head.startswith(m))


def test_module_doctests():
    pytest.importorskip("gifsym.theory.jacobian_bounds")  # the module example plots bounds
    result = doctest.testmod(P, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_check_format():
    assert P.check_format("a/b.PNG") == "png"
    with pytest.raises(GifsymError, match="accepted: .png, .svg, .pdf"):
        P.check_format("fig.jpg")
    with pytest.raises(GifsymError, match="none"):
        P.check_format("fig")


def test_numeric_function_handles_constants_none_and_blowups():
    ts = np.array([0.0, 0.5, 1.0])
    assert np.allclose(P.numeric_function(sympy.Integer(3))(ts), 3)
    assert np.all(np.isnan(P.numeric_function(None)(ts)))
    v = P.numeric_function(1 / (1 - t))(ts)
    assert v[1] == 2 and np.isnan(v[2])  # 1/0 -> nan (curve stops), not inf
    v = P.numeric_function(sympy.sqrt(t - sympy.Rational(1, 2)))(ts)
    assert np.isnan(v[0]) and v[1] == 0  # complex values are not drawn
    v = P.numeric_function(sympy.Piecewise((t, t < sympy.Rational(1, 2)), (1 - t, True)))(ts)
    assert np.allclose(v, [0, 0.5, 0])
    with pytest.raises(GifsymError, match="kappa"):
        P.numeric_function(sympy.Symbol("kappa") * t)


def test_time_grid_stops_short_of_one_and_is_denser_there():
    g = P.time_grid(points=101, eps=1e-3)
    assert g[0] == 0 and math.isclose(g[-1], 1 - 1e-3) and np.all(np.diff(g) > 0)
    assert np.diff(g)[-1] < np.diff(g)[0]


@pytest.mark.parametrize("ext", ["png", "svg", "pdf"])
def test_save_figure_by_extension_and_atomic(tmp_path, ext):
    plt = P._pyplot()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    path = tmp_path / f"f.{ext}"
    assert P.save_figure(fig, path) == os.fspath(path)
    assert _kind(path) == ext
    assert sorted(os.listdir(tmp_path)) == [f"f.{ext}"]  # no temporary file left behind


def test_save_figure_same_bytes_twice(tmp_path):
    plt = P._pyplot()
    out = []
    for name in ("a.svg", "b.svg"):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [1, 0])
        out.append((tmp_path / name).read_bytes() if P.save_figure(fig, tmp_path / name) else b"")
    assert out[0] == out[1]


def _synthetic_report():
    """The shape of ``gifsym verify --json``: a ``bounds`` check with per-time rows."""
    rows = []
    for x in np.linspace(0.05, 0.95, 7):
        up, lo = 1 / (1 - x), -1.0
        rows.append(
            {
                "t": float(x),
                "upper": up,
                "max_eig": 0.8 * up,
                "lower": lo,
                "min_eig": 0.5 * lo,
                "theta": max(up, -lo),
                "tightness": 0.8,
            }
        )
    rows.append(
        {
            "t": 1.0,
            "upper": None,
            "max_eig": None,
            "lower": None,
            "min_eig": None,
            "theta": None,
            "tightness": None,
        }
    )
    return {
        "schedule": "linear",
        "target": "slc:kappa=2",
        "checks": [
            {"name": "velocity", "status": "passed", "rows": []},
            {"name": "bounds", "status": "passed", "rows": rows},
        ],
    }


def test_tightness_rows_and_plot_verify_from_a_dict(tmp_path):
    rows = P.tightness_rows(_synthetic_report())
    assert len(rows) == 8 and rows[0]["t"] < rows[-1]["t"] and math.isnan(rows[-1]["upper"])
    assert rows[0]["observed_max"] == pytest.approx(0.8 * rows[0]["upper"])
    path = P.plot_verify(_synthetic_report(), tmp_path / "v.png")
    assert _kind(path) == "png"
    with pytest.raises(GifsymError, match="no per-time"):
        P.plot_verify({"checks": []}, tmp_path / "w.png")


def test_bad_extension_writes_nothing(tmp_path):
    with pytest.raises(GifsymError):
        P.plot_verify(_synthetic_report(), tmp_path / "v.gif")
    assert os.listdir(tmp_path) == []


def test_plot_bounds_several_schedules(tmp_path):
    pytest.importorskip("gifsym.theory.jacobian_bounds")
    path = P.plot_bounds(
        [schedule("linear"), schedule("trigonometric"), schedule("vp")],
        target("slc:kappa=2+slcvx:beta=4"),
        tmp_path / "b.svg",
        points=40,
    )
    svg = open(path, encoding="utf-8").read()
    assert "linear" in svg and "trigonometric" in svg


def test_bound_curves_match_the_bounds_expressions():
    pytest.importorskip("gifsym.theory.jacobian_bounds")
    flow = GIF(schedule("linear"), target("gaussian:sigma=0.5"))
    ts = np.array([0.1, 0.5, 0.9])
    c = P.bound_curves(flow, ts)
    b = flow.bounds()
    for name, values in (("upper", c.upper), ("lower", c.lower), ("lipschitz", c.lipschitz)):
        expected = [float(getattr(b, name).subs(t, sympy.nsimplify(x))) for x in ts]
        assert np.allclose(values, expected, rtol=1e-12), name


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")
def test_plot_lemmas_uses_the_lemma_module(tmp_path):
    pytest.importorskip("gifsym.theory.lemmas")
    path = P.plot_lemmas(tmp_path / "g.svg")
    svg = open(path, encoding="utf-8").read().replace("&#45;", "-")  # Graphviz escapes hyphens
    assert "jacobian-identity" in svg and "<svg" in svg
