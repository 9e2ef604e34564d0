"""Compact forms (issue 10): a result written in the schedule's own quantities equals the full result.

Over the whole inventory (every schedule x every target), the compact upper bound, lower bound and θ_t are
proved equal to the full ones symbolically where SymPy can (after putting every exponential's argument in
expanded form: ``cancel`` of the difference is 0), and are always compared at seeded points with 30-digit
arithmetic, the definitions evaluated from their own strings (an independent route from the rewriting).
"""

from __future__ import annotations

import random

import pytest
import sympy

from gifsym import GIF, schedule, t, target
from gifsym.errors import GifsymError
from gifsym.output.latex import latex_expr
from gifsym.symbolic import inventory
from gifsym.symbolic.compact import Compact, compact, compact_many, schedule_forms
from gifsym.theory import bounds

ALL_TARGETS = {**inventory.class_targets(), **inventory.exact_targets()}


def _canon(e: sympy.Basic) -> sympy.Basic:
    """Every exponential as ``exp(expanded argument)``, every ``c**g(t)`` as ``exp(expand(g log c))``,
    ``tan`` as ``sin/cos``."""
    e = e.replace(lambda f: isinstance(f, sympy.Pow) and f.base.is_number and f.exp.has(t),
                  lambda f: sympy.exp(sympy.expand(f.exp * sympy.log(f.base))))
    e = e.replace(lambda f: isinstance(f, sympy.tan), lambda f: sympy.sin(f.args[0]) / sympy.cos(f.args[0]))
    return e.replace(lambda f: isinstance(f, sympy.exp), lambda f: sympy.exp(sympy.expand(f.args[0])))


def same(a: sympy.Basic, b: sympy.Basic) -> bool | None:
    """Symbolic equality: Min/Max compared as sets of arguments, Piecewise branch by branch, the rest by
    ``cancel`` of the difference (exponentials in canonical form). None when the branch structure differs
    (substituting the definitions back lets SymPy decide a Max it could not decide in the quantities):
    those are compared at points only."""
    if a == b:
        return True
    if isinstance(a, (sympy.Min, sympy.Max)) and type(a) is type(b) and len(a.args) == len(b.args):
        return all(any(same(x, y) for y in b.args) for x in a.args)
    if isinstance(a, sympy.Piecewise) and isinstance(b, sympy.Piecewise) and len(a.args) == len(b.args):
        return all(ca == cb and same(va, vb) for (va, ca), (vb, cb) in zip(a.args, b.args))
    if isinstance(a, sympy.Mul) and isinstance(b, sympy.Mul) and a.args[0] == b.args[0] == -1:
        return same(-a, -b)
    if a.has(sympy.Piecewise, sympy.Min, sympy.Max) or b.has(sympy.Piecewise, sympy.Min, sympy.Max):
        return None
    return sympy.cancel(_canon(a) - _canon(b)) == 0


def evaluate_compact(c: Compact, expr: sympy.Basic, x: sympy.Expr) -> sympy.Expr:
    """The compact expression at t = x, each definition evaluated in turn from its own expression."""
    values = {"t": sympy.Float(x, 40)}

    def at(e: sympy.Basic) -> sympy.Expr:
        return e.xreplace({s: values[s.name] for s in e.free_symbols if s.name in values}).evalf(40)

    for d in c.definitions:
        values[d.name] = at(d.sympy)
    return at(expr)


def agree_at_points(full: sympy.Basic, c: Compact, part: sympy.Basic, seed: int) -> int:
    rng = random.Random(seed)
    agreed = 0
    for _ in range(5):
        x = sympy.Rational(rng.randint(2, 98), 100)
        want = full.xreplace({t: x}).evalf(40)
        got = evaluate_compact(c, part, x)
        if want in (sympy.oo, -sympy.oo) or got in (sympy.oo, -sympy.oo):
            assert want == got
            agreed += 1
            continue
        if not (want.is_number and want.is_finite):
            continue
        # 40-digit evaluation of two exact expressions of the same number: agreement to 1e-20 relative;
        # with Float coefficients (15-digit inputs, rearranged by the rewriting) to 1e-12.
        tol = 1e-12 if full.atoms(sympy.Float) else 1e-20
        assert abs(complex(want - got)) <= tol * max(1.0, abs(complex(want))), (x, want, got)
        agreed += 1
    return agreed


@pytest.mark.parametrize("tid", list(ALL_TARGETS))
def test_compact_equals_full_over_the_inventory(any_schedule, tid):
    try:
        b = bounds(GIF(any_schedule, ALL_TARGETS[tid]))
    except GifsymError:
        pytest.skip("no bounds for this flow")
    exprs = (b.upper, b.lower, b.lipschitz)
    c = compact_many(exprs, any_schedule)
    for k, (full, part) in enumerate(zip(exprs, c.expr)):
        assert agree_at_points(full, c, part, seed=k) >= 3
        back = Compact(part, c.definitions, c.symbols).full()
        proved = same(back, full) if not full.atoms(sympy.Float) else None
        # Exact results are proved equal symbolically as well (None: see same()).
        assert proved is not False, (full, part)
        if proved is None:
            assert agree_at_points(full, Compact(back), back, seed=10 + k) >= 3


