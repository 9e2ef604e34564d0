"""Issue 21 (items 1–4, 11–13, 15): no wrong verdict on removable singularities, schedules that use only t and
declared parameters, conditions that are true, JSON that reads back, readable and fast output.

Each test reproduces one case of the issue (each failed on the code before it)."""

from __future__ import annotations

import json

import pytest
import sympy
from click.testing import CliRunner

from gifsym import GIF, schedule, target
from gifsym.cli import app, main
from gifsym.theory import flow_map_lipschitz


def fails(argv, capsys) -> str:
    """Through the console entry point: one ``Error:`` line on stderr, exit 2, nothing on stdout."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    out = capsys.readouterr()
    assert out.err.startswith("Error: ") and out.err.count("\n") == 1 and not out.out, out
    return out.err


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


# ---------------------------------------------------------------------------------------------------------
# 4. Every "sympy" string of every JSON output reads back with sympy.sympify alone to the same expression


def _plain(e):
    """``e`` with every symbol replaced by a plain one of the same name (what sympify can rebuild: a string
    carries names, not assumptions)."""
    if isinstance(e, sympy.MatrixBase):
        return sympy.ImmutableMatrix(e).applyfunc(_plain)
    if not isinstance(e, sympy.Basic):
        return sympy.sympify(e)
    return e.xreplace({s: sympy.Symbol(s.name) for s in e.atoms(sympy.Symbol)})


def _same(read, e) -> bool:
    """``read`` (sympify's result) is ``e``: the same tree, or (str prints some products unevaluated, which
    sympify then evaluates: ``(sqrt(E_s)/(1 - E_s))*m`` reads back as ``sqrt(E_s)*m/(1 - E_s)``) the same
    function: equal to 30 digits at three seeded points. A built-in read for a name (E as Euler's number,
    beta as a function) changes the value by O(1) or does not parse, so the tolerance 1e-20 cannot hide it."""
    if isinstance(read, sympy.MatrixBase):
        read = sympy.ImmutableMatrix(read)
    plain = _plain(e)
    if read == plain:
        return True
    if isinstance(plain, sympy.MatrixBase):
        return (isinstance(read, sympy.MatrixBase) and read.shape == plain.shape
                and all(_same(r, p) for r, p in zip(read, plain)))
    if isinstance(plain, sympy.MatrixExpr) and isinstance(read, sympy.MatrixExpr):
        return _same_matrix(read, plain)
    if not (isinstance(plain, sympy.Expr) and isinstance(read, sympy.Expr)):
        return False
    names = sorted({s.name for s in plain.free_symbols | read.free_symbols})
    if {s.name for s in plain.free_symbols} != {s.name for s in read.free_symbols}:
        return False
    for k, point in enumerate(((3, 7), (5, 11), (2, 13))):
        at = {sympy.Symbol(n): sympy.Rational(point[0] + i, point[1] + 2 * i + k) for i, n in enumerate(names)}
        x, y = (sympy.N(z.xreplace(at), 30) for z in (read, plain))
        if x == y:
            continue
        if not (x.is_number and y.is_number) or abs(x - y) > 1e-20 * (1 + abs(y)):
            return False
    return True


def _same_matrix(read, plain) -> bool:
    """Matrix expressions (a class target's velocity in m, x, C): equal as explicit 2 x 2 matrices once each
    matrix symbol is a fixed rational matrix (then compared as scalars by :func:`_same`)."""
    if read.shape != plain.shape:
        return False
    d = sympy.Symbol("d")
    concrete = [z.xreplace({d: 2}) for z in (read, plain)]
    mats = {m for z in concrete for m in z.atoms(sympy.MatrixSymbol)}
    fill = {m: sympy.ImmutableMatrix(m.rows, m.cols, lambda i, j, k=k: sympy.Rational(k + 2 + i, 3 + j + i * j))
            for k, m in enumerate(sorted(mats, key=str))}
    x, y = (sympy.ImmutableMatrix(z.xreplace(fill).doit()) for z in concrete)
    return x.shape == y.shape and all(_same(a, b) for a, b in zip(x, y))


def _round_trips(monkeypatch, build) -> tuple[int, list]:
    """Runs ``build()`` with every "sympy" string recorded next to its expression; returns how many strings
    there were and those that do not read back."""
    from gifsym.cli import _common

    seen = []
    real = _common.sympy_text

    def record(e):
        text = real(e)
        seen.append((e, text))
        return text

    monkeypatch.setattr(_common, "sympy_text", record)
    import gifsym.cli.schedule as cli_schedule

    monkeypatch.setattr(cli_schedule, "sympy_text", record)
    out = build()
    json.dumps(out, default=str)
    bad = []
    for e, text in seen:
        try:
            read = sympy.sympify(text)
        except (sympy.SympifyError, TypeError, SyntaxError) as err:
            bad.append((text, f"does not parse: {err}"))
            continue
        if not _same(read, e):
            bad.append((text, f"reads back as {read!r}"))
    return len(seen), bad


def _outputs(s, tg):
    from gifsym.cli.bounds import derive_all, full_bounds_json
    from gifsym.cli.schedule import velocity_json

    flow = GIF(s, tg)
    derived = derive_all(flow)
    return {"bounds": full_bounds_json(s, *derived, [0.25, 0.5]), "velocity": velocity_json(flow)}


def _sweep(monkeypatch, pairs):
    from gifsym.cli.schedule import schedule_json

    total, bad = 0, []
    seen_schedules = set()
    for s, tg in pairs:
        if s not in seen_schedules:
            seen_schedules.add(s)
            n, b = _round_trips(monkeypatch, lambda s=s: schedule_json(s))
            total, bad = total + n, bad + b
        n, b = _round_trips(monkeypatch, lambda s=s, tg=tg: _outputs(s, tg))
        total, bad = total + n, bad + b
    return total, bad


def test_vp_compact_sympy_strings_read_back(monkeypatch):
    # The case: VP's signal power was named E, which sympify reads as Euler's number.
    from gifsym.symbolic.target import target as inv_target

    # Fast subset: E_s (VP), a class target's matrix symbols and identity (I), slcvx's symbolic beta.
    total, bad = _sweep(monkeypatch, [(schedule("vp"), inv_target("gaussian:sigma=0.5")),
                                      (schedule("trigonometric"), inv_target("slc:kappa=2")),
                                      (schedule("linear"), inv_target("slcvx:beta"))])
    assert total > 200 and not bad, bad[:5]


@pytest.mark.slow
def test_every_inventory_sympy_string_reads_back(monkeypatch):
    from gifsym.symbolic import inventory

    targets = {**inventory.exact_targets(), **inventory.class_targets()}
    pairs = [(s, tg) for s in inventory.schedules() for tg in targets.values()]
    total, bad = _sweep(monkeypatch, pairs)
    print(f"{total} sympy strings over {len(pairs)} schedule x target pairs; {len(bad)} do not read back")
    assert total > 5000 and not bad, bad[:5]


# ---------------------------------------------------------------------------------------------------------
# 2. A schedule depends only on t and declared parameters: state and definition names are refused


@pytest.mark.parametrize(("a", "b", "name"), [
    ("1-x", "t", "x"), ("1-t", "t*x_1", "x_1"), ("1-t", "t + 0*z", "z"), ("1-t**E_s", "t**E_s", "E_s"),
    ("1-t**q_1", "t**q_1", "q_1"), ("(1-t)*m", "t", "m"), ("1-t**s", "t**s", "s"),
])
def test_schedule_using_a_reserved_name_is_refused(a, b, name, capsys):
    from gifsym.errors import GifsymError

    with pytest.raises(GifsymError, match=rf"'{name}', a name reserved"):
        schedule(a=a, b=b)
    assert repr(name) in fails(["velocity", "--a", a, "--b", b, "--target", "gaussian:sigma=1"], capsys)


def test_declared_reserved_parameter_is_refused_and_plain_parameters_still_work():
    from gifsym.errors import ScheduleError

    with pytest.raises(ScheduleError, match="reserved for the state"):
        schedule(a="1 - t", b="t", x=1)
    s = schedule(a="1 - t**n", b="t**n")  # an undeclared name that is not reserved stays a parameter
    assert {p.name for p in s.free_parameters} == {"n"}
