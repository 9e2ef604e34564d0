"""``gifsym bounds`` and ``gifsym lemmas``: JSON fields of interface.md, --at, --latex, custom schedules,
errors (one ``Error:`` line, exit 2) and the lemma graph drawings."""

from __future__ import annotations

import json
import math
import shutil

import pytest
from click.testing import CliRunner

from gifsym.cli import app, main


def run(argv):
    result = CliRunner().invoke(app, argv, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def run_json(argv):
    return json.loads(run([*argv, "--json"]))


def fails(argv, capsys) -> str:
    """Run through the console entry point (which turns errors into exit 2) and return stderr."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def is_expr(obj) -> bool:
    # interface.md: {"sympy", "latex"} with the kind (issue 9), and (issue 10) the same in the flow's named
    # quantities
    return (isinstance(obj, dict) and {"sympy", "latex", "compact"} <= set(obj)
            and obj.get("kind", "exact") in ("exact", "certified", "estimate")
            and set(obj["compact"]) == {"sympy", "latex"})


def num(obj):
    """The number of a value field (issue 9: every number carries its kind)."""
    assert isinstance(obj, dict) and obj["kind"] in ("exact", "certified", "estimate"), obj
    return obj["value"]


def test_bounds_json_has_the_interface_fields():
    out = run_json(["bounds", "--schedule", "linear", "--target", "slc:kappa=2+slcvx:beta=4", "--at", "0,0.5,1"])
    for k in ("schedule", "target", "upper", "lower", "lipschitz", "flow_map", "interval", "lemmas", "values"):
        assert k in out
    assert out["schedule"] == "linear" and out["target"] == "slc:kappa=2+slcvx:beta=4"
    for k in ("upper", "lower", "lipschitz", "interval"):
        assert is_expr(out[k]), k
    assert num(out["flow_map"]["forward"]) == pytest.approx(2**-0.5)
    assert out["flow_map"]["forward"]["kind"] == "exact" and out["flow_map"]["forward"]["sympy"] == "sqrt(2)/2"
    assert num(out["flow_map"]["reverse"]) == pytest.approx(2.0)
    assert "bound-slc" in out["lemmas"] and "lipschitz" in out["lemmas"]
    assert [num(r["t"]) for r in out["values"]] == [0.0, 0.5, 1.0]
    row = out["values"][1]
    assert set(row) == {"t", "upper", "lower", "lipschitz"}
    # (3t − 2)/(t² + 2(1 − t)²) and (5t − 4)/(t² + 4(1 − t)²) at t = 1/2
    assert num(row["upper"]) == pytest.approx(-2 / 3) and num(row["lower"]) == pytest.approx(-1.2)
    assert row["upper"]["sympy"] == "-2/3" and row["lower"]["sympy"] == "-6/5"
    assert num(row["lipschitz"]) == pytest.approx(max(num(row["upper"]), -num(row["lower"])))
    assert all(isinstance(num(v), float) for r in out["values"] for v in r.values())


def test_unbounded_values_are_null():
    out = run_json(["bounds", "--schedule", "linear", "--target", "ball:R=1", "--at", "0.5,1"])
    fwd, rev = out["flow_map"]["forward"], out["flow_map"]["reverse"]
    # null only for +oo (the sign is in "sympy"), with the reason
    assert num(fwd) is None and fwd["sympy"] == "oo" and "t = 1" in fwd["reason"]
    assert num(rev) is None and rev["sympy"] == "oo"
    last = out["values"][-1]
    assert num(last["upper"]) is None and last["upper"]["sympy"] == "oo" and num(last["lipschitz"]) is None
    assert out["interval"]["sympy"] == "Interval.Ropen(0, 1)"
    assert any("ball" in n for n in out["notes"])


def test_symbolic_parameters_give_expressions():
    out = run_json(["bounds", "--schedule", "linear", "--target", "slc:kappa", "--at", "0.5"])
    assert "kappa" in out["upper"]["sympy"]
    assert is_expr(out["flow_map"]["forward"]) and "kappa" in out["flow_map"]["forward"]["sympy"]
    assert is_expr(out["values"][0]["upper"])


def test_custom_schedule_matches_the_catalogue():
    a = run_json(["bounds", "--a", "cos(pi*t/2)", "--b", "sin(pi*t/2)", "--target", "slc:kappa=2", "--at", "0.3"])
    b = run_json(["bounds", "--schedule", "trigonometric", "--target", "slc:kappa=2", "--at", "0.3"])
    assert a["values"] == b["values"]
    assert num(a["flow_map"]["forward"]) == pytest.approx(num(b["flow_map"]["forward"]))


def test_bounds_text_and_latex():
    text = run(["bounds", "--schedule", "vp", "--target", "gaussian:sigma=0.5", "--at", "0.5"])
    for needle in ("upper", "lower", "theta", "Lip(X_{0,1})", "well posed", "lemmas:", "bound-slc"):
        assert needle in text
    tex = run(["bounds", "--schedule", "linear", "--target", "slc:kappa=2", "--latex"])
    assert r"\begin{aligned}" in tex and r"\operatorname{Lip}" in tex


@pytest.mark.parametrize("argv, needle", [
    (["bounds", "--schedule", "linear", "--target", "slc:kappa=2", "--at", "1.5"], "1.5"),
    (["bounds", "--schedule", "linear", "--target", "slc:kappa=2", "--at", "abc"], "abc"),
    (["bounds", "--schedule", "nosuch", "--target", "slc:kappa=2"], "nosuch"),
    (["bounds", "--schedule", "linear", "--target", "nosuch:x=1"], "nosuch"),
    (["bounds", "--schedule", "linear", "--target", "slc:kappa=2", "--assume", "S-nosuch"], "S-nosuch"),
    (["bounds", "--a", "1 - t", "--b", "t**2 - t/2", "--target", "slc:kappa=2"], "S-end"),
    (["lemmas", "show", "nosuch"], "nosuch"),
    (["lemmas", "requires", "nosuch"], "nosuch"),
    (["lemmas", "graph", "-o", "g.txt"], ".txt"),
])
def test_errors_are_one_line_exit_2(argv, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert needle in fails(argv, capsys)


def test_lemmas_list_show_requires():
    listing = run(["lemmas", "list"])
    assert "bound-slc" in listing and "derived" in listing and "stated" in listing
    items = run_json(["lemmas", "list"])
    assert {i["name"] for i in items} >= {"tweedie", "gaussian-sharpness"}
    shown = run_json(["lemmas", "show", "bound-slc"])
    assert shown["requires"] == ["S-end", "S-mono", "S-pos", "T-slc"] and shown["status"] == "derived"
    assert "brascamp-lieb" in shown["uses"]
    with_flow = run_json(["lemmas", "show", "bound-slc", "--schedule", "linear", "--target", "slc:kappa=2"])
    assert "formula" in with_flow
    assert "bound-slc" in run(["lemmas", "show", "jacobian-upper"])
    assert r"\begin{proposition}" in run(["lemmas", "show", "bound-slc", "--latex"])
    req = run_json(["lemmas", "requires", "jacobian-upper"])
    assert req["requires"] == ["S-end", "S-mono", "S-pos"] and set(req["alternatives"]) == {
        "bound-slc", "bound-ball", "bound-conv"}
    assert "S-smooth" in run(["lemmas", "requires", "flow-map-lipschitz"])


def test_lemmas_graph_outputs(tmp_path):
    dot = run(["lemmas", "graph"])
    assert dot.startswith("digraph") and '"tweedie"' in dot
    run(["lemmas", "graph", "-o", str(tmp_path / "g.dot"), "--schedule", "linear", "--target", "ball:R=1"])
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    if not shutil.which("dot"):
        pytest.skip("Graphviz not installed")
    for ext in ("svg", "png", "pdf"):
        run(["lemmas", "graph", "-o", str(tmp_path / f"g.{ext}")])
        assert (tmp_path / f"g.{ext}").stat().st_size > 1000
    assert "<svg" in (tmp_path / "g.svg").read_text()


def test_bounds_report_the_cost_of_a_gaussian_start():
    out = run_json(["bounds", "--schedule", "vp", "--target", "gaussian:sigma=0.5"])
    src = out["source_stability"]
    b0 = math.exp(-201 / 40)  # b_0 = exp(-B(1)/2), B(1) = β_min + (β_max − β_min)/2
    assert num(src["b0"]) == pytest.approx(b0) and num(src["gaussian_start_cost"]) == pytest.approx(b0 * 0.5)
    assert num(src["pushed_gaussian_start"]) == pytest.approx(b0 * 0.5 * num(out["flow_map"]["forward"]))
    assert num(run_json(["bounds", "--schedule", "linear", "--target", "gaussian:sigma=0.5"])["source_stability"][
        "gaussian_start_cost"]) == 0


def test_to_latex_of_the_results():
    from gifsym import GIF, lemmas, schedule, target, to_latex

    gif = GIF(schedule("linear"), target("slc:kappa=2"))
    assert r"\begin{aligned}" in to_latex(gif.bounds())
    assert r"\operatorname{Lip}" in to_latex(gif.flow_map_lipschitz())
    assert r"\begin{proposition}" in to_latex(lemmas.get("bound-slc"))
    assert "kappa" in to_latex(gif.bounds().pieces[0]) or r"\kappa" in to_latex(gif.bounds().pieces[0])


def test_values_table_read_back_from_the_cache(tmp_path, monkeypatch):
    # The values table is kept in the cache (a warm run skips SymPy's realness checks at the six times): a
    # second run reads it back and prints the same table; a value changed in the entry would show.
    from gifsym.theory.integrals import endpoint_value

    monkeypatch.setenv("GIFSYM_CACHE", str(tmp_path))
    argv = ["bounds", "--schedule", "vp", "--target", "slc:kappa=2"]
    first = run(argv)
    assert len(list((tmp_path / "bounds-values").glob("*.json"))) == 1
    endpoint_value.cache_clear()
    calls = []
    monkeypatch.setattr("gifsym.theory.jacobian_bounds.Bounds.values", lambda *a, **k: calls.append(a) or [])
    assert run(argv) == first and calls == []