def test_definitions_are_in_dependency_order(any_schedule):
    c = schedule_forms(any_schedule)
    known = {"t"} | {str(s) for s in any_schedule.free_parameters}
    for d in c.definitions:
        assert {s.name for s in d.sympy.free_symbols} <= known, d
        known.add(d.name)
    # Only what is used is defined: every definition is used by the result or by a later definition.
    used = {s.name for e in c.expr for s in e.free_symbols}
    for i, d in enumerate(c.definitions):
        later = {s.name for e in c.definitions[i + 1:] for s in e.sympy.free_symbols}
        assert d.name in used | later


def test_vp_conv_upper_is_the_hand_formula():
    # By hand (math.md §5 with a² = 1 − E, b² = E, a ȧ = −βE/2, b ḃ = βE/2, a b (a ḃ − ȧ b) = βE/2):
    # u = βE(σ² − 1) / (2(1 − E + σ²E)) + βE R² / (2(1 − E + σ²E)²), σ = 1/2, R = 1.
    vp = schedule("vp")
    b = bounds(GIF(vp, target("conv:sigma=0.5,R=1")))
    c = compact(b.upper, vp)
    E, beta = (next(s for s in c.expr.free_symbols if s.name == n) for n in ("E_s", "beta_s"))
    sig2, R = sympy.Rational(1, 4), 1
    D = 1 - E + sig2 * E
    hand = beta * E * (sig2 - 1) / (2 * D) + beta * E * R**2 / (2 * D**2)
    assert sympy.cancel(c.expr - hand) == 0
    assert [d.name for d in c.definitions] == ["s", "B", "beta_s", "E_s"]
    # issue 10: 1,031 LaTeX characters before; the compact form is about a tenth of that.
    assert len(latex_expr(b.upper)) > 1000 and len(c.expr_latex()) < 110


def test_trigonometric_keeps_no_new_pole_at_t1():
    trig = schedule("trigonometric")
    b = bounds(GIF(trig, target("slc:kappa=2")))
    upper, lower = compact_many((b.upper, b.lower), trig).expr
    # The upper bound is finite at t = 1, so it must not be written with tan φ (infinite there) ...
    assert not upper.has(sympy.tan) and upper.has(sympy.sin)
    # ... while the lower bound -π/2 tan φ already diverges at t = 1 (a Piecewise with -oo there).
    assert lower.has(sympy.tan) and not lower.has(sympy.sin)


def test_custom_schedule_gets_abbreviations_of_repeated_parts():
    custom = schedule(**inventory.CUSTOM_SCHEDULES["custom-quadratic"])
    b = bounds(GIF(custom, target("conv:sigma=0.5,R=2")))
    c = compact_many((b.upper, b.lower, b.lipschitz), custom)
    names = [d.name for d in c.definitions]
    assert names and all(n.startswith("q_") for n in names)
    # No abbreviation stands for a whole result: each result still shows its own formula.
    for e in c.expr[:2]:
        assert e.free_symbols - {s for s in e.free_symbols if s.name.startswith("q_")}
    for d in c.definitions:  # each one is used at least twice
        uses = sum(str(e).count(d.name) for e in c.expr) + sum(str(x.sympy).count(d.name) for x in c.definitions)
        assert uses >= 2


def test_exact_velocity_is_compact_and_equal():
    vp = schedule("vp")
    flow = GIF(vp, target("gaussian:sigma=0.5"))
    v = flow.velocity()
    c = compact(v, vp)
    assert len(c.expr_latex()) < len(latex_expr(v)) / 4
    assert agree_at_points(v[0].subs(flow.x[0], sympy.Rational(3, 7)), c,
                           c.expr[0].subs(flow.x[0], sympy.Rational(3, 7)), seed=3) >= 3


def test_schedule_forms_of_vp():
    c = schedule_forms(schedule("vp"))
    a, b = c.expr[:2]
    E = next(s for s in b.free_symbols if s.name == "E_s")
    assert a == sympy.sqrt(1 - E) and b == sympy.sqrt(E)
    assert "where" in c.latex() and r"\beta(s)" in "".join(n for n, _ in c.where())


def _parse(text: str, names: list[str]) -> sympy.Expr:
    # gifsym's own output, parsed back with every defined name as a plain symbol ("E" is a quantity here,
    # not Euler's number).
    local = {n: sympy.Symbol(n) for n in names} | {"t": sympy.Symbol("t"), "T": sympy.Symbol("T")}
    # A class target's m, x, C print as MatrixSymbol('m', d, 1) (issue 21: they read back as matrices); here,
    # as in the 1-d case, scalars (and the identity 1), so full and compact forms compare as numbers.
    local |= {"MatrixSymbol": lambda name, *shape: sympy.Symbol(str(name)), "Identity": lambda d: sympy.Integer(1)}
    return sympy.parse_expr(text, local_dict=local)


@pytest.mark.parametrize("args", [
    ["bounds", "--schedule", "vp", "--target", "conv:sigma=0.5,R=1"],
    ["bounds", "--schedule", "subvp", "--target", "slc:kappa=2", "--at", "0.5"],
    ["bounds", "--schedule", "ve", "--target", "conv:sigma=0.5,R=1"],
    ["bounds", "--schedule", "trigonometric", "--target", "ball:R=1+slc:kappa=-0.5"],
    ["bounds", "--a", "(1 - t)**2", "--b", "t*(2 - t)", "--target", "conv:sigma=0.5,R=2"],
    ["velocity", "--schedule", "vp", "--target", "gaussian:sigma=0.5"],
    ["velocity", "--schedule", "trigonometric", "--target", "slc:kappa=2"],
])
def test_json_compact_fields_substitute_back_to_the_full_ones(args):
    import json

    from click.testing import CliRunner

    from gifsym.cli import app

    out = CliRunner().invoke(app, [*args, "--json"], catch_exceptions=False)
    assert out.exit_code == 0
    data = json.loads(out.output)
    defs = data["definitions"]
    names = [d["name"] for d in defs]
    known = {"t"}
    for d in defs:  # dependency order: each definition in t, numbers and earlier definitions
        assert {s.name for s in _parse(d["sympy"], names).free_symbols} <= known
        known.add(d["name"])

    def fields(obj):
        if isinstance(obj, dict):
            if "sympy" in obj and "latex" in obj:
                yield obj
                return
            for v in obj.values():
                yield from fields(v)
        elif isinstance(obj, list):
            for v in obj:
                yield from fields(v)

    checked = 0
    for f in fields({k: v for k, v in data.items() if k != "definitions"}):
        assert set(f["compact"]) == {"sympy", "latex"}
        if f["sympy"].startswith(("Interval", "Union", "EmptySet", "FiniteSet", "ConditionSet")):
            assert f["compact"]["sympy"] == f["sympy"]
            continue
        full = _parse(f["sympy"], [])
        if isinstance(full, (bool, sympy.logic.boolalg.BooleanAtom)):  # a condition that is simply true/false
            assert f["compact"]["sympy"] == f["sympy"]
            continue
        back = _parse(f["compact"]["sympy"], names)
        for d in reversed(defs):
            back = back.xreplace({sympy.Symbol(d["name"]): _parse(d["sympy"], names)})
        tt = sympy.Symbol("t")
        if isinstance(full, sympy.MatrixBase):
            pairs = list(zip(full, back))
        else:
            pairs = [(full, back)]
        for x, y in pairs:
            for p in (sympy.Rational(1, 7), sympy.Rational(3, 5)):
                others = {s: sympy.Rational(2, 3) for s in (x.free_symbols | y.free_symbols) - {tt}}
                if isinstance(x, sympy.logic.boolalg.Boolean):  # a condition: the same truth value
                    assert x.xreplace({tt: p, **others}) == y.xreplace({tt: p, **others}), f
                    continue
                vx = x.xreplace({tt: p, **others}).evalf(30)
                vy = y.xreplace({tt: p, **others}).evalf(30)
                if vx.is_number and vx.is_finite:
                    # exact expressions at 30 digits: equal to far below 1e-20
                    assert abs(complex(vx - vy)) <= 1e-20 * max(1, abs(complex(vx))), (f, vx, vy)
                    checked += 1
                else:
                    assert vx == vy
    assert checked >= 3


#: The peers' schedules that declare quantities (VP family: s, B(s), β(s), E; trigonometric: the angle).
PEERS_WITH_QUANTITIES = ["fm-vp", "ddpm", "ddpm-scaled", "fm-cosine", "cfm-vp"]


@pytest.mark.parametrize("name", PEERS_WITH_QUANTITIES)
@pytest.mark.parametrize("tid", ["conv", "slc"])
def test_peer_schedules_are_written_in_their_quantities(name, tid):
    from gifsym import schedule

    s = schedule(name)
    forms = schedule_forms(s)
    assert forms.definitions, name  # a, b are written in the declared quantities, not in t
    for k, full in enumerate((s.a, s.b)):
        assert agree_at_points(full, forms, forms.expr[k], seed=k) >= 3
        assert same(Compact(forms.expr[k], forms.definitions, forms.symbols).full(), full) is not False
    b = bounds(GIF(s, ALL_TARGETS[tid]))
    c = compact_many((b.upper, b.lower), s)
    for k, full in enumerate((b.upper, b.lower)):
        assert agree_at_points(full, c, c.expr[k], seed=20 + k) >= 3
